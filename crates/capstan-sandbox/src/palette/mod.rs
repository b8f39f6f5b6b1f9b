//! Palette (`/v1/...`): tenant, auth, cloud types, PCGs, cloud accounts, profiles, packs
//! and custom-cloud clusters.

mod accounts;
mod catalogue;
mod cloudtypes;
mod clusters;
pub(crate) mod lifecycle;
mod pcg;
mod profiles;
mod yaml;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::state::{PaletteToken, Shared, World};
use crate::util::{hex_token, hex_uid, now_rfc3339};

pub(crate) use catalogue::{Pack, Registry};
pub(crate) use clusters::Cluster;

// ---------------------------------------------------------------------------------------
// World

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Project {
    pub uid: String,
    pub name: String,
    pub created: String,
}

/// Common metadata of Palette objects.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Meta {
    pub uid: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub created: String,
    pub modified: String,
}

impl Meta {
    pub(crate) fn new(uid: String, name: String) -> Self {
        let now = now_rfc3339();
        Self {
            uid,
            name,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            created: now.clone(),
            modified: now,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "uid": self.uid,
            "name": self.name,
            "labels": self.labels,
            "annotations": self.annotations,
            "creationTimestamp": self.created,
            "lastModifiedTimestamp": self.modified,
        })
    }

    pub(crate) fn touch(&mut self) {
        self.modified = now_rfc3339();
    }

    /// Reads `labels`/`annotations` maps from an input `metadata` object.
    pub(crate) fn apply_input(&mut self, metadata: &Value) {
        if let Some(m) = string_map(&metadata["labels"]) {
            self.labels = m;
        }
        if let Some(m) = string_map(&metadata["annotations"]) {
            self.annotations = m;
        }
    }
}

