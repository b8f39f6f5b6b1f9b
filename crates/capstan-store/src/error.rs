//! The store's error type. Every variant has a stable machine code and a message that says
//! what went wrong and what the user can do about it. Messages never contain cached values,
//! only identifiers (kinds, environment ids, paths).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the local cache at {path} was written by a newer version of Capstan (schema {found}, \
         this version understands up to {supported}); update Capstan, or rebuild the cache \
         (this discards only cached inventory and the activity log: environments and drafts \
         are carried over, and the old file is kept next to the new one)"
    )]
    NewerSchema {
        path: String,
        found: i64,
        supported: i64,
    },

    #[error(
        "upgrading the local cache to schema {version} ({description}) failed ({source}); the \
         cache was left unchanged at schema {from}. Rebuild the cache if this keeps happening"
    )]
    Migration {
        version: i64,
        description: &'static str,
        from: i64,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "the local cache at {path} is damaged or not a Capstan cache ({source}); rebuild the \
         cache (the damaged file is kept next to the new one)"
    )]
    Corrupt {
        path: String,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "the local cache is locked by another process (is a second Capstan window open?); \
         close it and try again"
    )]
    Busy,

    #[error("cannot access {path}: {source}; check that the directory exists and is writable")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("environment {id:?} is not in the local cache; reload the environment list")]
    UnknownEnvironment { id: String },

    #[error("an environment named {name:?} already exists; choose another name")]
    DuplicateEnvironmentName { name: String },

    #[error("{what} must not be empty")]
    EmptyField { what: &'static str },

    #[error(
        "the {kind} sync run (generation {generation}) for environment {environment_id:?} is no \
         longer current: a newer run has started; discard this run's results"
    )]
    StaleSync {
        environment_id: String,
        kind: &'static str,
        generation: i64,
    },

    #[error("records of kind {given} cannot be written into a {expected} sync run")]
    KindMismatch {
        expected: &'static str,
        given: &'static str,
    },

    #[error("the {filter} filter does not apply to {kind} records")]
    UnsupportedFilter {
        kind: &'static str,
        filter: &'static str,
    },

    #[error("the {kind} entity from the API has no {field}; it was skipped")]
    MissingField {
        kind: &'static str,
        field: &'static str,
    },

    #[error("cached JSON could not be encoded or decoded ({0}); rebuild the cache")]
    Json(#[from] serde_json::Error),

    #[error("local cache error ({0}); try again, and rebuild the cache if it keeps happening")]
    Sqlite(#[source] rusqlite::Error),
}

impl StoreError {
    /// Stable machine code, for the UI and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NewerSchema { .. } => "store_newer_schema",
            StoreError::Migration { .. } => "store_migration_failed",
            StoreError::Corrupt { .. } => "store_corrupt",
            StoreError::Busy => "store_busy",
            StoreError::Io { .. } => "store_io",
            StoreError::UnknownEnvironment { .. } => "store_unknown_environment",
            StoreError::DuplicateEnvironmentName { .. } => "store_duplicate_environment_name",
            StoreError::EmptyField { .. } => "store_empty_field",
            StoreError::StaleSync { .. } => "store_stale_sync",
            StoreError::KindMismatch { .. } => "store_kind_mismatch",
            StoreError::UnsupportedFilter { .. } => "store_unsupported_filter",
            StoreError::MissingField { .. } => "store_missing_field",
            StoreError::Json(_) => "store_json",
            StoreError::Sqlite(_) => "store_sqlite",
        }
    }

    /// True when rebuilding the cache is the way out (the UI offers the button).
    pub fn suggests_rebuild(&self) -> bool {
        matches!(
            self,
            StoreError::NewerSchema { .. }
                | StoreError::Corrupt { .. }
                | StoreError::Migration { .. }
        )
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy
            }
            _ => StoreError::Sqlite(err),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_error() -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(1), Some("boom".into()))
    }

    #[test]
    fn codes_are_unique_snake_case_and_messages_say_what_to_do() {
        let errors = vec![
            StoreError::NewerSchema {
                path: "p".into(),
                found: 9,
                supported: 2,
            },
            StoreError::Migration {
                version: 2,
                description: "d",
                from: 1,
                source: sqlite_error(),
            },
            StoreError::Corrupt {
                path: "p".into(),
                source: sqlite_error(),
            },
            StoreError::Busy,
            StoreError::Io {
                path: "p".into(),
                source: std::io::Error::other("x"),
            },
            StoreError::UnknownEnvironment { id: "e".into() },
            StoreError::DuplicateEnvironmentName { name: "n".into() },
            StoreError::EmptyField { what: "w" },
            StoreError::StaleSync {
                environment_id: "e".into(),
                kind: "vm",
                generation: 1,
            },
            StoreError::KindMismatch {
                expected: "vm",
                given: "node",
            },
            StoreError::UnsupportedFilter {
                kind: "vm",
                filter: "f",
            },
            StoreError::MissingField {
                kind: "vm",
                field: "metadata.uuid",
            },
            StoreError::Json(serde_json::from_str::<u8>("x").unwrap_err()),
            StoreError::Sqlite(sqlite_error()),
        ];
        let mut codes: Vec<_> = errors.iter().map(StoreError::code).collect();
        for code in &codes {
            assert!(code.starts_with("store_"), "{code}");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len(), "codes must be unique");
        assert!(
            StoreError::Busy
                .to_string()
                .contains("close it and try again")
        );
        assert!(!StoreError::Busy.suggests_rebuild());
    }

    #[test]
    fn busy_sqlite_errors_become_store_busy() {
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(5), None);
        assert_eq!(StoreError::from(busy).code(), "store_busy");
        assert_eq!(StoreError::from(sqlite_error()).code(), "store_sqlite");
    }
}
