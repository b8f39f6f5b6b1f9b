import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import type { CacheSummary, ErrorCode, SyncEvent, SyncModeDto } from "../../lib/bindings";
import { describeError, useBackend, useBackendEvent } from "../../lib/backend";

export interface SyncState {
  /** What the cache holds and how fresh it is (null until first read). */
  summary: CacheSummary | null;
  /** The latest event of the sync in progress, if one runs. */
  running: SyncEvent | null;
  /** The run that failed, until dismissed or another run starts. */
  failure: SyncEvent | null;
  /**
   * Goes up each time a run ends: lists reload when it changes. A completed run refreshed
   * the cache; a failed or cancelled one may have written pages before it stopped.
   */
  cacheVersion: number;
  /** A start, cancel or summary request the backend refused. */
  actionError: { action: "read" | "start" | "cancel"; title: string; code: ErrorCode; message: string } | null;
  cancelling: boolean;
  /** Full re-lists everything; incremental skips fresh kinds and resumes an interrupted one. */
  start(mode?: SyncModeDto): Promise<void>;
  cancel(): Promise<void>;
  dismissFailure(): void;
  reloadSummary(): Promise<void>;
}

const SyncStateContext = createContext<SyncState | null>(null);

export function useSyncState(): SyncState {
  const state = useContext(SyncStateContext);
  if (!state) throw new Error("useSyncState() must be used inside <SyncStateProvider>.");
  return state;
}

const isActive = (event: SyncEvent | null | undefined): boolean => event?.phase === "started" || event?.phase === "progress";

/** The summary is re-read this often so ages and the stale mark stay true without a sync. */
const SUMMARY_REFRESH_MS = 60_000;

/**
 * Owns the one `capstan://sync` subscription. Seeded from `cache_summary`, so the sync the
 * engine starts in the background when an environment opens (views paint from the cache
 * first) shows at once, and re-read whenever a run ends or the environment changes.
 */
export function SyncStateProvider({ environmentId, children }: { environmentId?: string; children: ReactNode }) {
  const backend = useBackend();
  const [summary, setSummary] = useState<CacheSummary | null>(null);
  const [running, setRunning] = useState<SyncEvent | null>(null);
  const [failure, setFailure] = useState<SyncEvent | null>(null);
  const [cacheVersion, setCacheVersion] = useState(0);
  const [actionError, setActionError] = useState<SyncState["actionError"]>(null);
  const [cancelling, setCancelling] = useState(false);
  /** Counts sync events, to tell whether a summary answer is older than what we know. */
  const eventSeq = useRef(0);

  /** Reads the summary; `isCurrent` lets an effect ignore answers that arrive after cleanup. */
  const readSummary = useCallback(
    (isCurrent: () => boolean = () => true) => {
      const seqAtRequest = eventSeq.current;
      return backend
        .call("cache_summary", {})
        .then((next) => {
          if (!isCurrent()) return;
          setSummary(next);
          setActionError((e) => (e?.action === "read" ? null : e));
          // Events are newer than a summary requested before them; otherwise the summary is the truth.
          if (eventSeq.current === seqAtRequest) setRunning(isActive(next.sync) ? next.sync : null);
        })
        .catch((error: unknown) => {
          if (isCurrent()) setActionError({ action: "read", title: "Could not read the cache", ...describeError(error) });
        });
    },
    [backend],
  );
  const reloadSummary = useCallback(() => readSummary(), [readSummary]);

  const start = useCallback(
    async (mode: SyncModeDto = "full") => {
      setActionError(null);
      try {
        await backend.call("sync_start", { mode });
        setFailure(null);
      } catch (error) {
        setActionError({ action: "start", title: "Could not start the sync", ...describeError(error) });
      }
    },
    [backend],
  );

  const cancel = useCallback(async () => {
    setCancelling(true);
    try {
      await backend.call("sync_cancel", {});
      setActionError(null);
    } catch (error) {
      setActionError({ action: "cancel", title: "Could not cancel the sync", ...describeError(error) });
    } finally {
      setCancelling(false);
    }
  }, [backend]);

  const dismissFailure = useCallback(() => {
    setFailure(null);
    setActionError(null);
  }, []);

  useBackendEvent("capstan://sync", (event) => {
    eventSeq.current += 1;
    if (isActive(event)) {
      // Ignore stragglers of an older run.
      setRunning((current) => (current && current.runId > event.runId ? current : event));
      if (event.phase === "started") setFailure(null);
      return;
    }
    setRunning((current) => (current && current.runId > event.runId ? current : null));
    if (event.phase === "completed") setFailure(null);
    else if (event.phase === "failed") setFailure(event);
    setCacheVersion((n) => n + 1);
    void reloadSummary();
  });

  // On mount and on every environment switch; then now and again so ages stay true.
  useEffect(() => {
    let current = true;
    const isCurrent = () => current;
    void readSummary(isCurrent);
    const timer = window.setInterval(() => void readSummary(isCurrent), SUMMARY_REFRESH_MS);
    return () => {
      current = false;
      window.clearInterval(timer);
    };
  }, [environmentId, readSummary]);

  const value = useMemo<SyncState>(
    () => ({ summary, running, failure, cacheVersion, actionError, cancelling, start, cancel, dismissFailure, reloadSummary }),
    [summary, running, failure, cacheVersion, actionError, cancelling, start, cancel, dismissFailure, reloadSummary],
  );
  return <SyncStateContext.Provider value={value}>{children}</SyncStateContext.Provider>;
}
