import { useCallback, useEffect, useRef, useState } from "react";
import type { DeployOptions, DeployResult, DeploySpec, DeployYaml, PlacementOptions, PoolRef, PreflightReport as Report, UnmappedYamlField } from "../../../lib/bindings";
import { useBackend } from "../../../lib/backend";
import { type Problem, toProblem, useDraft, useTiming } from "../hooks";
import { DraftIndicator, ErrorBanner } from "../parts";
import { NetworksSection, SshKeySection } from "./AccessSection";
import { BasicsSection } from "./BasicsSection";
import { blockingChecks, checkedKey, docText, draftData, draftFrom, emptySpec, formBlockers, outcomeOf, withDefaults, withImage } from "./model";
import { PlacementSection } from "./PlacementSection";
import { PoolsSection } from "./PoolsSection";
import { PreflightReport } from "./PreflightReport";
import { poolKey, type ReadBackState, YamlTab } from "./YamlTab";

/** Picks what a Prism Element's placement makes obvious: its first IPAM subnet, the first ready matching image. */
function autoPick(spec: DeploySpec, placement: PlacementOptions): DeploySpec {
  if (spec.prismElement.uuid !== placement.prismElementUuid) return spec;
  let next = spec;
  if (spec.subnets.length === 0) {
    const subnet = placement.subnets.find((s) => s.cidr !== null) ?? placement.subnets[0];
    if (subnet) next = { ...next, subnets: [{ uuid: subnet.uuid, name: subnet.name, useUuid: !subnet.nameUnique }] };
  }
  if (!spec.image.uuid) {
    const image = placement.images.find((i) => i.matches && (i.state ?? "COMPLETE") === "COMPLETE");
    if (image) next = withImage(next, image);
  }
  return next;
}

const NO_READ_BACK: ReadBackState = { pending: false, changed: [], unmapped: [], problem: null };

function isReport(value: unknown): value is Report {
  return typeof value === "object" && value !== null && Array.isArray((value as Report).checks) && typeof (value as Report).canDeploy === "boolean";
}

const setPool = (yaml: DeployYaml, pool: PoolRef, text: string): DeployYaml =>
  pool.kind === "cluster"
    ? { ...yaml, cluster: text }
    : pool.kind === "controlPlane"
      ? { ...yaml, controlPlane: text }
      : { ...yaml, workers: yaml.workers.map((w, i) => (i === pool.index ? text : w)) };


