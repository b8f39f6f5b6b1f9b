import "@xyflow/react/dist/style.css";
import "./topology.css";
import { ReactFlowProvider } from "@xyflow/react";
import type { ElkNode } from "elkjs/lib/elk-api";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ErrorCode, Freshness, SearchHit, TopologyNode, TopologyView } from "../../lib/bindings";
import { describeError, useBackend, useBackendEvent } from "../../lib/backend";
import { useRoute } from "../../lib/router";
import { AlertIcon, RefreshIcon } from "../../components/Icons";
import { PageHeader } from "../../components/Page";
import { useNow } from "../../components/useNow";
import { formatAge } from "../../lib/time";
import { type GraphIndex, ancestors, formatCount, indexGraph, nodeIdKey } from "./graph";
import { Inspector } from "./Inspector";
import { type LayoutPlan, buildLayoutPlan, packLayout, pageOf, toFlowEdges, toFlowNodes } from "./layout";
import { useLayoutFn } from "./layout-engine";
import { TopologyActionsContext } from "./nodes";
import { type FocusRequest, TopologyCanvas } from "./TopologyCanvas";
import { TopologySearch } from "./TopologySearch";

interface Problem {
  code: ErrorCode;
  message: string;
}

interface Laid {
  plan: LayoutPlan;
  root: ElkNode;
  /** Why the simple fallback arrangement is shown instead of ELK's, if it is. */
  fallback: string | null;
}

function requestKeyOf(expanded: readonly string[], reloadToken: number): string {
  return `${reloadToken}|${expanded.join(" ")}`;
}

function FreshnessLabel({ freshness }: { freshness: Freshness }) {
  const now = useNow(15_000);
  if (freshness.empty) {
    return (
      <span className="topo-freshness" data-testid="topology-freshness">
        Not synced yet
      </span>
    );
  }
  const age = freshness.syncedAt ? formatAge(freshness.syncedAt, now) : "at an unknown time";
  return (
    <span className="topo-freshness" data-testid="topology-freshness" data-stale={freshness.stale || undefined} title={freshness.syncedAt ?? undefined}>
      Cached {age}
      {freshness.stale && <span className="topo-stale-badge">Stale</span>}
    </span>
  );
}

function SyncButton({ running, onSync, primary }: { running: boolean; onSync: () => void; primary?: boolean }) {
  return (
    <button type="button" className={primary ? "button topo-button-primary" : "button"} data-testid="topology-sync-now" onClick={onSync} disabled={running}>
      <RefreshIcon size={14} className={running ? "topo-spin" : undefined} />
      {running ? "Syncing…" : "Sync now"}
    </button>
  );
}

function ProblemBanner({ title, problem, action }: { title: string; problem: Problem; action?: { label: string; run: () => void } }) {
  return (
    <div className="banner" role="alert" data-testid="topology-error">
      <AlertIcon size={16} className="banner-icon" />
      <div className="banner-body">
        <div className="banner-title">
          {title} <code className="error-code">{problem.code}</code>
        </div>
        <div className="banner-message">{problem.message}</div>
      </div>
      {action && (
        <button type="button" className="button" onClick={action.run}>
          {action.label}
        </button>
      )}
    </div>
  );
}

function EmptyCache({ running, onSync }: { running: boolean; onSync: () => void }) {
  return (
    <section className="card topo-empty" data-testid="topology-empty">
      <div className="eyebrow">Offline cache is empty</div>
      <h2 className="topo-empty-heading">Nothing synced yet</h2>
      <p className="muted">
        The map is drawn from Capstan&apos;s local cache, so it needs one inventory sync first. Then it shows Palette → Private Cloud Gateway → Prism Central → Prism Element →
        Kubernetes clusters with their kube-vip endpoint and node pools → VMs, with the subnets and images they use.
      </p>
      <div>
        <SyncButton running={running} onSync={onSync} primary />
      </div>
    </section>
  );
}

