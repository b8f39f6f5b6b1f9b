//! Prism Central diagnosis against the sandbox (HTTPS, self-signed, no IP SANs) and small
//! local fakes. Every address is loopback.

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use capstan_common::Secret;
use capstan_diagnose::{
    CapxLine, DiagnoseOptions, Outcome, PrismAuth, PrismTarget, StepData, StepKind, TlsPolicy,
    VersionRequirement, diagnose_prism, diagnose_prism_with,
};
use common::*;

fn target(address: String, auth: PrismAuth, tls: TlsPolicy) -> PrismTarget {
    PrismTarget {
        address,
        port: None,
        auth,
        tls,
        proxy: None,
        requirement: Some(VersionRequirement::CapxLine {
            line: CapxLine::V1_7,
        }),
    }
}

fn sandbox_auth(sb: &capstan_sandbox::Sandbox) -> PrismAuth {
    PrismAuth::Basic {
        username: sb.prism_user().to_owned(),
        password: sb.prism_password().clone(),
    }
}

fn pinned(sb: &capstan_sandbox::Sandbox) -> TlsPolicy {
    TlsPolicy::Pinned {
        sha256_hex: sb.certificate_sha256().expect("tls sandbox"),
    }
}

#[tokio::test]
async fn system_trust_fails_with_the_certificate_and_the_pin_fix() {
    let sb = sandbox().await;
    let d = diagnose_prism(target(sb.prism_url(), sandbox_auth(&sb), TlsPolicy::System)).await;
    assert_eq!(d.verdict, Outcome::Fail);
    for kind in [StepKind::Address, StepKind::Dns, StepKind::Tcp] {
        assert_eq!(step(&d, kind).outcome, Outcome::Pass, "{}", pretty(&d));
    }
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_self_signed");
    let Some(StepData::Certificate(cert)) = &tls.data else {
        panic!("certificate data expected: {}", pretty(&d));
    };
    let sha = sb.certificate_sha256().expect("sha");
    assert_eq!(cert.sha256, sha);
    assert!(cert.self_signed);
    assert!(
        cert.sans.iter().any(|s| s == "localhost"),
        "{:?}",
        cert.sans
    );
    assert!(cert.pem.contains("BEGIN CERTIFICATE"));
    assert!(!cert.not_after.is_empty() && !cert.not_before.is_empty());
    // Connecting by 127.0.0.1 to a certificate without IP SANs is called out.
    assert!(tls.detail.contains("no IP SAN"), "{}", tls.detail);
    // The fix offers the pin (with the fingerprint) before anything else, never insecure first.
    assert!(tls.fix.starts_with("Pin this certificate"), "{}", tls.fix);
    assert!(tls.fix.contains(&cert.sha256_colons), "{}", tls.fix);
    let insecure = tls.fix.find("insecure").unwrap_or(usize::MAX);
    assert!(tls.fix.find("Pin").unwrap_or(0) < insecure);
    assert!(tls.fix.contains("CA bundle"), "{}", tls.fix);
    assert_rest_skipped(&d, StepKind::Tls);
    assert_eq!(d.summary, tls.title);
    sb.shutdown().await;
}

