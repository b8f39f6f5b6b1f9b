//! The offline-first cache behind the Topology and Clusters pages: the SQLite store, the
//! one inventory sync that may run at a time (with progress events and cancel), the
//! topology model read from the cache, and the list queries.
//!
//! Everything that touches SQLite runs on the blocking pool (`spawn_blocking`), never on
//! the async workers that serve IPC. The topology model is read once per environment and
//! kept until a sync changes the cache, so expanding a group re-draws without a query.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use capstan_inventory::topology::{TopologyModel, TopologyOptions};
use capstan_inventory::{CancellationToken, SyncError, SyncOptions, SyncPhase, Syncer};
use capstan_ipc::inventory::*;
use capstan_ipc::setup::EnvironmentConfig;
use capstan_ipc::{ErrorCode, IpcError};
use capstan_store::{EnvironmentSpec, Kind, ListQuery, SortBy, Store, SyncStatus};
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::environments::ActiveTarget;

/// Cached data older than this is shown as stale.
pub const STALE_AFTER_SECONDS: u64 = 15 * 60;
const CACHE_FILE: &str = "capstan.db";

pub(crate) struct Cache {
    store: Mutex<Arc<Mutex<Store>>>,
    path: PathBuf,
    problem: Mutex<Option<String>>,
    /// The topology model of one environment, dropped when a sync changes the cache.
    model: Mutex<Option<(String, Arc<TopologyModel>)>>,
    sync: Mutex<Option<RunningSync>>,
    next_run: AtomicU64,
}

struct RunningSync {
    cancel: CancellationToken,
    last: SyncEvent,
}

impl Cache {
    /// Opens `<data_dir>/capstan.db`. A file that cannot be opened (damaged, written by a
    /// newer Capstan) is left untouched: the app runs on an in-memory cache and says so,
    /// and "Rebuild cache" moves the file aside and starts a fresh one.
    pub(crate) fn open(data_dir: &std::path::Path) -> Self {
        let path = data_dir.join(CACHE_FILE);
        let (store, problem) = match Store::open(&path) {
            Ok(store) => (store, None),
            Err(e) => {
                tracing::error!(code = e.code(), path = %path.display(), "cache could not be opened: {e}");
                let problem = format!(
                    "The cache file {} could not be opened ({e}). Capstan is using a temporary in-memory cache; \
                     use \"Rebuild cache\" to move the file aside and start a fresh one.",
                    path.display()
                );
                let memory = Store::open_in_memory().expect("an in-memory SQLite database opens");
                (memory, Some(problem))
            }
        };
        Self {
            store: Mutex::new(Arc::new(Mutex::new(store))),
            path,
            problem: Mutex::new(problem),
            model: Mutex::new(None),
            sync: Mutex::new(None),
            next_run: AtomicU64::new(1),
        }
    }

    pub(crate) fn store(&self) -> Arc<Mutex<Store>> {
        self.store.lock().clone()
    }

    fn database_label(&self) -> String {
        if self.problem.lock().is_some() {
            ":memory:".into()
        } else {
            self.path.display().to_string()
        }
    }

