import type {
  ClusterCondition,
  ClusterDeleteRequest,
  ClusterDetail,
  ClusterEvent,
  ClusterOutcome,
  ClusterPhase,
  ClusterScaleRequest,
  ClusterUidRequest,
  DeploySpec,
  IpcError,
  KubeconfigSaveRequest,
  KubeconfigSaved,
  LayerChange,
  PackLayer,
  ProfileUpdatePlan,
  ProfileUpdateRequest,
  ProfileVersion,
} from "../bindings";
import type { FakeInventory } from "./fake-inventory";
import type { FakeProfile } from "./fake-profile";

/**
 * The day-2 half of the `FakeServer`: Palette clusters created by `cluster_deploy` (and one
 * seeded Running cluster, `demo-k8s`), their progress over (fake) time, kubeconfig, scale,
 * profile update and delete, timed like the sandbox (crates/capstan-sandbox/README.md,
 * "Lifecycles"). Time is the injectable clock plus `advance()`; every command first plays
 * whatever became due, so the answers are the same however often the UI polls.
 */

/** Demo seconds of each lifecycle step (real time = demo × `timeScale`). */
export const LIFECYCLE = {
  pendingToProvisioning: 15,
  machinePendingToProvisioning: 5,
  controlPlaneReady: 60,
  workerReady: 45,
  healthyAfterRunning: 10,
  deletingToDeleted: 40,
  deletedToGone: 20,
  nodeDelete: 20,
  firstDeleteAttempt: 5,
  deleteRetry: 30,
  profileApply: 20,
  /** A delete still running after this long (or after a failed machine delete) is reported stuck. */
  deleteStuckAfter: 60,
} as const;

export const DEMO_CLUSTER_NAME = "demo-k8s";
export const DEMO_PROFILE_NAME = "demo-k8s-profile";
const HOME = "/home/operator";
const API_PORT = 6443;

export interface FakeClustersOptions {
  now?: () => Date;
  /** Real seconds per demo second (default 0.1: a new cluster is Running in about 9 s). */
  timeScale?: number;
  /** `demo` (default): one Running cluster, demo-k8s; `empty`: none. */
  seed?: "demo" | "empty";
}

type NodeState = "Pending" | "Provisioning" | "Running" | "Deleting";
type ClusterState = "Pending" | "Provisioning" | "Running" | "Failed" | "Deleting" | "Deleted";

interface NodeRecord {
  uid: string;
  name: string;
  state: NodeState;
  vmUuid: string | null;
  ip: string | null;
  updatedAt: number;
}

interface PoolRecord {
  name: string;
  controlPlane: boolean;
  size: number;
  nodes: NodeRecord[];
}

interface LayerRecord {
  layer: PackLayer;
  packName: string;
  version: string;
  values: string;
}

interface ProfileRecord {
  uid: string;
  name: string;
  version: string;
  layers: LayerRecord[];
}

interface ClusterRecord {
  uid: string;
  name: string;
  state: ClusterState;
  health: string | null;
  createdAt: number;
  runningAt: number | null;
  failedAt: number | null;
  deleteStartedAt: number | null;
  endpoint: string | null;
  kubernetesVersion: string | null;
  accountName: string | null;
  profileUid: string | null;
  peName: string;
  /** The first three octets of the node subnet, and the next host number to hand out. */
  ipBase: string;
  nextHost: number;
  vip: string | null;
  pools: PoolRecord[];
  events: Array<ClusterEvent & { atMs: number }>;
  conditions: ClusterCondition[];
  outcome: ClusterOutcome | null;
  /** A profile update is applying. */
  applyingProfile: boolean;
  /** Its Prism Element is unavailable: machine deletes fail and a delete hangs. */
  peUnavailable: boolean;
  /** Fail provisioning when the first VM would be created. */
  failure: ClusterOutcome | null;
}

interface Timer {
  at: number;
  seq: number;
  uid: string;
  run: () => void;
}

function notFound(uid: string): IpcError {
  return {
    code: "not_found",
    message: `No cluster with uid ${uid} in Palette: it was deleted, or it belongs to another project. Open the Clusters page for the current list.`,
  };
}

function invalid(message: string, field: string): IpcError {
  return { code: "invalid_input", message, details: { field } };
}

function notReady(message: string): IpcError {
  return { code: "not_found", message };
}

function conflict(message: string): IpcError {
  return { code: "conflict", message };
}

