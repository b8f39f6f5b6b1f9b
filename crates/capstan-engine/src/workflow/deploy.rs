//! Step 5: deploy a cluster. The form is fed by live Prism Central inventory (never typed
//! names), its YAML is rendered from the registered CAPX templates and can be edited, with
//! pool edits carried back into the form. The preflight runs every check in parallel; the
//! create runs it again and refuses when anything must-hold failed, and it is duplicate-safe
//! (a cluster of the same name is found and shown, never made twice).

use std::net::Ipv4Addr;

use capstan_capx::render::{
    BootType, ClusterChoices, KubeVipToggles, NameOrUuid, PoolChoices, read_pool_choices,
    render_all, render_pool,
};
use capstan_capx::sizes::{MIN_MEMORY_MIB, MIN_SYSTEM_DISK_MIB, Quantity};
use capstan_capx::split::PaletteTemplates;
use capstan_diagnose::CapxLine;
use capstan_ipc::deploy::*;
use capstan_ipc::preflight::PreflightReport;
use capstan_ipc::profile::{PackLayer, PackValuesRequest, ProfileLayerInput};
use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{
    CloudTypeTemplate, CustomClusterConfigValues, CustomMachinePoolConfigEntity, ObjectMetaInput,
    PackValuesEntity, PaletteClient, SpectroClusterProfileEntity, SpectroCustomClusterEntity,
    SpectroCustomClusterEntitySpec,
};
use capstan_preflight::{PreflightInput, PreflightOptions};
use capstan_prism::PrismClient;
use serde_json::Value;

use super::{CLOUD_TYPE, nutanix_pcgs, palette_error};
use crate::Engine;
use crate::connection::invalid;

/// The CAPX line Palette installs by default (the setup check uses the same one).
const DEFAULT_CAPX_LINE: CapxLine = CapxLine::V1_5;
const DEFAULT_POD_CIDR: &str = "172.20.0.0/16";
const DEFAULT_SERVICE_CIDR: &str = "172.19.0.0/16";

impl Engine {
    /// Prism Central client of the active environment.
    pub(crate) async fn workflow_prism(&self) -> Result<(String, PrismClient), IpcError> {
        let conn = self.connection().await?;
        let clients = crate::clients::for_connection(&conn)?;
        Ok((conn.prism.address.clone(), clients.prism))
    }

