import { useSyncExternalStore } from "react";
import type { ThemePreference } from "./bindings";

export type ResolvedTheme = "light" | "dark";

const DARK_QUERY = "(prefers-color-scheme: dark)";

function media(): MediaQueryList | null {
  return typeof window.matchMedia === "function" ? window.matchMedia(DARK_QUERY) : null;
}

export function systemPrefersDark(): boolean {
  return media()?.matches ?? false;
}

function subscribe(onChange: () => void): () => void {
  const m = media();
  if (!m) return () => {};
  m.addEventListener("change", onChange);
  return () => m.removeEventListener("change", onChange);
}

/** Follows the OS light/dark setting live. */
export function useSystemPrefersDark(): boolean {
  return useSyncExternalStore(subscribe, systemPrefersDark, () => false);
}

export function resolveTheme(preference: ThemePreference, systemDark: boolean): ResolvedTheme {
  if (preference === "system") return systemDark ? "dark" : "light";
  return preference;
}

/** Applies the theme as `<html data-theme>`; the stylesheet's variables key off it. */
export function applyTheme(theme: ResolvedTheme, preference?: ThemePreference): void {
  const root = document.documentElement;
  root.dataset.theme = theme;
  if (preference) root.dataset.themePreference = preference;
  root.style.colorScheme = theme;
}
