import { useEffect, useId, useMemo, useState } from "react";
import type { CloudTypeInput, CloudTypePlan, CloudTypeResult, Finding, PlannedTemplate, TemplateSource, WorkflowStep } from "../../lib/bindings";
import type { JsonValue } from "../../lib/bindings/serde_json/JsonValue";
import { useBackend } from "../../lib/backend";
import { YamlDiff, YamlEditor } from "../../components/editor";
import { type Problem, toProblem, useDraft, useTiming } from "./hooks";
import { CopyButton, DraftIndicator, ErrorBanner, FindingList, readFileBase64, readFileText, Section } from "./parts";

export const DEFAULT_ACCOUNT_KEYS = ["NUTANIX_USER", "NUTANIX_PASSWORD", "NUTANIX_ENDPOINT", "NUTANIX_PORT", "NUTANIX_INSECURE"];
/** Releases offered in the version field (any v1.5.x, 1.8.x, 1.9.x or 1.10.x can be typed). */
const CAPX_SUGGESTIONS = ["v1.5.0", "v1.5.4", "v1.8.6", "v1.9.2", "v1.10.3"];
/** Logos above this are not kept in the draft (Palette refuses them anyway). */
const MAX_DRAFT_LOGO_BYTES = 100 * 1024;
/** Files above this are not kept in the draft (the user chooses them again after a restart). */
const MAX_DRAFT_FILE_CHARS = 1_000_000;

const draftFile = (file: FileText | null): FileText | null => (file && file.text.length <= MAX_DRAFT_FILE_CHARS ? file : null);

type FileText = { fileName: string; text: string };
type Logo = { fileName: string; base64: string; bytes: number };

export type CloudTypeForm = {
  capxVersion: string;
  source: TemplateSource;
  clusterTemplate: FileText | null;
  components: FileText | null;
  vertex: boolean;
  accountKeys: string[];
  logo: Logo | null;
};

const EMPTY_FORM: CloudTypeForm = {
  capxVersion: "v1.5.0",
  source: "shipped",
  clusterTemplate: null,
  components: null,
  vertex: false,
  accountKeys: DEFAULT_ACCOUNT_KEYS,
  logo: null,
};

function asFileText(value: unknown): FileText | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  return typeof v.fileName === "string" && typeof v.text === "string" ? { fileName: v.fileName, text: v.text } : null;
}

/** A draft as saved by any earlier version of this form; unknown fields are ignored. */
export function formFromDraft(data: JsonValue): CloudTypeForm {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return EMPTY_FORM;
  const logo = data.logo as Record<string, unknown> | null | undefined;
  return {
    capxVersion: typeof data.capxVersion === "string" ? data.capxVersion : EMPTY_FORM.capxVersion,
    source: data.source === "upstream" ? "upstream" : "shipped",
    clusterTemplate: asFileText(data.clusterTemplate),
    components: asFileText(data.components),
    vertex: data.vertex === true,
    accountKeys: Array.isArray(data.accountKeys) ? data.accountKeys.filter((k): k is string => typeof k === "string") : EMPTY_FORM.accountKeys,
    logo:
      logo && typeof logo.fileName === "string" && typeof logo.base64 === "string" && typeof logo.bytes === "number"
        ? { fileName: logo.fileName, base64: logo.base64, bytes: logo.bytes }
        : null,
  };
}

function formToDraft(form: CloudTypeForm): JsonValue {
  return {
    capxVersion: form.capxVersion,
    source: form.source,
    clusterTemplate: draftFile(form.clusterTemplate),
    components: draftFile(form.components),
    vertex: form.vertex,
    accountKeys: form.accountKeys,
    logo: form.logo && form.logo.bytes <= MAX_DRAFT_LOGO_BYTES ? form.logo : null,
  };
}

function toInput(form: CloudTypeForm): CloudTypeInput {
  const input: CloudTypeInput = {
    capxVersion: form.capxVersion.trim(),
    source: form.source,
    vertex: form.vertex,
    accountKeys: form.accountKeys.map((k) => k.trim()).filter((k) => k !== ""),
  };
  if (form.source === "upstream") input.clusterTemplate = form.clusterTemplate?.text ?? "";
  if (form.components) input.infrastructureComponents = form.components.text;
  if (form.logo) input.logo = { fileName: form.logo.fileName, base64: form.logo.base64 };
  return input;
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
}