    /// Runs `f` with the store on the blocking pool.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, capstan_store::StoreError> + Send + 'static,
    ) -> Result<T, IpcError> {
        let store = self.store();
        tokio::task::spawn_blocking(move || f(&mut store.lock()))
            .await
            .map_err(|e| IpcError::internal(format!("A cache task failed: {e}.")))?
            .map_err(store_error)
    }

    /// Records the sandbox's current endpoints so cached rows have an owner (real
    /// environments are written by [`Cache::save_environment`]).
    pub(crate) async fn register_sandbox(
        &self,
        id: &str,
        name: &str,
        target: &ActiveTarget,
    ) -> Result<(), IpcError> {
        let ActiveTarget::Sandbox {
            palette_url,
            prism_url,
            ..
        } = target
        else {
            return Ok(());
        };
        let spec = EnvironmentSpec {
            id: id.to_owned(),
            name: name.to_owned(),
            palette_url: Some(palette_url.clone()),
            palette_project_uid: None,
            prism_endpoint: Some(prism_url.clone()),
            settings: json!({ "sandbox": true }),
        };
        self.with_store(move |s| s.put_environment(&spec).map(|_| ()))
            .await
    }

    /// Real environments saved in the cache database (read once at start-up).
    pub(crate) fn load_environments(&self) -> Vec<EnvironmentConfig> {
        let store = self.store();
        let store = store.lock();
        match store.environments() {
            Ok(all) => all
                .into_iter()
                .filter_map(|e| {
                    let config = e.spec.settings.get("config")?.clone();
                    match serde_json::from_value::<EnvironmentConfig>(config) {
                        Ok(c) => Some(c),
                        Err(err) => {
                            tracing::warn!(id = %e.spec.id, "saved environment could not be read: {err}");
                            None
                        }
                    }
                })
                .collect(),
            Err(e) => {
                tracing::warn!(code = e.code(), "environments could not be read from the cache: {e}");
                Vec::new()
            }
        }
    }

    pub(crate) async fn save_environment(
        &self,
        config: &EnvironmentConfig,
    ) -> Result<(), IpcError> {
        let spec = EnvironmentSpec {
            id: config.id.clone(),
            name: config.name.clone(),
            palette_url: Some(config.palette.url.clone()).filter(|u| !u.is_empty()),
            palette_project_uid: config.palette.project_uid.clone(),
            prism_endpoint: Some(crate::connection::prism_address(config)),
            settings: json!({ "config": config }),
        };
        self.with_store(move |s| s.put_environment(&spec).map(|_| ()))
            .await
            .map_err(|e| {
                if e.details
                    .as_ref()
                    .and_then(|d| d.get("storeCode"))
                    .and_then(Value::as_str)
                    == Some("store_duplicate_environment_name")
                {
                    crate::connection::invalid(
                        "name",
                        "Another environment already has this name. Choose a different name.",
                    )
                } else {
                    e
                }
            })
    }

    /// Deletes the environment and everything cached for it.
    pub(crate) async fn delete_environment(&self, id: &str) -> Result<(), IpcError> {
        let id = id.to_owned();
        if self
            .model
            .lock()
            .as_ref()
            .is_some_and(|(env, _)| *env == id)
        {
            *self.model.lock() = None;
        }
        self.with_store(move |s| s.delete_environment(&id).map(|_| ()))
            .await
    }

    pub(crate) async fn summary(&self, environment_id: &str) -> Result<CacheSummary, IpcError> {
        let env = environment_id.to_owned();
        let kinds = self
            .with_store(move |s| {
                if s.environment(&env)?.is_none() {
                    return Ok(Vec::new());
                }
                s.summary(&env)
            })
            .await?;
        let now = capstan_store::now_ms();
        let kinds: Vec<KindCacheSummary> = kinds
            .into_iter()
            .map(|k| kind_summary(k.kind, k.count, &k.sync, now))
            .collect();
        let freshness = freshness(&kinds);
        Ok(CacheSummary {
            environment_id: environment_id.to_owned(),
            database: self.database_label(),
            kinds,
            freshness,
            sync: self.sync.lock().as_ref().map(|r| r.last.clone()),
            problem: self.problem.lock().clone(),
        })
    }

    /// The freshness alone, from the small sync-state table: every list page and topology
    /// answer carries it, so it must not count or scan the inventory tables.
    async fn freshness_of(&self, environment_id: &str) -> Freshness {
        let env = environment_id.to_owned();
        let states = self
            .with_store(move |s| {
                Kind::ALL
                    .into_iter()
                    .map(|kind| Ok((kind, s.sync_state(&env, kind)?)))
                    .collect::<Result<Vec<_>, capstan_store::StoreError>>()
            })
            .await;
        let now = capstan_store::now_ms();
        match states {
            Ok(states) => freshness(
                &states
                    .iter()
                    .map(|(kind, state)| kind_summary(*kind, 0, state, now))
                    .collect::<Vec<_>>(),
            ),
            Err(_) => Freshness {
                synced_at: None,
                age_seconds: None,
                empty: true,
                stale: true,
            },
        }
    }

    pub(crate) async fn rebuild(&self) -> Result<(), IpcError> {
        if self.sync.lock().is_some() {
            return Err(IpcError::new(
                ErrorCode::Conflict,
                "A sync is running. Cancel it (or wait for it to finish), then rebuild the cache.",
            ));
        }
        let path = self.path.clone();
        // Close the current connection first: rebuild moves the file aside.
        let placeholder = Store::open_in_memory().map_err(store_error)?;
        let old = std::mem::replace(&mut *self.store.lock(), Arc::new(Mutex::new(placeholder)));
        drop(old);
        let result = tokio::task::spawn_blocking(move || Store::rebuild(&path))
            .await
            .map_err(|e| IpcError::internal(format!("The cache rebuild task failed: {e}.")))?;
        match result {
            Ok((store, report)) => {
                *self.store.lock() = Arc::new(Mutex::new(store));
                *self.problem.lock() = None;
                *self.model.lock() = None;
                tracing::info!(
                    backup = ?report.backup_path,
                    environments_kept = report.environments_kept,
                    drafts_kept = report.drafts_kept,
                    "cache rebuilt"
                );
                Ok(())
            }
            Err(e) => {
                *self.problem.lock() = Some(format!(
                    "The cache could not be rebuilt ({e}). Capstan keeps using a temporary in-memory cache."
                ));
                Err(store_error(e))
            }
        }
    }

    // ---- sync ----------------------------------------------------------------------------

    pub(crate) fn running_sync(&self) -> Option<SyncEvent> {
        self.sync.lock().as_ref().map(|r| r.last.clone())
    }

    /// Starts a sync unless one runs. `emit` receives every progress event; `done` is
    /// called once with the last event.
    pub(crate) fn start_sync(
        self: &Arc<Self>,
        environment_id: &str,
        clients: crate::clients::Clients,
        options: SyncOptions,
        emit: Arc<dyn Fn(&SyncEvent) + Send + Sync>,
    ) -> SyncStarted {
        let with_palette = clients.palette.is_some();
        let mut slot = self.sync.lock();
        if let Some(running) = slot.as_ref() {
            return SyncStarted {
                run_id: running.last.run_id,
                started: false,
            };
        }
        let run_id = self.next_run.fetch_add(1, Ordering::Relaxed);
        let kinds_total = if options.kinds.is_empty() {
            capstan_inventory::PRISM_KINDS.len()
                + capstan_inventory::PALETTE_KINDS.len() * usize::from(with_palette)
        } else {
            options.kinds.len()
        } as u32;
        let started = Instant::now();
        let first = SyncEvent {
            run_id,
            environment_id: environment_id.to_owned(),
            phase: SyncEventPhase::Started,
            kind: None,
            kinds_done: 0,
            kinds_total,
            done: 0,
            total: None,
            started_at: crate::now_rfc3339(),
            elapsed_ms: 0,
            error: None,
        };
        let cancel = CancellationToken::new();
        *slot = Some(RunningSync {
            cancel: cancel.clone(),
            last: first.clone(),
        });
        drop(slot);
        emit(&first);

        let syncer = Syncer::new(clients.prism, clients.palette, self.store());
        let cache = Arc::clone(self);
        let env = environment_id.to_owned();
        tokio::spawn(async move {
            let kinds_done = AtomicU64::new(0);
            let progress = |p: capstan_inventory::SyncProgress| {
                if matches!(p.phase, SyncPhase::Completed | SyncPhase::Skipped) {
                    kinds_done.fetch_add(1, Ordering::Relaxed);
                }
                let event = {
                    let mut slot = cache.sync.lock();
                    let Some(running) = slot.as_mut() else { return };
                    running.last = SyncEvent {
                        phase: SyncEventPhase::Progress,
                        kind: Some(entity_kind(p.kind)),
                        kinds_done: kinds_done.load(Ordering::Relaxed) as u32,
                        done: p.done,
                        total: p.total,
                        elapsed_ms: started.elapsed().as_millis() as u64,
                        ..running.last.clone()
                    };
                    running.last.clone()
                };
                emit(&event);
            };
            let result = syncer
                .sync_environment(&env, &options, progress, &cancel)
                .await;
            // The cache changed (even a failed run may have written pages): redraw.
            *cache.model.lock() = None;
            let mut last = cache
                .sync
                .lock()
                .take()
                .map(|r| r.last)
                .unwrap_or_else(|| first.clone());
            last.elapsed_ms = started.elapsed().as_millis() as u64;
            match result {
                Ok(report) => {
                    last.phase = SyncEventPhase::Completed;
                    last.kinds_done = last.kinds_total;
                    let fetched: u64 = report.kinds.iter().map(|k| k.fetched).sum();
                    let swept: u64 = report.kinds.iter().map(|k| k.swept).sum();
                    tracing::info!(
                        environment = %env,
                        fetched,
                        swept,
                        elapsed_ms = last.elapsed_ms,
                        "inventory sync finished"
                    );
                }
                Err(SyncError::Cancelled { kind }) => {
                    last.phase = SyncEventPhase::Cancelled;
                    last.kind = Some(entity_kind(kind));
                    tracing::info!(environment = %env, "inventory sync cancelled; the next sync resumes");
                }
                Err(e) => {
                    last.phase = SyncEventPhase::Failed;
                    last.kind = e.kind().map(entity_kind).or(last.kind);
                    last.error = Some(SyncFailure {
                        code: sync_error_code(&e),
                        message: sentence(&e.to_string()),
                        resumable: e.is_resumable(),
                    });
                    tracing::warn!(environment = %env, code = e.code(), "inventory sync failed: {e}");
                }
            }
            emit(&last);
        });
        SyncStarted {
            run_id,
            started: true,
        }
    }

    pub(crate) fn cancel_sync(&self) -> SyncCancelled {
        match self.sync.lock().as_ref() {
            Some(running) => {
                running.cancel.cancel();
                SyncCancelled { cancelled: true }
            }
            None => SyncCancelled { cancelled: false },
        }
    }

    // ---- views ---------------------------------------------------------------------------

    async fn model(&self, environment_id: &str) -> Result<Arc<TopologyModel>, IpcError> {
        if let Some((env, model)) = self.model.lock().as_ref()
            && env == environment_id
        {
            return Ok(Arc::clone(model));
        }
        let env = environment_id.to_owned();
        let started = Instant::now();
        let model = Arc::new(
            self.with_store(move |s| TopologyModel::load(s, &env))
                .await?,
        );
        tracing::debug!(
            vms = model.vm_count(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "topology model loaded from the cache"
        );
        *self.model.lock() = Some((environment_id.to_owned(), Arc::clone(&model)));
        Ok(model)
    }

    pub(crate) async fn topology(
        &self,
        environment_id: &str,
        request: TopologyRequest,
    ) -> Result<TopologyView, IpcError> {
        let model = self.model(environment_id).await?;
        let options = topology_options(&request.expanded, request.inline_limit);
        let vm_count = model.vm_count() as u64;
        let graph = tokio::task::spawn_blocking(move || model.graph(&options))
            .await
            .map_err(|e| IpcError::internal(format!("Drawing the topology failed: {e}.")))?;
        Ok(TopologyView {
            environment_id: environment_id.to_owned(),
            graph,
            vm_count,
            freshness: self.freshness_of(environment_id).await,
        })
    }

    pub(crate) async fn search(
        &self,
        environment_id: &str,
        request: TopologySearchRequest,
    ) -> Result<TopologySearchResult, IpcError> {
        let model = self.model(environment_id).await?;
        let options = topology_options(&request.expanded, None);
        let limit = request.limit.unwrap_or(50).clamp(1, 500) as usize;
        let hits =
            tokio::task::spawn_blocking(move || model.search(&request.text, &options, limit))
                .await
                .map_err(|e| IpcError::internal(format!("Searching the topology failed: {e}.")))?;
        Ok(TopologySearchResult { hits })
    }

    pub(crate) async fn clusters(&self, environment_id: &str) -> Result<ClusterList, IpcError> {
        let model = self.model(environment_id).await?;
        let graph = tokio::task::spawn_blocking(move || {
            model.graph(&TopologyOptions {
                inline_limit: 0,
                ..TopologyOptions::default()
            })
        })
        .await
        .map_err(|e| IpcError::internal(format!("Reading the clusters failed: {e}.")))?;
        Ok(ClusterList {
            clusters: cluster_rows(&graph),
            freshness: self.freshness_of(environment_id).await,
        })
    }

    pub(crate) async fn list(
        &self,
        environment_id: &str,
        query: InventoryQuery,
    ) -> Result<InventoryPage, IpcError> {
        let env = environment_id.to_owned();
        let kind = store_kind(query.kind);
        let list_query = ListQuery {
            search: query.search.clone().filter(|s| !s.trim().is_empty()),
            parent: query.parent.clone().filter(|s| !s.is_empty()),
            state: query.state.clone().filter(|s| !s.is_empty()),
            sort: match query.sort {
                InventorySort::Name => SortBy::Name,
                InventorySort::State => SortBy::State,
                InventorySort::Parent => SortBy::Parent,
                InventorySort::LastSeen => SortBy::LastSeen,
            },
            descending: query.descending,
            limit: query.limit.unwrap_or(200).clamp(1, ListQuery::MAX_LIMIT),
            offset: u64::from(query.offset),
            ..ListQuery::default()
        };
        let (page, parents) = self
            .with_store(move |s| {
                let page = s.list(&env, kind, &list_query)?;
                let parents = parent_names(s, &env, kind)?;
                Ok((page, parents))
            })
            .await?;
        Ok(InventoryPage {
            kind: query.kind,
            total: page.total,
            offset: query.offset,
            rows: page
                .items
                .into_iter()
                .map(|e| inventory_row(e, &parents))
                .collect(),
            freshness: self.freshness_of(environment_id).await,
        })
    }

    pub(crate) async fn get(
        &self,
        environment_id: &str,
        request: InventoryGetRequest,
    ) -> Result<InventoryItem, IpcError> {
        let env = environment_id.to_owned();
        let kind = store_kind(request.kind);
        let id = request.id.clone();
        let (entity, parents) = self
            .with_store(move |s| Ok((s.get(&env, kind, &id)?, parent_names(s, &env, kind)?)))
            .await?;
        let entity = entity.ok_or_else(|| {
            IpcError::new(
                ErrorCode::NotFound,
                format!(
                    "No cached {} with id \"{}\". It may have been deleted; sync the inventory and try again.",
                    request.kind.as_str().replace('_', " "),
                    request.id
                ),
            )
        })?;
        let raw = entity.json.clone();
        Ok(InventoryItem {
            row: inventory_row(entity, &parents),
            raw,
        })
    }
}

