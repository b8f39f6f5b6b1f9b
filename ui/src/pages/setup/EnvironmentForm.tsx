import { useRef, useState } from "react";
import type {
  ConnectionTestResult,
  EnvironmentDetail,
  ErrorCode,
  ProjectOption,
  SavedSecrets,
  SecretStoreStatus,
  ServiceName,
} from "../../lib/bindings";
import { toBackendError, useBackend } from "../../lib/backend";
import { RefreshIcon } from "../../components/Icons";
import { DiagnosisView } from "./DiagnosisView";
import { describedBy, Field, SecretField, TlsPicker } from "./fields";
import {
  clientErrors,
  emptyForm,
  emptySecrets,
  type EnvForm,
  type FieldErrors,
  type FieldKey,
  fieldOfError,
  formFromDetail,
  NOTHING_SAVED,
  SAAS_PALETTE_URL,
  type SecretsForm,
  testInputs,
  toConfig,
  toSecrets,
} from "./form";
import { SecretStorePanel } from "./SecretStorePanel";

interface TestRun {
  result: ConnectionTestResult;
  /** `testInputs` when it ran, to tell a result that no longer matches the form. */
  inputs: string;
}

type Problem = { code: ErrorCode; message: string };

/** Which secrets each field stands for, so editing one clears its error. */
const SECRET_FIELD: Record<keyof SecretsForm, FieldKey> = {
  paletteApiKey: "paletteApiKey",
  prismPassword: "prismPassword",
  prismApiKey: "prismApiKey",
  sysadminPassword: "sysadminPassword",
};

/**
 * Add or edit one environment: Palette, Prism Central, TLS and proxy, "Test connection" for
 * each service, and Save. What was typed stays in the form whatever fails.
 */
