//! The HTTP(S) servers: accept loop, optional TLS, fault injection, recording, and the
//! `/__sandbox/` control routes.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::SandboxError;
use crate::faults::{FaultConfig, FaultKind};
use crate::record::{Exchange, Service};
use crate::state::Shared;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;

pub(crate) struct Bound {
    listener: TcpListener,
    pub port: u16,
}

pub(crate) async fn bind(ip: IpAddr, port: u16) -> Result<Bound, SandboxError> {
    let addr = SocketAddr::new(ip, port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let port = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind {
            addr: addr.to_string(),
            source,
        })?
        .port();
    Ok(Bound { listener, port })
}

pub(crate) struct ServerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    pub(crate) fn signal_stop(&self) {
        let _ = self.stop.send(true);
    }

    pub(crate) async fn stop(self) {
        self.signal_stop();
        let _ = self.task.await;
    }
}

/// The route template that matched (`/v1/spectroclusters/{uid}`), for recordings.
#[derive(Clone)]
struct RouteTemplate(String);

async fn capture_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let mut resp = next.run(req).await;
    if let Some(r) = route {
        resp.extensions_mut().insert(RouteTemplate(r));
    }
    resp
}

struct Ctx {
    service: Service,
    router: Router,
    shared: Arc<Shared>,
}

pub(crate) fn serve(
    bound: Bound,
    service: Service,
    router: Router,
    shared: Arc<Shared>,
    acceptor: Option<TlsAcceptor>,
) -> ServerHandle {
    let (stop, stop_rx) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        service,
        router: router.layer(middleware::from_fn(capture_route)),
        shared,
    });
    let listener = bound.listener;
    let task = tokio::spawn(async move {
        let mut stop_rx_loop = stop_rx.clone();
        loop {
            tokio::select! {
                _ = stop_rx_loop.changed() => break,
                accepted = listener.accept() => {
                    let Ok((stream, _peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let ctx = ctx.clone();
                    let acceptor = acceptor.clone();
                    let mut stop_rx = stop_rx.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| handle(ctx.clone(), req));
                        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                        match acceptor {
                            Some(acceptor) => {
                                let tls = tokio::select! {
                                    _ = stop_rx.changed() => return,
                                    r = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)) => match r {
                                        Ok(Ok(s)) => s,
                                        _ => return,
                                    },
                                };
                                let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc);
                                tokio::select! {
                                    _ = conn => {},
                                    _ = stop_rx.changed() => {},
                                }
                            }
                            None => {
                                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                                tokio::select! {
                                    _ = conn => {},
                                    _ = stop_rx.changed() => {},
                                }
                            }
                        }
                    });
                }
            }
        }
    });
    ServerHandle { stop, task }
}

fn add_service_headers(service: Service, resp: &mut Response) {
    if service == Service::Prism {
        let h = resp.headers_mut();
        h.insert(header::SERVER, HeaderValue::from_static("envoy"));
        h.insert("x-ntnx-env", HeaderValue::from_static("pc"));
        h.insert(
            "x-ntnx-product",
            HeaderValue::from_static(crate::prism::world::PC_VERSION),
        );
        h.entry(header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/json"));
        h.insert(
            "x-envoy-upstream-service-time",
            HeaderValue::from_static("12"),
        );
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=8640000; includeSubDomains"),
        );
        h.insert("x-frame-options", HeaderValue::from_static("SAMEORIGIN"));
    }
}

fn fault_response(
    service: Service,
    kind: &FaultKind,
    shared: &Shared,
    headers: &http::HeaderMap,
) -> Option<Response> {
    let r = match (service, kind) {
        (Service::Palette, FaultKind::TooManyRequests { retry_after_secs }) => {
            let mut r = crate::palette::error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests; the rate limit for this path was exceeded, retry after the Retry-After delay",
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        (Service::Prism, FaultKind::TooManyRequests { retry_after_secs }) => {
            let mut r = crate::prism::error(
                StatusCode::TOO_MANY_REQUESTS,
                None,
                "TOO_MANY_REQUESTS",
                "Too many requests, please retry after some time.",
                None,
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        (Service::Palette, FaultKind::InternalError) => crate::palette::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Internal server error (injected by the sandbox)",
        ),
        (Service::Prism, FaultKind::InternalError) => crate::prism::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "INTERNAL_ERROR",
            "Internal Server Error.",
            Some("injected by the Capstan sandbox"),
        ),
        (Service::Palette, FaultKind::ServiceUnavailable) => crate::palette::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is temporarily unavailable (injected by the sandbox)",
        ),
        (Service::Prism, FaultKind::ServiceUnavailable) => crate::prism::error(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "SERVICE_UNAVAILABLE",
            "Service is unavailable.",
            Some("injected by the Capstan sandbox"),
        ),
        (Service::Prism, FaultKind::ExpiredSession) => {
            crate::prism::expire_session(shared, headers);
            crate::prism::unauthorized(shared)
        }
        (Service::Palette, FaultKind::ExpiredSession) => {
            crate::palette::expire_token(shared, headers);
            crate::palette::unauthorized("Token expired; log in again")
        }
        _ => return None,
    };
    Some(r)
}

