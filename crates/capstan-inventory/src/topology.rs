//! The topology model behind the Topology page, built from the local cache.
//!
//! Hierarchy (each node's `parent`): Palette → project → PCG; Prism Central → Prism Element
//! → Kubernetes cluster → pool → VM; a PE's other VMs sit in a `vm_group` node. Subnets hang
//! off their PE (overlay subnets off Prism Central), images off Prism Central. Edges carry
//! the hierarchy (`contains`) and the cross-links: a PCG `manages` Prism Central through a
//! cloud account, a PCG `deploys` a Kubernetes cluster (Palette's record), a Kubernetes
//! cluster `runs_on` every PE hosting its VMs, pools `boot_from` images, VMs and groups are
//! `attached` to subnets.
//!
//! A Kubernetes cluster is found from its VMs' `KubernetesClusterName` category (CAPX sets
//! it) and matched by name to Palette's cluster record. Its pools come from Palette's
//! machine pools (VMs matched to pools through Palette's machines: the machine name or the
//! `providerID` `nutanix://<vm uuid>`, else the `<cluster>-cp-` / `<cluster>-<pool>-` name
//! prefix); without a Palette record, control-plane VMs are told by `-kcp-`/`-cp-`/
//! `control-plane` in their names. The kube-vip VIP is the `LEARNED` IP on a control-plane
//! VM that is not one of its own assigned IPs; Palette's `controlPlaneEndpoint.host` is
//! used when no VM shows it (yet).
//!
//! Scale: [`TopologyModel::load`] reads the cache once (25,000 VMs into compact structs, from
//! the store's narrow VM query rather than their JSON);
//! [`TopologyModel::graph`] then emits VM nodes only for Kubernetes clusters and for
//! expanded groups (or groups small enough to show inline), so re-rendering after an expand
//! does not touch the cache. [`TopologyModel::search`] finds VMs inside collapsed groups and
//! says which group to expand.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use capstan_store::{CachedEntity, Kind, ListQuery, Store, StoreError, VmSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The category CAPX puts on every VM of a cluster.
pub const CLUSTER_CATEGORY: &str = "KubernetesClusterName";

