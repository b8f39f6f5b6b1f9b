//! Step 4: the cluster profile for the `nutanix` cloud type. Packs are browsed per layer
//! from the environment's registries (custom ones included), each layer's values are checked
//! as YAML before anything is sent, and a create is duplicate-safe: a profile of the same
//! name and version is found and kept, never made twice. A new version of a profile is a
//! new profile with the same name (that is how Palette keeps versions).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use capstan_ipc::profile::*;
use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{
    ApiErrorKind, ClusterProfileEntity, ClusterProfileEntitySpec, ClusterProfileTemplateDraft,
    ObjectMetaInput, PackFilter, PackManifestEntity, PackTagEntity, PacksFilterSpec, PaletteClient,
    PaletteError,
};
use serde_json::{Value, json};

use super::{CLOUD_TYPE, palette_error};
use crate::Engine;
use crate::connection::invalid;

/// Palette's limit on profile names (the API refuses longer ones).
const MAX_NAME_LEN: usize = 64;

/// The layers a full (infrastructure) profile must have, once each, in Palette's order.
const REQUIRED_LAYERS: [PackLayer; 4] = [
    PackLayer::Os,
    PackLayer::K8s,
    PackLayer::Cni,
    PackLayer::Csi,
];

impl Engine {
    /// Registries of every scope; the ones not from the system are the user's own.
    pub async fn pack_registries(&self) -> Result<PackRegistryList, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let all = palette
            .registries_metadata(Some("all"))
            .await
            .map_err(|e| palette_error("Reading the pack registries failed", e))?;
        let mut registries: Vec<PackRegistry> = all
            .into_iter()
            .filter_map(|r| {
                let scope = r.scope.unwrap_or_else(|| "system".to_owned());
                Some(PackRegistry {
                    uid: r.uid.filter(|u| !u.is_empty())?,
                    name: r.name.unwrap_or_default(),
                    custom: scope != "system",
                    scope,
                    kind: r.kind,
                    is_default: r.is_default.unwrap_or(false),
                    is_private: r.is_private.unwrap_or(false),
                })
            })
            .collect();
        registries.sort_by(|a, b| (a.custom, &a.name).cmp(&(b.custom, &b.name)));
        Ok(PackRegistryList { registries })
    }

    /// The packs of one layer offered for `nutanix`, one entry per pack and registry, with
    /// every version the registry has.
    pub async fn packs_by_layer(&self, query: PacksQuery) -> Result<PackList, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let filter = PacksFilterSpec {
            filter: PackFilter {
                name: search.map(|s| json!({ "contains": s })),
                layer: vec![query.layer.as_str().to_owned()],
                environment: vec![CLOUD_TYPE.to_owned(), "all".to_owned()],
                registry_uid: query.registry_uid.iter().cloned().collect(),
                ..PackFilter::default()
            },
            sort: vec![json!({"field": "name", "order": "asc"})],
        };
        let found = palette
            .search_packs(&filter)
            .await
            .map_err(|e| palette_error("Searching the packs failed", e))?;
        let mut packs = Vec::new();
        for item in found {
            let Some(name) = item.spec.name.clone().or(item.metadata.name.clone()) else {
                continue;
            };
            // `environment: all` may bring packs made for one other cloud only.
            let clouds = &item.spec.cloud_types;
            if !clouds.is_empty() && !clouds.iter().any(|c| c == CLOUD_TYPE || c == "all") {
                continue;
            }
            for registry in &item.spec.registries {
                let Some(registry_uid) = registry.get("uid").and_then(Value::as_str) else {
                    continue;
                };
                if query
                    .registry_uid
                    .as_deref()
                    .is_some_and(|want| want != registry_uid)
                {
                    continue;
                }
                let tags = match self
                    .tags_of(&palette, &name, registry_uid, Some(query.layer))
                    .await?
                {
                    Some(t) => t,
                    None => continue,
                };
                let mut versions: Vec<String> = tags
                    .tags
                    .iter()
                    .filter_map(|t| t.tag.clone().or(t.version.clone()))
                    .collect();
                versions.sort_by(|a, b| version_cmp(b, a));
                versions.dedup();
                packs.push(PackOption {
                    display_name: item
                        .spec
                        .display_name
                        .clone()
                        .filter(|d| !d.is_empty())
                        .unwrap_or_else(|| name.clone()),
                    name: name.clone(),
                    layer: query.layer,
                    registry_uid: registry_uid.to_owned(),
                    registry_name: registry
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    versions,
                });
            }
        }
        Ok(PackList {
            layer: query.layer,
            packs,
        })
    }

    /// The default values of one pack version.
    pub async fn pack_values(&self, request: PackValuesRequest) -> Result<PackDefaults, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        self.pack_defaults(&palette, request).await
    }

    /// [`Engine::pack_values`] with a client the caller already has.
    pub(super) async fn pack_defaults(
        &self,
        palette: &PaletteClient,
        request: PackValuesRequest,
    ) -> Result<PackDefaults, IpcError> {
        let (pack_uid, tags) = self
            .resolve_pack(
                palette,
                &request.pack_name,
                &request.registry_uid,
                &request.version,
                None,
            )
            .await?;
        let values = tags
            .pack_values
            .iter()
            .find(|v| v.pack_uid.as_deref() == Some(pack_uid.as_str()));
        Ok(PackDefaults {
            pack_name: request.pack_name,
            version: request.version,
            values: values.and_then(|v| v.values.clone()).unwrap_or_default(),
            readme: values.and_then(|v| v.readme.clone()),
            pack_uid,
        })
    }

    /// Whether a name and version are free, or why they cannot be used.
    pub async fn profile_name_check(
        &self,
        request: ProfileNameRequest,
    ) -> Result<ProfileNameCheck, IpcError> {
        if let Err((field, reason)) = check_name_version(&request.name, &request.version) {
            return Ok(ProfileNameCheck {
                available: false,
                reason: Some(reason),
                field: Some(field.to_owned()),
            });
        }
        let (_, palette) = self.workflow_palette().await?;
        let name = request.name.trim();
        let version = request.version.trim();
        let free = palette
            .profile_name_available(name, Some(version))
            .await
            .map_err(|e| palette_error("Checking the profile name failed", e))?;
        Ok(ProfileNameCheck {
            available: free,
            reason: (!free).then(|| {
                format!("A cluster profile named {name} with version {version} already exists.")
            }),
            field: (!free).then(|| "version".to_owned()),
        })
    }

    /// Creates the profile (published if asked), or keeps the one of that name and version.
    pub async fn profile_create(
        &self,
        request: ProfileCreateRequest,
    ) -> Result<ProfileCreateResult, IpcError> {
        let draft = ProfileDraft {
            name: request.name,
            version: request.version,
            description: request.description,
            profile_type: "cluster".to_owned(),
            layers: request.layers,
            publish: request.publish,
        };
        draft.validate()?;
        let (_, palette) = self.workflow_palette().await?;
        self.create_profile(&palette, draft).await
    }

    /// A new version of an existing profile: same name and type, the given layers.
    pub async fn profile_new_version(
        &self,
        request: ProfileNewVersionRequest,
    ) -> Result<ProfileCreateResult, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let existing = self.profile_record(&palette, &request.uid).await?;
        let template = existing
            .spec
            .published
            .clone()
            .or(existing.spec.draft.clone())
            .unwrap_or_default();
        let cloud_type = template.cloud_type.clone().unwrap_or_default();
        if cloud_type != CLOUD_TYPE {
            return Err(invalid(
                "uid",
                &format!(
                    "That profile is for the {cloud_type} cloud type; only {CLOUD_TYPE} profiles are versioned here."
                ),
            ));
        }
        let description = if request.description.trim().is_empty() {
            existing
                .metadata
                .annotations
                .get("description")
                .cloned()
                .unwrap_or_default()
        } else {
            request.description
        };
        let draft = ProfileDraft {
            name: existing
                .metadata
                .name
                .clone()
                .or(template.name.clone())
                .unwrap_or_default(),
            version: request.version,
            description,
            profile_type: template
                .profile_type
                .clone()
                .unwrap_or_else(|| "cluster".to_owned()),
            layers: request.layers,
            publish: request.publish,
        };
        draft.validate()?;
        self.create_profile(&palette, draft).await
    }

    /// The `nutanix` profiles, one entry per name with its versions.
    pub async fn profiles_list(&self) -> Result<ProfileList, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        self.profile_list(&palette).await
    }

    /// [`Engine::profiles_list`] with a client the caller already has.
    pub(super) async fn profile_list(
        &self,
        palette: &PaletteClient,
    ) -> Result<ProfileList, IpcError> {
        let mut by_name: BTreeMap<String, Vec<ProfileVersion>> = BTreeMap::new();
        for p in self.profile_index(palette).await? {
            if p.cloud_type.as_deref().is_none_or(|c| c == CLOUD_TYPE) {
                by_name.entry(p.name).or_default().push(ProfileVersion {
                    uid: p.uid,
                    version: p.version.unwrap_or_default(),
                });
            }
        }
        let profiles = by_name
            .into_iter()
            .map(|(name, mut versions)| {
                versions.sort_by(|a, b| version_cmp(&a.version, &b.version));
                ProfileSummary { name, versions }
            })
            .collect();
        Ok(ProfileList { profiles })
    }

    /// One profile version with its layers, to start a new version from.
    pub async fn profile_get(&self, uid: &str) -> Result<ProfileDetail, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        self.profile_detail(&palette, uid).await
    }

    /// [`Engine::profile_get`] with a client the caller already has (one connection for
    /// many reads).
    pub(super) async fn profile_detail(
        &self,
        palette: &PaletteClient,
        uid: &str,
    ) -> Result<ProfileDetail, IpcError> {
        let p = self.profile_record(palette, uid).await?;
        let template = p
            .spec
            .published
            .clone()
            .or(p.spec.draft.clone())
            .unwrap_or_default();
        let layers = template
            .packs
            .iter()
            .filter_map(|pack| {
                Some(ProfileLayerInput {
                    layer: PackLayer::parse(pack.layer.as_deref()?)?,
                    registry_uid: pack.registry_uid.clone().unwrap_or_default(),
                    pack_name: pack.name.clone(),
                    version: pack
                        .tag
                        .clone()
                        .or(pack.version.clone())
                        .unwrap_or_default(),
                    values: pack.values.clone().unwrap_or_default(),
                })
            })
            .collect();
        Ok(ProfileDetail {
            uid: p.metadata.uid.clone().unwrap_or_else(|| uid.to_owned()),
            name: p
                .metadata
                .name
                .clone()
                .or(template.name)
                .unwrap_or_default(),
            version: p
                .spec
                .version
                .clone()
                .or(template.profile_version)
                .unwrap_or_default(),
            description: p
                .metadata
                .annotations
                .get("description")
                .cloned()
                .unwrap_or_default(),
            published: p.status.is_published.unwrap_or(false),
            layers,
        })
    }

    async fn create_profile(
        &self,
        palette: &PaletteClient,
        draft: ProfileDraft,
    ) -> Result<ProfileCreateResult, IpcError> {
        let name = draft.name.trim().to_owned();
        let version = draft.version.trim().to_owned();
        // Looked up first: a re-run (or a retry after a lost answer) keeps what is there.
        let free = palette
            .profile_name_available(&name, Some(&version))
            .await
            .map_err(|e| palette_error("Checking the profile name failed", e))?;
        if !free {
            return self.kept(palette, &name, &version).await;
        }
        let mut packs = Vec::with_capacity(draft.layers.len());
        for layer in &draft.layers {
            let (uid, _) = self
                .resolve_pack(
                    palette,
                    &layer.pack_name,
                    &layer.registry_uid,
                    &layer.version,
                    Some(layer.layer),
                )
                .await?;
            packs.push(PackManifestEntity {
                name: layer.pack_name.clone(),
                tag: Some(layer.version.clone()),
                uid: Some(uid),
                registry_uid: Some(layer.registry_uid.clone()),
                pack_type: Some("spectro".to_owned()),
                layer: Some(layer.layer.as_str().to_owned()),
                values: Some(layer.values.clone()).filter(|v| !v.trim().is_empty()),
                manifests: Vec::new(),
            });
        }
        let mut metadata = ObjectMetaInput::named(&name);
        if !draft.description.trim().is_empty() {
            metadata
                .annotations
                .insert("description".into(), draft.description.trim().to_owned());
        }
        let entity = ClusterProfileEntity {
            metadata,
            spec: ClusterProfileEntitySpec {
                template: ClusterProfileTemplateDraft {
                    cloud_type: CLOUD_TYPE.to_owned(),
                    profile_type: draft.profile_type.clone(),
                    packs,
                },
                version: Some(version.clone()),
                variables: Vec::new(),
            },
        };
        let uid = match palette.create_cluster_profile(&entity, draft.publish).await {
            Ok(uid) => uid,
            // Made meanwhile under this name and version: keep that one.
            Err(PaletteError::Api {
                kind: ApiErrorKind::Conflict,
                ..
            }) => return self.kept(palette, &name, &version).await,
            Err(e) => return Err(palette_error("Creating the cluster profile failed", e)),
        };
        tracing::info!(profile = %name, %version, published = draft.publish, "cluster profile created");
        let message = if draft.publish {
            format!("Created and published the cluster profile {name} {version}.")
        } else {
            format!("Created the cluster profile {name} {version} as a draft.")
        };
        Ok(ProfileCreateResult {
            uid,
            name,
            version,
            created: true,
            published: Some(draft.publish),
            message,
        })
    }

    /// The answer for a profile that already exists under this name and version.
    async fn kept(
        &self,
        palette: &PaletteClient,
        name: &str,
        version: &str,
    ) -> Result<ProfileCreateResult, IpcError> {
        let found = self
            .profile_index(palette)
            .await?
            .into_iter()
            .find(|p| p.name == name && p.version.as_deref().is_none_or(|v| v == version));
        let Some(found) = found else {
            return Err(IpcError::new(
                ErrorCode::Conflict,
                format!(
                    "Palette says a cluster profile named {name} with version {version} exists, but it cannot be found. Choose another name or version."
                ),
            ));
        };
        let published = palette
            .cluster_profile(&found.uid)
            .await
            .ok()
            .and_then(|p| p.status.is_published);
        tracing::info!(profile = %name, %version, "cluster profile already exists; kept");
        Ok(ProfileCreateResult {
            uid: found.uid,
            name: name.to_owned(),
            version: version.to_owned(),
            created: false,
            published,
            message: format!(
                "A cluster profile named {name} with version {version} already exists; kept it."
            ),
        })
    }

    async fn profile_record(
        &self,
        palette: &PaletteClient,
        uid: &str,
    ) -> Result<capstan_palette::ClusterProfile, IpcError> {
        palette.cluster_profile(uid).await.map_err(|e| {
            if e.is_not_found() {
                IpcError::new(
                    ErrorCode::NotFound,
                    "That cluster profile is no longer in Palette. Refresh the list of profiles.",
                )
            } else {
                palette_error("Reading the cluster profile failed", e)
            }
        })
    }

    /// Every profile Palette lists (`/v1/dashboard/clusterprofiles/metadata`).
    async fn profile_index(
        &self,
        palette: &PaletteClient,
    ) -> Result<Vec<IndexedProfile>, IpcError> {
        let page: Value = palette
            .get_json("/v1/dashboard/clusterprofiles/metadata")
            .await
            .map_err(|e| palette_error("Listing the cluster profiles failed", e))?;
        let items = page
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(items
            .iter()
            .filter_map(|item| {
                let text = |ptr: &str| item.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
                Some(IndexedProfile {
                    uid: text("/metadata/uid")?,
                    name: text("/metadata/name")?,
                    version: text("/spec/version"),
                    cloud_type: text("/spec/cloudType"),
                })
            })
            .collect())
    }

    /// A pack's tags in one registry, or `None` when the registry does not offer it here.
    async fn tags_of(
        &self,
        palette: &PaletteClient,
        name: &str,
        registry_uid: &str,
        layer: Option<PackLayer>,
    ) -> Result<Option<PackTagEntity>, IpcError> {
        match palette
            .pack_tags(
                name,
                registry_uid,
                Some(CLOUD_TYPE),
                layer.map(PackLayer::as_str),
            )
            .await
        {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(palette_error(
                &format!("Reading the versions of {name} failed"),
                e,
            )),
        }
    }

    /// The pack uid of `name` `version` in a registry, with the tag entity it came from.
    async fn resolve_pack(
        &self,
        palette: &PaletteClient,
        name: &str,
        registry_uid: &str,
        version: &str,
        layer: Option<PackLayer>,
    ) -> Result<(String, PackTagEntity), IpcError> {
        let where_ = layer
            .map(|l| format!(" for the {} layer", l.title()))
            .unwrap_or_default();
        let Some(tags) = self.tags_of(palette, name, registry_uid, layer).await? else {
            return Err(invalid(
                "packName",
                &format!(
                    "The pack {name} is not offered{where_} for the {CLOUD_TYPE} cloud type in that registry. Choose it again from the list."
                ),
            ));
        };
        let uid = tags
            .tags
            .iter()
            .find(|t| t.tag.as_deref() == Some(version) || t.version.as_deref() == Some(version))
            .and_then(|t| t.pack_uid.clone());
        match uid {
            Some(uid) => Ok((uid, tags)),
            None => {
                let known: Vec<String> = tags
                    .tags
                    .iter()
                    .filter_map(|t| t.tag.clone().or(t.version.clone()))
                    .collect();
                Err(invalid(
                    "version",
                    &format!(
                        "The pack {name} has no version {version} in that registry; it has {}.",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ))
            }
        }
    }
}

