// Steps 1–3 of the workflow on the real desktop app, through the UI only, from a fresh home:
// sandbox → cloud type → PCG → cloud account; then the app is quit and started again with
// the same CAPSTAN_HOME, and the three steps must still read as done.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import {
  appProcesses,
  attributeOfTestId,
  closeAppWindows,
  chooseFileOnTestId,
  screenshots,
  setValueOfTestId,
  startApp,
  textOfTestId,
  waitForAttribute,
} from "./support.mjs";

const CAPX_VERSION = "v1.5.4";
const PCG_NAME = "e2e-pcg";
const ACCOUNT_NAME = "e2e-nutanix";
const TEMPLATES = ["clusterTemplate", "controlPlanePoolTemplate", "workerPoolTemplate"];
const DONE_STEPS = ["cloud_type", "pcg", "cloud_account"];
// The machine is slow and shared; the app's own polls are 3–5 s.
const LONG = 60000;

/** A small infrastructure-components.yaml: the three CAPX CRDs and a controller of `version`. */
function components(version) {
  const crd = (plural, kind) =>
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
    ].join("\n");
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
    "      - name: manager",
    `        image: ghcr.io/nutanix-cloud-native/cluster-api-provider-nutanix/controller:${version}`,
  ].join("\n");
  return [
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: capx-system",
    crd("nutanixclusters", "NutanixCluster"),
    crd("nutanixmachines", "NutanixMachine"),
    crd("nutanixmachinetemplates", "NutanixMachineTemplate"),
    controller,
  ].join("\n---\n");
}

let browser;
const byTestId = (id) => browser.$(`[data-testid="${id}"]`);
const exists = (id) => browser.execute((sel) => document.querySelector(sel) !== null, `[data-testid="${id}"]`);

async function waitForTestId(id, timeout = LONG) {
  await browser.waitUntil(() => exists(id), { timeout, timeoutMsg: `${id} did not appear in ${timeout} ms` });
  return byTestId(id);
}

async function waitForText(id, pattern, timeout = LONG) {
  let last = "";
  try {
    await browser.waitUntil(
      async () => {
        last = await textOfTestId(browser, id);
        return pattern.test(last);
      },
      { timeout },
    );
  } catch (error) {
    throw new Error(`${id} text ${JSON.stringify(last.slice(0, 300))} never matched ${pattern} (${timeout} ms)`, { cause: error });
  }
  return last;
}

/** Brings an element to the middle of the view, so the screenshot shows it. */
const reveal = (id) => browser.execute((sel) => document.querySelector(sel)?.scrollIntoView({ block: "center" }), `[data-testid="${id}"]`);

const stepStatus = (id) => attributeOfTestId(browser, `workflow-step-${id}`, "data-status");

async function waitForEnabled(id, timeout = LONG) {
  const el = await waitForTestId(id, timeout);
  await el.waitForEnabled({ timeout, timeoutMsg: `${id} stayed disabled for ${timeout} ms` });
  return el;
}

// Each test continues from the one before; after a failure the rest are skipped, not timed out.
let brokenAt = null;

/** Runs `body`; on failure saves what the screen showed, so a red run can be read. */
async function shootOnFailure(t, name, body) {
  if (brokenAt) {
    t.skip(`${brokenAt} failed`);
    return;
  }
  try {
    await body();
  } catch (error) {
    brokenAt = name;
    await screenshots(browser, `workflow-failed-${name}`).catch(() => undefined);
    throw error;
  }
}

/** The app's own home, from the Settings page (the log directory lives under it). */
async function appLogDir() {
  await (await byTestId("nav-settings")).click();
  return waitForText("app-log-dir", /\S/);
}

before(async () => {
  assert.ok(process.env.CAPSTAN_HOME, "CAPSTAN_HOME is not set; run through scripts/e2e.sh");
  browser = await startApp();
});

after(async () => {
  await browser?.deleteSession();
});

test("a fresh home shows the welcome; Explore in the sandbox opens the Workflow", async (t) => {
  await shootOnFailure(t, "welcome", async () => {
    await (await byTestId("app-shell")).waitForDisplayed({ timeout: LONG });
    const welcome = await waitForTestId("setup-welcome");
    assert.match(await browser.execute((el) => el.textContent, welcome), /How do you want to start\?/);
    await (await byTestId("setup-explore-sandbox")).click();
    await waitForTestId("page-workflow");
    await waitForTestId("workflow-stepper");
    await waitForText("status-environment-name", /^Local sandbox$/);
    // The stepper reads the sandbox: nothing registered yet, later steps wait for earlier ones.
    await waitForAttribute(browser, "workflow-step-cloud_type", "data-status", "not_started", LONG);
    assert.equal(await stepStatus("pcg"), "blocked");
    assert.equal(await stepStatus("cloud_account"), "blocked");
    await waitForTestId("workflow-diagram");
    assert.equal(await attributeOfTestId(browser, "diagram-box-pcg", "data-state"), "absent");
    await screenshots(browser, "workflow-1-sandbox");
  });
});

