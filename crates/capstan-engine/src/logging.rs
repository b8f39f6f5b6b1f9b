//! Logging: `tracing` events go to a daily-rotating file in the platform log dir, to stderr,
//! and into the in-memory [`ActivityLog`] that feeds the Activity page (and pushes each new
//! entry to the UI as a `capstan://activity` event).
//!
//! Secrets are redacted by type: they are held in `capstan_common::Secret`, whose `Debug`
//! and `Display` print `***`, so however an event records one, the value never reaches a
//! sink. The test at the bottom proves that for all three sinks.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use capstan_ipc::types::{ActivityEvent, ActivityQuery, LogLevel};
use parking_lot::{Mutex, RwLock};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

const ACTIVITY_CAPACITY: usize = 5_000;
const LOG_FILE_PREFIX: &str = "capstan";
const LOG_FILES_KEPT: usize = 7;

/// Listener for new Activity entries (the engine forwards them to the UI).
pub type ActivityListener = Box<dyn Fn(&ActivityEvent) + Send + Sync>;

/// A bounded, newest-last buffer of recent log events.
#[derive(Clone)]
pub struct ActivityLog {
    inner: Arc<ActivityInner>,
}

struct ActivityInner {
    events: Mutex<VecDeque<ActivityEvent>>,
    seq: AtomicU64,
    listener: RwLock<Option<ActivityListener>>,
    /// Receives every API-call event (target `capstan_http::call`) for the cache's
    /// activity table.
    call_sink: RwLock<Option<ActivityListener>>,
    log_dir: RwLock<Option<PathBuf>>,
}

impl Default for ActivityLog {
    fn default() -> Self {
        Self {
            inner: Arc::new(ActivityInner {
                events: Mutex::new(VecDeque::with_capacity(256)),
                seq: AtomicU64::new(0),
                listener: RwLock::new(None),
                call_sink: RwLock::new(None),
                log_dir: RwLock::new(None),
            }),
        }
    }
}

impl ActivityLog {
    pub fn set_listener(&self, listener: ActivityListener) {
        *self.inner.listener.write() = Some(listener);
    }

    /// Where API-call events also go (the engine keeps them in the cache database).
    pub fn set_call_sink(&self, sink: ActivityListener) {
        *self.inner.call_sink.write() = Some(sink);
    }

    pub fn record(
        &self,
        level: LogLevel,
        target: &str,
        message: String,
        fields: BTreeMap<String, String>,
    ) {
        let event = ActivityEvent {
            seq: self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1,
            timestamp: now_millis_rfc3339(),
            level,
            target: target.to_owned(),
            message,
            fields,
        };
        {
            let mut events = self.inner.events.lock();
            if events.len() == ACTIVITY_CAPACITY {
                events.pop_front();
            }
            events.push_back(event.clone());
        }
        if let Some(listener) = self.inner.listener.read().as_ref() {
            listener(&event);
        }
        if event.target == capstan_http::CALL_TARGET
            && let Some(sink) = self.inner.call_sink.read().as_ref()
        {
            sink(&event);
        }
    }

    /// The newest events matching `query`, oldest first.
    pub fn query(&self, query: &ActivityQuery) -> Vec<ActivityEvent> {
        let limit = query.limit.unwrap_or(200).clamp(1, 2_000) as usize;
        let min_level = query.min_level.unwrap_or(LogLevel::Info);
        let needle = query
            .text
            .as_deref()
            .map(str::to_lowercase)
            .filter(|t| !t.is_empty());
        let events = self.inner.events.lock();
        let mut picked: Vec<ActivityEvent> = events
            .iter()
            .rev()
            .filter(|e| e.level >= min_level)
            .filter(|e| match &needle {
                None => true,
                Some(n) => {
                    e.message.to_lowercase().contains(n)
                        || e.target.to_lowercase().contains(n)
                        || e.fields.iter().any(|(k, v)| {
                            k.to_lowercase().contains(n) || v.to_lowercase().contains(n)
                        })
                }
            })
            .take(limit)
            .cloned()
            .collect();
        picked.reverse();
        picked
    }

    /// Where today's log file is (the rotating appender names files `capstan.YYYY-MM-DD.log`).
    pub fn log_file_hint(&self) -> String {
        match self.inner.log_dir.read().as_ref() {
            Some(dir) => dir.join(today_log_file_name()).display().to_string(),
            None => String::new(),
        }
    }
}

