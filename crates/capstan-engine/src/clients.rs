//! Palette and Prism Central clients for a [`Connection`].

use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{PaletteClient, PaletteConfig, Scope};
use capstan_prism::{PrismClient, PrismConfig};

use crate::connection::Connection;

pub(crate) struct Clients {
    pub prism: PrismClient,
    pub palette: Option<PaletteClient>,
}

/// Builds the clients, or says why it cannot (no Prism Central credentials yet). Palette is
/// optional: without its key the sync covers Prism Central only.
pub(crate) fn for_connection(conn: &Connection) -> Result<Clients, IpcError> {
    let prism_auth = conn.prism.auth.clone().ok_or_else(|| {
        IpcError::new(
            ErrorCode::Unauthorized,
            format!(
                "No Prism Central credentials are saved for \"{}\". Open Setup to add them and test the connection; \
                 the cached data stays available meanwhile.",
                conn.environment_name
            ),
        )
    })?;
    let prism = PrismClient::new(PrismConfig {
        http: conn.prism.http("prism-central"),
        ..PrismConfig::new(conn.prism.address.clone(), prism_auth)
    })
    .map_err(|e| client_error("Prism Central", &e.to_string()))?;
    let palette = match &conn.palette.auth {
        Some(auth) if !conn.palette.address.is_empty() => Some(
            PaletteClient::new(PaletteConfig {
                http: conn.palette.http("palette"),
                scope: conn
                    .palette_project_uid
                    .clone()
                    .map_or(Scope::Tenant, Scope::Project),
                ..PaletteConfig::new(conn.palette.address.clone(), auth.clone())
            })
            .map_err(|e| client_error("Palette", &e.to_string()))?,
        ),
        _ => None,
    };
    Ok(Clients { prism, palette })
}

fn client_error(service: &str, message: &str) -> IpcError {
    IpcError::new(
        ErrorCode::InvalidInput,
        format!("The {service} address is not usable: {message}. Fix it in Setup."),
    )
}
