/**
 * Graph → ELK input → xyflow nodes and edges.
 *
 * Containment is drawn as nesting: Palette ⊃ project ⊃ PCG, Prism Central ⊃ Prism Element ⊃
 * Kubernetes cluster ⊃ pool ⊃ VMs. ELK (layered, one layout per container) places the
 * containers and cards; VMs never go to ELK: a pool or an expanded VM group is one
 * fixed-size box to ELK and its VMs are tiled in a grid here, so an expanded group of
 * thousands of VMs costs ELK nothing. A grid shows at most `GRID.pageSize` VMs at a time
 * (paged): xyflow's per-update work grows with every node it holds, drawn or not.
 */
import { type Edge, MarkerType, type Node } from "@xyflow/react";
import type { ElkExtendedEdge, ElkNode, LayoutOptions } from "elkjs/lib/elk-api";
import type { EdgeKind, TopologyGraph, TopologyNode } from "../../lib/bindings";
import { type GraphIndex, indexGraph, vmCountLabel } from "./graph";

/** How a node is drawn: a box holding others, a card, a box of VM tiles, or one VM tile. */
export type Role = "container" | "card" | "grid" | "vm";

export const TILE = { width: 176, height: 40, gap: 6 } as const;
export const GRID = { header: 46, padding: 10, maxColumns: 60, pageSize: 500 } as const;
const CARD_SIZE: Partial<Record<TopologyNode["kind"], { width: number; height: number }>> = {
  vm_group: { width: 236, height: 96 },
  cluster: { width: 252, height: 96 },
  prism_element: { width: 236, height: 84 },
  prism_central: { width: 236, height: 84 },
  pool: { width: 220, height: 84 },
  vm: { width: TILE.width, height: TILE.height },
};
const DEFAULT_CARD = { width: 224, height: 72 };
const CONTAINER_HEADER: Partial<Record<TopologyNode["kind"], number>> = { cluster: 66 };
const DEFAULT_CONTAINER_HEADER = 50;
const CONTAINER_PADDING = 16;

/** Cross-links that shape the layout (runs_on would pull Prism Elements into a chain). */
const LAYOUT_EDGE_KINDS: ReadonlySet<EdgeKind> = new Set(["manages", "deploys", "boots_from", "attached"]);

export interface PlanNode {
  id: string;
  role: Role;
  node: TopologyNode;
  /** The drawn node this one sits in (null at the top). */
  parent: string | null;
  /** VMs tiled inside (grids only): the current page, in backend order. */
  tiles: string[];
  columns: number;
  /** Grids only: which page of `GRID.pageSize` VMs is shown, of how many, out of how many VMs. */
  page: number;
  pageCount: number;
  total: number;
  /** Nodes inside that are not drawn because this one is collapsed on the canvas. */
  hidden: number;
}

export interface LayoutPlan {
  index: GraphIndex;
  elk: ElkNode;
  /** Every drawn node (containers, cards, grids and tiles) by id. */
  drawn: Map<string, PlanNode>;
  /** For every graph node, the drawn node that shows it (itself or a collapsed ancestor). */
  shownBy: Map<string, string>;
  /** The canvas-collapsed containers this plan was built with. */
  collapsed: ReadonlySet<string>;
}

export interface PlanOptions {
  /** Containers drawn as cards, their insides hidden. */
  collapsed?: ReadonlySet<string>;
  /** The page shown per grid (default 0). */
  pages?: Readonly<Record<string, number>>;
}

/** The page of its grid a VM is on (by its place among its parent's children). */
export function pageOf(index: GraphIndex, vmId: string): { grid: string; page: number } | null {
  const parent = index.nodes.get(vmId)?.parent;
  if (!parent) return null;
  const at = (index.children.get(parent) ?? []).findIndex((c) => c.id === vmId);
  return at < 0 ? null : { grid: parent, page: Math.floor(at / GRID.pageSize) };
}

export const ROOT_ID = "__root__";

const BASE_OPTIONS: LayoutOptions = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.edgeRouting": "POLYLINE",
  "elk.spacing.nodeNode": "24",
  "elk.spacing.componentComponent": "32",
  "elk.layered.spacing.nodeNodeBetweenLayers": "56",
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
  "elk.aspectRatio": "1.8",
};

function containerOptions(kind: TopologyNode["kind"]): LayoutOptions {
  const top = CONTAINER_HEADER[kind] ?? DEFAULT_CONTAINER_HEADER;
  const p = CONTAINER_PADDING;
  return { ...BASE_OPTIONS, "elk.padding": `[top=${top},left=${p},bottom=${p},right=${p}]` };
}

