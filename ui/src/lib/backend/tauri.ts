import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { CommandName, Commands, EventName, Events } from "../bindings";
import { type Backend, toBackendError } from "./types";

/** The Rust side exposes a single command that dispatches on `cmd`. */
const RPC_COMMAND = "rpc";

/** The real backend: every call goes through the `rpc` Tauri command. */
export class TauriBackend implements Backend {
  async call<K extends CommandName>(cmd: K, request: Commands[K]["request"]): Promise<Commands[K]["response"]> {
    try {
      return await invoke<Commands[K]["response"]>(RPC_COMMAND, { cmd, payload: request });
    } catch (reason) {
      throw toBackendError(reason);
    }
  }

  async subscribe<E extends EventName>(event: E, handler: (payload: Events[E]) => void): Promise<() => void> {
    const unlisten = await listen<Events[E]>(event, (e) => handler(e.payload));
    return unlisten;
  }
}
