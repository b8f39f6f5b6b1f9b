//! Capstan's engine: everything the app does, with no knowledge of Tauri.
//!
//! The desktop shell (`src-tauri`) owns one [`Engine`], forwards every IPC call to
//! [`Engine::dispatch`] and forwards every event the engine emits through its [`EventSink`]
//! to the web view. Tests drive the same `dispatch` directly.

mod dispatch;
mod environments;
mod health;
pub mod logging;
pub mod paths;
mod settings;

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
}

impl Engine {
    pub fn new(config: EngineConfig, events: Arc<dyn EventSink>) -> Self {
        let settings = settings::SettingsFile::open(config.paths.config_dir.join("settings.json"));
        let environments = Environments::new(config.sandbox, settings.real_environments());
        let active = environments.active_summary();
        let status = Status {
            environment: active,
            palette: capstan_ipc::types::ServiceHealth::unknown(),
            prism: capstan_ipc::types::ServiceHealth::unknown(),
            checked_at: None,
        };
        Self {
            inner: Arc::new(Inner {
                paths: config.paths,
                activity: config.activity,
                version: config.version,
                events,
                settings,
                environments,
                status: RwLock::new(status),
                check_lock: tokio::sync::Mutex::new(()),
            }),
        }
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
        let mut status = self.status();
        status.environment = summary;
        status.palette = capstan_ipc::types::ServiceHealth::unknown();
        status.prism = capstan_ipc::types::ServiceHealth::unknown();
        status.checked_at = None;
        self.set_status(status);
        Ok(self.refresh_status().await)
    }

    async fn refresh_status(&self) -> Status {
        let _one_at_a_time = self.inner.check_lock.lock().await;
        let target = self.inner.environments.active_target();
        let mut checking = self.status();
        checking.palette.state = capstan_ipc::types::HealthState::Checking;
        checking.prism.state = capstan_ipc::types::HealthState::Checking;
        self.set_status(checking);
        let (palette, prism) = health::check(&target).await;
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
