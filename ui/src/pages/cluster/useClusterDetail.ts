import { createContext, useCallback, useContext, useEffect, useState } from "react";
import { useBackend } from "../../lib/backend";
import type { ClusterDetail } from "../../lib/bindings";
import { type Problem, toProblem } from "../workflow/hooks";

/** How often cluster views ask the backend; tests shorten these. */
export interface ClusterTiming {
  /** While the cluster is on its way (pending, provisioning, updating, deleting). */
  pollMs: number;
  /** Once it has settled (Running and Healthy, or Failed), on the detail page. */
  settledPollMs: number;
}

export const DEFAULT_CLUSTER_TIMING: ClusterTiming = { pollMs: 3_000, settledPollMs: 15_000 };

export const ClusterTimingContext = createContext<ClusterTiming>(DEFAULT_CLUSTER_TIMING);

export function useClusterTiming(): ClusterTiming {
  return useContext(ClusterTimingContext);
}

/**
 * Nothing more will happen without the user: Running with a health word. Failed is not
 * settled: CAPX keeps retrying, and a cluster whose cause went away carries on.
 */
export function isSettled(detail: ClusterDetail): boolean {
  return detail.phase === "running" && detail.health !== null;
}

export interface ClusterDetailState {
  detail: ClusterDetail | null;
  /** When `detail` was read (for the elapsed time between polls). */
  readAt: number;
  /** The last read failed (the previous detail is kept). */
  problem: Problem | null;
  /** Palette no longer has the cluster (`not_found`). */
  gone: boolean;
  /** Reads again now and restarts polling. */
  refresh: () => void;
  /** Shows a detail an action answered with, then reads again. */
  apply: (detail: ClusterDetail) => void;
}

/**
 * The cluster read live by uid: on mount, every `pollMs` while it is on its way, every
 * `settledPollMs` once settled (`null`: stop). Reading by uid is what lets a view survive an
 * app restart: nothing is kept but the uid.
 */
export function useClusterDetail(uid: string, pollMs: number, settledPollMs: number | null): ClusterDetailState {
  const backend = useBackend();
  const [read, setRead] = useState<{ uid: string; detail: ClusterDetail | null; readAt: number; problem: Problem | null; gone: boolean }>({
    uid,
    detail: null,
    readAt: 0,
    problem: null,
    gone: false,
  });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let cancelled = false;
    let timer: number | undefined;
    const load = () => {
      backend
        .call("cluster_detail", { uid })
        .then((detail) => {
          if (cancelled) return;
          setRead({ uid, detail, readAt: Date.now(), problem: null, gone: false });
          const wait = isSettled(detail) ? settledPollMs : pollMs;
          if (wait !== null) timer = window.setTimeout(load, wait);
        })
        .catch((error: unknown) => {
          if (cancelled) return;
          const problem = toProblem(error);
          if (problem.code === "not_found") {
            setRead((r) => ({ ...r, uid, problem: null, gone: true }));
            return;
          }
          setRead((r) => ({ ...r, uid, problem }));
          timer = window.setTimeout(load, pollMs);
        });
    };
    load();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [backend, uid, pollMs, settledPollMs, generation]);

  const refresh = useCallback(() => setGeneration((g) => g + 1), []);
  const apply = useCallback(
    (detail: ClusterDetail) => {
      setRead({ uid: detail.uid, detail, readAt: Date.now(), problem: null, gone: false });
      setGeneration((g) => g + 1);
    },
    [],
  );

  // A different uid than the one read: show nothing stale.
  const current = read.uid === uid ? read : { detail: null, readAt: 0, problem: null, gone: false };
  return { detail: current.detail, readAt: current.readAt, problem: current.problem, gone: current.gone, refresh, apply };
}
