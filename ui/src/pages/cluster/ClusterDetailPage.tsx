import { type FormEvent, useState } from "react";
import { useBackend } from "../../lib/backend";
import type { ClusterDetail, ClusterNode, ClusterPool, PackLayer, ProfileUpdatePlan } from "../../lib/bindings";
import { hrefFor } from "../../lib/router";
import { formatAge } from "../../lib/time";
import { useNow } from "../../components/useNow";
import { YamlDiff } from "../../components/editor";
import { ErrorBanner } from "../workflow/parts";
import { type Problem, toProblem } from "../workflow/hooks";
import { ProgressSummary, awaitingNodes } from "./ClusterProgress";
import { Dialog, EventList, KubeconfigAction, OutcomeBox, PhaseChip, PoolNodes, VmList, clusterVms } from "./parts";
import { useClusterDetail, useClusterTiming } from "./useClusterDetail";
import "./cluster.css";

/** The most nodes the engine scales one pool to in one step. */
const MAX_POOL_NODES = 100;

const LAYER_NAME: Record<PackLayer, string> = { os: "OS", k8s: "Kubernetes", cni: "Network (CNI)", csi: "Storage (CSI)", addon: "Add-on" };

/** Day-2 actions need a cluster that is up (Palette refuses them otherwise). */
function isUp(detail: ClusterDetail): boolean {
  return detail.phase === "running" || detail.phase === "updating";
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// ---- scale ----------------------------------------------------------------------------------

function ScaleControl({ uid, pool, enabled, onScaled }: { uid: string; pool: ClusterPool; enabled: boolean; onScaled: (detail: ClusterDetail) => void }) {
  const backend = useBackend();
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(String(pool.size));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  if (!open) {
    return (
      <button
        type="button"
        className="button button-small"
        data-testid="scale-open"
        disabled={!enabled}
        title={enabled ? `Change the number of nodes in ${pool.name}` : "Scaling needs a Running cluster."}
        onClick={() => {
          setValue(String(pool.size));
          setProblem(null);
          setOpen(true);
        }}
      >
        Scale
      </button>
    );
  }

  const wanted = Number(value);
  // The engine's rules: an odd control plane (etcd quorum), at least one worker, at most 100.
  const valid =
    value.trim() !== "" && Number.isInteger(wanted) && (pool.controlPlane ? [1, 3, 5].includes(wanted) : wanted >= 1 && wanted <= MAX_POOL_NODES);
  const delta = valid ? wanted - pool.size : 0;
  const effect = !valid
    ? pool.controlPlane
      ? "The control plane needs 1, 3 or 5 nodes (an odd number keeps etcd's quorum)."
      : `Enter a whole number of nodes from 1 to ${MAX_POOL_NODES} (delete the pool instead of emptying it).`
    : delta > 0
      ? `Adds ${plural(delta, "node")}: CAPX creates ${plural(delta, "VM")} in Prism Central, each with an address from the subnet.`
      : delta < 0
        ? `Removes ${plural(-delta, "node")}, newest first: workloads are drained to the others and the VMs are deleted.`
        : "That is the current size.";

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!valid || delta === 0) return;
    setBusy(true);
    setProblem(null);
    try {
      const next = await backend.call("cluster_scale", { uid, pool: pool.name, replicas: wanted });
      setOpen(false);
      onScaled(next);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="cl-scale" data-testid="scale-form" noValidate onSubmit={(e) => void submit(e)}>
      <label className="cl-scale-field">
        <span>Nodes in {pool.name}</span>
        <input
          className="cl-input cl-input-number"
          type="number"
          min={pool.controlPlane ? 1 : 0}
          max={50}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={!valid}
          data-testid="scale-input"
        />
      </label>
      <span className="cl-scale-effect muted" data-testid="scale-effect">
        {effect}
      </span>
      <span className="cl-scale-buttons">
        <button type="button" className="button button-small" onClick={() => setOpen(false)} disabled={busy}>
          Cancel
        </button>
        <button type="submit" className="button button-small button-primary" data-testid="scale-confirm" disabled={!valid || delta === 0 || busy}>
          {busy ? "Scaling…" : `Scale to ${valid ? wanted : "…"}`}
        </button>
      </span>
      {problem && <ErrorBanner title={`Could not scale ${pool.name}`} problem={problem} testId="scale-error" />}
    </form>
  );
}

