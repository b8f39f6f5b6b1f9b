//! Transport behaviour against tiny local servers: TLS policies, probing, retries and error
//! classification.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use capstan_http::{
    HttpClient, HttpConfig, Idempotency, RetryPolicy, TlsPolicy, probe_certificate,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct TlsServer {
    port: u16,
    cert_pem: String,
    cert_der: Vec<u8>,
}

/// A one-route HTTPS server whose self-signed certificate names only `localhost`.
async fn tls_server() -> TlsServer {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("rcgen");
    let cert_der = certified.cert.der().to_vec();
    let cert_pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![rustls::pki_types::CertificateDer::from(cert_der.clone())],
        key,
    )
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    TlsServer {
        port,
        cert_pem,
        cert_der,
    }
}

fn client(tls: TlsPolicy) -> HttpClient {
    HttpClient::new(HttpConfig {
        tls,
        no_proxy: true,
        retry: RetryPolicy::none(),
        connect_timeout: Duration::from_secs(3),
        request_timeout: Duration::from_secs(5),
        label: "test".into(),
        ..HttpConfig::default()
    })
    .expect("client")
}

async fn get_once(
    c: &HttpClient,
    url: &str,
) -> Result<capstan_http::HttpResponse, capstan_http::TransportError> {
    let url = url.to_owned();
    c.send(Idempotency::Idempotent, move |c| c.get(&url)).await
}

#[tokio::test]
async fn system_trust_rejects_a_self_signed_certificate_with_details() {
    let server = tls_server().await;
    let err = get_once(
        &client(TlsPolicy::System),
        &format!("https://127.0.0.1:{}/", server.port),
    )
    .await
    .expect_err("self-signed must not be trusted");
    assert_eq!(err.code(), "tls_untrusted", "{err}");
    let cert = err
        .certificate()
        .expect("the presented certificate is attached");
    assert_eq!(
        cert.sha256,
        capstan_http::fingerprint_sha256(&server.cert_der)
    );
    assert!(
        cert.sans.iter().any(|s| s == "localhost"),
        "{:?}",
        cert.sans
    );
    assert!(err.to_string().contains("pinning"), "{err}");
}

#[tokio::test]
async fn pinned_fingerprint_is_accepted_regardless_of_name_and_issuer() {
    let server = tls_server().await;
    let pin = capstan_http::fingerprint_sha256(&server.cert_der).to_uppercase();
    let resp = get_once(
        &client(TlsPolicy::Pinned { sha256_hex: pin }),
        &format!("https://127.0.0.1:{}/", server.port),
    )
    .await
    .expect("pinned cert accepted over an IP the cert does not list");
    assert_eq!(resp.status, 200);
    assert_eq!(&resp.body[..], b"hello");
}

#[tokio::test]
async fn a_different_pin_is_refused_with_both_fingerprints() {
    let server = tls_server().await;
    let wrong = "00".repeat(32);
    let err = get_once(
        &client(TlsPolicy::Pinned {
            sha256_hex: wrong.clone(),
        }),
        &format!("https://127.0.0.1:{}/", server.port),
    )
    .await
    .expect_err("wrong pin");
    assert_eq!(err.code(), "tls_pin_mismatch", "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&wrong) && text.contains(&capstan_http::fingerprint_sha256(&server.cert_der)),
        "{text}"
    );
}

#[tokio::test]
async fn ca_bundle_trusts_the_server_and_still_checks_the_name() {
    let server = tls_server().await;
    let c = client(TlsPolicy::CaBundle {
        pem: server.cert_pem.clone(),
    });
    let resp = get_once(&c, &format!("https://localhost:{}/", server.port))
        .await
        .expect("bundle trusted");
    assert_eq!(resp.status, 200);
    let err = get_once(&c, &format!("https://127.0.0.1:{}/", server.port))
        .await
        .expect_err("no IP SAN");
    assert_eq!(err.code(), "tls_hostname", "{err}");
}

