import type { CertificateData, Diagnosis, Outcome, Step, StepKind } from "../../lib/bindings";
import { AlertIcon, CheckIcon, CloseIcon } from "../../components/Icons";
import { useNow } from "../../components/useNow";

export const STEP_LABEL: Record<StepKind, string> = {
  address: "Address",
  dns: "Name resolution (DNS)",
  tcp: "Network connection (TCP)",
  tls: "Certificate (TLS)",
  http: "Web service (HTTP)",
  auth: "Credentials",
  product: "Product",
  version: "Version",
  projects: "Projects",
};

const OUTCOME_WORD: Record<Outcome, string> = { pass: "Passed", warn: "Warning", fail: "Failed", skipped: "Not checked" };

export function OutcomeIcon({ outcome, size = 14 }: { outcome: Outcome; size?: number }) {
  const label = OUTCOME_WORD[outcome];
  return (
    <span className="outcome-icon" data-outcome={outcome} role="img" aria-label={label} title={label}>
      {outcome === "pass" && <CheckIcon size={size} />}
      {outcome === "warn" && <AlertIcon size={size} />}
      {outcome === "fail" && <CloseIcon size={size} />}
      {outcome === "skipped" && (
        <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M7 12h10" stroke="currentColor" strokeWidth={1.75} strokeLinecap="round" />
        </svg>
      )}
    </span>
  );
}

function verdictHeading(d: Diagnosis): string {
  const what = d.service === "palette" ? "Palette" : "Prism Central";
  switch (d.verdict) {
    case "pass":
      return `${what}: the connection works`;
    case "warn":
      return `${what}: works, with a warning`;
    case "fail":
      return `${what}: ${d.summary}`;
    case "skipped":
      return `${what}: nothing could be checked`;
  }
}

/** Days from now until `iso`, or null when it is not a date. */
function daysUntil(iso: string, now: number): number | null {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.floor((t - now) / 86_400_000);
}

function shortDate(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().slice(0, 10);
}

