// Shared set-up for end-to-end tests: one app session per test file. tauri-driver starts the
// app from its own environment, so scripts/e2e.sh gives the driver a fresh CAPSTAN_HOME per
// run; tests must not rely on state left by an earlier file.
import { remote } from "webdriverio";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const artifacts = process.env.CAPSTAN_E2E_ARTIFACTS ?? join(process.cwd(), "artifacts");
mkdirSync(artifacts, { recursive: true });

export async function startApp() {
  const application = process.env.CAPSTAN_APP_BIN;
  if (!application) throw new Error("CAPSTAN_APP_BIN is not set; run through scripts/e2e.sh");
  const browser = await remote({
    hostname: "127.0.0.1",
    port: Number(process.env.CAPSTAN_E2E_DRIVER_PORT ?? 4444),
    logLevel: "warn",
    capabilities: { "tauri:options": { application } },
  });
  return browser;
}

/** The whole X screen (the real window as WebKitGTK drew it), next to wdio's page shot. */
export function screenshotScreen(name) {
  const file = join(artifacts, `${name}-screen.png`);
  try {
    execFileSync("import", ["-window", "root", file]);
  } catch (e) {
    console.log(`# could not grab the X screen: ${e.message}`);
  }
  return file;
}

export async function waitForText(element, predicate, timeout = 20000) {
  await element.waitUntil(async () => predicate(await element.getText()), {
    timeout,
    timeoutMsg: `text did not match in ${timeout} ms`,
  });
  return element.getText();
}
