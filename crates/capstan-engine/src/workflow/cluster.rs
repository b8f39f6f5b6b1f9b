//! A deployed cluster, read live from Palette: its phase, pools and nodes (with the Prism
//! Central VM and IP of each, as CAPX creates them), events and what is wrong; the
//! kubeconfig download; and the day-2 actions (scale a pool, move to another version of the
//! profile, delete and force delete). Nothing is cached: the progress timeline survives a
//! restart because it is Palette's own record, read again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use capstan_ipc::deploy::*;
use capstan_ipc::profile::{PackLayer, ProfileLayerInput, ProfileVersion};
use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{KubeconfigKind, PaletteClient, PaletteError, SpectroCluster};
use serde_json::Value;
use time::OffsetDateTime;

use super::{CLOUD_TYPE, palette_error, parse_rfc3339, rfc3339};
use crate::Engine;
use crate::connection::invalid;

/// A delete that still runs after this long is considered stuck (Palette's own deletes of a
/// few-node cluster take minutes; CAPX retries a failing VM delete forever).
const DELETE_STUCK_AFTER: Duration = Duration::from_secs(15 * 60);
/// The same warning this many times in a row: CAPX keeps failing, not a passing hiccup.
const REPEATED_WARNINGS_FAIL: usize = 3;
/// A VM delete that failed this many times in a row (CAPX retried it) makes a stuck delete.
const DELETE_RETRIES_STUCK: usize = 2;