struct IndexedProfile {
    uid: String,
    name: String,
    version: Option<String>,
    cloud_type: Option<String>,
}

/// What is about to be created, checked before any call to Palette.
struct ProfileDraft {
    name: String,
    version: String,
    description: String,
    profile_type: String,
    layers: Vec<ProfileLayerInput>,
    publish: bool,
}

impl ProfileDraft {
    fn validate(&self) -> Result<(), IpcError> {
        check_name_version(&self.name, &self.version)
            .map_err(|(field, reason)| invalid(field, &reason))?;
        for required in REQUIRED_LAYERS {
            let count = self.layers.iter().filter(|l| l.layer == required).count();
            if count != 1 {
                let problem = if count == 0 {
                    "has no"
                } else {
                    "has more than one"
                };
                return Err(invalid(
                    "layers",
                    &format!(
                        "The profile {problem} {} layer. A Nutanix cluster profile needs exactly one OS, Kubernetes, network (CNI) and storage (CSI) layer; add-ons are optional.",
                        required.title()
                    ),
                ));
            }
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let field = format!("layers[{i}]");
            if layer.pack_name.trim().is_empty() || layer.registry_uid.trim().is_empty() {
                return Err(invalid(
                    &field,
                    &format!("Choose a pack for the {} layer.", layer.layer.title()),
                ));
            }
            if layer.version.trim().is_empty() {
                return Err(invalid(
                    &field,
                    &format!(
                        "Choose a version of {} for the {} layer.",
                        layer.pack_name,
                        layer.layer.title()
                    ),
                ));
            }
            if self.layers[..i]
                .iter()
                .any(|other| other.pack_name == layer.pack_name)
            {
                return Err(invalid(
                    &field,
                    &format!(
                        "The pack {} is in the profile twice; a profile holds each pack once.",
                        layer.pack_name
                    ),
                ));
            }
            check_values(i, layer)?;
        }
        Ok(())
    }
}

