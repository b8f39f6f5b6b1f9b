//! The guided Nutanix workflow: the five steps' live state with the architecture diagram,
//! drafts, and the actions of steps 1–3 (cloud type, self-hosted PCG, cloud account).
//!
//! Everything is read live from Palette (and Prism Central for the diagram), so a step done
//! elsewhere shows as done. Every create is duplicate-safe: objects are looked up by name
//! before anything is created, and the Palette client resolves an ambiguous create (a lost
//! answer, a 5xx) by looking again before it sends a second one.

mod account;
mod cloud_type;
mod cluster;
mod deploy;
mod drafts;
mod kube;
mod logo;
mod pcg;
mod profile;
mod state;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{
    ApiErrorKind, Overlord, PaletteAuth, PaletteClient, PaletteConfig, PaletteError, Scope,
};
use parking_lot::{Mutex, RwLock};
use time::OffsetDateTime;

use crate::Engine;
use crate::connection::{Connection, invalid};
use crate::environments::ActiveTarget;

/// The cloud type name Palette's `nutanix-csi` pack needs (palette-api.md §2.2).
pub(crate) const CLOUD_TYPE: &str = "nutanix";

/// What the workflow keeps in memory for one engine.
#[derive(Default)]
pub(crate) struct Memory {
    /// When Capstan first saw each PCG Pending, per (environment, PCG uid).
    first_seen: Mutex<HashMap<(String, String), OffsetDateTime>>,
    /// Where kubeconfig and kubectl come from (tests point these at temp files).
    kube: RwLock<kube::KubeOverrides>,
    /// The phase and node count each cluster was last read with, per (environment, uid):
    /// a change refreshes the cache so Topology and Clusters show the new VMs.
    cluster_shapes: Mutex<HashMap<(String, String), (capstan_ipc::deploy::ClusterPhase, usize)>>,
}

impl Engine {
    /// Points the workflow at another kubeconfig list (the value KUBECONFIG would have) and
    /// another `kubectl`, instead of the process environment. For tests and tools: the
    /// process environment is shared, these settings are this engine's own.
    pub fn set_kube_overrides(&self, kubeconfig: Option<OsString>, kubectl: Option<PathBuf>) {
        *self.inner.workflow.kube.write() = kube::KubeOverrides {
            kubeconfig,
            kubectl,
        };
    }

    /// The Palette client of the active environment (API key, project scope if chosen).
    async fn workflow_palette(&self) -> Result<(Connection, PaletteClient), IpcError> {
        let conn = self.connection().await?;
        let client = api_client(&conn)?;
        Ok((conn, client))
    }

    /// A client logged in to Palette's system console: step 1 needs the system admin. The
    /// sandbox provides its own; a real environment needs them saved in Setup.
    async fn palette_system_admin(&self, conn: &Connection) -> Result<PaletteClient, IpcError> {
        let (username, password) = match self.inner.environments.active_target() {
            ActiveTarget::Sandbox { .. } => self
                .inner
                .environments
                .sandbox_system_admin()
                .ok_or_else(|| {
                    IpcError::new(
                        ErrorCode::Unavailable,
                        "The sandbox is not running. Activate it again from the environment menu.",
                    )
                })?,
            ActiveTarget::SandboxStopped => {
                return Err(IpcError::new(
                    ErrorCode::Unavailable,
                    "The sandbox is not running. Activate it again from the environment menu.",
                ));
            }
            ActiveTarget::Real(config) => {
                let username = config
                    .palette
                    .sysadmin_username
                    .clone()
                    .map(|u| u.trim().to_owned())
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        invalid(
                            "sysadminUsername",
                            "Registering the Nutanix cloud type needs Palette's system console admin. Add the system admin \
                             user name and password to this environment in Setup (self-hosted Palette or VerteX only).",
                        )
                    })?;
                let password = self
                    .saved_secrets(&config.id)
                    .await?
                    .sysadmin_password
                    .ok_or_else(|| {
                        invalid(
                            "sysadminPassword",
                            "No system admin password is saved for this environment. Add it in Setup, then try again.",
                        )
                    })?;
                (username, password)
            }
        };
        PaletteClient::new(PaletteConfig {
            http: conn.palette.http("palette-system"),
            ..PaletteConfig::new(
                conn.palette.address.clone(),
                PaletteAuth::SystemAdmin { username, password },
            )
        })
        .map_err(|e| palette_error("The Palette address is not usable", e))
    }

    fn sandbox_active(&self) -> bool {
        matches!(
            self.inner.environments.active_target(),
            ActiveTarget::Sandbox { .. }
        )
    }
}

/// The API-key client for a connection, or why there is none.
pub(crate) fn api_client(conn: &Connection) -> Result<PaletteClient, IpcError> {
    let auth = conn
        .palette
        .auth
        .clone()
        .filter(|_| !conn.palette.address.is_empty())
        .ok_or_else(|| {
            IpcError::new(
                ErrorCode::Unauthorized,
                format!(
                    "No Palette API key is saved for \"{}\". Open Setup to add it and test the connection.",
                    conn.environment_name
                ),
            )
        })?;
    PaletteClient::new(PaletteConfig {
        http: conn.palette.http("palette"),
        scope: conn
            .palette_project_uid
            .clone()
            .map_or(Scope::Tenant, Scope::Project),
        ..PaletteConfig::new(conn.palette.address.clone(), auth)
    })
    .map_err(|e| palette_error("The Palette address is not usable", e))
}

/// Turns a Palette failure into the IPC error the UI branches on; `what` says what was
/// being done ("Creating the PCG").
pub(crate) fn palette_error(what: &str, e: PaletteError) -> IpcError {
    let code = match &e {
        PaletteError::Transport(t) => crate::health::transport_code(t),
        PaletteError::Api { kind, .. } => match kind {
            ApiErrorKind::BadRequest => ErrorCode::InvalidInput,
            ApiErrorKind::Unauthorized => ErrorCode::Unauthorized,
            ApiErrorKind::Forbidden => ErrorCode::Forbidden,
            ApiErrorKind::NotFound => ErrorCode::NotFound,
            ApiErrorKind::Conflict => ErrorCode::Conflict,
            ApiErrorKind::RateLimited => ErrorCode::RateLimited,
            ApiErrorKind::Server | ApiErrorKind::Other => ErrorCode::Upstream,
        },
        PaletteError::InvalidResponse { .. } | PaletteError::CreatedIdUnknown { .. } => {
            ErrorCode::Upstream
        }
        PaletteError::InvalidInput { .. } | PaletteError::CloudTypeNotRegistered(_) => {
            ErrorCode::InvalidInput
        }
        PaletteError::SessionExpired => ErrorCode::Unauthorized,
    };
    IpcError::new(code, format!("{what}: {e}."))
}

/// Self-hosted PCGs for the Nutanix cloud type. Palette's overlord record has no cloud
/// type field (palette-api.md §10.3); the `cloudType` annotation is used when present.
pub(crate) fn nutanix_pcgs(all: Vec<Overlord>) -> Vec<Overlord> {
    all.into_iter()
        .filter(|o| o.spec.is_self_hosted != Some(false) && o.spec.is_system != Some(true))
        .filter(|o| {
            o.metadata
                .annotations
                .get("cloudType")
                .is_none_or(|c| c == CLOUD_TYPE)
        })
        .collect()
}

/// Reads a Palette timestamp (RFC 3339).
pub(crate) fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
