import type {
  IpcError,
  PackDefaults,
  PackLayer,
  PackList,
  PackRegistryList,
  PackValuesRequest,
  PacksQuery,
  ProfileCreateRequest,
  ProfileCreateResult,
  ProfileDetail,
  ProfileLayerInput,
  ProfileList,
  ProfileNameCheck,
  ProfileNameRequest,
  ProfileNewVersionRequest,
  ProfileUidRequest,
} from "../bindings";

/**
 * The step-4 half of the `FakeServer`: a tiny pack catalogue (Palette's registry and one custom
 * registry) and in-memory cluster profiles, answering like the engine does against the sandbox:
 * name/version checks, exactly one OS, Kubernetes, CNI and CSI layer, duplicate-safe creates
 * (the same name and version is kept, not made twice) and new versions under the same name.
 * Unlike the engine it does not parse the values YAML.
 */

const PUBLIC_REGISTRY = "reg-public";
const CUSTOM_REGISTRY = "reg-custom";
const REQUIRED: PackLayer[] = ["os", "k8s", "cni", "csi"];
const LAYER_TITLES: Record<PackLayer, string> = {
  os: "OS",
  k8s: "Kubernetes",
  cni: "network (CNI)",
  csi: "storage (CSI)",
  addon: "add-on",
};

interface FakePack {
  name: string;
  displayName: string;
  layer: PackLayer;
  registryUid: string;
  /** Newest first. */
  versions: string[];
}

const CATALOGUE: FakePack[] = [
  { name: "ubuntu", displayName: "Ubuntu", layer: "os", registryUid: PUBLIC_REGISTRY, versions: ["24.04", "22.04"] },
  { name: "os-nutanix", displayName: "Nutanix OS (CAPX image)", layer: "os", registryUid: CUSTOM_REGISTRY, versions: ["1.0.0"] },
  { name: "kubernetes", displayName: "Palette eXtended Kubernetes", layer: "k8s", registryUid: PUBLIC_REGISTRY, versions: ["1.31.4", "1.30.6"] },
  { name: "cni-cilium-oss", displayName: "Cilium", layer: "cni", registryUid: PUBLIC_REGISTRY, versions: ["1.16.3", "1.15.6"] },
  { name: "nutanix-csi", displayName: "Nutanix CSI", layer: "csi", registryUid: PUBLIC_REGISTRY, versions: ["3.2.0", "3.1.0"] },
  { name: "nginx", displayName: "Nginx Ingress", layer: "addon", registryUid: PUBLIC_REGISTRY, versions: ["1.11.2"] },
];

function defaultValues(pack: string, version: string): string {
  return `# ${pack} ${version}\ncharts:\n  ${pack}:\n    enabled: true\n`;
}

function invalid(message: string, field: string): IpcError {
  return { code: "invalid_input", message, details: { field } };
}

/** Why a name or version cannot be used, or null. */
function nameProblem(name: string, version: string): { field: string; reason: string } | null {
  if (!name.trim()) return { field: "name", reason: "Give the profile a name." };
  if (name.trim().length > 64) return { field: "name", reason: "The name is too long: Palette allows 64 characters." };
  if (!/^\d+\.\d+\.\d+$/.test(version.trim())) {
    return { field: "version", reason: `"${version.trim()}" is not a version Palette accepts: use three numbers, like 1.0.0.` };
  }
  return null;
}

interface StoredProfile {
  uid: string;
  name: string;
  version: string;
  description: string;
  published: boolean;
  layers: ProfileLayerInput[];
}

export class FakeProfile {
  profiles: StoredProfile[] = [];
  private seq = 0;

  packRegistries(): PackRegistryList {
    return {
      registries: [
        { uid: PUBLIC_REGISTRY, name: "Public Repo", scope: "system", kind: "pack", isDefault: true, isPrivate: false, custom: false },
        { uid: CUSTOM_REGISTRY, name: "capstan-custom-packs", scope: "tenant", kind: "pack", isDefault: false, isPrivate: true, custom: true },
      ],
    };
  }

  packsByLayer(query: PacksQuery): PackList {
    const search = query.search?.trim() ?? "";
    const names = new Map(this.packRegistries().registries.map((r) => [r.uid, r.name]));
    const packs = CATALOGUE.filter(
      (p) => p.layer === query.layer && (!query.registryUid || p.registryUid === query.registryUid) && p.name.includes(search),
    ).map((p) => ({ ...p, versions: [...p.versions], registryName: names.get(p.registryUid) ?? "" }));
    return { layer: query.layer, packs };
  }

