import { configure, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { DeployRequest, PackLayer, WorkflowStep } from "../../lib/bindings";
import { BackendProvider } from "../../lib/backend";
import { FakeWorkflow } from "../../lib/backend/fake-workflow";
import { MockBackend } from "../../lib/backend/mock";
import { ClusterTimingContext } from "../cluster/useClusterDetail";
import { DeployStep } from "./DeployStep";
import { DEFAULT_TIMING, TimingContext } from "./hooks";

configure({ asyncUtilTimeout: 4_000 });

const FAST = { ...DEFAULT_TIMING, statePollMs: 60_000, draftSaveMs: 20, planMs: 5 };

/** A backend whose step 4 published a profile for Kubernetes 1.31.4 (drafts kept in memory only). */
function backendWithProfile(): MockBackend {
  const backend = new MockBackend();
  backend.server.workflow = new FakeWorkflow(undefined, { draftStorage: null, start: "account" });
  const profiles = backend.server.profile;
  const layers = (["os", "k8s", "cni", "csi"] as PackLayer[]).map((layer) => {
    const pack = profiles.packsByLayer({ layer }).packs[0];
    return { layer, registryUid: pack.registryUid, packName: pack.name, version: layer === "k8s" ? "1.31.4" : pack.versions[0], values: "" };
  });
  profiles.profileCreate({ name: "ntx-base", version: "1.0.0", description: "", layers, publish: true });
  return backend;
}

function renderStep(backend: MockBackend, step?: WorkflowStep) {
  const onChanged = vi.fn();
  const user = userEvent.setup();
  const utils = render(
    <BackendProvider backend={backend}>
      <TimingContext.Provider value={FAST}>
        <ClusterTimingContext.Provider value={{ pollMs: 50, settledPollMs: 500 }}>
          <DeployStep step={step} onChanged={onChanged} />
        </ClusterTimingContext.Provider>
      </TimingContext.Provider>
    </BackendProvider>,
  );
  return { user, onChanged, ...utils };
}

const subnetNames = () => screen.queryAllByTestId("deploy-subnet").map((li) => li.getAttribute("data-name"));
const optionsOf = (testId: string) =>
  within(screen.getByTestId(testId))
    .getAllByRole<HTMLOptionElement>("option")
    .filter((o) => o.value !== "");
const select = (testId: string) => screen.getByTestId<HTMLSelectElement>(testId);

/** Waits until the form has its defaults and the Prism Element's placement (subnet and image picked). */
async function formReady() {
  await waitFor(() => expect(subnetNames()).toHaveLength(1));
  await waitFor(() => expect(select("deploy-image").value).not.toBe(""));
}

describe("DeployStep pickers", () => {
  it("offers only the chosen Prism Element's subnets and marks images by the profile's Kubernetes version", async () => {
    const { user } = renderStep(backendWithProfile());
    await formReady();
    expect(optionsOf("deploy-pe").map((o) => o.textContent)).toEqual([expect.stringContaining("pe-cluster-01"), expect.stringContaining("pe-cluster-02")]);
    expect(subnetNames()).toEqual(["pe-cluster-01-vlan110"]);
    expect(optionsOf("deploy-subnet-add").map((o) => o.textContent?.split(" — ")[0])).toEqual(["pe-cluster-01-vlan120", "vm-network"]);

    const images = optionsOf("deploy-image");
    expect(images.filter((o) => o.dataset.matches === "true").map((o) => o.textContent?.split(" — ")[0])).toEqual(["capx-ubuntu-2204-kube-v1.31.4", "capx-ubuntu-2404-kube-v1.31.4"]);
    const old = images.find((o) => o.textContent?.startsWith("capx-ubuntu-2204-kube-v1.29.10"))!;
    expect(old.dataset.matches).toBe("false");
    expect(old.textContent).toContain("Kubernetes 1.29.10, not 1.31");
    expect(select("deploy-image").selectedOptions[0].textContent).toContain("capx-ubuntu-2204-kube-v1.31.4");
    expect(screen.queryByTestId("deploy-image-mismatch")).toBeNull();

    await user.selectOptions(select("deploy-image"), old.value);
    expect(screen.getByTestId("deploy-image-mismatch")).toHaveTextContent("does not carry Kubernetes 1.31");

    // Another Prism Element: its own subnets, and the image is chosen again.
    const pe2 = optionsOf("deploy-pe").find((o) => o.textContent?.startsWith("pe-cluster-02"))!;
    await user.selectOptions(select("deploy-pe"), pe2.value);
    await waitFor(() => expect(subnetNames()).toEqual(["pe-cluster-02-vlan110"]));
    expect(optionsOf("deploy-subnet-add").map((o) => o.textContent?.split(" — ")[0])).toEqual(["pe-cluster-02-vlan120", "vm-network"]);
    await waitFor(() => expect(select("deploy-image").selectedOptions[0].textContent).toContain("capx-ubuntu-2204-kube-v1.31.4"));
    expect(optionsOf("deploy-image").some((o) => o.textContent?.includes("rockylinux"))).toBe(false);
    expect(screen.getAllByTestId("deploy-vip-candidate")[0]).toHaveTextContent("10.64.12.2");
  });

  it("refuses a VIP that is not IPv4 before any preflight", async () => {
    const { user } = renderStep(backendWithProfile());
    await formReady();
    await user.type(screen.getByTestId("deploy-name"), "edge-01");
    await user.type(screen.getByTestId("deploy-vip"), "10.64.0.300");
    expect(screen.getByTestId("deploy-vip")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("deploy-form-blockers")).toHaveTextContent("must be an IPv4 address");
    expect(screen.getByTestId("deploy-preflight-run")).toBeDisabled();
  });
});

describe("DeployStep preflight and deploy", () => {
  it("blocks Deploy on a failing preflight with the reason, and deploys once a fixed form passes", async () => {
    const backend = backendWithProfile();
    const { user, onChanged } = renderStep(backend);
    await formReady();
    await user.type(screen.getByTestId("deploy-name"), "edge-01");
    await user.type(screen.getByTestId("deploy-vip"), "10.64.1.50");
    expect(screen.getByTestId("deploy-submit")).toBeDisabled();
    expect(screen.getByTestId("deploy-blocked-reason")).toHaveTextContent("Run the preflight first");

    await user.click(screen.getByTestId("deploy-preflight-run"));
    const report = await screen.findByTestId("preflight-report");
    expect(report).toHaveAttribute("data-verdict", "fail");
    expect(screen.getByTestId("preflight-check-vipInSubnet")).toHaveAttribute("data-outcome", "fail");
    expect(screen.getByTestId("preflight-check-vipInSubnet")).toHaveTextContent("What to do:");
    expect(screen.getByTestId("preflight-check-vipUnused")).toHaveAttribute("data-outcome", "pass");
    expect(within(report).getAllByRole("listitem")).toHaveLength(13);
    expect(screen.getByTestId("deploy-submit")).toBeDisabled();
    expect(screen.getByTestId("deploy-blocked-reason")).toHaveTextContent("inside the IP pool 10.64.0.10-10.64.3.231");

    // A suggested free address fixes it; the old report no longer counts.
    await user.click(screen.getAllByTestId("deploy-vip-candidate")[0]);
    expect(screen.getByTestId("deploy-vip")).toHaveValue("10.64.0.2");
    expect(screen.getByTestId("preflight-stale")).toBeInTheDocument();
    expect(screen.getByTestId("deploy-blocked-reason")).toHaveTextContent("changed after the preflight");
    expect(screen.getByTestId("deploy-submit")).toBeDisabled();

    await user.click(screen.getByTestId("deploy-preflight-run"));
    await waitFor(() => expect(screen.getByTestId("preflight-report")).toHaveAttribute("data-verdict", "pass"));
    expect(screen.queryByTestId("preflight-stale")).toBeNull();
    expect(screen.queryByTestId("deploy-blocked-reason")).toBeNull();
    expect(backend.callsOf("cluster_deploy")).toEqual([]);

    await user.click(screen.getByTestId("deploy-submit"));
    expect(await screen.findByTestId("deploy-result")).toHaveAttribute("data-created", "true");
    const [request] = backend.callsOf("cluster_deploy") as DeployRequest[];
    expect(request.spec).toMatchObject({ name: "edge-01", controlPlaneEndpoint: "10.64.0.2", kubernetesVersion: "1.31.4" });
    expect(request.yaml).toBeUndefined();
    expect(onChanged).toHaveBeenCalled();
    expect(await screen.findByTestId("cluster-progress")).toBeInTheDocument();
    expect(backend.server.clusters.findByName("edge-01")).toBeDefined();
  });

  it("shows the engine's report when its own preflight fails at deploy time", async () => {
    const backend = backendWithProfile();
    const { user } = renderStep(backend);
    await formReady();
    await user.type(screen.getByTestId("deploy-name"), "edge-02");
    await user.click(screen.getAllByTestId("deploy-vip-candidate")[0]);
    await user.click(screen.getByTestId("deploy-preflight-run"));
    await waitFor(() => expect(screen.getByTestId("preflight-report")).toHaveAttribute("data-can-deploy", "true"));

    // Meanwhile someone else's cluster takes the same VIP.
    const taken = (backend.callsOf("deploy_preflight")[0] as DeployRequest).spec;
    backend.server.deploy.clusterDeploy({ spec: { ...taken, name: "someone-else" } });

    await user.click(screen.getByTestId("deploy-submit"));
    const error = await screen.findByTestId("deploy-error");
    expect(error).toHaveAttribute("data-code", "preflight_failed");
    expect(screen.getByTestId("preflight-check-vipUnused")).toHaveAttribute("data-outcome", "fail");
    expect(screen.getByTestId("preflight-check-vipUnused")).toHaveTextContent("someone-else");
    expect(screen.getByTestId("deploy-submit")).toBeDisabled();
    expect(screen.queryByTestId("deploy-result")).toBeNull();
  });
});

describe("DeployStep YAML", () => {
  /** Opens the YAML tab and replaces the control-plane pool's text by `edit(text)`. */
  async function editControlPlane(user: ReturnType<typeof userEvent.setup>, edit: (text: string) => string) {
    await user.click(screen.getByTestId("deploy-tab-yaml"));
    const area = await screen.findByRole<HTMLTextAreaElement>("textbox", { name: "Control plane YAML" });
    await waitFor(() => expect(area.value).toContain("replicas: 1"));
    fireEvent.change(area, { target: { value: edit(area.value) } });
  }

  const threeNodesAndGpus = (text: string) => text.replace("replicas: 1", "replicas: 3").replace("systemDiskSize: 40Gi", "systemDiskSize: 40Gi\n      gpus: 1");

  it("reads an edited pool YAML back into the form, lists what the form cannot hold, and deploys the YAML as edited", async () => {
    const backend = backendWithProfile();
    const { user } = renderStep(backend);
    await formReady();
    await user.type(screen.getByTestId("deploy-name"), "edge-03");
    await user.click(screen.getAllByTestId("deploy-vip-candidate")[0]);
    await editControlPlane(user, threeNodesAndGpus);

    await waitFor(() => expect(screen.getByTestId("deploy-yaml-changed")).toHaveTextContent("controlPlane.replicas"));
    expect(screen.getByTestId("deploy-yaml-unmapped")).toHaveTextContent("NutanixMachineTemplate.spec.template.spec.gpus");
    expect(screen.getByTestId("deploy-tab-yaml")).toHaveTextContent("edited");

    await user.click(screen.getByTestId("deploy-tab-form"));
    expect(screen.getByTestId("deploy-cp-replicas-3")).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByTestId("deploy-cp-replicas-1")).toHaveAttribute("aria-pressed", "false");

    await user.click(screen.getByTestId("deploy-preflight-run"));
    await waitFor(() => expect(screen.getByTestId("preflight-report")).toHaveAttribute("data-can-deploy", "true"));
    expect((backend.callsOf("deploy_preflight")[0] as DeployRequest).spec.controlPlane.replicas).toBe(3);
    await user.click(screen.getByTestId("deploy-submit"));
    await screen.findByTestId("deploy-result");
    const [request] = backend.callsOf("cluster_deploy") as DeployRequest[];
    expect(request.spec.controlPlane.replicas).toBe(3);
    expect(request.yaml?.controlPlane).toContain("gpus: 1");
    expect(request.yaml?.workers).toHaveLength(1);
  });

  it("reads an edited cluster YAML back: the VIP and the pod network follow into the form", async () => {
    const backend = backendWithProfile();
    const { user } = renderStep(backend);
    await formReady();
    await user.type(screen.getByTestId("deploy-name"), "edge-04");
    await user.click(screen.getAllByTestId("deploy-vip-candidate")[0]);
    const vip = (screen.getByTestId("deploy-vip") as HTMLInputElement).value;
    await user.click(screen.getByTestId("deploy-tab-yaml"));
    await user.click(screen.getByTestId("deploy-yaml-tab-cluster"));
    const area = await screen.findByRole<HTMLTextAreaElement>("textbox", { name: "Cluster YAML" });
    await waitFor(() => expect(area.value).toContain(`host: ${vip}`));
    fireEvent.change(area, { target: { value: area.value.replace(`host: ${vip}`, "host: 10.64.3.200").replace("172.20.0.0/16", "10.200.0.0/16") } });

    await waitFor(() => expect(screen.getByTestId("deploy-yaml-changed")).toHaveTextContent("controlPlaneEndpoint"));
    expect(screen.getByTestId("deploy-yaml-changed")).toHaveTextContent("podCidr");
    await user.click(screen.getByTestId("deploy-tab-form"));
    expect(screen.getByTestId("deploy-vip")).toHaveValue("10.64.3.200");
    expect(screen.getByTestId("deploy-pod-cidr")).toHaveValue("10.200.0.0/16");
  });

  it("generates the YAML again when the form changes, saying which hand edits were dropped", async () => {
    const { user } = renderStep(backendWithProfile());
    await formReady();
    await editControlPlane(user, threeNodesAndGpus);
    await waitFor(() => expect(screen.getByTestId("deploy-yaml-unmapped")).toBeInTheDocument());

    await user.click(screen.getByTestId("deploy-tab-form"));
    await user.type(screen.getByTestId("deploy-name"), "edge-04");
    await user.click(screen.getByTestId("deploy-tab-yaml"));
    expect(await screen.findByTestId("deploy-yaml-dropped")).toHaveTextContent("gpus");
    const again = await screen.findByRole<HTMLTextAreaElement>("textbox", { name: "Control plane YAML" });
    await waitFor(() => expect(again.value).not.toContain("gpus"));
    // What the form took from the YAML stays.
    expect(again.value).toContain("replicas: 3");
    expect(screen.getByTestId("deploy-tab-yaml")).not.toHaveTextContent("edited");
  });
});

