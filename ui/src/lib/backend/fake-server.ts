import type {
  ActivityEvent,
  ActivityPage,
  ActivityQuery,
  AppInfo,
  CommandName,
  Commands,
  EnvironmentSummary,
  EventName,
  Events,
  IpcError,
  LogLevel,
  ServiceHealth,
  Settings,
  Status,
} from "../bindings";
import { FakeSetup } from "./fake-setup";
import { FakeWorkflow } from "./fake-workflow";
import { FakeProfile } from "./fake-profile";
import { FakeClusters } from "./fake-cluster";
import { FakeDeploy } from "./fake-deploy";
import { FakeInventory, type FakeInventoryOptions } from "./fake-inventory";

/**
 * An in-memory stand-in for the Rust command dispatcher, with realistic data. Both the vitest
 * `MockBackend` and the Playwright `mockIPC` build answer commands from it, so the two test
 * layers see the same behaviour.
 */

export const LEVEL_ORDER: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error"];

export function levelRank(level: LogLevel): number {
  return LEVEL_ORDER.indexOf(level);
}

export const SANDBOX_ENV: EnvironmentSummary = {
  id: "sandbox",
  name: "Local sandbox",
  kind: "sandbox",
  paletteUrl: "https://127.0.0.1:47443",
  prismUrl: "https://127.0.0.1:49440",
};

export const LAB_ENV: EnvironmentSummary = {
  id: "lab-fra",
  name: "Lab Frankfurt",
  kind: "real",
  paletteUrl: "https://palette.lab.example.net",
  prismUrl: "https://pc.fra.lab.example.net:9440",
};

export const APP_INFO: AppInfo = {
  name: "Capstan",
  version: "0.1.0",
  dataDir: "/home/operator/.local/share/io.capstan.app",
  logDir: "/home/operator/.local/share/io.capstan.app/logs",
  platform: "linux",
  buildProfile: "debug",
};

type Handler<K extends CommandName> = (request: Commands[K]["request"]) => Commands[K]["response"];

export interface FakeServerOptions {
  /** Called for every event the server emits (status changes, new activity). */
  onEvent?: <E extends EventName>(event: E, payload: Events[E]) => void;
  /** Fixed clock, for deterministic tests. */
  now?: () => Date;
  /** How many seeded activity events to start with. */
  seedActivity?: number;
  /** The inventory estate and cache (populated by default; `start: "empty"` for never synced). */
  inventory?: Omit<FakeInventoryOptions, "now" | "onEvent">;
}

function healthy(message: string, latencyMs: number): ServiceHealth {
  return { state: "ok", message, latencyMs };
}

const SEED_MESSAGES: Array<{ level: LogLevel; target: string; message: string; fields: Record<string, string> }> = [
  { level: "info", target: "capstan_app::startup", message: "Capstan started", fields: { version: "0.1.0" } },
  { level: "info", target: "capstan_sandbox", message: "Sandbox listening", fields: { palette: "127.0.0.1:47443", prism: "127.0.0.1:49440" } },
  { level: "debug", target: "capstan_http::client", message: "GET /v1/users/me", fields: { status: "200", elapsed_ms: "14" } },
  { level: "info", target: "capstan_engine::health", message: "Palette reachable", fields: { user: "admin@capstan.local", latency_ms: "14" } },
  { level: "debug", target: "capstan_http::client", message: "POST /api/nutanix/v3/clusters/list", fields: { status: "200", elapsed_ms: "22" } },
  { level: "info", target: "capstan_engine::health", message: "Prism Central reachable", fields: { version: "pc.2024.3", latency_ms: "22" } },
  { level: "warn", target: "capstan_http::client", message: "Retrying after 429 Too Many Requests", fields: { attempt: "1", retry_after_s: "2", path: "/v1/spectroclusters" } },
  { level: "info", target: "capstan_engine::inventory", message: "Loaded Palette projects", fields: { count: "3" } },
  { level: "error", target: "capstan_engine::health", message: "Prism Central certificate is not trusted", fields: { host: "pc.fra.lab.example.net", code: "tls_untrusted", fingerprint: "5e:1f:9a:…:c2" } },
  { level: "trace", target: "capstan_http::pool", message: "connection reused", fields: { host: "127.0.0.1:47443" } },
];

