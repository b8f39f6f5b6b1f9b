//! Behaviour that needs a misbehaving server: page-size caps, zero-entity pages, bounded
//! concurrency, session expiry. A tiny axum server stands in for Prism Central.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use capstan_prism::{HttpConfig, PrismAuth, PrismClient, PrismConfig, RetryPolicy, TlsPolicy};
use serde_json::{Value, json};

#[derive(Default)]
struct Fake {
    total: usize,
    cap: usize,
    /// Return no entities at all from this offset on (a broken server).
    empty_from: Option<usize>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    list_calls: AtomicUsize,
    logins: AtomicUsize,
    token: parking_lot::Mutex<String>,
    basic_on_list: AtomicBool,
    omit_total: bool,
    /// `X-Ntnx-Env` to send (`None` = no header) and whether `/prism_central` exists.
    env: Option<&'static str>,
    is_pe: bool,
}

async fn users_me(State(f): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    let cookie = headers
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if cookie == format!("NTNX_IGW_SESSION={}", f.token.lock()) {
        let mut resp =
            axum::Json(json!({"metadata": {"kind": "user", "name": "user"}})).into_response();
        if let Some(env) = f.env {
            resp.headers_mut()
                .insert("x-ntnx-env", axum::http::HeaderValue::from_static(env));
        }
        return resp;
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Basic dXNlcjpwYXNz") {
        // user:pass
        return (StatusCode::UNAUTHORIZED, "").into_response();
    }
    let n = f.logins.fetch_add(1, Ordering::SeqCst) + 1;
    let token = format!("tok{n}");
    *f.token.lock() = token.clone();
    let mut resp = (
        [(
            "set-cookie",
            format!("NTNX_IGW_SESSION={token}; Path=/; Secure; HttpOnly"),
        )],
        axum::Json(
            json!({"metadata": {"kind": "user", "name": "user"}, "status": {"name": "user"}}),
        ),
    )
        .into_response();
    if let Some(env) = f.env {
        resp.headers_mut()
            .insert("x-ntnx-env", axum::http::HeaderValue::from_static(env));
    }
    resp
}

async fn prism_central(State(f): State<Arc<Fake>>) -> Response {
    if f.is_pe {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"state": "ERROR", "code": 404, "message_list": [{"reason": "ENTITY_NOT_FOUND", "message": "no such API"}]}))).into_response();
    }
    axum::Json(json!({"resources": {"version": "pc.2024.1.0.1", "type": "PC", "pc_vm_list": []}}))
        .into_response()
}

async fn list_vms(
    State(f): State<Arc<Fake>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if headers.contains_key("authorization") {
        f.basic_on_list.store(true, Ordering::SeqCst);
    }
    let cookie = headers
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let expected = format!("NTNX_IGW_SESSION={}", f.token.lock());
    if cookie != expected {
        return (StatusCode::UNAUTHORIZED, "").into_response();
    }
    f.list_calls.fetch_add(1, Ordering::SeqCst);
    let now = f.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    f.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(15)).await;
    f.in_flight.fetch_sub(1, Ordering::SeqCst);
    let offset = body.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
    let length = body.get("length").and_then(Value::as_u64).unwrap_or(20) as usize;
    let length = length.min(f.cap);
    let end = if f.empty_from.is_some_and(|e| offset >= e) {
        offset
    } else {
        (offset + length).min(f.total)
    };
    let entities: Vec<Value> = (offset..end)
        .map(|i| json!({"metadata": {"kind": "vm", "uuid": format!("vm-{i:05}")}, "status": {"name": format!("vm-{i}"), "state": "COMPLETE", "resources": {"power_state": "ON"}}}))
        .collect();
    let mut metadata = json!({"kind": "vm", "length": entities.len(), "offset": offset});
    if !f.omit_total {
        metadata["total_matches"] = json!(f.total);
    }
    axum::Json(json!({"api_version": "3.1", "metadata": metadata, "entities": entities}))
        .into_response()
}

async fn start(fake: Fake) -> (Arc<Fake>, PrismClient) {
    let fake = Arc::new(fake);
    let app = Router::new()
        .route("/api/nutanix/v3/users/me", get(users_me))
        .route("/api/nutanix/v3/vms/list", post(list_vms))
        .route("/api/nutanix/v3/prism_central", get(prism_central))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = PrismClient::new(PrismConfig {
        http: HttpConfig {
            tls: TlsPolicy::System,
            no_proxy: true,
            retry: RetryPolicy::none(),
            ..HttpConfig::default()
        },
        ..PrismConfig::new(
            format!("http://{addr}"),
            PrismAuth::Basic {
                username: "user".into(),
                password: "pass".into(),
            },
        )
    })
    .expect("client");
    (fake, client)
}