/// Keeps the file writer flushing; drop it last (at exit).
pub struct LoggingGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the global subscriber: file (rotating daily, 7 kept) + stderr + Activity.
/// `RUST_LOG` overrides the default filter (`info`, with Capstan's own crates at `debug`
/// in the file). Safe to call once per process; a second call only logs a warning.
pub fn init(log_dir: &Path, activity: &ActivityLog) -> LoggingGuard {
    *activity.inner.log_dir.write() = Some(log_dir.to_path_buf());
    let file_writer = std::fs::create_dir_all(log_dir).ok().and_then(|_| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(LOG_FILE_PREFIX)
            .filename_suffix("log")
            .max_log_files(LOG_FILES_KEPT)
            .build(log_dir)
            .ok()
    });
    let (file_layer, guard) = match file_writer {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_target(true)
                .with_filter(filter(
                    "info,capstan=debug,capstan_engine=debug,capstan_sandbox=info,capstan_http::call=debug",
                ));
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(true)
        .with_filter(filter("info"));
    // API calls are debug events: in the Activity feed (shown at "debug") and, through the
    // call sink, in the cache's activity table.
    let activity_layer = ActivityLayer {
        log: activity.clone(),
    }
    .with_filter(filter("info,capstan_http::call=debug"));
    let installed = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .with(activity_layer)
        .try_init();
    if let Err(e) = installed {
        tracing::warn!("logging was already initialised: {e}");
    } else if guard.is_none() {
        tracing::warn!(
            "cannot write log files to {}; logging to stderr only",
            log_dir.display()
        );
    }
    LoggingGuard { _file: guard }
}

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// A `tracing` layer that copies events into an [`ActivityLog`].
pub struct ActivityLayer {
    pub log: ActivityLog,
}

impl<S: tracing::Subscriber> Layer<S> for ActivityLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut visitor = FieldCollector::default();
        event.record(&mut visitor);
        let level = match *meta.level() {
            tracing::Level::TRACE => LogLevel::Trace,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::ERROR => LogLevel::Error,
        };
        self.log
            .record(level, meta.target(), visitor.message, visitor.fields);
    }
}

#[derive(Default)]
struct FieldCollector {
    message: String,
    fields: BTreeMap<String, String>,
}

impl Visit for FieldCollector {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields
                .insert(field.name().to_owned(), format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields
                .insert(field.name().to_owned(), value.to_owned());
        }
    }
}

fn now_millis_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&fmt).unwrap_or_default()
}

fn today_log_file_name() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default();
    format!("{LOG_FILE_PREFIX}.{day}.log")
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_common::Secret;

    fn with_activity<R>(f: impl FnOnce() -> R) -> (ActivityLog, R) {
        let log = ActivityLog::default();
        let subscriber = tracing_subscriber::registry().with(ActivityLayer { log: log.clone() });
        let r = tracing::subscriber::with_default(subscriber, f);
        (log, r)
    }

    #[test]
    fn events_are_recorded_with_fields_and_filtered() {
        let (log, _) = with_activity(|| {
            tracing::info!(environment = "sandbox", "environment activated");
            tracing::warn!(code = "tls_untrusted", "prism check failed");
            tracing::debug!("noise");
        });
        let all = log.query(&ActivityQuery {
            min_level: Some(LogLevel::Debug),
            ..Default::default()
        });
        assert_eq!(all.len(), 3);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "oldest first");
        assert_eq!(all[0].fields["environment"], "sandbox");

        let warn = log.query(&ActivityQuery {
            min_level: Some(LogLevel::Warn),
            ..Default::default()
        });
        assert_eq!(warn.len(), 1);
        assert_eq!(warn[0].message, "prism check failed");

        let text = log.query(&ActivityQuery {
            text: Some("SANDBOX".into()),
            ..Default::default()
        });
        assert_eq!(text.len(), 1, "matches field values case-insensitively");

        let last = log.query(&ActivityQuery {
            limit: Some(1),
            min_level: Some(LogLevel::Trace),
            ..Default::default()
        });
        assert_eq!(last[0].message, "noise", "limit keeps the newest");
    }

    #[test]
    fn buffer_is_bounded() {
        let log = ActivityLog::default();
        for i in 0..(ACTIVITY_CAPACITY + 10) {
            log.record(LogLevel::Info, "t", format!("e{i}"), BTreeMap::new());
        }
        let all = log.query(&ActivityQuery {
            limit: Some(2_000),
            ..Default::default()
        });
        assert_eq!(
            all.last().unwrap().message,
            format!("e{}", ACTIVITY_CAPACITY + 9)
        );
        assert_eq!(log.inner.events.lock().len(), ACTIVITY_CAPACITY);
    }

    #[test]
    fn listener_sees_each_new_event() {
        let log = ActivityLog::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        log.set_listener(Box::new(move |e| sink.lock().push(e.message.clone())));
        log.record(LogLevel::Info, "t", "hello".into(), BTreeMap::new());
        assert_eq!(*seen.lock(), vec!["hello".to_owned()]);
    }

    #[test]
    fn secrets_never_reach_activity_or_the_log_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = ActivityLog::default();
        let appender = tracing_appender::rolling::never(dir.path(), "t.log");
        let file_layer = tracing_subscriber::fmt::layer()
            .with_writer(appender)
            .with_ansi(false);
        let subscriber = tracing_subscriber::registry()
            .with(ActivityLayer { log: log.clone() })
            .with(file_layer);
        let password = Secret::new("s3cr3t-pa55");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(user = "admin", password = ?password, "login");
            tracing::info!(password = %password, "login again");
            tracing::warn!("failed with {password} and {password:?}");
        });
        let file = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
        assert!(file.contains("login") && file.contains("admin"), "{file}");
        assert!(!file.contains("s3cr3t"), "log file leaked a secret: {file}");
        for e in log.query(&ActivityQuery {
            limit: Some(100),
            ..Default::default()
        }) {
            let all = format!("{} {:?}", e.message, e.fields);
            assert!(!all.contains("s3cr3t"), "activity leaked a secret: {all}");
        }
    }
}
