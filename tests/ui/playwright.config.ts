import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const uiDir = path.join(repoRoot, "ui");

// The web server only serves the mocked build; it does not make it.
if (!existsSync(path.join(uiDir, "dist-e2e", "index.html"))) {
  throw new Error("ui/dist-e2e is missing: run `npm --prefix ui run build:e2e` before `npx playwright test`.");
}

export default defineConfig({
  testDir: here,
  testMatch: "*.spec.ts",
  outputDir: path.join(repoRoot, "artifacts/ui-tests/results"),
  fullyParallel: false,
  // Two cores shared with other builds: one worker keeps timings stable.
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: [["list"], ["html", { outputFolder: path.join(repoRoot, "artifacts/ui-tests/report"), open: "never" }]],
  use: {
    baseURL: "http://127.0.0.1:4173",
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
  webServer: {
    // Serves the mocked build made by `npm run build:e2e` in ui/.
    command: "npx vite preview --outDir dist-e2e --port 4173 --strictPort --host 127.0.0.1",
    cwd: uiDir,
    url: "http://127.0.0.1:4173",
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
