import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { useBackend } from "../../lib/backend";
import type { ClusterDetail, ClusterEvent, ClusterNode, ClusterOutcome, ClusterPhase, ClusterPool, KubeconfigSaved } from "../../lib/bindings";
import { AlertIcon, CheckIcon, CloseIcon } from "../../components/Icons";
import { CopyButton, ErrorBanner, formatElapsed } from "../workflow/parts";
import { type Problem, toProblem } from "../workflow/hooks";

export const PHASE_LABEL: Record<ClusterPhase, string> = {
  pending: "Pending",
  provisioning: "Provisioning",
  running: "Running",
  updating: "Updating",
  deleting: "Deleting",
  deleted: "Deleted",
  failed: "Failed",
  unknown: "Unknown",
};

/** The status dot colour of the inventory tables (ok, warn, error, pending). */
export function phaseTone(detail: Pick<ClusterDetail, "phase" | "health" | "deleteStuck">): "ok" | "warn" | "error" | "pending" | "neutral" {
  if (detail.phase === "failed" || detail.deleteStuck) return "error";
  if (detail.phase === "running") return detail.health && detail.health !== "Healthy" ? "warn" : "ok";
  if (detail.phase === "deleted" || detail.phase === "unknown") return "neutral";
  return "pending";
}

export function PhaseChip({ detail, testId }: { detail: ClusterDetail; testId?: string }) {
  const tone = phaseTone(detail);
  return (
    <span className="status-chip cl-phase" data-testid={testId} data-phase={detail.phase}>
      <span className="status-dot" data-status={tone} aria-hidden="true" />
      {PHASE_LABEL[detail.phase]}
      {detail.health && <span className="muted"> · {detail.health}</span>}
    </span>
  );
}

type StepState = "done" | "current" | "upcoming" | "failed" | "stuck";

interface TimelineStep {
  id: string;
  label: string;
  hint: string;
  state: StepState;
}

const CREATE_STEPS = [
  { id: "pending", label: "Pending", hint: "Palette accepted it; the PCG picks it up" },
  { id: "provisioning", label: "Provisioning", hint: "CAPX creates the VMs in Prism Central" },
  { id: "running", label: "Running", hint: "Nodes joined; the kubeconfig is ready" },
] as const;

const DELETE_STEPS = [
  { id: "deleting", label: "Deleting", hint: "CAPX removes the VMs from Prism Central" },
  { id: "deleted", label: "Deleted", hint: "VMs gone, IP addresses released" },
  { id: "gone", label: "Removed", hint: "Palette no longer lists it" },
] as const;

/** Which steps are done, current, failed or still to come, from the phase. */
export function timelineSteps(detail: ClusterDetail | null, gone: boolean): TimelineStep[] {
  if (gone || (detail && (detail.phase === "deleting" || detail.phase === "deleted"))) {
    const at = gone ? 3 : detail?.phase === "deleted" ? 1 : 0;
    return DELETE_STEPS.map((s, i) => ({
      ...s,
      state: i < at || (gone && i === 2) ? "done" : i === at ? (detail?.deleteStuck ? "stuck" : "current") : "upcoming",
    }));
  }
  const phase = detail?.phase ?? "pending";
  if (phase === "failed") {
    // It failed where it stopped: before any machine exists it never left Pending.
    const reached = detail && detail.pools.some((p) => p.nodes.length > 0) ? 1 : 0;
    return CREATE_STEPS.map((s, i) => ({ ...s, state: i < reached ? "done" : i === reached ? "failed" : "upcoming" }));
  }
  const at = phase === "provisioning" ? 1 : phase === "running" || phase === "updating" ? 3 : 0;
  return CREATE_STEPS.map((s, i) => ({ ...s, state: i < at ? "done" : i === at ? "current" : "upcoming" }));
}

export function PhaseTimeline({ detail, gone }: { detail: ClusterDetail | null; gone: boolean }) {
  const steps = timelineSteps(detail, gone);
  return (
    <ol className="cl-timeline" data-testid="cluster-timeline" aria-label="Cluster progress">
      {steps.map((step, i) => (
        <li key={step.id} className="cl-step" data-testid={`timeline-step-${step.id}`} data-state={step.state} aria-current={step.state === "current" ? "step" : undefined}>
          <span className="cl-step-marker" aria-hidden="true">
            {step.state === "done" ? <CheckIcon size={12} /> : step.state === "failed" || step.state === "stuck" ? <AlertIcon size={12} /> : i + 1}
          </span>
          <span className="cl-step-text">
            <span className="cl-step-label">
              {step.label}
              {step.state === "failed" && " — failed"}
              {step.state === "stuck" && " — stuck"}
            </span>
            <span className="cl-step-hint">{step.hint}</span>
          </span>
        </li>
      ))}
    </ol>
  );
}

