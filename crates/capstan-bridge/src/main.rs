//! `capstan-bridge`: the Capstan engine behind loopback HTTP, for browser tests and
//! browser development.
//!
//! - `POST /rpc` with `{cmd, payload}` answers `{ok: <response>}` or `{err: {code, message}}`
//!   — the same dispatcher the desktop shell's single `rpc` command calls.
//! - `GET /events` is a Server-Sent Events stream of every engine event (`event:` is the
//!   `capstan://…` name, `data:` its JSON payload).
//! - Anything else is served from `--ui` (a Vite build made with `VITE_CAPSTAN_BRIDGE=1`),
//!   falling back to `index.html`.
//!
//! It binds 127.0.0.1 only and prints `CAPSTAN_BRIDGE_URL=http://127.0.0.1:<port>` once
//! the engine is ready.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use capstan_engine::{ActivityLog, AppPaths, Engine, EngineConfig, EventSink};
use clap::Parser;
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

#[derive(Parser, Debug)]
#[command(about = "Serve the Capstan engine and UI over loopback HTTP (tests and development)")]
struct Args {
    /// The built UI to serve (ui/dist-bridge).
    #[arg(long, default_value = "ui/dist-bridge")]
    ui: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 4180)]
    port: u16,
    /// Keep all files (cache, settings, logs) under this folder instead of the platform's.
    #[arg(long, env = "CAPSTAN_HOME")]
    home: Option<PathBuf>,
    /// Sandbox estate size in VMs.
    #[arg(long, env = "CAPSTAN_SANDBOX_VMS")]
    sandbox_vms: Option<usize>,
    /// Sandbox demo-time speed-up (0.01 makes a 10-minute provisioning take 6 s).
    #[arg(long, env = "CAPSTAN_SANDBOX_TIME_SCALE")]
    sandbox_time_scale: Option<f64>,
    /// Do not sync the inventory after activating an environment.
    #[arg(long)]
    no_auto_sync: bool,
}

#[derive(Clone)]
struct AppState {
    engine: Engine,
    events: broadcast::Sender<(&'static str, Value)>,
    ui: Arc<PathBuf>,
}

struct BroadcastEvents(broadcast::Sender<(&'static str, Value)>);

impl EventSink for BroadcastEvents {
    fn emit(&self, event: &'static str, payload: Value) {
        // No subscriber is fine: the page may not be open yet.
        let _ = self.0.send((event, payload));
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let paths = match &args.home {
        Some(home) => AppPaths::under(home),
        None => AppPaths::from_env(),
    };
    if let Err(e) = paths.create_all() {
        eprintln!(
            "capstan-bridge: cannot create {}: {e}",
            paths.data_dir.display()
        );
        std::process::exit(1);
    }
    let activity = ActivityLog::default();
    let _logging = capstan_engine::logging::init(&paths.log_dir, &activity);

    let (events, _) = broadcast::channel(4096);
    let forward = events.clone();
    activity.set_listener(Box::new(move |event| {
        if let Ok(v) = serde_json::to_value(event) {
            let _ = forward.send((
                <capstan_ipc::events::ActivityRecorded as capstan_ipc::events::Event>::NAME,
                v,
            ));
        }
    }));
    let mut sandbox = capstan_sandbox::SandboxConfig::default();
    if let Some(vms) = args.sandbox_vms {
        sandbox.vms = vms;
    }
    if let Some(scale) = args.sandbox_time_scale {
        sandbox.time_scale = scale;
    }
    let engine = Engine::new(
        EngineConfig {
            paths,
            activity,
            sandbox,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            auto_sync: !args.no_auto_sync,
            secret_store: None,
        },
        Arc::new(BroadcastEvents(events.clone())),
    );
    let state = AppState {
        engine: engine.clone(),
        events,
        ui: Arc::new(args.ui.clone()),
    };
    let app = axum::Router::new()
        .route("/rpc", post(rpc))
        .route("/events", get(sse))
        .fallback(get(static_file))
        .with_state(state);
    let listener =
        match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "capstan-bridge: cannot listen on 127.0.0.1:{}: {e}",
                    args.port
                );
                std::process::exit(1);
            }
        };
    let addr = listener.local_addr().expect("bound address");
    // Like the desktop app: the engine activates its environment in the background.
    let starting = engine.clone();
    tokio::spawn(async move { starting.start().await });
    println!("CAPSTAN_BRIDGE_URL=http://{addr}");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("capstan-bridge: server failed: {e}");
    }
    engine.shutdown().await;
}

#[derive(Deserialize)]
struct RpcRequest {
    cmd: String,
    #[serde(default)]
    payload: Value,
}

async fn rpc(State(state): State<AppState>, Json(request): Json<RpcRequest>) -> Json<Value> {
    Json(
        match state.engine.dispatch(&request.cmd, request.payload).await {
            Ok(value) => json!({ "ok": value }),
            Err(error) => json!({ "err": error }),
        },
    )
}

async fn sse(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, std::convert::Infallible>>> {
    let receiver = state.events.subscribe();
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok((name, payload)) => {
                    let event = SseEvent::default().event(name).data(payload.to_string());
                    return Some((Ok(event), receiver));
                }
                // A slow page missed events; keep streaming the newer ones.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn static_file(State(state): State<AppState>, uri: Uri) -> Response {
    let relative = uri.path().trim_start_matches('/');
    let candidate = safe_join(&state.ui, relative)
        .filter(|p| p.is_file())
        .unwrap_or_else(|| state.ui.join("index.html"));
    match tokio::fs::read(&candidate).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&candidate))], bytes).into_response(),
        Err(e) => (
            StatusCode::NOT_FOUND,
            format!(
                "capstan-bridge: {} is not readable ({e}). Build the UI first: npm --prefix ui run build:bridge",
                candidate.display()
            ),
        )
            .into_response(),
    }
}

/// `root/relative`, refusing `..` and absolute parts so only files under `root` are served.
fn safe_join(root: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in relative.split('/').filter(|p| !p.is_empty()) {
        if part == ".." || part.contains('\\') || part.contains(':') {
            return None;
        }
        path.push(part);
    }
    Some(path)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_under_the_ui_folder_are_served() {
        let root = Path::new("/srv/ui");
        assert_eq!(
            safe_join(root, "assets/app.js"),
            Some(root.join("assets/app.js"))
        );
        assert_eq!(safe_join(root, "../etc/passwd"), None);
        assert_eq!(safe_join(root, "assets/../../x"), None);
        assert_eq!(safe_join(root, ""), Some(root.to_path_buf()));
    }

    #[test]
    fn scripts_and_styles_get_their_content_types() {
        assert_eq!(
            content_type(Path::new("a/index.html")),
            "text/html; charset=utf-8"
        );
        assert!(content_type(Path::new("x.js")).starts_with("text/javascript"));
        assert_eq!(content_type(Path::new("x.bin")), "application/octet-stream");
    }
}
