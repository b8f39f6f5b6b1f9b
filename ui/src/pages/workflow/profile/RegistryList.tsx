import type { PackRegistry } from "../../../lib/bindings";

/** The environment's pack registries; the user's own are marked custom (custom OS and K8s packs live there). */
export function RegistryList({ registries }: { registries: PackRegistry[] }) {
  if (registries.length === 0) return <p className="wf-muted">Palette lists no pack registries.</p>;
  return (
    <ul className="wf-registries" data-testid="profile-registries">
      {registries.map((r) => (
        <li key={r.uid} className="wf-registry" data-testid="profile-registry" data-uid={r.uid} data-custom={r.custom}>
          <span className="wf-registry-name">{r.name}</span>
          {r.custom ? <span className="wf-badge">custom</span> : <span className="wf-badge wf-badge-plain">Palette</span>}
          <span className="wf-muted">
            {[r.scope, r.kind, r.isPrivate ? "private" : null, r.isDefault ? "default" : null].filter(Boolean).join(" · ")}
          </span>
        </li>
      ))}
    </ul>
  );
}
