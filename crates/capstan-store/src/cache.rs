//! Inventory caching: sync runs with mark-and-sweep, batched upserts, and the queries
//! behind the virtualised lists.
//!
//! Every (environment, kind) has one `sync_state` row with a generation counter. Starting
//! a run bumps the generation; every row the run writes is stamped with it. Only when a
//! *full* run completes are rows with an older generation (objects deleted remotely) swept
//! away. A failed or abandoned run deletes nothing, and can be resumed from the cursor it
//! saved with its last committed page, keeping its generation so the rows it already
//! wrote count for the sweep.
//!
//! Each written row carries a hash of what it was written from (see `content_hash`). When
//! a page brings a row with the same hash, only its `sync_gen` and `last_seen_at` change:
//! its JSON and child rows stay as they are.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, ToSql, TransactionBehavior, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::records::{CacheRecord, IpPool, Kind, VmIp};
use crate::redact::redact;
use crate::store::{Store, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Lists everything; completing it removes what was not seen.
    Full,
    /// Applies changes only; never sweeps. Deletions go through [`Store::remove`].
    Incremental,
}

impl SyncMode {
    fn as_str(self) -> &'static str {
        match self {
            SyncMode::Full => "full",
            SyncMode::Incremental => "incremental",
        }
    }

    fn parse(text: &str) -> SyncMode {
        if text == "incremental" {
            SyncMode::Incremental
        } else {
            SyncMode::Full
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Never,
    /// Running, or interrupted by a crash (then resumable).
    Running,
    Completed,
    Failed,
}

impl SyncStatus {
    fn parse(text: &str) -> SyncStatus {
        match text {
            "running" => SyncStatus::Running,
            "completed" => SyncStatus::Completed,
            "failed" => SyncStatus::Failed,
            _ => SyncStatus::Never,
        }
    }
}

/// A handle on one sync run. Only the newest run of an (environment, kind) may write;
/// an older handle gets [`StoreError::StaleSync`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    environment_id: String,
    kind: Kind,
    generation: i64,
    mode: SyncMode,
    cursor: Option<String>,
    stats: WriteStats,
}

/// What the writes through one [`SyncRun`] handle did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteStats {
    /// Rows written in full: new, or changed since the cache last saw them.
    pub written: u64,
    /// Rows whose content hash matched the cached row: only marked as seen.
    pub unchanged: u64,
}

impl SyncRun {
    pub fn environment_id(&self) -> &str {
        &self.environment_id
    }
    pub fn kind(&self) -> Kind {
        self.kind
    }
    pub fn generation(&self) -> i64 {
        self.generation
    }
    pub fn mode(&self) -> SyncMode {
        self.mode
    }
    /// Where to continue listing (e.g. the next offset), as saved with the last page.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
    /// Rows written and rows found unchanged by the pages committed through this handle.
    pub fn stats(&self) -> WriteStats {
        self.stats
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub kind: Kind,
    pub status: SyncStatus,
    pub mode: SyncMode,
    pub generation: i64,
    pub cursor: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub last_completed_at: Option<i64>,
    pub error: Option<String>,
}

/// Count and freshness of one kind in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindSummary {
    pub kind: Kind,
    pub count: u64,
    pub oldest_seen_at: Option<i64>,
    pub newest_seen_at: Option<i64>,
    pub sync: SyncState,
}

impl KindSummary {
    /// Age of the stalest record, in ms, relative to `now_ms`.
    pub fn oldest_age_ms(&self, now_ms: i64) -> Option<i64> {
        self.oldest_seen_at.map(|t| (now_ms - t).max(0))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Name,
    State,
    Parent,
    LastSeen,
}

/// A page request for a virtualised list. Empty filters are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// Case-insensitive substring of the name, or a prefix of the id or (VMs, nodes, hosts)
    /// of an IP.
    pub search: Option<String>,
    /// The owning PE cluster (VMs, subnets, hosts), Palette cluster (pools, nodes), PCG
    /// (cloud accounts) or cloud account (Palette clusters).
    pub parent: Option<String>,
    /// Power state (VMs), `status.state` (images, PCGs, accounts, clusters), instance state
    /// (nodes), subnet type (subnets).
    pub state: Option<String>,
    /// VMs with a NIC on this subnet.
    pub subnet_uuid: Option<String>,
    /// Exact IP (VMs, nodes, hosts).
    pub ip: Option<String>,
    /// VMs with this category key and value.
    pub category: Option<(String, String)>,
    pub sort: SortBy,
    pub descending: bool,
    /// 0 means [`ListQuery::DEFAULT_LIMIT`]; capped at [`ListQuery::MAX_LIMIT`].
    pub limit: u32,
    pub offset: u64,
}

