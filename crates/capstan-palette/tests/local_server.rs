//! Cases the sandbox cannot stage: a create that is applied but whose answer is lost, and
//! pagination edge cases. A tiny raw HTTP server stands in for Palette.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use capstan_palette::{
    CustomAccount, CustomAccountEntity, HttpConfig, PaletteAuth, PaletteClient, PaletteConfig,
    RetryPolicy, StringMap,
};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake does with a create.
#[derive(Clone, Copy, PartialEq)]
enum CreateFault {
    /// Apply it, then close the connection without answering.
    ApplyThenDrop,
    /// Apply it, then answer 500.
    ApplyThen500,
    /// Do not apply it; answer 500 (the first time only).
    RejectOnce500,
}

struct Fake {
    fault: CreateFault,
    posts: AtomicUsize,
    accounts: Mutex<Vec<(String, String)>>,
}

async fn read_request(tcp: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = tcp.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let mut first = head.lines().next()?.split_whitespace();
            let method = first.next()?.to_owned();
            let path = first.next()?.to_owned();
            return Some((method, path, buf[end + 4..end + 4 + len].to_vec()));
        }
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn respond(tcp: &mut TcpStream, status: &str, body: &str) {
    let msg = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.write_all(msg.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

async fn fake(fault: CreateFault) -> (Arc<Fake>, PaletteClient) {
    let state = Arc::new(Fake {
        fault,
        posts: AtomicUsize::new(0),
        accounts: Mutex::new(Vec::new()),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let s = state.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            tokio::spawn(async move {
                let Some((method, path, body)) = read_request(&mut tcp).await else {
                    return;
                };
                if method == "POST" && path == "/v1/cloudaccounts/cloudTypes/nutanix" {
                    let n = s.posts.fetch_add(1, Ordering::SeqCst) + 1;
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    let name = v["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    let uid = format!("acct-{n}");
                    let apply = !(s.fault == CreateFault::RejectOnce500 && n == 1);
                    if apply {
                        s.accounts.lock().push((uid.clone(), name));
                    }
                    match (s.fault, n) {
                        (CreateFault::ApplyThenDrop, 1) => drop(tcp),
                        (CreateFault::ApplyThen500, 1) | (CreateFault::RejectOnce500, 1) => {
                            respond(
                                &mut tcp,
                                "500 Internal Server Error",
                                r#"{"code":"InternalError","message":"boom","ref":"r-1"}"#,
                            )
                            .await
                        }
                        _ => {
                            respond(&mut tcp, "201 Created", &format!(r#"{{"uid":"{uid}"}}"#)).await
                        }
                    }
                } else if method == "GET"
                    && path.starts_with("/v1/cloudaccounts/cloudTypes/nutanix")
                {
                    let items: Vec<serde_json::Value> = s
                        .accounts
                        .lock()
                        .iter()
                        .map(|(uid, name)| serde_json::json!({"kind": "nutanix", "metadata": {"uid": uid, "name": name}}))
                        .collect();
                    let body = serde_json::json!({"items": items, "listmeta": {"continue": ""}})
                        .to_string();
                    respond(&mut tcp, "200 OK", &body).await
                } else if method == "GET" && path.starts_with("/v1/pages") {
                    // Three pages, then a token that repeats (a broken server).
                    let (items, next) = if path.contains("continue=b") {
                        (vec![3, 4], "c")
                    } else if path.contains("continue=c") {
                        (vec![5], "c")
                    } else {
                        (vec![1, 2], "b")
                    };
                    let items: Vec<_> = items
                        .into_iter()
                        .map(|i| serde_json::json!({"metadata": {"uid": format!("u{i}")}}))
                        .collect();
                    let body = serde_json::json!({"items": items, "listmeta": {"continue": next}})
                        .to_string();
                    respond(&mut tcp, "200 OK", &body).await
                } else {
                    respond(
                        &mut tcp,
                        "404 Not Found",
                        r#"{"code":"ResourceNotFound","message":"no route"}"#,
                    )
                    .await
                }
            });
        }
    });
    let client = PaletteClient::new(PaletteConfig {
        http: HttpConfig {
            no_proxy: true,
            retry: RetryPolicy {
                initial_backoff: Duration::from_millis(10),
                ..RetryPolicy::default()
            },
            ..HttpConfig::default()
        },
        ..PaletteConfig::new(format!("http://{addr}"), PaletteAuth::ApiKey("k".into()))
    })
    .expect("client");
    (state, client)
}

fn entity() -> CustomAccountEntity {
    let mut creds = StringMap::new();
    creds.insert("NUTANIX_USER".into(), "admin".into());
    CustomAccountEntity::new("nutanix-prod", "pcg-1", creds)
}

#[tokio::test]
async fn a_create_applied_before_the_connection_dropped_is_not_repeated() {
    let (state, client) = fake(CreateFault::ApplyThenDrop).await;
    let uid = client
        .create_cloud_account("nutanix", &entity())
        .await
        .expect("resolved by lookup");
    assert_eq!(uid, "acct-1");
    assert_eq!(
        state.posts.load(Ordering::SeqCst),
        1,
        "the create is sent once"
    );
    assert_eq!(state.accounts.lock().len(), 1, "no duplicate");
}

#[tokio::test]
async fn a_create_applied_before_a_500_is_not_repeated() {
    let (state, client) = fake(CreateFault::ApplyThen500).await;
    let uid = client
        .create_cloud_account("nutanix", &entity())
        .await
        .expect("resolved by lookup");
    assert_eq!(uid, "acct-1");
    assert_eq!(state.posts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_create_that_did_not_land_is_sent_again_after_checking() {
    let (state, client) = fake(CreateFault::RejectOnce500).await;
    let uid = client
        .create_cloud_account("nutanix", &entity())
        .await
        .expect("second attempt");
    assert_eq!(uid, "acct-2");
    assert_eq!(state.posts.load(Ordering::SeqCst), 2);
    assert_eq!(state.accounts.lock().len(), 1);
}

#[tokio::test]
async fn continue_tokens_are_followed_and_a_repeated_token_ends_the_walk() {
    let (_state, client) = fake(CreateFault::ApplyThen500).await;
    #[derive(serde::Deserialize)]
    struct Item {
        metadata: capstan_palette::ObjectMeta,
    }
    let items: Vec<Item> = client.list_all("/v1/pages").await.expect("pages");
    let uids: Vec<_> = items
        .iter()
        .filter_map(|i| i.metadata.uid.clone())
        .collect();
    assert_eq!(uids, vec!["u1", "u2", "u3", "u4", "u5"]);
    let _: Vec<CustomAccount> = client.cloud_accounts("nutanix").await.expect("empty list");
    let err = client.cluster("missing").await.expect_err("404");
    assert_eq!(err.code(), "not_found");
}
