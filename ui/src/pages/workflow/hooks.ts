import { createContext, useCallback, useContext, useEffect, useRef, useState } from "react";
import type { ErrorCode, WorkflowState, WorkflowStepId } from "../../lib/bindings";
import type { JsonValue } from "../../lib/bindings/serde_json/JsonValue";
import { describeError, useBackend, useBackendEvent } from "../../lib/backend";

/** How often the page asks the backend; tests shorten these. */
export interface WorkflowTiming {
  /** `workflow_state` while the page is visible. */
  statePollMs: number;
  /** `pcg_status` while the PCG is not Running. */
  pcgPollMs: number;
  /** Quiet time after the last keystroke before a draft is saved. */
  draftSaveMs: number;
  /** Quiet time after the last change before step 1 is planned again. */
  planMs: number;
  /** Quiet time after the last keystroke before step 4 asks whether the profile name is free. */
  nameCheckMs: number;
}

export const DEFAULT_TIMING: WorkflowTiming = { statePollMs: 5_000, pcgPollMs: 3_000, draftSaveMs: 400, planMs: 500, nameCheckMs: 400 };

export const TimingContext = createContext<WorkflowTiming>(DEFAULT_TIMING);

export function useTiming(): WorkflowTiming {
  return useContext(TimingContext);
}

export interface Problem {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export function toProblem(error: unknown): Problem {
  const { code, message } = describeError(error);
  const details = (error as { details?: unknown } | null)?.details;
  return details === undefined ? { code, message } : { code, message, details };
}

/**
 * The live workflow state: read on mount, every `pollMs` while the page is visible, on
 * `capstan://status` (environment switched, connection changed) and on `refresh()`.
 */
export function useWorkflowState(pollMs: number): { state: WorkflowState | null; problem: Problem | null; refresh: () => void } {
  const backend = useBackend();
  const [state, setState] = useState<WorkflowState | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const inFlight = useRef(false);
  const again = useRef(false);
  const live = useRef(true);

  const refresh = useCallback(() => {
    const run = () => {
      inFlight.current = true;
      backend
        .call("workflow_state", {})
        .then((next) => {
          if (!live.current) return;
          setState(next);
          setProblem(null);
        })
        .catch((error: unknown) => {
          if (live.current) setProblem(toProblem(error));
        })
        .finally(() => {
          inFlight.current = false;
          if (again.current && live.current) {
            again.current = false;
            run();
          }
        });
    };
    // One request at a time; a refresh asked for meanwhile runs once it returns.
    if (inFlight.current) again.current = true;
    else run();
  }, [backend]);

  useEffect(() => {
    live.current = true;
    refresh();
    const tick = () => {
      if (document.visibilityState !== "hidden") refresh();
    };
    const id = window.setInterval(tick, pollMs);
    const onVisible = () => {
      if (document.visibilityState === "visible") refresh();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      live.current = false;
      window.clearInterval(id);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [refresh, pollMs]);

  useBackendEvent("capstan://status", () => refresh());

  return { state, problem, refresh };
}

export type DraftStatus =
  | { kind: "none" }
  | { kind: "restored"; at: string }
  | { kind: "saving" }
  | { kind: "saved"; at: string }
  | { kind: "error"; message: string };

export interface DraftControl {
  status: DraftStatus;
  /** The saved draft has been read (and restored, if there was one). */
  loaded: boolean;
  /** Saves `data` once the user pauses typing. Never pass secrets. */
  schedule: (data: JsonValue) => void;
  /** Deletes the draft (after the step succeeded, or when the user discards it). */
  discard: () => Promise<void>;
}

/**
 * A step's draft: restored once on mount (unless the user typed first), saved `draftSaveMs`
 * after the last change, and flushed when the step is left so the last keystrokes survive.
 */
export function useDraft(step: WorkflowStepId, restore: (data: JsonValue) => void): DraftControl {
  const backend = useBackend();
  const { draftSaveMs } = useTiming();
  const [status, setStatus] = useState<DraftStatus>({ kind: "none" });
  const [loaded, setLoaded] = useState(false);
  const pending = useRef<JsonValue | undefined>(undefined);
  const timer = useRef<number | null>(null);
  const touched = useRef(false);
  const restoreRef = useRef(restore);
  useEffect(() => {
    restoreRef.current = restore;
  });

  useEffect(() => {
    let live = true;
    backend
      .call("draft_get", { step })
      .then(({ draft }) => {
        if (!live) return;
        if (draft && !touched.current) {
          restoreRef.current(draft.data);
          setStatus({ kind: "restored", at: draft.updatedAt });
        }
      })
      .catch(() => {
        // No draft to restore is not worth a banner; saving will say if the store is broken.
      })
      .finally(() => {
        if (live) setLoaded(true);
      });
    return () => {
      live = false;
    };
  }, [backend, step]);

  const flush = useCallback(() => {
    if (timer.current !== null) {
      window.clearTimeout(timer.current);
      timer.current = null;
    }
    const data = pending.current;
    if (data === undefined) return;
    pending.current = undefined;
    setStatus({ kind: "saving" });
    backend
      .call("draft_save", { step, data })
      .then(({ draft }) => setStatus({ kind: "saved", at: draft?.updatedAt ?? new Date().toISOString() }))
      .catch((error: unknown) => setStatus({ kind: "error", message: describeError(error).message }));
  }, [backend, step]);

  const schedule = useCallback(
    (data: JsonValue) => {
      touched.current = true;
      pending.current = data;
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = window.setTimeout(flush, draftSaveMs);
    },
    [flush, draftSaveMs],
  );

  const discard = useCallback(async () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = null;
    pending.current = undefined;
    await backend.call("draft_delete", { step });
    setStatus({ kind: "none" });
  }, [backend, step]);

  const flushRef = useRef(flush);
  useEffect(() => {
    flushRef.current = flush;
  });
  useEffect(() => () => flushRef.current(), []);

  return { status, loaded, schedule, discard };
}

/** Calls `fn` every `ms` while `active` (and once straight away). */
export function useInterval(fn: () => void, ms: number, active: boolean): void {
  const fnRef = useRef(fn);
  useEffect(() => {
    fnRef.current = fn;
  });
  useEffect(() => {
    if (!active) return;
    fnRef.current();
    const id = window.setInterval(() => fnRef.current(), ms);
    return () => window.clearInterval(id);
  }, [ms, active]);
}
