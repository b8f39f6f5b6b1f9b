import type { CommandName, Commands, EventName, Events, IpcError } from "../bindings";
import { FakeServer, type FakeServerOptions } from "./fake-server";
import { type Backend, BackendError } from "./types";

type Listener = (payload: unknown) => void;

/**
 * An in-memory `Backend` for unit tests: answers from a `FakeServer`, lets a test emit events
 * and inject failures, and records every call.
 */
export class MockBackend implements Backend {
  readonly server: FakeServer;
  private readonly listeners = new Map<EventName, Set<Listener>>();
  /** Milliseconds each call waits before answering (0 = next microtask). */
  delayMs = 0;

  constructor(options: Omit<FakeServerOptions, "onEvent"> = {}) {
    this.server = new FakeServer({ ...options, onEvent: (event, payload) => this.emit(event, payload) });
  }

  async call<K extends CommandName>(cmd: K, request: Commands[K]["request"]): Promise<Commands[K]["response"]> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    else await Promise.resolve();
    try {
      return this.server.handle(cmd, request);
    } catch (envelope) {
      throw new BackendError(envelope as IpcError);
    }
  }

  async subscribe<E extends EventName>(event: E, handler: (payload: Events[E]) => void): Promise<() => void> {
    const set = this.listeners.get(event) ?? new Set<Listener>();
    this.listeners.set(event, set);
    const listener = handler as Listener;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Delivers an event to every subscriber, as the Rust side would. */
  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(structuredClone(payload));
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  fail(cmd: CommandName, error: IpcError): void {
    this.server.fail(cmd, error);
  }

  clearFailure(cmd?: CommandName): void {
    this.server.clearFailure(cmd);
  }

  callsOf(cmd: CommandName): unknown[] {
    return this.server.calls.filter((c) => c.cmd === cmd).map((c) => c.request);
  }
}
