//! HTTPS_PROXY / NO_PROXY from the environment are honoured by a client built with default
//! settings. Setting environment variables in-process needs `unsafe` (and would race other
//! tests), so the parent test starts a fake proxy and re-runs this test binary as a child
//! with the variables set; the child makes the requests and checks the errors, the parent
//! checks what reached the proxy.

use std::process::Command;
use std::sync::{Arc, Mutex};

use capstan_http::{HttpClient, HttpConfig, Idempotency, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CHILD_FLAG: &str = "CAPSTAN_ENV_PROXY_CHILD";
const TEST_NAME: &str = "environment_proxy_is_used_and_no_proxy_bypasses_it";

#[tokio::test]
async fn environment_proxy_is_used_and_no_proxy_bypasses_it() {
    if std::env::var_os(CHILD_FLAG).is_some() {
        return child().await;
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut buf = [0u8; 2048];
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            let first = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            log.lock().expect("log").push(first);
            let _ = tcp
                .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });

    let exe = std::env::current_exe().expect("test binary path");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .args(["--exact", TEST_NAME, "--nocapture"])
            .env(CHILD_FLAG, "1")
            .env("HTTPS_PROXY", format!("http://127.0.0.1:{port}"))
            .env("NO_PROXY", "bypass.invalid")
            .env_remove("https_proxy")
            .env_remove("no_proxy")
            .env_remove("ALL_PROXY")
            .output()
    })
    .await
    .expect("join")
    .expect("run child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("CHILD CHECKS PASSED"),
        "the child did not run its checks:\n{stdout}"
    );

    let seen = seen.lock().expect("log").clone();
    assert_eq!(
        seen,
        vec!["CONNECT pc.example.invalid:9440 HTTP/1.1".to_owned()],
        "exactly the proxied request reaches the proxy; the NO_PROXY host goes direct"
    );
}

/// Runs in the child process, with HTTPS_PROXY and NO_PROXY set by the parent.
async fn child() {
    let client = HttpClient::new(HttpConfig {
        retry: RetryPolicy::none(),
        ..HttpConfig::default()
    })
    .expect("client");
    let get = |url: &'static str| client.send(Idempotency::Idempotent, move |c| c.get(url));

    let via_proxy = get("https://pc.example.invalid:9440/")
        .await
        .expect_err("the proxy refuses");
    assert_eq!(via_proxy.code(), "proxy", "{via_proxy}");

    // NO_PROXY: the client resolves the name itself, which fails (`.invalid` never resolves).
    let direct = get("https://bypass.invalid:9440/")
        .await
        .expect_err("no such host");
    assert_eq!(direct.code(), "dns", "{direct}");
    println!("CHILD CHECKS PASSED");
}
