//! Pack registries and the seeded pack catalogue.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::*;
use crate::state::Shared;
use crate::util::hex_uid;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Registry {
    pub uid: String,
    pub name: String,
    #[serde(with = "crate::persist::static_str")]
    pub scope: crate::persist::StaticStr,
    pub is_default: bool,
    pub is_private: bool,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Pack {
    pub uid: String,
    pub name: String,
    pub display_name: String,
    #[serde(with = "crate::persist::static_str")]
    pub layer: crate::persist::StaticStr,
    pub version: String,
    pub registry_uid: String,
    pub cloud_types: Vec<String>,
    pub values: String,
    #[serde(with = "crate::persist::static_str")]
    pub addon_type: crate::persist::StaticStr,
}

impl Pack {
    fn summary_spec(&self) -> Value {
        json!({
            "name": self.name,
            "displayName": self.display_name,
            "layer": self.layer,
            "version": self.version,
            "registryUid": self.registry_uid,
            "cloudTypes": self.cloud_types,
            "values": self.values,
            "type": "spectro",
            "addonType": self.addon_type,
            "logoUrl": format!("/v1/packs/{}/logo", self.uid),
            "presets": [],
            "schema": [],
            "manifests": [],
            "annotations": {},
        })
    }

    pub(crate) fn summary(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "pack",
            "metadata": {"uid": self.uid, "name": self.name, "labels": {}, "annotations": {}, "creationTimestamp": "2025-06-01T00:00:00Z", "lastModifiedTimestamp": "2025-06-01T00:00:00Z"},
            "spec": self.summary_spec(),
            "status": {},
        })
    }
}

const NUTANIX_ONLY: &str = "nutanix";

/// `nutanix-csi`-style packs are offered only for the `nutanix` cloud type, and only once a
/// cloud type with exactly that name has been registered.
pub(crate) fn available(w: &World, p: &Pack) -> bool {
    !p.cloud_types.iter().any(|c| c == NUTANIX_ONLY)
        || w.palette.cloud_types.contains_key(NUTANIX_ONLY)
}

fn fits_cloud(p: &Pack, cloud: &str) -> bool {
    cloud == "all" || p.cloud_types.iter().any(|c| c == "all" || c == cloud)
}