// ---- mapping helpers --------------------------------------------------------------------

fn topology_options(expanded: &[String], inline_limit: Option<u32>) -> TopologyOptions {
    let defaults = TopologyOptions::default();
    TopologyOptions {
        expanded: expanded.iter().cloned().collect(),
        inline_limit: inline_limit.map_or(defaults.inline_limit, |n| n as usize),
    }
}

pub(crate) fn entity_kind(kind: Kind) -> EntityKind {
    match kind {
        Kind::PeCluster => EntityKind::PeCluster,
        Kind::Subnet => EntityKind::Subnet,
        Kind::Image => EntityKind::Image,
        Kind::Vm => EntityKind::Vm,
        Kind::Host => EntityKind::Host,
        Kind::Project => EntityKind::Project,
        Kind::CloudType => EntityKind::CloudType,
        Kind::Pcg => EntityKind::Pcg,
        Kind::CloudAccount => EntityKind::CloudAccount,
        Kind::Profile => EntityKind::Profile,
        Kind::PaletteCluster => EntityKind::PaletteCluster,
        Kind::MachinePool => EntityKind::MachinePool,
        Kind::Node => EntityKind::Node,
    }
}

pub(crate) fn store_kind(kind: EntityKind) -> Kind {
    match kind {
        EntityKind::PeCluster => Kind::PeCluster,
        EntityKind::Subnet => Kind::Subnet,
        EntityKind::Image => Kind::Image,
        EntityKind::Vm => Kind::Vm,
        EntityKind::Host => Kind::Host,
        EntityKind::Project => Kind::Project,
        EntityKind::CloudType => Kind::CloudType,
        EntityKind::Pcg => Kind::Pcg,
        EntityKind::CloudAccount => Kind::CloudAccount,
        EntityKind::Profile => Kind::Profile,
        EntityKind::PaletteCluster => Kind::PaletteCluster,
        EntityKind::MachinePool => Kind::MachinePool,
        EntityKind::Node => Kind::Node,
    }
}