pub use capstan_ipc::inventory::{
    EdgeKind, NodeCounts, NodeKind, NodeLink, NodeStatus as Status, SearchHit, TopologyEdge,
    TopologyGraph, TopologyNode,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopologyOptions {
    /// Ids of `vm_group` nodes whose VMs are shown.
    pub expanded: HashSet<String>,
    /// Groups with at most this many VMs are shown expanded anyway.
    pub inline_limit: usize,
}

impl Default for TopologyOptions {
    fn default() -> Self {
        Self {
            expanded: HashSet::new(),
            inline_limit: 25,
        }
    }
}

// ---- ids ------------------------------------------------------------------------------

pub fn pc_id(uuid: &str) -> String {
    format!("pc:{uuid}")
}
pub fn pe_id(uuid: &str) -> String {
    format!("pe:{uuid}")
}
pub fn cluster_id(name: &str) -> String {
    format!("cluster:{name}")
}
pub fn pool_id(cluster: &str, pool: &str) -> String {
    format!("pool:{cluster}/{pool}")
}
pub fn vm_id(uuid: &str) -> String {
    format!("vm:{uuid}")
}
pub fn vm_group_id(pe_uuid: &str) -> String {
    format!("vmgroup:{pe_uuid}")
}
pub fn subnet_id(uuid: &str) -> String {
    format!("subnet:{uuid}")
}
pub fn image_id(uuid: &str) -> String {
    format!("image:{uuid}")
}
pub fn pcg_id(uid: &str) -> String {
    format!("pcg:{uid}")
}
const PALETTE_ID: &str = "palette";
/// When the cache has no Prism Central entity yet.
const PC_FALLBACK: &str = "pc:prism-central";
/// VMs whose PE is unknown.
const UNPLACED: &str = "unplaced";

// ---- the loaded model -----------------------------------------------------------------

#[derive(Debug, Clone)]
struct PeInfo {
    uuid: String,
    name: String,
    is_pc: bool,
    available: Option<bool>,
    external_ip: Option<String>,
    aos: Option<String>,
}

#[derive(Debug, Clone)]
struct SubnetInfo {
    uuid: String,
    name: String,
    cluster: Option<String>,
    subnet_type: Option<String>,
    vlan: Option<i64>,
    cidr: Option<String>,
}

#[derive(Debug, Clone)]
struct ImageInfo {
    uuid: String,
    name: String,
    state: Option<String>,
    image_type: Option<String>,
}

#[derive(Debug, Clone)]
struct VmInfo {
    uuid: String,
    name: String,
    pe: Option<String>,
    power: Option<String>,
    k8s: Option<String>,
    assigned: Vec<String>,
    learned: Vec<String>,
    subnets: Vec<String>,
    images: Vec<String>,
    vcpus: Option<i64>,
    memory_mib: Option<i64>,
}

#[derive(Debug, Clone)]
struct PcgInfo {
    uid: String,
    name: String,
    state: Option<String>,
    health: Option<String>,
    self_hosted: bool,
    /// The PCG's address on its host cluster (`spec.ipAddress`).
    ip: Option<String>,
    tenant: Option<String>,
}

#[derive(Debug, Clone)]
struct AccountInfo {
    uid: String,
    name: String,
    pcg: Option<String>,
    cloud_type: Option<String>,
}

#[derive(Debug, Clone)]
struct PaletteClusterInfo {
    uid: String,
    name: String,
    state: Option<String>,
    health: Option<String>,
    account: Option<String>,
    endpoint_host: Option<String>,
    kubernetes_version: Option<String>,
}

#[derive(Debug, Clone)]
struct PoolInfo {
    name: String,
    cluster_uid: String,
    is_cp: bool,
    size: Option<i64>,
}

#[derive(Debug, Clone)]
struct MachineInfo {
    name: String,
    cluster_uid: Option<String>,
    pool: Option<String>,
    vm_uuid: Option<String>,
    state: Option<String>,
}

/// Everything the Topology page needs, read from the cache once.
#[derive(Debug, Clone, Default)]
pub struct TopologyModel {
    palette_url: Option<String>,
    project_uid: Option<String>,
    prism_endpoint: Option<String>,
    pes: Vec<PeInfo>,
    subnets: Vec<SubnetInfo>,
    images: Vec<ImageInfo>,
    vms: Vec<VmInfo>,
    pcgs: Vec<PcgInfo>,
    accounts: Vec<AccountInfo>,
    clusters: Vec<PaletteClusterInfo>,
    pools: Vec<PoolInfo>,
    machines: Vec<MachineInfo>,
}

/// Every cached row of a kind, a page of [`ListQuery::MAX_LIMIT`] at a time.
fn load_all(store: &Store, env: &str, kind: Kind) -> Result<Vec<CachedEntity>, StoreError> {
    let mut out = Vec::new();
    loop {
        let page = store.list(
            env,
            kind,
            &ListQuery {
                limit: ListQuery::MAX_LIMIT,
                offset: out.len() as u64,
                ..ListQuery::default()
            },
        )?;
        let n = page.items.len();
        out.extend(page.items);
        if n == 0 || out.len() as u64 >= page.total {
            return Ok(out);
        }
    }
}

fn s(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl From<VmSummary> for VmInfo {
    fn from(vm: VmSummary) -> Self {
        VmInfo {
            k8s: vm
                .categories
                .into_iter()
                .find(|(key, value)| key == CLUSTER_CATEGORY && !value.is_empty())
                .map(|(_, value)| value),
            vcpus: vm.num_vcpus,
            memory_mib: vm.memory_mib,
            uuid: vm.uuid,
            name: vm.name,
            pe: vm.cluster_uuid,
            power: vm.power_state,
            assigned: vm.assigned_ips,
            learned: vm.learned_ips,
            subnets: vm.subnet_uuids,
            images: vm.image_uuids,
        }
    }
}

/// `controlPlaneEndpoint.host` from the NutanixCluster in a cloud config's YAML values.
fn endpoint_host(values: &str) -> Option<String> {
    let mut in_endpoint = false;
    for line in values.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("controlPlaneEndpoint:") {
            in_endpoint = true;
            continue;
        }
        if in_endpoint {
            if let Some(host) = trimmed.strip_prefix("host:") {
                let host = host.trim().trim_matches(['"', '\'']);
                return (!host.is_empty() && !host.starts_with("${")).then(|| host.to_owned());
            }
            if !trimmed.starts_with("port:") && !trimmed.is_empty() {
                in_endpoint = false;
            }
        }
    }
    None
}

impl TopologyModel {
    /// Reads everything cached for `env`, all VMs included (VMs through
    /// [`Store::vm_summaries`], which reads no JSON; well under a second for 25,000).
    pub fn load(store: &Store, env: &str) -> Result<Self, StoreError> {
        let environment = store.environment(env)?;
        let mut model = TopologyModel {
            palette_url: environment
                .as_ref()
                .and_then(|e| e.spec.palette_url.clone()),
            project_uid: environment
                .as_ref()
                .and_then(|e| e.spec.palette_project_uid.clone()),
            prism_endpoint: environment.and_then(|e| e.spec.prism_endpoint),
            ..Default::default()
        };
        model.pes = load_all(store, env, Kind::PeCluster)?
            .into_iter()
            .map(|e| PeInfo {
                is_pc: e
                    .json
                    .pointer("/status/resources/config/service_list")
                    .and_then(Value::as_array)
                    .is_some_and(|l| l.iter().any(|s| s.as_str() == Some("PRISM_CENTRAL"))),
                available: e
                    .json
                    .pointer("/status/resources/config/is_available")
                    .and_then(Value::as_bool),
                external_ip: s(&e.json, "/status/resources/network/external_ip"),
                aos: s(&e.json, "/status/resources/config/build/version"),
                uuid: e.id,
                name: e.name,
            })
            .collect();
        model.subnets = load_all(store, env, Kind::Subnet)?
            .into_iter()
            .map(|e| {
                let cidr = match (
                    s(&e.json, "/status/resources/ip_config/subnet_ip"),
                    e.json
                        .pointer("/status/resources/ip_config/prefix_length")
                        .and_then(Value::as_i64),
                ) {
                    (Some(ip), Some(p)) => Some(format!("{ip}/{p}")),
                    _ => None,
                };
                SubnetInfo {
                    vlan: e
                        .json
                        .pointer("/status/resources/vlan_id")
                        .and_then(Value::as_i64),
                    cidr,
                    uuid: e.id,
                    name: e.name,
                    cluster: e.parent,
                    subnet_type: e.state,
                }
            })
            .collect();
        model.images = load_all(store, env, Kind::Image)?
            .into_iter()
            .map(|e| ImageInfo {
                image_type: s(&e.json, "/status/resources/image_type"),
                uuid: e.id,
                name: e.name,
                state: e.state,
            })
            .collect();
        // The one large kind: narrow columns and child tables, no JSON per VM.
        model.vms = store
            .vm_summaries(env)?
            .into_iter()
            .map(VmInfo::from)
            .collect();
        model.pcgs = load_all(store, env, Kind::Pcg)?
            .into_iter()
            .map(|e| PcgInfo {
                self_hosted: e
                    .json
                    .pointer("/spec/isSelfHosted")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                health: s(&e.json, "/status/health/state"),
                ip: s(&e.json, "/spec/ipAddress"),
                tenant: s(&e.json, "/spec/tenantUid"),
                uid: e.id,
                name: e.name,
                state: e.state,
            })
            .collect();
        model.accounts = load_all(store, env, Kind::CloudAccount)?
            .into_iter()
            .map(|e| AccountInfo {
                cloud_type: s(&e.json, "/kind"),
                uid: e.id,
                name: e.name,
                pcg: e.parent,
            })
            .collect();
        model.clusters = load_all(store, env, Kind::PaletteCluster)?
            .into_iter()
            .map(|e| PaletteClusterInfo {
                health: s(&e.json, "/status/health/state"),
                endpoint_host: s(&e.json, "/spec/cloudConfig/spec/clusterConfig/values")
                    .and_then(|v| endpoint_host(&v)),
                kubernetes_version: s(&e.json, "/spec/cloudConfig/spec/kubernetesVersion"),
                account: e.parent,
                uid: e.id,
                name: e.name,
                state: e.state,
            })
            .collect();
        model.pools = load_all(store, env, Kind::MachinePool)?
            .into_iter()
            .map(|e| PoolInfo {
                is_cp: e
                    .json
                    .get("isControlPlane")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                size: e.json.get("size").and_then(Value::as_i64),
                cluster_uid: e.parent.unwrap_or_default(),
                name: e.name,
            })
            .collect();
        model.machines = load_all(store, env, Kind::Node)?
            .into_iter()
            .map(|e| MachineInfo {
                vm_uuid: s(&e.json, "/metadata/annotations/providerID")
                    .and_then(|p| p.strip_prefix("nutanix://").map(str::to_owned)),
                pool: s(&e.json, "/spec/poolName"),
                cluster_uid: e.parent,
                name: e.name,
                state: e.state,
            })
            .collect();
        // Node records keep the pool name in a column `list` does not return; when the JSON
        // lacks it, match the machine name against each pool's Palette name prefix.
        for machine in &mut model.machines {
            if machine.pool.is_none()
                && let Some(cluster) = &machine.cluster_uid
            {
                machine.pool = model
                    .pools
                    .iter()
                    .filter(|p| &p.cluster_uid == cluster)
                    .find(|p| {
                        machine
                            .name
                            .starts_with(&machine_prefix(&model.clusters, cluster, p))
                    })
                    .map(|p| p.name.clone());
            }
        }
        Ok(model)
    }

    pub fn vm_count(&self) -> usize {
        self.vms.len()
    }

    fn pc_node_id(&self) -> String {
        self.pes
            .iter()
            .find(|p| p.is_pc)
            .map(|p| pc_id(&p.uuid))
            .unwrap_or_else(|| PC_FALLBACK.to_owned())
    }

    /// Where each Kubernetes VM belongs: (cluster name, pool name, is control plane).
    fn k8s_placement(&self) -> HashMap<&str, (String, String, bool)> {
        let by_vm: HashMap<&str, &MachineInfo> = self
            .machines
            .iter()
            .filter_map(|m| m.vm_uuid.as_deref().map(|u| (u, m)))
            .collect();
        let by_name: HashMap<&str, &MachineInfo> =
            self.machines.iter().map(|m| (m.name.as_str(), m)).collect();
        let mut out = HashMap::new();
        for vm in &self.vms {
            let Some(cluster) = &vm.k8s else { continue };
            let palette = self.clusters.iter().find(|c| &c.name == cluster);
            let pools: Vec<&PoolInfo> = palette
                .map(|p| {
                    self.pools
                        .iter()
                        .filter(|pool| pool.cluster_uid == p.uid)
                        .collect()
                })
                .unwrap_or_default();
            let machine = by_vm
                .get(vm.uuid.as_str())
                .or_else(|| by_name.get(vm.name.as_str()));
            let from_machine = machine
                .and_then(|m| m.pool.as_deref())
                .and_then(|name| pools.iter().find(|p| p.name == name));
            let from_prefix = || {
                let p = palette?;
                pools.iter().find(|pool| {
                    vm.name.starts_with(&format!(
                        "{}-",
                        machine_prefix(&self.clusters, &p.uid, pool)
                    ))
                })
            };
            let placement = match from_machine.or_else(from_prefix) {
                Some(pool) => (cluster.clone(), pool.name.clone(), pool.is_cp),
                None => {
                    let lower = vm.name.to_ascii_lowercase();
                    if lower.contains("-kcp-")
                        || lower.contains("-cp-")
                        || lower.contains("control-plane")
                    {
                        (cluster.clone(), "control-plane".to_owned(), true)
                    } else {
                        (cluster.clone(), "workers".to_owned(), false)
                    }
                }
            };
            out.insert(vm.uuid.as_str(), placement);
        }
        out
    }

    /// The graph for the current expansion state.
    pub fn graph(&self, options: &TopologyOptions) -> TopologyGraph {
        let mut g = Builder::default();
        let pc = self.pc_node_id();

        // Palette side.
        let has_palette =
            self.palette_url.is_some() || !self.pcgs.is_empty() || !self.clusters.is_empty();
        let palette_root = has_palette.then(|| {
            let mut detail = BTreeMap::new();
            if let Some(url) = &self.palette_url {
                detail.insert("url".into(), json!(url));
            }
            g.node(TopologyNode {
                id: PALETTE_ID.into(),
                kind: NodeKind::Palette,
                label: match self.pcgs.iter().find_map(|p| p.tenant.as_deref()) {
                    Some(tenant) => format!("Palette (tenant {tenant})"),
                    None => "Palette".into(),
                },
                status: Status::Ok,
                parent: None,
                detail,
                counts: None,
                links: self
                    .palette_url
                    .iter()
                    .map(|u| NodeLink {
                        label: "Open Palette".into(),
                        url: u.clone(),
                    })
                    .collect(),
                collapsed: false,
            });
            PALETTE_ID.to_owned()
        });
        let palette_parent = match (&palette_root, &self.project_uid) {
            (Some(root), Some(project)) => {
                let id = format!("project:{project}");
                g.node(TopologyNode {
                    id: id.clone(),
                    kind: NodeKind::Project,
                    label: format!("Project {project}"),
                    status: Status::Ok,
                    parent: Some(root.clone()),
                    detail: BTreeMap::from([("uid".into(), json!(project))]),
                    counts: None,
                    links: vec![],
                    collapsed: false,
                });
                Some(id)
            }
            (root, _) => root.clone(),
        };
        for pcg in &self.pcgs {
            let id = pcg_id(&pcg.uid);
            // The host cluster: the VM answering on the PCG's address, and its Kubernetes
            // cluster when CAPX built it.
            let host_vm = pcg.ip.as_deref().and_then(|ip| {
                self.vms
                    .iter()
                    .find(|vm| vm.assigned.iter().chain(&vm.learned).any(|a| a == ip))
            });
            if let Some(cluster) = host_vm.and_then(|vm| vm.k8s.as_deref()) {
                g.pending_edges
                    .push((id.clone(), cluster_id(cluster), EdgeKind::RunsOn));
            }
            g.node(TopologyNode {
                id: id.clone(),
                kind: NodeKind::Pcg,
                label: pcg.name.clone(),
                status: palette_state(pcg.state.as_deref(), pcg.health.as_deref()),
                parent: palette_parent.clone(),
                detail: BTreeMap::from([
                    ("uid".into(), json!(pcg.uid)),
                    ("state".into(), json!(pcg.state)),
                    ("health".into(), json!(pcg.health)),
                    ("selfHosted".into(), json!(pcg.self_hosted)),
                    ("ipAddress".into(), json!(pcg.ip)),
                    ("tenantUid".into(), json!(pcg.tenant)),
                    ("hostVm".into(), json!(host_vm.map(|vm| vm_id(&vm.uuid)))),
                    (
                        "hostCluster".into(),
                        json!(host_vm.and_then(|vm| vm.k8s.as_deref()).map(cluster_id)),
                    ),
                ]),
                counts: None,
                links: self.palette_api_link(&format!("/v1/overlords/{}", pcg.uid)),
                collapsed: false,
            });
            for account in self
                .accounts
                .iter()
                .filter(|a| a.pcg.as_deref() == Some(&pcg.uid))
            {
                if account.cloud_type.as_deref().is_none_or(|t| t == "nutanix") {
                    g.edge(&id, &pc, EdgeKind::Manages, None);
                    g.detail(&id, "cloudAccount", json!(account.name));
                }
            }
        }

        // Prism Central and its PEs.
        let pc_entity = self.pes.iter().find(|p| p.is_pc);
        g.node(TopologyNode {
            id: pc.clone(),
            kind: NodeKind::PrismCentral,
            label: pc_entity
                .map(|p| p.name.clone())
                .unwrap_or_else(|| "Prism Central".into()),
            status: pc_entity
                .map(|p| availability(p.available))
                .unwrap_or(Status::Unknown),
            parent: None,
            detail: BTreeMap::from([
                ("uuid".into(), json!(pc_entity.map(|p| &p.uuid))),
                ("endpoint".into(), json!(self.prism_endpoint)),
            ]),
            counts: None,
            links: self
                .prism_endpoint
                .iter()
                .map(|u| NodeLink {
                    label: "Open Prism Central".into(),
                    url: u.clone(),
                })
                .collect(),
            collapsed: false,
        });
        for pe in self.pes.iter().filter(|p| !p.is_pc) {
            g.node(TopologyNode {
                id: pe_id(&pe.uuid),
                kind: NodeKind::PrismElement,
                label: pe.name.clone(),
                status: availability(pe.available),
                parent: Some(pc.clone()),
                detail: BTreeMap::from([
                    ("uuid".into(), json!(pe.uuid)),
                    ("externalIp".into(), json!(pe.external_ip)),
                    ("aosVersion".into(), json!(pe.aos)),
                    ("available".into(), json!(pe.available)),
                ]),
                counts: Some(NodeCounts::default()),
                links: self.prism_api_link(&format!("/api/nutanix/v3/clusters/{}", pe.uuid)),
                collapsed: false,
            });
        }
        let known_pe: HashSet<&str> = self
            .pes
            .iter()
            .filter(|p| !p.is_pc)
            .map(|p| p.uuid.as_str())
            .collect();
        let pe_parent = |pe: Option<&String>| match pe {
            Some(uuid) if known_pe.contains(uuid.as_str()) => pe_id(uuid),
            _ => pc.clone(),
        };
        for subnet in &self.subnets {
            g.node(TopologyNode {
                id: subnet_id(&subnet.uuid),
                kind: NodeKind::Subnet,
                label: subnet.name.clone(),
                status: Status::Ok,
                parent: Some(pe_parent(subnet.cluster.as_ref())),
                detail: BTreeMap::from([
                    ("uuid".into(), json!(subnet.uuid)),
                    ("type".into(), json!(subnet.subnet_type)),
                    ("vlanId".into(), json!(subnet.vlan)),
                    ("cidr".into(), json!(subnet.cidr)),
                ]),
                counts: None,
                links: self.prism_api_link(&format!("/api/nutanix/v3/subnets/{}", subnet.uuid)),
                collapsed: false,
            });
        }
        let known_subnets: HashSet<&str> = self.subnets.iter().map(|s| s.uuid.as_str()).collect();
        for image in &self.images {
            g.node(TopologyNode {
                id: image_id(&image.uuid),
                kind: NodeKind::Image,
                label: image.name.clone(),
                status: match image.state.as_deref() {
                    Some("COMPLETE") => Status::Ok,
                    Some("PENDING" | "RUNNING") => Status::Pending,
                    Some("ERROR") => Status::Error,
                    _ => Status::Unknown,
                },
                parent: Some(pc.clone()),
                detail: BTreeMap::from([
                    ("uuid".into(), json!(image.uuid)),
                    ("type".into(), json!(image.image_type)),
                    ("state".into(), json!(image.state)),
                ]),
                counts: None,
                links: self.prism_api_link(&format!("/api/nutanix/v3/images/{}", image.uuid)),
                collapsed: false,
            });
        }
        let known_images: HashSet<&str> = self.images.iter().map(|i| i.uuid.as_str()).collect();

        // Kubernetes clusters, their pools and VMs.
        let placement = self.k8s_placement();
        let mut k8s_names: BTreeSet<&str> =
            self.vms.iter().filter_map(|v| v.k8s.as_deref()).collect();
        k8s_names.extend(self.clusters.iter().map(|c| c.name.as_str()));
        for name in k8s_names {
            let vms: Vec<&VmInfo> = self
                .vms
                .iter()
                .filter(|v| v.k8s.as_deref() == Some(name))
                .collect();
            let palette = self.clusters.iter().find(|c| c.name == name);
            let mut pe_counts: BTreeMap<&str, usize> = BTreeMap::new();
            for vm in &vms {
                if let Some(pe) = vm.pe.as_deref() {
                    *pe_counts.entry(pe).or_default() += 1;
                }
            }
            let main_pe = pe_counts
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(pe, _)| pe.to_string());
            let id = cluster_id(name);
            // The VIP: a LEARNED IP on a control-plane VM that is not its own address.
            let vip_holder = vms.iter().find_map(|vm| {
                let (_, _, is_cp) = placement.get(vm.uuid.as_str())?;
                if !is_cp {
                    return None;
                }
                vm.learned
                    .iter()
                    .find(|ip| !vm.assigned.contains(ip))
                    .map(|ip| (ip.clone(), vm.uuid.clone()))
            });
            let vip = vip_holder
                .as_ref()
                .map(|(ip, _)| ip.clone())
                .or_else(|| palette.and_then(|p| p.endpoint_host.clone()));
            let counts = power_counts(vms.iter().copied());
            let status = match palette {
                Some(p) => palette_state(p.state.as_deref(), p.health.as_deref()),
                None => vm_aggregate(&counts),
            };
            let mut detail = BTreeMap::from([
                ("name".into(), json!(name)),
                ("vip".into(), json!(vip)),
                (
                    "vipHolderVm".into(),
                    json!(vip_holder.as_ref().map(|(_, vm)| vm_id(vm))),
                ),
                (
                    "primaryPe".into(),
                    json!(main_pe.as_ref().map(|pe| pe_id(pe))),
                ),
            ]);
            if let Some(p) = palette {
                detail.insert("paletteUid".into(), json!(p.uid));
                detail.insert("paletteState".into(), json!(p.state));
                detail.insert("health".into(), json!(p.health));
                detail.insert("kubernetesVersion".into(), json!(p.kubernetes_version));
            }
            g.node(TopologyNode {
                id: id.clone(),
                kind: NodeKind::Cluster,
                label: name.to_owned(),
                status,
                parent: Some(pe_parent(main_pe.as_ref())),
                detail,
                counts: Some(counts),
                links: palette
                    .map(|p| self.palette_api_link(&format!("/v1/spectroclusters/{}", p.uid)))
                    .unwrap_or_default(),
                collapsed: false,
            });
            for pe in pe_counts.keys() {
                if known_pe.contains(pe) {
                    g.edge(&id, &pe_id(pe), EdgeKind::RunsOn, None);
                }
            }
            if let Some(p) = palette {
                let pcg = p.account.as_ref().and_then(|a| self.accounts_pcg(a));
                if let Some(pcg) = pcg {
                    g.edge(&pcg_id(&pcg), &id, EdgeKind::Deploys, None);
                } else if let Some(parent) = &palette_parent {
                    g.edge(parent, &id, EdgeKind::Deploys, None);
                }
            }
            // Pools: Palette's, then any the VM names imply.
            let mut pool_names: BTreeMap<String, (bool, Option<i64>)> = BTreeMap::new();
            if let Some(p) = palette {
                for pool in self.pools.iter().filter(|pool| pool.cluster_uid == p.uid) {
                    pool_names.insert(pool.name.clone(), (pool.is_cp, pool.size));
                }
            }
            for vm in &vms {
                if let Some((_, pool, is_cp)) = placement.get(vm.uuid.as_str()) {
                    pool_names.entry(pool.clone()).or_insert((*is_cp, None));
                }
            }
            for (pool, (is_cp, size)) in &pool_names {
                let pid = pool_id(name, pool);
                let pool_vms: Vec<&VmInfo> = vms
                    .iter()
                    .copied()
                    .filter(|vm| {
                        placement
                            .get(vm.uuid.as_str())
                            .is_some_and(|(_, p, _)| p == pool)
                    })
                    .collect();
                let counts = power_counts(pool_vms.iter().copied());
                let machines_pending = palette.is_some_and(|p| {
                    self.machines.iter().any(|m| {
                        m.cluster_uid.as_deref() == Some(&p.uid)
                            && m.pool.as_deref() == Some(pool)
                            && m.state.as_deref() != Some("Running")
                    })
                });
                let mut status = vm_aggregate(&counts);
                if machines_pending {
                    status = status.worst(Status::Pending);
                }
                g.node(TopologyNode {
                    id: pid.clone(),
                    kind: NodeKind::Pool,
                    label: pool.clone(),
                    status,
                    parent: Some(id.clone()),
                    detail: BTreeMap::from([
                        ("controlPlane".into(), json!(is_cp)),
                        ("size".into(), json!(size)),
                    ]),
                    counts: Some(counts),
                    links: vec![],
                    collapsed: false,
                });
                let mut pool_images = BTreeSet::new();
                let mut pool_subnets = BTreeSet::new();
                for vm in pool_vms {
                    pool_images.extend(vm.images.iter().map(String::as_str));
                    pool_subnets.extend(vm.subnets.iter().map(String::as_str));
                    let vid = self.vm_node(&mut g, vm, &pid, &known_subnets);
                    if vip_holder
                        .as_ref()
                        .is_some_and(|(_, holder)| holder == &vm.uuid)
                    {
                        g.detail(&vid, "holdsVip", json!(vip));
                    }
                }
                for image in pool_images.into_iter().filter(|i| known_images.contains(i)) {
                    g.edge(&pid, &image_id(image), EdgeKind::BootsFrom, None);
                }
                for subnet in pool_subnets
                    .into_iter()
                    .filter(|s| known_subnets.contains(s))
                {
                    g.edge(&pid, &subnet_id(subnet), EdgeKind::Attached, None);
                }
            }
        }

        // Every other VM, grouped under its PE.
        let mut groups: BTreeMap<String, Vec<&VmInfo>> = BTreeMap::new();
        for vm in self.vms.iter().filter(|v| v.k8s.is_none()) {
            let key = match vm.pe.as_deref() {
                Some(pe) if known_pe.contains(pe) => pe.to_owned(),
                _ => UNPLACED.to_owned(),
            };
            groups.entry(key).or_default().push(vm);
        }
        for (pe, vms) in groups {
            let gid = vm_group_id(&pe);
            let parent = if pe == UNPLACED {
                pc.clone()
            } else {
                pe_id(&pe)
            };
            let expanded = options.expanded.contains(&gid) || vms.len() <= options.inline_limit;
            let counts = power_counts(vms.iter().copied());
            g.node(TopologyNode {
                id: gid.clone(),
                kind: NodeKind::VmGroup,
                label: format!("{} VMs", vms.len()),
                status: vm_aggregate(&counts),
                parent: Some(parent),
                detail: BTreeMap::new(),
                counts: Some(counts),
                links: vec![],
                collapsed: !expanded,
            });
            if expanded {
                for vm in &vms {
                    self.vm_node(&mut g, vm, &gid, &known_subnets);
                }
            } else {
                let mut per_subnet: BTreeMap<&str, u64> = BTreeMap::new();
                for vm in &vms {
                    for subnet in &vm.subnets {
                        *per_subnet.entry(subnet.as_str()).or_default() += 1;
                    }
                }
                for (subnet, n) in per_subnet
                    .into_iter()
                    .filter(|(s, _)| known_subnets.contains(s))
                {
                    g.edge(&gid, &subnet_id(subnet), EdgeKind::Attached, Some(n));
                }
            }
        }

        // PE VM counts (every VM, Kubernetes or not).
        for vm in &self.vms {
            if let Some(pe) = vm.pe.as_deref().filter(|pe| known_pe.contains(pe)) {
                g.count(&pe_id(pe), vm.power.as_deref());
            }
        }
        g.finish()
    }

    fn vm_node(
        &self,
        g: &mut Builder,
        vm: &VmInfo,
        parent: &str,
        known_subnets: &HashSet<&str>,
    ) -> String {
        let id = vm_id(&vm.uuid);
        g.node(TopologyNode {
            id: id.clone(),
            kind: NodeKind::Vm,
            label: vm.name.clone(),
            status: power_status(vm.power.as_deref()),
            parent: Some(parent.to_owned()),
            detail: BTreeMap::from([
                ("uuid".into(), json!(vm.uuid)),
                ("powerState".into(), json!(vm.power)),
                ("ips".into(), json!(vm.assigned)),
                ("learnedIps".into(), json!(vm.learned)),
                ("vcpus".into(), json!(vm.vcpus)),
                ("memoryMib".into(), json!(vm.memory_mib)),
                ("pe".into(), json!(vm.pe.as_ref().map(|p| pe_id(p)))),
            ]),
            counts: None,
            links: self.prism_api_link(&format!("/api/nutanix/v3/vms/{}", vm.uuid)),
            collapsed: false,
        });
        for subnet in vm
            .subnets
            .iter()
            .filter(|s| known_subnets.contains(s.as_str()))
        {
            g.edge(&id, &subnet_id(subnet), EdgeKind::Attached, None);
        }
        id
    }

    fn accounts_pcg(&self, account_uid: &str) -> Option<String> {
        self.accounts
            .iter()
            .find(|a| a.uid == account_uid)
            .and_then(|a| a.pcg.clone())
    }

    fn prism_api_link(&self, path: &str) -> Vec<NodeLink> {
        self.prism_endpoint
            .iter()
            .map(|base| NodeLink {
                label: "Prism API".into(),
                url: format!("{}{path}", base.trim_end_matches('/')),
            })
            .collect()
    }

    fn palette_api_link(&self, path: &str) -> Vec<NodeLink> {
        self.palette_url
            .iter()
            .map(|base| NodeLink {
                label: "Palette API".into(),
                url: format!("{}{path}", base.trim_end_matches('/')),
            })
            .collect()
    }

    /// Case-insensitive search over names, ids and IPs of everything in the model,
    /// including VMs in collapsed groups (`expand` names the group to open). At most
    /// `limit` hits, Kubernetes clusters and infrastructure before VMs.
    pub fn search(&self, text: &str, options: &TopologyOptions, limit: usize) -> Vec<SearchHit> {
        let needle = text.trim().to_ascii_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        let hit = |label: &str, id: &str| {
            label.to_ascii_lowercase().contains(&needle)
                || id.to_ascii_lowercase().starts_with(&needle)
        };
        let mut out = Vec::new();
        // Returns false once the limit is reached.
        let mut push = |node_id: String, kind: NodeKind, label: &str, expand: Option<String>| {
            if out.len() < limit {
                out.push(SearchHit {
                    node_id,
                    kind,
                    label: label.to_owned(),
                    expand,
                });
            }
            out.len() < limit
        };
        for pe in &self.pes {
            if hit(&pe.name, &pe.uuid) {
                let (id, kind) = if pe.is_pc {
                    (pc_id(&pe.uuid), NodeKind::PrismCentral)
                } else {
                    (pe_id(&pe.uuid), NodeKind::PrismElement)
                };
                push(id, kind, &pe.name, None);
            }
        }
        let mut k8s: BTreeSet<&str> = self.vms.iter().filter_map(|v| v.k8s.as_deref()).collect();
        k8s.extend(self.clusters.iter().map(|c| c.name.as_str()));
        for name in k8s {
            if hit(name, name) {
                push(cluster_id(name), NodeKind::Cluster, name, None);
            }
        }
        for pcg in &self.pcgs {
            if hit(&pcg.name, &pcg.uid) {
                push(pcg_id(&pcg.uid), NodeKind::Pcg, &pcg.name, None);
            }
        }
        for subnet in &self.subnets {
            if hit(&subnet.name, &subnet.uuid) {
                push(
                    subnet_id(&subnet.uuid),
                    NodeKind::Subnet,
                    &subnet.name,
                    None,
                );
            }
        }
        for image in &self.images {
            if hit(&image.name, &image.uuid) {
                push(image_id(&image.uuid), NodeKind::Image, &image.name, None);
            }
        }
        let known_pe: HashSet<&str> = self
            .pes
            .iter()
            .filter(|p| !p.is_pc)
            .map(|p| p.uuid.as_str())
            .collect();
        let mut group_sizes: HashMap<&str, usize> = HashMap::new();
        for vm in self.vms.iter().filter(|v| v.k8s.is_none()) {
            let key = vm
                .pe
                .as_deref()
                .filter(|pe| known_pe.contains(pe))
                .unwrap_or(UNPLACED);
            *group_sizes.entry(key).or_default() += 1;
        }
        for vm in &self.vms {
            let ip_match = vm
                .assigned
                .iter()
                .chain(&vm.learned)
                .any(|ip| ip.starts_with(&needle));
            if !(hit(&vm.name, &vm.uuid) || ip_match) {
                continue;
            }
            let expand = if vm.k8s.is_some() {
                None
            } else {
                let key = vm
                    .pe
                    .as_deref()
                    .filter(|pe| known_pe.contains(pe))
                    .unwrap_or(UNPLACED);
                let gid = vm_group_id(key);
                let shown = options.expanded.contains(&gid)
                    || group_sizes.get(key).copied().unwrap_or(0) <= options.inline_limit;
                (!shown).then_some(gid)
            };
            if !push(vm_id(&vm.uuid), NodeKind::Vm, &vm.name, expand) {
                break;
            }
        }
        out
    }
}

