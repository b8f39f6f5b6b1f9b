//! Custom cloud types: register, meta, logo, CAPI content, templates, account keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::*;
use crate::state::Shared;
use crate::util::hex_uid;

pub(crate) const LOGO_LIMIT: usize = 100 * 1024;
const CONTENT_KINDS: &[&str] = &["core", "controlPlane", "bootstrap", "cloudProvider"];
const TEMPLATE_KINDS: &[&str] = &[
    "clusterTemplate",
    "controlPlanePoolTemplate",
    "workerPoolTemplate",
];
/// Palette's own clouds: listed with `isCustom: false`, and their names cannot be registered.
const BUILT_IN: &[(&str, &str, &str)] = &[
    ("aws", "AWS", "cloud"),
    ("azure", "Azure", "cloud"),
    ("gcp", "Google Cloud", "cloud"),
    ("vsphere", "VMware vSphere", "datacenter"),
    ("maas", "MAAS", "datacenter"),
    ("openstack", "OpenStack", "datacenter"),
    ("edge-native", "Edge Native", "edge"),
    ("apache-cloudstack", "Apache CloudStack", "datacenter"),
];

pub(crate) fn is_builtin(name: &str) -> bool {
    BUILT_IN.iter().any(|b| b.0 == name) || name == "all"
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct CloudType {
    pub meta: Meta,
    pub display_name: String,
    pub is_managed: bool,
    pub category: String,
    #[serde(with = "crate::persist::logo")]
    pub logo: Option<(String, Vec<u8>)>,
    pub content: BTreeMap<String, String>,
    pub templates: BTreeMap<String, String>,
    pub keys: Vec<String>,
}

pub(super) fn routes() -> Router<Arc<Shared>> {
    let mut r = Router::new()
        .route("/v1/clouds/cloudTypes", get(list))
        .route("/v1/clouds/cloudTypes/register", post(register))
        .route(
            "/v1/clouds/cloudTypes/{cloudType}",
            axum::routing::delete(unregister),
        )
        .route(
            "/v1/clouds/cloudTypes/{cloudType}/meta",
            get(get_meta).put(put_meta),
        )
        .route(
            "/v1/clouds/cloudTypes/{cloudType}/logo",
            get(get_logo).put(put_logo),
        )
        .route(
            "/v1/clouds/cloudTypes/{cloudType}/cloudAccountKeys",
            get(get_keys).put(put_keys),
        );
    // One concrete route per component, as in the spec.
    for kind in CONTENT_KINDS {
        r = r.route(
            &format!("/v1/clouds/cloudTypes/{{cloudType}}/content/{kind}"),
            slot_routes(Slot::Content, kind),
        );
    }
    for kind in TEMPLATE_KINDS {
        r = r.route(
            &format!("/v1/clouds/cloudTypes/{{cloudType}}/content/templates/{kind}"),
            slot_routes(Slot::Template, kind),
        );
    }
    r
}

fn slot_routes(slot: Slot, kind: &'static str) -> axum::routing::MethodRouter<Arc<Shared>> {
    put(
        move |State(shared): State<Arc<Shared>>,
              axum::Extension(caller): axum::Extension<Caller>,
              Path(ct): Path<String>,
              mp: Result<Multipart, axum::extract::multipart::MultipartRejection>| async move {
            put_slot(shared, caller, ct, slot, kind.to_owned(), mp).await
        },
    )
    .get(
        move |State(shared): State<Arc<Shared>>, Path(ct): Path<String>| async move {
            get_slot(&shared, &ct, slot, kind, false, None)
        },
    )
    .delete(
        move |State(shared): State<Arc<Shared>>,
              axum::Extension(caller): axum::Extension<Caller>,
              Path(ct): Path<String>| async move {
            get_slot(&shared, &ct, slot, kind, true, Some(&caller))
        },
    )
}

fn require_system(caller: &Caller) -> Result<(), Response> {
    if caller.system {
        Ok(())
    } else {
        Err(forbidden(
            "Managing cloud types needs a system-console token: POST /v1/auth/syslogin, then send it as the Authorization header",
        ))
    }
}

async fn list(State(shared): State<Arc<Shared>>) -> Response {
    let w = shared.world();
    let mut items: Vec<Value> = BUILT_IN
        .iter()
        .map(|(n, d, c)| {
            json!({"name": n, "displayName": d, "logo": "", "isCustom": false, "isManaged": false, "isVertex": true, "cloudCategory": c, "cloudFamily": n})
        })
        .collect();
    items.extend(w.palette.cloud_types.values().map(|ct| {
        json!({
            "name": ct.meta.name,
            "displayName": ct.display_name,
            "logo": ct.logo.as_ref().map(|_| format!("/v1/clouds/cloudTypes/{}/logo", ct.meta.name)).unwrap_or_default(),
            "isCustom": true,
            "isManaged": ct.is_managed,
            "isVertex": true,
            "cloudCategory": ct.category,
            "cloudFamily": "custom",
        })
    }));
    ok(json!({"cloudTypes": items}))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn read_spec(v: &Value, ct: &mut CloudType) -> Result<(), Response> {
    let spec = &v["spec"];
    if let Some(d) = spec["displayName"].as_str() {
        ct.display_name = d.to_owned();
    }
    if let Some(m) = spec["isControlPlaneManaged"].as_bool() {
        ct.is_managed = m;
    }
    if let Some(c) = spec["cloudCategory"].as_str() {
        if !["datacenter", "cloud", "edge"].contains(&c) {
            return Err(bad_request(format!(
                "spec.cloudCategory must be datacenter, cloud or edge, got \"{c}\""
            )));
        }
        ct.category = c.to_owned();
    }
    ct.meta.apply_input(&v["metadata"]);
    Ok(())
}

async fn register(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: Bytes,
) -> Response {
    if let Err(e) = require_system(&caller) {
        return e;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Some(name) = v["metadata"]["name"].as_str() else {
        return bad_request("metadata.name is required: the cloud type name, e.g. \"nutanix\"");
    };
    if !valid_name(name) {
        return bad_request(format!(
            "Cloud type name \"{name}\" is invalid: use 1-32 lowercase letters, digits and dashes"
        ));
    }
    let mut w = shared.world();
    if w.palette.cloud_types.contains_key(name) || is_builtin(name) {
        return conflict(format!("Cloud type '{name}' already exists"));
    }
    let uid = hex_uid(&mut w.rng);
    let mut ct = CloudType {
        meta: Meta::new(uid.clone(), name.to_owned()),
        display_name: name.to_owned(),
        is_managed: false,
        category: "cloud".to_owned(),
        logo: None,
        content: BTreeMap::new(),
        templates: BTreeMap::new(),
        keys: Vec::new(),
    };
    if let Err(e) = read_spec(&v, &mut ct) {
        return e;
    }
    w.palette.cloud_types.insert(name.to_owned(), ct);
    created(&uid)
}

async fn unregister(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(ct): Path<String>,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    if let Err(e) = require_system(&caller) {
        return e;
    }
    if w.palette.accounts.iter().any(|a| a.kind == ct) {
        return in_use(format!(
            "Cloud type '{ct}' still has cloud accounts; delete them first"
        ));
    }
    w.palette.cloud_types.remove(&ct);
    no_content()
}

async fn get_meta(State(shared): State<Arc<Shared>>, Path(ct): Path<String>) -> Response {
    let w = shared.world();
    match w.palette.cloud_types.get(&ct) {
        Some(c) => ok(json!({
            "metadata": c.meta.to_json(),
            "spec": {
                "displayName": c.display_name,
                "isManaged": c.is_managed,
                "logo": c.logo.as_ref().map(|_| format!("/v1/clouds/cloudTypes/{ct}/logo")).unwrap_or_default(),
                "cloudCategory": c.category,
            },
        })),
        None => require_cloud_type(&w, &ct)
            .err()
            .unwrap_or_else(|| not_found_msg("")),
    }
}

async fn put_meta(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(ct): Path<String>,
    body: Bytes,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    if let Err(e) = require_system(&caller) {
        return e;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Some(c) = w.palette.cloud_types.get_mut(&ct) else {
        return not_found_msg(format!("Cloud type '{ct}' not found"));
    };
    if let Err(e) = read_spec(&v, c) {
        return e;
    }
    c.meta.touch();
    no_content()
}

/// Reads the multipart form field `fileName` (name, bytes).
async fn read_file_field(mut mp: Multipart, limit: usize) -> Result<(String, Vec<u8>), Response> {
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(bad_request(
                    "The multipart form has no \"fileName\" field; send the file as form field fileName",
                ));
            }
            Err(e) => return Err(bad_request(format!("Invalid multipart body: {e}"))),
        };
        if field.name() != Some("fileName") {
            continue;
        }
        let file_name = field.file_name().unwrap_or("file").to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|e| bad_request(format!("Cannot read the uploaded file: {e}")))?;
        if data.len() > limit {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!(
                    "The file is {} bytes; the limit is {} bytes ({} KB)",
                    data.len(),
                    limit,
                    limit / 1024
                ),
            ));
        }
        return Ok((file_name, data.to_vec()));
    }
}

