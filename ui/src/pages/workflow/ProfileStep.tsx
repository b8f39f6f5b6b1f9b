import { useState } from "react";
import type { ProfileCreateResult, WorkflowStep } from "../../lib/bindings";
import { useBackend } from "../../lib/backend";
import { type Problem, toProblem, useDraft } from "./hooks";
import { DraftIndicator, ErrorBanner, Section, STEP_NOUN } from "./parts";
import { BasePicker } from "./profile/BasePicker";
import { useNameCheck, usePackCatalog } from "./profile/hooks";
import { LayerTable } from "./profile/LayerTable";
import { LayerValues } from "./profile/LayerValues";
import { EMPTY_FORM, emptyLayer, formFromDraft, formFromProfile, formToDraft, type LayerChoice, layerIndexOf, missingChoices, type ProfileForm, profileName, slotId, toLayerInputs } from "./profile/model";
import { NameFields } from "./profile/NameFields";
import { RegistryList } from "./profile/RegistryList";
import { ResultCard } from "./profile/ResultCard";

function createLabel(form: ProfileForm, creating: boolean): string {
  if (creating) return form.publish ? "Creating and publishing…" : "Creating…";
  const what = form.mode === "version" ? `version ${form.version.trim() || "…"}` : "profile";
  return form.publish ? `Create and publish the ${what}` : `Create the ${what} as a draft`;
}

function StepNote({ step }: { step: WorkflowStep | undefined }) {
  if (step?.status === "blocked" && step.blockedBy) {
    return (
      <p className="wf-blocked" data-testid="profile-blocked" role="status">
        Waiting for: {STEP_NOUN[step.blockedBy]}. {step.summary} The profile can be prepared now; Palette may refuse it until then.
      </p>
    );
  }
  if (step?.status === "done") {
    return (
      <p className="wf-help" data-testid="profile-existing">
        {step.summary} Make another one, or a new version of it.
      </p>
    );
  }
  return null;
}

/**
 * Step 4: the cluster profile for the nutanix cloud type. Packs per layer from the
 * environment's registries, each layer's values edited as YAML against the pack's defaults,
 * the name checked as you type, then create (and publish) — or a new version of a profile.
 */