/// Loads the model and builds the graph in one go.
pub fn build(
    store: &Store,
    env: &str,
    options: &TopologyOptions,
) -> Result<TopologyGraph, StoreError> {
    Ok(TopologyModel::load(store, env)?.graph(options))
}

/// Machine-name prefix Palette uses for a pool: `<cluster>-cp` for the control plane,
/// `<cluster>-<pool without the cluster prefix>` for workers.
fn machine_prefix(clusters: &[PaletteClusterInfo], cluster_uid: &str, pool: &PoolInfo) -> String {
    let name = clusters
        .iter()
        .find(|c| c.uid == cluster_uid)
        .map(|c| c.name.as_str())
        .unwrap_or_default();
    if pool.is_cp {
        format!("{name}-cp")
    } else {
        let short = pool
            .name
            .strip_prefix(&format!("{name}-"))
            .unwrap_or(&pool.name);
        format!("{name}-{short}")
    }
}

fn availability(available: Option<bool>) -> Status {
    match available {
        Some(true) => Status::Ok,
        Some(false) => Status::Error,
        None => Status::Unknown,
    }
}

fn power_status(power: Option<&str>) -> Status {
    match power.map(str::to_ascii_uppercase).as_deref() {
        Some("ON") => Status::Ok,
        Some("OFF") => Status::Warn,
        Some("PAUSED" | "SUSPENDED") => Status::Warn,
        _ => Status::Unknown,
    }
}

