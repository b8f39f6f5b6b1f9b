import type { ElkNode } from "elkjs/lib/elk-api";
import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import type { TopologyGraph, TopologyNode } from "../../lib/bindings";
import { ROOT_ID, buildLayoutPlan, gridColumns, gridSize, packLayout, pageOf, tilePosition, toFlowEdges, toFlowNodes } from "./layout";
import { IDS, topologyGraph } from "./test-fixtures";

function find(elk: ElkNode, id: string): ElkNode | undefined {
  if (elk.id === id) return elk;
  for (const child of elk.children ?? []) {
    const hit = find(child, id);
    if (hit) return hit;
  }
  return undefined;
}

function allIds(elk: ElkNode): string[] {
  return [elk.id, ...(elk.children ?? []).flatMap(allIds)];
}

const edgePairs = (elk: ElkNode | undefined) => (elk?.edges ?? []).map((e) => `${e.sources[0]}->${e.targets[0]}`).sort();

/** Children inside their parent (below its header) and not on top of each other, at every level. */
function expectTidy(elk: ElkNode) {
  const kids = elk.children ?? [];
  for (const c of kids) {
    expect(c.x).toBeGreaterThanOrEqual(0);
    expect(c.y).toBeGreaterThanOrEqual(0);
    if (elk.id !== ROOT_ID) {
      expect(c.x! + c.width!).toBeLessThanOrEqual(elk.width! + 0.5);
      expect(c.y! + c.height!).toBeLessThanOrEqual(elk.height! + 0.5);
    }
  }
  for (let i = 0; i < kids.length; i++) {
    for (let j = i + 1; j < kids.length; j++) {
      const a = kids[i];
      const b = kids[j];
      const apart = a.x! + a.width! <= b.x! || b.x! + b.width! <= a.x! || a.y! + a.height! <= b.y! || b.y! + b.height! <= a.y!;
      expect(apart, `${a.id} overlaps ${b.id} in ${elk.id}`).toBe(true);
    }
  }
  kids.forEach(expectTidy);
}

function bigGroupGraph(vms: number): TopologyGraph {
  const graph = topologyGraph();
  const group = graph.nodes.find((n) => n.id === IDS.groupA)!;
  group.collapsed = false;
  for (let i = 0; i < vms; i++) {
    const vm: TopologyNode = { id: `vm:bulk-${i}`, kind: "vm", label: `bulk-${i}`, status: "ok", parent: IDS.groupA, detail: {}, counts: null, links: [], collapsed: false };
    graph.nodes.push(vm);
    graph.edges.push({ from: IDS.groupA, to: vm.id, kind: "contains", count: null }, { from: vm.id, to: IDS.subnetA, kind: "attached", count: null });
  }
  graph.edges = graph.edges.filter((e) => !(e.from === IDS.groupA && e.kind === "attached"));
  return graph;
}

