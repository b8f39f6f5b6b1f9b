//! Issue 5's secret check: known secrets go through setup and steps 1–3 (with faults on the
//! way), then the SQLite cache (and its WAL), the settings, the log files, every response
//! and every event of the run are scanned. No secret may appear in any of them. The only
//! IPC payloads allowed to carry one are the requests that type it in (Test connection and
//! Save in the Setup form); the test asserts that too.
//!
//! This file is its own test binary, so it can install the app's real logging (file layer
//! at debug for Capstan's crates) without clashing with other tests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
mod support;

use capstan_engine::{ActivityLog, AppPaths, Engine, EngineConfig, EventSink};
use parking_lot::Mutex;
use serde_json::{Value, json};
use support::{components, contains, files_under};

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(String, Value)>>,
    /// (command, request, response or error envelope)
    calls: Mutex<Vec<(String, Value, Value)>>,
}

impl EventSink for Recorder {
    fn emit(&self, event: &'static str, payload: Value) {
        self.events.lock().push((event.to_owned(), payload));
    }
}

async fn call(engine: &Engine, rec: &Recorder, cmd: &str, payload: Value) -> Value {
    let answer = engine.dispatch(cmd, payload.clone()).await;
    let recorded = match &answer {
        Ok(v) => v.clone(),
        Err(e) => serde_json::to_value(e).unwrap(),
    };
    rec.calls.lock().push((cmd.to_owned(), payload, recorded));
    answer.unwrap_or_else(|e| panic!("{cmd} failed: {} {}", e.code.as_str(), e.message))
}

