import type { EdgeKind, NodeCounts, NodeKind, NodeStatus, TopologyEdge, TopologyGraph, TopologyNode } from "../../lib/bindings";

/** What a node is, as the canvas and inspector name it. */
export const KIND_LABEL: Record<NodeKind, string> = {
  palette: "Palette",
  project: "Project",
  pcg: "Private Cloud Gateway",
  prism_central: "Prism Central",
  prism_element: "Prism Element",
  cluster: "Kubernetes cluster",
  pool: "Node pool",
  vm_group: "Other VMs",
  vm: "VM",
  subnet: "Subnet",
  image: "Image",
};

/** Row titles in the inspector's "Related" list (also the test id slugs). */
export const RELATED_TITLE: Record<NodeKind, string> = {
  palette: "Palette",
  project: "Project",
  pcg: "Private Cloud Gateway",
  prism_central: "Prism Central",
  prism_element: "Prism Element",
  cluster: "Cluster",
  pool: "Node pool",
  vm_group: "VM group",
  vm: "VM",
  subnet: "Subnet",
  image: "Image",
};

/** Top of the architecture first: the order related rows are listed in. */
const KIND_ORDER: readonly NodeKind[] = ["palette", "project", "pcg", "prism_central", "prism_element", "cluster", "pool", "vm_group", "vm", "subnet", "image"];

export const STATUS_LABEL: Record<NodeStatus, string> = {
  ok: "Healthy",
  warn: "Warning",
  error: "Error",
  pending: "Pending",
  unknown: "Unknown",
};

const ID_PREFIXES: ReadonlyArray<[string, NodeKind]> = [
  ["pe:", "prism_element"],
  ["pc:", "prism_central"],
  ["vm:", "vm"],
  ["cluster:", "cluster"],
  ["pool:", "pool"],
  ["subnet:", "subnet"],
  ["image:", "image"],
  ["pcg:", "pcg"],
  ["vmgroup:", "vm_group"],
  ["project:", "project"],
];

/** The kind a topology node id stands for (`pe:<uuid>` → Prism Element), or null for any other value. */
export function kindOfNodeId(value: unknown): NodeKind | null {
  if (typeof value !== "string") return null;
  for (const [prefix, kind] of ID_PREFIXES) {
    if (value.startsWith(prefix) && value.length > prefix.length && !/\s/.test(value)) return kind;
  }
  return null;
}