describe("DeployStep with an existing cluster and drafts", () => {
  it("shows the workflow's cluster with its progress, and opens the form on request", async () => {
    const backend = backendWithProfile();
    const uid = backend.server.clusters.findByName("demo-k8s")!;
    const step: WorkflowStep = { id: "cluster", title: "Deploy the cluster", status: "done", blockedBy: null, summary: "Cluster demo-k8s is Running", objectUid: uid, objectName: "demo-k8s", hasDraft: false };
    const { user } = renderStep(backend, step);
    expect(await screen.findByTestId("deploy-existing")).toHaveTextContent("demo-k8s");
    expect(await screen.findByTestId("cluster-progress")).toBeInTheDocument();
    expect(screen.getByTestId("deploy-progress-link")).toHaveAttribute("href", `#/clusters?cluster=${uid}`);
    await user.click(screen.getByTestId("deploy-another"));
    expect(await screen.findByTestId("deploy-form")).toBeInTheDocument();
  });

  it("keeps what was typed across a restart", async () => {
    const backend = backendWithProfile();
    const first = renderStep(backend);
    await formReady();
    await first.user.type(screen.getByTestId("deploy-name"), "kept-01");
    await first.user.clear(screen.getByTestId("deploy-worker-0-replicas"));
    await first.user.type(screen.getByTestId("deploy-worker-0-replicas"), "5");
    await waitFor(() => expect(screen.getByTestId("draft-saved")).toHaveAttribute("data-state", "saved"));
    first.unmount();

    renderStep(backend);
    await waitFor(() => expect(screen.getByTestId("deploy-name")).toHaveValue("kept-01"));
    expect(screen.getByTestId("deploy-worker-0-replicas")).toHaveValue(5);
    expect(screen.getByTestId("draft-saved")).toHaveAttribute("data-state", "restored");
  });
});
