//! The desktop shell. Deliberately thin: one IPC command (`rpc`) forwards to
//! `capstan_engine::Engine::dispatch`, engine events are forwarded to the web view, and the
//! window, logging and lifecycle are set up here. Behaviour lives in `crates/`.

use std::sync::Arc;

use capstan_engine::{ActivityLog, AppPaths, Engine, EngineConfig, EventSink};
use capstan_ipc::IpcError;
use tauri::{Emitter, Manager};

/// The single IPC entry point. `cmd` is a name from `capstan_ipc::commands`, `payload` its
/// request; the reply is the response or an `{code, message, details?}` envelope.
#[tauri::command]
async fn rpc(
    engine: tauri::State<'_, Engine>,
    cmd: String,
    payload: Option<serde_json::Value>,
) -> Result<serde_json::Value, IpcError> {
    let started = std::time::Instant::now();
    let result = engine
        .dispatch(&cmd, payload.unwrap_or(serde_json::Value::Null))
        .await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(_) => tracing::debug!(command = %cmd, elapsed_ms, "ipc ok"),
        Err(e) => {
            tracing::warn!(command = %cmd, code = e.code.as_str(), elapsed_ms, "ipc failed: {}", e.message)
        }
    }
    result
}

/// Forwards engine events to every window.
struct TauriEvents(tauri::AppHandle);

impl EventSink for TauriEvents {
    fn emit(&self, event: &'static str, payload: serde_json::Value) {
        if let Err(e) = self.0.emit(event, payload) {
            // Not `tracing::warn!`: that would record an Activity entry, emit again, and loop.
            eprintln!("capstan: could not forward event {event}: {e}");
        }
    }
}

pub fn run() {
    let paths = AppPaths::from_env();
    if let Err(e) = paths.create_all() {
        eprintln!("capstan: cannot create {:?}: {e}", paths.data_dir);
    }
    let activity = ActivityLog::default();
    let _logging = capstan_engine::logging::init(&paths.log_dir, &activity);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %paths.data_dir.display(), "Capstan starting");

    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![rpc])
        .setup(move |app| {
            let events: Arc<dyn EventSink> = Arc::new(TauriEvents(app.handle().clone()));
            let forward = events.clone();
            activity.set_listener(Box::new(move |event| {
                if let Ok(v) = serde_json::to_value(event) {
                    forward.emit(
                        <capstan_ipc::events::ActivityRecorded as capstan_ipc::events::Event>::NAME,
                        v,
                    );
                }
            }));
            let config = EngineConfig {
                paths: paths.clone(),
                activity: activity.clone(),
                sandbox: sandbox_config_from_env(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                auto_sync: std::env::var_os("CAPSTAN_NO_AUTO_SYNC").is_none(),
                // CAPSTAN_SECRET_STORE, the remembered choice, or the OS keyring.
                secret_store: None,
            };
            let engine = Engine::new(config, events);
            app.manage(engine.clone());
            // `kill` (SIGTERM) and Ctrl+C quit like closing the window: the engine shuts down
            // and the sandbox saves its world, instead of the process just ending.
            let quit = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                wait_for_termination().await;
                tracing::info!("termination signal received; quitting");
                quit.exit(0);
            });
            // Paint first, connect after: the sandbox start and health check run in the background.
            tauri::async_runtime::spawn(async move { engine.start().await });
            Ok(())
        })
        .build(tauri::generate_context!());

    match result {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event
                && let Some(engine) = handle.try_state::<Engine>()
            {
                tauri::async_runtime::block_on(engine.shutdown());
                tracing::info!("Capstan stopped");
            }
        }),
        Err(e) => {
            tracing::error!("Capstan could not start its window: {e}");
            eprintln!(
                "Capstan could not start its window: {e}\n\
                 If there is no display (a server or CI), run it under Xvfb: xvfb-run -a capstan"
            );
            std::process::exit(1);
        }
    }
}

/// Sandbox knobs for demos and tests: `CAPSTAN_SANDBOX_VMS`, `CAPSTAN_SANDBOX_SEED`,
/// `CAPSTAN_SANDBOX_TIME_SCALE`.
fn sandbox_config_from_env() -> capstan_sandbox::SandboxConfig {
    let mut config = capstan_sandbox::SandboxConfig::default();
    if let Some(v) = env_parse("CAPSTAN_SANDBOX_VMS") {
        config.vms = v;
    }
    if let Some(v) = env_parse("CAPSTAN_SANDBOX_SEED") {
        config.seed = v;
    }
    if let Some(v) = env_parse("CAPSTAN_SANDBOX_TIME_SCALE") {
        config.time_scale = v;
    }
    config
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    let raw = std::env::var(name).ok()?;
    match raw.parse() {
        Ok(v) => Some(v),
        Err(_) => {
            tracing::warn!("ignoring {name}={raw:?}: not a valid value");
            None
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Unix) or Ctrl+C (elsewhere).
async fn wait_for_termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
