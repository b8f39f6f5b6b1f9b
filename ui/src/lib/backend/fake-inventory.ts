import type {
  CacheSummary,
  ClusterList,
  ClusterRow,
  EdgeKind,
  EntityKind,
  Freshness,
  InventoryGetRequest,
  InventoryItem,
  InventoryPage,
  InventoryQuery,
  InventoryRow,
  IpcError,
  KindCacheSummary,
  NodeCounts,
  NodeKind,
  NodeLink,
  NodeStatus,
  SearchHit,
  SyncCancelled,
  SyncEvent,
  SyncEventPhase,
  SyncFailure,
  SyncStarted,
  SyncStartRequest,
  TopologyEdge,
  TopologyGraph,
  TopologyNode,
  TopologyRequest,
  TopologySearchRequest,
  TopologySearchResult,
  TopologyView,
} from "../bindings";
import type { JsonValue } from "../bindings/serde_json/JsonValue";

/**
 * The cache, sync and topology half of the `FakeServer`: a deterministic in-memory estate
 * answering the inventory commands the way the Rust engine does (capstan-store's list
 * semantics, capstan-inventory's sync events and topology model).
 *
 * The estate is the "remote" truth (Prism Central + Palette); the cache is what the last
 * syncs copied from it, kind by kind. `start: "empty"` begins with a cache never synced;
 * the default begins fully synced `syncedAgoSeconds` ago.
 */

/** Sync order, as capstan-inventory runs it: Prism Central kinds, then Palette kinds. */
export const SYNC_ORDER: readonly EntityKind[] = [
  "pe_cluster",
  "subnet",
  "image",
  "project",
  "host",
  "vm",
  "cloud_type",
  "pcg",
  "cloud_account",
  "profile",
  "palette_cluster",
  "machine_pool",
  "node",
];

export interface FakeInventoryOptions {
  /** "populated" (default): every kind cached; "empty": nothing synced yet. */
  start?: "populated" | "empty";
  /** Age of the populated cache (default 240 s). */
  syncedAgoSeconds?: number;
  /** Cached data older than this is stale (default 900 s, the engine's incremental max age). */
  staleAfterSeconds?: number;
  /** VMs outside Kubernetes clusters (default 115; the Kubernetes cluster adds 5). */
  vms?: number;
  /** Milliseconds between sync progress events (default 80). */
  stepMs?: number;
  environmentId?: string;
  paletteUrl?: string;
  prismEndpoint?: string;
  now?: () => Date;
  /** Receives every `capstan://sync` event. */
  onEvent?: (event: SyncEvent) => void;
}

// ---- the estate ---------------------------------------------------------------------------

interface PeInfo {
  uuid: string;
  name: string;
  isPc: boolean;
  available: boolean;
  externalIp: string;
  aos: string;
}
interface SubnetInfo {
  uuid: string;
  name: string;
  pe: string | null;
  type: "VLAN" | "OVERLAY";
  vlan: number | null;
  cidr: string;
}
interface ImageInfo {
  uuid: string;
  name: string;
  state: string;
  type: "DISK_IMAGE" | "ISO_IMAGE";
  sizeBytes: number;
}
interface HostInfo {
  uuid: string;
  name: string;
  pe: string;
  hypervisorIp: string;
  cvmIp: string;
}
interface ProjectInfo {
  uuid: string;
  name: string;
}
interface VmInfo {
  uuid: string;
  name: string;
  pe: string;
  power: "ON" | "OFF";
  k8s: string | null;
  assigned: string[];
  learned: string[];
  subnets: string[];
  images: string[];
  vcpus: number;
  memoryMib: number;
}
interface CloudTypeInfo {
  uid: string;
  name: string;
}
interface PcgInfo {
  uid: string;
  name: string;
  state: string;
  health: string;
  ip: string;
  tenant: string;
  selfHosted: boolean;
}
interface AccountInfo {
  uid: string;
  name: string;
  pcg: string;
  cloudType: string;
}
interface ProfileInfo {
  uid: string;
  name: string;
  version: string;
}
interface PaletteClusterInfo {
  uid: string;
  name: string;
  state: string;
  health: string;
  account: string;
  endpointHost: string;
  kubernetesVersion: string;
  profile: string;
}
interface PoolInfo {
  name: string;
  clusterUid: string;
  isCp: boolean;
  size: number;
}
interface MachineInfo {
  uid: string;
  name: string;
  clusterUid: string;
  pool: string;
  vmUuid: string;
  state: string;
  ip: string;
}

interface KindItems {
  pe_cluster: PeInfo;
  subnet: SubnetInfo;
  image: ImageInfo;
  vm: VmInfo;
  host: HostInfo;
  project: ProjectInfo;
  cloud_type: CloudTypeInfo;
  pcg: PcgInfo;
  cloud_account: AccountInfo;
  profile: ProfileInfo;
  palette_cluster: PaletteClusterInfo;
  machine_pool: PoolInfo;
  node: MachineInfo;
}

type Estate = { [K in EntityKind]: Array<KindItems[K]> };

