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

// ---- steps 4 and 5, then day-2, continuing in the restarted app -------------------------------

const PROFILE_NAME = "e2e-profile";
const CLUSTER_NAME = "e2e-cluster";
// At the e2e clock (1/20 speed) a cluster takes about 10 s to come up; the machine is slow.
const CLUSTER_UP = 180000;

/** Picks the option of a pack picker whose label names `pack` (values carry registry uids). */
async function pickPack(layer, pack) {
  const id = `profile-pack-${layer}`;
  await waitForTestId(id);
  const value = await browser.execute(
    (sel, name) => [...document.querySelectorAll(`${sel} option`)].find((o) => o.textContent.includes(`(${name})`))?.value ?? null,
    `[data-testid="${id}"]`,
    pack,
  );
  assert.ok(value, `${pack} is offered for the ${layer} layer`);
  assert.equal(await setValueOfTestId(browser, id, value), value);
}

test("step 4: a profile is made from packs per layer, its values in Monaco, and published", async (t) => {
  await shootOnFailure(t, "step4", async () => {
    await (await byTestId("workflow-step-profile")).click();
    await waitForTestId("step4");
    await pickPack("os", "os-nutanix");
    await pickPack("k8s", "kubernetes");
    await waitForTestId("profile-version-k8s");
    assert.equal(await setValueOfTestId(browser, "profile-version-k8s", "1.30.6"), "1.30.6");
    await pickPack("cni", "cni-cilium-oss");
    await pickPack("csi", "nutanix-csi");
    // The CSI layer's values, from the pack's defaults, in Monaco.
    await (await waitForEnabled("profile-edit-csi")).click();
    await waitForAttribute(browser, "profile-editor", "data-editor", "monaco", LONG);
    await browser.waitUntil(
      async () => /nutanix-csi/.test(await browser.execute(() => document.querySelector('[data-testid="profile-editor"] .view-lines')?.textContent ?? "")),
      { timeout: LONG, timeoutMsg: "Monaco never showed the nutanix-csi defaults" },
    );
    assert.equal(await setValueOfTestId(browser, "profile-name", PROFILE_NAME), PROFILE_NAME);
    assert.equal(await setValueOfTestId(browser, "profile-version", "1.0.0"), "1.0.0");
    await waitForAttribute(browser, "profile-name-check", "data-state", "available", LONG);
    await reveal("profile-editor");
    await screenshots(browser, "workflow-6-profile-editor");
    await (await waitForEnabled("profile-create")).click();
    await waitForAttribute(browser, "profile-result", "data-created", "true", LONG);
    await waitForAttribute(browser, "workflow-step-profile", "data-status", "done", LONG);
  });
});

test("step 5: live pickers, a preflight that refuses a VIP in the DHCP pool, then deploy to Running", async (t) => {
  await shootOnFailure(t, "step5", async () => {
    await (await byTestId("workflow-step-cluster")).click();
    await waitForTestId("step5");
    await waitForText("deploy-profile", new RegExp(PROFILE_NAME));
    // The first Prism Element; its subnet and a matching image are picked from Prism Central.
    const pe = await browser.execute(() => [...document.querySelectorAll('[data-testid="deploy-pe"] option')].find((o) => o.value)?.value ?? null);
    assert.ok(pe, "Prism Central offers a Prism Element");
    await setValueOfTestId(browser, "deploy-pe", pe);
    await waitForTestId("deploy-subnet");
    await browser.waitUntil(async () => (await browser.execute(() => document.querySelector('[data-testid="deploy-image"]')?.value ?? "")) !== "", {
      timeout: LONG,
      timeoutMsg: "no node image was picked",
    });
    assert.match(
      await browser.execute(() => document.querySelector('[data-testid="deploy-image"] option:checked')?.textContent ?? ""),
      /kube-v1\.30\./,
    );
    assert.equal(await setValueOfTestId(browser, "deploy-name", CLUSTER_NAME), CLUSTER_NAME);
    if (await exists("deploy-ssh-paste-mode")) await (await byTestId("deploy-ssh-paste-mode")).click();
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2eTestKeyForTheSandboxOnly e2e@capstan";
    await waitForTestId("deploy-ssh-paste");
    assert.equal(await setValueOfTestId(browser, "deploy-ssh-paste", key), key);

    // The first address of the subnet's pool: inside DHCP, so the preflight must refuse it.
    const pool = await browser.execute(() => document.querySelector('[data-testid="deploy-subnet"]')?.getAttribute("data-pools") ?? "");
    const inPool = pool.split(/[-,\s]/)[0] || "10.64.0.10";
    await setValueOfTestId(browser, "deploy-vip", inPool);
    await (await waitForEnabled("deploy-preflight-run")).click();
    await waitForAttribute(browser, "preflight-report", "data-verdict", "fail", LONG);
    await waitForAttribute(browser, "preflight-check-vipInSubnet", "data-outcome", "fail", LONG);
    assert.equal(await browser.execute(() => document.querySelector('[data-testid="deploy-submit"]').disabled), true, "deploy is blocked");
    await reveal("preflight-report");
    await screenshots(browser, "workflow-7-preflight-report");

    // A suggested free address, and the preflight passes.
    await (await waitForTestId("deploy-vip-candidate")).click();
    await (await waitForEnabled("deploy-preflight-run")).click();
    await browser.waitUntil(async () => /pass|warn/.test((await attributeOfTestId(browser, "preflight-report", "data-verdict")) ?? ""), {
      timeout: LONG,
      timeoutMsg: "the preflight never passed with a free VIP",
    });
    await (await waitForEnabled("deploy-submit")).click();

    // The progress timeline: VMs with addresses as CAPX creates them, then Running.
    await waitForTestId("cluster-progress");
    await browser.waitUntil(async () => /\d+\.\d+\.\d+\.\d+/.test((await browser.execute(() => document.querySelector('[data-testid="node-ip"]')?.textContent ?? "")) || ""), {
      timeout: CLUSTER_UP,
      timeoutMsg: "no node got an IP address",
    });
    await reveal("cluster-progress");
    await screenshots(browser, "workflow-8-progress-timeline");
    await waitForTestId("cluster-ready", CLUSTER_UP);
    await waitForAttribute(browser, "workflow-step-cluster", "data-status", "done", LONG);
  });
});