/// The layer's values must be one YAML document; the error names the layer and the line.
fn check_values(index: usize, layer: &ProfileLayerInput) -> Result<(), IpcError> {
    if layer.values.trim().is_empty() {
        return Ok(());
    }
    let Err(e) = serde_norway::from_str::<serde_norway::Value>(&layer.values) else {
        return Ok(());
    };
    let line = e.location().map(|l| l.line());
    let mut error = IpcError::new(
        ErrorCode::InvalidInput,
        format!(
            "The {} layer's values ({}) are not valid YAML{}: {e}.",
            layer.layer.title(),
            layer.pack_name,
            line.map(|l| format!(" (line {l})")).unwrap_or_default()
        ),
    );
    error.details = Some(json!({
        "field": format!("layers[{index}].values"),
        "layer": layer.layer,
        "packName": layer.pack_name,
        "line": line,
    }));
    Err(error)
}

/// `Err((field, reason))` when the name or version cannot be used.
fn check_name_version(name: &str, version: &str) -> Result<(), (&'static str, String)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(("name", "Give the profile a name.".to_owned()));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err((
            "name",
            format!("The name is too long: Palette allows {MAX_NAME_LEN} characters."),
        ));
    }
    let version = version.trim();
    let parts: Vec<&str> = version.split('.').collect();
    let semver = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !semver {
        return Err((
            "version",
            format!(
                "\"{version}\" is not a version Palette accepts: use three numbers, like 1.0.0."
            ),
        ));
    }
    Ok(())
}