// ---- profile update ---------------------------------------------------------------------------

function ProfileUpdateDialog({ detail, onClose, onUpdated }: { detail: ClusterDetail; onClose: () => void; onUpdated: (detail: ClusterDetail) => void }) {
  const backend = useBackend();
  const versions = detail.newerProfileVersions;
  const [choice, setChoice] = useState(versions.at(-1)?.uid ?? "");
  const [plan, setPlan] = useState<ProfileUpdatePlan | null>(null);
  const [busy, setBusy] = useState<"plan" | "apply" | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function review() {
    setBusy("plan");
    setProblem(null);
    try {
      setPlan(await backend.call("cluster_profile_plan", { uid: detail.uid, profileUid: choice }));
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(null);
    }
  }

  async function apply() {
    if (!plan) return;
    setBusy("apply");
    setProblem(null);
    try {
      onUpdated(await backend.call("cluster_profile_update", { uid: detail.uid, profileUid: plan.to.uid }));
    } catch (error) {
      setProblem(toProblem(error));
      setBusy(null);
    }
  }

  const footer = (
    <>
      <button type="button" className="button" onClick={onClose}>
        Cancel
      </button>
      {plan ? (
        <button type="button" className="button button-primary" data-testid="profile-apply" disabled={busy !== null || plan.changes.length === 0} onClick={() => void apply()}>
          {busy === "apply" ? "Applying…" : `Update to ${plan.to.version ?? plan.to.name}`}
        </button>
      ) : (
        <button type="button" className="button button-primary" data-testid="profile-review" disabled={busy !== null || !choice} onClick={() => void review()}>
          {busy === "plan" ? "Comparing…" : "Review changes"}
        </button>
      )}
    </>
  );

  return (
    <Dialog title={`Update the profile of ${detail.name}`} onClose={onClose} footer={footer} wide testId="profile-dialog">
      <p>
        Now on <strong>{detail.profile?.name}</strong> {detail.profile?.version}. Pick the version to move to; you see what changes, layer by layer, before anything is applied.
      </p>
      <fieldset className="cl-versions">
        <legend>Version</legend>
        {versions.map((v) => (
          <label key={v.uid} className="cl-version">
            <input
              type="radio"
              name="profile-version"
              value={v.uid}
              checked={choice === v.uid}
              data-testid={`profile-version-${v.version}`}
              onChange={() => {
                setChoice(v.uid);
                setPlan(null);
              }}
            />
            {v.version}
          </label>
        ))}
      </fieldset>
      {problem && <ErrorBanner title={busy === null && plan ? "Could not update the profile" : "Could not compare the versions"} problem={problem} testId="profile-error" />}
      {plan && (
        <div className="cl-plan" data-testid="profile-plan">
          <p className="cl-impact" data-testid="profile-impact">
            {plan.impact}
          </p>
          {plan.changes.length === 0 && <p className="muted">Nothing differs between the two versions.</p>}
          {plan.changes.map((change) => (
            <section key={`${change.layer ?? "layer"}-${change.packName}`} className="cl-change" data-testid="profile-change" data-layer={change.layer ?? ""} data-pack={change.packName}>
              <h4 className="cl-change-title">
                {change.layer ? LAYER_NAME[change.layer] : "Layer"} · {change.packName}{" "}
                <span className="muted">
                  {change.fromVersion ?? "(new layer)"} → {change.toVersion ?? "(removed)"}
                </span>
              </h4>
              <YamlDiff
                original={change.fromValues}
                modified={change.toValues}
                originalLabel={`${plan.from?.version ?? "now"}${change.fromVersion ? ` · ${change.packName} ${change.fromVersion}` : ""}`}
                modifiedLabel={`${plan.to.version ?? "new"}${change.toVersion ? ` · ${change.packName} ${change.toVersion}` : ""}`}
                height={220}
                testId="profile-diff"
              />
            </section>
          ))}
        </div>
      )}
    </Dialog>
  );
}