    pub async fn deploy_options(&self) -> Result<DeployOptions, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let (pc_address, prism) = self.workflow_prism().await?;
        let mut problems = Vec::new();
        let (accounts, pcgs, profiles, pes) = tokio::join!(
            palette.cloud_accounts(CLOUD_TYPE),
            palette.overlords(None),
            self.profile_list(&palette),
            capstan_preflight::pickers::prism_elements(&prism),
        );
        let pcgs = match pcgs {
            Ok(list) => nutanix_pcgs(list),
            Err(e) => {
                problems.push(format!("The PCGs could not be read: {e}."));
                Vec::new()
            }
        };
        let accounts = match accounts {
            Ok(list) => list
                .into_iter()
                .filter_map(|a| {
                    let uid = a.metadata.uid.clone()?;
                    let pcg_uid = a.metadata.annotations.get("overlordUid");
                    let pcg = pcg_uid.and_then(|u| {
                        pcgs.iter()
                            .find(|p| p.metadata.uid.as_deref() == Some(u.as_str()))
                    });
                    Some(DeployAccount {
                        uid,
                        name: a.metadata.name.clone().unwrap_or_default(),
                        pcg_name: pcg.and_then(|p| p.metadata.name.clone()),
                        pcg_state: pcg.and_then(|p| p.status.state.clone()),
                    })
                })
                .collect(),
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => {
                problems.push(format!("The cloud accounts could not be read: {e}."));
                Vec::new()
            }
        };
        let mut profile_options = Vec::new();
        match profiles {
            Ok(list) => {
                // Every version's layers, read together (a slow Palette is slow once).
                let wanted: Vec<(String, String, String)> = list
                    .profiles
                    .iter()
                    .flat_map(|summary| {
                        summary
                            .versions
                            .iter()
                            .rev()
                            .map(|v| (summary.name.clone(), v.version.clone(), v.uid.clone()))
                    })
                    .collect();
                let reads = wanted
                    .iter()
                    .map(|(_, _, uid)| self.profile_detail(&palette, uid));
                let details = futures::future::join_all(reads).await;
                for ((name, version, _), detail) in wanted.into_iter().zip(details) {
                    match detail {
                        // Only published versions can be deployed.
                        Ok(detail) if detail.published => profile_options.push(DeployProfile {
                            kubernetes_version: detail
                                .layers
                                .iter()
                                .find(|l| l.layer == PackLayer::K8s)
                                .map(|l| l.version.clone()),
                            layers: self.layers_to_tune(&palette, detail.layers).await,
                            uid: detail.uid,
                            name: detail.name,
                            version: detail.version,
                            published: true,
                        }),
                        Ok(_) => {}
                        Err(e) => problems.push(format!(
                            "Profile {name} {version} could not be read: {}",
                            e.message
                        )),
                    }
                }
            }
            Err(e) => problems.push(e.message),
        }
        let prism_elements = match pes {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!(
                    "The Prism Elements could not be read from Prism Central: {e}."
                ));
                Vec::new()
            }
        };
        Ok(DeployOptions {
            accounts,
            profiles: profile_options,
            prism_elements,
            ssh_keys: ssh_keys(),
            defaults: DeployDefaults {
                control_plane: PoolSpec {
                    name: String::new(),
                    replicas: 1,
                    vcpu_sockets: 2,
                    vcpus_per_socket: 1,
                    memory_gib: 4,
                    disk_gib: 40,
                    boot_type: BootKind::Legacy,
                },
                worker: PoolSpec {
                    name: String::new(),
                    replicas: 2,
                    vcpu_sockets: 2,
                    vcpus_per_socket: 1,
                    memory_gib: 4,
                    disk_gib: 40,
                    boot_type: BootKind::Legacy,
                },
                control_plane_port: 6443,
                pod_cidr: DEFAULT_POD_CIDR.into(),
                service_cidr: DEFAULT_SERVICE_CIDR.into(),
                min_memory_mib: MIN_MEMORY_MIB as u64,
                min_system_disk_mib: MIN_SYSTEM_DISK_MIB as u64,
                capx_line: DEFAULT_CAPX_LINE.label().trim_end_matches(".x").to_owned(),
            },
            prism_central_address: pc_address,
            problems,
        })
    }

    /// A profile's layers as the deploy form tunes them: a layer the profile leaves at its
    /// pack's defaults (empty values) starts from those defaults, so the user edits the real
    /// YAML rather than an empty page.
    async fn layers_to_tune(
        &self,
        palette: &PaletteClient,
        layers: Vec<ProfileLayerInput>,
    ) -> Vec<DeployLayer> {
        let defaults = futures::future::join_all(layers.iter().map(|l| async move {
            if !l.values.trim().is_empty() || l.registry_uid.is_empty() {
                return None;
            }
            self.pack_defaults(
                palette,
                PackValuesRequest {
                    registry_uid: l.registry_uid.clone(),
                    pack_name: l.pack_name.clone(),
                    version: l.version.clone(),
                },
            )
            .await
            .ok()
            .map(|d| d.values)
        }))
        .await;
        layers
            .into_iter()
            .zip(defaults)
            .map(|(l, default)| DeployLayer {
                layer: l.layer,
                pack_name: l.pack_name,
                version: l.version,
                values: default.unwrap_or(l.values),
            })
            .collect()
    }

    pub async fn deploy_placement(
        &self,
        request: PlacementRequest,
    ) -> Result<PlacementOptions, IpcError> {
        let (_, prism) = self.workflow_prism().await?;
        capstan_preflight::pickers::placement(
            &prism,
            &request.prism_element_uuid,
            request.kubernetes_version.as_deref(),
            request.subnet_uuid.as_deref(),
        )
        .await
        .map_err(|e| prism_error("Reading the subnets and images failed", &e))
    }

    pub async fn deploy_render(&self, spec: DeploySpec) -> Result<DeployRender, IpcError> {
        let (_, palette) = self.workflow_palette().await?;
        let templates = registered_templates(&palette).await?;
        let choices = Choices::from_spec(&spec)?;
        render(&templates, &choices)
    }

    pub async fn deploy_yaml_read_back(
        &self,
        request: YamlReadBackRequest,
    ) -> Result<YamlReadBack, IpcError> {
        let choices = Choices::from_spec(&request.spec)?;
        let base = match request.pool {
            PoolRef::Cluster => return read_back_cluster(request.spec, &request.yaml),
            PoolRef::ControlPlane => &choices.control_plane,
            PoolRef::Worker { index } => choices.workers.get(index as usize).ok_or_else(|| {
                invalid("pool", &format!("There is no worker pool {}.", index + 1))
            })?,
        };
        let back = read_pool_choices(&request.yaml, base)
            .map_err(|e| invalid("yaml", &format!("{e}.")))?;
        let mut spec = request.spec.clone();
        let mut changed = Vec::new();
        let (label, pool) = match request.pool {
            PoolRef::Cluster => {
                return Err(IpcError::internal(
                    "the cluster YAML was read back as a pool",
                ));
            }
            PoolRef::ControlPlane => ("controlPlane".to_owned(), &mut spec.control_plane),
            PoolRef::Worker { index } => (
                format!("workers.{index}"),
                &mut spec.workers[index as usize],
            ),
        };
        let c = &back.choices;
        if matches!(request.pool, PoolRef::ControlPlane) && ![1, 3, 5].contains(&c.replicas) {
            return Err(invalid(
                "yaml",
                &format!(
                    "The control plane YAML asks for {} nodes; it needs 1, 3 or 5 (an odd number keeps etcd's quorum).",
                    c.replicas
                ),
            ));
        }
        let mut unmapped: Vec<UnmappedYamlField> = back
            .unmapped
            .into_iter()
            .map(|u| UnmappedYamlField {
                path: u.path,
                value: u.value,
                reason: u.reason,
            })
            .collect();
        let mut set = |field: &str, changed_now: bool| {
            if changed_now {
                changed.push(format!("{label}.{field}"));
            }
        };
        let name = c.name.clone().unwrap_or_default();
        set("name", pool.name != name);
        pool.name = name;
        set("replicas", pool.replicas != c.replicas);
        pool.replicas = c.replicas;
        set("vcpuSockets", pool.vcpu_sockets != c.vcpu_sockets);
        pool.vcpu_sockets = c.vcpu_sockets;
        set(
            "vcpusPerSocket",
            pool.vcpus_per_socket != c.vcpus_per_socket,
        );
        pool.vcpus_per_socket = c.vcpus_per_socket;
        for (field, q, slot) in [
            ("memoryGib", &c.memory, &mut pool.memory_gib),
            ("diskGib", &c.system_disk, &mut pool.disk_gib),
        ] {
            let mib = q.mib_floor();
            if mib % 1024 == 0 {
                let gib = u32::try_from(mib / 1024).unwrap_or(u32::MAX);
                set(field, *slot != gib);
                *slot = gib;
            } else {
                unmapped.push(UnmappedYamlField {
                    path: format!("NutanixMachineTemplate.{field}"),
                    value: Some(q.as_str().to_owned()),
                    reason: "the form takes whole GiB; the YAML value is kept as written".into(),
                });
            }
        }
        let boot = match c.boot_type {
            BootType::Legacy => BootKind::Legacy,
            BootType::Uefi => BootKind::Uefi,
        };
        set("bootType", pool.boot_type != boot);
        pool.boot_type = boot;
        // Cluster-wide fields: the form has one placement for every pool.
        // Against the version the form renders (the image's patch), not the one typed.
        let k8s = c.kubernetes_version.clone();
        if choices.control_plane.kubernetes_version != k8s {
            changed.push("kubernetesVersion".into());
            spec.kubernetes_version = k8s;
        }
        if c.ssh_authorized_key.trim() != spec.ssh_public_key.trim() {
            changed.push("sshPublicKey".into());
            spec.ssh_public_key = c.ssh_authorized_key.clone();
        }
        for (field, before, after) in [
            (
                "prismElement",
                &choices.control_plane.prism_element,
                &c.prism_element,
            ),
            ("image", &choices.control_plane.image, &c.image),
        ] {
            if before != after {
                unmapped.push(UnmappedYamlField {
                    path: field.to_owned(),
                    value: Some(name_or_uuid_text(after)),
                    reason: "pick it from the list in the form; the YAML keeps what you wrote"
                        .into(),
                });
            }
        }
        if c.subnets != choices.control_plane.subnets {
            unmapped.push(UnmappedYamlField {
                path: "subnets".into(),
                value: Some(
                    c.subnets
                        .iter()
                        .map(name_or_uuid_text)
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                reason: "pick subnets from the list in the form; the YAML keeps what you wrote"
                    .into(),
            });
        }
        Ok(YamlReadBack {
            spec,
            changed,
            unmapped,
        })
    }

    pub async fn deploy_preflight(
        &self,
        request: DeployRequest,
    ) -> Result<PreflightReport, IpcError> {
        let choices = Choices::from_spec(&request.spec)?;
        let checked = match &request.yaml {
            Some(y) => choices.read_back(y)?,
            None => choices,
        };
        self.preflight_for(&request.spec.name, &checked).await
    }

    /// The preflight of exactly what would be deployed.
    async fn preflight_for(
        &self,
        cluster: &str,
        choices: &Choices,
    ) -> Result<PreflightReport, IpcError> {
        let (pc_address, prism) = self.workflow_prism().await?;
        let input = PreflightInput::from_choices(
            &pc_address,
            DEFAULT_CAPX_LINE,
            &choices.cluster,
            &choices.control_plane,
            &choices.workers,
            &choices.pod_cidr,
            &choices.service_cidr,
        )
        .map_err(|e| invalid("workers", &format!("{e}.")))?;
        let report = capstan_preflight::run(&input, &prism, &PreflightOptions::default()).await;
        tracing::info!(
            %cluster,
            verdict = ?report.verdict,
            can_deploy = report.can_deploy,
            elapsed_ms = report.elapsed_ms,
            "deploy preflight finished"
        );
        Ok(report)
    }

    pub async fn cluster_deploy(&self, request: DeployRequest) -> Result<DeployResult, IpcError> {
        let spec = &request.spec;
        let choices = Choices::from_spec(spec)?;
        let (_, palette) = self.workflow_palette().await?;

        // A cluster of this name already there (a retry after a lost answer, or a second
        // click): show it rather than failing or making another.
        if let Some(uid) = find_cluster_uid(&palette, &spec.name).await? {
            let state = palette
                .cluster(&uid)
                .await
                .ok()
                .and_then(|c| c.state().map(str::to_owned));
            if matches!(state.as_deref(), Some("Deleting" | "Deleted")) {
                return Err(IpcError::new(
                    ErrorCode::Conflict,
                    format!(
                        "A cluster named {} is being deleted in Palette. Wait until it is gone, or choose another name.",
                        spec.name
                    ),
                ));
            }
            return Ok(DeployResult {
                message: format!(
                    "A cluster named {} already exists in Palette; showing it instead of creating another.",
                    spec.name
                ),
                uid,
                name: spec.name.clone(),
                created: false,
            });
        }
        if spec.account_uid.trim().is_empty() {
            return Err(invalid("accountUid", "Choose the Nutanix cloud account."));
        }
        if spec.profile_uid.trim().is_empty() {
            return Err(invalid("profileUid", "Choose a cluster profile."));
        }

        // Check exactly what goes to Palette: with hand-edited YAML, the choices read back
        // from it (an image or subnet typed in the YAML is checked too).
        let checked = match &request.yaml {
            Some(y) => choices.read_back(y)?,
            None => choices.clone(),
        };
        let report = self.preflight_for(&spec.name, &checked).await?;
        if !report.can_deploy {
            let failing: Vec<String> = report
                .checks
                .iter()
                .filter(|c| {
                    matches!(
                        c.outcome,
                        capstan_ipc::preflight::CheckOutcome::Fail
                            | capstan_ipc::preflight::CheckOutcome::Error
                    )
                })
                .map(|c| c.title.clone())
                .collect();
            return Err(IpcError::new(
                ErrorCode::PreflightFailed,
                format!(
                    "Nothing was created: the preflight found problems ({}). Fix them and run the preflight again.",
                    failing.join("; ")
                ),
            )
            .with_details(serde_json::to_value(&report).unwrap_or(Value::Null)));
        }

        let yaml = match request.yaml {
            Some(y) => {
                check_yaml("cluster YAML", &y.cluster)?;
                check_yaml("control-plane pool YAML", &y.control_plane)?;
                for (i, w) in y.workers.iter().enumerate() {
                    check_yaml(&format!("worker pool {} YAML", i + 1), w)?;
                }
                if y.workers.is_empty() {
                    return Err(invalid(
                        "yaml",
                        "The cluster needs at least one worker pool.",
                    ));
                }
                y
            }
            None => {
                let templates = registered_templates(&palette).await?;
                render(&templates, &choices)?.yaml
            }
        };

        let mut pools = vec![CustomMachinePoolConfigEntity::from_yaml(
            yaml.control_plane.clone(),
        )];
        pools.extend(
            yaml.workers
                .iter()
                .map(|w| CustomMachinePoolConfigEntity::from_yaml(w.clone())),
        );
        let profile = self.profile_detail(&palette, &spec.profile_uid).await?;
        let pack_values: Vec<PackValuesEntity> = spec
            .layer_values
            .iter()
            .filter_map(|lv| {
                let layer = profile
                    .layers
                    .iter()
                    .find(|l| l.pack_name == lv.pack_name)?;
                (layer.values != lv.values).then(|| PackValuesEntity {
                    name: lv.pack_name.clone(),
                    tag: Some(layer.version.clone()),
                    pack_type: Some("spectro".into()),
                    values: Some(lv.values.clone()),
                    ..Default::default()
                })
            })
            .collect();
        let mut metadata = ObjectMetaInput {
            name: spec.name.clone(),
            ..Default::default()
        };
        if !spec.description.trim().is_empty() {
            metadata
                .annotations
                .insert("description".into(), spec.description.trim().to_owned());
        }
        let entity = SpectroCustomClusterEntity {
            metadata,
            spec: SpectroCustomClusterEntitySpec {
                cloud_type: CLOUD_TYPE.into(),
                cloud_account_uid: spec.account_uid.clone(),
                cloud_config: CustomClusterConfigValues {
                    values: yaml.cluster.clone(),
                },
                machine_pool_config: pools,
                profiles: vec![SpectroClusterProfileEntity {
                    uid: spec.profile_uid.clone(),
                    pack_values,
                    ..Default::default()
                }],
                cluster_config: None,
                cluster_type: None,
            },
        };
        let uid = palette
            .create_cluster(CLOUD_TYPE, &entity)
            .await
            .map_err(|e| palette_error("Creating the cluster failed", e))?;
        tracing::info!(cluster = %spec.name, %uid, "cluster created");
        Ok(DeployResult {
            message: format!(
                "Palette accepted cluster {}; its VMs appear in Prism Central as CAPX creates them.",
                spec.name
            ),
            uid,
            name: spec.name.clone(),
            created: true,
        })
    }
}

