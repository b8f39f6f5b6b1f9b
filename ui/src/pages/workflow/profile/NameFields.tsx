import type { NameCheckState } from "./hooks";
import { type ProfileForm, profileName } from "./model";

function FieldProblem({ text, testId }: { text: string | null; testId: string }) {
  if (!text) return null;
  return (
    <span className="wf-field-problem" data-testid={testId} role="alert">
      {text}
    </span>
  );
}

/** What the check says about the pair, under the fields. */
function CheckStatus({ name, check }: { name: string; check: NameCheckState }) {
  const state = !name.trim() ? "empty" : check.checking ? "checking" : check.problem ? "error" : check.check?.available ? "available" : "taken";
  const text =
    state === "empty"
      ? "Give the profile a name."
      : state === "checking"
        ? "Checking the name and version in Palette…"
        : state === "error"
          ? `Could not check the name: ${check.problem?.message ?? ""}`
          : state === "available"
            ? "The name and version are free."
            : null;
  if (!text) return null;
  return (
    <span className="wf-help" data-testid="profile-name-check" data-state={state} role="status">
      {text}
    </span>
  );
}

export interface NameFieldsProps {
  form: ProfileForm;
  check: NameCheckState;
  onChange: (patch: Partial<ProfileForm>) => void;
}

/** Name, version (both checked as you type), description and publish. A new version keeps the name. */
export function NameFields({ form, check, onChange }: NameFieldsProps) {
  const taken = check.check && !check.check.available ? check.check : null;
  const nameReason = taken && taken.field !== "version" ? taken.reason : null;
  const versionReason = taken && taken.field === "version" ? taken.reason : null;
  const name = profileName(form);
  const isVersion = form.mode === "version";
  return (
    <div className="wf-stack">
      <div className="wf-grid">
        <label className="wf-field">
          <span className="wf-label">Name</span>
          <input
            className="wf-input"
            data-testid="profile-name"
            value={name}
            readOnly={isVersion}
            placeholder={isVersion ? "Choose the profile above" : "e.g. nutanix-k8s"}
            spellCheck={false}
            aria-invalid={nameReason ? true : undefined}
            onChange={(e) => onChange({ name: e.target.value })}
          />
          <FieldProblem text={nameReason} testId="profile-name-problem" />
        </label>
        <label className="wf-field">
          <span className="wf-label">Version</span>
          <input
            className="wf-input wf-mono"
            data-testid="profile-version"
            value={form.version}
            placeholder="1.0.0"
            spellCheck={false}
            aria-invalid={versionReason ? true : undefined}
            onChange={(e) => onChange({ version: e.target.value })}
          />
          <FieldProblem text={versionReason} testId="profile-version-problem" />
        </label>
        <label className="wf-field">
          <span className="wf-label">Description</span>
          <input
            className="wf-input"
            data-testid="profile-description"
            value={form.description}
            placeholder={isVersion ? "Empty keeps the description it has" : "Optional"}
            onChange={(e) => onChange({ description: e.target.value })}
          />
        </label>
      </div>
      <CheckStatus name={name} check={check} />
      <label className="wf-check">
        <input type="checkbox" data-testid="profile-publish" checked={form.publish} onChange={(e) => onChange({ publish: e.target.checked })} /> Publish it (clusters can only be made from a published profile;
        otherwise it stays a draft in Palette)
      </label>
    </div>
  );
}