pub(crate) fn seed(rng: &mut ChaCha8Rng) -> (Vec<Registry>, Vec<Pack>) {
    let public = Registry {
        uid: hex_uid(rng),
        name: "Public Repo".into(),
        scope: "system",
        is_default: true,
        is_private: false,
    };
    let custom = Registry {
        uid: hex_uid(rng),
        name: "capstan-custom-packs".into(),
        scope: "tenant",
        is_default: false,
        is_private: true,
    };
    let mut packs = Vec::new();
    let mut add = |rng: &mut ChaCha8Rng,
                   reg: &Registry,
                   name: &str,
                   display: &str,
                   layer: &'static str,
                   versions: &[&str],
                   clouds: &[&str],
                   addon: &'static str,
                   values: &dyn Fn(&str) -> String| {
        for v in versions {
            packs.push(Pack {
                uid: hex_uid(rng),
                name: name.into(),
                display_name: display.into(),
                layer,
                version: (*v).into(),
                registry_uid: reg.uid.clone(),
                cloud_types: clouds.iter().map(|c| (*c).to_owned()).collect(),
                values: values(v),
                addon_type: addon,
            });
        }
    };
    add(
        rng,
        &public,
        "ubuntu",
        "Ubuntu",
        "os",
        &["22.04", "24.04"],
        &["all"],
        "",
        &|v| {
            format!(
                "# Ubuntu {v}\nkubeadmconfig:\n  preKubeadmCommands:\n    - echo \"Executing pre kube admin config commands\"\n  postKubeadmCommands:\n    - echo \"Executing post kube admin config commands\"\n"
            )
        },
    );
    add(
        rng,
        &custom,
        "os-nutanix",
        "Nutanix OS (CAPX image)",
        "os",
        &["1.0.0"],
        &["all"],
        "",
        &|_| {
            "# The OS comes from the CAPX machine image; nothing to configure here.\npack:\n  content: {}\n".to_owned()
        },
    );
    add(
        rng,
        &public,
        "kubernetes",
        "Palette eXtended Kubernetes",
        "k8s",
        &["1.29.10", "1.30.6", "1.31.4"],
        &["all"],
        "",
        &|v| {
            format!(
                "pack:\n  k8sHardening: True\n  podCIDR: \"192.168.0.0/16\"\n  serviceClusterIpRange: \"10.96.0.0/12\"\nkubeadmconfig:\n  apiServer:\n    extraArgs:\n      secure-port: \"6443\"\n# kubernetes {v}\n"
            )
        },
    );
    add(
        rng,
        &public,
        "cni-cilium-oss",
        "Cilium",
        "cni",
        &["1.15.6", "1.16.3"],
        &["all"],
        "",
        &|v| {
            format!(
                "charts:\n  cilium:\n    image:\n      tag: v{v}\n    ipam:\n      mode: kubernetes\n"
            )
        },
    );
    add(
        rng,
        &public,
        "cni-calico",
        "Calico",
        "cni",
        &["3.28.2", "3.29.0"],
        &["all"],
        "",
        &|v| {
            format!(
                "pack:\n  content:\n    images:\n      - image: quay.io/calico/node:v{v}\nmanifests:\n  calico:\n    calicoNetworkConfig: CALICO_IPV4POOL_CIDR\n"
            )
        },
    );
    add(
        rng,
        &public,
        "nutanix-csi",
        "Nutanix CSI",
        "csi",
        &["3.1.0", "3.2.0"],
        &[NUTANIX_ONLY],
        "",
        &|v| {
            format!(
                "charts:\n  nutanix-csi-storage:\n    # nutanix-csi {v}\n    createPrismCentralSecret: true\n    pcEndpoint: \"\"\n    storageClass:\n      create: true\n      isDefault: true\n"
            )
        },
    );
    add(
        rng,
        &public,
        "nginx",
        "Nginx Ingress",
        "addon",
        &["1.11.2"],
        &["all"],
        "ingress",
        &|_| {
            "charts:\n  ingress-nginx:\n    controller:\n      service:\n        type: LoadBalancer\n".to_owned()
        },
    );
    add(
        rng,
        &public,
        "prometheus-operator",
        "Prometheus Operator",
        "addon",
        &["65.1.0"],
        &["all"],
        "monitoring",
        &|_| "charts:\n  kube-prometheus-stack:\n    grafana:\n      enabled: true\n".to_owned(),
    );
    (vec![public, custom], packs)
}

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/registries/metadata", get(registries_metadata))
        .route("/v1/packs", get(list_packs))
        .route("/v1/packs/search", post(search))
        .route("/v1/packs/{uid}", get(get_pack))
        .route(
            "/v1/packs/{packName}/registries/{registryUid}",
            get(pack_tags),
        )
}

fn registry_json(r: &Registry) -> Value {
    json!({"uid": r.uid, "name": r.name, "kind": "spectro", "scope": r.scope, "isDefault": r.is_default, "isPrivate": r.is_private})
}

#[derive(serde::Deserialize)]
struct ScopeQuery {
    scope: Option<String>,
}

async fn registries_metadata(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<ScopeQuery>,
) -> Response {
    let w = shared.world();
    let items: Vec<Value> = w
        .palette
        .registries
        .iter()
        .filter(|r| match q.scope.as_deref() {
            None | Some("all") | Some("") => true,
            Some(s) => s == r.scope,
        })
        .map(registry_json)
        .collect();
    ok(json!({"items": items}))
}

/// Compares dotted versions numerically where possible.
pub(crate) fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| -> Vec<u64> {
        s.trim_start_matches('v')
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parse(a).cmp(&parse(b))
}

