//! Typed calls for the five-step workflow and day-2 (palette-api.md §1.5–§7).

use base64::Engine;
use bytes::Bytes;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Body, PaletteClient, check, decode, encode_query, seg};
use crate::error::PaletteError;
use crate::model::*;

fn uid_of(resp: &capstan_http::HttpResponse) -> Result<String, PaletteError> {
    serde_json::from_slice::<Uid>(&resp.body)
        .map(|u| u.uid)
        .map_err(|e| PaletteError::InvalidResponse {
            reason: format!("create response: {e}"),
        })
}

/// Kubeconfig assets may arrive base64-encoded (the SDK decodes them); plain YAML passes.
pub fn decode_kubeconfig(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let looks_yaml =
        trimmed.contains("apiVersion") || trimmed.contains("clusters:") || trimmed.contains('\n');
    if !looks_yaml {
        let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes())
            && let Ok(s) = String::from_utf8(bytes)
            && (s.contains("apiVersion") || s.contains("clusters:"))
        {
            return s;
        }
    }
    text.into_owned()
}

/// Which kubeconfig asset to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeconfigKind {
    /// `/assets/kubeconfig` (reverse-proxy "frp" kubeconfig by default)
    Default,
    /// `/assets/kubeconfigclient` (what the SDK prefers now)
    Client,
    /// `/assets/adminKubeconfig`
    Admin,
}

impl PaletteClient {
    // ---- §1.5 identity and projects -------------------------------------------------

    /// `GET /v1/users/info`: the cheap "does this key work" check.
    pub async fn users_info(&self) -> Result<UserInfo, PaletteError> {
        self.get_json("/v1/users/info").await
    }

    /// `GET /v1/dashboard/projects/metadata[?name=]`
    pub async fn projects(&self, name: Option<&str>) -> Result<Vec<ProjectMetadata>, PaletteError> {
        let path = match name {
            Some(n) => format!("/v1/dashboard/projects/metadata?name={}", encode_query(n)),
            None => "/v1/dashboard/projects/metadata".to_owned(),
        };
        let page: ListPage<ProjectMetadata> = self.get_json(&path).await?;
        Ok(page.items)
    }

    /// `GET /v1/projects/{uid}`
    pub async fn project(&self, uid: &str) -> Result<Project, PaletteError> {
        self.get_json(&format!("/v1/projects/{}", seg(uid))).await
    }

    /// `GET /v1/system/users/me` (system-console token check).
    pub async fn system_user_me(&self) -> Result<SystemUserMe, PaletteError> {
        self.get_json("/v1/system/users/me").await
    }

    // ---- §2.2 cloud types ------------------------------------------------------------