export function CertificateCard({
  cert,
  canTrust,
  pinned,
  onTrust,
}: {
  cert: CertificateData;
  /** Offer "Trust this certificate" (the TLS step failed). */
  canTrust: boolean;
  /** The form already pins exactly this certificate. */
  pinned: boolean;
  onTrust?: (sha256: string) => void;
}) {
  const now = useNow(60_000);
  const days = daysUntil(cert.notAfter, now);
  const expiry =
    days === null ? null : days < 0 ? { text: `expired ${-days} day(s) ago`, bad: true } : { text: `expires in ${days} day(s)`, bad: days < 30 };
  return (
    <div className="cert-card" data-testid="certificate">
      <div className="cert-card-head">
        <span className="cert-card-title">Certificate presented</span>
        {cert.selfSigned && <span className="cert-tag">Self-signed</span>}
      </div>
      <dl className="cert-facts">
        <div>
          <dt>Subject</dt>
          <dd className="mono selectable" data-testid="cert-subject">
            {cert.subject}
          </dd>
        </div>
        <div>
          <dt>Issuer</dt>
          <dd className="mono selectable">{cert.issuer}</dd>
        </div>
        <div>
          <dt>Names (SANs)</dt>
          <dd className="mono selectable">{cert.sans.length > 0 ? cert.sans.join(", ") : "none"}</dd>
        </div>
        <div>
          <dt>Valid</dt>
          <dd>
            {shortDate(cert.notBefore)} to {shortDate(cert.notAfter)}
            {expiry && (
              <span className={expiry.bad ? "cert-expiry cert-expiry-bad" : "cert-expiry"} data-testid="cert-expiry">
                {" "}
                ({expiry.text})
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>SHA-256 fingerprint</dt>
          <dd className="mono selectable cert-fingerprint" data-testid="cert-fingerprint">
            {cert.sha256Colons}
          </dd>
        </div>
      </dl>
      <details className="cert-pem">
        <summary>Certificate (PEM)</summary>
        <pre className="mono selectable">{cert.pem}</pre>
      </details>
      {canTrust && onTrust && (
        <div className="cert-trust">
          {pinned ? (
            <span className="cert-pinned" data-testid="certificate-pinned">
              <CheckIcon size={13} /> Pinned in the form. Test again to confirm, then save.
            </span>
          ) : (
            <>
              <button type="button" className="button setup-primary" data-testid="trust-certificate" onClick={() => onTrust(cert.sha256)}>
                Trust this certificate
              </button>
              <span className="muted">
                Pins exactly this certificate. Compare the fingerprint with the one the server&apos;s own settings show before trusting it.
              </span>
            </>
          )}
        </div>
      )}
    </div>
  );
}

function StepExtras({ step, onTrust, pinnedSha256 }: { step: Step; onTrust?: (sha256: string) => void; pinnedSha256: string | null }) {
  const data = step.data;
  if (!data) return null;
  switch (data.kind) {
    case "certificate":
      // A trusted certificate is shown on request; one that failed is the point of the step.
      if (step.outcome === "pass") {
        return (
          <details className="step-extra">
            <summary>Show the certificate</summary>
            <CertificateCard cert={data} canTrust={false} pinned={false} />
          </details>
        );
      }
      return (
        <CertificateCard
          cert={data}
          canTrust={step.outcome === "fail"}
          pinned={pinnedSha256 !== null && pinnedSha256 === data.sha256}
          onTrust={onTrust}
        />
      );
    case "product":
      return data.clusters.length > 0 ? <div className="step-extra">Prism Element clusters seen: {data.clusters.join(", ")}</div> : null;
    default:
      return null;
  }
}

/** The step-by-step result of "Test connection". */
export function DiagnosisView({
  diagnosis,
  stale,
  onTrust,
  pinnedSha256,
}: {
  diagnosis: Diagnosis;
  /** The form changed since this test ran. */
  stale: boolean;
  onTrust?: (sha256: string) => void;
  /** The fingerprint the form pins for this service now (lower-case hex), if any. */
  pinnedSha256: string | null;
}) {
  const d = diagnosis;
  return (
    <section className="diagnosis" data-testid="diagnosis" data-verdict={d.verdict} data-service={d.service} aria-label={`${d.service === "palette" ? "Palette" : "Prism Central"} connection test`}>
      <header className="diagnosis-head">
        <OutcomeIcon outcome={d.verdict} size={16} />
        <div className="diagnosis-head-text">
          <div className="diagnosis-title" data-testid="diagnosis-summary">
            {verdictHeading(d)}
          </div>
          <div className="muted diagnosis-meta">
            <span className="mono">{d.target}</span> · {(d.elapsedMs / 1000).toFixed(1)} s
          </div>
        </div>
      </header>
      {stale && (
        <div className="diagnosis-stale" data-testid="diagnosis-stale">
          The settings changed since this test. Test again to check them.
        </div>
      )}
      <ol className="diagnosis-steps">
        {d.steps.map((s) => (
          <li key={s.step} className="diagnosis-step" data-testid="diagnosis-step" data-step={s.step} data-outcome={s.outcome} data-code={s.code}>
            <OutcomeIcon outcome={s.outcome} />
            <div className="diagnosis-step-body">
              <div className="diagnosis-step-line">
                <span className="diagnosis-step-label">{STEP_LABEL[s.step]}</span>
                <span className="diagnosis-step-title">{s.outcome === "skipped" ? "not checked" : s.title}</span>
              </div>
              {s.outcome !== "skipped" && s.detail && <div className="diagnosis-step-detail selectable">{s.detail}</div>}
              {s.outcome !== "skipped" && s.fix && (
                <div className="diagnosis-step-fix selectable" data-testid="diagnosis-fix">
                  <span className="diagnosis-fix-label">What to do:</span> {s.fix}
                </div>
              )}
              <StepExtras step={s} onTrust={onTrust} pinnedSha256={pinnedSha256} />
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