fn age_seconds(now_ms: i64, then_ms: i64) -> u64 {
    (now_ms.saturating_sub(then_ms).max(0) / 1000) as u64
}

fn rfc3339_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn kind_summary(
    kind: Kind,
    count: u64,
    sync: &capstan_store::SyncState,
    now: i64,
) -> KindCacheSummary {
    KindCacheSummary {
        kind: entity_kind(kind),
        count,
        status: match sync.status {
            SyncStatus::Never => KindSyncStatus::Never,
            SyncStatus::Running => KindSyncStatus::Running,
            SyncStatus::Completed => KindSyncStatus::Completed,
            SyncStatus::Failed => KindSyncStatus::Failed,
        },
        synced_at: sync.last_completed_at.map(rfc3339_ms),
        age_seconds: sync.last_completed_at.map(|t| age_seconds(now, t)),
        error: sync.error.clone(),
    }
}

/// The oldest complete sync among the kinds that were ever synced decides the age.
fn freshness(kinds: &[KindCacheSummary]) -> Freshness {
    let synced: Vec<&KindCacheSummary> = kinds.iter().filter(|k| k.age_seconds.is_some()).collect();
    let oldest = synced.iter().max_by_key(|k| k.age_seconds);
    let failed = kinds.iter().any(|k| k.status == KindSyncStatus::Failed);
    let age = oldest.and_then(|k| k.age_seconds);
    Freshness {
        synced_at: oldest.and_then(|k| k.synced_at.clone()),
        age_seconds: age,
        empty: synced.is_empty(),
        stale: failed || age.is_some_and(|a| a > STALE_AFTER_SECONDS),
    }
}