impl ListQuery {
    pub const DEFAULT_LIMIT: u32 = 100;
    pub const MAX_LIMIT: u32 = 1000;
}

/// One row of a list, with the full JSON for the detail pane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedEntity {
    pub kind: Kind,
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    pub state: Option<String>,
    /// VMs: every known IP; nodes: the internal IP; hosts: CVM and hypervisor IPs.
    pub ips: Vec<String>,
    pub last_seen_at: i64,
    pub json: serde_json::Value,
}

/// What the topology needs of one VM, read from columns and child tables without touching
/// the JSON ([`Store::vm_summaries`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmSummary {
    pub uuid: String,
    pub name: String,
    /// The PE the VM runs on.
    pub cluster_uuid: Option<String>,
    pub power_state: Option<String>,
    pub num_vcpus: Option<i64>,
    pub memory_mib: Option<i64>,
    /// IPs not marked `LEARNED`, in NIC order.
    pub assigned_ips: Vec<String>,
    /// `LEARNED` IPs (a kube-vip VIP shows up as one), in NIC order.
    pub learned_ips: Vec<String>,
    /// The NICs' subnets in NIC order; consecutive NICs on one subnet give it once.
    pub subnet_uuids: Vec<String>,
    /// Images the disks were cloned from, in disk order.
    pub image_uuids: Vec<String>,
    /// Categories by key.
    pub categories: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// Matches in total (for the scrollbar), not just this page.
    pub total: u64,
    pub items: Vec<CachedEntity>,
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn ips_expr(kind: Kind) -> &'static str {
    match kind {
        Kind::Vm => {
            // No condition on `ip` (group_concat skips NULLs): any extra term would let the
            // planner pick the ip index and scan it once per VM.
            "(SELECT group_concat(i.ip, ',') FROM pc_vm_ips i \
             WHERE i.environment_id = t.environment_id AND i.vm_uuid = t.uuid)"
        }
        Kind::Node => "t.ip",
        Kind::Host => "concat_ws(',', t.cvm_ip, t.hypervisor_ip)",
        _ => "NULL",
    }
}

/// The JSON column of `t`, wherever the kind keeps it.
fn json_expr(kind: Kind) -> String {
    let spec = kind.spec();
    match spec.json_table {
        Some(table) => format!(
            "(SELECT j.json FROM {table} j WHERE j.environment_id = t.environment_id \
             AND j.{key} = t.{key})",
            key = spec.key
        ),
        None => "t.json".to_owned(),
    }
}

/// A 64-bit hash of everything a row is written from (name, columns, JSON, child rows), so
/// a re-sync can tell an unchanged object without comparing the JSON. Hashing what was
/// derived, not just the JSON, means a newer Capstan that reads more out of the same JSON
/// rewrites the rows. Not a security boundary: it only decides whether a row is rewritten.
/// `DefaultHasher::new()` is SipHash with fixed keys; should a Rust release change it, every
/// row is rewritten once.
fn content_hash<R: CacheRecord>(record: &R) -> Result<i64> {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    use std::hash::Hasher as _;

    let mut hasher = std::hash::DefaultHasher::new();
    let mut feed = |value: ValueRef<'_>| match value {
        ValueRef::Null => hasher.write_u8(0),
        ValueRef::Integer(i) => {
            hasher.write_u8(1);
            hasher.write_i64(i);
        }
        ValueRef::Real(f) => {
            hasher.write_u8(2);
            hasher.write_u64(f.to_bits());
        }
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            hasher.write_u8(3);
            hasher.write_usize(bytes.len());
            hasher.write(bytes);
        }
    };
    feed(ValueRef::Text(record.name().as_bytes()));
    for column in private_columns(record) {
        match column.to_sql()? {
            ToSqlOutput::Borrowed(value) => feed(value),
            ToSqlOutput::Owned(value) => feed(ValueRef::from(&value)),
            other => {
                // Zero-blobs and the like are never produced by records; hash their debug
                // form rather than fail.
                feed(ValueRef::Text(format!("{other:?}").as_bytes()));
            }
        }
    }
    for value in crate::records::private::Write::computed_columns(record) {
        feed(ValueRef::from(&value));
    }
    feed(ValueRef::Text(record.json().as_bytes()));
    crate::records::private::Write::hash_children(record, &mut hasher);
    Ok(hasher.finish() as i64)
}

