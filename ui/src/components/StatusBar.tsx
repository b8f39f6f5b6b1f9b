import { useEffect, useId, useRef, useState } from "react";
import { useAppState } from "../app/state";
import type { ServiceHealth } from "../lib/bindings";
import { formatAge } from "../lib/time";
import { EnvironmentBadge } from "./EnvironmentBadge";
import { EnvironmentMenu } from "./EnvironmentMenu";
import { HEALTH_WORD } from "./health";
import { ChevronIcon, RefreshIcon } from "./Icons";
import { useNow } from "./useNow";
import { CacheFreshness } from "./sync";

function HealthItem({ label, health, testId }: { label: string; health: ServiceHealth | undefined; testId: string }) {
  const tooltipId = useId();
  const state = health?.state ?? "unknown";
  const detail = [health?.message, health?.errorCode ? `(${health.errorCode})` : null, health?.latencyMs != null ? `${health.latencyMs} ms` : null]
    .filter(Boolean)
    .join(" · ");
  return (
    <span
      className="status-item health-item"
      data-testid={testId}
      data-state={state}
      tabIndex={0}
      aria-describedby={detail ? tooltipId : undefined}
    >
      <span className="health-dot" data-state={state} aria-hidden="true" />
      <span className="status-label">{label}</span>
      <span className="health-word" data-testid={`${testId}-word`}>
        {HEALTH_WORD[state]}
      </span>
      {detail && (
        <span role="tooltip" id={tooltipId} className="tooltip" data-testid={`${testId}-message`}>
          {detail}
        </span>
      )}
    </span>
  );
}

export function StatusBar() {
  const { status, checking, refreshStatus, notices } = useAppState();
  const now = useNow(1000);
  const [menuOpen, setMenuOpen] = useState(false);
  const envButtonRef = useRef<HTMLButtonElement>(null);
  const statusFailed = notices.some((n) => n.id === "status");

  // Return focus to the trigger when the menu closes, so keyboard users are not lost.
  const wasOpen = useRef(false);
  useEffect(() => {
    if (wasOpen.current && !menuOpen) envButtonRef.current?.focus();
    wasOpen.current = menuOpen;
  }, [menuOpen]);

  const env = status?.environment;
  return (
    <footer className="statusbar" data-testid="statusbar" aria-label="Status bar">
      <div className="statusbar-env">
        <button
          ref={envButtonRef}
          type="button"
          className="status-item status-button env-button"
          data-testid="status-environment"
          aria-haspopup="menu"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen((open) => !open)}
          title="Switch environment"
        >
          {env ? (
            <>
              <span className="env-name" data-testid="status-environment-name">
                {env.name}
              </span>
              <EnvironmentBadge kind={env.kind} testId="status-environment-kind" />
            </>
          ) : (
            <span className="muted">No environment</span>
          )}
          <ChevronIcon size={12} className="env-chevron" />
        </button>
        {menuOpen && <EnvironmentMenu onClose={() => setMenuOpen(false)} />}
      </div>
      <span className="status-sep" aria-hidden="true" />
      <HealthItem label="Palette" health={status?.palette} testId="status-palette" />
      <HealthItem label="Prism Central" health={status?.prism} testId="status-prism" />
      <span className="status-spacer" />
      <CacheFreshness />
      <span className="status-sep" aria-hidden="true" />
      {statusFailed && (
        <span className="status-item status-failed" data-testid="status-check-failed">
          Last check failed
        </span>
      )}
      <span className="status-item muted" data-testid="status-checked-at" title={status?.checkedAt ?? "Not checked yet"}>
        {checking ? "Checking…" : `Checked ${formatAge(status?.checkedAt, now)}`}
      </span>
      <button
        type="button"
        className="status-item status-button"
        onClick={() => void refreshStatus()}
        disabled={checking}
        data-testid="status-check-now"
        aria-label="Check connection now"
      >
        <RefreshIcon size={13} className={checking ? "spin" : undefined} />
        <span>Check now</span>
      </button>
    </footer>
  );
}
