//! The HTTP client both API clients wrap: one reqwest client per endpoint, plus the retry
//! loop and error classification.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::error::{TransportError, classify};
use crate::retry::{Idempotency, RetryPolicy, is_retryable_status, parse_retry_after};
use crate::tls::{TlsPolicy, client_config};

/// The `tracing` target of the one event every finished API call emits.
pub const CALL_TARGET: &str = "capstan_http::call";

/// Settings for one endpoint's client.
#[derive(Clone)]
pub struct HttpConfig {
    pub tls: TlsPolicy,
    /// Explicit proxy URL (`http://proxy:3128`). `None` keeps the environment's
    /// HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
    pub proxy: Option<String>,
    /// Skip every proxy, including the environment's.
    pub no_proxy: bool,
    pub connect_timeout: Duration,
    /// Whole request, including reading the body.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// Names the endpoint in logs and the one-time insecure warning (no secrets).
    pub label: String,
    /// Probe the certificate when verification fails, to attach its details to the error.
    pub probe_on_tls_failure: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            tls: TlsPolicy::System,
            proxy: None,
            no_proxy: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            user_agent: concat!("capstan/", env!("CARGO_PKG_VERSION")).to_owned(),
            label: "endpoint".to_owned(),
            probe_on_tls_failure: true,
        }
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("tls", &self.tls)
            .field("proxy", &self.proxy.as_deref().map(redact_userinfo))
            .field("no_proxy", &self.no_proxy)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("label", &self.label)
            .field("probe_on_tls_failure", &self.probe_on_tls_failure)
            .finish()
    }
}

/// `http://user:pass@proxy:3128` → `http://***@proxy:3128`: proxy URLs may carry
/// credentials, which must not reach logs or error texts.
pub fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// A fully read response. Bodies are buffered inside the retry loop so that a connection
/// dropped half-way through a body is retried like any other transient failure.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many attempts it took (1 = no retry).
    pub attempts: u32,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn text_lossy(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One reqwest client with Capstan's transport policy.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    config: HttpConfig,
}