/// Palette `filters` syntax: `spec.name=kubernetesANDspec.version=1.30.6`.
fn pack_matches_filters(p: &Pack, filters: &str) -> Result<bool, String> {
    for term in filters.split("AND") {
        let term = term.trim();
        if term.is_empty() {
            continue;
        }
        let Some((field, value)) = term.split_once('=') else {
            return Err(format!("filter \"{term}\" is not field=value"));
        };
        let hit = match field.trim() {
            "spec.name" | "metadata.name" => p.name == value,
            "spec.version" => p.version == value,
            "spec.layer" => p.layer == value,
            "spec.registryUid" => p.registry_uid == value,
            "spec.cloudTypes" => fits_cloud(p, value),
            "metadata.uid" => p.uid == value,
            other => {
                return Err(format!(
                    "unsupported filter field \"{other}\"; use spec.name, spec.version, spec.layer, spec.registryUid, spec.cloudTypes or metadata.uid"
                ));
            }
        };
        if !hit {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn list_packs(State(shared): State<Arc<Shared>>, Query(q): Query<ListQuery>) -> Response {
    let w = shared.world();
    let mut items = Vec::new();
    for p in w.palette.packs.iter().filter(|p| available(&w, p)) {
        match q.filters.as_deref() {
            Some(f) => match pack_matches_filters(p, f) {
                Ok(true) => items.push(p.summary()),
                Ok(false) => {}
                Err(e) => return bad_request(e),
            },
            None => items.push(p.summary()),
        }
    }
    match paged(items, &q) {
        Ok(v) => ok(v),
        Err(e) => e,
    }
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn search(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<ListQuery>,
    body: Bytes,
) -> Response {
    let v = if body.is_empty() {
        json!({})
    } else {
        match parse_body(&body) {
            Ok(v) => v,
            Err(e) => return e,
        }
    };
    let f = &v["filter"];
    let layers = str_list(&f["layer"]);
    let envs = str_list(&f["environment"]);
    let regs = str_list(&f["registryUid"]);
    let types = str_list(&f["type"]);
    let name = &f["name"];
    let w = shared.world();
    // Group by name: one item per pack name, with the registries that carry it.
    let mut groups: BTreeMap<String, Vec<&Pack>> = BTreeMap::new();
    for p in w.palette.packs.iter().filter(|p| available(&w, p)) {
        if !layers.is_empty() && !layers.iter().any(|l| l == p.layer) {
            continue;
        }
        if !envs.is_empty() && !envs.iter().any(|e| fits_cloud(p, e)) {
            continue;
        }
        if !regs.is_empty() && !regs.contains(&p.registry_uid) {
            continue;
        }
        if !types.is_empty() && !types.iter().any(|t| t == "spectro") {
            continue;
        }
        if let Some(eq) = name["eq"].as_str()
            && p.name != eq
        {
            continue;
        }
        if let Some(c) = name["contains"].as_str()
            && !p.name.contains(c)
        {
            continue;
        }
        if let Some(b) = name["beginsWith"].as_str()
            && !p.name.starts_with(b)
        {
            continue;
        }
        groups.entry(p.name.clone()).or_default().push(p);
    }
    let mut items: Vec<Value> = groups
        .values()
        .map(|ps| {
            let first = ps[0];
            let mut by_reg: BTreeMap<&str, &Pack> = BTreeMap::new();
            for p in ps {
                let e = by_reg.entry(p.registry_uid.as_str()).or_insert(p);
                if version_cmp(&p.version, &e.version).is_gt() {
                    *e = p;
                }
            }
            let registries: Vec<Value> = by_reg
                .values()
                .map(|p| {
                    let r = w.palette.registries.iter().find(|r| r.uid == p.registry_uid);
                    json!({
                        "uid": p.registry_uid,
                        "name": r.map(|r| r.name.clone()).unwrap_or_default(),
                        "scope": r.map(|r| r.scope).unwrap_or("system"),
                        "latestVersion": p.version,
                        "latestPackUid": p.uid,
                        "logoUrl": format!("/v1/packs/{}/logo", p.uid),
                        "annotations": {},
                    })
                })
                .collect();
            json!({
                "apiVersion": "v1",
                "kind": "pack",
                "metadata": {"uid": first.uid, "name": first.name, "labels": {}, "annotations": {}, "creationTimestamp": "2025-06-01T00:00:00Z", "lastModifiedTimestamp": "2025-06-01T00:00:00Z"},
                "spec": {
                    "name": first.name,
                    "displayName": first.display_name,
                    "layer": first.layer,
                    "cloudTypes": first.cloud_types,
                    "addonType": first.addon_type,
                    "type": "spectro",
                    "registries": registries,
                },
            })
        })
        .collect();
    if let Some(sort) = v["sort"].as_array().and_then(|s| s.first()) {
        let field = sort["field"].as_str().unwrap_or("name");
        let key = |x: &Value| -> String {
            match field {
                "layer" => x["spec"]["layer"].as_str().unwrap_or_default().to_owned(),
                "displayName" => x["spec"]["displayName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                "addOnType" => x["spec"]["addonType"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                _ => x["spec"]["name"].as_str().unwrap_or_default().to_owned(),
            }
        };
        items.sort_by_key(|x| key(x));
        if sort["order"].as_str() == Some("desc") {
            items.reverse();
        }
    }
    match paged(items, &q) {
        Ok(v) => ok(v),
        Err(e) => e,
    }
}

fn tag_entity(w: &World, packs: &[&Pack]) -> Value {
    let first = packs[0];
    let tags: Vec<Value> = packs
        .iter()
        .map(|p| {
            let parts: Vec<&str> = p.version.split('.').collect();
            let parents: Vec<String> = if parts.len() >= 2 {
                vec![format!("{}.x", parts[0]), format!("{}.{}.x", parts[0], parts[1])]
            } else {
                vec![]
            };
            json!({"tag": p.version, "version": p.version, "packUid": p.uid, "group": "", "parentTags": parents})
        })
        .collect();
    let values: Vec<Value> = packs
        .iter()
        .map(|p| json!({"packUid": p.uid, "values": p.values, "readme": format!("# {}\n\nSeeded by the Capstan sandbox.\n", p.display_name), "schema": [], "presets": [], "annotations": {}}))
        .collect();
    let _ = w;
    json!({
        "name": first.name,
        "displayName": first.display_name,
        "layer": first.layer,
        "cloudTypes": first.cloud_types,
        "registryUid": first.registry_uid,
        "logoUrl": format!("/v1/packs/{}/logo", first.uid),
        "addonType": first.addon_type,
        "tags": tags,
        "packValues": values,
    })
}

#[derive(serde::Deserialize)]
struct TagQuery {
    #[serde(rename = "cloudType")]
    cloud_type: Option<String>,
    layer: Option<String>,
}

async fn pack_tags(
    State(shared): State<Arc<Shared>>,
    Path((name, registry_uid)): Path<(String, String)>,
    Query(q): Query<TagQuery>,
) -> Response {
    let w = shared.world();
    let mut packs: Vec<&Pack> = w
        .palette
        .packs
        .iter()
        .filter(|p| p.name == name && p.registry_uid == registry_uid && available(&w, p))
        .filter(|p| q.cloud_type.as_deref().is_none_or(|c| fits_cloud(p, c)))
        .filter(|p| q.layer.as_deref().is_none_or(|l| l == p.layer))
        .collect();
    if packs.is_empty() {
        return not_found_msg(format!(
            "Pack '{name}' not found in registry '{registry_uid}'"
        ));
    }
    packs.sort_by(|a, b| version_cmp(&a.version, &b.version));
    ok(tag_entity(&w, &packs))
}

async fn get_pack(State(shared): State<Arc<Shared>>, Path(uid): Path<String>) -> Response {
    let w = shared.world();
    match w
        .palette
        .packs
        .iter()
        .find(|p| p.uid == uid && available(&w, p))
    {
        Some(p) => ok(tag_entity(&w, &[p])),
        None => not_found_msg(format!("Pack '{uid}' not found")),
    }
}
