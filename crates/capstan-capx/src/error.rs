//! Errors of this crate: each has a stable snake_case `code()` and a message that says
//! what is wrong and what to do about it.

use thiserror::Error;

/// Everything that can go wrong while handling CAPX templates.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CapxError {
    /// The text is not valid YAML.
    #[error(
        "{what}: YAML document {document} does not parse at line {line}, column {column}: {message}. Fix the YAML at that position and try again"
    )]
    YamlUnparsable {
        what: String,
        /// 1-based document index within the multi-document stream.
        document: usize,
        /// 1-based line in the whole input (0 when the parser gave no position).
        line: usize,
        column: usize,
        message: String,
    },

    /// The input parses but is not an upstream CAPX `cluster-template.yaml`.
    #[error(
        "this is not a CAPX cluster template: it lacks the object kind(s) {missing:?}. Use the cluster-template.yaml of a CAPX release (cluster-api-provider-nutanix)"
    )]
    NotClusterTemplate { missing: Vec<String> },

    /// An object the operation needs is not in the YAML.
    #[error("{what}: no {kind} object found. Add one, or start again from a shipped template")]
    MissingObject { what: String, kind: String },

    /// There is more than one object of a kind where exactly one is expected.
    #[error(
        "{what}: {count} {kind} objects found where exactly one is expected. Remove the extra ones"
    )]
    AmbiguousObject {
        what: String,
        kind: String,
        count: usize,
    },

    /// A field the operation needs is missing or has the wrong shape.
    #[error("{what}: field {path} {problem}")]
    BadField {
        what: String,
        path: String,
        problem: String,
    },

    /// A typed choice is not acceptable (bad name, bad IP, empty list ...).
    #[error("choice {field} is invalid: {problem}")]
    InvalidChoice { field: String, problem: String },

    /// A Kubernetes quantity like `4Gi` that cannot be read.
    #[error(
        "{text:?} is not a Kubernetes quantity. Write a number with an optional suffix, e.g. 4Gi, 40Gi, 4096Mi"
    )]
    InvalidQuantity { text: String },

    /// A CAPX release version that is not `vMAJOR.MINOR.PATCH`.
    #[error(
        "{text:?} is not a CAPX release version. Use the tag form vMAJOR.MINOR.PATCH, e.g. v1.5.4"
    )]
    InvalidVersion { text: String },

    /// There is no shipped template line for a version.
    #[error(
        "Capstan ships no templates for CAPX {version}. Supported lines: {supported}. Pick one of those versions or split the upstream template yourself"
    )]
    UnsupportedLine { version: String, supported: String },

    /// The file given as infrastructure-components.yaml is not one.
    #[error(
        "this is not a CAPX infrastructure-components.yaml: {problem}. Download the file from the CAPX release page for your version"
    )]
    NotInfrastructureComponents { problem: String },

    /// The components file declares another version than the one chosen.
    #[error(
        "infrastructure-components.yaml is for CAPX {found}, but {expected} was chosen. Download the file of release {expected}, or choose {found}"
    )]
    ComponentsVersionMismatch { expected: String, found: String },
}

impl CapxError {
    /// Stable machine-readable code (snake_case); the UI and tests match on it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::YamlUnparsable { .. } => "yaml_unparsable",
            Self::NotClusterTemplate { .. } => "not_capx_cluster_template",
            Self::MissingObject { .. } => "missing_object",
            Self::AmbiguousObject { .. } => "ambiguous_object",
            Self::BadField { .. } => "bad_field",
            Self::InvalidChoice { .. } => "invalid_choice",
            Self::InvalidQuantity { .. } => "invalid_quantity",
            Self::InvalidVersion { .. } => "invalid_capx_version",
            Self::UnsupportedLine { .. } => "unsupported_capx_line",
            Self::NotInfrastructureComponents { .. } => "not_infrastructure_components",
            Self::ComponentsVersionMismatch { .. } => "components_version_mismatch",
        }
    }
}
