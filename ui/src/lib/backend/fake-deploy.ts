import type {
  CheckData,
  CheckId,
  CheckResult,
  DeployAccount,
  DeployOptions,
  DeployProfile,
  DeployRender,
  DeployRequest,
  DeployResult,
  DeploySpec,
  EntityChoice,
  ImageOption,
  IpcError,
  PlacementOptions,
  PlacementRequest,
  PoolSpec,
  PreflightReport,
  PrismElementOption,
  SizeIssue,
  SubnetOption,
  UnmappedYamlField,
  VipConflict,
  YamlReadBack,
  YamlReadBackRequest,
} from "../bindings";
import type { FakeClusters } from "./fake-cluster";
import type { FakeProfile } from "./fake-profile";

/**
 * The step-5 half of the `FakeServer`: the deploy form's pickers, the generated YAML and its
 * read-back, the preflight and the create, answering like the engine does against the sandbox
 * estate (crates/capstan-sandbox/README.md): `pe-cluster-01/02`, `<pe>-vlan110` with Prism IPAM
 * (/22, pool `.10`–`.3.231`), `<pe>-vlan120` without IPAM, `vm-network` on both PEs (duplicate
 * name), the CAPX images (one duplicate name, one PENDING upload, an ISO left out) and the
 * sample cluster `demo-k8s` holding the VIP `10.64.3.232`. The preflight computes its 13
 * checks from that estate, so a VIP in a pool, an address a VM holds, an image for another
 * Kubernetes minor, a node under 2 GiB or overlapping CIDRs fail as the engine's would.
 */

/** A count or size as the engine sends it: a non-negative whole number. */
const u64 = (n: number): number => Math.max(0, Math.round(n));

// ---- IPv4 ------------------------------------------------------------------------------------

export function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p, i) => p > 255 || (m[i + 1].length > 1 && m[i + 1].startsWith("0")))) return null;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

interface Cidr {
  network: number;
  prefix: number;
  /** Last address (broadcast). */
  last: number;
}

