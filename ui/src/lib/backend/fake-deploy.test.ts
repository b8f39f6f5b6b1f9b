import { describe, expect, it } from "vitest";
import type { CheckId, DeploySpec, IpcError, PackLayer, PreflightReport, ProfileLayerInput } from "../bindings";
import { FakeClusters } from "./fake-cluster";
import { FakeDeploy, flattenYaml } from "./fake-deploy";
import { FakeProfile } from "./fake-profile";

/** Records what FakeDeploy asks of the clusters half (implemented elsewhere). */
class RecordingClusters extends FakeClusters {
  readonly created: Array<{ name: string; spec: DeploySpec }> = [];
  override create(input: { name: string; spec: DeploySpec }): string {
    this.created.push(input);
    return `cluster-${this.created.length}`;
  }
  override findByName(name: string): string | undefined {
    const index = this.created.findIndex((c) => c.name === name);
    return index < 0 ? undefined : `cluster-${index + 1}`;
  }
}

function thrown(fn: () => unknown): IpcError {
  try {
    fn();
  } catch (error) {
    return error as IpcError;
  }
  throw new Error("expected the call to fail");
}

function layers(profiles: FakeProfile, k8s: string): ProfileLayerInput[] {
  return (["os", "k8s", "cni", "csi"] as PackLayer[]).map((layer) => {
    const pack = profiles.packsByLayer({ layer }).packs[0];
    return { layer, registryUid: pack.registryUid, packName: pack.name, version: layer === "k8s" ? k8s : pack.versions[0], values: "" };
  });
}

function setup() {
  const profiles = new FakeProfile();
  const clusters = new RecordingClusters();
  const fake = new FakeDeploy(clusters, profiles);
  const v1 = profiles.profileCreate({ name: "ntx-base", version: "1.0.0", description: "", layers: layers(profiles, "1.30.6"), publish: true });
  const v2 = profiles.profileNewVersion({ uid: v1.uid, version: "1.1.0", description: "", layers: layers(profiles, "1.31.4"), publish: true });
  profiles.profileCreate({ name: "draft-only", version: "0.1.0", description: "", layers: layers(profiles, "1.30.6"), publish: false });
  return { fake, clusters, profiles, v1, v2 };
}

/** A form filled from the pickers: pe-cluster-01, its vlan110 subnet, the first suggested VIP. */
function validSpec(fake: FakeDeploy, profileIndex = 0): DeploySpec {
  const options = fake.deployOptions();
  const profile = options.profiles[profileIndex];
  const pe = options.prismElements[0];
  const placement = fake.deployPlacement({ prismElementUuid: pe.uuid, kubernetesVersion: profile.kubernetesVersion ?? undefined });
  const subnet = placement.subnets.find((s) => s.name === "pe-cluster-01-vlan110")!;
  const image = placement.images.find((i) => i.matches)!;
  return {
    name: "edge-01",
    description: "",
    accountUid: options.accounts[0].uid,
    profileUid: profile.uid,
    layerValues: [],
    prismElement: { uuid: pe.uuid, name: pe.name, useUuid: !pe.nameUnique },
    subnets: [{ uuid: subnet.uuid, name: subnet.name, useUuid: !subnet.nameUnique }],
    image: { uuid: image.uuid, name: image.name, useUuid: !image.nameUnique },
    kubernetesVersion: profile.kubernetesVersion!,
    controlPlaneEndpoint: placement.vipCandidates[0],
    controlPlanePort: options.defaults.controlPlanePort,
    controlPlane: { ...options.defaults.controlPlane },
    workers: [{ ...options.defaults.worker }],
    sshPublicKey: options.sshKeys[0].publicKey,
    podCidr: options.defaults.podCidr,
    serviceCidr: options.defaults.serviceCidr,
  };
}

const outcome = (report: PreflightReport, id: CheckId) => report.checks.find((c) => c.id === id)!;

