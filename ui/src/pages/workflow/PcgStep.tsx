import { useCallback, useEffect, useRef, useState } from "react";
import type { KubeContexts, PcgApplyResult, PcgStatus, WorkflowStep } from "../../lib/bindings";
import type { JsonValue } from "../../lib/bindings/serde_json/JsonValue";
import { useBackend } from "../../lib/backend";
import { useNow } from "../../components/useNow";
import { formatAge } from "../../lib/time";
import { type Problem, toProblem, useDraft, useInterval, useTiming } from "./hooks";
import { CopyButton, DraftIndicator, ErrorBanner, formatElapsed, Section, STEP_NOUN } from "./parts";

type PcgDraft = { name: string; context: string };

const DEFAULT_NAME = "capstan-pcg";

function draftFrom(data: JsonValue): Partial<PcgDraft> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return {};
  return {
    name: typeof data.name === "string" ? data.name : undefined,
    context: typeof data.context === "string" ? data.context : undefined,
  };
}

/** The context to offer first: the sandbox's simulated host, else kubectl's current one. */
function defaultContext(contexts: KubeContexts | null): string {
  const list = contexts?.contexts ?? [];
  return (list.find((c) => c.simulated) ?? list.find((c) => c.current) ?? list[0])?.name ?? "";
}

