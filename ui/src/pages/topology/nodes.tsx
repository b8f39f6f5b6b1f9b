import { Handle, type NodeProps, type NodeTypes, Position } from "@xyflow/react";
import { createContext, type MouseEvent, memo, type ReactNode, useContext } from "react";
import type { TopologyNode } from "../../lib/bindings";
import { ChevronIcon } from "../../components/Icons";
import { KIND_LABEL, STATUS_LABEL, formatCount, powerLabel, vmCountLabel } from "./graph";
import type { TopoFlowNode } from "./layout";

export interface TopologyActions {
  /** Expands or collapses a group (VM groups through the backend, others on the canvas). */
  toggle(node: TopologyNode): void;
  /** Shows another page of a grid's VMs. */
  showPage(gridId: string, page: number): void;
}

export const TopologyActionsContext = createContext<TopologyActions>({ toggle: () => {}, showPage: () => {} });

function text(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number") return String(value);
  return null;
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The one-line summary under a node's name. */
export function nodeSummary(node: TopologyNode): string | null {
  const d = node.detail;
  switch (node.kind) {
    case "subnet": {
      const vlan = d.vlanId;
      const parts = [typeof vlan === "number" ? `VLAN ${vlan}` : text(d.type), text(d.cidr)].filter(Boolean);
      return parts.join(" · ") || null;
    }
    case "image":
      return [text(d.type), text(d.state)].filter(Boolean).join(" · ") || null;
    case "pcg":
      return [text(d.ipAddress), text(d.state)].filter(Boolean).join(" · ") || null;
    case "prism_element":
      return text(d.externalIp) ?? text(d.aosVersion);
    case "prism_central":
      return text(d.endpoint);
    case "cluster":
      return [text(d.kubernetesVersion), text(d.paletteState)].filter(Boolean).join(" · ") || null;
    case "vm": {
      const ips = list(d.ips);
      return ips[0] ?? text(d.powerState);
    }
    default:
      return null;
  }
}

function StatusDot({ node }: { node: TopologyNode }) {
  return <span className="topo-status-dot" data-status={node.status} title={STATUS_LABEL[node.status]} aria-hidden="true" />;
}

function Handles() {
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} className="topo-handle" />
      <Handle type="source" position={Position.Right} isConnectable={false} className="topo-handle" />
    </>
  );
}

function ToggleButton({ node, toggle }: { node: TopologyNode; toggle: "expand" | "collapse" }) {
  const { toggle: onToggle } = useContext(TopologyActionsContext);
  const isGroup = node.kind === "vm_group";
  const label = isGroup ? (toggle === "expand" ? "Show VMs" : "Hide VMs") : toggle === "expand" ? "Expand" : "Collapse";
  const onClick = (e: MouseEvent) => {
    // The node behind must not also take the click as a selection.
    e.stopPropagation();
    onToggle(node);
  };
  return (
    <button
      type="button"
      className={isGroup ? "topo-toggle topo-toggle-text nodrag nopan" : "topo-toggle nodrag nopan"}
      data-testid={`topology-group-toggle-${node.id}`}
      aria-expanded={toggle === "collapse"}
      aria-label={`${label} ${node.label}`}
      title={label}
      onClick={onClick}
    >
      {isGroup ? label : <ChevronIcon size={13} className={toggle === "expand" ? "topo-chevron-closed" : "topo-chevron-open"} />}
    </button>
  );
}

function Frame({ node, selected, className, children }: { node: TopologyNode; selected: boolean; className: string; children: ReactNode }) {
  return (
    <div className={`topo-node ${className}`} data-testid={`topology-node-${node.id}`} data-kind={node.kind} data-status={node.status} data-selected={selected || undefined}>
      {children}
    </div>
  );
}

function Counts({ node }: { node: TopologyNode }) {
  if (!node.counts) return null;
  return (
    <span className="topo-counts">
      <strong>{vmCountLabel(node.counts.vms)}</strong>
      {node.counts.vms > 0 && <span className="muted"> · {powerLabel(node.counts)}</span>}
    </span>
  );
}

function VipLine({ node }: { node: TopologyNode }) {
  const vip = text(node.detail.vip);
  if (node.kind !== "cluster") return null;
  return (
    <span className="topo-vip" title="kube-vip control-plane endpoint">
      kube-vip <span className="mono">{vip ?? "not found yet"}</span>
    </span>
  );
}

