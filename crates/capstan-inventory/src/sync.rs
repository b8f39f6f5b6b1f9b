//! Inventory sync: Prism Central and Palette into the local cache.
//!
//! One (environment, kind) at a time, each as a `capstan-store` sync run:
//!
//! * **Prism kinds** (PE clusters, subnets, images, VMs, hosts, projects) are listed with
//!   `POST /<kind>s/list` pages of `page_size`. The first page gives `total_matches`; the
//!   rest are fetched with at most `concurrency` requests in flight (each its own task), and
//!   written **in offset order**, each page in one transaction with the next offset as the
//!   run's cursor (pages that arrived while the previous write ran share one transaction,
//!   up to eight). So after a crash, a failure or a cancel, every row up
//!   to the cursor is in the cache and the next sync resumes there (one page earlier, to
//!   absorb objects deleted meanwhile that shift the offsets).
//! * **Cost at scale.** Entities are redacted while the response is parsed (no JSON tree per
//!   VM; see `capstan_store::RedactedJson`) and turned into records in the fetching task.
//!   Every store call runs on tokio's blocking pool, never on an async worker; one page is
//!   written while the next ones are fetched. The store skips rows whose content hash is
//!   unchanged (they are only marked seen), so a re-sync of an unchanged estate mostly
//!   costs the listing.
//! * **Palette kinds** are small and not offset-paged: cloud types, PCGs (overlords), cloud
//!   accounts of each custom cloud type, cluster profiles, clusters (with their cloud config
//!   and overview health), machine pools (from the cloud configs) and nodes (the machines of
//!   each pool). Each kind is fetched completely, then written in one transaction.
//! * A kind's run is **finished** (and rows it did not see, i.e. objects deleted remotely,
//!   swept) only when its whole list was read. Any failure, including a persistent 429 after
//!   the client's own retries and this module's extra backoff rounds, marks the run failed
//!   and keeps every cached row: a failed sync never wipes good data.
//! * If the list changed under a Prism run (a short page, or `total_matches` moved), the
//!   list is walked once more in the same run before sweeping (at most twice more), so a
//!   shifted offset cannot sweep an object that still exists. An object deleted remotely
//!   after this run read it stays cached until the next sync (it was seen by this run).
//!
//! **Incremental** ([`SyncMode::Incremental`]) means: a kind whose last *completed* sync is
//! younger than [`SyncOptions::max_age`] is skipped, unless it has an interrupted run to
//! resume. Kinds that are synced are always listed completely and swept, because neither v3
//! lists nor Palette's list calls offer a reliable "changed since" filter that also reports
//! deletions. In incremental mode Palette clusters also skip re-reading a cluster's cloud
//! config when its `metadata.lastModifiedTimestamp` equals the cached one (the cached cloud
//! config is kept; this trusts Palette to bump the cluster's timestamp when its pools change).
//! [`SyncMode::Full`] re-lists and re-reads everything requested.
//!
//! Cancelling (the [`CancellationToken`]) stops at the next request boundary; the running
//! kind's run is marked failed ("cancelled"), the pages already written stay, nothing is
//! swept.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use capstan_palette::PaletteClient;
use capstan_prism::{ListResponse, PrismClient, PrismError};
use capstan_store::{
    CloudAccountRecord, CloudTypeRecord, HostRecord, ImageRecord, Kind, ListQuery,
    MachinePoolRecord, NodeRecord, PaletteClusterRecord, PcgRecord, PeClusterRecord, ProfileRecord,
    ProjectRecord, RedactedJson, Store, StoreError, SubnetRecord, SyncRun, VmRecord, now_ms,
};
use futures::{FutureExt, StreamExt};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::error::SyncError;

/// The Prism Central kinds, in sync order (clusters first: everything else points at them).
pub const PRISM_KINDS: [Kind; 6] = [
    Kind::PeCluster,
    Kind::Subnet,
    Kind::Image,
    Kind::Project,
    Kind::Host,
    Kind::Vm,
];

/// The Palette kinds, in sync order (pools and nodes hang off clusters).
pub const PALETTE_KINDS: [Kind; 7] = [
    Kind::CloudType,
    Kind::Pcg,
    Kind::CloudAccount,
    Kind::Profile,
    Kind::PaletteCluster,
    Kind::MachinePool,
    Kind::Node,
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Re-list every requested kind.
    #[default]
    Full,
    /// Skip kinds synced within `max_age` (see the module docs).
    Incremental,
}

#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Kinds to sync; empty means every Prism kind, plus every Palette kind when a Palette
    /// client is given.
    pub kinds: Vec<Kind>,
    /// Page requests in flight at once per Prism kind (and per-cluster calls for Palette).
    pub concurrency: usize,
    /// Entities per Prism page (Prism caps at 500).
    pub page_size: u32,
    pub mode: SyncMode,
    /// Incremental mode: kinds whose last completed sync is younger than this are skipped.
    pub max_age: Duration,
    /// Extra attempts per page after the client's own retries gave up on a transient error
    /// (429, 5xx, timeout, dropped connection), each after a growing pause.
    pub page_attempts: u32,
    /// First pause of those extra attempts; doubles each time.
    pub backoff: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            kinds: Vec::new(),
            concurrency: 4,
            page_size: capstan_prism::MAX_PAGE_SIZE,
            mode: SyncMode::Full,
            max_age: Duration::from_secs(15 * 60),
            page_attempts: 2,
            backoff: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// A fresh run of the kind started.
    Started,
    /// An interrupted run is continued from its cursor (`done` = rows already kept).
    Resumed,
    /// A page was written.
    Fetching,
    /// The whole list was read and stale rows swept.
    Completed,
    /// Incremental mode: the kind is fresh enough.
    Skipped,
    Failed,
    Cancelled,
}

