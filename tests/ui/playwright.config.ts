import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const uiDir = path.join(repoRoot, "ui");

// The web servers serve builds; they do not make them (scripts/test.sh, layer ui, does).
if (!existsSync(path.join(uiDir, "dist-e2e", "index.html"))) {
  throw new Error("ui/dist-e2e is missing: run `npm --prefix ui run build:e2e` before `npx playwright test`.");
}
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repoRoot, "target");
const bridgeBinary = path.join(targetDir, "debug", "capstan-bridge");
if (!existsSync(bridgeBinary) || !existsSync(path.join(uiDir, "dist-bridge", "index.html"))) {
  throw new Error(
    "capstan-bridge or ui/dist-bridge is missing: run `cargo build -p capstan-bridge` and `npm --prefix ui run build:bridge` first.",
  );
}
/** The real engine and sandbox behind the bridge build (tests named *.sandbox.spec.ts). */
export const BRIDGE_PORT = 4180;

export default defineConfig({
  testDir: here,
  projects: [
    // The UI against the in-page FakeServer (fast, deterministic, failure injection).
    { name: "mocked", testMatch: /^(?!.*\.sandbox\.spec\.ts$).*\.spec\.ts$/, use: { baseURL: "http://127.0.0.1:4173" } },
    // The UI against the real engine and the embedded sandbox, over capstan-bridge.
    { name: "sandbox", testMatch: /\.sandbox\.spec\.ts$/, use: { baseURL: `http://127.0.0.1:${BRIDGE_PORT}` } },
  ],
  outputDir: path.join(repoRoot, "artifacts/ui-tests/results"),
  fullyParallel: false,
  // Two cores shared with other builds: one worker keeps timings stable.
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: [["list"], ["html", { outputFolder: path.join(repoRoot, "artifacts/ui-tests/report"), open: "never" }]],
  use: {
    viewport: { width: 1280, height: 800 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      // Serves the mocked build made by `npm run build:e2e` in ui/.
      command: "npx vite preview --outDir dist-e2e --port 4173 --strictPort --host 127.0.0.1",
      cwd: uiDir,
      url: "http://127.0.0.1:4173",
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      // A fresh home each run: an empty cache that the first sync fills.
      command: `bash -c 'home=$(mktemp -d) && CAPSTAN_KUBECONFIG_DIR="$home/kube" exec "${bridgeBinary}" --ui "${path.join(uiDir, "dist-bridge")}" --port ${BRIDGE_PORT} --home "$home"'`,
      cwd: repoRoot,
      env: { CAPSTAN_SANDBOX_VMS: "2000", CAPSTAN_SANDBOX_TIME_SCALE: "0.02", RUST_LOG: "info" },
      url: `http://127.0.0.1:${BRIDGE_PORT}`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
