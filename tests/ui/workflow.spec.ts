import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "@playwright/test";
import { expect, openApp, shot, test } from "./fixtures";

// The upstream CAPX template and CRDs are test fixtures read from the shared specs, never copied.
const here = path.dirname(fileURLToPath(import.meta.url));
const SPECS = process.env.CAPSTAN_SPECS_DIR ?? path.resolve(here, "../../../shared/specs");
const UPSTREAM = readFileSync(path.join(SPECS, "capx/templates/cluster-template-v1.5.4.yaml"), "utf8");
const CRDS = ["nutanixclusters", "nutanixmachines", "nutanixmachinetemplates"].map((plural) =>
  readFileSync(path.join(SPECS, `capx/crds/infrastructure.cluster.x-k8s.io_${plural}.yaml`), "utf8").trim(),
);

/** An infrastructure-components.yaml: the real CAPX CRDs and a controller of `version`. */
function components(version: string): string {
  const controller = [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: capx-controller-manager",
    "  namespace: capx-system",
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    "        - name: manager",
    `          image: ghcr.io/nutanix-cloud-native/cluster-api-provider-nutanix/controller:${version}`,
  ].join("\n");
  return [...CRDS, controller].join("\n---\n");
}

/** The upstream template without its NutanixCluster document. */
function withoutNutanixCluster(text: string): string {
  return text
    .split(/^---\s*$/m)
    .filter((doc) => !/^kind: NutanixCluster\s*$/m.test(doc))
    .join("---\n");
}

const yamlFile = (name: string, text: string) => ({ name, mimeType: "application/x-yaml", buffer: Buffer.from(text) });

async function openWorkflow(page: Page, hash = "#/workflow") {
  await openApp(page, hash);
  await expect(page.getByTestId("workflow-stepper")).toBeVisible();
}

const stepItem = (page: Page, id: string) => page.getByTestId(`workflow-step-${id}`);

