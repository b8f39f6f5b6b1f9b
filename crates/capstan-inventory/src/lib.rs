//! Inventory sync into the local cache, and the topology model drawn from it.
//!
//! * [`sync`]: full and incremental sync of one environment from Prism Central (and
//!   Palette) into `capstan-store`, page by page, resumable, with progress and cancel.
//! * [`topology`]: the Palette → PCG → Prism Central → Prism Element → Kubernetes cluster →
//!   pools → VMs graph, built from the cache, with VM groups for large estates and search.
//!
//! Nothing here knows about Tauri; every type the UI sees serialises to camelCase JSON.

pub mod error;
pub mod sync;
pub mod topology;

pub use error::{Service, SyncError};
pub use sync::{
    KindReport, PALETTE_KINDS, PRISM_KINDS, SyncMode, SyncOptions, SyncPhase, SyncProgress,
    SyncReport, Syncer, sync_environment,
};
pub use tokio_util::sync::CancellationToken;
