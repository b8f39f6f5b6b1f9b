//! What the preflight takes (the deploy choices), how it runs (options) and what it returns
//! (the report). Everything serialises in camelCase for the UI.

use std::net::Ipv4Addr;
use std::time::Duration;

use capstan_capx::render::{BootType, ClusterChoices, NameOrUuid, PoolChoices};
use capstan_capx::sizes::{PoolRole, PoolSizing, Quantity};
use capstan_diagnose::CapxLine;
use serde::{Deserialize, Serialize};

/// The deploy choices to check: where the VMs go (PE, subnets, image), the control-plane
/// endpoint, the pools, the Kubernetes version and cluster networks, and the CAPX line the
/// cluster will be created with.
///
/// Placement is cluster-wide: every pool uses the same PE, subnets and image (what the
/// deploy form offers). [`PreflightInput::from_choices`] builds it from the typed choices
/// the templates are rendered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightInput {
    /// The Prism Central address CAPX will use (`NUTANIX_ENDPOINT`): host or IP, a scheme
    /// or port is ignored. Empty means the address of the client the preflight runs with.
    pub prism_central_address: String,
    /// The CAPX line Palette installs; it fixes the minimum PC version and the name-matching
    /// rules (case-sensitive up to 1.7, case-insensitive PE and image names from 1.8).
    pub capx_line: CapxLine,
    #[serde(with = "name_or_uuid")]
    pub prism_element: NameOrUuid,
    /// In NIC order; the first is the control-plane endpoint's network (kube-vip announces
    /// the VIP on the NIC with the default route).
    #[serde(with = "name_or_uuid_list")]
    pub subnets: Vec<NameOrUuid>,
    #[serde(with = "name_or_uuid")]
    pub image: NameOrUuid,
    /// The kube-vip VIP (`CONTROL_PLANE_ENDPOINT_IP`).
    pub control_plane_endpoint: Ipv4Addr,
    /// `v`-prefixed, e.g. `v1.30.4`.
    pub kubernetes_version: String,
    pub control_plane: PoolInput,
    pub worker_pools: Vec<PoolInput>,
    /// e.g. `172.20.0.0/16` (CAPX's default).
    pub pod_cidr: String,
    /// e.g. `172.19.0.0/16` (CAPX's default).
    pub service_cidr: String,
}

/// One node pool's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolInput {
    /// The pool's name as shown to the user (`None`: the template's default).
    #[serde(default)]
    pub name: Option<String>,
    pub replicas: u32,
    pub vcpu_sockets: u32,
    pub vcpus_per_socket: u32,
    #[serde(with = "quantity")]
    pub memory: Quantity,
    #[serde(with = "quantity")]
    pub system_disk: Quantity,
    #[serde(with = "boot_type")]
    pub boot_type: BootType,
}

impl PoolInput {
    /// From the render choices of one pool.
    pub fn from_choices(pool: &PoolChoices) -> Self {
        Self {
            name: pool.name.clone(),
            replicas: pool.replicas,
            vcpu_sockets: pool.vcpu_sockets,
            vcpus_per_socket: pool.vcpus_per_socket,
            memory: pool.memory.clone(),
            system_disk: pool.system_disk.clone(),
            boot_type: pool.boot_type,
        }
    }

    /// The sizing part, for [`capstan_capx::sizes::check_pool_sizing`].
    pub fn sizing(&self, role: PoolRole) -> PoolSizing {
        PoolSizing {
            role,
            replicas: self.replicas,
            vcpu_sockets: self.vcpu_sockets,
            vcpus_per_socket: self.vcpus_per_socket,
            memory: self.memory.clone(),
            system_disk: self.system_disk.clone(),
        }
    }

    /// vCPUs of one node.
    pub fn vcpus(&self) -> u64 {
        u64::from(self.vcpu_sockets) * u64::from(self.vcpus_per_socket)
    }

    /// Memory of one node in MiB (rounded down, as CAPX does).
    pub fn memory_mib(&self) -> u64 {
        u64::try_from(self.memory.mib_floor()).unwrap_or(u64::MAX)
    }
}