#[tokio::test]
async fn insecure_accepts_anything() {
    let server = tls_server().await;
    let resp = get_once(
        &client(TlsPolicy::Insecure),
        &format!("https://127.0.0.1:{}/", server.port),
    )
    .await
    .expect("insecure");
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn probe_reports_the_presented_certificate() {
    let server = tls_server().await;
    let info = probe_certificate("127.0.0.1", server.port, Duration::from_secs(3))
        .await
        .expect("probe");
    assert_eq!(
        info.sha256,
        capstan_http::fingerprint_sha256(&server.cert_der)
    );
    assert!(info.self_signed);
    assert_eq!(info.sans, vec!["localhost".to_owned()]);
    assert!(
        info.not_after > info.not_before,
        "{} {}",
        info.not_before,
        info.not_after
    );
    assert!(info.pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        capstan_http::parse_ca_bundle(&info.pem)
            .expect("round trip")
            .len(),
        1
    );
}

async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn retrying_client() -> HttpClient {
    HttpClient::new(HttpConfig {
        no_proxy: true,
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_total: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(5),
        },
        request_timeout: Duration::from_millis(800),
        connect_timeout: Duration::from_secs(2),
        ..HttpConfig::default()
    })
    .expect("client")
}

#[tokio::test]
async fn idempotent_requests_retry_on_503_until_success() {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let base = serve(Router::new().route(
        "/flaky",
        get(move || {
            let h = h.clone();
            async move {
                if h.fetch_add(1, Ordering::SeqCst) < 2 {
                    StatusCode::SERVICE_UNAVAILABLE.into_response()
                } else {
                    "ok".into_response()
                }
            }
        }),
    ))
    .await;
    let url = format!("{base}/flaky");
    let resp = retrying_client()
        .send(Idempotency::Idempotent, |c| c.get(&url))
        .await
        .expect("eventually ok");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.attempts, 3);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn creates_are_not_retried_on_5xx() {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let base = serve(Router::new().route(
        "/create",
        post(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                StatusCode::SERVICE_UNAVAILABLE
            }
        }),
    ))
    .await;
    let url = format!("{base}/create");
    let resp = retrying_client()
        .send(Idempotency::NonIdempotent, |c| c.post(&url))
        .await
        .expect("a response");
    assert_eq!(resp.status, 503);
    assert_eq!(hits.load(Ordering::SeqCst), 1, "a create must be sent once");
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let base = serve(Router::new().route(
        "/limited",
        get(move || {
            let h = h.clone();
            async move {
                if h.fetch_add(1, Ordering::SeqCst) == 0 {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response()
                } else {
                    "ok".into_response()
                }
            }
        }),
    ))
    .await;
    let url = format!("{base}/limited");
    let started = Instant::now();
    let resp = retrying_client()
        .send(Idempotency::Idempotent, |c| c.get(&url))
        .await
        .expect("ok");
    assert_eq!(resp.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn exhausted_retries_return_the_last_status() {
    let base = serve(Router::new().route("/down", get(|| async { StatusCode::BAD_GATEWAY }))).await;
    let url = format!("{base}/down");
    let resp = retrying_client()
        .send(Idempotency::Idempotent, |c| c.get(&url))
        .await
        .expect("a response");
    assert_eq!(resp.status, 502);
    assert_eq!(resp.attempts, 4);
}

/// Accepts connections, reads the request and closes without answering.
async fn dropping_server() -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            h.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 2048];
            let _ = tcp.read(&mut buf).await;
            drop(tcp);
        }
    });
    (format!("http://{addr}"), hits)
}

#[tokio::test]
async fn dropped_connections_are_retried_only_when_safe() {
    let (base, hits) = dropping_server().await;
    let url = format!("{base}/x");
    let err = retrying_client()
        .send(Idempotency::Idempotent, |c| c.get(&url))
        .await
        .expect_err("always dropped");
    assert_eq!(err.code(), "connection_dropped", "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 4);

    hits.store(0, Ordering::SeqCst);
    let err = retrying_client()
        .send(Idempotency::NonIdempotent, |c| c.post(&url))
        .await
        .expect_err("dropped");
    assert_eq!(err.code(), "connection_dropped");
    assert!(!err.request_not_sent(), "the create may have been applied");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "an ambiguous create is not re-sent"
    );
}