describe("FakeDeploy options and placement", () => {
  it("lists published profiles newest version first, with their Kubernetes version and layers", () => {
    const { fake, v1, v2 } = setup();
    const options = fake.deployOptions();
    expect(options.profiles.map((p) => [p.uid, p.version, p.kubernetesVersion])).toEqual([
      [v2.uid, "1.1.0", "1.31.4"],
      [v1.uid, "1.0.0", "1.30.6"],
    ]);
    expect(options.profiles[0].layers.map((l) => l.layer)).toEqual(["os", "k8s", "cni", "csi"]);
    expect(options.accounts[0].pcgState).toBe("Running");
    expect(options.defaults.controlPlane).toMatchObject({ replicas: 1, vcpuSockets: 2, vcpusPerSocket: 2, memoryGib: 4, diskGib: 40 });
    expect(options.defaults.worker.replicas).toBe(2);
    expect(options.prismElements.map((p) => p.name)).toEqual(["pe-cluster-01", "pe-cluster-02"]);
  });

  it("gives each Prism Element its own subnets, marks duplicate names, and sorts matching images first", () => {
    const { fake } = setup();
    const [pe1, pe2] = fake.deployOptions().prismElements;
    const one = fake.deployPlacement({ prismElementUuid: pe1.uuid, kubernetesVersion: "1.31.4" });
    const two = fake.deployPlacement({ prismElementUuid: pe2.uuid, kubernetesVersion: "v1.30.6" });
    expect(one.subnets.map((s) => s.name)).toEqual(["pe-cluster-01-vlan110", "pe-cluster-01-vlan120", "vm-network"]);
    expect(two.subnets.map((s) => s.name)).toEqual(["pe-cluster-02-vlan110", "pe-cluster-02-vlan120", "vm-network"]);
    expect(one.subnets.find((s) => s.name === "vm-network")?.nameUnique).toBe(false);
    expect(new Set(one.subnets.map((s) => s.uuid)).size).toBe(3);
    expect(one.subnets.some((s) => two.subnets.some((t) => t.uuid === s.uuid))).toBe(false);

    expect(one.images[0]).toMatchObject({ name: "capx-ubuntu-2204-kube-v1.31.4", matches: true });
    expect(one.images.filter((i) => i.matches).map((i) => i.name)).toEqual(["capx-ubuntu-2204-kube-v1.31.4", "capx-ubuntu-2404-kube-v1.31.4"]);
    expect(two.images.filter((i) => i.matches).map((i) => i.name)).toEqual(["capx-ubuntu-2204-kube-v1.30.5"]);
    expect(one.images.some((i) => i.name.endsWith(".iso"))).toBe(false);
    expect(one.images.find((i) => i.name === "capx-ubuntu-2204-kube-v1.29.10")?.nameUnique).toBe(false);
  });

  it("suggests VIPs inside the subnet but outside its pool, the gateway and addresses VMs hold", () => {
    const { fake } = setup();
    const pe1 = fake.deployOptions().prismElements[0];
    const placement = fake.deployPlacement({ prismElementUuid: pe1.uuid });
    expect(placement.vipCandidates[0]).toBe("10.64.0.2");
    expect(placement.vipCandidates).not.toContain("10.64.0.1");
    expect(placement.vipCandidates).not.toContain("10.64.0.3");
    expect(placement.vipCandidates.every((ip) => Number(ip.split(".")[3]) < 10)).toBe(true);
    const vlan120 = placement.subnets.find((s) => s.name === "pe-cluster-01-vlan120")!;
    const unmanaged = fake.deployPlacement({ prismElementUuid: pe1.uuid, subnetUuid: vlan120.uuid });
    expect(unmanaged.vipCandidates).toEqual([]);
    expect(unmanaged.vipNote).toContain("no Prism IPAM");
  });
});

