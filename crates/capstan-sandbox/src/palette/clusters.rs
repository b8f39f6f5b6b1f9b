//! Custom-cloud clusters (`/v1/spectroclusters/...`), their cloud configs, machine pools,
//! machines, kubeconfig assets and events.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use base64::Engine;
use serde_json::{Value, json};

use super::cloudtypes::octet_stream;
use super::lifecycle::{self, Event};
use super::yaml;
use super::*;
use crate::prism::ops;
use crate::prism::world::Ref;
use crate::state::Shared;
use crate::util::{hex_uid, now_rfc3339};

/// Keeps a typo (replicas: 100000) from flooding the emulated inventory.
const MAX_POOL_SIZE: u64 = 200;

/// Where and how a pool's VMs are created (from its NutanixMachineTemplate).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct MachineSpec {
    pub pe: Ref,
    pub subnets: Vec<Ref>,
    pub image: Ref,
    pub sockets: u32,
    pub vcpus_per_socket: u32,
    pub memory_mib: u64,
    pub disk_mib: u64,
    pub uefi: bool,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Machine {
    pub uid: String,
    pub name: String,
    pub state: String,
    pub vm_uuid: Option<String>,
    pub ips: Vec<String>,
    pub created: String,
    pub updated: String,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Pool {
    pub name: String,
    pub is_cp: bool,
    pub size: u32,
    pub values: String,
    pub taints: Value,
    pub use_cp_as_worker: bool,
    pub labels: Value,
    pub spec: MachineSpec,
    pub k8s_version: String,
    pub machines: Vec<Machine>,
    /// Removed from the config; kept until its machines are gone.
    pub deleted: bool,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Cluster {
    pub meta: Meta,
    pub scope_project: Option<String>,
    pub cloud_type: String,
    pub account_uid: String,
    pub cloud_config_uid: String,
    pub state: String,
    pub healthy: bool,
    pub profile_uids: Vec<String>,
    pub profile_templates: Vec<Value>,
    pub cluster_values: String,
    pub vip: String,
    pub vip_port: u16,
    pub vip_holder: Option<String>,
    pub api_ready: bool,
    pub pools: Vec<Pool>,
    pub conditions: BTreeMap<String, (bool, String, String)>,
    /// The pack apply a day-2 profile update started; `None` once the packs run.
    #[serde(default)]
    pub profile_apply: Option<ProfileApply>,
    /// Set when a profile update changed the Kubernetes pack; it wins over the version in
    /// the control-plane pool YAML until that YAML changes the version again.
    #[serde(default)]
    pub kubernetes_version: Option<String>,
}

/// Packs being applied after a profile update (the cluster stays Running meanwhile).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ProfileApply {
    /// Matches the scheduled completion, so a newer update restarts the clock.
    pub id: String,
    /// Names of the packs whose version or values changed.
    pub packs: Vec<String>,
    pub started: String,
    /// `v<tag>` of the new Kubernetes pack, when it changed.
    pub kubernetes_version: Option<String>,
}

impl Cluster {
    pub(crate) fn k8s_version(&self) -> String {
        if let Some(v) = &self.kubernetes_version {
            return v.clone();
        }
        self.pools
            .iter()
            .find(|p| p.is_cp)
            .map(|p| p.k8s_version.clone())
            .unwrap_or_default()
    }

    pub(crate) fn set_condition(&mut self, kind: &str, ok: bool, reason: &str) {
        self.conditions
            .insert(kind.to_owned(), (ok, reason.to_owned(), now_rfc3339()));
    }

    fn conditions_json(&self) -> Vec<Value> {
        self.conditions
            .iter()
            .map(|(k, (ok, reason, t))| {
                json!({"type": k, "status": if *ok { "True" } else { "False" }, "reason": reason, "message": reason, "lastTransitionTime": t, "lastProbeTime": t})
            })
            .collect()
    }

    /// `v1ClusterPackStatus[]`: Pending while provisioning, Upgrading while a profile update
    /// applies a pack, Deployed otherwise.
    fn packs_status(&self) -> Vec<Value> {
        let running = self.state == "Running";
        self.profile_templates
            .iter()
            .flat_map(|t| {
                let profile_uid = t["uid"].clone();
                t["packs"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |p| (profile_uid.clone(), p))
            })
            .map(|(profile_uid, p)| {
                let name = p["name"].as_str().unwrap_or_default();
                let version = p["version"].as_str().or(p["tag"].as_str()).unwrap_or("");
                let applying = self
                    .profile_apply
                    .as_ref()
                    .filter(|a| a.packs.iter().any(|n| n == name));
                let (ready, reason, message) = match (running, applying) {
                    (false, _) => (false, "Pending", "Waiting for the cluster to be provisioned".to_owned()),
                    (true, Some(_)) => (false, "Upgrading", format!("Applying {name} {version}")),
                    (true, None) => (true, "Deployed", format!("{name} {version} is deployed")),
                };
                json!({
                    "name": name,
                    "type": p["type"],
                    "version": version,
                    "profileUid": profile_uid,
                    "condition": {"type": "Ready", "status": if ready { "True" } else { "False" }, "reason": reason, "message": message},
                    "startTime": applying.map_or(self.meta.created.as_str(), |a| a.started.as_str()),
                })
            })
            .collect()
    }

    fn api_endpoints(&self) -> Vec<Value> {
        if self.api_ready {
            vec![json!({"host": self.vip, "port": self.vip_port})]
        } else {
            vec![]
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "SpectroCluster",
            "metadata": self.meta.to_json(),
            "spec": {
                "cloudType": self.cloud_type,
                "cloudConfigRef": {"kind": "CustomCloudConfig", "name": format!("{}-config", self.meta.name), "uid": self.cloud_config_uid},
                "clusterConfig": {"timezone": "", "updateWorkerPoolsInParallel": false, "machineManagementConfig": {"osPatchConfig": {"patchOnBoot": false}}},
                "clusterProfileTemplates": self.profile_templates,
                "clusterType": "PureManage",
            },
            "status": {
                "state": self.state,
                "conditions": self.conditions_json(),
                "apiEndpoints": self.api_endpoints(),
                "packs": self.packs_status(),
                "services": [],
                "addOnServices": [],
                "upgrades": [],
                "fips": {"mode": "none"},
                "spcApply": {"actionType": "DownloadAndInstall", "canBeApplied": true},
                "profileStatus": {"hasUserMacros": false},
            },
        })
    }
}

