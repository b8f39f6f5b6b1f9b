//! Opening, configuring and rebuilding the cache file.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Result, StoreError};
use crate::schema::{self, LATEST_VERSION, MIGRATIONS};

/// File name of the cache inside the platform data directory.
pub const DEFAULT_FILE_NAME: &str = "capstan-cache.sqlite3";

/// How long a write waits for another connection's lock before failing with `store_busy`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page cache per connection, in KiB (negative = KiB for SQLite). 25,000 VMs with their JSON
/// is roughly 100 MB; 32 MiB keeps the hot indexes and recent pages in memory.
const CACHE_SIZE_KIB: i64 = 32 * 1024;

/// Prepared statements kept per connection.
const STATEMENT_CACHE_CAPACITY: usize = 96;

/// Page size of a newly created cache file, in bytes.
const PAGE_SIZE: i64 = 8192;

/// SQLite's own checkpoint, behind the background one: at 16,384 pages (128 MiB of log).
const BACKSTOP_CHECKPOINT_PAGES: i64 = 16_384;

/// The log file is cut back to this size after a checkpoint resets it.
const WAL_SIZE_LIMIT: i64 = 32 * 1024 * 1024;

/// Milliseconds since the Unix epoch; the unit of every `*_at` and `ts` column.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The local cache. One connection; wrap it in a mutex to share it between threads. (A
/// file-backed store also runs a checkpointer thread with a connection of its own.)
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    path: Option<PathBuf>,
    checkpointer: Option<Checkpointer>,
}

