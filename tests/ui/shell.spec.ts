import { expect, openApp, shot, test } from "./fixtures";

const PAGES = [
  { id: "setup", label: "Setup" },
  { id: "workflow", label: "Workflow" },
  { id: "topology", label: "Topology" },
  { id: "clusters", label: "Clusters" },
  { id: "activity", label: "Activity" },
  { id: "settings", label: "Settings" },
] as const;

test("loads with the title Capstan and the sandbox in the status bar", async ({ page }) => {
  await openApp(page);
  await expect(page).toHaveTitle("Capstan");
  await expect(page.getByTestId("status-environment-kind")).toHaveText("Sandbox");
  await expect(page.getByTestId("status-palette-word")).toHaveText("Connected");
  await expect(page.getByTestId("status-prism-word")).toHaveText("Connected");
  await expect(page.getByTestId("status-checked-at")).toContainText("Checked");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link")).toHaveCount(6);
});

test("every page is reachable by clicking the sidebar", async ({ page }) => {
  await openApp(page);
  for (const p of PAGES) {
    await page.getByTestId(`nav-${p.id}`).click();
    await expect(page).toHaveURL(new RegExp(`#/${p.id}$`));
    await expect(page.getByTestId(`page-${p.id}`)).toBeVisible();
    await expect(page.getByRole("heading", { level: 1, name: p.label })).toBeVisible();
    await expect(page.getByTestId(`nav-${p.id}`)).toHaveAttribute("aria-current", "page");
    await shot(page, `page-${p.id}.png`);
  }
});

test("every page is reachable by keyboard: Alt+digit, Ctrl+digit and arrows in the nav", async ({ page }) => {
  await openApp(page);
  for (const [i, p] of PAGES.entries()) {
    await page.keyboard.press(`Alt+${i + 1}`);
    await expect(page.getByTestId(`page-${p.id}`)).toBeVisible();
  }
  await page.keyboard.press("Control+3");
  await expect(page.getByTestId("page-topology")).toBeVisible();

  // Arrow keys move focus within the nav; Enter follows the link.
  await page.getByTestId("nav-setup").focus();
  await page.keyboard.press("ArrowDown");
  await expect(page.getByTestId("nav-workflow")).toBeFocused();
  // Keyboard focus draws a visible ring.
  const outline = await page.getByTestId("nav-workflow").evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).toBe("solid");
  await shot(page, "focus-nav.png");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("ArrowUp");
  await expect(page.getByTestId("nav-settings")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("page-settings")).toBeVisible();

  // Tab reaches the status bar's "Check now".
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.getByTestId("status-check-now").evaluate((el) => el === document.activeElement);
  }
  expect(reached).toBe(true);
});

test("sidebar collapses to icons and expands again", async ({ page }) => {
  await openApp(page);
  await page.getByTestId("toggle-sidebar").click();
  await expect(page.getByTestId("sidebar")).toHaveAttribute("data-collapsed", "true");
  await expect(page.getByTestId("nav-activity")).toHaveAttribute("title", /Activity/);
  await shot(page, "shell-collapsed.png");
  await page.getByTestId("toggle-sidebar").click();
  await expect(page.getByTestId("sidebar")).not.toHaveAttribute("data-collapsed", "true");
});

test("command palette: Ctrl+K opens, filters, runs with Enter, Escape closes", async ({ page }) => {
  await openApp(page);
  await page.keyboard.press("Control+k");
  const dialog = page.getByRole("dialog", { name: "Command palette" });
  await expect(dialog).toBeVisible();
  const input = page.getByTestId("palette-input");
  await expect(input).toBeFocused();
  await expect(input).toHaveAttribute("role", "combobox");
  await expect(dialog.getByRole("option").first()).toHaveAttribute("aria-selected", "true");
  await shot(page, "palette.png");

  await input.fill("go clu");
  await expect(dialog.getByRole("option").first()).toContainText("Go to Clusters");
  const activeId = await input.getAttribute("aria-activedescendant");
  expect(activeId).toBe(await dialog.getByRole("option").first().getAttribute("id"));
  await shot(page, "palette-filtered.png");
  await page.keyboard.press("Enter");
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("page-clusters")).toBeVisible();

  // Arrow keys move the selection; Tab stays inside the dialog.
  await page.keyboard.press("Control+k");
  await input.fill("theme");
  await page.keyboard.press("ArrowDown");
  await expect(dialog.getByRole("option").nth(1)).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("Tab");
  await expect(input).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  // "Show errors in Activity" opens Activity filtered to errors.
  await page.keyboard.press("Control+k");
  await input.fill("errors");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("page-activity")).toBeVisible();
  await expect(page.getByTestId("activity-level-error")).toHaveAttribute("aria-checked", "true");
});