function CardNode({ data, selected }: NodeProps<TopoFlowNode>) {
  const node = data.topo;
  const summary = nodeSummary(node);
  return (
    <Frame node={node} selected={selected} className="topo-card">
      <Handles />
      <div className="topo-node-head">
        <StatusDot node={node} />
        <span className="topo-kind">{KIND_LABEL[node.kind]}</span>
        {data.toggle && <ToggleButton node={node} toggle={data.toggle} />}
      </div>
      <div className="topo-node-label" title={node.label}>
        {node.kind === "vm_group" && node.counts ? vmCountLabel(node.counts.vms) : node.label}
      </div>
      <VipLine node={node} />
      {node.kind === "vm_group" && node.counts ? (
        <div className="topo-node-meta">{powerLabel(node.counts)}</div>
      ) : node.counts && node.kind !== "vm" ? (
        <div className="topo-node-meta">
          <Counts node={node} />
        </div>
      ) : (
        summary && (
          <div className="topo-node-meta mono" title={summary}>
            {summary}
          </div>
        )
      )}
      {data.hidden > 0 && <div className="topo-hidden">{formatCount(data.hidden)} inside</div>}
    </Frame>
  );
}

function ContainerNode({ data, selected }: NodeProps<TopoFlowNode>) {
  const node = data.topo;
  const summary = nodeSummary(node);
  return (
    <Frame node={node} selected={selected} className={`topo-container topo-container-${node.kind}`}>
      <Handles />
      <div className="topo-container-head">
        <StatusDot node={node} />
        <span className="topo-kind">{KIND_LABEL[node.kind]}</span>
        <span className="topo-node-label" title={node.label}>
          {node.label}
        </span>
        {summary && node.kind !== "cluster" && <span className="topo-node-meta mono">{summary}</span>}
        <span className="topo-head-spacer" />
        <Counts node={node} />
        {data.toggle && <ToggleButton node={node} toggle={data.toggle} />}
      </div>
      {node.kind === "cluster" && (
        <div className="topo-container-sub">
          <VipLine node={node} />
          {summary && <span className="muted">{summary}</span>}
        </div>
      )}
    </Frame>
  );
}

function GridPager({ id, paging }: { id: string; paging: NonNullable<TopoFlowNode["data"]["paging"]> }) {
  const { showPage } = useContext(TopologyActionsContext);
  const go = (page: number) => (e: MouseEvent) => {
    e.stopPropagation();
    showPage(id, page);
  };
  return (
    <span className="topo-pager nodrag nopan" data-testid={`topology-grid-pager-${id}`} title={`Showing VMs ${formatCount(paging.first)} to ${formatCount(paging.last)} of ${formatCount(paging.total)}`}>
      <button type="button" className="topo-toggle" disabled={paging.page === 0} onClick={go(paging.page - 1)} aria-label="Previous VMs">
        <ChevronIcon size={13} className="topo-chevron-back" />
      </button>
      <span className="mono">
        {formatCount(paging.first)}–{formatCount(paging.last)}
      </span>
      <button type="button" className="topo-toggle" disabled={paging.page >= paging.pageCount - 1} onClick={go(paging.page + 1)} aria-label="Next VMs">
        <ChevronIcon size={13} />
      </button>
    </span>
  );
}

function GridNode({ data, selected }: NodeProps<TopoFlowNode>) {
  const node = data.topo;
  const controlPlane = node.kind === "pool" && node.detail.controlPlane === true;
  return (
    <Frame node={node} selected={selected} className={`topo-grid topo-grid-${node.kind}`}>
      <Handles />
      <div className="topo-container-head">
        <StatusDot node={node} />
        <span className="topo-kind">{node.kind === "pool" ? (controlPlane ? "Control plane" : "Node pool") : KIND_LABEL[node.kind]}</span>
        {node.kind === "pool" && (
          <span className="topo-node-label" title={node.label}>
            {node.label}
          </span>
        )}
        <span className="topo-head-spacer" />
        <Counts node={node} />
        {data.paging && <GridPager id={node.id} paging={data.paging} />}
        {data.toggle && <ToggleButton node={node} toggle={data.toggle} />}
      </div>
    </Frame>
  );
}

function VmNode({ data, selected }: NodeProps<TopoFlowNode>) {
  const node = data.topo;
  const holdsVip = text(node.detail.holdsVip);
  const ip = list(node.detail.ips)[0];
  return (
    <Frame node={node} selected={selected} className="topo-vm">
      <Handles />
      <StatusDot node={node} />
      <span className="topo-vm-text">
        <span className="topo-vm-name" title={node.label}>
          {node.label}
        </span>
        <span className="topo-vm-ip mono">{ip ?? text(node.detail.powerState) ?? ""}</span>
      </span>
      {holdsVip && (
        <span className="topo-vip-badge" title={`Holds the kube-vip address ${holdsVip}`}>
          VIP
        </span>
      )}
    </Frame>
  );
}

export const NODE_TYPES: NodeTypes = {
  card: memo(CardNode),
  container: memo(ContainerNode),
  grid: memo(GridNode),
  vm: memo(VmNode),
};