fn sync_error_code(e: &SyncError) -> ErrorCode {
    match e {
        SyncError::RateLimited { .. } => ErrorCode::RateLimited,
        SyncError::Cancelled { .. } => ErrorCode::Conflict,
        SyncError::Store { .. } => ErrorCode::Storage,
        SyncError::Remote { code, .. } => match *code {
            "unauthorized" => ErrorCode::Unauthorized,
            "forbidden" => ErrorCode::Forbidden,
            "timeout" => ErrorCode::Timeout,
            "dns" => ErrorCode::Dns,
            "connect" | "connection_refused" => ErrorCode::Connect,
            c if c.starts_with("tls") || c.contains("certificate") => ErrorCode::TlsUntrusted,
            "rate_limited" => ErrorCode::RateLimited,
            _ => ErrorCode::Upstream,
        },
    }
}

fn store_error(e: capstan_store::StoreError) -> IpcError {
    let mut err = IpcError::new(
        ErrorCode::Storage,
        sentence(&format!("The local cache failed: {e}")),
    );
    err.details = Some(json!({ "storeCode": e.code(), "rebuild": e.suggests_rebuild() }));
    err
}

/// Capitalised and ending with a full stop, for messages built from lower-case errors.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out = match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Names of the objects rows of `kind` point to as their parent.
fn parent_names(
    s: &Store,
    env: &str,
    kind: Kind,
) -> Result<HashMap<String, String>, capstan_store::StoreError> {
    let parent_kind = match kind {
        Kind::Vm | Kind::Subnet | Kind::Host => Kind::PeCluster,
        Kind::MachinePool | Kind::Node => Kind::PaletteCluster,
        Kind::CloudAccount => Kind::Pcg,
        Kind::PaletteCluster => Kind::CloudAccount,
        _ => return Ok(HashMap::new()),
    };
    let page = s.list(
        env,
        parent_kind,
        &ListQuery {
            limit: ListQuery::MAX_LIMIT,
            ..ListQuery::default()
        },
    )?;
    Ok(page.items.into_iter().map(|e| (e.id, e.name)).collect())
}

