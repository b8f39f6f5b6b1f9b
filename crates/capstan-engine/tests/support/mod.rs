//! What the engine's integration tests share: an engine on a temp home with the memory
//! secret store, an event collector, typed calls through the dispatcher, a minimal CAPX
//! components file, and a byte scan of files for secrets.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use capstan_engine::{ActivityLog, AppPaths, Engine, EngineConfig, EventSink};
use capstan_ipc::IpcError;
use parking_lot::Mutex;
use serde_json::Value;

/// Collects every engine event, in order.
#[derive(Default)]
pub struct Collect(pub Mutex<Vec<(&'static str, Value)>>);

impl EventSink for Collect {
    fn emit(&self, event: &'static str, payload: Value) {
        self.0.lock().push((event, payload));
    }
}

impl Collect {
    /// The payloads of one event, decoded.
    pub fn payloads<T: serde::de::DeserializeOwned>(&self, event: &str) -> Vec<T> {
        self.0
            .lock()
            .iter()
            .filter(|(name, _)| *name == event)
            .map(|(_, v)| serde_json::from_value(v.clone()).expect("event payload"))
            .collect()
    }
}

/// The test configuration: a small, fast sandbox; no background sync; secrets in memory.
pub fn config(home: &Path, vms: usize) -> EngineConfig {
    EngineConfig {
        paths: AppPaths::under(home),
        activity: ActivityLog::default(),
        sandbox: capstan_sandbox::SandboxConfig {
            vms,
            time_scale: 0.01,
            ..Default::default()
        },
        version: "0.0.0-test".into(),
        auto_sync: false,
        secret_store: Some(capstan_secrets::StorePreference::Memory),
    }
}

pub fn engine_from(config: EngineConfig) -> (Engine, Arc<Collect>) {
    let events = Arc::new(Collect::default());
    (Engine::new(config, events.clone()), events)
}

pub fn engine(home: &Path, vms: usize) -> (Engine, Arc<Collect>) {
    engine_from(config(home, vms))
}

/// One command through the dispatcher, decoded; panics with the error envelope.
pub async fn call<T: serde::de::DeserializeOwned>(engine: &Engine, cmd: &str, payload: Value) -> T {
    let value = engine
        .dispatch(cmd, payload)
        .await
        .unwrap_or_else(|e| panic!("{cmd} failed: {} {}", e.code.as_str(), e.message));
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{cmd} answer: {e}"))
}

/// One command that must fail; its error envelope.
pub async fn fails(engine: &Engine, cmd: &str, payload: Value) -> IpcError {
    match engine.dispatch(cmd, payload).await {
        Ok(v) => panic!("{cmd} should have failed, answered {v}"),
        Err(e) => e,
    }
}

/// A CAPX `infrastructure-components.yaml` as small as the check accepts: the three Nutanix
/// CRDs and the controller Deployment carrying the version.
pub fn components(version: &str) -> String {
    let crd = |plural: &str, kind: &str| {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.infrastructure.cluster.x-k8s.io\nspec:\n  group: infrastructure.cluster.x-k8s.io\n  names:\n    kind: {kind}\n    plural: {plural}\n"
        )
    };
    [
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: capx-system\n".to_owned(),
        crd("nutanixclusters", "NutanixCluster"),
        crd("nutanixmachines", "NutanixMachine"),
        crd("nutanixmachinetemplates", "NutanixMachineTemplate"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: capx-controller-manager\n  namespace: capx-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: manager\n        image: ghcr.io/nutanix-cloud-native/cluster-api-provider-nutanix/controller:{version}\n"
        ),
    ]
    .join("---\n")
}

/// Every file under `dir`, with its bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
