import { act, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { CommandName, Commands, InventoryQuery } from "../lib/bindings";
import { DEMO_CLUSTER, DEMO_VIP } from "../lib/backend/fake-inventory";
import { MockBackend } from "../lib/backend/mock";
import { parseHash } from "../lib/router";
import { renderApp } from "../test/render";

let backend: MockBackend | null = null;

afterEach(() => {
  backend?.server.inventory.syncCancel();
  backend = null;
});

function vmCalls(b: MockBackend): InventoryQuery[] {
  return (b.callsOf("inventory_list") as InventoryQuery[]).filter((q) => q.kind === "vm");
}

const vmRows = () => screen.queryAllByTestId("vm-row");
const vmNames = () => vmRows().map((r) => r.getAttribute("data-name") ?? "");
/** What the fake itself answers, to compare the screen with. */
const expected = (b: MockBackend, q: Partial<InventoryQuery>) => b.server.inventory.list({ kind: "vm", sort: "name", descending: false, offset: 0, ...q });

async function openVms(b = new MockBackend()) {
  backend = b;
  const utils = await renderApp({ hash: "#/clusters?tab=vms", backend: b });
  await waitFor(() => expect(vmRows().length).toBeGreaterThan(0));
  return { ...utils, backend: b };
}

describe("Clusters tab", () => {
  it("lists demo-k8s with its kube-vip endpoint, version, PE and node counts", async () => {
    backend = new MockBackend();
    const { user } = await renderApp({ hash: "#/clusters", backend });
    expect(screen.getByTestId("clusters-tab-clusters")).toHaveAttribute("aria-selected", "true");
    const row = await screen.findByTestId("cluster-row");
    expect(row).toHaveAttribute("data-name", DEMO_CLUSTER);
    expect(row).toHaveAttribute("data-status", "ok");
    expect(within(row).getByTestId("cluster-endpoint")).toHaveTextContent(DEMO_VIP);
    expect(row).toHaveTextContent("1.30.4");
    expect(row).toHaveTextContent("pe-fra-a");
    expect(row).toHaveTextContent("Running");
    const cells = within(row).getAllByRole("cell").map((c) => c.textContent);
    expect(cells.slice(-3)).toEqual(["3", "2", "5 / 5"]);

    // The small link opens the cluster's node on the Topology page.
    expect(within(row).getByTestId("cluster-topology-link")).toHaveAttribute("href", `#/topology?node=cluster%3A${DEMO_CLUSTER}`);

    // A click on a Palette-managed row opens its day-2 page, by Palette uid.
    const paletteUid = backend.server.inventory.estate.palette_cluster.find((c) => c.name === DEMO_CLUSTER)!.uid;
    await user.click(within(row).getByText("Running"));
    await waitFor(() => expect(parseHash(window.location.hash).params.get("cluster")).toBe(paletteUid));
    expect(parseHash(window.location.hash).page).toBe("clusters");
    const detail = await screen.findByTestId("cluster-detail");
    expect(detail).toHaveAttribute("data-uid", paletteUid);
    expect(await screen.findByTestId("overview-endpoint")).toHaveTextContent(`${DEMO_VIP}:6443`);
    await user.click(screen.getByTestId("cluster-back"));
    expect(await screen.findByTestId("cluster-row")).toHaveAttribute("data-name", DEMO_CLUSTER);
  });

  it("offers a sync when the cache is empty, and lists the clusters once it completes", async () => {
    backend = new MockBackend({ inventory: { start: "empty", stepMs: 5 } });
    const { user } = await renderApp({ hash: "#/clusters", backend });
    const empty = await screen.findByTestId("inventory-empty");
    expect(empty).toHaveTextContent("Nothing cached yet");
    await user.click(within(empty).getByTestId("inventory-empty-sync"));
    expect(backend.callsOf("sync_start")).toEqual([{ mode: "full" }]);
    expect(await screen.findByTestId("cluster-row", {}, { timeout: 4000 })).toHaveAttribute("data-name", DEMO_CLUSTER);
  });

  it("switches tabs through the address and with arrow keys", async () => {
    backend = new MockBackend();
    const { user } = await renderApp({ hash: "#/clusters", backend });
    await user.click(screen.getByTestId("clusters-tab-vms"));
    expect(window.location.hash).toBe("#/clusters?tab=vms");
    expect(screen.getByTestId("clusters-tab-vms")).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{ArrowRight}");
    expect(window.location.hash).toBe("#/clusters?tab=subnets");
    expect(screen.getByTestId("clusters-tab-subnets")).toHaveFocus();
  });
});

describe("VMs tab", () => {
  it("shows the total and renders only a window of rows, with name, power, PE, IPs, vCPU, memory and cluster", async () => {
    const { backend } = await openVms();
    expect(screen.getByTestId("vm-total")).toHaveTextContent("120 VMs");
    expect(vmRows().length).toBeLessThan(60);
    expect(vmCalls(backend)[0]).toEqual({ kind: "vm", sort: "name", descending: false, offset: 0, limit: 200 });
    expect(vmNames()).toEqual(names(expected(backend, {}).rows).slice(0, vmRows().length));

    const k8s = expected(backend, { search: DEMO_VIP }).rows[0];
    const row = vmRows().find((r) => r.getAttribute("data-name") === k8s.name)!;
    expect(row).toHaveTextContent("On");
    expect(row).toHaveTextContent("pe-fra-a");
    expect(row).toHaveTextContent(DEMO_VIP);
    expect(row).toHaveTextContent("8 GiB");
    expect(within(row).getByRole("link", { name: DEMO_CLUSTER })).toHaveAttribute("href", `#/topology?node=cluster%3A${DEMO_CLUSTER}`);
    expect(within(row).getByRole("link", { name: `Show ${k8s.name} in Topology` })).toHaveAttribute("href", `#/topology?node=${encodeURIComponent(k8s.nodeId!)}`);
  });

  it("loads further pages as they scroll into view", async () => {
    const { backend } = await openVms(new MockBackend({ inventory: { vms: 25_000 } }));
    expect(screen.getByTestId("vm-total")).toHaveTextContent("25,005 VMs");
    const list = screen.getByTestId("vm-list");
    act(() => {
      list.scrollTop = 34 * 12_345;
      list.dispatchEvent(new Event("scroll"));
    });
    await waitFor(() => expect(vmCalls(backend).some((q) => q.offset === 12_200)).toBe(true));
    const all = expected(backend, { limit: 1000, offset: 12_000 }).rows;
    await waitFor(() => expect(vmNames()).toContain(all[345].name));
    expect(vmRows().length).toBeLessThan(60);
  });

  it("narrows the rows as you type, with one request for the settled text", async () => {
    const { user, backend } = await openVms();
    const before = vmCalls(backend).length;
    await user.type(screen.getByTestId("vm-search"), "kafka");
    const want = expected(backend, { search: "kafka" });
    await waitFor(() => expect(screen.getByTestId("vm-total")).toHaveTextContent(`${want.total} VMs match`));
    expect(want.total).toBeGreaterThan(0);
    expect(vmNames()).toEqual(names(want.rows));
    for (const name of vmNames()) expect(name).toContain("kafka");
    const searches = vmCalls(backend).slice(before);
    expect(searches).toEqual([{ kind: "vm", search: "kafka", sort: "name", descending: false, offset: 0, limit: 200 }]);
  });

  it("drops the answer to a query the user has already moved on from", async () => {
    backend = new MockBackend();
    const slow = backend;
    const call = slow.call.bind(slow);
    // The "kafka" answer arrives long after the "db" one.
    slow.call = (async <K extends CommandName>(cmd: K, request: Commands[K]["request"]) => {
      if (cmd === "inventory_list" && (request as InventoryQuery).search === "kafka") await new Promise((r) => setTimeout(r, 500));
      return call(cmd, request);
    }) as typeof slow.call;
    const { user } = await openVms(slow);
    const search = screen.getByTestId("vm-search");
    await user.type(search, "kafka");
    await waitFor(() => expect(vmCalls(slow).some((q) => q.search === "kafka")).toBe(true));
    await user.clear(search);
    await user.type(search, "-db-");
    const want = expected(slow, { search: "-db-" });
    await waitFor(() => expect(screen.getByTestId("vm-total")).toHaveTextContent(`${want.total} VMs match`));
    await new Promise((r) => setTimeout(r, 600));
    expect(screen.getByTestId("vm-total")).toHaveTextContent(`${want.total} VMs match`);
    expect(vmNames()).toEqual(names(want.rows));
  });

  it("sorts by the clicked column header, toggling the direction", async () => {
    const { user, backend } = await openVms();
    await user.click(screen.getByTestId("vm-sort-state"));
    await waitFor(() => expect(vmCalls(backend).at(-1)).toMatchObject({ sort: "state", descending: false, offset: 0 }));
    await waitFor(() => expect(vmNames()[0]).toBe(expected(backend, { sort: "state" }).rows[0].name));
    expect(vmRows()[0]).toHaveTextContent("Off");
    expect(screen.getByTestId("vm-sort-state").closest("[role=columnheader]")).toHaveAttribute("aria-sort", "ascending");

    await user.click(screen.getByTestId("vm-sort-state"));
    await waitFor(() => expect(vmCalls(backend).at(-1)).toMatchObject({ sort: "state", descending: true }));
    await waitFor(() => expect(vmRows()[0]).toHaveTextContent("On"));
    expect(screen.getByTestId("vm-sort-state").closest("[role=columnheader]")).toHaveAttribute("aria-sort", "descending");

    await user.click(screen.getByTestId("vm-sort-last_seen"));
    await waitFor(() => expect(vmCalls(backend).at(-1)).toMatchObject({ sort: "last_seen", descending: false }));
    await user.click(screen.getByTestId("vm-sort-parent"));
    await waitFor(() => expect(vmCalls(backend).at(-1)).toMatchObject({ sort: "parent", descending: false }));
  });

  it("filters by power state and by Prism Element", async () => {
    const { user, backend } = await openVms();
    await user.selectOptions(screen.getByTestId("vm-filter-power"), "OFF");
    const off = expected(backend, { state: "OFF" });
    await waitFor(() => expect(screen.getByTestId("vm-total")).toHaveTextContent(`${off.total} VMs match`));
    expect(vmRows().every((r) => within(r).getAllByRole("cell")[1].textContent === "Off")).toBe(true);
    expect(vmCalls(backend).at(-1)).toMatchObject({ state: "OFF", offset: 0 });

    const peSelect = screen.getByTestId("vm-filter-pe");
    const options = within(peSelect).getAllByRole("option").map((o) => o.textContent);
    expect(options).toEqual(["Any", "pe-fra-a", "pe-fra-b"]);
    const peB = backend.server.inventory.estate.pe_cluster.find((p) => p.name === "pe-fra-b")!;
    await user.selectOptions(peSelect, "pe-fra-b");
    const both = expected(backend, { state: "OFF", parent: peB.uuid });
    await waitFor(() => expect(screen.getByTestId("vm-total")).toHaveTextContent(`${both.total} VMs match`));
    expect(vmNames()).toEqual(names(both.rows));
    expect(vmRows().every((r) => within(r).getAllByRole("cell")[2].textContent === "pe-fra-b")).toBe(true);
  });

  it("says when nothing matches", async () => {
    const { user } = await openVms();
    await user.type(screen.getByTestId("vm-search"), "no-such-vm-anywhere");
    expect(await screen.findByTestId("vm-empty")).toHaveTextContent("No VMs match these filters.");
    expect(screen.getByTestId("vm-total")).toHaveTextContent("0 VMs match");
  });

  it("reloads when a sync completes", async () => {
    const { backend } = await openVms();
    const before = vmCalls(backend).length;
    act(() =>
      backend.emit("capstan://sync", {
        runId: 3,
        environmentId: "sandbox",
        phase: "completed",
        kind: null,
        kindsDone: 13,
        kindsTotal: 13,
        done: 0,
        total: null,
        startedAt: new Date().toISOString(),
        elapsedMs: 900,
        error: null,
      }),
    );
    await waitFor(() => expect(vmCalls(backend).length).toBeGreaterThan(before));
    expect(vmCalls(backend).at(-1)).toMatchObject({ offset: 0 });
  });

  it("shows the error of a failed list call and retries", async () => {
    backend = new MockBackend();
    backend.fail("inventory_list", { code: "storage", message: "The cache database is locked by another process." });
    const { user } = await renderApp({ hash: "#/clusters?tab=vms", backend });
    const error = await screen.findByTestId("vm-error");
    expect(error).toHaveTextContent("storage");
    expect(error).toHaveTextContent("The cache database is locked by another process.");
    backend.clearFailure();
    await user.click(within(error).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(vmRows().length).toBeGreaterThan(0));
    expect(screen.queryByTestId("vm-error")).not.toBeInTheDocument();
  });
});

describe("Subnets and Images tabs", () => {
  it("lists subnets with CIDR, VLAN and PE, searchable and sortable", async () => {
    backend = new MockBackend();
    const { user } = await renderApp({ hash: "#/clusters?tab=subnets", backend });
    await waitFor(() => expect(screen.getAllByTestId("subnet-row")).toHaveLength(6));
    const k8s = screen.getAllByTestId("subnet-row").find((r) => r.getAttribute("data-name") === "vlan-30-k8s")!;
    expect(k8s).toHaveTextContent("10.30.0.0/24");
    expect(k8s).toHaveTextContent("30");
    expect(k8s).toHaveTextContent("pe-fra-a");

    await user.type(screen.getByTestId("subnet-search"), "mgmt");
    await waitFor(() => expect(screen.getAllByTestId("subnet-row").map((r) => r.getAttribute("data-name"))).toEqual(["vlan-10-mgmt", "vlan-110-mgmt"]));
    await user.click(screen.getByTestId("subnet-sort-name"));
    await waitFor(() => expect(screen.getAllByTestId("subnet-row").map((r) => r.getAttribute("data-name"))).toEqual(["vlan-110-mgmt", "vlan-10-mgmt"]));
  });

  it("lists images with type and size", async () => {
    backend = new MockBackend();
    await renderApp({ hash: "#/clusters?tab=images", backend });
    await waitFor(() => expect(screen.getAllByTestId("image-row").length).toBe(backend!.server.inventory.estate.image.length));
    const iso = screen.getAllByTestId("image-row").find((r) => r.getAttribute("data-name")?.endsWith(".iso"))!;
    expect(iso).toHaveTextContent("ISO");
    expect(iso).toHaveTextContent("716.8 MiB");
    expect(screen.getByTestId("image-total")).toHaveTextContent("6 images");
  });
});

function names(rows: Array<{ name: string }>): string[] {
  return rows.map((r) => r.name);
}