#[tokio::test]
async fn pinned_certificate_passes_every_step() {
    let sb = sandbox().await;
    let d = diagnose_prism(target(sb.prism_url(), sandbox_auth(&sb), pinned(&sb))).await;
    assert_eq!(d.verdict, Outcome::Pass, "{}", pretty(&d));
    assert_eq!(d.steps.len(), 8);
    // "Test connection" against a healthy local server is quick.
    assert!(d.elapsed_ms < 3_000, "{} ms", d.elapsed_ms);
    assert!(
        d.steps.iter().all(|s| s.outcome == Outcome::Pass),
        "{}",
        pretty(&d)
    );
    assert_step(&d, StepKind::Dns, Outcome::Pass, "dns_not_needed");
    assert_step(&d, StepKind::Tls, Outcome::Pass, "tls_ok");
    let auth = assert_step(&d, StepKind::Auth, Outcome::Pass, "auth_ok");
    assert!(auth.title.contains(sb.prism_user()), "{}", auth.title);
    assert_step(
        &d,
        StepKind::Product,
        Outcome::Pass,
        "product_prism_central",
    );
    let version = assert_step(&d, StepKind::Version, Outcome::Pass, "version_ok");
    assert_eq!(
        version.data,
        Some(StepData::Version {
            found: Some("pc.2024.3.1.1".into()),
            minimum: Some("pc.2024.3".into()),
            capx_line: Some("1.7.x".into()),
        })
    );
    let json = serde_json::to_value(&d).expect("json");
    assert_eq!(json["service"], "prismCentral");
    assert_eq!(json["steps"][3]["data"]["kind"], "certificate");
    assert!(json["steps"][3]["data"]["sha256Colons"].is_string());
    sb.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_pc_is_too_old_for_capx_1_9() {
    let sb = sandbox().await;
    let mut t = target(sb.prism_url(), sandbox_auth(&sb), pinned(&sb));
    t.requirement = Some(VersionRequirement::CapxLine {
        line: CapxLine::V1_9,
    });
    let d = diagnose_prism(t).await;
    let v = assert_step(&d, StepKind::Version, Outcome::Fail, "version_too_old");
    assert!(
        v.title.contains("pc.2024.3.1.1") && v.title.contains("7.5"),
        "{}",
        v.title
    );
    assert!(v.fix.contains("Upgrade Prism Central"), "{}", v.fix);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_ca_bundle_does_not_help_when_connecting_by_ip_without_ip_san() {
    let sb = sandbox().await;
    let bundle = TlsPolicy::CaBundle {
        pem: sb.certificate_pem().expect("pem").to_owned(),
    };
    let d = diagnose_prism(target(sb.prism_url(), sandbox_auth(&sb), bundle.clone())).await;
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_no_ip_san");
    assert!(tls.fix.contains("localhost"), "{}", tls.fix);
    assert!(tls.title.contains("127.0.0.1"), "{}", tls.title);

    // By the name the certificate lists, the same bundle is enough.
    let by_name = sb.prism_url().replace("127.0.0.1", "localhost");
    let d = diagnose_prism(target(by_name, sandbox_auth(&sb), bundle)).await;
    assert_step(&d, StepKind::Tls, Outcome::Pass, "tls_ok");
    assert_step(&d, StepKind::Dns, Outcome::Pass, "dns_ok");
    assert_eq!(d.verdict, Outcome::Pass, "{}", pretty(&d));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_wrong_pin_is_reported_with_both_fingerprints() {
    let sb = sandbox().await;
    let wrong = "ab".repeat(32);
    let d = diagnose_prism(target(
        sb.prism_url(),
        sandbox_auth(&sb),
        TlsPolicy::Pinned {
            sha256_hex: wrong.clone(),
        },
    ))
    .await;
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_pin_mismatch");
    let actual = sb.certificate_sha256().expect("sha");
    assert!(
        tls.detail.contains(&wrong) && tls.detail.contains(&actual),
        "{}",
        tls.detail
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_is_rejected_and_never_shown() {
    let sb = sandbox().await;
    let planted = "Planted-Pa55word-9f3b";
    let d = diagnose_prism(target(
        sb.prism_url(),
        PrismAuth::Basic {
            username: sb.prism_user().to_owned(),
            password: Secret::new(planted),
        },
        pinned(&sb),
    ))
    .await;
    let auth = assert_step(&d, StepKind::Auth, Outcome::Fail, "auth_rejected");
    assert!(
        auth.detail.contains("AUTHENTICATION_REQUIRED"),
        "{}",
        auth.detail
    );
    assert!(auth.detail.contains("a JSON error"), "{}", auth.detail);
    assert_rest_skipped(&d, StepKind::Auth);
    let json = serde_json::to_string(&d).expect("json");
    assert!(!json.contains(planted), "{json}");
    assert!(!format!("{d:?}").contains(planted));

    // Prism sometimes answers 401 with an empty body: said so, still rejected.
    let mut faults = sb.faults().get();
    faults.prism_401_empty_body = true;
    sb.faults().set(faults);
    let d = diagnose_prism(target(
        sb.prism_url(),
        PrismAuth::Basic {
            username: sb.prism_user().to_owned(),
            password: Secret::new(planted),
        },
        pinned(&sb),
    ))
    .await;
    let auth = assert_step(&d, StepKind::Auth, Outcome::Fail, "auth_rejected");
    assert!(auth.detail.contains("an empty body"), "{}", auth.detail);
    sb.shutdown().await;
}

#[tokio::test]
async fn an_echoing_server_cannot_leak_the_password() {
    // A server that puts the Authorization header (base64 user:password) and the password
    // itself into its 401 body.
    let router = Router::new().route(
        "/api/nutanix/v3/users/me",
        get(|headers: HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            (
                StatusCode::UNAUTHORIZED,
                format!("denied: {auth} Planted-Pa55word-9f3b"),
            )
        }),
    );
    let addr = serve(router).await;
    let d = diagnose_prism(target(
        format!("http://{addr}"),
        PrismAuth::Basic {
            username: "admin".into(),
            password: Secret::new("Planted-Pa55word-9f3b"),
        },
        TlsPolicy::System,
    ))
    .await;
    let auth = assert_step(&d, StepKind::Auth, Outcome::Fail, "auth_rejected");
    assert!(auth.detail.contains("a non-JSON body"), "{}", auth.detail);
    let json = serde_json::to_string(&d).expect("json");
    assert!(!json.contains("Planted-Pa55word-9f3b"), "{json}");
    assert!(
        !json.contains("YWRtaW46UGxhbnRlZC1QYTU1d29yZC05ZjNi"),
        "{json}"
    );
}

#[tokio::test]
async fn a_wrong_port_is_refused() {
    let port = closed_port().await;
    let d = diagnose_prism(target(
        format!("127.0.0.1:{port}"),
        PrismAuth::ApiKey(Secret::new("k3y-value")),
        TlsPolicy::System,
    ))
    .await;
    let tcp = assert_step(&d, StepKind::Tcp, Outcome::Fail, "tcp_refused");
    assert!(tcp.detail.contains("nothing listens"), "{}", tcp.detail);
    assert!(tcp.fix.contains("9440"), "{}", tcp.fix);
    assert_rest_skipped(&d, StepKind::Tcp);
}

#[tokio::test]
async fn a_black_hole_times_out_quickly() {
    let hole = black_hole().await;
    let started = Instant::now();
    let d = diagnose_prism(target(
        format!("127.0.0.1:{}", hole.port),
        PrismAuth::ApiKey(Secret::new("k3y-value")),
        TlsPolicy::System,
    ))
    .await;
    let elapsed = started.elapsed();
    let tcp = assert_step(&d, StepKind::Tcp, Outcome::Fail, "tcp_timeout");
    assert!(tcp.title.contains("3 s"), "{}", tcp.title);
    assert!(tcp.detail.contains("firewall"), "{}", tcp.detail);
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(6),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_named() {
    let options = DiagnoseOptions {
        dns_timeout: Duration::from_secs(3),
        ..DiagnoseOptions::default()
    };
    let d = diagnose_prism_with(
        target(
            "https://nonexistent.invalid:9440/".into(),
            PrismAuth::ApiKey(Secret::new("k3y-value")),
            TlsPolicy::System,
        ),
        options,
    )
    .await;
    let dns = step(&d, StepKind::Dns);
    assert_eq!(dns.outcome, Outcome::Fail, "{}", pretty(&d));
    assert!(
        dns.code == "dns_not_found" || dns.code == "dns_timeout",
        "{}",
        dns.code
    );
    assert!(dns.detail.contains("nonexistent.invalid"), "{}", dns.detail);
    assert_rest_skipped(&d, StepKind::Dns);
    // The scheme and trailing slash were pasted: cleaned up without a warning.
    assert_step(&d, StepKind::Address, Outcome::Pass, "address_ok");
}

#[tokio::test]
async fn plain_http_against_the_https_port() {
    let sb = sandbox().await;
    let http_url = sb.prism_url().replace("https://", "http://");
    let d = diagnose_prism(target(http_url, sandbox_auth(&sb), TlsPolicy::System)).await;
    assert_step(&d, StepKind::Tls, Outcome::Warn, "tls_not_used");
    let http = assert_step(&d, StepKind::Http, Outcome::Fail, "http_port_expects_https");
    assert!(http.fix.contains("https://"), "{}", http.fix);
    sb.shutdown().await;
}

#[tokio::test]
async fn https_against_a_plain_http_port() {
    let addr = serve(Router::new().route("/", get(|| async { "hello" }))).await;
    let d = diagnose_prism(target(
        format!("https://{addr}"),
        PrismAuth::ApiKey(Secret::new("k3y-value")),
        TlsPolicy::System,
    ))
    .await;
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_port_speaks_http");
    assert!(tls.fix.contains("9440"), "{}", tls.fix);
}

/// A tiny Prism fake: `env` is the X-Ntnx-Env header, `pc_version` the `/prism_central`
/// answer (None = 404 as on a Prism Element), `me_status` what `/users/me` answers to the
/// right credentials (admin / secret-pass).
fn fake_prism(
    env: Option<&'static str>,
    pc_version: Option<&'static str>,
    me_status: u16,
) -> Router {
    fake_prism_with(env, pc_version.ok_or(404), me_status)
}

/// [`fake_prism`] where `/prism_central` answers `Ok(version)` or `Err(status)`.
fn fake_prism_with(
    env: Option<&'static str>,
    pc_version: Result<&'static str, u16>,
    me_status: u16,
) -> Router {
    let me = move |headers: HeaderMap| async move {
        let expected = "Basic YWRtaW46c2VjcmV0LXBhc3M="; // admin:secret-pass
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected) {
            return (StatusCode::UNAUTHORIZED, "").into_response();
        }
        match me_status {
            200 => axum::Json(serde_json::json!({
                "metadata": {"kind": "user", "uuid": "u-1", "name": "admin"},
                "status": {"name": "admin", "state": "COMPLETE"}
            }))
            .into_response(),
            403 => (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({"state": "ERROR", "code": 403, "message_list": [{"reason": "ACCESS_DENIED", "message": "No permission to access the resource."}]})),
            )
                .into_response(),
            s => StatusCode::from_u16(s)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response(),
        }
    };
    let pc = move || async move {
        match pc_version {
            Ok(v) => axum::Json(serde_json::json!({"resources": {"version": v, "type": "PC"}}))
                .into_response(),
            Err(status) => (
                StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND),
                axum::Json(serde_json::json!({"state": "ERROR", "code": 404, "message_list": [{"reason": "ENTITY_NOT_FOUND", "message": "not found"}]})),
            )
                .into_response(),
        }
    };
    let clusters = || async {
        axum::Json(serde_json::json!({
            "api_version": "3.1",
            "metadata": {"kind": "cluster", "total_matches": 1, "length": 1, "offset": 0},
            "entities": [{"metadata": {"kind": "cluster", "uuid": "0005-pe"},
                          "status": {"name": "lab-pe-01", "resources": {"config": {"service_list": ["AOS"]}}}}]
        }))
    };
    Router::new()
        .route("/api/nutanix/v3/users/me", get(me))
        .route("/api/nutanix/v3/prism_central", get(pc))
        .route("/api/nutanix/v3/clusters/list", post(clusters))
        .layer(axum::middleware::map_response(
            move |mut r: Response| async move {
                if let Some(e) = env {
                    r.headers_mut()
                        .insert("x-ntnx-env", axum::http::HeaderValue::from_static(e));
                }
                r
            },
        ))
}

fn fake_auth() -> PrismAuth {
    PrismAuth::Basic {
        username: "admin".into(),
        password: Secret::new("secret-pass"),
    }
}

#[tokio::test]
async fn a_prism_element_address_is_explained() {
    for env in [Some("pe"), None] {
        let addr = serve(fake_prism(env, None, 200)).await;
        let d = diagnose_prism(target(
            format!("http://{addr}"),
            fake_auth(),
            TlsPolicy::System,
        ))
        .await;
        assert_step(&d, StepKind::Auth, Outcome::Pass, "auth_ok");
        let p = assert_step(
            &d,
            StepKind::Product,
            Outcome::Fail,
            "product_prism_element",
        );
        assert!(p.title.contains("Prism Element"), "{}", p.title);
        assert!(p.fix.contains("Prism Central widget"), "{}", p.fix);
        assert!(p.detail.contains("lab-pe-01"), "{}", p.detail);
        if env.is_some() {
            assert!(p.detail.contains("X-Ntnx-Env"), "{}", p.detail);
        } else {
            assert!(p.detail.contains("/prism_central"), "{}", p.detail);
        }
        assert_step(
            &d,
            StepKind::Version,
            Outcome::Skipped,
            "skipped_after_failure",
        );
    }
}

#[tokio::test]
async fn an_old_prism_central_fails_the_version_step() {
    let addr = serve(fake_prism(Some("pc"), Some("pc.2024.1.0.1"), 200)).await;
    let d = diagnose_prism(target(
        format!("http://{addr}"),
        fake_auth(),
        TlsPolicy::System,
    ))
    .await;
    assert_step(
        &d,
        StepKind::Product,
        Outcome::Pass,
        "product_prism_central",
    );
    let v = assert_step(&d, StepKind::Version, Outcome::Fail, "version_too_old");
    assert!(
        v.title.contains("pc.2024.1.0.1") && v.title.contains("pc.2024.3"),
        "{}",
        v.title
    );
    assert_eq!(d.verdict, Outcome::Fail);

    // The same PC is fine for CAPX 1.5.
    let mut t = target(format!("http://{addr}"), fake_auth(), TlsPolicy::System);
    t.requirement = Some(VersionRequirement::CapxLine {
        line: CapxLine::V1_5,
    });
    let d = diagnose_prism(t).await;
    assert_step(&d, StepKind::Version, Outcome::Pass, "version_ok");
    // Plain http is only a warning, so the verdict is warn.
    assert_eq!(d.verdict, Outcome::Warn, "{}", pretty(&d));

    // A build string that cannot be compared is a warning, not a guess.
    let addr = serve(fake_prism(Some("pc"), Some("master"), 200)).await;
    let d = diagnose_prism(target(
        format!("http://{addr}"),
        fake_auth(),
        TlsPolicy::System,
    ))
    .await;
    assert_step(&d, StepKind::Version, Outcome::Warn, "version_unparsed");
}

#[tokio::test]
async fn forbidden_points_at_the_prism_admin_role() {
    let addr = serve(fake_prism(Some("pc"), Some("7.5"), 403)).await;
    let d = diagnose_prism(target(
        format!("http://{addr}"),
        fake_auth(),
        TlsPolicy::System,
    ))
    .await;
    let a = assert_step(&d, StepKind::Auth, Outcome::Fail, "auth_forbidden");
    assert!(a.fix.contains("Prism Admin"), "{}", a.fix);
    assert!(a.detail.contains("No permission"), "{}", a.detail);
}

#[tokio::test]
async fn a_web_server_is_not_prism() {
    let router = Router::new().fallback(|| async {
        (
            [("content-type", "text/html")],
            "<!DOCTYPE html><html><body>Welcome</body></html>",
        )
    });
    let addr = serve(router).await;
    let d = diagnose_prism(target(
        format!("http://{addr}"),
        fake_auth(),
        TlsPolicy::System,
    ))
    .await;
    assert_step(&d, StepKind::Auth, Outcome::Warn, "auth_unverified");
    let p = assert_step(&d, StepKind::Product, Outcome::Fail, "not_nutanix_api");
    assert!(p.detail.contains("web page"), "{}", p.detail);
}

#[tokio::test]
async fn missing_password_fails_before_any_request_with_it() {
    let addr = serve(fake_prism(Some("pc"), Some("7.5"), 200)).await;
    let d = diagnose_prism(target(
        format!("http://{addr}"),
        PrismAuth::Basic {
            username: "admin".into(),
            password: Secret::new(""),
        },
        TlsPolicy::System,
    ))
    .await;
    assert_step(&d, StepKind::Auth, Outcome::Fail, "auth_missing");
}

#[tokio::test]
async fn an_invalid_address_stops_at_the_first_step() {
    let d = diagnose_prism(target(
        "pc.example.com:99999".into(),
        PrismAuth::ApiKey(Secret::new("k3y-value")),
        TlsPolicy::System,
    ))
    .await;
    assert_step(&d, StepKind::Address, Outcome::Fail, "address_bad_port");
    assert_rest_skipped(&d, StepKind::Address);
    assert_eq!(d.steps.len(), 8);
}

#[tokio::test]
async fn through_a_proxy_the_checks_use_the_proxy_and_tls_is_judged_end_to_end() {
    let sb = sandbox().await;
    let (proxy, tunnels) = connect_proxy().await;

    let mut t = target(sb.prism_url(), sandbox_auth(&sb), pinned(&sb));
    t.proxy = Some(proxy.clone());
    let d = diagnose_prism(t).await;
    assert_eq!(d.verdict, Outcome::Pass, "{}", pretty(&d));
    let tcp = step(&d, StepKind::Tcp);
    assert!(tcp.title.starts_with("Proxy:"), "{}", tcp.title);
    let tls = assert_step(&d, StepKind::Tls, Outcome::Pass, "tls_ok");
    assert!(tls.title.contains("through the proxy"), "{}", tls.title);
    assert!(tunnels.load(std::sync::atomic::Ordering::SeqCst) > 0);

    let mut t = target(sb.prism_url(), sandbox_auth(&sb), TlsPolicy::System);
    t.proxy = Some(proxy);
    let d = diagnose_prism(t).await;
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_self_signed");
    assert!(tls.fix.contains("Pin"), "{}", tls.fix);

    // A proxy that is down is named as the proxy.
    let mut t = target(sb.prism_url(), sandbox_auth(&sb), pinned(&sb));
    t.proxy = Some(format!("http://127.0.0.1:{}", closed_port().await));
    let d = diagnose_prism(t).await;
    let tcp = assert_step(&d, StepKind::Tcp, Outcome::Fail, "tcp_refused");
    assert!(tcp.title.starts_with("Proxy:"), "{}", tcp.title);
    assert!(tcp.detail.contains("proxy"), "{}", tcp.detail);
    sb.shutdown().await;
}

#[tokio::test]
async fn without_header_or_prism_central_endpoint_the_cluster_list_decides() {
    // /prism_central fails with 500, no X-Ntnx-Env: only AOS clusters means a Prism Element.
    let addr = serve(fake_prism_with(None, Err(500), 200)).await;
    let d = diagnose_prism(target(
        format!("http://{addr}"),
        fake_auth(),
        TlsPolicy::System,
    ))
    .await;
    let p = assert_step(
        &d,
        StepKind::Product,
        Outcome::Fail,
        "product_prism_element",
    );
    assert!(p.detail.contains("PRISM_CENTRAL entity"), "{}", p.detail);
    assert!(p.detail.contains("lab-pe-01"), "{}", p.detail);
}
