import { describe, expect, it } from "vitest";
import { ancestors, indexGraph, kindOfNodeId, nodeIdKey, powerLabel, relatedObjects, slug, vmCountLabel } from "./graph";
import { IDS, topologyGraph } from "./test-fixtures";

const related = (id: string) => {
  const groups = relatedObjects(indexGraph(topologyGraph()), id);
  return Object.fromEntries(groups.map((g) => [g.slug, g.items.map((i) => (i.role ? `${i.label} (${i.role})` : i.label))]));
};

describe("topology graph helpers", () => {
  it("recognises node ids by prefix and nothing else", () => {
    expect(kindOfNodeId("pe:0005-abc")).toBe("prism_element");
    expect(kindOfNodeId("vmgroup:pe-a")).toBe("vm_group");
    expect(kindOfNodeId("cluster:prod-apps")).toBe("cluster");
    expect(kindOfNodeId("vm:")).toBeNull();
    expect(kindOfNodeId("10.0.0.1")).toBeNull();
    expect(kindOfNodeId("https://pc:9440")).toBeNull();
    expect(kindOfNodeId("pe:has space")).toBeNull();
    expect(kindOfNodeId(42)).toBeNull();
    expect(nodeIdKey("pool:prod/workers")).toBe("prod/workers");
    expect(slug("Prism Element")).toBe("prism-element");
  });

  it("formats counts with separators", () => {
    expect(vmCountLabel(1234)).toBe("1,234 VMs");
    expect(vmCountLabel(1)).toBe("1 VM");
    expect(powerLabel({ vms: 1234, poweredOn: 1200, poweredOff: 30 })).toBe("1,200 on · 30 off · 4 other");
  });

  it("indexes containment, treating a missing parent as a root", () => {
    const graph = topologyGraph();
    graph.nodes.push({ id: "vm:orphan", kind: "vm", label: "orphan", status: "unknown", parent: "vmgroup:gone", detail: {}, counts: null, links: [], collapsed: false });
    const index = indexGraph(graph);
    expect(index.roots.map((n) => n.id)).toEqual([IDS.palette, IDS.pc, "vm:orphan"]);
    expect(index.children.get(IDS.cluster)?.map((n) => n.id)).toEqual([IDS.cpPool, IDS.workerPool]);
    expect(ancestors(index, IDS.worker1).map((n) => n.id)).toEqual([IDS.workerPool, IDS.cluster, IDS.peA, IDS.pc]);
    expect(index.outgoing.get(IDS.cluster)?.map((e) => e.kind)).toEqual(["runs_on", "runs_on"]);
  });

  it("relates a VM to its own Prism Element, its subnet and its cluster", () => {
    // worker 1 runs on PE-B although its cluster is drawn inside PE-A.
    expect(related(IDS.worker1)).toEqual({
      "prism-central": ["pc.lab"],
      "prism-element": ["PE-B"],
      cluster: ["prod-apps"],
      "node-pool": ["workers"],
      subnet: ["vlan-200-edge (attached)"],
    });
  });

  it("relates a cluster to its PEs, VIP holder, PCG and pools", () => {
    const r = related(IDS.cluster);
    expect(r["prism-element"]).toEqual(["PE-A (primary)", "PE-B (runs on)"]);
    expect(r.vm).toEqual(["prod-apps-cp-x7k2p (holds the VIP)"]);
    expect(r["private-cloud-gateway"]).toEqual(["pcg-nutanix-01 (deployed by)"]);
    expect(r["node-pool"]).toEqual(["control-plane", "workers"]);
  });

  it("lists what is attached to a subnet, with group sizes", () => {
    const r = related(IDS.subnetA);
    expect(r["prism-element"]).toEqual(["PE-A"]);
    expect(r["vm-group"]).toEqual(["1,234 VMs (1,234 VMs)"]);
    expect(r["node-pool"]).toEqual(["control-plane (attached)", "workers (attached)"]);
    expect(r.vm).toEqual(["prod-apps-cp-x7k2p (attached)", "prod-apps-workers-d3e4f (attached)"]);
  });

  it("marks related nodes that are not in the graph", () => {
    const graph = topologyGraph();
    const pcg = graph.nodes.find((n) => n.id === IDS.pcg)!;
    pcg.detail.hostVm = "vm:inside-collapsed-group";
    const groups = relatedObjects(indexGraph(graph), IDS.pcg);
    const vmGroup = groups.find((g) => g.kind === "vm")!;
    expect(vmGroup.items).toEqual([{ id: "vm:inside-collapsed-group", label: "inside-collapsed-group", role: "host VM", inGraph: false }]);
  });
});