test("steps 1–3 end to end: cloud type, PCG to Running, cloud account after a refused password", async ({ page, context }) => {
  test.setTimeout(90_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await openWorkflow(page);

  // The stepper reads the environment: nothing done, later steps wait for earlier ones.
  await expect(stepItem(page, "cloud_type")).toHaveAttribute("data-status", "not_started");
  await expect(stepItem(page, "pcg")).toHaveAttribute("data-status", "blocked");
  await expect(stepItem(page, "pcg")).toContainText("Waiting for: Nutanix cloud type");
  await expect(page.getByTestId("diagram-box-palette")).toHaveAttribute("data-highlighted", "true");
  await expect(page.getByTestId("diagram-box-pcg")).toHaveAttribute("data-state", "absent");
  await shot(page, "workflow-start.png");

  // ---- step 1: an upstream template lacking an object is refused with the reason
  await page.getByTestId("step1-capx-version").fill("v1.5.4");
  await page.getByTestId("step1-source-upstream").check();
  await page.getByTestId("step1-upload-template").setInputFiles(yamlFile("cluster-template.yaml", withoutNutanixCluster(UPSTREAM)));
  const missing = page.locator('[data-testid="step1-finding"][data-code="object_missing"]');
  await expect(missing).toHaveCount(1);
  await expect(missing).toHaveAttribute("data-severity", "error");
  await expect(missing).toContainText("no NutanixCluster");
  await expect(page.getByTestId("step1-register")).toBeDisabled();
  await expect(page.getByTestId("step1-blockers")).toContainText("NutanixCluster");
  await shot(page, "workflow-step1-blocked.png");

  await page.getByTestId("step1-upload-template").setInputFiles(yamlFile("cluster-template.yaml", UPSTREAM));
  await expect(missing).toHaveCount(0);
  const url = "https://github.com/nutanix-cloud-native/cluster-api-provider-nutanix/releases/download/v1.5.4/infrastructure-components.yaml";
  await expect(page.getByTestId("step1-download-url")).toHaveText(url);
  await page.getByTestId("step1-copy-url").click();
  await expect(page.getByTestId("step1-copy-url")).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
  await expect(page.getByTestId("step1-blockers")).toContainText("infrastructure-components.yaml");

  await page.getByTestId("step1-upload-components").setInputFiles(yamlFile("infrastructure-components.yaml", components("v1.5.4")));
  await expect(page.getByTestId("step1-register")).toBeEnabled();
  await expect(page.getByTestId("step1-register")).toHaveText("Register nutanix");
  await expect(page.getByTestId("step1-components-version")).toContainText("v1.5.4");

  // The results are in Monaco, with a diff against the upstream input.
  await page.getByTestId("step1-template-controlPlanePoolTemplate").click();
  await expect(page.getByTestId("step1-editor")).toHaveAttribute("data-editor", "monaco");
  await expect(page.getByTestId("step1-editor").locator(".monaco-editor")).toBeVisible();
  await expect(page.getByTestId("step1-template-view")).toContainText("iscsid");
  await page.getByTestId("step1-view-input").click();
  await expect(page.getByTestId("step1-editor")).toHaveAttribute("data-editor", "monaco-diff");
  await expect(page.getByTestId("step1-editor").locator(".monaco-diff-editor")).toBeVisible();
  await shot(page, "workflow-step1-diff.png");

  await page.getByTestId("step1-register").click();
  await expect(page.getByTestId("step1-actions")).toContainText("Registered the cloud type nutanix");
  await expect(page.getByTestId("step1-actions")).toContainText("Uploaded controlPlanePoolTemplate");
  await expect(stepItem(page, "cloud_type")).toHaveAttribute("data-status", "done");
  await expect(page.getByTestId("step1-register")).toHaveText("Nothing to change");
  await expect(page.getByTestId("step1-register")).toBeDisabled();

  // Idempotent: VerteX changes the two pool templates, and only those are updated.
  await page.getByTestId("step1-vertex").check();
  await expect(page.getByTestId("step1-register")).toHaveText("Update 2 changes");
  await page.getByTestId("step1-template-workerPoolTemplate").click();
  await page.getByTestId("step1-view-palette").click();
  await expect(page.getByTestId("step1-editor").locator(".monaco-diff-editor")).toBeVisible();
  await shot(page, "workflow-step1-differs.png");
  await page.getByTestId("step1-register").click();
  await expect(page.getByTestId("step1-actions")).toContainText("Uploaded workerPoolTemplate");
  await expect(page.getByTestId("step1-actions")).toContainText("clusterTemplate is unchanged");
  await shot(page, "workflow-step1-done.png");

  // ---- step 2: create the PCG, see its commands, it stays Pending
  await stepItem(page, "pcg").click();
  await expect(page.getByTestId("diagram-box-pcg")).toHaveAttribute("data-highlighted", "true");
  await expect(page.getByTestId("diagram-box-pcg_host_cluster")).toHaveAttribute("data-highlighted", "true");
  await page.getByTestId("step2-name").fill("edge-pcg");
  await page.getByTestId("step2-create").click();
  const commands = page.getByTestId("step2-command");
  await expect(commands).toHaveCount(2);
  await expect(commands.nth(0)).toContainText("/services/ally/manifest");
  await expect(commands.nth(1)).toContainText("/services/jet/manifest");
  await commands.nth(1).getByTestId("step2-copy").click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("/services/jet/manifest");
  await expect(page.getByTestId("step2-state")).toHaveAttribute("data-state", "Pending");
  await expect(page.getByTestId("step2-elapsed")).toContainText("Pending for");
  await expect(stepItem(page, "pcg")).toHaveAttribute("data-status", "in_progress");
  await expect(page.getByTestId("diagram-box-pcg")).toHaveAttribute("data-state", "pending");

  // Pending too long: the page says what to check.
  await page.evaluate(() => window.__CAPSTAN_MOCK__?.server.workflow.advance(6 * 60));
  await expect(page.getByTestId("step2-advice")).toContainText("Run both kubectl commands", { timeout: 10_000 });
  await expect(page.getByTestId("step2-advice")).toContainText(/Pending for 6 min/);
  await shot(page, "workflow-step2-pending.png");

  // ---- step 3 is blocked while the PCG is Pending
  await stepItem(page, "cloud_account").click();
  await expect(page.getByTestId("step3-blocked")).toContainText("PCG edge-pcg is Pending");
  await expect(page.getByTestId("step3-create")).toBeDisabled();
  await expect(stepItem(page, "cloud_account")).toContainText("Waiting for: Private Cloud Gateway");

  // ---- back to step 2: apply the commands to the sandbox's simulated host cluster
  await stepItem(page, "pcg").click();
  await expect(page.getByTestId("step2-context")).toHaveValue("capstan-sandbox-host");
  await expect(page.getByTestId("step2-kubeconfig-files")).toContainText(".kube/config");
  await page.getByTestId("step2-apply").click();
  await expect(page.getByTestId("step2-apply-result")).toContainText("deployment.apps/ally created");
  await expect(page.getByTestId("step2-state")).toHaveAttribute("data-state", "Running", { timeout: 15_000 });
  await expect(stepItem(page, "pcg")).toHaveAttribute("data-status", "done");
  await expect(page.getByTestId("diagram-box-pcg")).toHaveAttribute("data-state", "ok");
  await shot(page, "workflow-step2-running.png");

  // ---- step 3: Prism refuses the password at the form; nothing typed is lost
  await stepItem(page, "cloud_account").click();
  await expect(page.getByTestId("step3-blocked")).toHaveCount(0);
  await expect(page.getByTestId("step3-field-NUTANIX_ENDPOINT")).toHaveValue("127.0.0.1");
  await expect(page.getByTestId("step3-field-NUTANIX_PASSWORD")).toHaveAttribute("placeholder", "saved in setup — leave blank to use it");
  await expect(page.getByTestId("step3-pcg")).toContainText("edge-pcg (Running)");
  await page.getByTestId("step3-name").fill("nutanix-prod");
  await page.getByTestId("step3-field-NUTANIX_PASSWORD").fill("wrong");
  // The form is saved as a draft as you type (debounced); wait for it before creating.
  await expect(page.getByTestId("draft-saved")).toHaveAttribute("data-state", "saved");
  await page.getByTestId("step3-create").click();
  await expect(page.getByTestId("step3-error")).toHaveAttribute("data-code", "unauthorized");
  await expect(page.getByTestId("step3-error")).toContainText("rejected user admin");
  await expect(page.getByTestId("step3-name")).toHaveValue("nutanix-prod");
  await expect(page.getByTestId("step3-field-NUTANIX_PASSWORD")).toHaveValue("wrong");
  await shot(page, "workflow-step3-unauthorized.png");

  await page.getByTestId("step3-field-NUTANIX_PASSWORD").fill("");
  await page.getByTestId("step3-create").click();
  await expect(page.getByTestId("step3-result")).toContainText("Cloud account nutanix-prod created");
  await expect(stepItem(page, "cloud_account")).toHaveAttribute("data-status", "done");
  await expect(stepItem(page, "profile")).toHaveAttribute("data-status", "not_started");
  await shot(page, "workflow-step3-done.png");

  // Secrets never reach a draft.
  const saved = (await page.evaluate(() => window.__CAPSTAN_MOCK__?.calls("draft_save"))) as Array<{ step: string; data: unknown }>;
  const accountDrafts = JSON.stringify(saved.filter((d) => d.step === "cloud_account"));
  expect(accountDrafts).toContain("nutanix-prod");
  expect(accountDrafts).not.toContain("NUTANIX_PASSWORD");
  expect(accountDrafts).not.toContain('"wrong"');
});

test("a draft is restored after a reload", async ({ page }) => {
  await openWorkflow(page);
  await page.getByTestId("step1-capx-version").fill("v1.8.6");
  await page.getByTestId("step1-vertex").check();
  await expect(page.getByTestId("draft-saved")).toHaveText("Draft saved");

  await stepItem(page, "pcg").click();
  await page.getByTestId("step2-name").fill("branch-office-pcg");
  await expect(page.getByTestId("draft-saved")).toHaveText("Draft saved");
  await expect(stepItem(page, "cloud_type")).toContainText("Draft");

  await page.reload();
  await expect(page.getByTestId("status-environment-name")).toHaveText("Local sandbox");
  await expect(page.getByTestId("step2-name")).toHaveValue("branch-office-pcg");
  await expect(page.getByTestId("draft-saved")).toContainText("Draft restored");

  await stepItem(page, "cloud_type").click();
  await expect(page.getByTestId("step1-capx-version")).toHaveValue("v1.8.6");
  await expect(page.getByTestId("step1-vertex")).toBeChecked();
  await expect(page.getByTestId("draft-saved")).toContainText("Draft restored");
  await expect(page.getByTestId("step1-download-url")).toContainText("/download/v1.8.6/infrastructure-components.yaml");
  await shot(page, "workflow-draft-restored.png");

  // Discarding it brings back the defaults, and a reload keeps them.
  await page.getByTestId("draft-discard").click();
  await expect(page.getByTestId("step1-capx-version")).toHaveValue("v1.5.0");
  await page.reload();
  await expect(page.getByTestId("step1-capx-version")).toHaveValue("v1.5.0");
  await expect(page.getByTestId("draft-saved")).toHaveCount(0);
});
