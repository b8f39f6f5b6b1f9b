//! First-time setup through the dispatcher: a real environment (pointed at a standalone
//! sandbox, which behaves like a fresh Prism Central with a self-signed certificate) is
//! tested, trusted by pin, saved with its secrets, activated, checked and synced; the
//! encrypted-file secret store survives a restart; no secret reaches the database or logs.

mod support;

use std::time::{Duration, Instant};

use capstan_engine::Engine;
use capstan_ipc::ErrorCode;
use capstan_ipc::diagnosis::Outcome;
use capstan_ipc::setup::*;
use capstan_ipc::types::{EnvironmentList, HealthState, Status};
use capstan_secrets::StorePreference;
use serde_json::json;
use support::{Collect, call, contains, files_under as all_files};

fn engine(home: &std::path::Path, store: StorePreference) -> (Engine, std::sync::Arc<Collect>) {
    let mut config = support::config(home, 20);
    config.secret_store = Some(store);
    support::engine_from(config)
}

/// "Lab" pointing at a standalone sandbox, as a user would type it.
fn lab(sb: &capstan_sandbox::Sandbox, tls: TlsChoice) -> EnvironmentConfig {
    let prism = sb.prism_url();
    let (host, port) = prism
        .trim_start_matches("https://")
        .rsplit_once(':')
        .expect("host:port");
    EnvironmentConfig {
        id: String::new(),
        name: "Lab Frankfurt".into(),
        palette: PaletteSettings {
            url: sb.palette_url(),
            tls: tls.clone(),
            ..Default::default()
        },
        prism: PrismSettings {
            address: host.into(),
            port: port.parse().unwrap(),
            auth: PrismAuthKind::Basic,
            username: Some(sb.prism_user().into()),
            tls,
        },
        proxy: ProxySettings {
            mode: ProxyMode::None,
            url: None,
        },
    }
}

