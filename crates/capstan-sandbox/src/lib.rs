//! The Capstan sandbox: a stateful, faithful emulator of the Spectro Cloud Palette API and
//! the Nutanix Prism Central v3 API (think LocalStack), used by the desktop app by default
//! and by every client test.
//!
//! [`start`] binds two servers (Palette under `/v1/...`, Prism under `/api/nutanix/v3/...`)
//! that share one in-memory world, so a cluster created through Palette makes its VMs
//! appear in the Prism inventory. Both servers also expose `/__sandbox/...` controls
//! (`GET /__sandbox/info`, `GET|PUT /__sandbox/faults`, `POST /__sandbox/time-scale`,
//! `POST /__sandbox/advance`, `PUT /__sandbox/prism/clusters/{name}/availability`), which
//! need no authentication and are never faulted. `README.md` next to this crate lists the
//! estate, the lifecycles, the fault syntax and every control.
//!
//! Time: lifecycles are defined in "demo seconds" (a PCG takes about a minute to come up, a
//! cluster about three). `time_scale` multiplies every delay: `0.01` turns three minutes into
//! under two seconds. Session lifetimes (15 minutes) are demo seconds too.
//!
//! Persistence: with [`SandboxConfig::state_file`] the world (both APIs, pending lifecycle
//! steps, the simulated clock) is saved about once a second after changes and at shutdown,
//! and a later start with the same seed and size carries on from it (see `README.md`).
//!
//! Choices where the real services are undocumented (kept stable so clients can rely on them):
//! - Prism list `length > 500` is **capped** to 500 (the metadata echoes the effective length),
//!   `length < 1` or `offset < 0` is 400 `INVALID_ARGUMENT`. Unknown FIQL attributes and
//!   unknown `sort_attribute`s are 400 `INVALID_ARGUMENT`.
//! - Palette duplicates (cloud type, account, profile name+version, cluster, PCG name) are
//!   409 with code `AlreadyExists`; a profile still used by a cluster is 409 `ResourceInUse`.
//! - Palette list `limit > 50` is capped to 50; `continue` tokens are opaque.
//! - Registering/changing cloud types needs a system-console token (`/v1/auth/syslogin`);
//!   an API key or tenant token gets 403 `Forbidden`.
//! - `DELETE /v1/spectroclusters/{uid}?forceDelete=true` removes the cluster record at once
//!   but, like real Palette, leaves its VMs in Prism for manual clean-up.

// Handlers return a ready axum `Response` as their error value (the v1Error or v3 envelope);
// boxing every one of them would only add noise.
#![allow(clippy::result_large_err)]

mod clock;
mod estate;
mod faults;
mod palette;
mod persist;
mod prism;
mod record;
pub mod samples;
mod server;
mod state;
mod tls;
mod util;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use faults::{
    FaultConfig, FaultHandle, FaultKind, FaultRule, FaultService, ParseFaultError, RateLimit,
};
pub use persist::SaveStats;
pub use record::{Exchange, Service};

/// How a sandbox is started. `Default` gives a small demo estate on free ports over HTTPS.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seed for the estate generator, the credentials and the fault RNG.
    pub seed: u64,
    /// Estate size in VMs; clusters, subnets, images and hosts scale in proportion.
    pub vms: usize,
    /// 1.0 = demo speed (minutes); tests use e.g. 0.01 so lifecycles take about a second.
    pub time_scale: f64,
    pub bind: IpAddr,
    /// 0 = pick a free port.
    pub palette_port: u16,
    /// 0 = pick a free port.
    pub prism_port: u16,
    /// HTTPS with a generated self-signed certificate without IP SANs (like a real PC).
    pub tls: bool,
    pub faults: FaultConfig,
    /// Keep every request/response pair, for contract tests ([`Sandbox::take_exchanges`]).
    pub record_exchanges: bool,
    /// Keep the world in this JSON file across restarts (`None`: a fresh estate every start).
    /// A file saved with the same seed and `vms` is loaded instead of generating; any other
    /// file is moved aside to `<file>.broken` with a warning. Changes are saved about once a
    /// second and at [`Sandbox::shutdown`]. Faults, sessions and tokens are not saved.
    pub state_file: Option<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            vms: 60,
            time_scale: 1.0,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            palette_port: 0,
            prism_port: 0,
            tls: true,
            faults: FaultConfig::default(),
            record_exchanges: false,
            state_file: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}; pick another port or use 0 for a free one")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot generate the self-signed TLS certificate: {0}")]
    Certificate(String),
    #[error("invalid sandbox configuration: {0}")]
    InvalidConfig(String),
    #[error("cannot save the sandbox state: {0}")]
    StateFile(String),
}

