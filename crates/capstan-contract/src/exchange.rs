//! Recorded exchanges and the report over a whole test scenario.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use crate::check::{BodyRef, OperationId, Outcome};
use crate::deviations::{DEVIATIONS, OperationKey};
use crate::service::Service;
use crate::specs::Specs;
use crate::used::used_operations;
use crate::violation::Violation;

/// A body as the recorder kept it.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Empty,
    Json(Value),
    /// Not JSON (multipart form, octet-stream, plain text): only the size is kept, when known.
    Other {
        len: Option<usize>,
    },
}

impl Payload {
    pub fn as_body(&self) -> BodyRef<'_> {
        match self {
            Payload::Empty => BodyRef::Empty,
            Payload::Json(v) => BodyRef::Json(v),
            Payload::Other { len } => BodyRef::Other { len: *len },
        }
    }

    /// For recorders that keep only parsed JSON plus the content type (like the sandbox's):
    /// JSON when there is a value; a declared-JSON body that did not parse counts as empty
    /// (so a JSON schema flags it); anything else with a content type is non-JSON of unknown
    /// size; nothing at all is empty.
    pub fn from_recorded(json: Option<Value>, content_type: Option<&str>) -> Payload {
        match (json, content_type) {
            (Some(v), _) => Payload::Json(v),
            (None, Some(ct)) if ct.to_ascii_lowercase().contains("json") => Payload::Empty,
            (None, Some(_)) => Payload::Other { len: None },
            (None, None) => Payload::Empty,
        }
    }

    /// Classifies raw bytes: empty, JSON when they parse as JSON, otherwise other.
    pub fn from_bytes(bytes: &[u8]) -> Payload {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Payload::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(v) => Payload::Json(v),
            Err(_) => Payload::Other {
                len: Some(bytes.len()),
            },
        }
    }
}

/// One request/response pair, independent of who recorded it.
#[derive(Debug, Clone)]
pub struct RecordedExchange {
    pub service: Service,
    pub method: String,
    /// Path as sent (Prism paths may include `/api/nutanix/v3`); a `?query` suffix is allowed.
    pub path: String,
    /// Raw query string without `?`.
    pub query: Option<String>,
    pub status: u16,
    pub request_content_type: Option<String>,
    pub request: Payload,
    pub response_content_type: Option<String>,
    pub response: Payload,
}

/// The verdict on one exchange.
#[derive(Debug, Clone)]
pub struct ExchangeOutcome {
    pub operation: Option<OperationId>,
    pub request: Outcome,
    pub response: Outcome,
}

impl ExchangeOutcome {
    pub fn is_ok(&self) -> bool {
        self.request.is_ok() && self.response.is_ok()
    }
}

impl Specs {
    /// Checks both halves of a recorded exchange.
    pub fn check_exchange(&self, exchange: &RecordedExchange) -> ExchangeOutcome {
        let request = self.check_request(
            exchange.service,
            &exchange.method,
            &exchange.path,
            exchange.query.as_deref(),
            exchange.request_content_type.as_deref(),
            exchange.request.as_body(),
        );
        let response = self.check_response(
            exchange.service,
            &exchange.method,
            &exchange.path,
            exchange.status,
            exchange.response_content_type.as_deref(),
            exchange.response.as_body(),
        );
        ExchangeOutcome {
            operation: response.operation.clone().or(request.operation.clone()),
            request,
            response,
        }
    }

    /// Checks every exchange and summarises (also printed to stderr, which the test harness
    /// shows for failing tests and with `--nocapture`).
    pub fn validate_exchanges(&self, exchanges: &[RecordedExchange]) -> Report {
        let mut report = Report::default();
        for exchange in exchanges {
            let outcome = self.check_exchange(exchange);
            report.exchanges += 1;
            for id in outcome
                .request
                .deviations_applied
                .iter()
                .chain(&outcome.response.deviations_applied)
            {
                *report.deviations_applied.entry(id).or_default() += 1;
            }
            let label = match &outcome.operation {
                Some(op) => {
                    *report.covered.entry(op.clone()).or_default() += 1;
                    op.to_string()
                }
                None => format!(
                    "{} {} {} (unknown operation)",
                    exchange.service,
                    exchange.method.to_ascii_uppercase(),
                    exchange.path
                ),
            };
            if !outcome.is_ok() {
                let mut violations = Vec::new();
                for v in &outcome.request.violations {
                    if !violations.contains(v) {
                        violations.push(v.clone());
                    }
                }
                for v in &outcome.response.violations {
                    if !violations.contains(v) {
                        violations.push(v.clone());
                    }
                }
                report.failures.entry(label).or_default().push(Failure {
                    path: match &exchange.query {
                        Some(q) if !q.is_empty() => format!("{}?{q}", exchange.path),
                        _ => exchange.path.clone(),
                    },
                    status: exchange.status,
                    violations,
                });
            }
        }
        eprintln!("{}", report.summary());
        report
    }
}

