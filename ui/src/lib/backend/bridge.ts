import type { CommandName, Commands, EventName, Events, IpcError } from "../bindings";
import { type Backend, BackendError, toBackendError } from "./types";

/**
 * The backend over `capstan-bridge` (loopback HTTP): the real engine and sandbox in a plain
 * browser, for Playwright in Chromium and for browser development. Same contract as the
 * Tauri backend: `POST /rpc` answers `{ok}` or `{err}`; events arrive over SSE.
 */
export class BridgeBackend implements Backend {
  private source: EventSource | null = null;
  private readonly handlers = new Map<EventName, Set<(payload: unknown) => void>>();

  constructor(private readonly baseUrl: string = "") {}

  async call<K extends CommandName>(cmd: K, request: Commands[K]["request"]): Promise<Commands[K]["response"]> {
    let reply: { ok?: Commands[K]["response"]; err?: IpcError };
    try {
      const response = await fetch(`${this.baseUrl}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ cmd, payload: request }),
      });
      if (!response.ok) {
        throw new BackendError({
          code: "unavailable",
          message: `The Capstan bridge answered HTTP ${response.status}. Is capstan-bridge still running?`,
        });
      }
      reply = (await response.json()) as typeof reply;
    } catch (reason) {
      throw toBackendError(reason);
    }
    if (reply.err) throw new BackendError(reply.err);
    return reply.ok as Commands[K]["response"];
  }

  async subscribe<E extends EventName>(event: E, handler: (payload: Events[E]) => void): Promise<() => void> {
    const source = this.eventSource();
    let set = this.handlers.get(event);
    if (!set) {
      const fresh = new Set<(payload: unknown) => void>();
      this.handlers.set(event, fresh);
      source.addEventListener(event, (message) => {
        const payload: unknown = JSON.parse((message as MessageEvent<string>).data);
        for (const h of [...fresh]) h(payload);
      });
      set = fresh;
    }
    const listener = handler as (payload: unknown) => void;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  private eventSource(): EventSource {
    this.source ??= new EventSource(`${this.baseUrl}/events`);
    return this.source;
  }
}
