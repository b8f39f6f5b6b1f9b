import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { LAB_ENV } from "../lib/backend/fake-server";
import { renderApp } from "../test/render";

const LABELS = ["Setup", "Workflow", "Topology", "Clusters", "Activity", "Settings"];

describe("navigation", () => {
  it("renders all six pages in the sidebar and switches page on click", async () => {
    const { user } = await renderApp();
    const nav = screen.getByRole("navigation", { name: "Main" });
    const links = within(nav).getAllByRole("link");
    expect(links.map((l) => l.textContent?.replace(/\d+$/, ""))).toEqual(LABELS);
    expect(screen.getByTestId("nav-setup")).toHaveAttribute("aria-current", "page");

    await user.click(screen.getByTestId("nav-clusters"));
    expect(await screen.findByRole("heading", { level: 1, name: "Clusters" })).toBeInTheDocument();
    expect(screen.getByTestId("nav-clusters")).toHaveAttribute("aria-current", "page");
    expect(screen.getByTestId("nav-setup")).not.toHaveAttribute("aria-current");
    expect(window.location.hash).toBe("#/clusters");
  });

  it("sets the document title to Capstan", async () => {
    await renderApp();
    expect(document.title).toBe("Capstan");
  });

  it("jumps to pages with Alt+digit and Ctrl+digit", async () => {
    const { user } = await renderApp();
    await user.keyboard("{Alt>}5{/Alt}");
    expect(await screen.findByRole("heading", { level: 1, name: "Activity" })).toBeInTheDocument();
    await user.keyboard("{Control>}6{/Control}");
    expect(await screen.findByRole("heading", { level: 1, name: "Settings" })).toBeInTheDocument();
    await user.keyboard("{Alt>}2{/Alt}");
    expect(await screen.findByRole("heading", { level: 1, name: "Workflow" })).toBeInTheDocument();
  });

  it("moves focus within the nav with arrow keys, wrapping around", async () => {
    const { user } = await renderApp();
    screen.getByTestId("nav-setup").focus();
    await user.keyboard("{ArrowDown}");
    expect(screen.getByTestId("nav-workflow")).toHaveFocus();
    await user.keyboard("{End}");
    expect(screen.getByTestId("nav-settings")).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(screen.getByTestId("nav-setup")).toHaveFocus();
    await user.keyboard("{ArrowUp}");
    expect(screen.getByTestId("nav-settings")).toHaveFocus();
  });

  it("collapses the sidebar and remembers it", async () => {
    const { user } = await renderApp();
    await user.click(screen.getByRole("button", { name: "Collapse sidebar" }));
    expect(screen.getByTestId("sidebar")).toHaveAttribute("data-collapsed", "true");
    expect(window.localStorage.getItem("capstan.sidebarCollapsed")).toBe("1");
    await user.click(screen.getByRole("button", { name: "Expand sidebar" }));
    expect(screen.getByTestId("sidebar")).not.toHaveAttribute("data-collapsed");
  });

  it("each not-yet-built page says what it will hold", async () => {
    const { user } = await renderApp();
    expect(await screen.findByTestId("env-list")).toHaveTextContent("Lab Frankfurt");
    await user.click(screen.getByTestId("nav-workflow"));
    // Workflow is built: the five steps beside the architecture diagram.
    const workflow = await screen.findByTestId("workflow-stepper");
    for (const step of ["cloud type", "Private Cloud Gateway", "cloud account", "cluster profile", "Deploy the cluster"]) {
      expect(workflow).toHaveTextContent(step);
    }
    expect(screen.getByTestId("workflow-diagram")).toHaveAccessibleName(/Architecture/);
    await user.click(screen.getByTestId("nav-topology"));
    // Topology is built: the fake estate starts synced, so the map is drawn.
    expect(await screen.findByTestId("topology-canvas")).toBeInTheDocument();
    await user.click(screen.getByTestId("nav-clusters"));
    // Clusters is built: it lists the cached inventory.
    expect(await screen.findByTestId("cluster-row")).toHaveAttribute("data-name", "demo-k8s");
  });
});

