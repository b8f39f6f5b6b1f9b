import { describe, expect, it } from "vitest";
import type { ClusterDetail, DeploySpec, IpcError, PoolSpec } from "../bindings";
import { DEMO_CLUSTER_NAME, FakeClusters, LIFECYCLE } from "./fake-cluster";
import { FakeInventory } from "./fake-inventory";
import { FakeProfile } from "./fake-profile";

function thrown(fn: () => unknown): IpcError {
  try {
    fn();
  } catch (error) {
    return error as IpcError;
  }
  throw new Error("expected the call to fail");
}

const START = Date.parse("2026-11-21T09:00:00Z");

/** A fake on a fixed clock, one demo second per real second, so `advance` reads as the lifecycle. */
function fake(seed: "demo" | "empty" = "empty") {
  return new FakeClusters({ now: () => new Date(START), timeScale: 1, seed });
}

const pool = (name: string, replicas: number): PoolSpec => ({
  name,
  replicas,
  vcpuSockets: 2,
  vcpusPerSocket: 1,
  memoryGib: 8,
  diskGib: 40,
  bootType: "legacy",
});

function spec(name: string, overrides: Partial<DeploySpec> = {}): DeploySpec {
  return {
    name,
    description: "",
    accountUid: "acc-1",
    profileUid: "missing",
    layerValues: [],
    prismElement: { uuid: "pe-1", name: "pe-fra-a", useUuid: false },
    subnets: [{ uuid: "sn-1", name: "vlan-30-k8s", useUuid: false }],
    image: { uuid: "img-1", name: "ubuntu-2204-kube-v1.30.4", useUuid: false },
    kubernetesVersion: "v1.30.4",
    controlPlaneEndpoint: "10.30.0.101",
    controlPlanePort: 6443,
    controlPlane: pool("", 1),
    workers: [pool("", 2)],
    sshPublicKey: "ssh-ed25519 AAAA test",
    podCidr: "192.168.0.0/16",
    serviceCidr: "10.96.0.0/12",
    ...overrides,
  };
}

const nodes = (d: ClusterDetail) => d.pools.flatMap((p) => p.nodes);
const reasons = (d: ClusterDetail) => d.events.map((e) => e.reason);