const MAX_SHOWN_FAILURES: usize = 3;
const MAX_SHOWN_VIOLATIONS: usize = 6;

/// One failing exchange.
#[derive(Debug, Clone)]
pub struct Failure {
    pub path: String,
    pub status: u16,
    pub violations: Vec<Violation>,
}

/// Result of [`Specs::validate_exchanges`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub exchanges: usize,
    /// Operation label -> failing exchanges.
    pub failures: BTreeMap<String, Vec<Failure>>,
    /// Operation -> number of exchanges.
    pub covered: BTreeMap<OperationId, usize>,
    /// Deviation id -> number of exchanges that needed it.
    pub deviations_applied: BTreeMap<&'static str, usize>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }

    pub fn failing_exchanges(&self) -> usize {
        self.failures.values().map(Vec::len).sum()
    }

    /// Operations Capstan uses (see [`crate::used_operations`]) that no exchange exercised.
    pub fn uncovered(&self, service: Service) -> Vec<OperationKey> {
        let covered: BTreeSet<(String, String)> = self
            .covered
            .keys()
            .filter(|op| op.service == service)
            .map(|op| (op.method.clone(), op.template.clone()))
            .collect();
        used_operations(service)
            .iter()
            .filter(|k| !covered.contains(&(k.method.to_string(), k.template.to_string())))
            .copied()
            .collect()
    }

    /// A few lines: exchanges, failures, coverage of the used operations, deviations applied.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "contract check: {} exchange(s), {} failing, {} operation(s) with failures\n",
            self.exchanges,
            self.failing_exchanges(),
            self.failures.len()
        );
        for service in Service::ALL {
            let used = used_operations(service);
            let uncovered = self.uncovered(service);
            let exercised = self
                .covered
                .keys()
                .filter(|op| op.service == service)
                .count();
            out.push_str(&format!(
                "  {service}: {}/{} of the operations Capstan uses were exercised \
                 ({exercised} distinct operation(s) seen)\n",
                used.len() - uncovered.len(),
                used.len(),
            ));
            if !uncovered.is_empty() {
                let list: Vec<String> = uncovered.iter().map(ToString::to_string).collect();
                out.push_str(&format!("    not exercised: {}\n", list.join("; ")));
            }
        }
        if self.deviations_applied.is_empty() {
            out.push_str("  deviations applied: none\n");
        } else {
            let list: Vec<String> = self
                .deviations_applied
                .iter()
                .map(|(id, n)| format!("{id} x{n}"))
                .collect();
            out.push_str(&format!("  deviations applied: {}\n", list.join(", ")));
        }
        let unused: Vec<&str> = DEVIATIONS
            .iter()
            .map(|d| d.id)
            .filter(|id| !self.deviations_applied.contains_key(id))
            .collect();
        if !unused.is_empty() {
            out.push_str(&format!(
                "  deviations not needed by these exchanges: {}\n",
                unused.join(", ")
            ));
        }
        out
    }

    /// Panics with the full report when any exchange failed (for tests).
    #[track_caller]
    pub fn assert_clean(&self) {
        assert!(self.is_clean(), "{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        for (operation, failures) in &self.failures {
            writeln!(f, "\n  {operation}: {} failing exchange(s)", failures.len())?;
            // Enough to act on without drowning the log: a few exchanges, a few findings each.
            for failure in failures.iter().take(MAX_SHOWN_FAILURES) {
                writeln!(f, "    {} -> {}", failure.path, failure.status)?;
                for v in failure.violations.iter().take(MAX_SHOWN_VIOLATIONS) {
                    writeln!(f, "      - {v}")?;
                }
                if failure.violations.len() > MAX_SHOWN_VIOLATIONS {
                    writeln!(
                        f,
                        "      ... and {} more violation(s)",
                        failure.violations.len() - MAX_SHOWN_VIOLATIONS
                    )?;
                }
            }
            if failures.len() > MAX_SHOWN_FAILURES {
                writeln!(
                    f,
                    "    ... and {} more failing exchange(s)",
                    failures.len() - MAX_SHOWN_FAILURES
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn payload_classification() {
        assert_eq!(Payload::from_bytes(b"  \n"), Payload::Empty);
        assert_eq!(
            Payload::from_bytes(br#"{"a":1}"#),
            Payload::Json(json!({"a": 1}))
        );
        assert_eq!(
            Payload::from_bytes(b"kind: Config"),
            Payload::Other { len: Some(12) }
        );
        assert_eq!(
            Payload::from_recorded(Some(json!([])), Some("application/json")),
            Payload::Json(json!([]))
        );
        assert_eq!(
            Payload::from_recorded(None, Some("application/json; charset=utf-8")),
            Payload::Empty
        );
        assert_eq!(
            Payload::from_recorded(None, Some("application/octet-stream")),
            Payload::Other { len: None }
        );
        assert_eq!(Payload::from_recorded(None, None), Payload::Empty);
    }
}