test("step 1: shipped templates and a chosen infrastructure-components.yaml register the cloud type", async (t) => {
  await shootOnFailure(t, "step1", async () => {
    await (await byTestId("workflow-step-cloud_type")).click();
    await waitForTestId("step1");

    assert.equal(await setValueOfTestId(browser, "step1-capx-version", CAPX_VERSION), CAPX_VERSION);
    await (await byTestId("step1-source-shipped")).click();
    assert.equal(await browser.execute((sel) => document.querySelector(sel).checked, '[data-testid="step1-source-shipped"]'), true);
    // The download address follows the typed version: the form really took it.
    await waitForText("step1-download-url", new RegExp(`/download/${CAPX_VERSION}/infrastructure-components\\.yaml$`));

    const chosen = await chooseFileOnTestId(browser, "step1-upload-components", "infrastructure-components.yaml", components(CAPX_VERSION));
    assert.equal(chosen, "infrastructure-components.yaml");
    await waitForText("step1-components-version", new RegExp(`declares ${CAPX_VERSION.replace(/\./g, "\\.")}`));

    await waitForTestId("step1-plan");
    for (const name of TEMPLATES) await waitForTestId(`step1-template-${name}`);
    assert.equal(await attributeOfTestId(browser, "step1-plan", "data-registered"), "false");
    assert.equal(await attributeOfTestId(browser, "step1-plan", "data-errors"), "0");
    const register = await waitForEnabled("step1-register");
    assert.equal(await browser.execute((el) => el.textContent, register), "Register nutanix");

    // The template view is Monaco, showing the control-plane pool template.
    await (await byTestId("step1-template-controlPlanePoolTemplate")).click();
    await waitForAttribute(browser, "step1-template-view", "data-name", "controlPlanePoolTemplate");
    await waitForAttribute(browser, "step1-editor", "data-editor", "monaco", LONG);
    const monacoText = () =>
      browser.execute(() => document.querySelector('[data-testid="step1-editor"] .monaco-editor .view-lines')?.textContent ?? "");
    await browser.waitUntil(async () => /KubeadmControlPlane/.test(await monacoText()), {
      timeout: LONG,
      timeoutMsg: "Monaco never showed the control-plane pool template",
    });

    await register.click();
    const actions = await waitForText("step1-actions", /Registered the cloud type nutanix/);
    for (const name of TEMPLATES) assert.match(actions, new RegExp(`Uploaded ${name}`));
    assert.match(actions, /Uploaded infrastructure-components\.yaml/);
    await waitForAttribute(browser, "workflow-step-cloud_type", "data-status", "done", LONG);
    await waitForText("step1-register", /^Nothing to change$/);
    await screenshots(browser, "workflow-2-step1-registered");
  });
});

test("step 2: the PCG is created and applied to the sandbox's simulated host until Running", async (t) => {
  await shootOnFailure(t, "step2", async () => {
    await (await byTestId("workflow-step-pcg")).click();
    await waitForTestId("step2");
    await waitForEnabled("step2-name");
    assert.equal(await setValueOfTestId(browser, "step2-name", PCG_NAME), PCG_NAME);
    await (await waitForEnabled("step2-create")).click();

    await browser.waitUntil(async () => (await browser.$$('[data-testid="step2-command"]')).length === 2, {
      timeout: LONG,
      timeoutMsg: "the two install commands never showed",
    });
    const commands = await browser.execute(() => [...document.querySelectorAll('[data-testid="step2-command"]')].map((c) => c.textContent));
    assert.match(commands[0], /kubectl apply/);
    assert.match(commands[1], /kubectl apply/);
    await waitForTestId("step2-state");
    assert.notEqual(await attributeOfTestId(browser, "step2-state", "data-state"), "Running", "nothing is installed yet");

    const context = await waitForTestId("step2-context");
    await context.selectByAttribute("value", "capstan-sandbox-host");
    await browser.waitUntil(async () => (await browser.execute((el) => el.value, context)) === "capstan-sandbox-host", {
      timeout: 10000,
      timeoutMsg: "the simulated host context could not be chosen",
    });
    await (await waitForEnabled("step2-apply")).click();
    await waitForTestId("step2-apply-result");
    await waitForAttribute(browser, "step2-state", "data-state", "Running", 120000);
    await waitForAttribute(browser, "workflow-step-pcg", "data-status", "done", LONG);
    await waitForAttribute(browser, "diagram-box-pcg", "data-state", "ok", LONG);
    await reveal("step2-state");
    await screenshots(browser, "workflow-3-step2-running");
  });
});