/// Palette shows pools by the KCP/MD name; machine names follow `<cluster>-cp-xxxxx` and
/// `<cluster>-<pool>-xxxxx`.
pub(crate) fn machine_prefix(cluster: &str, pool: &Pool) -> String {
    if pool.is_cp {
        format!("{cluster}-cp")
    } else {
        let short = pool
            .name
            .strip_prefix(&format!("{cluster}-"))
            .unwrap_or(&pool.name);
        format!("{cluster}-{short}")
    }
}

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/spectroclusters/validate/name", get(validate_name))
        .route("/v1/spectroclusters/cloudTypes/{cloudType}", post(create))
        .route("/v1/spectroclusters/cloudTypes/{cloudType}/validate", post(validate))
        .route("/v1/spectroclusters/{uid}", get(get_one).delete(delete))
        .route("/v1/spectroclusters/{uid}/status", get(status))
        .route(
            "/v1/spectroclusters/{uid}/profiles",
            get(list_profiles).patch(patch_profiles).put(put_profiles),
        )
        .route("/v1/spectroclusters/{uid}/assets/kubeconfig", get(kubeconfig))
        .route("/v1/spectroclusters/{uid}/assets/kubeconfigclient", get(kubeconfig_client))
        .route("/v1/spectroclusters/{uid}/assets/adminKubeconfig", get(admin_kubeconfig))
        .route("/v1/dashboard/spectroclusters/{uid}/overview", get(overview))
        .route("/v1/dashboard/spectroclusters/meta", get(clusters_meta))
        .route("/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}", get(get_cloud_config))
        .route(
            "/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}/clusterConfig",
            put(put_cluster_config),
        )
        .route(
            "/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}/machinePools",
            post(add_pool),
        )
        .route(
            "/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}/machinePools/{machinePoolName}",
            put(update_pool).delete(delete_pool),
        )
        .route(
            "/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}/machinePools/{machinePoolName}/machines",
            get(list_machines),
        )
        .route(
            "/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}/machinePools/{machinePoolName}/machines/{machineUid}",
            get(get_machine),
        )
        .route("/v1/events/components/{objectKind}/{objectUid}", get(events))
}

fn visible(c: &Cluster, caller: &Caller) -> bool {
    c.scope_project == caller.project
}

// ---------------------------------------------------------------------------------------
// Parsing and validation of the cluster and pool YAML

struct ParsedPool {
    name: String,
    size: u32,
    k8s_version: String,
    spec: MachineSpec,
}

fn unresolved(field: &str, value: &str) -> Option<String> {
    value.contains("${").then(|| {
        format!("{field} is \"{value}\", an unresolved macro; fill in the value before creating the cluster")
    })
}

fn resource_identifier(v: &Value) -> (Option<String>, Option<String>) {
    let ty = v["type"].as_str().unwrap_or("name");
    if ty == "uuid" {
        (None, v["uuid"].as_str().map(str::to_owned))
    } else {
        (v["name"].as_str().map(str::to_owned), None)
    }
}

fn parse_pool(
    w: &World,
    yaml_text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<ParsedPool, String> {
    let text = yaml::substitute(yaml_text, vars);
    let docs = yaml::documents(&text).map_err(|e| format!("the pool YAML does not parse: {e}"))?;
    let (controller, nmt_ref, version) =
        if let Some(kcp) = yaml::find_kind(&docs, "KubeadmControlPlane") {
            (
                kcp,
                kcp["spec"]["machineTemplate"]["infrastructureRef"]["name"].as_str(),
                kcp["spec"]["version"].as_str(),
            )
        } else if let Some(md) = yaml::find_kind(&docs, "MachineDeployment") {
            (
                md,
                md["spec"]["template"]["spec"]["infrastructureRef"]["name"].as_str(),
                md["spec"]["template"]["spec"]["version"].as_str(),
            )
        } else {
            return Err(
                "the pool YAML has neither a KubeadmControlPlane nor a MachineDeployment".into(),
            );
        };
    let Some(name) = controller["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
    else {
        return Err(format!(
            "the {} has no metadata.name (the pool name)",
            controller["kind"].as_str().unwrap_or("")
        ));
    };
    if let Some(e) = unresolved("the pool name", name) {
        return Err(e);
    }
    let size = match &controller["spec"]["replicas"] {
        Value::Null => 1,
        v => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| format!("pool {name}: spec.replicas must be a whole number, got {v}"))?,
    };
    if size > MAX_POOL_SIZE {
        return Err(format!(
            "pool {name}: spec.replicas is {size}; the sandbox runs at most {MAX_POOL_SIZE} nodes per pool"
        ));
    }
    let size = size as u32;
    let nmts: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some("NutanixMachineTemplate"))
        .collect();
    let nmt = nmt_ref
        .and_then(|r| {
            nmts.iter()
                .find(|n| n["metadata"]["name"].as_str() == Some(r))
                .copied()
        })
        .or_else(|| nmts.first().copied())
        .ok_or_else(|| format!("pool {name}: the YAML has no NutanixMachineTemplate"))?;
    let ms = &nmt["spec"]["template"]["spec"];
    let (pe_name, pe_uuid) = resource_identifier(&ms["cluster"]);
    if pe_name.is_none() && pe_uuid.is_none() {
        return Err(format!(
            "pool {name}: NutanixMachineTemplate spec.template.spec.cluster is required (the Prism Element cluster)"
        ));
    }
    for v in pe_name.iter().chain(pe_uuid.iter()) {
        if let Some(e) = unresolved("NUTANIX_PRISM_ELEMENT_CLUSTER_NAME", v) {
            return Err(format!("pool {name}: {e}"));
        }
    }
    let pe = crate::prism::ops::find_pe(w, pe_name.as_deref(), pe_uuid.as_deref()).ok_or_else(|| {
        format!(
            "pool {name}: Prism Element cluster '{}' does not exist in Prism Central (NutanixMachineTemplate spec.template.spec.cluster)",
            pe_name.clone().or(pe_uuid.clone()).unwrap_or_default()
        )
    })?;
    let subnet_ids = ms["subnet"].as_array().cloned().unwrap_or_default();
    if subnet_ids.is_empty() {
        return Err(format!(
            "pool {name}: at least one subnet is needed to create the VM (spec.template.spec.subnet)"
        ));
    }
    let mut subnets = Vec::new();
    for s in &subnet_ids {
        let (sn, su) = resource_identifier(s);
        let label = sn.clone().or(su.clone()).unwrap_or_default();
        if let Some(e) = unresolved("NUTANIX_SUBNET_NAME", &label) {
            return Err(format!("pool {name}: {e}"));
        }
        let found = crate::prism::ops::find_subnets(w, &pe, sn.as_deref(), su.as_deref());
        match found.len() {
            0 => {
                return Err(format!(
                    "pool {name}: subnet '{label}' does not exist on Prism Element cluster '{}'",
                    pe.1
                ));
            }
            1 => subnets.push(found[0].clone()),
            _ => {
                return Err(format!(
                    "pool {name}: more than one subnet found with name {label} on '{}'",
                    pe.1
                ));
            }
        }
    }
    let (img_name, img_uuid) = resource_identifier(&ms["image"]);
    if img_name.is_none() && img_uuid.is_none() {
        return Err(format!(
            "pool {name}: NutanixMachineTemplate spec.template.spec.image is required (imageLookup is not supported by the sandbox)"
        ));
    }
    let img_label = img_name.clone().or(img_uuid.clone()).unwrap_or_default();
    if let Some(e) = unresolved("NUTANIX_MACHINE_TEMPLATE_IMAGE_NAME", &img_label) {
        return Err(format!("pool {name}: {e}"));
    }
    let images = crate::prism::ops::find_images(w, img_name.as_deref(), img_uuid.as_deref());
    let image = match images.as_slice() {
        [] => {
            return Err(format!(
                "pool {name}: failed to retrieve image by name {img_label}"
            ));
        }
        [(r, state)] if *state == "COMPLETE" => r.clone(),
        [(_, state)] => {
            return Err(format!(
                "pool {name}: image {img_label} is not ready (state {state})"
            ));
        }
        _ => {
            return Err(format!(
                "pool {name}: more than one image found with name {img_label}"
            ));
        }
    };
    let int = |v: &Value, field: &str, default: u64| -> Result<u64, String> {
        match v {
            Value::Null => Ok(default),
            v => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    format!("pool {name}: {field} must be a whole number >= 1, got {v}")
                }),
        }
    };
    let sockets = int(&ms["vcpuSockets"], "vcpuSockets", 2)? as u32;
    let per_socket = int(&ms["vcpusPerSocket"], "vcpusPerSocket", 1)? as u32;
    let memory_mib = match &ms["memorySize"] {
        Value::Null => 4096,
        v => yaml::quantity_mib(v)
            .ok_or_else(|| format!("pool {name}: memorySize {v} is not a quantity like 4Gi"))?,
    };
    if memory_mib < 2048 {
        return Err(format!("pool {name}: memorySize must be at least 2Gi"));
    }
    let disk_mib = match &ms["systemDiskSize"] {
        Value::Null => 40 * 1024,
        v => yaml::quantity_mib(v).ok_or_else(|| {
            format!("pool {name}: systemDiskSize {v} is not a quantity like 40Gi")
        })?,
    };
    if disk_mib < 20 * 1024 {
        return Err(format!("pool {name}: systemDiskSize must be at least 20Gi"));
    }
    let uefi = match ms["bootType"].as_str() {
        None | Some("legacy") => false,
        Some("uefi") => true,
        Some(other) => {
            return Err(format!(
                "pool {name}: boot type must be legacy or uefi but was {other}"
            ));
        }
    };
    Ok(ParsedPool {
        name: name.to_owned(),
        size,
        k8s_version: version.unwrap_or_default().to_owned(),
        spec: MachineSpec {
            pe,
            subnets,
            image,
            sockets,
            vcpus_per_socket: per_socket,
            memory_mib,
            disk_mib,
            uefi,
        },
    })
}