/** The deploy form: pickers fed by live Prism Central, the YAML, the preflight and the deploy. */
export function DeployForm({ onDeployed }: { onDeployed: (result: DeployResult) => void }) {
  const backend = useBackend();
  const { planMs } = useTiming();
  const [options, setOptions] = useState<DeployOptions | null>(null);
  const [optionsProblem, setOptionsProblem] = useState<Problem | null>(null);
  const [spec, setSpec] = useState<DeploySpec>(emptySpec);
  const [placement, setPlacement] = useState<PlacementOptions | null>(null);
  const [placementProblem, setPlacementProblem] = useState<Problem | null>(null);
  const [placementRetry, setPlacementRetry] = useState(0);
  const [tab, setTab] = useState<"form" | "yaml">("form");
  // The YAML shown; `editedDocs` names the pools edited by hand (then the YAML is deployed as shown).
  const [yaml, setYaml] = useState<DeployYaml | null>(null);
  const [editedDocs, setEditedDocs] = useState<string[]>([]);
  const [yamlStale, setYamlStale] = useState(true);
  const [paletteFills, setPaletteFills] = useState<string[]>([]);
  const [renderProblem, setRenderProblem] = useState<Problem | null>(null);
  const [readBack, setReadBack] = useState<Record<string, ReadBackState>>({});
  const [dropped, setDropped] = useState<UnmappedYamlField[]>([]);
  const [preflight, setPreflight] = useState<{ report: Report; key: string } | null>(null);
  const [checking, setChecking] = useState(false);
  const [preflightProblem, setPreflightProblem] = useState<Problem | null>(null);
  const [deploying, setDeploying] = useState(false);
  const [deployProblem, setDeployProblem] = useState<Problem | null>(null);

  const live = useRef({ spec, yaml, options });
  useEffect(() => {
    live.current = { spec, yaml, options };
  });
  const yamlEdited = editedDocs.length > 0;
  /** Counts hand edits, so a render that was asked for before one never overwrites it. */
  const handEdits = useRef(0);

  const draft = useDraft("cluster", (data) => {
    const restored = draftFrom(data);
    const opts = live.current.options;
    setSpec(opts ? withDefaults(restored.spec, opts) : restored.spec);
    if (restored.yaml) {
      live.current.yaml = restored.yaml;
      setYaml(restored.yaml);
      setEditedDocs(["controlPlane", ...restored.yaml.workers.map((_, i) => `worker-${i}`)]);
      setYamlStale(false);
    }
  });

  const loadOptions = useCallback(() => {
    backend
      .call("deploy_options", {})
      .then((next) => {
        setOptionsProblem(null);
        setOptions(next);
        setSpec((s) => withDefaults(s, next));
      })
      .catch((error: unknown) => setOptionsProblem(toProblem(error)));
  }, [backend]);
  useEffect(loadOptions, [loadOptions]);

  // The chosen Prism Element's subnets, images and free VIPs (for the first subnet).
  const peUuid = spec.prismElement.uuid;
  const k8sVersion = spec.kubernetesVersion;
  const firstSubnet = spec.subnets[0]?.uuid ?? "";
  useEffect(() => {
    if (!peUuid) return;
    let current = true;
    backend
      .call("deploy_placement", { prismElementUuid: peUuid, kubernetesVersion: k8sVersion || undefined, subnetUuid: firstSubnet || undefined })
      .then((next) => {
        if (!current) return;
        setPlacement(next);
        setPlacementProblem(null);
        const picked = autoPick(live.current.spec, next);
        if (picked !== live.current.spec) {
          setSpec(picked);
          setYamlStale(true);
        }
      })
      .catch((error: unknown) => {
        if (current) setPlacementProblem(toProblem(error));
      });
    return () => {
      current = false;
    };
  }, [backend, peUuid, k8sVersion, firstSubnet, placementRetry]);

  // The YAML, generated again (after a pause) while the YAML tab is open and the form moved.
  useEffect(() => {
    if (tab !== "yaml" || !yamlStale || !options) return;
    let current = true;
    const id = window.setTimeout(() => {
      const editsBefore = handEdits.current;
      backend
        .call("deploy_render", spec)
        .then((rendered) => {
          // Typed into the YAML while this render ran: keep what was typed.
          if (!current || handEdits.current !== editsBefore) return;
          // Set before the editors see it: Monaco reports the text it is given as a change.
          live.current.yaml = rendered.yaml;
          setYaml(rendered.yaml);
          setPaletteFills(rendered.paletteFills);
          setYamlStale(false);
          setRenderProblem(null);
        })
        .catch((error: unknown) => {
          if (current) setRenderProblem(toProblem(error));
        });
    }, planMs);
    return () => {
      current = false;
      window.clearTimeout(id);
    };
  }, [backend, tab, yamlStale, spec, options, planMs]);

  /** A change made in the form: saved as a draft; hand-edited YAML gives way to the form. */
  function change(next: DeploySpec) {
    setSpec(next);
    setDeployProblem(null);
    if (yamlEdited) {
      setDropped(Object.values(readBack).flatMap((r) => r.unmapped));
      setEditedDocs([]);
      setReadBack({});
    }
    setYamlStale(true);
    draft.schedule(draftData({ spec: next, yaml: null }));
  }

  const readBackTimers = useRef(new Map<string, number>());
  const readBackSeq = useRef(new Map<string, number>());
  useEffect(() => {
    const timers = readBackTimers.current;
    return () => timers.forEach((id) => window.clearTimeout(id));
  }, []);

  /** A YAML document edited by hand: shown at once, read back into the form after a pause. */
  function editYaml(pool: PoolRef, text: string) {
    const key = poolKey(pool);
    const shownText = docText(live.current.yaml, pool);
    // The editor echoes text pushed into it (a new render): that is not an edit.
    if (text === shownText) return;
    handEdits.current += 1;
    const base = live.current.yaml ?? { cluster: "", controlPlane: "", workers: spec.workers.map(() => "") };
    const nextYaml = setPool(base, pool, text);
    live.current.yaml = nextYaml;
    setYaml(nextYaml);
    setDropped([]);
    setDeployProblem(null);
    const edited = editedDocs.includes(key) ? editedDocs : [...editedDocs, key];
    setEditedDocs(edited);
    setReadBack((r) => ({ ...r, [key]: { ...(r[key] ?? NO_READ_BACK), pending: true } }));
    draft.schedule(draftData({ spec: live.current.spec, yaml: nextYaml }));
    window.clearTimeout(readBackTimers.current.get(key));
    readBackTimers.current.set(
      key,
      window.setTimeout(() => {
        const seq = (readBackSeq.current.get(key) ?? 0) + 1;
        readBackSeq.current.set(key, seq);
        const latest = () => readBackSeq.current.get(key) === seq;
        backend
          .call("deploy_yaml_read_back", { spec: live.current.spec, pool, yaml: text })
          .then(async (back) => {
            if (!latest()) return;
            live.current.spec = back.spec;
            setSpec(back.spec);
            setReadBack((r) => ({ ...r, [key]: { pending: false, changed: back.changed, unmapped: back.unmapped, problem: null } }));
            let shown = live.current.yaml ?? nextYaml;
            if (back.changed.length > 0) {
              // The other pools' YAML follows the form unless edited by hand too.
              const rendered = await backend.call("deploy_render", back.spec);
              if (!latest()) return;
              shown = {
                cluster: edited.includes("cluster") ? shown.cluster : rendered.yaml.cluster,
                controlPlane: edited.includes("controlPlane") ? shown.controlPlane : rendered.yaml.controlPlane,
                workers: rendered.yaml.workers.map((w, i) => (edited.includes(`worker-${i}`) ? (shown.workers[i] ?? w) : w)),
              };
              live.current.yaml = shown;
              setYaml(shown);
            }
            draft.schedule(draftData({ spec: back.spec, yaml: shown }));
          })
          .catch((error: unknown) => {
            if (latest()) setReadBack((r) => ({ ...r, [key]: { ...(r[key] ?? NO_READ_BACK), pending: false, problem: toProblem(error) } }));
          });
      }, planMs),
    );
  }

  function revertYaml() {
    setEditedDocs([]);
    setReadBack({});
    setDropped([]);
    setYamlStale(true);
    draft.schedule(draftData({ spec, yaml: null }));
  }

  async function discardDraft() {
    await draft.discard().catch(() => undefined);
    const fresh = emptySpec();
    setSpec(options ? withDefaults(fresh, options) : fresh);
    setEditedDocs([]);
    setReadBack({});
    setYamlStale(true);
    setPreflight(null);
  }

  const blockers = formBlockers(spec);
  const key = checkedKey(spec, yamlEdited ? yaml : null);
  const stale = preflight !== null && preflight.key !== key;

  async function runPreflight() {
    // Exactly what Deploy would send: the hand-edited YAML too, when there is one.
    const request = yamlEdited && yaml ? { spec, yaml } : { spec };
    const checked = key;
    setChecking(true);
    setPreflightProblem(null);
    setDeployProblem(null);
    try {
      const report = await backend.call("deploy_preflight", request);
      setPreflight({ report, key: checked });
    } catch (error) {
      setPreflightProblem(toProblem(error));
    } finally {
      setChecking(false);
    }
  }

  async function deploy() {
    setDeploying(true);
    setDeployProblem(null);
    try {
      const result = await backend.call("cluster_deploy", yamlEdited && yaml ? { spec, yaml } : { spec });
      await draft.discard().catch(() => undefined);
      onDeployed(result);
    } catch (error) {
      const problem = toProblem(error);
      // The engine ran the preflight again and it failed: show what it found.
      if (problem.code === "preflight_failed" && isReport(problem.details)) setPreflight({ report: problem.details, key });
      setDeployProblem(problem);
      setDeploying(false);
    }
  }

  const blocking = preflight ? blockingChecks(preflight.report) : [];
  const errored = blocking.filter((c) => outcomeOf(c) === "error");
  const deployBlocked: string | null =
    blockers.length > 0
      ? "Fill in the form first (see above)."
      : checking
        ? "The preflight is running…"
        : !preflight
          ? "Run the preflight first: Capstan deploys only what it has checked against Prism Central."
          : stale
            ? "The form changed after the preflight: run it again."
            : blocking.length > errored.length
              ? `The preflight failed: ${blocking
                  .filter((c) => outcomeOf(c) === "fail")
                  .map((c) => `${c.title} — ${c.detail}`)
                  .join(" ")}`
              : errored.length > 0
                ? `${errored.length} check${errored.length === 1 ? "" : "s"} could not finish, so nothing was verified: run the preflight again.`
                : null;

  if (!options) {
    return (
      <div className="dp-form" data-testid="deploy-form">
        {optionsProblem ? (
          <ErrorBanner title="The deploy form could not be read" problem={optionsProblem} testId="deploy-options-error" action={<button type="button" className="button" onClick={loadOptions}>Retry</button>} />
        ) : (
          <p className="wf-muted">Reading accounts, profiles and Prism Elements…</p>
        )}
      </div>
    );
  }

  const missing = [
    options.accounts.length === 0 ? "There is no Nutanix cloud account yet: add one in step 3." : null,
    options.profiles.length === 0 ? "There is no published cluster profile yet: create and publish one in step 4." : null,
    options.prismElements.length === 0 ? "Prism Central lists no Prism Element to deploy on." : null,
  ].filter((m): m is string => m !== null);

  return (
    <div className="dp-form" data-testid="deploy-form">
      <div className="wf-panel-intro">
        <p>The workload cluster, created by Palette through the PCG: CAPX makes its VMs in Prism Central. Everything is checked against live Prism Central before anything is created.</p>
        <DraftIndicator draft={draft} onDiscard={() => void discardDraft()} />
      </div>
      {options.problems.map((p) => (
        <div key={p} className="wf-partial" role="status">
          {p}
        </div>
      ))}
      {missing.length > 0 && (
        <div className="wf-blocked" role="status" data-testid="deploy-missing">
          {missing.map((m) => (
            <div key={m}>{m}</div>
          ))}
        </div>
      )}

      <div className="wf-tabs dp-main-tabs" role="tablist" aria-label="Form or YAML">
        <button type="button" role="tab" className="wf-tab" aria-selected={tab === "form"} data-testid="deploy-tab-form" onClick={() => setTab("form")}>
          Form
        </button>
        <button type="button" role="tab" className="wf-tab" aria-selected={tab === "yaml"} data-testid="deploy-tab-yaml" onClick={() => setTab("yaml")}>
          YAML{yamlEdited && <span className="wf-badge">edited</span>}
        </button>
      </div>

      {tab === "form" ? (
        <div className="dp-sections">
          <BasicsSection spec={spec} onChange={change} options={options} />
          <PlacementSection spec={spec} onChange={change} options={options} placement={placement} problem={placementProblem} onRetry={() => setPlacementRetry((n) => n + 1)} />
          <PoolsSection spec={spec} onChange={change} options={options} />
          <SshKeySection spec={spec} onChange={change} options={options} />
          <NetworksSection spec={spec} onChange={change} options={options} />
        </div>
      ) : (
        <YamlTab
          yaml={yaml}
          workers={spec.workers}
          paletteFills={paletteFills}
          loading={yamlStale && !yamlEdited}
          problem={renderProblem}
          edited={yamlEdited}
          readBack={readBack}
          dropped={dropped}
          onEdit={editYaml}
          onRevert={revertYaml}
        />
      )}

      <section className="wf-section dp-check-deploy" data-testid="deploy-actions">
        <header className="wf-section-head">
          <h3 className="wf-section-title">Preflight and deploy</h3>
        </header>
        {blockers.length > 0 && (
          <ul className="wf-blockers dp-blockers" data-testid="deploy-form-blockers">
            {blockers.map((b) => (
              <li key={b}>{b}</li>
            ))}
          </ul>
        )}
        <div className="wf-actions">
          <button type="button" className="button" data-testid="deploy-preflight-run" disabled={blockers.length > 0 || checking || deploying} onClick={() => void runPreflight()}>
            {checking ? "Running 13 checks against Prism Central…" : preflight ? "Run the preflight again" : "Run preflight"}
          </button>
          <button type="button" className="button wf-primary" data-testid="deploy-submit" disabled={deployBlocked !== null || deploying} onClick={() => void deploy()}>
            {deploying ? "Deploying…" : `Deploy ${spec.name.trim() || "the cluster"}`}
          </button>
        </div>
        {deployBlocked && (
          <p className="dp-blocked-reason" data-testid="deploy-blocked-reason" role="status">
            {deployBlocked}
          </p>
        )}
        {preflightProblem && <ErrorBanner title="The preflight could not run" problem={preflightProblem} testId="deploy-preflight-error" />}
        {deployProblem && <ErrorBanner title={deployProblem.code === "preflight_failed" ? "Not deployed: the preflight failed when run again" : "Not deployed"} problem={deployProblem} testId="deploy-error" />}
        {preflight && <PreflightReport report={preflight.report} stale={stale} />}
      </section>
    </div>
  );
}