/** A count as the wire carries it (a plain JSON number). */
function u64<T>(n: number): NonNullable<T> {
  return n as unknown as NonNullable<T>;
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

// ---- the seeded profile versions --------------------------------------------------------------

const UBUNTU_VALUES = "# The OS image is the CAPX image named by the cluster's machine templates.\nkubeadmconfig:\n  preKubeadmCommands:\n    - systemctl enable --now iscsid\n";

function kubernetesValues(version: string, extraArgs: string[] = []): string {
  return [
    "pack:",
    `  k8sHardening: true`,
    "kubeadmconfig:",
    "  apiServer:",
    "    extraArgs:",
    "      profiling: \"false\"",
    "      audit-log-maxage: \"30\"",
    ...extraArgs.map((line) => `      ${line}`),
    "  controllerManager:",
    "    extraArgs:",
    "      profiling: \"false\"",
    `# kubernetes ${version}`,
    "",
  ].join("\n");
}

function ciliumValues(version: string, hubble: boolean): string {
  return [
    "charts:",
    "  cilium:",
    `    image:\n      tag: v${version}`,
    "    ipam:",
    "      mode: kubernetes",
    "    kubeProxyReplacement: false",
    "    hubble:",
    `      enabled: ${hubble}`,
    ...(hubble ? ["      relay:", "        enabled: true"] : []),
    "",
  ].join("\n");
}

function csiValues(version: string, storageClass: string): string {
  return [
    "charts:",
    "  nutanix-csi-storage:",
    `    # nutanix-csi ${version}`,
    "    storageClass:",
    `      name: ${storageClass}`,
    "      isDefault: true",
    "      reclaimPolicy: Delete",
    "    volumeSnapshot:",
    "      enabled: true",
    "",
  ].join("\n");
}

function demoProfiles(firstUid: string): ProfileRecord[] {
  const layers = (k8s: string, cilium: string, hubble: boolean, csi: string, storageClass: string, extra: string[] = []): LayerRecord[] => [
    { layer: "os", packName: "ubuntu", version: "22.04", values: UBUNTU_VALUES },
    { layer: "k8s", packName: "kubernetes", version: k8s, values: kubernetesValues(k8s, extra) },
    { layer: "cni", packName: "cni-cilium-oss", version: cilium, values: ciliumValues(cilium, hubble) },
    { layer: "csi", packName: "nutanix-csi", version: csi, values: csiValues(csi, storageClass) },
  ];
  return [
    { uid: firstUid, name: DEMO_PROFILE_NAME, version: "1.0.0", layers: layers("1.30.4", "1.15.6", false, "3.1.0", "default-storageclass") },
    {
      uid: "66d0c1a2b3c4d5e6f7a80110",
      name: DEMO_PROFILE_NAME,
      version: "1.1.0",
      layers: layers("1.30.4", "1.16.3", true, "3.2.0", "nutanix-volume"),
    },
    {
      uid: "66d0c1a2b3c4d5e6f7a80120",
      name: DEMO_PROFILE_NAME,
      version: "1.2.0",
      layers: [
        ...layers("1.31.4", "1.16.3", true, "3.2.0", "nutanix-volume", ["audit-log-maxbackup: \"10\""]),
        { layer: "addon", packName: "nginx", version: "1.11.2", values: "charts:\n  ingress-nginx:\n    controller:\n      replicaCount: 2\n" },
      ],
    },
  ];
}

// ---- the seeded cluster -----------------------------------------------------------------------

/** What the seeded Running cluster looks like; `link()` replaces it with the inventory fake's. */
interface DemoShape {
  uid: string;
  endpointHost: string;
  kubernetesVersion: string;
  accountName: string;
  profileUid: string;
  peName: string;
  pools: Array<{ name: string; controlPlane: boolean; nodes: Array<{ uid: string; name: string; vmUuid: string; ip: string }> }>;
}

const DEFAULT_DEMO: DemoShape = {
  uid: "66d0c1a2b3c4d5e6f7a80001",
  endpointHost: "10.30.0.240",
  kubernetesVersion: "1.30.4",
  accountName: "nutanix-fra",
  profileUid: "66d0c1a2b3c4d5e6f7a80100",
  peName: "pe-fra-a",
  pools: [
    {
      name: "control-plane-pool",
      controlPlane: true,
      nodes: ["bqkzt", "dhrwm", "fxlpc"].map((suffix, i) => ({
        uid: `66d0c1a2b3c4d5e6f7a8100${i}`,
        name: `${DEMO_CLUSTER_NAME}-cp-${suffix}`,
        vmUuid: `5b0c6a1e-7d2f-4c3a-9e81-00000000100${i}`,
        ip: `10.30.0.${21 + i}`,
      })),
    },
    {
      name: "worker-pool",
      controlPlane: false,
      nodes: ["gmnrs", "tvwxz"].map((suffix, i) => ({
        uid: `66d0c1a2b3c4d5e6f7a8200${i}`,
        name: `${DEMO_CLUSTER_NAME}-worker-pool-${suffix}`,
        vmUuid: `5b0c6a1e-7d2f-4c3a-9e81-00000000200${i}`,
        ip: `10.30.0.${31 + i}`,
      })),
    },
  ],
};

/** The inventory fake's demo cluster (same uid, VMs and IPs), so the Clusters page links to it. */
function demoFromInventory(estate: FakeInventory["estate"]): DemoShape | null {
  const record = estate.palette_cluster.find((c) => c.name === DEMO_CLUSTER_NAME);
  if (!record) return null;
  const peOf = (vmUuid: string) => {
    const vm = estate.vm.find((v) => v.uuid === vmUuid);
    return estate.pe_cluster.find((p) => p.uuid === vm?.pe)?.name;
  };
  const pools = estate.machine_pool
    .filter((p) => p.clusterUid === record.uid)
    .map((p) => ({
      name: p.name,
      controlPlane: p.isCp,
      nodes: estate.node
        .filter((n) => n.clusterUid === record.uid && n.pool === p.name)
        .map((n) => ({ uid: n.uid, name: n.name, vmUuid: n.vmUuid, ip: n.ip })),
    }));
  const firstVm = pools.flatMap((p) => p.nodes)[0]?.vmUuid;
  return {
    uid: record.uid,
    endpointHost: record.endpointHost,
    kubernetesVersion: record.kubernetesVersion,
    accountName: estate.cloud_account.find((a) => a.uid === record.account)?.name ?? DEFAULT_DEMO.accountName,
    profileUid: record.profile,
    peName: (firstVm && peOf(firstVm)) || DEFAULT_DEMO.peName,
    pools,
  };
}

export class FakeClusters {
  /** Kubeconfigs written, newest last (path and the cluster's uid). */
  readonly savedKubeconfigs: Array<{ uid: string; path: string }> = [];
  private readonly records = new Map<string, ClusterRecord>();
  /** Clusters made through `create`, oldest first (the seeded one is not among them). */
  private readonly deployedUids: string[] = [];
  private profiles: ProfileRecord[];
  private profileSource: FakeProfile | null = null;
  private readonly now: () => Date;
  private readonly timeScale: number;
  private skewMs = 0;
  /** The time transitions are being played at (their events carry it). */
  private clock: number;
  private timers: Timer[] = [];
  private timerSeq = 0;
  private idSeq = 0;
  private plannedFailure: ClusterOutcome | null = null;

  constructor(options: FakeClustersOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.timeScale = options.timeScale ?? 0.1;
    this.clock = this.time();
    this.profiles = demoProfiles(DEFAULT_DEMO.profileUid);
    if ((options.seed ?? "demo") === "demo") this.seedDemo(DEFAULT_DEMO);
  }

  // ---- test and wiring controls ----------------------------------------------------------

  /**
   * Ties the fake to the others of the `FakeServer`: the seeded cluster becomes the inventory's
   * demo-k8s (same Palette uid, VMs and IPs), and profiles created in step 4 can be deployed,
   * planned and updated to.
   */
  link(sources: { inventory?: FakeInventory; profiles?: FakeProfile }): void {
    if (sources.profiles) this.profileSource = sources.profiles;
    const shape = sources.inventory ? demoFromInventory(sources.inventory.estate) : null;
    if (!shape) return;
    const seeded = [...this.records.values()].find((r) => r.name === DEMO_CLUSTER_NAME);
    if (!seeded) return;
    this.records.delete(seeded.uid);
    this.timers = this.timers.filter((t) => t.uid !== seeded.uid);
    this.profiles = this.profiles.map((p) => (p.uid === DEFAULT_DEMO.profileUid ? { ...p, uid: shape.profileUid } : p));
    this.seedDemo(shape);
  }

  /** Lets `demoSeconds` of lifecycle pass (scaled like the rest of the fake). */
  advance(demoSeconds: number): void {
    this.skewMs += demoSeconds * 1000 * this.timeScale;
    this.settle();
  }

  /** The next cluster created fails when CAPX tries to create its first VM. */
  failNextCreate(outcome?: Partial<ClusterOutcome>): void {
    this.plannedFailure = {
      problem:
        outcome?.problem ??
        "CAPX could not create the first control-plane VM: Prism Central answered that the image is not available on the chosen Prism Element.",
      nextStep: outcome?.nextStep ?? "Upload or copy the image to that Prism Element (or choose another image), delete this cluster and deploy it again.",
    };
  }

  /** Makes the cluster's Prism Element unavailable: its machines cannot be deleted, so a delete hangs and is reported stuck. */
  makeDeleteStuck(uid: string): void {
    this.record(uid).peUnavailable = true;
  }

  /** Brings the Prism Element back: a hanging delete finishes at its next retry. */
  restorePrismElement(uid: string): void {
    this.record(uid).peUnavailable = false;
  }

  // ---- used by the deploy fake ------------------------------------------------------------

  /** Registers a new cluster from a deploy form; returns its uid (an existing one of that name is kept). */
  create(input: { name: string; spec: DeploySpec }): string {
    this.settle();
    const name = input.name.trim();
    if (!name) throw invalid("Give the cluster a name.", "name");
    const existing = this.findByName(name);
    if (existing) return existing;
    const { spec } = input;
    const octets = /^(\d+\.\d+\.\d+)\.(\d+)$/.exec(spec.controlPlaneEndpoint.trim());
    const profile = this.profileByUid(spec.profileUid);
    const k8sLayer = profile?.layers.find((l) => l.layer === "k8s");
    const record: ClusterRecord = {
      uid: this.nextUid(),
      name,
      state: "Pending",
      health: null,
      createdAt: this.clock,
      runningAt: null,
      failedAt: null,
      deleteStartedAt: null,
      endpoint: spec.controlPlaneEndpoint.trim() ? `${spec.controlPlaneEndpoint.trim()}:${spec.controlPlanePort || API_PORT}` : null,
      kubernetesVersion: spec.kubernetesVersion.replace(/^v/, "") || k8sLayer?.version || null,
      accountName: null,
      profileUid: profile ? profile.uid : spec.profileUid || null,
      peName: spec.prismElement.name,
      ipBase: octets ? octets[1] : "10.30.0",
      nextHost: 100,
      vip: octets ? spec.controlPlaneEndpoint.trim() : null,
      pools: [
        { name: spec.controlPlane.name || "control-plane-pool", controlPlane: true, size: spec.controlPlane.replicas, nodes: [] },
        ...spec.workers.map((w, i) => ({
          name: w.name || (i === 0 ? "worker-pool" : `worker-pool-${i + 1}`),
          controlPlane: false,
          size: w.replicas,
          nodes: [],
        })),
      ],
      events: [],
      conditions: [],
      outcome: null,
      applyingProfile: false,
      peUnavailable: false,
      failure: this.plannedFailure,
    };
    this.plannedFailure = null;
    this.records.set(record.uid, record);
    this.deployedUids.push(record.uid);
    this.event(record, "Created", `Palette accepted the cluster; waiting for the Private Cloud Gateway to start provisioning it on ${record.peName}.`);
    this.condition(record, "CloudInfrastructureReady", "False", "Pending", "Waiting for the Private Cloud Gateway.");
    this.schedule(record, LIFECYCLE.pendingToProvisioning, () => this.startProvisioning(record));
    return record.uid;
  }

  /** The newest cluster made through `create` that still exists (what step 5 shows). */
  latestDeployed(): { uid: string; name: string; state: string } | null {
    this.settle();
    for (const uid of [...this.deployedUids].reverse()) {
      const r = this.records.get(uid);
      if (r && r.state !== "Deleted") return { uid: r.uid, name: r.name, state: r.state };
    }
    return null;
  }

  /** The uid of a live (not deleted) cluster of that name. */
  findByName(name: string): string | undefined {
    this.settle();
    return [...this.records.values()].find((r) => r.name === name.trim() && r.state !== "Deleted")?.uid;
  }

  // ---- commands ----------------------------------------------------------------------------

  clusterDetail(request: ClusterUidRequest): ClusterDetail {
    this.settle();
    return this.detail(this.record(request.uid));
  }

  kubeconfigSave(request: KubeconfigSaveRequest): KubeconfigSaved {
    this.settle();
    const record = this.record(request.uid);
    if (!this.kubeconfigReady(record)) {
      throw notReady(`The kubeconfig of ${record.name} is not ready: Palette issues it once the cluster is Running (it is ${record.state}).`);
    }
    const wanted = request.path?.trim() || `~/.kube/capstan-${record.name}.yaml`;
    if (!wanted.startsWith("/") && !wanted.startsWith("~/")) {
      throw invalid(`Save the kubeconfig to an absolute path (like ${HOME}/.kube/${record.name}.yaml), not "${wanted}".`, "path");
    }
    const path = wanted.startsWith("~/") ? `${HOME}/${wanted.slice(2)}` : wanted;
    this.savedKubeconfigs.push({ uid: record.uid, path });
    return { path, bytes: u64<KubeconfigSaved["bytes"]>(this.kubeconfigText(record).length), hint: `KUBECONFIG=${path} kubectl get nodes` };
  }

  clusterScale(request: ClusterScaleRequest): ClusterDetail {
    this.settle();
    const record = this.record(request.uid);
    const pool = record.pools.find((p) => p.name === request.pool);
    if (!pool) throw invalid(`${record.name} has no node pool named ${request.pool}; it has ${record.pools.map((p) => p.name).join(", ")}.`, "pool");
    if (record.state !== "Running") {
      throw conflict(`${record.name} is ${record.state}: Palette scales a pool only while the cluster is Running.`);
    }
    const replicas = request.replicas;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 100) throw invalid("A pool can have 1 to 100 nodes; delete the pool instead of emptying it.", "replicas");
    if (pool.controlPlane && ![1, 3, 5].includes(replicas)) {
      throw invalid("The control plane needs 1, 3 or 5 nodes (an odd number keeps etcd's quorum).", "replicas");
    }
    if (replicas === pool.size) return this.detail(record);
    const from = pool.size;
    pool.size = replicas;
    this.event(record, "PoolScaling", `Scaling ${pool.name} from ${from} to ${replicas} ${replicas === 1 ? "node" : "nodes"}.`);
    const live = pool.nodes.filter((n) => n.state !== "Deleting");
    if (replicas > live.length) {
      for (let i = live.length; i < replicas; i++) this.addNode(record, pool);
    } else {
      // Like CAPX: the newest machines go first.
      for (const node of live.slice(replicas).reverse()) this.removeNode(record, pool, node);
    }
    return this.detail(record);
  }

  clusterProfilePlan(request: ProfileUpdateRequest): ProfileUpdatePlan {
    this.settle();
    const record = this.record(request.uid);
    const target = this.profileByUid(request.profileUid);
    if (!target) throw { code: "not_found", message: "That profile version is no longer in Palette. Reload the cluster and pick a version again." } satisfies IpcError;
    const current = record.profileUid ? this.profileByUid(record.profileUid) : undefined;
    if (current && current.name !== target.name) {
      throw invalid(`${target.name} is another profile: a cluster moves only between versions of its own profile, ${current.name}.`, "profileUid");
    }
    const changes = this.changes(current?.layers ?? [], target.layers);
    return {
      from: current ? { uid: current.uid, name: current.name, version: current.version } : null,
      to: { uid: target.uid, name: target.name, version: target.version },
      changes,
      impact: this.impact(changes, current?.uid === target.uid),
    };
  }

  clusterProfileUpdate(request: ProfileUpdateRequest): ClusterDetail {
    const plan = this.clusterProfilePlan(request);
    const record = this.record(request.uid);
    if (record.state !== "Running") {
      throw conflict(`${record.name} is ${record.state}: Palette updates a cluster's profile only while it is Running.`);
    }
    if (plan.from?.uid === plan.to.uid) return this.detail(record);
    record.profileUid = plan.to.uid;
    record.applyingProfile = true;
    const packs = plan.changes.map((c) => c.packName).join(", ");
    this.event(record, "ProfileUpdating", `Applying ${plan.to.name} ${plan.to.version}: ${packs || "no pack changes"}.`);
    this.condition(record, "ProfileApplied", "False", "Upgrading", `Deploying ${packs || plan.to.version}.`);
    const k8s = plan.changes.find((c) => c.layer === "k8s" && c.toVersion);
    this.schedule(record, LIFECYCLE.profileApply, () => {
      record.applyingProfile = false;
      if (k8s?.toVersion) record.kubernetesVersion = k8s.toVersion;
      this.event(record, "ProfileUpdated", `${plan.to.name} ${plan.to.version} is deployed.`);
      this.condition(record, "ProfileApplied", "True", "Deployed", `${plan.to.name} ${plan.to.version}`);
    });
    return this.detail(record);
  }

  clusterDelete(request: ClusterDeleteRequest): ClusterDetail {
    this.settle();
    const record = this.record(request.uid);
    if (request.confirmName.trim() !== record.name) {
      throw invalid(`Type the cluster's name, ${record.name}, to confirm the delete.`, "confirmName");
    }
    if (request.force) {
      // Like the engine: force is for a delete that hangs, never a shortcut past CAPX's cleanup.
      if (record.state !== "Deleting") {
        throw invalid("Force delete is for a delete that is stuck: delete the cluster normally first, so CAPX removes its VMs.", "force");
      }
      return this.forceDelete(record);
    }
    if (record.state === "Deleting" || record.state === "Deleted") return this.detail(record);
    this.cancelTimers(record);
    record.state = "Deleting";
    record.deleteStartedAt = this.clock;
    record.applyingProfile = false;
    const vms = record.pools.flatMap((p) => p.nodes).filter((n) => n.vmUuid);
    for (const node of record.pools.flatMap((p) => p.nodes)) this.setNode(node, "Deleting");
    this.event(record, "Deleting", `Palette is deleting the cluster; CAPX removes its ${vms.length} ${vms.length === 1 ? "VM" : "VMs"} from Prism Central.`);
    this.schedule(record, LIFECYCLE.firstDeleteAttempt, () => this.tryDeleteMachines(record));
    return this.detail(record);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private startProvisioning(record: ClusterRecord): void {
    record.state = "Provisioning";
    this.event(record, "Provisioning", "The Private Cloud Gateway started provisioning: CAPX creates the VMs in Prism Central.");
    this.condition(record, "CloudInfrastructureReady", "True", "Ready", `kube-vip address ${record.vip ?? "assigned"}`);
    // Scheduled before the machines, so it comes before their first VM.
    const failure = record.failure;
    if (failure) this.schedule(record, LIFECYCLE.machinePendingToProvisioning, () => this.fail(record, failure));
    for (const pool of record.pools) {
      this.condition(record, pool.controlPlane ? "ControlPlaneNodeAdditionDone" : "WorkerNodeAdditionDone", "False", "Provisioning", null);
      for (let i = 0; i < pool.size; i++) this.addNode(record, pool);
    }
  }

  private fail(record: ClusterRecord, outcome: ClusterOutcome): void {
    this.cancelTimers(record);
    record.state = "Failed";
    record.failedAt = this.clock;
    record.health = "UnHealthy";
    record.outcome = outcome;
    this.event(record, "ProvisioningFailed", outcome.problem, "Error");
    this.condition(record, "ControlPlaneNodeAdditionDone", "False", "Failed", outcome.problem);
  }

  private addNode(record: ClusterRecord, pool: PoolRecord): void {
    const suffix = this.suffix();
    const node: NodeRecord = {
      uid: this.nextUid(),
      name: pool.controlPlane ? `${record.name}-cp-${suffix}` : `${record.name}-${pool.name}-${suffix}`,
      state: "Pending",
      vmUuid: null,
      ip: null,
      updatedAt: this.clock,
    };
    pool.nodes.push(node);
    this.schedule(record, LIFECYCLE.machinePendingToProvisioning, () => {
      if (node.state !== "Pending") return;
      this.setNode(node, "Provisioning");
      node.vmUuid = this.nextVmUuid();
      node.ip = this.nextIp(record);
      this.event(record, "VmCreated", `Created VM ${node.name} (${node.vmUuid}) on ${record.peName} with IP ${node.ip}.`);
      this.schedule(record, pool.controlPlane ? LIFECYCLE.controlPlaneReady : LIFECYCLE.workerReady, () => {
        if (node.state !== "Provisioning") return;
        this.setNode(node, "Running");
        this.event(record, "NodeReady", `${node.name} joined the cluster and is Ready.`);
        this.settled(record);
      });
    });
  }

  private removeNode(record: ClusterRecord, pool: PoolRecord, node: NodeRecord): void {
    this.setNode(node, "Deleting");
    this.schedule(record, LIFECYCLE.nodeDelete, () => {
      pool.nodes = pool.nodes.filter((n) => n !== node);
      this.event(record, "NodeDeleted", `Deleted ${node.name}${node.vmUuid ? ` and its VM ${node.vmUuid}` : ""}; IP ${node.ip ?? "none"} released.`);
      this.settled(record);
    });
  }

  /** Marks the cluster Running once every pool has its nodes, all Running. */
  private settled(record: ClusterRecord): void {
    for (const pool of record.pools) {
      const ready = pool.nodes.length === pool.size && pool.nodes.every((n) => n.state === "Running");
      this.condition(record, pool.controlPlane ? "ControlPlaneNodeAdditionDone" : "WorkerNodeAdditionDone", ready ? "True" : "False", ready ? "Ready" : "Provisioning", null);
    }
    if (!this.nodesSettled(record)) return;
    if (record.state === "Provisioning") {
      record.state = "Running";
      record.runningAt = this.clock;
      const count = record.pools.reduce((n, p) => n + p.nodes.length, 0);
      this.event(record, "ClusterRunning", `All ${count} nodes are Running; the API server answers at ${record.endpoint ?? "its endpoint"}. The kubeconfig is ready.`);
      this.condition(record, "ProfileApplied", "True", "Deployed", null);
      this.schedule(record, LIFECYCLE.healthyAfterRunning, () => {
        record.health = "Healthy";
        this.event(record, "ClusterHealthy", "Palette reports the cluster Healthy.");
      });
    } else if (record.state === "Running") {
      this.event(record, "PoolsScaled", `Every pool has its nodes: ${record.pools.map((p) => `${p.name} ${p.size}`).join(", ")}.`);
    }
  }

  private nodesSettled(record: ClusterRecord): boolean {
    return record.pools.every((p) => p.nodes.length === p.size && p.nodes.every((n) => n.state === "Running"));
  }

  private tryDeleteMachines(record: ClusterRecord): void {
    if (record.state !== "Deleting") return;
    if (record.peUnavailable) {
      for (const node of record.pools.flatMap((p) => p.nodes).filter((n) => n.vmUuid)) {
        this.event(
          record,
          "MachineDeleteFailed",
          `failed to delete VM ${node.name} with UUID ${node.vmUuid}: the PE cluster ${record.peName} is not available`,
          "Warning",
        );
      }
      this.schedule(record, LIFECYCLE.deleteRetry, () => this.tryDeleteMachines(record));
      return;
    }
    const started = record.deleteStartedAt ?? this.clock;
    const due = Math.max(0, started + this.ms(LIFECYCLE.deletingToDeleted) - this.clock);
    this.scheduleMs(record, due, () => {
      const count = record.pools.reduce((n, p) => n + p.nodes.length, 0);
      for (const pool of record.pools) pool.nodes = [];
      record.state = "Deleted";
      record.health = null;
      this.event(record, "Deleted", `CAPX removed the ${count} VMs from Prism Central and released their IP addresses.`);
      this.schedule(record, LIFECYCLE.deletedToGone, () => {
        this.records.delete(record.uid);
        this.cancelTimers(record);
      });
    });
  }

  private forceDelete(record: ClusterRecord): ClusterDetail {
    this.cancelTimers(record);
    const left = record.pools.flatMap((p) => p.nodes).filter((n) => n.vmUuid);
    record.state = "Deleted";
    record.health = null;
    record.outcome = {
      problem: `Palette forgot ${record.name}; its ${left.length} ${left.length === 1 ? "VM is" : "VMs are"} still in Prism Central${left.length ? `: ${left.map((n) => n.name).join(", ")}` : ""}.`,
      nextStep: "Delete those VMs in Prism Central by hand (and free their IP addresses); Capstan and Palette no longer track them.",
    };
    this.event(record, "ForceDeleted", "The cluster record was removed at once; CAPX did not delete its VMs.", "Warning");
    const answer = this.detail(record);
    this.records.delete(record.uid);
    return answer;
  }

  // ---- the answer --------------------------------------------------------------------------

  private detail(record: ClusterRecord): ClusterDetail {
    const now = this.time();
    const profile = record.profileUid ? this.profileByUid(record.profileUid) : undefined;
    // Stuck, as the engine judges it: a machine delete failed again after a retry, or it has
    // simply taken too long.
    const deleting = record.state === "Deleting" && record.deleteStartedAt !== null;
    const warnings = deleting ? record.events.filter((e) => e.severity === "Warning" && e.atMs >= (record.deleteStartedAt ?? 0)) : [];
    const lastWarning = warnings.at(-1);
    const stuck = deleting && (warnings.length >= 2 || now - (record.deleteStartedAt ?? now) > this.ms(LIFECYCLE.deleteStuckAfter));
    const outcome: ClusterOutcome | null = stuck
      ? {
          problem: `The delete is taking longer than a delete normally takes.${lastWarning ? ` Last warning: ${lastWarning.message}.` : ""}`,
          nextStep: `Bring Prism Element ${record.peName} back and the delete finishes by itself, or force delete: Palette forgets the cluster and its VMs stay in Prism Central for you to remove by hand.`,
        }
      : record.outcome;
    const end = record.runningAt ?? record.failedAt ?? now;
    return {
      uid: record.uid,
      name: record.name,
      phase: this.phase(record),
      state: record.state,
      health: record.health,
      createdAt: new Date(record.createdAt).toISOString(),
      elapsedSeconds: u64<ClusterDetail["elapsedSeconds"]>(Math.max(0, Math.floor((end - record.createdAt) / 1000))),
      endpoint: record.endpoint,
      kubernetesVersion: record.kubernetesVersion,
      accountName: record.accountName,
      profile: profile ? { uid: profile.uid, name: profile.name, version: profile.version } : null,
      newerProfileVersions: profile ? this.newerVersions(profile) : [],
      pools: record.pools.map((p) => ({
        name: p.name,
        controlPlane: p.controlPlane,
        size: p.size,
        nodes: p.nodes.map((n) => ({
          uid: n.uid,
          name: n.name,
          state: n.state,
          healthy: n.state === "Running" ? true : null,
          vmUuid: n.vmUuid,
          ip: n.ip,
          updatedAt: new Date(n.updatedAt).toISOString(),
        })),
      })),
      conditions: record.conditions.map((c) => ({ ...c })),
      events: record.events.map(({ at, reason, message, severity }) => ({ at, reason, message, severity })),
      kubeconfigReady: this.kubeconfigReady(record),
      outcome,
      deleteStuck: stuck,
      checkedAt: new Date(now).toISOString(),
    };
  }

  private phase(record: ClusterRecord): ClusterPhase {
    switch (record.state) {
      case "Pending":
        return "pending";
      case "Provisioning":
        return "provisioning";
      case "Running":
        return record.applyingProfile || !this.nodesSettled(record) ? "updating" : "running";
      case "Failed":
        return "failed";
      case "Deleting":
        return "deleting";
      case "Deleted":
        return "deleted";
    }
  }

  private kubeconfigReady(record: ClusterRecord): boolean {
    return record.state === "Running";
  }

  private kubeconfigText(record: ClusterRecord): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `  - name: ${record.name}`,
      "    cluster:",
      `      server: https://${record.endpoint ?? "127.0.0.1:6443"}`,
      "      certificate-authority-data: LS0tLS1CRUdJTi…",
      "users:",
      `  - name: ${record.name}-admin`,
      "    user:",
      "      client-certificate-data: LS0tLS1CRUdJTi…",
      "      client-key-data: LS0tLS1CRUdJTi…",
      "contexts:",
      `  - name: ${record.name}`,
      `    context: { cluster: ${record.name}, user: ${record.name}-admin }`,
      `current-context: ${record.name}`,
      "",
    ].join("\n");
  }

  // ---- profiles ------------------------------------------------------------------------------

  private allProfiles(): ProfileRecord[] {
    const linked = (this.profileSource?.profiles ?? []).map((p) => ({
      uid: p.uid,
      name: p.name,
      version: p.version,
      layers: p.layers.map((l) => ({ layer: l.layer, packName: l.packName, version: l.version, values: l.values })),
    }));
    return [...this.profiles, ...linked];
  }

  private profileByUid(uid: string): ProfileRecord | undefined {
    return this.allProfiles().find((p) => p.uid === uid);
  }

  private newerVersions(profile: ProfileRecord): ProfileVersion[] {
    return this.allProfiles()
      .filter((p) => p.name === profile.name && compareVersions(p.version, profile.version) > 0)
      .sort((a, b) => compareVersions(a.version, b.version))
      .map((p) => ({ uid: p.uid, version: p.version }));
  }

  /** Layers that differ: the same slot (OS, K8s, CNI, CSI; add-ons by pack name) compared. */
  private changes(from: LayerRecord[], to: LayerRecord[]): LayerChange[] {
    const key = (l: LayerRecord) => (l.layer === "addon" ? `addon:${l.packName}` : l.layer);
    const before = new Map(from.map((l) => [key(l), l]));
    const after = new Map(to.map((l) => [key(l), l]));
    const keys = [...new Set([...before.keys(), ...after.keys()])];
    const changes: LayerChange[] = [];
    for (const k of keys) {
      const a = before.get(k);
      const b = after.get(k);
      if (a && b && a.packName === b.packName && a.version === b.version && a.values === b.values) continue;
      changes.push({
        layer: (b ?? a)?.layer ?? null,
        packName: (b ?? a)?.packName ?? "",
        fromVersion: a?.version ?? null,
        toVersion: b?.version ?? null,
        fromValues: a?.values ?? "",
        toValues: b?.values ?? "",
      });
    }
    return changes;
  }

  private impact(changes: LayerChange[], same: boolean): string {
    if (same || changes.length === 0) return "The cluster already runs this version: nothing to apply.";
    const k8s = changes.find((c) => c.layer === "k8s" && c.fromVersion !== c.toVersion);
    const others = changes.filter((c) => c !== k8s).map((c) => c.packName);
    const parts: string[] = [];
    if (k8s) {
      parts.push(
        `Kubernetes goes from ${k8s.fromVersion ?? "none"} to ${k8s.toVersion ?? "none"}: the control-plane nodes are replaced one at a time, then the workers (new VMs, new IP addresses).`,
      );
    }
    if (others.length > 0) parts.push(`${others.join(", ")} ${others.length === 1 ? "is" : "are"} redeployed in place; the nodes stay.`);
    parts.push("The cluster stays Running while Palette applies it.");
    return parts.join(" ");
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private seedDemo(shape: DemoShape): void {
    const now = this.time();
    const createdAt = now - 3 * 24 * 3600_000;
    const runningAt = createdAt + 552_000;
    const record: ClusterRecord = {
      uid: shape.uid,
      name: DEMO_CLUSTER_NAME,
      state: "Running",
      health: "Healthy",
      createdAt,
      runningAt,
      failedAt: null,
      deleteStartedAt: null,
      endpoint: `${shape.endpointHost}:${API_PORT}`,
      kubernetesVersion: shape.kubernetesVersion,
      accountName: shape.accountName,
      profileUid: shape.profileUid,
      peName: shape.peName,
      ipBase: shape.endpointHost.split(".").slice(0, 3).join("."),
      nextHost: 41,
      vip: shape.endpointHost,
      pools: shape.pools.map((p) => ({
        name: p.name,
        controlPlane: p.controlPlane,
        size: p.nodes.length,
        nodes: p.nodes.map((n) => ({ ...n, state: "Running" as const, updatedAt: runningAt })),
      })),
      events: [],
      conditions: [],
      outcome: null,
      applyingProfile: false,
      peUnavailable: false,
      failure: null,
    };
    // Its history, as Palette kept it.
    const saved = this.clock;
    this.clock = createdAt;
    this.event(record, "Created", `Palette accepted the cluster; waiting for the Private Cloud Gateway to start provisioning it on ${shape.peName}.`);
    this.clock = createdAt + 15_000;
    this.event(record, "Provisioning", "The Private Cloud Gateway started provisioning: CAPX creates the VMs in Prism Central.");
    const nodes = record.pools.flatMap((p) => p.nodes);
    nodes.forEach((n, i) => {
      this.clock = createdAt + 20_000 + i * 4_000;
      this.event(record, "VmCreated", `Created VM ${n.name} (${n.vmUuid}) on ${shape.peName} with IP ${n.ip}.`);
    });
    this.clock = runningAt;
    this.event(record, "ClusterRunning", `All ${nodes.length} nodes are Running; the API server answers at ${record.endpoint}. The kubeconfig is ready.`);
    this.clock = runningAt + 10_000;
    this.event(record, "ClusterHealthy", "Palette reports the cluster Healthy.");
    this.condition(record, "CloudInfrastructureReady", "True", "Ready", `kube-vip address ${shape.endpointHost}`);
    this.condition(record, "ControlPlaneNodeAdditionDone", "True", "Ready", null);
    this.condition(record, "WorkerNodeAdditionDone", "True", "Ready", null);
    this.condition(record, "ProfileApplied", "True", "Deployed", null);
    this.clock = saved;
    this.records.set(record.uid, record);
  }

  private record(uid: string): ClusterRecord {
    const record = this.records.get(uid);
    if (!record) throw notFound(uid);
    return record;
  }

  private time(): number {
    return this.now().getTime() + this.skewMs;
  }

  private ms(demoSeconds: number): number {
    return demoSeconds * 1000 * this.timeScale;
  }

  private schedule(record: ClusterRecord, demoSeconds: number, run: () => void): void {
    this.scheduleMs(record, this.ms(demoSeconds), run);
  }

  private scheduleMs(record: ClusterRecord, delayMs: number, run: () => void): void {
    this.timers.push({ at: this.clock + delayMs, seq: ++this.timerSeq, uid: record.uid, run });
  }

  private cancelTimers(record: ClusterRecord): void {
    this.timers = this.timers.filter((t) => t.uid !== record.uid);
  }

  /** Plays every transition that became due, in time order, each at its own time. */
  private settle(): void {
    const now = this.time();
    for (;;) {
      let next: Timer | null = null;
      for (const t of this.timers) if (t.at <= now && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (!next) break;
      const due = next;
      this.timers = this.timers.filter((t) => t !== due);
      this.clock = due.at;
      if (this.records.has(due.uid)) due.run();
    }
    this.clock = now;
  }

  private event(record: ClusterRecord, reason: string, message: string, severity: "Info" | "Warning" | "Error" = "Info"): void {
    record.events.push({ at: new Date(this.clock).toISOString(), atMs: this.clock, reason, message, severity });
  }

  private condition(record: ClusterRecord, kind: string, status: string, reason: string | null, message: string | null): void {
    const next: ClusterCondition = { kind, status, reason, message, at: new Date(this.clock).toISOString() };
    const index = record.conditions.findIndex((c) => c.kind === kind);
    if (index < 0) record.conditions.push(next);
    else if (record.conditions[index].status !== status || record.conditions[index].reason !== reason) record.conditions[index] = next;
  }

  private setNode(node: NodeRecord, state: NodeState): void {
    node.state = state;
    node.updatedAt = this.clock;
  }

  private nextUid(): string {
    this.idSeq += 1;
    return `66e1c1a5${this.idSeq.toString(16).padStart(16, "0")}`;
  }

  private nextVmUuid(): string {
    this.idSeq += 1;
    return `7c3a91d2-4e5f-4a6b-8c7d-${this.idSeq.toString(16).padStart(12, "0")}`;
  }

  private nextIp(record: ClusterRecord): string {
    let host = record.nextHost;
    const used = new Set(record.pools.flatMap((p) => p.nodes.map((n) => n.ip)));
    while (`${record.ipBase}.${host}` === record.vip || used.has(`${record.ipBase}.${host}`)) host++;
    record.nextHost = host + 1;
    return `${record.ipBase}.${host}`;
  }

  /** Five consonants, like CAPX's machine name suffixes. */
  private suffix(): string {
    this.idSeq += 1;
    const letters = "bcdfghjklmnpqrstvwxz";
    let n = this.idSeq * 2654435761;
    let out = "";
    for (let i = 0; i < 5; i++) {
      out += letters[n % letters.length];
      n = Math.floor(n / letters.length);
    }
    return out;
  }
}
