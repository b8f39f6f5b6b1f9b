//! The engine's command dispatcher, driven exactly as the desktop shell drives it.

mod support;

use capstan_ipc::ErrorCode;
use serde_json::{Value, json};
use support::engine as test_engine;

fn engine(home: &std::path::Path) -> (capstan_engine::Engine, std::sync::Arc<support::Collect>) {
    test_engine(home, 30)
}

#[tokio::test]
async fn every_declared_command_is_routed() {
    let home = tempfile::tempdir().unwrap();
    let (engine, _) = engine(home.path());
    for name in capstan_ipc::commands::NAMES {
        // Each command gets a request that is valid or at least well-formed JSON; what matters
        // is that none of them falls through to "unknown command".
        let payload = match *name {
            "environment_activate" => json!({"id": "nope"}),
            "settings_update" => json!({"theme": "dark"}),
            _ => json!({}),
        };
        if let Err(e) = engine.dispatch(name, payload).await {
            assert_ne!(
                e.code,
                ErrorCode::UnknownCommand,
                "{name} is declared but not routed"
            );
        }
    }
    engine.shutdown().await;
}

#[tokio::test]
async fn unknown_and_malformed_requests_get_typed_errors() {
    let home = tempfile::tempdir().unwrap();
    let (engine, _) = engine(home.path());
    let e = engine
        .dispatch("launch_rockets", json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownCommand);
    assert!(e.message.contains("launch_rockets"));

    let e = engine
        .dispatch("settings_update", json!({"theme": "purple"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert!(e.message.contains("settings_update"), "{}", e.message);

    let e = engine
        .dispatch("environment_activate", json!({"id": "prod"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // A missing payload is fine for commands that take `{}`.
    let info = engine.dispatch("app_info", Value::Null).await.unwrap();
    assert_eq!(info["name"], "Capstan");
    assert_eq!(info["version"], "0.0.0-test");
}

#[tokio::test]
async fn settings_round_trip_and_persist() {
    let home = tempfile::tempdir().unwrap();
    {
        let (engine, _) = engine(home.path());
        let saved = engine
            .dispatch("settings_update", json!({"theme": "light"}))
            .await
            .unwrap();
        assert_eq!(saved, json!({"theme": "light"}));
    }
    let (engine, _) = engine(home.path());
    assert_eq!(
        engine.dispatch("settings_get", json!({})).await.unwrap(),
        json!({"theme": "light"})
    );
}

#[tokio::test]
async fn starting_activates_the_sandbox_and_both_services_are_healthy() {
    let home = tempfile::tempdir().unwrap();
    let (engine, events) = engine(home.path());
    let before = engine.dispatch("status_get", json!({})).await.unwrap();
    assert_eq!(before["palette"]["state"], "unknown");

    engine.start().await;
    let status = engine.dispatch("status_get", json!({})).await.unwrap();
    assert_eq!(status["environment"]["kind"], "sandbox");
    assert!(
        status["environment"]["paletteUrl"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    assert_eq!(status["palette"]["state"], "ok", "{status}");
    assert_eq!(status["prism"]["state"], "ok", "{status}");
    assert!(status["checkedAt"].is_string());
    assert!(
        status["prism"]["message"]
            .as_str()
            .unwrap()
            .contains("as admin"),
        "{status}"
    );
    assert!(
        status["palette"]["message"]
            .as_str()
            .unwrap()
            .contains("tenant"),
        "{status}"
    );

    let emitted: Vec<_> = events.0.lock().iter().map(|(n, _)| *n).collect();
    assert!(emitted.contains(&"capstan://status"), "{emitted:?}");

    let list = engine
        .dispatch("environments_list", json!({}))
        .await
        .unwrap();
    assert_eq!(list["activeId"], "sandbox");

    // After the sandbox stops, a refresh says so instead of hanging or erroring.
    engine.shutdown().await;
    let after = engine.dispatch("status_refresh", json!({})).await.unwrap();
    assert_eq!(after["palette"]["state"], "down");
    assert_eq!(after["palette"]["errorCode"], "unavailable");
}