/// Returns the control-plane endpoint (host, port) from the NutanixCluster.
fn parse_cluster_values(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<(String, u16), String> {
    let text = yaml::substitute(text, vars);
    let docs = yaml::documents(&text)
        .map_err(|e| format!("spec.cloudConfig.values does not parse as YAML: {e}"))?;
    let nc = yaml::find_kind(&docs, "NutanixCluster")
        .ok_or_else(|| "spec.cloudConfig.values has no NutanixCluster document".to_owned())?;
    let ep = &nc["spec"]["controlPlaneEndpoint"];
    let host = ep["host"].as_str().unwrap_or_default().trim().to_owned();
    if host.is_empty() {
        return Err(
            "NutanixCluster spec.controlPlaneEndpoint.host (CONTROL_PLANE_ENDPOINT_IP) is required"
                .into(),
        );
    }
    if let Some(e) = unresolved("CONTROL_PLANE_ENDPOINT_IP", &host) {
        return Err(e);
    }
    let port = match &ep["port"] {
        Value::Null => 6443,
        v => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|p| (1..=65535).contains(p))
            .ok_or_else(|| {
                format!("NutanixCluster spec.controlPlaneEndpoint.port must be 1-65535, got {v}")
            })? as u16,
    };
    Ok((host, port))
}

struct Validated {
    name: String,
    account_uid: String,
    profile_uids: Vec<String>,
    profile_templates: Vec<Value>,
    cluster_values: String,
    vip: String,
    vip_port: u16,
    pools: Vec<(ParsedPool, Value)>,
}

fn valid_cluster_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !n.starts_with('-')
        && !n.ends_with('-')
}

fn macro_vars(w: &World, account_uid: &str, cluster_name: &str) -> BTreeMap<String, String> {
    let mut vars = w
        .palette
        .accounts
        .iter()
        .find(|a| a.meta.uid == account_uid)
        .map(|a| a.credentials.clone())
        .unwrap_or_default();
    vars.insert("CLUSTER_NAME".into(), cluster_name.to_owned());
    vars
}