test("step 3: the pre-filled account form creates the cloud account through the PCG", async (t) => {
  await shootOnFailure(t, "step3", async () => {
    await (await byTestId("workflow-step-cloud_account")).click();
    await waitForTestId("step3");
    const endpoint = await waitForTestId("step3-field-NUTANIX_ENDPOINT");
    await browser.waitUntil(async () => (await browser.execute((el) => el.value, endpoint)) !== "", {
      timeout: LONG,
      timeoutMsg: "NUTANIX_ENDPOINT was not pre-filled from setup",
    });
    // Secrets stay blank: setup's saved ones are used.
    const password = await byTestId("step3-field-NUTANIX_PASSWORD");
    assert.equal(await browser.execute((el) => el.value, password), "");
    assert.match(await password.getAttribute("placeholder"), /saved in setup/);
    await waitForText("step3-pcg", new RegExp(`${PCG_NAME} \\(Running\\)`));
    assert.equal(await browser.execute((el) => el.value !== "", await byTestId("step3-pcg")), true, "the Running PCG is pre-selected");

    assert.equal(await setValueOfTestId(browser, "step3-name", ACCOUNT_NAME), ACCOUNT_NAME);
    await (await waitForEnabled("step3-create")).click();
    await waitForText("step3-result", new RegExp(`Cloud account ${ACCOUNT_NAME} created`));
    await waitForAttribute(browser, "workflow-step-cloud_account", "data-status", "done", LONG);
    await reveal("step3-result");
    await screenshots(browser, "workflow-4-step3-created");
  });
});

test("after quitting and starting the app again with the same home, steps 1–3 are still done", async (t) => {
  await shootOnFailure(t, "restart", async () => {
    for (const id of DONE_STEPS) assert.equal(await stepStatus(id), "done", `${id} before the restart`);
    // Quit as a user does: close the window. The app then stops its engine and sandbox (which
    // saves its world); ending the WebDriver session instead would kill it outright.
    const before = appProcesses();
    assert.equal(before.length, 1, `one app process before the restart, found ${before}`);
    assert.ok(closeAppWindows(before[0]) > 0, "the app has a window to close");
    // The session has no page to poll any more: watch the process table.
    const quitBy = Date.now() + LONG;
    while (appProcesses().length > 0) {
      assert.ok(Date.now() < quitBy, `the app (${appProcesses()}) did not quit when its window was closed`);
      await delay(200);
    }
    // The app is gone; the session only needs ending. The new one starts the app from the same
    // tauri-driver, so with the same environment and CAPSTAN_HOME.
    await browser.deleteSession().catch(() => undefined);
    browser = await startApp();
    const after = appProcesses();
    assert.equal(after.length, 1, `one app process after the restart, found ${after}`);
    assert.notEqual(after[0], before[0], "a new app process, not the old one");

    await (await byTestId("app-shell")).waitForDisplayed({ timeout: LONG });
    assert.ok((await appLogDir()).startsWith(process.env.CAPSTAN_HOME), "the restarted app uses the same CAPSTAN_HOME");
    await (await byTestId("nav-workflow")).click();
    await waitForTestId("workflow-stepper");
    for (const id of DONE_STEPS) await waitForAttribute(browser, `workflow-step-${id}`, "data-status", "done", LONG);
    assert.equal(await stepStatus("profile"), "not_started");

    // The backend itself still sees the registration, the PCG and the account.
    await (await byTestId("workflow-step-cloud_type")).click();
    await waitForAttribute(browser, "step1-plan", "data-registered", "true", LONG);
    await (await byTestId("workflow-step-cloud_account")).click();
    await waitForText("step3-existing", new RegExp(ACCOUNT_NAME));
    await waitForText("step3-pcg", new RegExp(`${PCG_NAME} \\(Running\\)`));
    await screenshots(browser, "workflow-5-after-restart");
  });
});
