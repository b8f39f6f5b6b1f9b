//! Step drafts in the cache database (table `drafts`, kind `workflow:<step>`), per
//! environment. Each save is its own committed transaction, so a draft survives a crash.
//! Drafts never hold secrets: values under keys that name one are dropped before saving.

use std::collections::BTreeSet;

use capstan_ipc::IpcError;
use capstan_ipc::workflow::{Draft, DraftPut, DraftReply, WorkflowStepId};
use serde_json::Value;

use crate::Engine;
use crate::connection::invalid;

/// The largest draft saved (its JSON text). Templates are large; 1 MiB is far above them.
pub(crate) const MAX_DRAFT_BYTES: usize = 1024 * 1024;
const KIND_PREFIX: &str = "workflow:";

fn kind(step: WorkflowStepId) -> String {
    format!("{KIND_PREFIX}{step}")
}

/// Removes every string stored under a key that names a secret (`password`, `token`, ...),
/// at any depth, and URL credentials inside the strings kept. Flags such as
/// `savedSecretAvailable: true` stay: they are not secrets.
pub(crate) fn strip_secrets(value: &mut Value) -> Vec<String> {
    let mut dropped = Vec::new();
    strip(value, &mut dropped);
    dropped
}

fn strip(value: &mut Value, dropped: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let secret_keys: Vec<String> = map
                .iter()
                .filter(|(k, v)| v.is_string() && capstan_store::redact::is_sensitive_key(k))
                .map(|(k, _)| k.clone())
                .collect();
            for k in secret_keys {
                map.remove(&k);
                dropped.push(k);
            }
            for child in map.values_mut() {
                strip(child, dropped);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, dropped)),
        Value::String(text) if text.contains("://") => {
            *text = capstan_store::redact_url_credentials(text);
        }
        _ => {}
    }
}

fn to_dto(step: WorkflowStepId, draft: capstan_store::Draft) -> Draft {
    let updated =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(draft.updated_at) * 1_000_000)
            .map(super::rfc3339)
            .unwrap_or_default();
    Draft {
        step,
        data: draft.json,
        updated_at: updated,
    }
}

impl Engine {
    pub async fn draft_get(&self, step: WorkflowStepId) -> Result<DraftReply, IpcError> {
        let env = self.inner.environments.active_id();
        let kind = kind(step);
        let draft = self
            .inner
            .cache
            .with_store(move |s| s.draft(Some(&env), &kind, ""))
            .await?;
        Ok(DraftReply {
            draft: draft.map(|d| to_dto(step, d)),
        })
    }

    pub async fn draft_save(&self, request: DraftPut) -> Result<DraftReply, IpcError> {
        let mut data = request.data;
        let dropped = strip_secrets(&mut data);
        if !dropped.is_empty() {
            // Names only: the values are what must not be kept.
            tracing::info!(step = %request.step, fields = ?dropped, "secret-looking draft fields not saved");
        }
        let size = serde_json::to_vec(&data).map(|v| v.len()).unwrap_or(0);
        if size > MAX_DRAFT_BYTES {
            return Err(invalid(
                "data",
                &format!(
                    "This draft is {} KiB; drafts are limited to {} KiB. Remove large pasted files from the form \
                     (they can be chosen again) and it will be saved.",
                    size / 1024,
                    MAX_DRAFT_BYTES / 1024
                ),
            ));
        }
        let env = self.inner.environments.active_id();
        let kind = kind(request.step);
        let saved = data.clone();
        let updated_at = self
            .inner
            .cache
            .with_store(move |s| s.put_draft(Some(&env), &kind, "", &saved))
            .await?;
        Ok(DraftReply {
            draft: Some(to_dto(
                request.step,
                capstan_store::Draft {
                    environment_id: None,
                    kind: String::new(),
                    key: String::new(),
                    json: data,
                    updated_at,
                },
            )),
        })
    }

    pub async fn draft_delete(&self, step: WorkflowStepId) -> Result<DraftReply, IpcError> {
        let env = self.inner.environments.active_id();
        let kind = kind(step);
        self.inner
            .cache
            .with_store(move |s| s.delete_draft(Some(&env), &kind, ""))
            .await?;
        Ok(DraftReply { draft: None })
    }

    /// The steps of the active environment that have a draft.
    pub(crate) async fn steps_with_drafts(&self) -> BTreeSet<String> {
        let env = self.inner.environments.active_id();
        match self
            .inner
            .cache
            .with_store(move |s| s.drafts(Some(&env), None))
            .await
        {
            Ok(drafts) => drafts
                .into_iter()
                .filter_map(|d| d.kind.strip_prefix(KIND_PREFIX).map(str::to_owned))
                .collect(),
            Err(e) => {
                tracing::warn!(
                    code = e.code.as_str(),
                    "drafts could not be read: {}",
                    e.message
                );
                BTreeSet::new()
            }
        }
    }

    /// A step's draft data, if any (for defaults such as the PCG step 2 made).
    pub(crate) async fn draft_data(&self, step: WorkflowStepId) -> Option<Value> {
        self.draft_get(step).await.ok()?.draft.map(|d| d.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_fields_are_dropped_at_any_depth_and_flags_kept() {
        let mut v = json!({
            "name": "nutanix-prod",
            "values": {"NUTANIX_USER": "admin", "NUTANIX_PASSWORD": "hunter2", "NUTANIX_PORT": "9440"},
            "fields": [{"key": "NUTANIX_PASSWORD", "savedSecretAvailable": true, "apiKey": "k-123"}],
            "proxy": "http://user:pw@proxy:3128",
        });
        let dropped = strip_secrets(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("k-123") && !text.contains(":pw@"),
            "{text}"
        );
        assert_eq!(v["values"]["NUTANIX_USER"], "admin");
        assert_eq!(v["fields"][0]["savedSecretAvailable"], true);
        assert_eq!(
            v["fields"][0]["key"], "NUTANIX_PASSWORD",
            "a key's name is not a secret"
        );
        assert_eq!(dropped.len(), 2, "{dropped:?}");
    }
}
