import { useCallback, useEffect, useState } from "react";
import type { CacheSummary, ErrorCode } from "../lib/bindings";
import { describeError, useBackend, useBackendEvent } from "../lib/backend";
import { formatCount } from "../components/sync/kinds";

/**
 * Settings → Local cache: where the SQLite file is, how much it holds, any problem with it,
 * and the "Rebuild cache" escape hatch (the old file is kept aside; environments and drafts
 * are carried over; inventory is refilled by the next sync).
 */
export function CacheSection() {
  const backend = useBackend();
  const [summary, setSummary] = useState<CacheSummary | null>(null);
  const [error, setError] = useState<{ code: ErrorCode; message: string } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [rebuilding, setRebuilding] = useState(false);
  const [done, setDone] = useState(false);

  const load = useCallback(() => {
    backend
      .call("cache_summary", {})
      .then((s) => {
        setSummary(s);
        setError(null);
      })
      .catch((e: unknown) => setError(describeError(e)));
  }, [backend]);

  useEffect(load, [load]);
  useBackendEvent("capstan://sync", (event) => {
    if (event.phase !== "progress" && event.phase !== "started") load();
  });

  const rebuild = () => {
    setRebuilding(true);
    setDone(false);
    backend
      .call("cache_rebuild", {})
      .then((s) => {
        setSummary(s);
        setError(null);
        setDone(true);
      })
      .catch((e: unknown) => setError(describeError(e)))
      .finally(() => {
        setRebuilding(false);
        setConfirming(false);
      });
  };

  const rows = summary?.kinds.reduce((n, k) => n + k.count, 0) ?? 0;
  return (
    <section className="card settings-section" aria-labelledby="cache-heading" data-testid="cache-section">
      <h2 id="cache-heading" className="section-title">
        Local cache
      </h2>
      {summary?.problem && (
        <p className="setting-problem" role="alert" data-testid="cache-problem">
          {summary.problem}
        </p>
      )}
      {error && (
        <p className="setting-problem" role="alert" data-testid="cache-error">
          {error.message}
        </p>
      )}
      <dl className="kv kv-wide">
        <div className="kv-row">
          <dt>Database</dt>
          <dd className="mono selectable" data-testid="cache-database">
            {summary?.database ?? "…"}
          </dd>
        </div>
        <div className="kv-row">
          <dt>Cached objects</dt>
          <dd data-testid="cache-rows">{summary ? `${formatCount(rows)} in this environment` : "…"}</dd>
        </div>
      </dl>
      <div className="setting-row">
        <div>
          <div className="setting-label">Rebuild cache</div>
          <div className="setting-hint">
            Starts a fresh database file. The current file is kept beside it as a backup; environments and drafts are carried over, and the next sync
            refills the inventory.
          </div>
        </div>
        {confirming ? (
          <span className="inline-actions">
            <button type="button" className="button danger" onClick={rebuild} disabled={rebuilding} data-testid="cache-rebuild-confirm">
              {rebuilding ? "Rebuilding…" : "Rebuild now"}
            </button>
            <button type="button" className="button" onClick={() => setConfirming(false)} disabled={rebuilding}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" className="button" onClick={() => setConfirming(true)} data-testid="cache-rebuild">
            Rebuild cache…
          </button>
        )}
      </div>
      {done && (
        <p className="muted" role="status" data-testid="cache-rebuilt">
          The cache was rebuilt. Sync to refill it.
        </p>
      )}
    </section>
  );
}