fn power_counts<'a>(vms: impl Iterator<Item = &'a VmInfo>) -> NodeCounts {
    let mut c = NodeCounts::default();
    for vm in vms {
        c.vms += 1;
        match vm.power.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("ON") => c.powered_on += 1,
            Some("OFF") => c.powered_off += 1,
            _ => {}
        }
    }
    c
}

/// ok when every VM runs, warn when some are off, error when none run, pending when empty.
fn vm_aggregate(c: &NodeCounts) -> Status {
    if c.vms == 0 {
        Status::Pending
    } else if c.powered_on == c.vms {
        Status::Ok
    } else if c.powered_on == 0 {
        Status::Error
    } else {
        Status::Warn
    }
}

/// Palette `status.state` (+ health) to a colour.
fn palette_state(state: Option<&str>, health: Option<&str>) -> Status {
    match state {
        Some("Running") => match health {
            None | Some("Healthy") => Status::Ok,
            Some("") => Status::Pending,
            Some(_) => Status::Warn,
        },
        Some("Pending" | "Provisioning" | "Deleting" | "Importing" | "Upgrading") => {
            Status::Pending
        }
        Some("Failed" | "Error" | "Unhealthy") => Status::Error,
        Some("Deleted") => Status::Warn,
        _ => Status::Unknown,
    }
}

