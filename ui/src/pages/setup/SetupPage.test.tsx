import { screen, waitFor, within } from "@testing-library/react";
import type { UserEvent } from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { SaveEnvironmentRequest } from "../../lib/bindings";
import { fakeCertificate, FAKE_PROJECTS, NO_KEYRING_REASON, applySetupInit } from "../../lib/backend/fake-setup";
import { MockBackend } from "../../lib/backend/mock";
import { renderApp } from "../../test/render";

function firstRunBackend(init: Parameters<typeof applySetupInit>[1] = {}): MockBackend {
  const backend = new MockBackend();
  applySetupInit(backend.server, { firstRun: true, ...init });
  return backend;
}

async function startConnecting(user: UserEvent) {
  await user.click(await screen.findByTestId("setup-connect-real"));
  return screen.findByTestId("env-form");
}

/** Types a complete new environment (Palette SaaS, Prism Central with a password). */
async function fillForm(
  user: UserEvent,
  { name = "Lab Berlin", key = "good-key", address = "pc.berlin.example.net", username = "admin", password = "pw-123456" } = {},
) {
  await user.type(screen.getByTestId("env-name"), name);
  await user.type(screen.getByTestId("palette-api-key"), key);
  await user.type(screen.getByTestId("prism-address"), address);
  await user.type(screen.getByTestId("prism-username"), username);
  await user.type(screen.getByTestId("prism-password"), password);
}

function diagnosisOf(service: "palette" | "prismCentral"): HTMLElement {
  const found = screen.getAllByTestId("diagnosis").find((d) => d.dataset.service === service);
  if (!found) throw new Error(`no ${service} diagnosis shown`);
  return found;
}

function stepOf(diagnosis: HTMLElement, step: string): HTMLElement {
  const found = within(diagnosis)
    .getAllByTestId("diagnosis-step")
    .find((s) => s.dataset.step === step);
  if (!found) throw new Error(`no ${step} step`);
  return found;
}

