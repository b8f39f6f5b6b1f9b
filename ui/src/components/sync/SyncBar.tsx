import type { Freshness, SyncEvent } from "../../lib/bindings";
import { formatAge } from "../../lib/time";
import { AlertIcon, CloseIcon, RefreshIcon } from "../Icons";
import { useNow } from "../useNow";
import { formatCount, KIND_WORDS } from "./kinds";
import { useSyncState } from "./SyncState";
import "./sync.css";

function progressCount(event: SyncEvent): string {
  return event.total === null ? formatCount(event.done) : `${formatCount(event.done)} / ${formatCount(event.total)}`;
}

/**
 * The running sync (kind, rows done of total, a bar, Cancel) or, after a failure, its
 * message with Retry. Sits at the bottom of the main area, just above the status bar;
 * renders nothing when there is nothing to say.
 */
export function SyncBar() {
  const { running, failure, actionError, cancelling, start, cancel, dismissFailure, reloadSummary } = useSyncState();

  if (running) {
    const kind = running.kind ? KIND_WORDS[running.kind] : "Starting…";
    const determinate = running.total !== null && running.total > 0;
    const percent = determinate ? Math.min(100, Math.round((running.done / running.total!) * 100)) : null;
    return (
      <div className="sync-bar" role="status" aria-label="Inventory sync" data-testid="sync-progress">
        <RefreshIcon size={13} className="spin sync-bar-icon" />
        <span className="sync-bar-title">Syncing inventory</span>
        <span className="sync-bar-kind" data-testid="sync-progress-kind">
          {kind}
        </span>
        {running.kind && (
          <span className="sync-bar-count mono" data-testid="sync-progress-count">
            {progressCount(running)}
          </span>
        )}
        <div
          className="sync-meter"
          role="progressbar"
          aria-label={`${kind} synced`}
          aria-valuemin={0}
          aria-valuemax={determinate ? running.total! : undefined}
          aria-valuenow={determinate ? running.done : undefined}
          data-indeterminate={determinate ? undefined : "true"}
        >
          <div className="sync-meter-fill" style={percent === null ? undefined : { width: `${percent}%` }} />
        </div>
        <span className="sync-bar-kinds muted" data-testid="sync-progress-kinds">
          {running.kindsDone} of {running.kindsTotal} kinds done
        </span>
        <span className="sync-bar-spacer" />
        <button type="button" className="button button-small" onClick={() => void cancel()} disabled={cancelling} data-testid="sync-cancel">
          {cancelling ? "Cancelling…" : "Cancel"}
        </button>
      </div>
    );
  }

  const problem = failure?.error
    ? {
        title: failure.kind ? `Sync stopped at ${KIND_WORDS[failure.kind].toLowerCase()}` : "Sync stopped",
        code: failure.error.code,
        message: failure.error.message,
        hint: failure.error.resumable ? "Retry continues where it stopped; the cache keeps what it had." : "The cache keeps what it had.",
      }
    : actionError
      ? { ...actionError, hint: null }
      : null;
  if (!problem) return null;
  // A failed run resumes; a refused request is simply asked again.
  const retry = failure?.error
    ? () => void start("incremental")
    : actionError?.action === "read"
      ? () => void reloadSummary()
      : actionError?.action === "cancel"
        ? () => void cancel()
        : () => void start("full");
  return (
    <div className="sync-bar sync-bar-failed" role="alert" data-testid="sync-error">
      <AlertIcon size={14} className="sync-bar-icon" />
      <span className="sync-bar-title">
        {problem.title} <code className="error-code">{problem.code}</code>
      </span>
      <span className="sync-bar-message selectable" data-testid="sync-error-message">
        {problem.message}
      </span>
      {problem.hint && <span className="muted sync-bar-hint">{problem.hint}</span>}
      <span className="sync-bar-spacer" />
      <button type="button" className="button button-small" onClick={retry} data-testid="sync-retry">
        Retry
      </button>
      <button type="button" className="icon-button icon-button-small" onClick={dismissFailure} aria-label="Dismiss" title="Dismiss" data-testid="sync-dismiss">
        <CloseIcon size={13} />
      </button>
    </div>
  );
}

function freshnessWords(freshness: Freshness | undefined, now: number): string {
  if (!freshness) return "Reading cache…";
  if (freshness.empty) return "Not synced yet";
  return `Cached ${formatAge(freshness.syncedAt ?? undefined, now)}`;
}

/** How old a cached answer is, marked when stale. Used in lists' toolbars. */
export function FreshnessNote({ freshness, testId }: { freshness: Freshness | undefined; testId: string }) {
  const now = useNow(5000);
  if (!freshness || freshness.empty) return null;
  return (
    <span className="freshness-note" data-testid={testId} data-stale={freshness.stale ? "true" : "false"} title={freshness.syncedAt ?? undefined}>
      {freshnessWords(freshness, now)}
      {freshness.stale && <span className="freshness-stale"> · stale</span>}
    </span>
  );
}

/** Status-bar items: the cache's age (marked when stale) and "Sync now". */
export function CacheFreshness() {
  const { summary, running, start } = useSyncState();
  const now = useNow(5000);
  const freshness = summary?.freshness;
  const stale = freshness?.stale ?? false;
  const title = [
    freshness?.syncedAt ? `Last complete sync ${freshness.syncedAt}` : null,
    stale ? "Stale: older than the refresh interval, or the last sync failed." : null,
    summary?.problem ?? null,
  ]
    .filter(Boolean)
    .join("\n");
  return (
    <>
      <span
        className="status-item cache-freshness"
        data-testid="cache-freshness"
        data-stale={stale ? "true" : "false"}
        data-empty={freshness?.empty ? "true" : undefined}
        title={title || undefined}
      >
        <span className="freshness-dot" aria-hidden="true" />
        {freshnessWords(freshness, now)}
        {stale && <span className="freshness-stale">stale</span>}
      </span>
      <button
        type="button"
        className="status-item status-button"
        onClick={() => void start("full")}
        disabled={running !== null}
        data-testid="sync-now"
        title="Re-read the inventory from Prism Central and Palette"
      >
        <RefreshIcon size={13} className={running ? "spin" : undefined} />
        <span>{running ? "Syncing…" : "Sync now"}</span>
      </button>
    </>
  );
}
