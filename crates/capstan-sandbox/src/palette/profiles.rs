//! Cluster profiles: validate name, create (optionally published), publish, get, update,
//! delete, per-pack edits and variables.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, patch};
use serde_json::{Value, json};

use super::catalogue::{Pack, available};
use super::cloudtypes::is_builtin;
use super::*;
use crate::state::Shared;
use crate::util::hex_uid;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Profile {
    pub meta: Meta,
    pub version: String,
    pub scope_project: Option<String>,
    pub cloud_type: String,
    pub ptype: String,
    pub packs: Vec<Value>,
    pub variables: Vec<Value>,
    pub published: bool,
}

impl Profile {
    fn template(&self) -> Value {
        json!({
            "uid": self.meta.uid,
            "name": self.meta.name,
            "cloudType": self.cloud_type,
            "type": self.ptype,
            "profileVersion": self.version,
            "version": 1,
            "packs": self.packs,
            "packServerRefs": [],
        })
    }

    /// The `v1ClusterProfileTemplate` a cluster records for this profile, with the
    /// `packValues` of a `v1SpectroClusterProfileEntity` (the user's layer edits) applied.
    /// Create and day-2 updates both attach profiles through here.
    pub(crate) fn attached_template(&self, entry: &Value) -> Result<Value, String> {
        let mut t = self.template();
        let label = format!(
            "cluster profile '{}' version {}",
            self.meta.name, self.version
        );
        for pv in entry["packValues"].as_array().into_iter().flatten() {
            let Some(name) = pv["name"].as_str().filter(|n| !n.is_empty()) else {
                return Err("every packValues[] entry needs a name".into());
            };
            let Some(pack) = t["packs"]
                .as_array_mut()
                .and_then(|packs| packs.iter_mut().find(|p| p["name"] == name))
            else {
                return Err(format!("pack '{name}' is not in {label}"));
            };
            let current = pack["tag"].as_str().unwrap_or_default().to_owned();
            if let Some(tag) = pv["tag"].as_str().filter(|t| !t.is_empty())
                && !current.is_empty()
                && tag != current
            {
                return Err(format!(
                    "pack '{name}' is version {current} in {label}, not {tag}"
                ));
            }
            if let Some(values) = pv["values"].as_str() {
                pack["values"] = json!(values);
            }
        }
        Ok(t)
    }

    pub(crate) fn to_json(&self, in_use: &[(String, String)]) -> Value {
        let mut spec = json!({
            "version": self.version,
            "versions": [{"uid": self.meta.uid, "version": self.version}],
        });
        if self.published {
            spec["published"] = self.template();
        } else {
            spec["draft"] = self.template();
        }
        json!({
            "apiVersion": "v1",
            "kind": "ClusterProfile",
            "metadata": self.meta.to_json(),
            "spec": spec,
            "status": {
                "isPublished": self.published,
                "hasUserMacros": false,
                "inUseClusterUids": in_use.iter().map(|c| c.0.clone()).collect::<Vec<_>>(),
                "inUseClusters": in_use.iter().map(|c| json!({"uid": c.0, "name": c.1, "kind": "spectrocluster"})).collect::<Vec<_>>(),
            },
        })
    }
}

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/clusterprofiles", axum::routing::post(create))
        .route("/v1/clusterprofiles/validate/name", get(validate_name))
        .route("/v1/dashboard/clusterprofiles/metadata", get(metadata_list))
        .route(
            "/v1/clusterprofiles/{uid}",
            get(get_one).put(update).delete(delete),
        )
        .route("/v1/clusterprofiles/{uid}/publish", patch(publish))
        .route(
            "/v1/clusterprofiles/{uid}/packs",
            get(list_packs).post(add_pack),
        )
        .route(
            "/v1/clusterprofiles/{uid}/packs/{packName}",
            get(get_pack).put(update_pack).delete(delete_pack),
        )
        .route(
            "/v1/clusterprofiles/{uid}/variables",
            get(get_variables).put(put_variables),
        )
}

fn visible(p: &Profile, caller: &Caller) -> bool {
    p.scope_project == caller.project
}

pub(crate) fn in_use(w: &World, uid: &str) -> Vec<(String, String)> {
    w.palette
        .clusters
        .iter()
        .filter(|c| c.profile_uids.iter().any(|p| p == uid) && c.state != "Deleted")
        .map(|c| (c.meta.uid.clone(), c.meta.name.clone()))
        .collect()
}

fn cloud_type_ok(w: &World, ct: &str) -> bool {
    is_builtin(ct) || w.palette.cloud_types.contains_key(ct)
}