fn validate_entity(w: &World, ct: &str, v: &Value, caller: &Caller) -> Result<Validated, Response> {
    let Some(name) = v["metadata"]["name"].as_str().map(str::trim) else {
        return Err(bad_request("metadata.name is required"));
    };
    if !valid_cluster_name(name) {
        return Err(bad_request(format!(
            "Cluster name \"{name}\" is invalid: use up to 63 lowercase letters, digits and dashes, starting and ending with a letter or digit"
        )));
    }
    let spec = &v["spec"];
    let Some(account_uid) = spec["cloudAccountUid"].as_str().filter(|s| !s.is_empty()) else {
        return Err(bad_request("spec.cloudAccountUid is required"));
    };
    if !w
        .palette
        .accounts
        .iter()
        .any(|a| a.meta.uid == account_uid && a.kind == ct && super::accounts::visible(a, caller))
    {
        return Err(bad_request(format!(
            "Cloud account '{account_uid}' does not exist for cloud type '{ct}'"
        )));
    }
    let Some(values) = spec["cloudConfig"]["values"]
        .as_str()
        .filter(|s| !s.trim().is_empty())
    else {
        return Err(bad_request(
            "spec.cloudConfig.values is required: the cluster template YAML",
        ));
    };
    let vars = macro_vars(w, account_uid, name);
    let (vip, vip_port) = parse_cluster_values(values, &vars).map_err(bad_request)?;
    let pools_in = spec["machinepoolconfig"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !pools_in
        .iter()
        .any(|p| p["poolConfig"]["isControlPlane"].as_bool() == Some(true))
    {
        return Err(bad_request(
            "spec.machinepoolconfig needs a control-plane pool (poolConfig.isControlPlane: true)",
        ));
    }
    let mut pools = Vec::new();
    for p in &pools_in {
        let Some(text) = p["cloudConfig"]["values"]
            .as_str()
            .filter(|s| !s.trim().is_empty())
        else {
            return Err(bad_request(
                "every machine pool needs cloudConfig.values (the pool YAML)",
            ));
        };
        let parsed = parse_pool(w, text, &vars).map_err(bad_request)?;
        let is_cp = p["poolConfig"]["isControlPlane"].as_bool() == Some(true);
        if is_cp && parsed.size == 0 {
            return Err(bad_request(
                "the control-plane pool needs at least 1 replica",
            ));
        }
        if pools
            .iter()
            .any(|(q, _): &(ParsedPool, Value)| q.name == parsed.name)
        {
            return Err(bad_request(format!(
                "two machine pools are named '{}'",
                parsed.name
            )));
        }
        pools.push((parsed, p.clone()));
    }
    if pools
        .iter()
        .filter(|(_, p)| p["poolConfig"]["isControlPlane"].as_bool() == Some(true))
        .count()
        > 1
    {
        return Err(bad_request(
            "only one machine pool can be the control plane",
        ));
    }
    let mut profile_uids = Vec::new();
    let mut profile_templates = Vec::new();
    for p in spec["profiles"].as_array().cloned().unwrap_or_default() {
        let Some(uid) = p["uid"].as_str() else {
            return Err(bad_request("every spec.profiles[] entry needs a uid"));
        };
        let Some(profile) = w
            .palette
            .profiles
            .iter()
            .find(|x| x.meta.uid == uid && x.scope_project == caller.project)
        else {
            return Err(bad_request(format!("Cluster profile '{uid}' not found")));
        };
        if profile.cloud_type != ct && profile.cloud_type != "all" {
            return Err(bad_request(format!(
                "Cluster profile '{}' is for cloud type '{}', not '{ct}'",
                profile.meta.name, profile.cloud_type
            )));
        }
        let tmpl = profile.attached_template(&p).map_err(bad_request)?;
        profile_uids.push(uid.to_owned());
        profile_templates.push(tmpl);
    }
    Ok(Validated {
        name: name.to_owned(),
        account_uid: account_uid.to_owned(),
        profile_uids,
        profile_templates,
        cluster_values: values.to_owned(),
        vip,
        vip_port,
        pools,
    })
}

fn new_pool(parsed: ParsedPool, entity: &Value, values: String) -> Pool {
    Pool {
        name: parsed.name,
        is_cp: entity["poolConfig"]["isControlPlane"].as_bool() == Some(true),
        size: parsed.size,
        values,
        taints: entity["poolConfig"]["taints"].clone(),
        use_cp_as_worker: entity["poolConfig"]["useControlPlaneAsWorker"]
            .as_bool()
            .unwrap_or(false),
        labels: entity["poolConfig"]["additionalLabels"].clone(),
        spec: parsed.spec,
        k8s_version: parsed.k8s_version,
        machines: Vec::new(),
        deleted: false,
    }
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
    let val = match validate_entity(&w, &ct, &v, &caller) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if w.palette
        .clusters
        .iter()
        .any(|c| c.meta.name == val.name && visible(c, &caller) && c.state != "Deleted")
    {
        return conflict(format!("Cluster '{}' already exists", val.name));
    }
    let uid = hex_uid(&mut w.rng);
    let config_uid = hex_uid(&mut w.rng);
    let mut meta = Meta::new(uid.clone(), val.name.clone());
    meta.apply_input(&v["metadata"]);
    let pools = val
        .pools
        .into_iter()
        .map(|(parsed, entity)| {
            let values = entity["cloudConfig"]["values"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            new_pool(parsed, &entity, values)
        })
        .collect();
    let mut cluster = Cluster {
        meta,
        scope_project: caller.project,
        cloud_type: ct,
        account_uid: val.account_uid,
        cloud_config_uid: config_uid,
        state: "Pending".into(),
        healthy: false,
        profile_uids: val.profile_uids,
        profile_templates: val.profile_templates,
        cluster_values: val.cluster_values,
        vip: val.vip,
        vip_port: val.vip_port,
        vip_holder: None,
        api_ready: false,
        pools,
        conditions: BTreeMap::new(),
        profile_apply: None,
        kubernetes_version: None,
    };
    cluster.set_condition("Provisioned", false, "WaitingForCloudResources");
    w.palette.clusters.push(cluster);
    lifecycle::event(
        &mut w,
        &uid,
        "Created",
        "Cluster created; waiting for the private cloud gateway to pick it up",
        "Info",
    );
    w.schedule(
        lifecycle::PENDING_SECS,
        Event::ClusterProvisioning(uid.clone()),
    );
    created(&uid)
}

async fn validate(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(ct): Path<String>,
    body: Bytes,
) -> Response {
    let w = shared.world();
    if let Err(e) = require_cloud_type(&w, &ct) {
        return e;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    match validate_entity(&w, &ct, &v, &caller) {
        Ok(val) => ok(json!({
            "machinePools": {"results": val.pools.iter().map(|(p, _)| json!({"name": p.name, "displayName": p.name, "errors": []})).collect::<Vec<_>>()},
            "profiles": val.profile_uids.iter().map(|u| json!({"uid": u, "packs": {"results": []}})).collect::<Vec<_>>(),
        })),
        Err(e) => e,
    }
}

#[derive(serde::Deserialize)]
struct NameQuery {
    name: Option<String>,
}

async fn validate_name(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(q): Query<NameQuery>,
) -> Response {
    let Some(name) = q.name.filter(|n| !n.is_empty()) else {
        return bad_request("query parameter name is required");
    };
    if !valid_cluster_name(&name) {
        return bad_request(format!(
            "Cluster name \"{name}\" is invalid: use lowercase letters, digits and dashes"
        ));
    }
    let w = shared.world();
    if w.palette
        .clusters
        .iter()
        .any(|c| c.meta.name == name && visible(c, &caller) && c.state != "Deleted")
    {
        conflict(format!("Cluster '{name}' already exists"))
    } else {
        no_content()
    }
}

fn find<'a>(w: &'a World, uid: &str, caller: &Caller) -> Result<&'a Cluster, Response> {
    w.palette
        .clusters
        .iter()
        .find(|c| c.meta.uid == uid && visible(c, caller))
        .ok_or_else(|| not_found_msg(format!("Cluster '{uid}' not found")))
}

async fn get_one(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    match find(&w, &uid, &caller) {
        Ok(c) => ok(c.to_json()),
        Err(e) => e,
    }
}

async fn status(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    match find(&w, &uid, &caller) {
        Ok(c) => ok(json!({"status": {"state": c.state}})),
        Err(e) => e,
    }
}

async fn overview(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    let c = match find(&w, &uid, &caller) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let account = w
        .palette
        .accounts
        .iter()
        .find(|a| a.meta.uid == c.account_uid);
    let mut status = json!({
        "state": c.state,
        "conditions": c.conditions_json(),
        "apiEndpoints": c.api_endpoints(),
        "packs": c.packs_status(),
        "kubeMeta": {"kubernetesVersion": c.k8s_version(), "hasKubeConfig": c.api_ready, "hasKubeConfigClient": c.api_ready, "hasManifest": false},
        "notifications": {"isAvailable": false, "isTemplateVariableResolutionPending": false},
        "fips": {"mode": "none"},
        "spcApply": {"actionType": "DownloadAndInstall", "canBeApplied": true},
    });
    if c.healthy {
        status["health"] = json!({"state": "Healthy", "agentVersion": "4.6.21", "lastHeartBeatTimestamp": now_rfc3339(), "conditions": []});
    }
    ok(json!({
        "metadata": c.meta.to_json(),
        "spec": {
            "cloudType": c.cloud_type,
            "cloudConfig": {"uid": c.cloud_config_uid, "name": format!("{}-config", c.meta.name), "kind": "CustomCloudConfig"},
            "cloudAccountMeta": {"uid": c.account_uid, "name": account.map(|a| a.meta.name.clone()).unwrap_or_default()},
            "clusterProfileTemplates": c.profile_templates,
        },
        "status": status,
    }))
}

/// `v1SpectroClustersMeta`: per the spec a bare JSON array (no `items` wrapper).
async fn clusters_meta(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    let w = shared.world();
    let items: Vec<Value> = w
        .palette
        .clusters
        .iter()
        .filter(|c| visible(c, &caller))
        .map(|c| {
            json!({
                "metadata": c.meta.to_json(),
                "spec": {"cloudType": c.cloud_type, "cloudAccountUid": c.account_uid, "clusterType": "PureManage", "tags": c.meta.labels.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>()},
                "status": {"state": c.state},
            })
        })
        .collect();
    ok(Value::Array(items))
}

#[derive(serde::Deserialize)]
struct DeleteQuery {
    #[serde(rename = "forceDelete")]
    force_delete: Option<bool>,
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Response {
    let mut w = shared.world();
    if let Err(e) = find(&w, &uid, &caller) {
        return e;
    }
    if q.force_delete.unwrap_or(false) {
        // Like real Palette: the record goes at once; cloud resources stay for manual clean-up.
        lifecycle::event(
            &mut w,
            &uid,
            "ForceDeleted",
            "Cluster force-deleted; its VMs are left in Prism Central for manual clean-up",
            "Warning",
        );
        w.palette.clusters.retain(|c| c.meta.uid != uid);
        return no_content();
    }
    lifecycle::start_delete(&mut w, &uid);
    no_content()
}

// ---------------------------------------------------------------------------------------
// Attached profiles (day 2: update the cluster to another profile version)

/// `v1SpectroClusterProfileList`: the profiles as the cluster has them applied. The spec
/// gives `spec.version` as the integer revision; the profile version (`1.1.0`) is on the
/// cluster's `spec.clusterProfileTemplates[].profileVersion`.
async fn list_profiles(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    let w = shared.world();
    let c = match find(&w, &uid, &caller) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let profiles: Vec<Value> = c
        .profile_templates
        .iter()
        .map(|t| {
            let profile_uid = t["uid"].as_str().unwrap_or_default();
            let name = t["name"].as_str().unwrap_or_default();
            let meta = w
                .palette
                .profiles
                .iter()
                .find(|p| p.meta.uid == profile_uid)
                .map_or_else(
                    || Meta::new(profile_uid.to_owned(), name.to_owned()),
                    |p| p.meta.clone(),
                );
            let packs: Vec<Value> = t["packs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|pk| {
                    json!({
                        "metadata": {"uid": pk["packUid"], "name": pk["name"]},
                        "spec": super::profiles::pack_summary_spec(pk),
                        "status": {},
                    })
                })
                .collect();
            json!({
                "metadata": meta.to_json(),
                "spec": {
                    "cloudType": t["cloudType"],
                    "type": t["type"],
                    "version": t["version"],
                    "packs": packs,
                },
            })
        })
        .collect();
    ok(json!({ "profiles": profiles }))
}

/// PATCH merges the entries into the attached profiles; PUT makes them the whole set.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ProfilesUpdate {
    Merge,
    Replace,
}