const ROOT_OPTIONS: LayoutOptions = {
  ...BASE_OPTIONS,
  "elk.spacing.nodeNode": "48",
  "elk.spacing.componentComponent": "64",
  "elk.layered.spacing.nodeNodeBetweenLayers": "110",
  "elk.padding": "[top=0,left=0,bottom=0,right=0]",
};

/** Columns of the VM grid: a row for a handful, roughly 1.5:1 in pixels beyond that. */
export function gridColumns(count: number): number {
  if (count <= 4) return Math.max(1, count);
  return Math.min(GRID.maxColumns, Math.max(4, Math.ceil(Math.sqrt(count * 0.4))));
}

export function gridSize(count: number, paged = false): { width: number; height: number; columns: number } {
  const columns = gridColumns(count);
  const rows = Math.max(1, Math.ceil(count / columns));
  // A paged grid's header also holds the pager.
  const width = Math.max(paged ? 520 : DEFAULT_CARD.width, GRID.padding * 2 + columns * TILE.width + (columns - 1) * TILE.gap);
  const height = GRID.header + rows * TILE.height + (rows - 1) * TILE.gap + GRID.padding;
  return { width, height, columns };
}

/** Where tile `i` of a grid sits, relative to the grid box. */
export function tilePosition(i: number, columns: number): { x: number; y: number } {
  const col = i % columns;
  const row = Math.floor(i / columns);
  return { x: GRID.padding + col * (TILE.width + TILE.gap), y: GRID.header + row * (TILE.height + TILE.gap) };
}

function leaf(node: TopologyNode, parent: string | null, role: Role): PlanNode {
  return { id: node.id, role, node, parent, tiles: [], columns: 0, hidden: 0, page: 0, pageCount: 1, total: 0 };
}

function countDescendants(index: GraphIndex, id: string): number {
  let total = 0;
  const stack = [...(index.children.get(id) ?? [])];
  while (stack.length > 0) {
    const node = stack.pop()!;
    total += 1;
    stack.push(...(index.children.get(node.id) ?? []));
  }
  return total;
}

/**
 * The ELK input for a graph, with `collapsed` containers drawn as cards. Pure: the same
 * graph and collapse set give the same plan.
 */
export function buildLayoutPlan(graph: TopologyGraph, options: PlanOptions = {}): LayoutPlan {
  const collapsed = options.collapsed ?? new Set<string>();
  const index = indexGraph(graph);
  const drawn = new Map<string, PlanNode>();
  const shownBy = new Map<string, string>();
  const elkById = new Map<string, ElkNode>();

  const seen = new Set<string>();
  const hideUnder = (id: string, owner: string) => {
    const stack = [...(index.children.get(id) ?? [])];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      shownBy.set(node.id, owner);
      stack.push(...(index.children.get(node.id) ?? []));
    }
  };

  const build = (node: TopologyNode, parent: string | null): ElkNode => {
    seen.add(node.id);
    shownBy.set(node.id, node.id);
    const children = (index.children.get(node.id) ?? []).filter((c) => !seen.has(c.id));
    let elk: ElkNode;
    if (children.length === 0 || collapsed.has(node.id)) {
      const size = CARD_SIZE[node.kind] ?? DEFAULT_CARD;
      drawn.set(node.id, { ...leaf(node, parent, "card"), hidden: countDescendants(index, node.id) });
      hideUnder(node.id, node.id);
      elk = { id: node.id, width: size.width, height: size.height };
    } else if (children.every((c) => c.kind === "vm")) {
      const total = children.length;
      const pageCount = Math.ceil(total / GRID.pageSize);
      const page = Math.min(Math.max(0, Math.floor(options.pages?.[node.id] ?? 0)), pageCount - 1);
      const shown = children.slice(page * GRID.pageSize, (page + 1) * GRID.pageSize);
      const { width, height, columns } = gridSize(shown.length, pageCount > 1);
      drawn.set(node.id, { ...leaf(node, parent, "grid"), tiles: shown.map((c) => c.id), columns, page, pageCount, total });
      for (const vm of children) {
        seen.add(vm.id);
        shownBy.set(vm.id, node.id);
      }
      for (const vm of shown) {
        shownBy.set(vm.id, vm.id);
        drawn.set(vm.id, leaf(vm, node.id, "vm"));
      }
      elk = { id: node.id, width, height };
    } else {
      drawn.set(node.id, leaf(node, parent, "container"));
      elk = { id: node.id, layoutOptions: containerOptions(node.kind), children: children.map((c) => build(c, node.id)), edges: [] };
    }
    elkById.set(node.id, elk);
    return elk;
  };

  const root: ElkNode = { id: ROOT_ID, layoutOptions: ROOT_OPTIONS, children: [], edges: [] };
  for (const node of index.roots) if (!seen.has(node.id)) root.children!.push(build(node, null));
  // Nodes in a parent cycle were never reached from a root: draw them at the top.
  for (const node of index.nodes.values()) if (!seen.has(node.id)) root.children!.push(build(node, null));
  elkById.set(ROOT_ID, root);

  // A layout edge belongs to the lowest container holding both ends, between the children
  // of that container the ends sit in (edges inside one child are that child's business).
  const layoutOwner = (id: string): string | null => {
    const shown = shownBy.get(id);
    if (!shown) return null;
    const planNode = drawn.get(shown);
    return planNode?.role === "vm" ? planNode.parent : shown;
  };
  const chain = (id: string): string[] => {
    const out = [id];
    let parent = drawn.get(id)?.parent ?? null;
    while (parent) {
      out.push(parent);
      parent = drawn.get(parent)?.parent ?? null;
    }
    out.push(ROOT_ID);
    return out;
  };
  const added = new Set<string>();
  for (const edge of graph.edges) {
    if (!LAYOUT_EDGE_KINDS.has(edge.kind)) continue;
    const from = layoutOwner(edge.from);
    const to = layoutOwner(edge.to);
    if (!from || !to || from === to) continue;
    const fromChain = chain(from);
    const toChain = chain(to);
    const toSet = new Set(toChain);
    const lcaAt = fromChain.findIndex((id) => toSet.has(id));
    const lca = fromChain[lcaAt];
    if (lca === from || lca === to) continue;
    const source = fromChain[lcaAt - 1];
    const target = toChain[toChain.indexOf(lca) - 1];
    const key = `${source}->${target}`;
    if (source === target || added.has(key)) continue;
    added.add(key);
    const container = elkById.get(lca)!;
    (container.edges ??= []).push({ id: `e${added.size}`, sources: [source], targets: [target] } satisfies ElkExtendedEdge);
  }

  return { index, elk: root, drawn, shownBy, collapsed };
}

