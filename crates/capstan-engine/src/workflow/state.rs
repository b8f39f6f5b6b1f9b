//! The five steps' live state and the architecture diagram, read from Palette (and Prism
//! Central for its boxes) each time. A failure to read gives a partial answer with
//! `problem` set, never an error: the page still shows the steps, drafts and what is known.

use std::collections::BTreeSet;

use capstan_ipc::workflow::*;
use capstan_palette::{
    CloudTypeTemplate, CustomAccount, Overlord, PaletteClient, PaletteError, Scope, SpectroCluster,
};
use serde_json::Value;

use super::{CLOUD_TYPE, api_client, nutanix_pcgs};
use crate::Engine;
use crate::connection::Connection;

/// Cluster states that mean "on its way" (palette-api.md §7).
const CLUSTER_BUSY: [&str; 5] = [
    "Pending",
    "Provisioning",
    "Importing",
    "Unknown",
    "Deleting",
];

struct CloudTypeFacts {
    registered: bool,
    missing_templates: Vec<&'static str>,
    keys: Option<Vec<String>>,
}

/// What Palette holds for the workflow; each part may fail on its own.
struct PaletteFacts {
    cloud_type: Result<CloudTypeFacts, String>,
    pcgs: Result<Vec<Overlord>, String>,
    accounts: Result<Vec<CustomAccount>, String>,
    profiles: Result<Vec<Value>, String>,
    clusters: Result<Vec<Value>, String>,
    cluster_detail: Option<SpectroCluster>,
}

struct PrismFacts {
    version: Option<String>,
    elements: Vec<String>,
}