export class FakeServer {
  environments: EnvironmentSummary[] = [SANDBOX_ENV, LAB_ENV];
  activeId = SANDBOX_ENV.id;
  settings: Settings = { theme: "system" };
  appInfo: AppInfo = APP_INFO;
  logFile = `${APP_INFO.logDir}/capstan.2026-11-21.log`;
  activity: ActivityEvent[] = [];
  /** The workflow stepper, drafts and steps 1–3. */
  workflow = new FakeWorkflow();
  /** Step 4: packs and cluster profiles. */
  profile = new FakeProfile();
  /** Palette clusters: progress, kubeconfig and day-2. */
  clusters = new FakeClusters();
  /** Step 5: the deploy form's pickers, YAML, preflight and create. */
  deploy = new FakeDeploy(this.clusters, this.profile);
  /** Saved environments, secrets and "Test connection". */
  setup = new FakeSetup();
  /** Cache, sync and topology commands. */
  readonly inventory: FakeInventory;
  /** Commands that fail with the given envelope until cleared. */
  readonly failures = new Map<CommandName, IpcError>();
  /** Per-test replacements for a command's handler (see `override`). */
  private readonly overrides = new Map<CommandName, (request: unknown) => unknown>();
  /** Every command received, oldest first. */
  readonly calls: Array<{ cmd: CommandName; request: unknown }> = [];

  private status: Status;
  private seq = 0;
  private readonly onEvent: FakeServerOptions["onEvent"];
  private readonly now: () => Date;

  constructor(options: FakeServerOptions = {}) {
    this.onEvent = options.onEvent;
    this.now = options.now ?? (() => new Date());
    this.inventory = new FakeInventory({
      ...options.inventory,
      now: this.now,
      onEvent: (event) => this.emitEvent("capstan://sync", event),
    });
    // The seeded cluster is the inventory's demo-k8s (same uid), and step-4 profiles can be deployed.
    this.clusters.link({ inventory: this.inventory, profiles: this.profile });
    this.workflow.laterSteps = {
      profile: () => {
        const published = this.profile.profiles.filter((p) => p.published);
        const newest = published.at(-1);
        return newest ? { uid: newest.uid, name: newest.name, version: newest.version } : null;
      },
      cluster: () => this.clusters.latestDeployed(),
    };
    // Seeded history ends "now", so ages and clock times look like a real session.
    const start = this.now().getTime();
    this.status = this.healthFor(SANDBOX_ENV, new Date(start - 40_000).toISOString());
    const seedCount = options.seedActivity ?? 40;
    for (let i = 0; i < seedCount; i++) {
      const seed = SEED_MESSAGES[i % SEED_MESSAGES.length];
      this.activity.push({
        seq: ++this.seq,
        timestamp: new Date(start - (seedCount - i) * 7_000 - 41_000).toISOString(),
        level: seed.level,
        target: seed.target,
        message: seed.message,
        fields: { ...seed.fields },
      });
    }
  }

  currentStatus(): Status {
    return structuredClone(this.status);
  }

  /** Makes `cmd` fail with `error` on every call until `clearFailure(cmd)`. */
  fail(cmd: CommandName, error: IpcError): void {
    this.failures.set(cmd, error);
  }

  clearFailure(cmd?: CommandName): void {
    if (cmd) this.failures.delete(cmd);
    else this.failures.clear();
  }

  /** Answers `cmd` with `handler` instead of the built-in behaviour until `restore(cmd)`. */
  override<K extends CommandName>(cmd: K, handler: Handler<K>): void {
    this.overrides.set(cmd, handler as (request: unknown) => unknown);
  }

  restore(cmd?: CommandName): void {
    if (cmd) this.overrides.delete(cmd);
    else this.overrides.clear();
  }

  /** Emits any event, as the backend would. */
  emitEvent<E extends EventName>(event: E, payload: Events[E]): void {
    this.onEvent?.(event, payload);
  }

