import type { ElkNode } from "elkjs/lib/elk-api";
import { createContext, type ReactNode, useContext } from "react";
import type { LayoutRequest, LayoutResponse } from "../../workers/elk-protocol";
import { packLayout } from "./layout";

/** Lays out an ELK graph; the default runs ELK in a Web Worker. */
export type LayoutFn = (graph: ElkNode) => Promise<ElkNode>;

/** Row packing on the calling thread: for tests and for web views without workers. */
export const packingLayout: LayoutFn = (graph) => Promise.resolve(packLayout(graph));

/** A layout taking longer than this is given up (the worker is restarted). */
const LAYOUT_TIMEOUT_MS = 60_000;

interface Pending {
  resolve: (graph: ElkNode) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Talks to the ELK worker: one worker, requests matched to answers by id. */
export class WorkerLayoutClient {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly createWorker: () => Worker) {}

  layout(graph: ElkNode): Promise<ElkNode> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<ElkNode>((resolve, reject) => {
      const timer = setTimeout(() => this.restart(new Error(`The layout took longer than ${LAYOUT_TIMEOUT_MS / 1000} s.`)), LAYOUT_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, graph } satisfies LayoutRequest);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = this.createWorker();
    worker.onmessage = (event: MessageEvent<LayoutResponse>) => {
      const answer = event.data;
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      clearTimeout(waiting.timer);
      if (answer.ok) waiting.resolve(answer.graph);
      else waiting.reject(new Error(answer.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.restart(new Error(event.message || "The layout worker stopped."));
    };
    this.worker = worker;
    return worker;
  }

  /** Fails everything in flight and starts a fresh worker on the next request. */
  private restart(reason: Error) {
    this.worker?.terminate();
    this.worker = null;
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(reason);
    }
    this.pending.clear();
  }
}

let shared: LayoutFn | null = null;

/** The app-wide ELK worker layout, started on first use. */
export function workerLayout(): LayoutFn {
  if (shared) return shared;
  if (typeof Worker === "undefined") {
    shared = packingLayout;
    return shared;
  }
  const client = new WorkerLayoutClient(() => new Worker(new URL("../../workers/elk-layout.worker.ts", import.meta.url), { type: "module" }));
  shared = (graph) => client.layout(graph);
  return shared;
}

const LayoutContext = createContext<LayoutFn | null>(null);

/** Replaces the worker layout below it (tests pass `packingLayout` or a spy). */
export function LayoutProvider({ layout, children }: { layout: LayoutFn; children: ReactNode }) {
  return <LayoutContext.Provider value={layout}>{children}</LayoutContext.Provider>;
}

export function useLayoutFn(): LayoutFn {
  return useContext(LayoutContext) ?? workerLayout();
}
