import { useEffect, useRef } from "react";
import type { ClusterDetail, ClusterPhase } from "../../lib/bindings";
import { useNow } from "../../components/useNow";
import { ErrorBanner } from "../workflow/parts";
import type { Problem } from "../workflow/hooks";
import { ElapsedNote, EventList, KubeconfigAction, OutcomeBox, PhaseChip, PhaseTimeline, PoolNodes } from "./parts";
import { type ClusterDetailState, useClusterDetail, useClusterTiming } from "./useClusterDetail";
import "./cluster.css";

/** Nodes are still coming: show placeholders for the machines Palette has yet to create. */
export function awaitingNodes(detail: ClusterDetail): boolean {
  return detail.phase === "pending" || detail.phase === "provisioning" || detail.phase === "updating";
}

/**
 * The timeline, elapsed time and how it ended (Running with the kubeconfig, or the failure with
 * its next step). Shared by the progress view and the detail page.
 */
export function ProgressSummary({ uid, detail, readAt, gone, problem, now }: { uid: string; detail: ClusterDetail | null; readAt: number; gone: boolean; problem: Problem | null; now: number }) {
  const running = detail && (detail.phase === "running" || detail.phase === "updating");
  return (
    <div className="cl-summary" data-testid="cluster-progress-summary">
      {problem && <ErrorBanner title="Could not read the cluster (retrying)" problem={problem} testId="cluster-read-error" />}
      <div className="cl-summary-row">
        <PhaseTimeline detail={detail} gone={gone} />
        {detail && !gone && <ElapsedNote detail={detail} readAt={readAt} now={now} />}
      </div>
      {!detail && !gone && !problem && <p className="muted">Reading the cluster…</p>}
      {gone && (
        <p className="cl-gone" data-testid="cluster-gone">
          {detail?.name ?? "The cluster"} is no longer in Palette: it was deleted.
        </p>
      )}
      {!gone && running && (
        <div className="cl-done" data-testid="cluster-ready" role="status">
          <div>
            <strong>{detail.name}</strong> is Running
            {detail.endpoint && (
              <>
                ; its API server answers at <code className="selectable">{detail.endpoint}</code>
              </>
            )}
            .
          </div>
          <KubeconfigAction uid={uid} ready={detail.kubeconfigReady} />
        </div>
      )}
      {!gone && detail?.phase === "failed" && detail.outcome && (
        <OutcomeBox outcome={detail.outcome} tone="error" title="Provisioning failed" testId="cluster-failed" />
      )}
      {!gone && detail?.phase === "failed" && !detail.outcome && (
        <p className="cl-gone" data-testid="cluster-failed">
          Provisioning failed; Palette did not say why. Open the cluster in Palette for its events.
        </p>
      )}
      {!gone && detail && detail.phase !== "failed" && detail.outcome && !detail.deleteStuck && (
        <OutcomeBox outcome={detail.outcome} tone="warn" title="Needs attention" testId="cluster-warning" />
      )}
    </div>
  );
}

function ProgressView({ uid, state }: { uid: string; state: ClusterDetailState }) {
  const now = useNow(1000);
  const { detail, gone } = state;
  return (
    <section className="cl-progress" data-testid="cluster-progress" data-phase={gone ? "gone" : (detail?.phase ?? "loading")}>
      <header className="cl-progress-head">
        <h3 className="cl-progress-title">{detail?.name ?? "Cluster"}</h3>
        {detail && !gone && <PhaseChip detail={detail} testId="cluster-phase" />}
      </header>
      <ProgressSummary uid={uid} detail={detail} readAt={state.readAt} gone={gone} problem={state.problem} now={now} />
      {detail && !gone && (
        <>
          <div className="cl-pools">
            {detail.pools.map((pool) => (
              <PoolNodes key={pool.name} pool={pool} waiting={awaitingNodes(detail)} />
            ))}
          </div>
          <div className="cl-block">
            <h4 className="cl-block-title">Events</h4>
            <EventList events={detail.events} />
          </div>
        </>
      )}
    </section>
  );
}

/**
 * A cluster on its way to Running (or being deleted), read live by uid every `pollMs` (default
 * from `ClusterTimingContext`) until it settles. It keeps nothing but the uid, so after an app
 * restart it simply picks the cluster up where it is.
 */
export function ClusterProgress({ uid, pollMs, onPhase }: { uid: string; pollMs?: number; onPhase?: (phase: ClusterPhase) => void }) {
  const timing = useClusterTiming();
  const state = useClusterDetail(uid, pollMs ?? timing.pollMs, null);
  const phase = state.detail?.phase;
  // Tell the owner when the phase moves (the workflow stepper then reads the state again).
  const reported = useRef<ClusterPhase | undefined>(undefined);
  useEffect(() => {
    if (!phase || phase === reported.current) return;
    const first = reported.current === undefined;
    reported.current = phase;
    if (!first) onPhase?.(phase);
  }, [phase, onPhase]);
  return <ProgressView uid={uid} state={state} />;
}
