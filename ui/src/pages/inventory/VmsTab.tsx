import { observeElementRect, type Rect, useVirtualizer, type Virtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import { SearchIcon, TopologyIcon } from "../../components/Icons";
import { formatCount, FreshnessNote, useSyncState } from "../../components/sync";
import { useNow } from "../../components/useNow";
import { describeError, useBackend } from "../../lib/backend";
import type { ErrorCode, Freshness, InventoryQuery, InventoryRow, InventorySort } from "../../lib/bindings";
import { hrefFor } from "../../lib/router";
import { formatAge } from "../../lib/time";
import { EmptyCache, LoadError } from "./EmptyCache";
import { asNumber, asString, formatMemory, powerWord } from "./format";
import { useDebounced } from "./useDebounced";

/** Rows per `inventory_list` request; pages load as they scroll into view. */
export const PAGE_SIZE = 200;
const ROW_HEIGHT = 34;
const SEARCH_DEBOUNCE_MS = 150;
/** Used when layout is unavailable (jsdom, a hidden panel) so rows still render. */
const FALLBACK_RECT: Rect = { width: 1000, height: 640 };

const POWER_STATES = [
  { value: "ON", label: "On" },
  { value: "OFF", label: "Off" },
  { value: "PAUSED", label: "Paused" },
  { value: "SUSPENDED", label: "Suspended" },
];

function observeWithFallback(instance: Virtualizer<HTMLDivElement, Element>, cb: (rect: Rect) => void) {
  return observeElementRect(instance, (rect) => cb(rect.height > 0 ? rect : FALLBACK_RECT));
}

interface Loaded {
  /** Which query (and reload) these pages answer. */
  key: string;
  total: number;
  freshness: Freshness;
  pages: Map<number, InventoryRow[]>;
}

interface SortState {
  column: InventorySort;
  descending: boolean;
}

function SortHeader({ column, label, sort, onSort, className }: { column: InventorySort; label: string; sort: SortState; onSort(c: InventorySort): void; className?: string }) {
  const active = sort.column === column;
  return (
    <div role="columnheader" className={className} aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
      <button type="button" className="sort-button" onClick={() => onSort(column)} data-testid={`vm-sort-${column}`} data-active={active ? "true" : undefined}>
        {label}
        <span className="sort-arrow" aria-hidden="true">
          {active ? (sort.descending ? "▼" : "▲") : ""}
        </span>
      </button>
    </div>
  );
}

function VmRow({ row, now }: { row: InventoryRow; now: number }) {
  const cluster = asString(row.columns.cluster);
  const vcpus = asNumber(row.columns.vcpus);
  return (
    <>
      <span role="cell" className="vm-name" title={row.name}>
        {row.name}
      </span>
      <span role="cell">
        <span className="power-badge" data-power={row.state?.toUpperCase() ?? "UNKNOWN"}>
          <span className="status-dot" aria-hidden="true" />
          {powerWord(row.state)}
        </span>
      </span>
      <span role="cell" className="ellipsis" title={row.parentName ?? row.parent ?? undefined}>
        {row.parentName ?? row.parent ?? "—"}
      </span>
      <span role="cell" className="mono ellipsis selectable" title={row.ips.join(", ")}>
        {row.ips.length > 0 ? row.ips.join(", ") : <span className="muted">—</span>}
      </span>
      <span role="cell" className="num">
        {vcpus ?? "—"}
      </span>
      <span role="cell" className="num">
        {formatMemory(asNumber(row.columns.memoryMib))}
      </span>
      <span role="cell" className="ellipsis">
        {cluster ? (
          <a className="row-link" href={hrefFor("topology", { node: `cluster:${cluster}` })} title={`Show ${cluster} in Topology`}>
            {cluster}
          </a>
        ) : (
          <span className="muted">—</span>
        )}
      </span>
      <span role="cell" className="muted" title={row.lastSeenAt}>
        {formatAge(row.lastSeenAt, now)}
      </span>
      <span role="cell">
        {row.nodeId && (
          <a className="icon-button icon-link" href={hrefFor("topology", { node: row.nodeId })} aria-label={`Show ${row.name} in Topology`} title="Show in Topology">
            <TopologyIcon size={14} />
          </a>
        )}
      </span>
    </>
  );
}

/**
 * Every cached VM, virtualised: only the rows in view are in the DOM, and pages of
 * `PAGE_SIZE` are fetched from the backend as they scroll into view. Search, filters and
 * sort are answered by the backend; answers to superseded queries are dropped.
 */
export function VmsTab() {
  const backend = useBackend();
  const { cacheVersion, running } = useSyncState();
  const now = useNow(30_000);
  const [text, setText] = useState("");
  const search = useDebounced(text.trim(), SEARCH_DEBOUNCE_MS);
  const [power, setPower] = useState("");
  const [pe, setPe] = useState("");
  const [sort, setSort] = useState<SortState>({ column: "name", descending: false });
  const [pes, setPes] = useState<InventoryRow[]>([]);
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<{ code: ErrorCode; message: string } | null>(null);
  const [reload, setReload] = useState(0);
  const scrollRef = useRef<HTMLDivElement>(null);
  const inflight = useRef(new Set<string>());
  const ids = useId();

  const query = useMemo<Omit<InventoryQuery, "offset">>(
    () => ({
      kind: "vm",
      ...(search ? { search } : {}),
      ...(pe ? { parent: pe } : {}),
      ...(power ? { state: power } : {}),
      sort: sort.column,
      descending: sort.descending,
    }),
    [search, pe, power, sort],
  );
  const queryKey = JSON.stringify(query);
  /** The answer the view wants now: this query, after this many completed syncs and retries. */
  const wanted = `${queryKey}#${cacheVersion}#${reload}`;
  const wantedRef = useRef(wanted);
  const lastQueryKey = useRef<string | null>(null);

  // The virtualizer's functions are called fresh every render and never memoised here.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: data?.total ?? 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: FALLBACK_RECT,
    observeElementRect: observeWithFallback,
  });

  const fetchPage = useCallback(
    (key: string, page: number) => {
      const id = `${key}@${page}`;
      if (inflight.current.has(id)) return;
      inflight.current.add(id);
      backend
        .call("inventory_list", { ...query, offset: page * PAGE_SIZE, limit: PAGE_SIZE })
        .then((answer) => {
          // Typing on, changing a filter or a reload made this answer stale.
          if (key !== wantedRef.current) return;
          setError(null);
          setData((current) =>
            current && current.key === key
              ? { ...current, total: answer.total, freshness: answer.freshness, pages: new Map(current.pages).set(page, answer.rows) }
              : { key, total: answer.total, freshness: answer.freshness, pages: new Map([[page, answer.rows]]) },
          );
        })
        .catch((reason: unknown) => {
          if (key === wantedRef.current) setError(describeError(reason));
        })
        .finally(() => inflight.current.delete(id));
    },
    [backend, query],
  );

  // A new query starts at the top; a reload (sync completed, retry) refreshes what is in view.
  useEffect(() => {
    wantedRef.current = wanted;
    const queryChanged = lastQueryKey.current !== queryKey;
    lastQueryKey.current = queryKey;
    if (queryChanged) {
      virtualizer.scrollToOffset(0);
      fetchPage(wanted, 0);
      return;
    }
    const items = virtualizer.getVirtualItems();
    const first = items.length > 0 ? Math.floor(items[0].index / PAGE_SIZE) : 0;
    const last = items.length > 0 ? Math.floor(items[items.length - 1].index / PAGE_SIZE) : 0;
    for (let page = first; page <= last; page++) fetchPage(wanted, page);
  }, [wanted, queryKey, fetchPage, virtualizer]);

  const items = virtualizer.getVirtualItems();
  const firstPage = items.length > 0 ? Math.floor(items[0].index / PAGE_SIZE) : 0;
  const lastPage = items.length > 0 ? Math.floor(items[items.length - 1].index / PAGE_SIZE) : 0;

  // Pages scrolled into view that are not loaded yet.
  useEffect(() => {
    if (!data || data.key !== wantedRef.current) return;
    for (let page = firstPage; page <= lastPage; page++) {
      if (!data.pages.has(page)) fetchPage(data.key, page);
    }
  }, [data, firstPage, lastPage, fetchPage]);

  // Prism Elements for the filter (the Prism Central entity is listed with them; leave it out).
  useEffect(() => {
    let cancelled = false;
    backend
      .call("inventory_list", { kind: "pe_cluster", sort: "name", descending: false, offset: 0, limit: 1000 })
      .then((answer) => {
        if (!cancelled) setPes(answer.rows.filter((row) => row.columns.prismCentral !== true));
      })
      .catch(() => {
        // The filter just offers no PEs; the list itself reports errors.
      });
    return () => {
      cancelled = true;
    };
  }, [backend, cacheVersion]);

  const onSort = useCallback((column: InventorySort) => {
    setSort((current) => (current.column === column ? { column, descending: !current.descending } : { column, descending: false }));
  }, []);

  const filtered = search !== "" || power !== "" || pe !== "";
  const pending = data !== null && data.key !== wanted;
  const total = data?.total ?? null;

  // Nothing cached yet (or the first sync has not reached VMs): say so rather than "0 VMs".
  if (data && !filtered && (data.freshness.empty || (data.total === 0 && running))) return <EmptyCache what="virtual machines" />;

  return (
    <div className="inventory-tab">
      <div className="toolbar" role="toolbar" aria-label="VM filters">
        <label className="search-field">
          <SearchIcon size={14} />
          <input
            type="search"
            placeholder="Search by name, IP or UUID…"
            aria-label="Search VMs"
            data-testid="vm-search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
          />
        </label>
        <label className="select-field">
          <span className="select-label">Power</span>
          <select value={power} onChange={(e) => setPower(e.target.value)} data-testid="vm-filter-power" aria-label="Power state">
            <option value="">Any</option>
            {POWER_STATES.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        <label className="select-field">
          <span className="select-label">Prism Element</span>
          <select value={pe} onChange={(e) => setPe(e.target.value)} data-testid="vm-filter-pe" aria-label="Prism Element">
            <option value="">Any</option>
            {pes.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <span className="toolbar-spacer" />
        <span className="muted" data-testid="vm-total" data-pending={pending ? "true" : undefined} aria-live="polite">
          {total === null ? "Loading…" : `${formatCount(total)} ${total === 1 ? "VM" : "VMs"}${filtered ? " match" : ""}`}
        </span>
        <FreshnessNote freshness={data?.freshness} testId="vm-freshness" />
      </div>

      {error && <LoadError title="Could not load VMs" error={error} onRetry={() => setReload((n) => n + 1)} testId="vm-error" />}

      <div className="vm-table" role="table" aria-label="Virtual machines" aria-rowcount={(total ?? 0) + 1} aria-busy={pending || undefined}>
        <div className="vm-head vm-grid" role="row" aria-rowindex={1}>
          <SortHeader column="name" label="Name" sort={sort} onSort={onSort} />
          <SortHeader column="state" label="Power" sort={sort} onSort={onSort} />
          <SortHeader column="parent" label="Prism Element" sort={sort} onSort={onSort} />
          <div role="columnheader">IP addresses</div>
          <div role="columnheader" className="num">
            vCPU
          </div>
          <div role="columnheader" className="num">
            Memory
          </div>
          <div role="columnheader">Kubernetes</div>
          <SortHeader column="last_seen" label="Last seen" sort={sort} onSort={onSort} />
          <div role="columnheader">
            <span className="visually-hidden">Topology</span>
          </div>
        </div>
        <div className="vm-scroll" ref={scrollRef} data-testid="vm-list" id={`${ids}-list`}>
          <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {items.map((item) => {
              const row = data?.pages.get(Math.floor(item.index / PAGE_SIZE))?.[item.index % PAGE_SIZE];
              return (
                <div
                  key={row?.id ?? `placeholder-${item.index}`}
                  role="row"
                  aria-rowindex={item.index + 2}
                  className="vm-row vm-grid"
                  data-testid={row ? "vm-row" : "vm-row-loading"}
                  data-name={row?.name}
                  style={{ height: item.size, transform: `translateY(${item.start}px)` }}
                >
                  {row ? (
                    <VmRow row={row} now={now} />
                  ) : (
                    <span role="cell" className="muted vm-loading">
                      Loading…
                    </span>
                  )}
                </div>
              );
            })}
          </div>
          {data && !pending && total === 0 && (
            <div className="inventory-list-empty" data-testid="vm-empty">
              No VMs match these filters.
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
