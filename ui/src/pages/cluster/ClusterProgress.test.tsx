import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { LIFECYCLE } from "../../lib/backend/fake-cluster";
import { MockBackend } from "../../lib/backend/mock";
import { ClusterProgress } from "./ClusterProgress";
import { deploySpec, renderWithBackend } from "./test-support";

const step = (id: string) => screen.getByTestId(`timeline-step-${id}`);
const nodeRows = () => screen.queryAllByTestId("cluster-node");

function freshCluster(backend: MockBackend, name = "edge-1") {
  return backend.server.clusters.create({ name, spec: deploySpec(name) });
}

describe("ClusterProgress", () => {
  it("follows a new cluster from Pending through VMs with IPs to Running, then saves the kubeconfig", async () => {
    const backend = new MockBackend();
    const clusters = backend.server.clusters;
    const uid = freshCluster(backend);
    const { user } = renderWithBackend(<ClusterProgress uid={uid} />, backend);

    await waitFor(() => expect(step("pending")).toHaveAttribute("data-state", "current"));
    expect(step("running")).toHaveAttribute("data-state", "upcoming");
    // Three machines to come (1 control plane, 2 workers), none created yet.
    expect(screen.getAllByTestId("cluster-node-placeholder")).toHaveLength(3);
    expect(screen.getByTestId("cluster-elapsed")).toHaveTextContent(/Elapsed \d+ s/);
    expect(screen.queryByTestId("kubeconfig-download")).not.toBeInTheDocument();

    act(() => clusters.advance(LIFECYCLE.pendingToProvisioning));
    await waitFor(() => expect(step("provisioning")).toHaveAttribute("data-state", "current"));
    expect(step("pending")).toHaveAttribute("data-state", "done");
    await waitFor(() => expect(nodeRows()).toHaveLength(3));
    expect(nodeRows().map((r) => within(r).getByTestId("node-vm").textContent)).toEqual(Array(3).fill("waiting for CAPX"));

    act(() => clusters.advance(LIFECYCLE.machinePendingToProvisioning));
    const live = clusters.clusterDetail({ uid });
    const expected = live.pools.flatMap((p) => p.nodes).map((n) => [n.name, n.vmUuid, n.ip]);
    await waitFor(() =>
      expect(
        nodeRows().map((r) => [r.getAttribute("data-name"), within(r).getByTestId("node-vm").textContent, within(r).getByTestId("node-ip").textContent]),
      ).toEqual(expected),
    );
    // Newest event first: the VMs CAPX just created.
    expect(screen.getAllByTestId("cluster-event")[0]).toHaveAttribute("data-reason", "VmCreated");

    act(() => clusters.advance(LIFECYCLE.controlPlaneReady));
    await waitFor(() => expect(step("running")).toHaveAttribute("data-state", "done"));
    expect(screen.getByTestId("cluster-ready")).toHaveTextContent("edge-1 is Running");
    expect(screen.getByTestId("cluster-ready")).toHaveTextContent("10.30.0.150:6443");
    expect(screen.getByTestId("cluster-elapsed")).toHaveTextContent(/^Took /);
    expect(screen.getAllByTestId("cluster-event")[0]).toHaveAttribute("data-reason", "ClusterRunning");

    await user.click(screen.getByTestId("kubeconfig-download"));
    const saved = await screen.findByTestId("kubeconfig-saved");
    expect(backend.callsOf("kubeconfig_save")).toEqual([{ uid }]);
    expect(screen.getByTestId("kubeconfig-path")).toHaveTextContent("/home/operator/.kube/capstan-edge-1.yaml");
    expect(saved).toHaveTextContent("0600");
    expect(screen.getByTestId("kubeconfig-hint")).toHaveTextContent("KUBECONFIG=/home/operator/.kube/capstan-edge-1.yaml kubectl get nodes");
  });

  it("stops asking once the cluster is Running and Healthy", async () => {
    const backend = new MockBackend();
    const uid = freshCluster(backend);
    backend.server.clusters.advance(300);
    renderWithBackend(<ClusterProgress uid={uid} />, backend);
    await screen.findByTestId("cluster-ready");
    const reads = backend.callsOf("cluster_detail").length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(backend.callsOf("cluster_detail").length).toBe(reads);
  });

  it("shows a failure with the outcome's problem and next step", async () => {
    const backend = new MockBackend();
    backend.server.clusters.failNextCreate({ problem: "The image is not on pe-fra-a.", nextStep: "Copy the image to pe-fra-a and deploy again." });
    const uid = freshCluster(backend, "broken");
    renderWithBackend(<ClusterProgress uid={uid} />, backend);
    act(() => backend.server.clusters.advance(LIFECYCLE.pendingToProvisioning + LIFECYCLE.machinePendingToProvisioning));
    const failed = await screen.findByTestId("cluster-failed");
    expect(within(failed).getByTestId("outcome-problem")).toHaveTextContent("The image is not on pe-fra-a.");
    expect(within(failed).getByTestId("outcome-next-step")).toHaveTextContent("Copy the image to pe-fra-a and deploy again.");
    expect(step("provisioning")).toHaveAttribute("data-state", "failed");
    expect(step("running")).toHaveAttribute("data-state", "upcoming");
    expect(screen.queryByTestId("kubeconfig-download")).not.toBeInTheDocument();
  });

  it("picks the cluster up where it is after a restart, reading it by uid", async () => {
    const backend = new MockBackend();
    const uid = freshCluster(backend);
    const first = renderWithBackend(<ClusterProgress uid={uid} />, backend);
    await waitFor(() => expect(step("pending")).toHaveAttribute("data-state", "current"));
    first.unmount();

    // Time passes while the app is closed.
    backend.server.clusters.advance(LIFECYCLE.pendingToProvisioning + LIFECYCLE.machinePendingToProvisioning);
    renderWithBackend(<ClusterProgress uid={uid} />, backend);
    await waitFor(() => expect(step("provisioning")).toHaveAttribute("data-state", "current"));
    await waitFor(() => expect(nodeRows().every((r) => within(r).getByTestId("node-ip").textContent?.startsWith("10.30.0."))).toBe(true));
  });

  it("shows the delete steps, then that the cluster is gone", async () => {
    const backend = new MockBackend();
    const uid = freshCluster(backend);
    backend.server.clusters.advance(300);
    backend.server.clusters.clusterDelete({ uid, confirmName: "edge-1", force: false });
    renderWithBackend(<ClusterProgress uid={uid} />, backend);
    await waitFor(() => expect(step("deleting")).toHaveAttribute("data-state", "current"));
    expect(nodeRows().every((r) => r.getAttribute("data-state") === "Deleting")).toBe(true);
    act(() => backend.server.clusters.advance(LIFECYCLE.deletingToDeleted + LIFECYCLE.deletedToGone));
    expect(await screen.findByTestId("cluster-gone")).toHaveTextContent("no longer in Palette");
    expect(step("gone")).toHaveAttribute("data-state", "done");
  });

  it("keeps the last reading and says so while reads fail, and recovers", async () => {
    const backend = new MockBackend();
    const uid = freshCluster(backend);
    renderWithBackend(<ClusterProgress uid={uid} />, backend);
    await waitFor(() => expect(step("pending")).toHaveAttribute("data-state", "current"));
    backend.fail("cluster_detail", { code: "timeout", message: "Palette did not answer within 30 s." });
    expect(await screen.findByTestId("cluster-read-error")).toHaveTextContent("Palette did not answer within 30 s.");
    expect(step("pending")).toHaveAttribute("data-state", "current");
    backend.clearFailure("cluster_detail");
    act(() => backend.server.clusters.advance(LIFECYCLE.pendingToProvisioning));
    await waitFor(() => expect(step("provisioning")).toHaveAttribute("data-state", "current"));
    expect(screen.queryByTestId("cluster-read-error")).not.toBeInTheDocument();
  });

  it("shows why a kubeconfig could not be saved", async () => {
    const backend = new MockBackend();
    const uid = freshCluster(backend);
    backend.server.clusters.advance(300);
    const { user } = renderWithBackend(<ClusterProgress uid={uid} pollMs={20} />, backend);
    await screen.findByTestId("cluster-ready");
    backend.fail("kubeconfig_save", { code: "storage", message: "Could not write /home/operator/.kube: permission denied." });
    await user.click(screen.getByTestId("kubeconfig-download"));
    expect(await screen.findByTestId("kubeconfig-error")).toHaveTextContent("permission denied");
    expect(screen.getByTestId("cluster-ready")).toBeInTheDocument();
  });
});