async fn fault(palette_url: &str, rule: Value) {
    let r = reqwest::Client::new()
        .post(format!("{palette_url}/__sandbox/faults/rules"))
        .json(&rule)
        .send()
        .await
        .expect("fault control");
    assert!(r.status().is_success(), "fault rule refused: {rule}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_cache_the_logs_or_any_answer_or_event() {
    // The "real" environment is a standalone sandbox; its credentials are the known secrets.
    let sb = capstan_sandbox::start(capstan_sandbox::SandboxConfig {
        vms: 30,
        time_scale: 0.01,
        tls: false,
        seed: 7,
        ..Default::default()
    })
    .await
    .unwrap();
    let secrets = [
        sb.palette_api_key().expose().to_owned(),
        sb.prism_password().expose().to_owned(),
        sb.palette_password().expose().to_owned(),
    ];
    for s in &secrets {
        assert!(s.len() >= 8, "a realistic secret");
    }

    let home = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(home.path());
    let activity = ActivityLog::default();
    let logging = capstan_engine::logging::init(&paths.log_dir, &activity);
    let rec = Arc::new(Recorder::default());
    let engine = Engine::new(
        EngineConfig {
            paths: paths.clone(),
            activity: activity.clone(),
            sandbox: capstan_sandbox::SandboxConfig::default(),
            version: "0.0.0-test".into(),
            auto_sync: false,
            secret_store: Some(capstan_secrets::StorePreference::Memory),
        },
        rec.clone(),
    );

    // ---- setup: test both services, save with every secret, activate ------------------
    let prism = sb.prism_url();
    let (host, port) = prism
        .trim_start_matches("http://")
        .rsplit_once(':')
        .unwrap();
    let config = json!({
        "name": "Lab",
        "palette": {"url": sb.palette_url(), "sysadminUsername": sb.palette_system_user()},
        "prism": {"address": format!("http://{host}"), "port": port.parse::<u16>().unwrap(), "auth": "basic",
                  "username": sb.prism_user(), "tls": {"mode": "insecure"}},
        "proxy": {"mode": "none"},
    });
    let typed = json!({
        "paletteApiKey": secrets[0],
        "prismPassword": secrets[1],
        "sysadminPassword": secrets[2],
    });
    for service in ["palette", "prism_central"] {
        let test = call(
            &engine,
            &rec,
            "connection_test",
            json!({"service": service, "config": config, "secrets": typed}),
        )
        .await;
        assert_ne!(test["diagnosis"]["verdict"], "fail", "{test}");
    }
    // A wrong password's diagnosis must not echo the password either.
    let mut wrong = typed.clone();
    wrong["prismPassword"] = json!("Wr0ng-Passw0rd-Typed");
    call(
        &engine,
        &rec,
        "connection_test",
        json!({"service": "prism_central", "config": config, "secrets": wrong}),
    )
    .await;
    call(
        &engine,
        &rec,
        "environment_save",
        json!({"config": config, "secrets": typed, "activate": true}),
    )
    .await;
    call(&engine, &rec, "status_refresh", json!({})).await;

    // ---- faults on the way --------------------------------------------------------------
    let palette = sb.palette_url();
    for rule in [
        json!({"service": "palette", "method": "POST", "path": "/v1/clouds/cloudTypes/register", "kind": {"type": "drop_response"}, "count": 1}),
        json!({"service": "palette", "method": "PUT", "path": "/v1/clouds/cloudTypes/nutanix/content/templates/clusterTemplate", "kind": {"type": "internal_error"}, "count": 1}),
        json!({"service": "palette", "method": "POST", "path": "/v1/pcg/selfHosted", "kind": {"type": "drop_response"}, "count": 1}),
        json!({"service": "palette", "method": "POST", "path": "/v1/cloudaccounts/cloudTypes/nutanix", "kind": {"type": "drop_response"}, "count": 1}),
    ] {
        fault(&palette, rule).await;
    }

    // ---- step 1 ---------------------------------------------------------------------------
    let logo = {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend_from_slice(&64u32.to_be_bytes());
        b.extend_from_slice(&64u32.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0]);
        b.resize(2048, 0);
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let input = json!({
        "capxVersion": "v1.5.4",
        "source": "shipped",
        "infrastructureComponents": components("v1.5.4"),
        "logo": {"fileName": "nutanix.png", "base64": logo},
    });
    call(
        &engine,
        &rec,
        "draft_save",
        json!({"step": "cloud_type", "data": {"capxVersion": "v1.5.4", "password": secrets[1]}}),
    )
    .await;
    call(&engine, &rec, "cloud_type_plan", input.clone()).await;
    call(&engine, &rec, "cloud_type_register", input).await;

    // ---- step 2: the host cluster's kubectl fetches the manifests -----------------------
    let pcg = call(&engine, &rec, "pcg_create", json!({"name": "lab-pcg"})).await;
    let uid = pcg["uid"].as_str().unwrap().to_owned();
    for service in ["ally", "jet"] {
        reqwest::get(format!(
            "{palette}/v1/pcg/{uid}/services/{service}/manifest"
        ))
        .await
        .unwrap();
    }
    let started = Instant::now();
    loop {
        let status = call(&engine, &rec, "pcg_status", json!({"uid": uid})).await;
        if status["running"] == json!(true) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "PCG not Running: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // ---- step 3: blank secret fields use the ones saved in setup ------------------------
    let form = call(&engine, &rec, "cloud_account_form", json!({})).await;
    let mut values = serde_json::Map::new();
    for field in form["fields"].as_array().unwrap() {
        let key = field["key"].as_str().unwrap();
        let value = if field["secret"] == json!(true) {
            String::new()
        } else {
            field["value"].as_str().unwrap_or_default().to_owned()
        };
        values.insert(key.to_owned(), json!(value));
    }
    call(
        &engine,
        &rec,
        "cloud_account_create",
        json!({"name": "lab-nutanix", "pcgUid": uid, "values": values}),
    )
    .await;
    call(&engine, &rec, "sync_start", json!({"mode": "full"})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    call(&engine, &rec, "workflow_state", json!({})).await;
    call(
        &engine,
        &rec,
        "activity_list",
        json!({"limit": 5000, "minLevel": "trace"}),
    )
    .await;

    // The faults really happened.
    let faults: Value = reqwest::get(format!("{palette}/__sandbox/faults"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for rule in faults["rules"].as_array().unwrap() {
        assert_eq!(rule["fired"], rule["count"], "fault did not fire: {rule}");
    }

    engine.shutdown().await;
    drop(logging); // flushes the log file
    sb.shutdown().await;

    // The API calls of the run are in the cache's activity log (redacted like the rest).
    let calls = capstan_store::Store::open(paths.data_dir.join("capstan.db"))
        .unwrap()
        .recent_activity(None, 5_000)
        .unwrap();
    assert!(
        calls.iter().any(|a| a.entry.service == "palette"
            && a.entry.method == "POST"
            && a.entry.path.ends_with("/v1/pcg/selfHosted")),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|a| a.entry.service == "prism-central" && a.entry.outcome == "ok")
    );
    assert!(
        calls.iter().any(|a| a.entry.outcome != "ok"),
        "the faults show as failed calls"
    );
    assert!(calls.iter().all(|a| a.entry.environment_id.is_some()));

    // ---- the scan ---------------------------------------------------------------------------
    let files = files_under(home.path());
    assert!(
        files
            .iter()
            .any(|(p, _)| p.extension().is_some_and(|e| e == "log")),
        "the run wrote a log file: {:?}",
        files.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    assert!(files.iter().any(|(p, _)| p.ends_with("capstan.db")));
    for (path, bytes) in &files {
        for s in secrets
            .iter()
            .chain(["Wr0ng-Passw0rd-Typed".to_owned()].iter())
        {
            assert!(!contains(bytes, s), "a secret is in {}", path.display());
        }
    }
    for (event, payload) in rec.events.lock().iter() {
        let text = payload.to_string();
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "a secret is in a {event} event");
        }
    }
    let calls = rec.calls.lock();
    assert!(calls.len() > 15);
    for (cmd, request, response) in calls.iter() {
        let answer = response.to_string();
        for s in &secrets {
            assert!(
                !answer.contains(s.as_str()),
                "a secret is in the answer to {cmd}"
            );
            if request.to_string().contains(s.as_str()) {
                assert!(
                    matches!(
                        cmd.as_str(),
                        "connection_test" | "environment_save" | "draft_save"
                    ),
                    "{cmd}'s request carries a secret the UI should not have had"
                );
            }
        }
    }
}