impl Engine {
    pub async fn cluster_detail(&self, uid: &str) -> Result<ClusterDetail, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        self.read_cluster(&palette, uid).await
    }

    async fn read_cluster(
        &self,
        palette: &PaletteClient,
        uid: &str,
    ) -> Result<ClusterDetail, IpcError> {
        let cluster = palette.cluster(uid).await.map_err(|e| gone_or(e, uid))?;
        let config_uid = cluster
            .spec
            .cloud_config_ref
            .as_ref()
            .and_then(|r| r.uid.clone());
        let (overview, config, events) = tokio::join!(
            palette.cluster_overview(uid),
            async {
                match &config_uid {
                    Some(c) => Some(palette.cloud_config(CLOUD_TYPE, c).await),
                    None => None,
                }
            },
            palette.cluster_events(uid),
        );
        let overview = overview.ok();
        let config = config.and_then(Result::ok);

        let mut pools = Vec::new();
        if let (Some(cfg), Some(cfg_uid)) = (&config, &config_uid) {
            let reads = cfg.spec.machine_pool_config.iter().map(|p| async move {
                let name = p.name.clone().unwrap_or_default();
                let machines = palette
                    .machines(CLOUD_TYPE, cfg_uid, &name)
                    .await
                    .unwrap_or_default();
                ClusterPool {
                    nodes: machines.iter().map(node_of).collect(),
                    control_plane: p.is_control_plane,
                    size: p.size.and_then(|s| u32::try_from(s).ok()).unwrap_or(0),
                    name,
                }
            });
            pools = futures::future::join_all(reads).await;
            // Control plane first, then workers by name.
            pools.sort_by(|a, b| (!a.control_plane, &a.name).cmp(&(!b.control_plane, &b.name)));
        }

        let mut events: Vec<ClusterEvent> = events
            .unwrap_or_default()
            .into_iter()
            .map(|e| ClusterEvent {
                at: e.metadata.creation_timestamp.clone(),
                reason: e.reason.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
                severity: e.severity.unwrap_or_else(|| "Info".into()),
            })
            .collect();
        // Palette lists events newest first, with whole-second times: turn the list around
        // before the (stable) sort, so events of the same second keep their real order.
        if events.first().map(|e| &e.at) >= events.last().map(|e| &e.at) {
            events.reverse();
        }
        events.sort_by(|a, b| a.at.cmp(&b.at));

        let profile = applied_profile(&cluster);
        let state = cluster.state().unwrap_or("Unknown").to_owned();
        // Later published versions of the profile, for "Update profile" (only offered while
        // Running, so polls during provisioning or delete skip these reads).
        let newer_profile_versions = match (&profile, state.as_str()) {
            (Some(p), "Running") => self.newer_published_versions(palette, p).await,
            _ => Vec::new(),
        };
        let kube_meta = overview
            .as_ref()
            .and_then(|o| o.status.kube_meta.clone())
            .unwrap_or(Value::Null);
        let created_at = cluster.metadata.creation_timestamp.clone();
        let now = OffsetDateTime::now_utc();
        let running_at = events
            .iter()
            .find(|e| e.reason == "Running")
            .and_then(|e| e.at.clone());
        let elapsed_seconds = created_at.as_deref().and_then(parse_rfc3339).map(|start| {
            let end = match state.as_str() {
                "Running" => running_at.as_deref().and_then(parse_rfc3339).unwrap_or(now),
                _ => now,
            };
            (end - start).whole_seconds().max(0) as u64
        });
        let deleting_since = events
            .iter()
            .rev()
            .find(|e| e.reason == "Deleting")
            .and_then(|e| e.at.as_deref())
            .and_then(parse_rfc3339)
            .or_else(|| {
                cluster
                    .metadata
                    .deletion_timestamp
                    .as_deref()
                    .and_then(parse_rfc3339)
            });
        let latest_warning = latest_unresolved_warning(&events);
        let repeated = latest_warning.map_or(0, |w| repeated_count(&events, w));
        // Stuck: a VM delete failed again after CAPX's retry (the same warning twice since
        // the delete began), or it has taken too long.
        let delete_stuck = state == "Deleting"
            && (deleting_since.is_some_and(|t| now - t > DELETE_STUCK_AFTER)
                || retried_failure(&events, deleting_since));

        let busy = pools.iter().any(|p| {
            let active: Vec<&ClusterNode> = p
                .nodes
                .iter()
                .filter(|n| n.state != "Deleting" && n.state != "Deleted")
                .collect();
            active.len() as u32 != p.size
                || active.iter().any(|n| n.state != "Running")
                || p.nodes.len() != active.len()
        });
        let packs_busy = cluster
            .status
            .as_ref()
            .is_some_and(|s| s.packs.iter().any(|p| !p.is_ready()));
        let phase = match state.as_str() {
            "Pending" => ClusterPhase::Pending,
            "Provisioning" if repeated >= REPEATED_WARNINGS_FAIL => ClusterPhase::Failed,
            "Provisioning" => ClusterPhase::Provisioning,
            "Running" if busy || packs_busy => ClusterPhase::Updating,
            "Running" => ClusterPhase::Running,
            "Deleting" => ClusterPhase::Deleting,
            "Deleted" => ClusterPhase::Deleted,
            _ => ClusterPhase::Unknown,
        };
        let outcome = if delete_stuck {
            Some(ClusterOutcome {
                problem: match latest_warning {
                    Some(w) => format!("The delete is not finishing: {}", w.message),
                    None => "The delete has been running for more than 15 minutes.".into(),
                },
                next_step: "Bring the Prism Element back (CAPX retries the VM deletes by itself), or force delete: \
                            Palette forgets the cluster at once, but its VMs stay in Prism Central and must be removed by hand."
                    .into(),
            })
        } else if phase == ClusterPhase::Running {
            // Running: earlier warnings (a retried VM create) were overcome.
            None
        } else {
            latest_warning.map(|w| ClusterOutcome {
                problem: w.message.clone(),
                next_step: advice(&w.message),
            })
        };

        let endpoint = cluster
            .status
            .as_ref()
            .and_then(|s| s.api_endpoints.first())
            .and_then(|e| {
                let host = e.get("host")?.as_str()?;
                let port = e.get("port").and_then(Value::as_u64).unwrap_or(6443);
                Some(format!("{host}:{port}"))
            });
        let vms = pools
            .iter()
            .flat_map(|p| &p.nodes)
            .filter(|n| n.vm_uuid.is_some())
            .count();
        self.refresh_cache_on_change(uid, phase, vms).await;
        Ok(ClusterDetail {
            uid: uid.to_owned(),
            name: cluster.metadata.name.clone().unwrap_or_default(),
            phase,
            health: overview
                .as_ref()
                .and_then(|o| o.health().map(str::to_owned)),
            created_at,
            elapsed_seconds,
            endpoint,
            kubernetes_version: kube_meta
                .get("kubernetesVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            account_name: config
                .as_ref()
                .and_then(|c| c.spec.cloud_account_ref.as_ref())
                .and_then(|r| r.name.clone()),
            profile,
            newer_profile_versions,
            pools,
            conditions: cluster
                .status
                .as_ref()
                .map(|s| {
                    s.conditions
                        .iter()
                        .map(|c| ClusterCondition {
                            kind: c.condition_type.clone().unwrap_or_default(),
                            status: c.status.clone().unwrap_or_default(),
                            reason: c.reason.clone(),
                            message: c.message.clone(),
                            at: c.last_transition_time.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            events,
            kubeconfig_ready: kube_meta
                .get("hasKubeConfig")
                .and_then(Value::as_bool)
                .unwrap_or(state == "Running"),
            outcome,
            delete_stuck,
            state,
            checked_at: rfc3339(now),
        })
    }

    /// Re-syncs the cache when a cluster's phase or VM count changed since it was last read
    /// (not on the first read), so its VMs show in Topology without a manual "Sync now".
    async fn refresh_cache_on_change(&self, uid: &str, phase: ClusterPhase, vms: usize) {
        if !self.inner.auto_sync {
            return;
        }
        let key = (self.inner.environments.active_id(), uid.to_owned());
        let before = self
            .inner
            .workflow
            .cluster_shapes
            .lock()
            .insert(key, (phase, vms));
        if before.is_none_or(|b| b == (phase, vms)) {
            return;
        }
        if let Err(e) = self
            .sync_start(capstan_ipc::inventory::SyncStartRequest {
                mode: capstan_ipc::inventory::SyncModeDto::Full,
                kinds: None,
            })
            .await
        {
            tracing::debug!(
                code = e.code.as_str(),
                "cache refresh not started: {}",
                e.message
            );
        }
    }

    async fn newer_published_versions(
        &self,
        palette: &PaletteClient,
        current: &ClusterProfileRef,
    ) -> Vec<ProfileVersion> {
        let Ok(list) = self.profile_list(palette).await else {
            return Vec::new();
        };
        let Some(summary) = list.profiles.into_iter().find(|s| s.name == current.name) else {
            return Vec::new();
        };
        let newer: Vec<ProfileVersion> = summary
            .versions
            .into_iter()
            .filter(|v| {
                current.version.as_deref().is_none_or(|c| {
                    super::profile::version_cmp(&v.version, c) == std::cmp::Ordering::Greater
                })
            })
            .collect();
        // Only published versions can be applied to a cluster.
        let details =
            futures::future::join_all(newer.iter().map(|v| self.profile_detail(palette, &v.uid)))
                .await;
        newer
            .into_iter()
            .zip(details)
            .filter(|(_, d)| d.as_ref().is_ok_and(|d| d.published))
            .map(|(v, _)| v)
            .collect()
    }

    pub async fn kubeconfig_save(
        &self,
        request: KubeconfigSaveRequest,
    ) -> Result<KubeconfigSaved, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let cluster = palette
            .cluster(&request.uid)
            .await
            .map_err(|e| gone_or(e, &request.uid))?;
        let name = cluster.metadata.name.clone().unwrap_or_default();
        let text = palette
            .kubeconfig(&request.uid, KubeconfigKind::Client)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    IpcError::new(
                        ErrorCode::NotFound,
                        format!(
                            "Cluster {name} has no kubeconfig yet: it appears once the control plane is up. Try again when the cluster is Running."
                        ),
                    )
                } else {
                    palette_error("Downloading the kubeconfig failed", e)
                }
            })?;
        let path = match request
            .path
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(p) => expand_home(p),
            None => default_kubeconfig_path(&name)?,
        };
        capstan_secrets::write_private_file(&path, text.as_bytes()).map_err(|e| {
            IpcError::new(
                ErrorCode::Storage,
                format!(
                    "The kubeconfig could not be saved to {}: {e}. Check that the folder exists and is yours to write (or set CAPSTAN_KUBECONFIG_DIR).",
                    path.display()
                ),
            )
        })?;
        tracing::info!(cluster = %name, path = %path.display(), "kubeconfig saved (0600)");
        let shown = path.display().to_string();
        Ok(KubeconfigSaved {
            hint: format!("KUBECONFIG={shown} kubectl get nodes"),
            bytes: text.len() as u64,
            path: shown,
        })
    }

    pub async fn cluster_scale(
        &self,
        request: ClusterScaleRequest,
    ) -> Result<ClusterDetail, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let detail = self.read_cluster(&palette, &request.uid).await?;
        let pool = detail
            .pools
            .iter()
            .find(|p| p.name == request.pool)
            .ok_or_else(|| {
                invalid(
                    "pool",
                    &format!(
                        "Cluster {} has no node pool named {}.",
                        detail.name, request.pool
                    ),
                )
            })?;
        if detail.state != "Running" {
            return Err(IpcError::new(
                ErrorCode::Conflict,
                format!(
                    "Cluster {} is {}; pools can be scaled once it is Running.",
                    detail.name, detail.state
                ),
            ));
        }
        if pool.control_plane && ![1, 3, 5].contains(&request.replicas) {
            return Err(invalid(
                "replicas",
                "The control plane needs 1, 3 or 5 nodes (an odd number keeps etcd's quorum).",
            ));
        }
        if !pool.control_plane && request.replicas == 0 {
            return Err(invalid(
                "replicas",
                "A worker pool needs at least one node; delete the pool instead of scaling it to zero.",
            ));
        }
        if request.replicas > 100 {
            return Err(invalid(
                "replicas",
                "More than 100 nodes in one pool is beyond what Capstan scales in one step.",
            ));
        }
        let config_uid = palette
            .cluster(&request.uid)
            .await
            .map_err(|e| gone_or(e, &request.uid))?
            .spec
            .cloud_config_ref
            .and_then(|r| r.uid)
            .ok_or_else(|| IpcError::new(ErrorCode::Upstream, "Palette did not say where this cluster's node pools are (no cloud config reference)."))?;
        palette
            .scale_machine_pool(CLOUD_TYPE, &config_uid, &request.pool, request.replicas)
            .await
            .map_err(|e| palette_error(&format!("Scaling pool {} failed", request.pool), e))?;
        tracing::info!(cluster = %detail.name, pool = %request.pool, replicas = request.replicas, "pool scaled");
        self.read_cluster(&palette, &request.uid).await
    }

    pub async fn cluster_profile_plan(
        &self,
        request: ProfileUpdateRequest,
    ) -> Result<ProfileUpdatePlan, IpcError> {
        Ok(self.profile_move(request).await?.0)
    }

    /// The plan of a move to another profile version, and the values tuned for this cluster
    /// that carry over (packs whose version stays the same keep the cluster's own values).
    async fn profile_move(
        &self,
        request: ProfileUpdateRequest,
    ) -> Result<(ProfileUpdatePlan, Vec<capstan_palette::PackValuesEntity>), IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let cluster = palette
            .cluster(&request.uid)
            .await
            .map_err(|e| gone_or(e, &request.uid))?;
        let current = applied_profile(&cluster);
        let target = self.profile_detail(&palette, &request.profile_uid).await?;
        if let Some(c) = &current
            && c.name != target.name
        {
            return Err(invalid(
                "profileUid",
                &format!(
                    "Cluster {} uses profile {}; choose a version of that profile (not {}).",
                    cluster.metadata.name.unwrap_or_default(),
                    c.name,
                    target.name
                ),
            ));
        }
        // The cluster's own layers (with its tuned values); the profile's only when the
        // cluster record carries none.
        let from_layers: Vec<ProfileLayerInput> = match (&current, applied_layers(&cluster)) {
            (_, Some(layers)) => layers,
            (Some(c), None) => self.profile_detail(&palette, &c.uid).await?.layers,
            (None, None) => Vec::new(),
        };
        // Values tuned for this cluster: where its layer differs from its profile's. They
        // stay when the new version keeps that pack at the same version.
        let old_profile = match &current {
            Some(c) => self
                .profile_detail(&palette, &c.uid)
                .await
                .ok()
                .map(|p| p.layers),
            None => None,
        };
        let mut target_layers = target.layers.clone();
        let mut carried = Vec::new();
        for mine in &from_layers {
            let tuned = old_profile.as_ref().is_some_and(|old| {
                old.iter().any(|o| {
                    o.pack_name == mine.pack_name
                        && o.version == mine.version
                        && o.values.trim() != mine.values.trim()
                })
            });
            if !tuned {
                continue;
            }
            if let Some(t) = target_layers
                .iter_mut()
                .find(|t| t.pack_name == mine.pack_name && t.version == mine.version)
            {
                t.values = mine.values.clone();
                carried.push(capstan_palette::PackValuesEntity {
                    name: mine.pack_name.clone(),
                    tag: Some(mine.version.clone()),
                    pack_type: Some("spectro".into()),
                    values: Some(mine.values.clone()),
                    ..Default::default()
                });
            }
        }
        let mut by_name: BTreeMap<
            String,
            (Option<&ProfileLayerInput>, Option<&ProfileLayerInput>),
        > = BTreeMap::new();
        for l in &from_layers {
            by_name.entry(l.pack_name.clone()).or_default().0 = Some(l);
        }
        for l in &target_layers {
            by_name.entry(l.pack_name.clone()).or_default().1 = Some(l);
        }
        let changes: Vec<LayerChange> = by_name
            .into_iter()
            .filter(|(_, (a, b))| match (a, b) {
                (Some(a), Some(b)) => a.version != b.version || a.values.trim() != b.values.trim(),
                _ => true,
            })
            .map(|(name, (a, b))| LayerChange {
                layer: b.or(a).map(|l| l.layer),
                pack_name: name,
                from_version: a.map(|l| l.version.clone()),
                to_version: b.map(|l| l.version.clone()),
                from_values: a.map(|l| l.values.clone()).unwrap_or_default(),
                to_values: b.map(|l| l.values.clone()).unwrap_or_default(),
            })
            .collect();
        let k8s_change = changes
            .iter()
            .find(|c| c.layer == Some(PackLayer::K8s) && c.from_version != c.to_version);
        let kept = if carried.is_empty() {
            String::new()
        } else {
            format!(
                " Values tuned for this cluster are kept for {}.",
                carried
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let impact = if changes.is_empty() {
            "Nothing changes: this version has the same packs and values.".to_owned()
        } else if let Some(k) = k8s_change {
            format!(
                "Kubernetes moves from {} to {}: the nodes are replaced one at a time (a repave), so workloads move between nodes. The node image must carry the new version.",
                k.from_version.as_deref().unwrap_or("?"),
                k.to_version.as_deref().unwrap_or("?")
            )
        } else {
            format!(
                "{} layer(s) change; the packs are updated in place and the nodes are not replaced.",
                changes.len()
            )
        };
        let plan = ProfileUpdatePlan {
            from: current,
            to: ClusterProfileRef {
                uid: target.uid,
                name: target.name,
                version: Some(target.version),
            },
            changes,
            impact: format!("{impact}{kept}"),
        };
        Ok((plan, carried))
    }

    pub async fn cluster_profile_update(
        &self,
        request: ProfileUpdateRequest,
    ) -> Result<ClusterDetail, IpcError> {
        // The plan checks that the target is a version of the cluster's profile.
        let (plan, carried) = self.profile_move(request.clone()).await?;
        let (_, palette) = self.workflow_palette().await?;
        let detail = self.read_cluster(&palette, &request.uid).await?;
        if detail.state != "Running" {
            return Err(IpcError::new(
                ErrorCode::Conflict,
                format!(
                    "Cluster {} is {}; its profile can be updated once it is Running.",
                    detail.name, detail.state
                ),
            ));
        }
        palette
            .update_cluster_profiles(
                &request.uid,
                &[capstan_palette::SpectroClusterProfileEntity {
                    uid: request.profile_uid.clone(),
                    // The new version replaces the old one, keeping this cluster's tuned
                    // values where the pack stays (the plan's diff shows the result).
                    replace_with_profile: plan.from.as_ref().map(|f| f.uid.clone()),
                    pack_values: carried,
                    ..Default::default()
                }],
            )
            .await
            .map_err(|e| palette_error("Updating the cluster profile failed", e))?;
        tracing::info!(cluster = %detail.name, to = %request.profile_uid, "cluster profile updated");
        self.read_cluster(&palette, &request.uid).await
    }

    pub async fn cluster_delete(
        &self,
        request: ClusterDeleteRequest,
    ) -> Result<ClusterDetail, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let detail = self.read_cluster(&palette, &request.uid).await?;
        if request.confirm_name.trim() != detail.name {
            return Err(invalid(
                "confirmName",
                &format!(
                    "Type the cluster's name, {}, to confirm the delete.",
                    detail.name
                ),
            ));
        }
        if request.force && detail.state != "Deleting" {
            return Err(invalid(
                "force",
                "Force delete is for a delete that is stuck: delete the cluster normally first, so CAPX removes its VMs.",
            ));
        }
        palette
            .delete_cluster(&request.uid, request.force)
            .await
            .map_err(|e| palette_error("Deleting the cluster failed", e))?;
        tracing::info!(cluster = %detail.name, force = request.force, "cluster delete requested");
        match self.read_cluster(&palette, &request.uid).await {
            Ok(d) => Ok(d),
            // Gone at once (a force delete): say so with what was known.
            Err(e) if e.code == ErrorCode::NotFound => Ok(ClusterDetail {
                phase: ClusterPhase::Deleted,
                state: "Deleted".into(),
                delete_stuck: false,
                outcome: request.force.then(|| ClusterOutcome {
                    problem: "Palette no longer knows this cluster, but its VMs were left in Prism Central.".into(),
                    next_step: format!(
                        "Remove these VMs in Prism Central: {}.",
                        detail
                            .pools
                            .iter()
                            .flat_map(|p| p.nodes.iter().map(|n| n.name.clone()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
                checked_at: rfc3339(OffsetDateTime::now_utc()),
                ..detail
            }),
            Err(e) => Err(e),
        }
    }
}

fn gone_or(e: PaletteError, uid: &str) -> IpcError {
    if e.is_not_found() {
        IpcError::new(
            ErrorCode::NotFound,
            format!("Palette has no cluster {uid} any more (it was deleted)."),
        )
    } else {
        palette_error("Reading the cluster failed", e)
    }
}

fn node_of(m: &capstan_palette::CustomMachine) -> ClusterNode {
    let status = m.status.as_ref();
    let ip = status.and_then(|s| {
        s.addresses.iter().find_map(|a| {
            (a.get("type")?.as_str()? == "InternalIP")
                .then(|| a.get("address")?.as_str().map(str::to_owned))?
        })
    });
    let vm_uuid = m
        .metadata
        .annotations
        .get("providerID")
        .and_then(|p| p.strip_prefix("nutanix://"))
        .map(str::to_owned);
    let health = status
        .and_then(|s| s.health.as_ref())
        .and_then(|h| h.get("state"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    ClusterNode {
        uid: m.metadata.uid.clone().unwrap_or_default(),
        name: m.metadata.name.clone().unwrap_or_default(),
        state: status
            .and_then(|s| s.instance_state.clone())
            .unwrap_or_else(|| "Unknown".into()),
        healthy: health.map(|h| h == "Healthy"),
        vm_uuid,
        ip,
        updated_at: m.metadata.last_modified_timestamp.clone(),
    }
}

/// The profile the cluster runs (`spec.clusterProfileTemplates[0]`).
fn applied_profile(c: &SpectroCluster) -> Option<ClusterProfileRef> {
    let t = c.spec.cluster_profile_templates.first()?;
    Some(ClusterProfileRef {
        uid: t.uid.clone()?,
        name: t.name.clone().unwrap_or_default(),
        version: t.profile_version.clone(),
    })
}

/// The layers as the cluster has them (with this cluster's own values).
fn applied_layers(c: &SpectroCluster) -> Option<Vec<ProfileLayerInput>> {
    let t = c.spec.cluster_profile_templates.first()?;
    Some(
        t.packs
            .iter()
            .filter_map(|p| {
                Some(ProfileLayerInput {
                    layer: PackLayer::parse(p.layer.as_deref()?)?,
                    registry_uid: p.registry_uid.clone().unwrap_or_default(),
                    pack_name: p.name.clone(),
                    version: p.tag.clone().or(p.version.clone()).unwrap_or_default(),
                    values: p.values.clone().unwrap_or_default(),
                })
            })
            .collect(),
    )
}

/// The newest Warning, unless something went well after it.
fn latest_unresolved_warning(events: &[ClusterEvent]) -> Option<&ClusterEvent> {
    let last = events.last()?;
    (last.severity.eq_ignore_ascii_case("warning") || last.severity.eq_ignore_ascii_case("error"))
        .then_some(last)
}

/// Whether some warning came at least [`DELETE_RETRIES_STUCK`] times since `since`.
fn retried_failure(events: &[ClusterEvent], since: Option<OffsetDateTime>) -> bool {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| {
        e.severity.eq_ignore_ascii_case("warning")
            && since.is_none_or(|t| {
                e.at.as_deref()
                    .and_then(parse_rfc3339)
                    .is_some_and(|at| at >= t)
            })
    }) {
        *counts.entry(e.message.as_str()).or_default() += 1;
    }
    counts.values().any(|&n| n >= DELETE_RETRIES_STUCK)
}

/// How many times in a row (from the newest) the same warning came.
fn repeated_count(events: &[ClusterEvent], warning: &ClusterEvent) -> usize {
    events
        .iter()
        .rev()
        .take_while(|e| e.reason == warning.reason && e.message == warning.message)
        .count()
}

/// What to do about a CAPX failure, from its text (prism-capx.md §9).
fn advice(message: &str) -> String {
    let m = message.to_ascii_lowercase();
    if m.contains("not available") {
        "The Prism Element is not reachable from Prism Central. Check its health in Prism Central; CAPX retries every 30 seconds and carries on when it is back.".into()
    } else if m.contains("image") {
        "Check that the node image exists exactly once on Prism Central and carries the cluster's Kubernetes version.".into()
    } else if m.contains("subnet") {
        "Check that the subnet exists exactly once on the chosen Prism Element.".into()
    } else if m.contains("ip") || m.contains("address") {
        "Check the subnet's free addresses and that the kube-vip address is not used by another VM."
            .into()
    } else {
        "Look at the events below for the cause; CAPX retries on its own. If it keeps failing, delete the cluster and deploy again after fixing the cause.".into()
    }
}

fn expand_home(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => directories::BaseDirs::new()
            .map(|b| b.home_dir().join(rest))
            .unwrap_or_else(|| PathBuf::from(p)),
        None => PathBuf::from(p),
    }
}

/// `~/.kube/capstan-<cluster>.yaml`, or under `CAPSTAN_KUBECONFIG_DIR` when set (tests and
/// sandboxed runs keep the user's own `~/.kube` untouched).
fn default_kubeconfig_path(cluster: &str) -> Result<PathBuf, IpcError> {
    if let Some(dir) = std::env::var_os("CAPSTAN_KUBECONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join(format!("capstan-{cluster}.yaml")));
    }
    let home = directories::BaseDirs::new()
        .map(|b| b.home_dir().to_path_buf())
        .ok_or_else(|| {
            IpcError::new(
                ErrorCode::Storage,
                "No home directory is known; choose where to save the kubeconfig.",
            )
        })?;
    Ok(home.join(".kube").join(format!("capstan-{cluster}.yaml")))
}
