import { useState } from "react";
import type { DeployOptions, DeployProfile, PackLayer } from "../../../lib/bindings";
import { YamlEditor } from "../../../components/editor";
import { Section } from "../parts";
import { Field, type SectionProps } from "./fields";
import { nameProblem } from "./model";

const LAYER_WORD: Record<PackLayer, string> = { os: "OS", k8s: "Kubernetes", cni: "Network", csi: "Storage", addon: "Add-on" };

/** The profile's layers, each editable for this cluster only (`layerValues`). */
function LayerTuning({ spec, onChange, profile }: SectionProps & { profile: DeployProfile }) {
  const [open, setOpen] = useState<string | null>(null);
  const layer = profile.layers.find((l) => l.packName === open) ?? null;
  const tuned = (pack: string) => spec.layerValues.find((v) => v.packName === pack);
  const setValues = (pack: string, values: string, original: string) => {
    const rest = spec.layerValues.filter((v) => v.packName !== pack);
    onChange({ ...spec, layerValues: values === original ? rest : [...rest, { packName: pack, values }] });
  };
  return (
    <div className="dp-layers" data-testid="deploy-layers">
      <div className="wf-tabs" role="tablist" aria-label="Profile layers">
        {profile.layers.map((l) => (
          <button
            key={l.packName}
            type="button"
            role="tab"
            className="wf-tab"
            aria-selected={open === l.packName}
            data-testid={`deploy-layer-${l.packName}`}
            onClick={() => setOpen(open === l.packName ? null : l.packName)}
          >
            {LAYER_WORD[l.layer]}: {l.packName} {l.version}
            {tuned(l.packName) && <span className="wf-badge">tuned</span>}
          </button>
        ))}
      </div>
      {layer ? (
        <div className="dp-layer-editor">
          <div className="dp-row-between">
            <span className="wf-help">
              Values of {layer.packName} {layer.version} for this cluster only; the profile keeps its own.
            </span>
            {tuned(layer.packName) && (
              <button type="button" className="wf-link" data-testid="deploy-layer-reset" onClick={() => setValues(layer.packName, layer.values, layer.values)}>
                Back to the profile's values
              </button>
            )}
          </div>
          <YamlEditor
            value={tuned(layer.packName)?.values ?? layer.values}
            onChange={(v) => setValues(layer.packName, v, layer.values)}
            height={260}
            ariaLabel={`Values of ${layer.packName}`}
            testId="deploy-layer-values"
          />
        </div>
      ) : (
        <p className="wf-help">Open a layer to tune its values for this cluster (the profile itself does not change).</p>
      )}
    </div>
  );
}

export function BasicsSection({ spec, onChange, options }: SectionProps & { options: DeployOptions }) {
  const profile = options.profiles.find((p) => p.uid === spec.profileUid) ?? null;
  const account = options.accounts.find((a) => a.uid === spec.accountUid) ?? null;
  const byName = new Map<string, DeployProfile[]>();
  for (const p of options.profiles) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  return (
    <Section title="Basics" testId="deploy-basics">
      <div className="wf-grid">
        <Field label="Cluster name" error={nameProblem(spec.name)} hint="Also the prefix of its VMs in Prism Central.">
          <input className="wf-input" data-testid="deploy-name" value={spec.name} placeholder="e.g. edge-01" spellCheck={false} autoComplete="off" onChange={(e) => onChange({ ...spec, name: e.target.value })} />
        </Field>
        <Field label="Description (optional)">
          <input className="wf-input" data-testid="deploy-description" value={spec.description} onChange={(e) => onChange({ ...spec, description: e.target.value })} />
        </Field>
        <Field
          label="Cloud account"
          warning={account && account.pcgState !== "Running" ? `PCG ${account.pcgName ?? ""} is ${account.pcgState ?? "not reporting"}: Palette cannot create clusters through it until it is Running.` : undefined}
        >
          <select className="wf-input" data-testid="deploy-account" value={spec.accountUid} onChange={(e) => onChange({ ...spec, accountUid: e.target.value })}>
            {options.accounts.length === 0 && <option value="">No Nutanix cloud account yet</option>}
            {options.accounts.map((a) => (
              <option key={a.uid} value={a.uid}>
                {a.name}
                {a.pcgName ? ` · PCG ${a.pcgName} (${a.pcgState ?? "unknown"})` : ""}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Cluster profile" hint={profile ? `Kubernetes ${profile.kubernetesVersion ?? "not set in the profile"}: the node image must carry the same minor.` : undefined}>
          <select
            className="wf-input"
            data-testid="deploy-profile"
            value={spec.profileUid}
            onChange={(e) => {
              const next = options.profiles.find((p) => p.uid === e.target.value);
              onChange({ ...spec, profileUid: e.target.value, kubernetesVersion: next?.kubernetesVersion ?? "", layerValues: [] });
            }}
          >
            {options.profiles.length === 0 && <option value="">No published profile yet</option>}
            {[...byName.entries()].map(([name, versions]) => (
              <optgroup key={name} label={name}>
                {versions.map((p) => (
                  <option key={p.uid} value={p.uid}>
                    {p.name} {p.version}
                    {p.kubernetesVersion ? ` · Kubernetes ${p.kubernetesVersion}` : ""}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </Field>
      </div>
      {profile && profile.layers.length > 0 && <LayerTuning spec={spec} onChange={onChange} profile={profile} />}
    </Section>
  );
}
