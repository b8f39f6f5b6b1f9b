//! The error envelope: every failure crosses the IPC boundary as `{code, message, details?}`.
//! `code` is stable (the UI branches on it); `message` is for people and says what to do.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable error codes. Add new ones at the end; never rename one the UI may branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request did not match the command's request type.
    InvalidRequest,
    /// The UI asked for a command the backend does not have (a version mismatch).
    UnknownCommand,
    /// A value the user gave is wrong (a bad URL, a missing field); `details.field` names it.
    InvalidInput,
    NotFound,
    Conflict,
    /// Credentials were rejected (HTTP 401).
    Unauthorized,
    /// Credentials are valid but lack a permission (HTTP 403).
    Forbidden,
    /// The server's certificate is not trusted; `details` carries the certificate.
    TlsUntrusted,
    /// A host name could not be resolved.
    Dns,
    /// A TCP connection could not be made.
    Connect,
    Timeout,
    RateLimited,
    /// The remote service failed (HTTP 5xx) or answered with something unreadable.
    Upstream,
    /// A service or subsystem is not available right now (for example the sandbox is starting).
    Unavailable,
    /// No OS keyring (secret service) is available.
    KeyringUnavailable,
    /// The local cache or a file could not be read or written.
    Storage,
    /// The deploy preflight found a problem; `details` carries the report.
    PreflightFailed,
    /// A bug: something that should not happen. The message says where to find the log.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::TlsUntrusted => "tls_untrusted",
            ErrorCode::Dns => "dns",
            ErrorCode::Connect => "connect",
            ErrorCode::Timeout => "timeout",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Upstream => "upstream",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::KeyringUnavailable => "keyring_unavailable",
            ErrorCode::Storage => "storage",
            ErrorCode::PreflightFailed => "preflight_failed",
            ErrorCode::Internal => "internal",
        }
    }
}

/// What a failed command returns to the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message} [{}]", code.as_str())]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "unknown")]
    pub details: Option<serde_json::Value>,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}
