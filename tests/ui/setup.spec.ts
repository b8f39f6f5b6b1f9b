/**
 * First-time setup against the mocked backend (ui/src/lib/backend/fake-setup.ts answers like
 * the engine): welcome, connect, the diagnosis of a bad certificate and bad credentials, save
 * and activate, and the encrypted-file fallback when no keyring is available.
 */
import type { Locator, Page } from "@playwright/test";
import type { CapstanMockInit } from "../../ui/src/lib/backend/mock-ipc";
import { expect, openApp, shot, test } from "./fixtures";

async function start(page: Page, init: CapstanMockInit): Promise<void> {
  await page.addInitScript((value) => {
    window.__CAPSTAN_MOCK_INIT__ = value;
  }, init);
  await openApp(page, "#/setup");
}

function diagnosis(page: Page, service: "palette" | "prismCentral"): Locator {
  return page.locator(`[data-testid=diagnosis][data-service=${service}]`);
}

function step(d: Locator, name: string): Locator {
  return d.locator(`[data-testid=diagnosis-step][data-step=${name}]`);
}

async function fillConnection(page: Page, prismAddress: string, prismPassword: string): Promise<void> {
  await page.getByTestId("env-name").fill("Lab Berlin");
  await page.getByTestId("palette-api-key").fill("tenant-api-key");
  await page.getByTestId("prism-address").fill(prismAddress);
  await expect(page.getByTestId("prism-port")).toHaveValue("9440");
  await page.getByTestId("prism-username").fill("admin");
  await page.getByTestId("prism-password").fill(prismPassword);
}

test("first run: connect, a bad certificate is explained and trusted, bad credentials are explained, saved and activated", async ({ page }) => {
  await start(page, { setup: { firstRun: true } });
  await expect(page.getByTestId("setup-welcome")).toBeVisible();
  await expect(page.getByTestId("setup-explore-sandbox")).toContainText("No account needed");
  await shot(page, "setup-welcome.png");

  await page.getByTestId("setup-connect-real").click();
  await expect(page.getByTestId("env-form")).toBeVisible();
  await expect(page.getByTestId("palette-url")).toHaveValue("https://api.spectrocloud.com");
  await fillConnection(page, "pc.selfsigned.lab.example", "wrong");

  // Palette: the test lists the projects for the picker.
  await page.getByTestId("test-palette").click();
  await expect(diagnosis(page, "palette")).toHaveAttribute("data-verdict", "pass");
  await page.getByTestId("palette-project").selectOption({ label: "nutanix-lab" });

  // Prism Central with system trust: the self-signed certificate is the diagnosis.
  await page.getByTestId("test-prism").click();
  const prism = diagnosis(page, "prismCentral");
  await expect(prism).toHaveAttribute("data-verdict", "fail");
  await expect(step(prism, "tls")).toHaveAttribute("data-outcome", "fail");
  await expect(step(prism, "tls")).toContainText("The certificate is self-signed");
  await expect(step(prism, "auth")).toHaveAttribute("data-outcome", "skipped");
  const certificate = step(prism, "tls").getByTestId("certificate");
  await expect(certificate).toContainText("CN=pc.selfsigned.lab.example");
  const fingerprint = (await certificate.getByTestId("cert-fingerprint").innerText()).trim();
  expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  await certificate.scrollIntoViewIfNeeded();
  await shot(page, "setup-bad-certificate.png");

  await page.getByTestId("trust-certificate").click();
  await expect(page.getByTestId("tls-mode-prism")).toHaveValue("pinned");
  await expect(page.getByTestId("pin-prism")).toHaveValue(fingerprint.replace(/:/g, "").toLowerCase());
  await expect(page.getByTestId("diagnosis-stale")).toBeVisible();

  // Pinned: TLS passes, and the wrong password is told apart from it.
  await page.getByTestId("test-prism").click();
  await expect(step(prism, "tls")).toHaveAttribute("data-outcome", "pass");
  await expect(step(prism, "auth")).toHaveAttribute("data-outcome", "fail");
  await expect(step(prism, "auth")).toContainText("Prism Central rejected the credentials");
  await expect(step(prism, "auth")).toContainText("HTTP 401");
  await expect(step(prism, "auth").getByTestId("diagnosis-fix")).toContainText("Check the user name and password");
  await step(prism, "auth").scrollIntoViewIfNeeded();
  await shot(page, "setup-bad-credentials.png");

  await page.getByTestId("prism-password").fill("the-right-password");
  await page.getByTestId("test-prism").click();
  await expect(prism).toHaveAttribute("data-verdict", "pass");
  await expect(step(prism, "product")).toContainText("This is Prism Central");

  // Save without switching to it, then activate it from the list.
  await page.getByTestId("env-activate-after-save").uncheck();
  await page.getByTestId("env-save").click();
  await expect(page.getByTestId("setup-saved")).toContainText("Saved “Lab Berlin”. Its credentials are in the system keyring.");
  const row = page.locator("[data-testid=env-row][data-id=lab-berlin]");
  await expect(row).toContainText("Lab Berlin");
  await expect(page.getByTestId("status-environment-name")).toHaveText("Local sandbox");
  await row.getByTestId("env-activate").click();
  await expect(page.getByTestId("status-environment-name")).toHaveText("Lab Berlin");
  await expect(page.getByTestId("status-environment-kind")).toHaveText("Real");
  await expect(row.getByTestId("env-row-active")).toBeVisible();
  // The saved pin makes the health check pass too.
  await expect(page.getByTestId("status-prism-word")).toHaveText("Connected");
  await shot(page, "setup-saved.png");

  // What was sent: the pinned fingerprint and the project; secrets only as typed, never shown back.
  const saved = await page.evaluate(() => window.__CAPSTAN_MOCK__!.calls("environment_save"));
  expect(saved).toHaveLength(1);
  expect(saved[0]).toMatchObject({
    config: { palette: { projectName: "nutanix-lab" }, prism: { tls: { mode: "pinned" } } },
    activate: false,
  });
  await row.getByTestId("env-edit").click();
  await expect(page.getByTestId("saved-prism-password")).toBeVisible();
  await expect(page.getByTestId("prism-password")).toHaveValue("");
  await expect(page.getByTestId("palette-api-key")).toHaveValue("");
  expect(await page.content()).not.toContain("the-right-password");
});

