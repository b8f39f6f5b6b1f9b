//! Prism Central v3 (`/api/nutanix/v3`).

pub(crate) mod fiql;
pub(crate) mod ops;
mod vmjson;
pub(crate) mod world;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

use crate::state::{Shared, World};
use crate::util::hex_token;
use world::{Entity, Table};

pub(crate) const SESSION_COOKIE: &str = "NTNX_IGW_SESSION";
pub(crate) const MAX_LENGTH: i64 = 500;
pub(crate) const DEFAULT_LENGTH: i64 = 20;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/users/me", get(users_me))
        .route("/prism_central", get(prism_central))
        .route("/versions", get(versions))
        .route("/clusters/list", post(list_clusters))
        .route("/clusters/{uuid}", get(get_cluster))
        .route("/subnets/list", post(list_subnets))
        .route("/subnets/{uuid}", get(get_subnet))
        .route("/images/list", post(list_images))
        .route("/images/{uuid}", get(get_image))
        .route("/vms/list", post(list_vms))
        .route("/vms", post(ops::create_vm_http))
        .route("/vms/{uuid}", get(get_vm).delete(ops::delete_vm_http))
        .route("/projects/list", post(list_projects))
        .route("/projects/{uuid}", get(get_project))
        .route("/hosts/list", post(list_hosts))
        .route("/hosts/{uuid}", get(get_host))
        .route("/tasks/list", post(list_tasks))
        .route("/tasks/{uuid}", get(get_task))
        .route("/categories/list", post(list_category_keys))
        .route("/categories/{name}/list", post(list_category_values))
        .route("/categories/{name}", get(get_category_key))
        .route("/categories/{name}/{value}", get(get_category_value))
        .fallback(api_not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), auth));
    Router::new()
        .nest("/api/nutanix/v3", api)
        .merge(crate::server::control_router())
        .fallback(api_not_found)
        .with_state(shared)
}

// ---------------------------------------------------------------------------------------
// Responses

pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The v3 error envelope. `details` is a string, as real Prism Central sends it.
pub(crate) fn error(
    status: StatusCode,
    kind: Option<&str>,
    reason: &str,
    message: impl Into<String>,
    details: Option<&str>,
) -> Response {
    let mut msg = json!({"reason": reason, "message": message.into()});
    if let Some(d) = details {
        msg["details"] = json!(d);
    }
    let mut body = json!({
        "api_version": "3.1",
        "code": status.as_u16(),
        "state": "ERROR",
        "message_list": [msg],
    });
    if let Some(k) = kind {
        body["kind"] = json!(k);
    }
    json_response(status, body.to_string())
}

pub(crate) fn unauthorized(shared: &Shared) -> Response {
    if shared.faults.prism_401_empty_body() {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
    }
    error(
        StatusCode::UNAUTHORIZED,
        None,
        "AUTHENTICATION_REQUIRED",
        "Authentication required.",
        Some("Basic realm=\"Intent Gateway Login Required\""),
    )
}

async fn api_not_found(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        None,
        "ENTITY_NOT_FOUND",
        format!(
            "{} {} is not a Prism Central v3 endpoint",
            req.method(),
            req.uri().path()
        ),
        None,
    )
}

fn invalid_argument(kind: &str, message: impl Into<String>) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        Some(kind),
        "INVALID_ARGUMENT",
        message,
        None,
    )
}

// ---------------------------------------------------------------------------------------
// Authentication

enum AuthBy {
    Credentials,
    Session,
}

fn check_auth(shared: &Shared, w: &mut World, headers: &HeaderMap) -> Option<AuthBy> {
    let creds = &shared.creds;
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let encoded = v
            .strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, pass) = text.split_once(':')?;
        let ok = (user == creds.prism_user && pass == creds.prism_password.expose())
            || (user.eq_ignore_ascii_case("X-ntnx-api-key")
                && pass == creds.prism_api_key.expose());
        return ok.then_some(AuthBy::Credentials);
    }
    if let Some(v) = headers.get("x-ntnx-api-key").and_then(|v| v.to_str().ok()) {
        return (v == creds.prism_api_key.expose()).then_some(AuthBy::Credentials);
    }
    let token = session_cookie(headers)?;
    match w.prism_sessions.get(&token) {
        Some(exp) if *exp > w.now => Some(AuthBy::Session),
        Some(_) => {
            w.prism_sessions.remove(&token);
            None
        }
        None => None,
    }
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

