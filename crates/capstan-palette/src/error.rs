//! Typed Palette errors with stable codes, from the `v1Error` body or the transport.

use capstan_http::TransportError;
use serde_json::Value;

/// What kind of HTTP failure Palette reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    Server,
    Other,
}

impl ApiErrorKind {
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => Self::BadRequest,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::Conflict,
            429 => Self::RateLimited,
            s if s >= 500 => Self::Server,
            _ => Self::Other,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
            Self::Server => "server",
            Self::Other => "api_error",
        }
    }

    fn advice(self) -> &'static str {
        match self {
            Self::BadRequest => "correct the input and try again",
            Self::Unauthorized => "check the API key or log in again",
            Self::Forbidden => {
                "use an account with the needed role (system admin for cloud types, tenant admin for accounts and gateways)"
            }
            Self::NotFound => {
                "it may have been deleted; refresh and check the name, scope (project or tenant) and cloud type"
            }
            Self::Conflict => {
                "an object with that name already exists or is in use; pick another name or remove the other object"
            }
            Self::RateLimited => {
                "Palette is rate-limiting this client; wait a few seconds and try again"
            }
            Self::Server => {
                "Palette failed; try again later and contact Palette support with the reference if it persists"
            }
            Self::Other => "see the message for details",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PaletteError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Palette answered with an error status.
    #[error("Palette answered HTTP {status}{}: {message}; {}", palette_code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default(), kind.advice())]
    Api {
        kind: ApiErrorKind,
        status: u16,
        /// Palette's own code, e.g. `ResourceNotFound`.
        palette_code: Option<String>,
        message: String,
        /// Palette's `ref`, for support tickets.
        reference: Option<String>,
        details: Option<Value>,
    },
    #[error(
        "Palette sent a response that could not be read ({reason}); check that the address points at the Palette API"
    )]
    InvalidResponse { reason: String },
    #[error("the request could not be prepared: {reason}")]
    InvalidInput { reason: String },
    #[error(
        "the {kind} \"{name}\" was created, but Palette's answer was lost and its id could not be looked up; find it in Palette by name instead of creating it again"
    )]
    CreatedIdUnknown { kind: String, name: String },
    #[error(
        "the cloud type \"{0}\" is not registered as a custom cloud in Palette; register it first (step 1)"
    )]
    CloudTypeNotRegistered(String),
    #[error("no login credentials are configured to renew the Palette session; log in again")]
    SessionExpired,
}

impl PaletteError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transport(t) => t.code(),
            Self::Api { kind, .. } => kind.code(),
            Self::InvalidResponse { .. } => "invalid_response",
            Self::InvalidInput { .. } => "invalid_input",
            Self::CreatedIdUnknown { .. } => "created_id_unknown",
            Self::CloudTypeNotRegistered(_) => "cloud_type_not_registered",
            Self::SessionExpired => "session_expired",
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::Api {
                kind: ApiErrorKind::NotFound,
                ..
            }
        )
    }

    /// Palette's `ref` (support reference), when it sent one.
    pub fn reference(&self) -> Option<&str> {
        match self {
            Self::Api { reference, .. } => reference.as_deref(),
            _ => None,
        }
    }

    /// Builds an `Api` error from a status and a body that may or may not be `v1Error`.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        let v: Option<Value> = serde_json::from_slice(body).ok();
        let get = |k: &str| {
            v.as_ref()
                .and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let palette_code = get("code");
        let message = get("message").unwrap_or_else(|| {
            let t: String = String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(300)
                .collect();
            if t.is_empty() {
                format!("HTTP {status}")
            } else {
                t
            }
        });
        let mut kind = ApiErrorKind::from_status(status);
        if kind == ApiErrorKind::Other && palette_code.as_deref() == Some("ResourceNotFound") {
            kind = ApiErrorKind::NotFound;
        }
        Self::Api {
            kind,
            status,
            palette_code,
            message,
            reference: get("ref"),
            details: v
                .as_ref()
                .and_then(|v| v.get("details"))
                .filter(|d| !d.is_null())
                .cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1error_bodies_keep_palettes_code_and_ref() {
        let e = PaletteError::from_response(404, br#"{"code":"ResourceNotFound","message":"Cluster 'x' not found","ref":"abc123","details":{}}"#);
        assert_eq!(e.code(), "not_found");
        assert!(e.is_not_found());
        assert_eq!(e.reference(), Some("abc123"));
        let text = e.to_string();
        assert!(
            text.contains("ResourceNotFound") && text.contains("Cluster 'x' not found"),
            "{text}"
        );
        assert_eq!(PaletteError::from_response(429, b"").code(), "rate_limited");
        assert_eq!(PaletteError::from_response(409, b"{}").code(), "conflict");
        assert_eq!(
            PaletteError::from_response(502, b"<html>bad gateway</html>").code(),
            "server"
        );
        assert_eq!(
            PaletteError::from_response(400, b"{}").code(),
            "bad_request"
        );
        assert_eq!(
            PaletteError::from_response(401, b"{}").code(),
            "unauthorized"
        );
        assert_eq!(PaletteError::from_response(403, b"{}").code(), "forbidden");
    }
}
