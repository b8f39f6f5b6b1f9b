/**
 * Steps 4 and 5 and day-2 in Chromium against the real engine and the embedded sandbox
 * (capstan-bridge): steps 1–3 are done through the engine's own commands, then the profile
 * is made in the UI, the deploy form is filled from live Prism pickers, a bad VIP is refused
 * by the real preflight, the cluster is deployed and followed to Running, then scaled and
 * deleted from its detail page. The sandbox runs at 1/50 speed (playwright.config.ts).
 */
import type { APIRequestContext, Page } from "@playwright/test";
import { expect, rpc, shot, test } from "./fixtures";

test.describe.configure({ timeout: 180_000 });

/** A small infrastructure-components.yaml: the three CAPX CRDs and a controller of `version`. */
function components(version: string): string {
  const crd = (plural: string, kind: string) =>
    [
      "apiVersion: apiextensions.k8s.io/v1",
      "kind: CustomResourceDefinition",
      "metadata:",
      `  name: ${plural}.infrastructure.cluster.x-k8s.io`,
      "spec:",
      "  group: infrastructure.cluster.x-k8s.io",
      "  names:",
      `    kind: ${kind}`,
      `    plural: ${plural}`,
      "",
    ].join("\n");
  return [
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: capx-system\n",
    crd("nutanixclusters", "NutanixCluster"),
    crd("nutanixmachines", "NutanixMachine"),
    crd("nutanixmachinetemplates", "NutanixMachineTemplate"),
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: capx-controller-manager\n  namespace: capx-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: manager\n        image: ghcr.io/nutanix-cloud-native/cluster-api-provider-nutanix/controller:${version}\n`,
  ].join("---\n");
}

/** Steps 1–3 through the engine (the UI for them has its own tests). */
async function stepsOneToThree(request: APIRequestContext): Promise<void> {
  await rpc(request, "cloud_type_register", { capxVersion: "v1.5.4", source: "shipped", infrastructureComponents: components("v1.5.4") });
  const pcg = await rpc<{ uid: string }>(request, "pcg_create", { name: "edge-pcg" });
  await rpc(request, "pcg_apply", { uid: pcg.uid, context: "capstan-sandbox-host" });
  await expect
    .poll(async () => (await rpc<{ running: boolean }>(request, "pcg_status", { uid: pcg.uid })).running, { timeout: 60_000, intervals: [250, 500] })
    .toBe(true);
  await rpc(request, "cloud_account_create", { name: "nutanix-lab", pcgUid: pcg.uid, values: {} });
}

/** Chooses the option of a pack picker whose label names `pack`. */
async function pickPack(page: Page, layer: string, pack: string): Promise<void> {
  const picker = page.getByTestId(`profile-pack-${layer}`);
  const value = await picker.locator("option", { hasText: `(${pack})` }).first().getAttribute("value");
  expect(value, `${pack} is offered for ${layer}`).toBeTruthy();
  await picker.selectOption(value!);
}

test("profile, deploy with a refused then passing preflight, Running, scale, delete — on the real engine", async ({ page, request }) => {
  await stepsOneToThree(request);

  // ---- step 4 in the UI ---------------------------------------------------------------------
  await page.goto("/#/workflow?step=profile");
  await expect(page.getByTestId("step4")).toBeVisible();
  await pickPack(page, "os", "os-nutanix");
  await pickPack(page, "k8s", "kubernetes");
  await pickPack(page, "cni", "cni-cilium-oss");
  await pickPack(page, "csi", "nutanix-csi");
  await page.getByTestId("profile-version-k8s").selectOption("1.30.6");
  await page.getByTestId("profile-name").fill("nutanix-e2e");
  await page.getByTestId("profile-version").fill("1.0.0");
  await expect(page.getByTestId("profile-name-check")).toHaveAttribute("data-state", "available", { timeout: 15_000 });
  await page.getByTestId("profile-create").click();
  await expect(page.getByTestId("profile-result")).toHaveAttribute("data-created", "true", { timeout: 15_000 });
  await expect(page.getByTestId("workflow-step-profile")).toHaveAttribute("data-status", "done", { timeout: 15_000 });

  // ---- step 5: pickers from live Prism Central ---------------------------------------------------
  await page.goto("/#/workflow?step=cluster");
  await expect(page.getByTestId("step5")).toBeVisible();
  await expect(page.getByTestId("deploy-profile")).toContainText("nutanix-e2e");
  await page.getByTestId("deploy-pe").selectOption({ index: 1 });
  await expect(page.getByTestId("deploy-subnet")).toHaveCount(1, { timeout: 15_000 });
  await expect(page.getByTestId("deploy-image")).not.toHaveValue("");
  await expect(page.getByTestId("deploy-image").locator("option:checked")).toHaveText(/kube-v1\.30\./);
  await page.getByTestId("deploy-name").fill("e2e-cluster");
  await page.getByTestId("deploy-ssh-paste-mode").click().catch(() => undefined);
  await page.getByTestId("deploy-ssh-paste").fill("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2eTestKeyForTheSandboxOnly e2e@capstan");

  // A VIP inside the subnet's DHCP pool: the engine's preflight refuses it and says why.
  const subnetName = await page.getByTestId("deploy-subnet").getAttribute("data-name");
  const placement = await rpc<{ subnets: Array<{ name: string; pools: string[] }> }>(request, "deploy_placement", {
    prismElementUuid: await page.getByTestId("deploy-pe").inputValue(),
  });
  const poolStart = placement.subnets.find((s) => s.name === subnetName)!.pools[0].split("-")[0];
  await page.getByTestId("deploy-vip").fill(poolStart);
  await page.getByTestId("deploy-preflight-run").click();
  const report = page.getByTestId("preflight-report");
  await expect(report).toHaveAttribute("data-verdict", "fail", { timeout: 30_000 });
  await expect(page.locator('[data-testid^="preflight-check-"]')).toHaveCount(13);
  await expect(page.getByTestId("preflight-check-vipInSubnet")).toHaveAttribute("data-outcome", "fail");
  await expect(page.getByTestId("deploy-submit")).toBeDisabled();
  await shot(page, "preflight-report-sandbox.png");

  // A suggested free address, preflight again: every check passes.
  await page.getByTestId("deploy-vip-candidate").first().click();
  await page.getByTestId("deploy-preflight-run").click();
  await expect(report).toHaveAttribute("data-verdict", /pass|warn/, { timeout: 30_000 });
  await expect(page.getByTestId("deploy-submit")).toBeEnabled();
  await page.getByTestId("deploy-submit").click();

  // ---- progress to Running ------------------------------------------------------------------------
  await expect(page.getByTestId("cluster-progress")).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId("node-ip").first()).toHaveText(/^\d+\.\d+\.\d+\.\d+$/, { timeout: 60_000 });
  await shot(page, "progress-timeline-sandbox.png");
  await expect(page.getByTestId("cluster-ready")).toBeVisible({ timeout: 90_000 });

  // ---- day-2 on the detail page ---------------------------------------------------------------------
  const state = await rpc<{ steps: Array<{ id: string; objectUid: string | null }> }>(request, "workflow_state", {});
  const uid = state.steps.find((s) => s.id === "cluster")?.objectUid;
  expect(uid, "step 5 names the deployed cluster").toBeTruthy();
  await page.goto(`/#/clusters?cluster=${uid}`);
  await expect(page.getByTestId("cluster-phase")).toHaveAttribute("data-phase", "running", { timeout: 30_000 });
  const workers = page.locator('[data-testid="cluster-pool"]').nth(1);
  await expect(workers.getByTestId("cluster-node")).toHaveCount(2);
  await workers.getByTestId("scale-open").click();
  await workers.getByTestId("scale-input").fill("3");
  await workers.getByTestId("scale-confirm").click();
  await expect(workers.getByTestId("cluster-node")).toHaveCount(3, { timeout: 30_000 });
  await expect(workers.getByTestId("cluster-node").nth(2)).toHaveAttribute("data-state", "Running", { timeout: 60_000 });
  await shot(page, "cluster-detail-sandbox.png");

  await page.getByTestId("delete-open").click();
  await page.getByTestId("delete-confirm-input").fill("e2e-cluster");
  await page.getByTestId("delete-dialog").getByTestId("delete-confirm").click();
  await expect(page.getByTestId("cluster-gone")).toBeVisible({ timeout: 90_000 });
});