/** Small deterministic PRNG (mulberry32), so every run sees the same estate. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(random: () => number, length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, "0");
  return out.slice(0, length);
}

function uuid(random: () => number): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The `n`th host address of a network given as four octets (n = 1 is `.1`). */
function ipAt(base: [number, number, number, number], n: number): string {
  const value = ((base[0] << 24) >>> 0) + (base[1] << 16) + (base[2] << 8) + base[3] + n;
  return [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

const VM_ROLES: ReadonlyArray<{ role: string; vcpus: number; memoryMib: number; image: number; nics: number }> = [
  { role: "web", vcpus: 2, memoryMib: 4096, image: 0, nics: 1 },
  { role: "app", vcpus: 4, memoryMib: 8192, image: 0, nics: 1 },
  { role: "db", vcpus: 8, memoryMib: 32768, image: 1, nics: 2 },
  { role: "cache", vcpus: 2, memoryMib: 8192, image: 1, nics: 1 },
  { role: "jenkins-agent", vcpus: 4, memoryMib: 8192, image: 0, nics: 1 },
  { role: "gitlab-runner", vcpus: 4, memoryMib: 8192, image: 3, nics: 1 },
  { role: "win-rdp", vcpus: 4, memoryMib: 16384, image: 2, nics: 1 },
  { role: "sql", vcpus: 8, memoryMib: 65536, image: 2, nics: 2 },
  { role: "mon", vcpus: 2, memoryMib: 4096, image: 3, nics: 1 },
  { role: "kafka", vcpus: 4, memoryMib: 16384, image: 1, nics: 1 },
  { role: "proxy", vcpus: 2, memoryMib: 2048, image: 3, nics: 2 },
  { role: "vdi", vcpus: 2, memoryMib: 8192, image: 2, nics: 1 },
];
const STAGES = ["prod", "stg", "dev"] as const;

export const DEMO_CLUSTER = "demo-k8s";
export const DEMO_VIP = "10.30.0.240";

function buildEstate(otherVms: number): Estate {
  const random = prng(0xca95a7);
  const pc: PeInfo = { uuid: uuid(random), name: "pc-fra", isPc: true, available: true, externalIp: "10.10.0.9", aos: "pc.2024.3" };
  const peA: PeInfo = { uuid: uuid(random), name: "pe-fra-a", isPc: false, available: true, externalIp: "10.10.0.5", aos: "6.8.1" };
  const peB: PeInfo = { uuid: uuid(random), name: "pe-fra-b", isPc: false, available: true, externalIp: "10.110.0.5", aos: "6.8.1" };

  const subnet = (name: string, pe: PeInfo | null, vlan: number | null, cidr: string): SubnetInfo => ({
    uuid: uuid(random),
    name,
    pe: pe?.uuid ?? null,
    type: vlan === null ? "OVERLAY" : "VLAN",
    vlan,
    cidr,
  });
  const aMgmt = subnet("vlan-10-mgmt", peA, 10, "10.10.0.0/24");
  const aWork = subnet("vlan-20-workloads", peA, 20, "10.20.0.0/16");
  const aK8s = subnet("vlan-30-k8s", peA, 30, "10.30.0.0/24");
  const bMgmt = subnet("vlan-110-mgmt", peB, 110, "10.110.0.0/24");
  const bWork = subnet("vlan-120-workloads", peB, 120, "10.120.0.0/16");
  const overlay = subnet("overlay-dev", null, null, "192.168.100.0/24");

  const image = (name: string, type: ImageInfo["type"], gib: number, state = "COMPLETE"): ImageInfo => ({
    uuid: uuid(random),
    name,
    state,
    type,
    sizeBytes: Math.round(gib * 1024 ** 3),
  });
  const images = [
    image("ubuntu-22.04-server-cloudimg", "DISK_IMAGE", 2.2),
    image("rocky-9.4-genericcloud", "DISK_IMAGE", 1.1),
    image("windows-server-2022", "DISK_IMAGE", 14.6),
    image("debian-12-genericcloud", "DISK_IMAGE", 0.4),
    image("ubuntu-2204-kube-v1.30.4", "DISK_IMAGE", 3.4),
    image("virtio-win-0.1.262.iso", "ISO_IMAGE", 0.7),
  ];
  const k8sImage = images[4];

  const hosts: HostInfo[] = [];
  for (const [pe, mgmt, tag] of [
    [peA, [10, 10, 0, 0], "A"],
    [peB, [10, 110, 0, 0], "B"],
  ] as const) {
    for (let i = 1; i <= 3; i++) {
      hosts.push({
        uuid: uuid(random),
        name: `NTNX-FRA-${tag}-${i}`,
        pe: pe.uuid,
        hypervisorIp: ipAt([...mgmt], 10 + i),
        cvmIp: ipAt([...mgmt], 20 + i),
      });
    }
  }

  const vms: VmInfo[] = [];
  // The Kubernetes cluster CAPX built: 3 control-plane VMs (the first holds the kube-vip
  // VIP as a LEARNED address) and 2 workers, all on PE A's k8s subnet.
  const suffix = () => hex(random, 5).replace(/[0-9]/g, (d) => "bcdfghjklmnpqrstvwxz"[Number(d)]);
  for (let i = 0; i < 5; i++) {
    const cp = i < 3;
    vms.push({
      uuid: uuid(random),
      name: cp ? `${DEMO_CLUSTER}-cp-${suffix()}` : `${DEMO_CLUSTER}-worker-pool-${suffix()}`,
      pe: peA.uuid,
      power: "ON",
      k8s: DEMO_CLUSTER,
      assigned: [ipAt([10, 30, 0, 0], cp ? 21 + i : 31 + i - 3)],
      learned: i === 0 ? [DEMO_VIP] : [],
      subnets: [aK8s.uuid],
      images: [k8sImage.uuid],
      vcpus: cp ? 4 : 8,
      memoryMib: cp ? 8192 : 16384,
    });
  }
  // The PCG's appliance VM.
  vms.push({
    uuid: uuid(random),
    name: "pcg-nutanix-fra-01",
    pe: peA.uuid,
    power: "ON",
    k8s: null,
    assigned: ["10.10.0.50"],
    learned: [],
    subnets: [aMgmt.uuid],
    images: [images[0].uuid],
    vcpus: 4,
    memoryMib: 8192,
  });
  const counters = new Map<string, number>();
  const nextIp = new Map<string, number>();
  const width = Math.max(2, String(Math.ceil(otherVms / (VM_ROLES.length * STAGES.length)) + 1).length);
  const subnetBase = new Map<string, [number, number, number, number]>([
    [aMgmt.uuid, [10, 10, 0, 0]],
    [aWork.uuid, [10, 20, 0, 0]],
    [bMgmt.uuid, [10, 110, 0, 0]],
    [bWork.uuid, [10, 120, 0, 0]],
    [overlay.uuid, [192, 168, 100, 0]],
  ]);
  const allocate = (subnetUuid: string) => {
    // Management subnets start above the hosts and the PCG; workloads from .10.
    const n = (nextIp.get(subnetUuid) ?? (subnetUuid === aMgmt.uuid || subnetUuid === bMgmt.uuid ? 60 : 10)) + 1;
    nextIp.set(subnetUuid, n);
    return ipAt(subnetBase.get(subnetUuid)!, n);
  };
  for (let i = 0; i < otherVms - 1; i++) {
    const spec = VM_ROLES[Math.floor(random() * VM_ROLES.length)];
    const stage = STAGES[Math.floor(random() * STAGES.length)];
    const key = `${stage}-${spec.role}`;
    const n = (counters.get(key) ?? 0) + 1;
    counters.set(key, n);
    const onB = random() < 0.4;
    const power = random() < 0.82 ? "ON" : "OFF";
    const primary = stage === "dev" && random() < 0.3 ? overlay : onB ? bWork : aWork;
    const subnets = spec.nics > 1 ? [primary.uuid, (onB ? bMgmt : aMgmt).uuid] : [primary.uuid];
    // Powered-off DHCP VMs report no addresses.
    const hasIps = power === "ON" || random() < 0.5;
    vms.push({
      uuid: uuid(random),
      name: `${key}-${String(n).padStart(width, "0")}`,
      pe: onB ? peB.uuid : peA.uuid,
      power,
      k8s: null,
      assigned: hasIps ? subnets.map(allocate) : [],
      learned: [],
      subnets,
      images: [images[spec.image].uuid],
      vcpus: spec.vcpus,
      memoryMib: spec.memoryMib,
    });
  }

  const tenant = hex(random, 24);
  const pcg: PcgInfo = { uid: hex(random, 24), name: "pcg-nutanix-fra", state: "Running", health: "Healthy", ip: "10.10.0.50", tenant, selfHosted: false };
  const cloudType: CloudTypeInfo = { uid: hex(random, 24), name: "nutanix" };
  const account: AccountInfo = { uid: hex(random, 24), name: "nutanix-fra", pcg: pcg.uid, cloudType: "nutanix" };
  const profile: ProfileInfo = { uid: hex(random, 24), name: "demo-k8s-profile", version: "1.0.0" };
  const cluster: PaletteClusterInfo = {
    uid: hex(random, 24),
    name: DEMO_CLUSTER,
    state: "Running",
    health: "Healthy",
    account: account.uid,
    endpointHost: DEMO_VIP,
    kubernetesVersion: "1.30.4",
    profile: profile.uid,
  };
  const pools: PoolInfo[] = [
    { name: "control-plane-pool", clusterUid: cluster.uid, isCp: true, size: 3 },
    { name: "worker-pool", clusterUid: cluster.uid, isCp: false, size: 2 },
  ];
  const machines: MachineInfo[] = vms
    .filter((vm) => vm.k8s === DEMO_CLUSTER)
    .map((vm) => ({
      uid: hex(random, 24),
      name: vm.name,
      clusterUid: cluster.uid,
      pool: vm.name.includes("-cp-") ? pools[0].name : pools[1].name,
      vmUuid: vm.uuid,
      state: "Running",
      ip: vm.assigned[0],
    }));

  return {
    pe_cluster: [pc, peA, peB],
    subnet: [aMgmt, aWork, aK8s, bMgmt, bWork, overlay],
    image: images,
    project: [
      { uuid: uuid(random), name: "default" },
      { uuid: uuid(random), name: "platform" },
    ],
    host: hosts,
    vm: vms,
    cloud_type: [cloudType],
    pcg: [pcg],
    cloud_account: [account],
    profile: [profile],
    palette_cluster: [cluster],
    machine_pool: pools,
    node: machines,
  };
}

// ---- rows and raw records -------------------------------------------------------------------

function itemId(kind: EntityKind, item: KindItems[EntityKind]): string {
  switch (kind) {
    case "machine_pool": {
      const pool = item as PoolInfo;
      return `${pool.clusterUid}/${pool.name}`;
    }
    default:
      return "uuid" in item ? item.uuid : (item as { uid: string }).uid;
  }
}

const PAGE_ROWS = 50;

// ---- the sync run -----------------------------------------------------------------------

interface Run {
  id: number;
  kinds: EntityKind[];
  /** Kinds an incremental run leaves alone (still fresh). */
  skip: Set<EntityKind>;
  index: number;
  done: number;
  /** Whether the current kind's start was announced. */
  kindStarted: boolean;
  startedAt: number;
  timer: ReturnType<typeof setTimeout> | null;
  last: SyncEvent;
}

interface KindCache {
  rows: InventoryRow[];
  items: Array<KindItems[EntityKind]>;
  syncedAt: number | null;
  status: KindCacheSummary["status"];
  error: string | null;
}

const INCREMENTAL_MAX_AGE_MS = 15 * 60_000;
const DEFAULT_LIMIT = 200;
const MAX_LIMIT = 1000;

export class FakeInventory {
  environmentId: string;
  readonly estate: Estate;
  private readonly paletteUrl: string;
  private readonly prismEndpoint: string;
  private readonly projectUid = "66a1f3c2e8b0d14f7c2a9e01";
  private readonly staleAfterMs: number;
  private readonly stepMs: number;
  private readonly now: () => Date;
  private readonly onEvent: (event: SyncEvent) => void;
  private cache = new Map<EntityKind, KindCache>();
  private run: Run | null = null;
  private runSeq = 0;
  /** Where an interrupted run stopped: that kind's rows up to `done` are kept. */
  private resume: { kind: EntityKind; done: number } | null = null;
  /** A failure to inject when the next run reaches `kind` (one shot). */
  private plannedFailure: { kind: EntityKind; afterRows: number; failure: SyncFailure } | null = null;
  private listMemo: { key: string; rows: InventoryRow[] } | null = null;

  constructor(options: FakeInventoryOptions = {}) {
    this.environmentId = options.environmentId ?? "sandbox";
    this.paletteUrl = options.paletteUrl ?? "https://127.0.0.1:47443";
    this.prismEndpoint = options.prismEndpoint ?? "https://127.0.0.1:49440";
    this.staleAfterMs = (options.staleAfterSeconds ?? 900) * 1000;
    this.stepMs = options.stepMs ?? 80;
    this.now = options.now ?? (() => new Date());
    this.onEvent = options.onEvent ?? (() => {});
    this.estate = buildEstate(Math.max(1, options.vms ?? 115));
    if ((options.start ?? "populated") === "populated") this.populate(options.syncedAgoSeconds ?? 240);
  }

  // ---- test controls --------------------------------------------------------------------

  /** Caches every kind as synced `agoSeconds` ago. */
  populate(agoSeconds = 240): void {
    const at = this.now().getTime() - agoSeconds * 1000;
    for (const kind of SYNC_ORDER) this.commit(kind, at);
    this.resume = null;
  }

  /** Forgets everything cached (a cache never synced). */
  clear(): void {
    this.stopRun();
    this.cache.clear();
    this.resume = null;
    this.listMemo = null;
  }

  /** Makes the next run fail when it reaches `kind`, after `afterRows` of it were written. */
  failNextSync(kind: EntityKind, failure: Partial<SyncFailure> = {}, afterRows = 0): void {
    this.plannedFailure = {
      kind,
      afterRows,
      failure: {
        code: failure.code ?? "rate_limited",
        message: failure.message ?? "Prism Central answered 429 Too Many Requests to every retry of a VM page.",
        resumable: failure.resumable ?? true,
      },
    };
  }

  /** The run in progress, if any. */
  get running(): SyncEvent | null {
    return this.run ? structuredClone(this.run.last) : null;
  }

  // ---- cache and sync commands ----------------------------------------------------------

  cacheSummary(): CacheSummary {
    const now = this.now().getTime();
    const kinds: KindCacheSummary[] = SYNC_ORDER.map((kind) => {
      const entry = this.cache.get(kind);
      const running = this.run && this.run.kinds[this.run.index] === kind;
      return {
        kind,
        count: entry?.rows.length ?? 0,
        status: running ? "running" : (entry?.status ?? "never"),
        syncedAt: entry?.syncedAt != null ? new Date(entry.syncedAt).toISOString() : null,
        ageSeconds: entry?.syncedAt != null ? Math.max(0, Math.floor((now - entry.syncedAt) / 1000)) : null,
        error: entry?.error ?? null,
      };
    });
    return {
      environmentId: this.environmentId,
      database: ":memory:",
      kinds,
      freshness: this.freshness(SYNC_ORDER),
      sync: this.running,
      problem: null,
    };
  }

  rebuild(): CacheSummary {
    if (this.run) {
      throw {
        code: "conflict",
        message: "A sync is running. Cancel it (or wait for it to finish), then rebuild the cache.",
      } satisfies IpcError;
    }
    this.clear();
    return this.cacheSummary();
  }

  syncStart(request: SyncStartRequest): SyncStarted {
    if (this.run) return { runId: this.run.id, started: false };
    const kinds = request.kinds?.length ? SYNC_ORDER.filter((k) => request.kinds!.includes(k)) : [...SYNC_ORDER];
    const now = this.now().getTime();
    // Incremental: kinds whose last complete sync is recent are skipped (unless interrupted).
    const skip = new Set(
      request.mode === "incremental"
        ? kinds.filter((kind) => {
            const syncedAt = this.cache.get(kind)?.syncedAt;
            return this.resume?.kind !== kind && syncedAt != null && now - syncedAt < INCREMENTAL_MAX_AGE_MS;
          })
        : [],
    );
    const id = ++this.runSeq;
    const run: Run = {
      id,
      kinds,
      skip,
      index: 0,
      done: 0,
      kindStarted: false,
      startedAt: now,
      timer: null,
      last: this.event("started", null, 0, kinds.length, 0, null, now, now, null, id),
    };
    this.run = run;
    this.emit(run.last);
    this.schedule(run);
    return { runId: run.id, started: true };
  }

  syncCancel(): SyncCancelled {
    const run = this.run;
    if (!run) return { cancelled: false };
    const kind = run.kinds[run.index] ?? null;
    this.stopRun();
    if (kind) {
      this.resume = { kind, done: run.done };
      this.markFailed(kind, `The sync of ${kind} was cancelled; the next sync resumes it.`);
    }
    const now = this.now().getTime();
    this.emit({ ...run.last, phase: "cancelled", kind: kind ?? run.last.kind, elapsedMs: now - run.startedAt });
    return { cancelled: true };
  }

  private schedule(run: Run): void {
    run.timer = setTimeout(() => this.step(run), this.stepMs);
  }

  /**
   * One step of the run, the way capstan-inventory reports it: a kind announces its start
   * (total unknown), then Prism kinds write pages and Palette kinds arrive whole; the
   * event that finishes a kind already counts it in `kindsDone`.
   */
  private step(run: Run): void {
    if (this.run !== run) return;
    const now = this.now().getTime();
    const kind = run.kinds[run.index];
    const progress = (done: number, total: number | null, kindsDone: number) => {
      run.last = this.event("progress", kind, kindsDone, run.kinds.length, done, total, run.startedAt, now, null, run.id);
      this.emit(run.last);
    };
    if (!kind) {
      this.run = null;
      this.resume = null;
      this.emit({ ...run.last, phase: "completed", kindsDone: run.kinds.length, elapsedMs: now - run.startedAt });
      return;
    }
    const next = () => {
      run.index += 1;
      run.done = 0;
      run.kindStarted = false;
      this.schedule(run);
    };
    if (run.skip.has(kind)) {
      progress(0, null, run.index + 1);
      return next();
    }
    const total = this.estate[kind].length;
    if (!run.kindStarted) {
      // An interrupted run of this kind continues from its cursor, whatever the mode.
      run.done = this.resume?.kind === kind ? Math.min(this.resume.done, total) : 0;
      run.kindStarted = true;
      progress(run.done, null, run.index);
      return this.schedule(run);
    }
    const planned = this.plannedFailure;
    if (planned && planned.kind === kind && run.done >= Math.min(planned.afterRows, total)) {
      this.plannedFailure = null;
      this.run = null;
      this.resume = planned.failure.resumable ? { kind, done: run.done } : null;
      this.markFailed(kind, planned.failure.message);
      this.emit({ ...run.last, phase: "failed", kind, elapsedMs: now - run.startedAt, error: planned.failure });
      return;
    }
    // Prism kinds come in pages (a handful of steps even for a small estate); Palette kinds whole.
    const prism = SYNC_ORDER.indexOf(kind) < 6;
    const page = prism ? Math.max(20, Math.ceil(total / 8)) : total;
    run.done = Math.min(total, run.done + page);
    if (planned && planned.kind === kind) run.done = Math.min(run.done, Math.max(planned.afterRows, 0));
    if (run.done < total) {
      progress(run.done, total, run.index);
      return this.schedule(run);
    }
    this.commit(kind, now);
    if (this.resume?.kind === kind) this.resume = null;
    progress(total, total, run.index + 1);
    next();
  }

  private stopRun(): void {
    if (this.run?.timer) clearTimeout(this.run.timer);
    this.run = null;
  }

  private event(
    phase: SyncEventPhase,
    kind: EntityKind | null,
    kindsDone: number,
    kindsTotal: number,
    done: number,
    total: number | null,
    startedAt: number,
    now: number,
    error: SyncFailure | null,
    runId: number,
  ): SyncEvent {
    return {
      runId,
      environmentId: this.environmentId,
      phase,
      kind,
      kindsDone,
      kindsTotal,
      done,
      total,
      startedAt: new Date(startedAt).toISOString(),
      elapsedMs: Math.max(0, now - startedAt),
      error,
    };
  }

  private emit(event: SyncEvent): void {
    this.onEvent(structuredClone(event));
  }

  /** Copies `kind` from the estate into the cache as seen at `at`. */
  private commit(kind: EntityKind, at: number): void {
    const items = this.estate[kind] as Array<KindItems[EntityKind]>;
    const rows = items.map((item, i) => this.row(kind, item, new Date(at + Math.floor(i / PAGE_ROWS) * 150).toISOString()));
    this.cache.set(kind, { rows, items, syncedAt: at, status: "completed", error: null });
    this.listMemo = null;
  }

  private markFailed(kind: EntityKind, error: string): void {
    const entry = this.cache.get(kind);
    this.cache.set(kind, { rows: entry?.rows ?? [], items: entry?.items ?? [], syncedAt: entry?.syncedAt ?? null, status: "failed", error });
  }

  /** The engine's rule: the oldest complete sync decides the age; any failed kind makes it stale. */
  private freshness(kinds: readonly EntityKind[]): Freshness {
    const entries = kinds.map((k) => this.cache.get(k));
    const synced = entries.map((e) => e?.syncedAt).filter((t): t is number => t != null);
    if (synced.length === 0) return { syncedAt: null, ageSeconds: null, empty: true, stale: false };
    const oldest = Math.min(...synced);
    const age = Math.max(0, this.now().getTime() - oldest);
    const failed = entries.some((e) => e?.status === "failed");
    return {
      syncedAt: new Date(oldest).toISOString(),
      ageSeconds: Math.floor(age / 1000),
      empty: false,
      stale: age > this.staleAfterMs || failed,
    };
  }

  /** The cached items of a kind (what a view built from the cache can see). */
  private cached<K extends EntityKind>(kind: K): Array<KindItems[K]> {
    return (this.cache.get(kind)?.items ?? []) as Array<KindItems[K]>;
  }

  // ---- lists ------------------------------------------------------------------------------

  private row(kind: EntityKind, item: KindItems[EntityKind], lastSeenAt: string): InventoryRow {
    const base = { id: itemId(kind, item), lastSeenAt };
    const peName = (uuid: string | null) => this.estate.pe_cluster.find((p) => p.uuid === uuid)?.name ?? null;
    switch (kind) {
      case "pe_cluster": {
        const pe = item as PeInfo;
        return {
          ...base,
          name: pe.name,
          parent: null,
          parentName: null,
          state: null,
          ips: [pe.externalIp],
          // `prismCentral` is not in the engine's columns yet; the VM filter uses it to leave PC out.
          columns: { aosVersion: pe.aos, externalIp: pe.externalIp, prismCentral: pe.isPc },
          nodeId: pe.isPc ? `pc:${pe.uuid}` : `pe:${pe.uuid}`,
        };
      }
      case "subnet": {
        const s = item as SubnetInfo;
        return {
          ...base,
          name: s.name,
          parent: s.pe,
          parentName: peName(s.pe),
          state: s.type,
          ips: [],
          columns: { cidr: s.cidr, vlanId: s.vlan, subnetType: s.type },
          nodeId: `subnet:${s.uuid}`,
        };
      }
      case "image": {
        const img = item as ImageInfo;
        return {
          ...base,
          name: img.name,
          parent: null,
          parentName: null,
          state: img.state,
          ips: [],
          columns: { imageType: img.type, sizeBytes: img.sizeBytes },
          nodeId: `image:${img.uuid}`,
        };
      }
      case "vm": {
        const vm = item as VmInfo;
        return {
          ...base,
          name: vm.name,
          parent: vm.pe,
          parentName: peName(vm.pe),
          state: vm.power,
          ips: [...vm.assigned, ...vm.learned],
          columns: { vcpus: vm.vcpus, memoryMib: vm.memoryMib, cluster: vm.k8s, powerState: vm.power },
          nodeId: `vm:${vm.uuid}`,
        };
      }
      case "host": {
        const h = item as HostInfo;
        return {
          ...base,
          name: h.name,
          parent: h.pe,
          parentName: peName(h.pe),
          state: null,
          ips: [h.hypervisorIp, h.cvmIp],
          columns: {},
          nodeId: null,
        };
      }
      case "project": {
        const p = item as ProjectInfo;
        return { ...base, name: p.name, parent: null, parentName: null, state: null, ips: [], columns: {}, nodeId: null };
      }
      case "cloud_type": {
        const t = item as CloudTypeInfo;
        return { ...base, name: t.name, parent: null, parentName: null, state: null, ips: [], columns: {}, nodeId: null };
      }
      case "pcg": {
        const p = item as PcgInfo;
        return {
          ...base,
          name: p.name,
          parent: null,
          parentName: null,
          state: p.state,
          ips: [p.ip],
          columns: { health: p.health, selfHosted: p.selfHosted },
          nodeId: `pcg:${p.uid}`,
        };
      }
      case "cloud_account": {
        const a = item as AccountInfo;
        const pcg = this.estate.pcg.find((p) => p.uid === a.pcg);
        return { ...base, name: a.name, parent: a.pcg, parentName: pcg?.name ?? null, state: "Running", ips: [], columns: {}, nodeId: null };
      }
      case "profile": {
        const p = item as ProfileInfo;
        return { ...base, name: p.name, parent: null, parentName: null, state: null, ips: [], columns: {}, nodeId: null };
      }
      case "palette_cluster": {
        const c = item as PaletteClusterInfo;
        const account = this.estate.cloud_account.find((a) => a.uid === c.account);
        return {
          ...base,
          name: c.name,
          parent: c.account,
          parentName: account?.name ?? null,
          state: c.state,
          ips: [],
          columns: { health: c.health, kubernetesVersion: c.kubernetesVersion },
          nodeId: null,
        };
      }
      case "machine_pool": {
        const p = item as PoolInfo;
        const cluster = this.estate.palette_cluster.find((c) => c.uid === p.clusterUid);
        return {
          ...base,
          name: p.name,
          parent: p.clusterUid,
          parentName: cluster?.name ?? null,
          state: null,
          ips: [],
          columns: {},
          nodeId: null,
        };
      }
      case "node": {
        const m = item as MachineInfo;
        const cluster = this.estate.palette_cluster.find((c) => c.uid === m.clusterUid);
        return {
          ...base,
          name: m.name,
          parent: m.clusterUid,
          parentName: cluster?.name ?? null,
          state: m.state,
          ips: [m.ip],
          columns: {},
          nodeId: null,
        };
      }
    }
  }

  /** One page, with capstan-store's semantics: NOCASE names, NULLs first, ties by name then id. */
  list(query: InventoryQuery): InventoryPage {
    const limit = Math.min(Math.max(query.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
    const offset = Math.max(0, query.offset ?? 0);
    const rows = this.matching(query);
    return {
      kind: query.kind,
      total: rows.length,
      offset,
      rows: rows.slice(offset, offset + limit),
      freshness: this.freshness(SYNC_ORDER),
    };
  }

  private matching(query: InventoryQuery): InventoryRow[] {
    const key = JSON.stringify([query.kind, query.search ?? "", query.parent ?? "", query.state ?? "", query.sort, query.descending]);
    if (this.listMemo?.key === key) return this.listMemo.rows;
    // Whitespace-only search is no search; otherwise the text is matched as given (LIKE).
    const needle = query.search?.trim() ? query.search.toLowerCase() : "";
    const state = query.state?.trim().toLowerCase() ?? "";
    const parent = query.parent?.trim() ?? "";
    const searchesIps = query.kind === "vm" || query.kind === "node" || query.kind === "host";
    const rows = (this.cache.get(query.kind)?.rows ?? []).filter(
      (r) =>
        (needle === "" ||
          r.name.toLowerCase().includes(needle) ||
          r.id.toLowerCase().startsWith(needle) ||
          (searchesIps && r.ips.some((ip) => ip.startsWith(needle)))) &&
        (parent === "" || r.parent === parent) &&
        (state === "" || r.state?.toLowerCase() === state),
    );
    const column = (r: InventoryRow): string | null => {
      switch (query.sort) {
        case "state":
          return r.state?.toLowerCase() ?? null;
        case "parent":
          return r.parent;
        case "last_seen":
          return r.lastSeenAt;
        default:
          return null;
      }
    };
    const cmp = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
    const direction = query.descending ? -1 : 1;
    rows.sort(
      (a, b) =>
        direction *
        (cmp(column(a), column(b)) || cmp(a.name.toLowerCase(), b.name.toLowerCase()) || cmp(a.id, b.id)),
    );
    this.listMemo = { key, rows };
    return rows;
  }

  get(request: InventoryGetRequest): InventoryItem {
    const entry = this.cache.get(request.kind);
    const index = entry?.rows.findIndex((r) => r.id === request.id) ?? -1;
    if (!entry || index < 0) {
      throw {
        code: "not_found",
        message: `No cached ${request.kind} with id "${request.id}". Sync the inventory and try again.`,
      } satisfies IpcError;
    }
    return { row: entry.rows[index], raw: this.raw(request.kind, entry.items[index]) };
  }

  /** A trimmed API record in the shape the cache keeps (Prism v3 / Palette v1). */
  private raw(kind: EntityKind, item: KindItems[EntityKind]): JsonValue {
    switch (kind) {
      case "vm": {
        const vm = item as VmInfo;
        return {
          metadata: { kind: "vm", uuid: vm.uuid, categories: vm.k8s ? { KubernetesClusterName: vm.k8s } : {} },
          status: {
            name: vm.name,
            cluster_reference: { kind: "cluster", uuid: vm.pe },
            resources: {
              power_state: vm.power,
              num_sockets: vm.vcpus,
              num_vcpus_per_socket: 1,
              memory_size_mib: vm.memoryMib,
              nic_list: vm.subnets.map((subnet, i) => ({
                subnet_reference: { kind: "subnet", uuid: subnet },
                ip_endpoint_list: [
                  ...(vm.assigned[i] ? [{ ip: vm.assigned[i], type: "ASSIGNED" }] : []),
                  ...(i === 0 ? vm.learned.map((ip) => ({ ip, type: "LEARNED" })) : []),
                ],
              })),
              disk_list: vm.images.map((image) => ({ data_source_reference: { kind: "image", uuid: image } })),
            },
          },
        };
      }
      case "subnet": {
        const s = item as SubnetInfo;
        const [ip, prefix] = s.cidr.split("/");
        return {
          metadata: { kind: "subnet", uuid: s.uuid },
          status: {
            name: s.name,
            cluster_reference: s.pe ? { kind: "cluster", uuid: s.pe } : null,
            resources: { subnet_type: s.type, vlan_id: s.vlan, ip_config: { subnet_ip: ip, prefix_length: Number(prefix) } },
          },
        };
      }
      default:
        return { metadata: { kind, uuid: itemId(kind, item) }, spec: structuredClone(item) as unknown as JsonValue };
    }
  }

  clusters(): ClusterList {
    const vms = this.cached("vm");
    const palette = this.cached("palette_cluster");
    const pools = this.cached("machine_pool");
    const names = new Set<string>([...vms.flatMap((v) => (v.k8s ? [v.k8s] : [])), ...palette.map((c) => c.name)]);
    const peName = (uuid: string) => this.cached("pe_cluster").find((p) => p.uuid === uuid)?.name ?? uuid;
    const clusters: ClusterRow[] = [...names].sort().map((name) => {
      const own = vms.filter((v) => v.k8s === name);
      const record = palette.find((c) => c.name === name);
      const cp = own.filter((v) => v.name.includes("-cp-"));
      const counts = powerCounts(own);
      return {
        id: `cluster:${name}`,
        name,
        paletteUid: record?.uid ?? null,
        state: record?.state ?? (counts.poweredOn > 0 ? "Running" : null),
        health: record?.health ?? null,
        status: record ? paletteState(record.state, record.health) : vmAggregate(counts),
        endpoint: own.flatMap((v) => v.learned.filter((ip) => !v.assigned.includes(ip)))[0] ?? record?.endpointHost ?? null,
        kubernetesVersion: record?.kubernetesVersion ?? null,
        prismElements: [...new Set(own.map((v) => peName(v.pe)))].sort(),
        controlPlaneNodes: cp.length,
        workerNodes: own.length - cp.length,
        poweredOn: counts.poweredOn,
        pools: record ? pools.filter((p) => p.clusterUid === record.uid).map((p) => p.name) : [],
      };
    });
    return { clusters, freshness: this.freshness(SYNC_ORDER) };
  }

  // ---- topology ---------------------------------------------------------------------------

  topology(request: TopologyRequest): TopologyView {
    return {
      environmentId: this.environmentId,
      graph: this.graph(new Set(request.expanded), request.inlineLimit ?? 25),
      vmCount: this.cached("vm").length,
      freshness: this.freshness(SYNC_ORDER),
    };
  }

  private pcNodeId(): string {
    const pc = this.cached("pe_cluster").find((p) => p.isPc);
    return pc ? `pc:${pc.uuid}` : "pc:prism-central";
  }

  private prismLink(path: string): NodeLink[] {
    return [{ label: "Prism API", url: `${this.prismEndpoint}${path}` }];
  }

  private paletteLink(path: string): NodeLink[] {
    return [{ label: "Palette API", url: `${this.paletteUrl}${path}` }];
  }

  /** (cluster, pool, is control plane) of each Kubernetes VM, through Palette's machines. */
  private placement(): Map<string, { pool: string; isCp: boolean }> {
    const out = new Map<string, { pool: string; isCp: boolean }>();
    const machines = this.cached("node");
    const pools = this.cached("machine_pool");
    for (const vm of this.cached("vm")) {
      if (!vm.k8s) continue;
      const machine = machines.find((m) => m.vmUuid === vm.uuid || m.name === vm.name);
      const pool = machine && pools.find((p) => p.name === machine.pool && p.clusterUid === machine.clusterUid);
      if (pool) out.set(vm.uuid, { pool: pool.name, isCp: pool.isCp });
      else if (/-kcp-|-cp-|control-plane/.test(vm.name.toLowerCase())) out.set(vm.uuid, { pool: "control-plane", isCp: true });
      else out.set(vm.uuid, { pool: "workers", isCp: false });
    }
    return out;
  }

  /** A port of capstan-inventory's `TopologyModel::graph` over the cached estate. */
  private graph(expanded: Set<string>, inlineLimit: number): TopologyGraph {
    const g = new GraphBuilder();
    const pc = this.pcNodeId();
    const pes = this.cached("pe_cluster");
    const subnets = this.cached("subnet");
    const images = this.cached("image");
    const vms = this.cached("vm");
    const pcgs = this.cached("pcg");
    const accounts = this.cached("cloud_account");
    const clusters = this.cached("palette_cluster");
    const pools = this.cached("machine_pool");
    const machines = this.cached("node");

    // Palette side (the environment names Palette, so the root is there even before a sync).
    g.node({
      id: "palette",
      kind: "palette",
      label: pcgs[0] ? `Palette (tenant ${pcgs[0].tenant})` : "Palette",
      status: "ok",
      parent: null,
      detail: { url: this.paletteUrl },
      counts: null,
      links: [{ label: "Open Palette", url: this.paletteUrl }],
      collapsed: false,
    });
    const project = `project:${this.projectUid}`;
    g.node({
      id: project,
      kind: "project",
      label: `Project ${this.projectUid}`,
      status: "ok",
      parent: "palette",
      detail: { uid: this.projectUid },
      counts: null,
      links: [],
      collapsed: false,
    });
    for (const pcg of pcgs) {
      const id = `pcg:${pcg.uid}`;
      const hostVm = vms.find((vm) => [...vm.assigned, ...vm.learned].includes(pcg.ip));
      g.node({
        id,
        kind: "pcg",
        label: pcg.name,
        status: paletteState(pcg.state, pcg.health),
        parent: project,
        detail: {
          uid: pcg.uid,
          state: pcg.state,
          health: pcg.health,
          selfHosted: pcg.selfHosted,
          ipAddress: pcg.ip,
          tenantUid: pcg.tenant,
          hostVm: hostVm ? `vm:${hostVm.uuid}` : null,
          hostCluster: hostVm?.k8s ? `cluster:${hostVm.k8s}` : null,
        },
        counts: null,
        links: this.paletteLink(`/v1/overlords/${pcg.uid}`),
        collapsed: false,
      });
      for (const account of accounts.filter((a) => a.pcg === pcg.uid && a.cloudType === "nutanix")) {
        g.edge(id, pc, "manages");
        g.detail(id, "cloudAccount", account.name);
      }
    }

    // Prism Central, its PEs, subnets and images.
    const pcEntity = pes.find((p) => p.isPc);
    g.node({
      id: pc,
      kind: "prism_central",
      label: pcEntity?.name ?? "Prism Central",
      status: pcEntity ? (pcEntity.available ? "ok" : "error") : "unknown",
      parent: null,
      detail: { uuid: pcEntity?.uuid ?? null, endpoint: this.prismEndpoint },
      counts: null,
      links: [{ label: "Open Prism Central", url: this.prismEndpoint }],
      collapsed: false,
    });
    for (const pe of pes.filter((p) => !p.isPc)) {
      g.node({
        id: `pe:${pe.uuid}`,
        kind: "prism_element",
        label: pe.name,
        status: pe.available ? "ok" : "error",
        parent: pc,
        detail: { uuid: pe.uuid, externalIp: pe.externalIp, aosVersion: pe.aos, available: pe.available },
        counts: { vms: 0, poweredOn: 0, poweredOff: 0 },
        links: this.prismLink(`/api/nutanix/v3/clusters/${pe.uuid}`),
        collapsed: false,
      });
    }
    const knownPe = new Set(pes.filter((p) => !p.isPc).map((p) => p.uuid));
    const peParent = (uuid: string | null) => (uuid && knownPe.has(uuid) ? `pe:${uuid}` : pc);
    for (const s of subnets) {
      g.node({
        id: `subnet:${s.uuid}`,
        kind: "subnet",
        label: s.name,
        status: "ok",
        parent: peParent(s.pe),
        detail: { uuid: s.uuid, type: s.type, vlanId: s.vlan, cidr: s.cidr },
        counts: null,
        links: this.prismLink(`/api/nutanix/v3/subnets/${s.uuid}`),
        collapsed: false,
      });
    }
    const knownSubnets = new Set(subnets.map((s) => s.uuid));
    for (const img of images) {
      g.node({
        id: `image:${img.uuid}`,
        kind: "image",
        label: img.name,
        status: img.state === "COMPLETE" ? "ok" : img.state === "ERROR" ? "error" : "pending",
        parent: pc,
        detail: { uuid: img.uuid, type: img.type, state: img.state },
        counts: null,
        links: this.prismLink(`/api/nutanix/v3/images/${img.uuid}`),
        collapsed: false,
      });
    }
    const knownImages = new Set(images.map((i) => i.uuid));

    // Kubernetes clusters, their pools and VMs.
    const placement = this.placement();
    const k8sNames = [...new Set([...vms.flatMap((v) => (v.k8s ? [v.k8s] : [])), ...clusters.map((c) => c.name)])].sort();
    for (const name of k8sNames) {
      const own = vms.filter((v) => v.k8s === name);
      const record = clusters.find((c) => c.name === name);
      const perPe = new Map<string, number>();
      for (const vm of own) perPe.set(vm.pe, (perPe.get(vm.pe) ?? 0) + 1);
      const mainPe = [...perPe.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
      const id = `cluster:${name}`;
      const vipVm = own.find((vm) => placement.get(vm.uuid)?.isCp && vm.learned.some((ip) => !vm.assigned.includes(ip)));
      const vip = vipVm?.learned.find((ip) => !vipVm.assigned.includes(ip)) ?? record?.endpointHost ?? null;
      const counts = powerCounts(own);
      const detail: Record<string, JsonValue> = {
        name,
        vip,
        vipHolderVm: vipVm ? `vm:${vipVm.uuid}` : null,
        primaryPe: mainPe ? `pe:${mainPe}` : null,
      };
      if (record) {
        Object.assign(detail, { paletteUid: record.uid, paletteState: record.state, health: record.health, kubernetesVersion: record.kubernetesVersion });
      }
      g.node({
        id,
        kind: "cluster",
        label: name,
        status: record ? paletteState(record.state, record.health) : vmAggregate(counts),
        parent: peParent(mainPe),
        detail,
        counts,
        links: record ? this.paletteLink(`/v1/spectroclusters/${record.uid}`) : [],
        collapsed: false,
      });
      for (const pe of perPe.keys()) if (knownPe.has(pe)) g.edge(id, `pe:${pe}`, "runs_on");
      if (record) {
        const pcg = accounts.find((a) => a.uid === record.account)?.pcg;
        g.edge(pcg ? `pcg:${pcg}` : project, id, "deploys");
      }
      const poolNames = new Map<string, { isCp: boolean; size: number | null }>();
      if (record) for (const p of pools.filter((p) => p.clusterUid === record.uid)) poolNames.set(p.name, { isCp: p.isCp, size: p.size });
      for (const vm of own) {
        const place = placement.get(vm.uuid);
        if (place && !poolNames.has(place.pool)) poolNames.set(place.pool, { isCp: place.isCp, size: null });
      }
      for (const [pool, { isCp, size }] of [...poolNames.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const pid = `pool:${name}/${pool}`;
        const poolVms = own.filter((vm) => placement.get(vm.uuid)?.pool === pool);
        const poolCounts = powerCounts(poolVms);
        const pending = record && machines.some((m) => m.clusterUid === record.uid && m.pool === pool && m.state !== "Running");
        g.node({
          id: pid,
          kind: "pool",
          label: pool,
          status: worst(vmAggregate(poolCounts), pending ? "pending" : "ok"),
          parent: id,
          detail: { controlPlane: isCp, size },
          counts: poolCounts,
          links: [],
          collapsed: false,
        });
        const poolImages = new Set<string>();
        const poolSubnets = new Set<string>();
        for (const vm of poolVms) {
          vm.images.forEach((i) => poolImages.add(i));
          vm.subnets.forEach((s) => poolSubnets.add(s));
          const vid = this.vmNode(g, vm, pid, knownSubnets);
          if (vipVm === vm) g.detail(vid, "holdsVip", vip);
        }
        for (const img of [...poolImages].sort()) if (knownImages.has(img)) g.edge(pid, `image:${img}`, "boots_from");
        for (const s of [...poolSubnets].sort()) if (knownSubnets.has(s)) g.edge(pid, `subnet:${s}`, "attached");
      }
    }

    // Every other VM, grouped under its PE.
    const groups = new Map<string, VmInfo[]>();
    for (const vm of vms.filter((v) => !v.k8s)) {
      const key = knownPe.has(vm.pe) ? vm.pe : "unplaced";
      groups.set(key, [...(groups.get(key) ?? []), vm]);
    }
    for (const [pe, members] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const gid = `vmgroup:${pe}`;
      const open = expanded.has(gid) || members.length <= inlineLimit;
      const counts = powerCounts(members);
      g.node({
        id: gid,
        kind: "vm_group",
        label: `${members.length} VMs`,
        status: vmAggregate(counts),
        parent: pe === "unplaced" ? pc : `pe:${pe}`,
        detail: {},
        counts,
        links: [],
        collapsed: !open,
      });
      if (open) {
        for (const vm of members) this.vmNode(g, vm, gid, knownSubnets);
      } else {
        const perSubnet = new Map<string, number>();
        for (const vm of members) for (const s of vm.subnets) perSubnet.set(s, (perSubnet.get(s) ?? 0) + 1);
        for (const [s, n] of [...perSubnet.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
          if (knownSubnets.has(s)) g.edge(gid, `subnet:${s}`, "attached", n);
        }
      }
    }

    for (const vm of vms) if (knownPe.has(vm.pe)) g.count(`pe:${vm.pe}`, vm.power);
    return g.finish();
  }

  private vmNode(g: GraphBuilder, vm: VmInfo, parent: string, knownSubnets: Set<string>): string {
    const id = `vm:${vm.uuid}`;
    g.node({
      id,
      kind: "vm",
      label: vm.name,
      status: vm.power === "ON" ? "ok" : "warn",
      parent,
      detail: {
        uuid: vm.uuid,
        powerState: vm.power,
        ips: vm.assigned,
        learnedIps: vm.learned,
        vcpus: vm.vcpus,
        memoryMib: vm.memoryMib,
        pe: `pe:${vm.pe}`,
      },
      counts: null,
      links: this.prismLink(`/api/nutanix/v3/vms/${vm.uuid}`),
      collapsed: false,
    });
    for (const s of vm.subnets) if (knownSubnets.has(s)) g.edge(id, `subnet:${s}`, "attached");
    return id;
  }

  /** Names, ids and IPs; VMs in collapsed groups come with the group to expand. */
  search(request: TopologySearchRequest): TopologySearchResult {
    const needle = request.text.trim().toLowerCase();
    if (needle === "") return { hits: [] };
    const limit = request.limit ?? 50;
    const expanded = new Set(request.expanded);
    const hits: SearchHit[] = [];
    const hit = (label: string, id: string) => label.toLowerCase().includes(needle) || id.toLowerCase().startsWith(needle);
    const push = (nodeId: string, kind: NodeKind, label: string, expand: string | null = null) => {
      if (hits.length < limit) hits.push({ nodeId, kind, label, expand });
      return hits.length < limit;
    };
    for (const pe of this.cached("pe_cluster")) {
      if (hit(pe.name, pe.uuid)) push(pe.isPc ? `pc:${pe.uuid}` : `pe:${pe.uuid}`, pe.isPc ? "prism_central" : "prism_element", pe.name);
    }
    const vms = this.cached("vm");
    const k8s = [...new Set([...vms.flatMap((v) => (v.k8s ? [v.k8s] : [])), ...this.cached("palette_cluster").map((c) => c.name)])].sort();
    for (const name of k8s) if (hit(name, name)) push(`cluster:${name}`, "cluster", name);
    for (const pcg of this.cached("pcg")) if (hit(pcg.name, pcg.uid)) push(`pcg:${pcg.uid}`, "pcg", pcg.name);
    for (const s of this.cached("subnet")) if (hit(s.name, s.uuid)) push(`subnet:${s.uuid}`, "subnet", s.name);
    for (const img of this.cached("image")) if (hit(img.name, img.uuid)) push(`image:${img.uuid}`, "image", img.name);
    const knownPe = new Set(this.cached("pe_cluster").filter((p) => !p.isPc).map((p) => p.uuid));
    const groupSizes = new Map<string, number>();
    for (const vm of vms.filter((v) => !v.k8s)) {
      const key = knownPe.has(vm.pe) ? vm.pe : "unplaced";
      groupSizes.set(key, (groupSizes.get(key) ?? 0) + 1);
    }
    const inlineLimit = 25;
    for (const vm of vms) {
      const ipMatch = [...vm.assigned, ...vm.learned].some((ip) => ip.startsWith(needle));
      if (!(hit(vm.name, vm.uuid) || ipMatch)) continue;
      let expand: string | null = null;
      if (!vm.k8s) {
        const key = knownPe.has(vm.pe) ? vm.pe : "unplaced";
        const gid = `vmgroup:${key}`;
        const shown = expanded.has(gid) || (groupSizes.get(key) ?? 0) <= inlineLimit;
        expand = shown ? null : gid;
      }
      if (!push(`vm:${vm.uuid}`, "vm", vm.name, expand)) break;
    }
    return { hits };
  }
}

// ---- status helpers (the same rules as capstan-inventory) -----------------------------------

const STATUS_RANK: readonly NodeStatus[] = ["ok", "unknown", "pending", "warn", "error"];

function worst(a: NodeStatus, b: NodeStatus): NodeStatus {
  return STATUS_RANK.indexOf(a) >= STATUS_RANK.indexOf(b) ? a : b;
}

function powerCounts(vms: VmInfo[]): NodeCounts {
  const c: NodeCounts = { vms: 0, poweredOn: 0, poweredOff: 0 };
  for (const vm of vms) {
    c.vms += 1;
    if (vm.power === "ON") c.poweredOn += 1;
    else if (vm.power === "OFF") c.poweredOff += 1;
  }
  return c;
}

function vmAggregate(c: NodeCounts): NodeStatus {
  if (c.vms === 0) return "pending";
  if (c.poweredOn === c.vms) return "ok";
  if (c.poweredOn === 0) return "error";
  return "warn";
}

function paletteState(state: string | null, health: string | null): NodeStatus {
  switch (state) {
    case "Running":
      return health === null || health === "Healthy" ? "ok" : health === "" ? "pending" : "warn";
    case "Pending":
    case "Provisioning":
    case "Deleting":
    case "Importing":
    case "Upgrading":
      return "pending";
    case "Failed":
    case "Error":
    case "Unhealthy":
      return "error";
    case "Deleted":
      return "warn";
    default:
      return "unknown";
  }
}

class GraphBuilder {
  private readonly nodes: TopologyNode[] = [];
  private readonly index = new Map<string, number>();
  private readonly edges: TopologyEdge[] = [];
  private readonly edgeKeys = new Set<string>();

  node(node: TopologyNode): void {
    if (this.index.has(node.id)) return;
    if (node.parent) this.edge(node.parent, node.id, "contains");
    this.index.set(node.id, this.nodes.length);
    this.nodes.push(node);
  }

  edge(from: string, to: string, kind: EdgeKind, count: number | null = null): void {
    const key = `${from}\u0000${to}\u0000${kind}`;
    if (this.edgeKeys.has(key)) return;
    this.edgeKeys.add(key);
    this.edges.push({ from, to, kind, count });
  }

  detail(id: string, key: string, value: JsonValue): void {
    const i = this.index.get(id);
    if (i !== undefined) this.nodes[i].detail[key] = value;
  }

  count(id: string, power: string): void {
    const i = this.index.get(id);
    const c = i === undefined ? null : this.nodes[i].counts;
    if (!c) return;
    c.vms += 1;
    if (power === "ON") c.poweredOn += 1;
    else if (power === "OFF") c.poweredOff += 1;
  }

  /** Drops edges whose ends are not drawn (a group's VMs while it is collapsed). */
  finish(): TopologyGraph {
    return { nodes: this.nodes, edges: this.edges.filter((e) => this.index.has(e.from) && this.index.has(e.to)) };
  }
}
