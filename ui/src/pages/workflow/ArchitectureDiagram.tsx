import type { ReactNode } from "react";
import type { DiagramBox, DiagramPart, PartState, WorkflowStepId } from "../../lib/bindings";

const STATE_WORD: Record<PartState, string> = { ok: "OK", pending: "Pending", error: "Error", unknown: "Unknown", absent: "Not created" };

const DEFAULT_LABEL: Record<DiagramPart, string> = {
  palette: "Palette",
  pcg_host_cluster: "PCG host cluster",
  pcg: "Private Cloud Gateway",
  prism_central: "Prism Central",
  prism_element: "Prism Element",
  workload_cluster: "Workload cluster",
  kube_vip: "kube-vip",
};

function Box({ part, boxes, selected, children, container }: { part: DiagramPart; boxes: DiagramBox[]; selected: WorkflowStepId | null; children?: ReactNode; container?: boolean }) {
  const box = boxes.find((b) => b.part === part);
  const state: PartState = box?.state ?? "unknown";
  const highlighted = selected !== null && (box?.steps.includes(selected) ?? false);
  return (
    <div
      className={container ? "wf-box wf-box-container" : "wf-box"}
      data-testid={`diagram-box-${part}`}
      data-state={state}
      data-highlighted={highlighted ? "true" : "false"}
      title={box?.detail.join(" · ")}
    >
      <div className="wf-box-head">
        <span className="wf-box-label">{box?.label ?? DEFAULT_LABEL[part]}</span>
        <span className="wf-box-state" data-state={state}>
          {STATE_WORD[state]}
        </span>
      </div>
      {box && box.detail.length > 0 && (
        <ul className="wf-box-detail">
          {box.detail.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
      {children}
    </div>
  );
}

const Arrow = () => (
  <span className="wf-arrow" aria-hidden="true">
    →
  </span>
);

/**
 * Where each step acts: Palette, the PCG inside its host cluster, Prism Central, Prism Element
 * and the workload cluster behind its kube-vip address. Boxes are coloured by live state; the
 * parts the selected step acts on are highlighted.
 */
export function ArchitectureDiagram({ boxes, selected }: { boxes: DiagramBox[]; selected: WorkflowStepId | null }) {
  const summary = boxes.map((b) => `${b.label}: ${STATE_WORD[b.state]}`).join(", ");
  return (
    <figure className="wf-diagram card" data-testid="workflow-diagram" aria-label={`Architecture. ${summary}`}>
      <div className="wf-diagram-top">
        <Box part="palette" boxes={boxes} selected={selected} />
        <span className="wf-down" aria-hidden="true">
          ↓ reaches your network only through the PCG
        </span>
      </div>
      <div className="wf-zone">
        <div className="wf-zone-label">Your network · Nutanix</div>
        <div className="wf-diagram-row">
          <Box part="pcg_host_cluster" boxes={boxes} selected={selected} container>
            <Box part="pcg" boxes={boxes} selected={selected} />
          </Box>
          <Arrow />
          <Box part="prism_central" boxes={boxes} selected={selected} />
          <Arrow />
          <Box part="prism_element" boxes={boxes} selected={selected} />
          <Arrow />
          <Box part="workload_cluster" boxes={boxes} selected={selected} container>
            <Box part="kube_vip" boxes={boxes} selected={selected} />
          </Box>
        </div>
      </div>
    </figure>
  );
}
