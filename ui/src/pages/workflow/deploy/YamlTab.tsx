import { useState } from "react";
import type { DeployYaml, PoolRef, PoolSpec, UnmappedYamlField } from "../../../lib/bindings";
import { YamlEditor } from "../../../components/editor";
import type { Problem } from "../hooks";
import { ErrorBanner } from "../parts";
import { docText, workerPoolLabel } from "./model";

/** What the last read-back of one pool's YAML found. */
export interface ReadBackState {
  pending: boolean;
  changed: string[];
  unmapped: UnmappedYamlField[];
  problem: Problem | null;
}

export const poolKey = (pool: PoolRef) => (pool.kind === "worker" ? `worker-${pool.index}` : pool.kind);

type Doc = { id: string; label: string; pool: PoolRef };

export function YamlTab({
  yaml,
  workers,
  paletteFills,
  loading,
  problem,
  edited,
  readBack,
  dropped,
  onEdit,
  onRevert,
}: {
  yaml: DeployYaml | null;
  workers: PoolSpec[];
  paletteFills: string[];
  loading: boolean;
  problem: Problem | null;
  edited: boolean;
  readBack: Record<string, ReadBackState>;
  /** Hand edits the form had no field for, lost when the form changed and the YAML was generated again. */
  dropped: UnmappedYamlField[];
  onEdit: (pool: PoolRef, text: string) => void;
  onRevert: () => void;
}) {
  const [active, setActive] = useState("controlPlane");
  const docs: Doc[] = [
    { id: "cluster", label: "Cluster", pool: { kind: "cluster" } },
    { id: "controlPlane", label: "Control plane", pool: { kind: "controlPlane" } },
    ...workers.map((w, i) => ({ id: `worker-${i}`, label: workerPoolLabel(w, i), pool: { kind: "worker", index: i } as PoolRef })),
  ];
  const doc = docs.find((d) => d.id === active) ?? docs[1];
  const text = docText(yaml, doc.pool) ?? "";
  const state = readBack[doc.id];
  return (
    <div className="dp-yaml" data-testid="deploy-yaml">
      <p className="wf-help">
        What Palette receives. Edit it and the form follows; what the form has no field for is listed below and deployed as edited. Palette fills {paletteFills.map((m) => `\${${m}}`).join(", ") || "nothing"} itself.
      </p>
      {problem && <ErrorBanner title="The YAML could not be generated" problem={problem} />}
      {dropped.length > 0 && (
        <p className="dp-warning" role="status" data-testid="deploy-yaml-dropped">
          The form changed, so the YAML was generated again; these hand edits were dropped: {dropped.map((u) => u.path).join(", ")}.
        </p>
      )}
      <div className="dp-row-between">
        <div className="wf-tabs" role="tablist" aria-label="YAML documents">
          {docs.map((d) => (
            <button key={d.id} type="button" role="tab" className="wf-tab" aria-selected={d.id === doc.id} data-testid={`deploy-yaml-tab-${d.id}`} onClick={() => setActive(d.id)}>
              {d.label}
              {(readBack[d.id]?.unmapped.length ?? 0) > 0 && <span className="wf-badge">{readBack[d.id]?.unmapped.length} kept</span>}
              {readBack[d.id]?.problem && <span className="wf-badge wf-badge-bad">error</span>}
            </button>
          ))}
        </div>
        {edited && (
          <button type="button" className="wf-link" data-testid="deploy-yaml-revert" onClick={onRevert}>
            Generate again from the form
          </button>
        )}
      </div>
      {loading && !yaml ? (
        <p className="wf-muted">Generating the YAML…</p>
      ) : (
        <YamlEditor
          key={doc.id}
          value={text}
          onChange={(v) => onEdit(doc.pool, v)}
          height={420}
          ariaLabel={`${doc.label} YAML`}
          testId={`deploy-yaml-editor-${doc.id}`}
        />
      )}
      {doc.pool.kind === "cluster" && <p className="wf-help">The control-plane VIP, the API port and the pod and service networks edited here update the form.</p>}
      {state && (
        <div className="dp-readback" data-testid="deploy-yaml-readback" data-pending={state.pending}>
          {state.pending && <span className="wf-muted">Reading the YAML back into the form…</span>}
          {state.problem && <ErrorBanner title="The edited YAML could not be read" problem={state.problem} testId="deploy-yaml-readback-error" />}
          {!state.pending && state.changed.length > 0 && (
            <div data-testid="deploy-yaml-changed">
              Form updated from the YAML: <code>{state.changed.join(", ")}</code>
            </div>
          )}
          {state.unmapped.length > 0 && (
            <div className="dp-unmapped" data-testid="deploy-yaml-unmapped">
              <strong>Kept in the YAML only (the form has no field for them):</strong>
              <ul>
                {state.unmapped.map((u) => (
                  <li key={u.path}>
                    <code>{u.path}</code>
                    {u.value !== null && (
                      <>
                        {" "}
                        = <code>{u.value.length > 60 ? `${u.value.slice(0, 60)}…` : u.value}</code>
                      </>
                    )}{" "}
                    — {u.reason}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