fn text(e: &PaletteError) -> String {
    e.to_string()
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn empty_if_absent<T>(r: Result<Vec<T>, PaletteError>) -> Result<Vec<T>, String> {
    match r {
        Ok(v) => Ok(v),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(text(&e)),
    }
}

async fn cloud_type_facts(client: &PaletteClient) -> Result<CloudTypeFacts, PaletteError> {
    if client.custom_cloud_type(CLOUD_TYPE).await?.is_none() {
        return Ok(CloudTypeFacts {
            registered: false,
            missing_templates: Vec::new(),
            keys: None,
        });
    }
    let template = |t| client.cloud_type_template(CLOUD_TYPE, t);
    let (cluster, cp, worker, keys) = tokio::join!(
        template(CloudTypeTemplate::ClusterTemplate),
        template(CloudTypeTemplate::ControlPlanePoolTemplate),
        template(CloudTypeTemplate::WorkerPoolTemplate),
        client.cloud_account_keys(CLOUD_TYPE),
    );
    let mut missing_templates = Vec::new();
    for (name, result) in [
        ("clusterTemplate", cluster),
        ("controlPlanePoolTemplate", cp),
        ("workerPoolTemplate", worker),
    ] {
        match result {
            Ok(yaml) if yaml.trim().is_empty() => missing_templates.push(name),
            Err(e) if e.is_not_found() => missing_templates.push(name),
            // Present, or not readable with this key (then it cannot be verified).
            _ => {}
        }
    }
    let keys = match keys {
        Ok(k) => Some(k),
        Err(e) if e.is_not_found() => Some(Vec::new()),
        Err(_) => None,
    };
    Ok(CloudTypeFacts {
        registered: true,
        missing_templates,
        keys,
    })
}

/// Items of a list that may come bare (`[...]`) or wrapped (`{"items": [...]}`).
fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(list) => list,
        Value::Object(mut map) => match map.remove("items") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

async fn palette_facts(client: &PaletteClient) -> PaletteFacts {
    let tenant = client.with_scope(Scope::Tenant);
    let (cloud_type, pcgs, accounts, profiles, clusters) = tokio::join!(
        cloud_type_facts(client),
        tenant.overlords(None),
        tenant.cloud_accounts(CLOUD_TYPE),
        client.get_json::<Value>("/v1/dashboard/clusterprofiles/metadata"),
        client.get_json::<Value>("/v1/dashboard/spectroclusters/meta"),
    );
    let of_nutanix = |list: Vec<Value>| -> Vec<Value> {
        list.into_iter()
            .filter(|v| str_at(v, "/spec/cloudType") == Some(CLOUD_TYPE))
            .collect()
    };
    let clusters: Result<Vec<Value>, String> = clusters
        .map(items)
        .map(of_nutanix)
        .map(|list| {
            list.into_iter()
                .filter(|c| str_at(c, "/status/state") != Some("Deleted"))
                .collect()
        })
        .map_err(|e| text(&e));
    // The endpoint (kube-vip address) lives in the cluster record.
    let shown = clusters.as_ref().ok().and_then(|list| pick_cluster(list));
    let cluster_detail = match shown.and_then(|c| str_at(c, "/metadata/uid")) {
        Some(uid) => client.cluster(uid).await.ok(),
        None => None,
    };
    PaletteFacts {
        cloud_type: cloud_type.map_err(|e| text(&e)),
        pcgs: pcgs.map(nutanix_pcgs).map_err(|e| text(&e)),
        accounts: empty_if_absent(accounts),
        profiles: profiles.map(items).map(of_nutanix).map_err(|e| text(&e)),
        clusters,
        cluster_detail,
    }
}

async fn prism_facts(conn: &Connection) -> Result<PrismFacts, String> {
    let clients = crate::clients::for_connection(conn).map_err(|e| e.message)?;
    let (pc, elements) = tokio::join!(
        clients.prism.prism_central(),
        clients.prism.list_prism_elements()
    );
    let elements = elements.map_err(|e| e.to_string())?;
    Ok(PrismFacts {
        version: pc.ok().and_then(|p| p.resources.version),
        elements: elements
            .iter()
            .filter_map(|c| c.name().map(str::to_owned))
            .collect(),
    })
}

/// The PCG to show: Running first, then Pending, then any.
fn pick_pcg(pcgs: &[Overlord]) -> Option<&Overlord> {
    pcgs.iter()
        .find(|o| o.is_running())
        .or_else(|| {
            pcgs.iter()
                .find(|o| o.status.state.as_deref() == Some("Pending"))
        })
        .or_else(|| pcgs.first())
}

/// The cluster to show: Running first, else the first one.
fn pick_cluster(clusters: &[Value]) -> Option<&Value> {
    clusters
        .iter()
        .find(|c| str_at(c, "/status/state") == Some("Running"))
        .or_else(|| clusters.first())
}

fn title(id: WorkflowStepId) -> &'static str {
    match id {
        WorkflowStepId::CloudType => "Register the Nutanix cloud type",
        WorkflowStepId::Pcg => "Deploy a self-hosted PCG",
        WorkflowStepId::CloudAccount => "Add the Nutanix cloud account",
        WorkflowStepId::Profile => "Create a cluster profile",
        WorkflowStepId::Cluster => "Deploy the cluster",
    }
}

const ALL_STEPS: [WorkflowStepId; 5] = [
    WorkflowStepId::CloudType,
    WorkflowStepId::Pcg,
    WorkflowStepId::CloudAccount,
    WorkflowStepId::Profile,
    WorkflowStepId::Cluster,
];

fn step(id: WorkflowStepId, status: StepStatus, summary: String) -> WorkflowStep {
    WorkflowStep {
        id,
        title: title(id).into(),
        status,
        blocked_by: None,
        summary,
        object_uid: None,
        object_name: None,
        has_draft: false,
    }
}

fn blocked(id: WorkflowStepId, by: WorkflowStepId, summary: String) -> WorkflowStep {
    WorkflowStep {
        blocked_by: Some(by),
        ..step(id, StepStatus::Blocked, summary)
    }
}

fn with_object(mut s: WorkflowStep, uid: Option<&str>, name: Option<&str>) -> WorkflowStep {
    s.object_uid = uid.map(str::to_owned);
    s.object_name = name.map(str::to_owned);
    s
}

