/**
 * The day-2 cluster page and the progress timeline against the in-page FakeServer: the seeded
 * demo-k8s opened from the Clusters page, scaled, its profile diff reviewed and applied, then
 * deleted; and a freshly created cluster followed from Pending to Running.
 */
import type { Page } from "@playwright/test";
import type { DeploySpec } from "../../ui/src/lib/bindings";
import { expect, openApp, shot, test } from "./fixtures";

/** Changes the route without reloading (a reload would start a new in-page FakeServer). */
async function go(page: Page, hash: string) {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

test("demo-k8s: open from Clusters, scale a pool, review the profile diff, delete", async ({ page }) => {
  test.setTimeout(60_000);
  await openApp(page, "#/clusters");
  const row = page.locator('[data-testid="cluster-row"][data-name="demo-k8s"]');
  await row.getByTestId("cluster-detail-link").click();
  const detail = page.getByTestId("cluster-detail");
  await expect(detail).toBeVisible();
  expect(new URL(page.url()).hash).toMatch(/^#\/clusters\?cluster=[0-9a-f]{24}$/);
  await expect(page.getByTestId("cluster-phase")).toHaveAttribute("data-phase", "running");
  await expect(page.getByTestId("overview-endpoint")).toHaveText("10.30.0.240:6443");
  await expect(page.getByTestId("cluster-node")).toHaveCount(5);

  // Scale the workers from 2 to 3: the new node comes with a VM and an IP, then Running.
  const workers = page.locator('[data-testid="cluster-pool"][data-pool="worker-pool"]');
  await workers.getByTestId("scale-open").click();
  await workers.getByTestId("scale-input").fill("3");
  await expect(workers.getByTestId("scale-effect")).toContainText("Adds 1 node");
  await workers.getByTestId("scale-confirm").click();
  await expect(workers.getByTestId("cluster-node")).toHaveCount(3);
  const added = workers.getByTestId("cluster-node").nth(2);
  await expect(added.getByTestId("node-ip")).toHaveText(/^10\.30\.0\.\d+$/, { timeout: 10_000 });
  await expect(added).toHaveAttribute("data-state", "Running", { timeout: 15_000 });
  await expect(page.getByTestId("cluster-phase")).toHaveAttribute("data-phase", "running");

  // Kubeconfig: saved path, the 0600 note and the kubectl hint.
  await page.getByTestId("kubeconfig-download").click();
  await expect(page.getByTestId("kubeconfig-saved")).toContainText("0600");
  await expect(page.getByTestId("kubeconfig-hint")).toHaveText("KUBECONFIG=/home/operator/.kube/capstan-demo-k8s.yaml kubectl get nodes");
  await shot(page, "cluster-detail.png");

  // Update the profile to 1.2.0: a side-by-side diff per changed layer, then apply.
  await page.getByTestId("profile-update-open").click();
  const dialog = page.getByTestId("profile-dialog");
  await dialog.getByTestId("profile-version-1.2.0").check();
  await dialog.getByTestId("profile-review").click();
  await expect(dialog.getByTestId("profile-change")).toHaveCount(4);
  await expect(dialog.getByTestId("profile-impact")).toContainText("1.31.4");
  const k8sDiff = dialog.locator('[data-testid="profile-change"][data-layer="k8s"]').getByTestId("profile-diff");
  await expect(k8sDiff).toHaveAttribute("data-editor", "monaco-diff", { timeout: 15_000 });
  await expect(k8sDiff).toContainText("1.31.4");
  await shot(page, "cluster-profile-diff.png");
  await dialog.getByTestId("profile-apply").click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("overview-profile")).toContainText("demo-k8s-profile 1.2.0");
  await expect(page.getByTestId("overview-k8s")).toHaveText("1.31.4", { timeout: 10_000 });

  // Delete: refused until the name is typed, then Deleting, then gone.
  await page.getByTestId("delete-open").click();
  const confirm = page.getByTestId("delete-dialog").getByTestId("delete-confirm");
  await expect(page.getByTestId("delete-consequences")).toContainText("removes its 6 VMs from Prism Central");
  await expect(confirm).toBeDisabled();
  await page.getByTestId("delete-confirm-input").fill("demo-k8");
  await expect(confirm).toBeDisabled();
  await page.getByTestId("delete-confirm-input").fill("demo-k8s");
  await confirm.click();
  await expect(page.getByTestId("timeline-step-deleting")).toHaveAttribute("data-state", "current");
  await expect(page.getByTestId("cluster-gone")).toBeVisible({ timeout: 15_000 });
});

test("a new cluster's progress timeline: Pending, VMs with IPs, Running", async ({ page }) => {
  test.setTimeout(60_000);
  await openApp(page, "#/clusters");
  const pool = (replicas: number) => ({ name: "", replicas, vcpuSockets: 2, vcpusPerSocket: 2, memoryGib: 8, diskGib: 60, bootType: "legacy" as const });
  const spec: DeploySpec = {
    name: "edge-fra-1",
    description: "",
    accountUid: "acc",
    profileUid: "none",
    layerValues: [],
    prismElement: { uuid: "pe-a", name: "pe-fra-a", useUuid: false },
    subnets: [{ uuid: "sn", name: "vlan-30-k8s", useUuid: false }],
    image: { uuid: "img", name: "ubuntu-2204-kube-v1.30.4", useUuid: false },
    kubernetesVersion: "v1.30.4",
    controlPlaneEndpoint: "10.30.0.150",
    controlPlanePort: 6443,
    controlPlane: pool(3),
    workers: [pool(2)],
    sshPublicKey: "ssh-ed25519 AAAA e2e",
    podCidr: "192.168.0.0/16",
    serviceCidr: "10.96.0.0/12",
  };
  const uid = await page.evaluate((s) => window.__CAPSTAN_MOCK__!.server.clusters.create({ name: s.name, spec: s }), spec);
  await go(page, `#/clusters?cluster=${uid}`);

  await expect(page.getByTestId("timeline-step-pending")).toHaveAttribute("data-state", "current");
  await expect(page.getByTestId("timeline-step-provisioning")).toHaveAttribute("data-state", "current", { timeout: 10_000 });
  // Machines get their VMs and addresses while the control plane comes up.
  await expect(page.getByTestId("node-ip").first()).toHaveText(/^10\.30\.0\.\d+$/, { timeout: 10_000 });
  await expect(page.getByTestId("cluster-elapsed")).toContainText("Elapsed");
  await shot(page, "progress-timeline.png");

  // Running: the timeline gives way to the day-2 page.
  await expect(page.getByTestId("cluster-phase")).toHaveAttribute("data-phase", "running", { timeout: 20_000 });
  await expect(page.getByTestId("cluster-timeline")).toBeHidden();
  await expect(page.getByTestId("cluster-node")).toHaveCount(5);
  await expect(page.getByTestId("kubeconfig-download")).toBeEnabled();
});