  /** Records an activity event and emits it, as the backend's log layer does. */
  pushActivity(partial: Partial<ActivityEvent> & Pick<ActivityEvent, "message">): ActivityEvent {
    const event: ActivityEvent = {
      seq: ++this.seq,
      timestamp: partial.timestamp ?? this.now().toISOString(),
      level: partial.level ?? "info",
      target: partial.target ?? "capstan_app",
      message: partial.message,
      fields: partial.fields ?? {},
    };
    this.activity.push(event);
    this.onEvent?.("capstan://activity", event);
    return event;
  }

  /** Replaces the status and emits `capstan://status`, as a background health check would. */
  pushStatus(status: Status): void {
    this.status = structuredClone(status);
    this.onEvent?.("capstan://status", this.currentStatus());
  }

  handle<K extends CommandName>(cmd: K, request: Commands[K]["request"]): Commands[K]["response"] {
    this.calls.push({ cmd, request });
    const failure = this.failures.get(cmd);
    if (failure) throw structuredClone(failure);
    const handler = (this.overrides.get(cmd) ?? this.handlers[cmd]) as Handler<K> | undefined;
    if (!handler) {
      throw { code: "unknown_command", message: `The backend has no command named "${String(cmd)}".` } satisfies IpcError;
    }
    return structuredClone(handler(request));
  }

  private healthFor(env: EnvironmentSummary, checkedAt: string): Status {
    if (env.kind === "sandbox") {
      return {
        environment: env,
        palette: healthy("Connected as admin@capstan.local (sandbox)", 14),
        prism: healthy("Connected to Prism Central pc.2024.3 (sandbox)", 22),
        checkedAt,
      };
    }
    const checked = this.setup.health(env.id);
    if (checked) return { environment: env, ...checked, checkedAt };
    return {
      environment: env,
      palette: healthy("Connected as platform-team@example.net", 183),
      prism: {
        state: "down",
        message: "Certificate not trusted: pc.fra.lab.example.net presents a self-signed certificate. Review and trust it in Setup.",
        errorCode: "tls_untrusted",
      },
      checkedAt,
    };
  }

