//! Fault injection: rules matched per service, method and path glob, fired by probability
//! from a seeded RNG (so tests are reproducible), optionally limited to a number of firings.

use std::sync::Arc;

use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::record::Service;
use crate::util::glob_match;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FaultService {
    #[default]
    Any,
    Palette,
    Prism,
}

impl FaultService {
    fn matches(self, s: Service) -> bool {
        matches!(
            (self, s),
            (FaultService::Any, _)
                | (FaultService::Palette, Service::Palette)
                | (FaultService::Prism, Service::Prism)
        )
    }
}

/// What a rule does to a matching request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Delay the response by `ms`; the request is then served normally.
    Latency { ms: u64 },
    /// 429 with `Retry-After` and the service's error envelope.
    TooManyRequests {
        #[serde(default = "default_retry_after")]
        retry_after_secs: u64,
    },
    /// 500 with the service's error envelope.
    InternalError,
    /// 503 with the service's error envelope.
    ServiceUnavailable,
    /// Close the connection without sending a response (the request is not served).
    DropConnection,
    /// Serve the request (so a create or update takes effect), then close the connection
    /// without sending the response: the client cannot tell whether it landed.
    DropResponse,
    /// Serve the real response, but trickle the body out in small chunks.
    SlowBody {
        #[serde(default = "default_chunk")]
        chunk_bytes: usize,
        #[serde(default = "default_chunk_delay")]
        delay_ms: u64,
    },
    /// Serve the real status with a truncated, unparsable JSON body.
    MalformedJson,
    /// Treat the caller's Prism session cookie / Palette token as expired (401), and
    /// forget it so the client has to log in again.
    ExpiredSession,
}

fn default_retry_after() -> u64 {
    1
}
fn default_chunk() -> usize {
    16
}
fn default_chunk_delay() -> u64 {
    20
}
fn default_probability() -> f64 {
    1.0
}
fn default_path() -> String {
    "*".to_owned()
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FaultRule {
    #[serde(default)]
    pub service: FaultService,
    /// `None` (or `"*"`) = any method.
    #[serde(default)]
    pub method: Option<String>,
    /// Glob over the request path; `*` matches any run of characters.
    #[serde(default = "default_path")]
    pub path: String,
    pub kind: FaultKind,
    /// 0.0..=1.0
    #[serde(default = "default_probability")]
    pub probability: f64,
    /// Fire at most this many times (`None` = unlimited).
    #[serde(default)]
    pub count: Option<u64>,
    /// How many times the rule has fired (read-only; ignored on input).
    #[serde(default)]
    pub fired: u64,
}

impl FaultRule {
    pub fn new(service: FaultService, path: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            service,
            method: None,
            path: path.into(),
            kind,
            probability: 1.0,
            count: None,
            fired: 0,
        }
    }

    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    pub fn probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    pub fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }

    fn matches(&self, service: Service, method: &str, path: &str) -> bool {
        self.service.matches(service)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m == "*" || m.eq_ignore_ascii_case(method))
            && glob_match(&self.path, path)
            && self.count.is_none_or(|c| self.fired < c)
    }

    /// Parses the CLI syntax `SERVICE:METHOD:PATH:KIND[:PROBABILITY[:COUNT]]`, e.g.
    /// `prism:POST:/api/nutanix/v3/vms/list:429:0.2`. SERVICE is `palette`, `prism` or `*`;
    /// METHOD is an HTTP method or `*`; PATH is a glob; KIND is one of `429`, `500`, `503`,
    /// `drop`, `drop-response`, `slow`, `malformed`, `expire`, `latency=MS`.
    pub fn parse(spec: &str) -> Result<Self, ParseFaultError> {
        let parts: Vec<&str> = spec.split(':').collect();
        if parts.len() < 4 || parts.len() > 6 {
            return Err(ParseFaultError(format!(
                "\"{spec}\" should look like SERVICE:METHOD:PATH:KIND[:PROBABILITY[:COUNT]]"
            )));
        }
        let service = match parts[0].to_ascii_lowercase().as_str() {
            "palette" => FaultService::Palette,
            "prism" => FaultService::Prism,
            "*" | "any" | "" => FaultService::Any,
            other => {
                return Err(ParseFaultError(format!(
                    "unknown service \"{other}\" in \"{spec}\"; use palette, prism or *"
                )));
            }
        };
        let method = match parts[1] {
            "" | "*" => None,
            m => Some(m.to_ascii_uppercase()),
        };
        let path = if parts[2].is_empty() { "*" } else { parts[2] };
        let kind = match parts[3].to_ascii_lowercase().as_str() {
            "429" => FaultKind::TooManyRequests {
                retry_after_secs: 1,
            },
            "500" => FaultKind::InternalError,
            "503" => FaultKind::ServiceUnavailable,
            "drop" => FaultKind::DropConnection,
            "drop-response" => FaultKind::DropResponse,
            "slow" => FaultKind::SlowBody {
                chunk_bytes: default_chunk(),
                delay_ms: default_chunk_delay(),
            },
            "malformed" => FaultKind::MalformedJson,
            "expire" => FaultKind::ExpiredSession,
            k if k.starts_with("latency=") => {
                let ms = k["latency=".len()..].parse().map_err(|_| {
                    ParseFaultError(format!(
                        "latency needs milliseconds, e.g. latency=250, in \"{spec}\""
                    ))
                })?;
                FaultKind::Latency { ms }
            }
            other => {
                return Err(ParseFaultError(format!(
                    "unknown fault kind \"{other}\" in \"{spec}\"; use 429, 500, 503, drop, drop-response, slow, malformed, expire or latency=MS"
                )));
            }
        };
        let probability = match parts.get(4) {
            Some(p) => p
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| {
                    ParseFaultError(format!("probability must be between 0 and 1 in \"{spec}\""))
                })?,
            None => 1.0,
        };
        let count = match parts.get(5) {
            Some(c) => Some(c.parse::<u64>().map_err(|_| {
                ParseFaultError(format!("count must be a whole number in \"{spec}\""))
            })?),
            None => None,
        };
        Ok(Self {
            service,
            method,
            path: path.to_owned(),
            kind,
            probability,
            count,
            fired: 0,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault rule: {0}")]
pub struct ParseFaultError(pub String);

impl ParseFaultError {
    pub fn code(&self) -> &'static str {
        "invalid_fault_rule"
    }
}

/// A token-bucket rate limit (real time): `per_second` sustained, bursts up to `burst`.
/// Palette documents about 10 requests/s with a burst of 5 for most paths.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl RateLimit {
    /// `per_second` with a burst of half that (at least 1), like Palette's 10/s burst 5.
    pub fn per_second(per_second: f64) -> Self {
        Self {
            per_second,
            burst: ((per_second / 2.0).ceil() as u32).max(1),
        }
    }
}