describe("layout plan (graph → ELK input)", () => {
  it("nests the containment hierarchy and keeps VMs out of ELK", () => {
    const plan = buildLayoutPlan(topologyGraph());
    expect(plan.elk.children!.map((c) => c.id)).toEqual([IDS.palette, IDS.pc]);
    expect(find(plan.elk, IDS.project)!.children!.map((c) => c.id)).toEqual([IDS.pcg]);
    expect(find(plan.elk, IDS.pc)!.children!.map((c) => c.id)).toEqual([IDS.peA, IDS.peB, IDS.image]);
    expect(find(plan.elk, IDS.peA)!.children!.map((c) => c.id)).toEqual([IDS.subnetA, IDS.cluster, IDS.groupA]);
    expect(find(plan.elk, IDS.cluster)!.children!.map((c) => c.id)).toEqual([IDS.cpPool, IDS.workerPool]);

    // No VM reaches ELK: pools and inline groups are fixed-size grids.
    expect(allIds(plan.elk).filter((id) => id.startsWith("vm:"))).toEqual([]);
    const workers = find(plan.elk, IDS.workerPool)!;
    expect(workers.children).toBeUndefined();
    expect({ width: workers.width, height: workers.height }).toEqual({ width: gridSize(2).width, height: gridSize(2).height });
    expect(plan.drawn.get(IDS.workerPool)).toMatchObject({ role: "grid", tiles: [IDS.worker1, IDS.worker2] });
    expect(plan.drawn.get(IDS.worker1)).toMatchObject({ role: "vm", parent: IDS.workerPool });
    expect(plan.drawn.get(IDS.groupA)).toMatchObject({ role: "card" });
    expect(plan.drawn.get(IDS.groupB)).toMatchObject({ role: "grid", columns: 3 });
  });

  it("puts each cross-link in the lowest container holding both ends", () => {
    const plan = buildLayoutPlan(topologyGraph());
    // PCG → Prism Central and PCG → cluster both join the two top-level boxes.
    expect(edgePairs(plan.elk)).toEqual([`${IDS.palette}->${IDS.pc}`]);
    // Pools boot from an image on Prism Central; a worker pool uses PE-B's subnet.
    expect(edgePairs(find(plan.elk, IDS.pc))).toEqual([`${IDS.peA}->${IDS.image}`, `${IDS.peA}->${IDS.peB}`].sort());
    expect(edgePairs(find(plan.elk, IDS.peA))).toEqual([`${IDS.cluster}->${IDS.subnetA}`, `${IDS.groupA}->${IDS.subnetA}`].sort());
    expect(edgePairs(find(plan.elk, IDS.peB))).toEqual([`${IDS.groupB}->${IDS.subnetB}`]);
    // runs_on never shapes the layout; a cluster is already drawn in its main PE.
    expect(edgePairs(find(plan.elk, IDS.cluster))).toEqual([]);
  });

  it("draws a canvas-collapsed container as a card hiding what is inside", () => {
    const plan = buildLayoutPlan(topologyGraph(), { collapsed: new Set([IDS.cluster]) });
    const cluster = find(plan.elk, IDS.cluster)!;
    expect(cluster.children).toBeUndefined();
    expect(plan.drawn.get(IDS.cluster)).toMatchObject({ role: "card", hidden: 5 });
    expect(plan.shownBy.get(IDS.worker1)).toBe(IDS.cluster);
    expect(plan.drawn.has(IDS.worker1)).toBe(false);
    expect(edgePairs(find(plan.elk, IDS.peA))).toContain(`${IDS.cluster}->${IDS.subnetA}`);
  });

  it("sizes VM grids so thousands of VMs stay one ELK node, drawn a page at a time", () => {
    expect([1, 4, 5, 6, 100, 500, 3000, 25_000].map(gridColumns)).toEqual([1, 4, 4, 4, 7, 15, 35, 60]);
    const graph = bigGroupGraph(5000);
    const plan = buildLayoutPlan(graph);
    expect(allIds(plan.elk).length).toBeLessThan(30);
    const group = find(plan.elk, IDS.groupA)!;
    expect(plan.drawn.get(IDS.groupA)).toMatchObject({ role: "grid", page: 0, pageCount: 10, total: 5000 });
    expect({ width: group.width, height: group.height }).toEqual({ width: gridSize(500, true).width, height: gridSize(500, true).height });
    const last = tilePosition(499, gridColumns(500));
    expect(last.x + 176).toBeLessThanOrEqual(group.width!);
    expect(last.y + 40).toBeLessThanOrEqual(group.height!);

    const nodes = toFlowNodes(plan, packLayout(plan.elk));
    const tiles = nodes.filter((n) => n.parentId === IDS.groupA);
    expect(tiles.map((n) => n.id)).toEqual(Array.from({ length: 500 }, (_, i) => `vm:bulk-${i}`));
    expect(nodes.find((n) => n.id === IDS.groupA)!.data.paging).toEqual({ page: 0, pageCount: 10, total: 5000, first: 1, last: 500 });
    // VMs on other pages are shown by their grid: all 5,000 links become one labelled edge.
    expect(plan.shownBy.get("vm:bulk-4999")).toBe(IDS.groupA);
    const edges = toFlowEdges(plan, null).filter((e) => e.target === IDS.subnetA);
    expect(edges.find((e) => e.source === IDS.groupA)?.label).toBe("5,000 VMs");

    // The last page holds the rest.
    const lastPage = buildLayoutPlan(graph, { pages: { [IDS.groupA]: 99 } });
    expect(lastPage.drawn.get(IDS.groupA)).toMatchObject({ page: 9, tiles: expect.arrayContaining(["vm:bulk-4500", "vm:bulk-4999"]) });
    expect(lastPage.drawn.get(IDS.groupA)!.tiles).toHaveLength(500);
    expect(lastPage.drawn.has("vm:bulk-0")).toBe(false);
    expect(pageOf(lastPage.index, "vm:bulk-2750")).toEqual({ grid: IDS.groupA, page: 5 });
  });
});