pub(crate) fn string_map(v: &Value) -> Option<BTreeMap<String, String>> {
    v.as_object().map(|m| {
        m.iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect()
    })
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct PaletteWorld {
    pub tenant_uid: String,
    pub user_uid: String,
    pub system_user_uid: String,
    pub org_name: String,
    pub projects: Vec<Project>,
    pub cloud_types: BTreeMap<String, cloudtypes::CloudType>,
    pub overlords: Vec<pcg::Overlord>,
    pub accounts: Vec<accounts::Account>,
    pub profiles: Vec<profiles::Profile>,
    pub registries: Vec<Registry>,
    pub packs: Vec<Pack>,
    pub clusters: Vec<Cluster>,
    pub events: Vec<lifecycle::ClusterEvent>,
}

impl PaletteWorld {
    pub(crate) fn seed(rng: &mut ChaCha8Rng) -> Self {
        let tenant_uid = hex_uid(rng);
        let user_uid = hex_uid(rng);
        let system_user_uid = hex_uid(rng);
        let projects = ["Default", "Production"]
            .iter()
            .map(|n| Project {
                uid: hex_uid(rng),
                name: (*n).to_owned(),
                created: "2025-06-01T00:00:00Z".to_owned(),
            })
            .collect();
        let (registries, packs) = catalogue::seed(rng);
        Self {
            tenant_uid,
            user_uid,
            system_user_uid,
            org_name: "capstan-sandbox".to_owned(),
            projects,
            cloud_types: BTreeMap::new(),
            overlords: Vec::new(),
            accounts: Vec::new(),
            profiles: Vec::new(),
            registries,
            packs,
            clusters: Vec::new(),
            events: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Router

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let protected = Router::new()
        .route("/v1/users/info", get(users_info))
        .route("/v1/users", get(list_users))
        .route("/v1/dashboard/projects/metadata", get(projects_metadata))
        .route("/v1/projects/{uid}", get(get_project))
        .route("/v1/system/users/me", get(system_me))
        .merge(cloudtypes::routes())
        .merge(pcg::routes())
        .merge(accounts::routes())
        .merge(profiles::routes())
        .merge(catalogue::routes())
        .merge(clusters::routes())
        .layer(middleware::from_fn_with_state(shared.clone(), auth));
    Router::new()
        .route("/v1/auth/authenticate", post(authenticate))
        .route("/v1/auth/syslogin", post(syslogin))
        .route("/v1/auth/refresh/{token}", get(refresh))
        .merge(pcg::public_routes())
        .merge(protected)
        .merge(crate::server::control_router())
        .fallback(not_found)
        .with_state(shared)
}

// ---------------------------------------------------------------------------------------
// Responses

pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

pub(crate) fn ok(v: Value) -> Response {
    json_response(StatusCode::OK, &v)
}

fn audit_uid() -> HeaderValue {
    let mut b = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    HeaderValue::from_str(&hex::encode(b)).unwrap_or(HeaderValue::from_static("0"))
}

/// 201 `{uid}` with an `AuditUid` header.
pub(crate) fn created(uid: &str) -> Response {
    let mut r = json_response(StatusCode::CREATED, &json!({"uid": uid}));
    r.headers_mut().insert("AuditUid", audit_uid());
    r
}

/// 204 with an `AuditUid` header.
pub(crate) fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r.headers_mut().insert("AuditUid", audit_uid());
    r
}

/// A `v1Error` body: `{code, message, ref, details}`.
pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let mut b = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    json_response(
        status,
        &json!({"code": code, "message": message.into(), "ref": hex::encode(b), "details": {}}),
    )
}

pub(crate) fn bad_request(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

pub(crate) fn not_found_msg(message: impl Into<String>) -> Response {
    error(StatusCode::NOT_FOUND, "ResourceNotFound", message)
}

pub(crate) fn conflict(message: impl Into<String>) -> Response {
    error(StatusCode::CONFLICT, "AlreadyExists", message)
}

pub(crate) fn in_use(message: impl Into<String>) -> Response {
    error(StatusCode::CONFLICT, "ResourceInUse", message)
}

pub(crate) fn unauthorized(message: &str) -> Response {
    error(StatusCode::UNAUTHORIZED, "Unauthorized", message)
}

pub(crate) fn forbidden(message: impl Into<String>) -> Response {
    error(StatusCode::FORBIDDEN, "Forbidden", message)
}

async fn not_found(req: Request) -> Response {
    not_found_msg(format!(
        "{} {} is not a Palette API endpoint",
        req.method(),
        req.uri().path()
    ))
}

/// Parses a JSON request body, or answers 400.
pub(crate) fn parse_body(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice::<Value>(body)
        .map_err(|e| bad_request(format!("the request body is not valid JSON: {e}")))
        .and_then(|v| {
            if v.is_object() {
                Ok(v)
            } else {
                Err(bad_request("the request body must be a JSON object"))
            }
        })
}

// ---------------------------------------------------------------------------------------
// Lists

#[derive(serde::Deserialize, Default, Debug)]
pub(crate) struct ListQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    #[serde(rename = "continue")]
    pub continue_token: Option<String>,
    pub filters: Option<String>,
}

pub(crate) const MAX_LIMIT: i64 = 50;

fn encode_continue(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("capstan-page:{offset}"))
}

fn decode_continue(token: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("capstan-page:")?
        .parse()
        .ok()
}

/// `{items, listmeta: {continue, count, limit, offset}}`, limit capped at 50.
pub(crate) fn paged(items: Vec<Value>, q: &ListQuery) -> Result<Value, Response> {
    let limit = q.limit.unwrap_or(MAX_LIMIT);
    if limit < 0 {
        return Err(bad_request(format!("limit must be >= 0, got {limit}")));
    }
    let limit = if limit == 0 {
        MAX_LIMIT
    } else {
        limit.min(MAX_LIMIT)
    } as usize;
    let offset = match q.continue_token.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => decode_continue(t).ok_or_else(|| {
            bad_request("the continue token is invalid or expired; restart the listing without it")
        })?,
        None => {
            let o = q.offset.unwrap_or(0);
            if o < 0 {
                return Err(bad_request(format!("offset must be >= 0, got {o}")));
            }
            o as usize
        }
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    let next = offset + page.len();
    let cont = if next < total {
        encode_continue(next)
    } else {
        String::new()
    };
    Ok(json!({
        "items": page,
        "listmeta": {"continue": cont, "count": total, "limit": limit, "offset": offset},
    }))
}