  private readonly handlers: { [K in CommandName]: Handler<K> } = {
    app_info: () => this.appInfo,
    status_get: () => this.status,
    status_refresh: () => {
      const env = this.environments.find((e) => e.id === this.activeId) ?? SANDBOX_ENV;
      this.status = this.healthFor(env, this.now().toISOString());
      this.pushActivity({
        level: this.status.prism.state === "ok" ? "info" : "error",
        target: "capstan_engine::health",
        message: `Checked ${env.name}: Palette ${this.status.palette.state}, Prism Central ${this.status.prism.state}`,
        fields: { environment: env.id },
      });
      this.onEvent?.("capstan://status", this.currentStatus());
      return this.status;
    },
    environments_list: () => ({ environments: this.environments, activeId: this.activeId }),
    environment_activate: ({ id }) => {
      const env = this.environments.find((e) => e.id === id);
      if (!env) {
        throw { code: "not_found", message: `No environment with id "${id}". Reload the environment list and try again.` } satisfies IpcError;
      }
      this.activeId = env.id;
      this.status = this.healthFor(env, this.now().toISOString());
      this.pushActivity({
        target: "capstan_app::environments",
        message: `Switched to environment ${env.name}`,
        fields: { id: env.id, kind: env.kind },
      });
      this.onEvent?.("capstan://status", this.currentStatus());
      return this.status;
    },
    activity_list: (query: ActivityQuery): ActivityPage => {
      const limit = Math.min(Math.max(query.limit ?? 200, 0), 2000);
      const min = levelRank(query.minLevel ?? "info");
      const text = query.text?.trim().toLowerCase() ?? "";
      const matches = this.activity.filter(
        (e) =>
          levelRank(e.level) >= min &&
          (text === "" ||
            e.message.toLowerCase().includes(text) ||
            e.target.toLowerCase().includes(text) ||
            Object.entries(e.fields).some(([k, v]) => k.toLowerCase().includes(text) || v.toLowerCase().includes(text))),
      );
      return { events: matches.slice(Math.max(matches.length - limit, 0)), logFile: this.logFile };
    },
    settings_get: () => this.settings,
    settings_update: (settings) => {
      this.settings = { ...settings };
      return this.settings;
    },
    environment_get: (request) => this.setup.get(request),
    environment_save: (request) =>
      // Like the engine: the list changes (and the environment activates) before the saved
      // secrets are read back, which can still fail while the secret store is unavailable.
      this.setup.save(request, (summary) => {
        const known = this.environments.some((e) => e.id === summary.id);
        this.environments = known ? this.environments.map((e) => (e.id === summary.id ? summary : e)) : [...this.environments, summary];
        if (request.activate) this.handlers.environment_activate({ id: summary.id });
      }),
    environment_delete: (request) => {
      this.setup.delete(request);
      this.environments = this.environments.filter((e) => e.id !== request.id);
      if (this.activeId === request.id) this.handlers.environment_activate({ id: SANDBOX_ENV.id });
      return { environments: this.environments, activeId: this.activeId };
    },
    connection_test: (request) => this.setup.test(request),
    secret_store_status: () => this.setup.status(),
    secret_store_unlock: (request) => this.setup.unlock(request),
    workflow_state: () => this.workflow.state(),
    draft_get: (request) => this.workflow.draftGet(request),
    draft_save: (request) => this.workflow.draftSave(request),
    draft_delete: (request) => this.workflow.draftDelete(request),
    cloud_type_plan: (request) => this.workflow.cloudTypePlan(request),
    cloud_type_register: (request) => this.workflow.cloudTypeRegister(request),
    pcg_create: (request) => this.workflow.pcgCreate(request),
    pcg_status: (request) => this.workflow.pcgStatus(request),
    kube_contexts: () => this.workflow.kubeContexts(),
    pcg_apply: (request) => this.workflow.pcgApply(request),
    cloud_account_form: () => this.workflow.cloudAccountForm(),
    cloud_account_create: (request) => this.workflow.cloudAccountCreate(request),
    pack_registries: () => this.profile.packRegistries(),
    packs_by_layer: (request) => this.profile.packsByLayer(request),
    pack_values: (request) => this.profile.packValues(request),
    profile_name_check: (request) => this.profile.profileNameCheck(request),
    profile_create: (request) => this.profile.profileCreate(request),
    profiles_list: () => this.profile.profilesList(),
    profile_get: (request) => this.profile.profileGet(request),
    profile_new_version: (request) => this.profile.profileNewVersion(request),
    cache_summary: () => this.inventory.cacheSummary(),
    cache_rebuild: () => this.inventory.rebuild(),
    sync_start: (request) => this.inventory.syncStart(request),
    sync_cancel: () => this.inventory.syncCancel(),
    topology_get: (request) => this.inventory.topology(request),
    topology_search: (request) => this.inventory.search(request),
    inventory_list: (query) => this.inventory.list(query),
    inventory_get: (request) => this.inventory.get(request),
    clusters_list: () => this.inventory.clusters(),
    deploy_options: () => this.deploy.deployOptions(),
    deploy_placement: (request) => this.deploy.deployPlacement(request),
    deploy_render: (request) => this.deploy.deployRender(request),
    deploy_yaml_read_back: (request) => this.deploy.deployYamlReadBack(request),
    deploy_preflight: (request) => this.deploy.deployPreflight(request.spec),
    cluster_deploy: (request) => this.deploy.clusterDeploy(request),
    cluster_detail: (request) => this.clusters.clusterDetail(request),
    kubeconfig_save: (request) => this.clusters.kubeconfigSave(request),
    cluster_scale: (request) => this.clusters.clusterScale(request),
    cluster_profile_plan: (request) => this.clusters.clusterProfilePlan(request),
    cluster_profile_update: (request) => this.clusters.clusterProfileUpdate(request),
    cluster_delete: (request) => this.clusters.clusterDelete(request),
  };
}