/// Resolves one `v1PackManifestEntity` against the catalogue into a `v1PackRef`.
fn resolve_pack(w: &mut World, cloud_type: &str, p: &Value) -> Result<Value, Response> {
    let Some(name) = p["name"].as_str().filter(|n| !n.is_empty()) else {
        return Err(bad_request("every pack needs a name"));
    };
    let ptype = p["type"].as_str().unwrap_or("spectro");
    if !["spectro", "helm", "manifest", "oci"].contains(&ptype) {
        return Err(bad_request(format!(
            "pack '{name}': type must be spectro, helm, manifest or oci"
        )));
    }
    if ptype == "manifest" {
        let layer = p["layer"].as_str().unwrap_or("addon");
        let manifests: Vec<Value> = p["manifests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| json!({"kind": "manifest", "name": m["name"].as_str().unwrap_or("manifest"), "uid": hex_uid(&mut w.rng)}))
            .collect();
        return Ok(json!({
            "name": name,
            "type": "manifest",
            "layer": layer,
            "tag": p["tag"].as_str().unwrap_or(""),
            "packUid": p["uid"].as_str().unwrap_or("spectro-manifest-pack"),
            "registryUid": p["registryUid"].as_str().unwrap_or(""),
            "values": p["values"].as_str().unwrap_or(""),
            "manifests": manifests,
        }));
    }
    let tag = p["tag"].as_str();
    let uid = p["uid"].as_str().filter(|u| !u.is_empty());
    let reg = p["registryUid"].as_str().filter(|u| !u.is_empty());
    let found: Option<Pack> = w
        .palette
        .packs
        .iter()
        .filter(|c| available(w, c))
        .find(|c| match uid {
            Some(u) => c.uid == u,
            None => {
                c.name == name
                    && tag.is_none_or(|t| t == c.version)
                    && reg.is_none_or(|r| r == c.registry_uid)
            }
        })
        .cloned();
    let Some(pack) = found else {
        return Err(bad_request(format!(
            "pack '{name}'{} was not found in the pack registries (search with POST /v1/packs/search)",
            tag.map(|t| format!(" version {t}")).unwrap_or_default()
        )));
    };
    if pack.name != name {
        return Err(bad_request(format!(
            "pack uid {} belongs to '{}', not '{name}'",
            pack.uid, pack.name
        )));
    }
    if cloud_type != "all"
        && !pack
            .cloud_types
            .iter()
            .any(|c| c == "all" || c == cloud_type)
    {
        return Err(bad_request(format!(
            "pack '{name}' is not offered for cloud type '{cloud_type}' (it supports {})",
            pack.cloud_types.join(", ")
        )));
    }
    let values = p["values"]
        .as_str()
        .filter(|v| !v.is_empty())
        .unwrap_or(&pack.values);
    Ok(json!({
        "name": pack.name,
        "type": "spectro",
        "layer": pack.layer,
        "tag": pack.version,
        "version": pack.version,
        "packUid": pack.uid,
        "registryUid": pack.registry_uid,
        "values": values,
        "manifests": [],
        "logo": format!("/v1/packs/{}/logo", pack.uid),
    }))
}

fn resolve_packs(w: &mut World, cloud_type: &str, packs: &Value) -> Result<Vec<Value>, Response> {
    let mut out: Vec<Value> = Vec::new();
    for p in packs.as_array().cloned().unwrap_or_default() {
        let r = resolve_pack(w, cloud_type, &p)?;
        if out.iter().any(|o| o["name"] == r["name"]) {
            return Err(bad_request(format!(
                "pack '{}' appears twice",
                r["name"].as_str().unwrap_or("")
            )));
        }
        out.push(r);
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct PublishQuery {
    publish: Option<bool>,
}

async fn create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(q): Query<PublishQuery>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Some(name) = v["metadata"]["name"]
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    else {
        return bad_request("metadata.name is required");
    };
    if name.len() > 64 {
        return bad_request("metadata.name must be at most 64 characters");
    }
    let spec = &v["spec"];
    let version = spec["version"].as_str().unwrap_or("1.0.0").to_owned();
    let tmpl = &spec["template"];
    let cloud_type = tmpl["cloudType"].as_str().unwrap_or("all").to_owned();
    let ptype = tmpl["type"].as_str().unwrap_or("cluster").to_owned();
    if !["cluster", "infra", "add-on", "system"].contains(&ptype.as_str()) {
        return bad_request(format!(
            "spec.template.type must be cluster, infra, add-on or system, got '{ptype}'"
        ));
    }
    let mut w = shared.world();
    if !cloud_type_ok(&w, &cloud_type) {
        return bad_request(format!(
            "spec.template.cloudType '{cloud_type}' is not a registered cloud type"
        ));
    }
    if w.palette
        .profiles
        .iter()
        .any(|p| p.meta.name == name && p.version == version && visible(p, &caller))
    {
        return conflict(format!(
            "Cluster profile '{name}' version {version} already exists"
        ));
    }
    let packs = match resolve_packs(&mut w, &cloud_type, &tmpl["packs"]) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let uid = hex_uid(&mut w.rng);
    let mut meta = Meta::new(uid.clone(), name.to_owned());
    meta.apply_input(&v["metadata"]);
    w.palette.profiles.push(Profile {
        meta,
        version,
        scope_project: caller.project,
        cloud_type,
        ptype,
        packs,
        variables: spec["variables"].as_array().cloned().unwrap_or_default(),
        published: q.publish.unwrap_or(false),
    });
    created(&uid)
}

/// `{items: [{metadata: {uid, name}, spec: {cloudType, version}}]}` for pickers.
async fn metadata_list(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    let w = shared.world();
    let items: Vec<Value> = w
        .palette
        .profiles
        .iter()
        .filter(|p| visible(p, &caller))
        .map(|p| {
            json!({
                "metadata": {"uid": p.meta.uid, "name": p.meta.name},
                "spec": {"cloudType": p.cloud_type, "version": p.version},
            })
        })
        .collect();
    ok(json!({"items": items}))
}

#[derive(serde::Deserialize)]
struct NameVersion {
    name: Option<String>,
    version: Option<String>,
}

async fn validate_name(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(q): Query<NameVersion>,
) -> Response {
    let Some(name) = q.name.filter(|n| !n.is_empty()) else {
        return bad_request("query parameter name is required");
    };
    let w = shared.world();
    let taken = w.palette.profiles.iter().any(|p| {
        p.meta.name == name
            && q.version.as_deref().is_none_or(|v| v == p.version)
            && visible(p, &caller)
    });
    if taken {
        conflict(format!("Cluster profile '{name}' already exists"))
    } else {
        no_content()
    }
}

pub(super) fn find<'a>(w: &'a World, uid: &str, caller: &Caller) -> Result<&'a Profile, Response> {
    w.palette
        .profiles
        .iter()
        .find(|p| p.meta.uid == uid && visible(p, caller))
        .ok_or_else(|| not_found_msg(format!("Cluster profile '{uid}' not found")))
}