/// Fault rules plus the session knobs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Default)]
#[serde(default)]
pub struct FaultConfig {
    pub rules: Vec<FaultRule>,
    /// Prism session cookie lifetime in demo seconds (default 900 = 15 minutes).
    pub prism_session_ttl_secs: Option<f64>,
    /// Palette token lifetime in demo seconds (default 900 = 15 minutes).
    pub palette_token_ttl_secs: Option<f64>,
    /// Answer bad Prism credentials with an empty 401 body instead of the JSON envelope.
    pub prism_401_empty_body: bool,
    /// Latency added to every request (milliseconds of real time).
    pub latency_ms: u64,
    /// Answer 429 (with `Retry-After`) once Prism callers exceed this rate.
    pub prism_rate_limit: Option<RateLimit>,
    /// Answer 429 (with `Retry-After`) once Palette callers exceed this rate.
    pub palette_rate_limit: Option<RateLimit>,
}

/// What the server does for one request.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    pub latency_ms: u64,
    pub terminal: Option<FaultKind>,
}

struct Inner {
    config: FaultConfig,
    rng: ChaCha8Rng,
    /// Token buckets: (tokens, last refill) for Palette and Prism.
    buckets: [(f64, Option<std::time::Instant>); 2],
}

/// Changes fault rules at runtime. Cheap to clone; all clones share the rules.
#[derive(Clone)]
pub struct FaultHandle {
    inner: Arc<Mutex<Inner>>,
}

