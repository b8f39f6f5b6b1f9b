/**
 * Playwright build only (`VITE_E2E_MOCKS=1`): answers the `rpc` Tauri command at the IPC seam
 * from a `FakeServer`, so the real `TauriBackend` (invoke + listen) runs unchanged. Tests drive
 * scenarios through `window.__CAPSTAN_MOCK__`.
 */
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import type { ActivityEvent, CommandName, Commands, EventName, Events, IpcError, Status } from "../bindings";
import { FakeServer, type FakeServerOptions } from "./fake-server";
import { applySetupInit, type FakeSetupInit } from "./fake-setup";

export interface CapstanMockControl {
  server: FakeServer;
  /** Makes `cmd` fail with `error` until cleared. */
  fail(cmd: CommandName, error: IpcError): void;
  clearFailure(cmd?: CommandName): void;
  /** Records and emits a `capstan://activity` event. */
  pushActivity(event: Partial<ActivityEvent> & Pick<ActivityEvent, "message">): ActivityEvent;
  /** Emits `capstan://status` with the given status. */
  pushStatus(status: Status): void;
  /** Milliseconds each call waits before answering. */
  setDelay(ms: number): void;
  calls(cmd?: CommandName): unknown[];
}

/** Set by a test before the page loads (e.g. Playwright `addInitScript`) to start in a given state. */
export interface CapstanMockInit {
  failures?: Partial<Record<CommandName, IpcError>>;
  delayMs?: number;
  /** The inventory estate and cache, e.g. `{ start: "empty" }` or `{ vms: 25000 }`. */
  inventory?: FakeServerOptions["inventory"];
  /** The secret store the app finds and whether it is the first run, e.g. `{ secretStore: "needs_fallback" }`. */
  setup?: FakeSetupInit;
}

declare global {
  interface Window {
    __CAPSTAN_MOCK__?: CapstanMockControl;
    __CAPSTAN_MOCK_INIT__?: CapstanMockInit;
  }
}

let delayMs = 0;
const init = window.__CAPSTAN_MOCK_INIT__;

const server = new FakeServer({
  onEvent: <E extends EventName>(event: E, payload: Events[E]) => {
    // Goes through the mocked event plugin, so `listen` in TauriBackend receives it.
    void emit(event, payload);
  },
  inventory: init?.inventory,
});

if (init?.setup) applySetupInit(server, init.setup);
for (const [cmd, error] of Object.entries(init?.failures ?? {})) {
  if (error) server.fail(cmd as CommandName, error);
}
delayMs = init?.delayMs ?? 0;

mockWindows("main");
mockIPC(
  async (cmd, args) => {
    if (cmd !== "rpc") {
      throw { code: "unknown_command", message: `mockIPC: unexpected Tauri command "${cmd}"` } satisfies IpcError;
    }
    const { cmd: name, payload } = (args ?? {}) as { cmd: CommandName; payload: unknown };
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return server.handle(name, payload as Commands[typeof name]["request"]);
  },
  { shouldMockEvents: true },
);

window.__CAPSTAN_MOCK__ = {
  server,
  fail: (cmd, error) => server.fail(cmd, error),
  clearFailure: (cmd) => server.clearFailure(cmd),
  pushActivity: (event) => server.pushActivity(event),
  pushStatus: (status) => server.pushStatus(status),
  setDelay: (ms) => {
    delayMs = ms;
  },
  calls: (cmd) => server.calls.filter((c) => cmd === undefined || c.cmd === cmd).map((c) => c.request),
};
