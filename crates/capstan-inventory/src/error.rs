//! Typed sync errors with stable codes.

use capstan_palette::PaletteError;
use capstan_prism::PrismError;
use capstan_store::{Kind, StoreError};

/// Which remote service a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    PrismCentral,
    Palette,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::PrismCentral => "Prism Central",
            Service::Palette => "Palette",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "{service} kept rate-limiting the {kind} list ({message}); the cached {kind} data is unchanged and the next sync resumes where this one stopped; lower the sync concurrency or wait a minute"
    )]
    RateLimited {
        service: Service,
        kind: Kind,
        message: String,
    },
    #[error(
        "syncing {kind} from {service} failed ({code}): {message}; the cached {kind} data is unchanged and the next sync resumes where this one stopped"
    )]
    Remote {
        service: Service,
        kind: Kind,
        /// The client's own stable code (`server`, `timeout`, `unauthorized`, ...).
        code: &'static str,
        message: String,
    },
    #[error(
        "the sync was cancelled while listing {kind}; the cache still holds the previous data and the next sync resumes where this one stopped"
    )]
    Cancelled { kind: Kind },
    #[error("the local cache failed during the {} sync: {source}", OptionalKind(.kind))]
    Store {
        kind: Option<Kind>,
        #[source]
        source: StoreError,
    },
}

impl SyncError {
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::RateLimited { .. } => "sync_rate_limited",
            SyncError::Remote { .. } => "sync_remote_failed",
            SyncError::Cancelled { .. } => "sync_cancelled",
            SyncError::Store { .. } => "sync_store_failed",
        }
    }

    /// The kind being synced when it failed (none for failures before any kind started).
    pub fn kind(&self) -> Option<Kind> {
        match self {
            SyncError::RateLimited { kind, .. }
            | SyncError::Remote { kind, .. }
            | SyncError::Cancelled { kind } => Some(*kind),
            SyncError::Store { kind, .. } => *kind,
        }
    }

    /// Whether running the sync again continues from the saved cursor (every failure does
    /// unless the cache itself is broken).
    pub fn is_resumable(&self) -> bool {
        match self {
            SyncError::Store { source, .. } => !source.suggests_rebuild(),
            _ => true,
        }
    }

    pub(crate) fn prism(kind: Kind, err: PrismError) -> Self {
        match err {
            PrismError::RateLimited { message } => SyncError::RateLimited {
                service: Service::PrismCentral,
                kind,
                message,
            },
            other => SyncError::Remote {
                service: Service::PrismCentral,
                kind,
                code: other.code(),
                message: other.to_string(),
            },
        }
    }

    pub(crate) fn palette(kind: Kind, err: PaletteError) -> Self {
        if err.code() == "rate_limited" {
            return SyncError::RateLimited {
                service: Service::Palette,
                kind,
                message: err.to_string(),
            };
        }
        SyncError::Remote {
            service: Service::Palette,
            kind,
            code: err.code(),
            message: err.to_string(),
        }
    }

    pub(crate) fn store(kind: Kind, source: StoreError) -> Self {
        SyncError::Store {
            kind: Some(kind),
            source,
        }
    }
}

impl std::fmt::Display for OptionalKind<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(kind) => write!(f, "{kind}"),
            None => f.write_str("inventory"),
        }
    }
}

pub(crate) struct OptionalKind<'a>(pub &'a Option<Kind>);