async fn put_logo(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(ct): Path<String>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    {
        let w = shared.world();
        if let Err(e) = require_cloud_type(&w, &ct) {
            return e;
        }
    }
    if let Err(e) = require_system(&caller) {
        return e;
    }
    let mp = match mp {
        Ok(m) => m,
        Err(e) => return bad_request(format!("Expected a multipart/form-data body: {e}")),
    };
    let file = match read_file_field(mp, LOGO_LIMIT).await {
        Ok(f) => f,
        Err(e) => return e,
    };
    let mut w = shared.world();
    match w.palette.cloud_types.get_mut(&ct) {
        Some(c) => {
            c.logo = Some(file);
            c.meta.touch();
            no_content()
        }
        None => not_found_msg(format!("Cloud type '{ct}' not found")),
    }
}

async fn get_logo(State(shared): State<Arc<Shared>>, Path(ct): Path<String>) -> Response {
    let w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    match w.palette.cloud_types.get(&ct).and_then(|c| c.logo.clone()) {
        Some((name, data)) => octet_stream(data, &name),
        None => not_found_msg(format!("Cloud type '{ct}' has no logo")),
    }
}

pub(crate) fn octet_stream(data: Vec<u8>, file_name: &str) -> Response {
    let mut r = Response::new(Body::from(data));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

#[derive(Clone, Copy)]
enum Slot {
    Content,
    Template,
}

async fn put_slot(
    shared: Arc<Shared>,
    caller: Caller,
    ct: String,
    slot: Slot,
    key: String,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let allowed = match slot {
        Slot::Content => CONTENT_KINDS,
        Slot::Template => TEMPLATE_KINDS,
    };
    {
        let w = shared.world();
        if let Err(e) = require_cloud_type(&w, &ct) {
            return e;
        }
    }
    if !allowed.contains(&key.as_str()) {
        return not_found_msg(format!(
            "Unknown content '{key}'; use one of {}",
            allowed.join(", ")
        ));
    }
    if let Err(e) = require_system(&caller) {
        return e;
    }
    let mp = match mp {
        Ok(m) => m,
        Err(e) => return bad_request(format!("Expected a multipart/form-data body: {e}")),
    };
    let (_, data) = match read_file_field(mp, 16 * 1024 * 1024).await {
        Ok(f) => f,
        Err(e) => return e,
    };
    let Ok(text) = String::from_utf8(data) else {
        return bad_request("The uploaded file is not UTF-8 text (expected YAML)");
    };
    if text.trim().is_empty() {
        return bad_request("The uploaded file is empty");
    }
    if let Err(e) = super::yaml::documents(&text) {
        return bad_request(format!("The uploaded file is not valid YAML: {e}"));
    }
    let mut w = shared.world();
    let Some(c) = w.palette.cloud_types.get_mut(&ct) else {
        return not_found_msg(format!("Cloud type '{ct}' not found"));
    };
    match slot {
        Slot::Content => c.content.insert(key, text),
        Slot::Template => c.templates.insert(key, text),
    };
    c.meta.touch();
    no_content()
}

fn get_slot(
    shared: &Shared,
    ct: &str,
    slot: Slot,
    key: &str,
    delete: bool,
    caller: Option<&Caller>,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = require_cloud_type(&w, ct) {
        return e;
    }
    if delete
        && let Some(c) = caller
        && let Err(e) = require_system(c)
    {
        return e;
    }
    let Some(c) = w.palette.cloud_types.get_mut(ct) else {
        return not_found_msg(format!("Cloud type '{ct}' not found"));
    };
    let map = match slot {
        Slot::Content => &mut c.content,
        Slot::Template => &mut c.templates,
    };
    if delete {
        return match map.remove(key) {
            Some(_) => no_content(),
            None => not_found_msg(format!("Cloud type '{ct}' has no '{key}' content")),
        };
    }
    match map.get(key) {
        Some(y) => ok(json!({"yaml": y})),
        None => not_found_msg(format!(
            "Cloud type '{ct}' has no '{key}' content; upload it first"
        )),
    }
}

async fn get_keys(State(shared): State<Arc<Shared>>, Path(ct): Path<String>) -> Response {
    let w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    let keys = w
        .palette
        .cloud_types
        .get(&ct)
        .map(|c| c.keys.clone())
        .unwrap_or_default();
    ok(json!({"keys": keys}))
}

async fn put_keys(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(ct): Path<String>,
    body: Bytes,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    if let Err(e) = require_system(&caller) {
        return e;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Some(arr) = v["keys"].as_array() else {
        return bad_request("Expected {\"keys\": [\"NUTANIX_USER\", ...]}");
    };
    let mut keys = Vec::new();
    for k in arr {
        match k.as_str() {
            Some(s) if !s.trim().is_empty() => keys.push(s.to_owned()),
            _ => return bad_request("Every cloud account key must be a non-empty string"),
        }
    }
    if let Some(c) = w.palette.cloud_types.get_mut(&ct) {
        c.keys = keys;
        c.meta.touch();
    }
    no_content()
}
