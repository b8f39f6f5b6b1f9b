import { useCallback, useEffect, useState } from "react";
import type { AccountField, CloudAccountForm, CloudAccountResult } from "../../lib/bindings";
import type { JsonValue } from "../../lib/bindings/serde_json/JsonValue";
import { useBackend } from "../../lib/backend";
import { type Problem, toProblem, useDraft } from "./hooks";
import { DraftIndicator, ErrorBanner, Section } from "./parts";

type AccountDraft = { name: string; pcgUid: string; values: Record<string, string> };

function draftFrom(data: JsonValue): Partial<AccountDraft> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return {};
  const values: Record<string, string> = {};
  if (typeof data.values === "object" && data.values !== null && !Array.isArray(data.values)) {
    for (const [k, v] of Object.entries(data.values)) if (typeof v === "string") values[k] = v;
  }
  return {
    name: typeof data.name === "string" ? data.name : undefined,
    pcgUid: typeof data.pcgUid === "string" ? data.pcgUid : undefined,
    values,
  };
}

function FieldInput({ field, value, onChange, invalid }: { field: AccountField; value: string; onChange: (value: string) => void; invalid: boolean }) {
  return (
    <label className="wf-field">
      <span className="wf-label">
        {field.label} <code className="wf-key">{field.key}</code>
      </span>
      <input
        className="wf-input"
        data-testid={`step3-field-${field.key}`}
        type={field.secret ? "password" : "text"}
        autoComplete={field.secret ? "new-password" : "off"}
        spellCheck={false}
        value={value}
        placeholder={field.secret && field.savedSecretAvailable ? "saved in setup — leave blank to use it" : undefined}
        aria-invalid={invalid || undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {field.help && <span className="wf-help">{field.help}</span>}
    </label>
  );
}

/**
 * Step 3: the Nutanix cloud account. The form is built from the keys registered in step 1,
 * pre-filled from setup; secrets are never saved in the draft.
 */
export function CloudAccountStep({ reloadKey, onChanged }: { reloadKey: string; onChanged: () => void }) {
  const backend = useBackend();
  const [form, setForm] = useState<CloudAccountForm | null>(null);
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  // Only what the user typed (or the draft restored); the rest comes from the form's defaults.
  const [name, setName] = useState("");
  const [pcgUid, setPcgUid] = useState<string | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [creating, setCreating] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [result, setResult] = useState<CloudAccountResult | null>(null);

  const draft = useDraft("cloud_account", (data) => {
    const d = draftFrom(data);
    if (d.name !== undefined) setName(d.name);
    if (d.pcgUid) setPcgUid(d.pcgUid);
    if (d.values) setValues(d.values);
  });

  const load = useCallback(() => {
    backend
      .call("cloud_account_form", {})
      .then((next) => {
        setForm(next);
        setFormProblem(null);
      })
      .catch((error: unknown) => setFormProblem(toProblem(error)));
  }, [backend]);

  // Again whenever the workflow state moves (the PCG turning Running unblocks the form).
  useEffect(() => {
    load();
  }, [load, reloadKey]);

  const fields = form?.fields ?? [];
  const secretKeys = new Set(fields.filter((f) => f.secret).map((f) => f.key));
  const valueOf = (f: AccountField) => values[f.key] ?? (f.secret ? "" : (f.value ?? ""));
  const chosenPcg = pcgUid && form?.pcgs.some((p) => p.uid === pcgUid) ? pcgUid : (form?.defaultPcg ?? form?.pcgs[0]?.uid ?? "");

  function saveDraft(next: { name?: string; pcgUid?: string; values?: Record<string, string> }) {
    const all = next.values ?? values;
    // Secrets stay out of the draft: it is stored in the cache on disk.
    const safe = Object.fromEntries(Object.entries(all).filter(([k]) => !secretKeys.has(k)));
    draft.schedule({ name: next.name ?? name, pcgUid: next.pcgUid ?? chosenPcg, values: safe });
  }

  function setValue(key: string, value: string) {
    const next = { ...values, [key]: value };
    setValues(next);
    setProblem(null);
    if (!secretKeys.has(key)) saveDraft({ values: next });
  }

  async function create() {
    if (!form) return;
    setCreating(true);
    setProblem(null);
    setResult(null);
    try {
      const request = { name: name.trim(), pcgUid: chosenPcg, values: Object.fromEntries(fields.map((f) => [f.key, valueOf(f)])) };
      const created = await backend.call("cloud_account_create", request);
      setResult(created);
      // The typed secret has done its job; nothing else is cleared.
      setValues((v) => Object.fromEntries(Object.entries(v).filter(([k]) => !secretKeys.has(k))));
      await draft.discard().catch(() => undefined);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setCreating(false);
      onChanged();
      load();
    }
  }

  const blocked = form?.blockedReason ?? null;
  const badCredentials = problem?.code === "unauthorized";
  const canCreate = form !== null && !blocked && !creating && name.trim() !== "" && chosenPcg !== "";

  return (
    <div className="wf-step-panel" data-testid="step3">
      <div className="wf-panel-intro">
        <p>
          The cloud account tells Palette how to reach Prism Central, through the PCG. Capstan checks the credentials against Prism Central before anything is saved in Palette.
        </p>
        <DraftIndicator draft={draft} />
      </div>

      {formProblem && <ErrorBanner title="The account form could not be read" problem={formProblem} action={<button type="button" className="button" onClick={load}>Retry</button>} />}

      {blocked && (
        <p className="wf-blocked" data-testid="step3-blocked" role="status">
          {blocked}
        </p>
      )}

      {form && form.existing.length > 0 && (
        <p className="wf-help" data-testid="step3-existing">
          Already in Palette: {form.existing.map((a) => a.name).join(", ")}. Creating one with the same name keeps it as it is.
        </p>
      )}

      {form && (
        <Section title="Account">
          <form
            className="wf-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (canCreate) void create();
            }}
          >
            <div className="wf-grid">
              <label className="wf-field">
                <span className="wf-label">Name</span>
                <input
                  className="wf-input"
                  data-testid="step3-name"
                  value={name}
                  placeholder="e.g. nutanix-prod"
                  spellCheck={false}
                  onChange={(e) => {
                    setName(e.target.value);
                    setProblem(null);
                    saveDraft({ name: e.target.value });
                  }}
                />
              </label>
              <label className="wf-field">
                <span className="wf-label">Private Cloud Gateway</span>
                <select
                  className="wf-input"
                  data-testid="step3-pcg"
                  value={chosenPcg}
                  onChange={(e) => {
                    setPcgUid(e.target.value);
                    saveDraft({ pcgUid: e.target.value });
                  }}
                >
                  {form.pcgs.length === 0 && <option value="">No PCG yet</option>}
                  {form.pcgs.map((p) => (
                    <option key={p.uid} value={p.uid}>
                      {p.name} ({p.state})
                    </option>
                  ))}
                </select>
              </label>
            </div>
            {fields.length > 0 && (
              <div className="wf-grid">
                {fields.map((f) => (
                  <FieldInput key={f.key} field={f} value={valueOf(f)} onChange={(v) => setValue(f.key, v)} invalid={badCredentials && (f.secret || f.key.endsWith("_USER"))} />
                ))}
              </div>
            )}
            {problem && <ErrorBanner title={badCredentials ? "Prism Central refused these credentials" : "Account not created"} problem={problem} testId="step3-error" />}
            <div className="wf-actions">
              <button type="submit" className="button wf-primary" data-testid="step3-create" disabled={!canCreate}>
                {creating ? "Checking Prism Central…" : "Check and create account"}
              </button>
            </div>
          </form>
        </Section>
      )}

      {result && (
        <div className="wf-result" data-testid="step3-result">
          <div className="wf-result-title">
            {result.created ? `Cloud account ${result.name} created` : `Cloud account ${result.name} existed already and was kept`} <span className="wf-muted">({result.uid})</span>
          </div>
          <div>{result.prismCheck}</div>
        </div>
      )}
    </div>
  );
}