function registerLabel(plan: CloudTypePlan | null): string {
  if (!plan || !plan.registered) return "Register nutanix";
  const n = plan.changesNeeded.length;
  if (n === 0) return "Nothing to change";
  return `Update ${n} change${n === 1 ? "" : "s"}`;
}

const LOGO_TYPES: Record<string, string> = { png: "image/png", svg: "image/svg+xml", jpg: "image/jpeg", jpeg: "image/jpeg" };

type TemplateView = "result" | "input" | "palette";

function TemplateViewer({ template, registered }: { template: PlannedTemplate; registered: boolean }) {
  const canInput = template.original.trim() !== "";
  const canPalette = registered && template.registered !== null;
  const [view, setView] = useState<TemplateView>("result");
  const effective: TemplateView = view === "input" && !canInput ? "result" : view === "palette" && !canPalette ? "result" : view;
  const views: Array<{ id: TemplateView; label: string; enabled: boolean; title: string }> = [
    { id: "result", label: "Result", enabled: true, title: "What will be uploaded" },
    { id: "input", label: "Diff vs input", enabled: canInput, title: canInput ? "What Capstan changed in your cluster-template.yaml" : "Shipped templates have no input to compare with" },
    {
      id: "palette",
      label: template.differsFromRegistered ? "What differs in Palette" : "Diff vs Palette",
      enabled: canPalette,
      title: canPalette ? "What Palette has now, against what would be uploaded" : "Not registered in Palette yet",
    },
  ];
  return (
    <div className="wf-template" data-testid="step1-template-view" data-name={template.name} data-view={effective}>
      <div className="wf-template-bar">
        <span className="wf-template-file">{template.fileName}</span>
        <div className="wf-segmented" role="group" aria-label="View">
          {views.map((v) => (
            <button
              key={v.id}
              type="button"
              className="wf-segment"
              aria-pressed={effective === v.id}
              disabled={!v.enabled}
              title={v.title}
              data-testid={`step1-view-${v.id}`}
              onClick={() => setView(v.id)}
            >
              {v.label}
            </button>
          ))}
        </div>
      </div>
      {template.changes.length > 0 && (
        <ul className="wf-changes" aria-label="Changes made">
          {template.changes.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      )}
      {effective === "result" && <YamlEditor value={template.yaml} readOnly ariaLabel={`${template.fileName} (result)`} height={340} testId="step1-editor" />}
      {effective === "input" && (
        <YamlDiff original={template.original} modified={template.yaml} originalLabel="Your cluster-template.yaml" modifiedLabel={template.fileName} height={340} testId="step1-editor" />
      )}
      {effective === "palette" && (
        <YamlDiff original={template.registered ?? ""} modified={template.yaml} originalLabel="In Palette now" modifiedLabel="Would be uploaded" height={340} testId="step1-editor" />
      )}
    </div>
  );
}

function PlanView({ plan }: { plan: CloudTypePlan }) {
  const [active, setActive] = useState(plan.templates[0]?.name ?? "");
  const template = plan.templates.find((t) => t.name === active) ?? plan.templates[0];
  const findings: Finding[] = [...plan.templates.flatMap((t) => t.findings), ...plan.components.findings, ...plan.logoFindings];
  const errors = findings.filter((f) => f.severity === "error").length;
  return (
    <div className="wf-plan" data-testid="step1-plan" data-registered={plan.registered} data-errors={errors}>
      <p className="wf-plan-status">
        {plan.registered ? (
          plan.changesNeeded.length === 0 ? (
            <>Palette has cloud type nutanix, and it matches: nothing to change.</>
          ) : (
            <>Palette has cloud type nutanix; registering again changes only what differs:</>
          )
        ) : (
          <>Palette has no nutanix cloud type yet. Registering will:</>
        )}
      </p>
      {plan.changesNeeded.length > 0 && (
        <ul className="wf-changes" data-testid="step1-changes">
          {plan.changesNeeded.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      )}
      <FindingList findings={findings} />
      {template && (
        <>
          <div className="wf-tabs" role="tablist" aria-label="Templates">
            {plan.templates.map((t) => {
              const tErrors = t.findings.filter((f) => f.severity === "error").length;
              return (
                <button
                  key={t.name}
                  type="button"
                  role="tab"
                  className="wf-tab"
                  aria-selected={t.name === template.name}
                  data-testid={`step1-template-${t.name}`}
                  data-differs={t.differsFromRegistered}
                  data-errors={tErrors}
                  onClick={() => setActive(t.name)}
                >
                  {t.name}
                  {tErrors > 0 && <span className="wf-badge wf-badge-bad">{tErrors}</span>}
                  {t.differsFromRegistered && <span className="wf-badge">differs</span>}
                </button>
              );
            })}
          </div>
          <TemplateViewer key={template.name} template={template} registered={plan.registered} />
        </>
      )}
    </div>
  );
}

function FilePick({ label, accept, testId, onFile, current }: { label: string; accept: string; testId: string; onFile: (file: File) => void; current: string | null }) {
  const id = useId();
  return (
    <div className="wf-file">
      <label className="button" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        type="file"
        accept={accept}
        className="wf-file-input"
        data-testid={testId}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onFile(file);
          e.target.value = "";
        }}
      />
      <span className="wf-file-name">{current ?? "No file chosen"}</span>
    </div>
  );
}

