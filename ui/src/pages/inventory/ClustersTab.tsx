import { useEffect, useState } from "react";
import { FreshnessNote, useSyncState } from "../../components/sync";
import { describeError, useBackend } from "../../lib/backend";
import type { ClusterList, ClusterRow, ErrorCode } from "../../lib/bindings";
import { hrefFor, navigate } from "../../lib/router";
import { EmptyCache, LoadError } from "./EmptyCache";

/** Palette's clusters open their day-2 page; those only Prism Central shows open in Topology. */
function openCluster(cluster: ClusterRow) {
  if (cluster.paletteUid) navigate("clusters", { cluster: cluster.paletteUid });
  else navigate("topology", { node: cluster.id });
}

/** Kubernetes clusters (Palette's, and those only Prism Central shows), from the cache. */
export function ClustersTab() {
  const backend = useBackend();
  const { cacheVersion, running } = useSyncState();
  const [list, setList] = useState<ClusterList | null>(null);
  const [error, setError] = useState<{ code: ErrorCode; message: string } | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let cancelled = false;
    backend
      .call("clusters_list", {})
      .then((next) => {
        if (cancelled) return;
        setList(next);
        setError(null);
      })
      .catch((reason: unknown) => {
        if (!cancelled) setError(describeError(reason));
      });
    return () => {
      cancelled = true;
    };
  }, [backend, cacheVersion, reload]);

  if (error) return <LoadError title="Could not load clusters" error={error} onRetry={() => setReload((n) => n + 1)} testId="clusters-error" />;
  if (!list) return <div className="muted inventory-loading">Reading the cache…</div>;
  if (list.freshness.empty || (list.clusters.length === 0 && running)) return <EmptyCache what="Kubernetes clusters" />;

  return (
    <div className="inventory-tab">
      <div className="toolbar">
        <span className="muted" data-testid="clusters-total">
          {list.clusters.length === 1 ? "1 cluster" : `${list.clusters.length} clusters`}
        </span>
        <span className="toolbar-spacer" />
        <FreshnessNote freshness={list.freshness} testId="clusters-freshness" />
      </div>
      <div className="table-wrap inventory-scroll">
        <table className="table inventory-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">API endpoint (kube-vip)</th>
              <th scope="col">Kubernetes</th>
              <th scope="col">Prism Element</th>
              <th scope="col" className="num">
                Control plane
              </th>
              <th scope="col" className="num">
                Workers
              </th>
              <th scope="col" className="num">
                Powered on
              </th>
            </tr>
          </thead>
          <tbody>
            {list.clusters.length === 0 && (
              <tr>
                <td colSpan={8} className="table-empty">
                  No Kubernetes clusters in the cache. Clusters deployed through Workflow, and those already in Palette or Prism Central, are listed here.
                </td>
              </tr>
            )}
            {list.clusters.map((c) => (
              <tr
                key={c.id}
                className="clickable-row"
                data-testid="cluster-row"
                data-name={c.name}
                data-status={c.status}
                onClick={() => openCluster(c)}
                title={c.paletteUid ? "Open the cluster" : "Show in Topology"}
              >
                <td>
                  {c.paletteUid ? (
                    <a href={hrefFor("clusters", { cluster: c.paletteUid })} className="row-link" onClick={(e) => e.stopPropagation()} data-testid="cluster-detail-link">
                      {c.name}
                    </a>
                  ) : (
                    <a href={hrefFor("topology", { node: c.id })} className="row-link" onClick={(e) => e.stopPropagation()} data-testid="cluster-topology-link">
                      {c.name}
                    </a>
                  )}
                  {c.paletteUid && (
                    <a
                      href={hrefFor("topology", { node: c.id })}
                      className="row-link cell-sub-link"
                      onClick={(e) => e.stopPropagation()}
                      data-testid="cluster-topology-link"
                      title="Show in Topology"
                    >
                      map
                    </a>
                  )}
                  {c.pools.length > 0 && <div className="muted cell-sub">{c.pools.join(" · ")}</div>}
                </td>
                <td>
                  <span className="status-chip" data-status={c.status}>
                    <span className="status-dot" data-status={c.status} aria-hidden="true" />
                    {c.state ?? "Unknown"}
                    {c.health && c.health !== c.state && <span className="muted"> · {c.health}</span>}
                  </span>
                </td>
                <td className="mono selectable" data-testid="cluster-endpoint">
                  {c.endpoint ?? <span className="muted">—</span>}
                </td>
                <td>{c.kubernetesVersion ?? <span className="muted">—</span>}</td>
                <td>{c.prismElements.length > 0 ? c.prismElements.join(", ") : <span className="muted">—</span>}</td>
                <td className="num">{c.controlPlaneNodes}</td>
                <td className="num">{c.workerNodes}</td>
                <td className="num">
                  {c.poweredOn} / {c.controlPlaneNodes + c.workerNodes}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
