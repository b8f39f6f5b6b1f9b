import type {
  EnvironmentConfig,
  EnvironmentDetail,
  PrismAuthKind,
  ProxyMode,
  SavedSecrets,
  SecretsInput,
  ServiceName,
  TlsChoice,
  TlsMode,
} from "../../lib/bindings";

export const SAAS_PALETTE_URL = "https://api.spectrocloud.com";
export const DEFAULT_PRISM_PORT = 9440;

export type PaletteKind = "saas" | "self_hosted";
export type TlsService = "palette" | "prism";

export interface TlsForm {
  mode: TlsMode;
  caBundlePath: string;
  pinnedSha256: string;
}

/** Everything the connect form holds except secrets; strings keep exactly what was typed. */
export interface EnvForm {
  id: string;
  name: string;
  paletteKind: PaletteKind;
  /** The self-hosted address (SaaS uses `SAAS_PALETTE_URL`). */
  paletteUrl: string;
  projectUid: string;
  projectName: string;
  sysadminUsername: string;
  paletteTls: TlsForm;
  prismAddress: string;
  prismPort: string;
  prismAuth: PrismAuthKind;
  prismUsername: string;
  prismTls: TlsForm;
  proxyMode: ProxyMode;
  proxyUrl: string;
}

/** What was typed into the password fields; blank means "keep what is saved". */
export interface SecretsForm {
  paletteApiKey: string;
  prismPassword: string;
  prismApiKey: string;
  sysadminPassword: string;
}

/** Form fields an error can be shown at. */
export type FieldKey =
  | "name"
  | "paletteUrl"
  | "paletteApiKey"
  | "project"
  | "sysadminUsername"
  | "sysadminPassword"
  | "paletteCaBundle"
  | "palettePin"
  | "prismAddress"
  | "prismPort"
  | "prismUsername"
  | "prismPassword"
  | "prismApiKey"
  | "prismCaBundle"
  | "prismPin"
  | "proxyUrl";

export type FieldErrors = Partial<Record<FieldKey, string>>;

const SYSTEM_TLS: TlsForm = { mode: "system", caBundlePath: "", pinnedSha256: "" };

export function emptyForm(): EnvForm {
  return {
    id: "",
    name: "",
    paletteKind: "saas",
    paletteUrl: "",
    projectUid: "",
    projectName: "",
    sysadminUsername: "",
    paletteTls: { ...SYSTEM_TLS },
    prismAddress: "",
    prismPort: String(DEFAULT_PRISM_PORT),
    prismAuth: "basic",
    prismUsername: "",
    prismTls: { ...SYSTEM_TLS },
    proxyMode: "system",
    proxyUrl: "",
  };
}

export function emptySecrets(): SecretsForm {
  return { paletteApiKey: "", prismPassword: "", prismApiKey: "", sysadminPassword: "" };
}

export const NOTHING_SAVED: SavedSecrets = { paletteApiKey: false, prismPassword: false, prismApiKey: false, sysadminPassword: false };

function tlsForm(choice: TlsChoice): TlsForm {
  return { mode: choice.mode, caBundlePath: choice.caBundlePath ?? "", pinnedSha256: choice.pinnedSha256 ?? "" };
}

function tlsChoice(form: TlsForm): TlsChoice {
  const choice: TlsChoice = { mode: form.mode };
  if (form.mode === "ca_bundle") choice.caBundlePath = form.caBundlePath.trim();
  if (form.mode === "pinned") choice.pinnedSha256 = form.pinnedSha256.trim();
  return choice;
}

function isSaas(url: string): boolean {
  return url.trim().replace(/\/+$/, "").toLowerCase() === SAAS_PALETTE_URL;
}

/** The form for a saved environment. */
export function formFromDetail(detail: EnvironmentDetail): EnvForm {
  const { config } = detail;
  const saas = isSaas(config.palette.url);
  return {
    id: config.id,
    name: config.name,
    paletteKind: saas ? "saas" : "self_hosted",
    paletteUrl: saas ? "" : config.palette.url,
    projectUid: config.palette.projectUid ?? "",
    projectName: config.palette.projectName ?? "",
    sysadminUsername: config.palette.sysadminUsername ?? "",
    paletteTls: tlsForm(config.palette.tls),
    prismAddress: config.prism.address,
    prismPort: String(config.prism.port),
    prismAuth: config.prism.auth,
    prismUsername: config.prism.username ?? "",
    prismTls: tlsForm(config.prism.tls),
    proxyMode: config.proxy.mode,
    proxyUrl: config.proxy.url ?? "",
  };
}