// ---- delete -----------------------------------------------------------------------------------

function DeleteDialog({
  detail,
  force,
  onClose,
  onDeleted,
}: {
  detail: ClusterDetail;
  force: boolean;
  onClose: () => void;
  onDeleted: (result: ClusterDetail, vms: ClusterNode[]) => void;
}) {
  const backend = useBackend();
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const vms = clusterVms(detail);
  const matches = typed.trim() === detail.name;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!matches) return;
    setBusy(true);
    setProblem(null);
    try {
      const result = await backend.call("cluster_delete", { uid: detail.uid, confirmName: typed.trim(), force });
      onDeleted(result, vms);
    } catch (error) {
      setProblem(toProblem(error));
      setBusy(false);
    }
  }

  const footer = (
    <>
      <button type="button" className="button" onClick={onClose}>
        Cancel
      </button>
      <button type="submit" form="cl-delete-form" className="button danger" data-testid="delete-confirm" disabled={!matches || busy}>
        {busy ? "Deleting…" : force ? "Force delete" : "Delete cluster"}
      </button>
    </>
  );

  return (
    <Dialog title={force ? `Force delete ${detail.name}?` : `Delete ${detail.name}?`} onClose={onClose} footer={footer} testId={force ? "force-delete-dialog" : "delete-dialog"}>
      <form id="cl-delete-form" className="cl-delete" onSubmit={(e) => void submit(e)}>
        {force ? (
          <div data-testid="delete-consequences">
            <p>
              Force delete removes the cluster record from Palette <strong>now</strong>, without waiting for CAPX.{" "}
              <strong>The VMs are not deleted:</strong> {vms.length === 1 ? "this VM stays" : `these ${vms.length} VMs stay`} in Prism Central, still running and
              holding their IP addresses, and must be removed there by hand:
            </p>
            <VmList nodes={vms} testId="force-delete-vms" />
            <p className="muted">Use it only when the normal delete cannot finish{detail.outcome ? `: ${detail.outcome.problem}` : "."}</p>
          </div>
        ) : (
          <div data-testid="delete-consequences">
            <p>
              Palette deletes <strong>{detail.name}</strong>: CAPX removes its {plural(vms.length, "VM")} from Prism Central and releases their IP addresses
              {detail.endpoint ? `, and the API server at ${detail.endpoint} stops answering` : ""}. Workloads and the data on the cluster&apos;s volumes are lost. This
              cannot be undone.
            </p>
            {vms.length > 0 && <VmList nodes={vms} testId="delete-vms" />}
          </div>
        )}
        <label className="cl-confirm-field">
          <span>
            Type <code>{detail.name}</code> to confirm
          </span>
          <input
            className="cl-input mono"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            data-testid="delete-confirm-input"
            aria-invalid={typed !== "" && !matches}
          />
        </label>
        {problem && <ErrorBanner title={force ? "Could not force delete the cluster" : "Could not delete the cluster"} problem={problem} testId="delete-error" />}
      </form>
    </Dialog>
  );
}

// ---- the page ---------------------------------------------------------------------------------

type OpenDialog = "profile" | "delete" | "force" | null;

