//! Typed v3 entities, limited to the fields Capstan reads. Unknown fields are ignored and
//! every field is optional, because real Prism Central omits many of them (see the
//! spec-vs-reality notes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{kind, uuid, name}` reference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityMetadata {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
    #[serde(default)]
    pub project_reference: Option<Reference>,
    #[serde(default)]
    pub owner_reference: Option<Reference>,
    #[serde(default)]
    pub creation_time: Option<String>,
    #[serde(default)]
    pub last_update_time: Option<String>,
    #[serde(default)]
    pub spec_version: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecName {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityStatus<R> {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "Option::default")]
    pub resources: Option<R>,
    #[serde(default)]
    pub cluster_reference: Option<Reference>,
    #[serde(default)]
    pub message_list: Vec<Value>,
}

/// A v3 intent resource `{metadata, spec, status}`. `spec` keeps only the name: the
/// observed state lives in `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity<R> {
    #[serde(default)]
    pub metadata: EntityMetadata,
    #[serde(default)]
    pub spec: Option<SpecName>,
    #[serde(default = "Option::default")]
    pub status: Option<EntityStatus<R>>,
}

impl<R> Entity<R> {
    pub fn uuid(&self) -> Option<&str> {
        self.metadata.uuid.as_deref()
    }

    /// The name as Prism shows it: `status.name`, else `spec.name`, else `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.status
            .as_ref()
            .and_then(|s| s.name.as_deref())
            .or_else(|| self.spec.as_ref().and_then(|s| s.name.as_deref()))
            .or(self.metadata.name.as_deref())
    }

    pub fn resources(&self) -> Option<&R> {
        self.status.as_ref().and_then(|s| s.resources.as_ref())
    }

    pub fn state(&self) -> Option<&str> {
        self.status.as_ref().and_then(|s| s.state.as_deref())
    }

    pub fn cluster_reference(&self) -> Option<&Reference> {
        self.status
            .as_ref()
            .and_then(|s| s.cluster_reference.as_ref())
    }
}

// ---- clusters ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterResources {
    #[serde(default)]
    pub config: ClusterConfig,
    #[serde(default)]
    pub network: ClusterNetwork,
    #[serde(default)]
    pub nodes: Option<ClusterNodes>,
    #[serde(default)]
    pub runtime_status_list: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterConfig {
    #[serde(default)]
    pub service_list: Vec<String>,
    #[serde(default)]
    pub build: Option<ClusterBuild>,
    #[serde(default)]
    pub is_available: Option<bool>,
    #[serde(default)]
    pub operation_mode: Option<String>,
    #[serde(default)]
    pub redundancy_factor: Option<i64>,
    #[serde(default)]
    pub cluster_arch: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub software_map: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterBuild {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub full_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterNetwork {
    #[serde(default)]
    pub external_ip: Option<String>,
    #[serde(default)]
    pub external_data_services_ip: Option<String>,
    #[serde(default)]
    pub fully_qualified_domain_name: Option<String>,
    #[serde(default)]
    pub name_server_ip_list: Vec<String>,
    #[serde(default)]
    pub ntp_server_ip_list: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterNodes {
    #[serde(default)]
    pub hypervisor_server_list: Vec<HypervisorServer>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HypervisorServer {
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default, rename = "type")]
    pub hypervisor_type: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

/// What a `clusters/list` entity is, by `config.service_list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterRole {
    /// `AOS`: a Prism Element cluster that can run VMs.
    PrismElement,
    /// `PRISM_CENTRAL`: the PC itself.
    PrismCentral,
    Other,
}

pub type Cluster = Entity<ClusterResources>;

impl Entity<ClusterResources> {
    pub fn role(&self) -> ClusterRole {
        let services = self
            .resources()
            .map(|r| r.config.service_list.as_slice())
            .unwrap_or_default();
        if services
            .iter()
            .any(|s| s.eq_ignore_ascii_case("PRISM_CENTRAL"))
        {
            ClusterRole::PrismCentral
        } else if services.iter().any(|s| s.eq_ignore_ascii_case("AOS")) {
            ClusterRole::PrismElement
        } else {
            ClusterRole::Other
        }
    }

    pub fn is_prism_element(&self) -> bool {
        self.role() == ClusterRole::PrismElement
    }
}

// ---- subnets ----------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubnetResources {
    #[serde(default)]
    pub subnet_type: Option<String>,
    #[serde(default)]
    pub vlan_id: Option<i64>,
    #[serde(default)]
    pub vswitch_name: Option<String>,
    #[serde(default)]
    pub virtual_switch_uuid: Option<String>,
    #[serde(default)]
    pub is_external: Option<bool>,
    #[serde(default)]
    pub vpc_reference: Option<Reference>,
    #[serde(default)]
    pub ip_config: Option<IpConfig>,
    #[serde(default)]
    pub ip_usage_stats: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IpConfig {
    #[serde(default)]
    pub subnet_ip: Option<String>,
    #[serde(default)]
    pub prefix_length: Option<u8>,
    #[serde(default)]
    pub default_gateway_ip: Option<String>,
    #[serde(default)]
    pub pool_list: Vec<IpPool>,
    #[serde(default)]
    pub dhcp_server_address: Option<Value>,
    #[serde(default)]
    pub dhcp_options: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPool {
    /// `"10.0.0.50 10.0.0.99"`
    #[serde(default)]
    pub range: Option<String>,
}

pub type Subnet = Entity<SubnetResources>;

// ---- images -----------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageResources {
    #[serde(default)]
    pub image_type: Option<String>,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub source_uri: Option<String>,
    #[serde(default)]
    pub current_cluster_reference_list: Vec<Reference>,
    #[serde(default)]
    pub checksum: Option<Value>,
}

pub type Image = Entity<ImageResources>;

// ---- VMs --------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VmResources {
    #[serde(default)]
    pub power_state: Option<String>,
    #[serde(default)]
    pub num_sockets: Option<u32>,
    #[serde(default)]
    pub num_vcpus_per_socket: Option<u32>,
    #[serde(default)]
    pub memory_size_mib: Option<u64>,
    #[serde(default)]
    pub hypervisor_type: Option<String>,
    #[serde(default)]
    pub machine_type: Option<String>,
    #[serde(default)]
    pub host_reference: Option<Reference>,
    #[serde(default)]
    pub nic_list: Vec<VmNic>,
    #[serde(default)]
    pub disk_list: Vec<VmDisk>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VmNic {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub mac_address: Option<String>,
    #[serde(default)]
    pub subnet_reference: Option<Reference>,
    #[serde(default)]
    pub ip_endpoint_list: Vec<IpEndpoint>,
    #[serde(default)]
    pub is_connected: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpEndpoint {
    #[serde(default)]
    pub ip: Option<String>,
    /// `ASSIGNED` or `LEARNED` (a kube-vip VIP shows up as LEARNED).
    #[serde(default, rename = "type")]
    pub ip_kind: Option<String>,
    #[serde(default)]
    pub ip_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VmDisk {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub disk_size_bytes: Option<u64>,
    #[serde(default)]
    pub disk_size_mib: Option<u64>,
    #[serde(default)]
    pub data_source_reference: Option<Reference>,
}

pub type Vm = Entity<VmResources>;

// ---- hosts ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostResources {
    #[serde(default)]
    pub controller_vm: Option<Value>,
    #[serde(default)]
    pub hypervisor: Option<Value>,
    #[serde(default)]
    pub num_cpu_sockets: Option<u32>,
    #[serde(default)]
    pub num_cpu_cores: Option<u32>,
    #[serde(default)]
    pub cpu_model: Option<String>,
    #[serde(default)]
    pub memory_capacity_mib: Option<u64>,
    #[serde(default)]
    pub host_type: Option<String>,
}

pub type Host = Entity<HostResources>;

// ---- projects ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectResources {
    #[serde(default)]
    pub is_default: Option<bool>,
    #[serde(default)]
    pub cluster_reference_list: Vec<Reference>,
    #[serde(default)]
    pub subnet_reference_list: Vec<Reference>,
    #[serde(default)]
    pub default_subnet_reference: Option<Reference>,
}

pub type Project = Entity<ProjectResources>;

// ---- tasks (no metadata/spec/status wrapping) --------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Task {
    #[serde(default)]
    pub uuid: Option<String>,
    /// `QUEUED`, `RUNNING`, `SUCCEEDED`, `FAILED`, `ABORTED`, `SUSPENDED`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub operation_type: Option<String>,
    #[serde(default)]
    pub percentage_complete: Option<u32>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_detail: Option<String>,
    #[serde(default)]
    pub entity_reference_list: Vec<Reference>,
    #[serde(default)]
    pub creation_time: Option<String>,
    #[serde(default)]
    pub last_update_time: Option<String>,
}

// ---- categories (flat envelope) ----------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryKey {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub system_defined: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryValue {
    /// The key.
    #[serde(default)]
    pub name: Option<String>,
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub system_defined: Option<bool>,
}

