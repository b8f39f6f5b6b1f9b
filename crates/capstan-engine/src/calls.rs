//! The activity log of API calls in the cache database: every finished Palette or Prism
//! Central call (the `capstan_http::call` event) becomes one `activity` row — service,
//! method, redacted path, status or error code, duration — written in batches by one
//! background thread, so logging never waits on SQLite.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use capstan_ipc::types::ActivityEvent;
use capstan_store::{NewActivity, Store};
use parking_lot::Mutex;

/// Rows kept; older ones are pruned as new ones arrive.
const KEEP: u32 = 20_000;
const BATCH: usize = 500;

/// Starts the writer; the returned closure is the activity log's call sink. The thread ends
/// when the sink is dropped.
pub(crate) fn writer(
    store: impl Fn() -> Arc<Mutex<Store>> + Send + 'static,
    environment: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> crate::logging::ActivityListener {
    let (tx, rx) = mpsc::channel::<NewActivity>();
    let spawned = std::thread::Builder::new()
        .name("capstan-activity-writer".into())
        .spawn(move || {
            let mut since_prune = 0usize;
            while let Ok(first) = rx.recv() {
                // Gather what arrives in the next moment into one transaction-sized batch.
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match rx.recv_timeout(Duration::from_millis(50)) {
                        Ok(entry) => batch.push(entry),
                        Err(_) => break,
                    }
                }
                let store = store();
                let mut store = store.lock();
                for entry in &batch {
                    if let Err(e) = store.append_activity(entry) {
                        eprintln!(
                            "capstan: an API call could not be kept in the activity log: {e}"
                        );
                        break;
                    }
                }
                since_prune += batch.len();
                if since_prune >= 1_000 {
                    since_prune = 0;
                    let _ = store.prune_activity(None, Some(KEEP));
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("capstan: the activity writer could not start: {e}");
    }
    let tx = Mutex::new(tx);
    Box::new(move |event: &ActivityEvent| {
        if let Some(entry) = entry_of(event, environment()) {
            let _ = tx.lock().send(entry);
        }
    })
}

/// One API-call event as an activity row.
fn entry_of(event: &ActivityEvent, environment_id: Option<String>) -> Option<NewActivity> {
    let field = |k: &str| event.fields.get(k).cloned();
    let ts = time::OffsetDateTime::parse(
        &event.timestamp,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
    .unwrap_or_else(|_| capstan_store::now_ms());
    let status = field("status").and_then(|s| s.parse::<u16>().ok());
    let code = field("code");
    let outcome = match (status, &code) {
        (Some(s), _) if s < 400 => "ok",
        (Some(_), _) => "error",
        (None, Some(c)) if c == "timeout" => "timeout",
        _ => "error",
    };
    Some(NewActivity {
        ts,
        environment_id,
        service: field("service")?,
        method: field("method")?,
        path: field("path").unwrap_or_default(),
        status,
        duration_ms: field("elapsed_ms")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        outcome: outcome.to_owned(),
        error_code: code.or_else(|| status.filter(|s| *s >= 400).map(|s| format!("http_{s}"))),
        message: field("attempts")
            .filter(|a| a != "1")
            .map(|a| format!("{a} attempts")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn event(fields: &[(&str, &str)]) -> ActivityEvent {
        ActivityEvent {
            seq: 1,
            timestamp: "2026-11-21T10:00:00Z".into(),
            level: capstan_ipc::types::LogLevel::Debug,
            target: capstan_http::CALL_TARGET.into(),
            message: "API call".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn calls_become_rows_with_their_outcome() {
        let ok = entry_of(
            &event(&[
                ("service", "palette"),
                ("method", "GET"),
                ("path", "h/v1/x"),
                ("status", "200"),
                ("elapsed_ms", "12"),
                ("attempts", "1"),
            ]),
            Some("lab".into()),
        )
        .unwrap();
        assert_eq!(
            (ok.outcome.as_str(), ok.status, ok.duration_ms),
            ("ok", Some(200), 12)
        );
        assert_eq!(ok.ts, 1_795_255_200_000);
        assert!(ok.message.is_none());
        let refused = entry_of(
            &event(&[
                ("service", "prism-central"),
                ("method", "POST"),
                ("status", "401"),
                ("attempts", "2"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(refused.outcome, "error");
        assert_eq!(refused.error_code.as_deref(), Some("http_401"));
        assert_eq!(refused.message.as_deref(), Some("2 attempts"));
        let timeout = entry_of(
            &event(&[
                ("service", "palette"),
                ("method", "GET"),
                ("code", "timeout"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(timeout.outcome, "timeout");
        assert!(
            entry_of(&event(&[("method", "GET")]), None).is_none(),
            "not an API call event"
        );
    }
}
