//! DTOs of workflow step 4: the cluster profile for the `nutanix` cloud type — pack
//! registries, packs per layer with their versions and default values, the name/version
//! check, create (and publish), and new versions of an existing profile.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A profile layer, as Palette names it (`v1PackManifestEntity.layer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PackLayer {
    Os,
    K8s,
    Cni,
    Csi,
    Addon,
}

impl PackLayer {
    /// Palette's spelling (`os`, `k8s`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            PackLayer::Os => "os",
            PackLayer::K8s => "k8s",
            PackLayer::Cni => "cni",
            PackLayer::Csi => "csi",
            PackLayer::Addon => "addon",
        }
    }

    /// How the UI and messages name it ("OS", "Kubernetes", …).
    pub fn title(self) -> &'static str {
        match self {
            PackLayer::Os => "OS",
            PackLayer::K8s => "Kubernetes",
            PackLayer::Cni => "network (CNI)",
            PackLayer::Csi => "storage (CSI)",
            PackLayer::Addon => "add-on",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "os" => PackLayer::Os,
            "k8s" => PackLayer::K8s,
            "cni" => PackLayer::Cni,
            "csi" => PackLayer::Csi,
            "addon" => PackLayer::Addon,
            _ => return None,
        })
    }
}

// ---- registries and packs -------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PackRegistry {
    pub uid: String,
    pub name: String,
    /// `system` (Palette's own) or `tenant`/`project` (added by the user).
    pub scope: String,
    /// `pack`, `helm`, `oci`, when Palette says.
    pub kind: Option<String>,
    pub is_default: bool,
    pub is_private: bool,
    /// Added by the user (not a system registry): where custom OS/K8s packs live.
    pub custom: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PackRegistryList {
    pub registries: Vec<PackRegistry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PacksQuery {
    pub layer: PackLayer,
    /// Only this registry (default: all).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_uid: Option<String>,
    /// Part of the pack name.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
}

/// One pack in one registry, offered for the `nutanix` cloud type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PackOption {
    pub name: String,
    pub display_name: String,
    pub layer: PackLayer,
    pub registry_uid: String,
    pub registry_name: String,
    /// Newest first.
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PackList {
    pub layer: PackLayer,
    pub packs: Vec<PackOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PackValuesRequest {
    pub registry_uid: String,
    pub pack_name: String,
    pub version: String,
}

/// A pack version's default values: what the YAML editor starts from and diffs against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PackDefaults {
    pub pack_name: String,
    pub version: String,
    pub pack_uid: String,
    pub values: String,
    pub readme: Option<String>,
}

// ---- profiles -------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileNameRequest {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileNameCheck {
    pub available: bool,
    /// Why not, in a sentence (taken, or not a valid name/version).
    pub reason: Option<String>,
    /// `name` or `version`: the field the reason is about.
    pub field: Option<String>,
}

/// One layer of the profile as the user chose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileLayerInput {
    pub layer: PackLayer,
    pub registry_uid: String,
    pub pack_name: String,
    pub version: String,
    /// The layer's values YAML (empty: the pack's defaults; keep OS and K8s empty for CAPX).
    #[serde(default)]
    pub values: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileCreateRequest {
    pub name: String,
    /// Semantic version, e.g. `1.0.0`.
    pub version: String,
    #[serde(default)]
    pub description: String,
    pub layers: Vec<ProfileLayerInput>,
    /// Create and publish in one call (a draft otherwise).
    #[serde(default)]
    pub publish: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileNewVersionRequest {
    /// Any version of the existing profile.
    pub uid: String,
    pub version: String,
    /// Empty: keep the existing description.
    #[serde(default)]
    pub description: String,
    pub layers: Vec<ProfileLayerInput>,
    #[serde(default)]
    pub publish: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileCreateResult {
    pub uid: String,
    pub name: String,
    pub version: String,
    /// False when a profile of that name and version already existed and was kept.
    pub created: bool,
    /// Whether the profile is published (unknown for a kept profile Palette did not report).
    pub published: Option<bool>,
    /// One line for the UI ("Created and published …", "… already exists; kept it").
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileVersion {
    pub uid: String,
    pub version: String,
}

/// One profile name with all its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummary {
    pub name: String,
    /// Oldest first.
    pub versions: Vec<ProfileVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileList {
    pub profiles: Vec<ProfileSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUidRequest {
    pub uid: String,
}

/// One profile version with its layers (to start a new version from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDetail {
    pub uid: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub published: bool,
    pub layers: Vec<ProfileLayerInput>,
}
