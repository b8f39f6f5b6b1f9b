// The real Capstan binary, in a real WebKitGTK window under Xvfb, against its embedded sandbox.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startApp, screenshotScreen, artifacts } from "./support.mjs";

const PAGES = [
  ["setup", "Setup"],
  ["workflow", "Workflow"],
  ["topology", "Topology"],
  ["clusters", "Clusters"],
  ["activity", "Activity"],
  ["settings", "Settings"],
];

let browser;
const byTestId = (id) => browser.$(`[data-testid="${id}"]`);
// textContent read in the page: WebKitWebDriver's "element text" applies visibility rules
// that return "" for some styled spans.
const textOf = (id) =>
  browser.execute((sel) => document.querySelector(sel)?.textContent ?? "", `[data-testid="${id}"]`);

before(async () => {
  browser = await startApp();
});

after(async () => {
  await browser?.deleteSession();
});

test("the window is titled Capstan and renders the shell", async () => {
  assert.equal(await browser.getTitle(), "Capstan");
  await (await byTestId("app-shell")).waitForDisplayed({ timeout: 15000 });
  await (await byTestId("sidebar")).waitForDisplayed();
  await (await byTestId("statusbar")).waitForDisplayed();
});

test("the status bar shows the sandbox and both services healthy (real backend, real sandbox)", async () => {
  const name = await byTestId("status-environment-name");
  await name.waitUntil(async () => (await name.getText()) === "Local sandbox", { timeout: 15000 });
  assert.match(await (await byTestId("status-environment-kind")).getText(), /sandbox/i);
  for (const service of ["status-palette", "status-prism"]) {
    const item = await byTestId(service);
    await item.waitUntil(async () => (await item.getAttribute("data-state")) === "ok", {
      timeout: 30000,
      timeoutMsg: `${service} did not become healthy`,
    });
  }
  const checked = await (await byTestId("status-checked-at")).getText();
  assert.match(checked, /Checked/);
});

test("every page is reachable from the navigation", async () => {
  for (const [id, label] of PAGES) {
    await (await byTestId(`nav-${id}`)).click();
    const page = await byTestId(`page-${id}`);
    await page.waitForDisplayed({ timeout: 5000 });
    const heading = await page.$("h1");
    assert.equal(await heading.getText(), label);
  }
});

test("the Settings page shows what the backend reports about itself", async () => {
  await (await byTestId("nav-settings")).click();
  const version = await byTestId("app-version");
  await version.waitUntil(async () => (await version.getText()).includes("0.1.0"), { timeout: 5000 });
  assert.match(await textOf("app-log-dir"), /capstan-e2e-.*logs$/, "log dir comes from the real backend (CAPSTAN_HOME)");
});

test("the command palette opens with Ctrl+K and navigates", async () => {
  await (await byTestId("nav-setup")).click();
  await browser.keys(["Control", "k"]);
  const input = await byTestId("palette-input");
  await input.waitForDisplayed({ timeout: 5000 });
  await input.setValue("activity");
  await browser.keys(["Enter"]);
  await (await byTestId("page-activity")).waitForDisplayed({ timeout: 5000 });
  assert.equal(await (await byTestId("command-palette")).isExisting(), false, "palette closes after running");
});

test("the Activity page lists real backend events and takes a screenshot of the shell", async () => {
  await (await byTestId("nav-activity")).click();
  await (await byTestId("activity-filter")).setValue("connection check");
  // textContent through the page itself: WebKitWebDriver's element text is slow and brittle
  // on long virtualised lists.
  const rowsText = () =>
    browser.execute(() =>
      [...document.querySelectorAll('[data-testid="activity-row"]')].map((r) => r.textContent).join("\n"),
    );
  try {
    await browser.waitUntil(async () => (await rowsText()).includes("connection check finished"), {
      timeout: 20000,
      timeoutMsg: "the backend's connection-check event never reached the Activity page",
    });
  } finally {
    await browser.saveScreenshot(join(artifacts, "shell-activity.png"));
  }
  assert.match(await textOf("activity-log-file"), /capstan\.\d{4}-\d{2}-\d{2}\.log$/);

  await (await byTestId("nav-workflow")).click();
  await (await byTestId("page-workflow")).waitForDisplayed();
  await browser.saveScreenshot(join(artifacts, "shell-workflow.png"));
  screenshotScreen("shell-workflow");
});
