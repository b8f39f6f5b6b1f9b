//! Environments: a name, the Palette and Prism Central endpoints and non-secret settings.
//! Credentials are NOT stored here: they live in the OS keyring, keyed by environment id.
//! As a second line, endpoints lose any `user:pass@` and settings lose password-like keys
//! before they are written.

use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::redact::{redact_json, redact_url_credentials};
use crate::store::{Store, now_ms};

/// What the caller provides. The id is chosen by the caller (a UUID) so the keyring entry
/// can be created under the same id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentSpec {
    pub id: String,
    pub name: String,
    pub palette_url: Option<String>,
    pub palette_project_uid: Option<String>,
    pub prism_endpoint: Option<String>,
    /// Non-secret settings (TLS policy, page sizes, default project, ...).
    pub settings: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    #[serde(flatten)]
    pub spec: EnvironmentSpec,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, palette_url, palette_project_uid, prism_endpoint, settings_json, \
                       created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(EnvironmentSpec, String, i64, i64)> {
    Ok((
        EnvironmentSpec {
            id: row.get(0)?,
            name: row.get(1)?,
            palette_url: row.get(2)?,
            palette_project_uid: row.get(3)?,
            prism_endpoint: row.get(4)?,
            settings: serde_json::Value::Null,
        },
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

fn finish(
    (mut spec, settings, created_at, updated_at): (EnvironmentSpec, String, i64, i64),
) -> Result<Environment> {
    spec.settings = serde_json::from_str(&settings)?;
    Ok(Environment {
        spec,
        created_at,
        updated_at,
    })
}

impl Store {
    /// Creates or updates an environment (by id). Returns what was stored, after
    /// redaction.
    pub fn put_environment(&mut self, spec: &EnvironmentSpec) -> Result<Environment> {
        if spec.id.trim().is_empty() {
            return Err(StoreError::EmptyField {
                what: "environment id",
            });
        }
        if spec.name.trim().is_empty() {
            return Err(StoreError::EmptyField {
                what: "environment name",
            });
        }
        let mut settings = if spec.settings.is_null() {
            serde_json::json!({})
        } else {
            spec.settings.clone()
        };
        redact_json(&mut settings);
        let clean = |url: &Option<String>| url.as_deref().map(redact_url_credentials);
        let now = now_ms();
        let result = self.conn.execute(
            "INSERT INTO environments (id, name, palette_url, palette_project_uid, \
             prism_endpoint, settings_json, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             palette_url = excluded.palette_url, palette_project_uid = excluded.palette_project_uid, \
             prism_endpoint = excluded.prism_endpoint, settings_json = excluded.settings_json, \
             updated_at = excluded.updated_at",
            (
                &spec.id,
                spec.name.trim(),
                clean(&spec.palette_url),
                &spec.palette_project_uid,
                clean(&spec.prism_endpoint),
                serde_json::to_string(&settings)?,
                now,
            ),
        );
        match result {
            Err(err)
                if err.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
            {
                return Err(StoreError::DuplicateEnvironmentName {
                    name: spec.name.trim().to_owned(),
                });
            }
            other => {
                other?;
            }
        }
        self.environment(&spec.id)?
            .ok_or_else(|| StoreError::UnknownEnvironment {
                id: spec.id.clone(),
            })
    }

    pub fn environment(&self, id: &str) -> Result<Option<Environment>> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM environments WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
            .map(finish)
            .transpose()
    }

    /// All environments, by name.
    pub fn environments(&self) -> Result<Vec<Environment>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM environments ORDER BY name, id"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        rows.map(|row| finish(row?)).collect()
    }

    /// Deletes an environment with everything cached for it and its drafts. The activity
    /// log keeps its entries. Returns false when there was no such environment.
    pub fn delete_environment(&mut self, id: &str) -> Result<bool> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM drafts WHERE environment_id = ?1", [id])?;
        let deleted = tx.execute("DELETE FROM environments WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(deleted > 0)
    }

    pub(crate) fn require_environment(&self, id: &str) -> Result<()> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM environments WHERE id = ?1)",
            [id],
            |row| row.get(0),
        )?;
        if exists {
            Ok(())
        } else {
            Err(StoreError::UnknownEnvironment { id: id.to_owned() })
        }
    }
}