/** Step 1: plan the three templates, the components and the logo, then register (or update only what differs). */
export function CloudTypeStep({ step, onChanged }: { step: WorkflowStep | undefined; onChanged: () => void }) {
  const backend = useBackend();
  const { planMs } = useTiming();
  const ids = useId();
  const [form, setForm] = useState<CloudTypeForm>(EMPTY_FORM);
  const [pasting, setPasting] = useState(false);
  const [planned, setPlanned] = useState<{ key: string; plan: CloudTypePlan } | null>(null);
  const [planProblem, setPlanProblem] = useState<{ key: string; problem: Problem } | null>(null);
  const [registering, setRegistering] = useState(false);
  const [result, setResult] = useState<CloudTypeResult | null>(null);
  const [registerProblem, setRegisterProblem] = useState<Problem | null>(null);
  const [fileProblem, setFileProblem] = useState<string | null>(null);

  const draft = useDraft("cloud_type", (data) => setForm(formFromDraft(data)));

  const input = useMemo(() => toInput(form), [form]);
  const inputKey = useMemo(() => JSON.stringify(input), [input]);
  // Re-plan when the registration changes elsewhere too (the step's status is the cheap signal).
  const planKey = `${inputKey}|${step?.status ?? ""}`;

  useEffect(() => {
    if (!draft.loaded) return;
    let live = true;
    const timer = window.setTimeout(() => {
      backend
        .call("cloud_type_plan", JSON.parse(inputKey) as CloudTypeInput)
        .then((plan) => {
          if (!live) return;
          setPlanned({ key: planKey, plan });
          setPlanProblem(null);
        })
        .catch((error: unknown) => {
          if (live) setPlanProblem({ key: planKey, problem: toProblem(error) });
        });
    }, planMs);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [backend, inputKey, planKey, planMs, draft.loaded]);

  function update(patch: Partial<CloudTypeForm>) {
    const next = { ...form, ...patch };
    setForm(next);
    setResult(null);
    setRegisterProblem(null);
    draft.schedule(formToDraft(next));
  }

  async function pickText(file: File, field: "clusterTemplate" | "components") {
    try {
      const text = await readFileText(file);
      setFileProblem(null);
      update({ [field]: { fileName: file.name, text } });
    } catch (error) {
      setFileProblem(`Could not read ${file.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function pickLogo(file: File) {
    try {
      const base64 = await readFileBase64(file);
      setFileProblem(null);
      update({ logo: { fileName: file.name, base64, bytes: file.size } });
    } catch (error) {
      setFileProblem(`Could not read ${file.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function register() {
    setRegistering(true);
    setRegisterProblem(null);
    try {
      const done = await backend.call("cloud_type_register", input);
      setResult(done);
      setPlanned({ key: planKey, plan: done.plan });
      await draft.discard().catch(() => undefined);
    } catch (error) {
      setRegisterProblem(toProblem(error));
    } finally {
      setRegistering(false);
      onChanged();
    }
  }

  const plan = planned?.plan ?? null;
  const fresh = planned !== null && planned.key === planKey;
  const problem = planProblem && planProblem.key === planKey ? planProblem.problem : null;
  // The same problem can block several templates; say it once.
  const blockers = fresh && plan ? [...new Set(plan.blockers)] : [];
  const nothingToDo = fresh && plan !== null && plan.registered && plan.changesNeeded.length === 0;
  const canRegister = fresh && !problem && blockers.length === 0 && !nothingToDo && !registering;
  const logoUrl = form.logo ? `data:${LOGO_TYPES[form.logo.fileName.split(".").pop()?.toLowerCase() ?? ""] ?? "application/octet-stream"};base64,${form.logo.base64}` : null;
  const downloadUrl = plan?.components.downloadUrl ?? null;

  return (
    <div className="wf-step-panel" data-testid="step1">
      <div className="wf-panel-intro">
        <p>
          Palette learns about Nutanix from a custom cloud type named <code>nutanix</code>: three CAPX templates, the CAPX provider (
          <code>infrastructure-components.yaml</code>), the cloud account keys and a logo. On self-hosted Palette this needs the system-admin login from Setup.
        </p>
        <DraftIndicator
          draft={draft}
          onDiscard={() => {
            void draft.discard();
            setForm(EMPTY_FORM);
          }}
        />
      </div>

      <Section title="Templates" hint="Capstan's known-good templates for the CAPX line, or your own upstream cluster-template.yaml split and patched for Palette.">
        <div className="wf-grid">
          <label className="wf-field">
            <span className="wf-label">CAPX version</span>
            <input
              className="wf-input"
              data-testid="step1-capx-version"
              list={`${ids}-capx`}
              value={form.capxVersion}
              spellCheck={false}
              onChange={(e) => update({ capxVersion: e.target.value })}
            />
            <datalist id={`${ids}-capx`}>
              {CAPX_SUGGESTIONS.map((v) => (
                <option key={v} value={v} />
              ))}
            </datalist>
            <span className="wf-help">Palette's CAPI is v1.5.3; its docs use CAPX v1.5.0.</span>
          </label>
          <fieldset className="wf-field wf-radios">
            <legend className="wf-label">Templates from</legend>
            <label>
              <input type="radio" name={`${ids}-source`} data-testid="step1-source-shipped" checked={form.source === "shipped"} onChange={() => update({ source: "shipped" })} /> Capstan's shipped
              templates
            </label>
            <label>
              <input type="radio" name={`${ids}-source`} data-testid="step1-source-upstream" checked={form.source === "upstream"} onChange={() => update({ source: "upstream" })} /> My upstream
              cluster-template.yaml
            </label>
          </fieldset>
          <label className="wf-check">
            <input type="checkbox" data-testid="step1-vertex" checked={form.vertex} onChange={(e) => update({ vertex: e.target.checked })} /> Palette VerteX (adds rotate-server-certificates to the
            kubelet arguments)
          </label>
        </div>
        {form.source === "upstream" && (
          <div className="wf-upstream">
            <FilePick
              label="Choose cluster-template.yaml…"
              accept=".yaml,.yml"
              testId="step1-upload-template"
              current={form.clusterTemplate ? `${form.clusterTemplate.fileName} · ${kb(form.clusterTemplate.text.length)}` : null}
              onFile={(f) => void pickText(f, "clusterTemplate")}
            />
            <button type="button" className="wf-link" onClick={() => setPasting((p) => !p)} data-testid="step1-paste-toggle">
              {pasting ? "Hide the pasted text" : "…or paste it"}
            </button>
            {pasting && (
              <textarea
                className="wf-textarea"
                data-testid="step1-paste-template"
                aria-label="Paste cluster-template.yaml"
                spellCheck={false}
                value={form.clusterTemplate?.text ?? ""}
                onChange={(e) => update({ clusterTemplate: e.target.value ? { fileName: "pasted cluster-template.yaml", text: e.target.value } : null })}
              />
            )}
          </div>
        )}
      </Section>

      <Section title="infrastructure-components.yaml" hint="The CAPX provider itself. Download it for the chosen version and choose the file; Capstan checks it is what it claims to be.">
        <div className="wf-download">
          <code className="wf-url" data-testid="step1-download-url">
            {downloadUrl ?? "…"}
          </code>
          {downloadUrl && <CopyButton text={downloadUrl} label="Copy address" testId="step1-copy-url" />}
        </div>
        <FilePick
          label="Choose infrastructure-components.yaml…"
          accept=".yaml,.yml"
          testId="step1-upload-components"
          current={form.components ? `${form.components.fileName} · ${kb(form.components.text.length)}` : null}
          onFile={(f) => void pickText(f, "components")}
        />
        {fresh && plan?.components.provided && (
          <p className="wf-help" data-testid="step1-components-version">
            The file declares {plan.components.declaredVersion ?? "no version"}.
          </p>
        )}
      </Section>

      <Section title="Cloud account keys" hint="The fields of the cloud account form in step 3.">
        <ul className="wf-keys">
          {form.accountKeys.map((key, i) => (
            <li key={i}>
              <input
                className="wf-input wf-mono"
                aria-label={`Account key ${i + 1}`}
                data-testid="step1-account-key"
                value={key}
                spellCheck={false}
                onChange={(e) => update({ accountKeys: form.accountKeys.map((k, j) => (j === i ? e.target.value : k)) })}
              />
              <button type="button" className="button" aria-label={`Remove ${key || `key ${i + 1}`}`} onClick={() => update({ accountKeys: form.accountKeys.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </li>
          ))}
        </ul>
        <div className="wf-row">
          <button type="button" className="button" data-testid="step1-add-key" onClick={() => update({ accountKeys: [...form.accountKeys, ""] })}>
            Add key
          </button>
          <button type="button" className="button" onClick={() => update({ accountKeys: DEFAULT_ACCOUNT_KEYS })}>
            Reset to the five NUTANIX_* keys
          </button>
        </div>
      </Section>

      <Section title="Logo" hint="Optional. PNG, SVG or JPEG, at most 100 KB, at least 40 px in one dimension; transparent is best.">
        <div className="wf-row">
          <FilePick
            label="Choose a logo…"
            accept=".png,.svg,.jpg,.jpeg"
            testId="step1-logo"
            current={form.logo ? `${form.logo.fileName} · ${kb(form.logo.bytes)}` : null}
            onFile={(f) => void pickLogo(f)}
          />
          {logoUrl && <img className="wf-logo" src={logoUrl} alt="Chosen logo" />}
          {form.logo && (
            <button type="button" className="wf-link" onClick={() => update({ logo: null })}>
              Remove the logo
            </button>
          )}
        </div>
      </Section>

      {fileProblem && <ErrorBanner title="File not read" problem={{ code: "invalid_input", message: fileProblem }} />}

      <Section title="What will be uploaded" hint={fresh ? undefined : plan ? "Checking the changes…" : "Checking…"}>
        {problem && <ErrorBanner title="Cannot plan the cloud type" problem={problem} testId="step1-plan-error" />}
        {plan && !problem && <PlanView plan={plan} />}
      </Section>

      <div className="wf-actions">
        <button type="button" className="button wf-primary" data-testid="step1-register" disabled={!canRegister} onClick={() => void register()}>
          {registering ? "Uploading…" : registerLabel(fresh ? plan : null)}
        </button>
        {blockers.length > 0 && (
          <div className="wf-blockers" data-testid="step1-blockers">
            <div className="wf-blockers-title">Register is blocked until these are fixed:</div>
            <ul>
              {blockers.map((b) => (
                <li key={b}>{b}</li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {registerProblem && <ErrorBanner title="Not registered" problem={registerProblem} testId="step1-error" />}
      {result && (
        <div className="wf-result" data-testid="step1-actions">
          <div className="wf-result-title">Done. What Capstan did, in order:</div>
          <ol>
            {result.actions.map((a, i) => (
              <li key={`${i}-${a}`}>{a}</li>
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}