fn ptr<'a>(json: &'a Value, paths: &[&str]) -> Option<&'a Value> {
    paths
        .iter()
        .find_map(|p| json.pointer(p).filter(|v| !v.is_null()))
}

/// The list columns of one cached object (the full record is in `inventory_get`).
fn columns(kind: Kind, json: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut put = |key: &str, value: Option<&Value>| {
        out.insert(key.to_owned(), value.cloned().unwrap_or(Value::Null));
    };
    match kind {
        Kind::Vm => {
            let res = ptr(json, &["/status/resources", "/spec/resources"]);
            let sockets = res
                .and_then(|r| r.get("num_sockets"))
                .and_then(Value::as_i64);
            let per = res
                .and_then(|r| r.get("num_vcpus_per_socket"))
                .and_then(Value::as_i64)
                .unwrap_or(1);
            put("vcpus", sockets.map(|s| json!(s * per)).as_ref());
            put("memoryMib", res.and_then(|r| r.get("memory_size_mib")));
            put(
                "cluster",
                json.pointer("/metadata/categories/KubernetesClusterName"),
            );
            put("powerState", res.and_then(|r| r.get("power_state")));
        }
        Kind::Subnet => {
            let cidr = match (
                json.pointer("/status/resources/ip_config/subnet_ip")
                    .and_then(Value::as_str),
                json.pointer("/status/resources/ip_config/prefix_length")
                    .and_then(Value::as_i64),
            ) {
                (Some(ip), Some(p)) => Some(json!(format!("{ip}/{p}"))),
                _ => None,
            };
            put("cidr", cidr.as_ref());
            put(
                "vlanId",
                ptr(
                    json,
                    &["/status/resources/vlan_id", "/spec/resources/vlan_id"],
                ),
            );
            put(
                "subnetType",
                ptr(
                    json,
                    &[
                        "/status/resources/subnet_type",
                        "/spec/resources/subnet_type",
                    ],
                ),
            );
        }
        Kind::Image => {
            put(
                "imageType",
                ptr(
                    json,
                    &["/status/resources/image_type", "/spec/resources/image_type"],
                ),
            );
            put(
                "sizeBytes",
                ptr(
                    json,
                    &["/status/resources/size_bytes", "/spec/resources/size_bytes"],
                ),
            );
        }
        Kind::PeCluster => {
            put(
                "aosVersion",
                json.pointer("/status/resources/config/build/version"),
            );
            put(
                "externalIp",
                json.pointer("/status/resources/network/external_ip"),
            );
        }
        Kind::PaletteCluster => {
            put("health", json.pointer("/status/health/state"));
            put(
                "kubernetesVersion",
                json.pointer("/spec/cloudConfig/spec/kubernetesVersion"),
            );
        }
        Kind::Pcg => {
            put("health", json.pointer("/status/health/state"));
            put("selfHosted", json.pointer("/spec/isSelfHosted"));
        }
        _ => {}
    }
    out
}