#[derive(Default)]
struct Builder {
    nodes: Vec<TopologyNode>,
    index: HashMap<String, usize>,
    edges: Vec<TopologyEdge>,
    edge_keys: HashSet<(String, String, EdgeKind)>,
    /// Edges to nodes created later (a PCG to its host cluster).
    pending_edges: Vec<(String, String, EdgeKind)>,
}

impl Builder {
    fn node(&mut self, node: TopologyNode) {
        if self.index.contains_key(&node.id) {
            return;
        }
        if let Some(parent) = &node.parent {
            self.edge(parent, &node.id.clone(), EdgeKind::Contains, None);
        }
        self.index.insert(node.id.clone(), self.nodes.len());
        self.nodes.push(node);
    }

    fn edge(&mut self, from: &str, to: &str, kind: EdgeKind, count: Option<u64>) {
        if self
            .edge_keys
            .insert((from.to_owned(), to.to_owned(), kind))
        {
            self.edges.push(TopologyEdge {
                from: from.to_owned(),
                to: to.to_owned(),
                kind,
                count,
            });
        }
    }

    fn detail(&mut self, id: &str, key: &str, value: Value) {
        if let Some(&i) = self.index.get(id) {
            self.nodes[i].detail.insert(key.to_owned(), value);
        }
    }

