import type { PackLayer, ProfileDetail, ProfileLayerInput } from "../../../lib/bindings";
import type { JsonValue } from "../../../lib/bindings/serde_json/JsonValue";

/** The layers every Nutanix profile has once each, in Palette's order; add-ons follow. */
export const REQUIRED_LAYERS: readonly PackLayer[] = ["os", "k8s", "cni", "csi"];
export const ALL_LAYERS: readonly PackLayer[] = [...REQUIRED_LAYERS, "addon"];

export const LAYER_TITLES: Record<PackLayer, string> = {
  os: "OS",
  k8s: "Kubernetes",
  cni: "Network (CNI)",
  csi: "Storage (CSI)",
  addon: "Add-on",
};

export interface LayerChoice {
  layer: PackLayer;
  registryUid: string;
  packName: string;
  version: string;
  /** The values as edited; null = the pack's defaults, untouched (sent empty, as CAPX wants for OS and K8s). */
  values: string | null;
}

/** The profile version a new version starts from. */
export interface BaseProfile {
  uid: string;
  name: string;
  version: string;
}

export interface ProfileForm {
  mode: "new" | "version";
  name: string;
  version: string;
  description: string;
  publish: boolean;
  /** Set once an existing profile was loaded (mode "version"). */
  base: BaseProfile | null;
  /** The four required layers first, in order, then the add-ons. */
  layers: LayerChoice[];
}

export const emptyLayer = (layer: PackLayer): LayerChoice => ({ layer, registryUid: "", packName: "", version: "", values: null });

export const EMPTY_FORM: ProfileForm = {
  mode: "new",
  name: "",
  version: "1.0.0",
  description: "",
  publish: true,
  base: null,
  layers: REQUIRED_LAYERS.map(emptyLayer),
};

const isLayer = (value: unknown): value is PackLayer => typeof value === "string" && (ALL_LAYERS as readonly string[]).includes(value);
const str = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);

/** Puts the required layers first (one each, empty when missing) and keeps the add-ons after them. */
function ordered(layers: LayerChoice[]): LayerChoice[] {
  const required = REQUIRED_LAYERS.map((id) => layers.find((l) => l.layer === id) ?? emptyLayer(id));
  return [...required, ...layers.filter((l) => l.layer === "addon")];
}

function layerFrom(value: unknown): LayerChoice | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (!isLayer(v.layer)) return null;
  return { layer: v.layer, registryUid: str(v.registryUid), packName: str(v.packName), version: str(v.version), values: typeof v.values === "string" ? v.values : null };
}

/** A draft as saved by any earlier version of this form; unknown fields are ignored. */
export function formFromDraft(data: JsonValue): ProfileForm {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return EMPTY_FORM;
  const base = data.base as Record<string, unknown> | null | undefined;
  const layers = Array.isArray(data.layers) ? data.layers.map(layerFrom).filter((l): l is LayerChoice => l !== null) : [];
  const hasBase = base && typeof base.uid === "string" && typeof base.name === "string" && typeof base.version === "string";
  return {
    mode: data.mode === "version" ? "version" : "new",
    name: str(data.name),
    version: str(data.version, EMPTY_FORM.version),
    description: str(data.description),
    publish: data.publish !== false,
    base: hasBase ? { uid: String(base.uid), name: String(base.name), version: String(base.version) } : null,
    layers: ordered(layers),
  };
}

export function formToDraft(form: ProfileForm): JsonValue {
  return {
    mode: form.mode,
    name: form.name,
    version: form.version,
    description: form.description,
    publish: form.publish,
    base: form.base ? { ...form.base } : null,
    layers: form.layers.map((l) => ({ ...l })),
  };
}

/** What the backend gets: untouched values go empty, so Palette uses the pack's own. */
export function toLayerInputs(form: ProfileForm): ProfileLayerInput[] {
  return form.layers.map((l) => ({ layer: l.layer, registryUid: l.registryUid, packName: l.packName, version: l.version, values: l.values ?? "" }));
}

/** The name a new version keeps: the loaded profile's, or what was typed. */
export const profileName = (form: ProfileForm): string => (form.mode === "version" ? (form.base?.name ?? "") : form.name);

/** The layers that still need a pack or a version, as sentences. */
export function missingChoices(form: ProfileForm): string[] {
  return form.layers.flatMap((l) => {
    const title = LAYER_TITLES[l.layer];
    if (!l.packName || !l.registryUid) return [`Choose a pack for the ${title} layer.`];
    if (!l.version) return [`Choose a version of ${l.packName} for the ${title} layer.`];
    return [];
  });
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split(".").map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The patch after the highest of `versions` ("1.0.1" after "1.0.0"); "1.0.0" when there is none. */
export function nextVersion(versions: string[]): string {
  const highest = [...versions].filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(compareVersions).at(-1);
  if (!highest) return EMPTY_FORM.version;
  const [major, minor, patch] = highest.split(".").map(Number);
  return `${major}.${minor}.${patch + 1}`;
}

/** A new version of `detail`: its layers and values, the next free version, published by default. */
export function formFromProfile(detail: ProfileDetail, versions: string[]): ProfileForm {
  const layers = detail.layers.map((l) => ({ ...l, values: l.values.trim() === "" ? null : l.values }));
  return {
    mode: "version",
    name: "",
    version: nextVersion([...versions, detail.version]),
    description: "",
    publish: true,
    base: { uid: detail.uid, name: detail.name, version: detail.version },
    layers: ordered(layers),
  };
}

/** The layer index a backend error's `details.field` names (`layers[2].values` → 2), if any. */
export function layerIndexOf(details: unknown): number | null {
  const field = (details as { field?: unknown } | null | undefined)?.field;
  const match = typeof field === "string" ? /^layers\[(\d+)\]/.exec(field) : null;
  return match ? Number(match[1]) : null;
}

/** The key rows and test ids use: the layer for the required four, `addon-N` for add-ons. */
export function slotId(layers: LayerChoice[], index: number): string {
  const layer = layers[index];
  if (layer.layer !== "addon") return layer.layer;
  return `addon-${layers.slice(0, index).filter((l) => l.layer === "addon").length + 1}`;
}
