//! Prism authentication: Basic, API key, the NTNX_IGW_SESSION cookie and its expiry.

mod common;

use capstan_sandbox::{FaultConfig, SandboxConfig};
use common::*;
use serde_json::json;

fn url(sb: &capstan_sandbox::Sandbox, path: &str) -> String {
    format!("{}/api/nutanix/v3{path}", sb.prism_url())
}

#[tokio::test]
async fn bad_or_missing_credentials_get_401_envelope() {
    let sb = start(10, 1.0).await;
    let c = client();
    let r = c.get(url(&sb, "/users/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["state"], "ERROR");
    assert_eq!(v["code"], 401);
    assert_eq!(v["message_list"][0]["reason"], "AUTHENTICATION_REQUIRED");
    assert!(
        v["message_list"][0]["details"].is_string(),
        "details is a string like real PC"
    );

    let r = c
        .get(url(&sb, "/users/me"))
        .basic_auth("admin", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(url(&sb, "/users/me"))
        .header("X-ntnx-api-key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(url(&sb, "/users/me"))
        .header("Cookie", "NTNX_IGW_SESSION=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn empty_401_body_knob() {
    let sb = start_with(SandboxConfig {
        vms: 10,
        tls: false,
        faults: FaultConfig {
            prism_401_empty_body: true,
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .await;
    let r = client().get(url(&sb, "/users/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn api_key_and_basic_both_work() {
    let sb = start(10, 1.0).await;
    let r = client()
        .post(url(&sb, "/clusters/list"))
        .header("X-ntnx-api-key", sb.prism_api_key().expose())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, v) = prism_get(&sb, "/users/me").await;
    assert_eq!(s, 200);
    assert_eq!(v["status"]["name"], "admin");
    assert_eq!(v["metadata"]["kind"], "user");
}

#[tokio::test]
async fn session_cookie_is_issued_used_and_expires() {
    let sb = start_with(SandboxConfig {
        vms: 10,
        tls: false,
        // A 60-demo-second session, so the test can jump past it.
        faults: FaultConfig {
            prism_session_ttl_secs: Some(60.0),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .await;
    let c = client();
    let r = c
        .get(url(&sb, "/users/me"))
        .basic_auth(sb.prism_user(), Some(sb.prism_password().expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("NTNX_IGW_SESSION="), "{set_cookie}");
    assert!(set_cookie.contains("Expires=") && set_cookie.contains("HttpOnly"));
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    // The cookie alone authenticates.
    let r = c
        .post(url(&sb, "/vms/list"))
        .header("Cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // After the session lifetime it is rejected, so the client's re-login path runs.
    sb.advance(61.0);
    let r = c
        .post(url(&sb, "/vms/list"))
        .header("Cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["message_list"][0]["reason"], "AUTHENTICATION_REQUIRED");

    // Logging in again gives a fresh, working cookie.
    let c2 = cookie_client();
    let r = c2
        .get(url(&sb, "/users/me"))
        .basic_auth(sb.prism_user(), Some(sb.prism_password().expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c2
        .post(url(&sb, "/vms/list"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the cookie store carries the session");
}