/// Whether a served request may have changed what the state file holds: any write except
/// the read-only POSTs (Prism lists, Palette searches and validations) and logins (sessions
/// and tokens are not saved). Lifecycle steps mark the world dirty themselves.
fn may_change_state(method: &str, path: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
        && !path.ends_with("/list")
        && !path.ends_with("/search")
        && !path.ends_with("/validate")
        && !path.starts_with("/v1/auth/")
}

async fn handle(
    ctx: Arc<Ctx>,
    req: http::Request<hyper::body::Incoming>,
) -> Result<Response, BoxError> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let method = parts.method.as_str().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let body = axum::body::to_bytes(Body::new(body), MAX_REQUEST_BYTES)
        .await
        .map_err(|e| -> BoxError { Box::new(e) })?;

    if path.starts_with("/__sandbox/") {
        let req = Request::from_parts(parts, Body::from(body));
        let resp = ctx
            .router
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e: Infallible| match e {});
        return Ok(resp);
    }

    let decision = ctx.shared.faults.decide(ctx.service, &method, &path);
    if decision.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.latency_ms)).await;
    }
    let mut trickle = None;
    let mut malformed = false;
    let mut drop_response = false;
    let resp = match &decision.terminal {
        Some(FaultKind::DropConnection) => {
            tracing::debug!(%path, "fault: dropping the connection");
            return Err("connection dropped by a sandbox fault rule".into());
        }
        Some(FaultKind::DropResponse) => {
            drop_response = true;
            None
        }
        Some(FaultKind::SlowBody {
            chunk_bytes,
            delay_ms,
        }) => {
            trickle = Some(((*chunk_bytes).max(1), *delay_ms));
            None
        }
        Some(FaultKind::MalformedJson) => {
            malformed = true;
            None
        }
        Some(kind) => fault_response(ctx.service, kind, &ctx.shared, &parts.headers),
        None => None,
    };
    let request_content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let resp = match resp {
        Some(r) => r,
        None => {
            let req = Request::from_parts(parts, Body::from(body.clone()));
            let resp = ctx
                .router
                .clone()
                .oneshot(req)
                .await
                .unwrap_or_else(|e: Infallible| match e {});
            if may_change_state(&method, &path) {
                ctx.shared.mark_dirty();
            }
            resp
        }
    };
    if drop_response {
        tracing::debug!(%path, "fault: served the request, dropping its response");
        return Err("response dropped by a sandbox fault rule after the request was served".into());
    }
    let (mut rparts, rbody) = resp.into_parts();
    let mut rbytes = axum::body::to_bytes(rbody, usize::MAX)
        .await
        .map_err(|e| -> BoxError { Box::new(e) })?;
    if malformed {
        // Cut the JSON in the middle (and never leave it accidentally valid).
        let cut = (rbytes.len() / 2).max(1).min(rbytes.len());
        let mut v = rbytes.slice(..cut).to_vec();
        v.extend_from_slice(b"\x00{\"truncated");
        rbytes = Bytes::from(v);
        rparts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    rparts.headers.remove(header::CONTENT_LENGTH);
    let mut resp = Response::from_parts(rparts, Body::empty());
    add_service_headers(ctx.service, &mut resp);

    if ctx.shared.recorder.enabled() {
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let is_json = content_type.as_deref().is_some_and(|c| c.contains("json"));
        ctx.shared.recorder.push(Exchange {
            service: ctx.service,
            method,
            path,
            route: resp
                .extensions()
                .get::<RouteTemplate>()
                .map(|r| r.0.clone()),
            query,
            status: resp.status().as_u16(),
            request_content_type,
            request_json: serde_json::from_slice(&body).ok(),
            response_json: if is_json {
                serde_json::from_slice(&rbytes).ok()
            } else {
                None
            },
            response_content_type: content_type,
        });
    }

    let body = match trickle {
        Some((chunk, delay)) => {
            let chunks: Vec<Bytes> = rbytes.chunks(chunk).map(Bytes::copy_from_slice).collect();
            let stream = futures::stream::unfold(chunks.into_iter(), move |mut it| async move {
                let next = it.next()?;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                Some((Ok::<Bytes, Infallible>(next), it))
            });
            Body::from_stream(stream)
        }
        None => Body::from(rbytes),
    };
    *resp.body_mut() = body;
    Ok(resp)
}

// ---------------------------------------------------------------------------------------
// /__sandbox/ controls (both servers)

