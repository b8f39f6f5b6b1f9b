import type { Page } from "@playwright/test";
import { expect, openApp, shot, test } from "./fixtures";

type Layer = { layer: string; packName: string; version: string; values: string };

/** Opens step 4 with steps 1–3 done in the in-page fake (a fresh FakeWorkflow seeded at "account"). */
async function openProfileStep(page: Page) {
  await openApp(page, "#/setup");
  await page.evaluate(() => {
    const mock = window.__CAPSTAN_MOCK__;
    if (!mock) throw new Error("not the mocked build");
    type Workflow = typeof mock.server.workflow;
    const FakeWorkflow = mock.server.workflow.constructor as new (now: undefined, options: { start: string }) => Workflow;
    mock.server.workflow = new FakeWorkflow(undefined, { start: "account" });
    window.location.hash = "#/workflow?step=profile";
  });
  await expect(page.getByTestId("workflow-step-profile")).toHaveAttribute("data-status", "not_started");
  await expect(page.getByTestId("step4")).toBeVisible();
}

const editor = (page: Page) => page.getByTestId("profile-editor");

/**
 * Replaces the Monaco text's last line (empty: the defaults end in a newline) with `line`. One
 * line in flow style, so Monaco's auto-indent cannot shift what follows.
 */
async function setLastLine(page: Page, line: string) {
  await editor(page).locator(".view-lines").click();
  await page.keyboard.press("Control+End");
  // Home stops at the indentation first; the second press reaches column 1.
  await page.keyboard.press("Shift+Home");
  await page.keyboard.press("Shift+Home");
  if (line) await page.keyboard.insertText(line);
  else await page.keyboard.press("Delete");
}

