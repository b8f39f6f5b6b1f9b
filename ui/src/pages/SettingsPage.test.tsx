import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend } from "../lib/backend/mock";
import { renderApp } from "../test/render";

describe("Settings page", () => {
  it("shows app info from app_info", async () => {
    const { backend } = await renderApp({ hash: "#/settings" });
    expect(await screen.findByTestId("app-version")).toHaveTextContent("Capstan 0.1.0");
    expect(screen.getByTestId("app-data-dir")).toHaveTextContent(backend.server.appInfo.dataDir);
    expect(screen.getByTestId("app-log-dir")).toHaveTextContent(backend.server.appInfo.logDir);
  });

  it("applies the chosen theme as data-theme and saves it with settings_update", async () => {
    const { user, backend } = await renderApp({ hash: "#/settings" });
    // jsdom has no matchMedia, so "system" resolves to light.
    await waitFor(() => expect(document.documentElement).toHaveAttribute("data-theme", "light"));

    await user.click(screen.getByRole("radio", { name: /Dark/ }));
    expect(document.documentElement).toHaveAttribute("data-theme", "dark");
    await waitFor(() => expect(backend.server.settings.theme).toBe("dark"));
    expect(screen.getByRole("radio", { name: /Dark/ })).toHaveAttribute("aria-checked", "true");

    await user.click(screen.getByRole("radio", { name: /Light/ }));
    expect(document.documentElement).toHaveAttribute("data-theme", "light");
    await waitFor(() => expect(backend.callsOf("settings_update")).toEqual([{ theme: "dark" }, { theme: "light" }]));
  });

  it("starts in the saved theme", async () => {
    const backend = new MockBackend();
    backend.server.settings = { theme: "dark" };
    await renderApp({ backend });
    await waitFor(() => expect(document.documentElement).toHaveAttribute("data-theme", "dark"));
  });

  it("reverts and explains when the theme cannot be saved", async () => {
    const backend = new MockBackend();
    backend.fail("settings_update", { code: "storage", message: "Could not write settings.json: read-only file system." });
    const { user } = await renderApp({ hash: "#/settings", backend });
    await user.click(screen.getByRole("radio", { name: /Dark/ }));
    const banner = await screen.findByTestId("notice-settings");
    expect(banner).toHaveTextContent("read-only file system");
    expect(banner).toHaveTextContent("storage");
    expect(document.documentElement).toHaveAttribute("data-theme", "light");
  });

  it("switches theme from the command palette", async () => {
    const { user } = await renderApp();
    await user.keyboard("{Control>}k{/Control}");
    await user.keyboard("theme dark{Enter}");
    await waitFor(() => expect(document.documentElement).toHaveAttribute("data-theme", "dark"));
  });
});

describe("local cache", () => {
  it("shows the database and a problem, and rebuilds after confirmation", async () => {
    const backend = new MockBackend();
    backend.server.override("cache_summary", () => ({
      environmentId: "sandbox",
      database: ":memory:",
      kinds: [],
      freshness: { syncedAt: null, ageSeconds: null, empty: true, stale: false },
      sync: null,
      problem: "The cache file could not be opened. Use \"Rebuild cache\".",
    }));
    const { user } = await renderApp({ backend, hash: "#/settings" });
    expect(await screen.findByTestId("cache-problem")).toHaveTextContent("Rebuild cache");
    expect(screen.getByTestId("cache-database")).toHaveTextContent(":memory:");
    backend.server.override("cache_rebuild", () => ({
      environmentId: "sandbox",
      database: "/home/operator/.local/share/capstan/capstan.db",
      kinds: [],
      freshness: { syncedAt: null, ageSeconds: null, empty: true, stale: false },
      sync: null,
      problem: null,
    }));
    await user.click(screen.getByTestId("cache-rebuild"));
    expect(backend.callsOf("cache_rebuild")).toHaveLength(0);
    await user.click(screen.getByTestId("cache-rebuild-confirm"));
    expect(await screen.findByTestId("cache-rebuilt")).toBeInTheDocument();
    expect(screen.getByTestId("cache-database")).toHaveTextContent("capstan.db");
    expect(screen.queryByTestId("cache-problem")).toBeNull();
    expect(backend.callsOf("cache_rebuild")).toHaveLength(1);
  });
});