export function EnvironmentForm({
  initial,
  activateByDefault,
  secretStore,
  secretStoreError,
  onReloadSecretStore,
  onSecretStoreChange,
  onSaved,
  onCancel,
}: {
  /** The saved environment being edited; null for a new one. */
  initial: EnvironmentDetail | null;
  activateByDefault: boolean;
  secretStore: SecretStoreStatus | null;
  secretStoreError: string | null;
  onReloadSecretStore: () => void;
  onSecretStoreChange: (status: SecretStoreStatus) => void;
  onSaved: (detail: EnvironmentDetail, activated: boolean) => void;
  onCancel: () => void;
}) {
  const backend = useBackend();
  const [form, setForm] = useState<EnvForm>(() => (initial ? formFromDetail(initial) : emptyForm()));
  const [secrets, setSecrets] = useState<SecretsForm>(emptySecrets);
  const [saved, setSaved] = useState<SavedSecrets>(initial?.saved ?? NOTHING_SAVED);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [tests, setTests] = useState<Partial<Record<ServiceName, TestRun>>>({});
  const [testProblems, setTestProblems] = useState<Partial<Record<ServiceName, Problem>>>({});
  const [testing, setTesting] = useState<ServiceName | null>(null);
  const [projects, setProjects] = useState<ProjectOption[]>(() =>
    initial?.config.palette.projectUid ? [{ uid: initial.config.palette.projectUid, name: initial.config.palette.projectName ?? initial.config.palette.projectUid }] : [],
  );
  const [activate, setActivate] = useState(activateByDefault);
  const [saving, setSaving] = useState(false);
  const [saveProblem, setSaveProblem] = useState<Problem | null>(null);
  /** Why the last save was refused by the secret store; the save is retried once it is ready. */
  const [blocked, setBlocked] = useState<string | null>(null);
  const rootRef = useRef<HTMLElement>(null);

  const editing = initial !== null;

  function update(patch: Partial<EnvForm>, clears: FieldKey[] = []) {
    setForm((f) => ({ ...f, ...patch }));
    if (clears.length) setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !clears.includes(k as FieldKey))));
  }

  function updateSecret(name: keyof SecretsForm, value: string) {
    setSecrets((s) => ({ ...s, [name]: value }));
    setErrors((e) => ({ ...e, [SECRET_FIELD[name]]: undefined }));
  }

  /** Shows a backend error at its field when it names one; returns false when it does not. */
  function showAtField(code: ErrorCode, details: unknown, message: string): boolean {
    if (code !== "invalid_input") return false;
    const field = fieldOfError(details);
    if (!field) return false;
    setErrors((e) => ({ ...e, [field]: message }));
    // Bring the field into view: it may be in another section than the button pressed.
    requestAnimationFrame(() => {
      const input = rootRef.current?.querySelector<HTMLElement>(`[aria-invalid="true"]`);
      input?.focus();
    });
    return true;
  }

  function checkClient(): boolean {
    const found = clientErrors(form);
    if (Object.keys(found).length === 0) return true;
    setErrors((e) => ({ ...e, ...found }));
    return false;
  }

  async function runTest(service: ServiceName) {
    setTestProblems((p) => ({ ...p, [service]: undefined }));
    if (!checkClient()) return;
    const inputs = testInputs(form, secrets, service);
    setTesting(service);
    try {
      const result = await backend.call("connection_test", { service, config: toConfig(form), secrets: toSecrets(form, secrets) });
      setTests((t) => ({ ...t, [service]: { result, inputs } }));
      if (service === "palette" && result.projects.length > 0) {
        setProjects(result.projects);
        setForm((f) => {
          if (f.projectUid && result.projects.some((p) => p.uid === f.projectUid)) return f;
          // One project leaves nothing to choose; otherwise the user picks.
          const only = result.projects.length === 1 ? result.projects[0] : null;
          return { ...f, projectUid: only?.uid ?? "", projectName: only?.name ?? "" };
        });
      }
    } catch (error) {
      const err = toBackendError(error);
      if (!showAtField(err.code, err.details, err.message)) setTestProblems((p) => ({ ...p, [service]: { code: err.code, message: err.message } }));
    } finally {
      setTesting(null);
    }
  }

  async function save() {
    setSaveProblem(null);
    if (!checkClient()) return;
    setSaving(true);
    try {
      const detail = await backend.call("environment_save", { config: toConfig(form), secrets: toSecrets(form, secrets), activate });
      setBlocked(null);
      setSaved(detail.saved);
      // Saved: what was typed is in the store now and is not kept in the page.
      setSecrets(emptySecrets());
      setForm((f) => ({ ...f, id: detail.config.id }));
      onSaved(detail, activate);
    } catch (error) {
      const err = toBackendError(error);
      if (err.code === "keyring_unavailable") {
        setBlocked(err.message);
        onReloadSecretStore();
      } else if (!showAtField(err.code, err.details, err.message)) {
        setSaveProblem({ code: err.code, message: err.message });
      }
    } finally {
      setSaving(false);
    }
  }

  function onUnlocked(status: SecretStoreStatus) {
    onSecretStoreChange(status);
    if (status.state !== "ready") return;
    // The user chose a store because a save needed one: finish that save now.
    if (blocked) void save();
    // While the store was locked the saved secrets read as missing; now they can be known.
    else if (initial) {
      backend
        .call("environment_get", { id: initial.config.id })
        .then((detail) => setSaved(detail.saved))
        .catch(() => {
          // The badges stay as they were; saving still keeps whatever is stored.
        });
    }
  }

  function trust(service: "palette" | "prism", sha256: string) {
    if (service === "palette") update({ paletteTls: { ...form.paletteTls, mode: "pinned", pinnedSha256: sha256 } }, ["palettePin"]);
    else update({ prismTls: { ...form.prismTls, mode: "pinned", pinnedSha256: sha256 } }, ["prismPin"]);
  }

  function pinnedOf(tls: EnvForm["paletteTls"]): string | null {
    return tls.mode === "pinned" ? tls.pinnedSha256.replace(/:/g, "").trim().toLowerCase() : null;
  }

  function testArea(service: ServiceName) {
    const run = tests[service];
    const problem = testProblems[service];
    const tlsKey = service === "palette" ? "palette" : "prism";
    const busy = testing === service;
    const label = service === "palette" ? "Palette" : "Prism Central";
    return (
      <div className="test-area">
        <div className="test-row">
          <button
            type="button"
            className="button"
            data-testid={service === "palette" ? "test-palette" : "test-prism"}
            onClick={() => void runTest(service)}
            disabled={testing !== null}
          >
            <RefreshIcon size={13} className={busy ? "spin" : undefined} /> {busy ? "Testing…" : `Test ${label} connection`}
          </button>
          <span className="muted test-note">Checks address, DNS, network, certificate, credentials and product, step by step. Nothing is saved.</span>
        </div>
        {problem && (
          <div className="form-problem" role="alert" data-testid={`test-error-${tlsKey}`}>
            The test could not run: {problem.message} <code className="error-code">{problem.code}</code>
          </div>
        )}
        {run && (
          <DiagnosisView
            diagnosis={run.result.diagnosis}
            stale={run.inputs !== testInputs(form, secrets, service)}
            pinnedSha256={pinnedOf(service === "palette" ? form.paletteTls : form.prismTls)}
            onTrust={(sha) => trust(tlsKey, sha)}
          />
        )}
      </div>
    );
  }

  const selfHosted = form.paletteKind === "self_hosted";
  const nameHint = editing ? `Saved as id ${form.id}.` : "Shown in the status bar and the environment switcher.";

  return (
    <section className="card env-form" data-testid="env-form" aria-labelledby="env-form-title" ref={rootRef}>
      <header className="env-form-head">
        <div>
          <div className="eyebrow">{editing ? "Edit environment" : "New environment"}</div>
          <h2 className="section-title" id="env-form-title">
            {initial ? initial.config.name : "Connect a real environment"}
          </h2>
        </div>
      </header>

      <div className="form-grid">
        <Field id="env-name" label="Name" error={errors.name} hint={nameHint}>
          <input
            id="env-name"
            className="input"
            data-testid="env-name"
            value={form.name}
            placeholder="Lab Frankfurt"
            onChange={(e) => update({ name: e.target.value }, ["name"])}
            {...describedBy("env-name", errors.name, true)}
          />
        </Field>
      </div>

      <fieldset className="form-section" aria-label="Palette">
        <legend className="form-section-title">Palette</legend>
        <div className="form-grid">
          <div className="field field-wide">
            <span className="field-label" id="palette-kind-label">
              Palette installation
            </span>
            <div className="segmented" role="radiogroup" aria-labelledby="palette-kind-label" data-testid="palette-kind">
              {(
                [
                  ["saas", "Palette SaaS"],
                  ["self_hosted", "Self-hosted Palette or VerteX"],
                ] as const
              ).map(([value, text]) => (
                <button
                  key={value}
                  type="button"
                  role="radio"
                  className="segment"
                  aria-checked={form.paletteKind === value}
                  data-testid={`palette-kind-${value}`}
                  onClick={() => update({ paletteKind: value }, ["paletteUrl"])}
                >
                  {text}
                </button>
              ))}
            </div>
          </div>
          <Field
            id="palette-url"
            label="API address"
            error={errors.paletteUrl}
            hint={selfHosted ? "The address of your installation, e.g. https://palette.example.com (no path)." : "Palette SaaS always uses this address."}
          >
            <input
              id="palette-url"
              className="input mono"
              data-testid="palette-url"
              value={selfHosted ? form.paletteUrl : SAAS_PALETTE_URL}
              readOnly={!selfHosted}
              placeholder="https://palette.example.com"
              spellCheck={false}
              onChange={(e) => update({ paletteUrl: e.target.value }, ["paletteUrl"])}
              {...describedBy("palette-url", errors.paletteUrl, true)}
            />
          </Field>
          <SecretField
            id="palette-api-key"
            label="API key"
            value={secrets.paletteApiKey}
            saved={saved.paletteApiKey}
            savedTestId="saved-palette-api-key"
            error={errors.paletteApiKey}
            hint={saved.paletteApiKey ? "Leave blank to keep the saved key." : "Palette → your profile → My API Keys."}
            onChange={(v) => updateSecret("paletteApiKey", v)}
          />
          <Field
            id="palette-project"
            label="Project"
            error={errors.project}
            hint={projects.length === 0 ? "Test the Palette connection to list the projects this key can see." : "Clusters and gateways are created in this project."}
          >
            <select
              id="palette-project"
              className="input"
              data-testid="palette-project"
              value={form.projectUid}
              disabled={projects.length === 0}
              onChange={(e) => {
                const chosen = projects.find((p) => p.uid === e.target.value);
                update({ projectUid: chosen?.uid ?? "", projectName: chosen?.name ?? "" }, ["project"]);
              }}
            >
              <option value="">{projects.length === 0 ? "No projects listed yet" : "Choose a project…"}</option>
              {projects.map((p) => (
                <option key={p.uid} value={p.uid}>
                  {p.name}
                </option>
              ))}
            </select>
          </Field>
          <TlsPicker
            service="palette"
            value={form.paletteTls}
            onChange={(tls) => update({ paletteTls: tls }, ["paletteCaBundle", "palettePin"])}
            caBundleError={errors.paletteCaBundle}
            pinError={errors.palettePin}
          />
          {selfHosted && (
            <div className="form-subsection field-wide">
              <div className="form-subsection-title">System console admin (optional)</div>
              <div className="field-hint">Only needed for workflow step 1, registering the Nutanix cloud type, which needs the installation's system admin.</div>
              <div className="form-grid">
                <Field id="palette-sysadmin-username" label="Username" error={errors.sysadminUsername}>
                  <input
                    id="palette-sysadmin-username"
                    className="input"
                    data-testid="palette-sysadmin-username"
                    value={form.sysadminUsername}
                    placeholder="admin"
                    autoComplete="off"
                    onChange={(e) => update({ sysadminUsername: e.target.value }, ["sysadminUsername"])}
                    {...describedBy("palette-sysadmin-username", errors.sysadminUsername, false)}
                  />
                </Field>
                <SecretField
                  id="palette-sysadmin-password"
                  label="Password"
                  value={secrets.sysadminPassword}
                  saved={saved.sysadminPassword}
                  savedTestId="saved-sysadmin-password"
                  error={errors.sysadminPassword}
                  onChange={(v) => updateSecret("sysadminPassword", v)}
                />
              </div>
            </div>
          )}
        </div>
        {testArea("palette")}
      </fieldset>

      <fieldset className="form-section" aria-label="Prism Central">
        <legend className="form-section-title">Prism Central</legend>
        <div className="form-grid form-grid-address">
          <Field id="prism-address" label="Address" error={errors.prismAddress} hint="Host name or IP of Prism Central (not a Prism Element).">
            <input
              id="prism-address"
              className="input mono"
              data-testid="prism-address"
              value={form.prismAddress}
              placeholder="pc.example.com"
              spellCheck={false}
              onChange={(e) => update({ prismAddress: e.target.value }, ["prismAddress"])}
              {...describedBy("prism-address", errors.prismAddress, true)}
            />
          </Field>
          <Field id="prism-port" label="Port" error={errors.prismPort}>
            <input
              id="prism-port"
              className="input mono"
              data-testid="prism-port"
              inputMode="numeric"
              value={form.prismPort}
              onChange={(e) => update({ prismPort: e.target.value }, ["prismPort"])}
              {...describedBy("prism-port", errors.prismPort, false)}
            />
          </Field>
        </div>
        <div className="form-grid">
          <div className="field field-wide">
            <span className="field-label" id="prism-auth-label">
              Sign in with
            </span>
            <div className="segmented" role="radiogroup" aria-labelledby="prism-auth-label" data-testid="prism-auth">
              {(
                [
                  ["basic", "Username and password"],
                  ["api_key", "API key"],
                ] as const
              ).map(([value, text]) => (
                <button
                  key={value}
                  type="button"
                  role="radio"
                  className="segment"
                  aria-checked={form.prismAuth === value}
                  data-testid={`prism-auth-${value}`}
                  onClick={() => update({ prismAuth: value }, ["prismPassword", "prismApiKey", "prismUsername"])}
                >
                  {text}
                </button>
              ))}
            </div>
          </div>
          {form.prismAuth === "basic" ? (
            <>
              <Field id="prism-username" label="Username" error={errors.prismUsername} hint="Directory users are written user@domain.">
                <input
                  id="prism-username"
                  className="input"
                  data-testid="prism-username"
                  value={form.prismUsername}
                  autoComplete="off"
                  placeholder="admin"
                  onChange={(e) => update({ prismUsername: e.target.value }, ["prismUsername", "prismPassword"])}
                  {...describedBy("prism-username", errors.prismUsername, true)}
                />
              </Field>
              <SecretField
                id="prism-password"
                label="Password"
                value={secrets.prismPassword}
                saved={saved.prismPassword}
                savedTestId="saved-prism-password"
                error={errors.prismPassword}
                hint={saved.prismPassword ? "Leave blank to keep the saved password." : undefined}
                onChange={(v) => updateSecret("prismPassword", v)}
              />
            </>
          ) : (
            <SecretField
              id="prism-api-key"
              label="API key"
              value={secrets.prismApiKey}
              saved={saved.prismApiKey}
              savedTestId="saved-prism-api-key"
              error={errors.prismApiKey}
              hint={saved.prismApiKey ? "Leave blank to keep the saved key." : "A Prism Central API key of a service account."}
              onChange={(v) => updateSecret("prismApiKey", v)}
            />
          )}
          <TlsPicker
            service="prism"
            value={form.prismTls}
            onChange={(tls) => update({ prismTls: tls }, ["prismCaBundle", "prismPin"])}
            caBundleError={errors.prismCaBundle}
            pinError={errors.prismPin}
          />
        </div>
        {testArea("prism_central")}
      </fieldset>

      <fieldset className="form-section" aria-label="Network">
        <legend className="form-section-title">Network</legend>
        <div className="form-grid">
          <Field
            id="proxy-mode"
            label="Proxy"
            hint={
              form.proxyMode === "system"
                ? "Uses HTTPS_PROXY and NO_PROXY from the environment, when set."
                : form.proxyMode === "none"
                  ? "Connects directly, ignoring proxy variables."
                  : "Both services are reached through this proxy."
            }
          >
            <select
              id="proxy-mode"
              className="input"
              data-testid="proxy-mode"
              value={form.proxyMode}
              onChange={(e) => update({ proxyMode: e.target.value as EnvForm["proxyMode"] }, ["proxyUrl"])}
            >
              <option value="system">System settings</option>
              <option value="none">No proxy</option>
              <option value="explicit">This proxy…</option>
            </select>
          </Field>
          {form.proxyMode === "explicit" && (
            <Field id="proxy-url" label="Proxy address" error={errors.proxyUrl} hint="http://host:port or https://host:port">
              <input
                id="proxy-url"
                className="input mono"
                data-testid="proxy-url"
                value={form.proxyUrl}
                placeholder="http://proxy.example.com:3128"
                spellCheck={false}
                onChange={(e) => update({ proxyUrl: e.target.value }, ["proxyUrl"])}
                {...describedBy("proxy-url", errors.proxyUrl, true)}
              />
            </Field>
          )}
        </div>
      </fieldset>

      <SecretStorePanel
        status={secretStore}
        loadError={secretStoreError}
        onReload={onReloadSecretStore}
        onUnlocked={onUnlocked}
        blockedMessage={blocked}
      />

      {saveProblem && (
        <div className="form-problem" role="alert" data-testid="save-error">
          Not saved: {saveProblem.message} <code className="error-code">{saveProblem.code}</code>
        </div>
      )}
      {Object.values(errors).some(Boolean) && !saveProblem && (
        <div className="form-problem" data-testid="form-has-errors">
          Some fields need attention; their messages are shown at each field.
        </div>
      )}

      <div className="form-actions">
        <label className="checkbox">
          <input type="checkbox" data-testid="env-activate-after-save" checked={activate} onChange={(e) => setActivate(e.target.checked)} />
          Make it the active environment
        </label>
        <span className="toolbar-spacer" />
        <button type="button" className="button" data-testid="env-cancel" onClick={onCancel} disabled={saving}>
          Cancel
        </button>
        <button type="button" className="button setup-primary" data-testid="env-save" onClick={() => void save()} disabled={saving}>
          {saving ? "Saving…" : editing ? "Save changes" : "Save environment"}
        </button>
      </div>
    </section>
  );
}