/** "Elapsed 1 min 20 s" while on its way (ticking between reads), "Took …" once Running. */
export function ElapsedNote({ detail, readAt, now }: { detail: ClusterDetail; readAt: number; now: number }) {
  if (detail.elapsedSeconds === null) return null;
  const base = Number(detail.elapsedSeconds);
  const moving = detail.phase === "pending" || detail.phase === "provisioning";
  const seconds = moving ? base + Math.max(0, (now - readAt) / 1000) : base;
  const word = detail.phase === "running" || detail.phase === "updating" ? "Took" : detail.phase === "failed" ? "Failed after" : "Elapsed";
  return (
    <span className="cl-elapsed" data-testid="cluster-elapsed">
      {word} {formatElapsed(seconds)}
    </span>
  );
}

function nodeTone(node: ClusterNode): string {
  if (node.state === "Running") return node.healthy === false ? "warn" : "ok";
  if (node.state === "Failed" || node.state === "Error") return "error";
  if (node.state === "Deleting") return "warn";
  return "pending";
}

/** One pool's nodes with their VM and IP as CAPX fills them in; missing machines as placeholders. */
export function PoolNodes({ pool, actions, waiting }: { pool: ClusterPool; actions?: ReactNode; waiting: boolean }) {
  const live = pool.nodes.filter((n) => n.state !== "Deleting").length;
  const missing = waiting ? Math.max(0, pool.size - live) : 0;
  return (
    <section className="cl-pool" data-testid="cluster-pool" data-pool={pool.name} data-size={pool.size} data-control-plane={pool.controlPlane}>
      <header className="cl-pool-head">
        <h4 className="cl-pool-name">
          {pool.name}
          <span className="cl-pool-role">{pool.controlPlane ? "control plane" : "workers"}</span>
        </h4>
        <span className="muted" data-testid="pool-count">
          {live} of {pool.size} {pool.size === 1 ? "node" : "nodes"}
        </span>
        <span className="toolbar-spacer" />
        {actions}
      </header>
      <table className="table cl-nodes">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">State</th>
            <th scope="col">VM UUID (Prism Central)</th>
            <th scope="col">IP address</th>
          </tr>
        </thead>
        <tbody>
          {pool.nodes.map((node) => (
            <tr key={node.uid} data-testid="cluster-node" data-name={node.name} data-state={node.state}>
              <td className="mono selectable">{node.name}</td>
              <td>
                <span className="status-chip">
                  <span className="status-dot" data-status={nodeTone(node)} aria-hidden="true" />
                  {node.state}
                </span>
              </td>
              <td className="mono selectable" data-testid="node-vm">
                {node.vmUuid ?? <span className="muted">waiting for CAPX</span>}
              </td>
              <td className="mono selectable" data-testid="node-ip">
                {node.ip ?? <span className="muted">—</span>}
              </td>
            </tr>
          ))}
          {Array.from({ length: missing }, (_, i) => (
            <tr key={`missing-${i}`} data-testid="cluster-node-placeholder" className="cl-node-placeholder">
              <td colSpan={4} className="muted">
                Waiting for Palette to create this machine
              </td>
            </tr>
          ))}
          {pool.nodes.length === 0 && missing === 0 && (
            <tr>
              <td colSpan={4} className="table-empty">
                No nodes.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

function eventTime(event: ClusterEvent): string {
  if (!event.at) return "";
  const d = new Date(event.at);
  return Number.isNaN(d.getTime()) ? event.at : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** Newest first; the few latest shown, the rest one click away. */
export function EventList({ events, initial = 6 }: { events: ClusterEvent[]; initial?: number }) {
  const [all, setAll] = useState(false);
  const newest = [...events].reverse();
  const shown = all ? newest : newest.slice(0, initial);
  if (events.length === 0) return <p className="muted">No events yet.</p>;
  return (
    <div className="cl-events-wrap">
      <ol className="cl-events" data-testid="cluster-events">
        {shown.map((e, i) => (
          <li key={`${e.at ?? ""}-${e.reason}-${i}`} className="cl-event" data-testid="cluster-event" data-severity={e.severity} data-reason={e.reason}>
            <span className="cl-event-time mono">{eventTime(e)}</span>
            <span className="cl-event-severity" data-severity={e.severity}>
              {e.severity}
            </span>
            <span className="cl-event-reason">{e.reason}</span>
            <span className="cl-event-message selectable">{e.message}</span>
          </li>
        ))}
      </ol>
      {newest.length > initial && (
        <button type="button" className="cl-link" data-testid="cluster-events-toggle" onClick={() => setAll((a) => !a)}>
          {all ? "Show the latest only" : `Show all ${newest.length} events`}
        </button>
      )}
    </div>
  );
}

/** What is wrong and what to do about it. */
export function OutcomeBox({ outcome, tone, title, testId, children }: { outcome: ClusterOutcome; tone: "error" | "warn"; title: string; testId?: string; children?: ReactNode }) {
  return (
    <div className="cl-outcome" data-tone={tone} role="alert" data-testid={testId}>
      <AlertIcon size={16} className="cl-outcome-icon" />
      <div className="cl-outcome-body">
        <div className="cl-outcome-title">{title}</div>
        <p className="selectable" data-testid="outcome-problem">
          {outcome.problem}
        </p>
        <p className="selectable" data-testid="outcome-next-step">
          <strong>Next step:</strong> {outcome.nextStep}
        </p>
        {children}
      </div>
    </div>
  );
}

/** "Download kubeconfig": saves it (mode 0600) and says where, with the command to try it. */
export function KubeconfigAction({ uid, ready, compact = false }: { uid: string; ready: boolean; compact?: boolean }) {
  const backend = useBackend();
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<KubeconfigSaved | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function save() {
    setSaving(true);
    setProblem(null);
    try {
      setSaved(await backend.call("kubeconfig_save", { uid }));
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className={compact ? "cl-kubeconfig cl-kubeconfig-compact" : "cl-kubeconfig"}>
      <button
        type="button"
        className="button button-primary"
        data-testid="kubeconfig-download"
        disabled={!ready || saving}
        title={ready ? undefined : "Palette issues the kubeconfig once the cluster is Running."}
        onClick={() => void save()}
      >
        {saving ? "Saving…" : "Download kubeconfig"}
      </button>
      {problem && <ErrorBanner title="Could not save the kubeconfig" problem={problem} testId="kubeconfig-error" />}
      {saved && (
        <div className="cl-kubeconfig-saved" data-testid="kubeconfig-saved" role="status">
          <div>
            Saved to <code className="selectable" data-testid="kubeconfig-path">{saved.path}</code> ({Number(saved.bytes).toLocaleString("en-US")} bytes),
            with mode 0600: only your user can read it, as kubectl expects of a file holding credentials.
          </div>
          <div className="cl-hint">
            <code className="selectable" data-testid="kubeconfig-hint">{saved.hint}</code>
            <CopyButton text={saved.hint} label="Copy" testId="kubeconfig-hint-copy" />
          </div>
        </div>
      )}
    </div>
  );
}

/** A modal dialog: Escape or the close button cancels; focus starts inside it. */
export function Dialog({
  title,
  onClose,
  children,
  footer,
  wide = false,
  testId,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer: ReactNode;
  wide?: boolean;
  testId?: string;
}) {
  const titleId = useId();
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const opener = document.activeElement;
    const first = box.current?.querySelector<HTMLElement>("input, select, textarea, button:not([data-dialog-close])");
    (first ?? box.current)?.focus();
    return () => {
      // Back to what opened it, if it is still on the page.
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, []);

  // On <body>, so no page container's size or overflow clips the overlay.
  return createPortal(
    <div className="overlay cl-overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={box}
        className={wide ? "cl-dialog cl-dialog-wide" : "cl-dialog"}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={testId}
        tabIndex={-1}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.stopPropagation();
            onClose();
          } else if (e.key === "Tab" && box.current) {
            // Keep Tab inside the dialog (it is modal).
            const focusable = [...box.current.querySelectorAll<HTMLElement>("input, select, textarea, button, a[href]")].filter((el) => !el.hasAttribute("disabled"));
            if (focusable.length === 0) return;
            const first = focusable[0];
            const last = focusable[focusable.length - 1];
            if (e.shiftKey && document.activeElement === first) {
              e.preventDefault();
              last.focus();
            } else if (!e.shiftKey && document.activeElement === last) {
              e.preventDefault();
              first.focus();
            }
          }
        }}
      >
        <header className="cl-dialog-head">
          <h2 id={titleId} className="cl-dialog-title">
            {title}
          </h2>
          <button type="button" className="icon-button" aria-label="Close" title="Close" data-dialog-close onClick={onClose}>
            <CloseIcon size={14} />
          </button>
        </header>
        <div className="cl-dialog-body">{children}</div>
        <footer className="cl-dialog-foot">{footer}</footer>
      </div>
    </div>,
    document.body,
  );
}

/** Every VM of the cluster that CAPX created, by name (for delete consequences). */
export function clusterVms(detail: ClusterDetail): ClusterNode[] {
  return detail.pools.flatMap((p) => p.nodes).filter((n) => n.vmUuid !== null);
}

export function VmList({ nodes, testId }: { nodes: ClusterNode[]; testId?: string }) {
  return (
    <ul className="cl-vm-list" data-testid={testId}>
      {nodes.map((n) => (
        <li key={n.uid} data-testid="vm-left" className="selectable">
          <span className="mono">{n.name}</span>
          <span className="muted mono">
            {" "}
            {n.vmUuid}
            {n.ip ? ` · ${n.ip}` : ""}
          </span>
        </li>
      ))}
    </ul>
  );
}