async fn auth(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let is_me = req.uri().path().ends_with("/users/me");
    let by = {
        let mut w = shared.world();
        check_auth(&shared, &mut w, req.headers())
    };
    match by {
        None => unauthorized(&shared),
        Some(AuthBy::Session) => next.run(req).await,
        Some(AuthBy::Credentials) => {
            let mut resp = next.run(req).await;
            if is_me && resp.status().is_success() {
                let ttl = shared.faults.prism_session_ttl();
                let token = {
                    let mut w = shared.world();
                    let token = hex_token(&mut w.rng, 32);
                    let exp = w.now + ttl;
                    w.prism_sessions.insert(token.clone(), exp);
                    token
                };
                let real_secs = (ttl * shared.clock.scale()).ceil().max(1.0) as i64;
                let expires = time::OffsetDateTime::now_utc() + time::Duration::seconds(real_secs);
                let http_date = expires
                    .format(time::macros::format_description!(
                        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
                    ))
                    .unwrap_or_default();
                let secure = if shared.tls { "; Secure" } else { "" };
                let cookie = format!(
                    "{SESSION_COOKIE}={token}; Path=/; Expires={http_date}{secure}; HttpOnly; SameSite=Lax"
                );
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            resp
        }
    }
}

/// Forgets the session cookie carried by `headers` (the `expired session` fault).
pub(crate) fn expire_session(shared: &Shared, headers: &HeaderMap) {
    if let Some(t) = session_cookie(headers) {
        shared.world().prism_sessions.remove(&t);
    }
}

// ---------------------------------------------------------------------------------------
// Singletons

async fn users_me(State(shared): State<Arc<Shared>>) -> Response {
    let w = shared.world();
    let projects: Vec<Value> = w
        .prism
        .projects
        .rows
        .iter()
        .map(|p| json!({"kind": "project", "uuid": p.data.uuid, "name": p.data.name}))
        .collect();
    let user = &shared.creds.prism_user;
    let body = json!({
        "api_version": "3.1",
        "metadata": {"kind": "user", "uuid": "00000000-0000-0000-0000-000000000000", "name": user, "spec_version": 0, "categories": {}, "categories_mapping": {}},
        "spec": {"resources": {}},
        "status": {
            "state": "COMPLETE",
            "name": user,
            "resources": {
                "display_name": user,
                "user_type": "LOCAL",
                "access_control_policy_reference_list": [],
                "projects_reference_list": projects,
                "resource_usage_summary": {"resource_domain": {"resources": []}},
            },
        },
    });
    json_response(StatusCode::OK, body.to_string())
}

async fn prism_central(State(shared): State<Arc<Shared>>) -> Response {
    let w = shared.world();
    let pe0 = w
        .prism
        .clusters
        .rows
        .iter()
        .find(|c| !c.data.is_pc)
        .map(|c| json!({"kind": "cluster", "uuid": c.data.uuid, "name": c.data.name}));
    let pc_vm = w.prism.pc_vm.clone().unwrap_or_default();
    let body = json!({
        "resources": {
            "version": world::PC_VERSION,
            "type": "PC",
            "virtual_ip": "10.0.0.10",
            "pc_size": "SMALL",
            "cluster_uuid": w.prism.pc_uuid,
            "is_registered_to_hosting_pe": true,
            "pc_vm_list": [{
                "vm_name": pc_vm.1,
                "vm_uuid": pc_vm.0,
                "power_state": "ON",
                "num_sockets": 6,
                "memory_size_bytes": 30064771072u64,
                "data_disk_size_bytes": 536870912000u64,
                "nic_list": [{"ip_list": ["10.0.0.11"]}],
                "cluster_reference": pe0,
            }],
        }
    });
    json_response(StatusCode::OK, body.to_string())
}

async fn versions() -> Response {
    json_response(
        StatusCode::OK,
        json!({"major_version": "3", "minor_version": "1"}).to_string(),
    )
}

// ---------------------------------------------------------------------------------------
// Lists

#[derive(serde::Deserialize, Default, Debug)]
pub(crate) struct ListRequest {
    pub offset: Option<i64>,
    pub length: Option<i64>,
    pub filter: Option<String>,
    pub sort_attribute: Option<String>,
    pub sort_order: Option<String>,
}

pub(crate) fn parse_list_request(kind: &str, body: &Bytes) -> Result<ListRequest, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ListRequest::default());
    }
    serde_json::from_slice::<ListRequest>(body).map_err(|e| {
        invalid_argument(
            kind,
            format!("the list request body is not valid {kind}_list_metadata JSON: {e}"),
        )
    })
}