impl PreflightInput {
    /// Builds the input from the typed choices the YAML is rendered from. The control-plane
    /// pool's PE, subnets, image and Kubernetes version are the cluster's; a worker pool
    /// that places its VMs elsewhere is refused (the preflight checks one placement).
    pub fn from_choices(
        prism_central_address: &str,
        capx_line: CapxLine,
        cluster: &ClusterChoices,
        control_plane: &PoolChoices,
        workers: &[PoolChoices],
        pod_cidr: &str,
        service_cidr: &str,
    ) -> Result<Self, String> {
        for (i, w) in workers.iter().enumerate() {
            let label = w.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            if w.prism_element != control_plane.prism_element
                || w.subnets != control_plane.subnets
                || w.image != control_plane.image
            {
                return Err(format!(
                    "worker pool {label} uses another Prism Element, subnet or image than the control plane; the preflight checks one placement for the whole cluster"
                ));
            }
            if w.kubernetes_version != control_plane.kubernetes_version {
                return Err(format!(
                    "worker pool {label} is on Kubernetes {} but the control plane on {}; use one version",
                    w.kubernetes_version, control_plane.kubernetes_version
                ));
            }
        }
        Ok(Self {
            prism_central_address: prism_central_address.to_owned(),
            capx_line,
            prism_element: control_plane.prism_element.clone(),
            subnets: control_plane.subnets.clone(),
            image: control_plane.image.clone(),
            control_plane_endpoint: cluster.control_plane_endpoint_ip,
            kubernetes_version: control_plane.kubernetes_version.clone(),
            control_plane: PoolInput::from_choices(control_plane),
            worker_pools: workers.iter().map(PoolInput::from_choices).collect(),
            pod_cidr: pod_cidr.to_owned(),
            service_cidr: service_cidr.to_owned(),
        })
    }

    /// Every pool with its role and a label for messages.
    pub fn pools(&self) -> Vec<(PoolRole, String, &PoolInput)> {
        let mut out = vec![(
            PoolRole::ControlPlane,
            self.control_plane
                .name
                .clone()
                .unwrap_or_else(|| "control plane".to_owned()),
            &self.control_plane,
        )];
        for (i, w) in self.worker_pools.iter().enumerate() {
            let label = match &w.name {
                Some(n) => format!("worker pool {n}"),
                None if self.worker_pools.len() == 1 => "worker pool".to_owned(),
                None => format!("worker pool {}", i + 1),
            };
            out.push((PoolRole::Worker, label, w));
        }
        out
    }

    /// Nodes of the running cluster.
    pub fn node_count(&self) -> u64 {
        self.pools()
            .iter()
            .map(|(_, _, p)| u64::from(p.replicas))
            .sum()
    }

    /// Extra machines a rolling upgrade creates at once: CAPI surges one machine per
    /// KubeadmControlPlane and one per MachineDeployment (maxSurge 1, the default), and the
    /// pools roll at the same time.
    pub fn upgrade_surge(&self) -> u64 {
        self.pools()
            .iter()
            .filter(|(_, _, p)| p.replicas > 0)
            .count() as u64
    }
}

/// How the preflight runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PreflightOptions {
    /// Each check's own time limit (waiting for a check it depends on is not counted: that
    /// one has its own limit).
    pub check_timeout: Duration,
    /// vCPUs per physical core the PE may be committed to (AHV overcommits CPU; 4:1 is a
    /// common ceiling for general workloads).
    pub vcpu_overcommit: f64,
    /// Memory each host keeps for its Controller VM, which `vms/list` does not show.
    pub cvm_memory_mib: u64,
    /// vCPUs each host's Controller VM uses.
    pub cvm_vcpus: u64,
}

impl Default for PreflightOptions {
    fn default() -> Self {
        Self {
            check_timeout: Duration::from_secs(20),
            vcpu_overcommit: 4.0,
            cvm_memory_mib: 32 * 1024,
            cvm_vcpus: 8,
        }
    }
}

/// The checks, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckId {
    Credentials,
    PrismCentralVersion,
    PrismElement,
    Subnets,
    Image,
    ImageKubernetesVersion,
    MachineSizes,
    VipInSubnet,
    VipNotPrism,
    VipUnused,
    SubnetCapacity,
    PrismElementCapacity,
    ClusterNetworks,
}

impl CheckId {
    pub const ALL: [CheckId; 13] = [
        Self::Credentials,
        Self::PrismCentralVersion,
        Self::PrismElement,
        Self::Subnets,
        Self::Image,
        Self::ImageKubernetesVersion,
        Self::MachineSizes,
        Self::VipInSubnet,
        Self::VipNotPrism,
        Self::VipUnused,
        Self::SubnetCapacity,
        Self::PrismElementCapacity,
        Self::ClusterNetworks,
    ];

