//! Capstan's engine: everything the app does, with no knowledge of Tauri.
//!
//! The desktop shell (`src-tauri`) owns one [`Engine`], forwards every IPC call to
//! [`Engine::dispatch`] and forwards every event the engine emits through its [`EventSink`]
//! to the web view. Tests drive the same `dispatch` directly.

mod calls;
mod clients;
mod connection;
mod dispatch;
mod environments;
mod health;
mod inventory;
pub mod logging;
pub mod paths;
mod settings;
mod setup;
mod vault;
mod workflow;

use std::sync::Arc;

use capstan_ipc::events::Event;
use capstan_ipc::types::{AppInfo, Status};
use parking_lot::RwLock;

pub use environments::{Environments, SANDBOX_ID};
pub use logging::ActivityLog;
pub use paths::AppPaths;

/// Where engine events go (the Tauri shell forwards them to the web view; tests collect them).
pub trait EventSink: Send + Sync + 'static {
    fn emit(&self, event: &'static str, payload: serde_json::Value);
}

/// An [`EventSink`] that drops everything (for tools and tests that do not watch events).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: &'static str, _payload: serde_json::Value) {}
}

pub struct EngineConfig {
    pub paths: AppPaths,
    pub activity: ActivityLog,
    /// Sandbox knobs for the embedded emulator (tests shorten time, pick plain HTTP, ...).
    pub sandbox: capstan_sandbox::SandboxConfig,
    pub version: String,
    /// Sync the inventory in the background after an environment is activated (the app
    /// paints from the cache first, then refreshes). Tests that drive syncs turn it off.
    pub auto_sync: bool,
    /// Where secrets go. `None`: `CAPSTAN_SECRET_STORE` if set, else the encrypted file if
    /// the user chose it before, else the OS keyring. Tests choose a store explicitly.
    pub secret_store: Option<capstan_secrets::StorePreference>,
}

pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    paths: AppPaths,
    activity: ActivityLog,
    version: String,
    events: Arc<dyn EventSink>,
    settings: settings::SettingsFile,
    environments: Environments,
    status: RwLock<Status>,
    /// Serialises health checks so a burst of "check now" clicks runs one check at a time.
    check_lock: tokio::sync::Mutex<()>,
    cache: Arc<inventory::Cache>,
    auto_sync: bool,
    vault: Arc<vault::Vault>,
    workflow: workflow::Memory,
}

impl Engine {
    pub fn new(config: EngineConfig, events: Arc<dyn EventSink>) -> Self {
        let settings = settings::SettingsFile::open(config.paths.config_dir.join("settings.json"));
        let cache = Arc::new(inventory::Cache::open(&config.paths.data_dir));
        let stored = settings.get();
        let mut sandbox = config.sandbox;
        // The sandbox keeps its world next to the cache, so work done in it survives a restart.
        if sandbox.state_file.is_none() {
            sandbox.state_file = Some(config.paths.data_dir.join("sandbox-state.json"));
        }
        let environments = Environments::new(
            sandbox,
            cache.load_environments(),
            stored.active_environment.clone(),
        );
        let preference = config.secret_store.unwrap_or_else(|| {
            let remembered = if stored.secret_store_file {
                capstan_secrets::StorePreference::EncryptedFile
            } else {
                capstan_secrets::StorePreference::Keyring
            };
            capstan_secrets::StorePreference::from_env_or(remembered).unwrap_or_else(|e| {
                tracing::warn!("{e}; using the OS keyring");
                remembered
            })
        });
        let vault = Arc::new(vault::Vault::new(
            preference,
            capstan_secrets::ServiceName::current(),
            config.paths.config_dir.join(vault::FILE_NAME),
        ));
        let active = environments.active_summary();
        let status = Status {
            environment: active,
            palette: capstan_ipc::types::ServiceHealth::unknown(),
            prism: capstan_ipc::types::ServiceHealth::unknown(),
            checked_at: None,
        };
        let inner = Arc::new(Inner {
            cache,
            vault,
            auto_sync: config.auto_sync,
            paths: config.paths,
            activity: config.activity,
            version: config.version,
            events,
            settings,
            environments,
            status: RwLock::new(status),
            check_lock: tokio::sync::Mutex::new(()),
            workflow: workflow::Memory::default(),
        });
        // Every API call also lands in the cache's activity table, tagged with the
        // environment active when it finished.
        let weak = Arc::downgrade(&inner);
        let cache = Arc::clone(&inner.cache);
        inner.activity.set_call_sink(calls::writer(
            move || cache.store(),
            move || weak.upgrade().map(|i| i.environments.active_id()),
        ));
        Self { inner }
    }