async fn get_one(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    match find(&w, &uid, &caller) {
        Ok(p) => ok(p.to_json(&in_use(&w, &uid))),
        Err(e) => e,
    }
}

async fn update(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut w = shared.world();
    let cloud_type = match find(&w, &uid, &caller) {
        Ok(p) => p.cloud_type.clone(),
        Err(e) => return e,
    };
    let spec = &v["spec"];
    let packs = if spec["template"]["packs"].is_array() {
        match resolve_packs(&mut w, &cloud_type, &spec["template"]["packs"]) {
            Ok(p) => Some(p),
            Err(e) => return e,
        }
    } else {
        None
    };
    let Some(p) = w.palette.profiles.iter_mut().find(|p| p.meta.uid == uid) else {
        return not_found_msg(format!("Cluster profile '{uid}' not found"));
    };
    if let Some(packs) = packs {
        p.packs = packs;
    }
    if let Some(ver) = spec["version"].as_str() {
        p.version = ver.to_owned();
    }
    if let Some(vars) = spec["variables"].as_array() {
        p.variables = vars.clone();
    }
    p.meta.apply_input(&v["metadata"]);
    p.meta.touch();
    no_content()
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = find(&w, &uid, &caller) {
        return e;
    }
    let used = in_use(&w, &uid);
    if let Some(c) = used.first() {
        return super::in_use(format!(
            "Cluster profile '{uid}' is used by cluster '{}'; delete the cluster first",
            c.1
        ));
    }
    w.palette.profiles.retain(|p| p.meta.uid != uid);
    no_content()
}

async fn publish(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = find(&w, &uid, &caller) {
        return e;
    }
    if let Some(p) = w.palette.profiles.iter_mut().find(|p| p.meta.uid == uid) {
        p.published = true;
        p.meta.touch();
    }
    no_content()
}

pub(super) fn pack_summary_spec(p: &Value) -> Value {
    json!({
        "name": p["name"],
        "version": p["version"].as_str().or(p["tag"].as_str()).unwrap_or(""),
        "layer": p["layer"],
        "type": p["type"],
        "registryUid": p["registryUid"],
        "values": p["values"],
        "cloudTypes": [],
        "manifests": p["manifests"],
        "presets": [],
        "schema": [],
    })
}

