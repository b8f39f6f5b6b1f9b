import type { CommandName, Commands, ErrorCode, EventName, Events, IpcError } from "../bindings";

/**
 * The one seam between the UI and the Rust backend. Components see only this interface
 * (through `useBackend()`), so the same UI runs against Tauri, the vitest `MockBackend`
 * and the Playwright `mockIPC` build.
 */
export interface Backend {
  call<K extends CommandName>(cmd: K, request: Commands[K]["request"]): Promise<Commands[K]["response"]>;
  /** Resolves to an unsubscribe function once the listener is registered. */
  subscribe<E extends EventName>(event: E, handler: (payload: Events[E]) => void): Promise<() => void>;
}

/** A failed backend call: the `IpcError` envelope as a real `Error`. */
export class BackendError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(envelope: IpcError) {
    super(envelope.message);
    this.name = "BackendError";
    this.code = envelope.code;
    this.details = envelope.details;
  }

  toEnvelope(): IpcError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isBackendError(value: unknown): value is BackendError {
  return value instanceof BackendError;
}

/** True when `value` has the `{code, message}` shape of an `IpcError`. */
export function isIpcErrorEnvelope(value: unknown): value is IpcError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && typeof v.message === "string";
}

/**
 * Turns anything a backend call rejected with into a `BackendError`. Envelopes keep their
 * code; anything else (a plain string from Tauri, a JS exception) becomes `internal`.
 */
export function toBackendError(reason: unknown): BackendError {
  if (reason instanceof BackendError) return reason;
  if (isIpcErrorEnvelope(reason)) return new BackendError(reason);
  if (reason instanceof Error) {
    return new BackendError({ code: "internal", message: reason.message || String(reason) });
  }
  const message = typeof reason === "string" && reason.length > 0 ? reason : "The backend failed without saying why.";
  return new BackendError({ code: "internal", message, details: reason === undefined ? undefined : { raw: reason } });
}

/** A readable one-liner for any error, for banners and toasts. */
export function describeError(error: unknown): { code: ErrorCode; message: string } {
  const e = toBackendError(error);
  return { code: e.code, message: e.message };
}
