import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
const listen = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock("@tauri-apps/api/event", () => ({ listen: (...args: unknown[]) => listen(...args) }));

const { TauriBackend } = await import("./tauri");
const { isBackendError } = await import("./types");
type BackendError = import("./types").BackendError;

describe("TauriBackend", () => {
  beforeEach(() => {
    invoke.mockReset();
    listen.mockReset();
  });

  it("sends every command through the single rpc command", async () => {
    invoke.mockResolvedValue({ environments: [], activeId: "sandbox" });
    const result = await new TauriBackend().call("environments_list", {});
    expect(invoke).toHaveBeenCalledWith("rpc", { cmd: "environments_list", payload: {} });
    expect(result).toEqual({ environments: [], activeId: "sandbox" });
  });

  it("wraps an IpcError rejection into a BackendError with code, message and details", async () => {
    invoke.mockRejectedValue({ code: "not_found", message: "No environment with id \"x\".", details: { id: "x" } });
    const error = await new TauriBackend().call("environment_activate", { id: "x" }).catch((e: unknown) => e);
    expect(isBackendError(error)).toBe(true);
    expect(error).toBeInstanceOf(Error);
    const e = error as BackendError;
    expect(e.code).toBe("not_found");
    expect(e.message).toBe('No environment with id "x".');
    expect(e.details).toEqual({ id: "x" });
    expect(e.toEnvelope()).toEqual({ code: "not_found", message: 'No environment with id "x".', details: { id: "x" } });
  });

  it("wraps a non-envelope rejection (a plain string) as internal", async () => {
    invoke.mockRejectedValue("command rpc not found");
    const error = await new TauriBackend().call("app_info", {}).catch((e: unknown) => e);
    expect(isBackendError(error)).toBe(true);
    expect((error as BackendError).code).toBe("internal");
    expect((error as Error).message).toBe("command rpc not found");
  });

  it("wraps a thrown Error as internal, keeping its message", async () => {
    invoke.mockRejectedValue(new TypeError("window.__TAURI_INTERNALS__ is undefined"));
    const error = await new TauriBackend().call("status_get", {}).catch((e: unknown) => e);
    expect((error as BackendError).code).toBe("internal");
    expect((error as Error).message).toContain("__TAURI_INTERNALS__");
  });

  it("subscribes with listen and hands the handler only the payload", async () => {
    const unlisten = vi.fn();
    let registered: ((e: { payload: unknown }) => void) | undefined;
    listen.mockImplementation(async (_event: string, cb: (e: { payload: unknown }) => void) => {
      registered = cb;
      return unlisten;
    });
    const handler = vi.fn();
    const off = await new TauriBackend().subscribe("capstan://activity", handler);
    expect(listen).toHaveBeenCalledWith("capstan://activity", expect.any(Function));
    registered?.({ payload: { seq: 1, message: "hello" } });
    expect(handler).toHaveBeenCalledWith({ seq: 1, message: "hello" });
    off();
    expect(unlisten).toHaveBeenCalledOnce();
  });
});
