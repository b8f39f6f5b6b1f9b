import type {
  AccountField,
  AppliedCommand,
  CloudAccountCreateRequest,
  CloudAccountForm,
  CloudAccountResult,
  CloudTypeInput,
  CloudTypePlan,
  CloudTypeResult,
  ComponentsCheck,
  DiagramBox,
  DraftKey,
  DraftPut,
  DraftReply,
  Finding,
  IpcError,
  KubeContexts,
  PcgApplyRequest,
  PcgApplyResult,
  PcgCondition,
  PcgCreateRequest,
  PcgStatus,
  PcgUidRequest,
  PlannedTemplate,
  WorkflowState,
  WorkflowStep,
  WorkflowStepId,
} from "../bindings";

/**
 * The workflow half of the `FakeServer`: a small state machine that answers steps 1–3, the
 * drafts and the stepper the way the Rust engine and the sandbox do, deterministically.
 *
 * - Step 1: plans come from a tiny shipped template set per CAPX line, or from splitting an
 *   uploaded upstream `cluster-template.yaml` (objects missing → errors that block Register).
 *   `infrastructure-components.yaml` must name the three Nutanix CRDs and the chosen version.
 *   A logo over 100 KB is refused. Registering again only changes what differs.
 * - Step 2: a PCG is `Pending` until its commands are applied to the simulated context
 *   `capstan-sandbox-host`; it reports `Running` on the second status poll after that (or
 *   after `pollsToRunningUnapplied` polls without it). Pending for 5 min brings advice.
 * - Step 3: blocked until a PCG is Running; NUTANIX_PASSWORD `wrong` → unauthorized.
 */

export const CLOUD_TYPE = "nutanix";
export const DEFAULT_ACCOUNT_KEYS = ["NUTANIX_USER", "NUTANIX_PASSWORD", "NUTANIX_ENDPOINT", "NUTANIX_PORT", "NUTANIX_INSECURE"];
export const SIMULATED_CONTEXT = "capstan-sandbox-host";
export const FAKE_PALETTE_URL = "https://127.0.0.1:47443";
/** The Prism Central password setup saved for the sandbox (the fake accepts it). */
const SAVED_PRISM_PASSWORD = "sandbox-prism-password";
const MAX_LOGO_BYTES = 100 * 1024;
const PENDING_ADVICE_AFTER_S = 300;
const REQUIRED_CRDS = ["nutanixclusters", "nutanixmachines", "nutanixmachinetemplates"];
const RELEASES = "https://github.com/nutanix-cloud-native/cluster-api-provider-nutanix/releases/download";

export const TEMPLATE_NAMES = ["clusterTemplate", "controlPlanePoolTemplate", "workerPoolTemplate"] as const;
type TemplateName = (typeof TEMPLATE_NAMES)[number];
const FILE_NAMES: Record<TemplateName, string> = {
  clusterTemplate: "cloudClusterTemplate.yaml",
  controlPlanePoolTemplate: "controlPlanePoolTemplate.yaml",
  workerPoolTemplate: "workerPoolTemplate.yaml",
};
/** The upstream objects each Palette template keeps (palette-api.md §2.1). */
const KEEP: Record<TemplateName, string[]> = {
  clusterTemplate: ["ConfigMap", "Secret", "Cluster", "MachineHealthCheck", "NutanixCluster"],
  controlPlanePoolTemplate: ["KubeadmControlPlane", "NutanixMachineTemplate"],
  workerPoolTemplate: ["KubeadmConfigTemplate", "MachineDeployment", "NutanixMachineTemplate"],
};

const SUPPORTED_LINES: Record<string, string> = { "1.5": "v1.5", "1.8": "v1.8", "1.9": "v1.8", "1.10": "v1.10" };

/** A deliberately tiny stand-in for the shipped templates of each CAPX line. */
function shippedTemplates(line: string): Record<TemplateName, string> {
  return {
    clusterTemplate: `# Capstan's Palette cluster template for CAPX ${line}.x
apiVersion: v1
kind: Secret
metadata:
  name: \${CLUSTER_NAME}
stringData:
  credentials: '[{"type":"basic_auth","data":{"prismCentral":{"username":"\${NUTANIX_USER}","password":"\${NUTANIX_PASSWORD}"}}}]'
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: \${CLUSTER_NAME}
spec:
  clusterNetwork:
    pods:
      cidrBlocks: ["172.20.0.0/16"]
    services:
      cidrBlocks: ["172.19.0.0/16"]
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixCluster
metadata:
  name: \${CLUSTER_NAME}
spec:
  controlPlaneEndpoint:
    host: \${CONTROL_PLANE_ENDPOINT_IP}
    port: \${CONTROL_PLANE_ENDPOINT_PORT=6443}
  prismCentral:
    address: \${NUTANIX_ENDPOINT}
    port: \${NUTANIX_PORT=9440}
    insecure: \${NUTANIX_INSECURE=false}
`,
    controlPlanePoolTemplate: `# Capstan's Palette control-plane pool template for CAPX ${line}.x
apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: KubeadmControlPlane
metadata:
  name: \${CLUSTER_NAME}-kcp
spec:
  replicas: \${CONTROL_PLANE_MACHINE_COUNT=1}
  version: \${KUBERNETES_VERSION}
  machineTemplate:
    infrastructureRef:
      kind: NutanixMachineTemplate
      name: \${CLUSTER_NAME}-cp-0
  kubeadmConfigSpec:
    initConfiguration:
      nodeRegistration:
        kubeletExtraArgs:
          cloud-provider: external
    joinConfiguration:
      nodeRegistration:
        kubeletExtraArgs:
          cloud-provider: external
    preKubeadmCommands:
      - systemctl enable --now iscsid
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixMachineTemplate
metadata:
  name: \${CLUSTER_NAME}-cp-0
spec:
  template:
    spec:
      providerID: nutanix://\${CLUSTER_NAME}-m1-cp-0
      memorySize: \${NUTANIX_MACHINE_MEMORY_SIZE=4Gi}
`,
    workerPoolTemplate: `# Capstan's Palette worker pool template for CAPX ${line}.x
apiVersion: bootstrap.cluster.x-k8s.io/v1beta1
kind: KubeadmConfigTemplate
metadata:
  name: \${CLUSTER_NAME}-kcfg-0
spec:
  template:
    spec:
      joinConfiguration:
        nodeRegistration:
          kubeletExtraArgs:
            cloud-provider: external
      preKubeadmCommands:
        - systemctl enable --now iscsid
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata:
  name: \${CLUSTER_NAME}-wmd
spec:
  replicas: \${WORKER_MACHINE_COUNT}
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixMachineTemplate
metadata:
  name: \${CLUSTER_NAME}-mt-0
spec:
  template:
    spec:
      providerID: nutanix://\${CLUSTER_NAME}-m1-mt-0
`,
  };
}