// ---- list envelope ------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListMetadata {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub total_matches: Option<u64>,
    #[serde(default)]
    pub length: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListResponse<T> {
    #[serde(default)]
    pub metadata: ListMetadata,
    /// Absent when nothing matches.
    #[serde(default = "Vec::new")]
    pub entities: Vec<T>,
}

/// `GET /prism_central`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrismCentralInfo {
    #[serde(default)]
    pub resources: PrismCentralResources,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrismCentralResources {
    /// e.g. `pc.2024.1.0.1`
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default, rename = "type")]
    pub pc_type: Option<String>,
    #[serde(default)]
    pub virtual_ip: Option<String>,
    #[serde(default)]
    pub pc_size: Option<String>,
    #[serde(default)]
    pub cluster_uuid: Option<String>,
    #[serde(default)]
    pub is_registered_to_hosting_pe: Option<bool>,
    #[serde(default)]
    pub pc_vm_list: Vec<Value>,
}

/// `GET /users/me`, reduced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    #[serde(default)]
    pub metadata: EntityMetadata,
    #[serde(default)]
    pub status: Option<Value>,
    #[serde(default)]
    pub spec: Option<Value>,
}

impl CurrentUser {
    pub fn username(&self) -> Option<&str> {
        self.status
            .as_ref()
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
            .or(self.metadata.name.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_role_comes_from_service_list() {
        let pe: Cluster = serde_json::from_value(serde_json::json!({
            "metadata": {"kind": "cluster", "uuid": "0005-a"},
            "status": {"name": "pe1", "resources": {"config": {"service_list": ["AOS"]}, "network": {}}}
        }))
        .unwrap();
        assert_eq!(pe.role(), ClusterRole::PrismElement);
        assert_eq!(pe.name(), Some("pe1"));
        let pc: Cluster = serde_json::from_value(serde_json::json!({
            "metadata": {"kind": "cluster"},
            "status": {"resources": {"config": {"service_list": ["PRISM_CENTRAL"]}}}
        }))
        .unwrap();
        assert_eq!(pc.role(), ClusterRole::PrismCentral);
        let bare: Cluster = serde_json::from_value(serde_json::json!({"metadata": {}})).unwrap();
        assert_eq!(bare.role(), ClusterRole::Other);
    }
}