async fn patch_profiles(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    update_profiles(&shared, &caller, &uid, &body, ProfilesUpdate::Merge)
}

async fn put_profiles(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    update_profiles(&shared, &caller, &uid, &body, ProfilesUpdate::Replace)
}

fn is_base_profile(template: &Value) -> bool {
    matches!(template["type"].as_str(), Some("cluster" | "infra"))
}

/// `(profile name, pack name) -> (tag, values)` of every attached pack.
fn pack_index(templates: &[Value]) -> BTreeMap<(String, String), (Value, Value)> {
    templates
        .iter()
        .flat_map(|t| {
            let profile = t["name"].as_str().unwrap_or_default().to_owned();
            t["packs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |p| {
                    (
                        (
                            profile.clone(),
                            p["name"].as_str().unwrap_or_default().to_owned(),
                        ),
                        (p["tag"].clone(), p["values"].clone()),
                    )
                })
        })
        .collect()
}

fn k8s_tag(templates: &[Value]) -> Option<String> {
    templates
        .iter()
        .flat_map(|t| t["packs"].as_array().cloned().unwrap_or_default())
        .find(|p| p["layer"] == "k8s")
        .and_then(|p| p["tag"].as_str().map(str::to_owned))
}

fn update_profiles(
    shared: &Shared,
    caller: &Caller,
    uid: &str,
    body: &Bytes,
    mode: ProfilesUpdate,
) -> Response {
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Some(entries) = v["profiles"].as_array() else {
        return bad_request("profiles is required: [{uid, packValues, replaceWithProfile}]");
    };
    let mut w = shared.world();
    let c = match find(&w, uid, caller) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if c.state != "Running" {
        return error(
            StatusCode::CONFLICT,
            "ClusterNotRunning",
            format!(
                "Cluster '{}' is {}; its profiles can be updated once it is Running",
                c.meta.name, c.state
            ),
        );
    }
    let current = c.profile_templates.clone();
    let cloud_type = c.cloud_type.clone();
    let mut next = current.clone();
    let mut touched = vec![false; next.len()];
    for entry in entries {
        let Some(profile_uid) = entry["uid"].as_str().filter(|u| !u.is_empty()) else {
            return bad_request("every profiles[] entry needs a uid");
        };
        let profile = match super::profiles::find(&w, profile_uid, caller) {
            Ok(p) => p,
            Err(e) => return e,
        };
        if profile.cloud_type != cloud_type && profile.cloud_type != "all" {
            return bad_request(format!(
                "Cluster profile '{}' is for cloud type '{}', not '{cloud_type}'",
                profile.meta.name, profile.cloud_type
            ));
        }
        let template = match profile.attached_template(entry) {
            Ok(t) => t,
            Err(e) => return bad_request(e),
        };
        let replaces = entry["replaceWithProfile"]
            .as_str()
            .filter(|u| !u.is_empty());
        let slot = match replaces {
            Some(old) => match next.iter().position(|t| t["uid"] == old) {
                Some(i) => Some(i),
                None => {
                    return bad_request(format!(
                        "replaceWithProfile: cluster profile '{old}' is not attached to cluster '{}'",
                        c.meta.name
                    ));
                }
            },
            // Another version of an attached profile shares its name.
            None => next
                .iter()
                .position(|t| t["uid"] == profile_uid || t["name"] == template["name"]),
        };
        match slot {
            Some(i) => {
                next[i] = template;
                touched[i] = true;
            }
            None => {
                if is_base_profile(&template) && next.iter().any(is_base_profile) {
                    return bad_request(format!(
                        "Cluster '{}' already has an infrastructure profile; to switch to '{}', send replaceWithProfile with the uid of the attached one",
                        c.meta.name, profile.meta.name
                    ));
                }
                next.push(template);
                touched.push(true);
            }
        }
    }
    if mode == ProfilesUpdate::Replace {
        next = next
            .into_iter()
            .zip(touched)
            .filter_map(|(t, keep)| keep.then_some(t))
            .collect();
        if next.is_empty() {
            return bad_request("a cluster needs at least one profile");
        }
    }
    if next == current {
        // Nothing to apply: the same versions and values are already there.
        return no_content();
    }
    let before = pack_index(&current);
    let changed: Vec<String> = pack_index(&next)
        .into_iter()
        .filter(|(key, now)| before.get(key) != Some(now))
        .map(|((_, pack), _)| pack)
        .collect();
    let new_k8s = k8s_tag(&next).filter(|t| Some(t) != k8s_tag(&current).as_ref());
    let apply_id = hex_uid(&mut w.rng);
    let summary: Vec<String> = next
        .iter()
        .map(|t| {
            format!(
                "{} {}",
                t["name"].as_str().unwrap_or_default(),
                t["profileVersion"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let Some(c) = w.palette.clusters.iter_mut().find(|c| c.meta.uid == uid) else {
        return not_found_msg(format!("Cluster '{uid}' not found"));
    };
    c.profile_uids = next
        .iter()
        .filter_map(|t| t["uid"].as_str().map(str::to_owned))
        .collect();
    c.profile_templates = next;
    c.profile_apply = Some(ProfileApply {
        id: apply_id.clone(),
        packs: changed.clone(),
        started: now_rfc3339(),
        kubernetes_version: new_k8s.map(|t| {
            if t.starts_with('v') {
                t
            } else {
                format!("v{t}")
            }
        }),
    });
    c.meta.touch();
    lifecycle::event(
        &mut w,
        uid,
        "ProfileUpdating",
        &format!(
            "Updating the cluster to {}; applying packs: {}",
            summary.join(", "),
            if changed.is_empty() {
                "none".to_owned()
            } else {
                changed.join(", ")
            }
        ),
        "Info",
    );
    w.schedule(
        lifecycle::PROFILE_APPLY_SECS,
        Event::ProfileApplied {
            cluster: uid.to_owned(),
            apply: apply_id,
        },
    );
    no_content()
}

// ---------------------------------------------------------------------------------------
// Kubeconfig assets

fn kubeconfig_yaml(c: &Cluster, server: &str, user: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(format!(
        "-----BEGIN CERTIFICATE-----\nMIIC-capstan-sandbox-ca-for-{}\n-----END CERTIFICATE-----\n",
        c.meta.uid
    ));
    let token = format!("capstan-sandbox-token-{}", &c.meta.uid);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    certificate-authority-data: {ca}\n    server: {server}\ncontexts:\n- name: {user}@{name}\n  context:\n    cluster: {name}\n    user: {user}\ncurrent-context: {user}@{name}\npreferences: {{}}\nusers:\n- name: {user}\n  user:\n    token: {token}\n",
        name = c.meta.name
    )
}

fn kubeconfig_for(
    shared: &Shared,
    uid: &str,
    caller: &Caller,
    admin: bool,
    frp: bool,
) -> Result<(String, String), Response> {
    let w = shared.world();
    let c = find(&w, uid, caller)?;
    if !c.api_ready {
        return Err(not_found_msg(format!(
            "Cluster '{}' has no kubeconfig yet; it is {}",
            c.meta.name, c.state
        )));
    }
    let direct = format!("https://{}:{}", c.vip, c.vip_port);
    let server = if frp {
        format!("https://{}.proxy.capstan-sandbox.local:443", c.meta.uid)
    } else {
        direct
    };
    let user = if admin {
        format!("{}-admin", c.meta.name)
    } else {
        format!("{}-user", c.meta.name)
    };
    Ok((kubeconfig_yaml(c, &server, &user), c.meta.name.clone()))
}

#[derive(serde::Deserialize)]
struct FrpQuery {
    frp: Option<bool>,
}

async fn kubeconfig(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    Query(q): Query<FrpQuery>,
) -> Response {
    match kubeconfig_for(&shared, &uid, &caller, false, q.frp.unwrap_or(true)) {
        // This asset comes base64-encoded, as real Palette sometimes sends it.
        Ok((k, name)) => octet_stream(
            base64::engine::general_purpose::STANDARD
                .encode(k)
                .into_bytes(),
            &format!("{name}.kubeconfig"),
        ),
        Err(e) => e,
    }
}

async fn kubeconfig_client(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
    Query(q): Query<FrpQuery>,
) -> Response {
    match kubeconfig_for(&shared, &uid, &caller, false, q.frp.unwrap_or(false)) {
        Ok((k, name)) => octet_stream(k.into_bytes(), &format!("{name}-client.kubeconfig")),
        Err(e) => e,
    }
}

async fn admin_kubeconfig(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(uid): Path<String>,
) -> Response {
    match kubeconfig_for(&shared, &uid, &caller, true, false) {
        Ok((k, name)) => octet_stream(k.into_bytes(), &format!("{name}-admin.kubeconfig")),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------
// Cloud configs, pools and machines

fn find_by_config<'a>(
    w: &'a World,
    ct: &str,
    config_uid: &str,
    caller: &Caller,
) -> Result<&'a Cluster, Response> {
    require_cloud_type(w, ct)?;
    w.palette
        .clusters
        .iter()
        .find(|c| c.cloud_config_uid == config_uid && c.cloud_type == ct && visible(c, caller))
        .ok_or_else(|| not_found_msg(format!("Cloud config '{config_uid}' not found")))
}

/// The cluster a cloud-config path names, as `(uid, account uid, name)`: what the config
/// and pool handlers need to find it again and to fill its macros.
fn config_owner(
    w: &World,
    ct: &str,
    config_uid: &str,
    caller: &Caller,
) -> Result<(String, String, String), Response> {
    find_by_config(w, ct, config_uid, caller).map(|c| {
        (
            c.meta.uid.clone(),
            c.account_uid.clone(),
            c.meta.name.clone(),
        )
    })
}

const POOL_YAML_REQUIRED: &str = "cloudConfig.values is required (the pool YAML)";

/// A YAML document the request must carry at `pointer`, not blank.
fn required_yaml<'a>(v: &'a Value, pointer: &str, message: &str) -> Result<&'a str, Response> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| bad_request(message))
}

fn pool_json(p: &Pool) -> Value {
    json!({
        "name": p.name,
        "isControlPlane": p.is_cp,
        "size": p.size,
        "values": p.values,
        "taints": if p.taints.is_array() { p.taints.clone() } else { json!([]) },
        "useControlPlaneAsWorker": p.use_cp_as_worker,
        "additionalLabels": if p.labels.is_object() { p.labels.clone() } else { json!({}) },
        "additionalAnnotations": {},
    })
}

async fn get_cloud_config(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, config_uid)): Path<(String, String)>,
) -> Response {
    let w = shared.world();
    let c = match find_by_config(&w, &ct, &config_uid, &caller) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let account = w
        .palette
        .accounts
        .iter()
        .find(|a| a.meta.uid == c.account_uid);
    let mut meta = Meta::new(
        c.cloud_config_uid.clone(),
        format!("{}-config", c.meta.name),
    );
    meta.created = c.meta.created.clone();
    ok(json!({
        "kind": "CustomCloudConfig",
        "metadata": meta.to_json(),
        "spec": {
            "cloudAccountRef": {"kind": "cloudaccount", "uid": c.account_uid, "name": account.map(|a| a.meta.name.clone()).unwrap_or_default()},
            "clusterConfig": {"values": c.cluster_values},
            "machinePoolConfig": c.pools.iter().filter(|p| !p.deleted).map(pool_json).collect::<Vec<_>>(),
        },
    }))
}

