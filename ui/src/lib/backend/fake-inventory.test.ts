import { afterEach, describe, expect, it, vi } from "vitest";
import type { InventoryQuery, InventoryRow, SyncEvent } from "../bindings";
import { DEMO_CLUSTER, DEMO_VIP, FakeInventory, SYNC_ORDER } from "./fake-inventory";

const vmQuery = (extra: Partial<InventoryQuery> = {}): InventoryQuery => ({ kind: "vm", sort: "name", descending: false, offset: 0, ...extra });
const names = (rows: InventoryRow[]) => rows.map((r) => r.name);
/** SQLite NOCASE order: lower-cased code units. */
const nocase = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);

function allPages(fake: FakeInventory, query: InventoryQuery, limit: number): InventoryRow[] {
  const out: InventoryRow[] = [];
  for (let offset = 0; ; offset += limit) {
    const page = fake.list({ ...query, offset, limit });
    out.push(...page.rows);
    if (page.rows.length < limit) return out;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe("FakeInventory estate", () => {
  it("is deterministic and shaped like a small real estate", () => {
    const a = new FakeInventory();
    const b = new FakeInventory();
    expect(a.estate).toEqual(b.estate);
    expect(a.estate.pe_cluster.filter((p) => p.isPc)).toHaveLength(1);
    expect(a.estate.pe_cluster.filter((p) => !p.isPc)).toHaveLength(2);
    expect(a.estate.subnet.length).toBeGreaterThanOrEqual(6);
    expect(a.estate.vm).toHaveLength(120);
    const k8s = a.estate.vm.filter((v) => v.k8s === DEMO_CLUSTER);
    expect(k8s.filter((v) => v.name.includes("-cp-"))).toHaveLength(3);
    expect(k8s.filter((v) => !v.name.includes("-cp-"))).toHaveLength(2);
    const power = new Set(a.estate.vm.map((v) => v.power));
    expect(power).toEqual(new Set(["ON", "OFF"]));
    expect(new Set(a.estate.vm.map((v) => v.name)).size).toBe(120);
  });
});

describe("FakeInventory lists", () => {
  it("pages through every VM in NOCASE name order without gaps or repeats", () => {
    const fake = new FakeInventory();
    const first = fake.list(vmQuery());
    expect(first.total).toBe(120);
    expect(first.rows).toHaveLength(120);
    expect(names(first.rows)).toEqual([...names(first.rows)].sort(nocase));

    const paged = allPages(fake, vmQuery(), 17);
    expect(paged.map((r) => r.id)).toEqual(first.rows.map((r) => r.id));
    const page = fake.list(vmQuery({ offset: 50, limit: 25 }));
    expect(page.offset).toBe(50);
    expect(page.rows.map((r) => r.id)).toEqual(first.rows.slice(50, 75).map((r) => r.id));
    expect(fake.list(vmQuery({ offset: 500 })).rows).toEqual([]);
  });

  it("defaults to 200 rows a page and caps at 1000", () => {
    const fake = new FakeInventory({ vms: 2500 });
    expect(fake.list(vmQuery()).rows).toHaveLength(200);
    expect(fake.list(vmQuery({ limit: 5000 })).rows).toHaveLength(1000);
    // The PCG appliance counts among the 2,500; the Kubernetes cluster adds its 5.
    expect(fake.list(vmQuery()).total).toBe(2505);
  });

  it("searches names anywhere, ids by prefix and IPs by prefix, case-insensitively", () => {
    const fake = new FakeInventory();
    const byName = fake.list(vmQuery({ search: "KAFKA" }));
    expect(byName.total).toBeGreaterThan(0);
    expect(byName.total).toBeLessThan(120);
    for (const r of byName.rows) expect(r.name.toLowerCase()).toContain("kafka");

    const k8sSubnet = fake.list(vmQuery({ search: "10.30.0." }));
    expect(new Set(names(k8sSubnet.rows))).toEqual(new Set(fake.estate.vm.filter((v) => v.k8s).map((v) => v.name)));
    const vip = fake.list(vmQuery({ search: DEMO_VIP }));
    expect(vip.rows).toHaveLength(1);
    expect(vip.rows[0].name).toMatch(/^demo-k8s-cp-/);

    const target = fake.estate.vm[40];
    const byId = fake.list(vmQuery({ search: target.uuid.slice(0, 13) }));
    expect(byId.rows.map((r) => r.id)).toContain(target.uuid);
    // An id matches by prefix only.
    expect(fake.list(vmQuery({ search: target.uuid.slice(4, 20) })).rows.map((r) => r.id)).not.toContain(target.uuid);
  });

  it("filters by power state (any case) and by Prism Element, and the filters partition the total", () => {
    const fake = new FakeInventory();
    const on = fake.list(vmQuery({ state: "on" }));
    const off = fake.list(vmQuery({ state: "OFF" }));
    expect(on.rows.every((r) => r.state === "ON")).toBe(true);
    expect(off.rows.every((r) => r.state === "OFF")).toBe(true);
    expect(on.total + off.total).toBe(120);

    const [peA, peB] = fake.estate.pe_cluster.filter((p) => !p.isPc);
    const onA = fake.list(vmQuery({ parent: peA.uuid }));
    const onB = fake.list(vmQuery({ parent: peB.uuid }));
    expect(onA.rows.every((r) => r.parentName === peA.name)).toBe(true);
    expect(onA.total + onB.total).toBe(120);
    const both = fake.list(vmQuery({ parent: peB.uuid, state: "OFF" }));
    expect(both.total).toBe(onB.rows.filter((r) => r.state === "OFF").length);
  });

  it("sorts by state, parent and last seen with name then id as tie-breakers, and reverses for descending", () => {
    const fake = new FakeInventory();
    const byState = fake.list(vmQuery({ sort: "state" })).rows;
    const firstOn = byState.findIndex((r) => r.state === "ON");
    expect(byState.slice(0, firstOn).every((r) => r.state === "OFF")).toBe(true);
    expect(names(byState.slice(0, firstOn))).toEqual(names(byState.slice(0, firstOn)).sort(nocase));

    const desc = fake.list(vmQuery({ sort: "state", descending: true })).rows;
    expect(desc.map((r) => r.id)).toEqual([...byState].reverse().map((r) => r.id));

    const byParent = fake.list(vmQuery({ sort: "parent" })).rows.map((r) => r.parent!);
    expect(byParent).toEqual([...byParent].sort());

    const bySeen = fake.list(vmQuery({ sort: "last_seen", descending: true })).rows.map((r) => r.lastSeenAt);
    expect(bySeen).toEqual([...bySeen].sort().reverse());
    expect(new Set(bySeen).size).toBeGreaterThan(1);
  });

  it("lists subnets with CIDR and VLAN, and images with type and size", () => {
    const fake = new FakeInventory();
    const subnets = fake.list({ kind: "subnet", sort: "name", descending: false, offset: 0 }).rows;
    const k8s = subnets.find((s) => s.name === "vlan-30-k8s")!;
    expect(k8s.columns).toMatchObject({ cidr: "10.30.0.0/24", vlanId: 30, subnetType: "VLAN" });
    expect(k8s.parentName).toBe("pe-fra-a");
    const overlay = subnets.find((s) => s.columns.subnetType === "OVERLAY")!;
    expect(overlay.parent).toBeNull();
    const images = fake.list({ kind: "image", sort: "name", descending: false, offset: 0, search: "iso" }).rows;
    expect(images).toHaveLength(1);
    expect(images[0].columns).toMatchObject({ imageType: "ISO_IMAGE" });
    expect(images[0].columns.sizeBytes).toBeGreaterThan(0);
  });

  it("answers get with the raw record, and not_found for anything else", () => {
    const fake = new FakeInventory();
    const vm = fake.estate.vm[0];
    const item = fake.get({ kind: "vm", id: vm.uuid });
    expect(item.row.name).toBe(vm.name);
    expect(item.raw).toMatchObject({ metadata: { uuid: vm.uuid, categories: { KubernetesClusterName: DEMO_CLUSTER } } });
    expect(() => fake.get({ kind: "vm", id: "nope" })).toThrow(expect.objectContaining({ code: "not_found" }));
  });

  it("lists Kubernetes clusters with the kube-vip VIP, node counts and PEs", () => {
    const { clusters } = new FakeInventory().clusters();
    expect(clusters).toHaveLength(1);
    expect(clusters[0]).toMatchObject({
      id: `cluster:${DEMO_CLUSTER}`,
      name: DEMO_CLUSTER,
      state: "Running",
      status: "ok",
      endpoint: DEMO_VIP,
      kubernetesVersion: "1.30.4",
      prismElements: ["pe-fra-a"],
      controlPlaneNodes: 3,
      workerNodes: 2,
      poweredOn: 5,
    });
  });
});

describe("FakeInventory freshness", () => {
  it("starts empty when asked, and ages a populated cache", () => {
    const empty = new FakeInventory({ start: "empty" });
    expect(empty.list(vmQuery())).toMatchObject({ total: 0, freshness: { empty: true, syncedAt: null } });
    expect(empty.clusters().clusters).toEqual([]);
    expect(empty.cacheSummary().kinds.every((k) => k.status === "never" && k.count === 0)).toBe(true);

    const now = new Date("2026-11-21T10:00:00Z");
    const fresh = new FakeInventory({ now: () => now, syncedAgoSeconds: 240 });
    expect(fresh.cacheSummary().freshness).toEqual({ syncedAt: "2026-11-21T09:56:00.000Z", ageSeconds: 240, empty: false, stale: false });
    const old = new FakeInventory({ now: () => now, syncedAgoSeconds: 3600 });
    expect(old.cacheSummary().freshness.stale).toBe(true);
  });
});

describe("FakeInventory sync", () => {
  function recorder(options: ConstructorParameters<typeof FakeInventory>[0] = {}) {
    const events: SyncEvent[] = [];
    const fake = new FakeInventory({ stepMs: 10, ...options, onEvent: (e) => events.push(e) });
    return { fake, events };
  }

  it("fills an empty cache kind by kind with progress events, then completes", () => {
    vi.useFakeTimers();
    const { fake, events } = recorder({ start: "empty" });
    const started = fake.syncStart({ mode: "full" });
    expect(started.started).toBe(true);
    expect(events[0]).toMatchObject({ phase: "started", runId: started.runId, kindsTotal: 13, kindsDone: 0 });
    expect(fake.syncStart({ mode: "full" })).toEqual({ runId: started.runId, started: false });
    expect(fake.cacheSummary().sync?.runId).toBe(started.runId);

    vi.advanceTimersByTime(10_000);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ phase: "completed", kindsDone: 13, kindsTotal: 13 });
    const progress = events.filter((e) => e.phase === "progress");
    // Kinds in sync order, done never above total, and VMs in several pages.
    expect([...new Set(progress.map((e) => e.kind))]).toEqual([...SYNC_ORDER]);
    expect(progress.every((e) => e.total === null || e.done <= e.total)).toBe(true);
    const vmEvents = progress.filter((e) => e.kind === "vm");
    // The kind's start (total not known yet), several pages, and the page that finishes it.
    expect(vmEvents[0]).toMatchObject({ done: 0, total: null, kindsDone: SYNC_ORDER.indexOf("vm") });
    expect(vmEvents.length).toBeGreaterThan(4);
    expect(vmEvents.at(-1)).toMatchObject({ done: 120, total: 120, kindsDone: SYNC_ORDER.indexOf("vm") + 1 });

    expect(fake.list(vmQuery()).total).toBe(120);
    expect(fake.cacheSummary().freshness).toMatchObject({ empty: false, stale: false });
    expect(fake.running).toBeNull();
  });

  it("cancels, keeps what it had, and the next run resumes the interrupted kind", () => {
    vi.useFakeTimers();
    const { fake, events } = recorder({ start: "empty" });
    fake.syncStart({ mode: "full" });
    // Run until VMs are part-way through.
    while (!(events.at(-1)?.kind === "vm" && events.at(-1)!.done > 0)) vi.advanceTimersByTime(10);
    const reached = events.at(-1)!.done;
    expect(fake.syncCancel()).toEqual({ cancelled: true });
    expect(events.at(-1)).toMatchObject({ phase: "cancelled", kind: "vm", done: reached });
    expect(fake.syncCancel()).toEqual({ cancelled: false });
    vi.advanceTimersByTime(1000);
    expect(events.at(-1)!.phase).toBe("cancelled");
    expect(fake.cacheSummary().kinds.find((k) => k.kind === "vm")!.status).toBe("failed");
    expect(fake.list({ kind: "subnet", sort: "name", descending: false, offset: 0 }).total).toBe(6);
    expect(fake.list(vmQuery()).total).toBe(0);

    const restart = events.length;
    fake.syncStart({ mode: "incremental" });
    vi.advanceTimersByTime(10_000);
    const again = events.slice(restart);
    // Kinds this run already finished are fresh and skipped; VMs continue where they stopped.
    const skipped = again.filter((e) => e.phase === "progress" && e.total === null && e.kind !== "vm");
    expect(skipped.map((e) => e.kind).slice(0, 5)).toEqual(["pe_cluster", "subnet", "image", "project", "host"]);
    const vms = again.filter((e) => e.kind === "vm" && e.phase === "progress");
    expect(vms[0]).toMatchObject({ done: reached, total: null });
    expect(vms[1].done).toBeGreaterThan(reached);
    expect(events.at(-1)!.phase).toBe("completed");
    expect(fake.list(vmQuery()).total).toBe(120);
  });

  it("fails with a typed, resumable error, marks the cache stale, and Retry resumes", () => {
    vi.useFakeTimers();
    const { fake, events } = recorder();
    fake.failNextSync("vm", { code: "rate_limited", message: "Prism Central answered 429 too often." }, 40);
    fake.syncStart({ mode: "full" });
    vi.advanceTimersByTime(10_000);
    const failed = events.at(-1)!;
    expect(failed).toMatchObject({ phase: "failed", kind: "vm", done: 40, error: { code: "rate_limited", message: "Prism Central answered 429 too often.", resumable: true } });
    const summary = fake.cacheSummary();
    expect(summary.kinds.find((k) => k.kind === "vm")).toMatchObject({ status: "failed", error: "Prism Central answered 429 too often." });
    expect(summary.freshness.stale).toBe(true);
    // The cache keeps the VMs it had.
    expect(fake.list(vmQuery()).total).toBe(120);

    fake.syncStart({ mode: "incremental" });
    vi.advanceTimersByTime(10_000);
    const retry = events.slice(events.indexOf(failed) + 1);
    expect(retry[0]).toMatchObject({ phase: "started", kindsTotal: 13 });
    // Everything else is still fresh (synced minutes ago) and skipped; VMs resume at row 40.
    const vms = retry.filter((e) => e.kind === "vm");
    expect(vms[0]).toMatchObject({ phase: "progress", done: 40, total: null });
    expect(vms[1].done).toBeGreaterThan(40);
    expect(retry.filter((e) => e.phase === "progress" && e.kind !== "vm").every((e) => e.done === 0 && e.total === null)).toBe(true);
    expect(retry.at(-1)!.phase).toBe("completed");
    expect(fake.cacheSummary().freshness.stale).toBe(false);
  });
});

