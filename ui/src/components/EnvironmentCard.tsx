import { useAppState } from "../app/state";
import { formatAge } from "../lib/time";
import { EnvironmentBadge } from "./EnvironmentBadge";
import { HEALTH_WORD } from "./health";
import { RefreshIcon } from "./Icons";
import { useNow } from "./useNow";

/** The active environment and its service health, for the top of every page. */
export function EnvironmentCard() {
  const { status, checking, refreshStatus } = useAppState();
  const now = useNow(5000);
  if (!status) {
    return (
      <section className="card env-card" aria-label="Active environment" data-testid="environment-card">
        <div className="muted">Reading the active environment…</div>
      </section>
    );
  }
  const { environment: env } = status;
  const rows = [
    { label: "Palette", url: env.paletteUrl, health: status.palette },
    { label: "Prism Central", url: env.prismUrl, health: status.prism },
  ];
  return (
    <section className="card env-card" aria-label="Active environment" data-testid="environment-card">
      <div className="env-card-head">
        <div>
          <div className="eyebrow">Active environment</div>
          <div className="env-card-name">
            {env.name} <EnvironmentBadge kind={env.kind} />
          </div>
        </div>
        <button type="button" className="button" onClick={() => void refreshStatus()} disabled={checking}>
          <RefreshIcon size={13} className={checking ? "spin" : undefined} /> {checking ? "Checking…" : "Check now"}
        </button>
      </div>
      <dl className="env-card-services">
        {rows.map((row) => (
          <div key={row.label} className="env-service">
            <dt>
              <span className="health-dot" data-state={row.health.state} aria-hidden="true" /> {row.label}
              <span className="health-word">{HEALTH_WORD[row.health.state]}</span>
            </dt>
            <dd>
              <span className="mono">{row.url ?? "URL not known yet"}</span>
              {row.health.message && <span className="env-service-message">{row.health.message}</span>}
            </dd>
          </div>
        ))}
      </dl>
      <div className="env-card-foot muted">
        {env.kind === "sandbox"
          ? "The sandbox emulates Palette and Prism Central locally; nothing here touches real infrastructure."
          : "This is a real environment: actions change real infrastructure."}{" "}
        Last checked {formatAge(status.checkedAt, now)}.
      </div>
    </section>
  );
}
