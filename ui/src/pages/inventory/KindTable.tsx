import { type ReactNode, useEffect, useState } from "react";
import { SearchIcon, TopologyIcon } from "../../components/Icons";
import { formatCount, FreshnessNote, useSyncState } from "../../components/sync";
import { describeError, useBackend } from "../../lib/backend";
import type { EntityKind, ErrorCode, InventoryPage, InventoryRow, InventorySort } from "../../lib/bindings";
import { hrefFor } from "../../lib/router";
import { EmptyCache, LoadError } from "./EmptyCache";
import { useDebounced } from "./useDebounced";

export interface KindColumn {
  label: string;
  /** The backend sort this column's header applies, when it has one. */
  sort?: InventorySort;
  /** Right-aligned figures. */
  numeric?: boolean;
  mono?: boolean;
  render(row: InventoryRow): ReactNode;
}

/** Small kinds (subnets, images): one request of up to 1,000 rows, searched and sorted by the backend. */
export function KindTable({ kind, noun, testPrefix, columns }: { kind: EntityKind; noun: { one: string; many: string }; testPrefix: string; columns: KindColumn[] }) {
  const backend = useBackend();
  const { cacheVersion, running } = useSyncState();
  const [text, setText] = useState("");
  const search = useDebounced(text.trim(), 150);
  const [sort, setSort] = useState<{ column: InventorySort; descending: boolean }>({ column: "name", descending: false });
  const [page, setPage] = useState<InventoryPage | null>(null);
  const [error, setError] = useState<{ code: ErrorCode; message: string } | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let cancelled = false;
    backend
      .call("inventory_list", { kind, ...(search ? { search } : {}), sort: sort.column, descending: sort.descending, offset: 0, limit: 1000 })
      .then((answer) => {
        if (cancelled) return;
        setPage(answer);
        setError(null);
      })
      .catch((reason: unknown) => {
        if (!cancelled) setError(describeError(reason));
      });
    return () => {
      cancelled = true;
    };
  }, [backend, kind, search, sort, cacheVersion, reload]);

  if (page && search === "" && (page.freshness.empty || (page.total === 0 && running))) return <EmptyCache what={noun.many} />;

  const onSort = (column: InventorySort) =>
    setSort((current) => (current.column === column ? { column, descending: !current.descending } : { column, descending: false }));

  return (
    <div className="inventory-tab">
      <div className="toolbar">
        <label className="search-field">
          <SearchIcon size={14} />
          <input
            type="search"
            placeholder="Search by name or UUID…"
            aria-label={`Search ${noun.many}`}
            data-testid={`${testPrefix}-search`}
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
          />
        </label>
        <span className="toolbar-spacer" />
        <span className="muted" data-testid={`${testPrefix}-total`}>
          {page ? `${formatCount(page.total)} ${page.total === 1 ? noun.one : noun.many}${search ? " match" : ""}` : "Loading…"}
        </span>
        <FreshnessNote freshness={page?.freshness} testId={`${testPrefix}-freshness`} />
      </div>
      {error && <LoadError title={`Could not load ${noun.many}`} error={error} onRetry={() => setReload((n) => n + 1)} testId={`${testPrefix}-error`} />}
      <div className="table-wrap inventory-scroll">
        <table className="table inventory-table">
          <thead>
            <tr>
              {columns.map((c) => {
                const active = c.sort !== undefined && sort.column === c.sort;
                return (
                  <th key={c.label} scope="col" className={c.numeric ? "num" : undefined} aria-sort={c.sort ? (active ? (sort.descending ? "descending" : "ascending") : "none") : undefined}>
                    {c.sort ? (
                      <button type="button" className="sort-button" onClick={() => onSort(c.sort!)} data-testid={`${testPrefix}-sort-${c.sort}`}>
                        {c.label}
                        <span className="sort-arrow" aria-hidden="true">
                          {active ? (sort.descending ? "▼" : "▲") : ""}
                        </span>
                      </button>
                    ) : (
                      c.label
                    )}
                  </th>
                );
              })}
              <th scope="col">
                <span className="visually-hidden">Topology</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {page?.rows.map((row) => (
              <tr key={row.id} data-testid={`${testPrefix}-row`} data-name={row.name}>
                {columns.map((c) => (
                  <td key={c.label} className={[c.numeric && "num", c.mono && "mono"].filter(Boolean).join(" ") || undefined}>
                    {c.render(row)}
                  </td>
                ))}
                <td className="icon-cell">
                  {row.nodeId && (
                    <a className="icon-button icon-link" href={hrefFor("topology", { node: row.nodeId })} aria-label={`Show ${row.name} in Topology`} title="Show in Topology">
                      <TopologyIcon size={14} />
                    </a>
                  )}
                </td>
              </tr>
            ))}
            {page && page.rows.length === 0 && (
              <tr>
                <td colSpan={columns.length + 1} className="table-empty">
                  No {noun.many} match “{search}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