function paddingOf(options: LayoutOptions | undefined): { top: number; left: number; bottom: number; right: number } {
  const raw = options?.["elk.padding"] ?? "";
  const read = (side: string) => Number(new RegExp(`${side}=(\\d+(?:\\.\\d+)?)`).exec(raw)?.[1] ?? 0);
  return { top: read("top"), left: read("left"), bottom: read("bottom"), right: read("right") };
}

/**
 * A plain row-packing layout of the same ELK input: used when no worker is available (tests,
 * old web views) or ELK fails, so the map still draws. Ignores edges. Does not mutate `graph`.
 */
export function packLayout(graph: ElkNode): ElkNode {
  const gap = 32;
  const children = (graph.children ?? []).map(packLayout);
  if (children.length === 0) return { ...graph, x: graph.x ?? 0, y: graph.y ?? 0, width: graph.width ?? 0, height: graph.height ?? 0 };
  const pad = paddingOf(graph.layoutOptions);
  const area = children.reduce((sum, c) => sum + (c.width! + gap) * (c.height! + gap), 0);
  const rowWidth = Math.max(Math.sqrt(area * 1.8), ...children.map((c) => c.width!));
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let width = 0;
  for (const child of children) {
    if (x > 0 && x + child.width! > rowWidth) {
      x = 0;
      y += rowHeight + gap;
      rowHeight = 0;
    }
    child.x = pad.left + x;
    child.y = pad.top + y;
    x += child.width! + gap;
    rowHeight = Math.max(rowHeight, child.height!);
    width = Math.max(width, x - gap);
  }
  return { ...graph, x: graph.x ?? 0, y: graph.y ?? 0, children, width: pad.left + width + pad.right, height: pad.top + y + rowHeight + pad.bottom };
}

export interface TopoNodeData extends Record<string, unknown> {
  topo: TopologyNode;
  role: Role;
  hidden: number;
  /** Grids only: the page of VMs shown. */
  paging: { page: number; pageCount: number; total: number; first: number; last: number } | null;
  /** Whether the canvas-collapse toggle applies, and which way it points. */
  toggle: "expand" | "collapse" | null;
}

export type TopoFlowNode = Node<TopoNodeData, Role>;

export interface TopoEdgeData extends Record<string, unknown> {
  kind: EdgeKind;
  count: number;
}

export type TopoFlowEdge = Edge<TopoEdgeData>;