// ---------------------------------------------------------------------------------------
// Authentication and scope

/// Who is calling, resolved by the auth middleware.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub system: bool,
    /// `ProjectUid` header; `None` = tenant scope.
    pub project: Option<String>,
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        let v = v.strip_prefix("Bearer ").unwrap_or(v);
        return Some(v.to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "Authorization")
        .map(|(_, v)| v.to_owned())
}

pub(crate) fn expire_token(shared: &Shared, headers: &HeaderMap) {
    if let Some(t) = header_token(headers) {
        shared.world().palette_tokens.remove(&t);
    }
}

async fn auth(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let mut system = false;
    // Header names are case-insensitive, so `ApiKey` and `apikey` both land here.
    let authed = if let Some(k) = headers.get("apikey").and_then(|v| v.to_str().ok()) {
        k == shared.creds.palette_api_key.expose()
    } else if let Some(t) = header_token(headers) {
        let mut w = shared.world();
        let now = w.now;
        match w.palette_tokens.get(&t) {
            Some(tok) if tok.expires > now => {
                system = tok.system;
                true
            }
            Some(_) => {
                w.palette_tokens.remove(&t);
                false
            }
            None => false,
        }
    } else {
        return unauthorized(
            "Authentication required: send an ApiKey header or an Authorization token",
        );
    };
    if !authed {
        return unauthorized("Invalid or expired credentials");
    }
    let project = headers
        .get("projectuid")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    if let Some(p) = &project {
        let known = shared.world().palette.projects.iter().any(|x| &x.uid == p);
        if !known {
            return forbidden(format!(
                "ProjectUid {p} is not a project of this tenant; list projects with GET /v1/dashboard/projects/metadata"
            ));
        }
    }
    req.extensions_mut().insert(Caller { system, project });
    next.run(req).await
}

fn issue_token(shared: &Shared, w: &mut World, system: bool) -> String {
    // JWT-looking but opaque: header.payload.signature.
    let payload = json!({"iat": now_rfc3339(), "sys": system, "n": hex_token(&mut w.rng, 8)});
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = format!(
        "{}.{}.{}",
        enc.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        enc.encode(payload.to_string()),
        hex_token(&mut w.rng, 16)
    );
    let expires = w.now + shared.faults.palette_token_ttl();
    w.palette_tokens
        .insert(token.clone(), PaletteToken { expires, system });
    token
}

fn with_cookie(mut r: Response, token: &str, shared: &Shared, set: bool) -> Response {
    if set {
        let secure = if shared.tls { "; Secure" } else { "" };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "Authorization={token}; Path=/{secure}; HttpOnly; SameSite=Lax"
        )) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

#[derive(serde::Deserialize)]
struct CookieQuery {
    #[serde(rename = "setCookie")]
    set_cookie: Option<bool>,
}

async fn authenticate(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<CookieQuery>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let email = v["emailId"].as_str().unwrap_or_default();
    let password = v["password"].as_str().unwrap_or_default();
    if !email.eq_ignore_ascii_case(&shared.creds.palette_email)
        || password != shared.creds.palette_password.expose()
    {
        return unauthorized("Invalid email or password");
    }
    let token = {
        let mut w = shared.world();
        issue_token(&shared, &mut w, false)
    };
    with_cookie(
        ok(json!({"Authorization": token, "isMfa": false})),
        &token,
        &shared,
        q.set_cookie.unwrap_or(true),
    )
}

async fn syslogin(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let user = v["username"].as_str().unwrap_or_default();
    let password = v["password"].as_str().unwrap_or_default();
    if user != shared.creds.palette_system_user
        || password != shared.creds.palette_password.expose()
    {
        return unauthorized("Invalid system console user name or password");
    }
    let token = {
        let mut w = shared.world();
        issue_token(&shared, &mut w, true)
    };
    with_cookie(
        ok(json!({"Authorization": token, "IsPasswordReset": true})),
        &token,
        &shared,
        true,
    )
}

