import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { SyncEvent, TopologyRequest, TopologyView } from "../../lib/bindings";
import { BackendProvider } from "../../lib/backend";
import { MockBackend } from "../../lib/backend/mock";
import { type LayoutFn, LayoutProvider, packingLayout } from "./layout-engine";
import { renderApp } from "../../test/render";
import { TopologyPage } from "./TopologyPage";
import { freshness, GROUP_A_COUNTS, hiddenVmHit, IDS, topologyGraph, topologyView } from "./test-fixtures";
import { installFlowStubs } from "./test-env";

beforeAll(installFlowStubs);

const nodeEl = (id: string) => screen.queryByTestId(`topology-node-${id}`);

/**
 * A plain click: user-event's mousedown carries `view: null`, which d3-zoom's pan-on-drag
 * (started by a mousedown on any node) cannot handle in jsdom.
 */
function clickNode(id: string) {
  const el = nodeEl(id);
  if (!el) throw new Error(`${id} is not drawn`);
  fireEvent.click(el);
}

function syncEvent(phase: SyncEvent["phase"]): SyncEvent {
  return { runId: 7, environmentId: "sandbox", phase, kind: null, kindsDone: 13, kindsTotal: 13, done: 0, total: null, startedAt: new Date().toISOString(), elapsedMs: 1200, error: null };
}

async function openTopology(options: { view?: (request: TopologyRequest) => TopologyView; layout?: LayoutFn } = {}) {
  const backend = new MockBackend();
  backend.server.override("topology_get", options.view ?? ((request) => topologyView(request.expanded)));
  backend.server.override("topology_search", (request) => ({ hits: "db-0042".includes(request.text) ? [hiddenVmHit(request.expanded)] : [] }));
  // Progress is driven by the test's own events, not the fake estate's timed sync.
  backend.server.override("sync_start", () => ({ runId: 7, started: true }));
  const layout = vi.fn(options.layout ?? packingLayout);
  const user = userEvent.setup();
  const utils = render(
    <BackendProvider backend={backend}>
      <LayoutProvider layout={layout}>
        <TopologyPage />
      </LayoutProvider>
    </BackendProvider>,
  );
  await waitFor(() => expect(backend.listenerCount("capstan://sync")).toBe(1));
  return { backend, user, layout, ...utils };
}

async function openMap(options: Parameters<typeof openTopology>[0] = {}) {
  const opened = await openTopology(options);
  await screen.findByTestId(`topology-node-${IDS.cluster}`);
  return opened;
}

