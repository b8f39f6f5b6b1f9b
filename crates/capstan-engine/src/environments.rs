//! Environments: the embedded sandbox (always present, the default) and real ones the user
//! configured. An environment is a Palette endpoint plus a Prism Central endpoint; secrets
//! are never held here (they come from the keyring when a check needs them).

use capstan_common::Secret;
use capstan_ipc::setup::EnvironmentConfig;
use capstan_ipc::types::{EnvironmentKind, EnvironmentList, EnvironmentSummary};
use capstan_ipc::{ErrorCode, IpcError};
use parking_lot::RwLock;

pub const SANDBOX_ID: &str = "sandbox";
const SANDBOX_NAME: &str = "Local sandbox";

pub struct Environments {
    sandbox_config: capstan_sandbox::SandboxConfig,
    sandbox: tokio::sync::Mutex<Option<capstan_sandbox::Sandbox>>,
    /// Endpoints of the running sandbox, readable without awaiting the mutex above.
    sandbox_endpoints: RwLock<Option<SandboxEndpoints>>,
    /// Real environments, as saved in the cache database (secrets are in the secret store).
    real: RwLock<Vec<EnvironmentConfig>>,
    active: RwLock<String>,
}

#[derive(Clone)]
struct SandboxEndpoints {
    palette_url: String,
    prism_url: String,
    prism_user: String,
    prism_password: Secret,
    palette_api_key: Secret,
    certificate_sha256: Option<String>,
    /// The system-console login (workflow step 1 needs the system admin).
    palette_system_user: String,
    palette_system_password: Secret,
}

/// What a connection check needs to know about the active environment.
#[derive(Clone)]
pub enum ActiveTarget {
    Sandbox {
        palette_url: String,
        prism_url: String,
        prism_user: String,
        prism_password: Secret,
        palette_api_key: Secret,
        /// The sandbox's self-signed certificate, pinned by fingerprint (never "insecure").
        certificate_sha256: Option<String>,
    },
    /// The sandbox was not started (or failed to start).
    SandboxStopped,
    Real(EnvironmentConfig),
}

impl Environments {
    pub fn new(
        sandbox_config: capstan_sandbox::SandboxConfig,
        real: Vec<EnvironmentConfig>,
        remembered_active: Option<String>,
    ) -> Self {
        let active = remembered_active
            .filter(|id| id == SANDBOX_ID || real.iter().any(|e| &e.id == id))
            .unwrap_or_else(|| SANDBOX_ID.to_owned());
        Self {
            sandbox_config,
            sandbox: tokio::sync::Mutex::new(None),
            sandbox_endpoints: RwLock::new(None),
            real: RwLock::new(real),
            active: RwLock::new(active),
        }
    }

    pub fn active_id(&self) -> String {
        self.active.read().clone()
    }

    pub fn list(&self) -> EnvironmentList {
        let mut environments = vec![self.sandbox_summary()];
        environments.extend(self.real.read().iter().map(real_summary));
        EnvironmentList {
            environments,
            active_id: self.active_id(),
        }
    }

    pub fn active_summary(&self) -> EnvironmentSummary {
        let id = self.active_id();
        if id == SANDBOX_ID {
            return self.sandbox_summary();
        }
        self.real
            .read()
            .iter()
            .find(|e| e.id == id)
            .map(real_summary)
            .unwrap_or_else(|| self.sandbox_summary())
    }

    /// Makes `id` active. Activating the sandbox starts it if it is not running.
    pub async fn activate(&self, id: &str) -> Result<EnvironmentSummary, IpcError> {
        if id == SANDBOX_ID {
            self.ensure_sandbox().await?;
        } else if !self.real.read().iter().any(|e| e.id == id) {
            return Err(IpcError::new(
                ErrorCode::NotFound,
                format!(
                    "There is no environment with id \"{id}\". Pick one from the environment list."
                ),
            ));
        }
        *self.active.write() = id.to_owned();
        tracing::info!(environment = id, "environment activated");
        Ok(self.active_summary())
    }