/// Prism Central's own entry in `clusters/list` runs the `PRISM_CENTRAL` service.
fn is_prism_central(json: &Value) -> bool {
    json.pointer("/status/resources/config/service_list")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|s| s.as_str() == Some("PRISM_CENTRAL")))
}

fn node_id(kind: Kind, id: &str, json: &Value) -> Option<String> {
    use capstan_inventory::topology as t;
    Some(match kind {
        Kind::Vm => t::vm_id(id),
        Kind::PeCluster if is_prism_central(json) => t::pc_id(id),
        Kind::PeCluster => t::pe_id(id),
        Kind::Subnet => t::subnet_id(id),
        Kind::Image => t::image_id(id),
        Kind::Pcg => t::pcg_id(id),
        _ => return None,
    })
}

fn inventory_row(
    e: capstan_store::CachedEntity,
    parents: &HashMap<String, String>,
) -> InventoryRow {
    InventoryRow {
        node_id: node_id(e.kind, &e.id, &e.json),
        columns: columns(e.kind, &e.json),
        parent_name: e.parent.as_ref().and_then(|p| parents.get(p).cloned()),
        id: e.id,
        name: e.name,
        parent: e.parent,
        state: e.state,
        ips: e.ips,
        last_seen_at: rfc3339_ms(e.last_seen_at),
    }
}