/// One progress event. `total` is unknown until the first page arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    pub environment_id: String,
    pub kind: Kind,
    pub phase: SyncPhase,
    pub done: u64,
    pub total: Option<u64>,
}

/// What happened to one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindReport {
    pub kind: Kind,
    /// Rows written by this call (a resumed run's earlier pages are not counted).
    pub fetched: u64,
    /// Of `fetched`, rows whose content had not changed since the cache last wrote them:
    /// only marked as seen, not rewritten.
    #[serde(default)]
    pub unchanged: u64,
    /// Rows removed because the object is gone remotely.
    pub swept: u64,
    pub resumed: bool,
    pub skipped: bool,
    /// Entities the API returned that could not be read (e.g. no uuid); logged and left out.
    pub unreadable: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub kinds: Vec<KindReport>,
}

impl SyncReport {
    pub fn kind(&self, kind: Kind) -> Option<&KindReport> {
        self.kinds.iter().find(|k| k.kind == kind)
    }
}

/// Syncs one environment. Holds the clients and the shared store; cheap to clone.
#[derive(Clone)]
pub struct Syncer {
    prism: PrismClient,
    palette: Option<PaletteClient>,
    store: Arc<Mutex<Store>>,
}

/// Convenience wrapper around [`Syncer::sync_environment`].
pub async fn sync_environment(
    environment_id: &str,
    prism: &PrismClient,
    palette: Option<&PaletteClient>,
    store: Arc<Mutex<Store>>,
    options: &SyncOptions,
    progress: impl Fn(SyncProgress) + Send + Sync,
    cancel: &CancellationToken,
) -> Result<SyncReport, SyncError> {
    Syncer::new(prism.clone(), palette.cloned(), store)
        .sync_environment(environment_id, options, progress, cancel)
        .await
}

fn is_transient(code: &str) -> bool {
    matches!(
        code,
        "rate_limited" | "server" | "timeout" | "connection_dropped" | "connect" | "protocol"
    )
}

/// Runs `call` until it succeeds, fails for good, or `attempts` extra rounds (with doubling
/// pauses) are used up on transient errors. Cancel-aware at every await.
async fn with_backoff<T, E, F, Fut>(
    attempts: u32,
    backoff: Duration,
    cancel: &CancellationToken,
    code: impl Fn(&E) -> &'static str,
    mut call: F,
) -> Result<Result<T, E>, Cancelled>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut round = 0u32;
    loop {
        let result = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Cancelled),
            r = call() => r,
        };
        match result {
            Err(e) if round < attempts && is_transient(code(&e)) => {
                round += 1;
                let pause = backoff.saturating_mul(1u32 << (round - 1).min(10));
                tracing::debug!(
                    round,
                    ?pause,
                    code = code(&e),
                    "backing off before retrying"
                );
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return Err(Cancelled),
                    _ = tokio::time::sleep(pause) => {}
                }
            }
            other => return Ok(other),
        }
    }
}

struct Cancelled;

fn prism_list_path(kind: Kind) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        Kind::PeCluster => ("clusters/list", "cluster"),
        Kind::Subnet => ("subnets/list", "subnet"),
        Kind::Image => ("images/list", "image"),
        Kind::Vm => ("vms/list", "vm"),
        Kind::Host => ("hosts/list", "host"),
        Kind::Project => ("projects/list", "project"),
        _ => return None,
    })
}

/// Parses entities into records of `R`, leaving out (and counting) unreadable ones.
fn parse_all<T, R>(
    kind: Kind,
    entities: Vec<T>,
    parse: impl Fn(T) -> Result<R, StoreError>,
) -> (Vec<R>, u64) {
    let mut unreadable = 0;
    let records = entities
        .into_iter()
        .filter_map(|e| match parse(e) {
            Ok(r) => Some(r),
            Err(err) => {
                unreadable += 1;
                tracing::warn!(%kind, code = err.code(), "left out an entity the API returned: {err}");
                None
            }
        })
        .collect();
    (records, unreadable)
}

