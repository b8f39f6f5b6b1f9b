//! Every fault kind, for both services, set through the library handle and over HTTP.

mod common;

use std::time::{Duration, Instant};

use capstan_sandbox::{FaultConfig, FaultKind, FaultRule, FaultService, SandboxConfig};
use common::*;
use serde_json::{Value, json};

fn vms_list(sb: &capstan_sandbox::Sandbox) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/api/nutanix/v3/vms/list", sb.prism_url()))
        .basic_auth(sb.prism_user(), Some(sb.prism_password().expose()))
        .json(&json!({}))
}

fn users_info(sb: &capstan_sandbox::Sandbox) -> reqwest::RequestBuilder {
    client()
        .get(format!("{}/v1/users/info", sb.palette_url()))
        .header("ApiKey", sb.palette_api_key().expose())
}

#[tokio::test]
async fn status_faults_use_each_services_envelope() {
    let sb = start(20, 1.0).await;
    let f = sb.faults();

    f.add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/vms/list",
            FaultKind::TooManyRequests {
                retry_after_secs: 3,
            },
        )
        .count(1),
    );
    let r = vms_list(&sb).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    assert_eq!(r.headers()["server"], "envoy");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message_list"][0]["reason"], "TOO_MANY_REQUESTS");
    assert_eq!(v["state"], "ERROR");
    // count: 1 -> the next call goes through.
    assert_eq!(vms_list(&sb).send().await.unwrap().status(), 200);

    f.add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/*",
            FaultKind::TooManyRequests {
                retry_after_secs: 1,
            },
        )
        .method("GET")
        .count(1),
    );
    let r = users_info(&sb).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "TooManyRequests");
    assert!(v["ref"].is_string());

    for (kind, status, prism_reason, palette_code) in [
        (
            FaultKind::InternalError,
            500,
            "INTERNAL_ERROR",
            "InternalError",
        ),
        (
            FaultKind::ServiceUnavailable,
            503,
            "SERVICE_UNAVAILABLE",
            "ServiceUnavailable",
        ),
    ] {
        f.clear_rules();
        f.add_rule(FaultRule::new(FaultService::Any, "*", kind));
        let r = vms_list(&sb).send().await.unwrap();
        assert_eq!(r.status(), status);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["message_list"][0]["reason"], prism_reason);
        assert_eq!(v["code"], status);
        let r = users_info(&sb).send().await.unwrap();
        assert_eq!(r.status(), status);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], palette_code);
    }
    // Control routes are never faulted.
    let r = client()
        .get(format!("{}/__sandbox/info", sb.palette_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    f.clear_rules();
    assert_eq!(vms_list(&sb).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn latency_drop_slow_and_malformed() {
    let sb = start(20, 1.0).await;
    let f = sb.faults();

    f.add_rule(FaultRule::new(
        FaultService::Palette,
        "/v1/users/info",
        FaultKind::Latency { ms: 300 },
    ));
    let t = Instant::now();
    assert_eq!(users_info(&sb).send().await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    f.clear_rules();

    f.add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/vms/list",
            FaultKind::DropConnection,
        )
        .count(1),
    );
    let err = vms_list(&sb)
        .send()
        .await
        .expect_err("connection closed without a response");
    assert!(!err.is_status(), "{err}");
    assert_eq!(vms_list(&sb).send().await.unwrap().status(), 200);

    // drop_response: the create is served (the PCG exists afterwards) but its answer is lost.
    let create_pcg = || {
        client()
            .post(format!("{}/v1/pcg/selfHosted", sb.palette_url()))
            .header("ApiKey", sb.palette_api_key().expose())
            .json(&json!({"name": "lost-answer", "cloudType": "vsphere"}))
    };
    f.add_rule(
        FaultRule::parse("palette:POST:/v1/pcg/selfHosted:drop-response:1:1").expect("spec"),
    );
    let err = create_pcg()
        .send()
        .await
        .expect_err("the answer is dropped");
    assert!(!err.is_status(), "{err}");
    let listed: Value = client()
        .get(format!(
            "{}/v1/overlords?name=lost-answer",
            sb.palette_url()
        ))
        .header("ApiKey", sb.palette_api_key().expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    assert_eq!(create_pcg().send().await.unwrap().status(), 409);

    let full = vms_list(&sb).send().await.unwrap().bytes().await.unwrap();
    f.add_rule(
        FaultRule::new(
            FaultService::Prism,
            "*",
            FaultKind::SlowBody {
                chunk_bytes: 2048,
                delay_ms: 10,
            },
        )
        .count(1),
    );
    let t = Instant::now();
    let slow = vms_list(&sb).send().await.unwrap().bytes().await.unwrap();
    let chunks = full.len().div_ceil(2048) as u32;
    assert!(
        t.elapsed() >= Duration::from_millis(10) * chunks.saturating_sub(1),
        "{:?} for {chunks} chunks",
        t.elapsed()
    );
    assert_eq!(slow, full, "a trickled body is still the whole body");

    f.add_rule(FaultRule::new(FaultService::Any, "*", FaultKind::MalformedJson).count(2));
    let r = vms_list(&sb).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json")
    );
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err());
    let r = users_info(&sb).send().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err());
    assert!(
        serde_json::from_slice::<Value>(
            &users_info(&sb).send().await.unwrap().bytes().await.unwrap()
        )
        .is_ok()
    );
}

#[tokio::test]
async fn expired_sessions_force_a_new_login() {
    let sb = start(20, 1.0).await;
    let f = sb.faults();

    // Prism: a valid cookie is rejected once, then it stays dead; a new login works.
    let c = client();
    let me = |c: &reqwest::Client| {
        c.get(format!("{}/api/nutanix/v3/users/me", sb.prism_url()))
            .basic_auth(sb.prism_user(), Some(sb.prism_password().expose()))
    };
    let r = me(&c).send().await.unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    f.add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/clusters/list",
            FaultKind::ExpiredSession,
        )
        .count(1),
    );
    let list = |c: &reqwest::Client| {
        c.post(format!("{}/api/nutanix/v3/clusters/list", sb.prism_url()))
            .header("Cookie", &cookie)
            .json(&json!({}))
    };
    let r = list(&c).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message_list"][0]["reason"], "AUTHENTICATION_REQUIRED");
    assert_eq!(
        list(&c).send().await.unwrap().status(),
        401,
        "the session is gone for good"
    );
    assert_eq!(me(&c).send().await.unwrap().status(), 200);

    // Palette: the token is rejected and forgotten.
    let (_, v) = palette(
        &sb,
        reqwest::Method::POST,
        "/v1/auth/authenticate",
        Auth::None,
        Some(json!({"emailId": sb.palette_email(), "password": sb.palette_password().expose()})),
    )
    .await;
    let token = v["Authorization"].as_str().unwrap().to_owned();
    f.add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/users/info",
            FaultKind::ExpiredSession,
        )
        .count(1),
    );
    let (s, v) = palette(
        &sb,
        reqwest::Method::GET,
        "/v1/users/info",
        Auth::Token(&token),
        None,
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(v["code"], "Unauthorized");
    let (s, _) = palette(
        &sb,
        reqwest::Method::GET,
        "/v1/dashboard/projects/metadata",
        Auth::Token(&token),
        None,
    )
    .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn probability_is_seeded_and_rules_change_over_http() {
    let run = || async {
        let sb = start_with(SandboxConfig {
            vms: 10,
            tls: false,
            seed: 7,
            faults: FaultConfig {
                rules: vec![FaultRule::parse("prism:POST:/api/nutanix/v3/*/list:500:0.5").unwrap()],
                ..FaultConfig::default()
            },
            ..SandboxConfig::default()
        })
        .await;
        let mut seq = Vec::new();
        for _ in 0..24 {
            seq.push(vms_list(&sb).send().await.unwrap().status().as_u16());
        }
        seq
    };
    let a = run().await;
    let b = run().await;
    assert_eq!(a, b, "same seed, same fault sequence");
    let fails = a.iter().filter(|s| **s == 500).count();
    assert!(fails > 2 && fails < 22, "{a:?}");

    let sb = start(10, 1.0).await;
    let base = sb.palette_url();
    let r = client()
        .post(format!("{base}/__sandbox/faults/rules"))
        .json(&json!("prism:*:/api/nutanix/v3/vms/list:503"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(vms_list(&sb).send().await.unwrap().status(), 503);
    let (cfg, _) = (sb.faults().get(), ());
    assert_eq!(cfg.rules[0].fired, 1);
    let r = client()
        .put(format!("{}/__sandbox/faults", sb.prism_url()))
        .json(&json!({"rules": [{"service": "palette", "path": "/v1/users/info", "kind": {"type": "internal_error"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(vms_list(&sb).send().await.unwrap().status(), 200);
    assert_eq!(users_info(&sb).send().await.unwrap().status(), 500);
    let got: Value = client()
        .get(format!("{base}/__sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["rules"][0]["fired"], 1);
    let r = client()
        .put(format!("{base}/__sandbox/faults"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client()
        .delete(format!("{base}/__sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(users_info(&sb).send().await.unwrap().status(), 200);

    // Time controls.
    let r = client()
        .post(format!("{base}/__sandbox/time-scale"))
        .json(&json!({"time_scale": 0.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .post(format!("{base}/__sandbox/time-scale"))
        .json(&json!({"time_scale": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let info: Value = client()
        .get(format!("{base}/__sandbox/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["time_scale"], 0.5);
    assert_eq!(info["prism_url"], sb.prism_url());
    let r: Value = client()
        .post(format!("{base}/__sandbox/advance"))
        .json(&json!({"seconds": 100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["demo_seconds"].as_f64().unwrap() >= 100.0);
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let sb = start_with(SandboxConfig {
        vms: 10,
        tls: false,
        faults: FaultConfig {
            palette_rate_limit: Some(capstan_sandbox::RateLimit {
                per_second: 0.2,
                burst: 2,
            }),
            prism_rate_limit: Some(capstan_sandbox::RateLimit {
                per_second: 0.2,
                burst: 1,
            }),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .await;
    let statuses: Vec<u16> = three_users_info_statuses(&sb).await;
    assert_eq!(statuses, vec![200, 200, 429]);
    let r = users_info(&sb).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "TooManyRequests");

    assert_eq!(vms_list(&sb).send().await.unwrap().status(), 200);
    let r = vms_list(&sb).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message_list"][0]["reason"], "TOO_MANY_REQUESTS");
}

async fn three_users_info_statuses(sb: &capstan_sandbox::Sandbox) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(users_info(sb).send().await.unwrap().status().as_u16());
    }
    out
}
