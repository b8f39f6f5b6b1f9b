import { useSyncExternalStore } from "react";

export type PageId = "setup" | "workflow" | "topology" | "clusters" | "activity" | "settings";

export interface PageDef {
  id: PageId;
  label: string;
  /** One line shown under the page title and in the command palette. */
  description: string;
}

/** Navigation order; index + 1 is the Alt/Ctrl shortcut digit. */
export const PAGES: readonly PageDef[] = [
  { id: "setup", label: "Setup", description: "Connect Palette and Prism Central" },
  { id: "workflow", label: "Workflow", description: "From cloud type to a running cluster" },
  { id: "topology", label: "Topology", description: "Palette to VMs, as a map" },
  { id: "clusters", label: "Clusters", description: "Inventory and day-2 actions" },
  { id: "activity", label: "Activity", description: "What Capstan did, live" },
  { id: "settings", label: "Settings", description: "Appearance and app information" },
];

export const DEFAULT_PAGE: PageId = "setup";

export interface Route {
  page: PageId;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?", 2);
  const page = PAGES.find((p) => p.id === path)?.id ?? DEFAULT_PAGE;
  return { page, params: new URLSearchParams(query) };
}

export function hrefFor(page: PageId, params?: Record<string, string>): string {
  const query = params ? new URLSearchParams(params).toString() : "";
  return `#/${page}${query ? `?${query}` : ""}`;
}

export function navigate(page: PageId, params?: Record<string, string>): void {
  const href = hrefFor(page, params);
  if (window.location.hash !== href) window.location.hash = href;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

/** The current hash route; re-renders on `hashchange`. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  // Parsing is cheap; URLSearchParams is not referentially stable, so compare by string.
  return parseHash(hash);
}
