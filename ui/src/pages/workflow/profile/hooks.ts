import { useCallback, useEffect, useState } from "react";
import type { PackDefaults, PackLayer, PackOption, PackRegistry, ProfileNameCheck, ProfileSummary } from "../../../lib/bindings";
import { useBackend } from "../../../lib/backend";
import { type Problem, toProblem, useTiming } from "../hooks";
import { ALL_LAYERS, type LayerChoice } from "./model";

export interface PackCatalog {
  registries: PackRegistry[];
  packs: Record<PackLayer, PackOption[]>;
}

/** The registries and every layer's packs, read together once (and again on `reload`). */
export function usePackCatalog(): { catalog: PackCatalog | null; problem: Problem | null; reload: () => void } {
  const backend = useBackend();
  const [catalog, setCatalog] = useState<PackCatalog | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    Promise.all([backend.call("pack_registries", {}), Promise.all(ALL_LAYERS.map((layer) => backend.call("packs_by_layer", { layer })))])
      .then(([{ registries }, lists]) => {
        if (!live) return;
        const packs = Object.fromEntries(ALL_LAYERS.map((layer) => [layer, [] as PackOption[]])) as Record<PackLayer, PackOption[]>;
        for (const list of lists) packs[list.layer] = list.packs;
        setCatalog({ registries, packs });
        setProblem(null);
      })
      .catch((error: unknown) => {
        if (live) setProblem(toProblem(error));
      });
    return () => {
      live = false;
    };
  }, [backend, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { catalog, problem, reload };
}

/** The default values of the chosen pack version (what the editor starts from and diffs against). */
export function usePackDefaults(choice: Pick<LayerChoice, "registryUid" | "packName" | "version">): { defaults: PackDefaults | null; problem: Problem | null } {
  const backend = useBackend();
  const key = choice.packName && choice.registryUid && choice.version ? `${choice.registryUid}|${choice.packName}|${choice.version}` : "";
  const [answer, setAnswer] = useState<{ key: string; defaults?: PackDefaults; problem?: Problem } | null>(null);

  useEffect(() => {
    if (!key) return;
    let live = true;
    const [registryUid, packName, version] = key.split("|");
    backend
      .call("pack_values", { registryUid, packName, version })
      .then((defaults) => {
        if (live) setAnswer({ key, defaults });
      })
      .catch((error: unknown) => {
        if (live) setAnswer({ key, problem: toProblem(error) });
      });
    return () => {
      live = false;
    };
  }, [backend, key]);

  const fresh = answer && answer.key === key ? answer : null;
  return { defaults: fresh?.defaults ?? null, problem: fresh?.problem ?? null };
}

export interface NameCheckState {
  /** The answer for exactly this name and version; null while checking. */
  check: ProfileNameCheck | null;
  problem: Problem | null;
  checking: boolean;
}

/**
 * Whether the name and version are free, asked `nameCheckMs` after the last keystroke.
 * `generation` asks again for the same text (after a create took the name).
 */
export function useNameCheck(name: string, version: string, generation: number): NameCheckState {
  const backend = useBackend();
  const { nameCheckMs } = useTiming();
  const key = JSON.stringify([name.trim(), version.trim(), generation]);
  const [answer, setAnswer] = useState<{ key: string; check?: ProfileNameCheck; problem?: Problem } | null>(null);
  const empty = name.trim() === "";

  useEffect(() => {
    if (empty) return;
    let live = true;
    const timer = window.setTimeout(() => {
      const [n, v] = JSON.parse(key) as [string, string];
      backend
        .call("profile_name_check", { name: n, version: v })
        .then((check) => {
          if (live) setAnswer({ key, check });
        })
        .catch((error: unknown) => {
          if (live) setAnswer({ key, problem: toProblem(error) });
        });
    }, nameCheckMs);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [backend, key, nameCheckMs, empty]);

  const fresh = answer && answer.key === key ? answer : null;
  return { check: fresh?.check ?? null, problem: fresh?.problem ?? null, checking: !empty && fresh === null };
}

/** The Nutanix cluster profiles with their versions, read when `active` turns on (and on `reload`). */
export function useProfiles(active: boolean): { profiles: ProfileSummary[] | null; problem: Problem | null; reload: () => void } {
  const backend = useBackend();
  const [profiles, setProfiles] = useState<ProfileSummary[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!active) return;
    let live = true;
    backend
      .call("profiles_list", {})
      .then((list) => {
        if (!live) return;
        setProfiles(list.profiles);
        setProblem(null);
      })
      .catch((error: unknown) => {
        if (live) setProblem(toProblem(error));
      });
    return () => {
      live = false;
    };
  }, [backend, active, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { profiles, problem, reload };
}