async fn list_packs(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    let p = match find(&w, &uid, &caller) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let items: Vec<Value> = p
        .packs
        .iter()
        .map(|pk| {
            json!({
                "metadata": {"uid": pk["packUid"], "name": pk["name"]},
                "spec": pack_summary_spec(pk),
                "status": {},
            })
        })
        .collect();
    ok(json!({"items": items}))
}

async fn add_pack(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut w = shared.world();
    let cloud_type = match find(&w, &uid, &caller) {
        Ok(p) => p.cloud_type.clone(),
        Err(e) => return e,
    };
    let resolved = match resolve_pack(&mut w, &cloud_type, &v["pack"]) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(p) = w.palette.profiles.iter_mut().find(|p| p.meta.uid == uid) else {
        return not_found_msg(format!("Cluster profile '{uid}' not found"));
    };
    if p.packs.iter().any(|x| x["name"] == resolved["name"]) {
        return conflict(format!(
            "Pack '{}' is already in the profile; update it with PUT instead",
            resolved["name"].as_str().unwrap_or("")
        ));
    }
    let pack_uid = resolved["packUid"].as_str().unwrap_or_default().to_owned();
    p.packs.push(resolved);
    p.meta.touch();
    created(&pack_uid)
}

async fn get_pack(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((uid, pack_name)): Path<(String, String)>,
) -> Response {
    let w = shared.world();
    let p = match find(&w, &uid, &caller) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Some(pk) = p
        .packs
        .iter()
        .find(|x| x["name"].as_str() == Some(pack_name.as_str()))
    else {
        return not_found_msg(format!(
            "Pack '{pack_name}' is not in cluster profile '{uid}'"
        ));
    };
    let reg = w
        .palette
        .registries
        .iter()
        .find(|r| pk["registryUid"].as_str() == Some(r.uid.as_str()))
        .map(|r| json!({"uid": r.uid, "name": r.name, "kind": "spectro", "scope": r.scope, "isDefault": r.is_default, "isPrivate": r.is_private}))
        .unwrap_or_else(|| json!({}));
    ok(json!({
        "metadata": {"uid": pk["packUid"], "name": pk["name"]},
        "spec": {"pack": pack_summary_spec(pk), "registry": reg, "macros": {"resolved": {}}},
    }))
}

async fn update_pack(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((uid, pack_name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut w = shared.world();
    let cloud_type = match find(&w, &uid, &caller) {
        Ok(p) => p.cloud_type.clone(),
        Err(e) => return e,
    };
    let mut input = v["pack"].clone();
    if input["name"].is_null() {
        input["name"] = json!(pack_name);
    }
    let resolved = match resolve_pack(&mut w, &cloud_type, &input) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(p) = w.palette.profiles.iter_mut().find(|p| p.meta.uid == uid) else {
        return not_found_msg(format!("Cluster profile '{uid}' not found"));
    };
    match p
        .packs
        .iter_mut()
        .find(|x| x["name"].as_str() == Some(pack_name.as_str()))
    {
        Some(slot) => {
            *slot = resolved;
            p.meta.touch();
            no_content()
        }
        None => not_found_msg(format!(
            "Pack '{pack_name}' is not in cluster profile '{uid}'"
        )),
    }
}

async fn delete_pack(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((uid, pack_name)): Path<(String, String)>,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = find(&w, &uid, &caller) {
        return e;
    }
    let Some(p) = w.palette.profiles.iter_mut().find(|p| p.meta.uid == uid) else {
        return not_found_msg(format!("Cluster profile '{uid}' not found"));
    };
    let before = p.packs.len();
    p.packs
        .retain(|x| x["name"].as_str() != Some(pack_name.as_str()));
    if p.packs.len() == before {
        return not_found_msg(format!(
            "Pack '{pack_name}' is not in cluster profile '{uid}'"
        ));
    }
    p.meta.touch();
    no_content()
}

async fn get_variables(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    match find(&w, &uid, &caller) {
        Ok(p) => ok(json!({"variables": p.variables})),
        Err(e) => e,
    }
}

async fn put_variables(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Some(vars) = v["variables"].as_array() else {
        return bad_request("Expected {\"variables\": [...]}");
    };
    if vars
        .iter()
        .any(|x| x["name"].as_str().is_none_or(str::is_empty))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "every variable needs a name",
        );
    }
    let mut w = shared.world();
    if let Err(e) = find(&w, &uid, &caller) {
        return e;
    }
    if let Some(p) = w.palette.profiles.iter_mut().find(|p| p.meta.uid == uid) {
        p.variables = vars.clone();
        p.meta.touch();
    }
    no_content()
}