fn secrets(sb: &capstan_sandbox::Sandbox, password: &str) -> SecretsInput {
    SecretsInput {
        palette_api_key: Some(sb.palette_api_key().expose().into()),
        prism_password: Some(password.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_real_environment_is_tested_trusted_saved_activated_and_synced() {
    let sb = capstan_sandbox::start(capstan_sandbox::SandboxConfig {
        vms: 40,
        ..Default::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let (engine, events) = engine(home.path(), StorePreference::Memory);
    let password = sb.prism_password().expose().to_owned();
    let system = TlsChoice::default();

    // System trust: the self-signed certificate is the diagnosis, with the fingerprint to pin.
    let test: ConnectionTestResult = call(
        &engine,
        "connection_test",
        json!({"service": "prism_central", "config": lab(&sb, system.clone()), "secrets": secrets(&sb, &password)}),
    )
    .await;
    assert_eq!(test.diagnosis.verdict, Outcome::Fail);
    let tls = test
        .diagnosis
        .steps
        .iter()
        .find(|s| s.outcome == Outcome::Fail)
        .expect("a failing step");
    assert!(tls.code.starts_with("tls_"), "{tls:?}");
    let Some(capstan_ipc::diagnosis::StepData::Certificate(cert)) = &tls.data else {
        panic!("the certificate is shown: {tls:?}");
    };
    assert_eq!(Some(cert.sha256.clone()), sb.certificate_sha256());

    // Pinned: reachable; a wrong password is told apart from a TLS problem.
    let pinned = TlsChoice {
        mode: TlsMode::Pinned,
        pinned_sha256: Some(cert.sha256_colons.clone()),
        ..Default::default()
    };
    let wrong: ConnectionTestResult = call(
        &engine,
        "connection_test",
        json!({"service": "prism_central", "config": lab(&sb, pinned.clone()), "secrets": secrets(&sb, "not-the-password")}),
    )
    .await;
    let failed = wrong
        .diagnosis
        .steps
        .iter()
        .find(|s| s.outcome == Outcome::Fail)
        .expect("fails");
    assert_eq!(
        failed.step,
        capstan_ipc::diagnosis::StepKind::Auth,
        "{failed:?}"
    );
    let ok: ConnectionTestResult = call(
        &engine,
        "connection_test",
        json!({"service": "prism_central", "config": lab(&sb, pinned.clone()), "secrets": secrets(&sb, &password)}),
    )
    .await;
    assert_ne!(ok.diagnosis.verdict, Outcome::Fail, "{:?}", ok.diagnosis);
    // The Prism Central version is checked against what the workflow's CAPX line needs.
    let version = ok
        .diagnosis
        .steps
        .iter()
        .find(|s| s.step == capstan_ipc::diagnosis::StepKind::Version)
        .expect("a version step");
    assert_eq!(version.outcome, Outcome::Pass, "{version:?}");
    assert!(
        matches!(
            &version.data,
            Some(capstan_ipc::diagnosis::StepData::Version {
                minimum: Some(_),
                ..
            })
        ),
        "{version:?}"
    );
    let palette: ConnectionTestResult = call(
        &engine,
        "connection_test",
        json!({"service": "palette", "config": lab(&sb, pinned.clone()), "secrets": secrets(&sb, &password)}),
    )
    .await;
    assert_ne!(
        palette.diagnosis.verdict,
        Outcome::Fail,
        "{:?}",
        palette.diagnosis
    );
    assert!(!palette.projects.is_empty(), "the project picker is filled");

    // Save with the project picked, activate: health is checked with the saved secrets.
    let mut config = lab(&sb, pinned);
    config.palette.project_uid = Some(palette.projects[0].uid.clone());
    config.palette.project_name = Some(palette.projects[0].name.clone());
    let saved: EnvironmentDetail = call(
        &engine,
        "environment_save",
        json!({"config": config, "secrets": secrets(&sb, &password), "activate": true}),
    )
    .await;
    assert_eq!(saved.config.id, "lab-frankfurt");
    assert!(
        saved.saved.palette_api_key && saved.saved.prism_password && !saved.saved.prism_api_key
    );
    let status: Status = call(&engine, "status_get", json!({})).await;
    assert_eq!(status.environment.id, "lab-frankfurt");
    assert_eq!(status.prism.state, HealthState::Ok, "{:?}", status.prism);
    assert_eq!(
        status.palette.state,
        HealthState::Ok,
        "{:?}",
        status.palette
    );

    // A second environment with the same name is refused; the list has both.
    let mut dup = lab(&sb, TlsChoice::default());
    dup.id = "other".into();
    let e = engine
        .dispatch("environment_save", json!({"config": dup, "secrets": {}}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);

    // Sync through the saved credentials.
    let started: capstan_ipc::inventory::SyncStarted =
        call(&engine, "sync_start", json!({"mode": "full"})).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = events.0.lock().iter().any(|(name, v)| {
            *name == "capstan://sync"
                && v["runId"] == json!(started.run_id)
                && v["phase"] == json!("completed")
        });
        if done {
            break;
        }
        let failed = events
            .0
            .lock()
            .iter()
            .find(|(name, v)| *name == "capstan://sync" && v["phase"] == json!("failed"))
            .cloned();
        assert!(failed.is_none(), "{failed:?}");
        assert!(Instant::now() < deadline, "sync did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Editing keeps the saved secrets when none are typed.
    let get: EnvironmentDetail =
        call(&engine, "environment_get", json!({"id": "lab-frankfurt"})).await;
    let kept: EnvironmentDetail = call(
        &engine,
        "environment_save",
        json!({"config": get.config, "secrets": {}}),
    )
    .await;
    assert!(kept.saved.prism_password);

    // No secret in the database, the settings or the logs.
    engine.shutdown().await;
    for (path, bytes) in all_files(home.path()) {
        for secret in [password.as_str(), sb.palette_api_key().expose()] {
            assert!(
                !contains(&bytes, secret),
                "a secret is in {}",
                path.display()
            );
        }
    }

    // Deleting removes it; the sandbox is active again.
    let list: EnvironmentList = call(
        &engine,
        "environment_delete",
        json!({"id": "lab-frankfurt"}),
    )
    .await;
    assert!(list.environments.iter().all(|e| e.id != "lab-frankfurt"));
    assert_eq!(list.active_id, "sandbox");
    engine.shutdown().await;
    sb.shutdown().await;
}

#[tokio::test]
async fn bad_settings_are_refused_with_the_field_that_is_wrong() {
    let home = tempfile::tempdir().unwrap();
    let (engine, _) = engine(home.path(), StorePreference::Memory);
    let base = EnvironmentConfig {
        name: "Lab".into(),
        palette: PaletteSettings {
            url: "https://api.spectrocloud.com".into(),
            ..Default::default()
        },
        prism: PrismSettings {
            address: "pc.lab.example".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let field = |e: capstan_ipc::IpcError| {
        e.details
            .and_then(|d| d["field"].as_str().map(str::to_owned))
    };
    let mut no_name = base.clone();
    no_name.name = "  ".into();
    let e = engine
        .dispatch("environment_save", json!({"config": no_name}))
        .await
        .unwrap_err();
    assert_eq!(field(e).as_deref(), Some("name"));
    let mut bad_pin = base.clone();
    bad_pin.prism.tls = TlsChoice {
        mode: TlsMode::Pinned,
        pinned_sha256: Some("12:34".into()),
        ..Default::default()
    };
    let e = engine
        .dispatch("environment_save", json!({"config": bad_pin}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let e = engine
        .dispatch(
            "connection_test",
            json!({"service": "prism_central", "config": base, "secrets": {}}),
        )
        .await
        .unwrap_err();
    assert_eq!(field(e).as_deref(), Some("prismPassword"));
    // Nothing was saved.
    let list: EnvironmentList = call(&engine, "environments_list", json!({})).await;
    assert_eq!(list.environments.len(), 1);
}

#[tokio::test]
async fn the_encrypted_file_store_needs_its_passphrase_and_survives_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let config = EnvironmentConfig {
        name: "Lab".into(),
        palette: PaletteSettings {
            url: "https://palette.lab.example".into(),
            ..Default::default()
        },
        prism: PrismSettings {
            address: "pc.lab.example".into(),
            username: Some("admin".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    {
        let (engine, _) = engine(home.path(), StorePreference::EncryptedFile);
        let status: SecretStoreStatus = call(&engine, "secret_store_status", json!({})).await;
        assert_eq!(status.state, SecretStoreState::Locked);
        assert!(!status.file_exists);
        // Saving before unlocking saves nothing and says why.
        let e = engine
            .dispatch(
                "environment_save",
                json!({"config": config, "secrets": {"prismPassword": "pw-123456"}}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::KeyringUnavailable, "{}", e.message);
        let list: EnvironmentList = call(&engine, "environments_list", json!({})).await;
        assert_eq!(list.environments.len(), 1, "no half-saved environment");
        // Settings without secrets can be saved while the store is locked.
        let mut other = config.clone();
        other.name = "Lab without secrets".into();
        let saved: EnvironmentDetail = call(
            &engine,
            "environment_save",
            json!({"config": other, "secrets": {}}),
        )
        .await;
        assert!(!saved.saved.prism_password);
        let _: EnvironmentList = call(
            &engine,
            "environment_delete",
            json!({"id": saved.config.id}),
        )
        .await;
        let short = engine
            .dispatch("secret_store_unlock", json!({"passphrase": "short"}))
            .await
            .unwrap_err();
        assert_eq!(short.code, ErrorCode::InvalidInput, "{}", short.message);
        let status: SecretStoreStatus = call(
            &engine,
            "secret_store_unlock",
            json!({"passphrase": "correct horse battery"}),
        )
        .await;
        assert_eq!(status.state, SecretStoreState::Ready);
        assert_eq!(status.backend, Some(SecretBackend::EncryptedFile));
        let saved: EnvironmentDetail = call(
            &engine,
            "environment_save",
            json!({"config": config, "secrets": {"prismPassword": "pw-123456", "paletteApiKey": "key-abcdef"}}),
        )
        .await;
        assert!(saved.saved.prism_password && saved.saved.palette_api_key);
        engine.shutdown().await;
    }
    for (path, bytes) in all_files(home.path()) {
        assert!(
            !contains(&bytes, "pw-123456") && !contains(&bytes, "key-abcdef"),
            "plaintext in {}",
            path.display()
        );
    }
    // Restart: the environment is back from the database; its secrets after the passphrase.
    let (engine, _) = engine(home.path(), StorePreference::EncryptedFile);
    let list: EnvironmentList = call(&engine, "environments_list", json!({})).await;
    assert!(list.environments.iter().any(|e| e.id == "lab"));
    let wrong = engine
        .dispatch(
            "secret_store_unlock",
            json!({"passphrase": "wrong horse battery"}),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Unauthorized, "{}", wrong.message);
    let _: SecretStoreStatus = call(
        &engine,
        "secret_store_unlock",
        json!({"passphrase": "correct horse battery"}),
    )
    .await;
    let detail: EnvironmentDetail = call(&engine, "environment_get", json!({"id": "lab"})).await;
    assert!(detail.saved.prism_password && detail.saved.palette_api_key);
    engine.shutdown().await;
}
