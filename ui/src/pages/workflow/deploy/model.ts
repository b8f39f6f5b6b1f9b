import type { BootKind, CheckResult, DeployOptions, DeploySpec, DeployYaml, EntityChoice, ImageOption, PoolRef, PoolSpec, PreflightReport } from "../../../lib/bindings";
import type { JsonValue } from "../../../lib/bindings/serde_json/JsonValue";

export const NO_CHOICE: EntityChoice = { uuid: "", name: "", useUuid: false };

/** A pool the defaults have not filled yet (all zeros). */
const UNSET_POOL: PoolSpec = { name: "", replicas: 0, vcpuSockets: 0, vcpusPerSocket: 0, memoryGib: 0, diskGib: 0, bootType: "legacy" };

export const CONTROL_PLANE_SIZES = [1, 3, 5] as const;

export function emptySpec(): DeploySpec {
  return {
    name: "",
    description: "",
    accountUid: "",
    profileUid: "",
    layerValues: [],
    prismElement: { ...NO_CHOICE },
    subnets: [],
    image: { ...NO_CHOICE },
    kubernetesVersion: "",
    controlPlaneEndpoint: "",
    controlPlanePort: 0,
    controlPlane: { ...UNSET_POOL },
    workers: [],
    sshPublicKey: "",
    podCidr: "",
    serviceCidr: "",
  };
}

const isUnset = (pool: PoolSpec) => pool.replicas === 0 && pool.memoryGib === 0 && pool.diskGib === 0;

/**
 * Fills what the user (or the draft) left empty from the backend's defaults, and drops
 * choices the options no longer offer. The Kubernetes version always follows the profile.
 */
export function withDefaults(spec: DeploySpec, options: DeployOptions): DeploySpec {
  const next = { ...spec };
  if (!options.accounts.some((a) => a.uid === next.accountUid)) {
    next.accountUid = (options.accounts.find((a) => a.pcgState === "Running") ?? options.accounts[0])?.uid ?? "";
  }
  const profile = options.profiles.find((p) => p.uid === next.profileUid) ?? options.profiles[0];
  if (profile?.uid !== spec.profileUid) next.layerValues = [];
  next.profileUid = profile?.uid ?? "";
  next.kubernetesVersion = profile?.kubernetesVersion ?? "";
  if (!options.prismElements.some((p) => p.uuid === next.prismElement.uuid)) {
    const pe = options.prismElements.find((p) => p.available) ?? options.prismElements[0];
    next.prismElement = pe ? { uuid: pe.uuid, name: pe.name, useUuid: !pe.nameUnique } : { ...NO_CHOICE };
    next.subnets = [];
    next.image = { ...NO_CHOICE };
  }
  const d = options.defaults;
  if (isUnset(next.controlPlane)) next.controlPlane = { ...d.controlPlane };
  if (next.workers.length === 0) next.workers = [{ ...d.worker }];
  if (!next.controlPlanePort) next.controlPlanePort = d.controlPlanePort;
  if (!next.podCidr) next.podCidr = d.podCidr;
  if (!next.serviceCidr) next.serviceCidr = d.serviceCidr;
  if (!next.sshPublicKey && options.sshKeys[0]) next.sshPublicKey = options.sshKeys[0].publicKey;
  return next;
}

// ---- drafts ------------------------------------------------------------------------------------

type Json = JsonValue | undefined;
type JsonObject = { [key in string]: JsonValue };
const isObject = (v: Json): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: Json, fallback: string) => (typeof v === "string" ? v : fallback);
const num = (v: Json, fallback: number) => (typeof v === "number" && Number.isFinite(v) ? v : fallback);

function choiceFrom(v: Json): EntityChoice | null {
  if (!isObject(v) || typeof v.uuid !== "string") return null;
  return { uuid: v.uuid, name: str(v.name, ""), useUuid: v.useUuid === true };
}

function poolFrom(v: Json, fallback: PoolSpec): PoolSpec {
  if (!isObject(v)) return fallback;
  const boot: BootKind = v.bootType === "uefi" ? "uefi" : "legacy";
  return {
    name: str(v.name, ""),
    replicas: num(v.replicas, fallback.replicas),
    vcpuSockets: num(v.vcpuSockets, fallback.vcpuSockets),
    vcpusPerSocket: num(v.vcpusPerSocket, fallback.vcpusPerSocket),
    memoryGib: num(v.memoryGib, fallback.memoryGib),
    diskGib: num(v.diskGib, fallback.diskGib),
    bootType: boot,
  };
}

export interface DeployDraft {
  spec: DeploySpec;
  /** Pool YAML as the user edited it (null: generated from the form). */
  yaml: DeployYaml | null;
}

export function draftData(draft: DeployDraft): JsonValue {
  return { spec: draft.spec, yaml: draft.yaml };
}