describe("FakeDeploy YAML", () => {
  it("renders the spec's choices and reads edited pool YAML back into the form", () => {
    const { fake } = setup();
    const spec = validSpec(fake);
    const rendered = fake.deployRender(spec);
    expect(rendered.yaml.cluster).toContain(`host: ${spec.controlPlaneEndpoint}`);
    expect(rendered.yaml.controlPlane).toContain("replicas: 1");
    expect(rendered.yaml.workers[0]).toContain("name: pe-cluster-01-vlan110");
    expect(rendered.paletteFills).toContain("CLUSTER_NAME");

    const edited = rendered.yaml.workers[0].replace("replicas: 2", "replicas: 4").replace("memorySize: 4Gi", "memorySize: 8Gi").replace("bootType: legacy", "bootType: uefi");
    const back = fake.deployYamlReadBack({ spec, pool: { kind: "worker", index: 0 }, yaml: `${edited}      gpus: 1\n` });
    expect(back.spec.workers[0]).toMatchObject({ replicas: 4, memoryGib: 8, bootType: "uefi" });
    expect(back.changed.sort()).toEqual(["workers[0].bootType", "workers[0].memoryGib", "workers[0].replicas"]);
    expect(back.unmapped.map((u) => u.path)).toEqual(["NutanixMachineTemplate.spec.template.spec.gpus"]);
    expect(back.spec.controlPlane).toEqual(spec.controlPlane);
  });

  it("keeps what the form cannot hold in the YAML only, and refuses text that is not YAML", () => {
    const { fake } = setup();
    const spec = validSpec(fake);
    const yaml = fake.deployRender(spec).yaml.controlPlane;
    const even = fake.deployYamlReadBack({ spec, pool: { kind: "controlPlane" }, yaml: yaml.replace("replicas: 1", "replicas: 2") });
    expect(even.spec.controlPlane.replicas).toBe(1);
    expect(even.unmapped[0]).toMatchObject({ path: "KubeadmControlPlane.spec.replicas", value: "2" });
    const three = fake.deployYamlReadBack({ spec, pool: { kind: "controlPlane" }, yaml: yaml.replace("replicas: 1", "replicas: 3") });
    expect(three.spec.controlPlane.replicas).toBe(3);
    expect(three.changed).toEqual(["controlPlane.replicas"]);
    expect(thrown(() => fake.deployYamlReadBack({ spec, pool: { kind: "controlPlane" }, yaml: "spec:\n\treplicas: 3\n" })).code).toBe("invalid_input");
  });

  it("flattens sequences, nested keys and block scalars per document kind", () => {
    const flat = flattenYaml("kind: A\nspec:\n  list:\n  - x\n  - name: y\n    v: 2\n  text: |\n    a: 1\n    b\n---\nkind: B\nspec:\n  n: 1\n");
    expect(flat.get("A.spec.list[0]")).toBe("x");
    expect(flat.get("A.spec.list[1].v")).toBe("2");
    expect(flat.get("A.spec.text")).toBe("a: 1\nb");
    expect(flat.get("B.spec.n")).toBe("1");
  });
});

describe("FakeDeploy preflight", () => {
  it("passes all 13 checks for a form filled from the pickers", () => {
    const { fake } = setup();
    const report = fake.deployPreflight(validSpec(fake));
    expect(report.checks).toHaveLength(13);
    expect(report.checks.filter((c) => c.outcome !== "pass")).toEqual([]);
    expect(report).toMatchObject({ verdict: "pass", canDeploy: true });
    expect(Number(outcome(report, "subnets").waitedMs)).toBeGreaterThan(0);
  });

  it("fails the VIP checks for an address in the pool, one a VM holds, or a Prism address", () => {
    const { fake } = setup();
    const inPool = fake.deployPreflight({ ...validSpec(fake), controlPlaneEndpoint: "10.64.1.50" });
    expect(outcome(inPool, "vipInSubnet")).toMatchObject({ outcome: "fail", code: "vip_in_ip_pool" });
    expect(outcome(inPool, "vipInSubnet").fix).toContain("10.64.0.2");
    expect(inPool).toMatchObject({ verdict: "fail", canDeploy: false });

    const held = fake.deployPreflight({ ...validSpec(fake), controlPlaneEndpoint: "10.64.3.232" });
    expect(outcome(held, "vipInSubnet").outcome).toBe("pass");
    expect(outcome(held, "vipUnused")).toMatchObject({ outcome: "fail", code: "vip_in_use" });
    expect(outcome(held, "vipUnused").detail).toContain("demo-k8s");

    const pe = fake.deployPreflight({ ...validSpec(fake), controlPlaneEndpoint: "10.1.1.10" });
    expect(outcome(pe, "vipNotPrism")).toMatchObject({ outcome: "fail", code: "vip_is_prism_element" });
    expect(outcome(pe, "vipInSubnet").code).toBe("vip_outside_subnet");
  });

  it("fails an image for another Kubernetes minor, small nodes, overlapping CIDRs and a full subnet", () => {
    const { fake } = setup();
    const spec = validSpec(fake, 0); // Kubernetes 1.31.4
    const old = fake.deployPlacement({ prismElementUuid: spec.prismElement.uuid }).images.find((i) => i.name.includes("v1.29.10"))!;
    const mismatch = fake.deployPreflight({ ...spec, image: { uuid: old.uuid, name: old.name, useUuid: true } });
    expect(outcome(mismatch, "imageKubernetesVersion")).toMatchObject({ outcome: "fail", code: "image_kubernetes_mismatch" });
    expect(outcome(mismatch, "imageKubernetesVersion").fix).toContain("capx-ubuntu-2204-kube-v1.31.4");
    // The same image by name is ambiguous, and the version check then has nothing to read.
    const byName = fake.deployPreflight({ ...spec, image: { uuid: old.uuid, name: old.name, useUuid: false } });
    expect(outcome(byName, "image").code).toBe("image_ambiguous");
    expect(outcome(byName, "imageKubernetesVersion").outcome).toBe("skipped");

    const small = fake.deployPreflight({ ...spec, workers: [{ ...spec.workers[0], memoryGib: 1 }] });
    expect(outcome(small, "machineSizes")).toMatchObject({ outcome: "fail" });
    expect(outcome(small, "machineSizes").detail).toContain("minimum memorySize is 2048Mib but given 1024Mib");

    const overlap = fake.deployPreflight({ ...spec, serviceCidr: "172.20.128.0/17" });
    expect(outcome(overlap, "clusterNetworks")).toMatchObject({ outcome: "fail", code: "cluster_network_overlap" });
    const nodeOverlap = fake.deployPreflight({ ...spec, podCidr: "10.64.0.0/16" });
    expect(outcome(nodeOverlap, "clusterNetworks").detail).toContain("pe-cluster-01-vlan110");

    const vmNetwork = fake.deployPlacement({ prismElementUuid: spec.prismElement.uuid }).subnets.find((s) => s.name === "vm-network")!;
    const full = fake.deployPreflight({ ...spec, subnets: [{ uuid: vmNetwork.uuid, name: vmNetwork.name, useUuid: true }], controlPlaneEndpoint: "10.64.8.2" });
    expect(outcome(full, "subnetCapacity")).toMatchObject({ outcome: "fail", code: "subnet_addresses_exhausted" });
  });

  it("skips what depends on a Prism Element that is not there", () => {
    const { fake } = setup();
    const report = fake.deployPreflight({ ...validSpec(fake), prismElement: { uuid: "0006-gone", name: "pe-gone", useUuid: false } });
    expect(outcome(report, "prismElement").code).toBe("prism_element_not_found");
    for (const id of ["subnets", "vipInSubnet", "subnetCapacity", "prismElementCapacity", "clusterNetworks"] as const) {
      expect(outcome(report, id).outcome).toBe("skipped");
    }
    expect(outcome(report, "vipUnused").outcome).toBe("pass");
  });
});

