//! The deploy preflight's report (produced by `capstan-preflight`): one result per check with
//! what was found, what to do, structured findings and timings. The UI renders it as is.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The checks, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CheckOutcome {
    Pass,
    Warn,
    Fail,
    /// Not run, because a check it needs did not succeed (the detail says which).
    Skipped,
    /// The check could not finish: Prism Central failed or it ran out of time (code
    /// `timeout`). Nothing was verified.
    Error,
}

impl CheckOutcome {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub id: CheckId,
    pub title: String,
    pub outcome: CheckOutcome,
    /// Stable machine code, e.g. `prism_element_ambiguous`, `timeout`.
    pub code: String,
    /// What was found.
    pub detail: String,
    /// What to do about it (absent when nothing needs doing).
    pub fix: Option<String>,
    pub data: Option<CheckData>,
    /// Time the check itself ran.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Time spent waiting for the checks it needs before it could start.
    #[ts(type = "number")]
    pub waited_ms: u64,
}

/// The whole preflight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    /// The worst outcome of any check.
    pub verdict: CheckOutcome,
    /// True when no check failed and none errored: everything that must hold was verified
    /// (warnings do not block).
    pub can_deploy: bool,
    /// One line for the top of the report.
    pub summary: String,
    /// In [`CheckId::ALL`] order.
    pub checks: Vec<CheckResult>,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

impl PreflightReport {
    pub fn check(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Structured findings, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserData {
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VersionData {
    pub found: String,
    pub minimum: String,
    pub capx_line: String,
}

/// A Prism entity as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EntityRef {
    pub uuid: Option<String>,
    pub name: Option<String>,
    /// The owning Prism Element's name (subnets, VMs) or where it is present (images).
    pub cluster: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MatchesData {
    pub name: String,
    pub matches: Vec<EntityRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubnetsData {
    pub subnets: Vec<SubnetFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubnetFacts {
    pub uuid: String,
    pub name: String,
    /// `VLAN` or `OVERLAY`.
    pub subnet_type: Option<String>,
    #[ts(type = "number | null")]
    pub vlan_id: Option<i64>,
    /// `a.b.c.d/n` when Prism manages the subnet's addresses (IPAM).
    pub cidr: Option<String>,
    pub gateway: Option<String>,
    /// `first-last` of each IP pool.
    pub pools: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageData {
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub image_type: Option<String>,
    pub state: Option<String>,
    #[ts(type = "number | null")]
    pub size_bytes: Option<u64>,
    /// Prism Elements the image is already on.
    pub present_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageVersionData {
    pub image: String,
    /// The version the name carries (`1.30.5`), when it carries one.
    pub image_version: Option<String>,
    pub kubernetes_version: String,
    /// Images whose names carry the cluster's version (suggestions).
    pub matching_images: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SizesData {
    pub problems: Vec<SizeIssue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VipConflict {
    /// `prismCentral`, `prismElement`, `vm`, `gateway`, ...
    pub what: String,
    pub name: Option<String>,
    pub uuid: Option<String>,
    /// For VMs: `ASSIGNED` or `LEARNED`.
    pub address_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AddressesData {
    #[ts(type = "number")]
    pub nodes: u64,
    #[ts(type = "number")]
    pub surge: u64,
    pub subnets: Vec<SubnetAddresses>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubnetAddresses {
    pub name: String,
    pub uuid: String,
    /// False for a subnet without Prism IPAM (addresses come from an external DHCP server).
    pub managed: bool,
    #[ts(type = "number")]
    pub pool_size: u64,
    /// Pool addresses held by VMs known to Prism.
    #[ts(type = "number")]
    pub in_use: u64,
    #[ts(type = "number")]
    pub free: u64,
    /// What Prism itself reports as free (`ip_usage_stats.num_free_ips`), when it does.
    #[ts(type = "number | null")]
    pub reported_free: Option<u64>,
    #[ts(type = "number")]
    pub needed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CapacityData {
    #[ts(type = "number")]
    pub hosts: u64,
    #[ts(type = "number")]
    pub physical_cores: u64,
    #[ts(type = "number")]
    pub memory_mib: u64,
    /// Controller VMs' share (per host × hosts).
    #[ts(type = "number")]
    pub reserved_memory_mib: u64,
    #[ts(type = "number")]
    pub reserved_vcpus: u64,
    /// Powered-on VMs already on the PE.
    #[ts(type = "number")]
    pub allocated_memory_mib: u64,
    #[ts(type = "number")]
    pub allocated_vcpus: u64,
    /// What the cluster needs, upgrade surge included.
    #[ts(type = "number")]
    pub needed_memory_mib: u64,
    #[ts(type = "number")]
    pub needed_vcpus: u64,
    #[ts(type = "number")]
    pub free_memory_mib: u64,
    #[ts(type = "number")]
    pub vcpu_limit: u64,
    pub vcpu_overcommit: f64,
    #[ts(type = "number")]
    pub largest_host_memory_mib: u64,
    #[ts(type = "number")]
    pub largest_host_cores: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NetworksData {
    pub pod_cidr: String,
    pub service_cidr: String,
    pub node_subnets: Vec<String>,
    pub overlaps: Vec<String>,
}
