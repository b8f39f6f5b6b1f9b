//! Errors raised while loading the specs. Validation findings are not errors: they are
//! [`crate::Violation`]s.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error(
        "cannot read {what} at {path}: {source}; check that the file is readable, or point \
         CAPSTAN_SPECS_DIR at a complete copy of shared/specs"
    )]
    SpecUnreadable {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{what} at {path} is not valid JSON ({source}); restore the unmodified file in shared/specs"
    )]
    SpecNotJson {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{what} at {path} is not a usable Swagger 2.0 document: {detail}; restore the unmodified \
         file in shared/specs"
    )]
    SpecNotSwagger {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
}

impl ContractError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ContractError::SpecUnreadable { .. } => "spec_unreadable",
            ContractError::SpecNotJson { .. } => "spec_not_json",
            ContractError::SpecNotSwagger { .. } => "spec_not_swagger",
        }
    }
}
