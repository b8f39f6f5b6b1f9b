//! Shared test helpers: the sandbox, small local fakes, and assertions on a diagnosis.
#![allow(dead_code)]

use std::net::SocketAddr;

use axum::Router;
use capstan_diagnose::{Diagnosis, Outcome, Step, StepKind};
use capstan_sandbox::{Sandbox, SandboxConfig};

pub async fn sandbox() -> Sandbox {
    capstan_sandbox::start(SandboxConfig {
        time_scale: 0.01,
        vms: 20,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

/// Serves `router` over plain HTTP on a free loopback port.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// A loopback port with nothing listening on it.
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

/// A loopback listener that never accepts, with its accept queue filled, so further
/// connection attempts get no answer (the kernel drops their SYNs): a local black hole.
pub struct BlackHole {
    pub port: u16,
    _listener: tokio::net::TcpListener,
    _fillers: Vec<tokio::net::TcpStream>,
}

pub async fn black_hole() -> BlackHole {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let port = socket.local_addr().expect("addr").port();
    let listener = socket.listen(0).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(
            std::time::Duration::from_millis(300),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        {
            Ok(Ok(s)) => fillers.push(s),
            _ => break,
        }
    }
    BlackHole {
        port,
        _listener: listener,
        _fillers: fillers,
    }
}

pub fn step(d: &Diagnosis, kind: StepKind) -> &Step {
    d.step(kind)
        .unwrap_or_else(|| panic!("no {kind:?} step in {}", pretty(d)))
}

pub fn assert_step(d: &Diagnosis, kind: StepKind, outcome: Outcome, code: &str) -> Step {
    let s = step(d, kind);
    assert_eq!(
        (s.outcome, s.code.as_str()),
        (outcome, code),
        "{kind:?} step in {}",
        pretty(d)
    );
    s.clone()
}

/// Every step after `kind` is skipped.
pub fn assert_rest_skipped(d: &Diagnosis, kind: StepKind) {
    let idx = d
        .steps
        .iter()
        .position(|s| s.step == kind)
        .expect("step present");
    for s in &d.steps[idx + 1..] {
        assert_eq!(s.outcome, Outcome::Skipped, "{:?} in {}", s.step, pretty(d));
        assert!(s.detail.contains("earlier step failed") || !s.detail.is_empty());
    }
}

pub fn pretty(d: &Diagnosis) -> String {
    serde_json::to_string_pretty(d).unwrap_or_default()
}

/// A minimal HTTP CONNECT proxy on loopback that tunnels to loopback targets only.
/// Returns its URL and the number of tunnels it opened.
pub async fn connect_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let tunnels = std::sync::Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let count = count.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(client);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).await.is_err() {
                    return;
                }
                // Skip the remaining request headers.
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" || line == "\n" => break,
                        Ok(_) => {}
                    }
                }
                let mut client = reader.into_inner();
                let mut parts = request_line.split_whitespace();
                let (Some("CONNECT"), Some(dest)) = (parts.next(), parts.next()) else {
                    let _ = client
                        .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                        .await;
                    return;
                };
                let loopback = dest.starts_with("127.0.0.1:") || dest.starts_with("localhost:");
                let upstream = if loopback {
                    tokio::net::TcpStream::connect(dest).await.ok()
                } else {
                    None
                };
                let Some(mut upstream) = upstream else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                if client
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (format!("http://{addr}"), tunnels)
}