async fn put_cluster_config(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, config_uid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut w = shared.world();
    let (uid, account_uid, name) = match config_owner(&w, &ct, &config_uid, &caller) {
        Ok(owner) => owner,
        Err(e) => return e,
    };
    let values = match required_yaml(
        &v,
        "/clusterConfig/values",
        "clusterConfig.values is required",
    ) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let vars = macro_vars(&w, &account_uid, &name);
    if let Err(e) = parse_cluster_values(values, &vars) {
        return bad_request(e);
    }
    if let Some(c) = w.palette.clusters.iter_mut().find(|c| c.meta.uid == uid) {
        c.cluster_values = values.to_owned();
        c.meta.touch();
    }
    no_content()
}

async fn add_pool(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, config_uid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut w = shared.world();
    let (uid, account_uid, name) = match config_owner(&w, &ct, &config_uid, &caller) {
        Ok(owner) => owner,
        Err(e) => return e,
    };
    let text = match required_yaml(&v, "/cloudConfig/values", POOL_YAML_REQUIRED) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let vars = macro_vars(&w, &account_uid, &name);
    let parsed = match parse_pool(&w, text, &vars) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    let pool = new_pool(parsed, &v, text.to_owned());
    let Some(c) = w.palette.clusters.iter_mut().find(|c| c.meta.uid == uid) else {
        return not_found_msg(format!("Cluster '{uid}' not found"));
    };
    if c.state == "Deleting" || c.state == "Deleted" {
        return bad_request(format!("Cluster '{}' is {}", c.meta.name, c.state));
    }
    if c.pools.iter().any(|p| p.name == pool.name && !p.deleted) {
        return conflict(format!("Machine pool '{}' already exists", pool.name));
    }
    if pool.is_cp && c.pools.iter().any(|p| p.is_cp) {
        return bad_request("the cluster already has a control-plane pool");
    }
    let pool_name = pool.name.clone();
    c.pools.retain(|p| !(p.deleted && p.name == pool_name));
    c.pools.push(pool);
    let started = c.state != "Pending";
    let pool_uid = hex_uid(&mut w.rng);
    if started {
        lifecycle::reconcile_pool(&mut w, &uid, &pool_name);
    }
    created(&pool_uid)
}

