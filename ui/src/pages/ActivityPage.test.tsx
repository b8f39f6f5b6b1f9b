import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend } from "../lib/backend/mock";
import { renderApp } from "../test/render";

async function openActivity(backend = new MockBackend()) {
  const utils = await renderApp({ hash: "#/activity", backend });
  await waitFor(() => expect(screen.getAllByTestId("activity-row").length).toBeGreaterThan(0));
  await waitFor(() => expect(backend.listenerCount("capstan://activity")).toBeGreaterThanOrEqual(2));
  return utils;
}

const levelsShown = () => screen.getAllByTestId("activity-row").map((r) => r.getAttribute("data-level"));

describe("Activity page", () => {
  it("lists recent events with level, time, target, message and fields, and the log file", async () => {
    const { backend } = await openActivity();
    expect(backend.callsOf("activity_list")[0]).toEqual({ limit: 2000, minLevel: "info" });
    const row = screen.getAllByTestId("activity-row").find((r) => r.textContent?.includes("Retrying after 429"));
    expect(row).toBeDefined();
    expect(row).toHaveAttribute("data-level", "warn");
    expect(row).toHaveTextContent("capstan_http::client");
    expect(row).toHaveTextContent("retry_after_s=2");
    expect(row).toHaveTextContent(/\d\d:\d\d:\d\d\.\d{3}/);
    expect(screen.getByTestId("activity-log-file")).toHaveTextContent(backend.server.logFile);
    // Default minimum level is info: no trace or debug rows.
    expect(levelsShown().some((l) => l === "debug" || l === "trace")).toBe(false);
  });

  it("filters by minimum level, asking the backend again", async () => {
    const { user, backend } = await openActivity();
    await user.click(screen.getByRole("radio", { name: "Error" }));
    await waitFor(() => expect(new Set(levelsShown())).toEqual(new Set(["error"])));
    expect(backend.callsOf("activity_list").at(-1)).toEqual({ limit: 2000, minLevel: "error" });

    await user.click(screen.getByRole("radio", { name: "Trace" }));
    await waitFor(() => expect(levelsShown()).toContain("trace"));
  });

  it("filters by text as you type, over message, target and fields", async () => {
    const { user } = await openActivity();
    const all = screen.getAllByTestId("activity-row").length;
    const input = screen.getByRole("searchbox", { name: "Filter activity" });
    await user.type(input, "pc.fra");
    const rows = screen.getAllByTestId("activity-row");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(all);
    for (const r of rows) expect(r).toHaveTextContent("pc.fra");
    expect(screen.getByTestId("activity-count")).toHaveTextContent(`${rows.length} of ${all} events`);

    await user.clear(input);
    await user.type(input, "no such thing anywhere");
    expect(screen.queryAllByTestId("activity-row")).toHaveLength(0);
    expect(screen.getByTestId("activity-empty")).toHaveTextContent("No events match these filters.");
  });

  it("appends live events, respecting the filters", async () => {
    const { user, backend } = await openActivity();
    const before = screen.getAllByTestId("activity-row").length;
    act(() => {
      backend.server.pushActivity({ level: "warn", target: "capstan_engine::workflow", message: "PCG heartbeat late", fields: { pcg: "pcg-01" } });
    });
    expect(screen.getAllByTestId("activity-row")).toHaveLength(before + 1);
    expect(screen.getByText("PCG heartbeat late")).toBeInTheDocument();

    // A debug event stays hidden at the default level; a matching text filter hides others.
    act(() => backend.server.pushActivity({ level: "debug", message: "noisy detail" }));
    expect(screen.queryByText("noisy detail")).not.toBeInTheDocument();
    await user.type(screen.getByRole("searchbox", { name: "Filter activity" }), "heartbeat");
    act(() => backend.server.pushActivity({ level: "error", message: "heartbeat missing", fields: {} }));
    const rows = screen.getAllByTestId("activity-row");
    expect(rows.map((r) => r.textContent)).toEqual([expect.stringContaining("PCG heartbeat late"), expect.stringContaining("heartbeat missing")]);
  });

  it("renders only a window of rows when there are thousands of events", async () => {
    const backend = new MockBackend({ seedActivity: 0 });
    for (let i = 0; i < 3000; i++) backend.server.pushActivity({ message: `event ${i}` });
    await openActivity(backend);
    expect(screen.getByTestId("activity-count")).toHaveTextContent("2000 events");
    // 640 px fallback viewport / 28 px rows + overscan: far fewer than 2000 in the DOM.
    expect(screen.getAllByTestId("activity-row").length).toBeLessThan(80);
  });

  it("shows the details of a row when it is clicked", async () => {
    const { user } = await openActivity();
    const row = screen.getAllByTestId("activity-row").find((r) => r.textContent?.includes("certificate is not trusted"));
    await user.click(row!);
    const detail = screen.getByTestId("activity-detail");
    expect(within(detail).getByText("fingerprint")).toBeInTheDocument();
    expect(detail).toHaveTextContent("pc.fra.lab.example.net");
    expect(row).toHaveAttribute("aria-selected", "true");
  });

  it("shows the error code and message when activity cannot be loaded, and retries", async () => {
    const backend = new MockBackend();
    backend.fail("activity_list", { code: "storage", message: "The log index could not be read: disk full." });
    const { user } = await renderApp({ hash: "#/activity", backend });
    const banner = await screen.findByTestId("activity-error");
    expect(banner).toHaveTextContent("storage");
    expect(banner).toHaveTextContent("The log index could not be read: disk full.");
    backend.clearFailure();
    await user.click(within(banner).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(screen.queryByTestId("activity-error")).not.toBeInTheDocument());
    expect(screen.getAllByTestId("activity-row").length).toBeGreaterThan(0);
  });
});