#[tokio::test]
async fn refused_connections_and_timeouts_are_classified() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/");
    let err = retrying_client()
        .send(Idempotency::NonIdempotent, |c| c.post(&url))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), "connect", "{err}");
    assert!(err.request_not_sent());
    assert!(err.to_string().contains("refused"), "{err}");

    let base = serve(Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "late"
        }),
    ))
    .await;
    let url = format!("{base}/slow");
    let c = HttpClient::new(HttpConfig {
        no_proxy: true,
        retry: RetryPolicy::none(),
        request_timeout: Duration::from_millis(200),
        ..HttpConfig::default()
    })
    .expect("client");
    let err = c
        .send(Idempotency::Idempotent, |c| c.get(&url))
        .await
        .expect_err("timeout");
    assert_eq!(err.code(), "timeout", "{err}");
}

#[tokio::test]
async fn unknown_host_names_are_dns_errors() {
    let c = client(TlsPolicy::System);
    let err = get_once(&c, "https://capstan-does-not-exist.invalid/")
        .await
        .expect_err("dns");
    assert_eq!(err.code(), "dns", "{err}");
}

#[tokio::test]
async fn not_http_is_a_protocol_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 1024];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").await;
        }
    });
    let err = get_once(&client(TlsPolicy::System), &format!("http://{addr}/"))
        .await
        .expect_err("garbage");
    assert_eq!(err.code(), "protocol", "{err}");
}

#[tokio::test]
async fn an_explicit_proxy_that_is_down_is_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let c = HttpClient::new(HttpConfig {
        proxy: Some(format!("http://127.0.0.1:{port}")),
        retry: RetryPolicy::none(),
        ..HttpConfig::default()
    })
    .expect("client");
    let err = get_once(&c, "https://example.invalid/")
        .await
        .expect_err("proxy down");
    assert!(matches!(err.code(), "proxy" | "connect"), "{err}");
    let err = HttpClient::new(HttpConfig {
        proxy: Some("::not a url::".into()),
        ..HttpConfig::default()
    })
    .expect_err("bad url");
    assert_eq!(err.code(), "proxy");
}

#[tokio::test]
async fn an_explicit_proxy_is_used_and_its_refusal_is_a_proxy_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(proxy_log::Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 2048];
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            s.push(
                String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
            let _ = tcp
                .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let c = HttpClient::new(HttpConfig {
        proxy: Some(format!("http://127.0.0.1:{port}")),
        retry: RetryPolicy::none(),
        ..HttpConfig::default()
    })
    .expect("client");
    let err = get_once(&c, "https://pc.example.invalid:9440/")
        .await
        .expect_err("proxy refuses");
    assert_eq!(err.code(), "proxy", "{err}");
    assert_eq!(
        seen.first().as_deref(),
        Some("CONNECT pc.example.invalid:9440 HTTP/1.1")
    );
}

mod proxy_log {
    /// A tiny thread-safe log for the fake proxy.
    #[derive(Default)]
    pub struct Seen(std::sync::Mutex<Vec<String>>);
    impl Seen {
        pub fn push(&self, line: String) {
            if let Ok(mut v) = self.0.lock() {
                v.push(line);
            }
        }
        pub fn first(&self) -> Option<String> {
            self.0.lock().ok().and_then(|v| v.first().cloned())
        }
    }
}

#[tokio::test]
async fn error_texts_do_not_repeat_urls_that_may_hold_tokens() {
    let (base, _hits) = dropping_server().await;
    let url = format!("{base}/v1/auth/refresh/eyJhbGciOiJIUzI1NiJ9.secret-token-value");
    let err = retrying_client()
        .send(Idempotency::NonIdempotent, |c| c.get(&url))
        .await
        .expect_err("dropped");
    assert!(!err.to_string().contains("secret-token-value"), "{err}");
    assert!(
        !format!("{err:?}").contains("secret-token-value"),
        "{err:?}"
    );
}