  packValues(request: PackValuesRequest): PackDefaults {
    const pack = this.pack(request.packName, request.registryUid, request.version);
    return {
      packName: pack.name,
      version: request.version,
      packUid: `${pack.name}-${request.version}`,
      values: defaultValues(pack.name, request.version),
      readme: `# ${pack.displayName}`,
    };
  }

  profileNameCheck(request: ProfileNameRequest): ProfileNameCheck {
    const problem = nameProblem(request.name, request.version);
    if (problem) return { available: false, reason: problem.reason, field: problem.field };
    const taken = this.find(request.name.trim(), request.version.trim());
    return taken
      ? { available: false, reason: `A cluster profile named ${taken.name} with version ${taken.version} already exists.`, field: "version" }
      : { available: true, reason: null, field: null };
  }

  profileCreate(request: ProfileCreateRequest): ProfileCreateResult {
    return this.create(request.name, request.version, request.description, request.layers, request.publish);
  }

  profileNewVersion(request: ProfileNewVersionRequest): ProfileCreateResult {
    const base = this.byUid(request.uid);
    return this.create(base.name, request.version, request.description.trim() || base.description, request.layers, request.publish);
  }

  profilesList(): ProfileList {
    const byName = new Map<string, StoredProfile[]>();
    for (const p of this.profiles) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
    return {
      profiles: [...byName.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, versions]) => ({
          name,
          versions: versions
            .map((v) => ({ uid: v.uid, version: v.version }))
            .sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true })),
        })),
    };
  }

  profileGet(request: ProfileUidRequest): ProfileDetail {
    const p = this.byUid(request.uid);
    return { ...p, layers: p.layers.map((l) => ({ ...l })) };
  }

  private create(
    name: string,
    version: string,
    description: string,
    layers: ProfileLayerInput[],
    publish: boolean,
  ): ProfileCreateResult {
    const problem = nameProblem(name, version);
    if (problem) throw invalid(problem.reason, problem.field);
    for (const required of REQUIRED) {
      const count = layers.filter((l) => l.layer === required).length;
      if (count !== 1) {
        throw invalid(
          `The profile ${count === 0 ? "has no" : "has more than one"} ${LAYER_TITLES[required]} layer. A Nutanix cluster profile needs exactly one OS, Kubernetes, network (CNI) and storage (CSI) layer; add-ons are optional.`,
          "layers",
        );
      }
    }
    layers.forEach((l) => this.pack(l.packName, l.registryUid, l.version));
    const existing = this.find(name.trim(), version.trim());
    if (existing) {
      return {
        uid: existing.uid,
        name: existing.name,
        version: existing.version,
        created: false,
        published: existing.published,
        message: `A cluster profile named ${existing.name} with version ${existing.version} already exists; kept it.`,
      };
    }
    this.seq += 1;
    const stored: StoredProfile = {
      uid: `profile-${this.seq}`,
      name: name.trim(),
      version: version.trim(),
      description: description.trim(),
      published: publish,
      layers: layers.map((l) => ({ ...l })),
    };
    this.profiles.push(stored);
    return {
      uid: stored.uid,
      name: stored.name,
      version: stored.version,
      created: true,
      published: publish,
      message: publish
        ? `Created and published the cluster profile ${stored.name} ${stored.version}.`
        : `Created the cluster profile ${stored.name} ${stored.version} as a draft.`,
    };
  }

  private pack(name: string, registryUid: string, version: string): FakePack {
    const pack = CATALOGUE.find((p) => p.name === name && p.registryUid === registryUid);
    if (!pack) throw invalid(`The pack ${name} is not offered for the nutanix cloud type in that registry. Choose it again from the list.`, "packName");
    if (!pack.versions.includes(version)) {
      throw invalid(`The pack ${name} has no version ${version} in that registry; it has ${pack.versions.join(", ")}.`, "version");
    }
    return pack;
  }

  private find(name: string, version: string): StoredProfile | undefined {
    return this.profiles.find((p) => p.name === name && p.version === version);
  }

  private byUid(uid: string): StoredProfile {
    const p = this.profiles.find((q) => q.uid === uid);
    if (!p) throw { code: "not_found", message: "That cluster profile is no longer in Palette. Refresh the list of profiles." } satisfies IpcError;
    return p;
  }
}
