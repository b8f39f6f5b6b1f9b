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