describe("xyflow nodes and edges", () => {
  it("lists parents before children with positions from the layout", () => {
    const plan = buildLayoutPlan(topologyGraph());
    const laidOut = packLayout(plan.elk);
    const nodes = toFlowNodes(plan, laidOut);
    const at = new Map(nodes.map((n, i) => [n.id, i]));
    for (const n of nodes) if (n.parentId) expect(at.get(n.parentId)!).toBeLessThan(at.get(n.id)!);
    expect(nodes).toHaveLength(topologyGraph().nodes.length);

    const pool = nodes.find((n) => n.id === IDS.workerPool)!;
    const laidPool = find(laidOut, IDS.workerPool)!;
    expect(pool).toMatchObject({ type: "grid", parentId: IDS.cluster, position: { x: laidPool.x, y: laidPool.y }, width: laidPool.width });
    expect(nodes.find((n) => n.id === IDS.worker2)).toMatchObject({ type: "vm", parentId: IDS.workerPool, position: tilePosition(1, gridColumns(2)) });
    expect(nodes.find((n) => n.id === IDS.groupA)!.data.toggle).toBe("expand");
    expect(nodes.find((n) => n.id === IDS.groupB)!.data.toggle).toBe("collapse");
    expect(nodes.find((n) => n.id === IDS.subnetA)!.data.toggle).toBeNull();
  });

  it("sums VM links at their grid, leaves out links into the own container, and shows a selected VM's own", () => {
    const plan = buildLayoutPlan(topologyGraph());
    const byId = (edges: ReturnType<typeof toFlowEdges>) => new Map(edges.map((e) => [e.id, e]));

    const edges = byId(toFlowEdges(plan, null));
    expect(edges.get(`attached:${IDS.groupA}->${IDS.subnetA}`)?.label).toBe("1,234 VMs");
    expect(edges.get(`attached:${IDS.groupB}->${IDS.subnetB}`)?.label).toBe("3 VMs");
    expect(edges.get(`attached:${IDS.workerPool}->${IDS.subnetB}`)?.label).toBe("1 VM");
    expect(edges.has(`runs_on:${IDS.cluster}->${IDS.peA}`)).toBe(false);
    expect(edges.has(`runs_on:${IDS.cluster}->${IDS.peB}`)).toBe(true);
    expect(edges.has(`manages:${IDS.pcg}->${IDS.pc}`)).toBe(true);
    expect([...edges.keys()].some((id) => id.includes("vm:"))).toBe(false);

    const selected = byId(toFlowEdges(plan, IDS.worker1));
    expect(selected.get(`attached:${IDS.worker1}->${IDS.subnetB}`)?.className).toContain("is-active");
    expect(selected.get(`attached:${IDS.workerPool}->${IDS.subnetB}`)?.label).toBeUndefined();
  });

  it("packs the fallback layout without overlaps", () => {
    expectTidy(packLayout(buildLayoutPlan(topologyGraph()).elk));
  });

  it("is valid ELK input that ELK lays out without overlaps", async () => {
    const plan = buildLayoutPlan(topologyGraph([IDS.groupA]));
    const laidOut = await new ELK().layout(structuredClone(plan.elk));
    expectTidy(laidOut);
    // Headers stay clear: the first child of a container starts below its title bar.
    const cluster = find(laidOut, IDS.cluster)!;
    expect(Math.min(...cluster.children!.map((c) => c.y!))).toBeGreaterThanOrEqual(60);
    expect(toFlowNodes(plan, laidOut).map((n) => n.id)).toContain(IDS.hidden);
  }, 20_000);
});