export function ProfileStep({ step, onChanged }: { step: WorkflowStep | undefined; onChanged: () => void }) {
  const backend = useBackend();
  const [form, setForm] = useState<ProfileForm>(EMPTY_FORM);
  const [selected, setSelected] = useState(0);
  const [creating, setCreating] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [result, setResult] = useState<ProfileCreateResult | null>(null);
  // Bumped after a create, so the check sees the name it just took.
  const [checkGeneration, setCheckGeneration] = useState(0);

  const draft = useDraft("profile", (data) => setForm(formFromDraft(data)));
  const { catalog, problem: catalogProblem, reload } = usePackCatalog();
  const name = profileName(form);
  const nameCheck = useNameCheck(name, form.version, checkGeneration);

  function update(next: ProfileForm) {
    setForm(next);
    setProblem(null);
    setResult(null);
    draft.schedule(formToDraft(next));
  }
  const patch = (changes: Partial<ProfileForm>) => update({ ...form, ...changes });
  const setLayer = (index: number, choice: LayerChoice) => update({ ...form, layers: form.layers.map((l, i) => (i === index ? choice : l)) });

  async function create() {
    setCreating(true);
    setProblem(null);
    setResult(null);
    try {
      const common = { version: form.version.trim(), description: form.description.trim(), layers: toLayerInputs(form), publish: form.publish };
      const done =
        form.mode === "version" && form.base
          ? await backend.call("profile_new_version", { uid: form.base.uid, ...common })
          : await backend.call("profile_create", { name: form.name.trim(), ...common });
      setResult(done);
      await draft.discard().catch(() => undefined);
      setCheckGeneration((n) => n + 1);
      onChanged();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setCreating(false);
    }
  }

  const current = Math.min(selected, form.layers.length - 1);
  const currentLayer = form.layers[current];
  const missing = missingChoices(form);
  const needsBase = form.mode === "version" && !form.base;
  const nameFree = nameCheck.check?.available === true;
  const canCreate = !creating && !needsBase && missing.length === 0 && nameFree;

  return (
    <div className="wf-step-panel" data-testid="step4">
      <div className="wf-panel-intro">
        <p>
          A cluster profile for the <code>nutanix</code> cloud type: the OS, Kubernetes, network and storage layers every cluster made from it gets, plus any add-ons. Each layer starts from
          its pack's default values; change only what you need.
        </p>
        <DraftIndicator
          draft={draft}
          onDiscard={() => {
            void draft.discard();
            setForm(EMPTY_FORM);
          }}
        />
      </div>
      <StepNote step={step} />

      <Section title="Profile">
        <div className="wf-segmented" role="group" aria-label="What to create">
          <button type="button" className="wf-segment" aria-pressed={form.mode === "new"} data-testid="profile-mode-new" onClick={() => patch({ mode: "new", base: null })}>
            New profile
          </button>
          <button type="button" className="wf-segment" aria-pressed={form.mode === "version"} data-testid="profile-mode-version" onClick={() => patch({ mode: "version" })}>
            New version of a profile
          </button>
        </div>
        {form.mode === "version" && (
          <BasePicker
            base={form.base}
            onLoad={(detail, versions) => {
              update(formFromProfile(detail, versions));
              setSelected(0);
            }}
          />
        )}
        <NameFields form={form} check={nameCheck} onChange={patch} />
      </Section>

      <Section title="Layers" hint="Packs offered for the nutanix cloud type, from Palette's registries and your own (custom) ones. Versions newest first.">
        {catalogProblem && (
          <ErrorBanner
            title="The packs could not be read"
            problem={catalogProblem}
            testId="profile-catalog-error"
            action={
              <button type="button" className="button" onClick={reload}>
                Retry
              </button>
            }
          />
        )}
        {!catalog && !catalogProblem && <p className="wf-muted">Reading the pack registries…</p>}
        {catalog && (
          <>
            <RegistryList registries={catalog.registries} />
            <LayerTable
              layers={form.layers}
              packs={catalog.packs}
              registries={catalog.registries}
              selected={current}
              invalidIndex={layerIndexOf(problem?.details)}
              onChange={setLayer}
              onSelect={setSelected}
              onRemove={(index) => update({ ...form, layers: form.layers.filter((_, i) => i !== index) })}
            />
            <div className="wf-row">
              <button type="button" className="button" data-testid="profile-add-addon" disabled={catalog.packs.addon.length === 0} onClick={() => patch({ layers: [...form.layers, emptyLayer("addon")] })}>
                Add an add-on
              </button>
            </div>
          </>
        )}
      </Section>

      {catalog && currentLayer?.packName && (
        <Section title="Values" hint="YAML, checked against the pack's schema as you type. Compare with the pack's defaults to see what you changed.">
          <LayerValues
            key={`${slotId(form.layers, current)}|${currentLayer.registryUid}|${currentLayer.packName}`}
            id={slotId(form.layers, current)}
            choice={currentLayer}
            onValues={(values) => setLayer(current, { ...currentLayer, values })}
          />
        </Section>
      )}

      <div className="wf-actions">
        <button type="button" className="button wf-primary" data-testid="profile-create" disabled={!canCreate} onClick={() => void create()}>
          {createLabel(form, creating)}
        </button>
        {(missing.length > 0 || needsBase) && (
          <div className="wf-blockers" data-testid="profile-blockers">
            <div className="wf-blockers-title">Before creating:</div>
            <ul>
              {needsBase && <li>Choose the profile to make a new version of, and load it.</li>}
              {missing.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {problem && <ErrorBanner title="The profile was not created" problem={problem} testId="profile-error" />}
      {result && <ResultCard result={result} />}
    </div>
  );
}
