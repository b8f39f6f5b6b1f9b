//! Request and response types, named after the spec's `v1...` definitions, camelCase on
//! the wire. Response fields are optional and unknown fields are ignored: Palette adds
//! fields between releases. Deeply nested, rarely read parts stay `serde_json::Value`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub type StringMap = BTreeMap<String, String>;

/// `v1Uid`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uid {
    pub uid: String,
}

/// `v1ListMetaData`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(default, rename = "continue")]
    pub continue_token: Option<String>,
    #[serde(default)]
    pub count: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

/// `{items, listmeta}`
#[derive(Debug, Clone, Deserialize)]
pub struct ListPage<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    #[serde(default)]
    pub listmeta: Option<ListMeta>,
}

/// `v1ObjectMeta`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub annotations: StringMap,
    #[serde(default)]
    pub labels: StringMap,
    #[serde(default)]
    pub creation_timestamp: Option<String>,
    #[serde(default)]
    pub last_modified_timestamp: Option<String>,
    #[serde(default)]
    pub deletion_timestamp: Option<String>,
}

/// `v1ObjectMetaInputEntity`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMetaInput {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: StringMap,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
}

impl ObjectMetaInput {
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// `v1ObjectReference`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

// ---- identity --------------------------------------------------------------------------

/// `v1UserInfo`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    #[serde(default)]
    pub user_uid: Option<String>,
    #[serde(default)]
    pub tenant_uid: Option<String>,
    #[serde(default)]
    pub org_name: Option<String>,
}

/// `v1ProjectMetadata` (`{metadata: {uid, name}}`)
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectMetadata {
    #[serde(default)]
    pub metadata: ObjectReference,
}

/// `v1Project`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Project {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<Value>,
    #[serde(default)]
    pub status: Option<Value>,
}

/// `v1SystemUserMe`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemUserMe {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: SystemUserSpec,
    #[serde(default)]
    pub status: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserSpec {
    #[serde(default)]
    pub email_id: Option<String>,
    #[serde(default)]
    pub admin_type: Option<String>,
}

/// `v1UserToken` / syslogin / refresh responses: `{Authorization, ...}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(rename = "Authorization")]
    pub authorization: String,
}

// ---- cloud types -------------------------------------------------------------------------

/// `v1CloudCategory`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudCategory {
    Datacenter,
    Cloud,
    Edge,
}

/// `v1CustomCloudSpecEntity`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomCloudSpecEntity {
    pub display_name: String,
    #[serde(default)]
    pub is_control_plane_managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_category: Option<CloudCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
}

/// `v1CustomCloudRequestEntity`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomCloudRequestEntity {
    pub metadata: ObjectMetaInput,
    pub spec: CustomCloudSpecEntity,
}

/// `v1CustomCloudType`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomCloudType {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub logo: Option<String>,
    #[serde(default)]
    pub is_custom: bool,
    #[serde(default)]
    pub is_managed: Option<bool>,
    #[serde(default)]
    pub is_vertex: Option<bool>,
    #[serde(default)]
    pub cloud_category: Option<String>,
    #[serde(default)]
    pub cloud_family: Option<String>,
}

/// `v1CustomCloudTypes`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomCloudTypes {
    #[serde(default)]
    pub cloud_types: Vec<CustomCloudType>,
}

/// `GET /v1/clouds/cloudTypes/{ct}/meta`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomCloudMeta {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<Value>,
}

/// `v1CustomCloudTypeContentResponse`
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ContentResponse {
    #[serde(default)]
    pub yaml: String,
}

/// `v1CustomCloudTypeCloudAccountKeys`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudAccountKeys {
    #[serde(default)]
    pub keys: Vec<String>,
}

/// The CAPI component files of a cloud type (`/content/{component}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CloudTypeComponent {
    Core,
    ControlPlane,
    Bootstrap,
    CloudProvider,
}

impl CloudTypeComponent {
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::ControlPlane => "controlPlane",
            Self::Bootstrap => "bootstrap",
            Self::CloudProvider => "cloudProvider",
        }
    }
}

/// The three cluster templates of a cloud type (`/content/templates/{template}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CloudTypeTemplate {
    ClusterTemplate,
    ControlPlanePoolTemplate,
    WorkerPoolTemplate,
}

impl CloudTypeTemplate {
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::ClusterTemplate => "clusterTemplate",
            Self::ControlPlanePoolTemplate => "controlPlanePoolTemplate",
            Self::WorkerPoolTemplate => "workerPoolTemplate",
        }
    }
}