#[tokio::test]
async fn pagination_follows_the_servers_cap_and_bounds_concurrency() {
    let (fake, client) = start(Fake {
        total: 1050,
        cap: 100,
        ..Fake::default()
    })
    .await;
    let vms = client.list_vms(None).await.expect("list");
    assert_eq!(vms.len(), 1050);
    let uuids: Vec<&str> = vms.iter().filter_map(|v| v.uuid()).collect();
    let expected: Vec<String> = (0..1050).map(|i| format!("vm-{i:05}")).collect();
    assert_eq!(
        uuids,
        expected.iter().map(String::as_str).collect::<Vec<_>>(),
        "in order, no gaps, no duplicates"
    );
    assert_eq!(
        fake.list_calls.load(Ordering::SeqCst),
        11,
        "one request per 100-entity page"
    );
    let max = fake.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 4, "at most 4 pages in flight, saw {max}");
    assert!(
        max >= 2,
        "pages after the first are fetched concurrently, saw {max}"
    );
    assert!(
        !fake.basic_on_list.load(Ordering::SeqCst),
        "after login only the cookie is sent"
    );
}

#[tokio::test]
async fn a_server_that_returns_no_entities_cannot_loop_the_client() {
    let (fake, client) = start(Fake {
        total: 1000,
        cap: 100,
        empty_from: Some(300),
        ..Fake::default()
    })
    .await;
    let vms = tokio::time::timeout(Duration::from_secs(10), client.list_vms(None))
        .await
        .expect("terminates")
        .expect("list");
    assert_eq!(vms.len(), 300);
    assert!(fake.list_calls.load(Ordering::SeqCst) <= 10);
}

#[tokio::test]
async fn lists_without_total_matches_walk_until_a_short_page() {
    let (_fake, client) = start(Fake {
        total: 250,
        cap: 100,
        omit_total: true,
        ..Fake::default()
    })
    .await;
    assert_eq!(client.list_vms(None).await.expect("list").len(), 250);
}

#[tokio::test]
async fn an_expired_session_is_renewed_once() {
    let (fake, client) = start(Fake {
        total: 5,
        cap: 100,
        ..Fake::default()
    })
    .await;
    client.list_vms(None).await.expect("first list");
    assert_eq!(fake.logins.load(Ordering::SeqCst), 1);
    // The server forgets the session.
    *fake.token.lock() = "rotated".into();
    let vms = client.list_vms(None).await.expect("re-login and retry");
    assert_eq!(vms.len(), 5);
    assert_eq!(fake.logins.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn bad_credentials_with_an_empty_401_body_are_unauthorized() {
    let (_fake, good) = start(Fake {
        total: 1,
        cap: 10,
        ..Fake::default()
    })
    .await;
    let client = PrismClient::new(PrismConfig {
        http: HttpConfig {
            no_proxy: true,
            retry: RetryPolicy::none(),
            ..HttpConfig::default()
        },
        ..PrismConfig::new(
            good.endpoint().base_url(),
            PrismAuth::Basic {
                username: "user".into(),
                password: "wrong".into(),
            },
        )
    })
    .expect("client");
    let err = client.list_vms(None).await.expect_err("401");
    assert_eq!(err.code(), "unauthorized");
    assert!(
        !err.to_string().contains("wrong"),
        "no secret in the message: {err}"
    );
}

#[tokio::test]
async fn a_prism_element_is_recognised_by_header_or_by_the_missing_prism_central_api() {
    let (_f, by_header) = start(Fake {
        env: Some("pe"),
        is_pe: true,
        ..Fake::default()
    })
    .await;
    let err = by_header.ensure_prism_central().await.expect_err("PE");
    assert_eq!(err.code(), "not_prism_central");
    assert!(err.to_string().contains("Prism Central address"), "{err}");

    let (_f, no_header) = start(Fake {
        env: None,
        is_pe: true,
        ..Fake::default()
    })
    .await;
    assert_eq!(
        no_header.detect_product().await.expect("detect").kind,
        capstan_prism::ProductKind::PrismElement
    );

    let (_f, pc) = start(Fake {
        env: Some("pc"),
        ..Fake::default()
    })
    .await;
    let info = pc.ensure_prism_central().await.expect("PC");
    assert_eq!(info.version.as_deref(), Some("pc.2024.1.0.1"));
    assert_eq!(info.env_header.as_deref(), Some("pc"));
}
