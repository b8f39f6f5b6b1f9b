//! Smoke test of the `capstan-sandbox` binary.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn binary_prints_env_lines_and_serves() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_capstan-sandbox"))
        .args([
            "--http",
            "--palette-port",
            "0",
            "--prism-port",
            "0",
            "--vms",
            "20",
            "--fault",
            "prism:POST:/api/nutanix/v3/vms/list:503:1:1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the binary");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut env = HashMap::new();
    let read = async {
        while env.len() < 5 {
            let line = lines.next_line().await.unwrap().expect("a line");
            let (k, v) = line.split_once('=').expect("KEY=VALUE");
            env.insert(k.to_owned(), v.to_owned());
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("env lines in time");
    for key in [
        "CAPSTAN_SANDBOX_PALETTE_URL",
        "CAPSTAN_SANDBOX_PRISM_URL",
        "CAPSTAN_SANDBOX_PRISM_USER",
        "CAPSTAN_SANDBOX_PRISM_PASSWORD",
        "CAPSTAN_SANDBOX_PALETTE_API_KEY",
    ] {
        assert!(env.contains_key(key), "{key} missing: {env:?}");
    }
    assert!(env["CAPSTAN_SANDBOX_PALETTE_URL"].starts_with("http://127.0.0.1:"));
    assert_eq!(env["CAPSTAN_SANDBOX_PRISM_USER"], "admin");

    let c = reqwest::Client::new();
    let r = c
        .get(format!(
            "{}/v1/users/info",
            env["CAPSTAN_SANDBOX_PALETTE_URL"]
        ))
        .header("ApiKey", &env["CAPSTAN_SANDBOX_PALETTE_API_KEY"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["orgName"], "capstan-sandbox");

    // The --fault flag is applied (fires once).
    let list = || {
        c.post(format!(
            "{}/api/nutanix/v3/vms/list",
            env["CAPSTAN_SANDBOX_PRISM_URL"]
        ))
        .basic_auth(
            &env["CAPSTAN_SANDBOX_PRISM_USER"],
            Some(&env["CAPSTAN_SANDBOX_PRISM_PASSWORD"]),
        )
        .json(&serde_json::json!({}))
    };
    assert_eq!(list().send().await.unwrap().status(), 503);
    assert_eq!(list().send().await.unwrap().status(), 200);
    child.kill().await.unwrap();
}

#[tokio::test]
async fn help_documents_every_flag_and_bad_faults_are_rejected() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_capstan-sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--http",
        "--vms",
        "--seed",
        "--time-scale",
        "--palette-port",
        "--prism-port",
        "--bind",
        "--latency-ms",
        "--fault",
        "--state-file",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_capstan-sandbox"))
        .args(["--http", "--fault", "prism:GET:/x:teapot"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("teapot"));
}

/// Starts the binary and returns it with its CAPSTAN_SANDBOX_PALETTE_URL.
async fn spawn_with_state(state_file: &std::path::Path) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_capstan-sandbox"))
        .args(["--http", "--vms", "20", "--state-file"])
        .arg(state_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the binary");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Every line is read: closing the pipe early would make the binary's next print fail.
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        let mut url = String::new();
        loop {
            let line = lines.next_line().await.unwrap().expect("a line");
            if let Some(u) = line.strip_prefix("CAPSTAN_SANDBOX_PALETTE_URL=") {
                url = u.to_owned();
            }
            if line.starts_with("CAPSTAN_SANDBOX_PALETTE_API_KEY=") {
                return url;
            }
        }
    })
    .await
    .expect("the URL line in time");
    (child, url)
}

#[tokio::test]
async fn state_file_flag_survives_a_killed_process() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let c = reqwest::Client::new();
    let (mut child, url) = spawn_with_state(&file).await;
    let info: serde_json::Value = c
        .get(format!("{url}/__sandbox/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["restored"], false);
    let r = c
        .put(format!(
            "{url}/__sandbox/prism/clusters/pe-cluster-02/availability"
        ))
        .json(&serde_json::json!({"is_available": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Saved by the background writer, so even a killed process keeps the change.
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&file)
        .unwrap_or_default()
        .contains("\"is_available\":false")
    {
        assert!(start.elapsed() < Duration::from_secs(10), "no state file");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().await.unwrap();

    // A new client: a pooled connection to the killed process must not be reused if the
    // new one happens to get the same port.
    let c = reqwest::Client::new();
    let (mut child, url) = spawn_with_state(&file).await;
    let info: serde_json::Value = c
        .get(format!("{url}/__sandbox/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["restored"], true);
    assert_eq!(info["state_file"], file.display().to_string());
    let r = c
        .post(format!(
            "{}/api/nutanix/v3/clusters/list",
            info["prism_url"].as_str().unwrap()
        ))
        .basic_auth("admin", info["prism_password"].as_str())
        .json(&serde_json::json!({"filter": "name==pe-cluster-02"}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["entities"][0]["status"]["resources"]["config"]["is_available"],
        false
    );
    child.kill().await.unwrap();
}
