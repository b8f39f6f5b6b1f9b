import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { IpcError } from "../bindings";
import { FakeWorkflow, type FakeWorkflowOptions, fakeInfrastructureComponents, SIMULATED_CONTEXT } from "./fake-workflow";

// The upstream template is a fixture of the shared specs (never copied into the project).
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const SPECS = process.env.CAPSTAN_SPECS_DIR ?? path.resolve(REPO, "../shared/specs");
const UPSTREAM_FILE = path.join(SPECS, "capx/templates/cluster-template-v1.5.4.yaml");

const fake = (options: FakeWorkflowOptions = {}) => new FakeWorkflow(() => new Date("2026-11-21T09:00:00Z"), { draftStorage: null, ...options });

function thrown(fn: () => unknown): IpcError {
  try {
    fn();
  } catch (error) {
    return error as IpcError;
  }
  throw new Error("expected the call to fail");
}

const kindsOf = (yaml: string) => [...yaml.matchAll(/^kind:\s*(\S+)/gm)].map((m) => m[1]);

describe("FakeWorkflow step 1", () => {
  it.skipIf(!existsSync(UPSTREAM_FILE))("splits the real upstream v1.5.4 template into Palette's three templates", () => {
    const workflow = fake();
    const plan = workflow.cloudTypePlan({
      capxVersion: "v1.5.4",
      source: "upstream",
      clusterTemplate: readFileSync(UPSTREAM_FILE, "utf8"),
      infrastructureComponents: fakeInfrastructureComponents("v1.5.4"),
      vertex: false,
    });
    expect(plan.blockers).toEqual([]);
    const byName = Object.fromEntries(plan.templates.map((t) => [t.name, t]));
    expect(kindsOf(byName.clusterTemplate.yaml)).toEqual(["ConfigMap", "Secret", "Cluster", "MachineHealthCheck", "NutanixCluster"]);
    expect(kindsOf(byName.controlPlanePoolTemplate.yaml)).toEqual(["KubeadmControlPlane", "NutanixMachineTemplate"]);
    expect(kindsOf(byName.workerPoolTemplate.yaml)).toEqual(["KubeadmConfigTemplate", "MachineDeployment", "NutanixMachineTemplate"]);
    for (const t of plan.templates) expect(t.yaml).not.toContain("${NAMESPACE}");
    expect(byName.controlPlanePoolTemplate.yaml).toContain("name: ${CLUSTER_NAME}-cp-0");
    expect(byName.controlPlanePoolTemplate.yaml).toContain("systemctl enable --now iscsid");
    expect(byName.workerPoolTemplate.yaml).toContain("systemctl enable --now iscsid");
    expect(plan.components.declaredVersion).toBe("v1.5.4");
  });

  it("registers once; the same input again changes nothing, VerteX changes the two pools", () => {
    const workflow = fake();
    const input = { capxVersion: "v1.5.0", source: "shipped" as const, infrastructureComponents: fakeInfrastructureComponents("v1.5.0"), vertex: false };
    expect(workflow.state().steps[0].status).toBe("not_started");
    expect(workflow.cloudTypeRegister(input).actions[0]).toBe("Registered the cloud type nutanix");
    expect(workflow.state().steps[0].status).toBe("done");
    const again = workflow.cloudTypeRegister(input);
    expect(again.actions).toContain("clusterTemplate is unchanged");
    expect(again.plan.changesNeeded).toEqual([]);
    expect(workflow.cloudTypePlan({ ...input, vertex: true }).changesNeeded).toEqual(["Update controlPlanePoolTemplate", "Update workerPoolTemplate"]);
  });

  it("refuses to register with errors, naming them", () => {
    const error = thrown(() => fake().cloudTypeRegister({ capxVersion: "v1.5.0", source: "shipped", vertex: false, logo: { fileName: "logo.gif", base64: "R0lGODlh" } }));
    expect(error.code).toBe("invalid_input");
    expect((error.details as { blockers: string[] }).blockers.join(" ")).toMatch(/infrastructure-components\.yaml[\s\S]*PNG, SVG or JPEG/);
    expect(thrown(() => fake().cloudTypePlan({ capxVersion: "v1.6.1", source: "shipped", vertex: false })).message).toContain("not supported");
  });
});