describe("Topology page", () => {
  it("draws every node of the graph with its kind and status, and the freshness", async () => {
    const { backend, layout } = await openMap();
    expect(backend.callsOf("topology_get")).toEqual([{ expanded: [] }]);

    const graph = topologyGraph();
    for (const node of graph.nodes) {
      const el = nodeEl(node.id);
      expect(el, node.id).not.toBeNull();
      expect(el).toHaveAttribute("data-kind", node.kind);
      expect(el).toHaveAttribute("data-status", node.status);
    }
    expect(nodeEl(IDS.hidden)).toBeNull();

    // The collapsed group shows its size; the cluster its kube-vip endpoint and VIP holder.
    const group = nodeEl(IDS.groupA)!;
    expect(group).toHaveTextContent("1,234 VMs");
    expect(group).toHaveTextContent("1,200 on · 34 off");
    expect(within(group).getByTestId(`topology-group-toggle-${IDS.groupA}`)).toHaveTextContent("Show VMs");
    expect(nodeEl(IDS.cluster)).toHaveTextContent("kube-vip 10.0.10.240");
    expect(nodeEl(IDS.cp1)).toHaveTextContent("VIP");
    expect(nodeEl(IDS.worker1)).not.toHaveTextContent("VIP");

    expect(screen.getByTestId("topology-freshness")).toHaveTextContent("Cached 3 min ago");
    expect(screen.getByTestId("topology-freshness")).not.toHaveTextContent("Stale");
    expect(screen.getByTestId("topology-stats")).toHaveTextContent(`1,240 VMs in the cache · ${graph.nodes.length} items drawn`);
    expect(screen.getByTestId("topology-canvas")).toBeInTheDocument();
    expect(screen.getByTestId("topology-minimap")).toBeInTheDocument();

    // The layout went through the injected function, without one ELK node per VM.
    const elkInput = layout.mock.calls[0][0];
    expect(JSON.stringify(elkInput)).not.toContain('"vm:');
  });

  it("jumps to a search hit inside a collapsed group: expands it, refetches and selects the VM", async () => {
    const { backend, user } = await openMap();
    await user.type(screen.getByTestId("topology-search"), "db-0042");
    const hit = await screen.findByTestId("topology-search-result");
    expect(hit).toHaveTextContent("db-0042");
    expect(hit).toHaveTextContent("in a collapsed group");
    expect(backend.callsOf("topology_search").at(-1)).toEqual({ text: "db-0042", expanded: [], limit: 20 });

    await user.click(hit);
    await waitFor(() => expect(nodeEl(IDS.hidden)).not.toBeNull());
    expect(backend.callsOf("topology_get").at(-1)).toEqual({ expanded: [IDS.groupA] });
    const inspector = screen.getByTestId("topology-inspector");
    expect(within(inspector).getByTestId("inspector-title")).toHaveTextContent("db-0042");
    expect(within(inspector).getByTestId("inspector-related-prism-element")).toHaveTextContent("PE-A");
    expect(nodeEl(IDS.hidden)).toHaveAttribute("data-selected", "true");
    // The expanded group is now a grid with a toggle to hide its VMs again.
    expect(screen.getByTestId(`topology-group-toggle-${IDS.groupA}`)).toHaveTextContent("Hide VMs");
  });

  it("picks a search hit with the keyboard", async () => {
    const { backend, user } = await openMap();
    await user.type(screen.getByTestId("topology-search"), "db-0042");
    await screen.findByTestId("topology-search-result");
    await user.keyboard("{Enter}");
    await waitFor(() => expect(screen.getByTestId("inspector-title")).toHaveTextContent("db-0042"));
    expect(backend.callsOf("topology_get").at(-1)).toEqual({ expanded: [IDS.groupA] });
  });

  it("inspects a VM: its own Prism Element, its subnet, its pool and cluster, and links between them", async () => {
    const { user } = await openMap();
    clickNode(IDS.worker1);
    const inspector = screen.getByTestId("topology-inspector");
    expect(within(inspector).getByTestId("inspector-title")).toHaveTextContent("prod-apps-workers-a1b2c");
    // Runs on PE-B although its cluster is drawn in PE-A.
    expect(within(inspector).getByTestId("inspector-related-prism-element")).toHaveTextContent("PE-B");
    expect(within(inspector).getByTestId("inspector-related-prism-element")).not.toHaveTextContent("PE-A");
    expect(within(inspector).getByTestId("inspector-related-subnet")).toHaveTextContent("vlan-200-edge");
    expect(within(inspector).getByTestId("inspector-related-cluster")).toHaveTextContent("prod-apps");
    expect(within(inspector).getByTestId("inspector-related-node-pool")).toHaveTextContent("workers");
    expect(within(inspector).getByTestId("inspector-detail-memoryMib")).toHaveTextContent("8 GiB");
    // API addresses are shown as text to copy, not as navigation.
    expect(inspector).toHaveTextContent("https://pc.lab.example.net:9440/api/nutanix/v3/vms/w-1-uuid");
    expect(within(inspector).queryByRole("link")).toBeNull();

    await user.click(within(within(inspector).getByTestId("inspector-related-subnet")).getByRole("button", { name: "vlan-200-edge" }));
    expect(screen.getByTestId("inspector-title")).toHaveTextContent("vlan-200-edge");
    expect(nodeEl(IDS.subnetB)).toHaveAttribute("data-selected", "true");

    await user.click(within(screen.getByTestId("inspector-related-prism-element")).getByRole("button", { name: "PE-B" }));
    expect(screen.getByTestId("inspector-title")).toHaveTextContent("PE-B");
  });

  it("shows the cluster's kube-vip address and the VM holding it", async () => {
    const { user } = await openMap();
    clickNode(IDS.cluster);
    const inspector = screen.getByTestId("topology-inspector");
    expect(within(inspector).getByTestId("inspector-detail-vip")).toHaveTextContent("10.0.10.240");
    await user.click(within(within(inspector).getByTestId("inspector-detail-vipHolderVm")).getByRole("button", { name: "prod-apps-cp-x7k2p" }));
    expect(screen.getByTestId("inspector-title")).toHaveTextContent("prod-apps-cp-x7k2p");
  });

  it("closes the inspector with Escape and focuses search with /", async () => {
    const { user } = await openMap();
    clickNode(IDS.pcg);
    expect(screen.getByTestId("topology-inspector")).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("topology-inspector")).not.toBeInTheDocument();

    await user.keyboard("/");
    expect(screen.getByTestId("topology-search")).toHaveFocus();
    expect(screen.getByTestId("topology-search")).toHaveValue("");
  });

  it("expands and collapses a VM group through the backend, and any container on the canvas", async () => {
    const { backend, user } = await openMap();
    await user.click(screen.getByTestId(`topology-group-toggle-${IDS.groupA}`));
    await waitFor(() => expect(nodeEl(IDS.hidden)).not.toBeNull());
    expect(backend.callsOf("topology_get").at(-1)).toEqual({ expanded: [IDS.groupA] });

    await user.click(screen.getByTestId(`topology-group-toggle-${IDS.groupA}`));
    await waitFor(() => expect(nodeEl(IDS.hidden)).toBeNull());
    expect(backend.callsOf("topology_get").at(-1)).toEqual({ expanded: [] });
    expect(nodeEl(IDS.groupA)).toHaveTextContent(`${GROUP_A_COUNTS.vms.toLocaleString("en")} VMs`);

    // A cluster folds up on the canvas alone: no new request, its pools and VMs disappear.
    const calls = backend.callsOf("topology_get").length;
    await user.click(screen.getByTestId(`topology-group-toggle-${IDS.cluster}`));
    await waitFor(() => expect(nodeEl(IDS.workerPool)).toBeNull());
    expect(nodeEl(IDS.worker1)).toBeNull();
    expect(nodeEl(IDS.cluster)).toHaveTextContent("5 inside");
    expect(nodeEl(IDS.cluster)).toHaveTextContent("3 VMs");
    await user.click(screen.getByTestId(`topology-group-toggle-${IDS.cluster}`));
    await waitFor(() => expect(nodeEl(IDS.worker1)).not.toBeNull());
    expect(backend.callsOf("topology_get")).toHaveLength(calls);
  });

  it("offers a sync when the cache is empty, and draws the map once it completes", async () => {
    let synced = false;
    const { backend, user } = await openTopology({
      view: (request) => (synced ? topologyView(request.expanded) : { environmentId: "sandbox", graph: { nodes: [], edges: [] }, vmCount: 0, freshness: freshness({ empty: true, syncedAt: null, ageSeconds: null }) }),
    });
    const empty = await screen.findByTestId("topology-empty");
    expect(empty).toHaveTextContent(/kube-vip/);
    expect(screen.getByTestId("topology-freshness")).toHaveTextContent("Not synced yet");
    expect(screen.queryByTestId("topology-canvas")).not.toBeInTheDocument();

    await user.click(within(empty).getByTestId("topology-sync-now"));
    expect(backend.callsOf("sync_start")).toEqual([{ mode: "full" }]);
    expect(screen.getByTestId("topology-sync-now")).toBeDisabled();
    expect(screen.getByTestId("topology-sync-now")).toHaveTextContent("Syncing…");

    synced = true;
    act(() => backend.server.emitEvent("capstan://sync", syncEvent("completed")));
    await screen.findByTestId(`topology-node-${IDS.cluster}`);
    expect(screen.getByTestId("topology-sync-now")).toBeEnabled();
  });

  it("refetches after a completed sync, keeping expansion and selection", async () => {
    const { backend, user } = await openMap();
    await user.click(screen.getByTestId(`topology-group-toggle-${IDS.groupA}`));
    await waitFor(() => expect(nodeEl(IDS.hidden)).not.toBeNull());
    clickNode(IDS.cluster);
    const before = backend.callsOf("topology_get").length;

    // Progress does not refetch; completion does.
    act(() => backend.server.emitEvent("capstan://sync", syncEvent("progress")));
    expect(screen.getByTestId("topology-sync-now")).toHaveTextContent("Syncing…");
    await act(async () => {});
    expect(backend.callsOf("topology_get")).toHaveLength(before);

    // The refreshed graph has the cluster in trouble.
    backend.server.override("topology_get", (request) => {
      const view = topologyView(request.expanded);
      view.graph.nodes.find((n) => n.id === IDS.cluster)!.status = "error";
      return view;
    });
    act(() => backend.server.emitEvent("capstan://sync", syncEvent("completed")));
    await waitFor(() => expect(nodeEl(IDS.cluster)).toHaveAttribute("data-status", "error"));
    expect(backend.callsOf("topology_get")).toHaveLength(before + 1);
    expect(backend.callsOf("topology_get").at(-1)).toEqual({ expanded: [IDS.groupA] });
    expect(nodeEl(IDS.hidden)).not.toBeNull();
    expect(screen.getByTestId("inspector-title")).toHaveTextContent("prod-apps");
    expect(screen.getByTestId("topology-sync-now")).toHaveTextContent("Sync now");
  });

  it("starts a sync from the header and marks stale data", async () => {
    const { backend, user } = await openMap({ view: (request) => topologyView(request.expanded, freshness({ stale: true })) });
    expect(screen.getByTestId("topology-freshness")).toHaveTextContent("Stale");
    await user.click(screen.getByTestId("topology-sync-now"));
    expect(backend.callsOf("sync_start")).toEqual([{ mode: "full" }]);
  });

  it("shows why the topology could not load, and retries", async () => {
    const backend = new MockBackend();
    backend.server.override("topology_get", (request) => topologyView(request.expanded));
    backend.fail("topology_get", { code: "storage", message: "The cache could not be read: disk full." });
    const user = userEvent.setup();
    render(
      <BackendProvider backend={backend}>
        <LayoutProvider layout={packingLayout}>
          <TopologyPage />
        </LayoutProvider>
      </BackendProvider>,
    );
    const banner = await screen.findByTestId("topology-error");
    expect(banner).toHaveTextContent("storage");
    expect(banner).toHaveTextContent("The cache could not be read: disk full.");
    backend.clearFailure();
    await user.click(within(banner).getByRole("button", { name: "Retry" }));
    await screen.findByTestId(`topology-node-${IDS.cluster}`);
    expect(screen.queryByTestId("topology-error")).not.toBeInTheDocument();
  });

  it("falls back to a simple arrangement when the layout fails", async () => {
    await openMap({ layout: () => Promise.reject(new Error("ELK ran out of memory")) });
    expect(screen.getByTestId("topology-layout-fallback")).toHaveTextContent("ELK ran out of memory");
    expect(nodeEl(IDS.worker1)).not.toBeNull();
  });

  it("opens from the app against the fake estate, without a worker (jsdom) and without an injected layout", async () => {
    await renderApp({ hash: "#/topology" });
    const canvas = await screen.findByTestId("topology-canvas");
    await waitFor(() => expect(canvas.querySelector('[data-kind="cluster"]')).not.toBeNull());
    expect(canvas.querySelector('[data-kind="prism_central"]')).not.toBeNull();
    expect(canvas.querySelectorAll('[data-kind="prism_element"]').length).toBeGreaterThan(0);
    expect(screen.getByTestId("topology-stats")).toHaveTextContent(/VMs in the cache/);
  });

  it("in the app with a never-synced cache, says what the map will show and offers the sync", async () => {
    await renderApp({ hash: "#/topology", backend: new MockBackend({ inventory: { start: "empty" } }) });
    const empty = await screen.findByTestId("topology-empty");
    expect(empty).toHaveTextContent(/kube-vip/);
    expect(within(empty).getByTestId("topology-sync-now")).toBeEnabled();
  });
});