    pub fn active_target(&self) -> ActiveTarget {
        let id = self.active_id();
        if id == SANDBOX_ID {
            return match self.sandbox_endpoints.read().clone() {
                Some(s) => ActiveTarget::Sandbox {
                    palette_url: s.palette_url,
                    prism_url: s.prism_url,
                    prism_user: s.prism_user,
                    prism_password: s.prism_password,
                    palette_api_key: s.palette_api_key,
                    certificate_sha256: s.certificate_sha256,
                },
                None => ActiveTarget::SandboxStopped,
            };
        }
        match self.real.read().iter().find(|e| e.id == id) {
            Some(e) => ActiveTarget::Real(e.clone()),
            None => ActiveTarget::SandboxStopped,
        }
    }

    /// The running sandbox's Palette system-console login (user, password).
    pub(crate) fn sandbox_system_admin(&self) -> Option<(String, Secret)> {
        self.sandbox_endpoints.read().as_ref().map(|e| {
            (
                e.palette_system_user.clone(),
                e.palette_system_password.clone(),
            )
        })
    }

    /// Real seconds per demo second of the sandbox's lifecycles.
    pub(crate) fn sandbox_time_scale(&self) -> f64 {
        self.sandbox_config.time_scale
    }

    /// A real environment's settings.
    pub fn real(&self, id: &str) -> Option<EnvironmentConfig> {
        self.real.read().iter().find(|e| e.id == id).cloned()
    }

    /// Adds or replaces a real environment (by id).
    pub fn upsert(&self, config: EnvironmentConfig) {
        let mut real = self.real.write();
        match real.iter_mut().find(|e| e.id == config.id) {
            Some(slot) => *slot = config,
            None => real.push(config),
        }
        real.sort_by_key(|a| a.name.to_lowercase());
    }

    /// Removes a real environment; the sandbox becomes active if it was.
    pub fn remove(&self, id: &str) -> bool {
        let removed = {
            let mut real = self.real.write();
            let before = real.len();
            real.retain(|e| e.id != id);
            real.len() != before
        };
        if removed && *self.active.read() == id {
            *self.active.write() = SANDBOX_ID.to_owned();
        }
        removed
    }

    async fn ensure_sandbox(&self) -> Result<(), IpcError> {
        let mut running = self.sandbox.lock().await;
        if running.is_some() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let sandbox = capstan_sandbox::start(self.sandbox_config.clone()).await.map_err(|e| {
            IpcError::new(
                ErrorCode::Unavailable,
                format!("The sandbox could not start: {e}. See the log for details; restarting Capstan usually helps."),
            )
        })?;
        tracing::info!(
            palette = %sandbox.palette_url(),
            prism = %sandbox.prism_url(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "sandbox started"
        );
        *self.sandbox_endpoints.write() = Some(SandboxEndpoints {
            palette_url: sandbox.palette_url(),
            prism_url: sandbox.prism_url(),
            prism_user: sandbox.prism_user().to_owned(),
            prism_password: sandbox.prism_password().clone(),
            palette_api_key: sandbox.palette_api_key().clone(),
            certificate_sha256: sandbox.certificate_sha256(),
            palette_system_user: sandbox.palette_system_user().to_owned(),
            palette_system_password: sandbox.palette_password().clone(),
        });
        *running = Some(sandbox);
        Ok(())
    }

    pub async fn stop_sandbox(&self) {
        if let Some(sandbox) = self.sandbox.lock().await.take() {
            *self.sandbox_endpoints.write() = None;
            sandbox.shutdown().await;
            tracing::info!("sandbox stopped");
        }
    }

    fn sandbox_summary(&self) -> EnvironmentSummary {
        let endpoints = self.sandbox_endpoints.read();
        EnvironmentSummary {
            id: SANDBOX_ID.into(),
            name: SANDBOX_NAME.into(),
            kind: EnvironmentKind::Sandbox,
            palette_url: endpoints.as_ref().map(|e| e.palette_url.clone()),
            prism_url: endpoints.as_ref().map(|e| e.prism_url.clone()),
        }
    }
}

fn real_summary(e: &EnvironmentConfig) -> EnvironmentSummary {
    EnvironmentSummary {
        id: e.id.clone(),
        name: e.name.clone(),
        kind: EnvironmentKind::Real,
        palette_url: Some(e.palette.url.clone()).filter(|u| !u.is_empty()),
        prism_url: Some(crate::connection::prism_address(e))
            .filter(|_| !e.prism.address.is_empty()),
    }
}
