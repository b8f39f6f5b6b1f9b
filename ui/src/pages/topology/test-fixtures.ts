/**
 * Test data: a small but complete estate, shaped like `capstan-inventory`'s topology graph.
 * Palette (tenant) → project → PCG; Prism Central → PE-A / PE-B; Kubernetes cluster
 * prod-apps on PE-A (one worker on PE-B) with a control-plane and a worker pool; PE-A's other
 * VMs in a large collapsed group; PE-B's three other VMs drawn inline.
 */
import type { Freshness, NodeCounts, SearchHit, TopologyEdge, TopologyGraph, TopologyNode, TopologyView } from "../../lib/bindings";

export const IDS = {
  palette: "palette",
  project: "project:proj-1",
  pcg: "pcg:pcg-uid-1",
  pc: "pc:pc-uuid-1",
  peA: "pe:pe-a-uuid",
  peB: "pe:pe-b-uuid",
  subnetA: "subnet:sub-a-uuid",
  subnetB: "subnet:sub-b-uuid",
  image: "image:img-uuid-1",
  cluster: "cluster:prod-apps",
  cpPool: "pool:prod-apps/control-plane",
  workerPool: "pool:prod-apps/workers",
  cp1: "vm:cp-1-uuid",
  worker1: "vm:w-1-uuid",
  worker2: "vm:w-2-uuid",
  groupA: "vmgroup:pe-a-uuid",
  groupB: "vmgroup:pe-b-uuid",
  legacy1: "vm:legacy-1-uuid",
  legacy2: "vm:legacy-2-uuid",
  legacy3: "vm:legacy-3-uuid",
  /** A VM inside PE-A's collapsed group: only in the graph once the group is expanded. */
  hidden: "vm:db-0042-uuid",
} as const;

/** Collapsed group size: what the counts say, not what is drawn. */
export const GROUP_A_COUNTS: NodeCounts = { vms: 1234, poweredOn: 1200, poweredOff: 34 };

function node(partial: Partial<TopologyNode> & Pick<TopologyNode, "id" | "kind" | "label">): TopologyNode {
  return { status: "ok", parent: null, detail: {}, counts: null, links: [], collapsed: false, ...partial };
}

function vm(id: string, label: string, parent: string, pe: string, ip: string, extra: Partial<TopologyNode> = {}): TopologyNode {
  const power = extra.status === "warn" ? "OFF" : "ON";
  return node({
    id,
    kind: "vm",
    label,
    parent,
    status: "ok",
    detail: { uuid: id.slice(3), powerState: power, ips: [ip], learnedIps: [], vcpus: 4, memoryMib: 8192, pe },
    links: [{ label: "Prism API", url: `https://pc.lab.example.net:9440/api/nutanix/v3/vms/${id.slice(3)}` }],
    ...extra,
  });
}