/** One Palette cluster: health, endpoint, versions, pools and nodes, events; scale, update, delete. */
export function ClusterDetailPage({ uid }: { uid: string }) {
  const timing = useClusterTiming();
  const state = useClusterDetail(uid, timing.pollMs, timing.settledPollMs);
  const now = useNow(1000);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [forced, setForced] = useState<{ name: string; vms: ClusterNode[] } | null>(null);
  const { detail, gone, apply } = state;

  const back = (
    <a href={hrefFor("clusters")} className="cl-back" data-testid="cluster-back">
      ← All clusters
    </a>
  );

  if (forced) {
    return (
      <div className="cl-page" data-testid="cluster-detail" data-uid={uid}>
        {back}
        <div className="cl-card" data-testid="force-delete-result">
          <h2 className="cl-card-title">{forced.name} was removed from Palette</h2>
          <p>
            Its VMs were left in Prism Central. Delete {forced.vms.length === 1 ? "it" : `these ${forced.vms.length}`} there by hand to free their capacity and IP
            addresses:
          </p>
          <VmList nodes={forced.vms} testId="force-delete-left" />
        </div>
      </div>
    );
  }

  const up = detail ? isUp(detail) : false;
  const inFlight = detail && !up;
  const busyDeleting = detail?.phase === "deleting" || detail?.phase === "deleted";

  return (
    <div className="cl-page" data-testid="cluster-detail" data-uid={uid} data-phase={gone ? "gone" : (detail?.phase ?? "loading")}>
      {back}
      <header className="cl-page-head">
        <div>
          <h1 className="page-title">{detail?.name ?? "Cluster"}</h1>
          <p className="page-subtitle">
            Palette cluster <span className="mono selectable">{uid}</span>
          </p>
        </div>
        {detail && !gone && <PhaseChip detail={detail} testId="cluster-phase" />}
        <span className="toolbar-spacer" />
        {detail && !gone && (
          <div className="cl-actions">
            <button
              type="button"
              className="button"
              data-testid="profile-update-open"
              disabled={!up || detail.newerProfileVersions.length === 0}
              title={!up ? "Profile updates need a Running cluster." : detail.newerProfileVersions.length === 0 ? "No newer version of the profile." : undefined}
              onClick={() => setDialog("profile")}
            >
              Update profile
            </button>
            <button type="button" className="button danger" data-testid="delete-open" disabled={busyDeleting} onClick={() => setDialog("delete")}>
              Delete…
            </button>
          </div>
        )}
      </header>

      {gone && (
        <div className="cl-card" data-testid="cluster-gone">
          <p>{detail?.name ?? "This cluster"} is no longer in Palette: it was deleted, or it belongs to another project.</p>
        </div>
      )}

      {!gone && detail?.deleteStuck && (
        <OutcomeBox
          outcome={detail.outcome ?? { problem: "The delete is taking longer than it should.", nextStep: "Check the events below, or force delete." }}
          tone="error"
          title="The delete is stuck"
          testId="delete-stuck"
        >
          <button type="button" className="button danger" data-testid="force-delete-open" onClick={() => setDialog("force")}>
            Force delete…
          </button>
        </OutcomeBox>
      )}

      {!gone && (inFlight || !detail) && (
        <div className="cl-card">
          <ProgressSummary uid={uid} detail={detail} readAt={state.readAt} gone={gone} problem={state.problem} now={now} />
        </div>
      )}
      {!gone && up && state.problem && <ErrorBanner title="Could not read the cluster (retrying)" problem={state.problem} testId="cluster-read-error" />}
      {!gone && up && detail?.outcome && <OutcomeBox outcome={detail.outcome} tone="warn" title="Needs attention" testId="cluster-warning" />}
      {!gone && detail?.phase === "updating" && (
        <p className="cl-note" data-testid="cluster-updating" role="status">
          Updating: a pool is scaling or a profile update is being applied. The cluster keeps serving meanwhile.
        </p>
      )}

      {detail && !gone && (
        <>
          <div className="cl-card" data-testid="cluster-overview">
            <dl className="kv kv-wide">
              <div className="kv-row">
                <dt>Health</dt>
                <dd data-testid="overview-health">{detail.health ?? "Not reported yet"}</dd>
              </div>
              <div className="kv-row">
                <dt>State in Palette</dt>
                <dd>{detail.state}</dd>
              </div>
              <div className="kv-row">
                <dt>API endpoint (kube-vip)</dt>
                <dd className="mono" data-testid="overview-endpoint">
                  {detail.endpoint ?? "—"}
                </dd>
              </div>
              <div className="kv-row">
                <dt>Kubernetes</dt>
                <dd data-testid="overview-k8s">{detail.kubernetesVersion ?? "—"}</dd>
              </div>
              <div className="kv-row">
                <dt>Cluster profile</dt>
                <dd data-testid="overview-profile">
                  {detail.profile ? `${detail.profile.name} ${detail.profile.version ?? ""}`.trim() : "—"}
                  {detail.newerProfileVersions.length > 0 && (
                    <span className="muted"> · newer: {detail.newerProfileVersions.map((v) => v.version).join(", ")}</span>
                  )}
                </dd>
              </div>
              <div className="kv-row">
                <dt>Cloud account</dt>
                <dd>{detail.accountName ?? "—"}</dd>
              </div>
              <div className="kv-row">
                <dt>Created</dt>
                <dd>{detail.createdAt ? `${new Date(detail.createdAt).toLocaleString()} (${formatAge(detail.createdAt, now)})` : "—"}</dd>
              </div>
              <div className="kv-row">
                <dt>Read from Palette</dt>
                <dd>{formatAge(detail.checkedAt, now)}</dd>
              </div>
            </dl>
            {up && (
              <div className="cl-overview-actions">
                <KubeconfigAction uid={uid} ready={detail.kubeconfigReady} />
              </div>
            )}
          </div>

          <div className="cl-block">
            <h3 className="cl-block-title">Node pools</h3>
            <div className="cl-pools">
              {detail.pools.map((pool) => (
                <PoolNodes
                  key={pool.name}
                  pool={pool}
                  waiting={awaitingNodes(detail)}
                  actions={<ScaleControl uid={uid} pool={pool} enabled={up} onScaled={apply} />}
                />
              ))}
              {detail.pools.length === 0 && <p className="muted">No node pools.</p>}
            </div>
          </div>

          <div className="cl-block">
            <h3 className="cl-block-title">Conditions</h3>
            {detail.conditions.length === 0 ? (
              <p className="muted">Palette reports no conditions yet.</p>
            ) : (
              <div className="table-wrap">
                <table className="table cl-conditions" data-testid="cluster-conditions">
                  <thead>
                    <tr>
                      <th scope="col">Condition</th>
                      <th scope="col">Status</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Message</th>
                      <th scope="col">Since</th>
                    </tr>
                  </thead>
                  <tbody>
                    {detail.conditions.map((c) => (
                      <tr key={c.kind} data-testid="cluster-condition" data-kind={c.kind} data-status={c.status}>
                        <td>{c.kind}</td>
                        <td>
                          <span className="status-chip">
                            <span className="status-dot" data-status={c.status === "True" ? "ok" : c.status === "False" ? "warn" : "neutral"} aria-hidden="true" />
                            {c.status}
                          </span>
                        </td>
                        <td>{c.reason ?? "—"}</td>
                        <td className="selectable">{c.message ?? ""}</td>
                        <td className="muted">{c.at ? formatAge(c.at, now) : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>

          <div className="cl-block">
            <h3 className="cl-block-title">Events</h3>
            <EventList events={detail.events} initial={8} />
          </div>
        </>
      )}

      {detail && dialog === "profile" && (
        <ProfileUpdateDialog
          detail={detail}
          onClose={() => setDialog(null)}
          onUpdated={(next) => {
            setDialog(null);
            apply(next);
          }}
        />
      )}
      {detail && (dialog === "delete" || dialog === "force") && (
        <DeleteDialog
          detail={detail}
          force={dialog === "force"}
          onClose={() => setDialog(null)}
          onDeleted={(result, vms) => {
            const force = dialog === "force";
            setDialog(null);
            if (force) {
              const left = clusterVms(result);
              setForced({ name: result.name, vms: left.length > 0 ? left : vms });
            } else {
              apply(result);
            }
          }}
        />
      )}
    </div>
  );
}
