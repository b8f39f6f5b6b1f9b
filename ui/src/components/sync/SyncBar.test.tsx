import { act, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncEvent } from "../../lib/bindings";
import { MockBackend } from "../../lib/backend/mock";
import { renderApp } from "../../test/render";

let backend: MockBackend | null = null;

afterEach(() => {
  // Stop any fake sync still stepping on its timers.
  backend?.server.inventory.syncCancel();
  backend = null;
});

async function open(options: ConstructorParameters<typeof MockBackend>[0] = {}) {
  backend = new MockBackend({ inventory: { stepMs: 15 }, ...options });
  const utils = await renderApp({ backend });
  await waitFor(() => expect(backend!.listenerCount("capstan://sync")).toBe(1));
  await waitFor(() => expect(backend!.callsOf("cache_summary").length).toBeGreaterThan(0));
  return { ...utils, backend };
}

function progress(partial: Partial<SyncEvent>): SyncEvent {
  return {
    runId: 7,
    environmentId: "sandbox",
    phase: "progress",
    kind: "vm",
    kindsDone: 5,
    kindsTotal: 13,
    done: 3500,
    total: 25000,
    startedAt: new Date().toISOString(),
    elapsedMs: 4200,
    error: null,
    ...partial,
  };
}

describe("sync progress", () => {
  it("shows the kind in words, rows done of total and a determinate bar from events", async () => {
    const { backend } = await open();
    expect(screen.queryByTestId("sync-progress")).not.toBeInTheDocument();
    act(() => backend.emit("capstan://sync", progress({})));
    const bar = screen.getByTestId("sync-progress");
    expect(within(bar).getByTestId("sync-progress-kind")).toHaveTextContent("Virtual machines");
    expect(within(bar).getByTestId("sync-progress-count")).toHaveTextContent("3,500 / 25,000");
    expect(bar).toHaveTextContent("5 of 13 kinds done");
    const meter = within(bar).getByRole("progressbar");
    expect(meter).toHaveAttribute("aria-valuenow", "3500");
    expect(meter).toHaveAttribute("aria-valuemax", "25000");

    // Without a total yet the count stands alone and the bar is indeterminate.
    act(() => backend.emit("capstan://sync", progress({ kind: "subnet", done: 40, total: null })));
    expect(screen.getByTestId("sync-progress-kind")).toHaveTextContent("Subnets");
    expect(screen.getByTestId("sync-progress-count")).toHaveTextContent(/^40$/);
    expect(screen.getByRole("progressbar")).not.toHaveAttribute("aria-valuenow");

    // A straggler from an older run does not replace the current one; the end hides the bar.
    act(() => backend.emit("capstan://sync", progress({ runId: 6, kind: "image" })));
    expect(screen.getByTestId("sync-progress-kind")).toHaveTextContent("Subnets");
    act(() => backend.emit("capstan://sync", progress({ phase: "completed", kind: null, kindsDone: 13 })));
    expect(screen.queryByTestId("sync-progress")).not.toBeInTheDocument();
  });

  it("Sync now runs a full sync whose progress shows, and Cancel stops it", async () => {
    const { user, backend } = await open();
    await user.click(screen.getByTestId("sync-now"));
    expect(backend.callsOf("sync_start")).toEqual([{ mode: "full" }]);
    await waitFor(() => expect(screen.getByTestId("sync-progress-kind")).toHaveTextContent(/Prism Element clusters|Subnets|Images/));
    expect(screen.getByTestId("sync-now")).toBeDisabled();

    await user.click(screen.getByTestId("sync-cancel"));
    expect(backend.callsOf("sync_cancel")).toHaveLength(1);
    await waitFor(() => expect(screen.queryByTestId("sync-progress")).not.toBeInTheDocument());
    expect(backend.server.inventory.running).toBeNull();
    expect(screen.getByTestId("sync-now")).toBeEnabled();
  });

  it("shows a sync that was already running when the app opened", async () => {
    backend = new MockBackend({ inventory: { stepMs: 60_000 } });
    backend.server.inventory.syncStart({ mode: "full" });
    await renderApp({ backend });
    const bar = await screen.findByTestId("sync-progress");
    expect(within(bar).getByTestId("sync-progress-kind")).toHaveTextContent("Starting…");
    expect(bar).toHaveTextContent("0 of 13 kinds done");
  });

  it("after a failure shows the message and code, and Retry resumes the sync", async () => {
    const { user, backend } = await open();
    backend.server.inventory.failNextSync("vm", { code: "rate_limited", message: "Prism Central answered 429 Too Many Requests five times." }, 40);
    await user.click(screen.getByTestId("sync-now"));
    const error = await screen.findByTestId("sync-error", {}, { timeout: 4000 });
    expect(error).toHaveTextContent("Sync stopped at virtual machines");
    expect(error).toHaveTextContent("rate_limited");
    expect(within(error).getByTestId("sync-error-message")).toHaveTextContent("Prism Central answered 429 Too Many Requests five times.");
    expect(screen.queryByTestId("sync-progress")).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("cache-freshness")).toHaveAttribute("data-stale", "true"));

    await user.click(within(error).getByTestId("sync-retry"));
    expect(backend.callsOf("sync_start").at(-1)).toEqual({ mode: "incremental" });
    await waitFor(() => expect(screen.queryByTestId("sync-error")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getByTestId("cache-freshness")).toHaveAttribute("data-stale", "false"), { timeout: 4000 });
    expect(screen.queryByTestId("sync-progress")).not.toBeInTheDocument();
  });

  it("a failure can be dismissed", async () => {
    const { user, backend } = await open();
    act(() => backend.emit("capstan://sync", progress({ phase: "failed", error: { code: "unauthorized", message: "Palette rejected the API key.", resumable: false } })));
    expect(screen.getByTestId("sync-error")).toHaveTextContent("Palette rejected the API key.");
    await user.click(screen.getByTestId("sync-dismiss"));
    expect(screen.queryByTestId("sync-error")).not.toBeInTheDocument();
  });

  it("says why when the backend refuses to start a sync", async () => {
    const { user, backend } = await open();
    backend.fail("sync_start", { code: "unavailable", message: "Prism Central is not configured for this environment." });
    await user.click(screen.getByTestId("sync-now"));
    const error = await screen.findByTestId("sync-error");
    expect(error).toHaveTextContent("Could not start the sync");
    expect(error).toHaveTextContent("Prism Central is not configured for this environment.");
  });
});

