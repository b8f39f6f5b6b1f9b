//! Credentials and reachability (`GET /users/me`), and the Prism Central version against
//! what the CAPX line needs (prism-capx.md §3, §8 items 2, 4, 6).

use std::sync::Arc;
use std::time::Instant;

use capstan_diagnose::{CapxLine, PcVersion};
use capstan_prism::{PrismError, TransportError};

use crate::model::{CheckData, CheckId, UserData, VersionData};
use crate::runner::{Ctx, Finding, Ran, Step, need, skipped};

/// `GET /users/me` with the deploy's credentials: Prism Central answers and accepts them.
pub(crate) async fn credentials(ctx: Arc<Ctx>) -> Arc<Ran<()>> {
    let id = CheckId::Credentials;
    ctx.timed(id, Default::default(), async {
        let endpoint = ctx.prism.endpoint().to_string();
        match ctx.inventory.me.clone().await {
            Ok(user) => {
                let name = user.username().map(str::to_owned);
                Finding::pass(
                    "credentials_ok",
                    format!(
                        "Prism Central at {endpoint} answered and signed in {}.",
                        name.as_deref()
                            .map(|n| format!("\"{n}\""))
                            .unwrap_or_else(|| "the given account".into())
                    ),
                )
                .data(CheckData::User(UserData { name }))
                .value(())
            }
            Err(e) => credential_failure(&endpoint, &e),
        }
    })
    .await
}

fn credential_failure(endpoint: &str, e: &PrismError) -> Finding<()> {
    match e {
        PrismError::Unauthorized { message } => Finding::fail(
            "credentials_rejected",
            format!(
                "Prism Central at {endpoint} rejected the credentials ({message}). CAPX would stop at the same point with \"invalid Nutanix credentials\"."
            ),
            "Correct the user name and password (or API key) of the cloud account; sign in to the Prism Central web console with them to confirm. Directory users are written user@domain, and the account must not be locked or its password expired.",
        ),
        PrismError::Forbidden { message } => Finding::fail(
            "credentials_forbidden",
            format!("The credentials are valid but the account may not use the API ({message})."),
            "Give the account the Prism Admin role in Prism Central (CAPX creates and deletes VMs and categories and reads the inventory), or use an account that has it.",
        ),
        PrismError::Transport(t) => match t {
            TransportError::TlsUntrusted { .. }
            | TransportError::TlsPinMismatch { .. }
            | TransportError::TlsHostname { .. }
            | TransportError::TlsExpired { .. }
            | TransportError::TlsHandshake { .. } => Finding::fail(
                t.code(),
                format!("The TLS connection to {endpoint} was refused: {t}"),
                "Trust Prism Central's certificate in Setup (pin it, or add its CA bundle), then run the preflight again.",
            ),
            TransportError::Timeout { .. }
            | TransportError::Connect { .. }
            | TransportError::ConnectionDropped { .. }
            | TransportError::Proxy { .. }
            | TransportError::Dns { .. } => Finding::fail(
                "prism_central_unreachable",
                format!(
                    "Prism Central at {endpoint} could not be reached: {t}. CAPX would hang on the same address (\"dial tcp ...:9440: connect: operation timed out\")."
                ),
                "Check the address and port (9440), that Prism Central is up, and the network path from this computer (VPN, firewall, proxy).",
            ),
            TransportError::InvalidUrl { .. } => Finding::fail(
                "prism_central_address_invalid",
                format!("The Prism Central address is not usable: {t}"),
                "Enter the Prism Central address as a host name or IP address, e.g. pc.example.com or 10.0.0.5 (port 9440 is the default).",
            ),
            _ => Finding::prism_error("signing in", e),
        },
        other => Finding::prism_error("signing in", other),
    }
}

/// `GET /prism_central` version against the CAPX line's minimum (§3 table).
pub(crate) async fn prism_central_version(ctx: Arc<Ctx>, credentials: Step<()>) -> Arc<Ran<()>> {
    let id = CheckId::PrismCentralVersion;
    let started = Instant::now();
    if let Err(reason) = need(&*credentials.await, "a working Prism Central login") {
        return skipped(id, reason, started.elapsed());
    }
    ctx.timed(id, started.elapsed(), async {
        let line = ctx.input.capx_line;
        let minimum = line.min_pc();
        let info = match ctx.inventory.prism_central.clone().await {
            Ok(info) => info,
            Err(PrismError::NotFound { .. }) => {
                return Finding::fail(
                    "not_prism_central",
                    format!(
                        "{} has no /prism_central endpoint: it is a Prism Element, not Prism Central.",
                        ctx.prism.endpoint()
                    ),
                    "Use the Prism Central address in the cloud account: CAPX and Palette talk to Prism Central, which manages the Prism Elements.",
                );
            }
            Err(e) => return Finding::prism_error("reading its version", &e),
        };
        let Some(found_text) = info.resources.version.clone() else {
            return Finding::warn(
                "prism_central_version_unknown",
                "Prism Central did not report its version.",
                format!(
                    "Check in the Prism Central web console that it runs {} or later (needed by {}).",
                    minimum.canonical(),
                    ctx.capx_label()
                ),
            );
        };
        let data = CheckData::Version(VersionData {
            found: found_text.clone(),
            minimum: minimum.canonical(),
            capx_line: line.label().to_owned(),
        });
        let found = match PcVersion::parse(&found_text) {
            Ok(v) => v,
            Err(e) => {
                return Finding::warn(
                    "prism_central_version_unreadable",
                    format!("{e}."),
                    format!(
                        "Check that Prism Central runs {} or later (needed by {}).",
                        minimum.canonical(),
                        ctx.capx_label()
                    ),
                )
                .data(data);
            }
        };
        if found < minimum {
            let supported: Vec<&str> = CapxLine::ALL
                .iter()
                .filter(|l| l.min_pc() <= found)
                .map(|l| l.label())
                .collect();
            let other_lines = if supported.is_empty() {
                "no CAPX line Capstan knows supports it".to_owned()
            } else {
                format!("CAPX {} support it", supported.join(", "))
            };
            return Finding::fail(
                "prism_central_too_old",
                format!(
                    "Prism Central version \"{found_text}\" is older than the minimum supported version {} of {}.",
                    minimum.canonical(),
                    ctx.capx_label()
                ),
                format!(
                    "Upgrade Prism Central to {} or later (Life Cycle Manager), or deploy with a cluster profile on an older CAPX line ({other_lines}).",
                    minimum.canonical()
                ),
            )
            .data(data);
        }
        Finding::pass(
            "prism_central_version_ok",
            format!(
                "Prism Central {found_text} meets {}'s minimum of {}.",
                ctx.capx_label(),
                minimum.canonical()
            ),
        )
        .data(data)
        .value(())
    })
    .await
}