async fn refresh(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    Query(q): Query<CookieQuery>,
) -> Response {
    let new = {
        let mut w = shared.world();
        let now = w.now;
        let system = match w.palette_tokens.get(&token) {
            Some(t) if t.expires > now => t.system,
            _ => return unauthorized("The token is invalid or expired; authenticate again"),
        };
        w.palette_tokens.remove(&token);
        issue_token(&shared, &mut w, system)
    };
    with_cookie(
        ok(json!({"Authorization": new, "isMfa": false})),
        &new,
        &shared,
        q.set_cookie.unwrap_or(true),
    )
}

// ---------------------------------------------------------------------------------------
// Tenant and projects

async fn users_info(State(shared): State<Arc<Shared>>) -> Response {
    let w = shared.world();
    ok(json!({
        "userUid": w.palette.user_uid,
        "tenantUid": w.palette.tenant_uid,
        "orgName": w.palette.org_name,
    }))
}

/// The tenant's users (the SDK's tenant-admin validation lists them).
async fn list_users(State(shared): State<Arc<Shared>>, Query(q): Query<ListQuery>) -> Response {
    let w = shared.world();
    let user = json!({
        "metadata": {"uid": w.palette.user_uid, "name": shared.creds.palette_email, "labels": {}, "annotations": {}, "creationTimestamp": "2025-06-01T00:00:00Z", "lastModifiedTimestamp": "2025-06-01T00:00:00Z"},
        "spec": {"emailId": shared.creds.palette_email, "firstName": "Capstan", "lastName": "Admin", "roles": []},
        "status": {"isActive": true, "isPasswordResetting": false, "lastSignIn": "2025-06-01T00:00:00Z"},
    });
    match paged(vec![user], &q) {
        Ok(v) => ok(v),
        Err(e) => e,
    }
}

#[derive(serde::Deserialize)]
struct NameQuery {
    name: Option<String>,
}

async fn projects_metadata(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<NameQuery>,
) -> Response {
    let w = shared.world();
    let items: Vec<Value> = w
        .palette
        .projects
        .iter()
        .filter(|p| q.name.as_deref().is_none_or(|n| n == p.name))
        .map(|p| json!({"metadata": {"uid": p.uid, "name": p.name}}))
        .collect();
    ok(json!({"items": items}))
}

async fn get_project(State(shared): State<Arc<Shared>>, Path(uid): Path<String>) -> Response {
    let w = shared.world();
    match w.palette.projects.iter().find(|p| p.uid == uid) {
        Some(p) => ok(json!({
            "metadata": {"uid": p.uid, "name": p.name, "labels": {}, "annotations": {}, "creationTimestamp": p.created, "lastModifiedTimestamp": p.created},
            "spec": {"alerts": [], "logoUrl": "", "teams": [], "users": []},
            "status": {"isDisabled": false},
        })),
        None => not_found_msg(format!("Project '{uid}' not found")),
    }
}

async fn system_me(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    if !caller.system {
        return forbidden("This endpoint needs a system-console token from POST /v1/auth/syslogin");
    }
    let w = shared.world();
    ok(json!({
        "metadata": {"uid": w.palette.system_user_uid, "name": shared.creds.palette_system_user, "labels": {}, "annotations": {}, "creationTimestamp": "2025-06-01T00:00:00Z", "lastModifiedTimestamp": "2025-06-01T00:00:00Z"},
        "spec": {"emailId": shared.creds.palette_email, "adminType": "RootAdmin"},
        "status": {"isPasswordReset": true, "isMfaEnabled": false, "isEmailSet": true, "isEmailVerified": true},
    }))
}

/// Checks that a custom cloud type is registered (every cloudType-scoped path does this).
pub(crate) fn require_cloud_type(w: &World, ct: &str) -> Result<(), Response> {
    if w.palette.cloud_types.contains_key(ct) {
        Ok(())
    } else {
        Err(not_found_msg(format!(
            "Cloud type '{ct}' not found; register it with POST /v1/clouds/cloudTypes/register first"
        )))
    }
}
