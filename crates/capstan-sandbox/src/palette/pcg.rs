//! Self-hosted Private Cloud Gateways ("overlords"). The emulated agent brings a PCG from
//! `Pending` to `Running` once both install manifests (ally, jet) have been fetched.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::cloudtypes::{is_builtin, octet_stream};
use super::lifecycle::Event;
use super::*;
use crate::state::Shared;
use crate::util::{hex_uid, now_rfc3339};

/// Demo seconds between the second manifest fetch and the PCG reporting Running.
pub(crate) const PCG_BOOT_SECS: f64 = 45.0;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Overlord {
    pub meta: Meta,
    pub cloud_type: String,
    pub state: String,
    pub fetched_ally: bool,
    pub fetched_jet: bool,
    pub commands: Vec<String>,
    pub spectro_cluster_uid: String,
    pub scope_project: Option<String>,
    pub running_since: Option<String>,
}

impl Overlord {
    pub(crate) fn to_json(&self, tenant: &str) -> Value {
        let running = self.state == "Running";
        let health = if running {
            json!({"state": "Healthy", "agentVersion": "4.6.21", "lastHeartBeatTimestamp": now_rfc3339(), "conditions": []})
        } else {
            json!({"state": "", "agentVersion": "", "conditions": []})
        };
        let mut meta = self.meta.to_json();
        meta["annotations"]["cloudType"] = json!(self.cloud_type);
        json!({
            "kind": "overlord",
            "metadata": meta,
            "spec": {
                "cloudAccountUid": "",
                "ipAddress": if running { "10.64.0.200" } else { "" },
                "ipPools": [],
                "isSelfHosted": true,
                "isSystem": false,
                "spectroClusterUid": self.spectro_cluster_uid,
                "tenantUid": tenant,
            },
            "status": {
                "state": self.state,
                "isActive": running,
                "isReady": running,
                "kubectlCommands": self.commands,
                "health": health,
                "notifications": {"isAvailable": false, "isTemplateVariableResolutionPending": false},
            },
        })
    }
}

pub(super) fn public_routes() -> Router<Arc<Shared>> {
    // kubectl fetches the manifests without Palette credentials; the URL is the secret.
    Router::new()
        .route(
            "/v1/pcg/{uid}/services/ally/manifest",
            get(|s: State<Arc<Shared>>, Path(uid): Path<String>| manifest(s, uid, "ally")),
        )
        .route(
            "/v1/pcg/{uid}/services/jet/manifest",
            get(|s: State<Arc<Shared>>, Path(uid): Path<String>| manifest(s, uid, "jet")),
        )
}

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/pcg/selfHosted", post(create))
        .route("/v1/pcg/{uid}/register", post(register_agent))
        .route("/v1/overlords", get(list))
        .route("/v1/overlords/{uid}", get(get_one).delete(delete))
        .route("/v1/overlords/{uid}/metadata", put(put_metadata))
        .route("/v1/overlords/{uid}/reset", put(reset))
}

async fn create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Some(name) = v["name"].as_str().map(str::trim).filter(|n| !n.is_empty()) else {
        return bad_request("name is required: the PCG name shown in Tenant Settings");
    };
    let cloud_type = v["cloudType"].as_str().unwrap_or("nutanix").to_owned();
    let palette_url = shared.palette_url();
    let mut w = shared.world();
    if !is_builtin(&cloud_type) && !w.palette.cloud_types.contains_key(&cloud_type) {
        return bad_request(format!(
            "cloudType '{cloud_type}' is not registered; register it first (POST /v1/clouds/cloudTypes/register)"
        ));
    }
    if w.palette.overlords.iter().any(|o| o.meta.name == name) {
        return conflict(format!(
            "A private cloud gateway named '{name}' already exists"
        ));
    }
    let uid = hex_uid(&mut w.rng);
    let commands = vec![
        format!("kubectl apply -f {palette_url}/v1/pcg/{uid}/services/ally/manifest"),
        format!("kubectl apply -f {palette_url}/v1/pcg/{uid}/services/jet/manifest"),
    ];
    let spectro_cluster_uid = hex_uid(&mut w.rng);
    w.palette.overlords.push(Overlord {
        meta: Meta::new(uid.clone(), name.to_owned()),
        cloud_type,
        state: "Pending".to_owned(),
        fetched_ally: false,
        fetched_jet: false,
        commands: commands.clone(),
        spectro_cluster_uid,
        scope_project: caller.project,
        running_since: None,
    });
    ok(json!({"overlordUid": uid, "kubectlCommands": commands}))
}