impl SandboxError {
    pub fn code(&self) -> &'static str {
        match self {
            SandboxError::Bind { .. } => "sandbox_bind_failed",
            SandboxError::Certificate(_) => "sandbox_certificate_failed",
            SandboxError::InvalidConfig(_) => "sandbox_invalid_config",
            SandboxError::StateFile(_) => "sandbox_state_file_failed",
        }
    }
}

/// Running servers. Dropping it (or calling [`Sandbox::shutdown`]) stops them.
pub struct Sandbox {
    shared: Arc<state::Shared>,
    palette_url: String,
    prism_url: String,
    cert: Option<tls::SelfSigned>,
    servers: Vec<server::ServerHandle>,
    /// The background writer of the state file, when there is one.
    writer: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
}

/// Binds `port`; when it is 0, first tries the port used last time, then any free one.
async fn bind_preferring(
    ip: IpAddr,
    port: u16,
    last: Option<u16>,
) -> Result<server::Bound, SandboxError> {
    if port == 0
        && let Some(last) = last.filter(|p| *p != 0)
        && let Ok(bound) = server::bind(ip, last).await
    {
        return Ok(bound);
    }
    server::bind(ip, port).await
}

/// Starts both servers and returns once they are listening.
pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
    if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
        return Err(SandboxError::InvalidConfig(format!(
            "time_scale must be a positive number, got {}",
            config.time_scale
        )));
    }
    let cert = if config.tls {
        Some(tls::SelfSigned::generate().map_err(SandboxError::Certificate)?)
    } else {
        None
    };
    let shared = Arc::new(state::Shared::new(&config));
    // With a state file, the sandbox comes back on the ports it had, so addresses saved in
    // its world (a cloud account's NUTANIX_ENDPOINT/PORT) stay true after a restart.
    let remembered = config.state_file.as_deref().and_then(persist::read_ports);
    let palette =
        bind_preferring(config.bind, config.palette_port, remembered.map(|p| p.0)).await?;
    let prism = bind_preferring(config.bind, config.prism_port, remembered.map(|p| p.1)).await?;
    if let Some(file) = &config.state_file {
        persist::write_ports(file, (palette.port, prism.port));
    }
    let scheme = if config.tls { "https" } else { "http" };
    // Listening on all interfaces still advertises loopback: 0.0.0.0 is not a client address.
    let host = match config.bind {
        IpAddr::V4(ip) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_owned(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let palette_url = format!("{scheme}://{host}:{}", palette.port);
    let prism_url = format!("{scheme}://{host}:{}", prism.port);
    shared.set_urls(palette_url.clone(), prism_url.clone());
    let acceptor = match &cert {
        Some(c) => Some(c.acceptor().map_err(SandboxError::Certificate)?),
        None => None,
    };
    let servers = vec![
        server::serve(
            palette,
            Service::Palette,
            palette::router(shared.clone()),
            shared.clone(),
            acceptor.clone(),
        ),
        server::serve(
            prism,
            Service::Prism,
            prism::router(shared.clone()),
            shared.clone(),
            acceptor,
        ),
    ];
    let writer = shared.persister().map(|_| {
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        (stop, persist::spawn_writer(shared.clone(), stop_rx))
    });
    tracing::info!(%palette_url, %prism_url, "capstan sandbox listening");
    Ok(Sandbox {
        shared,
        palette_url,
        prism_url,
        cert,
        servers,
        writer,
    })
}

impl Sandbox {
    /// e.g. `https://127.0.0.1:41234` (no trailing slash).
    pub fn palette_url(&self) -> String {
        self.palette_url.clone()
    }

    /// e.g. `https://127.0.0.1:41235` (no trailing slash).
    pub fn prism_url(&self) -> String {
        self.prism_url.clone()
    }

    pub fn prism_user(&self) -> &str {
        &self.shared.creds.prism_user
    }

    pub fn prism_password(&self) -> &capstan_common::Secret {
        &self.shared.creds.prism_password
    }

    /// Prism `X-ntnx-api-key` value (service-account style).
    pub fn prism_api_key(&self) -> &capstan_common::Secret {
        &self.shared.creds.prism_api_key
    }

    pub fn palette_api_key(&self) -> &capstan_common::Secret {
        &self.shared.creds.palette_api_key
    }

    /// User name for `POST /v1/auth/syslogin` (system console).
    pub fn palette_system_user(&self) -> &str {
        &self.shared.creds.palette_system_user
    }

    /// `emailId` for `POST /v1/auth/authenticate`.
    pub fn palette_email(&self) -> &str {
        &self.shared.creds.palette_email
    }

    /// Password for both `syslogin` and `authenticate`.
    pub fn palette_password(&self) -> &capstan_common::Secret {
        &self.shared.creds.palette_password
    }

    /// The self-signed certificate (PEM), when `tls` is on.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.cert.as_ref().map(|c| c.cert_pem.as_str())
    }

    /// Hex SHA-256 of the certificate's DER, for pinning.
    pub fn certificate_sha256(&self) -> Option<String> {
        self.cert.as_ref().map(|c| c.sha256_hex())
    }

    pub fn faults(&self) -> FaultHandle {
        self.shared.faults.clone()
    }

    /// Changes the speed of every lifecycle from now on.
    pub fn set_time_scale(&self, time_scale: f64) -> Result<(), SandboxError> {
        if !(time_scale.is_finite() && time_scale > 0.0) {
            return Err(SandboxError::InvalidConfig(format!(
                "time_scale must be a positive number, got {time_scale}"
            )));
        }
        self.shared.clock.set_scale(time_scale);
        Ok(())
    }

    /// Jumps the simulated clock forward (demo seconds): due lifecycle steps happen on the
    /// next request, and sessions may expire.
    pub fn advance(&self, demo_seconds: f64) {
        self.shared.clock.advance(demo_seconds);
    }

    /// Makes a Prism Element unavailable (or available again), as seen from PC
    /// (`status.resources.config.is_available`). While a PE is unavailable the emulated CAPX
    /// controller cannot create VMs on it and retries. Returns false for an unknown PE name.
    pub fn set_pe_available(&self, pe_name: &str, available: bool) -> bool {
        self.shared.set_pe_available(pe_name, available)
    }

    /// Recorded request/response pairs since the last call (needs `record_exchanges`).
    pub fn take_exchanges(&self) -> Vec<Exchange> {
        self.shared.recorder.take()
    }

    /// The state file in use (`None` without one, or when an unusable file there could not
    /// be moved aside and is therefore left alone).
    pub fn state_file(&self) -> Option<&Path> {
        self.shared.persister().map(|p| p.path())
    }

    /// True when the world was loaded from the state file instead of generated.
    pub fn is_restored(&self) -> bool {
        self.shared.is_restored()
    }

    /// Saves the world to the state file now (it is also saved about once a second after a
    /// change, and at shutdown). `Ok(None)` without a state file.
    pub async fn save_state(&self) -> Result<Option<SaveStats>, SandboxError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || persist::save(&shared))
            .await
            .map_err(|e| SandboxError::StateFile(e.to_string()))?
            .map_err(|e| SandboxError::StateFile(e.to_string()))
    }

    /// Stops both servers, then writes a final snapshot of the world (with a state file).
    pub async fn shutdown(mut self) {
        for s in self.servers.drain(..) {
            s.stop().await;
        }
        if let Some((stop, task)) = self.writer.take() {
            let _ = stop.send(true);
            let _ = task.await;
            // Saved even when unchanged, so the simulated clock resumes where it stopped.
            if let Err(e) = self.save_state().await {
                tracing::warn!("{e}");
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for s in &self.servers {
            s.signal_stop();
        }
        // Dropped without `shutdown`: save what changed since the last write, on this thread
        // (nothing is lost, at the cost of blocking here for one write).
        if let Some((stop, _task)) = self.writer.take() {
            let _ = stop.send(true);
            if self.shared.persister().is_some_and(|p| p.is_dirty()) {
                let _ = persist::save(&self.shared);
            }
        }
    }
}
