/** The Monaco API as `monaco.ts` exports it (type only: nothing is loaded by this import). */
export type MonacoModule = typeof import("./monaco");

let loading: Promise<MonacoModule> | null = null;

/**
 * Whether Monaco can run here: it needs Web Workers (jsdom has none, so component tests get
 * the plain-text fallback).
 */
export function monacoSupported(): boolean {
  return typeof Worker !== "undefined" && typeof window !== "undefined";
}

/** Loads Monaco once, on first use. A failed load is retried on the next call. */
export function loadMonaco(): Promise<MonacoModule> {
  if (!loading) {
    loading = import("./monaco").catch((error: unknown) => {
      loading = null;
      throw error;
    });
  }
  return loading;
}
