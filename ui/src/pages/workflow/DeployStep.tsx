import "./deploy/deploy.css";
import { useState } from "react";
import type { DeployResult, WorkflowStep } from "../../lib/bindings";
import { ClusterProgressView } from "./deploy/ClusterProgressView";
import { DeployForm } from "./deploy/DeployForm";

type View = { kind: "auto" } | { kind: "form" } | { kind: "deployed"; result: DeployResult };

/**
 * Step 5: deploy the workload cluster. Shows the cluster the workflow already has (with its
 * progress), the one just deployed, or the form.
 */
export function DeployStep({ step, onChanged }: { step: WorkflowStep | undefined; onChanged: () => void }) {
  const [view, setView] = useState<View>({ kind: "auto" });
  const another = (
    <button type="button" className="button" data-testid="deploy-another" onClick={() => setView({ kind: "form" })}>
      Deploy another cluster
    </button>
  );

  if (view.kind === "deployed") {
    const { result } = view;
    return (
      <div className="wf-step-panel" data-testid="step5">
        <div className="wf-result" data-testid="deploy-result" data-created={result.created}>
          <div className="wf-result-title">
            {result.created ? `Cluster ${result.name} is being created` : `Cluster ${result.name} already existed`} <span className="wf-muted">({result.uid})</span>
          </div>
          <div>{result.message}</div>
        </div>
        <ClusterProgressView uid={result.uid} name={result.name} onPhase={onChanged} />
        <div className="wf-actions">{another}</div>
      </div>
    );
  }

  if (view.kind === "auto" && step?.objectUid) {
    return (
      <div className="wf-step-panel" data-testid="step5">
        <div className="wf-result" data-testid="deploy-existing">
          <div className="wf-result-title">Cluster {step.objectName ?? step.objectUid}</div>
          <div>{step.summary}</div>
        </div>
        <ClusterProgressView uid={step.objectUid} name={step.objectName} onPhase={onChanged} />
        <div className="wf-actions">{another}</div>
      </div>
    );
  }

  return (
    <div className="wf-step-panel" data-testid="step5">
      <DeployForm
        onDeployed={(result) => {
          setView({ kind: "deployed", result });
          onChanged();
        }}
      />
    </div>
  );
}