export function paletteUrlOf(form: EnvForm): string {
  return form.paletteKind === "saas" ? SAAS_PALETTE_URL : form.paletteUrl;
}

/** A port the backend can take, or null (the backend's u16 would reject anything else). */
export function parsePort(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,5}$/.test(trimmed)) return null;
  const port = Number(trimmed);
  return port >= 1 && port <= 65535 ? port : null;
}

/** Checks the browser can make before sending anything: only what the backend cannot parse. */
export function clientErrors(form: EnvForm): FieldErrors {
  return parsePort(form.prismPort) === null ? { prismPort: "Enter a port number from 1 to 65535 (Prism Central uses 9440)." } : {};
}

export function toConfig(form: EnvForm): EnvironmentConfig {
  const selfHosted = form.paletteKind === "self_hosted";
  const config: EnvironmentConfig = {
    id: form.id,
    name: form.name,
    palette: { url: paletteUrlOf(form), tls: tlsChoice(form.paletteTls) },
    prism: {
      address: form.prismAddress,
      port: parsePort(form.prismPort) ?? DEFAULT_PRISM_PORT,
      auth: form.prismAuth,
      tls: tlsChoice(form.prismTls),
    },
    proxy: { mode: form.proxyMode },
  };
  if (form.projectUid) {
    config.palette.projectUid = form.projectUid;
    if (form.projectName) config.palette.projectName = form.projectName;
  }
  if (selfHosted && form.sysadminUsername.trim()) config.palette.sysadminUsername = form.sysadminUsername.trim();
  if (form.prismAuth === "basic" && form.prismUsername.trim()) config.prism.username = form.prismUsername;
  if (form.proxyMode === "explicit") config.proxy.url = form.proxyUrl;
  return config;
}

/** Only the secrets that apply to the chosen options, and only those typed. */
export function toSecrets(form: EnvForm, secrets: SecretsForm): SecretsInput {
  const out: SecretsInput = {};
  if (secrets.paletteApiKey.trim()) out.paletteApiKey = secrets.paletteApiKey;
  if (form.prismAuth === "basic" && secrets.prismPassword.trim()) out.prismPassword = secrets.prismPassword;
  if (form.prismAuth === "api_key" && secrets.prismApiKey.trim()) out.prismApiKey = secrets.prismApiKey;
  if (form.paletteKind === "self_hosted" && secrets.sysadminPassword.trim()) out.sysadminPassword = secrets.sysadminPassword;
  return out;
}

/**
 * The form field a backend `invalid_input` error's `details.field` names, or null when it
 * names none of them (the message is then shown above the buttons).
 */
export function fieldOfError(details: unknown): FieldKey | null {
  const field = typeof details === "object" && details !== null ? (details as { field?: unknown }).field : undefined;
  if (typeof field !== "string") return null;
  const byName: Record<string, FieldKey> = {
    name: "name",
    id: "name",
    paletteUrl: "paletteUrl",
    paletteApiKey: "paletteApiKey",
    sysadminUsername: "sysadminUsername",
    sysadminPassword: "sysadminPassword",
    prismAddress: "prismAddress",
    prismPort: "prismPort",
    prismUsername: "prismUsername",
    prismPassword: "prismPassword",
    prismApiKey: "prismApiKey",
    proxy: "proxyUrl",
    "Palette certificate fingerprint": "palettePin",
    "Prism Central certificate fingerprint": "prismPin",
    "Palette CA bundle": "paletteCaBundle",
    "Prism Central CA bundle": "prismCaBundle",
  };
  return byName[field] ?? null;
}

/** What a test of `service` depends on, to tell when a shown result no longer matches the form. */
export function testInputs(form: EnvForm, secrets: SecretsForm, service: ServiceName): string {
  const config = toConfig(form);
  const typed = toSecrets(form, secrets);
  return service === "palette"
    ? JSON.stringify([config.palette.url, config.palette.tls, config.proxy, typed.paletteApiKey ?? ""])
    : JSON.stringify([config.prism, config.proxy, typed.prismPassword ?? "", typed.prismApiKey ?? ""]);
}
