//! Capstan's offline-first local cache: one SQLite file (WAL) in the platform data
//! directory.
//!
//! It holds
//! * environments (names, endpoints, non-secret settings; secrets stay in the OS keyring),
//! * Prism Central inventory (PE clusters, subnets with IP pools, images, VMs with NICs/IPs
//!   and categories, hosts, projects) and Palette state (cloud types, PCGs, cloud accounts,
//!   profiles, clusters, machine pools, nodes), each record with its `last_seen_at`,
//! * workflow drafts, saved as the user types,
//! * a redacted activity log of API calls.
//!
//! Sync runs use mark-and-sweep by generation (see [`cache`]): a failed sync never removes
//! good rows, and a completed full sync removes what disappeared remotely. A row whose
//! content hash has not changed is only marked seen, not rewritten, so re-syncing an
//! unchanged estate is cheap. [`Store::vm_summaries`] reads every VM's facts without its
//! JSON, for the topology; [`RedactedJson`] reads API entities straight into redacted text.
//!
//! Nothing here knows about Tauri or the network. No API takes `capstan_common::Secret`
//! (the crate does not even depend on `capstan-common`): secrets cannot be handed to the
//! store at all. `Store` holds one connection; share it behind a mutex. (A file-backed store
//! also checkpoints its write-ahead log on a thread and connection of its own.)
//!
//! A full sync of one kind, as the sync engine drives it:
//!
//! ```
//! use capstan_store::{EnvironmentSpec, Kind, ListQuery, Store, SyncMode, VmRecord};
//! use serde_json::json;
//!
//! # fn main() -> Result<(), capstan_store::StoreError> {
//! let mut store = Store::open_in_memory()?; // Store::open(data_dir.join(DEFAULT_FILE_NAME))
//! store.put_environment(&EnvironmentSpec {
//!     id: "env-1".into(),
//!     name: "Lab".into(),
//!     palette_url: None,
//!     palette_project_uid: None,
//!     prism_endpoint: Some("https://pc.example:9440".into()),
//!     settings: json!({}),
//! })?;
//!
//! // Resume an interrupted run if there is one, else start afresh.
//! let mut run = match store.resume_sync("env-1", Kind::Vm)? {
//!     Some(run) => run,
//!     None => store.begin_sync("env-1", Kind::Vm, SyncMode::Full)?,
//! };
//! let offset: usize = run.cursor().and_then(|c| c.parse().ok()).unwrap_or(0);
//! // ... POST /vms/list {offset, length: 500} ...
//! let entities = vec![json!({
//!     "metadata": {"uuid": "vm-1"},
//!     "status": {"name": "cp-0", "resources": {"power_state": "ON"}}
//! })];
//! let records = entities
//!     .into_iter()
//!     .map(VmRecord::from_v3)
//!     .collect::<Result<Vec<_>, _>>()?;
//! // Rows and the next cursor commit together.
//! store.upsert_page(&mut run, &records, &(offset + records.len()).to_string())?;
//! // On an error instead: store.fail_sync(run, &error.to_string())? keeps every row.
//! let swept = store.finish_sync(run)?; // removes VMs this run did not see
//! assert_eq!(swept, 0);
//!
//! let query = ListQuery { state: Some("on".into()), ..Default::default() };
//! assert_eq!(store.list("env-1", Kind::Vm, &query)?.total, 1);
//! # Ok(())
//! # }
//! ```

pub mod activity;
pub mod cache;
pub mod drafts;
pub mod entity;
pub mod environments;
pub mod error;
pub mod records;
pub mod redact;
mod schema;
mod store;

pub use activity::{Activity, NewActivity};
pub use cache::{
    CachedEntity, KindSummary, ListQuery, Page, SortBy, SyncMode, SyncRun, SyncState, SyncStatus,
    VmSummary, WriteStats,
};
pub use drafts::Draft;
pub use entity::RedactedJson;
pub use environments::{Environment, EnvironmentSpec};
pub use error::{Result, StoreError};
pub use records::{
    CacheRecord, CloudAccountRecord, CloudTypeRecord, HostRecord, ImageRecord, IpPool, Kind,
    MachinePoolRecord, NodeRecord, PaletteClusterRecord, PcgRecord, PeClusterRecord, ProfileRecord,
    ProjectRecord, SubnetRecord, VmIp, VmRecord,
};
pub use redact::{redact, redact_json, redact_url_credentials};
pub use schema::LATEST_VERSION;
pub use store::{DEFAULT_FILE_NAME, RebuildReport, Store, now_ms};