/// Runs `f` on the shared store on tokio's blocking pool: SQLite never occupies an async
/// worker, so fetching and parsing pages carries on while a page is written. A panic inside
/// `f` is passed on.
async fn on_store<T, F>(store: &Arc<Mutex<Store>>, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
{
    let store = Arc::clone(store);
    match tokio::task::spawn_blocking(move || f(&mut store.lock())).await {
        Ok(result) => result,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

/// At most this many fetched pages are written in one transaction (when the writer fell
/// behind and several are waiting): up to 4,000 rows at the maximum page size.
const MAX_PAGES_PER_WRITE: usize = 8;

/// A page write running on the blocking pool; yields the run handle back (with its new
/// cursor and counts) and how many rows the page had.
type PageWrite = tokio::task::JoinHandle<Result<(SyncRun, usize), StoreError>>;

/// A page write with what to report once it committed.
struct PendingPage {
    write: PageWrite,
    /// The offset after this page (its cursor).
    next: usize,
    unreadable: u64,
}

/// One Prism page, already turned into records (in the fetching task, so the CPU work of
/// reading and redacting runs in parallel with the cache writes).
struct PrismPage {
    /// Entities the API returned (the offset step), readable or not.
    len: usize,
    total: Option<u64>,
    records: Records,
    unreadable: u64,
}

enum Records {
    PeCluster(Vec<PeClusterRecord>),
    Subnet(Vec<SubnetRecord>),
    Image(Vec<ImageRecord>),
    Vm(Vec<VmRecord>),
    Host(Vec<HostRecord>),
    Project(Vec<ProjectRecord>),
}

/// A small kind's record from an entity redacted on the way in: parsed into a `Value` for
/// the record's `from_v3` (which redacts again, a no-op). VMs, the large kind, are read
/// from the text directly.
fn via_value<R>(
    from_v3: impl Fn(Value) -> Result<R, StoreError>,
) -> impl Fn(RedactedJson) -> Result<R, StoreError> {
    move |entity| from_v3(serde_json::from_str(entity.as_str())?)
}

impl PrismPage {
    fn parse(kind: Kind, list: ListResponse<RedactedJson>) -> Self {
        let len = list.entities.len();
        let entities = list.entities;
        let (records, unreadable) = match kind {
            Kind::Subnet => {
                let (r, bad) = parse_all(kind, entities, via_value(SubnetRecord::from_v3));
                (Records::Subnet(r), bad)
            }
            Kind::Image => {
                let (r, bad) = parse_all(kind, entities, via_value(ImageRecord::from_v3));
                (Records::Image(r), bad)
            }
            Kind::Vm => {
                let (r, bad) = parse_all(kind, entities, VmRecord::from_redacted);
                (Records::Vm(r), bad)
            }
            Kind::Host => {
                let (r, bad) = parse_all(kind, entities, via_value(HostRecord::from_v3));
                (Records::Host(r), bad)
            }
            Kind::Project => {
                let (r, bad) = parse_all(kind, entities, via_value(ProjectRecord::from_v3));
                (Records::Project(r), bad)
            }
            _ => {
                let (r, bad) = parse_all(kind, entities, via_value(PeClusterRecord::from_v3));
                (Records::PeCluster(r), bad)
            }
        };
        PrismPage {
            len,
            total: list.metadata.total_matches,
            records,
            unreadable,
        }
    }

    /// Appends a later page of the same kind (to be written in the same transaction).
    fn absorb(&mut self, later: PrismPage) {
        self.len += later.len;
        self.total = later.total.or(self.total);
        self.unreadable += later.unreadable;
        match (&mut self.records, later.records) {
            (Records::PeCluster(a), Records::PeCluster(b)) => a.extend(b),
            (Records::Subnet(a), Records::Subnet(b)) => a.extend(b),
            (Records::Image(a), Records::Image(b)) => a.extend(b),
            (Records::Vm(a), Records::Vm(b)) => a.extend(b),
            (Records::Host(a), Records::Host(b)) => a.extend(b),
            (Records::Project(a), Records::Project(b)) => a.extend(b),
            _ => unreachable!("pages of one walk are of one kind"),
        }
    }

    /// Writes the records with `cursor` in one transaction; returns how many were written.
    fn write(
        &self,
        store: &mut Store,
        run: &mut SyncRun,
        cursor: &str,
    ) -> Result<usize, StoreError> {
        match &self.records {
            Records::PeCluster(r) => store.upsert_page(run, r, cursor),
            Records::Subnet(r) => store.upsert_page(run, r, cursor),
            Records::Image(r) => store.upsert_page(run, r, cursor),
            Records::Vm(r) => store.upsert_page(run, r, cursor),
            Records::Host(r) => store.upsert_page(run, r, cursor),
            Records::Project(r) => store.upsert_page(run, r, cursor),
        }
    }
}

/// A fetched Palette cluster, kept for the pool and node kinds.
struct PaletteCluster {
    uid: String,
    cloud_type: String,
    cloud_config_uid: Option<String>,
    /// `v1SpectroCluster` plus its cloud config under `spec.cloudConfig` (redacted by the
    /// store on write) and the overview's `status.health`.
    entity: Value,
}

impl Syncer {
    pub fn new(
        prism: PrismClient,
        palette: Option<PaletteClient>,
        store: Arc<Mutex<Store>>,
    ) -> Self {
        Self {
            prism,
            palette,
            store,
        }
    }

    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.store
    }

    /// Syncs the requested kinds one after another, stopping at the first kind that fails
    /// (later kinds keep their cached data and state). See the module docs.
    pub async fn sync_environment(
        &self,
        environment_id: &str,
        options: &SyncOptions,
        progress: impl Fn(SyncProgress) + Send + Sync,
        cancel: &CancellationToken,
    ) -> Result<SyncReport, SyncError> {
        let wanted = |kind: Kind| options.kinds.is_empty() || options.kinds.contains(&kind);
        let mut report = SyncReport::default();
        for kind in PRISM_KINDS.into_iter().filter(|k| wanted(*k)) {
            report.kinds.push(
                self.sync_prism_kind(environment_id, kind, options, &progress, cancel)
                    .await?,
            );
        }
        if let Some(palette) = &self.palette {
            let mut clusters: Option<Vec<PaletteCluster>> = None;
            for kind in PALETTE_KINDS.into_iter().filter(|k| wanted(*k)) {
                report.kinds.push(
                    self.sync_palette_kind(
                        palette,
                        environment_id,
                        kind,
                        options,
                        &progress,
                        cancel,
                        &mut clusters,
                    )
                    .await?,
                );
            }
        }
        Ok(report)
    }

    /// Starts or resumes the run; `None` when incremental mode skips the kind.
    async fn open_run(
        &self,
        environment_id: &str,
        kind: Kind,
        options: &SyncOptions,
    ) -> Result<Option<(SyncRun, bool)>, SyncError> {
        let environment_id = environment_id.to_owned();
        let incremental = options.mode == SyncMode::Incremental;
        let max_age = i64::try_from(options.max_age.as_millis()).unwrap_or(i64::MAX);
        on_store(&self.store, move |store| {
            if let Some(run) = store.resume_sync(&environment_id, kind)? {
                return Ok(Some((run, true)));
            }
            if incremental {
                let state = store.sync_state(&environment_id, kind)?;
                if state
                    .last_completed_at
                    .is_some_and(|at| now_ms().saturating_sub(at) < max_age)
                {
                    return Ok(None);
                }
            }
            let run = store.begin_sync(&environment_id, kind, capstan_store::SyncMode::Full)?;
            Ok(Some((run, false)))
        })
        .await
        .map_err(|e| SyncError::store(kind, e))
    }

    /// Completes the run (sweeping what it did not see); returns the swept count and how
    /// many rows of the kind are cached now.
    async fn finish(&self, run: SyncRun) -> Result<(u64, u64), SyncError> {
        let kind = run.kind();
        on_store(&self.store, move |store| {
            let environment_id = run.environment_id().to_owned();
            let swept = store.finish_sync(run)?;
            Ok((swept as u64, store.count(&environment_id, kind)?))
        })
        .await
        .map_err(|e| SyncError::store(kind, e))
    }

    /// Marks the run failed (keeping every row) and passes the error on.
    async fn fail(
        &self,
        run: SyncRun,
        err: SyncError,
        progress: &(dyn Fn(SyncPhase) + Sync),
    ) -> SyncError {
        let phase = if matches!(err, SyncError::Cancelled { .. }) {
            SyncPhase::Cancelled
        } else {
            SyncPhase::Failed
        };
        let message = err.to_string();
        if let Err(store_err) =
            on_store(&self.store, move |store| store.fail_sync(run, &message)).await
        {
            tracing::warn!(
                code = store_err.code(),
                "could not record the failed sync: {store_err}"
            );
        }
        progress(phase);
        err
    }

    /// Starts writing `page` (cursor `next`) on the blocking pool.
    fn start_write(&self, run: &SyncRun, page: PrismPage, next: usize) -> PendingPage {
        let store = Arc::clone(&self.store);
        let mut run = run.clone();
        let unreadable = page.unreadable;
        let write = tokio::task::spawn_blocking(move || {
            let written = page.write(&mut store.lock(), &mut run, &next.to_string())?;
            Ok((run, written))
        });
        PendingPage {
            write,
            next,
            unreadable,
        }
    }

    /// Waits for a page write; on success the run handle takes the committed cursor.
    async fn settle(
        pending: PendingPage,
        run: &mut SyncRun,
        report: &mut KindReport,
    ) -> Result<usize, SyncError> {
        let kind = run.kind();
        let (committed, written) = match pending.write.await {
            Ok(result) => result.map_err(|e| SyncError::store(kind, e))?,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        };
        *run = committed;
        report.fetched += written as u64;
        report.unreadable += pending.unreadable;
        Ok(pending.next)
    }

    async fn sync_prism_kind(
        &self,
        environment_id: &str,
        kind: Kind,
        options: &SyncOptions,
        progress: &(impl Fn(SyncProgress) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<KindReport, SyncError> {
        let emit = |phase: SyncPhase, done: u64, total: Option<u64>| {
            progress(SyncProgress {
                environment_id: environment_id.to_owned(),
                kind,
                phase,
                done,
                total,
            })
        };
        let mut report = KindReport {
            kind,
            fetched: 0,
            unchanged: 0,
            swept: 0,
            resumed: false,
            skipped: false,
            unreadable: 0,
        };
        let Some((path, api_kind)) = prism_list_path(kind) else {
            return Ok(report);
        };
        let Some((mut run, resumed)) = self.open_run(environment_id, kind, options).await? else {
            report.skipped = true;
            emit(SyncPhase::Skipped, 0, None);
            return Ok(report);
        };
        report.resumed = resumed;
        let page_size = options.page_size.clamp(1, capstan_prism::MAX_PAGE_SIZE);
        // Resume one page early: objects deleted since the interruption shift later
        // objects to lower offsets, and re-writing a page is harmless.
        let saved: usize = run.cursor().and_then(|c| c.parse().ok()).unwrap_or(0);
        let start = saved.saturating_sub(page_size as usize);
        emit(
            if resumed {
                SyncPhase::Resumed
            } else {
                SyncPhase::Started
            },
            start as u64,
            None,
        );
        let mut last_total = None;
        let mut from = start;
        // One walk normally; again (from 0) when the list moved under us, at most twice.
        for pass in 0..3 {
            let walk = self
                .walk_prism_list(
                    &mut run,
                    path,
                    api_kind,
                    from,
                    page_size,
                    options,
                    cancel,
                    &|done, total| emit(SyncPhase::Fetching, done, total),
                    &mut report,
                )
                .await;
            let consistent = match walk {
                Ok(outcome) => {
                    last_total = outcome.total;
                    outcome.consistent
                }
                Err(err) => {
                    let fetched = report.fetched;
                    return Err(self
                        .fail(run, err, &|phase| emit(phase, fetched, last_total))
                        .await);
                }
            };
            if consistent {
                break;
            }
            tracing::info!(%kind, pass, "the list changed while it was read; reading it again before sweeping");
            from = 0;
        }
        report.unchanged = run.stats().unchanged;
        let (swept, count) = self.finish(run).await?;
        report.swept = swept;
        emit(SyncPhase::Completed, count, Some(count));
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn walk_prism_list(
        &self,
        run: &mut SyncRun,
        path: &'static str,
        api_kind: &'static str,
        start: usize,
        page_size: u32,
        options: &SyncOptions,
        cancel: &CancellationToken,
        on_page: &(dyn Fn(u64, Option<u64>) + Send + Sync),
        report: &mut KindReport,
    ) -> Result<WalkOutcome, SyncError> {
        let kind = run.kind();
        let fetch = |offset: usize| {
            let client = self.prism.clone();
            let cancel = cancel.clone();
            let (attempts, backoff) = (options.page_attempts, options.backoff);
            async move {
                let body = json!({"kind": api_kind, "offset": offset, "length": page_size});
                // Entities are redacted while the response is parsed: no `Value` tree.
                match with_backoff(attempts, backoff, &cancel, PrismError::code, || {
                    client.post_json::<ListResponse<RedactedJson>>(path, &body)
                })
                .await
                {
                    Err(Cancelled) => Err(SyncError::Cancelled { kind }),
                    Ok(Err(e)) => Err(SyncError::prism(kind, e)),
                    Ok(Ok(page)) => Ok(PrismPage::parse(kind, page)),
                }
            }
        };

        let first = fetch(start).await?;
        let total = first.total.map(|t| t as usize);
        let step = first.len;
        let mut next =
            Self::settle(self.start_write(run, first, start + step), run, report).await?;
        on_page(next as u64, total.map(|t| t as u64));
        let Some(total) = total else {
            // No total: walk sequentially until a short or empty page.
            if step > 0 {
                loop {
                    let page = fetch(next).await?;
                    let n = page.len;
                    let pending = self.start_write(run, page, next + n);
                    next = Self::settle(pending, run, report).await?;
                    on_page(next as u64, None);
                    if n < step {
                        break;
                    }
                }
            }
            return Ok(WalkOutcome {
                total: None,
                consistent: true,
            });
        };
        if step == 0 || next >= total {
            return Ok(WalkOutcome {
                total: Some(total as u64),
                consistent: start == 0 || step > 0,
            });
        }
        let mut consistent = true;
        let mut latest_total = total;
        let offsets: Vec<usize> = (next..total).step_by(step).collect();
        // Each page is its own task so fetching continues while earlier pages are written;
        // `buffered` hands them back in offset order, which keeps the cursor honest.
        let mut pages = futures::stream::iter(offsets.into_iter().map(|offset| {
            let task = tokio::spawn(fetch(offset));
            async move {
                let page = match task.await {
                    Ok(page) => page,
                    Err(join) => Err(SyncError::Remote {
                        service: crate::error::Service::PrismCentral,
                        kind,
                        code: "task_failed",
                        message: join.to_string(),
                    }),
                };
                (offset, page)
            }
        }))
        .buffered(options.concurrency.max(1));
        // One page is written while the next is awaited: writes stay in offset order (one
        // at a time) and never hold up the fetches.
        let mut pending: Option<PendingPage> = None;
        let walked = async {
            // Notes what a page says about the list (its total, whether it came back short).
            let check = |offset: usize, page: &PrismPage, latest: &mut usize, whole: &mut bool| {
                if let Some(t) = page.total {
                    *latest = t as usize;
                }
                if page.len < step.min(total - offset) {
                    *whole = false;
                }
            };
            while let Some((offset, page)) = pages.next().await {
                // A page fetched before the cancel is not written after it: the cancel takes
                // effect at the next page boundary.
                if cancel.is_cancelled() {
                    return Err(SyncError::Cancelled { kind });
                }
                let mut page = page?;
                check(offset, &page, &mut latest_total, &mut consistent);
                let mut end = offset + page.len;
                let mut failed = None;
                if let Some(previous) = pending.take() {
                    let done = Self::settle(previous, run, report).await?;
                    on_page(done as u64, Some(latest_total as u64));
                    // Pages that arrived while the writer was busy go into one transaction:
                    // fewer, larger commits cost less per row. The cursor still lands after
                    // the last of them.
                    for _ in 1..MAX_PAGES_PER_WRITE {
                        if cancel.is_cancelled() {
                            break;
                        }
                        let Some(Some((offset, more))) = pages.next().now_or_never() else {
                            break;
                        };
                        match more {
                            Ok(more) => {
                                check(offset, &more, &mut latest_total, &mut consistent);
                                end = offset + more.len;
                                page.absorb(more);
                            }
                            Err(err) => {
                                failed = Some(err);
                                break;
                            }
                        }
                    }
                }
                // Pages before a failed one are still written (and count for a resume).
                pending = Some(self.start_write(run, page, end));
                if let Some(err) = failed {
                    return Err(err);
                }
            }
            Ok(())
        }
        .await;
        // Whatever happened, the write in flight finishes (and counts) before the run is
        // completed or marked failed.
        let last = match pending.take() {
            Some(previous) => Self::settle(previous, run, report).await.map(Some),
            None => Ok(None),
        };
        walked?;
        if let Some(done) = last? {
            on_page(done as u64, Some(latest_total as u64));
        }
        Ok(WalkOutcome {
            total: Some(latest_total as u64),
            consistent: consistent && latest_total == total,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn sync_palette_kind(
        &self,
        palette: &PaletteClient,
        environment_id: &str,
        kind: Kind,
        options: &SyncOptions,
        progress: &(impl Fn(SyncProgress) + Send + Sync),
        cancel: &CancellationToken,
        clusters: &mut Option<Vec<PaletteCluster>>,
    ) -> Result<KindReport, SyncError> {
        let emit = |phase: SyncPhase, done: u64, total: Option<u64>| {
            progress(SyncProgress {
                environment_id: environment_id.to_owned(),
                kind,
                phase,
                done,
                total,
            })
        };
        let mut report = KindReport {
            kind,
            fetched: 0,
            unchanged: 0,
            swept: 0,
            resumed: false,
            skipped: false,
            unreadable: 0,
        };
        let Some((run, resumed)) = self.open_run(environment_id, kind, options).await? else {
            report.skipped = true;
            emit(SyncPhase::Skipped, 0, None);
            return Ok(report);
        };
        report.resumed = resumed;
        emit(
            if resumed {
                SyncPhase::Resumed
            } else {
                SyncPhase::Started
            },
            0,
            None,
        );
        let fetched = self
            .fetch_palette_kind(palette, environment_id, kind, options, cancel, clusters)
            .await;
        let entities = match fetched {
            Ok(entities) => entities,
            Err(err) => return Err(self.fail(run, err, &|phase| emit(phase, 0, None)).await),
        };
        let total = entities.len();
        let cursor = total.to_string();
        let written = {
            // The whole kind in one transaction, on the blocking pool.
            macro_rules! page {
                ($records:expr) => {{
                    let (records, bad) = $records;
                    report.unreadable = bad;
                    let mut run = run.clone();
                    on_store(&self.store, move |store| {
                        let written = store.upsert_page(&mut run, &records, &cursor)?;
                        Ok((run, written))
                    })
                    .await
                }};
            }
            match kind {
                Kind::CloudType => page!(parse_all(
                    kind,
                    entities.into_iter().map(|(_, _, e)| e).collect(),
                    CloudTypeRecord::from_palette
                )),
                Kind::Pcg => page!(parse_all(
                    kind,
                    entities.into_iter().map(|(_, _, e)| e).collect(),
                    PcgRecord::from_palette
                )),
                Kind::CloudAccount => page!(parse_all(
                    kind,
                    entities.into_iter().map(|(_, _, e)| e).collect(),
                    CloudAccountRecord::from_palette
                )),
                Kind::Profile => page!(parse_all(
                    kind,
                    entities.into_iter().map(|(_, _, e)| e).collect(),
                    ProfileRecord::from_palette
                )),
                Kind::PaletteCluster => page!(parse_all(
                    kind,
                    entities.into_iter().map(|(_, _, e)| e).collect(),
                    PaletteClusterRecord::from_palette
                )),
                Kind::MachinePool => page!(parse_all(kind, entities, |(cluster, _, e)| {
                    MachinePoolRecord::from_palette(&cluster, e)
                })),
                Kind::Node => page!(parse_all(kind, entities, |(cluster, pool, e)| {
                    NodeRecord::from_palette(&cluster, &pool, e)
                })),
                _ => Ok((run.clone(), 0)),
            }
        };
        let (run, written) = match written {
            Ok(done) => done,
            Err(e) => {
                let err = SyncError::store(kind, e);
                return Err(self.fail(run, err, &|phase| emit(phase, 0, None)).await);
            }
        };
        report.fetched = written as u64;
        report.unchanged = run.stats().unchanged;
        let (swept, _) = self.finish(run).await?;
        report.swept = swept;
        emit(SyncPhase::Completed, written as u64, Some(written as u64));
        Ok(report)
    }

    /// Every entity of a Palette kind, as `(cluster uid, pool name, entity)` (the first two
    /// only matter for pools and nodes).
    async fn fetch_palette_kind(
        &self,
        palette: &PaletteClient,
        environment_id: &str,
        kind: Kind,
        options: &SyncOptions,
        cancel: &CancellationToken,
        clusters: &mut Option<Vec<PaletteCluster>>,
    ) -> Result<Vec<(String, String, Value)>, SyncError> {
        let get = |path: String| {
            let (attempts, backoff) = (options.page_attempts, options.backoff);
            async move {
                match with_backoff(
                    attempts,
                    backoff,
                    cancel,
                    capstan_palette::PaletteError::code,
                    || palette.get_json::<Value>(&path),
                )
                .await
                {
                    Err(Cancelled) => Err(SyncError::Cancelled { kind }),
                    Ok(result) => Ok(result),
                }
            }
        };
        let must = |result: Result<Value, capstan_palette::PaletteError>| {
            result.map_err(|e| SyncError::palette(kind, e))
        };
        let items = |v: Value, field: &str| -> Vec<Value> {
            match v {
                Value::Array(list) => list,
                mut other => match other.get_mut(field).map(Value::take) {
                    Some(Value::Array(list)) => list,
                    _ => Vec::new(),
                },
            }
        };
        let bare = |list: Vec<Value>| {
            list.into_iter()
                .map(|e| (String::new(), String::new(), e))
                .collect::<Vec<_>>()
        };
        let concurrency = options.concurrency.max(1);
        match kind {
            Kind::CloudType => Ok(bare(items(
                must(get("/v1/clouds/cloudTypes".into()).await?)?,
                "cloudTypes",
            ))),
            Kind::Pcg => Ok(bare(items(
                must(get("/v1/overlords".into()).await?)?,
                "items",
            ))),
            Kind::CloudAccount => {
                let types = items(
                    must(get("/v1/clouds/cloudTypes".into()).await?)?,
                    "cloudTypes",
                );
                let mut out = Vec::new();
                for ct in types
                    .iter()
                    .filter(|t| t.get("isCustom").and_then(Value::as_bool) == Some(true))
                    .filter_map(|t| t.get("name").and_then(Value::as_str))
                {
                    let path = format!("/v1/cloudaccounts/cloudTypes/{ct}");
                    let listed = tokio::select! {
                        biased;
                        _ = cancel.cancelled() => return Err(SyncError::Cancelled { kind }),
                        r = palette.list_all::<Value>(&path) => r,
                    };
                    match listed {
                        Ok(list) => out.extend(bare(list)),
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(SyncError::palette(kind, e)),
                    }
                }
                Ok(out)
            }
            Kind::Profile => {
                let meta = items(
                    must(get("/v1/dashboard/clusterprofiles/metadata".into()).await?)?,
                    "items",
                );
                let uids: Vec<String> = meta
                    .iter()
                    .filter_map(|m| m.pointer("/metadata/uid").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect();
                let mut out = Vec::new();
                let mut fetches = futures::stream::iter(uids.into_iter().map(|uid| {
                    let get = &get;
                    async move { get(format!("/v1/clusterprofiles/{uid}")).await }
                }))
                .buffered(concurrency);
                while let Some(result) = fetches.next().await {
                    match result? {
                        Ok(profile) => out.push((String::new(), String::new(), profile)),
                        // Deleted between the list and the read.
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(SyncError::palette(kind, e)),
                    }
                }
                Ok(out)
            }
            Kind::PaletteCluster | Kind::MachinePool | Kind::Node => {
                if clusters.is_none() {
                    *clusters = Some(
                        self.fetch_palette_clusters(environment_id, &get, kind, options)
                            .await?,
                    );
                }
                let list = clusters.as_ref().map(Vec::as_slice).unwrap_or_default();
                match kind {
                    Kind::PaletteCluster => Ok(list
                        .iter()
                        .map(|c| (c.uid.clone(), String::new(), c.entity.clone()))
                        .collect()),
                    Kind::MachinePool => Ok(list
                        .iter()
                        .flat_map(|c| {
                            pool_configs(c)
                                .into_iter()
                                .map(|p| (c.uid.clone(), String::new(), p))
                        })
                        .collect()),
                    _ => {
                        let mut targets = Vec::new();
                        for c in list {
                            let Some(config_uid) = &c.cloud_config_uid else {
                                continue;
                            };
                            for pool in pool_configs(c) {
                                if let Some(name) = pool.get("name").and_then(Value::as_str) {
                                    targets.push((
                                        c.uid.clone(),
                                        name.to_owned(),
                                        format!(
                                            "/v1/cloudconfigs/cloudTypes/{}/{config_uid}/machinePools/{name}/machines",
                                            c.cloud_type
                                        ),
                                    ));
                                }
                            }
                        }
                        let mut out = Vec::new();
                        let mut fetches = futures::stream::iter(targets.into_iter().map(
                            |(cluster, pool, path)| async move {
                                let listed = tokio::select! {
                                    biased;
                                    _ = cancel.cancelled() => return Err(SyncError::Cancelled { kind }),
                                    r = palette.list_all::<Value>(&path) => r,
                                };
                                Ok((cluster, pool, listed))
                            },
                        ))
                        .buffered(concurrency);
                        while let Some(result) = fetches.next().await {
                            let (cluster, pool, listed) = result?;
                            match listed {
                                Ok(machines) => out.extend(
                                    machines
                                        .into_iter()
                                        .map(|m| (cluster.clone(), pool.clone(), m)),
                                ),
                                Err(e) if e.is_not_found() => {}
                                Err(e) => return Err(SyncError::palette(kind, e)),
                            }
                        }
                        Ok(out)
                    }
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Lists the clusters (metadata), then reads each cluster, its cloud config and its
    /// overview with bounded concurrency.
    async fn fetch_palette_clusters<'a, G, Fut>(
        &self,
        environment_id: &str,
        get: &'a G,
        kind: Kind,
        options: &SyncOptions,
    ) -> Result<Vec<PaletteCluster>, SyncError>
    where
        G: Fn(String) -> Fut,
        Fut: Future<Output = Result<Result<Value, capstan_palette::PaletteError>, SyncError>> + 'a,
    {
        let concurrency = options.concurrency.max(1);
        let incremental = options.mode == SyncMode::Incremental;
        let meta = get("/v1/dashboard/spectroclusters/meta".into())
            .await?
            .map_err(|e| SyncError::palette(kind, e))?;
        let meta_items = match meta {
            Value::Array(list) => list,
            mut other => match other.get_mut("items").map(Value::take) {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            },
        };
        // What the cache already knows, for the incremental cloud-config shortcut.
        let cached: HashMap<String, Value> = {
            let environment_id = environment_id.to_owned();
            on_store(&self.store, move |store| {
                let mut map = HashMap::new();
                let mut offset = 0;
                loop {
                    let page = store.list(
                        &environment_id,
                        Kind::PaletteCluster,
                        &ListQuery {
                            limit: ListQuery::MAX_LIMIT,
                            offset,
                            ..ListQuery::default()
                        },
                    )?;
                    let n = page.items.len() as u64;
                    for item in page.items {
                        map.insert(item.id, item.json);
                    }
                    offset += n;
                    if n == 0 || offset >= page.total {
                        break;
                    }
                }
                Ok(map)
            })
            .await
            .map_err(|e| SyncError::store(kind, e))?
        };
        let uids: Vec<(String, Option<String>)> = meta_items
            .iter()
            .filter_map(|m| {
                let uid = m.pointer("/metadata/uid")?.as_str()?.to_owned();
                let modified = m
                    .pointer("/metadata/lastModifiedTimestamp")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Some((uid, modified))
            })
            .collect();
        let mut fetches = futures::stream::iter(uids.into_iter().map(|(uid, modified)| {
            let cached = cached.get(&uid).cloned();
            async move {
                let cluster = match get(format!("/v1/spectroclusters/{uid}")).await? {
                    Ok(c) => c,
                    Err(e) if e.is_not_found() => return Ok(None),
                    Err(e) => return Err(SyncError::palette(kind, e)),
                };
                let cloud_type = cluster
                    .pointer("/spec/cloudType")
                    .and_then(Value::as_str)
                    .unwrap_or("nutanix")
                    .to_owned();
                let config_uid = cluster
                    .pointer("/spec/cloudConfigRef/uid")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let unchanged = incremental
                    && modified.is_some()
                    && cached
                        .as_ref()
                        .and_then(|c| c.pointer("/metadata/lastModifiedTimestamp"))
                        .and_then(Value::as_str)
                        == modified.as_deref();
                let cloud_config = match (&config_uid, unchanged) {
                    (_, true)
                        if cached
                            .as_ref()
                            .and_then(|c| c.pointer("/spec/cloudConfig"))
                            .is_some() =>
                    {
                        cached
                            .as_ref()
                            .and_then(|c| c.pointer("/spec/cloudConfig"))
                            .cloned()
                    }
                    (Some(cfg), _) => {
                        match get(format!("/v1/cloudconfigs/cloudTypes/{cloud_type}/{cfg}")).await?
                        {
                            Ok(c) => Some(c),
                            Err(e) if e.is_not_found() => None,
                            Err(e) => return Err(SyncError::palette(kind, e)),
                        }
                    }
                    (None, _) => None,
                };
                // Health lives only in the overview; a missing overview is not an error.
                let health =
                    match get(format!("/v1/dashboard/spectroclusters/{uid}/overview")).await? {
                        Ok(o) => o.pointer("/status/health").cloned(),
                        Err(_) => None,
                    };
                Ok(Some((
                    cluster,
                    cloud_type,
                    config_uid,
                    cloud_config,
                    health,
                )))
            }
        }))
        .buffered(concurrency);
        let mut out = Vec::new();
        while let Some(result) = fetches.next().await {
            let Some((mut cluster, cloud_type, cloud_config_uid, cloud_config, health)) = result?
            else {
                continue;
            };
            let Some(uid) = cluster
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            if let Some(obj) = cluster.as_object_mut() {
                let spec = obj.entry("spec").or_insert_with(|| json!({}));
                if let (Some(spec), Some(cfg)) = (spec.as_object_mut(), &cloud_config) {
                    spec.insert("cloudConfig".into(), cfg.clone());
                }
                if let Some(h) = health {
                    let status = obj.entry("status").or_insert_with(|| json!({}));
                    if let Some(status) = status.as_object_mut() {
                        status.insert("health".into(), h);
                    }
                }
            }
            out.push(PaletteCluster {
                uid,
                cloud_type,
                cloud_config_uid,
                entity: cluster,
            });
        }
        Ok(out)
    }
}

fn pool_configs(c: &PaletteCluster) -> Vec<Value> {
    c.entity
        .pointer("/spec/cloudConfig/spec/machinePoolConfig")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

struct WalkOutcome {
    total: Option<u64>,
    consistent: bool,
}