impl Store {
    /// Starts a new run for (environment, kind): bumps the generation, which makes any
    /// older run stale, and clears the saved cursor.
    pub fn begin_sync(
        &mut self,
        environment_id: &str,
        kind: Kind,
        mode: SyncMode,
    ) -> Result<SyncRun> {
        self.require_environment(environment_id)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let generation: i64 = tx.query_row(
            "INSERT INTO sync_state (environment_id, kind, generation, mode, cursor, status, \
             started_at, finished_at, error) VALUES (?1, ?2, 1, ?3, NULL, 'running', ?4, NULL, NULL) \
             ON CONFLICT (environment_id, kind) DO UPDATE SET generation = generation + 1, \
             mode = excluded.mode, cursor = NULL, status = 'running', \
             started_at = excluded.started_at, finished_at = NULL, error = NULL \
             RETURNING generation",
            (environment_id, kind.as_str(), mode.as_str(), now_ms()),
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(SyncRun {
            environment_id: environment_id.to_owned(),
            kind,
            generation,
            mode,
            cursor: None,
            stats: WriteStats::default(),
        })
    }

    /// Picks up a run that failed or was interrupted, with its generation and cursor.
    /// `None` when there is nothing to resume (never synced, or the last run completed).
    pub fn resume_sync(&mut self, environment_id: &str, kind: Kind) -> Result<Option<SyncRun>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(i64, String, Option<String>)> = tx
            .query_row(
                "UPDATE sync_state SET status = 'running', error = NULL, finished_at = NULL \
                 WHERE environment_id = ?1 AND kind = ?2 AND status IN ('running', 'failed') \
                 RETURNING generation, mode, cursor",
                (environment_id, kind.as_str()),
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        tx.commit()?;
        Ok(row.map(|(generation, mode, cursor)| SyncRun {
            environment_id: environment_id.to_owned(),
            kind,
            generation,
            mode: SyncMode::parse(&mode),
            cursor,
            stats: WriteStats::default(),
        }))
    }

    fn check_current(tx: &rusqlite::Transaction<'_>, run: &SyncRun) -> Result<()> {
        let current: Option<(i64, String)> = tx
            .query_row(
                "SELECT generation, status FROM sync_state WHERE environment_id = ?1 AND kind = ?2",
                (&run.environment_id, run.kind.as_str()),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match current {
            Some((generation, status)) if generation == run.generation && status == "running" => {
                Ok(())
            }
            _ => Err(StoreError::StaleSync {
                environment_id: run.environment_id.clone(),
                kind: run.kind.as_str(),
                generation: run.generation,
            }),
        }
    }

    /// Writes a batch of records in one transaction, stamping them with the run's
    /// generation and the current time as `last_seen_at`.
    pub fn upsert<R: CacheRecord>(&mut self, run: &mut SyncRun, records: &[R]) -> Result<usize> {
        self.write_page(run, records, None)
    }

    /// Like [`Store::upsert`], and saves `next_cursor` in the same transaction, so a
    /// resumed run continues exactly after the last committed page.
    pub fn upsert_page<R: CacheRecord>(
        &mut self,
        run: &mut SyncRun,
        records: &[R],
        next_cursor: &str,
    ) -> Result<usize> {
        self.write_page(run, records, Some(next_cursor))
    }

    fn write_page<R: CacheRecord>(
        &mut self,
        run: &mut SyncRun,
        records: &[R],
        next_cursor: Option<&str>,
    ) -> Result<usize> {
        if R::KIND != run.kind {
            return Err(StoreError::KindMismatch {
                expected: run.kind.as_str(),
                given: R::KIND.as_str(),
            });
        }
        let spec = R::KIND.spec();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Self::check_current(&tx, run)?;
        let now = now_ms();
        let mut stats = WriteStats::default();
        {
            let statements = write_statements(R::KIND);
            let mut lookup = tx.prepare_cached(&statements.lookup)?;
            let mut touch = tx.prepare_cached(&statements.touch)?;
            let mut upsert = tx.prepare_cached(&statements.upsert)?;
            let mut upsert_json = statements
                .upsert_json
                .as_deref()
                .map(|sql| tx.prepare_cached(sql))
                .transpose()?;
            for record in records {
                let id = record.id();
                let hash = content_hash(record)?;
                let cached: Option<Option<i64>> = lookup
                    .query_row((&run.environment_id, id), |row| row.get(0))
                    .optional()?;
                if cached == Some(Some(hash)) {
                    // Same content: only mark it seen by this run.
                    touch.execute((&run.environment_id, id, run.generation, now))?;
                    stats.unchanged += 1;
                    continue;
                }
                let name = record.name();
                let computed = crate::records::private::Write::computed_columns(record);
                let json = record.json();
                let mut values: Vec<&dyn ToSql> = Vec::with_capacity(spec.columns.len() + 7);
                values.push(&run.environment_id);
                values.push(&id);
                values.push(&name);
                values.extend(private_columns(record));
                values.extend(computed.iter().map(|v| v as &dyn ToSql));
                if upsert_json.is_none() {
                    values.push(&json);
                }
                values.push(&run.generation);
                values.push(&now);
                values.push(&hash);
                upsert.execute(params_from_iter(values))?;
                if let Some(stmt) = upsert_json.as_mut() {
                    stmt.execute((&run.environment_id, id, json))?;
                }
                crate::records::private::Write::write_children(
                    record,
                    &tx,
                    &run.environment_id,
                    cached.is_some(),
                )?;
                stats.written += 1;
            }
        }
        if let Some(cursor) = next_cursor {
            tx.execute(
                "UPDATE sync_state SET cursor = ?3 WHERE environment_id = ?1 AND kind = ?2",
                (&run.environment_id, run.kind.as_str(), cursor),
            )?;
        }
        tx.commit()?;
        self.request_checkpoint();
        if let Some(cursor) = next_cursor {
            run.cursor = Some(cursor.to_owned());
        }
        run.stats.written += stats.written;
        run.stats.unchanged += stats.unchanged;
        Ok(records.len())
    }

    /// Removes objects the API reported deleted (incremental runs). Returns how many rows
    /// went.
    pub fn remove(&mut self, run: &SyncRun, ids: &[&str]) -> Result<usize> {
        let spec = run.kind.spec();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Self::check_current(&tx, run)?;
        let mut removed = 0;
        {
            let mut stmt = tx.prepare_cached(&format!(
                "DELETE FROM {} WHERE environment_id = ?1 AND {} = ?2",
                spec.table, spec.key
            ))?;
            for id in ids {
                removed += stmt.execute((&run.environment_id, id))?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Completes a run. A full run sweeps every row of the kind it did not see. Returns
    /// how many rows were swept.
    pub fn finish_sync(&mut self, run: SyncRun) -> Result<usize> {
        let spec = run.kind.spec();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Self::check_current(&tx, &run)?;
        let swept = if run.mode == SyncMode::Full {
            tx.execute(
                &format!(
                    "DELETE FROM {} WHERE environment_id = ?1 AND sync_gen < ?2",
                    spec.table
                ),
                (&run.environment_id, run.generation),
            )?
        } else {
            0
        };
        let now = now_ms();
        tx.execute(
            "UPDATE sync_state SET status = 'completed', cursor = NULL, error = NULL, \
             finished_at = ?3, last_completed_at = ?3 WHERE environment_id = ?1 AND kind = ?2",
            (&run.environment_id, run.kind.as_str(), now),
        )?;
        tx.commit()?;
        self.request_checkpoint();
        if run.mode == SyncMode::Full {
            // Refreshes planner statistics when the table changed a lot (cheap otherwise),
            // so the child-table indexes keep being chosen correctly at 25,000 VMs.
            self.conn.execute_batch("PRAGMA optimize")?;
        }
        Ok(swept)
    }

    /// Records a failure. Nothing is deleted; the saved cursor stays for a resume. The
    /// error text is redacted before it is stored.
    pub fn fail_sync(&mut self, run: SyncRun, error: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Self::check_current(&tx, &run)?;
        tx.execute(
            "UPDATE sync_state SET status = 'failed', error = ?3, finished_at = ?4 \
             WHERE environment_id = ?1 AND kind = ?2",
            (
                &run.environment_id,
                run.kind.as_str(),
                redact(error),
                now_ms(),
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn sync_state(&self, environment_id: &str, kind: Kind) -> Result<SyncState> {
        let state = self
            .conn
            .query_row(
                "SELECT status, mode, generation, cursor, started_at, finished_at, \
                 last_completed_at, error FROM sync_state WHERE environment_id = ?1 AND kind = ?2",
                (environment_id, kind.as_str()),
                |row| {
                    Ok(SyncState {
                        kind,
                        status: SyncStatus::parse(&row.get::<_, String>(0)?),
                        mode: SyncMode::parse(&row.get::<_, String>(1)?),
                        generation: row.get(2)?,
                        cursor: row.get(3)?,
                        started_at: row.get(4)?,
                        finished_at: row.get(5)?,
                        last_completed_at: row.get(6)?,
                        error: row.get(7)?,
                    })
                },
            )
            .optional()?;
        Ok(state.unwrap_or(SyncState {
            kind,
            status: SyncStatus::Never,
            mode: SyncMode::Full,
            generation: 0,
            cursor: None,
            started_at: None,
            finished_at: None,
            last_completed_at: None,
            error: None,
        }))
    }

    /// How many records of `kind` are cached for the environment.
    pub fn count(&self, environment_id: &str, kind: Kind) -> Result<u64> {
        let spec = kind.spec();
        let count: i64 = self.conn.query_row(
            &format!(
                "SELECT count(*) FROM {} WHERE environment_id = ?1",
                spec.table
            ),
            [environment_id],
            |row| row.get(0),
        )?;
        Ok(count.max(0) as u64)
    }

    /// Count, last-seen range and sync state for every kind.
    pub fn summary(&self, environment_id: &str) -> Result<Vec<KindSummary>> {
        Kind::ALL
            .into_iter()
            .map(|kind| {
                let (count, oldest, newest): (i64, Option<i64>, Option<i64>) =
                    self.conn.query_row(
                        &format!(
                            "SELECT count(*), min(last_seen_at), max(last_seen_at) FROM {} \
                         WHERE environment_id = ?1",
                            kind.spec().table
                        ),
                        [environment_id],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )?;
                Ok(KindSummary {
                    kind,
                    count: count.max(0) as u64,
                    oldest_seen_at: oldest,
                    newest_seen_at: newest,
                    sync: self.sync_state(environment_id, kind)?,
                })
            })
            .collect()
    }

    /// One page of `kind`, filtered, searched and sorted (ties broken by id, so pages are
    /// stable).
    pub fn list(&self, environment_id: &str, kind: Kind, query: &ListQuery) -> Result<Page> {
        let spec = kind.spec();
        let unsupported = |filter: &'static str| StoreError::UnsupportedFilter {
            kind: kind.as_str(),
            filter,
        };
        let mut conditions = vec!["t.environment_id = ?1".to_owned()];
        let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(environment_id.to_owned())];
        fn bind<T: ToSql + 'static>(params: &mut Vec<Box<dyn ToSql>>, value: T) -> String {
            params.push(Box::new(value));
            format!("?{}", params.len())
        }

        if let Some(search) = non_empty(&query.search) {
            let contains = bind(&mut params, format!("%{}%", escape_like(search)));
            let prefix = bind(&mut params, format!("{}%", escape_like(search)));
            let mut alternatives = vec![
                format!("t.name LIKE {contains} ESCAPE '\\'"),
                format!("t.{} LIKE {prefix} ESCAPE '\\'", spec.key),
            ];
            match kind {
                // Uncorrelated IN: evaluated once, not once per VM.
                Kind::Vm => alternatives.push(format!(
                    "t.uuid IN (SELECT vm_uuid FROM pc_vm_ips WHERE environment_id = ?1 \
                     AND ip LIKE {prefix} ESCAPE '\\')"
                )),
                Kind::Node => alternatives.push(format!("t.ip LIKE {prefix} ESCAPE '\\'")),
                Kind::Host => {
                    alternatives.push(format!("t.cvm_ip LIKE {prefix} ESCAPE '\\'"));
                    alternatives.push(format!("t.hypervisor_ip LIKE {prefix} ESCAPE '\\'"));
                }
                _ => {}
            }
            conditions.push(format!("({})", alternatives.join(" OR ")));
        }
        if let Some(parent) = non_empty(&query.parent) {
            let column = spec.parent.ok_or_else(|| unsupported("parent"))?;
            let p = bind(&mut params, parent.to_owned());
            conditions.push(format!("t.{column} = {p}"));
        }
        if let Some(state) = non_empty(&query.state) {
            let column = spec.state.ok_or_else(|| unsupported("state"))?;
            let p = bind(&mut params, state.to_owned());
            // State columns are declared COLLATE NOCASE, so this is case-insensitive and
            // is still answered from the list index.
            conditions.push(format!("t.{column} = {p}"));
        }
        if let Some(subnet) = non_empty(&query.subnet_uuid) {
            if kind != Kind::Vm {
                return Err(unsupported("subnet"));
            }
            let p = bind(&mut params, subnet.to_owned());
            conditions.push(format!(
                "t.uuid IN (SELECT vm_uuid FROM pc_vm_ips WHERE environment_id = ?1 \
                 AND subnet_uuid = {p})"
            ));
        }
        if let Some(ip) = non_empty(&query.ip) {
            let p = bind(&mut params, ip.to_owned());
            conditions.push(match kind {
                Kind::Vm => format!(
                    "t.uuid IN (SELECT vm_uuid FROM pc_vm_ips WHERE environment_id = ?1 AND ip = {p})"
                ),
                Kind::Node => format!("t.ip = {p}"),
                Kind::Host => format!("(t.cvm_ip = {p} OR t.hypervisor_ip = {p})"),
                _ => return Err(unsupported("ip")),
            });
        }
        if let Some((key, value)) = &query.category {
            if kind != Kind::Vm {
                return Err(unsupported("category"));
            }
            let k = bind(&mut params, key.clone());
            let v = bind(&mut params, value.clone());
            conditions.push(format!(
                "t.uuid IN (SELECT vm_uuid FROM pc_vm_categories WHERE environment_id = ?1 \
                 AND key = {k} AND value = {v})"
            ));
        }
        let where_clause = conditions.join(" AND ");

        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM {} t WHERE {where_clause}", spec.table),
            params_from_iter(params.iter().map(|p| p.as_ref())),
            |row| row.get(0),
        )?;

        let direction = if query.descending { "DESC" } else { "ASC" };
        let sort_column = match query.sort {
            SortBy::Name => "t.name".to_owned(),
            SortBy::State => format!("t.{}", spec.state.ok_or_else(|| unsupported("state"))?),
            SortBy::Parent => format!("t.{}", spec.parent.ok_or_else(|| unsupported("parent"))?),
            SortBy::LastSeen => "t.last_seen_at".to_owned(),
        };
        let order = if query.sort == SortBy::Name {
            format!("t.name {direction}, t.{key} {direction}", key = spec.key)
        } else {
            format!(
                "{sort_column} {direction}, t.name {direction}, t.{key} {direction}",
                key = spec.key
            )
        };
        let limit = match query.limit {
            0 => ListQuery::DEFAULT_LIMIT,
            n => n.min(ListQuery::MAX_LIMIT),
        };
        let lim = bind(&mut params, i64::from(limit));
        let off = bind(&mut params, i64::try_from(query.offset).unwrap_or(i64::MAX));
        let sql = format!(
            // Deferred join: the inner query filters, sorts and pages on narrow columns
            // (mostly from the list index); only the page's rows are read in full, so a
            // sort that needs a temp b-tree never drags the JSON of 25,000 rows along.
            "SELECT t.{key}, t.name, {parent}, {state}, {ips}, t.last_seen_at, {json} \
             FROM {table} t WHERE t.rowid IN (SELECT t.rowid FROM {table} t \
             WHERE {where_clause} ORDER BY {order} LIMIT {lim} OFFSET {off}) ORDER BY {order}",
            key = spec.key,
            parent = spec
                .parent
                .map(|c| format!("t.{c}"))
                .unwrap_or_else(|| "NULL".into()),
            state = spec
                .state
                .map(|c| format!("t.{c}"))
                .unwrap_or_else(|| "NULL".into()),
            ips = ips_expr(kind),
            json = json_expr(kind),
            table = spec.table,
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(params.iter().map(|p| p.as_ref())), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, String>(6)?,
            ))
        })?;
        let mut items = Vec::new();
        for row in rows {
            let (id, name, parent, state, ips, last_seen_at, json) = row?;
            items.push(CachedEntity {
                kind,
                id,
                name,
                parent,
                state,
                ips: ips
                    .map(|s| {
                        s.split(',')
                            .filter(|ip| !ip.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                last_seen_at,
                json: serde_json::from_str(&json)?,
            });
        }
        Ok(Page {
            total: total.max(0) as u64,
            items,
        })
    }

    /// One cached record by id.
    pub fn get(&self, environment_id: &str, kind: Kind, id: &str) -> Result<Option<CachedEntity>> {
        let spec = kind.spec();
        let sql = format!(
            "SELECT t.name, {parent}, {state}, {ips}, t.last_seen_at, {json} FROM {table} t \
             WHERE t.environment_id = ?1 AND t.{key} = ?2",
            parent = spec
                .parent
                .map(|c| format!("t.{c}"))
                .unwrap_or_else(|| "NULL".into()),
            state = spec
                .state
                .map(|c| format!("t.{c}"))
                .unwrap_or_else(|| "NULL".into()),
            ips = ips_expr(kind),
            json = json_expr(kind),
            table = spec.table,
            key = spec.key,
        );
        let row = self
            .conn
            .query_row(&sql, (environment_id, id), |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, String>(5)?,
                ))
            })
            .optional()?;
        row.map(|(name, parent, state, ips, last_seen_at, json)| {
            Ok(CachedEntity {
                kind,
                id: id.to_owned(),
                name,
                parent,
                state,
                ips: ips
                    .map(|s| {
                        s.split(',')
                            .filter(|ip| !ip.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                last_seen_at,
                json: serde_json::from_str(&json)?,
            })
        })
        .transpose()
    }

    /// Every VM of the environment as a [`VmSummary`], in name order (ties by uuid), read
    /// from the narrow columns and the IP and category tables: three scans, no JSON.
    pub fn vm_summaries(&self, environment_id: &str) -> Result<Vec<VmSummary>> {
        let mut vms = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT uuid, name, cluster_uuid, power_state, num_vcpus, memory_mib, image_uuids \
                 FROM pc_vms WHERE environment_id = ?1 ORDER BY name, uuid",
            )?;
            let mut rows = stmt.query([environment_id])?;
            while let Some(row) = rows.next()? {
                let uuid: String = row.get(0)?;
                let images: Option<String> = row.get(6)?;
                index.insert(uuid.clone(), vms.len());
                vms.push(VmSummary {
                    uuid,
                    name: row.get(1)?,
                    cluster_uuid: row.get(2)?,
                    power_state: row.get(3)?,
                    num_vcpus: row.get(4)?,
                    memory_mib: row.get(5)?,
                    image_uuids: match images {
                        Some(text) => serde_json::from_str(&text)?,
                        None => Vec::new(),
                    },
                    ..VmSummary::default()
                });
            }
        }
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT vm_uuid, subnet_uuid, ip, ip_kind FROM pc_vm_ips \
                 WHERE environment_id = ?1 ORDER BY vm_uuid, position",
            )?;
            let mut rows = stmt.query([environment_id])?;
            // Rows come grouped by VM: look each VM up once.
            let mut current: Option<(String, usize)> = None;
            while let Some(row) = rows.next()? {
                let vm_uuid = text(row, 0)?.unwrap_or_default();
                let slot = match &current {
                    Some((uuid, slot)) if uuid == vm_uuid => Some(*slot),
                    _ => {
                        let slot = index.get(vm_uuid).copied();
                        current = slot.map(|slot| (vm_uuid.to_owned(), slot));
                        slot
                    }
                };
                let Some(vm) = slot.map(|slot| &mut vms[slot]) else {
                    continue;
                };
                let subnet: Option<String> = row.get(1)?;
                if let Some(subnet) = subnet
                    && vm.subnet_uuids.last() != Some(&subnet)
                {
                    vm.subnet_uuids.push(subnet);
                }
                let ip: Option<String> = row.get(2)?;
                if let Some(ip) = ip {
                    if text(row, 3)? == Some("LEARNED") {
                        vm.learned_ips.push(ip);
                    } else {
                        vm.assigned_ips.push(ip);
                    }
                }
            }
        }
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT vm_uuid, key, value FROM pc_vm_categories WHERE environment_id = ?1 \
                 ORDER BY vm_uuid, key",
            )?;
            let mut rows = stmt.query([environment_id])?;
            while let Some(row) = rows.next()? {
                if let Some(&slot) = index.get(text(row, 0)?.unwrap_or_default()) {
                    vms[slot].categories.push((row.get(1)?, row.get(2)?));
                }
            }
        }
        Ok(vms)
    }

    /// Every NIC/IP row of one VM, in NIC order.
    pub fn vm_ips(&self, environment_id: &str, vm_uuid: &str) -> Result<Vec<VmIp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT nic_position, subnet_uuid, mac_address, ip, ip_kind FROM pc_vm_ips \
             WHERE environment_id = ?1 AND vm_uuid = ?2 ORDER BY position",
        )?;
        let rows = stmt.query_map((environment_id, vm_uuid), |row| {
            Ok(VmIp {
                nic_position: row.get(0)?,
                subnet_uuid: row.get(1)?,
                mac_address: row.get(2)?,
                ip: row.get(3)?,
                ip_kind: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The IP pools of one subnet, in API order.
    pub fn subnet_pools(&self, environment_id: &str, subnet_uuid: &str) -> Result<Vec<IpPool>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT first_ip, last_ip FROM pc_subnet_pools \
             WHERE environment_id = ?1 AND subnet_uuid = ?2 ORDER BY position",
        )?;
        let rows = stmt.query_map((environment_id, subnet_uuid), |row| {
            Ok(IpPool {
                first_ip: row.get(0)?,
                last_ip: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A text column borrowed from the row (no allocation).
fn text<'a>(row: &'a rusqlite::Row<'_>, column: usize) -> rusqlite::Result<Option<&'a str>> {
    row.get_ref(column)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// The SQL of one page write for a kind (built once per page; the statements themselves
/// are cached by the connection).
struct WriteStatements {
    lookup: String,
    touch: String,
    upsert: String,
    upsert_json: Option<String>,
}

fn write_statements(kind: Kind) -> WriteStatements {
    let spec = kind.spec();
    let (table, key) = (spec.table, spec.key);
    let own_json = spec.json_table.is_none();
    let columns: Vec<&str> = std::iter::once("name")
        .chain(spec.columns.iter().copied())
        .chain(own_json.then_some("json"))
        .chain(["sync_gen", "last_seen_at", "content_hash"])
        .collect();
    let placeholders: Vec<String> = (1..=columns.len() + 2).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    WriteStatements {
        lookup: format!(
            "SELECT content_hash FROM {table} WHERE environment_id = ?1 AND {key} = ?2"
        ),
        touch: format!(
            "UPDATE {table} SET sync_gen = ?3, last_seen_at = ?4 \
             WHERE environment_id = ?1 AND {key} = ?2"
        ),
        upsert: format!(
            "INSERT INTO {table} (environment_id, {key}, {columns}) VALUES ({placeholders}) \
             ON CONFLICT (environment_id, {key}) DO UPDATE SET {updates}",
            columns = columns.join(", "),
            placeholders = placeholders.join(", "),
            updates = updates.join(", "),
        ),
        upsert_json: spec.json_table.map(|json_table| {
            format!(
                "INSERT INTO {json_table} (environment_id, {key}, json) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (environment_id, {key}) DO UPDATE SET json = excluded.json"
            )
        }),
    }
}

fn private_columns<R: CacheRecord>(record: &R) -> Vec<&dyn ToSql> {
    crate::records::private::Write::columns(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(store: &Store, sql: &str) -> String {
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows = stmt.query_map([], |row| row.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// Guards the fix for a plan that scanned the whole ip index once per listed VM
    /// (minutes at 25,000 VMs): the per-row IP lookup must go through the by-VM index.
    #[test]
    fn the_per_vm_ip_lookup_uses_the_by_vm_index() {
        let store = Store::open_in_memory().unwrap();
        let sql = format!(
            "SELECT {} FROM pc_vms t WHERE t.environment_id = 'e' ORDER BY t.name, t.uuid LIMIT 100",
            ips_expr(Kind::Vm)
        );
        let plan = plan(&store, &sql);
        assert!(
            plan.contains("USING PRIMARY KEY (environment_id=? AND vm_uuid=?)"),
            "{plan}"
        );
        // Name order comes straight from the index: no sort step.
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