fn unknown(id: WorkflowStepId, why: &str) -> WorkflowStep {
    step(id, StepStatus::Unknown, format!("Not known: {why}"))
}

fn steps_from(facts: &PaletteFacts) -> Vec<WorkflowStep> {
    use WorkflowStepId as S;
    let mut out = Vec::new();

    // Step 1.
    let registered = facts.cloud_type.as_ref().ok().map(|c| c.registered);
    out.push(match &facts.cloud_type {
        Err(e) => unknown(S::CloudType, e),
        Ok(c) if !c.registered => step(
            S::CloudType,
            StepStatus::NotStarted,
            format!("The {CLOUD_TYPE} cloud type is not registered in Palette yet."),
        ),
        Ok(c) => {
            let mut missing: Vec<String> = c
                .missing_templates
                .iter()
                .map(|t| (*t).to_owned())
                .collect();
            match &c.keys {
                Some(keys) if keys.is_empty() => missing.push("cloud account keys".into()),
                _ => {}
            }
            let s = if missing.is_empty() {
                let keys = c.keys.as_ref().map_or(String::new(), |k| {
                    format!(" and {} cloud account keys", k.len())
                });
                step(
                    S::CloudType,
                    StepStatus::Done,
                    format!("{CLOUD_TYPE} is registered with its 3 templates{keys}."),
                )
            } else {
                step(
                    S::CloudType,
                    StepStatus::InProgress,
                    format!(
                        "{CLOUD_TYPE} is registered, but Palette lacks: {}.",
                        missing.join(", ")
                    ),
                )
            };
            with_object(s, None, Some(CLOUD_TYPE))
        }
    });

    // Step 2.
    let pcgs = facts.pcgs.as_ref();
    let running_pcg = pcgs.ok().and_then(|p| p.iter().find(|o| o.is_running()));
    out.push(match pcgs {
        Err(e) => unknown(S::Pcg, e),
        Ok(list) => match pick_pcg(list) {
            Some(o) => {
                let name = o.metadata.name.as_deref().unwrap_or("(unnamed)");
                let state = o.status.state.as_deref().unwrap_or("Unknown");
                let status = match state {
                    "Running" => StepStatus::Done,
                    "Pending" => StepStatus::InProgress,
                    _ => StepStatus::Failed,
                };
                let summary = match status {
                    StepStatus::InProgress => format!(
                        "PCG {name} is Pending: apply its kubectl commands to the host cluster and wait for Running."
                    ),
                    _ => format!("PCG {name} is {state}."),
                };
                with_object(
                    step(S::Pcg, status, summary),
                    o.metadata.uid.as_deref(),
                    Some(name),
                )
            }
            None if registered == Some(false) => blocked(
                S::Pcg,
                S::CloudType,
                "A PCG for Nutanix needs the nutanix cloud type (step 1).".into(),
            ),
            None => step(
                S::Pcg,
                StepStatus::NotStarted,
                "No self-hosted Nutanix PCG exists yet.".into(),
            ),
        },
    });

    // Step 3.
    out.push(match &facts.accounts {
        Err(e) => unknown(S::CloudAccount, e),
        Ok(accounts) if !accounts.is_empty() => {
            let a = &accounts[0];
            let name = a.metadata.name.as_deref().unwrap_or("(unnamed)");
            let more = if accounts.len() > 1 {
                format!(" ({} accounts in all)", accounts.len())
            } else {
                String::new()
            };
            with_object(
                step(
                    S::CloudAccount,
                    StepStatus::Done,
                    format!("Cloud account {name} exists{more}."),
                ),
                a.metadata.uid.as_deref(),
                Some(name),
            )
        }
        Ok(_) if running_pcg.is_none() && pcgs.is_ok() => blocked(
            S::CloudAccount,
            S::Pcg,
            "The account needs a Running PCG (step 2).".into(),
        ),
        Ok(_) if pcgs.is_err() => unknown(S::CloudAccount, "the PCGs could not be read."),
        Ok(_) => step(
            S::CloudAccount,
            StepStatus::NotStarted,
            "No Nutanix cloud account exists yet.".into(),
        ),
    });
    let has_account = facts.accounts.as_ref().is_ok_and(|a| !a.is_empty());

    // Step 4.
    out.push(match &facts.profiles {
        Err(e) => unknown(S::Profile, e),
        Ok(profiles) if !profiles.is_empty() => {
            let p = &profiles[0];
            let name = str_at(p, "/metadata/name").unwrap_or("(unnamed)");
            with_object(
                step(
                    S::Profile,
                    StepStatus::Done,
                    format!(
                        "Cluster profile {name} uses the nutanix cloud type{}.",
                        if profiles.len() > 1 {
                            format!(" ({} profiles in all)", profiles.len())
                        } else {
                            String::new()
                        }
                    ),
                ),
                str_at(p, "/metadata/uid"),
                Some(name),
            )
        }
        Ok(_) if registered == Some(false) => blocked(
            S::Profile,
            S::CloudType,
            "A profile for Nutanix needs the nutanix cloud type (step 1).".into(),
        ),
        Ok(_) => step(
            S::Profile,
            StepStatus::NotStarted,
            "No cluster profile for Nutanix exists yet.".into(),
        ),
    });
    let has_profile = facts.profiles.as_ref().is_ok_and(|p| !p.is_empty());

    // Step 5.
    out.push(match &facts.clusters {
        Err(e) => unknown(S::Cluster, e),
        Ok(clusters) => match pick_cluster(clusters) {
            Some(c) => {
                let name = str_at(c, "/metadata/name").unwrap_or("(unnamed)");
                let state = str_at(c, "/status/state").unwrap_or("Unknown");
                let status = if state == "Running" {
                    StepStatus::Done
                } else if CLUSTER_BUSY.contains(&state) {
                    StepStatus::InProgress
                } else {
                    StepStatus::Failed
                };
                with_object(
                    step(S::Cluster, status, format!("Cluster {name} is {state}.")),
                    str_at(c, "/metadata/uid"),
                    Some(name),
                )
            }
            None if !has_account => blocked(
                S::Cluster,
                S::CloudAccount,
                "A cluster needs the Nutanix cloud account (step 3).".into(),
            ),
            None if !has_profile => blocked(
                S::Cluster,
                S::Profile,
                "A cluster needs a cluster profile (step 4).".into(),
            ),
            None => step(
                S::Cluster,
                StepStatus::NotStarted,
                "No Nutanix cluster exists yet.".into(),
            ),
        },
    });
    out
}