describe("FakeClusters", () => {
  it("seeds demo-k8s Running with its VMs, and links it to the inventory fake's uid and VMs", () => {
    const alone = fake("demo");
    const uid = alone.findByName(DEMO_CLUSTER_NAME)!;
    const seeded = alone.clusterDetail({ uid });
    expect(seeded.phase).toBe("running");
    expect(seeded.kubeconfigReady).toBe(true);
    expect(nodes(seeded)).toHaveLength(5);
    expect(nodes(seeded).every((n) => n.vmUuid && n.ip && n.state === "Running")).toBe(true);

    const inventory = new FakeInventory({ now: () => new Date(START) });
    const linked = fake("demo");
    linked.link({ inventory });
    const record = inventory.estate.palette_cluster.find((c) => c.name === DEMO_CLUSTER_NAME)!;
    expect(linked.findByName(DEMO_CLUSTER_NAME)).toBe(record.uid);
    const detail = linked.clusterDetail({ uid: record.uid });
    const vms = inventory.estate.vm.filter((v) => v.k8s === DEMO_CLUSTER_NAME).map((v) => v.uuid);
    expect(nodes(detail).map((n) => n.vmUuid).sort()).toEqual([...vms].sort());
    expect(detail.endpoint).toBe(`${record.endpointHost}:6443`);
    expect(detail.profile?.uid).toBe(record.profile);
    expect(detail.newerProfileVersions.map((v) => v.version)).toEqual(["1.1.0", "1.2.0"]);
    expect(thrown(() => linked.clusterDetail({ uid }))).toMatchObject({ code: "not_found" });
  });

  it("walks a new cluster through Pending, Provisioning (VMs with IPs appear) and Running, then Healthy", () => {
    const clusters = fake();
    const uid = clusters.create({ name: "edge-1", spec: spec("edge-1") });
    let d = clusters.clusterDetail({ uid });
    expect(d).toMatchObject({ phase: "pending", kubeconfigReady: false, endpoint: "10.30.0.101:6443" });
    expect(nodes(d)).toHaveLength(0);

    clusters.advance(LIFECYCLE.pendingToProvisioning);
    d = clusters.clusterDetail({ uid });
    expect(d.phase).toBe("provisioning");
    expect(nodes(d).map((n) => [n.state, n.vmUuid])).toEqual([
      ["Pending", null],
      ["Pending", null],
      ["Pending", null],
    ]);

    clusters.advance(LIFECYCLE.machinePendingToProvisioning);
    d = clusters.clusterDetail({ uid });
    const ips = nodes(d).map((n) => n.ip);
    expect(nodes(d).every((n) => n.state === "Provisioning" && n.vmUuid)).toBe(true);
    expect(new Set(ips).size).toBe(3);
    expect(ips).not.toContain("10.30.0.101");
    expect(nodes(d)[0].name).toMatch(/^edge-1-cp-[a-z]{5}$/);

    clusters.advance(LIFECYCLE.workerReady);
    d = clusters.clusterDetail({ uid });
    expect(d.phase).toBe("provisioning");
    expect(d.pools.map((p) => p.nodes.map((n) => n.state))).toEqual([["Provisioning"], ["Running", "Running"]]);

    clusters.advance(LIFECYCLE.controlPlaneReady - LIFECYCLE.workerReady);
    d = clusters.clusterDetail({ uid });
    expect(d).toMatchObject({ phase: "running", state: "Running", kubeconfigReady: true, health: null });
    const took = LIFECYCLE.pendingToProvisioning + LIFECYCLE.machinePendingToProvisioning + LIFECYCLE.controlPlaneReady;
    expect(Number(d.elapsedSeconds)).toBe(took);
    expect(reasons(d)).toEqual(["Created", "Provisioning", "VmCreated", "VmCreated", "VmCreated", "NodeReady", "NodeReady", "NodeReady", "ClusterRunning"]);

    clusters.advance(LIFECYCLE.healthyAfterRunning + 100);
    d = clusters.clusterDetail({ uid });
    expect(d.health).toBe("Healthy");
    // Once Running, the elapsed time is how long it took, not the age.
    expect(Number(d.elapsedSeconds)).toBe(took);
  });

  it("never creates a cluster twice under one name", () => {
    const clusters = fake();
    const uid = clusters.create({ name: "edge-1", spec: spec("edge-1") });
    expect(clusters.create({ name: " edge-1 ", spec: spec("edge-1") })).toBe(uid);
    expect(clusters.findByName("edge-1")).toBe(uid);
    expect(clusters.findByName("other")).toBeUndefined();
  });

  it("fails a planned create with the outcome's problem and next step", () => {
    const clusters = fake();
    clusters.failNextCreate({ problem: "Image missing on pe-fra-a.", nextStep: "Upload it and deploy again." });
    const uid = clusters.create({ name: "broken", spec: spec("broken") });
    clusters.advance(LIFECYCLE.pendingToProvisioning + LIFECYCLE.machinePendingToProvisioning + 200);
    const d = clusters.clusterDetail({ uid });
    expect(d).toMatchObject({ phase: "failed", outcome: { problem: "Image missing on pe-fra-a.", nextStep: "Upload it and deploy again." } });
    expect(nodes(d).every((n) => n.vmUuid === null)).toBe(true);
    expect(d.events.at(-1)).toMatchObject({ reason: "ProvisioningFailed", severity: "Error" });
    // The next one is fine again.
    const ok = clusters.create({ name: "fine", spec: spec("fine") });
    clusters.advance(200);
    expect(clusters.clusterDetail({ uid: ok }).phase).toBe("running");
  });

  it("saves the kubeconfig only once Running, to ~/.kube by default", () => {
    const clusters = fake();
    const uid = clusters.create({ name: "edge-1", spec: spec("edge-1") });
    expect(thrown(() => clusters.kubeconfigSave({ uid }))).toMatchObject({ code: "not_found" });
    clusters.advance(200);
    const saved = clusters.kubeconfigSave({ uid });
    expect(saved.path).toBe("/home/operator/.kube/capstan-edge-1.yaml");
    expect(saved.hint).toContain(`KUBECONFIG=${saved.path} kubectl`);
    expect(Number(saved.bytes)).toBeGreaterThan(100);
    expect(thrown(() => clusters.kubeconfigSave({ uid, path: "edge.yaml" }))).toMatchObject({ code: "invalid_input", details: { field: "path" } });
    expect(clusters.savedKubeconfigs.map((s) => s.path)).toEqual([saved.path]);
  });

  it("scales a pool up and down through new and deleted nodes, and refuses an even control plane", () => {
    const clusters = fake("demo");
    const uid = clusters.findByName(DEMO_CLUSTER_NAME)!;
    let d = clusters.clusterScale({ uid, pool: "worker-pool", replicas: 4 });
    const workers = () => d.pools.find((p) => p.name === "worker-pool")!;
    expect(d.phase).toBe("updating");
    expect(workers().size).toBe(4);
    expect(workers().nodes.map((n) => n.state)).toEqual(["Running", "Running", "Pending", "Pending"]);
    clusters.advance(LIFECYCLE.machinePendingToProvisioning + LIFECYCLE.workerReady);
    d = clusters.clusterDetail({ uid });
    expect(d.phase).toBe("running");
    expect(workers().nodes.every((n) => n.state === "Running" && n.ip)).toBe(true);

    const newest = workers().nodes.slice(1).map((n) => n.name);
    d = clusters.clusterScale({ uid, pool: "worker-pool", replicas: 1 });
    // The newest machines go; the oldest stays.
    expect(workers().nodes.filter((n) => n.state === "Deleting").map((n) => n.name)).toEqual(newest);
    clusters.advance(LIFECYCLE.nodeDelete);
    d = clusters.clusterDetail({ uid });
    expect(workers().nodes).toHaveLength(1);
    expect(d.phase).toBe("running");

    expect(thrown(() => clusters.clusterScale({ uid, pool: "control-plane-pool", replicas: 2 }))).toMatchObject({ code: "invalid_input" });
    expect(thrown(() => clusters.clusterScale({ uid, pool: "nope", replicas: 2 }))).toMatchObject({ code: "invalid_input" });
    const fresh = clusters.create({ name: "edge-1", spec: spec("edge-1") });
    expect(thrown(() => clusters.clusterScale({ uid: fresh, pool: "worker-pool", replicas: 3 }))).toMatchObject({ code: "conflict" });
  });

  it("plans a profile update per changed layer and applies it, changing the Kubernetes version", () => {
    const clusters = fake("demo");
    const uid = clusters.findByName(DEMO_CLUSTER_NAME)!;
    const before = clusters.clusterDetail({ uid });
    const target = before.newerProfileVersions.find((v) => v.version === "1.2.0")!;
    const plan = clusters.clusterProfilePlan({ uid, profileUid: target.uid });
    expect(plan.from?.version).toBe("1.0.0");
    expect(plan.to.version).toBe("1.2.0");
    expect(plan.changes.map((c) => [c.layer, c.fromVersion, c.toVersion])).toEqual([
      ["k8s", "1.30.4", "1.31.4"],
      ["cni", "1.15.6", "1.16.3"],
      ["csi", "3.1.0", "3.2.0"],
      ["addon", null, "1.11.2"],
    ]);
    const cni = plan.changes.find((c) => c.layer === "cni")!;
    expect(cni.fromValues).toContain("enabled: false");
    expect(cni.toValues).toContain("enabled: true");
    expect(plan.impact).toContain("1.31.4");

    let d = clusters.clusterProfileUpdate({ uid, profileUid: target.uid });
    expect(d.phase).toBe("updating");
    expect(d.profile?.version).toBe("1.2.0");
    expect(d.newerProfileVersions).toEqual([]);
    expect(d.kubernetesVersion).toBe("1.30.4");
    clusters.advance(LIFECYCLE.profileApply);
    d = clusters.clusterDetail({ uid });
    expect(d).toMatchObject({ phase: "running", kubernetesVersion: "1.31.4" });
    expect(reasons(d).slice(-2)).toEqual(["ProfileUpdating", "ProfileUpdated"]);
  });

  it("plans against step-4 profiles once linked, and refuses another profile's version", () => {
    const profiles = new FakeProfile();
    const layers = (["os", "k8s", "cni", "csi"] as const).map((layer) => {
      const pack = profiles.packsByLayer({ layer }).packs[0];
      return { layer, registryUid: pack.registryUid, packName: pack.name, version: pack.versions[0], values: "" };
    });
    const other = profiles.profileCreate({ name: "edge", version: "1.0.0", description: "", layers, publish: true });
    const clusters = fake("demo");
    clusters.link({ profiles });
    const uid = clusters.findByName(DEMO_CLUSTER_NAME)!;
    expect(thrown(() => clusters.clusterProfilePlan({ uid, profileUid: other.uid }))).toMatchObject({ code: "invalid_input" });
    const created = clusters.create({ name: "edge-1", spec: spec("edge-1", { profileUid: other.uid }) });
    expect(clusters.clusterDetail({ uid: created }).profile).toEqual({ uid: other.uid, name: "edge", version: "1.0.0" });
  });

  it("deletes after the typed name: Deleting, Deleted, then not_found", () => {
    const clusters = fake("demo");
    const uid = clusters.findByName(DEMO_CLUSTER_NAME)!;
    expect(thrown(() => clusters.clusterDelete({ uid, confirmName: "demo", force: false }))).toMatchObject({
      code: "invalid_input",
      details: { field: "confirmName" },
    });
    expect(clusters.clusterDetail({ uid }).phase).toBe("running");
    let d = clusters.clusterDelete({ uid, confirmName: DEMO_CLUSTER_NAME, force: false });
    expect(d.phase).toBe("deleting");
    expect(nodes(d).every((n) => n.state === "Deleting")).toBe(true);
    expect(d.kubeconfigReady).toBe(false);
    clusters.advance(LIFECYCLE.deletingToDeleted);
    d = clusters.clusterDetail({ uid });
    expect(d.phase).toBe("deleted");
    expect(d.deleteStuck).toBe(false);
    expect(nodes(d)).toHaveLength(0);
    clusters.advance(LIFECYCLE.deletedToGone);
    expect(thrown(() => clusters.clusterDetail({ uid }))).toMatchObject({ code: "not_found" });
    expect(clusters.findByName(DEMO_CLUSTER_NAME)).toBeUndefined();
  });

  it("reports a delete stuck on an unavailable PE, and force delete removes the record but names the VMs left", () => {
    const clusters = fake("demo");
    const uid = clusters.findByName(DEMO_CLUSTER_NAME)!;
    const vmNames = nodes(clusters.clusterDetail({ uid })).map((n) => n.name);
    clusters.makeDeleteStuck(uid);
    // Force is refused while there is no delete to unstick.
    expect(thrown(() => clusters.clusterDelete({ uid, confirmName: DEMO_CLUSTER_NAME, force: true }))).toMatchObject({
      code: "invalid_input",
      details: { field: "force" },
    });
    clusters.clusterDelete({ uid, confirmName: DEMO_CLUSTER_NAME, force: false });
    expect(clusters.clusterDetail({ uid }).deleteStuck).toBe(false);
    clusters.advance(LIFECYCLE.firstDeleteAttempt);
    let d = clusters.clusterDetail({ uid });
    expect(d.events.at(-1)).toMatchObject({ reason: "MachineDeleteFailed", severity: "Warning" });
    expect(d).toMatchObject({ phase: "deleting", deleteStuck: true });
    expect(d.outcome?.problem).toContain("is not available");
    expect(d.outcome?.nextStep).toMatch(/force delete/i);

    expect(thrown(() => clusters.clusterDelete({ uid, confirmName: "x", force: true }))).toMatchObject({ code: "invalid_input" });
    d = clusters.clusterDelete({ uid, confirmName: DEMO_CLUSTER_NAME, force: true });
    expect(d.phase).toBe("deleted");
    for (const name of vmNames) expect(d.outcome?.problem).toContain(name);
    expect(thrown(() => clusters.clusterDetail({ uid }))).toMatchObject({ code: "not_found" });
  });

  it("finishes a hanging delete once the Prism Element is back", () => {
    const clusters = fake("demo");
    const uid = clusters.findByName(DEMO_CLUSTER_NAME)!;
    clusters.makeDeleteStuck(uid);
    clusters.clusterDelete({ uid, confirmName: DEMO_CLUSTER_NAME, force: false });
    clusters.advance(LIFECYCLE.deleteStuckAfter + 10);
    expect(clusters.clusterDetail({ uid }).deleteStuck).toBe(true);
    clusters.restorePrismElement(uid);
    clusters.advance(LIFECYCLE.deleteRetry);
    expect(clusters.clusterDetail({ uid }).phase).toBe("deleted");
  });
});
