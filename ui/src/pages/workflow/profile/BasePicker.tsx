import { useState } from "react";
import type { ProfileDetail } from "../../../lib/bindings";
import { useBackend } from "../../../lib/backend";
import { type Problem, toProblem } from "../hooks";
import { ErrorBanner } from "../parts";
import { useProfiles } from "./hooks";
import type { BaseProfile } from "./model";

/** Picks an existing profile version and loads it (layers and values) to start a new version from. */
export function BasePicker({ base, onLoad }: { base: BaseProfile | null; onLoad: (detail: ProfileDetail, versions: string[]) => void }) {
  const backend = useBackend();
  const { profiles, problem, reload } = useProfiles(true);
  const [picked, setPicked] = useState("");
  const [loading, setLoading] = useState(false);
  const [loadProblem, setLoadProblem] = useState<Problem | null>(null);
  const all = profiles ?? [];
  const uids = all.flatMap((p) => p.versions.map((v) => v.uid));
  // The newest version of the first profile unless the user picked (or already loaded) one.
  const chosen = [picked, base?.uid ?? ""].find((uid) => uid && uids.includes(uid)) ?? all[0]?.versions.at(-1)?.uid ?? "";

  async function load() {
    setLoading(true);
    setLoadProblem(null);
    try {
      const detail = await backend.call("profile_get", { uid: chosen });
      const versions = all.find((p) => p.versions.some((v) => v.uid === chosen))?.versions.map((v) => v.version) ?? [];
      onLoad(detail, versions);
    } catch (error) {
      setLoadProblem(toProblem(error));
    } finally {
      setLoading(false);
    }
  }

  return (
    <div className="wf-stack" data-testid="profile-base-picker">
      {problem && <ErrorBanner title="The cluster profiles could not be read" problem={problem} action={<button type="button" className="button" onClick={reload}>Retry</button>} />}
      {profiles && all.length === 0 && (
        <p className="wf-blocked" data-testid="profile-base-none">
          Palette has no Nutanix cluster profile yet: create a new one first.
        </p>
      )}
      {all.length > 0 && (
        <div className="wf-row">
          <label className="wf-field wf-grow">
            <span className="wf-label">Start from</span>
            <select className="wf-input" data-testid="profile-base" value={chosen} onChange={(e) => setPicked(e.target.value)}>
              {all.map((p) => (
                <optgroup key={p.name} label={p.name}>
                  {p.versions.map((v) => (
                    <option key={v.uid} value={v.uid}>
                      {p.name} {v.version}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
          </label>
          <button type="button" className="button" data-testid="profile-base-load" disabled={!chosen || loading} onClick={() => void load()}>
            {loading ? "Reading…" : base?.uid === chosen ? "Load it again" : "Start from this version"}
          </button>
          <button type="button" className="wf-link" onClick={reload}>
            Refresh the list
          </button>
        </div>
      )}
      {base && (
        <p className="wf-help" data-testid="profile-base-loaded">
          Starting from {base.name} {base.version}: its layers and values are below.
        </p>
      )}
      {loadProblem && <ErrorBanner title="The profile could not be read" problem={loadProblem} testId="profile-base-error" />}
    </div>
  );
}