fn part(
    part: DiagramPart,
    label: impl Into<String>,
    state: PartState,
    detail: Vec<String>,
    steps: &[WorkflowStepId],
) -> DiagramBox {
    DiagramBox {
        part,
        label: label.into(),
        state,
        detail,
        steps: steps.to_vec(),
    }
}

fn diagram(
    conn: Option<&Connection>,
    palette: Option<&PaletteFacts>,
    palette_problem: Option<&str>,
    prism: Option<&Result<PrismFacts, String>>,
    sandbox: bool,
) -> Vec<DiagramBox> {
    use WorkflowStepId as S;
    let mut boxes = Vec::new();
    let palette_state = match (palette, palette_problem) {
        (_, Some(_)) => PartState::Error,
        (Some(_), None) => PartState::Ok,
        (None, None) => PartState::Unknown,
    };
    let mut palette_detail: Vec<String> = conn
        .map(|c| c.palette.address.clone())
        .filter(|a| !a.is_empty())
        .into_iter()
        .collect();
    if let Some(p) = palette_problem {
        palette_detail.push(p.to_owned());
    }
    boxes.push(part(
        DiagramPart::Palette,
        "Palette",
        palette_state,
        palette_detail,
        &[
            S::CloudType,
            S::Pcg,
            S::CloudAccount,
            S::Profile,
            S::Cluster,
        ],
    ));

    // The PCG and the cluster that hosts it.
    let pcg = palette
        .and_then(|f| f.pcgs.as_ref().ok())
        .and_then(|p| pick_pcg(p));
    let pcg_state = match (palette, pcg) {
        (None, _) => PartState::Unknown,
        (Some(f), _) if f.pcgs.is_err() => PartState::Unknown,
        (Some(_), None) => PartState::Absent,
        (Some(_), Some(o)) if o.is_running() => PartState::Ok,
        (Some(_), Some(o)) if o.status.state.as_deref() == Some("Pending") => PartState::Pending,
        (Some(_), Some(_)) => PartState::Error,
    };
    let mut host_detail = Vec::new();
    if sandbox {
        host_detail.push("simulated by the sandbox".to_owned());
    }
    boxes.push(part(
        DiagramPart::PcgHostCluster,
        "PCG host cluster",
        pcg_state,
        host_detail,
        &[S::Pcg],
    ));
    let mut pcg_detail = Vec::new();
    if let Some(o) = pcg {
        pcg_detail.push(o.status.state.clone().unwrap_or_else(|| "Unknown".into()));
        if let Some(ip) = o.spec.ip_address.as_deref().filter(|i| !i.is_empty()) {
            pcg_detail.push(ip.to_owned());
        }
        if let Some(beat) = o
            .status
            .health
            .as_ref()
            .and_then(|h| h.get("lastHeartBeatTimestamp"))
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty())
        {
            pcg_detail.push(format!("heartbeat {beat}"));
        }
    }
    boxes.push(part(
        DiagramPart::Pcg,
        pcg.and_then(|o| o.metadata.name.clone())
            .map_or_else(|| "PCG".to_owned(), |n| format!("PCG {n}")),
        pcg_state,
        pcg_detail,
        &[S::Pcg, S::CloudAccount],
    ));

    // Prism Central and its Prism Elements.
    let address = conn.map(|c| c.prism.address.clone()).unwrap_or_default();
    let (pc_state, mut pc_detail, pe_state, pe_detail) = match prism {
        None => (
            PartState::Unknown,
            Vec::new(),
            PartState::Unknown,
            Vec::new(),
        ),
        Some(Err(e)) => (
            PartState::Error,
            vec![e.clone()],
            PartState::Unknown,
            Vec::new(),
        ),
        Some(Ok(p)) => (
            PartState::Ok,
            p.version.iter().map(|v| format!("version {v}")).collect(),
            if p.elements.is_empty() {
                PartState::Absent
            } else {
                PartState::Ok
            },
            p.elements.clone(),
        ),
    };
    if !address.is_empty() {
        pc_detail.insert(0, address);
    }
    boxes.push(part(
        DiagramPart::PrismCentral,
        "Prism Central",
        pc_state,
        pc_detail,
        &[S::CloudAccount, S::Cluster],
    ));
    boxes.push(part(
        DiagramPart::PrismElement,
        "Prism Element",
        pe_state,
        pe_detail,
        &[S::Cluster],
    ));

    // The workload cluster and its kube-vip endpoint.
    let cluster = palette
        .and_then(|f| f.clusters.as_ref().ok())
        .and_then(|c| pick_cluster(c));
    let cluster_state = match (palette, cluster) {
        (None, _) => PartState::Unknown,
        (Some(f), _) if f.clusters.is_err() => PartState::Unknown,
        (Some(_), None) => PartState::Absent,
        (Some(_), Some(c)) => match str_at(c, "/status/state") {
            Some("Running") => PartState::Ok,
            Some(s) if CLUSTER_BUSY.contains(&s) => PartState::Pending,
            _ => PartState::Error,
        },
    };
    let cluster_name = cluster.and_then(|c| str_at(c, "/metadata/name"));
    boxes.push(part(
        DiagramPart::WorkloadCluster,
        cluster_name.map_or_else(|| "Workload cluster".to_owned(), |n| format!("Cluster {n}")),
        cluster_state,
        cluster
            .and_then(|c| str_at(c, "/status/state"))
            .map(str::to_owned)
            .into_iter()
            .collect(),
        &[S::Profile, S::Cluster],
    ));
    let endpoint = palette
        .and_then(|f| f.cluster_detail.as_ref())
        .and_then(|c| c.status.as_ref())
        .and_then(|s| s.api_endpoints.first())
        .and_then(|e| {
            let host = e.get("host")?.as_str()?;
            let port = e.get("port").and_then(Value::as_u64).unwrap_or(6443);
            Some(format!("{host}:{port}"))
        });
    let vip_state = match (&endpoint, cluster_state) {
        (Some(_), PartState::Ok) => PartState::Ok,
        (Some(_), _) => PartState::Pending,
        (None, PartState::Unknown) => PartState::Unknown,
        (None, PartState::Absent) => PartState::Absent,
        (None, _) => PartState::Pending,
    };
    boxes.push(part(
        DiagramPart::KubeVip,
        "kube-vip",
        vip_state,
        endpoint.into_iter().collect(),
        &[S::Cluster],
    ));
    boxes
}

