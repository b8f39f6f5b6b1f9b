import path from "node:path";
import { fileURLToPath } from "node:url";
import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

export const SHOTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../artifacts/ui-tests");

/** Every test fails if the page throws or logs an error to the console. */
export const test = base.extend<{ problems: string[] }>({
  problems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
      page.on("console", (msg) => {
        if (msg.type() === "error") problems.push(`console.error: ${msg.text()}`);
      });
      await use(problems);
      expect(problems, "page errors / console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Opens the app on a page and waits until the status bar has the mocked environment. */
export async function openApp(page: Page, hash = "#/setup"): Promise<void> {
  await page.goto(`/${hash}`);
  await expect(page.getByTestId("status-environment-name")).toHaveText("Local sandbox");
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS_DIR, name), fullPage: true });
}

/** A command on the real engine behind capstan-bridge (sandbox project only). */
export async function rpc<T>(request: APIRequestContext, cmd: string, payload: unknown): Promise<T> {
  const reply = await request.post("/rpc", { data: { cmd, payload } });
  expect(reply.ok()).toBe(true);
  const body = (await reply.json()) as { ok?: T; err?: { code: string; message: string } };
  if (body.err) throw new Error(`${cmd}: ${body.err.code} ${body.err.message}`);
  return body.ok as T;
}

/** Waits until the engine's first background sync has filled the cache. */
export async function waitForCache(request: APIRequestContext): Promise<void> {
  await expect
    .poll(
      async () => {
        const s = await rpc<{ freshness: { empty: boolean }; sync: unknown }>(request, "cache_summary", {});
        return !s.freshness.empty && s.sync === null;
      },
      { timeout: 60_000, intervals: [250, 500, 1000] },
    )
    .toBe(true);
}