/** The estate, with `expanded` groups' VMs included (PE-B's group is small, so always inline). */
export function topologyGraph(expanded: readonly string[] = []): TopologyGraph {
  const groupAOpen = expanded.includes(IDS.groupA);
  const nodes: TopologyNode[] = [
    node({ id: IDS.palette, kind: "palette", label: "Palette (tenant acme)", detail: { url: "https://palette.example.net" }, links: [{ label: "Open Palette", url: "https://palette.example.net" }] }),
    node({ id: IDS.project, kind: "project", label: "Project platform", parent: IDS.palette, detail: { uid: "proj-1" } }),
    node({
      id: IDS.pcg,
      kind: "pcg",
      label: "pcg-nutanix-01",
      parent: IDS.project,
      detail: { uid: "pcg-uid-1", state: "Running", health: "Healthy", selfHosted: false, ipAddress: "10.0.0.50", tenantUid: "acme", hostVm: null, hostCluster: null, cloudAccount: "nutanix-lab" },
      links: [{ label: "Palette API", url: "https://palette.example.net/v1/overlords/pcg-uid-1" }],
    }),
    node({ id: IDS.pc, kind: "prism_central", label: "pc.lab", detail: { uuid: "pc-uuid-1", endpoint: "https://pc.lab.example.net:9440" } }),
    node({ id: IDS.peA, kind: "prism_element", label: "PE-A", parent: IDS.pc, detail: { uuid: "pe-a-uuid", externalIp: "10.0.1.10", aosVersion: "6.8", available: true }, counts: { vms: 1236, poweredOn: 1202, poweredOff: 34 } }),
    node({ id: IDS.peB, kind: "prism_element", label: "PE-B", parent: IDS.pc, status: "warn", detail: { uuid: "pe-b-uuid", externalIp: "10.0.2.10", aosVersion: "6.8", available: true }, counts: { vms: 4, poweredOn: 3, poweredOff: 1 } }),
    node({ id: IDS.subnetA, kind: "subnet", label: "vlan-100-prod", parent: IDS.peA, detail: { uuid: "sub-a-uuid", type: "VLAN", vlanId: 100, cidr: "10.0.10.0/24" } }),
    node({ id: IDS.subnetB, kind: "subnet", label: "vlan-200-edge", parent: IDS.peB, detail: { uuid: "sub-b-uuid", type: "VLAN", vlanId: 200, cidr: "10.0.20.0/24" } }),
    node({ id: IDS.image, kind: "image", label: "ubuntu-22.04-k8s-1.30", parent: IDS.pc, detail: { uuid: "img-uuid-1", type: "DISK_IMAGE", state: "COMPLETE" } }),
    node({
      id: IDS.cluster,
      kind: "cluster",
      label: "prod-apps",
      parent: IDS.peA,
      detail: {
        name: "prod-apps",
        vip: "10.0.10.240",
        vipHolderVm: IDS.cp1,
        primaryPe: IDS.peA,
        paletteUid: "cl-uid-9",
        paletteState: "Running",
        health: "Healthy",
        kubernetesVersion: "1.30.4",
      },
      counts: { vms: 3, poweredOn: 3, poweredOff: 0 },
      links: [{ label: "Palette API", url: "https://palette.example.net/v1/spectroclusters/cl-uid-9" }],
    }),
    node({ id: IDS.cpPool, kind: "pool", label: "control-plane", parent: IDS.cluster, detail: { controlPlane: true, size: 1 }, counts: { vms: 1, poweredOn: 1, poweredOff: 0 } }),
    node({ id: IDS.workerPool, kind: "pool", label: "workers", parent: IDS.cluster, detail: { controlPlane: false, size: 2 }, counts: { vms: 2, poweredOn: 2, poweredOff: 0 } }),
    vm(IDS.cp1, "prod-apps-cp-x7k2p", IDS.cpPool, IDS.peA, "10.0.10.21", {
      detail: { uuid: "cp-1-uuid", powerState: "ON", ips: ["10.0.10.21"], learnedIps: ["10.0.10.240"], vcpus: 4, memoryMib: 8192, pe: IDS.peA, holdsVip: "10.0.10.240" },
    }),
    vm(IDS.worker1, "prod-apps-workers-a1b2c", IDS.workerPool, IDS.peB, "10.0.20.31"),
    vm(IDS.worker2, "prod-apps-workers-d3e4f", IDS.workerPool, IDS.peA, "10.0.10.32"),
    node({ id: IDS.groupA, kind: "vm_group", label: "1234 VMs", parent: IDS.peA, status: "warn", counts: GROUP_A_COUNTS, collapsed: !groupAOpen }),
    node({ id: IDS.groupB, kind: "vm_group", label: "3 VMs", parent: IDS.peB, status: "warn", counts: { vms: 3, poweredOn: 2, poweredOff: 1 } }),
    vm(IDS.legacy1, "legacy-erp-01", IDS.groupB, IDS.peB, "10.0.20.11"),
    vm(IDS.legacy2, "legacy-erp-02", IDS.groupB, IDS.peB, "10.0.20.12"),
    vm(IDS.legacy3, "legacy-build-01", IDS.groupB, IDS.peB, "10.0.20.13", { status: "warn" }),
  ];
  if (groupAOpen) {
    // Stands in for the 1,234: enough to show the group is drawn as a grid of tiles.
    nodes.push(vm(IDS.hidden, "db-0042", IDS.groupA, IDS.peA, "10.0.10.142"));
    for (let i = 1; i <= 5; i++) nodes.push(vm(`vm:db-00${i}0-uuid`, `db-00${i}0`, IDS.groupA, IDS.peA, `10.0.10.${150 + i}`));
  }

  const edges: TopologyEdge[] = nodes.filter((n) => n.parent).map((n) => ({ from: n.parent!, to: n.id, kind: "contains", count: null }));
  const cross = (from: string, to: string, kind: TopologyEdge["kind"], count: number | null = null) => edges.push({ from, to, kind, count });
  cross(IDS.pcg, IDS.pc, "manages");
  cross(IDS.pcg, IDS.cluster, "deploys");
  cross(IDS.cluster, IDS.peA, "runs_on");
  cross(IDS.cluster, IDS.peB, "runs_on");
  cross(IDS.cpPool, IDS.image, "boots_from");
  cross(IDS.workerPool, IDS.image, "boots_from");
  cross(IDS.cpPool, IDS.subnetA, "attached");
  cross(IDS.workerPool, IDS.subnetA, "attached");
  cross(IDS.workerPool, IDS.subnetB, "attached");
  cross(IDS.cp1, IDS.subnetA, "attached");
  cross(IDS.worker1, IDS.subnetB, "attached");
  cross(IDS.worker2, IDS.subnetA, "attached");
  for (const id of [IDS.legacy1, IDS.legacy2, IDS.legacy3]) cross(id, IDS.subnetB, "attached");
  if (groupAOpen) {
    for (const n of nodes.filter((x) => x.parent === IDS.groupA)) cross(n.id, IDS.subnetA, "attached");
  } else {
    cross(IDS.groupA, IDS.subnetA, "attached", GROUP_A_COUNTS.vms);
  }
  return { nodes, edges };
}

export function freshness(partial: Partial<Freshness> = {}): Freshness {
  const syncedAt = new Date(Date.now() - 180_000).toISOString();
  return { syncedAt, ageSeconds: 180, empty: false, stale: false, ...partial };
}

export function topologyView(expanded: readonly string[] = [], fresh: Freshness = freshness()): TopologyView {
  return { environmentId: "sandbox", graph: topologyGraph(expanded), vmCount: 1240, freshness: fresh };
}

/** What `topology_search` answers for "db-0042" while PE-A's group is collapsed. */
export function hiddenVmHit(expanded: readonly string[]): SearchHit {
  return { nodeId: IDS.hidden, kind: "vm", label: "db-0042", expand: expanded.includes(IDS.groupA) ? null : IDS.groupA };
}
