import { ComingSoon } from "../components/EmptyState";
import { EnvironmentCard } from "../components/EnvironmentCard";
import { KeyIcon, ServerIcon } from "../components/Icons";
import { PageHeader } from "../components/Page";

export function SetupPage() {
  return (
    <>
      <PageHeader title="Setup" subtitle="Connect Capstan to Palette and Prism Central." />
      <EnvironmentCard />
      <ComingSoon
        testId="setup-empty"
        heading="Connect Palette and Prism Central"
        intro="This page will hold the connection details for each environment and prove they work before anything is created."
        points={[
          { title: "Palette", text: "API endpoint, project and API key (or username and password) for Spectro Cloud Palette." },
          { title: "Prism Central", text: "Address, port 9440 and a service account for Nutanix Prism Central." },
          { title: "Credentials in the OS keyring", text: "Secrets are stored in the system keyring (Secret Service, Keychain, Credential Manager), never in plain files or logs." },
          { title: "Connection tests", text: "A live test of each endpoint: DNS, TCP, TLS certificate (with an explicit “trust this certificate” choice for self-signed Prism), authentication and permissions." },
        ]}
        aside={
          <div className="setup-aside">
            <div className="mini-card">
              <ServerIcon size={18} />
              <div>
                <div className="point-title">Sandbox first</div>
                <div className="point-text">Until you add a real environment, Capstan talks to its built-in emulator of both APIs.</div>
              </div>
            </div>
            <div className="mini-card">
              <KeyIcon size={18} />
              <div>
                <div className="point-title">No account wall, no telemetry</div>
                <div className="point-text">Everything stays on this machine.</div>
              </div>
            </div>
          </div>
        }
      />
    </>
  );
}
