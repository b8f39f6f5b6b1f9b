import type { ElkNode } from "elkjs/lib/elk-api";

/** Main thread → layout worker: lay out `graph`; the answer carries the same `id`. */
export interface LayoutRequest {
  id: number;
  graph: ElkNode;
}

/** Layout worker → main thread. */
export type LayoutResponse = { id: number; ok: true; graph: ElkNode; ms: number } | { id: number; ok: false; error: string };
