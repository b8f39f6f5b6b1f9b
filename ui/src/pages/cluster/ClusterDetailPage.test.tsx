import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { ClusterDeleteRequest, ClusterScaleRequest, ProfileUpdateRequest } from "../../lib/bindings";
import { DEMO_CLUSTER_NAME, LIFECYCLE } from "../../lib/backend/fake-cluster";
import { MockBackend } from "../../lib/backend/mock";
import { ClusterDetailPage } from "./ClusterDetailPage";
import { renderWithBackend } from "./test-support";

async function openDemo(backend = new MockBackend()) {
  const uid = backend.server.clusters.findByName(DEMO_CLUSTER_NAME)!;
  const utils = renderWithBackend(<ClusterDetailPage uid={uid} />, backend);
  await screen.findByTestId("cluster-overview");
  return { ...utils, uid, clusters: backend.server.clusters };
}

const pool = (name: string) => screen.getAllByTestId("cluster-pool").find((p) => p.getAttribute("data-pool") === name)!;
const nodesOf = (name: string) => within(pool(name)).queryAllByTestId("cluster-node");

describe("ClusterDetailPage", () => {
  it("shows health, endpoint, versions, profile, pools with nodes, conditions and events", async () => {
    const { uid, clusters } = await openDemo();
    const live = clusters.clusterDetail({ uid });
    expect(screen.getByTestId("cluster-phase")).toHaveAttribute("data-phase", "running");
    expect(screen.getByTestId("overview-health")).toHaveTextContent("Healthy");
    expect(screen.getByTestId("overview-endpoint")).toHaveTextContent(live.endpoint!);
    expect(screen.getByTestId("overview-k8s")).toHaveTextContent("1.30.4");
    expect(screen.getByTestId("overview-profile")).toHaveTextContent("demo-k8s-profile 1.0.0");
    expect(screen.getByTestId("overview-profile")).toHaveTextContent("newer: 1.1.0, 1.2.0");
    expect(nodesOf("control-plane-pool")).toHaveLength(3);
    expect(nodesOf("worker-pool").map((r) => r.getAttribute("data-name"))).toEqual(live.pools[1].nodes.map((n) => n.name));
    expect(within(nodesOf("worker-pool")[0]).getByTestId("node-ip")).toHaveTextContent(live.pools[1].nodes[0].ip!);
    expect(screen.getAllByTestId("cluster-condition").map((c) => c.getAttribute("data-kind"))).toContain("ControlPlaneNodeAdditionDone");
    expect(screen.getAllByTestId("cluster-event")[0]).toHaveAttribute("data-reason", "ClusterHealthy");
    expect(screen.getByTestId("kubeconfig-download")).toBeEnabled();
  });

  it("scales a pool after a confirm, and the new nodes appear and come up", async () => {
    const { user, backend, uid, clusters } = await openDemo();
    await user.click(within(pool("worker-pool")).getByTestId("scale-open"));
    const input = within(pool("worker-pool")).getByTestId("scale-input");
    await user.clear(input);
    await user.type(input, "4");
    expect(within(pool("worker-pool")).getByTestId("scale-effect")).toHaveTextContent("Adds 2 nodes");
    expect(backend.callsOf("cluster_scale")).toEqual([]);
    await user.click(within(pool("worker-pool")).getByTestId("scale-confirm"));

    expect(backend.callsOf("cluster_scale")).toEqual([{ uid, pool: "worker-pool", replicas: 4 } satisfies ClusterScaleRequest]);
    await waitFor(() => expect(nodesOf("worker-pool")).toHaveLength(4));
    expect(pool("worker-pool")).toHaveAttribute("data-size", "4");
    expect(nodesOf("worker-pool").map((r) => r.getAttribute("data-state"))).toEqual(["Running", "Running", "Pending", "Pending"]);
    expect(screen.getByTestId("cluster-phase")).toHaveAttribute("data-phase", "updating");
    expect(screen.getByTestId("cluster-updating")).toBeInTheDocument();

    act(() => clusters.advance(LIFECYCLE.machinePendingToProvisioning + LIFECYCLE.workerReady));
    await waitFor(() => expect(nodesOf("worker-pool").every((r) => r.getAttribute("data-state") === "Running")).toBe(true));
    await waitFor(() => expect(screen.getByTestId("cluster-phase")).toHaveAttribute("data-phase", "running"));

    // Scaling down removes the newest nodes.
    await user.click(within(pool("worker-pool")).getByTestId("scale-open"));
    await user.clear(within(pool("worker-pool")).getByTestId("scale-input"));
    await user.type(within(pool("worker-pool")).getByTestId("scale-input"), "1");
    expect(within(pool("worker-pool")).getByTestId("scale-effect")).toHaveTextContent("Removes 3 nodes");
    await user.click(within(pool("worker-pool")).getByTestId("scale-confirm"));
    act(() => clusters.advance(LIFECYCLE.nodeDelete));
    await waitFor(() => expect(nodesOf("worker-pool")).toHaveLength(1));
  });

  it("refuses an even control plane before asking, and shows why the backend refused a scale, keeping the number typed", async () => {
    const { user, backend } = await openDemo();
    await user.click(within(pool("control-plane-pool")).getByTestId("scale-open"));
    const input = within(pool("control-plane-pool")).getByTestId("scale-input");
    await user.clear(input);
    await user.type(input, "2");
    expect(within(pool("control-plane-pool")).getByTestId("scale-effect")).toHaveTextContent("1, 3 or 5 nodes");
    expect(within(pool("control-plane-pool")).getByTestId("scale-confirm")).toBeDisabled();
    expect(backend.callsOf("cluster_scale")).toEqual([]);

    backend.server.fail("cluster_scale", { code: "conflict", message: "demo-k8s is Provisioning: Palette scales a pool only while the cluster is Running." });
    await user.clear(input);
    await user.type(input, "5");
    await user.click(within(pool("control-plane-pool")).getByTestId("scale-confirm"));
    expect(await screen.findByTestId("scale-error")).toHaveTextContent("only while the cluster is Running");
    expect(within(pool("control-plane-pool")).getByTestId("scale-input")).toHaveValue(5);
    expect(nodesOf("control-plane-pool")).toHaveLength(3);
  });

  it("updates the profile: pick a version, see each layer's diff, then apply", async () => {
    const { user, backend, uid, clusters } = await openDemo();
    const target = clusters.clusterDetail({ uid }).newerProfileVersions.find((v) => v.version === "1.1.0")!;
    await user.click(screen.getByTestId("profile-update-open"));
    const dialog = screen.getByTestId("profile-dialog");
    await user.click(within(dialog).getByTestId("profile-version-1.1.0"));
    expect(within(dialog).queryByTestId("profile-apply")).not.toBeInTheDocument();
    await user.click(within(dialog).getByTestId("profile-review"));

    const plan = await within(dialog).findByTestId("profile-plan");
    expect(backend.callsOf("cluster_profile_plan")).toEqual([{ uid, profileUid: target.uid } satisfies ProfileUpdateRequest]);
    const changes = within(plan).getAllByTestId("profile-change");
    expect(changes.map((c) => c.getAttribute("data-layer"))).toEqual(["cni", "csi"]);
    expect(changes[0]).toHaveTextContent("1.15.6 → 1.16.3");
    // The diff's two sides are the layer's values before and after (plain text where Monaco cannot run).
    const expected = clusters.clusterProfilePlan({ uid, profileUid: target.uid }).changes[0];
    const sides = within(changes[0]).getByTestId("profile-diff").querySelectorAll("pre");
    expect([sides[0].textContent, sides[1].textContent]).toEqual([expected.fromValues, expected.toValues]);
    expect(backend.callsOf("cluster_profile_update")).toEqual([]);

    await user.click(within(dialog).getByTestId("profile-apply"));
    expect(backend.callsOf("cluster_profile_update")).toEqual([{ uid, profileUid: target.uid }]);
    await waitFor(() => expect(screen.queryByTestId("profile-dialog")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getByTestId("overview-profile")).toHaveTextContent("demo-k8s-profile 1.1.0"));
    expect(screen.getByTestId("cluster-phase")).toHaveAttribute("data-phase", "updating");
  });

  it("keeps the dialog and the choice when the plan fails", async () => {
    const { user, backend } = await openDemo();
    backend.fail("cluster_profile_plan", { code: "upstream", message: "Palette answered 500 while reading the profile." });
    await user.click(screen.getByTestId("profile-update-open"));
    await user.click(screen.getByTestId("profile-version-1.2.0"));
    await user.click(screen.getByTestId("profile-review"));
    expect(await screen.findByTestId("profile-error")).toHaveTextContent("Palette answered 500");
    expect(screen.getByTestId("profile-version-1.2.0")).toBeChecked();
  });

  it("deletes only after the cluster's name is typed, stating what is lost", async () => {
    const { user, backend, uid, clusters } = await openDemo();
    await user.click(screen.getByTestId("delete-open"));
    const dialog = screen.getByTestId("delete-dialog");
    expect(within(dialog).getByTestId("delete-consequences")).toHaveTextContent("removes its 5 VMs from Prism Central");
    expect(within(dialog).getByTestId("delete-consequences")).toHaveTextContent("cannot be undone");
    const confirm = within(dialog).getByTestId("delete-confirm");
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByTestId("delete-confirm-input"), "demo-k8");
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByTestId("delete-confirm-input"), "s");
    expect(confirm).toBeEnabled();
    await user.click(confirm);

    expect(backend.callsOf("cluster_delete")).toEqual([{ uid, confirmName: DEMO_CLUSTER_NAME, force: false } satisfies ClusterDeleteRequest]);
    await waitFor(() => expect(screen.getByTestId("timeline-step-deleting")).toHaveAttribute("data-state", "current"));
    expect(screen.getByTestId("delete-open")).toBeDisabled();
    act(() => clusters.advance(LIFECYCLE.deletingToDeleted + LIFECYCLE.deletedToGone));
    expect(await screen.findByTestId("cluster-gone")).toHaveTextContent("no longer in Palette");
  });

  it("closes a dialog with Escape without deleting, and keeps Tab inside it", async () => {
    const { user, backend } = await openDemo();
    await user.click(screen.getByTestId("delete-open"));
    const dialog = screen.getByRole("dialog", { name: `Delete ${DEMO_CLUSTER_NAME}?` });
    expect(within(dialog).getByTestId("delete-confirm-input")).toHaveFocus();
    for (let i = 0; i < 5; i++) {
      await user.tab();
      expect(dialog).toContainElement(document.activeElement as HTMLElement);
    }
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(screen.getByTestId("delete-open")).toHaveFocus();
    expect(backend.callsOf("cluster_delete")).toEqual([]);
  });

  it("shows a refused delete's message and keeps the typed name", async () => {
    const { user, backend } = await openDemo();
    backend.fail("cluster_delete", { code: "forbidden", message: "Your Palette role cannot delete clusters in this project." });
    await user.click(screen.getByTestId("delete-open"));
    await user.type(screen.getByTestId("delete-confirm-input"), DEMO_CLUSTER_NAME);
    await user.click(screen.getByTestId("delete-confirm"));
    expect(await screen.findByTestId("delete-error")).toHaveTextContent("cannot delete clusters");
    expect(screen.getByTestId("delete-confirm-input")).toHaveValue(DEMO_CLUSTER_NAME);
  });

  it("offers force delete for a stuck delete, saying the VMs stay in Prism Central and naming them", async () => {
    const backend = new MockBackend();
    const uid = backend.server.clusters.findByName(DEMO_CLUSTER_NAME)!;
    const vmNames = backend.server.clusters
      .clusterDetail({ uid })
      .pools.flatMap((p) => p.nodes)
      .map((n) => n.name);
    backend.server.clusters.makeDeleteStuck(uid);
    const { user, clusters } = await openDemo(backend);
    await user.click(screen.getByTestId("delete-open"));
    await user.type(screen.getByTestId("delete-confirm-input"), DEMO_CLUSTER_NAME);
    await user.click(screen.getByTestId("delete-confirm"));
    await waitFor(() => expect(screen.getByTestId("timeline-step-deleting")).toHaveAttribute("data-state", "current"));

    // CAPX's first attempt fails: the PE is unavailable.
    act(() => clusters.advance(LIFECYCLE.firstDeleteAttempt));
    const stuck = await screen.findByTestId("delete-stuck");
    expect(within(stuck).getByTestId("outcome-problem")).toHaveTextContent("is not available");
    expect(screen.getByTestId("timeline-step-deleting")).toHaveAttribute("data-state", "stuck");
    await user.click(within(stuck).getByTestId("force-delete-open"));

    const dialog = screen.getByTestId("force-delete-dialog");
    expect(within(dialog).getByTestId("delete-consequences")).toHaveTextContent("The VMs are not deleted");
    expect(within(dialog).getByTestId("delete-consequences")).toHaveTextContent("removed there by hand");
    expect(within(dialog).getAllByTestId("vm-left").map((li) => li.querySelector(".mono")?.textContent)).toEqual(vmNames);
    expect(within(dialog).getByTestId("delete-confirm")).toBeDisabled();
    await user.type(within(dialog).getByTestId("delete-confirm-input"), DEMO_CLUSTER_NAME);
    await user.click(within(dialog).getByTestId("delete-confirm"));

    expect(backend.callsOf("cluster_delete").at(-1)).toEqual({ uid, confirmName: DEMO_CLUSTER_NAME, force: true });
    const result = await screen.findByTestId("force-delete-result");
    expect(within(result).getAllByTestId("vm-left")).toHaveLength(vmNames.length);
    expect(result).toHaveTextContent("Delete these 5 there by hand");
    expect(() => clusters.clusterDetail({ uid })).toThrow();
  });
});