test("switching environment from the status bar updates it", async ({ page }) => {
  await openApp(page);
  await page.getByTestId("status-environment").click();
  const menu = page.getByRole("menu", { name: "Environments" });
  await expect(menu).toBeVisible();
  await expect(page.getByTestId("environment-option-sandbox")).toHaveAttribute("aria-checked", "true");
  await shot(page, "environment-menu.png");
  await page.getByTestId("environment-option-lab-fra").click();
  await expect(menu).toBeHidden();
  await expect(page.getByTestId("status-environment-name")).toHaveText("Lab Frankfurt");
  await expect(page.getByTestId("status-environment-kind")).toHaveText("Real");
  await expect(page.getByTestId("status-prism")).toHaveAttribute("data-state", "down");
  await page.getByTestId("status-prism").hover();
  await expect(page.getByTestId("status-prism-message")).toBeVisible();
  await expect(page.getByTestId("status-prism-message")).toContainText("Certificate not trusted");
  await shot(page, "environment-real.png");

  // Escape closes the menu and gives focus back to the trigger.
  await page.getByTestId("status-environment").click();
  await expect(menu).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(menu).toBeHidden();
  await expect(page.getByTestId("status-environment")).toBeFocused();
});

test("a failing status_refresh shows the error message and code, and retry clears it", async ({ page }) => {
  await openApp(page);
  await page.evaluate(() =>
    window.__CAPSTAN_MOCK__!.fail("status_refresh", {
      code: "timeout",
      message: "Palette did not answer within 10 s. Check the network or the proxy settings, then try again.",
    }),
  );
  await page.getByTestId("status-check-now").click();
  const banner = page.getByTestId("notice-status");
  await expect(banner).toBeVisible();
  await expect(banner.getByTestId("notice-message")).toHaveText(
    "Palette did not answer within 10 s. Check the network or the proxy settings, then try again.",
  );
  await expect(banner.getByTestId("notice-code")).toHaveText("timeout");
  await expect(page.getByTestId("status-check-failed")).toBeVisible();
  await shot(page, "status-error.png");

  await page.evaluate(() => window.__CAPSTAN_MOCK__!.clearFailure("status_refresh"));
  await banner.getByTestId("notice-retry").click();
  await expect(banner).toBeHidden();
  await expect(page.getByTestId("status-check-failed")).toBeHidden();
});

test("a status event from the backend updates the status bar", async ({ page }) => {
  await openApp(page);
  await page.evaluate(() => {
    const mock = window.__CAPSTAN_MOCK__!;
    const status = mock.server.currentStatus();
    mock.pushStatus({ ...status, palette: { state: "degraded", message: "Palette answers slowly (2.4 s)", latencyMs: 2400 } });
  });
  await expect(page.getByTestId("status-palette")).toHaveAttribute("data-state", "degraded");
  await expect(page.getByTestId("status-palette-word")).toHaveText("Degraded");
});

test("theme: light and dark from Settings, and following the system", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  await openApp(page, "#/settings");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await expect(page.getByTestId("app-version")).toContainText("Capstan 0.1.0");
  await expect(page.getByTestId("app-log-dir")).toContainText("/logs");

  await page.getByTestId("theme-dark").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(page.getByTestId("theme-dark")).toHaveAttribute("aria-checked", "true");
  const darkBg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  await shot(page, "settings-dark.png");
  await page.getByTestId("nav-setup").click();
  await shot(page, "shell-dark.png");

  await page.getByTestId("nav-settings").click();
  await page.getByTestId("theme-light").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  const lightBg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  expect(lightBg).not.toBe(darkBg);
  await shot(page, "settings-light.png");
  await page.getByTestId("nav-setup").click();
  await shot(page, "shell-light.png");

  // "System" follows prefers-color-scheme, live.
  await page.getByTestId("nav-settings").click();
  await page.getByTestId("theme-system").click();
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.emulateMedia({ colorScheme: "light" });
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");

  // The choice was persisted through settings_update.
  const saved = await page.evaluate(() => window.__CAPSTAN_MOCK__!.server.settings.theme);
  expect(saved).toBe("system");
});