describe("cache summary errors", () => {
  it("says when the cache cannot be read, and Retry reads it again", async () => {
    backend = new MockBackend();
    backend.fail("cache_summary", { code: "storage", message: "The local cache failed: database disk image is malformed." });
    const { user } = await renderApp({ backend });
    const error = await screen.findByTestId("sync-error");
    expect(error).toHaveTextContent("Could not read the cache");
    expect(error).toHaveTextContent("database disk image is malformed");
    backend.clearFailure();
    await user.click(within(error).getByTestId("sync-retry"));
    await waitFor(() => expect(screen.queryByTestId("sync-error")).not.toBeInTheDocument());
    expect(screen.getByTestId("cache-freshness")).toHaveTextContent("Cached 4 min ago");
    expect(backend.callsOf("sync_start")).toEqual([]);
  });
});

describe("cache freshness", () => {
  it("shows the age of a fresh cache and does not sync on open", async () => {
    const { backend } = await open();
    await waitFor(() => expect(screen.getByTestId("cache-freshness")).toHaveTextContent("Cached 4 min ago"));
    expect(screen.getByTestId("cache-freshness")).toHaveAttribute("data-stale", "false");
    expect(backend.callsOf("sync_start")).toEqual([]);
  });

  it("marks a stale cache, and shows fresh once a sync completes", async () => {
    const { user, backend } = await open({ inventory: { stepMs: 15, syncedAgoSeconds: 2 * 3600 } });
    const badge = screen.getByTestId("cache-freshness");
    await waitFor(() => expect(badge).toHaveTextContent("Cached 2 h ago"));
    expect(badge).toHaveAttribute("data-stale", "true");
    expect(badge).toHaveTextContent("stale");
    // The engine refreshes in the background on its own; the UI does not start a second sync.
    expect(backend.callsOf("sync_start")).toEqual([]);
    await user.click(screen.getByTestId("sync-now"));
    await waitFor(() => expect(badge).toHaveAttribute("data-stale", "false"), { timeout: 4000 });
    expect(badge).toHaveTextContent(/Cached (just now|\d+ s ago)/);
  });

  it("says when nothing was synced yet", async () => {
    const { backend } = await open({ inventory: { start: "empty" } });
    await waitFor(() => expect(screen.getByTestId("cache-freshness")).toHaveTextContent("Not synced yet"));
    expect(backend.callsOf("sync_start")).toEqual([]);
  });
});
