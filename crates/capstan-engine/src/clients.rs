//! Palette and Prism Central clients for the active environment.

use capstan_http::{HttpConfig, TlsPolicy};
use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{PaletteAuth, PaletteClient, PaletteConfig};
use capstan_prism::{PrismAuth, PrismClient, PrismConfig};

use crate::environments::ActiveTarget;

pub(crate) struct Clients {
    pub prism: PrismClient,
    pub palette: Option<PaletteClient>,
}

/// Builds the clients, or says why it cannot (sandbox stopped, no credentials yet).
pub(crate) fn for_target(target: &ActiveTarget) -> Result<Clients, IpcError> {
    match target {
        ActiveTarget::Sandbox {
            palette_url,
            prism_url,
            prism_user,
            prism_password,
            palette_api_key,
            certificate_sha256,
        } => {
            // The sandbox's self-signed certificate is pinned by fingerprint, never ignored.
            let tls = match certificate_sha256 {
                Some(fp) => TlsPolicy::Pinned {
                    sha256_hex: fp.clone(),
                },
                None => TlsPolicy::System,
            };
            let http = |label: &str| HttpConfig {
                tls: tls.clone(),
                no_proxy: true,
                label: label.to_owned(),
                ..HttpConfig::default()
            };
            let prism = PrismClient::new(PrismConfig {
                http: http("prism-central"),
                ..PrismConfig::new(
                    prism_url.clone(),
                    PrismAuth::Basic {
                        username: prism_user.clone(),
                        password: prism_password.clone(),
                    },
                )
            })
            .map_err(|e| client_error("Prism Central", &e.to_string()))?;
            let palette = PaletteClient::new(PaletteConfig {
                http: http("palette"),
                ..PaletteConfig::new(
                    palette_url.clone(),
                    PaletteAuth::ApiKey(palette_api_key.clone()),
                )
            })
            .map_err(|e| client_error("Palette", &e.to_string()))?;
            Ok(Clients {
                prism,
                palette: Some(palette),
            })
        }
        ActiveTarget::SandboxStopped => Err(IpcError::new(
            ErrorCode::Unavailable,
            "The sandbox is not running. Activate it again from the environment menu, then sync.",
        )),
        ActiveTarget::Real { name, .. } => Err(IpcError::new(
            ErrorCode::Unauthorized,
            format!(
                "No credentials are saved for \"{name}\" yet. Open Setup to add them and test the connection; \
                 the cached data stays available meanwhile."
            ),
        )),
    }
}

fn client_error(service: &str, message: &str) -> IpcError {
    IpcError::new(
        ErrorCode::InvalidInput,
        format!("The {service} address is not usable: {message}. Fix it in Setup."),
    )
}