/// Effective paging: (offset, length, metadata echo fields).
fn paging(kind: &str, req: &ListRequest) -> Result<(usize, usize), Response> {
    let offset = req.offset.unwrap_or(0);
    if offset < 0 {
        return Err(invalid_argument(
            kind,
            format!("offset must be >= 0, got {offset}"),
        ));
    }
    let length = req.length.unwrap_or(DEFAULT_LENGTH);
    if length < 1 {
        return Err(invalid_argument(
            kind,
            format!("length must be >= 1, got {length}"),
        ));
    }
    // Real PC returns at most 500 per page whatever was asked for.
    Ok((offset as usize, length.min(MAX_LENGTH) as usize))
}

fn list_metadata(kind: &str, req: &ListRequest, total: usize, length: usize) -> Value {
    let mut m = json!({"kind": kind, "total_matches": total});
    if req.length.is_some() {
        m["length"] = json!(length);
    }
    if let Some(o) = req.offset {
        m["offset"] = json!(o);
    }
    if let Some(f) = &req.filter {
        m["filter"] = json!(f);
    }
    if let Some(s) = &req.sort_attribute {
        m["sort_attribute"] = json!(s);
    }
    if let Some(s) = &req.sort_order {
        m["sort_order"] = json!(s);
    }
    m
}

/// Filters, sorts and pages a table; returns the response JSON.
fn list_table<T: Entity>(
    table: &Table<T>,
    req: &ListRequest,
    name_attrs: &[&str],
) -> Result<String, Response> {
    let kind = T::KIND;
    let (offset, length) = paging(kind, req)?;
    let filter = match req.filter.as_deref() {
        Some(f) if !f.trim().is_empty() => {
            Some(fiql::Filter::parse(f, name_attrs).map_err(|e| invalid_argument(kind, e))?)
        }
        _ => None,
    };
    let mut idx: Vec<usize> = (0..table.rows.len())
        .filter(|&i| {
            let d = &table.rows[i].data;
            filter
                .as_ref()
                .is_none_or(|f| f.matches(d.name(), d.uuid()))
        })
        .collect();
    let descending = match req.sort_order.as_deref() {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(o) => {
            return Err(invalid_argument(
                kind,
                format!("sort_order must be ASCENDING or DESCENDING, got {o}"),
            ));
        }
    };
    match req.sort_attribute.as_deref() {
        None | Some("") => {
            if descending {
                idx.reverse();
            }
        }
        Some(a) if name_attrs.contains(&a) => {
            idx.sort_by(|&x, &y| table.rows[x].data.name().cmp(table.rows[y].data.name()));
            if descending {
                idx.reverse();
            }
        }
        Some("uuid") => {
            idx.sort_by(|&x, &y| table.rows[x].data.uuid().cmp(table.rows[y].data.uuid()));
            if descending {
                idx.reverse();
            }
        }
        Some(a) => {
            return Err(invalid_argument(
                kind,
                format!(
                    "sort_attribute {a} is not supported for {kind}; use {} or uuid",
                    name_attrs.join(", ")
                ),
            ));
        }
    }
    let total = idx.len();
    let meta = list_metadata(kind, req, total, length);
    let mut out = String::with_capacity(64 + length.min(total) * 2048);
    out.push_str("{\"api_version\":\"3.1\",\"metadata\":");
    out.push_str(&meta.to_string());
    // Empty lists omit `entities` like real PC, except tasks whose schema requires it.
    if total > 0 || kind == "task" {
        out.push_str(",\"entities\":[");
        for (n, &i) in idx.iter().skip(offset).take(length).enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&table.rows[i].json);
        }
        out.push(']');
    }
    out.push('}');
    Ok(out)
}

macro_rules! list_handler {
    ($fn:ident, $field:ident, $kind:literal, $attrs:expr) => {
        async fn $fn(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
            let kind = $kind;
            let req = match parse_list_request(kind, &body) {
                Ok(r) => r,
                Err(e) => return e,
            };
            let w = shared.world();
            match list_table(&w.prism.$field, &req, $attrs) {
                Ok(s) => json_response(StatusCode::OK, s),
                Err(e) => e,
            }
        }
    };
}

list_handler!(list_clusters, clusters, "cluster", &["name"]);
list_handler!(list_subnets, subnets, "subnet", &["name"]);
list_handler!(list_images, images, "image", &["name"]);
list_handler!(list_vms, vms, "vm", &["vm_name", "name"]);
list_handler!(list_projects, projects, "project", &["name"]);
list_handler!(list_hosts, hosts, "host", &["name"]);
list_handler!(list_tasks, tasks, "task", &["operation_type"]);