export function parseCidr(text: string): Cidr | null {
  const m = /^([^/\s]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return null;
  const ip = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (ip === null || prefix > 32) return null;
  const size = 2 ** (32 - prefix);
  const network = ip - (ip % size);
  if (network !== ip) return null;
  return { network, prefix, last: network + size - 1 };
}

const overlaps = (a: Cidr, b: { network: number; last: number }) => a.network <= b.last && b.network <= a.last;

function parseRange(text: string): { first: number; last: number } | null {
  const [a, b] = text.split("-").map((s) => parseIpv4(s));
  return a != null && b != null ? { first: a, last: b } : null;
}

// ---- the estate ------------------------------------------------------------------------------

interface FakePe extends PrismElementOption {
  externalIp: string;
  dataServicesIp: string;
  hypervisorIps: string[];
  coresPerHost: number;
  memoryMibPerHost: number;
  allocatedMemoryMib: number;
  allocatedVcpus: number;
}

interface FakeSubnet extends SubnetOption {
  peUuid: string;
  /** Prism IPAM's DHCP server address (the last usable one), when managed. */
  dhcpServer: string | null;
}

interface FakeImage {
  uuid: string;
  name: string;
  imageType: "DISK_IMAGE" | "ISO_IMAGE";
  state: "COMPLETE" | "PENDING";
  sizeBytes: number;
  presentOn: string[];
}

interface HeldAddress {
  ip: string;
  vm: string;
  vmUuid: string;
  addressType: "ASSIGNED" | "LEARNED";
  cluster: string | null;
}

const PC_ADDRESS = "10.1.0.5";
const PC_VERSION = "pc.2024.3";
const CAPX_LINE = "1.8";
const PC_MINIMUM = "pc.2024.1";
const VM_COUNT = 1214;
const GIB = 1024;

const PE1 = "0006a9c1-7d2e-4f51-b3c0-5e4d8a1f0c01";
const PE2 = "0006b3f0-1c8a-4e27-9d45-7a2c6e9b1d02";

function pe(uuid: string, n: number, allocatedGib: number, allocatedVcpus: number): FakePe {
  return {
    uuid,
    name: `pe-cluster-0${n}`,
    nameUnique: true,
    available: true,
    hosts: u64(4),
    hypervisor: "AHV",
    aosVersion: "6.8.1",
    externalIp: `10.1.${n}.10`,
    dataServicesIp: `10.1.${n}.11`,
    hypervisorIps: [20, 21, 22, 23].map((h) => `10.1.${n}.${h}`),
    coresPerHost: 64,
    memoryMibPerHost: 768 * GIB,
    allocatedMemoryMib: allocatedGib * GIB,
    allocatedVcpus,
  };
}

/** A subnet carved as a /22 from 10.64.0.0 (in the sandbox's order), with or without IPAM. */
function subnet(uuid: string, name: string, peUuid: string, vlan: number, block: number, ipam: { free: number } | null): FakeSubnet {
  const network = (parseIpv4("10.64.0.0") ?? 0) + block * 1024;
  return {
    uuid,
    name,
    nameUnique: name !== "vm-network",
    subnetType: "VLAN",
    vlanId: vlan,
    cidr: ipam ? `${formatIpv4(network)}/22` : null,
    gateway: ipam ? formatIpv4(network + 1) : null,
    pools: ipam ? [`${formatIpv4(network + 10)}-${formatIpv4(network + 999)}`] : [],
    freePoolAddresses: ipam ? u64(ipam.free) : null,
    peUuid,
    dhcpServer: ipam ? formatIpv4(network + 1022) : null,
  };
}

function seedEstate() {
  const pes = [pe(PE1, 1, 1900, 700), pe(PE2, 2, 1240, 420)];
  const subnets = [
    subnet("5b0f6a2e-31c4-4d8e-9a17-2f6c0d4e8b11", "pe-cluster-01-vlan110", PE1, 110, 0, { free: 812 }),
    subnet("5b0f6a2e-31c4-4d8e-9a17-2f6c0d4e8b12", "pe-cluster-01-vlan120", PE1, 120, 1, null),
    // Nearly full: a default cluster (3 nodes + 2 surge) does not fit.
    subnet("5b0f6a2e-31c4-4d8e-9a17-2f6c0d4e8b13", "vm-network", PE1, 0, 2, { free: 4 }),
    subnet("7c21d9a4-52e8-4b3f-8d60-1e9a7f3c5a21", "pe-cluster-02-vlan110", PE2, 110, 3, { free: 951 }),
    subnet("7c21d9a4-52e8-4b3f-8d60-1e9a7f3c5a22", "pe-cluster-02-vlan120", PE2, 120, 4, null),
    subnet("7c21d9a4-52e8-4b3f-8d60-1e9a7f3c5a23", "vm-network", PE2, 0, 5, { free: 640 }),
  ];
  const gib = 2 ** 30;
  const images: FakeImage[] = [
    { uuid: "e1a0c3d2-0b19-4c8a-a1f2-29a1b0c3d401", name: "capx-ubuntu-2204-kube-v1.29.10", imageType: "DISK_IMAGE", state: "COMPLETE", sizeBytes: 9 * gib, presentOn: ["pe-cluster-01"] },
    { uuid: "e1a0c3d2-0b19-4c8a-a1f2-29a1b0c3d402", name: "capx-ubuntu-2204-kube-v1.29.10", imageType: "DISK_IMAGE", state: "COMPLETE", sizeBytes: 9 * gib, presentOn: ["pe-cluster-02"] },
    { uuid: "e1a0c3d2-0b19-4c8a-a1f2-29a1b0c3d403", name: "capx-ubuntu-2204-kube-v1.30.5", imageType: "DISK_IMAGE", state: "COMPLETE", sizeBytes: 9 * gib, presentOn: ["pe-cluster-01", "pe-cluster-02"] },
    { uuid: "e1a0c3d2-0b19-4c8a-a1f2-29a1b0c3d404", name: "capx-ubuntu-2204-kube-v1.31.4", imageType: "DISK_IMAGE", state: "COMPLETE", sizeBytes: 10 * gib, presentOn: ["pe-cluster-01", "pe-cluster-02"] },
    { uuid: "e1a0c3d2-0b19-4c8a-a1f2-29a1b0c3d405", name: "capx-rockylinux-9-kube-v1.30.5", imageType: "DISK_IMAGE", state: "COMPLETE", sizeBytes: 11 * gib, presentOn: ["pe-cluster-01"] },
    { uuid: "e1a0c3d2-0b19-4c8a-a1f2-29a1b0c3d406", name: "ubuntu-22.04.5-live-server-amd64.iso", imageType: "ISO_IMAGE", state: "COMPLETE", sizeBytes: 2 * gib, presentOn: ["pe-cluster-01", "pe-cluster-02"] },
    { uuid: "e1a0c3d2-0b19-4c8a-a1f2-29a1b0c3d407", name: "capx-ubuntu-2404-kube-v1.31.4", imageType: "DISK_IMAGE", state: "PENDING", sizeBytes: 0, presentOn: [] },
  ];
  const held: HeldAddress[] = [
    // The sample cluster's kube-vip address, learned on its first control-plane VM.
    { ip: "10.64.3.232", vm: "demo-k8s-kcp-7fq2x", vmUuid: "a3c51e70-9d1b-4e0f-8a2c-6b7d9e0f1a01", addressType: "LEARNED", cluster: "demo-k8s" },
    // A static address outside the pool.
    { ip: "10.64.0.3", vm: "ops-bastion-01", vmUuid: "a3c51e70-9d1b-4e0f-8a2c-6b7d9e0f1a02", addressType: "ASSIGNED", cluster: null },
    ...[10, 11, 12, 13, 14].map((last, i) => ({
      ip: `10.64.0.${last}`,
      vm: i < 3 ? `demo-k8s-kcp-${["7fq2x", "m4k9d", "zr81c"][i]}` : `demo-k8s-wmd-5d8b7c9f4x-${["p2l6q", "w9t3n"][i - 3]}`,
      vmUuid: `a3c51e70-9d1b-4e0f-8a2c-6b7d9e0f1b0${i}`,
      addressType: "ASSIGNED" as const,
      cluster: "demo-k8s",
    })),
  ];
  return { pes, subnets, images, held };
}

const ACCOUNT: DeployAccount = { uid: "6734a1f0c2b9e8d71f2a0c11", name: "nutanix-sandbox", pcgName: "edge-pcg", pcgState: "Running" };

const SSH_KEYS = [
  {
    path: "~/.ssh/id_ed25519.pub",
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0r3pYc7m1N8bKxVf2WQe5sT9uJd6LhZgA4oPiC0xE operator@workstation",
    comment: "operator@workstation",
  },
  {
    path: "~/.ssh/id_rsa.pub",
    publicKey:
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7yZ2mQ9xk1Vb3fT0pLr8sWc4nJ5hE6gD2aK7uY0iO9pN3qR1tS4vX8zB5cF2dG6hJ3kL7mN1pQ4rS8tU2vW5xY9zA3bC6dE0fG4hI7jK1lM5nO8pQ2rS6tU9vW3xY7zA1bC4dE8fG2hI5jK9lM3nO6pQ0rS4tU7vW1xY5z operator@laptop",
    comment: "operator@laptop",
  },
];

const DEFAULT_POOL: PoolSpec = { name: "", replicas: 1, vcpuSockets: 2, vcpusPerSocket: 2, memoryGib: 4, diskGib: 40, bootType: "legacy" };

// ---- Kubernetes versions ---------------------------------------------------------------------

/** `v1.30.6` / `1.30.6` → `1.30.6`. */
const bareVersion = (v: string) => v.trim().replace(/^v/, "");
const minorOf = (v: string) => /^(\d+\.\d+)/.exec(bareVersion(v))?.[1] ?? null;
/** The Kubernetes version an image's name carries (`...-kube-v1.30.5` → `1.30.5`). */
const imageVersion = (name: string) => /kube-v?(\d+\.\d+\.\d+)/.exec(name)?.[1] ?? null;
const compareVersions = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

// ---- YAML ------------------------------------------------------------------------------------

function entityYaml(choice: EntityChoice, indent: string, item = false): string {
  const first = item ? `${indent}- ` : indent;
  const rest = item ? `${indent}  ` : indent;
  return choice.useUuid ? `${first}type: uuid\n${rest}uuid: ${choice.uuid}` : `${first}type: name\n${rest}name: ${choice.name}`;
}

function machineTemplate(name: string, pool: PoolSpec, spec: DeploySpec): string {
  return `apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixMachineTemplate
metadata:
  name: ${name}
spec:
  template:
    spec:
      providerID: nutanix://\${CLUSTER_NAME}-m1
      bootType: ${pool.bootType}
      vcpuSockets: ${pool.vcpuSockets}
      vcpusPerSocket: ${pool.vcpusPerSocket}
      memorySize: ${pool.memoryGib}Gi
      systemDiskSize: ${pool.diskGib}Gi
      cluster:
${entityYaml(spec.prismElement, "        ")}
      image:
${entityYaml(spec.image, "        ")}
      subnet:
${spec.subnets.map((s) => entityYaml(s, "        ", true)).join("\n")}
`;
}

const kubeVersion = (spec: DeploySpec) => `v${bareVersion(spec.kubernetesVersion)}`;

function workerPoolName(pool: PoolSpec, index: number): string {
  return pool.name.trim() || (index === 0 ? "worker-pool" : `worker-pool-${index + 1}`);
}

/** The engine's cluster read-back: the VIP, the API port and the pod/service networks. */
function readBackCluster(spec: DeploySpec, yaml: string): YamlReadBack {
  const next = { ...spec };
  const changed: string[] = [];
  const host = /controlPlaneEndpoint:\s*\n\s*host:\s*"?([^"\s]+)"?/.exec(yaml)?.[1];
  const port = Number(/controlPlaneEndpoint:\s*\n\s*host:[^\n]*\n\s*port:\s*(\d+)/.exec(yaml)?.[1]);
  const pods = /pods:\s*\n\s*cidrBlocks:\s*\[?\s*(?:-\s*)?"?([0-9./]+)/.exec(yaml)?.[1];
  const services = /services:\s*\n\s*cidrBlocks:\s*\[?\s*(?:-\s*)?"?([0-9./]+)/.exec(yaml)?.[1];
  if (pods && pods !== spec.podCidr) {
    next.podCidr = pods;
    changed.push("podCidr");
  }
  if (services && services !== spec.serviceCidr) {
    next.serviceCidr = services;
    changed.push("serviceCidr");
  }
  if (host && parseIpv4(host) !== null && host !== spec.controlPlaneEndpoint) {
    next.controlPlaneEndpoint = host;
    changed.push("controlPlaneEndpoint");
  }
  if (Number.isInteger(port) && port > 0 && port < 65536 && port !== spec.controlPlanePort) {
    next.controlPlanePort = port;
    changed.push("controlPlanePort");
  }
  return { spec: next, changed, unmapped: [] };
}

function renderCluster(spec: DeploySpec): string {
  return `apiVersion: v1
kind: Secret
metadata:
  name: \${CLUSTER_NAME}
stringData:
  credentials: '[{"type":"basic_auth","data":{"prismCentral":{"username":"\${NUTANIX_USER}","password":"\${NUTANIX_PASSWORD}"}}}]'
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixCluster
metadata:
  name: \${CLUSTER_NAME}
spec:
  controlPlaneEndpoint:
    host: ${spec.controlPlaneEndpoint}
    port: ${spec.controlPlanePort}
  prismCentral:
    address: ${PC_ADDRESS}
    port: 9440
    insecure: false
    credentialRef:
      kind: Secret
      name: \${CLUSTER_NAME}
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: \${CLUSTER_NAME}
spec:
  clusterNetwork:
    pods:
      cidrBlocks: ["${spec.podCidr}"]
    services:
      cidrBlocks: ["${spec.serviceCidr}"]
  controlPlaneRef:
    apiVersion: controlplane.cluster.x-k8s.io/v1beta1
    kind: KubeadmControlPlane
    name: \${CLUSTER_NAME}-kcp
  infrastructureRef:
    apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
    kind: NutanixCluster
    name: \${CLUSTER_NAME}
`;
}

function renderControlPlane(spec: DeploySpec): string {
  const pool = spec.controlPlane;
  return `apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: KubeadmControlPlane
metadata:
  name: \${CLUSTER_NAME}-kcp
spec:
  replicas: ${pool.replicas}
  version: ${kubeVersion(spec)}
  machineTemplate:
    infrastructureRef:
      apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
      kind: NutanixMachineTemplate
      name: \${CLUSTER_NAME}-cp-0
  kubeadmConfigSpec:
    users:
      - name: capiuser
        sudo: ALL=(ALL) NOPASSWD:ALL
        sshAuthorizedKeys:
          - ${spec.sshPublicKey}
    files:
      - path: /etc/kubernetes/manifests/kube-vip.yaml
        owner: root:root
        content: |
          apiVersion: v1
          kind: Pod
          metadata:
            name: kube-vip
            namespace: kube-system
          spec:
            hostNetwork: true
            containers:
              - name: kube-vip
                image: ghcr.io/kube-vip/kube-vip:v0.9.2
                args: [manager]
                env:
                  - {name: address, value: "${spec.controlPlaneEndpoint}"}
                  - {name: port, value: "${spec.controlPlanePort}"}
                  - {name: vip_arp, value: "true"}
                  - {name: cp_enable, value: "true"}
    preKubeadmCommands:
      - systemctl enable --now iscsid
---
${machineTemplate("${CLUSTER_NAME}-cp-0", pool, spec)}`;
}

function renderWorker(spec: DeploySpec, index: number): string {
  const pool = spec.workers[index];
  const name = workerPoolName(pool, index);
  return `apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata:
  name: ${name}
spec:
  clusterName: \${CLUSTER_NAME}
  replicas: ${pool.replicas}
  template:
    spec:
      clusterName: \${CLUSTER_NAME}
      version: ${kubeVersion(spec)}
      bootstrap:
        configRef:
          apiVersion: bootstrap.cluster.x-k8s.io/v1beta1
          kind: KubeadmConfigTemplate
          name: ${name}-kcfg
      infrastructureRef:
        apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
        kind: NutanixMachineTemplate
        name: ${name}-mt
---
apiVersion: bootstrap.cluster.x-k8s.io/v1beta1
kind: KubeadmConfigTemplate
metadata:
  name: ${name}-kcfg
spec:
  template:
    spec:
      users:
        - name: capiuser
          sudo: ALL=(ALL) NOPASSWD:ALL
          sshAuthorizedKeys:
            - ${spec.sshPublicKey}
      joinConfiguration:
        nodeRegistration:
          kubeletExtraArgs:
            cloud-provider: external
      preKubeadmCommands:
        - systemctl enable --now iscsid
---
${machineTemplate(`${name}-mt`, pool, spec)}`;
}

function invalid(message: string, field: string): IpcError {
  return { code: "invalid_input", message, details: { field } };
}

/**
 * Flattens a small YAML subset (block mappings and sequences, block scalars kept whole) into
 * `Kind.path.to.key` → value, per document. Enough for the pool templates; anything else is an
 * `invalid_input` naming the line, as the engine's parser would refuse it.
 */
export function flattenYaml(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let doc = new Map<string, string>();
  let kind = "";
  let stack: Array<{ indent: number; path: string; item: boolean }> = [];
  let counters = new Map<string, number>();
  let block: { indent: number; path: string; lines: string[] } | null = null;
  const endDoc = () => {
    if (block) doc.set(block.path, block.lines.join("\n"));
    block = null;
    for (const [path, value] of doc) out.set(`${kind || "?"}.${path}`, value);
    doc = new Map();
    kind = "";
    stack = [];
    counters = new Map();
  };
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (/^---\s*$/.test(raw)) return endDoc();
    const indent = raw.search(/\S/);
    if (block) {
      if (indent < 0 || indent > block.indent) {
        block.lines.push(raw.trim());
        return;
      }
      doc.set(block.path, block.lines.join("\n"));
      block = null;
    }
    if (indent < 0 || raw.trim().startsWith("#")) return;
    if (/^\s*\t/.test(raw)) throw { code: "invalid_input", message: `Line ${lineNo} is indented with a tab; YAML allows spaces only.`, details: { line: lineNo } } satisfies IpcError;
    let rest = raw.slice(indent);
    let keyIndent = indent;
    const parentOf = (at: number, forItem = false) => {
      // A sequence may sit at its key's indent (`key:` / `- a`): only an earlier item ends there.
      const ends = (top: { indent: number; item: boolean }) => top.indent > at || (top.indent === at && (!forItem || top.item));
      while (stack.length > 0 && ends(stack[stack.length - 1])) stack.pop();
      return stack.length > 0 ? stack[stack.length - 1].path : "";
    };
    if (rest.startsWith("- ") || rest === "-") {
      const parent = parentOf(indent, true);
      const index = counters.get(parent) ?? 0;
      counters.set(parent, index + 1);
      const itemPath = `${parent}[${index}]`;
      stack.push({ indent, path: itemPath, item: true });
      rest = rest.slice(2);
      keyIndent = indent + 2;
      if (!/^[A-Za-z0-9_.-]+:(\s|$)/.test(rest)) {
        doc.set(itemPath, rest.trim());
        return;
      }
    }
    const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(rest);
    if (!m) {
      throw { code: "invalid_input", message: `Line ${lineNo} is not "key: value": ${raw.trim().slice(0, 60)}`, details: { line: lineNo } } satisfies IpcError;
    }
    const parent = parentOf(keyIndent);
    const path = parent ? `${parent}.${m[1]}` : m[1];
    const value = (m[2] ?? "").trim();
    if (value === "") {
      stack.push({ indent: keyIndent, path, item: false });
    } else if (/^[|>][-+]?$/.test(value)) {
      block = { indent: keyIndent, path, lines: [] };
    } else {
      if (path === "kind") kind = value;
      doc.set(path, value);
    }
  });
  endDoc();
  return out;
}

