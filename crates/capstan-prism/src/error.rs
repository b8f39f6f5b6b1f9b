//! Typed Prism Central errors with stable codes.

use capstan_http::TransportError;
use serde_json::Value;

#[derive(Debug, Clone, thiserror::Error)]
pub enum PrismError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(
        "Prism Central rejected the credentials ({message}); check the user name and password (or API key), and that the account is not locked"
    )]
    Unauthorized { message: String },
    #[error(
        "the Prism Central user is not allowed to do this ({message}); give the account the Prism Admin role or use another account"
    )]
    Forbidden { message: String },
    #[error("{kind} not found: {message}")]
    NotFound { kind: String, message: String },
    #[error("Prism Central refused the request as invalid ({reason}): {message}")]
    InvalidArgument { reason: String, message: String },
    #[error("Prism Central is rate-limiting requests ({message}); wait a moment and try again")]
    RateLimited { message: String },
    #[error("Prism Central reported a conflict ({message}); reload the object and try again")]
    Conflict { message: String },
    #[error(
        "Prism Central failed with HTTP {status} ({reason}): {message}; try again later, and check Prism Central's health if it persists"
    )]
    Server {
        status: u16,
        reason: String,
        message: String,
    },
    #[error("Prism Central answered HTTP {status} ({reason}): {message}")]
    Api {
        status: u16,
        reason: String,
        message: String,
    },
    #[error(
        "Prism Central sent a response that could not be read ({reason}); check that the address points at Prism Central on port 9440"
    )]
    InvalidResponse { reason: String },
    #[error(
        "{address} is a Prism Element (a single cluster), not Prism Central; enter the Prism Central address instead (CAPX and Palette talk to Prism Central)"
    )]
    NotPrismCentral { address: String },
    #[error("no {kind} named \"{name}\" was found in Prism Central")]
    NameNotFound { kind: String, name: String },
    #[error(
        "more than one {kind} is named \"{name}\" ({count} found); pick it by UUID instead, or rename the duplicates in Prism Central"
    )]
    Ambiguous {
        kind: String,
        name: String,
        count: usize,
    },
}

impl PrismError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transport(t) => t.code(),
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::InvalidArgument { .. } => "invalid_argument",
            Self::RateLimited { .. } => "rate_limited",
            Self::Conflict { .. } => "conflict",
            Self::Server { .. } => "server",
            Self::Api { .. } => "api_error",
            Self::InvalidResponse { .. } => "invalid_response",
            Self::NotPrismCentral { .. } => "not_prism_central",
            Self::NameNotFound { .. } => "name_not_found",
            Self::Ambiguous { .. } => "ambiguous_name",
        }
    }

    /// Builds the error for a non-2xx response, reading the v3 envelope when there is one.
    /// A 401 body may be plain text or empty; `details` may be a string or a map.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let (reason, message, kind) = match &parsed {
            Some(v) => envelope_parts(v),
            None => (String::new(), String::new(), String::new()),
        };
        let message = if message.is_empty() {
            let text = String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(300)
                .collect::<String>();
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                text
            }
        } else {
            message
        };
        let reason_or = |d: &str| {
            if reason.is_empty() {
                d.to_owned()
            } else {
                reason.clone()
            }
        };
        match status {
            401 => Self::Unauthorized { message },
            403 => Self::Forbidden { message },
            404 => Self::NotFound {
                kind: if kind.is_empty() {
                    "entity".into()
                } else {
                    kind
                },
                message,
            },
            409 => Self::Conflict { message },
            429 => Self::RateLimited { message },
            400 | 422 => Self::InvalidArgument {
                reason: reason_or("INVALID_ARGUMENT"),
                message,
            },
            s if s >= 500 => Self::Server {
                status: s,
                reason: reason_or("INTERNAL_ERROR"),
                message,
            },
            s => match reason.as_str() {
                "TOO_MANY_REQUESTS" | "CONCURRENT_REQUESTS_NOT_ALLOWED" => {
                    Self::RateLimited { message }
                }
                "ENTITY_NOT_FOUND" => Self::NotFound {
                    kind: if kind.is_empty() {
                        "entity".into()
                    } else {
                        kind
                    },
                    message,
                },
                _ => Self::Api {
                    status: s,
                    reason: reason_or("UNKNOWN"),
                    message,
                },
            },
        }
    }
}

/// (reason, message, kind) from `{state, code, kind, message_list: [{reason, message, details}]}`.
fn envelope_parts(v: &Value) -> (String, String, String) {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let first = v
        .get("message_list")
        .and_then(Value::as_array)
        .and_then(|l| l.first());
    let reason = first
        .and_then(|m| m.get("reason"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut message = first
        .and_then(|m| m.get("message"))
        .and_then(Value::as_str)
        .or_else(|| v.get("message").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    // `details` is documented as a map but real servers send a string.
    if let Some(details) = first.and_then(|m| m.get("details")) {
        let d = match details {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Object(o) if o.is_empty() => String::new(),
            other => other.to_string(),
        };
        if !d.is_empty() && !message.contains(&d) {
            message = if message.is_empty() {
                d
            } else {
                format!("{message} ({d})")
            };
        }
    }
    (reason, message, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_details_and_plain_text_401_are_understood() {
        let body = br#"{"state":"ERROR","code":401,"message_list":[{"reason":"AUTHENTICATION_REQUIRED","message":"Authentication required.","details":"Invalid Credentials"}],"api_version":"3.1"}"#;
        let e = PrismError::from_response(401, body);
        assert_eq!(e.code(), "unauthorized");
        assert!(e.to_string().contains("Invalid Credentials"), "{e}");
        let e = PrismError::from_response(401, b"<html>Unauthorized</html>");
        assert_eq!(e.code(), "unauthorized");
        let e = PrismError::from_response(401, b"");
        assert!(e.to_string().contains("HTTP 401"), "{e}");
    }

    #[test]
    fn envelope_maps_to_codes() {
        let nf = br#"{"api_version":"3.1","code":404,"kind":"vm","state":"ERROR","message_list":[{"reason":"ENTITY_NOT_FOUND","message":"VM x not found","details":{"k":"v"}}]}"#;
        let e = PrismError::from_response(404, nf);
        assert_eq!(e.code(), "not_found");
        assert!(
            e.to_string().starts_with("vm not found: VM x not found"),
            "{e}"
        );
        let e = PrismError::from_response(
            400,
            br#"{"message_list":[{"reason":"INVALID_ARGUMENT","message":"bad filter"}]}"#,
        );
        assert_eq!(e.code(), "invalid_argument");
        assert_eq!(PrismError::from_response(429, b"{}").code(), "rate_limited");
        assert_eq!(PrismError::from_response(503, b"oops").code(), "server");
        assert_eq!(PrismError::from_response(403, b"{}").code(), "forbidden");
    }
}
