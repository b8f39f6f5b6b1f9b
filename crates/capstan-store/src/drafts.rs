//! Workflow drafts, saved as the user types. Each `put` is its own committed transaction
//! (WAL), so a draft survives an app crash.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::{Store, now_ms};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// `None` for a draft not tied to an environment (the new-environment wizard).
    pub environment_id: Option<String>,
    /// The workflow, e.g. `cluster_create`.
    pub kind: String,
    /// Which draft of that workflow, e.g. the cluster name being typed.
    pub key: String,
    pub json: serde_json::Value,
    pub updated_at: i64,
}

fn scope(environment_id: Option<&str>) -> &str {
    environment_id.unwrap_or("")
}

fn draft_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, String, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn finish(
    (environment_id, kind, key, json, updated_at): (String, String, String, String, i64),
) -> Result<Draft> {
    Ok(Draft {
        environment_id: Some(environment_id).filter(|id| !id.is_empty()),
        kind,
        key,
        json: serde_json::from_str(&json)?,
        updated_at,
    })
}

impl Store {
    /// Saves (replaces) a draft. Returns its `updated_at`.
    pub fn put_draft(
        &mut self,
        environment_id: Option<&str>,
        kind: &str,
        key: &str,
        json: &serde_json::Value,
    ) -> Result<i64> {
        if kind.is_empty() {
            return Err(StoreError::EmptyField { what: "draft kind" });
        }
        let now = now_ms();
        self.conn.execute(
            "INSERT INTO drafts (environment_id, kind, key, json, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (environment_id, kind, key) DO UPDATE SET json = excluded.json, \
             updated_at = excluded.updated_at",
            (
                scope(environment_id),
                kind,
                key,
                serde_json::to_string(json)?,
                now,
            ),
        )?;
        Ok(now)
    }

    pub fn draft(
        &self,
        environment_id: Option<&str>,
        kind: &str,
        key: &str,
    ) -> Result<Option<Draft>> {
        self.conn
            .query_row(
                "SELECT environment_id, kind, key, json, updated_at FROM drafts \
                 WHERE environment_id = ?1 AND kind = ?2 AND key = ?3",
                (scope(environment_id), kind, key),
                draft_from_row,
            )
            .optional()?
            .map(finish)
            .transpose()
    }

    /// Drafts of one scope, newest first; `kind = None` lists every workflow.
    pub fn drafts(&self, environment_id: Option<&str>, kind: Option<&str>) -> Result<Vec<Draft>> {
        let mut stmt = self.conn.prepare(
            "SELECT environment_id, kind, key, json, updated_at FROM drafts \
             WHERE environment_id = ?1 AND (?2 IS NULL OR kind = ?2) \
             ORDER BY updated_at DESC, kind, key",
        )?;
        let rows = stmt.query_map((scope(environment_id), kind), draft_from_row)?;
        rows.map(|row| finish(row?)).collect()
    }

    /// Returns false when there was no such draft.
    pub fn delete_draft(
        &mut self,
        environment_id: Option<&str>,
        kind: &str,
        key: &str,
    ) -> Result<bool> {
        let deleted = self.conn.execute(
            "DELETE FROM drafts WHERE environment_id = ?1 AND kind = ?2 AND key = ?3",
            (scope(environment_id), kind, key),
        )?;
        Ok(deleted > 0)
    }
}