/// The Clusters page rows, read off the topology graph (one source of truth for what a
/// cluster is, where its VIP is and which PE runs it).
fn cluster_rows(graph: &TopologyGraph) -> Vec<ClusterRow> {
    let label = |id: &str| graph.node(id).map(|n| n.label.clone());
    let text =
        |n: &TopologyNode, key: &str| n.detail.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut rows: Vec<ClusterRow> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Cluster)
        .map(|c| {
            let mut row = ClusterRow {
                id: c.id.clone(),
                name: c.label.clone(),
                palette_uid: text(c, "paletteUid"),
                state: text(c, "paletteState").or_else(|| {
                    c.counts.as_ref().map(|k| {
                        if k.powered_on == k.vms {
                            "Running (from Prism)".to_owned()
                        } else {
                            format!("{} of {} VMs powered on", k.powered_on, k.vms)
                        }
                    })
                }),
                health: text(c, "health"),
                status: c.status,
                endpoint: text(c, "vip"),
                kubernetes_version: text(c, "kubernetesVersion"),
                prism_elements: graph
                    .edges
                    .iter()
                    .filter(|e| e.from == c.id && e.kind == EdgeKind::RunsOn)
                    .filter_map(|e| label(&e.to))
                    .collect(),
                control_plane_nodes: 0,
                worker_nodes: 0,
                powered_on: c.counts.as_ref().map_or(0, |k| k.powered_on as u32),
                pools: Vec::new(),
            };
            for pool in graph.children(&c.id).filter(|n| n.kind == NodeKind::Pool) {
                let vms = pool.counts.as_ref().map_or(0, |k| k.vms as u32);
                if pool.detail.get("controlPlane").and_then(Value::as_bool) == Some(true) {
                    row.control_plane_nodes += vms;
                } else {
                    row.worker_nodes += vms;
                }
                row.pools.push(pool.label.clone());
            }
            row
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_kind_maps_both_ways() {
        for kind in Kind::ALL {
            assert_eq!(store_kind(entity_kind(kind)), kind);
            assert_eq!(entity_kind(kind).as_str(), kind.as_str());
        }
    }

    #[test]
    fn freshness_is_the_oldest_sync_and_stale_after_a_failure_or_the_threshold() {
        let kind = |age: Option<u64>, status| KindCacheSummary {
            kind: EntityKind::Vm,
            count: 1,
            status,
            synced_at: age.map(|a| format!("t-{a}")),
            age_seconds: age,
            error: None,
        };
        let empty = freshness(&[kind(None, KindSyncStatus::Never)]);
        assert!(empty.empty && !empty.stale);
        let fresh = freshness(&[
            kind(Some(10), KindSyncStatus::Completed),
            kind(Some(70), KindSyncStatus::Completed),
        ]);
        assert_eq!(fresh.age_seconds, Some(70));
        assert_eq!(fresh.synced_at.as_deref(), Some("t-70"));
        assert!(!fresh.empty && !fresh.stale);
        let old = freshness(&[kind(
            Some(STALE_AFTER_SECONDS + 1),
            KindSyncStatus::Completed,
        )]);
        assert!(old.stale);
        let failed = freshness(&[
            kind(Some(5), KindSyncStatus::Completed),
            kind(Some(5), KindSyncStatus::Failed),
        ]);
        assert!(failed.stale);
    }

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(sentence("the cache failed"), "The cache failed.");
        assert_eq!(sentence("Done."), "Done.");
    }
}