    /// Runs one IPC command. `payload` is the request JSON; the result is the response JSON
    /// or the `{code, message, details?}` envelope.
    pub async fn dispatch(
        &self,
        command: &str,
        payload: serde_json::Value,
    ) -> Result<serde_json::Value, capstan_ipc::IpcError> {
        dispatch::dispatch(self, command, payload).await
    }

    /// Activates the configured environment and checks its health; the shell calls this once
    /// at start-up, in the background, so the window paints first.
    pub async fn start(&self) {
        let id = self.inner.environments.active_id();
        if let Err(e) = self.activate(&id).await {
            tracing::warn!(
                code = e.code.as_str(),
                "could not activate environment {id}: {}",
                e.message
            );
        }
    }

    /// Stops the embedded sandbox, if it runs.
    pub async fn shutdown(&self) {
        self.inner.environments.stop_sandbox().await;
    }

    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            name: "Capstan".into(),
            version: self.inner.version.clone(),
            data_dir: self.inner.paths.data_dir.display().to_string(),
            log_dir: self.inner.paths.log_dir.display().to_string(),
            platform: std::env::consts::OS.into(),
            build_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
        }
    }

    pub fn status(&self) -> Status {
        self.inner.status.read().clone()
    }

    pub fn activity(&self) -> &ActivityLog {
        &self.inner.activity
    }

    pub fn environments(&self) -> &Environments {
        &self.inner.environments
    }

    fn emit<E: Event>(&self, payload: &E::Payload) {
        match serde_json::to_value(payload) {
            Ok(v) => self.inner.events.emit(E::NAME, v),
            Err(e) => tracing::error!("could not serialise event {}: {e}", E::NAME),
        }
    }

    fn set_status(&self, status: Status) {
        *self.inner.status.write() = status.clone();
        self.emit::<capstan_ipc::events::StatusChanged>(&status);
    }

    async fn activate(&self, id: &str) -> Result<Status, capstan_ipc::IpcError> {
        let summary = self.inner.environments.activate(id).await?;
        self.inner.settings.set_active_environment(id);
        if let Err(e) = self
            .inner
            .cache
            .register_sandbox(
                &summary.id,
                &summary.name,
                &self.inner.environments.active_target(),
            )
            .await
        {
            tracing::warn!(
                code = e.code.as_str(),
                "the cache could not record environment {id}: {}",
                e.message
            );
        }
        let mut status = self.status();
        status.environment = summary;
        status.palette = capstan_ipc::types::ServiceHealth::unknown();
        status.prism = capstan_ipc::types::ServiceHealth::unknown();
        status.checked_at = None;
        self.set_status(status);
        let status = self.refresh_status().await;
        if self.inner.auto_sync {
            // Views paint from the cache at once; this refreshes it behind them.
            if let Err(e) = self
                .sync_start(capstan_ipc::inventory::SyncStartRequest {
                    mode: capstan_ipc::inventory::SyncModeDto::Incremental,
                    kinds: None,
                })
                .await
            {
                tracing::info!(
                    code = e.code.as_str(),
                    "background sync not started: {}",
                    e.message
                );
            }
        }
        Ok(status)
    }

    // ---- cache, sync and topology ----------------------------------------------------------

    fn cache(&self) -> &Arc<inventory::Cache> {
        &self.inner.cache
    }

    /// Starts an inventory sync of the active environment (or reports the one running).
    pub async fn sync_start(
        &self,
        request: capstan_ipc::inventory::SyncStartRequest,
    ) -> Result<capstan_ipc::inventory::SyncStarted, capstan_ipc::IpcError> {
        if let Some(running) = self.cache().running_sync() {
            return Ok(capstan_ipc::inventory::SyncStarted {
                run_id: running.run_id,
                started: false,
            });
        }
        let clients = clients::for_connection(&self.connection().await?)?;
        let options = capstan_inventory::SyncOptions {
            kinds: request
                .kinds
                .unwrap_or_default()
                .into_iter()
                .map(inventory::store_kind)
                .collect(),
            mode: match request.mode {
                capstan_ipc::inventory::SyncModeDto::Full => capstan_inventory::SyncMode::Full,
                capstan_ipc::inventory::SyncModeDto::Incremental => {
                    capstan_inventory::SyncMode::Incremental
                }
            },
            ..capstan_inventory::SyncOptions::default()
        };
        let engine = self.clone();
        let emit: Arc<dyn Fn(&capstan_ipc::inventory::SyncEvent) + Send + Sync> =
            Arc::new(move |event| engine.emit::<capstan_ipc::events::SyncProgressed>(event));
        let env = self.inner.environments.active_id();
        Ok(self.cache().start_sync(&env, clients, options, emit))
    }

    pub fn sync_cancel(&self) -> capstan_ipc::inventory::SyncCancelled {
        self.cache().cancel_sync()
    }

    pub async fn cache_summary(
        &self,
    ) -> Result<capstan_ipc::inventory::CacheSummary, capstan_ipc::IpcError> {
        self.cache()
            .summary(&self.inner.environments.active_id())
            .await
    }

    pub async fn cache_rebuild(
        &self,
    ) -> Result<capstan_ipc::inventory::CacheSummary, capstan_ipc::IpcError> {
        self.cache().rebuild().await?;
        let summary = self.status().environment;
        let target = self.inner.environments.active_target();
        self.cache()
            .register_sandbox(&summary.id, &summary.name, &target)
            .await?;
        if let environments::ActiveTarget::Real(config) = &target {
            self.cache().save_environment(config).await?;
        }
        self.cache_summary().await
    }

    pub async fn topology(
        &self,
        request: capstan_ipc::inventory::TopologyRequest,
    ) -> Result<capstan_ipc::inventory::TopologyView, capstan_ipc::IpcError> {
        self.cache()
            .topology(&self.inner.environments.active_id(), request)
            .await
    }

    pub async fn topology_search(
        &self,
        request: capstan_ipc::inventory::TopologySearchRequest,
    ) -> Result<capstan_ipc::inventory::TopologySearchResult, capstan_ipc::IpcError> {
        self.cache()
            .search(&self.inner.environments.active_id(), request)
            .await
    }

    pub async fn inventory_list(
        &self,
        query: capstan_ipc::inventory::InventoryQuery,
    ) -> Result<capstan_ipc::inventory::InventoryPage, capstan_ipc::IpcError> {
        self.cache()
            .list(&self.inner.environments.active_id(), query)
            .await
    }

    pub async fn inventory_get(
        &self,
        request: capstan_ipc::inventory::InventoryGetRequest,
    ) -> Result<capstan_ipc::inventory::InventoryItem, capstan_ipc::IpcError> {
        self.cache()
            .get(&self.inner.environments.active_id(), request)
            .await
    }

    pub async fn clusters(
        &self,
    ) -> Result<capstan_ipc::inventory::ClusterList, capstan_ipc::IpcError> {
        self.cache()
            .clusters(&self.inner.environments.active_id())
            .await
    }

    /// Addresses, credentials and TLS of the active environment.
    async fn connection(&self) -> Result<connection::Connection, capstan_ipc::IpcError> {
        use capstan_ipc::ErrorCode;
        match self.inner.environments.active_target() {
            environments::ActiveTarget::Sandbox {
                palette_url,
                prism_url,
                prism_user,
                prism_password,
                palette_api_key,
                certificate_sha256,
            } => {
                // The sandbox's self-signed certificate is pinned by fingerprint, never ignored.
                let tls = match certificate_sha256 {
                    Some(fp) => capstan_http::TlsPolicy::Pinned { sha256_hex: fp },
                    None => capstan_http::TlsPolicy::System,
                };
                Ok(connection::Connection {
                    environment_name: self.status().environment.name,
                    palette: connection::ServiceConn {
                        address: palette_url,
                        auth: Some(capstan_palette::PaletteAuth::ApiKey(palette_api_key)),
                        tls: tls.clone(),
                        proxy: Some(String::new()),
                    },
                    palette_project_uid: None,
                    prism: connection::ServiceConn {
                        address: prism_url,
                        auth: Some(capstan_prism::PrismAuth::Basic {
                            username: prism_user,
                            password: prism_password,
                        }),
                        tls,
                        proxy: Some(String::new()),
                    },
                })
            }
            environments::ActiveTarget::SandboxStopped => Err(capstan_ipc::IpcError::new(
                ErrorCode::Unavailable,
                "The sandbox is not running. Activate it again from the environment menu.",
            )),
            environments::ActiveTarget::Real(config) => {
                let secrets = self.saved_secrets(&config.id).await?;
                connection::for_config(&config, &secrets)
            }
        }
    }

    async fn refresh_status(&self) -> Status {
        let _one_at_a_time = self.inner.check_lock.lock().await;
        let connection = self.connection().await;
        let mut checking = self.status();
        checking.palette.state = capstan_ipc::types::HealthState::Checking;
        checking.prism.state = capstan_ipc::types::HealthState::Checking;
        self.set_status(checking);
        let (palette, prism) = health::check(&connection).await;
        let status = Status {
            environment: self.inner.environments.active_summary(),
            palette,
            prism,
            checked_at: Some(now_rfc3339()),
        };
        tracing::info!(
            environment = %status.environment.name,
            palette = ?status.palette.state,
            prism = ?status.prism.state,
            "connection check finished"
        );
        self.set_status(status.clone());
        status
    }
}

impl Clone for Engine {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