describe("FakeWorkflow steps 2 and 3", () => {
  it("keeps a PCG Pending until it is applied, then Running on the second poll; a re-create reuses it", () => {
    const workflow = fake({ start: "registered" });
    const created = workflow.pcgCreate({ name: "edge-pcg" });
    expect(created).toMatchObject({ state: "Pending", created: true, running: false });
    expect(workflow.pcgCreate({ name: "edge-pcg" })).toMatchObject({ uid: created.uid, created: false });
    for (let i = 0; i < 5; i++) expect(workflow.pcgStatus({ uid: created.uid }).running).toBe(false);
    expect(workflow.cloudAccountForm().blockedReason).toContain("Pending");

    const real = workflow.pcgApply({ uid: created.uid, context: "kind-lab" });
    expect(real.results).toEqual([expect.objectContaining({ ok: false })]);
    const applied = workflow.pcgApply({ uid: created.uid, context: SIMULATED_CONTEXT });
    expect(applied.results.map((r) => r.ok)).toEqual([true, true]);
    expect(workflow.pcgStatus({ uid: created.uid }).running).toBe(false);
    expect(workflow.pcgStatus({ uid: created.uid })).toMatchObject({ running: true, state: "Running", health: "Healthy" });
    expect(workflow.state().steps[1].status).toBe("done");
    expect(workflow.cloudAccountForm().blockedReason).toBeNull();
  });

  it("gives advice once a PCG has been Pending for five minutes", () => {
    const workflow = fake({ start: "pcg_pending" });
    const uid = workflow.state().steps[1].objectUid ?? "";
    expect(workflow.pcgStatus({ uid }).advice).toEqual([]);
    workflow.advance(301);
    const status = workflow.pcgStatus({ uid });
    expect(status.pendingSeconds).toBe(301);
    expect(status.advice[0]).toContain("kubectl");
  });

  it("checks the account against Prism first: 'wrong' is refused and nothing is created", () => {
    const workflow = fake({ start: "pcg_running" });
    const form = workflow.cloudAccountForm();
    expect(form.fields.map((f) => f.key)).toEqual(["NUTANIX_USER", "NUTANIX_PASSWORD", "NUTANIX_ENDPOINT", "NUTANIX_PORT", "NUTANIX_INSECURE"]);
    const values = Object.fromEntries(form.fields.map((f) => [f.key, f.value ?? ""]));
    const pcgUid = form.defaultPcg ?? "";
    expect(thrown(() => workflow.cloudAccountCreate({ name: "prod", pcgUid, values: { ...values, NUTANIX_PASSWORD: "wrong" } })).code).toBe("unauthorized");
    expect(workflow.cloudAccountForm().existing).toEqual([]);
    expect(workflow.cloudAccountCreate({ name: "prod", pcgUid, values })).toMatchObject({ name: "prod", created: true });
    expect(workflow.cloudAccountCreate({ name: "prod", pcgUid, values })).toMatchObject({ created: false });
    expect(workflow.state().steps[2].status).toBe("done");
  });
});

describe("FakeWorkflow drafts", () => {
  it("outlive the instance in the storage given, as the cache outlives a restart", () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    } as Storage;
    const first = fake({ draftStorage: storage });
    first.draftSave({ step: "pcg", data: { name: "edge" } });
    first.draftSave({ step: "cloud_type", data: { capxVersion: "v1.8.6" } });
    first.draftDelete({ step: "cloud_type" });
    const second = fake({ draftStorage: storage });
    expect(second.draftGet({ step: "pcg" }).draft?.data).toEqual({ name: "edge" });
    expect(second.draftGet({ step: "cloud_type" }).draft).toBeNull();
    expect(second.state().steps.find((s) => s.id === "pcg")?.hasDraft).toBe(true);
  });
});