describe("command palette", () => {
  it("opens with Ctrl+K, focuses the input and has the ARIA roles", async () => {
    const { user } = await renderApp();
    await user.keyboard("{Control>}k{/Control}");
    const dialog = screen.getByRole("dialog", { name: "Command palette" });
    expect(dialog).toHaveAttribute("aria-modal", "true");
    const input = screen.getByRole("combobox");
    expect(input).toHaveFocus();
    const options = within(dialog).getAllByRole("option");
    expect(options[0]).toHaveAttribute("aria-selected", "true");
    expect(input).toHaveAttribute("aria-activedescendant", options[0].id);
  });

  it("filters fuzzily and runs the chosen action with Enter", async () => {
    const { user } = await renderApp();
    await user.keyboard("{Control>}k{/Control}");
    await user.keyboard("gtsett");
    const dialog = screen.getByRole("dialog");
    const options = within(dialog).getAllByRole("option");
    expect(options[0]).toHaveTextContent("Go to Settings");
    expect(options.some((o) => o.textContent?.includes("Go to Clusters"))).toBe(false);
    await user.keyboard("{Enter}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(await screen.findByRole("heading", { level: 1, name: "Settings" })).toBeInTheDocument();
  });

  it("moves with arrow keys, keeps Tab inside and closes with Escape, restoring focus", async () => {
    const { user } = await renderApp();
    const opener = screen.getByTestId("nav-topology");
    opener.focus();
    await user.keyboard("{Control>}k{/Control}");
    const input = screen.getByRole("combobox");
    await user.keyboard("{ArrowDown}{ArrowDown}");
    const options = within(screen.getByRole("dialog")).getAllByRole("option");
    expect(options[2]).toHaveAttribute("aria-selected", "true");
    expect(input).toHaveAttribute("aria-activedescendant", options[2].id);
    await user.keyboard("{ArrowUp}{ArrowUp}{ArrowUp}");
    expect(options[options.length - 1]).toHaveAttribute("aria-selected", "true");
    await user.tab();
    expect(input).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });

  it("says so when nothing matches", async () => {
    const { user } = await renderApp();
    await user.keyboard("{Control>}k{/Control}");
    await user.keyboard("zzzzqqq");
    expect(screen.getByTestId("palette-empty")).toHaveTextContent("No commands match");
    expect(screen.queryAllByRole("option")).toHaveLength(0);
  });

  it("switches environment and runs a connection check", async () => {
    const { user, backend } = await renderApp();
    await user.keyboard("{Control>}k{/Control}");
    await user.keyboard("lab frankfurt");
    await user.keyboard("{Enter}");
    await waitFor(() => expect(screen.getByTestId("status-environment-name")).toHaveTextContent(LAB_ENV.name));
    expect(backend.callsOf("environment_activate")).toEqual([{ id: LAB_ENV.id }]);

    await user.keyboard("{Control>}k{/Control}");
    await user.keyboard("check connection");
    await user.keyboard("{Enter}");
    await waitFor(() => expect(backend.callsOf("status_refresh")).toHaveLength(1));
  });

  it("opens Activity filtered to errors", async () => {
    const { user } = await renderApp();
    await user.keyboard("{Control>}k{/Control}");
    await user.keyboard("show errors");
    await user.keyboard("{Enter}");
    expect(await screen.findByRole("heading", { level: 1, name: "Activity" })).toBeInTheDocument();
    expect(window.location.hash).toBe("#/activity?level=error");
    expect(screen.getByRole("radio", { name: "Error" })).toHaveAttribute("aria-checked", "true");
  });
});

describe("status bar", () => {
  it("shows the active environment with its kind and the health of both services", async () => {
    await renderApp();
    expect(screen.getByTestId("status-environment-name")).toHaveTextContent("Local sandbox");
    expect(screen.getByTestId("status-environment-kind")).toHaveTextContent("Sandbox");
    expect(screen.getByTestId("status-palette")).toHaveAttribute("data-state", "ok");
    expect(screen.getByTestId("status-palette-word")).toHaveTextContent("Connected");
    expect(screen.getByTestId("status-palette-message")).toHaveTextContent("admin@capstan.local");
    expect(screen.getByTestId("status-prism-word")).toHaveTextContent("Connected");
    expect(screen.getByTestId("status-checked-at")).toHaveTextContent(/Checked 4\d s ago/);
  });

  it("updates when the backend pushes a status event", async () => {
    const { backend } = await renderApp();
    await waitFor(() => expect(backend.listenerCount("capstan://status")).toBeGreaterThan(0));
    const current = backend.server.currentStatus();
    act(() => {
      backend.emit("capstan://status", {
        ...current,
        prism: { state: "down", message: "Connection refused by 10.0.0.5:9440", errorCode: "connect" },
      });
    });
    expect(screen.getByTestId("status-prism")).toHaveAttribute("data-state", "down");
    expect(screen.getByTestId("status-prism-word")).toHaveTextContent("Down");
    expect(screen.getByTestId("status-prism-message")).toHaveTextContent("Connection refused by 10.0.0.5:9440 · (connect)");
  });

  it("Check now calls status_refresh and shows the error envelope's message on failure", async () => {
    const { user, backend } = await renderApp();
    backend.fail("status_refresh", { code: "tls_untrusted", message: "Prism Central's certificate is not trusted. Review it in Setup." });
    await user.click(screen.getByTestId("status-check-now"));
    const banner = await screen.findByTestId("notice-status");
    expect(banner).toHaveAttribute("role", "alert");
    expect(within(banner).getByTestId("notice-message")).toHaveTextContent("Prism Central's certificate is not trusted. Review it in Setup.");
    expect(within(banner).getByTestId("notice-code")).toHaveTextContent("tls_untrusted");
    expect(backend.callsOf("status_refresh")).toHaveLength(1);

    // The banner's retry succeeds once the backend recovers.
    backend.clearFailure("status_refresh");
    await user.click(within(banner).getByRole("button", { name: "Check now" }));
    await waitFor(() => expect(screen.queryByTestId("notice-status")).not.toBeInTheDocument());
    expect(backend.callsOf("status_refresh")).toHaveLength(2);
    expect(screen.getByTestId("status-checked-at")).toHaveTextContent(/Checked (just now|\d s ago)/);
  });

  it("switches environment from the status bar menu", async () => {
    const { user } = await renderApp();
    await user.click(screen.getByTestId("status-environment"));
    const menu = await screen.findByRole("menu", { name: "Environments" });
    const items = await within(menu).findAllByRole("menuitemradio");
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveAttribute("aria-checked", "true");
    await user.click(items[1]);
    await waitFor(() => expect(screen.getByTestId("status-environment-kind")).toHaveTextContent("Real"));
    expect(screen.getByTestId("status-environment-name")).toHaveTextContent("Lab Frankfurt");
    expect(screen.queryByRole("menu")).not.toBeInTheDocument();
  });

  it("closes the environment menu with Escape", async () => {
    const { user } = await renderApp();
    await user.click(screen.getByTestId("status-environment"));
    await screen.findAllByRole("menuitemradio");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("menu")).not.toBeInTheDocument();
    expect(screen.getByTestId("status-environment")).toHaveFocus();
  });

  it("shows a readable error, not a blank page, when the initial status read fails", async () => {
    const { MockBackend } = await import("../lib/backend/mock");
    const backend = new MockBackend();
    backend.fail("status_get", { code: "unavailable", message: "The sandbox is still starting." });
    await renderApp({ backend, waitForStatus: false });
    const banner = await screen.findByTestId("notice-status");
    expect(banner).toHaveTextContent("The sandbox is still starting.");
    expect(banner).toHaveTextContent("unavailable");
    expect(screen.getByRole("heading", { level: 1, name: "Setup" })).toBeInTheDocument();
  });

  it("counts new problems on the Activity nav item until Activity is opened", async () => {
    const { user, backend } = await renderApp();
    await waitFor(() => expect(backend.listenerCount("capstan://activity")).toBeGreaterThan(0));
    act(() => {
      backend.server.pushActivity({ level: "error", message: "Palette returned 503" });
      backend.server.pushActivity({ level: "info", message: "fine" });
      backend.server.pushActivity({ level: "warn", message: "slow" });
    });
    expect(screen.getByTestId("activity-badge")).toHaveTextContent("2");
    await user.click(screen.getByTestId("nav-activity"));
    await waitFor(() => expect(screen.queryByTestId("activity-badge")).not.toBeInTheDocument());
  });
});
