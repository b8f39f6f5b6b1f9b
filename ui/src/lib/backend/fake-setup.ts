import type {
  CertificateData,
  ConnectionTestRequest,
  ConnectionTestResult,
  Diagnosis,
  EnvironmentConfig,
  EnvironmentDetail,
  EnvironmentIdRequest,
  EnvironmentSummary,
  ErrorCode,
  IpcError,
  Outcome,
  ProjectOption,
  SaveEnvironmentRequest,
  SecretsInput,
  SecretStoreStatus,
  ServiceHealth,
  Step,
  StepKind,
  TlsChoice,
  UnlockSecretFileRequest,
} from "../bindings";

/**
 * The setup half of the `FakeServer`: saved environments, the secret store and "Test
 * connection", answering like the Rust engine (crates/capstan-engine/src/setup.rs, vault.rs,
 * connection.rs and capstan-diagnose) so the mocked UI tests exercise real answers.
 *
 * "Test connection" is deterministic by input:
 * - a host containing `nxdomain` fails DNS; `refused` / `timeout` fail TCP;
 * - a host containing `selfsigned` (and the seeded lab's Prism Central) presents a
 *   self-signed certificate: TLS fails with the certificate unless the service pins that
 *   fingerprint (or is set to insecure); a pin of another fingerprint is a pin mismatch;
 * - a host containing `internal-ca` presents a certificate from a private CA: TLS fails
 *   unless a CA bundle whose path contains `internal-ca` is chosen (or it is pinned);
 * - a CA bundle path containing `missing` cannot be read (invalid_input, like the engine);
 * - a Prism host starting with `pe-` is a Prism Element: the product step fails;
 * - Prism password or API key `wrong` → 401; user `viewer` → 403;
 * - Palette API key `bad` → 401; `forbidden` → 403; `noprojects` → no projects (warn);
 *   `console.spectrocloud.com` → the console-URL mistake; any other key sees three projects.
 */

export type FakeSecretStoreKind = "keyring" | "memory" | "needs_fallback" | "locked";

/** What a Playwright test can ask for through `__CAPSTAN_MOCK_INIT__.setup`. */
export interface FakeSetupInit {
  /** Which secret store the app finds (default: the system keyring). */
  secretStore?: FakeSecretStoreKind;
  /** The passphrase of the existing encrypted file, for `locked` (default "correct horse battery"). */
  passphrase?: string;
  /** Start with only the sandbox, as on the very first run. */
  firstRun?: boolean;
}

export const SAAS_PALETTE_URL = "https://api.spectrocloud.com";
export const DEFAULT_FILE_PASSPHRASE = "correct horse battery";
export const SEEDED_LAB_ID = "lab-fra";
const SANDBOX_ID = "sandbox";
const MIN_PASSPHRASE_CHARS = 8;

/** The reason capstan-secrets gives when no Secret Service answers. */
export const NO_KEYRING_REASON =
  "No Secret Service is running on this desktop (gnome-keyring or KWallet). Start one, or use an encrypted file protected by a passphrase.";

export const FAKE_PROJECTS: readonly ProjectOption[] = [
  { uid: "6514a8c2f0e5b1a3c9d70001", name: "Default" },
  { uid: "6514a8c2f0e5b1a3c9d70002", name: "nutanix-lab" },
  { uid: "6514a8c2f0e5b1a3c9d70003", name: "edge-team" },
];

type SecretName = keyof SecretsInput;
const SECRET_NAMES: readonly SecretName[] = ["paletteApiKey", "prismPassword", "prismApiKey", "sysadminPassword"];

function invalid(field: string, message: string): IpcError {
  return { code: "invalid_input", message, details: { field } };
}

