import { createContext, type ReactNode, useContext, useEffect, useRef } from "react";
import type { EventName, Events } from "../bindings";
import type { Backend } from "./types";

const BackendContext = createContext<Backend | null>(null);

export function BackendProvider({ backend, children }: { backend: Backend; children: ReactNode }) {
  return <BackendContext.Provider value={backend}>{children}</BackendContext.Provider>;
}

export function useBackend(): Backend {
  const backend = useContext(BackendContext);
  if (!backend) throw new Error("useBackend() must be used inside <BackendProvider>.");
  return backend;
}

/**
 * Subscribes to a backend event for the lifetime of the component. The latest `handler` is
 * always called, so callers need not memoise it; the subscription itself is made once.
 */
export function useBackendEvent<E extends EventName>(event: E, handler: (payload: Events[E]) => void): void {
  const backend = useBackend();
  const handlerRef = useRef(handler);
  useEffect(() => {
    handlerRef.current = handler;
  });
  useEffect(() => {
    let unsubscribe: (() => void) | null = null;
    let disposed = false;
    backend
      .subscribe(event, (payload) => handlerRef.current(payload))
      .then((off) => {
        // The component may have unmounted while the listener was being registered.
        if (disposed) off();
        else unsubscribe = off;
      })
      .catch((reason: unknown) => {
        console.error(`Could not subscribe to ${event}`, reason);
      });
    return () => {
      disposed = true;
      unsubscribe?.();
    };
  }, [backend, event]);
}