describe("FakeDeploy cluster_deploy", () => {
  it("refuses with the preflight report when it fails, creates once, and finds the cluster on a retry", () => {
    const { fake, clusters } = setup();
    const spec = validSpec(fake);
    const refused = thrown(() => fake.clusterDeploy({ spec: { ...spec, controlPlaneEndpoint: "10.64.1.50" } }));
    expect(refused.code).toBe("preflight_failed");
    expect((refused.details as PreflightReport).canDeploy).toBe(false);
    expect(refused.message).toContain("inside the IP pool");
    expect(clusters.created).toEqual([]);

    const created = fake.clusterDeploy({ spec });
    expect(created).toMatchObject({ uid: "cluster-1", name: "edge-01", created: true });
    expect(clusters.created[0]).toMatchObject({ name: "edge-01", spec: { controlPlaneEndpoint: spec.controlPlaneEndpoint } });

    const again = fake.clusterDeploy({ spec });
    expect(again).toMatchObject({ uid: "cluster-1", created: false });
    expect(clusters.created).toHaveLength(1);

    // The new cluster now holds its VIP: another cluster may not take it.
    const second = thrown(() => fake.clusterDeploy({ spec: { ...spec, name: "edge-02" } }));
    expect(second.code).toBe("preflight_failed");
    expect(outcome(second.details as PreflightReport, "vipUnused").detail).toContain("edge-01");
    expect(fake.deployPlacement({ prismElementUuid: spec.prismElement.uuid }).vipCandidates).not.toContain(spec.controlPlaneEndpoint);
  });

  it("refuses a name Palette would not accept and an unpublished profile", () => {
    const { fake, profiles } = setup();
    expect(thrown(() => fake.clusterDeploy({ spec: { ...validSpec(fake), name: "Edge_01" } })).details).toEqual({ field: "name" });
    const draft = profiles.profilesList().profiles.find((p) => p.name === "draft-only")!.versions[0];
    expect(thrown(() => fake.clusterDeploy({ spec: { ...validSpec(fake), profileUid: draft.uid } })).details).toEqual({ field: "profileUid" });
  });
});