function toggleFor(plan: LayoutPlan, planNode: PlanNode): TopoNodeData["toggle"] {
  const { node, role } = planNode;
  const { collapsed } = plan;
  if (node.kind === "vm_group") return node.collapsed || collapsed.has(node.id) ? "expand" : "collapse";
  if (role === "container" || role === "grid") return "collapse";
  if (role === "card" && collapsed.has(node.id) && (plan.index.children.get(node.id)?.length ?? 0) > 0) return "expand";
  return null;
}

/** xyflow nodes from a laid-out plan: parents before children, positions relative to the parent. */
export function toFlowNodes(plan: LayoutPlan, laidOut: ElkNode): TopoFlowNode[] {
  const out: TopoFlowNode[] = [];
  const visit = (elk: ElkNode, parentId: string | undefined) => {
    const planNode = plan.drawn.get(elk.id);
    if (!planNode) return;
    const width = elk.width ?? 0;
    const height = elk.height ?? 0;
    out.push({
      id: elk.id,
      type: planNode.role,
      position: { x: elk.x ?? 0, y: elk.y ?? 0 },
      parentId,
      width,
      height,
      style: { width, height },
      data: {
        topo: planNode.node,
        role: planNode.role,
        hidden: planNode.hidden,
        toggle: toggleFor(plan, planNode),
        paging:
          planNode.pageCount > 1
            ? { page: planNode.page, pageCount: planNode.pageCount, total: planNode.total, first: planNode.page * GRID.pageSize + 1, last: planNode.page * GRID.pageSize + planNode.tiles.length }
            : null,
      },
      draggable: false,
      connectable: false,
      ariaLabel: `${planNode.node.label} (${planNode.node.kind.replace("_", " ")}, ${planNode.node.status})`,
    });
    if (planNode.role === "grid") {
      planNode.tiles.forEach((tileId, i) => {
        const tile = plan.drawn.get(tileId)!;
        out.push({
          id: tileId,
          type: "vm",
          position: tilePosition(i, planNode.columns),
          parentId: elk.id,
          width: TILE.width,
          height: TILE.height,
          style: { width: TILE.width, height: TILE.height },
          data: { topo: tile.node, role: "vm", hidden: 0, toggle: null, paging: null },
          draggable: false,
          connectable: false,
          ariaLabel: `${tile.node.label} (VM, ${tile.node.status})`,
        });
      });
    }
    for (const child of elk.children ?? []) visit(child, elk.id);
  };
  for (const child of laidOut.children ?? []) visit(child, undefined);
  return out;
}

function isDrawnAncestor(plan: LayoutPlan, ancestor: string, id: string): boolean {
  let parent = plan.drawn.get(id)?.parent ?? null;
  while (parent) {
    if (parent === ancestor) return true;
    parent = plan.drawn.get(parent)?.parent ?? null;
  }
  return false;
}

/**
 * The cross-links as xyflow edges between drawn nodes. A VM's links are drawn from its grid
 * (summed into "n VMs") unless that VM is selected; links into a container the other end
 * sits in (a cluster running on its own PE) are left out, the nesting shows them.
 */
export function toFlowEdges(plan: LayoutPlan, selectedId: string | null): TopoFlowEdge[] {
  const merged = new Map<string, { source: string; target: string; kind: EdgeKind; count: number; active: boolean }>();
  const endpoint = (id: string): string | null => {
    const shown = plan.shownBy.get(id);
    if (!shown) return null;
    const drawnNode = plan.drawn.get(shown);
    return drawnNode?.role === "vm" && shown !== selectedId ? drawnNode.parent : shown;
  };
  for (const edge of plan.index.graph.edges) {
    if (edge.kind === "contains") continue;
    const source = endpoint(edge.from);
    const target = endpoint(edge.to);
    if (!source || !target || source === target) continue;
    if (isDrawnAncestor(plan, source, target) || isDrawnAncestor(plan, target, source)) continue;
    const key = `${edge.kind}:${source}->${target}`;
    const fromVm = plan.index.nodes.get(edge.from)?.kind === "vm";
    const add = edge.count ?? (fromVm ? 1 : 0);
    const active = selectedId !== null && (source === selectedId || target === selectedId || edge.from === selectedId || edge.to === selectedId);
    const existing = merged.get(key);
    if (existing) {
      existing.count += add;
      existing.active ||= active;
    } else {
      merged.set(key, { source, target, kind: edge.kind, count: add, active });
    }
  }
  return [...merged.entries()].map(([id, e]) => ({
    id,
    source: e.source,
    target: e.target,
    label: e.count > 0 ? vmCountLabel(e.count) : undefined,
    className: `topo-edge topo-edge-${e.kind}${e.active ? " is-active" : ""}`,
    animated: e.active,
    markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
    selectable: false,
    focusable: false,
    data: { kind: e.kind, count: e.count },
  }));
}
