import type { StepStatus, WorkflowStep, WorkflowStepId } from "../../lib/bindings";
import { STEP_NOUN, STEP_ORDER } from "./parts";

export const STATUS_WORD: Record<StepStatus, string> = {
  done: "Done",
  in_progress: "In progress",
  blocked: "Blocked",
  not_started: "Not started",
  failed: "Failed",
  unknown: "Unknown",
};

const FALLBACK_TITLE: Record<WorkflowStepId, string> = {
  cloud_type: "Register the Nutanix cloud type",
  pcg: "Deploy the Private Cloud Gateway",
  cloud_account: "Add the Nutanix cloud account",
  profile: "Create a cluster profile",
  cluster: "Deploy the cluster",
};

function StatusGlyph({ status, index }: { status: StepStatus | "loading"; index: number }) {
  const common = { width: 22, height: 22, viewBox: "0 0 22 22", "aria-hidden": true, focusable: false } as const;
  switch (status) {
    case "done":
      return (
        <svg {...common} className="wf-glyph" data-status="done">
          <circle cx="11" cy="11" r="10" />
          <path d="m6.5 11.5 3 3 6-6.5" fill="none" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      );
    case "in_progress":
      return (
        <svg {...common} className="wf-glyph" data-status="in_progress">
          <circle cx="11" cy="11" r="9" fill="none" strokeWidth="2" />
          <path d="M11 2a9 9 0 0 1 9 9" fill="none" strokeWidth="2.5" strokeLinecap="round" className="wf-glyph-arc" />
        </svg>
      );
    case "blocked":
      return (
        <svg {...common} className="wf-glyph" data-status="blocked">
          <circle cx="11" cy="11" r="9.5" fill="none" strokeWidth="1.5" />
          <rect x="7.5" y="10" width="7" height="5.5" rx="1" />
          <path d="M9 10V8.5a2 2 0 0 1 4 0V10" fill="none" strokeWidth="1.5" />
        </svg>
      );
    case "failed":
      return (
        <svg {...common} className="wf-glyph" data-status="failed">
          <circle cx="11" cy="11" r="10" />
          <path d="M11 6.5v5.5M11 15v.01" fill="none" strokeWidth="2" strokeLinecap="round" />
        </svg>
      );
    case "unknown":
      return (
        <svg {...common} className="wf-glyph" data-status="unknown">
          <circle cx="11" cy="11" r="9.5" fill="none" strokeWidth="1.5" strokeDasharray="3 2.5" />
          <text x="11" y="15" textAnchor="middle" className="wf-glyph-text">
            ?
          </text>
        </svg>
      );
    default:
      return (
        <svg {...common} className="wf-glyph" data-status={status}>
          <circle cx="11" cy="11" r="9.5" fill="none" strokeWidth="1.5" />
          <text x="11" y="15" textAnchor="middle" className="wf-glyph-text">
            {index + 1}
          </text>
        </svg>
      );
  }
}

/** The five steps with their live state; the selected one drives the panel and the diagram. */
export function Stepper({ steps, selected, onSelect }: { steps: WorkflowStep[] | null; selected: WorkflowStepId | null; onSelect: (id: WorkflowStepId) => void }) {
  return (
    <nav className="wf-stepper card" aria-label="Workflow steps" data-testid="workflow-stepper">
      <ol>
        {STEP_ORDER.map((id, index) => {
          const step = steps?.find((s) => s.id === id);
          const status = step?.status ?? "loading";
          const current = selected === id;
          return (
            <li key={id}>
              <button
                type="button"
                className="wf-step"
                data-testid={`workflow-step-${id}`}
                data-status={step?.status ?? "loading"}
                data-object-uid={step?.objectUid ?? undefined}
                aria-current={current ? "step" : undefined}
                onClick={() => onSelect(id)}
              >
                <StatusGlyph status={status} index={index} />
                <span className="wf-step-body">
                  <span className="wf-step-title">
                    {index + 1}. {step?.title ?? FALLBACK_TITLE[id]}
                  </span>
                  <span className="wf-step-status" data-status={status}>
                    {step ? STATUS_WORD[step.status] : "Reading…"}
                    {step?.hasDraft && <span className="wf-chip">Draft</span>}
                  </span>
                  {step?.blockedBy && (
                    <span className="wf-step-waiting" data-testid="workflow-step-waiting">
                      Waiting for: {STEP_NOUN[step.blockedBy]}
                    </span>
                  )}
                  {step?.summary && <span className="wf-step-summary">{step.summary}</span>}
                </span>
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