interface YamlDoc {
  kind: string;
  name: string;
  text: string;
}

function splitDocuments(text: string): YamlDoc[] {
  return text
    .split(/^---[ \t]*$/m)
    .map((chunk) => chunk.replace(/^\s*\n/, "").replace(/\s+$/, ""))
    .filter((chunk) => /^kind:/m.test(chunk))
    .map((chunk) => ({
      kind: /^kind:\s*(\S+)/m.exec(chunk)?.[1] ?? "",
      name: /^ {2}name:\s*(\S+)/m.exec(chunk)?.[1] ?? "",
      text: chunk.split("\n").filter((line) => !/^#/.test(line)).join("\n"),
    }));
}

/** Which upstream document a template keeps for `kind` (the CCM's ConfigMap and Secret stay out). */
function pick(docs: YamlDoc[], kind: string): YamlDoc | undefined {
  const ofKind = docs.filter((d) => d.kind === kind);
  if (kind === "ConfigMap") return ofKind.find((d) => /ca-bundle/.test(d.name));
  if (kind === "Secret") return ofKind.find((d) => d.name === "${CLUSTER_NAME}");
  return ofKind[0];
}

function addIscsid(text: string): { text: string; added: boolean } {
  if (text.includes("systemctl enable --now iscsid")) return { text, added: false };
  let added = false;
  const out = text.replace(/^(\s*)preKubeadmCommands:[ \t]*\n/m, (line: string, indent: string) => {
    added = true;
    return `${line}${indent}  - systemctl enable --now iscsid\n`;
  });
  return { text: out, added };
}

function addVertexFlag(text: string): { text: string; count: number } {
  let count = 0;
  const out = text.replace(/^(\s*)kubeletExtraArgs:[ \t]*\n/gm, (line: string, indent: string) => {
    count++;
    return `${line}${indent}  rotate-server-certificates: "true"\n`;
  });
  return { text: out, count };
}

function finding(severity: Finding["severity"], code: string, message: string, location: string | null = null): Finding {
  return { severity, code, message, location };
}

/** Bytes in a base64 string, without decoding it. */
function base64Bytes(b64: string): number {
  const clean = b64.replace(/\s/g, "");
  const padding = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - padding;
}

/** Width and height of a PNG from its IHDR chunk, or null if it is not a PNG. */
function pngSize(b64: string): { width: number; height: number } | null {
  if (!b64.startsWith("iVBORw0KGgo")) return null;
  try {
    const head = atob(b64.slice(0, 32));
    const u32 = (at: number) => ((head.charCodeAt(at) << 24) | (head.charCodeAt(at + 1) << 16) | (head.charCodeAt(at + 2) << 8) | head.charCodeAt(at + 3)) >>> 0;
    return { width: u32(16), height: u32(20) };
  } catch {
    return null;
  }
}

interface Registration {
  capxVersion: string;
  templates: Record<TemplateName, string>;
  accountKeys: string[];
  components: string;
  logo: string | null;
}

interface FakePcg {
  uid: string;
  name: string;
  createdAt: number;
  commands: string[];
  running: boolean;
  appliedTo: string | null;
  /** Status polls left before an applied PCG reports Running. */
  bootPolls: number;
  pollsSeen: number;
  runningSince: number | null;
}

interface FakeAccount {
  uid: string;
  name: string;
  pcgUid: string;
}

export interface FakeWorkflowOptions {
  /** `registered`: step 1 done; `pcg_pending` / `pcg_running`: also a PCG named edge-pcg. */
  start?: "empty" | "registered" | "pcg_pending" | "pcg_running" | "account";
  /**
   * Where drafts outlive the page, as the engine's cache outlives a restart. The Playwright
   * build keeps them in sessionStorage so a reload restores them; elsewhere they live in memory.
   */
  draftStorage?: Storage | null;
}

const DRAFTS_KEY = "capstan.fake.workflowDrafts";

function defaultDraftStorage(): Storage | null {
  return import.meta.env.VITE_E2E_MOCKS === "1" && typeof sessionStorage !== "undefined" ? sessionStorage : null;
}

const STEP_TITLES: Record<WorkflowStepId, string> = {
  cloud_type: "Register the Nutanix cloud type",
  pcg: "Deploy the Private Cloud Gateway",
  cloud_account: "Add the Nutanix cloud account",
  profile: "Create a cluster profile",
  cluster: "Deploy the cluster",
};

function formatMinutes(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min`;
}

/** What steps 4 and 5 read from the other fakes (the engine reads them from Palette). */
export interface LaterStepsSource {
  /** The newest published nutanix profile, if any. */
  profile(): { uid: string; name: string; version: string } | null;
  /** The cluster to show (a Running one first), if any. */
  cluster(): { uid: string; name: string; state: string } | null;
}

export class FakeWorkflow {
  readonly drafts = new Map<string, DraftReply["draft"]>();
  /** Set by the `FakeServer`, so steps 4 and 5 follow the profile and cluster fakes. */
  laterSteps: LaterStepsSource | null = null;
  /** Status polls after which an un-applied PCG reports Running anyway (the user ran the commands elsewhere). */
  pollsToRunningUnapplied = 40;
  private registration: Registration | null = null;
  private readonly pcgs: FakePcg[] = [];
  private readonly accounts: FakeAccount[] = [];
  private uidSeq = 0;
  /** Added to the clock, so tests can let time pass (`advance`). */
  private skewMs = 0;
  private readonly draftStorage: Storage | null;

  constructor(
    private readonly now: () => Date = () => new Date(),
    options: FakeWorkflowOptions = {},
  ) {
    this.draftStorage = options.draftStorage === undefined ? defaultDraftStorage() : options.draftStorage;
    this.loadDrafts();
    const start = options.start ?? "empty";
    if (start !== "empty") this.seedRegistration();
    if (start === "pcg_pending" || start === "pcg_running" || start === "account") {
      const pcg = this.addPcg("edge-pcg");
      if (start !== "pcg_pending") this.markRunning(pcg);
    }
    if (start === "account") this.accounts.push({ uid: this.nextUid(), name: "nutanix-sandbox", pcgUid: this.pcgs[0].uid });
  }

  /** Lets `seconds` pass on the workflow's clock (a Pending PCG ages, advice appears). */
  advance(seconds: number): void {
    this.skewMs += seconds * 1000;
  }

  private time(): number {
    return this.now().getTime() + this.skewMs;
  }

  private nextUid(): string {
    this.uidSeq++;
    return `6650c1a9e0b1f2a3${this.uidSeq.toString(16).padStart(8, "0")}`;
  }

  private seedRegistration(): void {
    const templates = shippedTemplates("v1.5");
    this.registration = {
      capxVersion: "v1.5.0",
      templates,
      accountKeys: [...DEFAULT_ACCOUNT_KEYS],
      components: fakeInfrastructureComponents("v1.5.0"),
      logo: null,
    };
  }

  // ---- the stepper and the diagram -------------------------------------------------------

  state(): WorkflowState {
    const pcg = this.currentPcg();
    const account = this.accounts.at(-1) ?? null;
    const profile = this.laterSteps?.profile() ?? null;
    const cluster = this.laterSteps?.cluster() ?? null;
    const registered = this.registration !== null;
    const step = (id: WorkflowStepId, rest: Omit<WorkflowStep, "id" | "title" | "hasDraft" | "blockedBy" | "objectUid" | "objectName"> & Partial<WorkflowStep>): WorkflowStep => ({
      id,
      title: STEP_TITLES[id],
      blockedBy: null,
      objectUid: null,
      objectName: null,
      hasDraft: this.drafts.has(id),
      ...rest,
    });
    const steps: WorkflowStep[] = [
      registered
        ? step("cloud_type", {
            status: "done",
            summary: `Cloud type nutanix is registered (CAPX ${this.registration?.capxVersion}, ${this.registration?.accountKeys.length} account keys)`,
            objectName: CLOUD_TYPE,
          })
        : step("cloud_type", { status: "not_started", summary: "Palette has no nutanix cloud type yet" }),
      !registered
        ? step("pcg", { status: "blocked", blockedBy: "cloud_type", summary: "A PCG needs the nutanix cloud type" })
        : !pcg
          ? step("pcg", { status: "not_started", summary: "No Private Cloud Gateway for Nutanix yet" })
          : pcg.running
            ? step("pcg", { status: "done", summary: `PCG ${pcg.name} is Running`, objectUid: pcg.uid, objectName: pcg.name })
            : step("pcg", {
                status: "in_progress",
                summary: `PCG ${pcg.name} is Pending for ${formatMinutes(this.pendingSeconds(pcg))}`,
                objectUid: pcg.uid,
                objectName: pcg.name,
              }),
      account
        ? step("cloud_account", { status: "done", summary: `Cloud account ${account.name} uses PCG ${this.pcgs.find((p) => p.uid === account.pcgUid)?.name ?? account.pcgUid}`, objectUid: account.uid, objectName: account.name })
        : !registered
          ? step("cloud_account", { status: "blocked", blockedBy: "cloud_type", summary: "The account form is built from the cloud type's keys" })
          : !pcg?.running
            ? step("cloud_account", { status: "blocked", blockedBy: "pcg", summary: "Palette accepts an account only through a Running PCG" })
            : step("cloud_account", { status: "not_started", summary: "No Nutanix cloud account yet" }),
      profile
        ? step("profile", { status: "done", summary: `Cluster profile ${profile.name} ${profile.version} uses the nutanix cloud type.`, objectUid: profile.uid, objectName: profile.name })
        : account
          ? step("profile", { status: "not_started", summary: "No cluster profile for nutanix yet" })
          : step("profile", { status: "blocked", blockedBy: "cloud_account", summary: "A profile for nutanix needs the cloud account" }),
      cluster
        ? step("cluster", {
            status: cluster.state === "Running" ? "done" : "in_progress",
            summary: `Cluster ${cluster.name} is ${cluster.state}.`,
            objectUid: cluster.uid,
            objectName: cluster.name,
          })
        : !account
          ? step("cluster", { status: "blocked", blockedBy: "cloud_account", summary: "A cluster needs the Nutanix cloud account (step 3)." })
          : !profile
            ? step("cluster", { status: "blocked", blockedBy: "profile", summary: "A cluster needs a cluster profile (step 4)." })
            : step("cluster", { status: "not_started", summary: "No Nutanix cluster exists yet." }),
    ];

    const diagram: DiagramBox[] = [
      {
        part: "palette",
        label: "Palette",
        state: "ok",
        detail: [FAKE_PALETTE_URL.replace("https://", ""), registered ? "cloud type nutanix registered" : "no nutanix cloud type"],
        steps: ["cloud_type", "pcg", "cloud_account", "profile", "cluster"],
      },
      {
        part: "pcg_host_cluster",
        label: "PCG host cluster",
        state: pcg?.appliedTo ? "ok" : pcg ? "unknown" : "absent",
        detail: pcg?.appliedTo ? [`context ${pcg.appliedTo}`] : pcg ? ["any Kubernetes cluster you choose"] : [],
        steps: ["pcg"],
      },
      {
        part: "pcg",
        label: "Private Cloud Gateway",
        state: !pcg ? "absent" : pcg.running ? "ok" : "pending",
        detail: pcg ? [pcg.name, pcg.running ? "Running" : "Pending"] : ["not created"],
        steps: ["pcg", "cloud_account"],
      },
      {
        part: "prism_central",
        label: "Prism Central",
        state: "ok",
        detail: ["127.0.0.1:49440", "pc.2024.3"],
        steps: ["cloud_account", "cluster"],
      },
      { part: "prism_element", label: "Prism Element", state: "ok", detail: ["pe-fra-a (AHV)"], steps: ["cluster"] },
      { part: "workload_cluster", label: "Workload cluster", state: "absent", detail: ["not deployed"], steps: ["profile", "cluster"] },
      { part: "kube_vip", label: "kube-vip", state: "absent", detail: ["control-plane address"], steps: ["cluster"] },
    ];
    return { environmentId: "sandbox", steps, diagram, checkedAt: new Date(this.time()).toISOString(), problem: null };
  }

  // ---- drafts -------------------------------------------------------------------------------

  private loadDrafts(): void {
    const saved = this.draftStorage?.getItem(DRAFTS_KEY);
    if (!saved) return;
    try {
      for (const draft of JSON.parse(saved) as Array<NonNullable<DraftReply["draft"]>>) this.drafts.set(draft.step, draft);
    } catch {
      this.draftStorage?.removeItem(DRAFTS_KEY);
    }
  }

  private storeDrafts(): void {
    this.draftStorage?.setItem(DRAFTS_KEY, JSON.stringify([...this.drafts.values()]));
  }

  draftGet({ step }: DraftKey): DraftReply {
    return { draft: this.drafts.get(step) ?? null };
  }

  draftSave({ step, data }: DraftPut): DraftReply {
    const draft = { step, data, updatedAt: new Date(this.time()).toISOString() };
    this.drafts.set(step, draft);
    this.storeDrafts();
    return { draft };
  }

  draftDelete({ step }: DraftKey): DraftReply {
    this.drafts.delete(step);
    this.storeDrafts();
    return { draft: null };
  }

  // ---- step 1 ----------------------------------------------------------------------------------

  cloudTypePlan(input: CloudTypeInput): CloudTypePlan {
    const version = input.capxVersion.trim();
    const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
    if (!match) {
      throw { code: "invalid_input", message: `"${version}" is not a CAPX release version: write it like v1.5.0.`, details: { field: "capxVersion" } } satisfies IpcError;
    }
    const line = SUPPORTED_LINES[`${match[1]}.${match[2]}`];
    if (!line) {
      throw {
        code: "invalid_input",
        message: `CAPX ${version} is not supported: Capstan has templates for 1.5.x, 1.8.x, 1.9.x and 1.10.x.`,
        details: { field: "capxVersion" },
      } satisfies IpcError;
    }

    const templates = input.source === "shipped" ? this.shippedPlan(line, input.vertex) : this.upstreamPlan(input.clusterTemplate ?? "", input.vertex);
    const reg = this.registration;
    for (const t of templates) {
      t.registered = reg ? reg.templates[t.name as TemplateName] : null;
      t.differsFromRegistered = reg !== null && t.registered !== t.yaml;
    }

    const components = this.checkComponents(version, input.infrastructureComponents);
    const logoFindings = this.checkLogo(input);
    const keys = (input.accountKeys ?? DEFAULT_ACCOUNT_KEYS).map((k) => k.trim()).filter((k) => k !== "");

    const blockers: string[] = [];
    for (const f of [...templates.flatMap((t) => t.findings), ...components.findings, ...logoFindings]) {
      if (f.severity === "error") blockers.push(f.location ? `${f.location}: ${f.message}` : f.message);
    }
    if (keys.length === 0) blockers.push("Name at least one cloud account key: the account form in step 3 is built from them.");
    const badKeys = keys.filter((k) => !/^[A-Z][A-Z0-9_]*$/.test(k));
    if (badKeys.length > 0) blockers.push(`Account keys are upper-case letters, digits and _ (not ${badKeys.join(", ")}).`);
    if (new Set(keys).size !== keys.length) blockers.push("Each account key may appear only once.");

    const changesNeeded: string[] = [];
    if (!reg) {
      changesNeeded.push("Register cloud type nutanix", "Upload infrastructure-components.yaml", ...TEMPLATE_NAMES.map((n) => `Upload ${n}`), `Set ${keys.length} cloud account keys`);
      if (input.logo) changesNeeded.push("Upload the logo");
    } else {
      for (const t of templates) if (t.differsFromRegistered) changesNeeded.push(`Update ${t.name}`);
      if (input.infrastructureComponents?.trim() && input.infrastructureComponents !== reg.components) changesNeeded.push(`Replace infrastructure-components.yaml (${components.declaredVersion ?? "unknown version"})`);
      if (keys.join(",") !== reg.accountKeys.join(",")) changesNeeded.push(`Set cloud account keys to ${keys.join(", ")}`);
      if (input.logo && input.logo.base64 !== reg.logo) changesNeeded.push("Replace the logo");
    }
    return { capxVersion: version, templates, components, logoFindings, registered: reg !== null, changesNeeded, blockers };
  }

  private shippedPlan(line: string, vertex: boolean): PlannedTemplate[] {
    const shipped = shippedTemplates(line);
    return TEMPLATE_NAMES.map((name) => {
      let yaml = shipped[name];
      const changes = [`Capstan's known-good ${name} for CAPX ${line}.x`];
      if (vertex && name !== "clusterTemplate") {
        const patched = addVertexFlag(yaml);
        yaml = patched.text;
        changes.push(`Added rotate-server-certificates to ${patched.count} kubeletExtraArgs (VerteX)`);
      }
      return { name, fileName: FILE_NAMES[name], yaml, original: "", changes, findings: [], registered: null, differsFromRegistered: false };
    });
  }

  private upstreamPlan(text: string, vertex: boolean): PlannedTemplate[] {
    const docs = splitDocuments(text);
    return TEMPLATE_NAMES.map((name) => {
      const findings: Finding[] = [];
      const changes: string[] = [];
      if (text.trim() === "") {
        // Said once, on the first template: the same file feeds all three.
        if (name === "clusterTemplate") findings.push(finding("error", "template_missing", "Choose or paste the upstream cluster-template.yaml of this CAPX release.", "cluster-template.yaml"));
        return { name, fileName: FILE_NAMES[name], yaml: "", original: "", changes, findings, registered: null, differsFromRegistered: false };
      }
      const kept: YamlDoc[] = [];
      for (const kind of KEEP[name]) {
        const doc = pick(docs, kind);
        if (doc) kept.push(doc);
        else findings.push(finding("error", "object_missing", `cluster-template.yaml has no ${kind}, which ${FILE_NAMES[name]} needs.`, FILE_NAMES[name]));
      }
      const dropped = docs.length - kept.length;
      changes.push(`Kept ${kept.map((d) => d.kind).join(", ") || "nothing"}${dropped > 0 ? `; left out ${dropped} other objects` : ""}`);
      let yaml = kept.map((d) => d.text).join("\n---\n") + "\n";

      const namespaceLines = (yaml.match(/^\s*namespace:\s*\$\{NAMESPACE\}\s*$/gm) ?? []).length;
      if (namespaceLines > 0) {
        yaml = yaml.replace(/^\s*namespace:\s*\$\{NAMESPACE\}[ \t]*\n/gm, "");
        changes.push(`Removed ${namespaceLines} namespace: \${NAMESPACE} lines (Palette sets the namespace)`);
      }
      if (name === "controlPlanePoolTemplate" && yaml.includes("${CLUSTER_NAME}-mt-0")) {
        yaml = yaml.replaceAll("${CLUSTER_NAME}-mt-0", "${CLUSTER_NAME}-cp-0");
        changes.push("Renamed the machine template to ${CLUSTER_NAME}-cp-0 and pointed the KubeadmControlPlane at it");
      }
      if (name !== "clusterTemplate") {
        const iscsid = addIscsid(yaml);
        yaml = iscsid.text;
        if (iscsid.added) changes.push("Added systemctl enable --now iscsid to preKubeadmCommands (the nutanix-csi pack needs it)");
        if (vertex) {
          const patched = addVertexFlag(yaml);
          yaml = patched.text;
          changes.push(`Added rotate-server-certificates to ${patched.count} kubeletExtraArgs (VerteX)`);
        }
      }
      if (yaml.includes("${NAMESPACE}")) {
        findings.push(finding("warning", "namespace_placeholder_left", "${NAMESPACE} is still used here; Palette will not fill it in.", FILE_NAMES[name]));
      }
      return { name, fileName: FILE_NAMES[name], yaml, original: text, changes, findings, registered: null, differsFromRegistered: false };
    });
  }

  private checkComponents(version: string, text: string | undefined): ComponentsCheck {
    const downloadUrl = `${RELEASES}/${version}/infrastructure-components.yaml`;
    const findings: Finding[] = [];
    const where = "infrastructure-components.yaml";
    if (!text || text.trim() === "") {
      if (this.registration) findings.push(finding("info", "components_kept", "Not chosen: the file Palette has stays as it is.", where));
      else findings.push(finding("error", "components_missing", `Download infrastructure-components.yaml from ${downloadUrl} and choose it.`, where));
      return { downloadUrl, provided: false, declaredVersion: null, findings };
    }
    for (const crd of REQUIRED_CRDS) {
      if (!new RegExp(`plural:\\s*${crd}\\b`).test(text)) {
        findings.push(finding("error", "crd_missing", `The CRD ${crd}.infrastructure.cluster.x-k8s.io is not in the file: it is not a CAPX infrastructure-components.yaml.`, where));
      }
    }
    const declaredVersion = /cluster-api-provider-nutanix\/controller:(v[0-9][^\s"']*)/.exec(text)?.[1] ?? null;
    if (!declaredVersion) findings.push(finding("warning", "version_unknown", "The file does not say which CAPX version it is (no controller image tag).", where));
    else if (declaredVersion !== version) {
      findings.push(finding("error", "version_mismatch", `The file is CAPX ${declaredVersion}, but ${version} was chosen: download the file of the same release.`, where));
    }
    return { downloadUrl, provided: true, declaredVersion, findings };
  }

  private checkLogo(input: CloudTypeInput): Finding[] {
    if (!input.logo) return [];
    const { fileName, base64 } = input.logo;
    const where = fileName;
    const findings: Finding[] = [];
    if (!/\.(png|svg|jpe?g)$/i.test(fileName)) findings.push(finding("error", "logo_type", "The logo must be a PNG, SVG or JPEG file.", where));
    const bytes = base64Bytes(base64);
    if (bytes > MAX_LOGO_BYTES) {
      findings.push(finding("error", "logo_too_large", `The logo is ${Math.ceil(bytes / 1024)} KB; Palette accepts at most 100 KB.`, where));
    }
    const size = pngSize(base64);
    if (size && Math.max(size.width, size.height) < 40) {
      findings.push(finding("error", "logo_too_small", `The logo is ${size.width}×${size.height} px; Palette needs at least 40 px in one dimension.`, where));
    } else if (size) {
      findings.push(finding("info", "logo_ok", `${size.width}×${size.height} px, ${Math.ceil(bytes / 1024)} KB.`, where));
    }
    return findings;
  }

  cloudTypeRegister(input: CloudTypeInput): CloudTypeResult {
    const plan = this.cloudTypePlan(input);
    if (plan.blockers.length > 0) {
      throw {
        code: "invalid_input",
        message: `Nothing was uploaded: ${plan.blockers.length === 1 ? "one problem" : `${plan.blockers.length} problems`} must be fixed first.`,
        details: { blockers: plan.blockers },
      } satisfies IpcError;
    }
    const keys = (input.accountKeys ?? DEFAULT_ACCOUNT_KEYS).map((k) => k.trim()).filter((k) => k !== "");
    const templates = Object.fromEntries(plan.templates.map((t) => [t.name, t.yaml])) as Record<TemplateName, string>;
    const actions: string[] = [];
    const reg = this.registration;
    if (!reg) {
      actions.push("Registered the cloud type nutanix", "Uploaded infrastructure-components.yaml", ...TEMPLATE_NAMES.map((n) => `Uploaded ${n}`), `Set the cloud account keys (${keys.join(", ")})`);
      if (input.logo) actions.push("Uploaded the logo");
      this.registration = { capxVersion: plan.capxVersion, templates, accountKeys: keys, components: input.infrastructureComponents ?? "", logo: input.logo?.base64 ?? null };
    } else {
      actions.push("The cloud type nutanix is registered already");
      for (const t of plan.templates) actions.push(t.differsFromRegistered ? `Uploaded ${t.name}` : `${t.name} is unchanged`);
      if (input.infrastructureComponents?.trim() && input.infrastructureComponents !== reg.components) {
        actions.push("Uploaded infrastructure-components.yaml");
        reg.components = input.infrastructureComponents;
      }
      if (keys.join(",") !== reg.accountKeys.join(",")) {
        actions.push(`Set the cloud account keys (${keys.join(", ")})`);
        reg.accountKeys = keys;
      }
      if (input.logo && input.logo.base64 !== reg.logo) {
        actions.push("Uploaded the logo");
        reg.logo = input.logo.base64;
      }
      reg.templates = templates;
      reg.capxVersion = plan.capxVersion;
    }
    return { actions, plan: this.cloudTypePlan(input) };
  }

  // ---- step 2 ----------------------------------------------------------------------------------

  private currentPcg(): FakePcg | null {
    return this.pcgs.find((p) => p.running) ?? this.pcgs.at(-1) ?? null;
  }

  private addPcg(name: string): FakePcg {
    const uid = this.nextUid();
    const pcg: FakePcg = {
      uid,
      name,
      createdAt: this.time(),
      commands: [`kubectl apply -f ${FAKE_PALETTE_URL}/v1/pcg/${uid}/services/ally/manifest`, `kubectl apply -f ${FAKE_PALETTE_URL}/v1/pcg/${uid}/services/jet/manifest`],
      running: false,
      appliedTo: null,
      bootPolls: 0,
      pollsSeen: 0,
      runningSince: null,
    };
    this.pcgs.push(pcg);
    return pcg;
  }

  private markRunning(pcg: FakePcg): void {
    pcg.running = true;
    pcg.runningSince = this.time();
  }

  private pendingSeconds(pcg: FakePcg): number {
    return Math.max(0, Math.round((this.time() - pcg.createdAt) / 1000));
  }

  private statusOf(pcg: FakePcg, created = false): PcgStatus {
    const pendingSeconds = pcg.running ? null : this.pendingSeconds(pcg);
    const conditions: PcgCondition[] = pcg.running
      ? [{ kind: "AgentConnected", message: "The agent reports every 30 s" }]
      : pcg.appliedTo
        ? [{ kind: "AgentStarting", message: `Manifests applied to ${pcg.appliedTo}; waiting for the agent's first heartbeat` }]
        : [{ kind: "AgentNotConnected", message: "No heartbeat yet: the install manifests have not been applied to a host cluster" }];
    const advice =
      !pcg.running && pendingSeconds !== null && pendingSeconds >= PENDING_ADVICE_AFTER_S
        ? [
            "Run both kubectl commands, in the order shown, against the host cluster (kubectl get pods -A | grep -E 'ally|jet' shows the agent).",
            "The host cluster must reach Palette over HTTPS (443) and Prism Central on 9440; check proxies and firewalls.",
            "The host cluster needs at least 4 vCPU, 4 GB RAM and 60 GB disk free, and cluster-admin for the commands.",
            `Look at the agent's logs: kubectl logs -n cluster-${pcg.uid.slice(0, 12)} deploy/ally`,
          ]
        : [];
    return {
      uid: pcg.uid,
      name: pcg.name,
      state: pcg.running ? "Running" : "Pending",
      running: pcg.running,
      kubectlCommands: [...pcg.commands],
      created,
      pendingSeconds,
      health: pcg.running ? "Healthy" : null,
      agentVersion: pcg.running ? "4.6.21" : null,
      lastHeartbeat: pcg.running ? new Date(this.time()).toISOString() : null,
      conditions,
      advice,
    };
  }

  pcgCreate({ name }: PcgCreateRequest): PcgStatus {
    const trimmed = name.trim();
    if (!trimmed) throw { code: "invalid_input", message: "Name the PCG: it is shown in Palette under Tenant Settings.", details: { field: "name" } } satisfies IpcError;
    if (!this.registration) {
      throw { code: "invalid_input", message: "Register the Nutanix cloud type first (step 1): Palette refuses a PCG for a cloud type it does not know." } satisfies IpcError;
    }
    const existing = this.pcgs.find((p) => p.name === trimmed);
    if (existing) return this.statusOf(existing, false);
    return this.statusOf(this.addPcg(trimmed), true);
  }

  pcgStatus({ uid }: PcgUidRequest): PcgStatus {
    const pcg = this.findPcg(uid);
    pcg.pollsSeen++;
    if (!pcg.running) {
      if (pcg.appliedTo) {
        pcg.bootPolls--;
        if (pcg.bootPolls <= 0) this.markRunning(pcg);
      } else if (pcg.pollsSeen >= this.pollsToRunningUnapplied) {
        this.markRunning(pcg);
      }
    }
    return this.statusOf(pcg);
  }

  private findPcg(uid: string): FakePcg {
    const pcg = this.pcgs.find((p) => p.uid === uid);
    if (!pcg) throw { code: "not_found", message: `Palette has no PCG with uid ${uid}: it may have been deleted. Create it again.` } satisfies IpcError;
    return pcg;
  }

  kubeContexts(): KubeContexts {
    return {
      files: ["/home/operator/.kube/config"],
      contexts: [
        { name: SIMULATED_CONTEXT, cluster: SIMULATED_CONTEXT, server: "https://127.0.0.1:47443/sandbox/k8s", user: "sandbox-admin", current: false, simulated: true },
        { name: "kind-lab", cluster: "kind-lab", server: "https://127.0.0.1:40611", user: "kind-lab", current: true, simulated: false },
      ],
      problem: null,
      kubectlFound: false,
    };
  }

  pcgApply({ uid, context }: PcgApplyRequest): PcgApplyResult {
    const pcg = this.findPcg(uid);
    const ctx = this.kubeContexts().contexts.find((c) => c.name === context);
    if (!ctx) throw { code: "not_found", message: `No kubeconfig context named ${context}. Reload the list of contexts.` } satisfies IpcError;
    const results: AppliedCommand[] = [];
    if (!ctx.simulated) {
      // kubectl is not on PATH here: the first command fails and the rest are not run.
      results.push({ command: pcg.commands[0], ok: false, output: "kubectl was not found on PATH: install kubectl, or copy the commands and run them yourself." });
      return { results, status: this.statusOf(pcg) };
    }
    const ns = `cluster-${pcg.uid.slice(0, 12)}`;
    for (const [i, command] of pcg.commands.entries()) {
      const service = i === 0 ? "ally" : "jet";
      results.push({
        command,
        ok: true,
        output: `${i === 0 ? `namespace/${ns} created\n` : ""}configmap/${service}-config created\ndeployment.apps/${service} created`,
      });
    }
    if (!pcg.running && !pcg.appliedTo) {
      pcg.appliedTo = context;
      pcg.bootPolls = 2;
    }
    return { results, status: this.statusOf(pcg) };
  }

  // ---- step 3 ----------------------------------------------------------------------------------

  cloudAccountForm(): CloudAccountForm {
    const keys = this.registration?.accountKeys ?? [];
    const fields = keys.map(accountField);
    const pcgs = this.pcgs.map((p) => ({ uid: p.uid, name: p.name, state: p.running ? "Running" : "Pending" }));
    const current = this.currentPcg();
    let blockedReason: string | null = null;
    if (!this.registration) blockedReason = "Register the Nutanix cloud type first (step 1): this form is built from its account keys.";
    else if (!current) blockedReason = "Create the Private Cloud Gateway first (step 2): Palette reaches Prism Central through it.";
    else if (!current.running) blockedReason = `PCG ${current.name} is Pending: Palette accepts the account only once the gateway is Running (step 2).`;
    return {
      fields,
      pcgs,
      defaultPcg: current?.uid ?? null,
      blockedReason,
      existing: this.accounts.map((a) => ({ uid: a.uid, name: a.name, state: "Running" })),
    };
  }

  cloudAccountCreate({ name, pcgUid, values }: CloudAccountCreateRequest): CloudAccountResult {
    const trimmed = name.trim();
    if (!trimmed) throw { code: "invalid_input", message: "Name the cloud account.", details: { field: "name" } } satisfies IpcError;
    const form = this.cloudAccountForm();
    if (!this.registration) throw { code: "invalid_input", message: form.blockedReason ?? "The cloud type is not registered." } satisfies IpcError;
    const pcg = this.findPcg(pcgUid);
    if (!pcg.running) {
      throw { code: "invalid_input", message: `PCG ${pcg.name} is not Running yet: Palette refuses an account through it. Finish step 2 first.`, details: { field: "pcgUid" } } satisfies IpcError;
    }
    const missing = form.fields.filter((f) => !(values[f.key] ?? "").trim() && !(f.secret && f.savedSecretAvailable)).map((f) => f.key);
    if (missing.length > 0) {
      throw { code: "invalid_input", message: `Fill in ${missing.join(", ")}.`, details: { fields: missing } } satisfies IpcError;
    }
    const user = values.NUTANIX_USER ?? "admin";
    const endpoint = `${values.NUTANIX_ENDPOINT ?? "127.0.0.1"}:${values.NUTANIX_PORT ?? "9440"}`;
    const password = (values.NUTANIX_PASSWORD ?? "").trim() || SAVED_PRISM_PASSWORD;
    if (password === "wrong") {
      throw {
        code: "unauthorized",
        message: `Prism Central at ${endpoint} rejected user ${user} (401). Check NUTANIX_USER and NUTANIX_PASSWORD; nothing was saved in Palette.`,
        details: { service: "prism" },
      } satisfies IpcError;
    }
    const prismCheck = `Prism Central at ${endpoint} accepted user ${user} (pc.2024.3)`;
    const existing = this.accounts.find((a) => a.name === trimmed);
    if (existing) return { uid: existing.uid, name: existing.name, created: false, prismCheck };
    const account = { uid: this.nextUid(), name: trimmed, pcgUid };
    this.accounts.push(account);
    return { uid: account.uid, name: account.name, created: true, prismCheck };
  }
}

const FIELD_INFO: Record<string, { label: string; value: string | null; help: string }> = {
  NUTANIX_USER: { label: "Prism Central user", value: "admin", help: "From setup. The account Palette and CAPX use in Prism Central." },
  NUTANIX_PASSWORD: { label: "Prism Central password", value: null, help: "Checked against Prism Central before the account is saved." },
  NUTANIX_ENDPOINT: { label: "Prism Central address", value: "127.0.0.1", help: "From setup. IP or FQDN, without https:// or port." },
  NUTANIX_PORT: { label: "Prism Central port", value: "49440", help: "From setup. Must match the cluster template (default 9440)." },
  NUTANIX_INSECURE: { label: "Skip TLS verification", value: "true", help: "true only for a self-signed Prism Central certificate (the sandbox has one)." },
};

function accountField(key: string): AccountField {
  const info = FIELD_INFO[key];
  const secret = /PASSWORD|SECRET|TOKEN/.test(key);
  return {
    key,
    label: info?.label ?? key,
    secret,
    value: secret ? null : (info?.value ?? null),
    savedSecretAvailable: key === "NUTANIX_PASSWORD",
    help: info?.help ?? "A key registered with the cloud type in step 1.",
  };
}

/** A minimal but well-formed CAPX `infrastructure-components.yaml` for `version` (tests and seeding). */
export function fakeInfrastructureComponents(version: string): string {
  const crds = REQUIRED_CRDS.map(
    (plural) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.infrastructure.cluster.x-k8s.io
spec:
  group: infrastructure.cluster.x-k8s.io
  names:
    kind: ${plural}
    plural: ${plural}
  scope: Namespaced`,
  );
  return [
    ...crds,
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: capx-controller-manager
  namespace: capx-system
spec:
  template:
    spec:
      containers:
        - name: manager
          image: ghcr.io/nutanix-cloud-native/cluster-api-provider-nutanix/controller:${version}`,
  ].join("\n---\n");
}
