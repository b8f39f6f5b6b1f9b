//! DTOs carried by commands and events. Field names are camelCase on the wire (and in
//! TypeScript), snake_case in Rust.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// An empty request or response (`{}` on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Empty {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    /// Where the app keeps its data (cache database, drafts).
    pub data_dir: String,
    /// Where the rotating log files are written.
    pub log_dir: String,
    /// `linux`, `macos` or `windows`.
    pub platform: String,
    /// `debug` or `release`.
    pub build_profile: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentKind {
    /// The embedded emulator of Palette and Prism Central.
    Sandbox,
    /// A real Palette and Prism Central.
    Real,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentSummary {
    pub id: String,
    pub name: String,
    pub kind: EnvironmentKind,
    /// Palette API base URL, once known (the sandbox's is known once it has started).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub palette_url: Option<String>,
    /// Prism Central base URL, once known.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prism_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentList {
    pub environments: Vec<EnvironmentSummary>,
    pub active_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ActivateEnvironmentRequest {
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Not checked yet.
    Unknown,
    Checking,
    Ok,
    /// Reachable but something is wrong (slow, rate-limited, version too old).
    Degraded,
    Down,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServiceHealth {
    pub state: HealthState,
    /// What was found, in words: "Connected as admin", "Certificate not trusted", ...
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The error code when the check failed, for the UI to branch on.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<crate::ErrorCode>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u32>,
}

impl ServiceHealth {
    pub fn unknown() -> Self {
        Self {
            state: HealthState::Unknown,
            message: None,
            error_code: None,
            latency_ms: None,
        }
    }
}

/// What the status bar shows: the active environment and the health of each service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub environment: EnvironmentSummary,
    pub palette: ServiceHealth,
    pub prism: ServiceHealth,
    /// RFC 3339 time of the last completed check.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One entry of the Activity page: a log event the backend recorded (already redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEvent {
    /// Increases by one per event within a run of the app.
    #[ts(type = "number")]
    pub seq: u64,
    /// RFC 3339 with milliseconds.
    pub timestamp: String,
    pub level: LogLevel,
    /// Module that emitted it, e.g. `capstan_engine::health`.
    pub target: String,
    pub message: String,
    /// Structured fields, values rendered as text (secrets already print as `***`).
    pub fields: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ActivityQuery {
    /// At most this many of the newest events (default 200, at most 2000).
    #[ts(optional)]
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only events at this level or above (default `info`).
    #[ts(optional)]
    #[serde(default)]
    pub min_level: Option<LogLevel>,
    /// Only events whose message, target or fields contain this text (case-insensitive).
    #[ts(optional)]
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ActivityPage {
    /// Oldest first.
    pub events: Vec<ActivityEvent>,
    /// Path of the current log file, for "open log".
    pub log_file: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ThemePreference {
    /// Follow the operating system's light/dark setting.
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub theme: ThemePreference,
}