function TopologyScreen() {
  const backend = useBackend();
  const layoutFn = useLayoutFn();
  const [expanded, setExpanded] = useState<string[]>([]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [pages, setPages] = useState<Readonly<Record<string, number>>>({});
  const [reloadToken, setReloadToken] = useState(0);
  const [loaded, setLoaded] = useState<{ key: string; view: TopologyView } | null>(null);
  const [loadError, setLoadError] = useState<{ key: string; problem: Problem } | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [focus, setFocus] = useState<FocusRequest | null>(null);
  const [fitSeq, setFitSeq] = useState(0);
  const [laid, setLaid] = useState<Laid | null>(null);
  const [syncRunning, setSyncRunning] = useState(false);
  const [syncError, setSyncError] = useState<Problem | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  /** A node to select once a graph containing it arrives (after its group was expanded). */
  const pendingFocus = useRef<string | null>(null);
  /** A group to bring into view once it arrives expanded. */
  const pendingReveal = useRef<string | null>(null);
  const focusSeq = useRef(0);
  /** The environment whose map was last fitted to the screen. */
  const fittedFor = useRef<string | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  const requestKey = requestKeyOf(expanded, reloadToken);

  /** Turns a VM's grid to the page holding it. */
  const showPageOf = useCallback((graphIndex: GraphIndex, id: string) => {
    if (graphIndex.nodes.get(id)?.kind !== "vm") return;
    const at = pageOf(graphIndex, id);
    if (at) setPages((prev) => ((prev[at.grid] ?? 0) === at.page ? prev : { ...prev, [at.grid]: at.page }));
  }, []);

  const view = loaded?.view ?? null;

  useEffect(() => {
    let cancelled = false;
    const key = requestKeyOf(expanded, reloadToken);
    backend
      .call("topology_get", { expanded })
      .then((next) => {
        if (cancelled) return;
        setLoaded({ key, view: next });
        setLoadError(null);
        const target = pendingFocus.current;
        if (target) {
          pendingFocus.current = null;
          if (next.graph.nodes.some((n) => n.id === target)) {
            showPageOf(indexGraph(next.graph), target);
            setSelectedId(target);
            setFocus({ id: target, seq: ++focusSeq.current, minZoom: 0.5 });
          } else {
            setNotice("That item is no longer in the cache. Sync to refresh it.");
          }
        } else if (pendingReveal.current) {
          const group = pendingReveal.current;
          pendingReveal.current = null;
          if (next.graph.nodes.some((n) => n.id === group)) setFocus({ id: group, seq: ++focusSeq.current, minZoom: 0.05, role: "grid" });
        }
      })
      .catch((error: unknown) => {
        if (!cancelled) setLoadError({ key, problem: describeError(error) });
      });
    return () => {
      cancelled = true;
    };
  }, [backend, expanded, reloadToken, showPageOf]);

  // Whether a sync is already running when the page opens.
  useEffect(() => {
    let cancelled = false;
    backend
      .call("cache_summary", {})
      .then((summary) => {
        const phase = summary.sync?.phase;
        if (!cancelled && (phase === "started" || phase === "progress")) setSyncRunning(true);
      })
      .catch(() => {
        // The map works without it; the button just starts as "Sync now".
      });
    return () => {
      cancelled = true;
    };
  }, [backend]);

  useBackendEvent("capstan://sync", (event) => {
    switch (event.phase) {
      case "started":
      case "progress":
        setSyncRunning(true);
        break;
      case "completed":
        setSyncRunning(false);
        setSyncError(null);
        // Same expansion and selection; the viewport stays where the user left it.
        setReloadToken((n) => n + 1);
        break;
      case "failed":
        setSyncRunning(false);
        if (event.error) setSyncError({ code: event.error.code, message: event.error.message });
        break;
      case "cancelled":
        setSyncRunning(false);
        break;
    }
  });

  useBackendEvent("capstan://status", (status) => {
    if (view && status.environment.id !== view.environmentId) {
      // Another environment: its own map, from the top.
      setExpanded([]);
      setCollapsed(new Set());
      setPages({});
      setSelectedId(null);
      setReloadToken((n) => n + 1);
    }
  });

  const plan = useMemo(() => (view && !view.freshness.empty ? buildLayoutPlan(view.graph, { collapsed, pages }) : null), [view, collapsed, pages]);
  const environmentId = view?.environmentId ?? null;

  useEffect(() => {
    if (!plan) return;
    let cancelled = false;
    layoutFn(plan.elk)
      .then(
        (root): Laid => ({ plan, root, fallback: null }),
        (error: unknown): Laid => ({ plan, root: packLayout(plan.elk), fallback: describeError(error).message }),
      )
      .then((next) => {
        if (cancelled) return;
        setLaid(next);
        if (fittedFor.current !== environmentId) {
          fittedFor.current = environmentId;
          setFitSeq((n) => n + 1);
        }
      });
    return () => {
      cancelled = true;
    };
  }, [plan, layoutFn, environmentId]);

  const baseNodes = useMemo(() => (laid ? toFlowNodes(laid.plan, laid.root) : []), [laid]);
  // Only the nodes whose selection changed get new objects, so xyflow re-renders just those.
  const nodes = useMemo(() => baseNodes.map((n) => (n.id === selectedId ? { ...n, selected: true } : n)), [baseNodes, selectedId]);
  const edges = useMemo(() => (laid ? toFlowEdges(laid.plan, selectedId) : []), [laid, selectedId]);

  const index = plan?.index ?? null;
  const selectedNode = (selectedId && index?.nodes.get(selectedId)) || null;

  const jumpTo = useCallback(
    (id: string, expand: string | null) => {
      setNotice(null);
      const anchor = expand ?? id;
      if (index) {
        // Open any canvas-collapsed container on the way to the node.
        const chain = new Set([anchor, ...ancestors(index, anchor).map((a) => a.id)]);
        setCollapsed((prev) => ([...prev].some((c) => chain.has(c)) ? new Set([...prev].filter((c) => !chain.has(c))) : prev));
      }
      if (expand && !index?.nodes.has(id)) {
        pendingFocus.current = id;
        setExpanded((prev) => (prev.includes(expand) ? prev : [...prev, expand]));
        return;
      }
      if (index?.nodes.has(id)) {
        showPageOf(index, id);
        setSelectedId(id);
        setFocus({ id, seq: ++focusSeq.current, minZoom: 0.5 });
      }
    },
    [index, showPageOf],
  );

  const onPickHit = useCallback((hit: SearchHit) => jumpTo(hit.nodeId, hit.expand), [jumpTo]);

  // Inspector links: a node not drawn (inside a collapsed group) is found through search first.
  const selectRelated = useCallback(
    (id: string) => {
      if (index?.nodes.has(id)) {
        jumpTo(id, null);
        return;
      }
      backend
        .call("topology_search", { text: nodeIdKey(id), expanded, limit: 50 })
        .then((result) => {
          const hit = result.hits.find((h) => h.nodeId === id);
          if (hit) jumpTo(hit.nodeId, hit.expand);
          else setNotice("That item is not in the cache. Sync to refresh it.");
        })
        .catch((error: unknown) => setNotice(describeError(error).message));
    },
    [index, backend, expanded, jumpTo],
  );

  // `#/topology?node=<id>` (links from the Clusters page): select that node once the map
  // is drawn, expanding its group if it sits in a collapsed one.
  const routedNode = useRoute().params.get("node");
  const routedDone = useRef<string | null>(null);
  useEffect(() => {
    if (!routedNode || !index || routedDone.current === routedNode) return;
    routedDone.current = routedNode;
    selectRelated(routedNode);
  }, [routedNode, index, selectRelated]);

  const toggle = useCallback(
    (node: TopologyNode) => {
      if (node.kind === "vm_group") {
        if (node.collapsed) {
          pendingReveal.current = node.id;
          setExpanded((prev) => (prev.includes(node.id) ? prev : [...prev, node.id]));
          setCollapsed((prev) => (prev.has(node.id) ? new Set([...prev].filter((c) => c !== node.id)) : prev));
          return;
        }
        if (expanded.includes(node.id)) {
          setExpanded((prev) => prev.filter((g) => g !== node.id));
          return;
        }
      }
      setCollapsed((prev) => {
        const next = new Set(prev);
        if (next.has(node.id)) next.delete(node.id);
        else next.add(node.id);
        return next;
      });
    },
    [expanded],
  );
  const clearSelection = useCallback(() => setSelectedId(null), []);
  const showPage = useCallback((grid: string, page: number) => setPages((prev) => ({ ...prev, [grid]: page })), []);
  const actions = useMemo(() => ({ toggle, showPage }), [toggle, showPage]);

  const startSync = useCallback(() => {
    setSyncRunning(true);
    setSyncError(null);
    backend.call("sync_start", { mode: "full" }).catch((error: unknown) => {
      setSyncRunning(false);
      setSyncError(describeError(error));
    });
  }, [backend]);

  // "/" focuses search; Escape closes the inspector (unless something else handled it).
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.defaultPrevented) return;
      const target = e.target instanceof HTMLElement ? e.target : null;
      const typing = target !== null && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
      if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        searchRef.current?.focus();
        searchRef.current?.select();
      } else if (e.key === "Escape" && (!typing || target === searchRef.current)) {
        setSelectedId(null);
      }
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, []);

  const fetching = loaded?.key !== requestKey && loadError?.key !== requestKey;
  const arranging = plan !== null && laid?.plan !== plan;
  const empty = view?.freshness.empty ?? false;
  const currentError = loadError?.key === requestKey ? loadError.problem : null;

  return (
    <div className="topology-page" data-testid="topology-page">
      <PageHeader
        title="Topology"
        subtitle="Palette to VMs as one map, drawn from the offline cache."
        actions={
          view && (
            <>
              <FreshnessLabel freshness={view.freshness} />
              {!empty && <SyncButton running={syncRunning} onSync={startSync} />}
            </>
          )
        }
      />
      <div className="toolbar" role="toolbar" aria-label="Topology">
        <TopologySearch expanded={expanded} onPick={onPickHit} inputRef={searchRef} />
        {view && !empty && (
          <span className="muted" data-testid="topology-stats">
            {formatCount(view.vmCount)} VMs in the cache · {formatCount(nodes.length)} items drawn
          </span>
        )}
        <span className="toolbar-spacer" />
        <span className="topo-busy muted" aria-live="polite">
          {fetching ? "Loading…" : arranging ? "Arranging…" : ""}
        </span>
      </div>

      {currentError && (
        <ProblemBanner title="Could not load the topology" problem={currentError} action={{ label: "Retry", run: () => setReloadToken((n) => n + 1) }} />
      )}
      {syncError && <ProblemBanner title="The sync failed; the map shows what the cache had" problem={syncError} action={{ label: "Dismiss", run: () => setSyncError(null) }} />}
      {notice && (
        <div className="topo-notice" role="status">
          {notice}
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      {laid?.fallback && !arranging && (
        <div className="topo-notice" role="status" data-testid="topology-layout-fallback">
          Automatic layout failed ({laid.fallback}); showing a simple arrangement.
        </div>
      )}

      {empty ? (
        <EmptyCache running={syncRunning} onSync={startSync} />
      ) : (
        <div className="topology-body">
          <div className="topology-canvas" data-testid="topology-canvas">
            {nodes.length > 0 ? (
              <TopologyActionsContext.Provider value={actions}>
                <TopologyCanvas nodes={nodes} edges={edges} onSelect={setSelectedId} onClear={clearSelection} focus={focus} fitSeq={fitSeq} />
              </TopologyActionsContext.Provider>
            ) : (
              <div className="topo-canvas-message muted">{!view ? (currentError ? "" : "Loading the topology…") : arranging ? "Arranging the map…" : "The cache holds nothing to draw."}</div>
            )}
          </div>
          {selectedNode && index && <Inspector node={selectedNode} index={index} onSelect={selectRelated} onClose={clearSelection} onToggleGroup={toggle} />}
        </div>
      )}
    </div>
  );
}

export function TopologyPage() {
  return (
    <ReactFlowProvider>
      <TopologyScreen />
    </ReactFlowProvider>
  );
}