async fn update_pool(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, config_uid, pool_name)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut w = shared.world();
    let (uid, account_uid, name) = match config_owner(&w, &ct, &config_uid, &caller) {
        Ok(owner) => owner,
        Err(e) => return e,
    };
    let text = match required_yaml(&v, "/cloudConfig/values", POOL_YAML_REQUIRED) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let vars = macro_vars(&w, &account_uid, &name);
    let parsed = match parse_pool(&w, text, &vars) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    if parsed.name != pool_name {
        return bad_request(format!(
            "the pool YAML names the pool '{}', but the path says '{pool_name}'; a pool cannot be renamed",
            parsed.name
        ));
    }
    let Some(c) = w.palette.clusters.iter_mut().find(|c| c.meta.uid == uid) else {
        return not_found_msg(format!("Cluster '{uid}' not found"));
    };
    if c.state == "Deleting" || c.state == "Deleted" {
        return bad_request(format!("Cluster '{}' is {}", c.meta.name, c.state));
    }
    let Some(pool) = c
        .pools
        .iter_mut()
        .find(|p| p.name == pool_name && !p.deleted)
    else {
        return not_found_msg(format!("Machine pool '{pool_name}' not found"));
    };
    if pool.is_cp && parsed.size == 0 {
        return bad_request("the control-plane pool needs at least 1 replica");
    }
    // A new version in the control-plane YAML is the latest word on the cluster's version.
    let cp_version_changed = pool.is_cp && pool.k8s_version != parsed.k8s_version;
    pool.size = parsed.size;
    pool.spec = parsed.spec;
    pool.k8s_version = parsed.k8s_version;
    pool.values = text.to_owned();
    if !v["poolConfig"]["taints"].is_null() {
        pool.taints = v["poolConfig"]["taints"].clone();
    }
    if !v["poolConfig"]["additionalLabels"].is_null() {
        pool.labels = v["poolConfig"]["additionalLabels"].clone();
    }
    if cp_version_changed {
        c.kubernetes_version = None;
    }
    c.meta.touch();
    let started = c.state != "Pending";
    if started {
        lifecycle::reconcile_pool(&mut w, &uid, &pool_name);
    }
    no_content()
}

