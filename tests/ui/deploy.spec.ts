import type { Page } from "@playwright/test";
import { expect, openApp, shot, test } from "./fixtures";

/** Step 4's outcome, made in the in-page fake: a published profile for Kubernetes 1.31.4. */
async function publishProfile(page: Page) {
  await page.evaluate(() => {
    const profiles = window.__CAPSTAN_MOCK__!.server.profile;
    const layers = (["os", "k8s", "cni", "csi"] as const).map((layer) => {
      const pack = profiles.packsByLayer({ layer }).packs[0];
      return { layer, registryUid: pack.registryUid, packName: pack.name, version: layer === "k8s" ? "1.31.4" : pack.versions[0], values: "" };
    });
    profiles.profileCreate({ name: "ntx-base", version: "1.0.0", description: "Nutanix base", layers, publish: true });
  });
}

async function openDeployStep(page: Page) {
  await openApp(page, "#/setup");
  await publishProfile(page);
  await page.evaluate(() => {
    window.location.hash = "#/workflow?step=cluster";
  });
  await expect(page.getByTestId("step5")).toBeVisible();
  // The Prism Element's placement arrived: a subnet and a matching image are picked.
  await expect(page.getByTestId("deploy-subnet")).toHaveCount(1);
  await expect(page.getByTestId("deploy-image")).not.toHaveValue("");
}

test("step 5: a failing preflight blocks the deploy with its reason; fixed, it passes and the cluster deploys", async ({ page }) => {
  test.setTimeout(60_000);
  await openDeployStep(page);

  // The pickers come from Prism Central: another Prism Element brings its own subnets.
  await page.getByTestId("deploy-pe").selectOption({ label: "pe-cluster-02 · 4 AHV hosts · AOS 6.8.1" });
  await expect(page.getByTestId("deploy-subnet")).toHaveAttribute("data-name", "pe-cluster-02-vlan110");
  await page.getByTestId("deploy-pe").selectOption({ label: "pe-cluster-01 · 4 AHV hosts · AOS 6.8.1" });
  await expect(page.getByTestId("deploy-subnet")).toHaveAttribute("data-name", "pe-cluster-01-vlan110");
  await expect(page.locator('[data-testid="deploy-image"] option[data-matches="true"]').first()).toHaveText(/capx-ubuntu-2204-kube-v1\.31\.4/);
  await expect(page.locator('[data-testid="deploy-image"] option[data-matches="false"]').first()).toHaveText(/not 1\.31/);

  await page.getByTestId("deploy-name").fill("edge-01");
  await page.getByTestId("deploy-description").fill("Edge cluster, Frankfurt lab");
  // An address inside the subnet's IP pool: the form warns, the preflight refuses it.
  await page.getByTestId("deploy-vip").fill("10.64.1.50");
  await page.getByTestId("deploy-worker-0-memory").fill("8");
  await expect(page.getByTestId("deploy-submit")).toBeDisabled();
  await shot(page, "deploy-form.png");

  await page.getByTestId("deploy-preflight-run").click();
  const report = page.getByTestId("preflight-report");
  await expect(report).toHaveAttribute("data-verdict", "fail");
  await expect(page.locator('[data-testid^="preflight-check-"]')).toHaveCount(13);
  await expect(page.getByTestId("preflight-check-vipInSubnet")).toHaveAttribute("data-outcome", "fail");
  await expect(page.getByTestId("preflight-check-vipInSubnet")).toContainText("What to do:");
  await expect(page.getByTestId("deploy-submit")).toBeDisabled();
  await expect(page.getByTestId("deploy-blocked-reason")).toContainText("inside the IP pool 10.64.0.10-10.64.3.231");
  await report.scrollIntoViewIfNeeded();
  await shot(page, "preflight-report.png");

  // Fix it with a suggested free address: the old report is stale until run again.
  await page.getByTestId("deploy-vip-candidate").first().click();
  await expect(page.getByTestId("deploy-vip")).toHaveValue("10.64.0.2");
  await expect(page.getByTestId("preflight-stale")).toBeVisible();
  await expect(page.getByTestId("deploy-submit")).toBeDisabled();
  await page.getByTestId("deploy-preflight-run").click();
  await expect(report).toHaveAttribute("data-verdict", "pass");
  await expect(page.getByTestId("preflight-stale")).toHaveCount(0);
  await expect(page.getByTestId("deploy-submit")).toBeEnabled();
  await shot(page, "preflight-report-passed.png");

  await page.getByTestId("deploy-submit").click();
  await expect(page.getByTestId("deploy-result")).toHaveAttribute("data-created", "true");
  await expect(page.getByTestId("cluster-progress")).toBeVisible();
  const requests = await page.evaluate(() => window.__CAPSTAN_MOCK__!.calls("cluster_deploy"));
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({ spec: { name: "edge-01", controlPlaneEndpoint: "10.64.0.2", workers: [{ memoryGib: 8 }] } });
  await shot(page, "deploy-progress.png");
});

test("step 5: the YAML tab shows the generated pools in Monaco, and an edited pool updates the form", async ({ page }) => {
  await openDeployStep(page);
  await page.getByTestId("deploy-name").fill("edge-02");
  await page.getByTestId("deploy-tab-yaml").click();
  const editor = page.getByTestId("deploy-yaml-editor-controlPlane");
  await expect(editor).toHaveAttribute("data-editor", "monaco");
  await expect(editor.locator(".view-lines")).toContainText("KubeadmControlPlane");
  // Showing the generated YAML is not editing it.
  await expect(page.getByTestId("deploy-tab-yaml")).not.toContainText("edited");

  // Typing in Monaco: 1 → 3 control-plane nodes, read back into the form.
  await editor.locator(".view-line", { hasText: "replicas: 1" }).click();
  await page.keyboard.press("End");
  await page.keyboard.press("Backspace");
  await page.keyboard.type("3");
  await expect(page.getByTestId("deploy-yaml-changed")).toContainText("controlPlane.replicas");
  await expect(page.getByTestId("deploy-tab-yaml")).toContainText("edited");
  await shot(page, "deploy-yaml.png");
  await page.getByTestId("deploy-tab-form").click();
  await expect(page.getByTestId("deploy-cp-replicas-3")).toHaveAttribute("aria-pressed", "true");

  await page.getByTestId("deploy-tab-yaml").click();
  await page.getByTestId("deploy-yaml-tab-cluster").click();
  await expect(page.getByTestId("deploy-yaml-editor-cluster").locator(".view-lines")).toContainText("NutanixCluster");
});