describe("FakeInventory cache rebuild", () => {
  it("refuses while a sync runs, then empties the cache", () => {
    vi.useFakeTimers();
    const fake = new FakeInventory({ stepMs: 10 });
    fake.syncStart({ mode: "full" });
    expect(() => fake.rebuild()).toThrow(expect.objectContaining({ code: "conflict" }));
    fake.syncCancel();
    expect(fake.rebuild().freshness.empty).toBe(true);
    expect(fake.list(vmQuery()).total).toBe(0);
  });
});

describe("FakeInventory topology", () => {
  it("draws the hierarchy with the Kubernetes cluster expanded and big VM groups collapsed", () => {
    const fake = new FakeInventory();
    const { graph, vmCount } = fake.topology({ expanded: [] });
    expect(vmCount).toBe(120);
    const node = (id: string) => graph.nodes.find((n) => n.id === id);
    const cluster = node(`cluster:${DEMO_CLUSTER}`)!;
    expect(cluster.detail).toMatchObject({ vip: DEMO_VIP, kubernetesVersion: "1.30.4" });
    const pools = graph.nodes.filter((n) => n.parent === cluster.id);
    expect(pools.map((p) => p.label).sort()).toEqual(["control-plane-pool", "worker-pool"]);
    expect(graph.nodes.filter((n) => n.kind === "vm")).toHaveLength(5);
    const groups = graph.nodes.filter((n) => n.kind === "vm_group");
    expect(groups).toHaveLength(2);
    expect(groups.every((g) => g.collapsed)).toBe(true);
    expect(groups.reduce((sum, g) => sum + g.counts!.vms, 0)).toBe(115);
    // Aggregated subnet edges stand for the collapsed VMs; every edge has both ends drawn.
    expect(graph.edges.some((e) => e.from === groups[0].id && e.kind === "attached" && (e.count ?? 0) > 0)).toBe(true);
    const ids = new Set(graph.nodes.map((n) => n.id));
    expect(graph.edges.every((e) => ids.has(e.from) && ids.has(e.to))).toBe(true);
    const pcg = graph.nodes.find((n) => n.kind === "pcg")!;
    expect(graph.edges.some((e) => e.from === pcg.id && e.to === fake.topology({ expanded: [] }).graph.nodes.find((n) => n.kind === "prism_central")!.id && e.kind === "manages")).toBe(true);
    expect(graph.edges.some((e) => e.from === pcg.id && e.to === cluster.id && e.kind === "deploys")).toBe(true);
  });

  it("expands a group on request or when it is within the inline limit", () => {
    const fake = new FakeInventory();
    const group = fake.topology({ expanded: [] }).graph.nodes.find((n) => n.kind === "vm_group")!;
    const expanded = fake.topology({ expanded: [group.id] }).graph;
    expect(expanded.nodes.find((n) => n.id === group.id)!.collapsed).toBe(false);
    expect(expanded.nodes.filter((n) => n.parent === group.id)).toHaveLength(group.counts!.vms);
    const inline = fake.topology({ expanded: [], inlineLimit: 1000 }).graph;
    expect(inline.nodes.filter((n) => n.kind === "vm")).toHaveLength(120);
  });

  it("finds VMs inside collapsed groups and says which group to expand", () => {
    const fake = new FakeInventory();
    const target = fake.estate.vm.find((v) => !v.k8s && v.assigned.length > 0)!;
    const [hit] = fake.search({ text: target.name, expanded: [] }).hits;
    expect(hit).toEqual({ nodeId: `vm:${target.uuid}`, kind: "vm", label: target.name, expand: `vmgroup:${target.pe}` });
    const again = fake.search({ text: target.assigned[0], expanded: [`vmgroup:${target.pe}`] }).hits.find((h) => h.nodeId === hit.nodeId);
    expect(again?.expand).toBeNull();
    const k8s = fake.search({ text: DEMO_CLUSTER, expanded: [] }).hits;
    expect(k8s[0]).toMatchObject({ kind: "cluster", nodeId: `cluster:${DEMO_CLUSTER}` });
    expect(k8s.filter((h) => h.kind === "vm").every((h) => h.expand === null)).toBe(true);
    expect(fake.search({ text: "a", expanded: [], limit: 7 }).hits).toHaveLength(7);
  });
});
