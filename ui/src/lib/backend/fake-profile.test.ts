import { describe, expect, it } from "vitest";
import type { IpcError, PackLayer, ProfileLayerInput } from "../bindings";
import { FakeProfile } from "./fake-profile";

function thrown(fn: () => unknown): IpcError {
  try {
    fn();
  } catch (error) {
    return error as IpcError;
  }
  throw new Error("expected the call to fail");
}

function layers(fake: FakeProfile, k8sVersion = "1.30.6"): ProfileLayerInput[] {
  const first = (layer: PackLayer) => fake.packsByLayer({ layer }).packs[0];
  return (["os", "k8s", "cni", "csi"] as const).map((layer) => {
    const pack = first(layer);
    return { layer, registryUid: pack.registryUid, packName: pack.name, version: layer === "k8s" ? k8sVersion : pack.versions[0], values: "" };
  });
}

describe("FakeProfile", () => {
  it("offers nutanix-csi for CSI and lists the custom registry", () => {
    const fake = new FakeProfile();
    expect(fake.packsByLayer({ layer: "csi" }).packs.map((p) => p.name)).toContain("nutanix-csi");
    expect(fake.packRegistries().registries.filter((r) => r.custom).map((r) => r.name)).toEqual(["capstan-custom-packs"]);
  });

  it("creates once, says the name is taken, and adds versions under the same name", () => {
    const fake = new FakeProfile();
    const request = { name: "ntx", version: "1.0.0", description: "", layers: layers(fake), publish: true };
    const first = fake.profileCreate(request);
    expect(first.created).toBe(true);
    expect(fake.profileNameCheck({ name: "ntx", version: "1.0.0" }).available).toBe(false);
    const again = fake.profileCreate(request);
    expect(again).toMatchObject({ created: false, uid: first.uid });
    const next = fake.profileNewVersion({ uid: first.uid, version: "1.1.0", description: "", layers: layers(fake, "1.31.4"), publish: false });
    expect(next.created).toBe(true);
    expect(fake.profilesList().profiles).toEqual([{ name: "ntx", versions: [{ uid: first.uid, version: "1.0.0" }, { uid: next.uid, version: "1.1.0" }] }]);
  });

  it("refuses a profile without a CSI layer or with an unknown version", () => {
    const fake = new FakeProfile();
    const noCsi = layers(fake).filter((l) => l.layer !== "csi");
    expect(thrown(() => fake.profileCreate({ name: "ntx", version: "1.0.0", description: "", layers: noCsi, publish: false })).details).toEqual({ field: "layers" });
    expect(thrown(() => fake.profileCreate({ name: "ntx", version: "1.0.0", description: "", layers: layers(fake, "0.9.0"), publish: false })).details).toEqual({ field: "version" });
    expect(fake.profilesList().profiles).toEqual([]);
  });
});