fn mark_drafts(steps: &mut [WorkflowStep], drafts: &BTreeSet<String>) {
    for s in steps {
        s.has_draft = drafts.contains(&s.id.to_string());
    }
}

impl Engine {
    pub async fn workflow_state(&self) -> WorkflowState {
        let environment_id = self.inner.environments.active_id();
        let drafts = self.steps_with_drafts().await;
        let checked_at = crate::now_rfc3339();
        let sandbox = self.sandbox_active();
        let unknown_all = |why: &str| -> Vec<WorkflowStep> {
            ALL_STEPS.iter().map(|id| unknown(*id, why)).collect()
        };

        let conn = match self.connection().await {
            Ok(c) => c,
            Err(e) => {
                let mut steps = unknown_all(&e.message);
                mark_drafts(&mut steps, &drafts);
                return WorkflowState {
                    environment_id,
                    steps,
                    diagram: diagram(None, None, None, None, sandbox),
                    checked_at,
                    problem: Some(e.message),
                };
            }
        };
        let prism = prism_facts(&conn);
        let client = match api_client(&conn) {
            Ok(c) => c,
            Err(e) => {
                let prism = prism.await;
                let mut steps = unknown_all(&e.message);
                mark_drafts(&mut steps, &drafts);
                return WorkflowState {
                    environment_id,
                    steps,
                    diagram: diagram(Some(&conn), None, Some(&e.message), Some(&prism), sandbox),
                    checked_at,
                    problem: Some(e.message),
                };
            }
        };
        let (facts, prism) = tokio::join!(palette_facts(&client), prism);
        // Nothing could be read when the first call failed: say so once, not five times.
        let nothing_read = facts
            .cloud_type
            .as_ref()
            .err()
            .filter(|_| facts.pcgs.is_err())
            .map(|e| format!("Palette could not be read: {e}"));
        let partly = [
            facts.cloud_type.as_ref().err(),
            facts.pcgs.as_ref().err(),
            facts.accounts.as_ref().err(),
            facts.profiles.as_ref().err(),
            facts.clusters.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| format!("Part of Palette could not be read, so some steps show as unknown: {e}"));
        let mut steps = match &nothing_read {
            Some(p) => unknown_all(p),
            None => steps_from(&facts),
        };
        let problem = nothing_read.clone().or(partly);
        mark_drafts(&mut steps, &drafts);
        WorkflowState {
            environment_id,
            diagram: diagram(
                Some(&conn),
                nothing_read.is_none().then_some(&facts),
                nothing_read.as_deref(),
                Some(&prism),
                sandbox,
            ),
            steps,
            checked_at,
            problem,
        }
    }
}
