import { act, configure, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { BackendProvider } from "../../lib/backend";
import { FakeWorkflow, type FakeWorkflowOptions, fakeInfrastructureComponents, SIMULATED_CONTEXT } from "../../lib/backend/fake-workflow";
import { MockBackend } from "../../lib/backend/mock";
import { parseHash } from "../../lib/router";
import { renderApp } from "../../test/render";
import { WorkflowPage } from "./WorkflowPage";

// The whole suite shares two cores: give the page's timers room before a wait gives up.
configure({ asyncUtilTimeout: 4_000 });

/** Short waits so the tests run in real time: state is only re-read when a test asks. */
const FAST = { statePollMs: 60_000, pcgPollMs: 30, draftSaveMs: 20, planMs: 5 };

function backendWith(options: FakeWorkflowOptions = {}): MockBackend {
  const backend = new MockBackend();
  backend.server.workflow = new FakeWorkflow(undefined, { draftStorage: null, ...options });
  return backend;
}

function renderWorkflow(backend: MockBackend, hash = "#/workflow") {
  window.location.hash = hash;
  const user = userEvent.setup();
  const utils = render(
    <BackendProvider backend={backend}>
      <WorkflowPage timing={FAST} />
    </BackendProvider>,
  );
  return { user, ...utils };
}

const step = (id: string) => screen.getByTestId(`workflow-step-${id}`);
const box = (part: string) => screen.getByTestId(`diagram-box-${part}`);

async function waitForState(id: string, status: string) {
  await waitFor(() => expect(step(id)).toHaveAttribute("data-status", status));
}

describe("Workflow stepper and diagram", () => {
  it("shows each step's live state, what blocks it, and highlights the parts the selected step acts on", async () => {
    const backend = backendWith();
    const { user } = renderWorkflow(backend);
    await waitForState("cloud_type", "not_started");
    expect(step("pcg")).toHaveAttribute("data-status", "blocked");
    expect(step("pcg")).toHaveTextContent("Waiting for: Nutanix cloud type");
    expect(step("cloud_account")).toHaveTextContent("Waiting for: Nutanix cloud type");
    // Nothing in the address: the first step that is not done is open.
    expect(step("cloud_type")).toHaveAttribute("aria-current", "step");
    expect(box("palette")).toHaveAttribute("data-highlighted", "true");
    expect(box("palette")).toHaveAttribute("data-state", "ok");
    expect(box("pcg")).toHaveAttribute("data-state", "absent");
    expect(box("pcg")).toHaveAttribute("data-highlighted", "false");

    await user.click(step("cloud_account"));
    expect(parseHash(window.location.hash).params.get("step")).toBe("cloud_account");
    await waitFor(() => expect(box("prism_central")).toHaveAttribute("data-highlighted", "true"));
    expect(box("pcg")).toHaveAttribute("data-highlighted", "true");
    expect(box("prism_element")).toHaveAttribute("data-highlighted", "false");
  });

  it("opens on the step in progress and shows a PCG that was made elsewhere as Pending", async () => {
    renderWorkflow(backendWith({ start: "pcg_pending" }));
    await waitForState("pcg", "in_progress");
    expect(step("cloud_type")).toHaveAttribute("data-status", "done");
    expect(step("cloud_account")).toHaveTextContent("Waiting for: Private Cloud Gateway");
    expect(step("pcg")).toHaveAttribute("aria-current", "step");
    expect(box("pcg")).toHaveAttribute("data-state", "pending");
    expect(box("pcg")).toHaveAttribute("data-highlighted", "true");
  });

  it("reads the state again when the backend reports a status change", async () => {
    const backend = backendWith();
    renderWorkflow(backend);
    await waitForState("cloud_type", "not_started");
    // Registered in another window (or by another Capstan): the stepper follows.
    backend.server.workflow.cloudTypeRegister({ capxVersion: "v1.5.0", source: "shipped", vertex: false, infrastructureComponents: fakeInfrastructureComponents("v1.5.0") });
    act(() => backend.emit("capstan://status", backend.server.currentStatus()));
    await waitForState("cloud_type", "done");
    expect(step("pcg")).toHaveAttribute("data-status", "not_started");
  });

  it("step 5 opens the deploy form and says what it still lacks", async () => {
    const { user } = renderWorkflow(backendWith({ start: "account" }));
    await waitForState("profile", "not_started");
    await user.click(step("cluster"));
    const panel = await screen.findByTestId("step5");
    expect(await within(panel).findByTestId("deploy-missing")).toHaveTextContent("no published cluster profile");
    expect(within(panel).getByTestId("deploy-preflight-run")).toBeDisabled();
  });

  it("is what the app shows on #/workflow", async () => {
    await renderApp({ hash: "#/workflow" });
    expect(await screen.findByTestId("workflow-stepper")).toBeInTheDocument();
    expect(screen.getByTestId("workflow-diagram")).toBeInTheDocument();
    await waitForState("cloud_type", "not_started");
  });
});

describe("drafts", () => {
  it("restores a saved draft into the form and saves edits as the user types", async () => {
    const backend = backendWith();
    backend.server.workflow.draftSave({ step: "cloud_type", data: { capxVersion: "v1.8.6", source: "upstream", vertex: true, accountKeys: ["NUTANIX_USER", "NUTANIX_PASSWORD"] } });
    const { user } = renderWorkflow(backend);
    await waitFor(() => expect(screen.getByTestId("step1-capx-version")).toHaveValue("v1.8.6"));
    expect(screen.getByTestId("step1-source-upstream")).toBeChecked();
    expect(screen.getByTestId("step1-vertex")).toBeChecked();
    expect(screen.getAllByTestId("step1-account-key").map((i) => (i as HTMLInputElement).value)).toEqual(["NUTANIX_USER", "NUTANIX_PASSWORD"]);
    expect(screen.getByTestId("draft-saved")).toHaveTextContent("Draft restored");
    await waitFor(() => expect(step("cloud_type")).toHaveTextContent("Draft"));

    const version = screen.getByTestId("step1-capx-version");
    await user.clear(version);
    await user.type(version, "v1.10.3");
    // Saved once typing pauses (a slow machine may also save part-way through).
    await waitFor(() => expect(backend.server.workflow.draftGet({ step: "cloud_type" }).draft?.data).toMatchObject({ capxVersion: "v1.10.3", source: "upstream", vertex: true }));
    await waitFor(() => expect(screen.getByTestId("draft-saved")).toHaveAttribute("data-state", "saved"));
    expect(screen.getByTestId("draft-saved")).toHaveTextContent("Draft saved");
  });

  it("never puts a secret field in the cloud account draft", async () => {
    const backend = backendWith({ start: "pcg_running" });
    const { user } = renderWorkflow(backend, "#/workflow?step=cloud_account");
    const password = await screen.findByTestId("step3-field-NUTANIX_PASSWORD");
    await user.type(screen.getByTestId("step3-name"), "nutanix-prod");
    await user.type(password, "hunter2");
    await user.clear(screen.getByTestId("step3-field-NUTANIX_USER"));
    await user.type(screen.getByTestId("step3-field-NUTANIX_USER"), "svc-palette");
    await waitFor(() => expect(backend.server.workflow.draftGet({ step: "cloud_account" }).draft?.data).toMatchObject({ name: "nutanix-prod", values: { NUTANIX_USER: "svc-palette" } }));
    const saved = JSON.stringify(backend.callsOf("draft_save"));
    expect(saved).toContain("svc-palette");
    expect(saved).not.toContain("hunter2");
    expect(saved).not.toContain("NUTANIX_PASSWORD");
  });
});

describe("step 1: the cloud type", () => {
  it("blocks Register until infrastructure-components.yaml is chosen, then registers and becomes idempotent", async () => {
    const backend = backendWith();
    const { user } = renderWorkflow(backend);
    const register = await screen.findByTestId("step1-register");
    await waitFor(() => expect(screen.getByTestId("step1-blockers")).toHaveTextContent("infrastructure-components.yaml"));
    expect(register).toBeDisabled();
    const errors = screen.getAllByTestId("step1-finding").filter((f) => f.getAttribute("data-severity") === "error");
    expect(errors.map((e) => e.getAttribute("data-code"))).toEqual(["components_missing"]);
    expect(screen.getByTestId("step1-download-url")).toHaveTextContent(
      "https://github.com/nutanix-cloud-native/cluster-api-provider-nutanix/releases/download/v1.5.0/infrastructure-components.yaml",
    );

    // The file of another release is refused for what it is.
    await user.upload(screen.getByTestId("step1-upload-components"), new File([fakeInfrastructureComponents("v1.5.4")], "infrastructure-components.yaml"));
    await waitFor(() => expect(screen.getByTestId("step1-blockers")).toHaveTextContent("v1.5.4"));
    expect(register).toBeDisabled();

    await user.upload(screen.getByTestId("step1-upload-components"), new File([fakeInfrastructureComponents("v1.5.0")], "infrastructure-components.yaml"));
    await waitFor(() => expect(register).toBeEnabled());
    expect(register).toHaveTextContent("Register nutanix");
    expect(screen.queryByTestId("step1-blockers")).not.toBeInTheDocument();
    expect(screen.getByTestId("step1-components-version")).toHaveTextContent("v1.5.0");

    await user.click(register);
    const actions = await screen.findByTestId("step1-actions");
    expect(actions).toHaveTextContent("Registered the cloud type nutanix");
    expect(actions).toHaveTextContent("Uploaded workerPoolTemplate");
    await waitForState("cloud_type", "done");
    await waitFor(() => expect(register).toHaveTextContent("Nothing to change"));
    expect(register).toBeDisabled();
    // The draft is gone once the step succeeded.
    expect(backend.server.workflow.drafts.has("cloud_type")).toBe(false);

    // VerteX patches the two pool templates: only those two are updated.
    await user.click(screen.getByTestId("step1-vertex"));
    await waitFor(() => expect(register).toHaveTextContent("Update 2 changes"));
    expect(screen.getByTestId("step1-template-controlPlanePoolTemplate")).toHaveAttribute("data-differs", "true");
    expect(screen.getByTestId("step1-template-clusterTemplate")).toHaveAttribute("data-differs", "false");
    await user.click(register);
    await waitFor(() => expect(screen.getByTestId("step1-actions")).toHaveTextContent("Uploaded workerPoolTemplate"));
    expect(screen.getByTestId("step1-actions")).toHaveTextContent("clusterTemplate is unchanged");
    expect(backend.callsOf("cloud_type_register")).toHaveLength(2);
  });

  it("lists the objects an upstream template lacks as errors, and refuses a logo over 100 KB", async () => {
    const backend = backendWith({ start: "registered" });
    const { user } = renderWorkflow(backend, "#/workflow?step=cloud_type");
    await user.click(await screen.findByTestId("step1-source-upstream"));
    const partial = ["apiVersion: cluster.x-k8s.io/v1beta1", "kind: Cluster", "metadata:", "  name: ${CLUSTER_NAME}", "  namespace: ${NAMESPACE}", ""].join("\n");
    await user.upload(screen.getByTestId("step1-upload-template"), new File([partial], "cluster-template.yaml"));
    await waitFor(() => expect(screen.getAllByTestId("step1-finding").some((f) => f.getAttribute("data-code") === "object_missing")).toBe(true));
    const missing = screen.getAllByTestId("step1-finding").filter((f) => f.getAttribute("data-code") === "object_missing");
    expect(missing.map((m) => m.textContent)).toEqual(expect.arrayContaining([expect.stringContaining("no NutanixCluster"), expect.stringContaining("no KubeadmControlPlane")]));
    expect(missing.every((m) => m.getAttribute("data-severity") === "error")).toBe(true);
    expect(screen.getByTestId("step1-register")).toBeDisabled();
    expect(screen.getByTestId("step1-template-controlPlanePoolTemplate")).toHaveAttribute("data-errors", "2");
    // The result shown for the cluster template has the namespace placeholder removed.
    expect(screen.getByTestId("step1-editor")).toHaveTextContent("kind: Cluster");
    expect(screen.getByTestId("step1-editor")).not.toHaveTextContent("${NAMESPACE}");

    await user.click(screen.getByTestId("step1-source-shipped"));
    await waitFor(() => expect(screen.getByTestId("step1-register")).toHaveTextContent("Nothing to change"));
    await user.upload(screen.getByTestId("step1-logo"), new File([new Uint8Array(150 * 1024)], "logo.png", { type: "image/png" }));
    await waitFor(() => expect(screen.getByTestId("step1-blockers")).toHaveTextContent("at most 100 KB"));
    expect(screen.getByTestId("step1-register")).toBeDisabled();
    const logoError = screen.getAllByTestId("step1-finding").find((f) => f.getAttribute("data-code") === "logo_too_large");
    expect(logoError).toHaveAttribute("data-severity", "error");
  });

  it("shows the backend's refusal with its reasons and keeps the form", async () => {
    const backend = backendWith();
    const { user } = renderWorkflow(backend);
    await user.upload(await screen.findByTestId("step1-upload-components"), new File([fakeInfrastructureComponents("v1.5.0")], "infrastructure-components.yaml"));
    await waitFor(() => expect(screen.getByTestId("step1-register")).toBeEnabled());
    backend.server.override("cloud_type_register", () => {
      throw { code: "invalid_input", message: "Nothing was uploaded: one problem must be fixed first.", details: { blockers: ["workerPoolTemplate: MachineDeployment has no replicas"] } };
    });
    await user.click(screen.getByTestId("step1-register"));
    const error = await screen.findByTestId("step1-error");
    expect(error).toHaveAttribute("data-code", "invalid_input");
    expect(error).toHaveTextContent("Nothing was uploaded");
    expect(error).toHaveTextContent("MachineDeployment has no replicas");
    expect(screen.getByTestId("step1-capx-version")).toHaveValue("v1.5.0");
  });
});

describe("step 2: the PCG", () => {
  it("creates the PCG, lists its commands with copy buttons, applies them and polls until Running", async () => {
    const backend = backendWith({ start: "registered" });
    const { user } = renderWorkflow(backend);
    const name = await screen.findByTestId("step2-name");
    await user.clear(name);
    await user.type(name, "edge-pcg");
    await user.click(screen.getByTestId("step2-create"));

    await waitFor(() => expect(screen.getAllByTestId("step2-command")).toHaveLength(2));
    const commands = screen.getAllByTestId("step2-command");
    expect(commands[0]).toHaveTextContent(/kubectl apply -f .*\/services\/ally\/manifest/);
    expect(commands[1]).toHaveTextContent(/\/services\/jet\/manifest/);
    expect(screen.getByTestId("step2-state")).toHaveAttribute("data-state", "Pending");
    expect(screen.getByTestId("step2-elapsed")).toHaveTextContent("Pending for");

    await user.click(within(commands[0]).getByTestId("step2-copy"));
    expect(await navigator.clipboard.readText()).toBe(commands[0].querySelector("code")?.textContent);
    expect(within(commands[0]).getByTestId("step2-copy")).toHaveTextContent("Copied");

    // No apply yet: it stays Pending however often it is polled.
    const polled = backend.callsOf("pcg_status").length;
    await waitFor(() => expect(backend.callsOf("pcg_status").length).toBeGreaterThan(polled + 2));
    expect(screen.getByTestId("step2-state")).toHaveAttribute("data-state", "Pending");

    await waitFor(() => expect(screen.getByTestId("step2-context")).toHaveValue(SIMULATED_CONTEXT));
    expect(screen.getByTestId("step2-kubeconfig-files")).toHaveTextContent("/home/operator/.kube/config");
    await user.click(screen.getByTestId("step2-apply"));
    expect(await screen.findByTestId("step2-apply-result")).toHaveTextContent("deployment.apps/jet created");
    await waitFor(() => expect(screen.getByTestId("step2-state")).toHaveAttribute("data-state", "Running"));
    expect(screen.queryByTestId("step2-elapsed")).not.toBeInTheDocument();
    expect(screen.getByTestId("step2-heartbeat")).not.toHaveTextContent("none yet");
    await waitForState("pcg", "done");
    expect(box("pcg")).toHaveAttribute("data-state", "ok");
    expect(backend.callsOf("pcg_apply")).toEqual([{ uid: expect.any(String), context: SIMULATED_CONTEXT }]);
    // Polling stops once Running.
    const afterRunning = backend.callsOf("pcg_status").length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(backend.callsOf("pcg_status").length).toBe(afterRunning);
  });

  it("explains a PCG that stays Pending too long", async () => {
    const backend = backendWith({ start: "pcg_pending" });
    renderWorkflow(backend);
    await waitFor(() => expect(screen.getByTestId("step2-state")).toHaveAttribute("data-state", "Pending"));
    expect(screen.queryByTestId("step2-advice")).not.toBeInTheDocument();
    backend.server.workflow.advance(6 * 60);
    const advice = await screen.findByTestId("step2-advice");
    expect(advice).toHaveTextContent(/Pending for 6 min/);
    expect(advice).toHaveTextContent("Run both kubectl commands");
    expect(screen.getByTestId("step2-elapsed")).toHaveTextContent(/6 min/);
  });

  it("says why the PCG cannot be created before the cloud type is registered", async () => {
    const { user } = renderWorkflow(backendWith(), "#/workflow?step=pcg");
    expect(await screen.findByTestId("step2-blocked")).toHaveTextContent("Waiting for: Nutanix cloud type");
    expect(screen.getByTestId("step2-create")).toBeDisabled();
    await user.type(screen.getByTestId("step2-name"), "-x");
    expect(screen.getByTestId("step2-create")).toBeDisabled();
  });
});

describe("step 3: the cloud account", () => {
  it("is blocked while the PCG is Pending, then shows Prism's refusal at the form without losing anything", async () => {
    const backend = backendWith({ start: "pcg_pending" });
    const { user } = renderWorkflow(backend, "#/workflow?step=cloud_account");
    const blocked = await screen.findByTestId("step3-blocked");
    expect(blocked).toHaveTextContent("PCG edge-pcg is Pending");
    expect(screen.getByTestId("step3-create")).toBeDisabled();

    // The PCG comes up (its commands were applied elsewhere); the next state read unblocks the form.
    const uid = backend.server.workflow.state().steps.find((s) => s.id === "pcg")?.objectUid ?? "";
    backend.server.workflow.pcgApply({ uid, context: SIMULATED_CONTEXT });
    backend.server.workflow.pcgStatus({ uid });
    backend.server.workflow.pcgStatus({ uid });
    await user.click(screen.getByTestId("workflow-refresh"));
    await waitFor(() => expect(screen.queryByTestId("step3-blocked")).not.toBeInTheDocument());

    // Built from the registered keys, pre-filled from setup, PCG pre-selected.
    expect(screen.getByTestId("step3-field-NUTANIX_ENDPOINT")).toHaveValue("127.0.0.1");
    expect(screen.getByTestId("step3-field-NUTANIX_PORT")).toHaveValue("49440");
    const password = screen.getByTestId("step3-field-NUTANIX_PASSWORD");
    expect(password).toHaveAttribute("type", "password");
    expect(password).toHaveAttribute("placeholder", "saved in setup — leave blank to use it");
    expect(screen.getByTestId("step3-pcg")).toHaveValue(uid);
    expect(screen.getByTestId("step3-create")).toBeDisabled();

    await user.type(screen.getByTestId("step3-name"), "nutanix-prod");
    await user.type(password, "wrong");
    await user.click(screen.getByTestId("step3-create"));
    const error = await screen.findByTestId("step3-error");
    expect(error).toHaveAttribute("data-code", "unauthorized");
    expect(error).toHaveTextContent("rejected user admin");
    expect(screen.getByTestId("step3-name")).toHaveValue("nutanix-prod");
    expect(password).toHaveValue("wrong");
    expect(password).toHaveAttribute("aria-invalid", "true");
    expect(step("cloud_account")).not.toHaveAttribute("data-status", "done");

    // Blank = the password saved in setup.
    await user.clear(password);
    await user.click(screen.getByTestId("step3-create"));
    const result = await screen.findByTestId("step3-result");
    expect(result).toHaveTextContent("Cloud account nutanix-prod created");
    expect(result).toHaveTextContent("accepted user admin");
    expect(screen.queryByTestId("step3-error")).not.toBeInTheDocument();
    await waitForState("cloud_account", "done");
    const sent = backend.callsOf("cloud_account_create") as Array<{ values: Record<string, string> }>;
    expect(sent.map((r) => r.values.NUTANIX_PASSWORD)).toEqual(["wrong", ""]);
  });
});