/// Compares versions part by part, numerically where both parts are numbers.
pub(super) fn version_cmp(a: &str, b: &str) -> Ordering {
    let parts = |s: &str| -> Vec<String> {
        s.trim_start_matches('v')
            .split(['.', '-', '+'])
            .map(str::to_owned)
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(values: &str) -> ProfileLayerInput {
        ProfileLayerInput {
            layer: PackLayer::Csi,
            registry_uid: "r".into(),
            pack_name: "nutanix-csi".into(),
            version: "3.2.0".into(),
            values: values.into(),
        }
    }

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec!["1.30.6", "1.9.0", "1.31.4", "1.29.10"];
        v.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(v, ["1.9.0", "1.29.10", "1.30.6", "1.31.4"]);
    }

    #[test]
    fn names_and_versions_are_checked() {
        assert!(check_name_version("nutanix-infra", "1.0.0").is_ok());
        assert_eq!(check_name_version(" ", "1.0.0").unwrap_err().0, "name");
        assert_eq!(check_name_version("a", "1.0").unwrap_err().0, "version");
        assert_eq!(check_name_version("a", "1.x.0").unwrap_err().0, "version");
        let long = "n".repeat(MAX_NAME_LEN + 1);
        assert_eq!(check_name_version(&long, "1.0.0").unwrap_err().0, "name");
    }

    #[test]
    fn bad_yaml_names_the_layer_and_line() {
        assert!(check_values(0, &layer("")).is_ok());
        assert!(check_values(0, &layer("# only a comment\n")).is_ok());
        assert!(check_values(0, &layer("charts:\n  a: 1\n")).is_ok());
        let e = check_values(3, &layer("charts:\n  a: 1\n b: [\n")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("storage (CSI)"), "{}", e.message);
        let details = e.details.unwrap();
        assert_eq!(details["field"], "layers[3].values");
        assert_eq!(details["layer"], "csi");
        assert!(details["line"].as_u64().is_some(), "{details}");
    }
}