/** Reads a saved draft defensively: anything malformed falls back to the empty form. */
export function draftFrom(data: JsonValue): DeployDraft {
  const base = emptySpec();
  if (!isObject(data) || !isObject(data.spec)) return { spec: base, yaml: null };
  const s = data.spec;
  const spec: DeploySpec = {
    name: str(s.name, ""),
    description: str(s.description, ""),
    accountUid: str(s.accountUid, ""),
    profileUid: str(s.profileUid, ""),
    layerValues: Array.isArray(s.layerValues)
      ? s.layerValues.filter((l): l is JsonObject => isObject(l)).map((l) => ({ packName: str(l.packName, ""), values: str(l.values, "") })).filter((l) => l.packName !== "")
      : [],
    prismElement: choiceFrom(s.prismElement) ?? base.prismElement,
    subnets: Array.isArray(s.subnets) ? s.subnets.map(choiceFrom).filter((c): c is EntityChoice => c !== null) : [],
    image: choiceFrom(s.image) ?? base.image,
    kubernetesVersion: str(s.kubernetesVersion, ""),
    controlPlaneEndpoint: str(s.controlPlaneEndpoint, ""),
    controlPlanePort: num(s.controlPlanePort, 0),
    controlPlane: poolFrom(s.controlPlane, base.controlPlane),
    workers: Array.isArray(s.workers) ? s.workers.map((w) => poolFrom(w, UNSET_POOL)) : [],
    sshPublicKey: str(s.sshPublicKey, ""),
    podCidr: str(s.podCidr, ""),
    serviceCidr: str(s.serviceCidr, ""),
  };
  const y = data.yaml;
  const yaml =
    isObject(y) && typeof y.cluster === "string" && typeof y.controlPlane === "string" && Array.isArray(y.workers) && y.workers.length === spec.workers.length
      ? { cluster: y.cluster, controlPlane: y.controlPlane, workers: y.workers.map((w) => str(w, "")) }
      : null;
  return { spec, yaml };
}

// ---- validation --------------------------------------------------------------------------------

export function isIpv4(text: string): boolean {
  const parts = text.trim().split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function ipv4Number(text: string): number | null {
  return isIpv4(text) ? text.trim().split(".").reduce((n, p) => n * 256 + Number(p), 0) : null;
}

export function isCidr(text: string): boolean {
  const [ip, prefix, extra] = text.trim().split("/");
  return extra === undefined && isIpv4(ip ?? "") && /^\d{1,2}$/.test(prefix ?? "") && Number(prefix) <= 32;
}

/** Whether `ip` is inside a `first-last` range. */
export function inRange(ip: string, range: string): boolean {
  const n = ipv4Number(ip);
  const [first, last] = range.split("-").map((r) => ipv4Number(r.trim()));
  return n !== null && first != null && last != null && n >= first && n <= last;
}

export const CLUSTER_NAME_RULE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function nameProblem(name: string): string | null {
  if (name.trim() === "") return null;
  if (!CLUSTER_NAME_RULE.test(name.trim())) return "Use lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit (at most 63).";
  return null;
}

export function sshKeyProblem(key: string): string | null {
  const text = key.trim();
  if (text === "") return null;
  if (/PRIVATE KEY/.test(text)) return "This is a private key. Paste the public key (the .pub file) instead; the private key never leaves your machine.";
  if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]{16,}( .*)?$/.test(text)) {
    return 'Not an OpenSSH public key: it starts with "ssh-ed25519", "ssh-rsa" or "ecdsa-sha2-…", then the key.';
  }
  return null;
}

/** What must be filled in before the preflight can run (empty: ready). */
export function formBlockers(spec: DeploySpec): string[] {
  const out: string[] = [];
  if (spec.name.trim() === "") out.push("Name the cluster.");
  else if (nameProblem(spec.name)) out.push("Fix the cluster name.");
  if (!spec.accountUid) out.push("Pick a cloud account.");
  if (!spec.profileUid) out.push("Pick a cluster profile.");
  if (!spec.prismElement.uuid) out.push("Pick a Prism Element.");
  if (spec.subnets.length === 0) out.push("Pick at least one subnet.");
  if (!spec.image.uuid) out.push("Pick a node image.");
  if (spec.controlPlaneEndpoint.trim() === "") out.push("Choose the control-plane VIP.");
  else if (!isIpv4(spec.controlPlaneEndpoint)) out.push("The control-plane VIP must be an IPv4 address.");
  if (spec.workers.length === 0) out.push("Add a worker pool.");
  if (spec.sshPublicKey.trim() === "") out.push("Choose or paste an SSH public key.");
  else if (sshKeyProblem(spec.sshPublicKey)) out.push("Fix the SSH public key.");
  return out;
}

/** What the preflight was run on: the form and any YAML edited by hand. */
export function checkedKey(spec: DeploySpec, editedYaml: DeployYaml | null): string {
  return JSON.stringify({ spec, editedYaml });
}

// ---- the report --------------------------------------------------------------------------------

/** The preflight's outcome; `error` (a check that could not finish) is the engine's too. */
export type CheckOutcome = CheckResult["outcome"] | "error";

export const outcomeOf = (check: CheckResult): CheckOutcome => check.outcome as CheckOutcome;

export function blockingChecks(report: PreflightReport): CheckResult[] {
  return report.checks.filter((c) => outcomeOf(c) === "fail" || outcomeOf(c) === "error");
}

/** A count that may be absent, as a number. */
export const toNumber = (value: number | null | undefined): number => value ?? 0;

export function workerPoolLabel(pool: PoolSpec, index: number): string {
  return pool.name.trim() || `Worker pool ${index + 1}`;
}

/**
 * The form with `image` chosen. kubeadm and the kubelet come from the node image, so a
 * matching image's exact version (the profile's minor, the image's patch) becomes the
 * cluster's; a non-matching one leaves the profile's version, and the preflight says why.
 */
export function withImage(spec: DeploySpec, image: ImageOption | undefined): DeploySpec {
  if (!image) return { ...spec, image: { uuid: "", name: "", useUuid: false } };
  const next = { ...spec, image: { uuid: image.uuid, name: image.name, useUuid: !image.nameUnique } };
  if (image.matches && image.kubernetesVersion) next.kubernetesVersion = image.kubernetesVersion;
  return next;
}
/** The text of one document of the YAML. */
export const docText = (yaml: DeployYaml | null, pool: PoolRef): string | undefined =>
  !yaml ? undefined : pool.kind === "cluster" ? yaml.cluster : pool.kind === "controlPlane" ? yaml.controlPlane : yaml.workers[pool.index];
