import type { JsonValue } from "../../lib/bindings/serde_json/JsonValue";

export function asNumber(value: JsonValue | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function asString(value: JsonValue | undefined): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** 8192 → "8 GiB", 1536 → "1.5 GiB", 512 → "512 MiB". */
export function formatMemory(mib: number | null): string {
  if (mib === null) return "—";
  if (mib < 1024) return `${mib} MiB`;
  const gib = mib / 1024;
  return `${Number.isInteger(gib) ? gib : gib.toFixed(1)} GiB`;
}

/** Bytes in binary units with one decimal: "2.2 GiB". */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Prism's power states in words ("ON" → "On"). */
export function powerWord(state: string | null): string {
  if (!state) return "Unknown";
  return state.charAt(0).toUpperCase() + state.slice(1).toLowerCase();
}
