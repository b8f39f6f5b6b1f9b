import "./workflow.css";
import { useMemo, useState } from "react";
import type { WorkflowState, WorkflowStepId } from "../../lib/bindings";
import { RefreshIcon } from "../../components/Icons";
import { PageHeader } from "../../components/Page";
import { useNow } from "../../components/useNow";
import { navigate, useRoute } from "../../lib/router";
import { formatAge } from "../../lib/time";
import { ArchitectureDiagram } from "./ArchitectureDiagram";
import { CloudAccountStep } from "./CloudAccountStep";
import { CloudTypeStep } from "./CloudTypeStep";
import { DEFAULT_TIMING, TimingContext, useTiming, useWorkflowState, type WorkflowTiming } from "./hooks";
import { DeployStep } from "./DeployStep";
import { ErrorBanner, isStepId, STEP_ORDER } from "./parts";
import { PcgStep } from "./PcgStep";
import { ProfileStep } from "./ProfileStep";
import { Stepper } from "./Stepper";

/** The step to open when the address names none: the first one not done. */
function firstOpenStep(state: WorkflowState): WorkflowStepId {
  return STEP_ORDER.find((id) => state.steps.find((s) => s.id === id)?.status !== "done") ?? "cluster";
}

function CheckedAt({ at }: { at: string }) {
  const now = useNow(5_000);
  return (
    <span className="wf-checked" data-testid="workflow-checked-at" title={at}>
      Checked {formatAge(at, now)}
    </span>
  );
}

/** The Workflow page: the five steps with their live state, the selected step, and the architecture diagram. */
export function WorkflowPage({ timing }: { timing?: Partial<WorkflowTiming> }) {
  const merged = useMemo(() => ({ ...DEFAULT_TIMING, ...timing }), [timing]);
  return (
    <TimingContext.Provider value={merged}>
      <WorkflowBody />
    </TimingContext.Provider>
  );
}

function WorkflowBody() {
  const route = useRoute();
  const timing = useTiming();
  const { state, problem, refresh } = useWorkflowState(timing.statePollMs);
  // The first open step, fixed once known, so finishing a step does not move the page away.
  const [landing, setLanding] = useState<WorkflowStepId | null>(null);
  if (state && landing === null) setLanding(firstOpenStep(state));
  const requested = route.params.get("step");
  const selected: WorkflowStepId | null = isStepId(requested) ? requested : landing;
  const stepOf = (id: WorkflowStepId) => state?.steps.find((s) => s.id === id);
  const pcg = stepOf("pcg");

  return (
    <>
      <PageHeader
        title="Workflow"
        subtitle="From an empty Palette to a running Kubernetes cluster on Nutanix, one checked step at a time."
        actions={
          <>
            {state && <CheckedAt at={state.checkedAt} />}
            <button type="button" className="button" data-testid="workflow-refresh" onClick={refresh}>
              <RefreshIcon size={14} /> Check now
            </button>
          </>
        }
      />
      {problem && <ErrorBanner title={state ? "The workflow state could not be refreshed" : "The workflow state could not be read"} problem={problem} testId="workflow-error" />}
      {state?.problem && (
        <div className="wf-partial" role="status" data-testid="workflow-partial">
          {state.problem}
        </div>
      )}
      <div className="wf-layout">
        <Stepper steps={state?.steps ?? null} selected={selected} onSelect={(id) => navigate("workflow", { step: id })} />
        <div className="wf-main">
          <ArchitectureDiagram boxes={state?.diagram ?? []} selected={selected} />
          <section className="card wf-panel" aria-label="Selected step" data-testid={selected ? `workflow-panel-${selected}` : "workflow-panel"}>
            {!selected && <p className="wf-muted">Reading the environment…</p>}
            {/* Keyed on the environment: switching environments starts from its own drafts. */}
            {state && selected === "cloud_type" && <CloudTypeStep key={state.environmentId} step={stepOf("cloud_type")} onChanged={refresh} />}
            {state && selected === "pcg" && <PcgStep key={state.environmentId} step={pcg} cloudTypeDone={stepOf("cloud_type")?.status === "done"} onChanged={refresh} />}
            {state && selected === "cloud_account" && (
              <CloudAccountStep key={state.environmentId} reloadKey={`${pcg?.status ?? ""}|${pcg?.objectUid ?? ""}|${stepOf("cloud_type")?.status ?? ""}`} onChanged={refresh} />
            )}
            {state && selected === "profile" && <ProfileStep key={state.environmentId} step={stepOf("profile")} onChanged={refresh} />}
            {state && selected === "cluster" && <DeployStep key={state.environmentId} step={stepOf("cluster")} onChanged={refresh} />}
          </section>
        </div>
      </div>
    </>
  );
}
