import { hrefFor } from "../../../lib/router";
import { ClusterProgress } from "../../cluster/ClusterProgress";

/** The new (or existing) cluster's live progress, and the way to its page for day-2 actions. */
export function ClusterProgressView({ uid, name, onPhase }: { uid: string; name: string | null; onPhase?: () => void }) {
  return (
    <div className="dp-progress" data-testid="deploy-progress" data-uid={uid}>
      <ClusterProgress uid={uid} onPhase={onPhase} />
      <a className="wf-link" href={hrefFor("clusters", { cluster: uid })} data-testid="deploy-progress-link">
        Open {name ?? "the cluster"} on the Clusters page
      </a>
    </div>
  );
}