function PcgState({ status, seenAt }: { status: PcgStatus; seenAt: number }) {
  const now = useNow(1_000);
  const pending = !status.running;
  const elapsed = status.pendingSeconds !== null ? status.pendingSeconds + (pending ? Math.max(0, (now - seenAt) / 1000) : 0) : null;
  return (
    <div className="wf-pcg-state">
      <div className="wf-pcg-head">
        <span className="wf-state-pill" data-testid="step2-state" data-state={status.state} data-running={status.running}>
          {status.state}
        </span>
        <span className="wf-pcg-name">
          PCG <strong>{status.name}</strong> <span className="wf-muted">({status.uid})</span>
        </span>
        {pending && elapsed !== null && (
          <span className="wf-elapsed" data-testid="step2-elapsed">
            Pending for {formatElapsed(elapsed)}
          </span>
        )}
      </div>
      <dl className="wf-facts">
        <div>
          <dt>Health</dt>
          <dd>{status.health ?? "no report yet"}</dd>
        </div>
        <div>
          <dt>Last heartbeat</dt>
          <dd data-testid="step2-heartbeat">{status.lastHeartbeat ? formatAge(status.lastHeartbeat, now) : "none yet"}</dd>
        </div>
        <div>
          <dt>Agent</dt>
          <dd>{status.agentVersion ?? "not installed yet"}</dd>
        </div>
      </dl>
      {status.conditions.length > 0 && (
        <ul className="wf-conditions" data-testid="step2-conditions">
          {status.conditions.map((c) => (
            <li key={`${c.kind}-${c.message}`}>
              <strong>{c.kind}</strong> {c.message}
            </li>
          ))}
        </ul>
      )}
      {status.advice.length > 0 && (
        <div className="wf-advice" data-testid="step2-advice" role="note">
          <div className="wf-advice-title">{elapsed !== null ? `Pending for ${formatElapsed(elapsed)}` : "Still Pending"}: check, in order:</div>
          <ol>
            {status.advice.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}

/** Step 2: create the self-hosted PCG, run (or apply) its commands, watch it until Running. */
export function PcgStep({ step, cloudTypeDone, onChanged }: { step: WorkflowStep | undefined; cloudTypeDone: boolean; onChanged: () => void }) {
  const backend = useBackend();
  const { pcgPollMs } = useTiming();
  const [name, setName] = useState(DEFAULT_NAME);
  const [context, setContext] = useState<string | null>(null);
  const [status, setStatus] = useState<{ value: PcgStatus; seenAt: number } | null>(null);
  const [creating, setCreating] = useState(false);
  const [applying, setApplying] = useState(false);
  const [applied, setApplied] = useState<PcgApplyResult | null>(null);
  const [problem, setProblem] = useState<{ title: string; problem: Problem } | null>(null);
  const [contexts, setContexts] = useState<KubeContexts | null>(null);
  const [contextsProblem, setContextsProblem] = useState<Problem | null>(null);

  const draft = useDraft("pcg", (data) => {
    const d = draftFrom(data);
    if (d.name !== undefined) setName(d.name);
    if (d.context !== undefined) setContext(d.context);
  });

  const [reused, setReused] = useState(false);
  const seenRunning = useRef(false);

  const uid = status?.value.uid ?? step?.objectUid ?? null;
  const running = status?.value.running ?? false;

  const show = useCallback(
    (value: PcgStatus) => {
      setStatus({ value, seenAt: Date.now() });
      // The stepper and step 3 change as soon as the PCG turns Running.
      if (value.running && !seenRunning.current) {
        seenRunning.current = true;
        onChanged();
      }
    },
    [onChanged],
  );

  const poll = useCallback(() => {
    if (!uid) return;
    backend
      .call("pcg_status", { uid })
      .then((value) => {
        show(value);
        setProblem((p) => (p?.title === "Status not read" ? null : p));
      })
      .catch((error: unknown) => {
        const problem = toProblem(error);
        setProblem({ title: "Status not read", problem });
        // Deleted in Palette meanwhile: forget it, so the form to create one comes back.
        if (problem.code === "not_found") {
          setStatus(null);
          onChanged();
        }
      });
  }, [backend, uid, show, onChanged]);

  // Poll until Running; once Running, one read fills in the commands and health.
  useInterval(poll, pcgPollMs, uid !== null && !running);

  const loadContexts = useCallback(() => {
    backend
      .call("kube_contexts", {})
      .then((list) => {
        setContexts(list);
        setContextsProblem(null);
      })
      .catch((error: unknown) => setContextsProblem(toProblem(error)));
  }, [backend]);

  useEffect(() => {
    if (uid) loadContexts();
  }, [uid, loadContexts]);

  function saveDraft(next: Partial<PcgDraft>) {
    draft.schedule({ name: next.name ?? name, context: next.context ?? context ?? "" });
  }

  async function create() {
    setCreating(true);
    setProblem(null);
    try {
      const created = await backend.call("pcg_create", { name: name.trim() });
      show(created);
      setReused(!created.created);
      await draft.discard().catch(() => undefined);
    } catch (error) {
      setProblem({ title: "PCG not created", problem: toProblem(error) });
    } finally {
      setCreating(false);
      onChanged();
    }
  }

  const chosenContext = context && contexts?.contexts.some((c) => c.name === context) ? context : defaultContext(contexts);

  async function apply() {
    if (!uid || !chosenContext) return;
    setApplying(true);
    setProblem(null);
    try {
      const result = await backend.call("pcg_apply", { uid, context: chosenContext });
      setApplied(result);
      show(result.status);
    } catch (error) {
      setProblem({ title: "Commands not applied", problem: toProblem(error) });
    } finally {
      setApplying(false);
      onChanged();
    }
  }

  const blocked = !cloudTypeDone && !uid;
  const current = status;
  const selectedContext = contexts?.contexts.find((c) => c.name === chosenContext) ?? null;

  return (
    <div className="wf-step-panel" data-testid="step2">
      <div className="wf-panel-intro">
        <p>
          The Private Cloud Gateway runs inside a Kubernetes cluster in your network and lets Palette reach Prism Central. Palette gives two <code>kubectl</code> commands to install it;
          it reports <strong>Running</strong> once its agent connects.
        </p>
        <DraftIndicator draft={draft} />
      </div>

      {!uid && (
        <Section title="Create the PCG">
          {blocked && (
            <p className="wf-blocked" data-testid="step2-blocked">
              Waiting for: {STEP_NOUN.cloud_type}. Palette creates a PCG only for a registered cloud type; finish step 1 first.
            </p>
          )}
          <div className="wf-row">
            <label className="wf-field wf-grow">
              <span className="wf-label">Name</span>
              <input
                className="wf-input"
                data-testid="step2-name"
                value={name}
                spellCheck={false}
                onChange={(e) => {
                  setName(e.target.value);
                  saveDraft({ name: e.target.value });
                }}
              />
              <span className="wf-help">Shown in Palette under Tenant Settings → Private Cloud Gateways. Creating again with the same name reuses that PCG.</span>
            </label>
            <button type="button" className="button wf-primary" data-testid="step2-create" disabled={blocked || creating || name.trim() === ""} onClick={() => void create()}>
              {creating ? "Creating…" : "Create PCG"}
            </button>
          </div>
        </Section>
      )}

      {problem && <ErrorBanner title={problem.title} problem={problem.problem} testId="step2-error" />}

      {uid && !current && <p className="wf-muted">Reading the PCG's status…</p>}

      {current && (
        <>
          {reused && (
            <p className="wf-help" data-testid="step2-reused">
              A PCG named {current.value.name} existed already; Capstan uses it instead of making a second one.
            </p>
          )}
          <Section title="Status">
            <PcgState status={current.value} seenAt={current.seenAt} />
          </Section>

          <Section title="Install commands" hint="Run these against the host cluster, in this order (cluster-admin needed).">
            <ol className="wf-commands">
              {current.value.kubectlCommands.map((command, i) => (
                <li key={command} data-testid="step2-command">
                  <span className="wf-command-index">{i + 1}</span>
                  <code className="wf-command">{command}</code>
                  <CopyButton text={command} testId="step2-copy" />
                </li>
              ))}
            </ol>
          </Section>

          {!current.value.running && (
            <Section title="Or let Capstan apply them" hint="Capstan runs the commands with kubectl against the context you choose.">
              {contextsProblem && <ErrorBanner title="Contexts not read" problem={contextsProblem} />}
              {contexts && (
                <>
                  <p className="wf-help" data-testid="step2-kubeconfig-files">
                    {contexts.files.length > 0 ? `Read ${contexts.files.join(", ")}` : "No kubeconfig file was found (KUBECONFIG, ~/.kube/config)."}
                    {contexts.problem ? ` — ${contexts.problem}` : ""}
                    {!contexts.kubectlFound && " kubectl is not on PATH, so only a simulated context can be applied here."}
                  </p>
                  <div className="wf-row">
                    <label className="wf-field wf-grow">
                      <span className="wf-label">Context</span>
                      <select
                        className="wf-input"
                        data-testid="step2-context"
                        value={chosenContext}
                        onChange={(e) => {
                          setContext(e.target.value);
                          saveDraft({ context: e.target.value });
                        }}
                      >
                        {contexts.contexts.length === 0 && <option value="">No contexts</option>}
                        {contexts.contexts.map((c) => (
                          <option key={c.name} value={c.name}>
                            {c.name}
                            {c.simulated ? " (sandbox, simulated)" : ""}
                            {c.current ? " (current)" : ""} — {c.server}
                          </option>
                        ))}
                      </select>
                    </label>
                    <button type="button" className="button" onClick={loadContexts}>
                      Reload
                    </button>
                    <button type="button" className="button wf-primary" data-testid="step2-apply" disabled={!chosenContext || applying} onClick={() => void apply()}>
                      {applying ? "Applying…" : "Apply to this context"}
                    </button>
                  </div>
                  {selectedContext?.simulated && <p className="wf-help">The sandbox's stand-in host cluster: nothing real is installed.</p>}
                </>
              )}
            </Section>
          )}

          {applied && (
            <ol className="wf-apply-results" data-testid="step2-apply-result">
              {applied.results.map((r) => (
                <li key={r.command} data-ok={r.ok}>
                  <div className="wf-apply-command">
                    <span className="wf-severity" data-severity={r.ok ? "info" : "error"}>
                      {r.ok ? "OK" : "Failed"}
                    </span>
                    <code>{r.command}</code>
                  </div>
                  {r.output && <pre className="wf-output">{r.output}</pre>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </div>
  );
}