/** The part of a node id after its prefix (the uuid or name), used to search for it. */
export function nodeIdKey(id: string): string {
  const colon = id.indexOf(":");
  return colon >= 0 ? id.slice(colon + 1) : id;
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

export function formatCount(n: number): string {
  return n.toLocaleString("en");
}

export function vmCountLabel(n: number): string {
  return `${formatCount(n)} ${n === 1 ? "VM" : "VMs"}`;
}

/** "1,200 on · 34 off" (plus VMs in any other power state). */
export function powerLabel(counts: NodeCounts): string {
  const other = counts.vms - counts.poweredOn - counts.poweredOff;
  const parts = [`${formatCount(counts.poweredOn)} on`, `${formatCount(counts.poweredOff)} off`];
  if (other > 0) parts.push(`${formatCount(other)} other`);
  return parts.join(" · ");
}

export interface GraphIndex {
  graph: TopologyGraph;
  nodes: Map<string, TopologyNode>;
  /** Children by parent id, in the order the backend sent them. */
  children: Map<string, TopologyNode[]>;
  /** Nodes without a parent in this graph. */
  roots: TopologyNode[];
  outgoing: Map<string, TopologyEdge[]>;
  incoming: Map<string, TopologyEdge[]>;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function indexGraph(graph: TopologyGraph): GraphIndex {
  const nodes = new Map<string, TopologyNode>();
  for (const node of graph.nodes) if (!nodes.has(node.id)) nodes.set(node.id, node);
  const children = new Map<string, TopologyNode[]>();
  const roots: TopologyNode[] = [];
  for (const node of nodes.values()) {
    // A parent missing from the graph (or pointing at itself) makes the node a root.
    if (node.parent && node.parent !== node.id && nodes.has(node.parent)) push(children, node.parent, node);
    else roots.push(node);
  }
  const outgoing = new Map<string, TopologyEdge[]>();
  const incoming = new Map<string, TopologyEdge[]>();
  for (const edge of graph.edges) {
    if (edge.kind === "contains") continue;
    push(outgoing, edge.from, edge);
    push(incoming, edge.to, edge);
  }
  return { graph, nodes, children, roots, outgoing, incoming };
}

/** The enclosing nodes, nearest first. */
export function ancestors(index: GraphIndex, id: string): TopologyNode[] {
  const out: TopologyNode[] = [];
  const seen = new Set<string>([id]);
  let parent = index.nodes.get(id)?.parent ?? null;
  while (parent && !seen.has(parent)) {
    const node = index.nodes.get(parent);
    if (!node) break;
    out.push(node);
    seen.add(parent);
    parent = node.parent;
  }
  return out;
}

export interface RelatedItem {
  id: string;
  label: string;
  /** How it relates, when the row title alone does not say ("runs on", "holds the VIP"). */
  role: string | null;
  /** False when the node is inside a collapsed group: selecting it expands that group first. */
  inGraph: boolean;
}

export interface RelatedGroup {
  kind: NodeKind;
  title: string;
  slug: string;
  items: RelatedItem[];
  /** Items left out to keep the list short. */
  more: number;
}

const EDGE_ROLE: Record<Exclude<EdgeKind, "contains">, { out: string; in: string }> = {
  manages: { out: "manages", in: "managed by" },
  deploys: { out: "deploys", in: "deployed by" },
  runs_on: { out: "runs on", in: "runs here" },
  boots_from: { out: "boots from", in: "boots from this" },
  attached: { out: "attached", in: "attached" },
};

/** Detail keys whose value is another node, and how that node relates. */
export const DETAIL_ROLE: Record<string, string | null> = {
  pe: null,
  primaryPe: "primary",
  vipHolderVm: "holds the VIP",
  hostVm: "host VM",
  hostCluster: "host cluster",
};

const MAX_RELATED_PER_KIND = 12;

/**
 * Everything a node is connected to, grouped by what those nodes are: its own detail links
 * (a VM's `pe`), the enclosing chain (pool, cluster), cross-links in both directions (a VM's
 * subnets) and, for containers, what they hold (VMs excepted: the canvas shows those).
 */
export function relatedObjects(index: GraphIndex, id: string): RelatedGroup[] {
  const node = index.nodes.get(id);
  if (!node) return [];
  const found = new Map<string, { kind: NodeKind; item: RelatedItem }>();
  const add = (otherId: string, role: string | null) => {
    if (otherId === id || found.has(otherId)) return;
    const other = index.nodes.get(otherId);
    const kind = other?.kind ?? kindOfNodeId(otherId);
    if (!kind) return;
    const label = other?.kind === "vm_group" && other.counts ? vmCountLabel(other.counts.vms) : (other?.label ?? nodeIdKey(otherId));
    found.set(otherId, { kind, item: { id: otherId, label, role, inGraph: other !== undefined } });
  };

  // Explicit links first: a VM's own Prism Element beats the one its cluster is drawn in.
  const explicitKinds = new Set<NodeKind>();
  for (const [key, value] of Object.entries(node.detail)) {
    const kind = kindOfNodeId(value);
    if (kind && key in DETAIL_ROLE) {
      explicitKinds.add(kind);
      add(value as string, DETAIL_ROLE[key]);
    }
  }
  for (const ancestor of ancestors(index, id)) {
    if (!explicitKinds.has(ancestor.kind)) add(ancestor.id, null);
  }
  for (const edge of index.outgoing.get(id) ?? []) {
    if (edge.kind !== "contains") add(edge.to, edge.count !== null ? vmCountLabel(edge.count) : EDGE_ROLE[edge.kind].out);
  }
  for (const edge of index.incoming.get(id) ?? []) {
    if (edge.kind !== "contains") add(edge.from, edge.count !== null ? vmCountLabel(edge.count) : EDGE_ROLE[edge.kind].in);
  }
  for (const child of index.children.get(id) ?? []) {
    if (child.kind !== "vm") add(child.id, null);
  }

  const groups = new Map<NodeKind, RelatedItem[]>();
  for (const { kind, item } of found.values()) push(groups, kind, item);
  return KIND_ORDER.filter((kind) => groups.has(kind)).map((kind) => {
    const items = groups.get(kind)!;
    return {
      kind,
      title: RELATED_TITLE[kind],
      slug: slug(RELATED_TITLE[kind]),
      items: items.slice(0, MAX_RELATED_PER_KIND),
      more: Math.max(0, items.length - MAX_RELATED_PER_KIND),
    };
  });
}
