import { useState } from "react";
import type { EnvironmentList as EnvironmentListDto } from "../../lib/bindings";
import { EnvironmentBadge } from "../../components/EnvironmentBadge";
import { CheckIcon } from "../../components/Icons";

/** Every environment, with activate / edit / delete. */
export function EnvironmentList({
  list,
  activating,
  busyId,
  onActivate,
  onEdit,
  onDelete,
  onAdd,
}: {
  list: EnvironmentListDto | null;
  activating: string | null;
  /** An environment being opened for editing or deleted. */
  busyId: string | null;
  onActivate: (id: string) => void;
  onEdit: (id: string) => void;
  onDelete: (id: string) => void;
  onAdd: () => void;
}) {
  const [confirming, setConfirming] = useState<string | null>(null);
  return (
    <section className="card env-list" data-testid="env-list" aria-labelledby="env-list-title">
      <header className="env-list-head">
        <h2 className="section-title" id="env-list-title">
          Environments
        </h2>
        <button type="button" className="button" data-testid="env-add" onClick={onAdd}>
          Add environment
        </button>
      </header>
      {list === null && <div className="muted env-list-empty">Loading environments…</div>}
      <ul className="env-rows">
        {list?.environments.map((env) => {
          const active = env.id === list.activeId;
          const real = env.kind === "real";
          return (
            <li key={env.id} className="env-row" data-testid="env-row" data-id={env.id} data-active={active ? "true" : undefined}>
              <div className="env-row-main">
                <div className="env-row-name">
                  <span data-testid="env-row-name">{env.name}</span>
                  <EnvironmentBadge kind={env.kind} />
                  {active && (
                    <span className="active-pill" data-testid="env-row-active">
                      <CheckIcon size={12} /> Active
                    </span>
                  )}
                </div>
                <div className="env-row-urls mono">
                  <span title="Palette">{env.paletteUrl ?? "Palette address not known yet"}</span>
                  <span title="Prism Central">{env.prismUrl ?? "Prism Central address not known yet"}</span>
                </div>
              </div>
              {confirming === env.id ? (
                <div className="env-row-actions env-row-confirm" role="group" aria-label={`Delete ${env.name}?`}>
                  <span>Delete “{env.name}” and its saved credentials?</span>
                  <button
                    type="button"
                    className="button setup-danger"
                    data-testid="env-delete-confirm"
                    disabled={busyId === env.id}
                    onClick={() => {
                      setConfirming(null);
                      onDelete(env.id);
                    }}
                  >
                    Delete
                  </button>
                  <button type="button" className="button" onClick={() => setConfirming(null)}>
                    Keep
                  </button>
                </div>
              ) : (
                <div className="env-row-actions">
                  {!active && (
                    <button
                      type="button"
                      className="button"
                      data-testid="env-activate"
                      disabled={activating !== null}
                      onClick={() => onActivate(env.id)}
                    >
                      {activating === env.id ? "Switching…" : "Activate"}
                    </button>
                  )}
                  {real && (
                    <>
                      <button type="button" className="button" data-testid="env-edit" disabled={busyId === env.id} onClick={() => onEdit(env.id)}>
                        Edit
                      </button>
                      <button type="button" className="button" data-testid="env-delete" disabled={busyId === env.id} onClick={() => setConfirming(env.id)}>
                        Delete
                      </button>
                    </>
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