/** 64 lower-case hex digits that depend only on `text`: a stable stand-in for a SHA-256. */
export function fakeFingerprint(text: string): string {
  let out = "";
  let h = 0x811c9dc5;
  for (let round = 0; out.length < 64; round++) {
    for (const ch of `${text}#${round}`) {
      h ^= ch.charCodeAt(0);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 64);
}

function colons(hex: string): string {
  return (hex.match(/../g) ?? []).join(":").toUpperCase();
}

function normaliseFingerprint(input: string | undefined): string | null {
  const fp = (input ?? "").replace(/:/g, "").trim().toLowerCase();
  return fp.length === 64 && /^[0-9a-f]+$/.test(fp) ? fp : null;
}

/** The certificate a fake server at `host` presents. */
export function fakeCertificate(host: string, kind: "self_signed" | "private_ca" | "public"): CertificateData {
  const sha256 = fakeFingerprint(`${kind}:${host}`);
  const subject = `CN=${host}`;
  const issuer = kind === "self_signed" ? subject : kind === "private_ca" ? "CN=Example Internal Issuing CA 02, O=Example Corp" : "CN=R11, O=Let's Encrypt, C=US";
  return {
    subject,
    issuer,
    sans: kind === "self_signed" ? [host] : [host, `*.${host.split(".").slice(1).join(".") || host}`],
    notBefore: "2025-03-04T09:12:00Z",
    notAfter: kind === "self_signed" ? "2030-03-03T09:12:00Z" : "2026-12-30T09:12:00Z",
    sha256,
    sha256Colons: colons(sha256),
    selfSigned: kind === "self_signed",
    pem: `-----BEGIN CERTIFICATE-----\nMIIC${btoa(`${kind}:${host}`).replace(/=/g, "")}fakecertificatebody\n-----END CERTIFICATE-----\n`,
  };
}

function certificateKind(host: string): "self_signed" | "private_ca" | "public" {
  if (host.includes("selfsigned") || host === "pc.fra.lab.example.net") return "self_signed";
  if (host.includes("internal-ca")) return "private_ca";
  return "public";
}

/** `https://host:port` from the address and port fields, as connection::prism_address does. */
export function prismAddress(config: EnvironmentConfig): string {
  const address = config.prism.address.trim().replace(/\/+$/, "");
  const hasPort = /:\d+$/.test(address);
  const withScheme = address.includes("://") ? address : `https://${address}`;
  return hasPort ? withScheme : `${withScheme}:${config.prism.port}`;
}

/** Trims what was typed and checks what must be there, like the engine's `normalise`. */
function normalise(input: EnvironmentConfig): EnvironmentConfig {
  const config: EnvironmentConfig = structuredClone(input);
  config.name = config.name.trim();
  config.palette.url = config.palette.url.trim().replace(/\/+$/, "");
  config.prism.address = config.prism.address.trim();
  const username = config.prism.username?.trim();
  if (username) config.prism.username = username;
  else delete config.prism.username;
  if (!config.name) throw invalid("name", 'Give the environment a name, e.g. "Lab Frankfurt".');
  if (!config.palette.url) {
    throw invalid("paletteUrl", "Enter the Palette address: https://api.spectrocloud.com for SaaS, or your self-hosted Palette's address.");
  }
  if (!config.prism.address) throw invalid("prismAddress", "Enter the Prism Central address (host name or IP, without https://).");
  if (!config.prism.port) throw invalid("prismPort", "Enter the Prism Central port (9440 unless your Prism Central uses another).");
  return config;
}

/** The checks `connection::for_config` makes before anything is written or tested. */
function checkSettings(config: EnvironmentConfig): void {
  checkTls(config.palette.tls, "Palette");
  checkTls(config.prism.tls, "Prism Central");
  if (config.proxy.mode === "explicit") {
    const url = config.proxy.url?.trim() ?? "";
    if (!url) throw invalid("proxy", "Enter the proxy address, e.g. http://proxy.example.com:3128.");
    if (!/^https?:\/\//.test(url)) throw invalid("proxy", `"${url}" is not a proxy address. Use http://host:port or https://host:port.`);
  }
}

function checkTls(tls: TlsChoice, service: string): void {
  if (tls.mode === "pinned" && !normaliseFingerprint(tls.pinnedSha256)) {
    throw invalid(
      `${service} certificate fingerprint`,
      'A pinned certificate needs its SHA-256 fingerprint (64 hex digits). Test the connection and choose "Trust this certificate".',
    );
  }
  if (tls.mode === "ca_bundle") {
    const path = tls.caBundlePath?.trim() ?? "";
    if (!path) throw invalid(`${service} CA bundle`, "Choose the PEM file with your CA certificates.");
    if (path.includes("missing")) {
      throw invalid(
        `${service} CA bundle`,
        `The CA bundle ${path} could not be read (No such file or directory (os error 2)). Choose a PEM file that exists and is readable.`,
      );
    }
  }
}

/** A step, built like capstan-diagnose's `Step::new(...).detail(...).fix(...)`. */
function step(kind: StepKind, outcome: Outcome, code: string, title: string, more: Partial<Pick<Step, "detail" | "fix" | "data">> = {}): Step {
  return { step: kind, outcome, code, title, detail: more.detail ?? "", fix: more.fix ?? "", data: more.data ?? null };
}

const STEP_LABEL: Record<StepKind, string> = {
  address: "Address",
  dns: "Name resolution (DNS)",
  tcp: "Network connection (TCP)",
  tls: "Certificate (TLS)",
  http: "Web service (HTTP)",
  auth: "Credentials",
  product: "Product",
  version: "Version",
  projects: "Projects",
};

const OUTCOME_RANK: Record<Outcome, number> = { pass: 0, skipped: 1, warn: 2, fail: 3 };

/** Skips what was not reached, orders by plan and sets verdict and summary, like `Recorder::finish`. */
function finish(service: Diagnosis["service"], target: string, plan: StepKind[], steps: Step[]): Diagnosis {
  const failed = steps.find((s) => s.outcome === "fail");
  for (const kind of plan) {
    if (!steps.some((s) => s.step === kind)) {
      steps.push(
        step(kind, "skipped", "skipped_after_failure", `${STEP_LABEL[kind]}: not checked`, {
          detail: failed ? `Not checked because an earlier step failed: ${failed.title} (${failed.code}).` : "Not checked.",
        }),
      );
    }
  }
  steps.sort((a, b) => plan.indexOf(a.step) - plan.indexOf(b.step));
  const verdict = steps
    .map((s) => s.outcome)
    .filter((o) => o !== "skipped")
    .reduce<Outcome>((worst, o) => (OUTCOME_RANK[o] > OUTCOME_RANK[worst] ? o : worst), "pass");
  const summary =
    (steps.find((s) => s.outcome === "fail") ?? steps.find((s) => s.outcome === "warn"))?.title ??
    (service === "prismCentral" ? "Prism Central is reachable and usable" : "Palette is reachable and usable");
  return { service, target, verdict, summary, steps, elapsedMs: 40 + steps.length * 23 };
}

interface ParsedTarget {
  scheme: string;
  host: string;
  port: number;
  normalized: string;
  typed: string;
}

function parseTarget(typed: string, portField: number | null, defaultPort: number): ParsedTarget | Step {
  const trimmed = typed.trim();
  const match = /^(?:([a-z]+):\/\/)?([^/:?#]+)(?::(\d+))?([/?#].*)?$/i.exec(trimmed);
  if (!match) {
    return step("address", "fail", "address_invalid", "The address is not valid", {
      detail: `"${trimmed}" is not a host name or IP address.`,
      fix: "Enter only the host name or IP address (for example pc.example.com or 10.0.0.5), optionally with :port.",
    });
  }
  const scheme = (match[1] ?? "https").toLowerCase();
  if (scheme !== "https" && scheme !== "http") {
    return step("address", "fail", "address_bad_scheme", "The address is not valid", {
      detail: `The scheme ${scheme}:// is not supported.`,
      fix: "Enter the address as a host name or IP address, or with https://.",
    });
  }
  const host = match[2].toLowerCase();
  const port = match[3] ? Number(match[3]) : (portField ?? defaultPort);
  return { scheme, host, port, normalized: `${scheme}://${host}:${port}`, typed: trimmed };
}

function addressStep(t: ParsedTarget, portField: number | null): Step {
  const notes: string[] = [];
  const path = /^(?:[a-z]+:\/\/)?[^/?#]+([/?#].*)?$/i.exec(t.typed)?.[1] ?? "";
  if (t.typed.includes("://")) notes.push(`the scheme ${t.scheme}:// is used as given, the host and port are kept separately`);
  if (path.replace(/\//g, "")) notes.push(`the path "${path}" was dropped (only the host and port are used)`);
  const data = { kind: "address" as const, normalized: t.normalized, scheme: t.scheme, host: t.host, port: t.port, ipLiteral: isIp(t.host) };
  if (path.replace(/\//g, "") || (portField !== null && /:\d+/.test(t.typed) && portField !== t.port)) {
    if (portField !== null && portField !== t.port) notes.push(`the address names port ${t.port} which is used instead of the port field (${portField})`);
    return step("address", "warn", "address_normalized", `Using ${t.normalized} (the address was cleaned up)`, {
      detail: `From "${t.typed}": ${notes.join("; ")}.`,
      fix: "Enter just the host name or IP address (and the port, if not the default).",
      data,
    });
  }
  return step("address", "pass", "address_ok", `Using ${t.normalized}`, { detail: notes.length ? `From "${t.typed}": ${notes.join("; ")}.` : "", data });
}

function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

function fakeIp(host: string): string {
  const fp = fakeFingerprint(host);
  return `10.${parseInt(fp.slice(0, 2), 16) % 250}.${parseInt(fp.slice(2, 4), 16) % 250}.${(parseInt(fp.slice(4, 6), 16) % 250) + 2}`;
}

/** Address, DNS, TCP and TLS steps; returns false when one failed. */
function transportSteps(t: ParsedTarget, tls: TlsChoice, role: string, steps: Step[]): boolean {
  const ip = isIp(t.host) ? t.host : fakeIp(t.host);
  if (t.host.includes("nxdomain")) {
    steps.push(
      step("dns", "fail", "dns_not_found", `The name ${t.host} could not be resolved`, {
        detail: `The ${role} host name "${t.host}" is unknown to this computer's DNS (failed to lookup address information: Name or service not known).`,
        fix: "Check the spelling of the host name. If it is an internal name, make sure this computer uses the company DNS (VPN connected?), or enter the IP address instead.",
      }),
    );
    return false;
  }
  steps.push(
    isIp(t.host)
      ? step("dns", "pass", "dns_not_needed", `${t.host} is an IP address; no name lookup needed`, { data: { kind: "resolved", host: t.host, addresses: [ip] } })
      : step("dns", "pass", "dns_ok", `${t.host} resolves to ${ip}`, { data: { kind: "resolved", host: t.host, addresses: [ip] } }),
  );
  if (t.host.includes("refused")) {
    steps.push(
      step("tcp", "fail", "tcp_refused", `Connection refused on port ${t.port}`, {
        detail: `The host answered but nothing listens on port ${t.port} (${ip}:${t.port}: connection refused). The host is up; the port is wrong or the ${role} service is stopped.`,
        fix: `Check the port (Prism Central uses 9440, Palette 443) and that the ${role} service is running.`,
      }),
    );
    return false;
  }
  if (t.host.includes("timeout")) {
    steps.push(
      step("tcp", "fail", "tcp_timeout", `No answer from port ${t.port} within 5 s`, {
        detail: `Connecting timed out (${ip}:${t.port}: timed out): the host is down, the address is wrong, or a firewall silently drops the traffic.`,
        fix: `Check the address, that the ${role} host is up, and that firewalls between this computer and it allow port ${t.port}. If you need a proxy, set it.`,
      }),
    );
    return false;
  }
  steps.push(step("tcp", "pass", "tcp_ok", `${ip}:${t.port} accepts connections`, { data: { kind: "connected", address: `${ip}:${t.port}`, millis: 3 } }));
  if (t.scheme === "http") {
    steps.push(
      step("tls", "warn", "tls_not_used", "The connection is not encrypted", {
        detail: "The address starts with http://, so credentials and data would travel in clear text.",
        fix: `Use https:// (${role} serves HTTPS).`,
      }),
    );
    return true;
  }
  const kind = certificateKind(t.host);
  const cert = fakeCertificate(t.host, kind);
  const certData = { kind: "certificate" as const, ...cert };
  const certText = ` Presented certificate: subject "${cert.subject}", issuer "${cert.issuer}"${cert.selfSigned ? " (self-signed)" : ""}, names [${cert.sans.join(", ")}], valid ${cert.notBefore} to ${cert.notAfter}, SHA-256 ${cert.sha256Colons}.`;
  const pinFix = `Pin this certificate ("Trust this certificate"): SHA-256 ${cert.sha256Colons}; compare it with the fingerprint shown in ${role}'s own certificate settings before trusting it.`;
  const trusted = (): Step =>
    step("tls", "pass", "tls_ok", `The certificate is trusted (${tls.mode})`, {
      detail: `Subject "${cert.subject}", issuer "${cert.issuer}", valid until ${cert.notAfter}, SHA-256 ${cert.sha256Colons}.`,
      data: certData,
    });
  const pinned = tls.mode === "pinned" ? normaliseFingerprint(tls.pinnedSha256) : null;
  if (pinned !== null) {
    if (pinned === cert.sha256) {
      steps.push(trusted());
      return true;
    }
    steps.push(
      step("tls", "fail", "tls_pin_mismatch", "The certificate is not the one you pinned", {
        detail: `Pinned SHA-256 ${colons(pinned)}, but ${t.host}:${t.port} presents ${cert.sha256Colons}.${certText}`,
        fix: `If ${role}'s certificate was replaced on purpose (ask its administrator), pin the new fingerprint ${cert.sha256Colons}. Otherwise do not connect: something else may be answering at this address.`,
        data: certData,
      }),
    );
    return false;
  }
  const bundleTrusts = tls.mode === "ca_bundle" && kind === "private_ca" && (tls.caBundlePath ?? "").includes("internal-ca");
  if (tls.mode === "insecure" || kind === "public" || bundleTrusts) {
    steps.push(trusted());
    return true;
  }
  const lab = " Switching verification off (insecure) is for throwaway labs only.";
  steps.push(
    kind === "self_signed"
      ? step("tls", "fail", "tls_self_signed", "The certificate is self-signed", {
          detail: `${t.host}:${t.port} presents a self-signed certificate, which this computer cannot verify (Prism Central ships with one). Trust setting: ${tls.mode}.${certText}`,
          fix: `${pinFix} Or provide a CA bundle containing this certificate (its PEM is shown).${lab}`,
          data: certData,
        })
      : step("tls", "fail", "tls_unknown_ca", "The certificate's issuer is not trusted", {
          detail: `${t.host}:${t.port} presents a certificate signed by "${cert.issuer}", a certificate authority this computer does not trust. Trust setting: ${tls.mode}.${certText}`,
          fix: `${pinFix} Or provide the CA bundle (PEM) of the issuing CA, from your PKI team.${lab}`,
          data: certData,
        }),
  );
  return false;
}

function healthCode(stepCode: string): ErrorCode {
  if (stepCode.startsWith("tls_")) return "tls_untrusted";
  if (stepCode.startsWith("dns_")) return "dns";
  if (stepCode === "tcp_timeout") return "timeout";
  if (stepCode.startsWith("tcp_")) return "connect";
  if (stepCode === "auth_rejected") return "unauthorized";
  if (stepCode === "auth_forbidden") return "forbidden";
  if (stepCode.startsWith("address_")) return "invalid_input";
  return "upstream";
}

interface StoredEnvironment {
  config: EnvironmentConfig;
}

export class FakeSetup {
  /** Saved real environments by id (settings only; secrets live in `vault`). */
  readonly environments = new Map<string, StoredEnvironment>();

  secretStore: SecretStoreStatus = FakeSetup.statusFor("keyring", false);

  /** Secret values by environment id; never sent back over IPC, only whether they exist. */
  private readonly vault = new Map<string, SecretsInput>();
  /** The encrypted file's passphrase once it exists. */
  private filePassphrase: string | null = null;

  constructor(init: FakeSetupInit = {}) {
    this.environments.set(SEEDED_LAB_ID, {
      config: {
        id: SEEDED_LAB_ID,
        name: "Lab Frankfurt",
        palette: {
          url: "https://palette.lab.example.net",
          projectUid: FAKE_PROJECTS[1].uid,
          projectName: FAKE_PROJECTS[1].name,
          tls: { mode: "system" },
        },
        prism: { address: "pc.fra.lab.example.net", port: 9440, auth: "basic", username: "capstan-svc", tls: { mode: "system" } },
        proxy: { mode: "system" },
      },
    });
    this.vault.set(SEEDED_LAB_ID, { paletteApiKey: "seeded-lab-palette-key", prismPassword: "seeded-lab-prism-password" });
    this.useSecretStore(init.secretStore ?? "keyring", init.passphrase);
  }

  private static statusFor(kind: FakeSecretStoreKind, fileExists: boolean): SecretStoreStatus {
    const base: SecretStoreStatus = {
      state: "ready",
      backend: null,
      persistent: false,
      reason: null,
      filePath: "/home/operator/.local/share/io.capstan.app/secrets.enc",
      fileExists,
      minPassphraseChars: MIN_PASSPHRASE_CHARS,
    };
    switch (kind) {
      case "keyring":
        return { ...base, backend: "keyring", persistent: true };
      case "memory":
        return { ...base, backend: "memory" };
      case "needs_fallback":
        return { ...base, state: "needs_fallback", reason: NO_KEYRING_REASON };
      case "locked":
        return { ...base, state: "locked", fileExists: true };
    }
  }

  /** Switches the store the app "found"; `locked` means an encrypted file with `passphrase` exists. */
  useSecretStore(kind: FakeSecretStoreKind, passphrase = DEFAULT_FILE_PASSPHRASE): void {
    this.filePassphrase = kind === "locked" ? passphrase : null;
    this.secretStore = FakeSetup.statusFor(kind, kind === "locked");
  }

  private storeReady(): boolean {
    return this.secretStore.state === "ready";
  }

  /** The error `Vault::store` gives while no store is usable. */
  private storeError(): IpcError {
    if (this.secretStore.state === "needs_fallback") {
      return { code: "keyring_unavailable", message: this.secretStore.reason ?? NO_KEYRING_REASON, details: { fallback: "encrypted_file" } };
    }
    return { code: "keyring_unavailable", message: "The encrypted secrets file is locked. Enter its passphrase in Setup to unlock it." };
  }

  private savedFlags(id: string): EnvironmentDetail["saved"] {
    const stored = this.storeReady() ? (this.vault.get(id) ?? {}) : {};
    return {
      paletteApiKey: Boolean(stored.paletteApiKey),
      prismPassword: Boolean(stored.prismPassword),
      prismApiKey: Boolean(stored.prismApiKey),
      sysadminPassword: Boolean(stored.sysadminPassword),
    };
  }

  summaryOf(config: EnvironmentConfig): EnvironmentSummary {
    return { id: config.id, name: config.name, kind: "real", paletteUrl: config.palette.url || undefined, prismUrl: prismAddress(config) };
  }

  /** Summaries of the saved environments, in the order they were first saved. */
  summaries(): EnvironmentSummary[] {
    return [...this.environments.values()].map((e) => this.summaryOf(e.config));
  }

  get({ id }: EnvironmentIdRequest): EnvironmentDetail {
    if (id === SANDBOX_ID) {
      throw { code: "invalid_input", message: "The sandbox has no settings to edit: it is built in. Add a real environment instead." } satisfies IpcError;
    }
    const stored = this.environments.get(id);
    if (!stored) throw { code: "not_found", message: `There is no environment with id "${id}".` } satisfies IpcError;
    return { kind: "real", config: structuredClone(stored.config), saved: this.savedFlags(id) };
  }

  /**
   * Saves like `Engine::environment_save`: settings checked first, secrets before settings
   * (so an unavailable store saves nothing), then `onSaved` (the list and activation), then
   * the saved flags are read back.
   */
  save(request: SaveEnvironmentRequest, onSaved: (summary: EnvironmentSummary) => void = () => {}): EnvironmentDetail {
    const config = normalise(request.config);
    if (!config.id) config.id = this.newId(config.name);
    else if (config.id === SANDBOX_ID) throw invalid("id", "The sandbox cannot be overwritten. Save this as a new environment.");
    checkSettings(config);
    const typed = Object.fromEntries(SECRET_NAMES.map((n) => [n, request.secrets[n]?.trim() ? request.secrets[n] : undefined]).filter(([, v]) => v)) as SecretsInput;
    if (Object.keys(typed).length > 0 && !this.storeReady()) throw this.storeError();
    const duplicate = [...this.environments.values()].find((e) => e.config.id !== config.id && e.config.name.toLowerCase() === config.name.toLowerCase());
    if (duplicate) throw invalid("name", "Another environment already has this name. Choose a different name.");
    this.vault.set(config.id, { ...this.vault.get(config.id), ...typed });
    this.environments.set(config.id, { config });
    onSaved(this.summaryOf(config));
    // The engine reads the saved flags back through the store, which fails while it is unavailable.
    if (!this.storeReady()) throw this.storeError();
    return { kind: "real", config: structuredClone(config), saved: this.savedFlags(config.id) };
  }

  delete({ id }: EnvironmentIdRequest): void {
    if (id === SANDBOX_ID) throw invalid("id", "The sandbox is built in and cannot be deleted.");
    if (!this.environments.delete(id)) throw { code: "not_found", message: `There is no environment with id "${id}".` } satisfies IpcError;
    if (this.storeReady()) this.vault.delete(id);
  }

  /** `lab-frankfurt`, `lab-frankfurt-2`, ...: as `Engine::new_environment_id`. */
  private newId(name: string): string {
    let base = name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "-")
      .replace(/-{2,}/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 48);
    if (!base || base === SANDBOX_ID) base = "environment";
    let id = base;
    for (let n = 2; this.environments.has(id); n++) id = `${base}-${n}`;
    return id;
  }

  /** Typed secrets win over saved ones (saved ones only for a saved environment, while the store works). */
  private secretsFor(config: EnvironmentConfig, typed: SecretsInput): SecretsInput {
    const saved = config.id && this.environments.has(config.id) && this.storeReady() ? (this.vault.get(config.id) ?? {}) : {};
    const out: SecretsInput = {};
    for (const n of SECRET_NAMES) {
      const value = typed[n]?.trim() ? typed[n] : saved[n];
      if (value) out[n] = value;
    }
    return out;
  }

  test(request: ConnectionTestRequest): ConnectionTestResult {
    const config = normalise(request.config);
    checkSettings(config);
    const secrets = this.secretsFor(config, request.secrets);
    if (request.service === "prism_central") {
      if (config.prism.auth === "basic" && !(config.prism.username && secrets.prismPassword)) {
        throw invalid("prismPassword", "Enter the Prism Central username and password to test the connection.");
      }
      if (config.prism.auth === "api_key" && !secrets.prismApiKey) {
        throw invalid("prismApiKey", "Enter the Prism Central API key to test the connection.");
      }
      return { diagnosis: this.diagnosePrism(config, secrets), projects: [] };
    }
    if (!secrets.paletteApiKey) throw invalid("paletteApiKey", "Enter the Palette API key to test the connection.");
    const diagnosis = this.diagnosePalette(config, secrets.paletteApiKey);
    const projects = diagnosis.steps.flatMap((s) => (s.data?.kind === "projects" ? s.data.names.map((name, i) => ({ name, uid: s.data?.kind === "projects" ? s.data.uids[i] : "" })) : []));
    return { diagnosis, projects };
  }

  private diagnosePrism(config: EnvironmentConfig, secrets: SecretsInput): Diagnosis {
    const plan: StepKind[] = ["address", "dns", "tcp", "tls", "http", "auth", "product", "version"];
    const steps: Step[] = [];
    const parsed = parseTarget(config.prism.address, config.prism.port, 9440);
    if ("step" in parsed) return finish("prismCentral", config.prism.address, plan, [parsed]);
    const target = parsed.normalized;
    steps.push(addressStep(parsed, config.prism.port));
    if (!transportSteps(parsed, config.prism.tls, "Prism Central", steps)) return finish("prismCentral", target, plan, steps);
    const pe = parsed.host.startsWith("pe-");
    steps.push(
      step("http", "pass", "http_ok", "The server answers HTTP (status 401 on /api/nutanix/v3/users/me)", {
        data: { kind: "http", status: 401, server: null, contentType: "application/json", ntnxEnv: pe ? "pe" : "pc" },
      }),
    );
    const basic = config.prism.auth === "basic";
    const what = basic ? `the user "${config.prism.username}"` : "the API key";
    const credential = basic ? secrets.prismPassword : secrets.prismApiKey;
    if (credential === "wrong") {
      steps.push(
        step("auth", "fail", "auth_rejected", "Prism Central rejected the credentials", {
          detail: `HTTP 401 for ${what} with a JSON error: AUTHENTICATION_REQUIRED / Authentication required.`,
          fix: basic
            ? "Check the user name and password (log in to the Prism Central web console with them to confirm). Directory (AD/LDAP) users are written user@domain; make sure the account is not locked or its password expired."
            : "Check the API key: it may have been revoked or have expired, or belong to another Prism Central. Create a new key for the service account if needed.",
        }),
      );
      return finish("prismCentral", target, plan, steps);
    }
    if (basic && config.prism.username === "viewer") {
      steps.push(
        step("auth", "fail", "auth_forbidden", "The account is not allowed to use the API", {
          detail: `HTTP 403 for ${what}: the credentials are valid but lack permission (Access denied).`,
          fix: "Give the account the Prism Admin role in Prism Central (Palette and CAPX need to create and delete VMs, categories and read inventory), or use an account that has it.",
        }),
      );
      return finish("prismCentral", target, plan, steps);
    }
    const user = basic ? (config.prism.username ?? "") : "svc-capstan";
    steps.push(step("auth", "pass", "auth_ok", `Signed in as ${user}`, { data: { kind: "user", name: user, organization: null } }));
    if (pe) {
      const cluster = `${parsed.host.replace(/^pe-/, "").split(".")[0]}-cluster`;
      steps.push(
        step("product", "fail", "product_prism_element", "This is a Prism Element, not Prism Central", {
          detail: `${target} is a Prism Element (cluster ${cluster}): it identifies itself as a Prism Element (X-Ntnx-Env: pe). Palette and CAPX talk to Prism Central, which manages one or more Prism Elements.`,
          fix: `Find the Prism Central address: open this Prism Element's web console (https://${parsed.host}:${parsed.port}), where the Home dashboard's Prism Central widget (or Settings → Prism Central Registration) shows the Prism Central it is registered to. Enter that address here.`,
          data: { kind: "product", product: "prism_element", envHeader: "pe", productHeader: null, clusters: [cluster] },
        }),
      );
      return finish("prismCentral", target, plan, steps);
    }
    steps.push(
      step("product", "pass", "product_prism_central", "This is Prism Central", {
        detail: "GET /prism_central answered with version pc.2024.3.",
        data: { kind: "product", product: "prism_central", envHeader: "pc", productHeader: null, clusters: [] },
      }),
    );
    steps.push(
      step("version", "pass", "version_reported", "Prism Central pc.2024.3", {
        detail: "No minimum version was given for this workflow.",
        data: { kind: "version", found: "pc.2024.3", minimum: null, capxLine: null },
      }),
    );
    return finish("prismCentral", target, plan, steps);
  }

  private diagnosePalette(config: EnvironmentConfig, apiKey: string): Diagnosis {
    const plan: StepKind[] = ["address", "dns", "tcp", "tls", "http", "product", "auth", "projects"];
    const steps: Step[] = [];
    const parsed = parseTarget(config.palette.url, null, 443);
    if ("step" in parsed) return finish("palette", config.palette.url, plan, [parsed]);
    const target = parsed.normalized;
    const address = addressStep(parsed, null);
    if (parsed.host === "console.spectrocloud.com") {
      steps.push(
        step("address", "fail", "palette_console_url", "This is the Palette console (web UI), not the API", {
          detail: "console.spectrocloud.com serves the Palette SaaS web console; the API is served at api.spectrocloud.com.",
          fix: "Enter https://api.spectrocloud.com as the Palette API URL.",
          data: address.data,
        }),
      );
      return finish("palette", target, plan, steps);
    }
    steps.push(address);
    if (!transportSteps(parsed, config.palette.tls, "Palette", steps)) return finish("palette", target, plan, steps);
    steps.push(
      step("http", "pass", "http_ok", "The server answers HTTP (status 401 on /v1/users/info)", {
        data: { kind: "http", status: 401, server: null, contentType: "application/json", ntnxEnv: null },
      }),
    );
    steps.push(
      step("product", "pass", "product_palette", "This is a Palette API", {
        detail: "/v1/users/info without credentials answered 401 with Palette's JSON error, as expected.",
        data: { kind: "product", product: "palette", envHeader: null, productHeader: null, clusters: [] },
      }),
    );
    if (apiKey === "bad") {
      steps.push(
        step("auth", "fail", "auth_rejected", "Palette rejected the API key", {
          detail: "HTTP 401 on /v1/users/info: Invalid API key.",
          fix: "Check the API key (Palette → your profile → My API Keys): it may have been revoked or have expired, or belong to another Palette tenant or installation. Create a new key if needed.",
        }),
      );
      return finish("palette", target, plan, steps);
    }
    if (apiKey === "forbidden") {
      steps.push(
        step("auth", "fail", "auth_forbidden", "The API key is valid but not allowed", {
          detail: "HTTP 403 on /v1/users/info: Operation not allowed.",
          fix: "Use an API key of a user with the Tenant Admin role (cloud accounts and gateways are tenant-scoped).",
        }),
      );
      return finish("palette", target, plan, steps);
    }
    const org = parsed.host === "api.spectrocloud.com" ? "example-corp" : "default";
    steps.push(
      step("auth", "pass", "auth_ok", `The credentials work (organization ${org})`, {
        detail: "User 64f0c1a9e2b7d3f4a5b6c7d8 in tenant 64f0c1a9e2b7d3f4a5b60000.",
        data: { kind: "user", name: "64f0c1a9e2b7d3f4a5b6c7d8", organization: org },
      }),
    );
    const visible = apiKey === "noprojects" ? [] : FAKE_PROJECTS;
    const names = visible.map((p) => p.name);
    const wanted = config.palette.projectUid ?? config.palette.projectName;
    const selected = wanted ? (visible.find((p) => p.uid === wanted || p.name === wanted || p.name.toLowerCase() === wanted.toLowerCase())?.name ?? null) : null;
    const data = { kind: "projects" as const, names, uids: visible.map((p) => p.uid), selected };
    if (names.length === 0) {
      steps.push(
        step("projects", "warn", "projects_none", "These credentials see no projects", {
          detail: "GET /v1/dashboard/projects/metadata returned an empty list.",
          fix: "Add the user (or the API key's owner) to the project the clusters will live in, or use a tenant admin's key.",
          data,
        }),
      );
    } else if (wanted && !selected) {
      steps.push(
        step("projects", "fail", "project_not_found", `The project "${wanted}" is not visible with these credentials`, {
          detail: `Visible projects: ${names.join(", ")}.`,
          fix: "Pick one of the visible projects, or give the key's owner access to the project.",
          data,
        }),
      );
    } else if (selected) {
      steps.push(step("projects", "pass", "projects_ok", `Project "${selected}" is available (${names.length} project(s) visible)`, { detail: `Visible projects: ${names.join(", ")}.`, data }));
    } else {
      steps.push(step("projects", "pass", "projects_ok", `${names.length} project(s) visible: ${names.join(", ")}`, { data }));
    }
    return finish("palette", target, plan, steps);
  }

  /**
   * The health of a saved environment, as a status check finds it through its saved
   * secrets; undefined for an environment this fake does not hold.
   */
  health(id: string): { palette: ServiceHealth; prism: ServiceHealth } | undefined {
    const stored = this.environments.get(id);
    if (!stored) return undefined;
    const secrets = this.storeReady() ? (this.vault.get(id) ?? {}) : {};
    const missing = (service: string): ServiceHealth => ({
      state: "unknown",
      message: `No ${service} credentials are saved for "${stored.config.name}". Open Setup to add them and test the connection.`,
      errorCode: "unauthorized",
    });
    const fromDiagnosis = (d: Diagnosis, ok: string): ServiceHealth => {
      const failed = d.steps.find((s) => s.outcome === "fail");
      if (failed?.data?.kind === "certificate") {
        const host = d.target.replace(/^https?:\/\//, "").replace(/:\d+$/, "");
        const what = failed.data.selfSigned ? "a self-signed certificate" : "a certificate this computer does not trust";
        return { state: "down", message: `Certificate not trusted: ${host} presents ${what}. Review and trust it in Setup.`, errorCode: "tls_untrusted" };
      }
      if (failed) return { state: "down", message: `${failed.title}. Review it in Setup.`, errorCode: healthCode(failed.code) };
      return { state: d.verdict === "warn" ? "degraded" : "ok", message: ok, latencyMs: 120 };
    };
    const config = stored.config;
    const hasPrismCredential = config.prism.auth === "basic" ? Boolean(config.prism.username && secrets.prismPassword) : Boolean(secrets.prismApiKey);
    return {
      palette: secrets.paletteApiKey ? fromDiagnosis(this.diagnosePalette(config, secrets.paletteApiKey), `Connected to ${config.palette.url}`) : missing("Palette"),
      prism: hasPrismCredential ? fromDiagnosis(this.diagnosePrism(config, secrets), "Connected to Prism Central pc.2024.3") : missing("Prism Central"),
    };
  }

  status(): SecretStoreStatus {
    return this.secretStore;
  }

  /** Opens (or creates) the encrypted file, like `Vault::unlock_file`. */
  unlock({ passphrase }: UnlockSecretFileRequest): SecretStoreStatus {
    const store = this.secretStore;
    if (store.state === "ready" && store.backend !== "encrypted_file") {
      throw { code: "conflict", message: "Secrets are already saved in the system keyring; an encrypted file is not needed." } satisfies IpcError;
    }
    if (this.filePassphrase === null) {
      if ([...passphrase].length < MIN_PASSPHRASE_CHARS) {
        throw {
          code: "invalid_input",
          message: `The passphrase is too short: use at least ${MIN_PASSPHRASE_CHARS} characters (a few unrelated words work well).`,
          details: { secretsCode: "passphrase_too_short", fallback: null },
        } satisfies IpcError;
      }
      // A new file starts empty: what the unusable keyring held is not in it.
      this.filePassphrase = passphrase;
      this.vault.clear();
    } else if (passphrase !== this.filePassphrase) {
      throw {
        code: "unauthorized",
        message: `The passphrase does not unlock the secrets file ${store.filePath}. Check it (it is case sensitive) and try again.`,
        details: { secretsCode: "wrong_passphrase", fallback: null },
      } satisfies IpcError;
    }
    this.secretStore = { ...store, state: "ready", backend: "encrypted_file", persistent: true, reason: null, fileExists: true };
    return this.secretStore;
  }
}

/** Applies `__CAPSTAN_MOCK_INIT__.setup` to a server (mock-ipc.ts). */
export function applySetupInit(server: { setup: FakeSetup; environments: EnvironmentSummary[] }, init: FakeSetupInit): void {
  server.setup.useSecretStore(init.secretStore ?? "keyring", init.passphrase);
  if (init.firstRun) {
    server.setup.environments.clear();
    server.environments = server.environments.filter((e) => e.kind === "sandbox");
  }
}