test("Activity shows mocked events, filters by level and text, and appends live events", async ({ page }) => {
  await openApp(page, "#/activity");
  const rows = page.getByTestId("activity-row");
  await expect(rows.first()).toBeVisible();
  await expect(page.getByTestId("activity-log-file")).toContainText("capstan.2026-11-21.log");
  const infoCount = await rows.count();
  expect(infoCount).toBeGreaterThan(10);
  await shot(page, "activity.png");

  await page.getByTestId("activity-level-error").click();
  await expect(rows.first()).toHaveAttribute("data-level", "error");
  for (const level of await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-level")))) {
    expect(level).toBe("error");
  }

  await page.getByTestId("activity-level-info").click();
  await page.getByTestId("activity-filter").fill("retrying");
  await expect(rows.first()).toContainText("Retrying after 429");
  for (const text of await rows.allInnerTexts()) expect(text.toLowerCase()).toContain("retrying");

  await page.getByTestId("activity-filter").fill("");
  await page.evaluate(() =>
    window.__CAPSTAN_MOCK__!.pushActivity({
      level: "warn",
      target: "capstan_engine::workflow",
      message: "PCG heartbeat late by 45 s",
      fields: { pcg: "pcg-nutanix-01" },
    }),
  );
  await expect(page.getByTestId("activity-row").filter({ hasText: "PCG heartbeat late" })).toBeVisible();

  // Clicking a row shows its details.
  await page.getByTestId("activity-row").filter({ hasText: "PCG heartbeat late" }).click();
  await expect(page.getByTestId("activity-detail")).toContainText("pcg-nutanix-01");
  await shot(page, "activity-detail.png");
});

test("Activity stays responsive with thousands of events (virtualised)", async ({ page }) => {
  await openApp(page, "#/activity");
  await expect(page.getByTestId("activity-row").first()).toBeVisible();
  const started = Date.now();
  await page.evaluate(() => {
    const mock = window.__CAPSTAN_MOCK__!;
    for (let i = 0; i < 3000; i++) mock.pushActivity({ message: `bulk event ${i}`, fields: { i: String(i) } });
  });
  await expect(page.getByTestId("activity-row").filter({ hasText: "bulk event 2999" })).toBeVisible();
  const elapsed = Date.now() - started;
  const rendered = await page.getByTestId("activity-row").count();
  // Only the rows in view (plus overscan) are in the DOM.
  expect(rendered).toBeLessThan(120);
  expect(elapsed).toBeLessThan(10_000);
  console.log(`3000 live events appended and shown in ${elapsed} ms; ${rendered} rows in the DOM`);
});

test("the app never renders a blank page when the backend fails at startup", async ({ page }) => {
  // The mock reads this before the app's first command.
  await page.addInitScript(() => {
    window.__CAPSTAN_MOCK_INIT__ = {
      failures: { status_get: { code: "unavailable", message: "The sandbox is still starting. It will be ready in a few seconds." } },
    };
  });
  await page.goto("/#/setup");
  await expect(page.getByTestId("notice-status")).toContainText("The sandbox is still starting");
  await expect(page.getByTestId("notice-status")).toContainText("unavailable");
  await expect(page.getByRole("heading", { level: 1, name: "Setup" })).toBeVisible();
});

test("a small window keeps every page usable without horizontal scrolling", async ({ page }) => {
  await page.setViewportSize({ width: 860, height: 560 });
  await openApp(page);
  for (const p of PAGES) {
    await page.getByTestId(`nav-${p.id}`).click();
    await expect(page.getByTestId(`page-${p.id}`)).toBeVisible();
    const overflow = await page.evaluate(() => {
      const main = document.querySelector("main .page") as HTMLElement;
      return { doc: document.documentElement.scrollWidth - document.documentElement.clientWidth, page: main.scrollWidth - main.clientWidth };
    });
    expect(overflow, `horizontal overflow on ${p.id}`).toEqual({ doc: 0, page: 0 });
    await expect(page.getByTestId("status-check-now")).toBeInViewport();
  }
  await page.getByTestId("nav-activity").click();
  await expect(page.getByTestId("activity-row").first()).toBeVisible();
  await shot(page, "small-activity.png");
  await page.getByTestId("nav-workflow").click();
  await shot(page, "small-workflow.png");
});
