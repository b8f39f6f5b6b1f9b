//! Connection health for the status bar: one cheap authenticated call per service
//! (Palette `GET /v1/users/info`, Prism Central `GET /api/nutanix/v3/users/me`), run
//! concurrently with a short timeout. The Setup page's full diagnosis (DNS, TCP, TLS,
//! auth, product, version) builds on the same transport.

use std::time::{Duration, Instant};

use capstan_http::{HttpClient, HttpConfig, Idempotency, RetryPolicy, TransportError};
use capstan_ipc::ErrorCode;
use capstan_ipc::types::{HealthState, ServiceHealth};

use capstan_ipc::IpcError;
use capstan_palette::PaletteAuth;
use capstan_prism::PrismAuth;

use crate::connection::Connection;

const CHECK_TIMEOUT: Duration = Duration::from_secs(8);

pub async fn check(connection: &Result<Connection, IpcError>) -> (ServiceHealth, ServiceHealth) {
    let conn = match connection {
        Ok(conn) => conn,
        Err(e) => {
            let down = ServiceHealth {
                state: if e.code == ErrorCode::Unavailable {
                    HealthState::Down
                } else {
                    HealthState::Unknown
                },
                message: Some(e.message.clone()),
                error_code: Some(e.code),
                latency_ms: None,
            };
            return (down.clone(), down);
        }
    };
    let no_credentials = |service: &str| ServiceHealth {
        state: HealthState::Unknown,
        message: Some(format!(
            "No {service} credentials are saved for \"{}\". Open Setup to add them and test the connection.",
            conn.environment_name
        )),
        error_code: Some(ErrorCode::Unauthorized),
        latency_ms: None,
    };
    let palette = async {
        match &conn.palette.auth {
            Some(auth) => {
                let auth = auth.clone();
                probe(
                    &conn.palette.address,
                    "Palette",
                    conn.palette.http("Palette"),
                    "/v1/users/info",
                    palette_identity,
                    move |r| match &auth {
                        PaletteAuth::ApiKey(key) => r.header("ApiKey", key.expose()),
                        PaletteAuth::Token(token) => r.header("Authorization", token.expose()),
                        _ => r,
                    },
                )
                .await
            }
            None => no_credentials("Palette"),
        }
    };
    let prism = async {
        match &conn.prism.auth {
            Some(auth) => {
                let auth = auth.clone();
                probe(
                    &conn.prism.address,
                    "Prism Central",
                    conn.prism.http("Prism Central"),
                    "/api/nutanix/v3/users/me",
                    prism_identity,
                    move |r| match &auth {
                        PrismAuth::Basic { username, password } => {
                            r.basic_auth(username, Some(password.expose()))
                        }
                        PrismAuth::ApiKey(key) => r.header("X-ntnx-api-key", key.expose()),
                    },
                )
                .await
            }
            None => no_credentials("Prism Central"),
        }
    };
    tokio::join!(palette, prism)
}

/// `GET /v1/users/info` → `{userUid, tenantUid, orgName}`.
fn palette_identity(body: &serde_json::Value) -> Option<String> {
    body.get("orgName")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(|org| format!("tenant {org}"))
}

/// `GET /users/me` → a user intent response; the name is in `status.name` or `spec.resources.username`.
fn prism_identity(body: &serde_json::Value) -> Option<String> {
    body.pointer("/status/name")
        .or_else(|| body.pointer("/spec/resources/username"))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

async fn probe<F>(
    base: &str,
    service: &str,
    http: HttpConfig,
    path: &str,
    identity: fn(&serde_json::Value) -> Option<String>,
    auth: F,
) -> ServiceHealth
where
    F: Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
{
    let config = HttpConfig {
        connect_timeout: Duration::from_secs(3),
        request_timeout: CHECK_TIMEOUT,
        // One quick retry rides out a single dropped connection without hiding an outage.
        retry: RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        },
        ..http
    };
    let client = match HttpClient::new(config) {
        Ok(c) => c,
        Err(e) => return failed(service, &e),
    };
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let started = Instant::now();
    let outcome = client
        .send(Idempotency::Idempotent, |c| auth(c.get(&url)))
        .await;
    let latency_ms = Some(started.elapsed().as_millis().min(u32::MAX as u128) as u32);
    match outcome {
        Ok(resp) if resp.status.is_success() => {
            let body: Option<serde_json::Value> = serde_json::from_slice(&resp.body).ok();
            let connected = match body.as_ref().and_then(identity) {
                Some(who) => format!("Connected to {service} as {who}"),
                None => format!("Connected to {service}"),
            };
            ServiceHealth {
                state: if resp.attempts > 1 {
                    HealthState::Degraded
                } else {
                    HealthState::Ok
                },
                message: Some(if resp.attempts > 1 {
                    format!("{connected} (it answered after {} attempts)", resp.attempts)
                } else {
                    connected
                }),
                error_code: None,
                latency_ms,
            }
        }
        Ok(resp) => {
            let status = resp.status.as_u16();
            let (code, message) = match status {
                401 => (
                    ErrorCode::Unauthorized,
                    format!("{service} rejected the credentials (HTTP 401). Check them in Setup."),
                ),
                403 => (
                    ErrorCode::Forbidden,
                    format!(
                        "{service} accepted the credentials but denied access (HTTP 403). The account needs more permissions."
                    ),
                ),
                429 => (
                    ErrorCode::RateLimited,
                    format!(
                        "{service} is rate-limiting requests (HTTP 429). It will be checked again shortly."
                    ),
                ),
                s if s >= 500 => (
                    ErrorCode::Upstream,
                    format!("{service} had an internal error (HTTP {s}). Try again in a minute."),
                ),
                s => (
                    ErrorCode::Upstream,
                    format!(
                        "{service} answered HTTP {s} to a simple identity check. Is the address right?"
                    ),
                ),
            };
            ServiceHealth {
                state: if status == 429 {
                    HealthState::Degraded
                } else {
                    HealthState::Down
                },
                message: Some(message),
                error_code: Some(code),
                latency_ms,
            }
        }
        Err(e) => failed(service, &e),
    }
}

fn failed(service: &str, e: &TransportError) -> ServiceHealth {
    ServiceHealth {
        state: HealthState::Down,
        message: Some(format!("{service}: {e}")),
        error_code: Some(transport_code(e)),
        latency_ms: None,
    }
}

/// Maps a transport failure to the IPC error code the UI branches on.
pub fn transport_code(e: &TransportError) -> ErrorCode {
    match e.code() {
        "dns" => ErrorCode::Dns,
        "connect" | "proxy" => ErrorCode::Connect,
        "timeout" => ErrorCode::Timeout,
        c if c.starts_with("tls") => ErrorCode::TlsUntrusted,
        _ => ErrorCode::Upstream,
    }
}