// ---- PCG (overlords) --------------------------------------------------------------------

/// `v1PcgSelfHostedParams`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PcgSelfHostedParams {
    pub name: String,
    pub cloud_type: String,
}

/// `v1PcgServiceKubectlCommands`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PcgServiceKubectlCommands {
    #[serde(default)]
    pub overlord_uid: Option<String>,
    #[serde(default)]
    pub kubectl_commands: Vec<String>,
}

/// `v1Overlord`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overlord {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: OverlordSpec,
    #[serde(default)]
    pub status: OverlordStatus,
}

impl Overlord {
    /// The SDK's rule: a PCG is usable only when `status.state == "Running"`.
    pub fn is_running(&self) -> bool {
        self.status.state.as_deref() == Some("Running")
    }
}

/// `v1OverloadSpec`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverlordSpec {
    #[serde(default)]
    pub cloud_account_uid: Option<String>,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub is_self_hosted: Option<bool>,
    #[serde(default)]
    pub is_system: Option<bool>,
    #[serde(default)]
    pub spectro_cluster_uid: Option<String>,
    #[serde(default)]
    pub tenant_uid: Option<String>,
}

/// `v1OverloadStatus`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverlordStatus {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub is_ready: Option<bool>,
    #[serde(default)]
    pub kubectl_commands: Vec<String>,
    #[serde(default)]
    pub health: Option<Value>,
    #[serde(default)]
    pub notifications: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Overlords {
    #[serde(default)]
    pub items: Vec<Overlord>,
}

// ---- cloud accounts ----------------------------------------------------------------------

/// `v1CustomAccountEntity`. Credentials are secrets: this type implements no `Debug` that
/// would show them (see the manual impl) and is only serialised into the request body.
#[derive(Clone, Serialize)]
pub struct CustomAccountEntity {
    pub metadata: ObjectMetaInput,
    pub spec: CustomCloudAccountInput,
}

#[derive(Clone, Serialize)]
pub struct CustomCloudAccountInput {
    pub credentials: StringMap,
}

impl std::fmt::Debug for CustomAccountEntity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomAccountEntity")
            .field("metadata", &self.metadata)
            .field(
                "credential_keys",
                &self.spec.credentials.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl CustomAccountEntity {
    /// An account bound to a PCG (annotation `overlordUid`).
    pub fn new(
        name: impl Into<String>,
        pcg_uid: impl Into<String>,
        credentials: StringMap,
    ) -> Self {
        let mut metadata = ObjectMetaInput::named(name);
        metadata
            .annotations
            .insert("overlordUid".into(), pcg_uid.into());
        Self {
            metadata,
            spec: CustomCloudAccountInput { credentials },
        }
    }
}

/// `v1CustomAccount`. Credentials read back are kept out of `Debug`.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomAccount {
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<CustomCloudAccountRead>,
    #[serde(default)]
    pub status: Option<CloudAccountStatus>,
}

#[derive(Clone, Default, Deserialize)]
pub struct CustomCloudAccountRead {
    #[serde(default)]
    pub credentials: StringMap,
}

impl std::fmt::Debug for CustomAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomAccount")
            .field("kind", &self.kind)
            .field("metadata", &self.metadata)
            .field(
                "credential_keys",
                &self
                    .spec
                    .as_ref()
                    .map(|s| s.credentials.keys().collect::<Vec<_>>()),
            )
            .field("status", &self.status)
            .finish()
    }
}

/// `v1CloudAccountStatus`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudAccountStatus {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub token_expiry: Option<String>,
    #[serde(default)]
    pub token_generation_time: Option<String>,
}

// ---- cluster profiles ------------------------------------------------------------------

/// `v1PackManifestEntity`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackManifestEntity {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_uid: Option<String>,
    /// `spectro` | `helm` | `manifest` | `oci`
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub pack_type: Option<String>,
    /// `os` | `k8s` | `cni` | `csi` | `addon`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<ManifestInput>,
}

/// `v1ManifestInputEntity`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestInput {
    pub name: String,
    #[serde(default)]
    pub content: String,
}

/// `v1ClusterProfileTemplateDraft`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProfileTemplateDraft {
    pub cloud_type: String,
    /// `cluster` | `infra` | `add-on` | `system`
    #[serde(rename = "type")]
    pub profile_type: String,
    #[serde(default)]
    pub packs: Vec<PackManifestEntity>,
}