describe("Setup page", () => {
  it("welcomes a first-time user with the sandbox or a real environment, and the sandbox leads to the workflow", async () => {
    const backend = firstRunBackend();
    const { user } = await renderApp({ backend });
    const welcome = await screen.findByTestId("setup-welcome");
    expect(within(welcome).getByTestId("setup-explore-sandbox")).toHaveTextContent(/no account/i);
    expect(within(welcome).getByTestId("setup-connect-real")).toBeInTheDocument();
    await user.click(within(welcome).getByTestId("setup-explore-sandbox"));
    await waitFor(() => expect(window.location.hash).toBe("#/workflow"));
  });

  it("shows the environment list, not the welcome, once a real environment exists", async () => {
    await renderApp();
    const rows = await screen.findAllByTestId("env-row");
    expect(rows.map((r) => r.dataset.id)).toEqual(["sandbox", "lab-fra"]);
    expect(screen.queryByTestId("setup-welcome")).not.toBeInTheDocument();
    // The built-in sandbox can be activated but not edited or deleted.
    expect(within(rows[0]).queryByTestId("env-edit")).not.toBeInTheDocument();
    expect(within(rows[1]).getByTestId("env-edit")).toBeInTheDocument();
    expect(screen.getByTestId("secret-store-status")).toHaveTextContent("Saved in the system keyring");
  });

  it("fills the project picker from the Palette test and sends the chosen project with the save", async () => {
    const backend = firstRunBackend();
    const { user } = await renderApp({ backend });
    await startConnecting(user);
    await fillForm(user);
    expect(screen.getByTestId("palette-project")).toBeDisabled();
    await user.click(screen.getByTestId("test-palette"));
    const palette = await waitFor(() => diagnosisOf("palette"));
    expect(palette).toHaveAttribute("data-verdict", "pass");
    expect(stepOf(palette, "projects")).toHaveAttribute("data-outcome", "pass");
    const picker = screen.getByTestId("palette-project");
    expect(picker).toBeEnabled();
    expect(within(picker).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose a project…", ...FAKE_PROJECTS.map((p) => p.name)]);
    await user.selectOptions(picker, "nutanix-lab");

    await user.click(screen.getByTestId("env-save"));
    await screen.findByTestId("setup-saved");
    const request = backend.callsOf("environment_save")[0] as SaveEnvironmentRequest;
    expect(request.config.palette).toMatchObject({ url: "https://api.spectrocloud.com", projectUid: FAKE_PROJECTS[1].uid, projectName: "nutanix-lab" });
    expect(request.config.id).toBe("");
    expect(request.secrets).toEqual({ paletteApiKey: "good-key", prismPassword: "pw-123456" });
  });

  it("shows a self-signed certificate in the diagnosis; trusting it pins its fingerprint and the next test passes", async () => {
    const backend = firstRunBackend();
    const { user } = await renderApp({ backend });
    await startConnecting(user);
    await fillForm(user, { address: "pc.selfsigned.lab" });
    await user.click(screen.getByTestId("test-prism"));
    const prism = await waitFor(() => diagnosisOf("prismCentral"));
    expect(prism).toHaveAttribute("data-verdict", "fail");
    const tls = stepOf(prism, "tls");
    expect(tls).toHaveAttribute("data-outcome", "fail");
    expect(tls).toHaveAttribute("data-code", "tls_self_signed");
    // Later steps were not run, and say so.
    expect(stepOf(prism, "auth")).toHaveAttribute("data-outcome", "skipped");
    const cert = fakeCertificate("pc.selfsigned.lab", "self_signed");
    expect(within(tls).getByTestId("cert-fingerprint")).toHaveTextContent(cert.sha256Colons);
    expect(within(tls).getByTestId("cert-subject")).toHaveTextContent("CN=pc.selfsigned.lab");
    expect(within(tls).getByTestId("diagnosis-fix")).toHaveTextContent("Trust this certificate");

    await user.click(within(tls).getByTestId("trust-certificate"));
    expect(screen.getByTestId("tls-mode-prism")).toHaveValue("pinned");
    expect(screen.getByTestId("pin-prism")).toHaveValue(cert.sha256);
    expect(screen.getByTestId("diagnosis-stale")).toBeInTheDocument();
    expect(within(diagnosisOf("prismCentral")).getByTestId("certificate-pinned")).toBeInTheDocument();

    await user.click(screen.getByTestId("test-prism"));
    await waitFor(() => expect(diagnosisOf("prismCentral")).toHaveAttribute("data-verdict", "pass"));
    expect(screen.queryByTestId("diagnosis-stale")).not.toBeInTheDocument();
    const sent = backend.callsOf("connection_test").at(-1) as { config: SaveEnvironmentRequest["config"] };
    expect(sent.config.prism.tls).toEqual({ mode: "pinned", pinnedSha256: cert.sha256 });
  });

  it("tells bad credentials apart: Prism 401, Palette 401, and a Prism Element given as Prism Central", async () => {
    const { user } = await renderApp({ backend: firstRunBackend() });
    await startConnecting(user);
    await fillForm(user, { key: "bad", password: "wrong" });
    await user.click(screen.getByTestId("test-prism"));
    const prism = await waitFor(() => diagnosisOf("prismCentral"));
    const auth = stepOf(prism, "auth");
    expect(auth).toHaveAttribute("data-outcome", "fail");
    expect(auth).toHaveTextContent("Prism Central rejected the credentials");
    expect(auth).toHaveTextContent("HTTP 401");
    expect(stepOf(prism, "tls")).toHaveAttribute("data-outcome", "pass");

    await user.click(screen.getByTestId("test-palette"));
    const palette = await waitFor(() => diagnosisOf("palette"));
    expect(stepOf(palette, "auth")).toHaveTextContent("Palette rejected the API key");
    expect(stepOf(palette, "projects")).toHaveAttribute("data-outcome", "skipped");
    expect(screen.getByTestId("palette-project")).toBeDisabled();

    const address = screen.getByTestId("prism-address");
    await user.clear(address);
    await user.type(address, "pe-cluster1.lab");
    await user.clear(screen.getByTestId("prism-password"));
    await user.type(screen.getByTestId("prism-password"), "right");
    await user.click(screen.getByTestId("test-prism"));
    await waitFor(() => expect(stepOf(diagnosisOf("prismCentral"), "product")).toHaveAttribute("data-outcome", "fail"));
    expect(stepOf(diagnosisOf("prismCentral"), "product")).toHaveTextContent("This is a Prism Element, not Prism Central");
  });

  it("shows backend field errors at the field and keeps everything typed", async () => {
    const backend = firstRunBackend();
    const { user } = await renderApp({ backend });
    await startConnecting(user);
    await fillForm(user, { name: "   " });
    await user.click(screen.getByTestId("env-save"));
    expect(await screen.findByTestId("env-name-error")).toHaveTextContent("Give the environment a name");
    expect(screen.getByTestId("env-name")).toHaveAttribute("aria-invalid", "true");
    // Nothing typed was lost, secrets included.
    expect(screen.getByTestId("prism-address")).toHaveValue("pc.berlin.example.net");
    expect(screen.getByTestId("palette-api-key")).toHaveValue("good-key");
    expect(screen.getByTestId("prism-password")).toHaveValue("pw-123456");
    expect(backend.server.environments.map((e) => e.id)).toEqual(["sandbox"]);

    // Testing Prism without a password is refused at the password field.
    await user.clear(screen.getByTestId("prism-password"));
    await user.clear(screen.getByTestId("env-name"));
    await user.type(screen.getByTestId("env-name"), "Lab Berlin");
    expect(screen.queryByTestId("env-name-error")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("test-prism"));
    expect(await screen.findByTestId("prism-password-error")).toHaveTextContent("username and password");

    // A malformed proxy is refused by the backend at the proxy field.
    await user.selectOptions(screen.getByTestId("proxy-mode"), "explicit");
    await user.type(screen.getByTestId("proxy-url"), "proxy.example.com:3128");
    await user.click(screen.getByTestId("env-save"));
    expect(await screen.findByTestId("proxy-url-error")).toHaveTextContent("is not a proxy address");
    // A port the backend cannot take is caught before sending.
    const calls = backend.callsOf("environment_save").length;
    await user.clear(screen.getByTestId("prism-port"));
    await user.type(screen.getByTestId("prism-port"), "99999");
    await user.click(screen.getByTestId("env-save"));
    expect(await screen.findByTestId("prism-port-error")).toHaveTextContent("1 to 65535");
    expect(backend.callsOf("environment_save")).toHaveLength(calls);
  });

  it("shows why a test could not run without losing the form", async () => {
    const backend = firstRunBackend();
    const { user } = await renderApp({ backend });
    await startConnecting(user);
    await fillForm(user);
    backend.fail("connection_test", { code: "internal", message: "The diagnosis task panicked." });
    await user.click(screen.getByTestId("test-prism"));
    expect(await screen.findByTestId("test-error-prism")).toHaveTextContent("The diagnosis task panicked.");
    expect(screen.getByTestId("env-name")).toHaveValue("Lab Berlin");
  });

  it("saves, activates and lists the new environment; the status bar shows it", async () => {
    const backend = firstRunBackend();
    const { user } = await renderApp({ backend });
    await startConnecting(user);
    await fillForm(user, { name: "Lab Berlin" });
    expect(screen.getByTestId("env-activate-after-save")).toBeChecked();
    await user.click(screen.getByTestId("env-save"));
    expect(await screen.findByTestId("setup-saved")).toHaveTextContent("Saved “Lab Berlin”. Its credentials are in the system keyring. It is now the active environment.");
    await waitFor(() => expect(screen.getByTestId("status-environment-name")).toHaveTextContent("Lab Berlin"));
    const row = (await screen.findAllByTestId("env-row")).find((r) => r.dataset.id === "lab-berlin");
    expect(row).toHaveAttribute("data-active", "true");

    // A second environment with the same name (any case) is refused at the name field.
    await user.click(screen.getByTestId("env-add"));
    await fillForm(user, { name: "lab berlin" });
    await user.click(screen.getByTestId("env-save"));
    expect(await screen.findByTestId("env-name-error")).toHaveTextContent("Another environment already has this name");
  });

  it("edits a saved environment without echoing its secrets, keeps them when left blank, and deletes it", async () => {
    const backend = new MockBackend();
    const { user } = await renderApp({ backend });
    const row = (await screen.findAllByTestId("env-row")).find((r) => r.dataset.id === "lab-fra")!;
    await user.click(within(row).getByTestId("env-edit"));
    const form = await screen.findByTestId("env-form");
    expect(screen.getByTestId("env-name")).toHaveValue("Lab Frankfurt");
    expect(screen.getByTestId("palette-kind-self_hosted")).toHaveAttribute("aria-checked", "true");
    expect(screen.getByTestId("palette-url")).toHaveValue("https://palette.lab.example.net");
    expect(screen.getByTestId("palette-project")).toHaveValue(FAKE_PROJECTS[1].uid);
    // Saved secrets show as badges; their fields are empty password inputs.
    expect(within(form).getByTestId("saved-palette-api-key")).toBeInTheDocument();
    expect(within(form).getByTestId("saved-prism-password")).toBeInTheDocument();
    for (const id of ["palette-api-key", "prism-password"]) {
      expect(screen.getByTestId(id)).toHaveAttribute("type", "password");
      expect(screen.getByTestId(id)).toHaveValue("");
    }
    expect(form.textContent).not.toContain("seeded-lab");

    // Testing with the saved credentials works without retyping them.
    await user.click(screen.getByTestId("test-palette"));
    await waitFor(() => expect(diagnosisOf("palette")).toHaveAttribute("data-verdict", "pass"));
    expect(backend.callsOf("connection_test")[0]).toMatchObject({ secrets: {} });

    await user.clear(screen.getByTestId("env-name"));
    await user.type(screen.getByTestId("env-name"), "Lab Frankfurt 2");
    expect(screen.getByTestId("env-activate-after-save")).not.toBeChecked();
    await user.click(screen.getByTestId("env-save"));
    await screen.findByTestId("setup-saved");
    const request = backend.callsOf("environment_save")[0] as SaveEnvironmentRequest;
    expect(request.config.id).toBe("lab-fra");
    expect(request.secrets).toEqual({});
    expect(backend.server.setup.get({ id: "lab-fra" }).saved).toMatchObject({ paletteApiKey: true, prismPassword: true });
    expect(screen.getAllByTestId("env-row-name").map((n) => n.textContent)).toEqual(["Local sandbox", "Lab Frankfurt 2"]);

    const edited = screen.getAllByTestId("env-row").find((r) => r.dataset.id === "lab-fra")!;
    await user.click(within(edited).getByTestId("env-delete"));
    await user.click(within(edited).getByTestId("env-delete-confirm"));
    // With no real environment left, the page starts over at the welcome.
    expect(await screen.findByTestId("setup-welcome")).toBeInTheDocument();
    expect(backend.callsOf("environment_delete")).toEqual([{ id: "lab-fra" }]);
    expect(backend.server.environments.map((e) => e.id)).toEqual(["sandbox"]);
  });

  it("without a keyring: says so, saves nothing, and saves after the user chooses an encrypted file", async () => {
    const backend = firstRunBackend({ secretStore: "needs_fallback" });
    const { user } = await renderApp({ backend });
    await startConnecting(user);
    const store = await screen.findByTestId("secret-store-status");
    await waitFor(() => expect(store).toHaveAttribute("data-state", "needs_fallback"));
    expect(screen.getByTestId("secret-store-reason")).toHaveTextContent(NO_KEYRING_REASON);
    expect(screen.getByTestId("secret-fallback")).toHaveTextContent("Use an encrypted file");
    expect(screen.queryByTestId("passphrase")).not.toBeInTheDocument();

    await fillForm(user);
    await user.click(screen.getByTestId("env-save"));
    expect(await screen.findByTestId("save-blocked")).toHaveTextContent("Not saved yet. Nothing was written.");
    expect(backend.server.environments.map((e) => e.id)).toEqual(["sandbox"]);
    expect(backend.callsOf("secret_store_unlock")).toHaveLength(0);

    // The passphrase is checked before it is sent: long enough, typed twice the same.
    await user.type(screen.getByTestId("passphrase"), "short");
    await user.type(screen.getByTestId("passphrase-confirm"), "short");
    await user.click(screen.getByTestId("secret-unlock"));
    expect(await screen.findByTestId("passphrase-error")).toHaveTextContent("at least 8 characters");
    await user.clear(screen.getByTestId("passphrase"));
    await user.type(screen.getByTestId("passphrase"), "correct horse battery");
    await user.click(screen.getByTestId("secret-unlock"));
    expect(await screen.findByTestId("passphrase-confirm-error")).toHaveTextContent("differ");
    expect(backend.callsOf("secret_store_unlock")).toHaveLength(0);
    await user.clear(screen.getByTestId("passphrase-confirm"));
    await user.type(screen.getByTestId("passphrase-confirm"), "correct horse battery");
    await user.click(screen.getByTestId("secret-unlock"));

    // The blocked save is finished once the file is ready.
    expect(await screen.findByTestId("setup-saved")).toHaveTextContent("encrypted file at /home/operator/.local/share/io.capstan.app/secrets.enc");
    expect(backend.callsOf("secret_store_unlock")).toEqual([{ passphrase: "correct horse battery" }]);
    expect(backend.server.environments.map((e) => e.id)).toEqual(["sandbox", "lab-berlin"]);
    expect(backend.server.setup.get({ id: "lab-berlin" }).saved).toMatchObject({ paletteApiKey: true, prismPassword: true });
    expect(screen.getByTestId("secret-store-status")).toHaveAttribute("data-backend", "encrypted_file");
  });

  it("asks for the passphrase of a locked secrets file and explains a wrong one", async () => {
    const backend = new MockBackend();
    backend.server.setup.useSecretStore("locked", "open sesame please");
    const { user } = await renderApp({ backend });
    const store = await screen.findByTestId("secret-store-status");
    await waitFor(() => expect(store).toHaveAttribute("data-state", "locked"));
    expect(screen.queryByTestId("passphrase-confirm")).not.toBeInTheDocument();
    await user.type(screen.getByTestId("passphrase"), "open sesame");
    await user.click(screen.getByTestId("secret-unlock"));
    expect(await screen.findByTestId("passphrase-error")).toHaveTextContent("does not unlock the secrets file");
    // The wrong passphrase is not kept around either way; the field still holds it for correction.
    await user.clear(screen.getByTestId("passphrase"));
    await user.type(screen.getByTestId("passphrase"), "open sesame please");
    await user.click(screen.getByTestId("secret-unlock"));
    await waitFor(() => expect(screen.getByTestId("secret-store-status")).toHaveAttribute("data-state", "ready"));
    expect(screen.getByTestId("secret-store-location")).toHaveTextContent("encrypted file at");
    expect(screen.queryByTestId("passphrase")).not.toBeInTheDocument();
  });

  it("shows saved secrets of an environment edited while the file was locked once it is unlocked", async () => {
    const backend = new MockBackend();
    backend.server.setup.useSecretStore("locked", "open sesame please");
    const { user } = await renderApp({ backend });
    const row = (await screen.findAllByTestId("env-row")).find((r) => r.dataset.id === "lab-fra")!;
    await user.click(within(row).getByTestId("env-edit"));
    const form = await screen.findByTestId("env-form");
    expect(within(form).queryByTestId("saved-prism-password")).not.toBeInTheDocument();
    await user.type(within(form).getByTestId("passphrase"), "open sesame please");
    await user.click(within(form).getByTestId("secret-unlock"));
    expect(await within(form).findByTestId("saved-prism-password")).toBeInTheDocument();
    expect(within(form).getByTestId("saved-palette-api-key")).toBeInTheDocument();
  });

  it("marks insecure TLS as dangerous and only when chosen", async () => {
    const { user } = await renderApp({ backend: firstRunBackend() });
    await startConnecting(user);
    expect(screen.getByTestId("tls-mode-prism")).toHaveValue("system");
    expect(screen.queryByTestId("tls-insecure-prism")).not.toBeInTheDocument();
    await user.selectOptions(screen.getByTestId("tls-mode-prism"), "insecure");
    expect(screen.getByTestId("tls-insecure-prism")).toHaveTextContent("Certificates are not checked");
    expect(screen.queryByTestId("tls-insecure-palette")).not.toBeInTheDocument();
  });

  it("offers the system admin only for a self-hosted Palette", async () => {
    const backend = firstRunBackend();
    const { user } = await renderApp({ backend });
    await startConnecting(user);
    expect(screen.getByTestId("palette-url")).toHaveValue("https://api.spectrocloud.com");
    expect(screen.queryByTestId("palette-sysadmin-username")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("palette-kind-self_hosted"));
    await user.type(screen.getByTestId("palette-url"), "https://palette.corp.example");
    await user.type(screen.getByTestId("palette-sysadmin-username"), "admin");
    await user.type(screen.getByTestId("palette-sysadmin-password"), "sys-pass-1");
    await fillForm(user);
    await user.click(screen.getByTestId("env-save"));
    await screen.findByTestId("setup-saved");
    const request = backend.callsOf("environment_save")[0] as SaveEnvironmentRequest;
    expect(request.config.palette).toMatchObject({ url: "https://palette.corp.example", sysadminUsername: "admin" });
    expect(request.secrets.sysadminPassword).toBe("sys-pass-1");
  });
});