fn get_from<T: Entity>(table: &Table<T>, uuid: &str) -> Response {
    if uuid::Uuid::parse_str(uuid).is_err() {
        return error(
            StatusCode::BAD_REQUEST,
            Some(T::KIND),
            "INVALID_UUID",
            format!("invalid UUID passed: {uuid}"),
            None,
        );
    }
    match table.get(uuid) {
        Some(row) => {
            // Intent responses carry api_version next to metadata/spec/status.
            let body = if T::KIND == "task" {
                row.json.clone()
            } else {
                format!("{{\"api_version\":\"3.1\",{}", &row.json[1..])
            };
            json_response(StatusCode::OK, body)
        }
        None => error(
            StatusCode::NOT_FOUND,
            Some(T::KIND),
            "ENTITY_NOT_FOUND",
            format!("{} : {uuid} not found", T::KIND),
            None,
        ),
    }
}

macro_rules! get_handler {
    ($fn:ident, $field:ident) => {
        async fn $fn(State(shared): State<Arc<Shared>>, Path(uuid): Path<String>) -> Response {
            let w = shared.world();
            get_from(&w.prism.$field, &uuid)
        }
    };
}

get_handler!(get_cluster, clusters);
get_handler!(get_subnet, subnets);
get_handler!(get_image, images);
get_handler!(get_vm, vms);
get_handler!(get_project, projects);
get_handler!(get_host, hosts);
get_handler!(get_task, tasks);

// ---------------------------------------------------------------------------------------
// Categories (their own envelope: no spec/status wrapping)

async fn list_category_keys(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req = match parse_list_request("category", &body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (offset, length) = match paging("category", &req) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let filter = match req.filter.as_deref() {
        Some(f) if !f.trim().is_empty() => match fiql::Filter::parse(f, &["name"]) {
            Ok(f) => Some(f),
            Err(e) => return invalid_argument("category", e),
        },
        _ => None,
    };
    let w = shared.world();
    let all: Vec<Value> = w
        .prism
        .categories
        .iter()
        .filter(|(k, _)| filter.as_ref().is_none_or(|f| f.matches(k, "")))
        .map(|(k, c)| {
            json!({"name": k, "description": c.description, "system_defined": c.system_defined, "capabilities": {"cardinality": 64}})
        })
        .collect();
    category_list_response(&req, all, offset, length)
}

fn category_list_response(
    req: &ListRequest,
    all: Vec<Value>,
    offset: usize,
    length: usize,
) -> Response {
    let total = all.len();
    let meta = list_metadata("category", req, total, length);
    let mut body = json!({"api_version": "3.1", "metadata": meta});
    if total > 0 {
        body["entities"] = Value::Array(all.into_iter().skip(offset).take(length).collect());
    }
    json_response(StatusCode::OK, body.to_string())
}

async fn list_category_values(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let req = match parse_list_request("category", &body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (offset, length) = match paging("category", &req) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let filter = match req.filter.as_deref() {
        Some(f) if !f.trim().is_empty() => match fiql::Filter::parse(f, &["value", "name"]) {
            Ok(f) => Some(f),
            Err(e) => return invalid_argument("category", e),
        },
        _ => None,
    };
    let w = shared.world();
    let Some(cat) = w.prism.categories.get(&key) else {
        return category_key_missing(&key);
    };
    let all: Vec<Value> = cat
        .values
        .iter()
        .filter(|(v, _)| filter.as_ref().is_none_or(|f| f.matches(v, "")))
        .map(|(v, d)| json!({"name": key, "value": v, "description": d, "system_defined": cat.system_defined}))
        .collect();
    category_list_response(&req, all, offset, length)
}

fn category_key_missing(key: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        Some("category"),
        "ENTITY_NOT_FOUND",
        format!("Category {key} does not exist."),
        None,
    )
}

async fn get_category_key(State(shared): State<Arc<Shared>>, Path(key): Path<String>) -> Response {
    let w = shared.world();
    match w.prism.categories.get(&key) {
        Some(c) => json_response(
            StatusCode::OK,
            json!({"api_version": "3.1", "name": key, "description": c.description, "system_defined": c.system_defined, "capabilities": {"cardinality": 64}}).to_string(),
        ),
        None => category_key_missing(&key),
    }
}

async fn get_category_value(
    State(shared): State<Arc<Shared>>,
    Path((key, value)): Path<(String, String)>,
) -> Response {
    let w = shared.world();
    match w.prism.categories.get(&key).and_then(|c| c.values.get(&value).map(|d| (c, d))) {
        Some((c, d)) => json_response(
            StatusCode::OK,
            json!({"api_version": "3.1", "name": key, "value": value, "description": d, "system_defined": c.system_defined}).to_string(),
        ),
        None => error(
            StatusCode::NOT_FOUND,
            Some("category"),
            "CATEGORY_NAME_VALUE_MISMATCH",
            format!("Specified category value {value} with category name {key} doesn't exist."),
            None,
        ),
    }
}
