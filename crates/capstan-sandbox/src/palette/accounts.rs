//! Custom-cloud accounts under `/v1/cloudaccounts/cloudTypes/{ct}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::*;
use crate::state::Shared;
use crate::util::hex_uid;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Account {
    pub meta: Meta,
    pub kind: String,
    pub overlord_uid: String,
    pub scope_project: Option<String>,
    pub credentials: BTreeMap<String, String>,
}

impl Account {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": self.kind,
            "metadata": self.meta.to_json(),
            "spec": {"credentials": self.credentials},
            "status": {"state": "Running"},
        })
    }
}

pub(crate) fn visible(a: &Account, caller: &Caller) -> bool {
    // Tenant-scoped accounts are visible from every project.
    a.scope_project.is_none() || a.scope_project == caller.project
}

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/cloudaccounts/summary", get(summary))
        .route(
            "/v1/cloudaccounts/cloudTypes/{cloudType}",
            get(list).post(create),
        )
        .route(
            "/v1/cloudaccounts/cloudTypes/{cloudType}/{uid}",
            get(get_one).put(update).delete(delete),
        )
}

/// Validates an account entity; returns (name, overlordUid, credentials).
fn validate(
    w: &World,
    ct: &str,
    v: &Value,
) -> Result<(String, String, BTreeMap<String, String>), Response> {
    let Some(name) = v["metadata"]["name"]
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    else {
        return Err(bad_request("metadata.name is required"));
    };
    let Some(creds) = v["spec"]["credentials"].as_object() else {
        return Err(bad_request(
            "spec.credentials is required: a map of the cloud type's account keys to string values",
        ));
    };
    if creds.is_empty() {
        return Err(bad_request("spec.credentials must not be empty"));
    }
    let mut map = BTreeMap::new();
    for (k, val) in creds {
        match val.as_str() {
            Some(s) => {
                map.insert(k.clone(), s.to_owned());
            }
            None => {
                return Err(bad_request(format!(
                    "spec.credentials.{k} must be a string (send numbers and booleans as strings, e.g. \"9440\")"
                )));
            }
        }
    }
    if let Some(ctype) = w.palette.cloud_types.get(ct) {
        let missing: Vec<&str> = ctype
            .keys
            .iter()
            .filter(|k| !map.contains_key(k.as_str()))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(bad_request(format!(
                "spec.credentials is missing the cloud account keys {} (see GET /v1/clouds/cloudTypes/{ct}/cloudAccountKeys)",
                missing.join(", ")
            )));
        }
    }
    let Some(overlord) = v["metadata"]["annotations"]["overlordUid"]
        .as_str()
        .filter(|s| !s.is_empty())
    else {
        return Err(bad_request(
            "metadata.annotations.overlordUid is required: the uid of a Running private cloud gateway",
        ));
    };
    match w.palette.overlords.iter().find(|o| o.meta.uid == overlord) {
        None => {
            return Err(bad_request(format!(
                "Private cloud gateway '{overlord}' (metadata.annotations.overlordUid) does not exist"
            )));
        }
        Some(o) if o.state != "Running" => {
            return Err(bad_request(format!(
                "Private cloud gateway '{}' is {}, not Running; wait for it before adding the account",
                o.meta.name, o.state
            )));
        }
        Some(_) => {}
    }
    Ok((name.to_owned(), overlord.to_owned(), map))
}

async fn create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(ct): Path<String>,
    body: Bytes,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let (name, overlord, credentials) = match validate(&w, &ct, &v) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if w.palette
        .accounts
        .iter()
        .any(|a| a.kind == ct && a.meta.name == name && a.scope_project == caller.project)
    {
        return conflict(format!("Cloud account '{name}' already exists"));
    }
    let uid = hex_uid(&mut w.rng);
    let mut meta = Meta::new(uid.clone(), name);
    meta.apply_input(&v["metadata"]);
    meta.annotations
        .insert("overlordUid".into(), overlord.clone());
    meta.annotations.insert(
        "scope".into(),
        if caller.project.is_some() {
            "project"
        } else {
            "tenant"
        }
        .into(),
    );
    w.palette.accounts.push(Account {
        meta,
        kind: ct,
        overlord_uid: overlord,
        scope_project: caller.project,
        credentials,
    });
    created(&uid)
}

async fn list(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(ct): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    let items: Vec<Value> = w
        .palette
        .accounts
        .iter()
        .filter(|a| a.kind == ct && visible(a, &caller))
        .map(Account::to_json)
        .collect();
    match paged(items, &q) {
        Ok(v) => ok(v),
        Err(e) => e,
    }
}

async fn get_one(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, uid)): Path<(String, String)>,
) -> Response {
    let w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    match w
        .palette
        .accounts
        .iter()
        .find(|a| a.meta.uid == uid && a.kind == ct && visible(a, &caller))
    {
        Some(a) => ok(a.to_json()),
        None => not_found_msg(format!("Cloud account '{uid}' not found")),
    }
}

async fn update(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, uid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    if !w
        .palette
        .accounts
        .iter()
        .any(|a| a.meta.uid == uid && a.kind == ct && visible(a, &caller))
    {
        return not_found_msg(format!("Cloud account '{uid}' not found"));
    }
    let (name, overlord, credentials) = match validate(&w, &ct, &v) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if let Some(a) = w.palette.accounts.iter_mut().find(|a| a.meta.uid == uid) {
        a.meta.name = name;
        let scope = a.meta.annotations.get("scope").cloned();
        a.meta.apply_input(&v["metadata"]);
        a.meta
            .annotations
            .insert("overlordUid".into(), overlord.clone());
        if let Some(s) = scope {
            a.meta.annotations.insert("scope".into(), s);
        }
        a.overlord_uid = overlord;
        a.credentials = credentials;
        a.meta.touch();
    }
    no_content()
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, uid)): Path<(String, String)>,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    if !w
        .palette
        .accounts
        .iter()
        .any(|a| a.meta.uid == uid && a.kind == ct && visible(a, &caller))
    {
        return not_found_msg(format!("Cloud account '{uid}' not found"));
    }
    if let Some(c) = w
        .palette
        .clusters
        .iter()
        .find(|c| c.account_uid == uid && c.state != "Deleted")
    {
        return in_use(format!(
            "Cloud account '{uid}' is used by cluster '{}'; delete the cluster first",
            c.meta.name
        ));
    }
    w.palette.accounts.retain(|a| a.meta.uid != uid);
    no_content()
}

async fn summary(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> Response {
    let w = shared.world();
    let items: Vec<Value> = w
        .palette
        .accounts
        .iter()
        .filter(|a| visible(a, &caller))
        .map(|a| {
            json!({
                "kind": a.kind,
                "metadata": a.meta.to_json(),
                "specSummary": {"accountId": a.credentials.get("NUTANIX_ENDPOINT").cloned().unwrap_or_default()},
                "status": {"state": "Running"},
            })
        })
        .collect();
    match paged(items, &q) {
        Ok(v) => ok(v),
        Err(e) => e,
    }
}