test("step 4 end to end: packs by layer, values checked against the schema, create and publish, then a new version", async ({ page }) => {
  test.setTimeout(60_000);
  await openProfileStep(page);

  // Registries, the custom one marked; each layer's packs with versions.
  const registries = page.getByTestId("profile-registry");
  await expect(registries).toHaveCount(2);
  await expect(registries.nth(1)).toHaveAttribute("data-custom", "true");
  await expect(registries.nth(1)).toContainText("custom");
  await expect(page.getByTestId("profile-pack-os").locator('optgroup[label="capstan-custom-packs (custom)"] option')).toHaveText(["Nutanix OS (CAPX image) (os-nutanix)"]);
  await expect(page.getByTestId("profile-pack-csi").locator("option")).toHaveText(["Choose a pack…", "Nutanix CSI (nutanix-csi)"]);

  await page.getByTestId("profile-pack-os").selectOption("reg-custom|os-nutanix");
  await page.getByTestId("profile-pack-k8s").selectOption("reg-public|kubernetes");
  await page.getByTestId("profile-pack-cni").selectOption("reg-public|cni-cilium-oss");
  await page.getByTestId("profile-pack-csi").selectOption("reg-public|nutanix-csi");
  await expect(page.getByTestId("profile-version-csi").locator("option")).toHaveText(["3.2.0 (newest)", "3.1.0"]);
  await expect(page.getByTestId("profile-version-csi")).toHaveValue("3.2.0");
  await expect(page.getByTestId("profile-blockers")).toHaveCount(0);

  // The CSI values in Monaco, starting from the pack's defaults.
  await page.getByTestId("profile-edit-csi").click();
  await expect(editor(page)).toHaveAttribute("data-editor", "monaco");
  await expect(editor(page).locator(".view-lines")).toContainText("nutanix-csi 3.2.0");

  // The bundled nutanix-csi schema catches a value the chart does not accept (offline).
  await setLastLine(page, "  nutanix-csi-storage: {volumeClassRetention: Forever}");
  const problems = page.getByTestId("profile-values-problem");
  await expect(problems.first()).toContainText("Retain", { timeout: 15_000 });
  await expect(problems.first()).toContainText("line 5");
  await problems.first().scrollIntoViewIfNeeded();
  await shot(page, "profile-editor-validation.png");

  // Back to the defaults, then a valid edit: no problem left, and the layer counts as edited.
  await setLastLine(page, "");
  await expect(page.getByTestId("profile-values-state-csi")).toHaveAttribute("data-edited", "false");
  await setLastLine(page, "  nutanix-csi-storage: {volumeClass: true}");
  await expect(page.getByTestId("profile-values-state-csi")).toHaveAttribute("data-edited", "true");
  await expect(problems).toHaveCount(0, { timeout: 10_000 });

  // Name checked as you type: the field says when it is not a version Palette accepts.
  await page.getByTestId("profile-name").fill("nutanix-k8s");
  await page.getByTestId("profile-version").fill("1.0");
  await expect(page.getByTestId("profile-version-problem")).toContainText("not a version Palette accepts");
  await expect(page.getByTestId("profile-create")).toBeDisabled();
  await page.getByTestId("profile-version").fill("1.0.0");
  await expect(page.getByTestId("profile-name-check")).toHaveAttribute("data-state", "available");
  await expect(page.getByTestId("draft-saved")).toHaveAttribute("data-state", "saved");
  await shot(page, "profile-editor.png");

  // The diff against the defaults.
  await page.getByTestId("profile-view-diff").click();
  await expect(editor(page)).toHaveAttribute("data-editor", "monaco-diff");
  await expect(editor(page).locator(".monaco-diff-editor")).toBeVisible();
  await shot(page, "profile-editor-diff.png");

  const polled = ((await page.evaluate(() => window.__CAPSTAN_MOCK__?.calls("workflow_state"))) ?? []).length;
  await expect(page.getByTestId("profile-create")).toHaveText("Create and publish the profile");
  await page.getByTestId("profile-create").click();
  const result = page.getByTestId("profile-result");
  await expect(result).toHaveAttribute("data-created", "true");
  await expect(result).toContainText("Cluster profile nutanix-k8s 1.0.0 created");
  await expect(result).toContainText("Created and published");
  const sent = (await page.evaluate(() => window.__CAPSTAN_MOCK__?.calls("profile_create"))) as Array<{ name: string; publish: boolean; layers: Layer[] }>;
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({ name: "nutanix-k8s", version: "1.0.0", publish: true });
  expect(sent[0].layers.map((l) => l.packName)).toEqual(["os-nutanix", "kubernetes", "cni-cilium-oss", "nutanix-csi"]);
  expect(sent[0].layers[0].values).toBe("");
  expect(sent[0].layers[3].values).toContain("nutanix-csi-storage: {volumeClass: true}");
  await expect.poll(async () => ((await page.evaluate(() => window.__CAPSTAN_MOCK__?.calls("workflow_state"))) ?? []).length).toBeGreaterThan(polled);
  await expect(page.getByTestId("profile-version-problem")).toContainText("already exists");
  await result.scrollIntoViewIfNeeded();
  await shot(page, "profile-created.png");

  // A new version of it, prefilled from Palette, with the Kubernetes layer upgraded.
  await page.getByTestId("profile-mode-version").click();
  await expect(page.getByTestId("profile-base")).toContainText("nutanix-k8s 1.0.0");
  await page.getByTestId("profile-base-load").click();
  await expect(page.getByTestId("profile-version")).toHaveValue("1.0.1");
  await expect(page.getByTestId("profile-name")).toHaveValue("nutanix-k8s");
  await expect(page.getByTestId("profile-pack-csi")).toHaveValue("reg-public|nutanix-csi");
  await expect(page.getByTestId("profile-values-state-csi")).toHaveAttribute("data-edited", "true");
  await page.getByTestId("profile-version-k8s").selectOption("1.30.6");
  await expect(page.getByTestId("profile-create")).toBeEnabled();
  await page.getByTestId("profile-create").click();
  await expect(result).toContainText("Cluster profile nutanix-k8s 1.0.1 created");
  const versions = (await page.evaluate(() => window.__CAPSTAN_MOCK__?.calls("profile_new_version"))) as Array<{ version: string; layers: Layer[] }>;
  expect(versions).toHaveLength(1);
  expect(versions[0].version).toBe("1.0.1");
  expect(versions[0].layers[1]).toMatchObject({ packName: "kubernetes", version: "1.30.6" });
  expect(versions[0].layers[3].values).toContain("nutanix-csi-storage: {volumeClass: true}");
});

test("the profile draft survives a reload", async ({ page }) => {
  await openProfileStep(page);
  await page.getByTestId("profile-pack-csi").selectOption("reg-public|nutanix-csi");
  await page.getByTestId("profile-version-csi").selectOption("3.1.0");
  await page.getByTestId("profile-name").fill("branch-profile");
  await expect(page.getByTestId("draft-saved")).toHaveText("Draft saved");

  await page.reload();
  await expect(page.getByTestId("status-environment-name")).toHaveText("Local sandbox");
  await expect(page.getByTestId("profile-name")).toHaveValue("branch-profile");
  await expect(page.getByTestId("profile-pack-csi")).toHaveValue("reg-public|nutanix-csi");
  await expect(page.getByTestId("profile-version-csi")).toHaveValue("3.1.0");
  await expect(page.getByTestId("draft-saved")).toContainText("Draft restored");
});