test("no keyring: the fallback is offered plainly, nothing is saved until a passphrase is chosen, then it is saved", async ({ page }) => {
  await start(page, { setup: { firstRun: true, secretStore: "needs_fallback" } });
  await page.getByTestId("setup-connect-real").click();
  const store = page.getByTestId("secret-store-status");
  await expect(store).toHaveAttribute("data-state", "needs_fallback");
  await expect(store).toContainText("No system keyring is available");
  await expect(store).toContainText("No Secret Service is running on this desktop");
  await expect(page.getByTestId("secret-fallback")).toBeVisible();

  await fillConnection(page, "pc.berlin.example.net", "pw-123456");
  await page.getByTestId("env-save").click();
  await expect(page.getByTestId("save-blocked")).toContainText("Nothing was written");
  expect(await page.evaluate(() => window.__CAPSTAN_MOCK__!.server.environments.map((e) => e.id))).toEqual(["sandbox"]);
  // Everything typed is still there.
  await expect(page.getByTestId("prism-password")).toHaveValue("pw-123456");

  await page.getByTestId("passphrase").fill("tiny");
  await page.getByTestId("passphrase-confirm").fill("tiny");
  await page.getByTestId("secret-unlock").click();
  await expect(page.getByTestId("passphrase-error")).toContainText("at least 8 characters");
  await page.getByTestId("passphrase").fill("correct horse battery");
  await page.getByTestId("passphrase-confirm").fill("correct horse battery");
  await store.scrollIntoViewIfNeeded();
  await shot(page, "setup-no-keyring.png");
  await page.getByTestId("secret-unlock").click();

  await expect(page.getByTestId("setup-saved")).toContainText("Its credentials are in the encrypted file at");
  await expect(page.locator("[data-testid=env-row][data-id=lab-berlin]")).toBeVisible();
  await expect(page.getByTestId("secret-store-status")).toHaveAttribute("data-backend", "encrypted_file");
  await expect(page.getByTestId("status-environment-name")).toHaveText("Lab Berlin");
  const status = await page.evaluate(() => window.__CAPSTAN_MOCK__!.server.setup.status());
  expect(status).toMatchObject({ state: "ready", backend: "encrypted_file", fileExists: true });
  await shot(page, "setup-saved-encrypted-file.png");
});

test("a locked secrets file asks for its passphrase; a wrong one is explained", async ({ page }) => {
  await start(page, { setup: { secretStore: "locked", passphrase: "open sesame please" } });
  const store = page.getByTestId("secret-store-status");
  await expect(store).toHaveAttribute("data-state", "locked");
  await page.getByTestId("passphrase").fill("open sesame");
  await page.getByTestId("secret-unlock").click();
  await expect(page.getByTestId("passphrase-error")).toContainText("does not unlock the secrets file");
  await shot(page, "setup-locked.png");
  await page.getByTestId("passphrase").fill("open sesame please");
  await page.getByTestId("secret-unlock").click();
  await expect(store).toHaveAttribute("data-state", "ready");
  await expect(store).toContainText("Saved in the encrypted file at");
});

/** Horizontal overflow of the page area and of `selector` (the status bar is not this page's). */
async function overflowOf(page: Page, selector: string) {
  return page.evaluate((sel) => {
    const main = document.querySelector("main") as HTMLElement;
    const scroller = document.querySelector("main .page") as HTMLElement;
    const part = document.querySelector(sel) as HTMLElement;
    return { main: main.scrollWidth - main.clientWidth, page: scroller.scrollWidth - scroller.clientWidth, part: part.scrollWidth - part.clientWidth };
  }, selector);
}

test("the list, the connect form and its diagnosis fit a small window without horizontal scrolling", async ({ page }) => {
  await page.setViewportSize({ width: 860, height: 560 });
  await start(page, { setup: { secretStore: "needs_fallback" } });
  await expect(page.getByTestId("env-list")).toBeVisible();
  await page.getByTestId("secret-fallback").click();
  expect(await overflowOf(page, "[data-testid=env-list]")).toEqual({ main: 0, page: 0, part: 0 });
  await page.getByTestId("env-add").click();
  await fillConnection(page, "pc.selfsigned.lab.example", "pw");
  await page.getByTestId("tls-mode-palette").selectOption("insecure");
  await expect(page.getByTestId("tls-insecure-palette")).toContainText("Certificates are not checked");
  await page.getByTestId("test-prism").click();
  await expect(diagnosis(page, "prismCentral")).toHaveAttribute("data-verdict", "fail");
  expect(await overflowOf(page, "[data-testid=env-form]")).toEqual({ main: 0, page: 0, part: 0 });
  await shot(page, "setup-small-window.png");
});