fn manifest_yaml(uid: &str, service: &str, palette_url: &str) -> String {
    let ns = "cluster-".to_owned() + &uid[..uid.len().min(12)];
    format!(
        "# Capstan sandbox: emulated PCG {service} manifest for overlord {uid}\n\
apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n---\n\
apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {service}-config\n  namespace: {ns}\n\
data:\n  overlordUid: \"{uid}\"\n  paletteEndpoint: \"{palette_url}\"\n---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {service}\n  namespace: {ns}\n\
spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {service}\n  template:\n    metadata:\n      labels:\n        app: {service}\n    spec:\n      containers:\n        - name: {service}\n          image: gcr.io/spectro-images-public/release/{service}:4.6.21\n          envFrom:\n            - configMapRef:\n                name: {service}-config\n"
    )
}

async fn manifest(
    State(shared): State<Arc<Shared>>,
    uid: String,
    service: &'static str,
) -> Response {
    let palette_url = shared.palette_url();
    let mut w = shared.world();
    let Some(o) = w.palette.overlords.iter_mut().find(|o| o.meta.uid == uid) else {
        return not_found_msg(format!("Private cloud gateway '{uid}' not found"));
    };
    let was_ready = o.fetched_ally && o.fetched_jet;
    if service == "ally" {
        o.fetched_ally = true;
    } else {
        o.fetched_jet = true;
    }
    let now_ready = o.fetched_ally && o.fetched_jet;
    if now_ready && !was_ready && o.state == "Pending" {
        w.schedule(PCG_BOOT_SECS, Event::PcgRunning(uid.clone()));
    }
    drop(w);
    // A GET that changes state: the fetched flags are saved like any other change.
    shared.mark_dirty();
    octet_stream(
        manifest_yaml(&uid, service, &palette_url).into_bytes(),
        &format!("{service}-manifest.yaml"),
    )
}

async fn register_agent(State(shared): State<Arc<Shared>>, Path(uid): Path<String>) -> Response {
    let mut w = shared.world();
    let Some(o) = w.palette.overlords.iter_mut().find(|o| o.meta.uid == uid) else {
        return not_found_msg(format!("Private cloud gateway '{uid}' not found"));
    };
    if o.state == "Pending" {
        o.fetched_ally = true;
        o.fetched_jet = true;
        w.schedule(1.0, Event::PcgRunning(uid));
    }
    no_content()
}

fn visible(o: &Overlord, caller: &Caller) -> bool {
    o.scope_project.is_none() || o.scope_project == caller.project
}

#[derive(serde::Deserialize)]
struct NameQuery {
    name: Option<String>,
}

async fn list(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(q): Query<NameQuery>,
) -> Response {
    let w = shared.world();
    let items: Vec<Value> = w
        .palette
        .overlords
        .iter()
        .filter(|o| visible(o, &caller))
        .filter(|o| q.name.as_deref().is_none_or(|n| n == o.meta.name))
        .map(|o| o.to_json(&w.palette.tenant_uid))
        .collect();
    ok(json!({"items": items}))
}

async fn get_one(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    match w
        .palette
        .overlords
        .iter()
        .find(|o| o.meta.uid == uid && visible(o, &caller))
    {
        Some(o) => ok(o.to_json(&w.palette.tenant_uid)),
        None => not_found_msg(format!("Private cloud gateway '{uid}' not found")),
    }
}

async fn put_metadata(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let meta = &v["metadata"];
    let mut w = shared.world();
    let new_name = meta["name"].as_str().map(str::to_owned);
    if let Some(n) = &new_name
        && w.palette
            .overlords
            .iter()
            .any(|o| &o.meta.name == n && o.meta.uid != uid)
    {
        return conflict(format!(
            "A private cloud gateway named '{n}' already exists"
        ));
    }
    match w
        .palette
        .overlords
        .iter_mut()
        .find(|o| o.meta.uid == uid && visible(o, &caller))
    {
        Some(o) => {
            if let Some(n) = new_name.filter(|n| !n.is_empty()) {
                o.meta.name = n;
            }
            o.meta.apply_input(meta);
            o.meta.touch();
            no_content()
        }
        None => not_found_msg(format!("Private cloud gateway '{uid}' not found")),
    }
}

/// Detaches the PCG's resources; the emulated gateway keeps running.
async fn reset(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    if !w
        .palette
        .overlords
        .iter()
        .any(|o| o.meta.uid == uid && visible(o, &caller))
    {
        return not_found_msg(format!("Private cloud gateway '{uid}' not found"));
    }
    ok(json!({"msg": format!("Private cloud gateway '{uid}' reset")}))
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let mut w = shared.world();
    if !w
        .palette
        .overlords
        .iter()
        .any(|o| o.meta.uid == uid && visible(o, &caller))
    {
        return not_found_msg(format!("Private cloud gateway '{uid}' not found"));
    }
    if let Some(a) = w.palette.accounts.iter().find(|a| a.overlord_uid == uid) {
        return in_use(format!(
            "Private cloud gateway '{uid}' is used by cloud account '{}'; delete the account first",
            a.meta.name
        ));
    }
    w.palette.overlords.retain(|o| o.meta.uid != uid);
    ok(json!({"msg": format!("Private cloud gateway '{uid}' deleted")}))
}