/// `spec` of `v1ClusterProfileEntity`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProfileEntitySpec {
    pub template: ClusterProfileTemplateDraft,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Value>,
}

/// `v1ClusterProfileEntity`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterProfileEntity {
    pub metadata: ObjectMetaInput,
    pub spec: ClusterProfileEntitySpec,
}

/// `v1ClusterProfileUpdateEntity`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterProfileUpdateEntity {
    pub metadata: ObjectMetaInput,
    pub spec: ClusterProfileEntitySpec,
}

/// `v1ClusterProfile`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProfile {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ClusterProfileSpec,
    #[serde(default)]
    pub status: ClusterProfileStatus,
}

/// `v1ClusterProfileSpec`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProfileSpec {
    #[serde(default)]
    pub draft: Option<ClusterProfileTemplate>,
    #[serde(default)]
    pub published: Option<ClusterProfileTemplate>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub versions: Vec<Value>,
}

/// `v1ClusterProfileTemplate`: a profile definition; on a cluster
/// (`spec.clusterProfileTemplates[]`) the snapshot of the applied version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProfileTemplate {
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub cloud_type: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub profile_type: Option<String>,
    #[serde(default)]
    pub profile_version: Option<String>,
    #[serde(default)]
    pub packs: Vec<PackRef>,
}

/// `v1PackRef`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackRef {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub layer: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default, rename = "type")]
    pub pack_type: Option<String>,
    #[serde(default)]
    pub pack_uid: Option<String>,
    #[serde(default)]
    pub registry_uid: Option<String>,
    #[serde(default)]
    pub values: Option<String>,
}

/// `v1ClusterProfileStatus`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProfileStatus {
    #[serde(default)]
    pub is_published: Option<bool>,
    #[serde(default)]
    pub has_user_macros: Option<bool>,
    #[serde(default)]
    pub in_use_clusters: Vec<Value>,
}

// ---- packs and registries ----------------------------------------------------------------

/// `v1RegistryMetadata`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryMetadata {
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub is_default: Option<bool>,
    #[serde(default)]
    pub is_private: Option<bool>,
}

/// `v1PackTagEntity` (`GET /v1/packs/{name}/registries/{registryUid}`)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackTagEntity {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub layer: Option<String>,
    #[serde(default)]
    pub cloud_types: Vec<String>,
    #[serde(default)]
    pub registry_uid: Option<String>,
    #[serde(default)]
    pub tags: Vec<PackTag>,
    #[serde(default)]
    pub pack_values: Vec<PackValues>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackTag {
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub pack_uid: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub parent_tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackValues {
    #[serde(default)]
    pub pack_uid: Option<String>,
    #[serde(default)]
    pub values: Option<String>,
    #[serde(default)]
    pub readme: Option<String>,
}

/// Body of `POST /v1/packs/search` (`v1PacksFilterSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PacksFilterSpec {
    #[serde(default)]
    pub filter: PackFilter,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackFilter {
    /// `{eq | contains | beginsWith: "..."}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layer: Vec<String>,
    /// Cloud types, e.g. `["nutanix", "all"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry_uid: Vec<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Vec::is_empty")]
    pub pack_type: Vec<String>,
}

/// One `POST /v1/packs/search` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PackSearchItem {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PackSearchSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackSearchSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub layer: Option<String>,
    #[serde(default)]
    pub cloud_types: Vec<String>,
    #[serde(default)]
    pub registries: Vec<Value>,
}

// ---- clusters ----------------------------------------------------------------------------

/// `v1SpectroCustomClusterEntity`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpectroCustomClusterEntity {
    pub metadata: ObjectMetaInput,
    pub spec: SpectroCustomClusterEntitySpec,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpectroCustomClusterEntitySpec {
    /// Required by the spec (`v1SpectroCustomClusterEntity.spec.cloudType`). Left empty, it is
    /// filled from the cloud type in the create path.
    #[serde(default)]
    pub cloud_type: String,
    pub cloud_account_uid: String,
    pub cloud_config: CustomClusterConfigValues,
    #[serde(rename = "machinepoolconfig")]
    pub machine_pool_config: Vec<CustomMachinePoolConfigEntity>,
    #[serde(default)]
    pub profiles: Vec<SpectroClusterProfileEntity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_type: Option<String>,
}

