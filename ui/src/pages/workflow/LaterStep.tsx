import type { WorkflowStep, WorkflowStepId } from "../../lib/bindings";
import { STEP_NOUN } from "./parts";
import { STATUS_WORD } from "./Stepper";

const PLANS: Record<"profile" | "cluster", { intro: string; points: string[] }> = {
  profile: {
    intro: "A cluster profile for the nutanix cloud type: the layers every cluster made from it gets.",
    points: [
      "OS and Kubernetes layers (their content comes from the CAPX templates and the node image)",
      "Network (CNI) and storage (the nutanix-csi pack, offered only for a cloud type named nutanix)",
      "Each layer edited as YAML with schema validation, then published",
    ],
  },
  cluster: {
    intro: "The workload cluster itself, created through the PCG in Prism Central.",
    points: [
      "Prism Element, subnet, node image and node pool sizes, checked against CAPX minimums",
      "The kube-vip control-plane address, checked to be free before anything is created",
      "Progress as the VMs appear in Prism Central, until the cluster is Running",
    ],
  },
};

/** Steps 4 and 5 are not built yet: say what they will do and show their live state, nothing more. */
export function LaterStep({ id, step }: { id: Extract<WorkflowStepId, "profile" | "cluster">; step: WorkflowStep | undefined }) {
  const plan = PLANS[id];
  return (
    <div className="wf-step-panel" data-testid={`step-later-${id}`}>
      <div className="eyebrow">Not built yet in this version</div>
      <p>{plan.intro} Capstan will do it here; for now, use the Palette console for this step.</p>
      <ul className="wf-changes">
        {plan.points.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
      <div className="wf-later-state" data-testid={`step-later-status`} data-status={step?.status ?? "loading"}>
        <strong>Live state:</strong> {step ? STATUS_WORD[step.status] : "reading…"}
        {step?.blockedBy && <> · Waiting for: {STEP_NOUN[step.blockedBy]}</>}
        {step?.summary && <> · {step.summary}</>}
      </div>
    </div>
  );
}