test("the new cluster's VMs are in Topology; it is scaled and deleted from its detail page", async (t) => {
  await shootOnFailure(t, "day2", async () => {
    const uid = await attributeOfTestId(browser, "workflow-step-cluster", "data-object-uid");
    // Topology, from the cache the app refreshed when the cluster's VMs appeared.
    await (await byTestId("nav-topology")).click();
    await waitForTestId("topology-canvas");
    await waitForTestId(`topology-node-cluster:${CLUSTER_NAME}`, CLUSTER_UP);
    await setValueOfTestId(browser, "topology-search", `${CLUSTER_NAME}-`);
    await browser.waitUntil(async () => (await browser.$$('[data-testid="topology-search-result"]')).length >= 3, {
      timeout: LONG,
      timeoutMsg: "the cluster's three VMs are not found in Topology",
    });
    await screenshots(browser, "workflow-9-topology");

    // The detail page, by the uid step 5 names (or from the Clusters list).
    await browser.execute((id) => {
      window.location.hash = id ? `#/clusters?cluster=${id}` : "#/clusters";
    }, uid);
    if (!uid) await (await waitForTestId("cluster-detail-link")).click();
    await waitForAttribute(browser, "cluster-phase", "data-phase", "running", LONG);
    const workersSelector = '[data-testid="cluster-pool"]:not([data-control-plane="true"])';
    const nodesIn = () => browser.execute((sel) => document.querySelectorAll(`${sel} [data-testid="cluster-node"]`).length, workersSelector);
    assert.equal(await nodesIn(), 2);
    await browser.execute((sel) => document.querySelector(`${sel} [data-testid="scale-open"]`).click(), workersSelector);
    await waitForTestId("scale-input");
    await setValueOfTestId(browser, "scale-input", "3");
    await (await waitForEnabled("scale-confirm")).click();
    await browser.waitUntil(
      async () =>
        (await browser.execute((sel) => [...document.querySelectorAll(`${sel} [data-testid="cluster-node"]`)].filter((n) => n.dataset.state === "Running").length, workersSelector)) === 3,
      { timeout: CLUSTER_UP, timeoutMsg: "the third worker never ran" },
    );
    await (await waitForEnabled("kubeconfig-download")).click();
    await waitForText("kubeconfig-saved", /0600/);
    await screenshots(browser, "workflow-10-cluster-detail");

    await (await waitForEnabled("delete-open")).click();
    await setValueOfTestId(browser, "delete-confirm-input", CLUSTER_NAME);
    await (await waitForEnabled("delete-confirm")).click();
    await waitForTestId("cluster-gone", CLUSTER_UP);
    await screenshots(browser, "workflow-11-cluster-deleted");
  });
});