/// The typed choices the templates are rendered from.
#[derive(Clone)]
pub(crate) struct Choices {
    pub cluster: ClusterChoices,
    pub control_plane: PoolChoices,
    pub workers: Vec<PoolChoices>,
    pub pod_cidr: String,
    pub service_cidr: String,
}

impl Choices {
    pub(crate) fn from_spec(spec: &DeploySpec) -> Result<Self, IpcError> {
        let name = spec.name.trim();
        if name.is_empty() {
            return Err(invalid("name", "Give the cluster a name."));
        }
        let vip: Ipv4Addr = spec.control_plane_endpoint.trim().parse().map_err(|_| {
            invalid(
                "controlPlaneEndpoint",
                &format!(
                    "\"{}\" is not an IPv4 address. Pick one of the free addresses offered, or type one like 10.0.0.50.",
                    spec.control_plane_endpoint
                ),
            )
        })?;
        let cluster = ClusterChoices {
            cluster_name: name.to_owned(),
            control_plane_endpoint_ip: vip,
            control_plane_endpoint_port: spec.control_plane_port,
            trust_bundle_pem: None,
        };
        let pe = entity(&spec.prism_element, "prismElement", "Prism Element")?;
        if spec.subnets.is_empty() {
            return Err(invalid("subnets", "Choose at least one subnet."));
        }
        let subnets = spec
            .subnets
            .iter()
            .map(|s| entity(s, "subnets", "subnet"))
            .collect::<Result<Vec<_>, _>>()?;
        let image = entity(&spec.image, "image", "image")?;
        if ![1, 3, 5].contains(&spec.control_plane.replicas) {
            return Err(invalid(
                "controlPlane.replicas",
                "The control plane needs 1, 3 or 5 nodes (an odd number keeps etcd's quorum).",
            ));
        }
        if spec.workers.is_empty() {
            return Err(invalid("workers", "Add at least one worker pool."));
        }
        if spec.ssh_public_key.trim().is_empty() {
            return Err(invalid(
                "sshPublicKey",
                "Choose or paste an SSH public key: it is the only way onto the nodes when something goes wrong.",
            ));
        }
        let k8s = cluster_kubernetes_version(&spec.kubernetes_version, &spec.image.name);
        let pool = |p: &PoolSpec, default_name: Option<String>| PoolChoices {
            name: Some(p.name.trim().to_owned())
                .filter(|n| !n.is_empty())
                .or(default_name),
            replicas: p.replicas,
            vcpu_sockets: p.vcpu_sockets,
            vcpus_per_socket: p.vcpus_per_socket,
            memory: Quantity::gib(u64::from(p.memory_gib)),
            system_disk: Quantity::gib(u64::from(p.disk_gib)),
            boot_type: match p.boot_type {
                BootKind::Legacy => BootType::Legacy,
                BootKind::Uefi => BootType::Uefi,
            },
            prism_element: pe.clone(),
            subnets: subnets.clone(),
            image: image.clone(),
            kubernetes_version: k8s.clone(),
            ssh_authorized_key: spec.ssh_public_key.trim().to_owned(),
            tls_cipher_suites: None,
            kube_vip: KubeVipToggles::default(),
        };
        let control_plane = pool(&spec.control_plane, None);
        // Extra worker pools need names of their own (the template's would collide).
        let workers: Vec<PoolChoices> = spec
            .workers
            .iter()
            .enumerate()
            .map(|(i, w)| pool(w, (i > 0).then(|| format!("{name}-workers-{}", i + 1))))
            .collect();
        let mut names: Vec<&str> = workers.iter().filter_map(|w| w.name.as_deref()).collect();
        names.extend(control_plane.name.as_deref());
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        if names.len() != count {
            return Err(invalid(
                "workers",
                "Two node pools have the same name; every pool needs its own.",
            ));
        }
        Ok(Self {
            cluster,
            control_plane,
            workers,
            pod_cidr: spec.pod_cidr.trim().to_owned(),
            service_cidr: spec.service_cidr.trim().to_owned(),
        })
    }