async fn delete_pool(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, config_uid, pool_name)): Path<(String, String, String)>,
) -> Response {
    let mut w = shared.world();
    let uid = match find_by_config(&w, &ct, &config_uid, &caller) {
        Ok(c) => c.meta.uid.clone(),
        Err(e) => return e,
    };
    let Some(c) = w.palette.clusters.iter_mut().find(|c| c.meta.uid == uid) else {
        return not_found_msg(format!("Cluster '{uid}' not found"));
    };
    let Some(pool) = c
        .pools
        .iter_mut()
        .find(|p| p.name == pool_name && !p.deleted)
    else {
        return not_found_msg(format!("Machine pool '{pool_name}' not found"));
    };
    if pool.is_cp {
        return bad_request("the control-plane pool cannot be deleted; delete the cluster instead");
    }
    pool.deleted = true;
    pool.size = 0;
    lifecycle::reconcile_pool(&mut w, &uid, &pool_name);
    no_content()
}

pub(crate) fn machine_json(c: &Cluster, p: &Pool, m: &Machine) -> Value {
    let running = m.state == "Running";
    let mut addresses: Vec<Value> = m
        .ips
        .iter()
        .map(|ip| json!({"type": "InternalIP", "address": ip}))
        .collect();
    if m.vm_uuid.is_some() {
        addresses.push(json!({"type": "Hostname", "address": m.name}));
    }
    let nics: Vec<Value> = p
        .spec
        .subnets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({"index": i, "networkName": s.1, "privateIPs": m.ips.get(i).map(|ip| vec![ip.clone()]).unwrap_or_default(), "publicIp": ""})
        })
        .collect();
    let mut meta = Meta::new(m.uid.clone(), m.name.clone());
    meta.created = m.created.clone();
    meta.modified = m.updated.clone();
    if let Some(vm) = &m.vm_uuid {
        meta.annotations
            .insert("providerID".into(), format!("nutanix://{vm}"));
    }
    let mut health = json!({"state": if running { "Healthy" } else { "" }, "conditions": []});
    if running {
        health["lastHeartBeatTimestamp"] = json!(now_rfc3339());
    }
    json!({
        "apiVersion": "v1",
        "kind": "CustomMachine",
        "metadata": meta.to_json(),
        "spec": {
            "cloudType": c.cloud_type,
            "hostName": m.name,
            "imageId": p.spec.image.1,
            "instanceType": {
                "name": format!("{}vCPU-{}MiB", p.spec.sockets * p.spec.vcpus_per_socket, p.spec.memory_mib),
                "numCPUs": p.spec.sockets * p.spec.vcpus_per_socket,
                "memoryMiB": p.spec.memory_mib,
                "diskGiB": p.spec.disk_mib / 1024,
            },
            "nics": nics,
            "sshKeyName": "",
        },
        "status": {
            "instanceState": m.state,
            "ready": running,
            "addresses": addresses,
            "health": health,
            "maintenanceStatus": {"action": "", "state": "", "message": ""},
            "instanceStateLastUpdate": m.updated,
        },
    })
}

async fn list_machines(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, config_uid, pool_name)): Path<(String, String, String)>,
    Query(q): Query<ListQuery>,
) -> Response {
    let w = shared.world();
    let c = match find_by_config(&w, &ct, &config_uid, &caller) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let Some(p) = c.pools.iter().find(|p| p.name == pool_name && !p.deleted) else {
        return not_found_msg(format!("Machine pool '{pool_name}' not found"));
    };
    let items: Vec<Value> = p.machines.iter().map(|m| machine_json(c, p, m)).collect();
    match paged(items, &q) {
        Ok(v) => ok(v),
        Err(e) => e,
    }
}

async fn get_machine(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((ct, config_uid, pool_name, machine_uid)): Path<(String, String, String, String)>,
) -> Response {
    let w = shared.world();
    let c = match find_by_config(&w, &ct, &config_uid, &caller) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let Some(p) = c.pools.iter().find(|p| p.name == pool_name && !p.deleted) else {
        return not_found_msg(format!("Machine pool '{pool_name}' not found"));
    };
    match p.machines.iter().find(|m| m.uid == machine_uid) {
        Some(m) => ok(machine_json(c, p, m)),
        None => not_found_msg(format!("Machine '{machine_uid}' not found")),
    }
}

async fn events(
    State(shared): State<Arc<Shared>>,
    Path((object_kind, object_uid)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Response {
    let w = shared.world();
    let items: Vec<Value> = w
        .palette
        .events
        .iter()
        .rev()
        .filter(|e| {
            e.object_uid == object_uid && (object_kind == "spectrocluster" || object_kind == e.kind)
        })
        .map(lifecycle::ClusterEvent::to_json)
        .collect();
    match paged(items, &q) {
        Ok(v) => ok(v),
        Err(e) => e,
    }
}

/// Creates the VM for a machine in Prism (the emulated CAPX controller).
pub(crate) fn provision_vm(
    w: &mut World,
    cluster_name: &str,
    spec: &MachineSpec,
    machine_name: &str,
) -> (String, Vec<String>) {
    let mut categories = BTreeMap::new();
    categories.insert("KubernetesClusterName".to_owned(), cluster_name.to_owned());
    ops::create_vm(
        w,
        ops::VmSpec {
            name: machine_name.to_owned(),
            cluster: spec.pe.clone(),
            subnets: spec.subnets.clone(),
            image: Some(spec.image.clone()),
            sockets: spec.sockets,
            vcpus_per_socket: spec.vcpus_per_socket,
            memory_mib: spec.memory_mib,
            disk_mib: spec.disk_mib,
            categories,
            uefi: spec.uefi,
            description: format!("Created by CAPX for cluster {cluster_name}"),
        },
    )
}