    /// What the check verifies, as a statement.
    pub fn title(self) -> &'static str {
        match self {
            Self::Credentials => "Prism Central is reachable and accepts the credentials",
            Self::PrismCentralVersion => "Prism Central is new enough for the CAPX version",
            Self::PrismElement => "The Prism Element cluster exists exactly once",
            Self::Subnets => "The subnet exists exactly once on that Prism Element",
            Self::Image => "The image exists exactly once",
            Self::ImageKubernetesVersion => "The image matches the Kubernetes version",
            Self::MachineSizes => "Node sizes meet the CAPX minimums",
            Self::VipInSubnet => "The control-plane VIP is in the subnet, outside its IP pools",
            Self::VipNotPrism => "The control-plane VIP is not a Prism address",
            Self::VipUnused => "No VM uses the control-plane VIP",
            Self::SubnetCapacity => "The subnet has free addresses for every node plus an upgrade",
            Self::PrismElementCapacity => {
                "The Prism Element has CPU and memory headroom for the pools"
            }
            Self::ClusterNetworks => "Pod and service CIDRs do not overlap the node subnet",
        }
    }
}

/// A check's result. Ordered by severity for the verdict: `Fail` is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
    /// Not run, because a check it needs did not succeed (the detail says which).
    Skipped,
    /// The check could not finish: Prism Central failed or it ran out of time (code
    /// `timeout`). Nothing was verified.
    Error,
}

impl Outcome {
    fn severity(self) -> u8 {
        match self {
            Self::Pass => 0,
            Self::Skipped => 1,
            Self::Warn => 2,
            Self::Error => 3,
            Self::Fail => 4,
        }
    }

    /// The worse of two outcomes.
    pub fn worst(self, other: Self) -> Self {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub id: CheckId,
    pub title: String,
    pub outcome: Outcome,
    /// Stable machine code, e.g. `prism_element_ambiguous`, `timeout`.
    pub code: String,
    /// What was found.
    pub detail: String,
    /// What to do about it (absent when nothing needs doing).
    pub fix: Option<String>,
    pub data: Option<CheckData>,
    /// Time the check itself ran.
    pub elapsed_ms: u64,
    /// Time spent waiting for the checks it needs before it could start.
    pub waited_ms: u64,
}

/// The whole preflight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    /// The worst outcome of any check.
    pub verdict: Outcome,
    /// True when no check failed and none errored: everything that must hold was verified
    /// (warnings do not block).
    pub can_deploy: bool,
    /// One line for the top of the report.
    pub summary: String,
    /// In [`CheckId::ALL`] order.
    pub checks: Vec<CheckResult>,
    pub elapsed_ms: u64,
}

