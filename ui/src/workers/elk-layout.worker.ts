/**
 * Runs ELK off the UI thread: one request in, one laid-out graph (or an error) out.
 * Started by `pages/topology/layout-engine.ts`.
 */
import ELK from "elkjs/lib/elk.bundled.js";
import type { LayoutRequest, LayoutResponse } from "./elk-protocol";

interface WorkerScope {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: LayoutResponse): void;
}

const scope = self as unknown as WorkerScope;

// ELK's bundled build runs its engine in-thread here; constructing it also installs its own
// `onmessage` (it thinks it is ELK's worker), which the assignment below replaces.
const elk = new ELK();

scope.onmessage = (event) => {
  const { id, graph } = event.data;
  const started = performance.now();
  elk
    .layout(graph)
    .then((result) => scope.postMessage({ id, ok: true, graph: result, ms: Math.round(performance.now() - started) }))
    .catch((error: unknown) => scope.postMessage({ id, ok: false, error: error instanceof Error ? error.message : String(error) }));
};