/// Copies the write-ahead log into the database file on its own thread and connection.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold, fsyncs
/// included: a 25,000-VM sync spent about a quarter of its write time waiting on them. A
/// passive checkpoint on another connection runs alongside the writer instead (WAL allows
/// one writer and a checkpointer at once) and never blocks it.
#[derive(Debug)]
struct Checkpointer {
    wake: mpsc::SyncSender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// `None` when the thread or its connection cannot be set up; SQLite's automatic
    /// checkpoint (the backstop) then does the work.
    fn start(path: &Path) -> Option<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        // One pending request is enough: requests made while one waits add nothing.
        let (wake, requests) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("capstan-store-checkpoint".into())
            .spawn(move || {
                while requests.recv().is_ok() {
                    // PASSIVE: copies what it can without waiting for readers or the
                    // writer; what is left goes next time. Failures leave the log for
                    // the next request or the backstop.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .ok()?;
        Some(Self {
            wake,
            thread: Some(thread),
        })
    }

    fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the thread after its current checkpoint.
        let (closed, _) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.wake, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What [`Store::rebuild`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// Where the old file was moved (`None` when there was no old file).
    pub backup_path: Option<PathBuf>,
    /// Environments and drafts carried over from the old file.
    pub environments_kept: usize,
    pub drafts_kept: usize,
    /// Why nothing could be carried over (damaged or unreadable old file). The old file is
    /// still at `backup_path`.
    pub salvage_error: Option<String>,
}

impl Store {
    /// Opens (creating if needed) the cache at `path` and brings its schema up to date.
    /// Refuses a file written by a newer Capstan with [`StoreError::NewerSchema`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        let display = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| classify_open_error(&display, path, e))?;
        Self::configure(conn, &display, Some(path.to_owned()))
    }

    /// A private in-memory cache, for tests and for running without a data directory.
    pub fn open_in_memory() -> Result<Self> {
        Self::configure(Connection::open_in_memory()?, ":memory:", None)
    }

    fn configure(mut conn: Connection, display: &str, path: Option<PathBuf>) -> Result<Self> {
        let corrupt = |source| StoreError::Corrupt {
            path: display.to_owned(),
            source,
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // A full sync writes 13 kinds with four statements each plus the child-table ones;
        // they should all stay prepared between pages (the default keeps 16).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        // Check the version before any pragma writes to the file: a newer file is left
        // byte-for-byte alone.
        let found = schema::user_version(&conn).map_err(corrupt)?;
        if found > LATEST_VERSION {
            return Err(StoreError::NewerSchema {
                path: display.to_owned(),
                found,
                supported: LATEST_VERSION,
            });
        }
        // Connection settings, deliberately outside the migrations. journal_mode returns
        // the resulting mode (`memory` for an in-memory database), so it is read, not set.
        // A new file gets 8 KiB pages: a VM's JSON (about 2.5 KB) leaves a third of a 4 KiB
        // page empty, and three fit in 8 KiB (a 25,000-VM cache is ~30% smaller, and so are
        // its writes). Must precede WAL; a no-op on an existing file.
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(corrupt)?;
        // NORMAL in WAL mode: a crash of the app loses nothing committed; a power cut can
        // lose the last transactions but never corrupts the file.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "cache_size", -CACHE_SIZE_KIB)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        schema::migrate(&mut conn, display, MIGRATIONS)?;
        // SQLite's advice for long-lived connections: analyse at open what needs it.
        conn.execute_batch("PRAGMA optimize = 0x10002")?;
        let checkpointer = match &path {
            Some(path) if mode.eq_ignore_ascii_case("wal") => {
                // Commits leave checkpoints to the checkpointer; SQLite's own stays as a
                // backstop should the log grow large anyway. After a checkpoint the log file
                // is cut back to a bounded size.
                conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_CHECKPOINT_PAGES)?;
                conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
                Checkpointer::start(path)
            }
            _ => None,
        };
        Ok(Self {
            conn,
            path,
            checkpointer,
        })
    }

    /// Asks the background checkpointer to copy the log into the file (after a large
    /// write). Never waits.
    pub(crate) fn request_checkpoint(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.wake();
        }
    }

    /// The file this store was opened from (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Copies the write-ahead log into the main file and truncates the log. SQLite also does
    /// this by itself as the log grows; after a large sync this settles the file. Returns
    /// whether every page could be copied (readers on other connections can hold some back).
    pub fn checkpoint(&mut self) -> Result<bool> {
        // The background checkpointer may be mid-way: then SQLite answers busy at once
        // rather than waiting, so wait here (bounded) and ask again.
        let started = std::time::Instant::now();
        loop {
            let busy: i64 = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
            if busy == 0 || started.elapsed() > BUSY_TIMEOUT {
                return Ok(busy == 0);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The schema version of the open file (always [`LATEST_VERSION`] after `open`).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(schema::user_version(&self.conn)?)
    }

    /// The "rebuild cache" escape hatch: moves the file at `path` (and its `-wal`/`-shm`
    /// companions) aside as `<file>.bak-<ms>`, creates a fresh cache, and carries over what
    /// is not cache (environments and drafts) when the old file can still be read. Cached
    /// inventory, sync state and the activity log are discarded; the next sync refills
    /// them. Close every other `Store` on `path` first.
    pub fn rebuild(path: impl AsRef<Path>) -> Result<(Self, RebuildReport)> {
        let path = path.as_ref();
        let backup_path = if path.exists() {
            let mut name = path.as_os_str().to_owned();
            name.push(format!(".bak-{}", now_ms()));
            let backup = PathBuf::from(name);
            move_aside(path, &backup)?;
            for suffix in ["-wal", "-shm"] {
                let companion = with_suffix(path, suffix);
                if companion.exists() {
                    move_aside(&companion, &with_suffix(&backup, suffix))?;
                }
            }
            Some(backup)
        } else {
            None
        };
        let mut store = Self::open(path)?;
        let mut report = RebuildReport {
            backup_path: backup_path.clone(),
            environments_kept: 0,
            drafts_kept: 0,
            salvage_error: None,
        };
        if let Some(backup) = backup_path {
            match store.salvage_from(&backup) {
                Ok((environments, drafts)) => {
                    report.environments_kept = environments;
                    report.drafts_kept = drafts;
                }
                Err(err) => report.salvage_error = Some(err.to_string()),
            }
        }
        Ok((store, report))
    }

    /// Copies environments and drafts from an old cache file, by column name so it also
    /// works across schema versions that kept those columns. All or nothing.
    fn salvage_from(&mut self, old: &Path) -> Result<(usize, usize)> {
        let old_conn = Connection::open_with_flags(
            old,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        old_conn.busy_timeout(BUSY_TIMEOUT)?;
        let tx = self.conn.transaction()?;
        let mut environments = 0;
        {
            let mut read = old_conn.prepare(
                "SELECT id, name, palette_url, palette_project_uid, prism_endpoint, \
                 settings_json, created_at, updated_at FROM environments",
            )?;
            let mut rows = read.query([])?;
            let mut write = tx.prepare(
                "INSERT INTO environments (id, name, palette_url, palette_project_uid, \
                 prism_endpoint, settings_json, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            while let Some(row) = rows.next()? {
                write.execute((
                    row.get::<_, String>("id")?,
                    row.get::<_, String>("name")?,
                    row.get::<_, Option<String>>("palette_url")?,
                    row.get::<_, Option<String>>("palette_project_uid")?,
                    row.get::<_, Option<String>>("prism_endpoint")?,
                    row.get::<_, String>("settings_json")?,
                    row.get::<_, i64>("created_at")?,
                    row.get::<_, i64>("updated_at")?,
                ))?;
                environments += 1;
            }
        }
        let mut drafts = 0;
        {
            let mut read = old_conn
                .prepare("SELECT environment_id, kind, key, json, updated_at FROM drafts")?;
            let mut rows = read.query([])?;
            let mut write = tx.prepare(
                "INSERT INTO drafts (environment_id, kind, key, json, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            while let Some(row) = rows.next()? {
                write.execute((
                    row.get::<_, String>("environment_id")?,
                    row.get::<_, String>("kind")?,
                    row.get::<_, String>("key")?,
                    row.get::<_, String>("json")?,
                    row.get::<_, i64>("updated_at")?,
                ))?;
                drafts += 1;
            }
        }
        tx.commit()?;
        Ok((environments, drafts))
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn move_aside(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|source| StoreError::Io {
        path: from.to_owned(),
        source,
    })
}

fn classify_open_error(display: &str, path: &Path, err: rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: display.to_owned(),
            source: err,
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            StoreError::Io {
                path: path.to_owned(),
                source: std::io::Error::other(err.to_string()),
            }
        }
        _ => StoreError::from(err),
    }
}