/** `4Gi` → 4, `8192Mi` → 8; null when not whole GiB. */
function gibOf(quantity: string): number | null {
  const m = /^(\d+)\s*(Gi|Mi|Ti)$/.exec(quantity.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const gib = m[2] === "Gi" ? n : m[2] === "Ti" ? n * 1024 : n / 1024;
  return Number.isInteger(gib) ? gib : null;
}

const wholeNumber = (value: string) => (/^\d+$/.test(value) ? Number(value) : null);

// ---- preflight -------------------------------------------------------------------------------

type Outcome = CheckResult["outcome"];

const TITLES: Record<CheckId, string> = {
  credentials: "Prism Central is reachable and accepts the credentials",
  prismCentralVersion: "Prism Central is new enough for the CAPX version",
  prismElement: "The Prism Element cluster exists exactly once",
  subnets: "The subnet exists exactly once on that Prism Element",
  image: "The image exists exactly once",
  imageKubernetesVersion: "The image matches the Kubernetes version",
  machineSizes: "Node sizes meet the CAPX minimums",
  vipInSubnet: "The control-plane VIP is in the subnet, outside its IP pools",
  vipNotPrism: "The control-plane VIP is not a Prism address",
  vipUnused: "No VM uses the control-plane VIP",
  subnetCapacity: "The subnet has free addresses for every node plus an upgrade",
  prismElementCapacity: "The Prism Element has CPU and memory headroom for the pools",
  clusterNetworks: "Pod and service CIDRs do not overlap the node subnet",
};

export const CHECK_ORDER: readonly CheckId[] = Object.keys(TITLES) as CheckId[];

/** What each check waits for, and how long the fake says it ran (ms). */
const NEEDS: Record<CheckId, { needs: CheckId[]; ms: number }> = {
  credentials: { needs: [], ms: 38 },
  prismCentralVersion: { needs: ["credentials"], ms: 12 },
  prismElement: { needs: ["credentials"], ms: 64 },
  subnets: { needs: ["prismElement"], ms: 71 },
  image: { needs: ["credentials"], ms: 58 },
  imageKubernetesVersion: { needs: ["image"], ms: 1 },
  machineSizes: { needs: [], ms: 0 },
  vipInSubnet: { needs: ["subnets"], ms: 2 },
  vipNotPrism: { needs: ["credentials"], ms: 23 },
  vipUnused: { needs: ["credentials"], ms: 412 },
  subnetCapacity: { needs: ["subnets"], ms: 9 },
  prismElementCapacity: { needs: ["prismElement"], ms: 188 },
  clusterNetworks: { needs: ["subnets"], ms: 1 },
};

interface Finding {
  outcome: Outcome;
  code: string;
  detail: string;
  fix?: string | null;
  data?: CheckData | null;
}

const pass = (code: string, detail: string, data: CheckData | null = null): Finding => ({ outcome: "pass", code, detail, data });
const warn = (code: string, detail: string, fix: string, data: CheckData | null = null): Finding => ({ outcome: "warn", code, detail, fix, data });
const fail = (code: string, detail: string, fix: string, data: CheckData | null = null): Finding => ({ outcome: "fail", code, detail, fix, data });

const SEVERITY: Record<string, number> = { pass: 0, skipped: 1, warn: 2, error: 3, fail: 4 };
const fmt = (n: number) => n.toLocaleString("en-US");
const gibText = (mib: number) => `${(mib / GIB).toFixed(1)} GiB`;

export class FakeDeploy {
  private readonly estate = seedEstate();
  readonly accounts: DeployAccount[] = [ACCOUNT];
  private seq = 0;

  constructor(
    private readonly clusters: FakeClusters,
    private readonly profiles: FakeProfile,
  ) {}

  deployOptions(): DeployOptions {
    return {
      accounts: this.accounts.map((a) => ({ ...a })),
      profiles: this.publishedProfiles(),
      prismElements: this.estate.pes.map(({ uuid, name, nameUnique, available, hosts, hypervisor, aosVersion }) => ({ uuid, name, nameUnique, available, hosts, hypervisor, aosVersion })),
      sshKeys: SSH_KEYS.map((k) => ({ ...k })),
      defaults: {
        controlPlane: { ...DEFAULT_POOL },
        worker: { ...DEFAULT_POOL, replicas: 2 },
        controlPlanePort: 6443,
        podCidr: "172.20.0.0/16",
        serviceCidr: "172.19.0.0/16",
        minMemoryMib: u64(2048),
        minSystemDiskMib: u64(20480),
        capxLine: CAPX_LINE,
      },
      prismCentralAddress: PC_ADDRESS,
      problems: [],
    };
  }

  deployPlacement(request: PlacementRequest): PlacementOptions {
    const pe = this.estate.pes.find((p) => p.uuid === request.prismElementUuid);
    if (!pe) throw { code: "not_found", message: "That Prism Element is no longer in Prism Central. Pick one from the list again." } satisfies IpcError;
    const subnets = this.estate.subnets.filter((s) => s.peUuid === pe.uuid);
    const wanted = request.kubernetesVersion ? minorOf(request.kubernetesVersion) : null;
    const images: ImageOption[] = this.estate.images
      .filter((i) => i.imageType === "DISK_IMAGE" && (i.presentOn.includes(pe.name) || i.presentOn.length === 0))
      .map((i) => {
        const version = imageVersion(i.name);
        return {
          uuid: i.uuid,
          name: i.name,
          nameUnique: this.estate.images.filter((o) => o.name === i.name).length === 1,
          kubernetesVersion: version,
          matches: wanted !== null && version !== null && minorOf(version) === wanted,
          state: i.state,
        };
      })
      .sort((a, b) => Number(b.matches) - Number(a.matches) || compareVersions(b.kubernetesVersion ?? "", a.kubernetesVersion ?? "") || a.name.localeCompare(b.name));
    const vipSubnet = subnets.find((s) => s.uuid === request.subnetUuid) ?? subnets[0];
    const candidates = vipSubnet ? this.freeAddresses(vipSubnet, 5) : [];
    return {
      prismElementUuid: pe.uuid,
      subnets: subnets.map((s) => this.subnetOption(s)),
      images,
      vipSubnetUuid: vipSubnet?.uuid ?? null,
      vipCandidates: candidates,
      vipNote: !vipSubnet
        ? `${pe.name} has no subnets.`
        : !vipSubnet.cidr
          ? `${vipSubnet.name} has no Prism IPAM: Prism does not know which addresses are free. Ask the network team for an unused address of VLAN ${vipSubnet.vlanId}.`
          : candidates.length === 0
            ? `${vipSubnet.name} has no free address outside its IP pools.`
            : null,
    };
  }

  deployRender(spec: DeploySpec): DeployRender {
    return {
      yaml: { cluster: renderCluster(spec), controlPlane: renderControlPlane(spec), workers: spec.workers.map((_, i) => renderWorker(spec, i)) },
      paletteFills: ["CLUSTER_NAME", "NUTANIX_USER", "NUTANIX_PASSWORD"],
    };
  }

  deployYamlReadBack(request: YamlReadBackRequest): YamlReadBack {
    const { spec, pool } = request;
    if (pool.kind === "cluster") return readBackCluster(spec, request.yaml);
    const workerIndex = pool.kind === "worker" ? pool.index : -1;
    if (pool.kind === "worker" && !spec.workers[workerIndex]) {
      throw { code: "invalid_request", message: `The form has no worker pool ${workerIndex + 1}.` } satisfies IpcError;
    }
    const before = flattenYaml(pool.kind === "worker" ? renderWorker(spec, workerIndex) : renderControlPlane(spec));
    const after = flattenYaml(request.yaml);
    const next: DeploySpec = structuredClone(spec);
    const target = pool.kind === "worker" ? next.workers[workerIndex] : next.controlPlane;
    const field = pool.kind === "worker" ? `workers[${workerIndex}]` : "controlPlane";
    const changed: string[] = [];
    const unmapped: UnmappedYamlField[] = [];
    const deployKind = pool.kind === "worker" ? "MachineDeployment" : "KubeadmControlPlane";
    const machine = "NutanixMachineTemplate.spec.template.spec";

    const numberField = (key: "replicas" | "vcpuSockets" | "vcpusPerSocket", path: string, value: string) => {
      const n = wholeNumber(value);
      if (n === null) return unmapped.push({ path, value, reason: `"${value}" is not a whole number; the form keeps ${target[key]}.` });
      if (key === "replicas" && pool.kind === "controlPlane" && ![1, 3, 5].includes(n)) {
        return unmapped.push({ path, value, reason: `A control plane has 1, 3 or 5 nodes (etcd needs an odd quorum); the form keeps ${target.replicas}.` });
      }
      if (target[key] !== n) {
        target[key] = n;
        changed.push(`${field}.${key}`);
      }
    };
    const sizeField = (key: "memoryGib" | "diskGib", path: string, value: string) => {
      const gib = gibOf(value);
      if (gib === null) return unmapped.push({ path, value, reason: `The form holds whole GiB (like 8Gi); "${value}" is kept in the YAML only.` });
      if (target[key] !== gib) {
        target[key] = gib;
        changed.push(`${field}.${key}`);
      }
    };
    const entity = (what: "image" | "prismElement", path: string, value: string, byUuid: boolean) => {
      const all: Array<{ uuid: string; name: string }> = what === "image" ? this.estate.images.filter((i) => i.imageType === "DISK_IMAGE") : this.estate.pes;
      const found = all.filter((e) => (byUuid ? e.uuid === value : e.name === value));
      if (found.length !== 1) {
        return unmapped.push({
          path,
          value,
          reason: found.length === 0 ? `Prism Central has no ${what === "image" ? "disk image" : "Prism Element"} "${value}"; pick one in the form.` : `"${value}" names ${found.length} entities; pick one in the form (it is then referenced by UUID).`,
        });
      }
      const nameUnique = all.filter((e) => e.name === found[0].name).length === 1;
      const choice: EntityChoice = { uuid: found[0].uuid, name: found[0].name, useUuid: byUuid || !nameUnique };
      if (next[what].uuid !== choice.uuid) {
        next[what] = choice;
        if (what === "prismElement") next.subnets = [];
        changed.push(what);
      }
    };

    const keys = new Set([...before.keys(), ...after.keys()]);
    for (const path of keys) {
      const old = before.get(path);
      const value = after.get(path);
      if (old === value) continue;
      if (value === undefined) {
        unmapped.push({ path, value: null, reason: "Removed in the YAML; the form keeps its value and the YAML is deployed as edited." });
        continue;
      }
      if (path === `${deployKind}.spec.replicas`) numberField("replicas", path, value);
      else if (path === `${machine}.vcpuSockets`) numberField("vcpuSockets", path, value);
      else if (path === `${machine}.vcpusPerSocket`) numberField("vcpusPerSocket", path, value);
      else if (path === `${machine}.memorySize`) sizeField("memoryGib", path, value);
      else if (path === `${machine}.systemDiskSize`) sizeField("diskGib", path, value);
      else if (path === `${machine}.bootType`) {
        if (value === "legacy" || value === "uefi") {
          if (target.bootType !== value) {
            target.bootType = value;
            changed.push(`${field}.bootType`);
          }
        } else unmapped.push({ path, value, reason: `CAPX boots "legacy" or "uefi"; "${value}" is kept in the YAML only.` });
      } else if (path === `${machine}.image.name` || path === `${machine}.image.uuid`) entity("image", path, value, path.endsWith("uuid"));
      else if (path === `${machine}.cluster.name` || path === `${machine}.cluster.uuid`) entity("prismElement", path, value, path.endsWith("uuid"));
      else if (/(^KubeadmControlPlane\.spec\.version|\.template\.spec\.version)$/.test(path)) {
        unmapped.push({ path, value, reason: `The Kubernetes version comes from the profile's Kubernetes layer (${spec.kubernetesVersion}); change the profile instead.` });
      } else if (path.startsWith(`${machine}.subnet`)) {
        unmapped.push({ path, value, reason: "Subnets are picked in the form (from the Prism Element's subnets)." });
      } else if (path === `${deployKind}.metadata.name` && pool.kind === "worker") {
        if (target.name !== value) {
          target.name = value;
          changed.push(`${field}.name`);
        }
      } else {
        unmapped.push({ path, value, reason: "The form has no field for it; it is deployed as edited." });
      }
    }
    return { spec: next, changed, unmapped };
  }

  deployPreflight(spec: DeploySpec): PreflightReport {
    const results = new Map<CheckId, CheckResult>();
    const waitedFor = (id: CheckId): number => Math.max(0, ...NEEDS[id].needs.map((n) => waitedFor(n) + NEEDS[n].ms));
    const record = (id: CheckId, finding: Finding) => {
      results.set(id, {
        id,
        title: TITLES[id],
        outcome: finding.outcome,
        code: finding.code,
        detail: finding.detail,
        fix: finding.fix ?? null,
        data: finding.data ?? null,
        elapsedMs: u64(finding.outcome === "skipped" ? 0 : NEEDS[id].ms),
        waitedMs: u64(waitedFor(id)),
      });
    };
    const ok = (id: CheckId) => {
      const outcome = results.get(id)?.outcome;
      return outcome === "pass" || outcome === "warn";
    };
    const run = (id: CheckId, check: () => Finding) => {
      const unmet = NEEDS[id].needs.filter((n) => !ok(n));
      if (unmet.length > 0) {
        record(id, { outcome: "skipped", code: "dependency_not_met", detail: `Not run: it needs "${TITLES[unmet[0]]}", which did not succeed.` });
      } else record(id, check());
    };

    const pe = this.estate.pes.find((p) => p.uuid === spec.prismElement.uuid);
    const subnets = spec.subnets.map((choice) => ({ choice, found: this.estate.subnets.find((s) => s.uuid === choice.uuid) }));
    const firstSubnet = subnets[0]?.found;

    run("credentials", () => pass("credentials_ok", `Prism Central ${PC_ADDRESS} accepted the credentials of "admin".`, { kind: "user", name: "admin" }));
    run("prismCentralVersion", () =>
      pass("prism_central_version_ok", `Prism Central ${PC_VERSION} is at least ${PC_MINIMUM}, the minimum of CAPX ${CAPX_LINE}.`, { kind: "version", found: PC_VERSION, minimum: PC_MINIMUM, capxLine: CAPX_LINE }),
    );
    run("prismElement", () => {
      if (!pe) {
        return fail(
          "prism_element_not_found",
          `No Prism Element "${spec.prismElement.name || spec.prismElement.uuid}": CAPX would fail with "failed to retrieve Prism Element cluster by name ${spec.prismElement.name}".`,
          `Pick one of the Prism Elements registered with Prism Central: ${this.estate.pes.map((p) => p.name).join(", ")}.`,
          { kind: "matches", name: spec.prismElement.name, matches: [] },
        );
      }
      return pass("prism_element_ok", `${pe.name} (AOS ${pe.aosVersion}, ${Number(pe.hosts)} AHV hosts): found exactly once and available.`, { kind: "prismElement", uuid: pe.uuid, name: pe.name, cluster: null });
    });
    run("subnets", () => this.checkSubnets(subnets, pe as FakePe));
    run("image", () => this.checkImage(spec, pe));
    run("imageKubernetesVersion", () => this.checkImageVersion(spec));
    run("machineSizes", () => this.checkSizes(spec));
    run("vipInSubnet", () => this.checkVipInSubnet(spec.controlPlaneEndpoint, firstSubnet as FakeSubnet));
    const vipValid = parseIpv4(spec.controlPlaneEndpoint) !== null;
    const noVip: Finding = { outcome: "skipped", code: "vip_invalid", detail: `Not run: "${spec.controlPlaneEndpoint}" is not an IPv4 address.` };
    run("vipNotPrism", () => (vipValid ? this.checkVipNotPrism(spec.controlPlaneEndpoint) : noVip));
    run("vipUnused", () => (vipValid ? this.checkVipUnused(spec.controlPlaneEndpoint) : noVip));
    run("subnetCapacity", () => this.checkSubnetCapacity(spec, subnets.map((s) => s.found as FakeSubnet)));
    run("prismElementCapacity", () => this.checkPeCapacity(spec, pe as FakePe));
    run("clusterNetworks", () => this.checkNetworks(spec, subnets.map((s) => s.found as FakeSubnet)));

    const checks = CHECK_ORDER.map((id) => results.get(id) as CheckResult);
    const verdict = checks.reduce<Outcome>((worst, c) => (SEVERITY[c.outcome] > SEVERITY[worst] ? c.outcome : worst), "pass");
    const failed = checks.filter((c) => c.outcome === "fail");
    const errored = checks.filter((c) => (c.outcome as string) === "error");
    const warned = checks.filter((c) => c.outcome === "warn");
    const summary =
      failed.length > 0
        ? `${failed.length} of ${checks.length} checks failed: fix what ${failed.length === 1 ? "it says" : "they say"} and run the preflight again.`
        : errored.length > 0
          ? `${errored.length} check${errored.length === 1 ? "" : "s"} could not finish: run the preflight again.`
          : warned.length > 0
            ? `No check failed; ${warned.length} warning${warned.length === 1 ? "" : "s"} to read before deploying.`
            : `All ${checks.length} checks passed: nothing found that would stop CAPX.`;
    return {
      verdict,
      canDeploy: failed.length === 0 && errored.length === 0,
      summary,
      checks,
      elapsedMs: u64(Math.max(...checks.map((c) => Number(c.elapsedMs) + Number(c.waitedMs)))),
    };
  }

  clusterDeploy(request: DeployRequest): DeployResult {
    const { spec } = request;
    const name = spec.name.trim();
    if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
      throw invalid("Name the cluster with lowercase letters, digits and dashes, starting with a letter (at most 63 characters).", "name");
    }
    if (!this.accounts.some((a) => a.uid === spec.accountUid)) throw invalid("That cloud account is no longer in Palette. Pick one from the list again.", "accountUid");
    if (!this.publishedProfiles().some((p) => p.uid === spec.profileUid)) throw invalid("That cluster profile is not published in Palette. Pick one from the list again.", "profileUid");
    // Check before create: a retried deploy finds the cluster its first attempt made.
    const existing = this.clusters.findByName(name);
    if (existing) {
      return { uid: existing, name, created: false, message: `A cluster named ${name} already exists in Palette; showing it instead of creating another.` };
    }
    const report = this.deployPreflight(spec);
    if (!report.canDeploy) {
      const failed = report.checks.filter((c) => c.outcome === "fail" || (c.outcome as string) === "error");
      throw {
        code: "preflight_failed",
        message: `The preflight run before creating ${name} did not pass: ${failed.map((c) => c.detail).join(" ")}`,
        details: report,
      } satisfies IpcError;
    }
    const uid = this.clusters.create({ name, spec });
    this.occupy(spec, name);
    return { uid, name, created: true, message: `Palette accepted cluster ${name}; the PCG is creating its VMs in Prism Central.` };
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Published profiles as the deploy form lists them: newest version first per name. */
  private publishedProfiles(): DeployProfile[] {
    return this.profiles
      .profilesList()
      .profiles.flatMap((group) => [...group.versions].sort((a, b) => compareVersions(b.version, a.version)))
      .map((v) => this.profiles.profileGet({ uid: v.uid }))
      .filter((p) => p.published)
      .map((p) => ({
        uid: p.uid,
        name: p.name,
        version: p.version,
        published: p.published,
        kubernetesVersion: p.layers.find((l) => l.layer === "k8s")?.version ?? null,
        layers: p.layers.map((l) => ({ layer: l.layer, packName: l.packName, version: l.version, values: l.values || `# ${l.packName} ${l.version}: the pack's defaults\n` })),
      }));
  }

  private subnetOption(s: FakeSubnet): SubnetOption {
    const { uuid, name, nameUnique, subnetType, vlanId, cidr, gateway, pools, freePoolAddresses } = s;
    return { uuid, name, nameUnique, subnetType, vlanId, cidr, gateway, pools: [...pools], freePoolAddresses };
  }

  /** Addresses of the subnet outside its pools, gateway, DHCP server and every held address. */
  private freeAddresses(s: FakeSubnet, limit: number): string[] {
    const cidr = s.cidr ? parseCidr(s.cidr) : null;
    if (!cidr) return [];
    const taken = new Set([s.gateway, s.dhcpServer, ...this.estate.held.map((h) => h.ip)]);
    const pools = s.pools.map(parseRange).filter((r) => r !== null);
    const out: string[] = [];
    for (let ip = cidr.network + 1; ip < cidr.last && out.length < limit; ip++) {
      const text = formatIpv4(ip);
      if (!taken.has(text) && !pools.some((p) => ip >= p.first && ip <= p.last)) out.push(text);
    }
    return out;
  }

  private freeRanges(s: FakeSubnet): string[] {
    const cidr = s.cidr ? parseCidr(s.cidr) : null;
    if (!cidr) return [];
    const excluded = new Set([parseIpv4(s.gateway ?? ""), parseIpv4(s.dhcpServer ?? "")]);
    const pools = s.pools.map(parseRange).filter((r) => r !== null);
    const ranges: string[] = [];
    let start: number | null = null;
    for (let ip = cidr.network + 1; ip <= cidr.last; ip++) {
      const free = ip < cidr.last && !excluded.has(ip) && !pools.some((p) => ip >= p.first && ip <= p.last);
      if (free && start === null) start = ip;
      if (!free && start !== null) {
        ranges.push(start === ip - 1 ? formatIpv4(start) : `${formatIpv4(start)}-${formatIpv4(ip - 1)}`);
        start = null;
      }
    }
    return ranges;
  }

  private checkSubnets(subnets: Array<{ choice: EntityChoice; found: FakeSubnet | undefined }>, pe: FakePe): Finding {
    if (subnets.length === 0) return fail("no_subnet", "No subnet was chosen.", `Pick a subnet of ${pe.name}.`);
    const seen = new Set<string>();
    for (const { choice, found } of subnets) {
      if (seen.has(choice.uuid)) {
        return fail("subnet_listed_twice", `${choice.name} is listed twice; CAPX gives each VM one NIC per listed subnet and refuses duplicates.`, "Remove the second entry.");
      }
      seen.add(choice.uuid);
      if (!found) {
        return fail("subnet_not_found", `No subnet "${choice.name}": CAPX would fail with "failed to retrieve subnet by name ${choice.name}".`, `Pick a subnet of ${pe.name} from the list.`);
      }
      if (found.peUuid !== pe.uuid) {
        const owner = this.estate.pes.find((p) => p.uuid === found.peUuid)?.name ?? "another Prism Element";
        return fail(
          "subnet_on_other_prism_element",
          `${found.name} belongs to ${owner}, not ${pe.name}: VMs on ${pe.name} cannot attach to it.`,
          `Pick a subnet of ${pe.name}, or deploy on ${owner}.`,
          { kind: "matches", name: found.name, matches: [{ uuid: found.uuid, name: found.name, cluster: owner }] },
        );
      }
      if (!found.nameUnique && !choice.useUuid) {
        const matches = this.estate.subnets.filter((s) => s.name === found.name);
        return fail(
          "subnet_ambiguous",
          `${matches.length} subnets are named ${found.name}: CAPX would fail with "more than one subnet found with name ${found.name}".`,
          "Reference the subnet by UUID (pick it again from the list and Capstan does).",
          { kind: "matches", name: found.name, matches: matches.map((s) => ({ uuid: s.uuid, name: s.name, cluster: this.estate.pes.find((p) => p.uuid === s.peUuid)?.name ?? null })) },
        );
      }
    }
    const chosen = subnets.map((s) => s.found as FakeSubnet);
    const data: CheckData = {
      kind: "subnets",
      subnets: chosen.map((s) => ({ uuid: s.uuid, name: s.name, subnetType: s.subnetType, vlanId: s.vlanId, cidr: s.cidr, gateway: s.gateway, pools: [...s.pools] })),
    };
    const described = chosen.map((s) => (s.cidr ? `${s.name} (${s.cidr})` : `${s.name} (no Prism IPAM)`)).join(", ");
    const unmanaged = chosen.filter((s) => !s.cidr);
    if (unmanaged.length > 0) {
      return warn(
        "subnet_unmanaged",
        `Found exactly once on ${pe.name}: ${described}. ${unmanaged.map((s) => s.name).join(", ")} has no Prism IPAM: node addresses come from an external DHCP server Prism cannot see.`,
        "Make sure the VLAN's DHCP server hands out addresses, and that the control-plane VIP is outside its range.",
        data,
      );
    }
    return pass("subnets_ok", `Found exactly once on ${pe.name}: ${described}.`, data);
  }

  private checkImage(spec: DeploySpec, pe: FakePe | undefined): Finding {
    const image = this.estate.images.find((i) => i.uuid === spec.image.uuid);
    if (!image) {
      return fail("image_not_found", `No image "${spec.image.name || spec.image.uuid}": CAPX would fail with "found no image with name ${spec.image.name}".`, "Pick an image from the list (upload the CAPX node image to Prism Central first if it is missing).");
    }
    const data: CheckData = { kind: "image", uuid: image.uuid, name: image.name, imageType: image.imageType, state: image.state, sizeBytes: u64(image.sizeBytes), presentOn: [...image.presentOn] };
    const sameName = this.estate.images.filter((i) => i.name === image.name);
    if (sameName.length > 1 && !spec.image.useUuid) {
      return fail(
        "image_ambiguous",
        `${sameName.length} images are named ${image.name}: CAPX would fail with "more than one image found with name ${image.name}".`,
        "Reference the image by UUID (pick it again from the list and Capstan does).",
        { kind: "matches", name: image.name, matches: sameName.map((i) => ({ uuid: i.uuid, name: i.name, cluster: i.presentOn.join(", ") || null })) },
      );
    }
    if (image.imageType === "ISO_IMAGE") return fail("image_is_iso", `${image.name} is an ISO; CAPX boots nodes from a disk image.`, "Pick a CAPX disk image.", data);
    if (image.state !== "COMPLETE") {
      return fail("image_not_ready", `${image.name} is ${image.state}: its upload has not finished, so no VM can boot from it.`, "Wait for the upload to finish in Prism Central, or pick another image.", data);
    }
    if (pe && !image.presentOn.includes(pe.name)) {
      return warn("image_not_on_prism_element", `${image.name} is not on ${pe.name} yet; Prism copies it there when the first VM is created, which slows that VM down.`, "Nothing blocks the deploy.", data);
    }
    return pass("image_ok", `${image.name} (disk image, ${(image.sizeBytes / 2 ** 30).toFixed(1)} GiB) found exactly once, on ${image.presentOn.join(", ")}.`, data);
  }

  private checkImageVersion(spec: DeploySpec): Finding {
    const image = this.estate.images.find((i) => i.uuid === spec.image.uuid);
    const name = image?.name ?? spec.image.name;
    const k8s = bareVersion(spec.kubernetesVersion);
    const version = imageVersion(name);
    const matching = this.estate.images.filter((i) => i.imageType === "DISK_IMAGE" && minorOf(imageVersion(i.name) ?? "") === minorOf(k8s)).map((i) => i.name);
    const data: CheckData = { kind: "imageVersion", image: name, imageVersion: version, kubernetesVersion: k8s, matchingImages: [...new Set(matching)] };
    if (!version) {
      return warn("image_version_unknown", `${name} does not say which Kubernetes it carries.`, `Make sure it was built for Kubernetes ${k8s}.`, data);
    }
    if (minorOf(version) !== minorOf(k8s)) {
      return fail(
        "image_kubernetes_mismatch",
        `${name} carries Kubernetes ${version}, but the profile deploys ${k8s}: kubeadm on the nodes would not match the cluster.`,
        matching.length > 0 ? `Pick an image built for ${minorOf(k8s)}: ${[...new Set(matching)].join(", ")}.` : `Build and upload a CAPX image for Kubernetes ${k8s}, or pick a profile for ${version}.`,
        data,
      );
    }
    return pass("image_kubernetes_ok", `${name} carries Kubernetes ${version}, the same minor as the profile's ${k8s}.`, data);
  }

  private checkSizes(spec: DeploySpec): Finding {
    const problems: SizeIssue[] = [];
    const pools: Array<{ name: string; pool: PoolSpec; cp: boolean }> = [
      { name: `${spec.name || "cluster"}-cp`, pool: spec.controlPlane, cp: true },
      ...spec.workers.map((pool, i) => ({ name: workerPoolName(pool, i), pool, cp: false })),
    ];
    for (const { name, pool, cp } of pools) {
      const memoryMib = pool.memoryGib * GIB;
      if (memoryMib < 2048) {
        problems.push({
          pool: name,
          field: "memory",
          code: "memory_below_minimum",
          capxError: `minimum memorySize is 2048Mib but given ${memoryMib}Mib`,
          fix: "Give each VM at least 2Gi of memory (4Gi is CAPX's default; control-plane nodes want 4Gi or more).",
        });
      }
      if (pool.diskGib * GIB < 20480) {
        problems.push({
          pool: name,
          field: "system_disk",
          code: "system_disk_below_minimum",
          capxError: `minimum systemDiskSize is 20480Mib but given ${pool.diskGib * GIB}Mib`,
          fix: "Give each VM a system disk of at least 20Gi (40Gi is CAPX's default) and no smaller than the image.",
        });
      }
      if (pool.vcpusPerSocket < 1) problems.push({ pool: name, field: "vcpus_per_socket", code: "vcpus_per_socket_below_minimum", capxError: `minimum vcpus per socket is 1 but given ${pool.vcpusPerSocket}`, fix: "Set at least 1 vCPU per socket." });
      if (pool.vcpuSockets < 1) problems.push({ pool: name, field: "vcpu_sockets", code: "vcpu_sockets_below_minimum", capxError: `minimum vcpu sockets is 1 but given ${pool.vcpuSockets}`, fix: "Set at least 1 vCPU socket." });
      if (cp && ![1, 3, 5].includes(pool.replicas)) {
        problems.push({ pool: name, field: "replicas", code: "control_plane_count_not_odd", capxError: null, fix: `Use 1, 3 or 5 control-plane nodes (etcd needs an odd quorum); ${pool.replicas} was chosen.` });
      }
      if (!cp && pool.replicas < 1) problems.push({ pool: name, field: "replicas", code: "worker_count_zero", capxError: null, fix: "Give the pool at least one node, or remove it." });
    }
    const data: CheckData = { kind: "sizes", problems };
    if (spec.workers.length === 0) return fail("no_worker_pool", "The cluster has no worker pool: workloads would have nowhere to run.", "Add a worker pool.", data);
    if (problems.length > 0) {
      return fail(
        "machine_sizes_below_minimum",
        problems.map((p) => (p.capxError ? `${p.pool}: CAPX would fail with "${p.capxError}".` : `${p.pool}: ${p.fix}`)).join(" "),
        [...new Set(problems.map((p) => p.fix))].join(" "),
        data,
      );
    }
    const nodes = spec.controlPlane.replicas + spec.workers.reduce((n, w) => n + w.replicas, 0);
    return pass("machine_sizes_ok", `${pools.length} pools, ${nodes} nodes: every node has at least 2 GiB of memory, a 20 GiB system disk and one vCPU.`, data);
  }

  private checkVipInSubnet(vip: string, s: FakeSubnet): Finding {
    const address = parseIpv4(vip);
    const data = (conflicts: VipConflict[] = []): CheckData => ({ kind: "vip", address: vip, conflicts, subnet: s.name, cidr: s.cidr, pools: [...s.pools], freeRanges: this.freeRanges(s) });
    if (address === null) return fail("vip_invalid", `"${vip}" is not an IPv4 address.`, "Enter the control-plane VIP as four numbers, like 10.64.0.2.", data());
    const cidr = s.cidr ? parseCidr(s.cidr) : null;
    if (!cidr) {
      return warn("vip_subnet_unmanaged", `${s.name} has no Prism IPAM, so Capstan cannot tell whether ${vip} is inside it or free.`, `Make sure ${vip} is on VLAN ${s.vlanId}, outside its DHCP range, and unused.`, data());
    }
    if (address < cidr.network || address > cidr.last) {
      return fail("vip_outside_subnet", `${vip} is outside ${s.name} (${s.cidr}): kube-vip announces it by ARP on the nodes' subnet, so nothing could reach it.`, `Pick a free address of ${s.cidr}, outside its IP pools.`, data());
    }
    if (address === cidr.network || address === cidr.last) return fail("vip_reserved_address", `${vip} is the network or broadcast address of ${s.cidr}.`, "Pick a host address.", data());
    if (vip === s.gateway) return fail("vip_is_gateway", `${vip} is the default gateway of ${s.name}.`, "Pick a free address that is not the gateway.", data([{ what: "gateway", name: s.name, uuid: s.uuid, addressType: null }]));
    if (vip === s.dhcpServer) return fail("vip_is_dhcp_server", `${vip} is the DHCP server address of ${s.name}.`, "Pick another free address.", data([{ what: "dhcpServer", name: s.name, uuid: s.uuid, addressType: null }]));
    const pool = s.pools.find((p) => {
      const r = parseRange(p);
      return r !== null && address >= r.first && address <= r.last;
    });
    if (pool) {
      return fail(
        "vip_in_ip_pool",
        `${vip} is inside the IP pool ${pool} of ${s.name}: Prism can hand it to any new VM (a node of this very cluster included), and the API server would become unreachable.`,
        `Pick an address of ${s.cidr} outside the pool, e.g. one of ${this.freeRanges(s).slice(0, 2).join(", ")}.`,
        data(),
      );
    }
    return pass("vip_in_subnet", `${vip} is in ${s.name} (${s.cidr}), outside its IP pool ${s.pools.join(", ")}.`, data());
  }

  private checkVipNotPrism(vip: string): Finding {
    if (vip === PC_ADDRESS) {
      return fail(
        "vip_is_prism_central",
        `${vip} is the Prism Central address CAPX uses: CAPX would fail with "prism central and control plane endpoint cannot have the same IP \\"${vip}\\"".`,
        "Pick an address nothing else uses.",
        { kind: "vip", address: vip, conflicts: [{ what: "prismCentral", name: "prism-central", uuid: null, addressType: null }], subnet: null, cidr: null, pools: [], freeRanges: [] },
      );
    }
    for (const p of this.estate.pes) {
      const what = vip === p.externalIp ? "the virtual IP" : vip === p.dataServicesIp ? "the data services IP" : p.hypervisorIps.includes(vip) ? "a hypervisor address" : null;
      if (what) {
        return fail(
          "vip_is_prism_element",
          `${vip} is ${what} of Prism Element ${p.name}; the control-plane endpoint must be an address nothing else uses.`,
          "Pick an address nothing else uses.",
          { kind: "vip", address: vip, conflicts: [{ what: "prismElement", name: p.name, uuid: p.uuid, addressType: null }], subnet: null, cidr: null, pools: [], freeRanges: [] },
        );
      }
    }
    return pass("vip_not_prism", `${vip} is none of Prism Central's or the ${this.estate.pes.length} Prism Elements' addresses.`);
  }

  private checkVipUnused(vip: string): Finding {
    const holders = this.estate.held.filter((h) => h.ip === vip);
    if (holders.length === 0) return pass("vip_unused", `None of the ${fmt(VM_COUNT + this.seq)} VMs in Prism Central uses ${vip}.`);
    const h = holders[0];
    return fail(
      "vip_in_use",
      `${vip} is held by VM ${h.vm}${h.cluster ? ` of Kubernetes cluster ${h.cluster}` : ""} (${h.addressType}): two hosts answering ARP for one address break the API server.`,
      "Pick a free address (the suggestions next to the VIP field are free).",
      { kind: "vip", address: vip, conflicts: holders.map((x) => ({ what: "vm", name: x.vm, uuid: x.vmUuid, addressType: x.addressType })), subnet: null, cidr: null, pools: [], freeRanges: [] },
    );
  }

  private checkSubnetCapacity(spec: DeploySpec, subnets: FakeSubnet[]): Finding {
    const pools = [spec.controlPlane, ...spec.workers];
    const nodes = pools.reduce((n, p) => n + p.replicas, 0);
    const surge = pools.filter((p) => p.replicas > 0).length;
    const needed = nodes + surge;
    const rows = subnets.map((s) => {
      const poolSize = s.pools.map(parseRange).reduce((n, r) => n + (r ? r.last - r.first + 1 : 0), 0);
      const free = s.freePoolAddresses === null ? 0 : Number(s.freePoolAddresses);
      return { s, managed: s.cidr !== null, poolSize, free };
    });
    const data: CheckData = {
      kind: "addresses",
      nodes: u64(nodes),
      surge: u64(surge),
      subnets: rows.map((r) => ({ name: r.s.name, uuid: r.s.uuid, managed: r.managed, poolSize: u64(r.poolSize), inUse: u64(r.poolSize - r.free), free: u64(r.free), reportedFree: r.managed ? u64(r.free) : null, needed: u64(needed) })),
    };
    const needText = `the cluster needs ${needed} (${nodes} nodes + ${surge} for a rolling upgrade)`;
    const short = rows.filter((r) => r.managed && r.free < needed);
    if (short.length > 0) {
      return fail(
        "subnet_addresses_exhausted",
        `${short.map((r) => `${r.s.name} has ${r.free} free of ${fmt(r.poolSize)}`).join("; ")}; ${needText}. Nodes that get no address never join, and the upgrade stalls.`,
        "Free addresses in the pool, add a pool range in Prism, make the pools smaller, or pick another subnet.",
        data,
      );
    }
    const unmanaged = rows.filter((r) => !r.managed);
    if (unmanaged.length > 0) {
      return warn(
        "subnet_addresses_unknown",
        `${unmanaged.map((r) => r.s.name).join(", ")} has no Prism IPAM; ${needText}.`,
        `Make sure the external DHCP server of that VLAN has at least ${needed} free leases.`,
        data,
      );
    }
    return pass("subnet_addresses_ok", `${rows.map((r) => `${r.s.name} has ${r.free} free of ${fmt(r.poolSize)}`).join("; ")}; ${needText}.`, data);
  }

  private checkPeCapacity(spec: DeploySpec, pe: FakePe): Finding {
    const hosts = Number(pe.hosts);
    const pools = [spec.controlPlane, ...spec.workers];
    const neededMemory = pools.reduce((n, p) => n + (p.replicas + 1) * p.memoryGib * GIB, 0);
    const neededVcpus = pools.reduce((n, p) => n + (p.replicas + 1) * p.vcpuSockets * p.vcpusPerSocket, 0);
    const memory = hosts * pe.memoryMibPerHost;
    const reservedMemory = hosts * 32 * GIB;
    const reservedVcpus = hosts * 8;
    const freeMemory = memory - reservedMemory - pe.allocatedMemoryMib;
    const cores = hosts * pe.coresPerHost;
    const vcpuLimit = cores * 4 - reservedVcpus;
    const data: CheckData = {
      kind: "capacity",
      hosts: u64(hosts),
      physicalCores: u64(cores),
      memoryMib: u64(memory),
      reservedMemoryMib: u64(reservedMemory),
      reservedVcpus: u64(reservedVcpus),
      allocatedMemoryMib: u64(pe.allocatedMemoryMib),
      allocatedVcpus: u64(pe.allocatedVcpus),
      neededMemoryMib: u64(neededMemory),
      neededVcpus: u64(neededVcpus),
      freeMemoryMib: u64(freeMemory),
      vcpuLimit: u64(vcpuLimit),
      vcpuOvercommit: 4,
      largestHostMemoryMib: u64(pe.memoryMibPerHost),
      largestHostCores: u64(pe.coresPerHost),
    };
    const problems: string[] = [];
    if (neededMemory > freeMemory) problems.push(`the pools need ${gibText(neededMemory)} of memory (upgrade surge included) but ${gibText(freeMemory)} is free`);
    if (pe.allocatedVcpus + neededVcpus > vcpuLimit) problems.push(`${pe.allocatedVcpus} vCPUs are allocated and the pools need ${neededVcpus} more, over the limit of ${vcpuLimit} (${cores} cores × 4, less the Controller VMs')`);
    const biggest = pools.reduce((m, p) => Math.max(m, p.memoryGib * GIB), 0);
    if (biggest > pe.memoryMibPerHost - 32 * GIB) problems.push(`a ${gibText(biggest)} node fits on no host (each has ${gibText(pe.memoryMibPerHost)}, 32 GiB of it for the Controller VM)`);
    if (problems.length > 0) {
      return fail(
        "prism_element_capacity_exhausted",
        `${pe.name}: ${problems.join("; ")}.`,
        `Make the pools smaller, free capacity on ${pe.name}, or deploy on another Prism Element.`,
        data,
      );
    }
    const usage = `${pe.name} has ${gibText(freeMemory)} of memory free; the pools need ${gibText(neededMemory)} and ${neededVcpus} vCPUs (upgrade surge included)`;
    if (neededMemory > freeMemory - pe.memoryMibPerHost) {
      return warn(
        "no_room_after_host_failure",
        `${usage}. It fits only by using the memory HA keeps to restart the VMs of a failed host.`,
        `Nothing blocks the deploy, but if a host of ${pe.name} fails, some VMs (nodes included) cannot restart. Free memory or make the pools smaller to keep that reserve.`,
        data,
      );
    }
    return pass("prism_element_capacity_ok", `${usage}.`, data);
  }

  private checkNetworks(spec: DeploySpec, subnets: FakeSubnet[]): Finding {
    const pods = parseCidr(spec.podCidr);
    const services = parseCidr(spec.serviceCidr);
    const nodeSubnets = subnets.filter((s) => s.cidr).map((s) => `${s.name} (${s.cidr})`);
    const data = (found: string[]): CheckData => ({ kind: "networks", podCidr: spec.podCidr, serviceCidr: spec.serviceCidr, nodeSubnets, overlaps: found });
    const bad = [
      ["pod", spec.podCidr, pods],
      ["service", spec.serviceCidr, services],
    ].filter(([, , parsed]) => parsed === null);
    if (bad.length > 0 || !pods || !services) {
      return fail(
        "cluster_network_invalid",
        bad.map(([what, text]) => `The ${String(what)} CIDR "${String(text)}" is not a network in a.b.c.d/n form.`).join(" "),
        "Enter each as a network address and prefix, like 172.20.0.0/16.",
        data([]),
      );
    }
    const found: string[] = [];
    if (overlaps(pods, services)) found.push(`the pod CIDR ${spec.podCidr} overlaps the service CIDR ${spec.serviceCidr}`);
    const vip = parseIpv4(spec.controlPlaneEndpoint);
    for (const [what, net] of [
      ["pod", pods],
      ["service", services],
    ] as const) {
      if (vip !== null && vip >= net.network && vip <= net.last) found.push(`the control-plane VIP ${spec.controlPlaneEndpoint} is inside the ${what} CIDR ${what === "pod" ? spec.podCidr : spec.serviceCidr}`);
      const pc = parseIpv4(PC_ADDRESS) ?? 0;
      if (pc >= net.network && pc <= net.last) found.push(`the Prism Central address ${PC_ADDRESS} is inside the ${what} CIDR`);
      for (const s of subnets) {
        const node = s.cidr ? parseCidr(s.cidr) : null;
        if (node && overlaps(net, node)) found.push(`the ${what} CIDR ${what === "pod" ? spec.podCidr : spec.serviceCidr} overlaps the node subnet ${s.name} (${s.cidr})`);
      }
    }
    const nodes = spec.controlPlane.replicas + spec.workers.reduce((n, w) => n + w.replicas, 0);
    if (pods.prefix > 24 || 2 ** (24 - pods.prefix) < nodes) found.push(`the pod CIDR ${spec.podCidr} is too small: each of the ${nodes} nodes takes a /24 of it`);
    if (found.length > 0) {
      const text = found.join("; ");
      return fail("cluster_network_overlap", `${text.charAt(0).toUpperCase()}${text.slice(1)}.`, "Pick pod and service CIDRs that overlap neither each other nor any network the nodes reach (the defaults are 172.20.0.0/16 and 172.19.0.0/16).", data(found));
    }
    return pass("cluster_networks_ok", `Pods ${spec.podCidr} and services ${spec.serviceCidr} overlap neither each other, the node subnets nor the VIP.`, data([]));
  }

  /** After a create: the VIP is learned on the first control-plane VM, node addresses come from the pool. */
  private occupy(spec: DeploySpec, name: string): void {
    this.seq += spec.controlPlane.replicas + spec.workers.reduce((n, w) => n + w.replicas, 0);
    this.estate.held.push({ ip: spec.controlPlaneEndpoint, vm: `${name}-kcp-${(this.seq * 7919 + 46656).toString(36).slice(-5)}`, vmUuid: `f00dcafe-0000-4000-8000-${String(this.seq).padStart(12, "0")}`, addressType: "LEARNED", cluster: name });
    for (const choice of spec.subnets) {
      const s = this.estate.subnets.find((x) => x.uuid === choice.uuid);
      if (s?.freePoolAddresses != null) s.freePoolAddresses = u64(Number(s.freePoolAddresses) - (spec.controlPlane.replicas + spec.workers.reduce((n, w) => n + w.replicas, 0)));
    }
  }
}
