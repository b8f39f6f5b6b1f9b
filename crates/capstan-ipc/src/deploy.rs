//! DTOs of workflow step 5 (deploy a cluster) and of day-2 operations: the pickers fed by
//! live Prism Central inventory, the deploy form, the generated CAPX YAML and its read-back,
//! the cluster's progress and detail, kubeconfig download, scale, profile update and delete.
//!
//! The form ([`DeploySpec`]) only ever holds entities chosen from pickers: a Prism Element,
//! subnets and an image carry both their UUID and name, and `useUuid` says the name is not
//! unique in Prism Central, so the YAML must reference the UUID.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::profile::{PackLayer, ProfileVersion};

// ---- pickers ----------------------------------------------------------------------------------

/// What the deploy form starts from: accounts, profiles, Prism Elements, SSH keys, defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployOptions {
    pub accounts: Vec<DeployAccount>,
    /// Published `nutanix` profiles, one entry per version, newest version first per name.
    pub profiles: Vec<DeployProfile>,
    pub prism_elements: Vec<PrismElementOption>,
    /// Public keys found in `~/.ssh` (the user can also paste one).
    pub ssh_keys: Vec<SshKeyOption>,
    pub defaults: DeployDefaults,
    /// The Prism Central address the cluster's CAPX will use.
    pub prism_central_address: String,
    /// Set when part of the options could not be read (the rest is still usable).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployAccount {
    pub uid: String,
    pub name: String,
    /// The PCG the account goes through, by name.
    pub pcg_name: Option<String>,
    /// The PCG's state (`Running` means clusters can be created through it).
    pub pcg_state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployProfile {
    pub uid: String,
    pub name: String,
    pub version: String,
    pub published: bool,
    /// The Kubernetes pack's version (`1.30.6`), which picks the node image.
    pub kubernetes_version: Option<String>,
    /// The profile's layers (pack name, version, values) to tune for this cluster.
    pub layers: Vec<DeployLayer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployLayer {
    pub layer: PackLayer,
    pub pack_name: String,
    pub version: String,
    pub values: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PrismElementOption {
    pub uuid: String,
    pub name: String,
    /// False when another Prism Element has the same name (the YAML then uses the UUID).
    pub name_unique: bool,
    pub available: bool,
    #[ts(type = "number")]
    pub hosts: u64,
    pub hypervisor: Option<String>,
    pub aos_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SshKeyOption {
    /// Where it was found (`~/.ssh/id_ed25519.pub`).
    pub path: String,
    /// `ssh-ed25519 AAAA… comment`.
    pub public_key: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployDefaults {
    pub control_plane: PoolSpec,
    pub worker: PoolSpec,
    pub control_plane_port: u16,
    pub pod_cidr: String,
    pub service_cidr: String,
    /// CAPX minimums for the form's hints.
    #[ts(type = "number")]
    pub min_memory_mib: u64,
    #[ts(type = "number")]
    pub min_system_disk_mib: u64,
    /// `1.5`, `1.8`, … (fixes the Prism Central version needed and name matching).
    pub capx_line: String,
}

/// The subnets and images of one Prism Element, and free addresses for the kube-vip VIP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlacementRequest {
    pub prism_element_uuid: String,
    /// `v1.30.6` or `1.30.6`: images whose name carries it are marked as matching.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// The control-plane subnet, for VIP suggestions (default: the first subnet).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlacementOptions {
    pub prism_element_uuid: String,
    /// The subnets of that Prism Element only.
    pub subnets: Vec<SubnetOption>,
    /// Disk images (ISOs left out), matching ones first.
    pub images: Vec<ImageOption>,
    /// The subnet the VIP suggestions are for.
    pub vip_subnet_uuid: Option<String>,
    /// Free addresses of that subnet: inside its CIDR, outside its IP pools, not the
    /// gateway, not used by any VM known to Prism Central (a few, lowest first).
    pub vip_candidates: Vec<String>,
    /// Why there are no suggestions (a subnet without Prism IPAM, …).
    pub vip_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubnetOption {
    pub uuid: String,
    pub name: String,
    /// False when another subnet in Prism Central has the same name.
    pub name_unique: bool,
    pub subnet_type: Option<String>,
    #[ts(type = "number | null")]
    pub vlan_id: Option<i64>,
    pub cidr: Option<String>,
    pub gateway: Option<String>,
    /// `first-last` of each IP pool.
    pub pools: Vec<String>,
    /// Pool addresses not held by a VM (None: no Prism IPAM).
    #[ts(type = "number | null")]
    pub free_pool_addresses: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageOption {
    pub uuid: String,
    pub name: String,
    pub name_unique: bool,
    /// The Kubernetes version its name carries (`1.30.5`).
    pub kubernetes_version: Option<String>,
    /// Its name carries the requested Kubernetes version (same minor).
    pub matches: bool,
    pub state: Option<String>,
}

// ---- the form ---------------------------------------------------------------------------------

/// A Prism entity chosen from a picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EntityChoice {
    pub uuid: String,
    pub name: String,
    /// Reference it by UUID in the YAML (its name is not unique).
    #[serde(default)]
    pub use_uuid: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BootKind {
    Legacy,
    Uefi,
}

/// One node pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PoolSpec {
    /// Palette's pool name (`<cluster>-cp`, `<cluster>-workers`, …); empty: the template's.
    pub name: String,
    pub replicas: u32,
    pub vcpu_sockets: u32,
    pub vcpus_per_socket: u32,
    pub memory_gib: u32,
    pub disk_gib: u32,
    pub boot_type: BootKind,
}

/// A profile layer's values changed for this cluster only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LayerValues {
    pub pack_name: String,
    pub values: String,
}

/// Everything the deploy form holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeploySpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub account_uid: String,
    pub profile_uid: String,
    /// Layers tuned for this cluster (the others keep the profile's values).
    #[serde(default)]
    pub layer_values: Vec<LayerValues>,
    pub prism_element: EntityChoice,
    /// In NIC order; the first carries the control-plane VIP.
    pub subnets: Vec<EntityChoice>,
    pub image: EntityChoice,
    pub kubernetes_version: String,
    pub control_plane_endpoint: String,
    pub control_plane_port: u16,
    pub control_plane: PoolSpec,
    pub workers: Vec<PoolSpec>,
    pub ssh_public_key: String,
    pub pod_cidr: String,
    pub service_cidr: String,
}

/// The YAML Palette receives: the cluster's and one per pool (control plane first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployYaml {
    pub cluster: String,
    pub control_plane: String,
    pub workers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployRender {
    pub yaml: DeployYaml,
    /// Macros left that Palette fills itself (`CLUSTER_NAME`, the account's fields).
    pub palette_fills: Vec<String>,
}

/// Which YAML the user edited: the cluster's or a pool's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum PoolRef {
    /// The cluster YAML (its VIP, API port and pod/service networks map to the form).
    Cluster,
    ControlPlane,
    Worker {
        index: u32,
    },
}

/// An edited pool YAML to carry back into the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct YamlReadBackRequest {
    pub spec: DeploySpec,
    pub pool: PoolRef,
    pub yaml: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UnmappedYamlField {
    pub path: String,
    pub value: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct YamlReadBack {
    /// The form with every field the YAML maps to replaced.
    pub spec: DeploySpec,
    /// Form fields that changed (`controlPlane.replicas`, `image`, …).
    pub changed: Vec<String>,
    /// What the form has no field for (kept in the YAML only).
    pub unmapped: Vec<UnmappedYamlField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequest {
    pub spec: DeploySpec,
    /// The YAML as edited in the editor; `None`: generated from the spec.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yaml: Option<DeployYaml>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployResult {
    pub uid: String,
    pub name: String,
    /// False when a cluster of that name already existed and is shown instead.
    pub created: bool,
    pub message: String,
}

// ---- cluster detail, progress and day-2 ---------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterUidRequest {
    pub uid: String,
}

/// Where a cluster is in its life, as the timeline shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ClusterPhase {
    /// Accepted by Palette, waiting for the PCG to start.
    Pending,
    Provisioning,
    Running,
    /// Running, but a pool is scaling or a profile update is applying.
    Updating,
    Deleting,
    Deleted,
    /// Provisioning stopped on an error (the outcome says which and what to do).
    Failed,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProfileRef {
    pub uid: String,
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterNode {
    pub uid: String,
    pub name: String,
    /// `Pending`, `Provisioning`, `Running`, `Deleting`, …
    pub state: String,
    pub healthy: Option<bool>,
    /// The Prism Central VM, once CAPX created it.
    pub vm_uuid: Option<String>,
    pub ip: Option<String>,
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPool {
    pub name: String,
    pub control_plane: bool,
    /// Desired node count.
    pub size: u32,
    pub nodes: Vec<ClusterNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCondition {
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterEvent {
    pub at: Option<String>,
    pub reason: String,
    pub message: String,
    /// `Info`, `Warning`, `Error`.
    pub severity: String,
}

/// How it ended, or what is wrong now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOutcome {
    pub problem: String,
    pub next_step: String,
}

/// One cluster as the progress timeline and the detail page show it, read live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDetail {
    pub uid: String,
    pub name: String,
    pub phase: ClusterPhase,
    /// Palette's own state word.
    pub state: String,
    /// `Healthy`, `UnHealthy`, … once Palette reports it.
    pub health: Option<String>,
    pub created_at: Option<String>,
    /// Since creation (while on its way), or how long it took to reach Running.
    #[ts(type = "number | null")]
    pub elapsed_seconds: Option<u64>,
    /// `host:port` of the API server (the kube-vip VIP).
    pub endpoint: Option<String>,
    pub kubernetes_version: Option<String>,
    pub account_name: Option<String>,
    pub profile: Option<ClusterProfileRef>,
    /// Later versions of the same profile (for "Update profile").
    pub newer_profile_versions: Vec<ProfileVersion>,
    pub pools: Vec<ClusterPool>,
    pub conditions: Vec<ClusterCondition>,
    /// Oldest first.
    pub events: Vec<ClusterEvent>,
    pub kubeconfig_ready: bool,
    /// Set when something is wrong (failed provisioning, a stuck delete, a Warning).
    pub outcome: Option<ClusterOutcome>,
    /// Deleting for longer than a delete normally takes: offer force delete.
    pub delete_stuck: bool,
    pub checked_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KubeconfigSaveRequest {
    pub uid: String,
    /// Where to save it (default: `~/.kube/capstan-<cluster>.yaml`).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KubeconfigSaved {
    pub path: String,
    #[ts(type = "number")]
    pub bytes: u64,
    /// The command to try it with.
    pub hint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterScaleRequest {
    pub uid: String,
    pub pool: String,
    pub replicas: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUpdateRequest {
    pub uid: String,
    /// The profile version to move to.
    pub profile_uid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LayerChange {
    pub layer: Option<PackLayer>,
    pub pack_name: String,
    /// `None`: the layer is new.
    pub from_version: Option<String>,
    /// `None`: the layer is removed.
    pub to_version: Option<String>,
    pub from_values: String,
    pub to_values: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUpdatePlan {
    pub from: Option<ClusterProfileRef>,
    pub to: ClusterProfileRef,
    /// Layers that differ (unchanged layers are left out).
    pub changes: Vec<LayerChange>,
    /// What applying it does to the running cluster, in a sentence or two.
    pub impact: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDeleteRequest {
    pub uid: String,
    /// The cluster's name typed again, as confirmation.
    pub confirm_name: String,
    /// Remove the record now and leave the VMs in Prism Central.
    #[serde(default)]
    pub force: bool,
}