    /// `POST /v1/clouds/cloudTypes/register`. Duplicate-safe: an ambiguous failure is
    /// resolved by reading the cloud type's meta.
    pub async fn register_cloud_type(
        &self,
        entity: &CustomCloudRequestEntity,
    ) -> Result<String, PaletteError> {
        let name = entity.metadata.name.clone();
        self.create_checked(
            "/v1/clouds/cloudTypes/register",
            Self::json(entity)?,
            uid_of,
            || {
                let name = name.clone();
                async move {
                    match self.cloud_type_meta(&name).await {
                        Ok(meta) => Ok(Some(meta.metadata.uid.unwrap_or(name))),
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            },
        )
        .await
    }

    /// `GET /v1/clouds/cloudTypes`
    pub async fn cloud_types(&self) -> Result<Vec<CustomCloudType>, PaletteError> {
        let list: CustomCloudTypes = self.get_json("/v1/clouds/cloudTypes").await?;
        Ok(list.cloud_types)
    }

    /// The custom cloud type named `name`, if registered (`isCustom` as the SDK requires).
    pub async fn custom_cloud_type(
        &self,
        name: &str,
    ) -> Result<Option<CustomCloudType>, PaletteError> {
        Ok(self
            .cloud_types()
            .await?
            .into_iter()
            .find(|c| c.name == name && c.is_custom))
    }

    /// `GET /v1/clouds/cloudTypes/{ct}/meta`
    pub async fn cloud_type_meta(&self, ct: &str) -> Result<CustomCloudMeta, PaletteError> {
        self.get_json(&format!("/v1/clouds/cloudTypes/{}/meta", seg(ct)))
            .await
    }

    /// `PUT /v1/clouds/cloudTypes/{ct}/meta`
    pub async fn update_cloud_type_meta(
        &self,
        ct: &str,
        entity: &CustomCloudRequestEntity,
    ) -> Result<(), PaletteError> {
        self.call_empty(
            Method::PUT,
            &format!("/v1/clouds/cloudTypes/{}/meta", seg(ct)),
            Self::json(entity)?,
        )
        .await
    }

    /// `PUT /v1/clouds/cloudTypes/{ct}/logo` (multipart field `fileName`).
    pub async fn upload_cloud_type_logo(
        &self,
        ct: &str,
        file_name: &str,
        content: Bytes,
    ) -> Result<(), PaletteError> {
        self.put_file(
            &format!("/v1/clouds/cloudTypes/{}/logo", seg(ct)),
            file_name,
            content,
        )
        .await
    }

    /// `GET /v1/clouds/cloudTypes/{ct}/logo`
    pub async fn cloud_type_logo(&self, ct: &str) -> Result<Bytes, PaletteError> {
        self.call_bytes(&format!("/v1/clouds/cloudTypes/{}/logo", seg(ct)))
            .await
    }

    /// Palette's uploads are one multipart part in the form field `fileName`.
    async fn put_file(
        &self,
        path: &str,
        file_name: &str,
        content: Bytes,
    ) -> Result<(), PaletteError> {
        let body = Body::File {
            field: "fileName",
            file_name: file_name.to_owned(),
            content,
        };
        self.call_empty(Method::PUT, path, body).await
    }

    /// Content and template read-backs are `{"yaml": "..."}`.
    async fn get_yaml(&self, path: &str) -> Result<String, PaletteError> {
        let r: ContentResponse = self.get_json(path).await?;
        Ok(r.yaml)
    }

    fn component_path(ct: &str, component: CloudTypeComponent) -> String {
        format!(
            "/v1/clouds/cloudTypes/{}/content/{}",
            seg(ct),
            component.path_segment()
        )
    }

    fn template_path(ct: &str, template: CloudTypeTemplate) -> String {
        format!(
            "/v1/clouds/cloudTypes/{}/content/templates/{}",
            seg(ct),
            template.path_segment()
        )
    }

    /// `PUT .../content/{core|controlPlane|bootstrap|cloudProvider}` (multipart `fileName`).
    pub async fn upload_cloud_type_component(
        &self,
        ct: &str,
        component: CloudTypeComponent,
        file_name: &str,
        yaml: impl Into<Bytes>,
    ) -> Result<(), PaletteError> {
        self.put_file(&Self::component_path(ct, component), file_name, yaml.into())
            .await
    }

    /// `GET .../content/{component}` → the YAML.
    pub async fn cloud_type_component(
        &self,
        ct: &str,
        component: CloudTypeComponent,
    ) -> Result<String, PaletteError> {
        self.get_yaml(&Self::component_path(ct, component)).await
    }

    /// `DELETE .../content/{component}`
    pub async fn delete_cloud_type_component(
        &self,
        ct: &str,
        component: CloudTypeComponent,
    ) -> Result<(), PaletteError> {
        self.call_empty(
            Method::DELETE,
            &Self::component_path(ct, component),
            Body::None,
        )
        .await
    }

    /// `PUT .../content/templates/{template}` (multipart `fileName`).
    pub async fn upload_cloud_type_template(
        &self,
        ct: &str,
        template: CloudTypeTemplate,
        file_name: &str,
        yaml: impl Into<Bytes>,
    ) -> Result<(), PaletteError> {
        self.put_file(&Self::template_path(ct, template), file_name, yaml.into())
            .await
    }

    /// `GET .../content/templates/{template}` → the YAML.
    pub async fn cloud_type_template(
        &self,
        ct: &str,
        template: CloudTypeTemplate,
    ) -> Result<String, PaletteError> {
        self.get_yaml(&Self::template_path(ct, template)).await
    }

    /// `DELETE .../content/templates/{template}`
    pub async fn delete_cloud_type_template(
        &self,
        ct: &str,
        template: CloudTypeTemplate,
    ) -> Result<(), PaletteError> {
        self.call_empty(
            Method::DELETE,
            &Self::template_path(ct, template),
            Body::None,
        )
        .await
    }

    /// `PUT /v1/clouds/cloudTypes/{ct}/cloudAccountKeys`
    pub async fn put_cloud_account_keys(
        &self,
        ct: &str,
        keys: &[String],
    ) -> Result<(), PaletteError> {
        let body = Self::json(&CloudAccountKeys {
            keys: keys.to_vec(),
        })?;
        self.call_empty(
            Method::PUT,
            &format!("/v1/clouds/cloudTypes/{}/cloudAccountKeys", seg(ct)),
            body,
        )
        .await
    }

    /// `GET /v1/clouds/cloudTypes/{ct}/cloudAccountKeys`
    pub async fn cloud_account_keys(&self, ct: &str) -> Result<Vec<String>, PaletteError> {
        let k: CloudAccountKeys = self
            .get_json(&format!(
                "/v1/clouds/cloudTypes/{}/cloudAccountKeys",
                seg(ct)
            ))
            .await?;
        Ok(k.keys)
    }

    /// `DELETE /v1/clouds/cloudTypes/{ct}`
    pub async fn delete_cloud_type(&self, ct: &str) -> Result<(), PaletteError> {
        self.call_empty(
            Method::DELETE,
            &format!("/v1/clouds/cloudTypes/{}", seg(ct)),
            Body::None,
        )
        .await
    }

    // ---- §3.2 self-hosted PCG -------------------------------------------------------

    /// `POST /v1/pcg/selfHosted`. Duplicate-safe: an ambiguous failure is resolved by
    /// looking the PCG up by name and reading its kubectl commands.
    pub async fn create_self_hosted_pcg(
        &self,
        params: &PcgSelfHostedParams,
    ) -> Result<PcgServiceKubectlCommands, PaletteError> {
        let name = params.name.clone();
        let parse = |resp: &capstan_http::HttpResponse| {
            serde_json::from_slice::<PcgServiceKubectlCommands>(&resp.body).map_err(|e| {
                PaletteError::InvalidResponse {
                    reason: format!("/v1/pcg/selfHosted: {e}"),
                }
            })
        };
        self.create_checked("/v1/pcg/selfHosted", Self::json(params)?, parse, || {
            let name = name.clone();
            async move {
                Ok(self
                    .overlord_by_name(&name)
                    .await?
                    .map(|o| PcgServiceKubectlCommands {
                        overlord_uid: o.metadata.uid.clone(),
                        kubectl_commands: o.status.kubectl_commands.clone(),
                    }))
            }
        })
        .await
    }

    /// `GET /v1/overlords[?name=]`
    pub async fn overlords(&self, name: Option<&str>) -> Result<Vec<Overlord>, PaletteError> {
        let path = match name {
            Some(n) => format!("/v1/overlords?name={}", encode_query(n)),
            None => "/v1/overlords".to_owned(),
        };
        let list: Overlords = self.get_json(&path).await?;
        Ok(list.items)
    }

    /// The PCG whose `metadata.name` is exactly `name` (the server filter is re-checked).
    pub async fn overlord_by_name(&self, name: &str) -> Result<Option<Overlord>, PaletteError> {
        Ok(self
            .overlords(Some(name))
            .await?
            .into_iter()
            .find(|o| o.metadata.name.as_deref() == Some(name)))
    }

    /// `GET /v1/overlords/{uid}`: poll this for `status.state` (`Pending` → `Running`).
    pub async fn overlord(&self, uid: &str) -> Result<Overlord, PaletteError> {
        self.get_json(&format!("/v1/overlords/{}", seg(uid))).await
    }

    /// `GET /v1/pcg/{uid}/services/{ally|jet}/manifest`
    pub async fn pcg_manifest(&self, uid: &str, service: &str) -> Result<String, PaletteError> {
        let b = self
            .call_bytes(&format!(
                "/v1/pcg/{}/services/{}/manifest",
                seg(uid),
                seg(service)
            ))
            .await?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// `DELETE /v1/overlords/{uid}` (200 `{msg}`).
    pub async fn delete_overlord(&self, uid: &str) -> Result<(), PaletteError> {
        self.call_empty(
            Method::DELETE,
            &format!("/v1/overlords/{}", seg(uid)),
            Body::None,
        )
        .await
    }

    // ---- §4.2 custom cloud accounts --------------------------------------------------

    fn accounts_path(ct: &str) -> String {
        format!("/v1/cloudaccounts/cloudTypes/{}", seg(ct))
    }

    /// `POST /v1/cloudaccounts/cloudTypes/{ct}`. Duplicate-safe (looked up by name).
    pub async fn create_cloud_account(
        &self,
        ct: &str,
        entity: &CustomAccountEntity,
    ) -> Result<String, PaletteError> {
        let name = entity.metadata.name.clone();
        self.create_checked(
            &Self::accounts_path(ct),
            Self::json(entity)?,
            uid_of,
            || {
                let name = name.clone();
                async move {
                    Ok(self
                        .cloud_account_by_name(ct, &name)
                        .await?
                        .and_then(|a| a.metadata.uid))
                }
            },
        )
        .await
    }

    /// `GET /v1/cloudaccounts/cloudTypes/{ct}`, all pages.
    pub async fn cloud_accounts(&self, ct: &str) -> Result<Vec<CustomAccount>, PaletteError> {
        self.list_all(&Self::accounts_path(ct)).await
    }

    pub async fn cloud_account_by_name(
        &self,
        ct: &str,
        name: &str,
    ) -> Result<Option<CustomAccount>, PaletteError> {
        Ok(self
            .cloud_accounts(ct)
            .await?
            .into_iter()
            .find(|a| a.metadata.name.as_deref() == Some(name)))
    }

    /// `GET /v1/cloudaccounts/cloudTypes/{ct}/{uid}`
    pub async fn cloud_account(&self, ct: &str, uid: &str) -> Result<CustomAccount, PaletteError> {
        self.get_json(&format!("{}/{}", Self::accounts_path(ct), seg(uid)))
            .await
    }

    /// `PUT /v1/cloudaccounts/cloudTypes/{ct}/{uid}`
    pub async fn update_cloud_account(
        &self,
        ct: &str,
        uid: &str,
        entity: &CustomAccountEntity,
    ) -> Result<(), PaletteError> {
        self.call_empty(
            Method::PUT,
            &format!("{}/{}", Self::accounts_path(ct), seg(uid)),
            Self::json(entity)?,
        )
        .await
    }

    /// `DELETE /v1/cloudaccounts/cloudTypes/{ct}/{uid}`
    pub async fn delete_cloud_account(&self, ct: &str, uid: &str) -> Result<(), PaletteError> {
        self.call_empty(
            Method::DELETE,
            &format!("{}/{}", Self::accounts_path(ct), seg(uid)),
            Body::None,
        )
        .await
    }

    // ---- §5.2 cluster profiles ---------------------------------------------------------

    /// `GET /v1/clusterprofiles/validate/name?name=&version=`: `true` when free.
    pub async fn profile_name_available(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<bool, PaletteError> {
        let mut path = format!(
            "/v1/clusterprofiles/validate/name?name={}",
            encode_query(name)
        );
        if let Some(v) = version {
            path.push_str(&format!("&version={}", encode_query(v)));
        }
        match self.call_empty(Method::GET, &path, Body::None).await {
            Ok(()) => Ok(true),
            Err(PaletteError::Api {
                kind: crate::error::ApiErrorKind::Conflict,
                ..
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/clusterprofiles[?publish=true]`. Duplicate-safe: after an ambiguous failure
    /// the name+version is checked; if it is now taken the create landed and is not sent
    /// again (the uid is then looked up through the profile metadata list if the server
    /// offers it, else [`PaletteError::CreatedIdUnknown`]).
    pub async fn create_cluster_profile(
        &self,
        entity: &ClusterProfileEntity,
        publish: bool,
    ) -> Result<String, PaletteError> {
        let path = if publish {
            "/v1/clusterprofiles?publish=true"
        } else {
            "/v1/clusterprofiles"
        };
        let name = entity.metadata.name.clone();
        let version = entity.spec.version.clone();
        self.create_checked(path, Self::json(entity)?, uid_of, || {
            let name = name.clone();
            let version = version.clone();
            async move {
                if self
                    .profile_name_available(&name, version.as_deref())
                    .await?
                {
                    return Ok(None);
                }
                match self.find_profile_uid(&name, version.as_deref()).await {
                    Some(uid) => Ok(Some(uid)),
                    None => Err(PaletteError::CreatedIdUnknown {
                        kind: "cluster profile".into(),
                        name,
                    }),
                }
            }
        })
        .await
    }

    /// Best effort: `GET /v1/dashboard/clusterprofiles/metadata` (not every server has it).
    async fn find_profile_uid(&self, name: &str, version: Option<&str>) -> Option<String> {
        let v: Value = self
            .get_json("/v1/dashboard/clusterprofiles/metadata")
            .await
            .ok()?;
        v.get("items")?.as_array()?.iter().find_map(|item| {
            let meta = item.get("metadata")?;
            let ver_ok = version.is_none_or(|want| {
                item.pointer("/spec/version")
                    .and_then(Value::as_str)
                    .is_none_or(|got| got == want)
            });
            (meta.get("name")?.as_str()? == name && ver_ok)
                .then(|| meta.get("uid")?.as_str().map(str::to_owned))?
        })
    }

    /// `PATCH /v1/clusterprofiles/{uid}/publish`
    pub async fn publish_cluster_profile(&self, uid: &str) -> Result<(), PaletteError> {
        // Publishing twice is harmless, so this PATCH may be retried.
        let path = format!("/v1/clusterprofiles/{}/publish", seg(uid));
        let resp = self
            .send(
                Method::PATCH,
                &path,
                Body::None,
                capstan_http::Idempotency::Idempotent,
            )
            .await?;
        check(resp).map(|_| ())
    }

    /// `GET /v1/clusterprofiles/{uid}`
    pub async fn cluster_profile(&self, uid: &str) -> Result<ClusterProfile, PaletteError> {
        self.get_json(&format!("/v1/clusterprofiles/{}", seg(uid)))
            .await
    }

    /// `PUT /v1/clusterprofiles/{uid}`
    pub async fn update_cluster_profile(
        &self,
        uid: &str,
        entity: &ClusterProfileUpdateEntity,
    ) -> Result<(), PaletteError> {
        self.call_empty(
            Method::PUT,
            &format!("/v1/clusterprofiles/{}", seg(uid)),
            Self::json(entity)?,
        )
        .await
    }

    /// `DELETE /v1/clusterprofiles/{uid}`
    pub async fn delete_cluster_profile(&self, uid: &str) -> Result<(), PaletteError> {
        self.call_empty(
            Method::DELETE,
            &format!("/v1/clusterprofiles/{}", seg(uid)),
            Body::None,
        )
        .await
    }

    /// `GET /v1/clusterprofiles/{uid}/packs`
    pub async fn cluster_profile_packs(&self, uid: &str) -> Result<Value, PaletteError> {
        self.get_json(&format!("/v1/clusterprofiles/{}/packs", seg(uid)))
            .await
    }

    /// `GET /v1/registries/metadata?scope=`
    pub async fn registries_metadata(
        &self,
        scope: Option<&str>,
    ) -> Result<Vec<RegistryMetadata>, PaletteError> {
        let path = match scope {
            Some(s) => format!("/v1/registries/metadata?scope={}", encode_query(s)),
            None => "/v1/registries/metadata".to_owned(),
        };
        let page: ListPage<RegistryMetadata> = self.get_json(&path).await?;
        Ok(page.items)
    }

    /// `POST /v1/packs/search` (a read, so retried like one). Follows `continue` tokens.
    pub async fn search_packs(
        &self,
        filter: &PacksFilterSpec,
    ) -> Result<Vec<PackSearchItem>, PaletteError> {
        let body = Self::json(filter)?;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let path = match &token {
                Some(t) => format!("/v1/packs/search?continue={}", encode_query(t)),
                None => "/v1/packs/search".to_owned(),
            };
            let resp = self
                .send(
                    Method::POST,
                    &path,
                    body.clone(),
                    capstan_http::Idempotency::Idempotent,
                )
                .await?;
            let page: ListPage<PackSearchItem> = decode("/v1/packs/search", check(resp)?)?;
            out.extend(page.items);
            match page
                .listmeta
                .and_then(|m| m.continue_token)
                .filter(|t| !t.is_empty())
            {
                Some(t) if !seen.contains(&t) => {
                    seen.push(t.clone());
                    token = Some(t);
                }
                _ => return Ok(out),
            }
        }
    }

    /// `GET /v1/packs/{name}/registries/{registryUid}?cloudType=&layer=`: tags and values.
    pub async fn pack_tags(
        &self,
        name: &str,
        registry_uid: &str,
        cloud_type: Option<&str>,
        layer: Option<&str>,
    ) -> Result<PackTagEntity, PaletteError> {
        let mut path = format!("/v1/packs/{}/registries/{}", seg(name), seg(registry_uid));
        let mut q = Vec::new();
        if let Some(c) = cloud_type {
            q.push(format!("cloudType={}", encode_query(c)));
        }
        if let Some(l) = layer {
            q.push(format!("layer={}", encode_query(l)));
        }
        if !q.is_empty() {
            path.push('?');
            path.push_str(&q.join("&"));
        }
        self.get_json(&path).await
    }

    // ---- §6 clusters -----------------------------------------------------------------

    /// `GET /v1/spectroclusters/validate/name?name=`: `true` when free.
    pub async fn cluster_name_available(&self, name: &str) -> Result<bool, PaletteError> {
        let path = format!(
            "/v1/spectroclusters/validate/name?name={}",
            encode_query(name)
        );
        match self.call_empty(Method::GET, &path, Body::None).await {
            Ok(()) => Ok(true),
            Err(PaletteError::Api {
                kind: crate::error::ApiErrorKind::Conflict,
                ..
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/spectroclusters/cloudTypes/{ct}/validate` (a dry run, safe to repeat).
    pub async fn validate_cluster(
        &self,
        ct: &str,
        entity: &SpectroCustomClusterEntity,
    ) -> Result<Value, PaletteError> {
        let path = format!("/v1/spectroclusters/cloudTypes/{}/validate", seg(ct));
        let resp = self
            .send(
                Method::POST,
                &path,
                cluster_body(ct, entity)?,
                capstan_http::Idempotency::Idempotent,
            )
            .await?;
        decode(&path, check(resp)?)
    }

    /// `POST /v1/spectroclusters/cloudTypes/{ct}`. Duplicate-safe via the name check.
    pub async fn create_cluster(
        &self,
        ct: &str,
        entity: &SpectroCustomClusterEntity,
    ) -> Result<String, PaletteError> {
        let name = entity.metadata.name.clone();
        let body = cluster_body(ct, entity)?;
        self.create_checked(
            &format!("/v1/spectroclusters/cloudTypes/{}", seg(ct)),
            body,
            uid_of,
            || {
                let name = name.clone();
                async move {
                    if self.cluster_name_available(&name).await? {
                        return Ok(None);
                    }
                    match self.find_cluster_uid(&name).await {
                        Some(uid) => Ok(Some(uid)),
                        None => Err(PaletteError::CreatedIdUnknown {
                            kind: "cluster".into(),
                            name,
                        }),
                    }
                }
            },
        )
        .await
    }

    /// The uid of the cluster of that name, best effort: `GET /v1/dashboard/spectroclusters/meta`
    /// (not every server has it).
    pub async fn find_cluster_uid(&self, name: &str) -> Option<String> {
        let v: Value = self
            .get_json("/v1/dashboard/spectroclusters/meta")
            .await
            .ok()?;
        // The spec (`v1SpectroClustersMeta`) makes this a bare array; accept `{items}` too.
        let items = v.as_array().or_else(|| v.get("items")?.as_array())?;
        items.iter().find_map(|item| {
            let meta = item.get("metadata")?;
            (meta.get("name")?.as_str()? == name)
                .then(|| meta.get("uid")?.as_str().map(str::to_owned))?
        })
    }

    /// `GET /v1/spectroclusters/{uid}`
    pub async fn cluster(&self, uid: &str) -> Result<SpectroCluster, PaletteError> {
        self.get_json(&format!("/v1/spectroclusters/{}", seg(uid)))
            .await
    }

    /// `GET /v1/spectroclusters/{uid}/status`
    pub async fn cluster_status(&self, uid: &str) -> Result<ClusterStatusSummary, PaletteError> {
        self.get_json(&format!("/v1/spectroclusters/{}/status", seg(uid)))
            .await
    }

    /// `GET /v1/spectroclusters/{uid}/profiles`: the profiles applied to the cluster. The
    /// profile versions are on `cluster(uid).spec.cluster_profile_templates`.
    pub async fn cluster_profiles(
        &self,
        uid: &str,
    ) -> Result<Vec<SpectroClusterProfile>, PaletteError> {
        let list: SpectroClusterProfileList = self
            .get_json(&format!("/v1/spectroclusters/{}/profiles", seg(uid)))
            .await?;
        Ok(list.profiles)
    }

    /// `PATCH /v1/spectroclusters/{uid}/profiles`: day-2 profile update (e.g. to a new
    /// version of the attached profile). Palette keeps the cluster Running while the changed
    /// packs apply; follow them in `status.packs`. Sending the applied state again changes
    /// nothing, so a retry after a lost answer is safe.
    pub async fn update_cluster_profiles(
        &self,
        uid: &str,
        profiles: &[SpectroClusterProfileEntity],
    ) -> Result<(), PaletteError> {
        let body = Self::json(&SpectroClusterProfiles {
            profiles: profiles.to_vec(),
            spc_apply_settings: None,
        })?;
        let resp = self
            .send(
                Method::PATCH,
                &format!("/v1/spectroclusters/{}/profiles", seg(uid)),
                body,
                capstan_http::Idempotency::Idempotent,
            )
            .await?;
        check(resp).map(|_| ())
    }

    /// `GET /v1/dashboard/spectroclusters/{uid}/overview`
    pub async fn cluster_overview(&self, uid: &str) -> Result<ClusterOverview, PaletteError> {
        self.get_json(&format!(
            "/v1/dashboard/spectroclusters/{}/overview",
            seg(uid)
        ))
        .await
    }

    /// `GET /v1/cloudconfigs/cloudTypes/{ct}/{configUid}`
    pub async fn cloud_config(
        &self,
        ct: &str,
        config_uid: &str,
    ) -> Result<CustomCloudConfig, PaletteError> {
        self.get_json(&format!(
            "/v1/cloudconfigs/cloudTypes/{}/{}",
            seg(ct),
            seg(config_uid)
        ))
        .await
    }

    /// `PUT .../clusterConfig` with `{clusterConfig: {values}}`.
    pub async fn update_cluster_config(
        &self,
        ct: &str,
        config_uid: &str,
        values: &str,
    ) -> Result<(), PaletteError> {
        let body = Self::json(&json!({ "clusterConfig": { "values": values } }))?;
        self.call_empty(
            Method::PUT,
            &format!(
                "/v1/cloudconfigs/cloudTypes/{}/{}/clusterConfig",
                seg(ct),
                seg(config_uid)
            ),
            body,
        )
        .await
    }

    fn pools_path(ct: &str, config_uid: &str) -> String {
        format!(
            "/v1/cloudconfigs/cloudTypes/{}/{}/machinePools",
            seg(ct),
            seg(config_uid)
        )
    }

    /// `POST .../machinePools`. Not retried blindly: an ambiguous failure is resolved by
    /// reading the cloud config for a pool of that name.
    pub async fn add_machine_pool(
        &self,
        ct: &str,
        config_uid: &str,
        pool_name: &str,
        pool: &CustomMachinePoolConfigEntity,
    ) -> Result<(), PaletteError> {
        let parse = |_: &capstan_http::HttpResponse| Ok(());
        self.create_checked(
            &Self::pools_path(ct, config_uid),
            Self::json(pool)?,
            parse,
            || async move {
                let cfg = self.cloud_config(ct, config_uid).await?;
                Ok(cfg
                    .spec
                    .machine_pool_config
                    .iter()
                    .any(|p| p.name.as_deref() == Some(pool_name))
                    .then_some(()))
            },
        )
        .await
    }

    /// `PUT .../machinePools/{poolName}`
    pub async fn update_machine_pool(
        &self,
        ct: &str,
        config_uid: &str,
        pool_name: &str,
        pool: &CustomMachinePoolConfigEntity,
    ) -> Result<(), PaletteError> {
        let path = format!("{}/{}", Self::pools_path(ct, config_uid), seg(pool_name));
        self.call_empty(Method::PUT, &path, Self::json(pool)?).await
    }

    /// `DELETE .../machinePools/{poolName}`
    pub async fn delete_machine_pool(
        &self,
        ct: &str,
        config_uid: &str,
        pool_name: &str,
    ) -> Result<(), PaletteError> {
        let path = format!("{}/{}", Self::pools_path(ct, config_uid), seg(pool_name));
        self.call_empty(Method::DELETE, &path, Body::None).await
    }

    /// Scales a pool: rewrites `replicas:` in the pool YAML read back from the cloud config
    /// and PUTs the pool (Palette has no separate scale call for custom clouds).
    pub async fn scale_machine_pool(
        &self,
        ct: &str,
        config_uid: &str,
        pool_name: &str,
        replicas: u32,
    ) -> Result<(), PaletteError> {
        let cfg = self.cloud_config(ct, config_uid).await?;
        let pool = cfg
            .spec
            .machine_pool_config
            .iter()
            .find(|p| p.name.as_deref() == Some(pool_name))
            .ok_or_else(|| PaletteError::InvalidInput {
                reason: format!("the cluster has no machine pool named \"{pool_name}\""),
            })?;
        let yaml = pool.values.clone().unwrap_or_default();
        let (new_yaml, changed) = set_replicas(&yaml, replicas);
        if changed == 0 {
            return Err(PaletteError::InvalidInput {
                reason: format!(
                    "the YAML of pool \"{pool_name}\" has no top-level spec.replicas to change"
                ),
            });
        }
        let entity = CustomMachinePoolConfigEntity {
            cloud_config: CustomClusterConfigValues { values: new_yaml },
            pool_config: CustomMachinePoolBaseConfig {
                is_control_plane: pool.is_control_plane,
                use_control_plane_as_worker: pool.use_control_plane_as_worker.unwrap_or(false),
                taints: pool.taints.clone(),
                additional_labels: pool.additional_labels.clone(),
            },
        };
        self.update_machine_pool(ct, config_uid, pool_name, &entity)
            .await
    }

    /// `GET .../machinePools/{poolName}/machines`, all pages.
    pub async fn machines(
        &self,
        ct: &str,
        config_uid: &str,
        pool_name: &str,
    ) -> Result<Vec<CustomMachine>, PaletteError> {
        self.list_all(&format!(
            "{}/{}/machines",
            Self::pools_path(ct, config_uid),
            seg(pool_name)
        ))
        .await
    }

    /// `GET .../machinePools/{poolName}/machines/{machineUid}`
    pub async fn machine(
        &self,
        ct: &str,
        config_uid: &str,
        pool_name: &str,
        machine_uid: &str,
    ) -> Result<CustomMachine, PaletteError> {
        self.get_json(&format!(
            "{}/{}/machines/{}",
            Self::pools_path(ct, config_uid),
            seg(pool_name),
            seg(machine_uid)
        ))
        .await
    }

    /// Downloads a kubeconfig, decoding it when Palette sent base64.
    pub async fn kubeconfig(
        &self,
        cluster_uid: &str,
        kind: KubeconfigKind,
    ) -> Result<String, PaletteError> {
        let asset = match kind {
            KubeconfigKind::Default => "kubeconfig",
            KubeconfigKind::Client => "kubeconfigclient",
            KubeconfigKind::Admin => "adminKubeconfig",
        };
        let body = self
            .call_bytes(&format!(
                "/v1/spectroclusters/{}/assets/{asset}",
                seg(cluster_uid)
            ))
            .await?;
        Ok(decode_kubeconfig(&body))
    }

    /// `DELETE /v1/spectroclusters/{uid}[?forceDelete=true]`. A 404 counts as deleted.
    pub async fn delete_cluster(&self, uid: &str, force: bool) -> Result<(), PaletteError> {
        let mut path = format!("/v1/spectroclusters/{}", seg(uid));
        if force {
            path.push_str("?forceDelete=true");
        }
        match self.call_empty(Method::DELETE, &path, Body::None).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    /// `GET /v1/events/components/spectrocluster/{uid}`, all pages.
    pub async fn cluster_events(&self, uid: &str) -> Result<Vec<Event>, PaletteError> {
        self.list_all(&format!(
            "/v1/events/components/spectrocluster/{}",
            seg(uid)
        ))
        .await
    }
}

/// Replaces the value of every top-level-document `spec.replicas:` line (two-space
/// indented under `spec:`) in a multi-document YAML. Returns the new text and how many
/// lines changed. Line-based on purpose: the rest of the user's YAML stays byte-identical.
pub fn set_replicas(yaml: &str, replicas: u32) -> (String, usize) {
    let mut out = Vec::new();
    let mut in_spec = false;
    let mut changed = 0;
    for line in yaml.split('\n') {
        let trimmed_end = line.trim_end();
        if trimmed_end == "---" || (!line.starts_with(' ') && !line.is_empty()) {
            in_spec = trimmed_end == "spec:";
        }
        let indent = line.len() - line.trim_start().len();
        if in_spec && indent == 2 && line.trim_start().starts_with("replicas:") {
            out.push(format!("  replicas: {replicas}"));
            changed += 1;
            continue;
        }
        out.push(line.to_owned());
    }
    (out.join("\n"), changed)
}

/// The create/validate body for a custom-cloud cluster, with the spec-required
/// `spec.cloudType` filled from the path's cloud type when the caller left it empty.
fn cluster_body(ct: &str, entity: &SpectroCustomClusterEntity) -> Result<Body, PaletteError> {
    if !entity.spec.cloud_type.is_empty() {
        return PaletteClient::json(entity);
    }
    let mut filled = entity.clone();
    filled.spec.cloud_type = ct.to_owned();
    PaletteClient::json(&filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_are_rewritten_only_at_spec_level() {
        let yaml = "kind: MachineDeployment\nmetadata:\n  name: worker-pool\nspec:\n  replicas: 2\n  template:\n    spec:\n      replicas: 9\n---\nkind: NutanixMachineTemplate\nspec:\n  template: {}\n";
        let (out, n) = set_replicas(yaml, 5);
        assert_eq!(n, 1);
        assert!(out.contains("spec:\n  replicas: 5\n"));
        assert!(
            out.contains("      replicas: 9"),
            "nested replicas untouched"
        );
        assert!(out.ends_with("template: {}\n"));
    }

    #[test]
    fn kubeconfigs_are_decoded_when_base64() {
        let plain = "apiVersion: v1\nclusters: []\n";
        assert_eq!(decode_kubeconfig(plain.as_bytes()), plain);
        let b64 = base64::engine::general_purpose::STANDARD.encode(plain);
        assert_eq!(decode_kubeconfig(b64.as_bytes()), plain);
        assert_eq!(decode_kubeconfig(b"not-a-kubeconfig"), "not-a-kubeconfig");
    }
}