impl PreflightReport {
    pub fn check(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Structured findings, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CheckData {
    User(UserData),
    Version(VersionData),
    /// Candidates found for a name (duplicates, or where the entity lives instead).
    Matches(MatchesData),
    PrismElement(EntityRef),
    Subnets(SubnetsData),
    Image(ImageData),
    ImageVersion(ImageVersionData),
    Sizes(SizesData),
    Vip(VipData),
    Addresses(AddressesData),
    Capacity(CapacityData),
    Networks(NetworksData),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserData {
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionData {
    pub found: String,
    pub minimum: String,
    pub capx_line: String,
}

/// A Prism entity as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityRef {
    pub uuid: Option<String>,
    pub name: Option<String>,
    /// The owning Prism Element's name (subnets, VMs) or where it is present (images).
    pub cluster: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchesData {
    pub name: String,
    pub matches: Vec<EntityRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetsData {
    pub subnets: Vec<SubnetFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetFacts {
    pub uuid: String,
    pub name: String,
    /// `VLAN` or `OVERLAY`.
    pub subnet_type: Option<String>,
    pub vlan_id: Option<i64>,
    /// `a.b.c.d/n` when Prism manages the subnet's addresses (IPAM).
    pub cidr: Option<String>,
    pub gateway: Option<String>,
    /// `first-last` of each IP pool.
    pub pools: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageData {
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub image_type: Option<String>,
    pub state: Option<String>,
    pub size_bytes: Option<u64>,
    /// Prism Elements the image is already on.
    pub present_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageVersionData {
    pub image: String,
    /// The version the name carries (`1.30.5`), when it carries one.
    pub image_version: Option<String>,
    pub kubernetes_version: String,
    /// Images whose names carry the cluster's version (suggestions).
    pub matching_images: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SizesData {
    pub problems: Vec<SizeIssue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SizeIssue {
    pub pool: String,
    /// The form field (`memory`, `system_disk`, `vcpu_sockets`, `vcpus_per_socket`, `replicas`).
    pub field: String,
    pub code: String,
    /// What the CAPX controller would report, when it checks this.
    pub capx_error: Option<String>,
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VipData {
    pub address: String,
    /// What the address collides with (empty when nothing).
    pub conflicts: Vec<VipConflict>,
    pub subnet: Option<String>,
    pub cidr: Option<String>,
    pub pools: Vec<String>,
    /// Ranges of the subnet outside its pools, gateway and DHCP server (candidates).
    pub free_ranges: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VipConflict {
    /// `prismCentral`, `prismElement`, `vm`, `gateway`, ...
    pub what: String,
    pub name: Option<String>,
    pub uuid: Option<String>,
    /// For VMs: `ASSIGNED` or `LEARNED`.
    pub address_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressesData {
    pub nodes: u64,
    pub surge: u64,
    pub subnets: Vec<SubnetAddresses>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetAddresses {
    pub name: String,
    pub uuid: String,
    /// False for a subnet without Prism IPAM (addresses come from an external DHCP server).
    pub managed: bool,
    pub pool_size: u64,
    /// Pool addresses held by VMs known to Prism.
    pub in_use: u64,
    pub free: u64,
    /// What Prism itself reports as free (`ip_usage_stats.num_free_ips`), when it does.
    pub reported_free: Option<u64>,
    pub needed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityData {
    pub hosts: u64,
    pub physical_cores: u64,
    pub memory_mib: u64,
    /// Controller VMs' share (per host × hosts).
    pub reserved_memory_mib: u64,
    pub reserved_vcpus: u64,
    /// Powered-on VMs already on the PE.
    pub allocated_memory_mib: u64,
    pub allocated_vcpus: u64,
    /// What the cluster needs, upgrade surge included.
    pub needed_memory_mib: u64,
    pub needed_vcpus: u64,
    pub free_memory_mib: u64,
    pub vcpu_limit: u64,
    pub vcpu_overcommit: f64,
    pub largest_host_memory_mib: u64,
    pub largest_host_cores: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworksData {
    pub pod_cidr: String,
    pub service_cidr: String,
    pub node_subnets: Vec<String>,
    pub overlaps: Vec<String>,
}

// ---- serde for the capx types (they only serialise, and not in this shape) ------------

mod quantity {
    use capstan_capx::sizes::Quantity;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(q: &Quantity, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(q.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        let text = String::deserialize(d)?;
        Quantity::parse(&text).map_err(serde::de::Error::custom)
    }
}

mod boot_type {
    use capstan_capx::render::BootType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &BootType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(b.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BootType, D::Error> {
        let text = String::deserialize(d)?;
        BootType::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `{"type": "name"|"uuid", "value": "..."}`, the shape `NameOrUuid` serialises to.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
enum Ident {
    Name(String),
    Uuid(String),
}

impl Ident {
    fn of(v: &NameOrUuid) -> Self {
        match v {
            NameOrUuid::Name(n) => Self::Name(n.clone()),
            NameOrUuid::Uuid(u) => Self::Uuid(u.clone()),
        }
    }

    fn into_value(self) -> Result<NameOrUuid, String> {
        match self {
            Self::Name(n) => NameOrUuid::name(&n),
            Self::Uuid(u) => NameOrUuid::uuid(&u),
        }
    }
}

mod name_or_uuid {
    use capstan_capx::render::NameOrUuid;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Ident;

    pub fn serialize<S: Serializer>(v: &NameOrUuid, s: S) -> Result<S::Ok, S::Error> {
        Ident::of(v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NameOrUuid, D::Error> {
        Ident::deserialize(d)?
            .into_value()
            .map_err(serde::de::Error::custom)
    }
}

mod name_or_uuid_list {
    use capstan_capx::render::NameOrUuid;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Ident;

    pub fn serialize<S: Serializer>(v: &[NameOrUuid], s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<Ident> = v.iter().map(Ident::of).collect();
        list.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NameOrUuid>, D::Error> {
        Vec::<Ident>::deserialize(d)?
            .into_iter()
            .map(|i| i.into_value().map_err(serde::de::Error::custom))
            .collect()
    }
}
