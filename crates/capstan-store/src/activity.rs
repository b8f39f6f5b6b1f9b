//! The activity log: one row per API call with its outcome. Callers redact before
//! appending (see [`crate::redact`]); the store runs [`redact`] over the path, message and
//! error text again, so a forgotten call site still does not leak.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::redact::redact;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewActivity {
    /// Milliseconds since the Unix epoch.
    pub ts: i64,
    pub environment_id: Option<String>,
    /// `palette`, `prism`, `sandbox`, ...
    pub service: String,
    pub method: String,
    pub path: String,
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// `ok`, `error`, `timeout`, `cancelled`, ...
    pub outcome: String,
    /// The error's stable code, when it failed.
    pub error_code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: i64,
    #[serde(flatten)]
    pub entry: NewActivity,
}

impl Store {
    /// Appends one entry; returns its id.
    pub fn append_activity(&mut self, entry: &NewActivity) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO activity (ts, environment_id, service, method, path, status, \
                 duration_ms, outcome, error_code, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute((
                entry.ts,
                &entry.environment_id,
                &entry.service,
                &entry.method,
                redact(&entry.path),
                entry.status,
                i64::try_from(entry.duration_ms).unwrap_or(i64::MAX),
                &entry.outcome,
                &entry.error_code,
                entry.message.as_deref().map(redact),
            ))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The newest `limit` entries, newest first; `environment_id = None` means all.
    pub fn recent_activity(
        &self,
        environment_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Activity>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, ts, environment_id, service, method, path, status, duration_ms, \
             outcome, error_code, message FROM activity \
             WHERE ?1 IS NULL OR environment_id = ?1 ORDER BY ts DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map((environment_id, limit), |row| {
            Ok(Activity {
                id: row.get(0)?,
                entry: NewActivity {
                    ts: row.get(1)?,
                    environment_id: row.get(2)?,
                    service: row.get(3)?,
                    method: row.get(4)?,
                    path: row.get(5)?,
                    status: row.get(6)?,
                    duration_ms: row.get::<_, i64>(7)?.max(0) as u64,
                    outcome: row.get(8)?,
                    error_code: row.get(9)?,
                    message: row.get(10)?,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deletes entries older than `older_than` (ms since epoch) and, beyond that, all but
    /// the newest `keep_newest`. Returns how many were deleted.
    pub fn prune_activity(
        &mut self,
        older_than: Option<i64>,
        keep_newest: Option<u32>,
    ) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut deleted = 0;
        if let Some(cutoff) = older_than {
            deleted += tx.execute("DELETE FROM activity WHERE ts < ?1", [cutoff])?;
        }
        if let Some(keep) = keep_newest {
            deleted += tx.execute(
                "DELETE FROM activity WHERE id NOT IN \
                 (SELECT id FROM activity ORDER BY ts DESC, id DESC LIMIT ?1)",
                [keep],
            )?;
        }
        tx.commit()?;
        Ok(deleted)
    }
}
