import { describe, expect, it } from "vitest";
import type { EnvironmentConfig, IpcError } from "../bindings";
import { fakeCertificate, FakeSetup } from "./fake-setup";
import { FakeServer } from "./fake-server";

function config(patch: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return {
    id: "",
    name: "Lab Frankfurt",
    palette: { url: "https://api.spectrocloud.com", tls: { mode: "system" } },
    prism: { address: "pc.lab.example", port: 9440, auth: "basic", username: "admin", tls: { mode: "system" } },
    proxy: { mode: "system" },
    ...patch,
  };
}

function thrown(fn: () => unknown): IpcError {
  try {
    fn();
  } catch (e) {
    return e as IpcError;
  }
  throw new Error("expected an IpcError");
}

describe("FakeSetup answers like the engine", () => {
  it("makes readable unique ids from names and refuses a second environment with the same name", () => {
    const setup = new FakeSetup();
    setup.environments.clear();
    expect(setup.save({ config: config({ name: "  Lab  Frankfurt! " }), secrets: {}, activate: false }).config.id).toBe("lab-frankfurt");
    expect(setup.save({ config: config({ name: "Lab Frankfurt 2" }), secrets: {}, activate: false }).config.id).toBe("lab-frankfurt-2");
    const dup = thrown(() => setup.save({ config: config({ name: "LAB  FRANKFURT!" }), secrets: {}, activate: false }));
    expect(dup).toMatchObject({ code: "invalid_input", details: { field: "name" } });
    expect(setup.save({ config: config({ name: "Sandbox" }), secrets: {}, activate: false }).config.id).toBe("environment");
    expect(thrown(() => setup.delete({ id: "sandbox" })).code).toBe("invalid_input");
    expect(thrown(() => setup.get({ id: "nope" })).code).toBe("not_found");
  });

  it("checks settings before writing anything", () => {
    const setup = new FakeSetup();
    const before = setup.environments.size;
    const pin = thrown(() => setup.save({ config: config({ prism: { ...config().prism, tls: { mode: "pinned", pinnedSha256: "12:34" } } }), secrets: {}, activate: false }));
    expect(pin.details).toEqual({ field: "Prism Central certificate fingerprint" });
    const proxy = thrown(() => setup.save({ config: config({ proxy: { mode: "explicit", url: "proxy:3128" } }), secrets: {}, activate: false }));
    expect(proxy.details).toEqual({ field: "proxy" });
    expect(thrown(() => setup.save({ config: config({ prism: { ...config().prism, port: 0 } }), secrets: {}, activate: false })).details).toEqual({ field: "prismPort" });
    expect(setup.environments.size).toBe(before);
  });

  it("saves nothing when typed secrets meet an unusable store, and keeps saved secrets when none are typed", () => {
    const setup = new FakeSetup();
    setup.environments.clear();
    setup.useSecretStore("needs_fallback");
    const refused = thrown(() => setup.save({ config: config(), secrets: { prismPassword: "pw-123456" }, activate: false }));
    expect(refused).toMatchObject({ code: "keyring_unavailable", details: { fallback: "encrypted_file" } });
    expect(setup.environments.has("lab-frankfurt")).toBe(false);

    expect(thrown(() => setup.unlock({ passphrase: "short" }))).toMatchObject({ code: "invalid_input" });
    expect(setup.unlock({ passphrase: "correct horse battery" })).toMatchObject({ state: "ready", backend: "encrypted_file", fileExists: true });
    const saved = setup.save({ config: config(), secrets: { prismPassword: "pw-123456", paletteApiKey: "  " }, activate: false });
    expect(saved.saved).toEqual({ paletteApiKey: false, prismPassword: true, prismApiKey: false, sysadminPassword: false });
    expect(setup.save({ config: saved.config, secrets: {}, activate: false }).saved.prismPassword).toBe(true);
    // The value itself never comes back.
    expect(JSON.stringify(setup.get({ id: "lab-frankfurt" }))).not.toContain("pw-123456");
  });

  it("opens an existing file only with its passphrase", () => {
    const setup = new FakeSetup();
    setup.useSecretStore("locked", "open sesame please");
    expect(setup.status()).toMatchObject({ state: "locked", backend: null, fileExists: true });
    expect(thrown(() => setup.unlock({ passphrase: "open sesame" })).code).toBe("unauthorized");
    expect(setup.unlock({ passphrase: "open sesame please" }).state).toBe("ready");
    setup.useSecretStore("keyring");
    expect(thrown(() => setup.unlock({ passphrase: "whatever-long" })).code).toBe("conflict");
  });

  it("diagnoses by input: self-signed until pinned, a pin mismatch, a private CA, DNS, refused, Prism Element", () => {
    const setup = new FakeSetup();
    const secrets = { prismPassword: "pw", paletteApiKey: "key" };
    const prism = (address: string, tls: EnvironmentConfig["prism"]["tls"] = { mode: "system" }) =>
      setup.test({ service: "prism_central", config: config({ prism: { ...config().prism, address, tls } }), secrets }).diagnosis;
    const failing = (d: ReturnType<typeof prism>) => d.steps.find((s) => s.outcome === "fail");

    const selfSigned = prism("pc.selfsigned.lab");
    expect(failing(selfSigned)).toMatchObject({ step: "tls", code: "tls_self_signed", data: { kind: "certificate", selfSigned: true } });
    expect(selfSigned.summary).toBe("The certificate is self-signed");
    const sha = fakeCertificate("pc.selfsigned.lab", "self_signed").sha256Colons;
    expect(prism("pc.selfsigned.lab", { mode: "pinned", pinnedSha256: sha }).verdict).toBe("pass");
    expect(failing(prism("pc.selfsigned.lab", { mode: "pinned", pinnedSha256: "ab".repeat(32) }))?.code).toBe("tls_pin_mismatch");
    expect(prism("pc.selfsigned.lab", { mode: "insecure" }).verdict).toBe("pass");
    expect(failing(prism("pc.internal-ca.lab"))?.code).toBe("tls_unknown_ca");
    expect(prism("pc.internal-ca.lab", { mode: "ca_bundle", caBundlePath: "/etc/pki/internal-ca.pem" }).verdict).toBe("pass");
    expect(failing(prism("pc.nxdomain.lab"))?.step).toBe("dns");
    expect(failing(prism("refused.lab"))?.code).toBe("tcp_refused");
    expect(failing(prism("pe-cluster1.lab"))?.code).toBe("product_prism_element");
    const cleaned = prism("https://pc.lab.example:9441/console/");
    expect(cleaned.target).toBe("https://pc.lab.example:9441");
    expect(cleaned.steps[0]).toMatchObject({ step: "address", outcome: "warn", code: "address_normalized" });
  });

  it("reads saved secrets for a saved environment's test, and asks for missing ones at their field", () => {
    const setup = new FakeSetup();
    const lab = setup.get({ id: "lab-fra" }).config;
    const withSaved = setup.test({ service: "palette", config: lab, secrets: {} });
    expect(withSaved.projects.map((p) => p.name)).toEqual(["Default", "nutanix-lab", "edge-team"]);
    expect(withSaved.diagnosis.steps.find((s) => s.step === "projects")?.title).toContain('Project "nutanix-lab" is available');
    const missing = thrown(() => setup.test({ service: "palette", config: config(), secrets: {} }));
    expect(missing).toMatchObject({ code: "invalid_input", details: { field: "paletteApiKey" } });
    const bad = setup.test({ service: "palette", config: config(), secrets: { paletteApiKey: "bad" } });
    expect(bad.projects).toEqual([]);
    expect(bad.diagnosis.steps.find((s) => s.step === "auth")).toMatchObject({ outcome: "fail", code: "auth_rejected" });
  });
});

describe("FakeServer environment commands", () => {
  it("activates on save when asked, and a deleted active environment falls back to the sandbox", () => {
    const server = new FakeServer({ seedActivity: 0 });
    const detail = server.handle("environment_save", {
      config: config({ name: "Lab Berlin", prism: { ...config().prism, address: "pc.berlin.example" } }),
      secrets: { prismPassword: "pw", paletteApiKey: "key" },
      activate: true,
    });
    expect(detail.config.id).toBe("lab-berlin");
    const status = server.handle("status_get", {});
    expect(status.environment.id).toBe("lab-berlin");
    expect(status.prism.state).toBe("ok");
    expect(server.handle("environment_delete", { id: "lab-berlin" }).activeId).toBe("sandbox");
    expect(server.handle("status_get", {}).environment.id).toBe("sandbox");
  });
});