/// `{values}`: a whole YAML document set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomClusterConfigValues {
    pub values: String,
}

/// `v1CustomMachinePoolConfigEntity`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMachinePoolConfigEntity {
    pub cloud_config: CustomClusterConfigValues,
    pub pool_config: CustomMachinePoolBaseConfig,
}

impl CustomMachinePoolConfigEntity {
    /// A pool from its YAML; control-plane when the YAML holds a KubeadmControlPlane (the
    /// Terraform provider's rule).
    pub fn from_yaml(yaml: impl Into<String>) -> Self {
        let values = yaml.into();
        let is_cp = values
            .lines()
            .any(|l| l.trim() == "kind: KubeadmControlPlane");
        Self {
            cloud_config: CustomClusterConfigValues { values },
            pool_config: CustomMachinePoolBaseConfig {
                is_control_plane: is_cp,
                ..Default::default()
            },
        }
    }
}

/// `v1CustomMachinePoolBaseConfigEntity`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMachinePoolBaseConfig {
    #[serde(default)]
    pub is_control_plane: bool,
    #[serde(default)]
    pub use_control_plane_as_worker: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_labels: StringMap,
}

/// `v1SpectroClusterProfileEntity`: a profile to attach at create, or (day 2) to switch to.
/// Another version of an attached profile (same name) replaces it; `replace_with_profile`
/// names the attached uid to replace when the names differ.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpectroClusterProfileEntity {
    pub uid: String,
    /// The user's edits of the profile's layers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pack_values: Vec<PackValuesEntity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<SpectroClusterVariable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_with_profile: Option<String>,
}

/// `v1PackValuesEntity`: values for one pack of the profile (`name`, and `tag` to check
/// the version).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackValuesEntity {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// `spectro` | `helm` | `manifest` | `oci`
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub pack_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<ManifestRefUpdate>,
}

/// `v1ManifestRefUpdateEntity`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRefUpdate {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// `v1SpectroClusterVariable`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpectroClusterVariable {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `v1SpectroClusterProfiles`: the body of `PATCH`/`PUT /v1/spectroclusters/{uid}/profiles`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpectroClusterProfiles {
    pub profiles: Vec<SpectroClusterProfileEntity>,
    /// `{actionType: DownloadAndInstall | DownloadAndInstallLater}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spc_apply_settings: Option<Value>,
}

/// `v1SpectroClusterProfileList` (`GET /v1/spectroclusters/{uid}/profiles`)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpectroClusterProfileList {
    #[serde(default)]
    pub profiles: Vec<SpectroClusterProfile>,
}

/// `v1SpectroClusterProfile`: one profile as applied to a cluster. Its profile version
/// (`1.1.0`) is not here: read `SpectroCluster.spec.cluster_profile_templates[].profile_version`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpectroClusterProfile {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: SpectroClusterProfileSpec,
}

/// `v1SpectroClusterProfileSpec`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpectroClusterProfileSpec {
    #[serde(default)]
    pub cloud_type: Option<String>,
    /// `cluster` | `infra` | `add-on` | `system`
    #[serde(default, rename = "type")]
    pub profile_type: Option<String>,
    /// The spec's integer revision, not the profile version.
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub packs: Vec<ClusterProfilePack>,
}

/// `v1ClusterProfilePacksEntity`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterProfilePack {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PackSummarySpec,
}

/// `v1PackSummarySpec`, reduced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackSummarySpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// `kernel` | `os` | `k8s` | `cni` | `csi` | `addon`
    #[serde(default)]
    pub layer: Option<String>,
    #[serde(default, rename = "type")]
    pub pack_type: Option<String>,
    #[serde(default)]
    pub registry_uid: Option<String>,
    #[serde(default)]
    pub values: Option<String>,
}

/// `v1SpectroCluster`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpectroCluster {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: SpectroClusterSpec,
    #[serde(default)]
    pub status: Option<SpectroClusterStatus>,
}

impl SpectroCluster {
    pub fn state(&self) -> Option<&str> {
        self.status.as_ref().and_then(|s| s.state.as_deref())
    }
}

/// `v1SpectroClusterSpec`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpectroClusterSpec {
    #[serde(default)]
    pub cloud_type: Option<String>,
    #[serde(default)]
    pub cloud_config_ref: Option<ObjectReference>,
    #[serde(default)]
    pub cluster_type: Option<String>,
    /// The applied profile versions with their packs.
    #[serde(default)]
    pub cluster_profile_templates: Vec<ClusterProfileTemplate>,
}

