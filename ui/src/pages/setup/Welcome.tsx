import { KeyIcon, ServerIcon } from "../../components/Icons";

/** The first thing a new user sees: the sandbox, or a real environment. */
export function Welcome({ onExplore, onConnect, exploring }: { onExplore: () => void; onConnect: () => void; exploring: boolean }) {
  return (
    <section className="card setup-welcome" data-testid="setup-welcome" aria-labelledby="welcome-title">
      <div className="eyebrow">Welcome to Capstan</div>
      <h2 className="welcome-title" id="welcome-title">
        How do you want to start?
      </h2>
      <p className="welcome-intro">
        Capstan takes you from nothing to a Kubernetes cluster on Nutanix through Spectro Cloud Palette. You can try the whole workflow first, and connect
        your own environment whenever you are ready.
      </p>
      <div className="welcome-choices">
        <button type="button" className="welcome-choice" data-testid="setup-explore-sandbox" onClick={onExplore} disabled={exploring}>
          <ServerIcon size={22} />
          <span className="welcome-choice-title">Explore in the sandbox</span>
          <span className="welcome-choice-tag">No account needed</span>
          <span className="welcome-choice-text">
            A built-in emulator of Palette and Prism Central with a realistic estate. Run every step; nothing touches real infrastructure.
          </span>
        </button>
        <button type="button" className="welcome-choice" data-testid="setup-connect-real" onClick={onConnect}>
          <KeyIcon size={22} />
          <span className="welcome-choice-title">Connect a real environment</span>
          <span className="welcome-choice-tag">Palette and Prism Central</span>
          <span className="welcome-choice-text">
            Palette SaaS or self-hosted, and your Prism Central. Each connection is tested step by step; credentials go to the system keyring, never to
            plain files.
          </span>
        </button>
      </div>
    </section>
  );
}