impl HttpClient {
    pub fn new(config: HttpConfig) -> Result<Self, TransportError> {
        let tls = client_config(&config.tls, &config.label)?;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            // Sessions are managed by each API client explicitly (Prism drops cookies on 401).
            .redirect(reqwest::redirect::Policy::limited(5));
        if config.no_proxy {
            builder = builder.no_proxy();
        } else if let Some(url) = &config.proxy {
            // Calling `.proxy()` turns off reqwest's environment proxies, so keep NO_PROXY
            // from the environment on the explicit proxy.
            let proxy = reqwest::Proxy::all(url)
                .map_err(|e| TransportError::Proxy {
                    reason: format!(
                        "\"{}\" is not a usable proxy URL ({})",
                        redact_userinfo(url),
                        crate::error::chain_text(&e)
                    ),
                })?
                .no_proxy(reqwest::NoProxy::from_env());
            builder = builder.proxy(proxy);
        }
        let inner = builder.build().map_err(|e| TransportError::Setup {
            reason: crate::error::chain_text(&e),
        })?;
        Ok(Self { inner, config })
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends a request built fresh for every attempt by `build`, retrying according to
    /// the policy and `idempotency`. Any HTTP status is a successful *transport* outcome;
    /// a retryable status that is still failing after the last attempt is returned as is,
    /// so the API client maps it to its own typed error.
    pub async fn send<F>(
        &self,
        idempotency: Idempotency,
        build: F,
    ) -> Result<HttpResponse, TransportError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let policy = &self.config.retry;
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let request = build(&self.inner)
                .build()
                .map_err(|e| classify(&e, &self.config.label))?;
            let method = request.method().clone();
            let url = request.url().clone();
            let host = url_host(&url);
            let outcome = self.attempt(request, &host).await;
            let can_retry_more = attempt < policy.max_attempts;

            let delay = match &outcome {
                Ok(resp) => {
                    let status = resp.status.as_u16();
                    let retryable = match idempotency {
                        Idempotency::Idempotent => is_retryable_status(status),
                        // A 429 is refused by the rate limiter before processing.
                        Idempotency::NonIdempotent => status == 429,
                    };
                    if !retryable || !can_retry_more {
                        None
                    } else {
                        match resp
                            .header("retry-after")
                            .and_then(|v| parse_retry_after(v, SystemTime::now()))
                        {
                            Some(d) if d > policy.max_retry_after => None,
                            Some(d) => Some(d.max(Duration::from_millis(10))),
                            None => Some(policy.backoff(attempt)),
                        }
                    }
                }
                Err(err) => {
                    let retryable = match idempotency {
                        Idempotency::Idempotent => err.is_transient(),
                        Idempotency::NonIdempotent => err.is_transient() && err.request_not_sent(),
                    };
                    if retryable && can_retry_more {
                        Some(policy.backoff(attempt))
                    } else {
                        None
                    }
                }
            };
            match delay {
                Some(d) if started.elapsed() + d <= policy.max_total => {
                    match &outcome {
                        Ok(r) => {
                            tracing::debug!(%method, url = %redacted(&url), status = r.status.as_u16(), attempt, delay_ms = d.as_millis() as u64, "retrying after HTTP status")
                        }
                        Err(e) => {
                            tracing::debug!(%method, url = %redacted(&url), code = e.code(), attempt, delay_ms = d.as_millis() as u64, "retrying after transport error")
                        }
                    }
                    tokio::time::sleep(d).await;
                }
                _ => {
                    // One event per API call, whatever its outcome: the engine keeps these
                    // as the activity log of API calls (target `capstan_http::call`).
                    let elapsed_ms = started.elapsed().as_millis() as u64;
                    let service = self.config.label.as_str();
                    let path = redacted(&url);
                    match &outcome {
                        Ok(r) => tracing::debug!(
                            target: CALL_TARGET,
                            service,
                            %method,
                            path = %path,
                            status = r.status.as_u16(),
                            elapsed_ms,
                            attempts = attempt,
                            "API call"
                        ),
                        Err(e) => tracing::debug!(
                            target: CALL_TARGET,
                            service,
                            %method,
                            path = %path,
                            code = e.code(),
                            elapsed_ms,
                            attempts = attempt,
                            "API call failed"
                        ),
                    }
                    return match outcome {
                        Ok(mut r) => {
                            r.attempts = attempt;
                            Ok(r)
                        }
                        Err(e) => Err(self.enrich(e, &url).await),
                    };
                }
            }
        }
    }

    async fn attempt(
        &self,
        request: reqwest::Request,
        host: &str,
    ) -> Result<HttpResponse, TransportError> {
        let resp = self
            .inner
            .execute(request)
            .await
            .map_err(|e| classify(&e, host))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| classify(&e, host))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
            attempts: 1,
        })
    }

    /// Adds the presented certificate to a `tls_untrusted` error so the UI can offer to
    /// pin it.
    async fn enrich(&self, err: TransportError, url: &reqwest::Url) -> TransportError {
        match err {
            TransportError::TlsUntrusted {
                host,
                reason,
                certificate: None,
            } if self.config.probe_on_tls_failure => {
                let cert = match (url.host_str(), url.port_or_known_default()) {
                    (Some(h), Some(p)) => crate::probe::probe_certificate(
                        h,
                        p,
                        self.config.connect_timeout.min(Duration::from_secs(5)),
                    )
                    .await
                    .ok(),
                    _ => None,
                };
                TransportError::TlsUntrusted {
                    host,
                    reason,
                    certificate: cert.map(Box::new),
                }
            }
            other => other,
        }
    }
}

fn url_host(url: &reqwest::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => url.to_string(),
    }
}

/// Host and path for logs, without the query and with long path segments (tokens, such as
/// Palette's `/v1/auth/refresh/{token}`) replaced by `***`.
pub fn redacted(url: &reqwest::Url) -> String {
    let path: Vec<&str> = url
        .path()
        .split('/')
        .map(|seg| if seg.len() > 40 { "***" } else { seg })
        .collect();
    format!("{}{}", url_host(url), path.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_credentials_never_show() {
        assert_eq!(
            redact_userinfo("http://bob:s3cret@proxy:3128/x"),
            "http://***@proxy:3128/x"
        );
        assert_eq!(redact_userinfo("http://proxy:3128"), "http://proxy:3128");
        let cfg = HttpConfig {
            proxy: Some("http://bob:s3cret@proxy:3128".into()),
            ..HttpConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("s3cret"));
    }
}