pub(crate) fn control_router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__sandbox/info", get(info))
        .route(
            "/__sandbox/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route("/__sandbox/faults/rules", post(add_fault_rule))
        .route("/__sandbox/time-scale", post(set_time_scale))
        .route("/__sandbox/advance", post(advance))
        .route(
            "/__sandbox/prism/clusters/{name}/availability",
            axum::routing::put(set_availability),
        )
}

fn plain_json(status: StatusCode, v: serde_json::Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn control_error(message: String) -> Response {
    plain_json(
        StatusCode::BAD_REQUEST,
        json!({"code": "BadRequest", "message": message}),
    )
}

async fn info(State(s): State<Arc<Shared>>) -> Response {
    let now = s.world().now;
    plain_json(
        StatusCode::OK,
        json!({
            "palette_url": s.palette_url(),
            "prism_url": s.prism_url(),
            "prism_user": s.creds.prism_user,
            "prism_password": s.creds.prism_password.expose(),
            "prism_api_key": s.creds.prism_api_key.expose(),
            "palette_api_key": s.creds.palette_api_key.expose(),
            "palette_system_user": s.creds.palette_system_user,
            "palette_email": s.creds.palette_email,
            "palette_password": s.creds.palette_password.expose(),
            "seed": s.seed,
            "vms": s.vms,
            "tls": s.tls,
            "time_scale": s.clock.scale(),
            "demo_seconds": now,
            "state_file": s.persister().map(|p| p.path().display().to_string()),
            "restored": s.is_restored(),
        }),
    )
}

async fn get_faults(State(s): State<Arc<Shared>>) -> Response {
    plain_json(
        StatusCode::OK,
        serde_json::to_value(s.faults.get()).unwrap_or_default(),
    )
}

async fn put_faults(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultConfig>(&body) {
        Ok(c) => {
            s.faults.set(c);
            plain_json(
                StatusCode::OK,
                serde_json::to_value(s.faults.get()).unwrap_or_default(),
            )
        }
        Err(e) => control_error(format!("the body is not a fault configuration: {e}")),
    }
}

async fn clear_faults(State(s): State<Arc<Shared>>) -> Response {
    s.faults.clear_rules();
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

async fn add_fault_rule(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let rule = match serde_json::from_slice::<crate::faults::FaultRule>(&body) {
        Ok(r) => r,
        // Also accept the CLI syntax as a JSON string: "prism:POST:/api/...:429:0.2".
        Err(e) => match serde_json::from_slice::<String>(&body) {
            Ok(spec) => match crate::faults::FaultRule::parse(&spec) {
                Ok(r) => r,
                Err(pe) => return control_error(pe.to_string()),
            },
            Err(_) => return control_error(format!("the body is not a fault rule: {e}")),
        },
    };
    s.faults.add_rule(rule);
    plain_json(
        StatusCode::OK,
        serde_json::to_value(s.faults.get()).unwrap_or_default(),
    )
}

#[derive(serde::Deserialize)]
struct TimeScaleBody {
    time_scale: f64,
}

async fn set_time_scale(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<TimeScaleBody>(&body) {
        Ok(b) if b.time_scale.is_finite() && b.time_scale > 0.0 => {
            s.clock.set_scale(b.time_scale);
            plain_json(StatusCode::OK, json!({"time_scale": b.time_scale}))
        }
        Ok(b) => control_error(format!(
            "time_scale must be a positive number, got {}",
            b.time_scale
        )),
        Err(e) => control_error(format!(
            "expected {{\"time_scale\": <positive number>}}: {e}"
        )),
    }
}

#[derive(serde::Deserialize)]
struct AvailabilityBody {
    is_available: bool,
}

async fn set_availability(
    State(s): State<Arc<Shared>>,
    axum::extract::Path(name): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<AvailabilityBody>(&body) {
        Ok(b) if s.set_pe_available(&name, b.is_available) => plain_json(
            StatusCode::OK,
            json!({"name": name, "is_available": b.is_available}),
        ),
        Ok(_) => plain_json(
            StatusCode::NOT_FOUND,
            json!({"code": "NotFound", "message": format!("no Prism Element named {name}")}),
        ),
        Err(e) => control_error(format!("expected {{\"is_available\": true|false}}: {e}")),
    }
}

#[derive(serde::Deserialize)]
struct AdvanceBody {
    seconds: f64,
}

async fn advance(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<AdvanceBody>(&body) {
        Ok(b) if b.seconds.is_finite() && b.seconds >= 0.0 => {
            s.clock.advance(b.seconds);
            let now = s.world().now;
            plain_json(StatusCode::OK, json!({"demo_seconds": now}))
        }
        _ => control_error("expected {\"seconds\": <demo seconds to skip, >= 0>}".to_owned()),
    }
}
