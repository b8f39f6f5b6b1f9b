import type { PackOption, PackRegistry } from "../../../lib/bindings";
import { LAYER_TITLES, type LayerChoice, slotId } from "./model";

const packKey = (registryUid: string, name: string) => `${registryUid}|${name}`;

/** The layer's packs grouped by registry, in the registries' order; custom registries say so. */
function groups(packs: PackOption[], registries: PackRegistry[]): Array<{ label: string; packs: PackOption[] }> {
  const known = new Map(registries.map((r) => [r.uid, r]));
  const order = [...registries.map((r) => r.uid), ...packs.map((p) => p.registryUid).filter((uid) => !known.has(uid))];
  return [...new Set(order)]
    .map((uid) => {
      const registry = known.get(uid);
      const inIt = packs.filter((p) => p.registryUid === uid);
      const name = registry?.name ?? inIt[0]?.registryName ?? uid;
      return { label: registry?.custom ? `${name} (custom)` : name, packs: inIt };
    })
    .filter((g) => g.packs.length > 0);
}

interface LayerRowProps {
  id: string;
  choice: LayerChoice;
  packs: PackOption[];
  registries: PackRegistry[];
  selected: boolean;
  invalid: boolean;
  onChange: (next: LayerChoice) => void;
  onSelect: () => void;
  onRemove?: () => void;
}

function LayerRow({ id, choice, packs, registries, selected, invalid, onChange, onSelect, onRemove }: LayerRowProps) {
  const title = LAYER_TITLES[choice.layer];
  const pack = packs.find((p) => p.registryUid === choice.registryUid && p.name === choice.packName);
  // A version from a draft or an older profile that the registry no longer offers stays visible.
  const versions = pack ? pack.versions : [];
  const extraVersion = choice.version && !versions.includes(choice.version) ? choice.version : null;
  const edited = choice.values !== null;

  function pickPack(key: string) {
    const next = packs.find((p) => packKey(p.registryUid, p.name) === key);
    // Another pack's values mean nothing here: start from its defaults, newest version.
    onChange(next ? { ...choice, registryUid: next.registryUid, packName: next.name, version: next.versions[0] ?? "", values: null } : { ...choice, registryUid: "", packName: "", version: "", values: null });
  }

  return (
    <tr className="wf-layer" data-testid={`profile-layer-${id}`} data-selected={selected} aria-invalid={invalid || undefined}>
      <th scope="row" className="wf-layer-title">
        {title}
      </th>
      <td>
        <select className="wf-input" aria-label={`${title} pack`} data-testid={`profile-pack-${id}`} value={choice.packName ? packKey(choice.registryUid, choice.packName) : ""} onChange={(e) => pickPack(e.target.value)}>
          <option value="">{packs.length === 0 ? "No pack offered" : "Choose a pack…"}</option>
          {choice.packName && !pack && <option value={packKey(choice.registryUid, choice.packName)}>{choice.packName} (not offered now)</option>}
          {groups(packs, registries).map((g) => (
            <optgroup key={g.label} label={g.label}>
              {g.packs.map((p) => (
                <option key={packKey(p.registryUid, p.name)} value={packKey(p.registryUid, p.name)}>
                  {p.displayName} ({p.name})
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </td>
      <td className="wf-layer-version">
        <select className="wf-input" aria-label={`${title} version`} data-testid={`profile-version-${id}`} value={choice.version} disabled={!choice.packName} onChange={(e) => onChange({ ...choice, version: e.target.value })}>
          {!choice.version && <option value="">—</option>}
          {extraVersion && <option value={extraVersion}>{extraVersion} (not offered now)</option>}
          {versions.map((v, i) => (
            <option key={v} value={v}>
              {i === 0 ? `${v} (newest)` : v}
            </option>
          ))}
        </select>
      </td>
      <td className="wf-layer-actions">
        <span className={edited ? "wf-badge" : "wf-muted"} data-testid={`profile-values-state-${id}`} data-edited={edited}>
          {edited ? "own values" : "pack defaults"}
        </span>
        <button type="button" className="button" aria-pressed={selected} data-testid={`profile-edit-${id}`} disabled={!choice.packName} onClick={onSelect}>
          Values
        </button>
        {onRemove && (
          <button type="button" className="wf-link" data-testid={`profile-remove-${id}`} onClick={onRemove}>
            Remove
          </button>
        )}
      </td>
    </tr>
  );
}

export interface LayerTableProps {
  layers: LayerChoice[];
  packs: Record<LayerChoice["layer"], PackOption[]>;
  registries: PackRegistry[];
  selected: number;
  invalidIndex: number | null;
  onChange: (index: number, next: LayerChoice) => void;
  onSelect: (index: number) => void;
  onRemove: (index: number) => void;
}

/** One row per layer: pack (by registry) and version; add-ons can be removed. */
export function LayerTable({ layers, packs, registries, selected, invalidIndex, onChange, onSelect, onRemove }: LayerTableProps) {
  return (
    <table className="wf-layers" data-testid="profile-layers">
      <thead>
        <tr>
          <th scope="col">Layer</th>
          <th scope="col">Pack</th>
          <th scope="col">Version</th>
          <th scope="col">Values</th>
        </tr>
      </thead>
      <tbody>
        {layers.map((choice, i) => {
          const id = slotId(layers, i);
          return (
            <LayerRow
              key={id}
              id={id}
              choice={choice}
              packs={packs[choice.layer]}
              registries={registries}
              selected={i === selected}
              invalid={i === invalidIndex}
              onChange={(next) => onChange(i, next)}
              onSelect={() => onSelect(i)}
              onRemove={choice.layer === "addon" ? () => onRemove(i) : undefined}
            />
          );
        })}
      </tbody>
    </table>
  );
}