/// `v1SpectroClusterStatus`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpectroClusterStatus {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub conditions: Vec<ClusterCondition>,
    #[serde(default)]
    pub api_endpoints: Vec<Value>,
    /// Per-pack progress (after a profile update: the new versions while they apply).
    #[serde(default)]
    pub packs: Vec<ClusterPackStatus>,
    #[serde(default)]
    pub repave: Option<Value>,
    #[serde(default)]
    pub abort_timestamp: Option<String>,
}

/// `v1ClusterPackStatus`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPackStatus {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub pack_type: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub profile_uid: Option<String>,
    #[serde(default)]
    pub condition: Option<ClusterCondition>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
}

impl ClusterPackStatus {
    /// The pack is deployed: its `Ready` condition is `True`.
    pub fn is_ready(&self) -> bool {
        self.condition
            .as_ref()
            .is_some_and(|c| c.status.as_deref() == Some("True"))
    }
}

/// `v1ClusterCondition`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCondition {
    #[serde(default, rename = "type")]
    pub condition_type: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub last_transition_time: Option<String>,
}

/// `GET /v1/spectroclusters/{uid}/status` (`{status: {state}}`)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatusSummary {
    #[serde(default)]
    pub status: SpectroClusterStatus,
}

/// `GET /v1/dashboard/spectroclusters/{uid}/overview`, reduced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterOverview {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<Value>,
    #[serde(default)]
    pub status: ClusterOverviewStatus,
}

impl ClusterOverview {
    pub fn health(&self) -> Option<&str> {
        self.status
            .health
            .as_ref()
            .and_then(|h| h.get("state"))
            .and_then(Value::as_str)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOverviewStatus {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub health: Option<Value>,
    #[serde(default)]
    pub kube_meta: Option<Value>,
}

/// `v1CustomCloudConfig`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomCloudConfig {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: CustomCloudConfigSpec,
}

/// `v1CustomCloudConfigSpec`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomCloudConfigSpec {
    #[serde(default)]
    pub cloud_account_ref: Option<ObjectReference>,
    #[serde(default)]
    pub cluster_config: Option<CustomClusterConfigValues>,
    #[serde(default)]
    pub machine_pool_config: Vec<CustomMachinePoolConfig>,
}

/// `v1CustomMachinePoolConfig`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMachinePoolConfig {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_control_plane: bool,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub values: Option<String>,
    #[serde(default)]
    pub use_control_plane_as_worker: Option<bool>,
    #[serde(default)]
    pub taints: Vec<Value>,
    #[serde(default)]
    pub additional_labels: StringMap,
}

/// `v1CustomMachine`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomMachine {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<Value>,
    #[serde(default)]
    pub status: Option<CloudMachineStatus>,
}

/// `v1CloudMachineStatus`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudMachineStatus {
    #[serde(default)]
    pub instance_state: Option<String>,
    #[serde(default)]
    pub ready: Option<bool>,
    #[serde(default)]
    pub addresses: Vec<Value>,
    #[serde(default)]
    pub health: Option<Value>,
}

/// `v1Event`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub involved_object: Option<ObjectReference>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub source: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_detect_the_control_plane_from_yaml() {
        let cp = CustomMachinePoolConfigEntity::from_yaml(
            "apiVersion: x\nkind: KubeadmControlPlane\nmetadata:\n  name: cp-pool\n",
        );
        assert!(cp.pool_config.is_control_plane);
        let w = CustomMachinePoolConfigEntity::from_yaml("kind: MachineDeployment\n");
        assert!(!w.pool_config.is_control_plane);
        let v = serde_json::to_value(&cp).unwrap();
        assert_eq!(v["poolConfig"]["isControlPlane"], true);
        assert!(v["cloudConfig"]["values"].is_string());
    }

    #[test]
    fn account_debug_hides_credentials() {
        let mut creds = StringMap::new();
        creds.insert("NUTANIX_PASSWORD".into(), "hunter2".into());
        let a = CustomAccountEntity::new("acct", "pcg-1", creds);
        let text = format!("{a:?}");
        assert!(
            !text.contains("hunter2") && text.contains("NUTANIX_PASSWORD"),
            "{text}"
        );
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["metadata"]["annotations"]["overlordUid"], "pcg-1");
        assert_eq!(v["spec"]["credentials"]["NUTANIX_PASSWORD"], "hunter2");
    }
}