    /// These choices with every field the edited YAML maps replaced by the YAML's value:
    /// pools (sizes, placement, version), the control-plane VIP and the cluster networks.
    fn read_back(&self, yaml: &DeployYaml) -> Result<Self, IpcError> {
        let mut out = self.clone();
        let pool = |text: &str, base: &PoolChoices, what: &str| {
            read_pool_choices(text, base)
                .map(|b| b.choices)
                .map_err(|e| invalid("yaml", &format!("The {what} YAML: {e}.")))
        };
        out.control_plane = pool(
            &yaml.control_plane,
            &self.control_plane,
            "control-plane pool",
        )?;
        out.workers = yaml
            .workers
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let base = self.workers.get(i).unwrap_or(&self.workers[0]);
                pool(text, base, &format!("worker pool {}", i + 1))
            })
            .collect::<Result<_, _>>()?;
        let docs = capstan_capx::yaml::parse_documents("cluster YAML", &yaml.cluster)
            .map_err(|e| invalid("yaml", &format!("{e}.")))?;
        for doc in &docs {
            let text = |path: &[&str]| {
                capstan_capx::yaml::get(doc, path).and_then(capstan_capx::yaml::scalar_text)
            };
            match capstan_capx::yaml::kind_of(doc) {
                Some("NutanixCluster") => {
                    if let Some(ip) =
                        text(&["spec", "controlPlaneEndpoint", "host"]).and_then(|h| h.parse().ok())
                    {
                        out.cluster.control_plane_endpoint_ip = ip;
                    }
                }
                Some("Cluster") => {
                    let first = |key: &str| {
                        capstan_capx::yaml::get(doc, &["spec", "clusterNetwork", key, "cidrBlocks"])
                            .and_then(|v| v.as_sequence()?.first().cloned())
                            .and_then(|v| capstan_capx::yaml::scalar_text(&v))
                    };
                    if let Some(c) = first("pods") {
                        out.pod_cidr = c;
                    }
                    if let Some(c) = first("services") {
                        out.service_cidr = c;
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// An edited cluster YAML carried back into the form: the control-plane VIP and API port
/// (`NutanixCluster.spec.controlPlaneEndpoint`) and the pod and service networks
/// (`Cluster.spec.clusterNetwork`). The rest stays in the YAML only.
fn read_back_cluster(mut spec: DeploySpec, yaml: &str) -> Result<YamlReadBack, IpcError> {
    use capstan_capx::yaml::{get, kind_of, parse_documents, scalar_text};
    let docs =
        parse_documents("cluster YAML", yaml).map_err(|e| invalid("yaml", &format!("{e}.")))?;
    let mut changed = Vec::new();
    let mut unmapped = Vec::new();
    for doc in &docs {
        let text = |path: &[&str]| get(doc, path).and_then(scalar_text);
        match kind_of(doc) {
            Some("NutanixCluster") => {
                if let Some(host) = text(&["spec", "controlPlaneEndpoint", "host"]) {
                    if host.parse::<Ipv4Addr>().is_ok() {
                        if host != spec.control_plane_endpoint.trim() {
                            changed.push("controlPlaneEndpoint".to_owned());
                            spec.control_plane_endpoint = host;
                        }
                    } else {
                        unmapped.push(UnmappedYamlField {
                            path: "NutanixCluster.spec.controlPlaneEndpoint.host".into(),
                            value: Some(host),
                            reason: "not an IPv4 address: the form's VIP is kept".into(),
                        });
                    }
                }
                if let Some(port) = text(&["spec", "controlPlaneEndpoint", "port"]) {
                    match port.parse::<u16>() {
                        Ok(p) if p > 0 => {
                            if p != spec.control_plane_port {
                                changed.push("controlPlanePort".to_owned());
                                spec.control_plane_port = p;
                            }
                        }
                        _ => unmapped.push(UnmappedYamlField {
                            path: "NutanixCluster.spec.controlPlaneEndpoint.port".into(),
                            value: Some(port),
                            reason: "not a port number: the form's port is kept".into(),
                        }),
                    }
                }
            }
            Some("Cluster") => {
                for (key, field) in [("pods", "podCidr"), ("services", "serviceCidr")] {
                    let first = get(doc, &["spec", "clusterNetwork", key, "cidrBlocks"])
                        .and_then(|v| v.as_sequence()?.first().cloned())
                        .and_then(|v| scalar_text(&v));
                    let Some(cidr) = first else { continue };
                    let slot = if key == "pods" {
                        &mut spec.pod_cidr
                    } else {
                        &mut spec.service_cidr
                    };
                    if cidr != slot.trim() {
                        changed.push(field.to_owned());
                        *slot = cidr;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(YamlReadBack {
        spec,
        changed,
        unmapped,
    })
}

/// The cluster's Kubernetes version: the image's own when its name carries one of the same
/// minor (kubeadm and the kubelet come from the image, so the patch must match it), else
/// the one given, which the preflight then compares with the image.
fn cluster_kubernetes_version(given: &str, image_name: &str) -> String {
    let given = given.trim().trim_start_matches('v');
    let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    match capstan_preflight::kubernetes_version_in_name(image_name) {
        Some(v) if v.split('.').count() == 3 && minor(&v) == minor(given) => format!("v{v}"),
        _ => format!("v{given}"),
    }
}

fn entity(choice: &EntityChoice, field: &str, what: &str) -> Result<NameOrUuid, IpcError> {
    let by_uuid = choice.use_uuid || choice.name.trim().is_empty();
    let result = if by_uuid {
        NameOrUuid::uuid(choice.uuid.trim())
    } else {
        NameOrUuid::name(choice.name.trim())
    };
    result.map_err(|e| {
        if choice.uuid.trim().is_empty() && choice.name.trim().is_empty() {
            invalid(field, &format!("Choose the {what} from the list."))
        } else {
            invalid(field, &format!("The {what} is not usable: {e}."))
        }
    })
}

fn name_or_uuid_text(v: &NameOrUuid) -> String {
    match v {
        NameOrUuid::Name(n) => n.clone(),
        NameOrUuid::Uuid(u) => u.clone(),
    }
}

fn render(templates: &PaletteTemplates, choices: &Choices) -> Result<DeployRender, IpcError> {
    let capx = |e: capstan_capx::CapxError| invalid("yaml", &format!("{e}."));
    let rendered = render_all(
        templates,
        &choices.cluster,
        &choices.control_plane,
        &choices.workers[0],
    )
    .map_err(capx)?;
    let mut workers = vec![rendered.worker_pool.yaml];
    let mut unresolved: Vec<String> = rendered.cluster.unresolved;
    unresolved.extend(rendered.control_plane_pool.unresolved);
    unresolved.extend(rendered.worker_pool.unresolved);
    for w in &choices.workers[1..] {
        let r = render_pool(&templates.worker_pool, &choices.cluster, w).map_err(capx)?;
        unresolved.extend(r.unresolved);
        workers.push(r.yaml);
    }
    unresolved.sort();
    unresolved.dedup();
    let cluster_yaml = capstan_capx::render::set_cluster_networks(
        &rendered.cluster.yaml,
        &choices.pod_cidr,
        &choices.service_cidr,
    )
    .map_err(capx)?;
    Ok(DeployRender {
        yaml: DeployYaml {
            cluster: cluster_yaml,
            control_plane: rendered.control_plane_pool.yaml,
            workers,
        },
        palette_fills: unresolved,
    })
}

/// The three templates registered with the cloud type (step 1).
async fn registered_templates(palette: &PaletteClient) -> Result<PaletteTemplates, IpcError> {
    let get = |t| palette.cloud_type_template(CLOUD_TYPE, t);
    let (cluster, cp, worker) = tokio::join!(
        get(CloudTypeTemplate::ClusterTemplate),
        get(CloudTypeTemplate::ControlPlanePoolTemplate),
        get(CloudTypeTemplate::WorkerPoolTemplate),
    );
    let take = |r: Result<String, capstan_palette::PaletteError>, what: &str| match r {
        Ok(y) if !y.trim().is_empty() => Ok(y),
        Ok(_) => Err(missing_template(what)),
        Err(e) if e.is_not_found() => Err(missing_template(what)),
        Err(e) => Err(palette_error(
            &format!("Reading the registered {what} failed"),
            e,
        )),
    };
    Ok(PaletteTemplates {
        cloud_cluster: take(cluster, "clusterTemplate")?,
        control_plane_pool: take(cp, "controlPlanePoolTemplate")?,
        worker_pool: take(worker, "workerPoolTemplate")?,
    })
}

fn missing_template(what: &str) -> IpcError {
    IpcError::new(
        ErrorCode::NotFound,
        format!(
            "The nutanix cloud type has no {what}. Register the cloud type with its templates (step 1) first."
        ),
    )
}

fn check_yaml(what: &str, text: &str) -> Result<(), IpcError> {
    capstan_capx::yaml::parse_documents(what, text)
        .map(|_| ())
        .map_err(|e| invalid("yaml", &format!("{e}.")))
}

/// The uid of a live cluster of that name (`/v1/dashboard/spectroclusters/meta`).
pub(crate) async fn find_cluster_uid(
    palette: &PaletteClient,
    name: &str,
) -> Result<Option<String>, IpcError> {
    if palette
        .cluster_name_available(name)
        .await
        .map_err(|e| palette_error("Checking the cluster name failed", e))?
    {
        return Ok(None);
    }
    let uid = palette.find_cluster_uid(name).await;
    match uid {
        Some(uid) => Ok(Some(uid)),
        None => Err(IpcError::new(
            ErrorCode::Conflict,
            format!(
                "Palette says the name {name} is taken, but no cluster of that name is visible in this project. Choose another name."
            ),
        )),
    }
}

pub(crate) fn prism_error(what: &str, e: &capstan_prism::PrismError) -> IpcError {
    use capstan_prism::PrismError as P;
    let code = match e {
        P::Transport(t) => crate::health::transport_code(t),
        P::Unauthorized { .. } => ErrorCode::Unauthorized,
        P::Forbidden { .. } => ErrorCode::Forbidden,
        P::NotFound { .. } | P::NameNotFound { .. } => ErrorCode::NotFound,
        P::RateLimited { .. } => ErrorCode::RateLimited,
        _ => ErrorCode::Upstream,
    };
    IpcError::new(code, format!("{what}: {e}."))
}

/// Public keys in `~/.ssh` (`*.pub`), newest first.
fn ssh_keys() -> Vec<SshKeyOption> {
    let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(home.join(".ssh")) else {
        return Vec::new();
    };
    let mut found: Vec<(std::time::SystemTime, SshKeyOption)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "pub"))
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            let line = text
                .lines()
                .find(|l| l.starts_with("ssh-") || l.starts_with("ecdsa-"))?;
            let comment = line.split_whitespace().nth(2).map(str::to_owned);
            let modified = e.metadata().and_then(|m| m.modified()).ok()?;
            Some((
                modified,
                SshKeyOption {
                    path: format!("~/.ssh/{}", e.file_name().to_string_lossy()),
                    public_key: line.trim().to_owned(),
                    comment,
                },
            ))
        })
        .collect();
    found.sort_by_key(|k| std::cmp::Reverse(k.0));
    found.into_iter().map(|(_, k)| k).collect()
}
