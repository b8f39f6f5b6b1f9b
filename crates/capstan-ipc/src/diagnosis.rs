//! The connection diagnosis ("Test connection"): ordered steps, each with what was found
//! and what to do. Produced by `capstan-diagnose`, shown by the Setup page.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which check a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum StepKind {
    Address,
    Dns,
    Tcp,
    Tls,
    Http,
    Auth,
    Product,
    Version,
    Projects,
}

impl StepKind {
    /// A short label for the UI's step list.
    pub fn label(self) -> &'static str {
        match self {
            Self::Address => "Address",
            Self::Dns => "Name resolution (DNS)",
            Self::Tcp => "Network connection (TCP)",
            Self::Tls => "Certificate (TLS)",
            Self::Http => "Web service (HTTP)",
            Self::Auth => "Credentials",
            Self::Product => "Product",
            Self::Version => "Version",
            Self::Projects => "Projects",
        }
    }
}

/// How one step (or the whole diagnosis) came out, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Pass,
    /// Not run because an earlier step failed or it does not apply.
    Skipped,
    Warn,
    Fail,
}

/// The certificate a server presented, as the "trust this certificate" dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CertificateData {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// Lower-case hex: the value to pin.
    pub sha256: String,
    /// Upper-case, colon-separated, as browsers show it.
    pub sha256_colons: String,
    pub self_signed: bool,
    pub pem: String,
}

/// Structured facts a step found, for the UI to render beyond the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StepData {
    Address {
        /// `scheme://host:port`, what every later step uses.
        normalized: String,
        scheme: String,
        host: String,
        port: u16,
        ip_literal: bool,
    },
    Resolved {
        host: String,
        addresses: Vec<String>,
    },
    Connected {
        /// `ip:port` that accepted the connection.
        address: String,
        #[ts(type = "number")]
        millis: u64,
    },
    Certificate(CertificateData),
    Http {
        status: u16,
        server: Option<String>,
        content_type: Option<String>,
        /// Nutanix's `X-Ntnx-Env` (`pc` / `pe`).
        ntnx_env: Option<String>,
    },
    User {
        name: Option<String>,
        /// Palette tenant / org, or the system-console admin type.
        organization: Option<String>,
    },
    Product {
        /// `prism_central`, `prism_element`, `palette` or `unknown`.
        product: String,
        env_header: Option<String>,
        product_header: Option<String>,
        /// Prism Element cluster names seen in `clusters/list`.
        clusters: Vec<String>,
    },
    Version {
        found: Option<String>,
        minimum: Option<String>,
        /// e.g. `1.7.x`.
        capx_line: Option<String>,
    },
    Projects {
        names: Vec<String>,
        /// The uid of each project in `names`, in the same order.
        uids: Vec<String>,
        /// The project the user chose, when it was found.
        selected: Option<String>,
    },
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub step: StepKind,
    pub outcome: Outcome,
    /// Stable snake_case code, e.g. `tls_self_signed`, `auth_rejected`.
    pub code: String,
    pub title: String,
    /// What was found.
    pub detail: String,
    /// What to do; empty when there is nothing to do.
    pub fix: String,
    pub data: Option<StepData>,
}

impl Step {
    pub fn new(step: StepKind, outcome: Outcome, code: &str, title: impl Into<String>) -> Self {
        Self {
            step,
            outcome,
            code: code.to_owned(),
            title: title.into(),
            detail: String::new(),
            fix: String::new(),
            data: None,
        }
    }

    pub fn pass(step: StepKind, code: &str, title: impl Into<String>) -> Self {
        Self::new(step, Outcome::Pass, code, title)
    }

    pub fn warn(step: StepKind, code: &str, title: impl Into<String>) -> Self {
        Self::new(step, Outcome::Warn, code, title)
    }

    pub fn fail(step: StepKind, code: &str, title: impl Into<String>) -> Self {
        Self::new(step, Outcome::Fail, code, title)
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }

    pub fn data(mut self, data: StepData) -> Self {
        self.data = Some(data);
        self
    }
}

/// Which service was tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Service {
    PrismCentral,
    Palette,
}

/// The result of "Test connection".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    pub service: Service,
    /// The normalised address tested (no credentials), or what the user typed when it
    /// could not be parsed.
    pub target: String,
    /// The worst outcome of any step (`skipped` never decides it).
    pub verdict: Outcome,
    /// The title of the first failing (or else warning) step, or a success sentence.
    pub summary: String,
    pub steps: Vec<Step>,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

impl Diagnosis {
    /// The step of this kind, if it was recorded.
    pub fn step(&self, kind: StepKind) -> Option<&Step> {
        self.steps.iter().find(|s| s.step == kind)
    }

    /// The first failing step.
    pub fn first_failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.outcome == Outcome::Fail)
    }
}