impl FaultHandle {
    pub(crate) fn new(config: FaultConfig, seed: u64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                config,
                rng: ChaCha8Rng::seed_from_u64(seed ^ 0xFA17_5EED),
                buckets: [(0.0, None); 2],
            })),
        }
    }

    pub fn get(&self) -> FaultConfig {
        self.inner.lock().config.clone()
    }

    pub fn set(&self, config: FaultConfig) {
        self.inner.lock().config = config;
    }

    pub fn add_rule(&self, rule: FaultRule) {
        self.inner.lock().config.rules.push(rule);
    }

    pub fn clear_rules(&self) {
        self.inner.lock().config.rules.clear();
    }

    pub fn set_latency_ms(&self, ms: u64) {
        self.inner.lock().config.latency_ms = ms;
    }

    /// Re-seeds the probability RNG (to replay a fault sequence).
    pub fn reseed(&self, seed: u64) {
        self.inner.lock().rng = ChaCha8Rng::seed_from_u64(seed ^ 0xFA17_5EED);
    }

    pub(crate) fn prism_session_ttl(&self) -> f64 {
        self.inner
            .lock()
            .config
            .prism_session_ttl_secs
            .unwrap_or(900.0)
    }

    pub(crate) fn palette_token_ttl(&self) -> f64 {
        self.inner
            .lock()
            .config
            .palette_token_ttl_secs
            .unwrap_or(900.0)
    }

    pub(crate) fn prism_401_empty_body(&self) -> bool {
        self.inner.lock().config.prism_401_empty_body
    }

    pub(crate) fn decide(&self, service: Service, method: &str, path: &str) -> Decision {
        let mut guard = self.inner.lock();
        let Inner {
            config,
            rng,
            buckets,
        } = &mut *guard;
        let mut d = Decision {
            latency_ms: config.latency_ms,
            terminal: None,
        };
        for rule in config.rules.iter_mut() {
            if !rule.matches(service, method, path) {
                continue;
            }
            let fire = rule.probability >= 1.0 || rng.random::<f64>() < rule.probability;
            if !fire {
                continue;
            }
            match &rule.kind {
                FaultKind::Latency { ms } => {
                    rule.fired += 1;
                    d.latency_ms += ms;
                }
                k if d.terminal.is_none() => {
                    rule.fired += 1;
                    d.terminal = Some(k.clone());
                }
                _ => {}
            }
        }
        let (limit, bucket) = match service {
            Service::Palette => (config.palette_rate_limit, &mut buckets[0]),
            Service::Prism => (config.prism_rate_limit, &mut buckets[1]),
        };
        if let Some(limit) = limit.filter(|l| l.per_second > 0.0) {
            let now = std::time::Instant::now();
            let burst = f64::from(limit.burst.max(1));
            let tokens = match bucket.1 {
                Some(last) => (bucket.0
                    + now.duration_since(last).as_secs_f64() * limit.per_second)
                    .min(burst),
                None => burst,
            };
            if tokens >= 1.0 {
                *bucket = (tokens - 1.0, Some(now));
            } else {
                *bucket = (tokens, Some(now));
                if d.terminal.is_none() {
                    let wait = ((1.0 - tokens) / limit.per_second).ceil().max(1.0) as u64;
                    d.terminal = Some(FaultKind::TooManyRequests {
                        retry_after_secs: wait,
                    });
                }
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_specs_parse() {
        let r = FaultRule::parse("prism:POST:/api/nutanix/v3/vms/list:429:0.2").unwrap();
        assert_eq!(r.service, FaultService::Prism);
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(r.probability, 0.2);
        assert!(matches!(r.kind, FaultKind::TooManyRequests { .. }));
        let r = FaultRule::parse("*:*:/v1/*:latency=250::").err();
        assert!(r.is_some());
        let r = FaultRule::parse("palette:*:/v1/*:drop:1:3").unwrap();
        assert_eq!(r.count, Some(3));
        assert!(FaultRule::parse("x:GET:/:500").is_err());
        assert!(FaultRule::parse("prism:GET:/:teapot").is_err());
        assert!(FaultRule::parse("prism:GET:/:500:1.5").is_err());
    }

    #[test]
    fn rate_limit_allows_a_burst_then_answers_429() {
        let h = FaultHandle::new(
            FaultConfig {
                palette_rate_limit: Some(RateLimit {
                    per_second: 0.5,
                    burst: 3,
                }),
                ..FaultConfig::default()
            },
            1,
        );
        let limited: Vec<bool> = (0..5)
            .map(|_| {
                h.decide(Service::Palette, "GET", "/v1/x")
                    .terminal
                    .is_some()
            })
            .collect();
        assert_eq!(limited, vec![false, false, false, true, true]);
        assert!(
            h.decide(Service::Prism, "GET", "/x").terminal.is_none(),
            "per service"
        );
        match h.decide(Service::Palette, "GET", "/v1/x").terminal {
            Some(FaultKind::TooManyRequests { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn count_limits_firings_and_probability_is_seeded() {
        let h = FaultHandle::new(FaultConfig::default(), 1);
        h.add_rule(FaultRule::new(FaultService::Any, "/x", FaultKind::InternalError).count(2));
        let fired: Vec<bool> = (0..4)
            .map(|_| h.decide(Service::Prism, "GET", "/x").terminal.is_some())
            .collect();
        assert_eq!(fired, vec![true, true, false, false]);

        let run = |seed| {
            let h = FaultHandle::new(FaultConfig::default(), seed);
            h.add_rule(
                FaultRule::new(FaultService::Any, "*", FaultKind::InternalError).probability(0.5),
            );
            (0..64)
                .map(|_| h.decide(Service::Palette, "GET", "/a").terminal.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        let hits = run(7).iter().filter(|b| **b).count();
        assert!(hits > 10 && hits < 54, "{hits}");
    }
}