    fn count(&mut self, id: &str, power: Option<&str>) {
        if let Some(&i) = self.index.get(id)
            && let Some(c) = self.nodes[i].counts.as_mut()
        {
            c.vms += 1;
            match power.map(str::to_ascii_uppercase).as_deref() {
                Some("ON") => c.powered_on += 1,
                Some("OFF") => c.powered_off += 1,
                _ => {}
            }
        }
    }

    /// Drops edges whose ends are not in the graph (e.g. a PCG edge to a collapsed item).
    fn finish(self) -> TopologyGraph {
        let Builder {
            nodes,
            index,
            edges,
            ..
        } = self;
        let edges = edges
            .into_iter()
            .filter(|e| index.contains_key(&e.from) && index.contains_key(&e.to))
            .collect();
        TopologyGraph { nodes, edges }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_endpoint_host_from_cluster_values() {
        let yaml = "kind: NutanixCluster\nspec:\n  controlPlaneEndpoint:\n    host: 10.64.3.240\n    port: 6443\n";
        assert_eq!(endpoint_host(yaml).as_deref(), Some("10.64.3.240"));
        assert_eq!(
            endpoint_host("controlPlaneEndpoint:\n  host: ${CONTROL_PLANE_ENDPOINT_IP}\n"),
            None
        );
        assert_eq!(endpoint_host("spec: {}\n"), None);
    }

    #[test]
    fn statuses_rank_errors_above_warnings() {
        assert_eq!(Status::Ok.worst(Status::Warn), Status::Warn);
        assert_eq!(Status::Error.worst(Status::Pending), Status::Error);
        assert_eq!(palette_state(Some("Running"), Some("Healthy")), Status::Ok);
        assert_eq!(
            palette_state(Some("Running"), Some("UnHealthy")),
            Status::Warn
        );
        assert_eq!(palette_state(Some("Provisioning"), None), Status::Pending);
        assert_eq!(
            vm_aggregate(&NodeCounts {
                vms: 3,
                powered_on: 2,
                powered_off: 1
            }),
            Status::Warn
        );
    }

    #[test]
    fn the_graph_serialises_in_camel_case() {
        let node = TopologyNode {
            id: "vmgroup:x".into(),
            kind: NodeKind::VmGroup,
            label: "3 VMs".into(),
            status: Status::Ok,
            parent: Some("pe:x".into()),
            detail: BTreeMap::new(),
            counts: Some(NodeCounts {
                vms: 3,
                powered_on: 3,
                powered_off: 0,
            }),
            links: vec![],
            collapsed: true,
        };
        let v = serde_json::to_value(&node).unwrap();
        assert_eq!(v["kind"], "vm_group");
        assert_eq!(v["counts"]["poweredOn"], 3);
        assert_eq!(v["collapsed"], true);
    }
}
