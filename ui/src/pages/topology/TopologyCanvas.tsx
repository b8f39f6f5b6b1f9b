import { Background, BackgroundVariant, Controls, MiniMap, type MiniMapNodeProps, type NodeChange, type NodeMouseHandler, Panel, ReactFlow, useReactFlow, useStore } from "@xyflow/react";
import { useCallback, useEffect, useRef } from "react";
import type { NodeStatus } from "../../lib/bindings";
import { STATUS_LABEL } from "./graph";
import type { Role, TopoFlowEdge, TopoFlowNode } from "./layout";
import { NODE_TYPES } from "./nodes";

/** Beyond this many drawn nodes, only those in view are mounted. */
const VIRTUALIZE_ABOVE = 400;

const STATUSES: NodeStatus[] = ["ok", "warn", "error", "pending", "unknown"];

/** Minimap: containers and cards only; thousands of VM tiles would just be noise there. */
function MiniMapNode({ id, x, y, width, height, className }: MiniMapNodeProps) {
  if (id.startsWith("vm:")) return null;
  return <rect x={x} y={y} width={width} height={height} rx={6} className={className} />;
}

function minimapClass(node: TopoFlowNode): string {
  // Boxes stay neutral (a big grid would paint the map one colour); cards show their status.
  const status = node.type === "card" ? ` topo-minimap-status-${node.data.topo.status}` : "";
  return `topo-minimap-node topo-minimap-${node.type}${status}`;
}

/** Animated moves only when the system says motion is fine. */
function motionDuration(ms: number): number {
  return typeof window.matchMedia === "function" && window.matchMedia("(prefers-reduced-motion: no-preference)").matches ? ms : 0;
}

export interface FocusRequest {
  id: string;
  seq: number;
  /** How far out to zoom to fit it: far for a whole grid of VMs, not far for one VM. */
  minZoom: number;
  /** Wait until the node is drawn this way (a group revealed once its VMs are laid out). */
  role?: Role;
}

export function TopologyCanvas({ nodes, edges, onSelect, onClear, focus, fitSeq }: { nodes: TopoFlowNode[]; edges: TopoFlowEdge[]; onSelect: (id: string) => void; onClear: () => void; focus: FocusRequest | null; fitSeq: number }) {
  const flow = useReactFlow<TopoFlowNode, TopoFlowEdge>();
  const handledFocus = useRef(0);
  const handledFit = useRef(0);
  // A canvas without a size yet (hidden, or jsdom) cannot be fitted; wait until it has one.
  const sized = useStore((s) => s.width > 0 && s.height > 0);

  // Whole-map fit: on the first layout of an environment, not on refreshes (keeps the viewport).
  useEffect(() => {
    if (!sized || fitSeq === handledFit.current || nodes.length === 0) return;
    handledFit.current = fitSeq;
    void flow.fitView({ padding: 0.06, minZoom: 0.02, maxZoom: 1 });
  }, [sized, fitSeq, nodes, flow]);

  // Centre on a node once it is drawn (after a search expanded its group, that is a later layout).
  useEffect(() => {
    if (!sized || !focus || focus.seq === handledFocus.current) return;
    if (!nodes.some((n) => n.id === focus.id && (!focus.role || n.type === focus.role))) return;
    // A moment later: selecting also opens the inspector, which narrows the canvas first.
    const timer = setTimeout(() => {
      handledFocus.current = focus.seq;
      void flow.fitView({ nodes: [{ id: focus.id }], duration: motionDuration(350), minZoom: focus.minZoom, maxZoom: 1.1, padding: 0.4 });
    }, 60);
    return () => clearTimeout(timer);
  }, [sized, focus, nodes, flow]);

  const onNodeClick = useCallback<NodeMouseHandler<TopoFlowNode>>((_event, node) => onSelect(node.id), [onSelect]);

  // Keyboard selection (Enter on a focused node) arrives as a selection change.
  const onNodesChange = useCallback(
    (changes: NodeChange<TopoFlowNode>[]) => {
      for (const change of changes) {
        if (change.type === "select" && change.selected) onSelect(change.id);
      }
    },
    [onSelect],
  );

  return (
    <ReactFlow<TopoFlowNode, TopoFlowEdge>
      nodes={nodes}
      edges={edges}
      nodeTypes={NODE_TYPES}
      onNodeClick={onNodeClick}
      onNodesChange={onNodesChange}
      onPaneClick={onClear}
      nodesDraggable={false}
      nodesConnectable={false}
      edgesFocusable={false}
      deleteKeyCode={null}
      selectionKeyCode={null}
      multiSelectionKeyCode={null}
      onlyRenderVisibleElements={nodes.length > VIRTUALIZE_ABOVE}
      minZoom={0.02}
      maxZoom={2.5}
      proOptions={{ hideAttribution: true }}
      className="topology-flow"
    >
      <Background variant={BackgroundVariant.Dots} gap={22} size={1} />
      <Controls showInteractive={false} position="bottom-left" />
      <div data-testid="topology-minimap">
        <MiniMap<TopoFlowNode> pannable zoomable nodeComponent={MiniMapNode} nodeClassName={minimapClass} ariaLabel="Overview of the map" position="bottom-right" />
      </div>
      <Panel position="top-left" className="topo-legend" aria-label="Status colours">
        {STATUSES.map((s) => (
          <span key={s} className="topo-legend-item">
            <span className="topo-status-dot" data-status={s} aria-hidden="true" />
            {STATUS_LABEL[s]}
          </span>
        ))}
      </Panel>
    </ReactFlow>
  );
}
