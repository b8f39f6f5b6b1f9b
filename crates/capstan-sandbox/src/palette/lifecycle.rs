//! Asynchronous state changes: PCG boot, cluster provisioning, machines, scaling and
//! deletion. Delays are demo seconds (multiplied by `time_scale` in real time).

use serde_json::{Value, json};

use super::clusters::{Machine, machine_prefix, provision_vm};
use crate::prism::ops;
use crate::state::World;
use crate::util::{hex_uid, name_suffix, now_rfc3339};

/// Pending -> Provisioning.
pub(crate) const PENDING_SECS: f64 = 15.0;
/// Between control-plane machines starting.
const CP_STAGGER_SECS: f64 = 5.0;
/// Workers start this long after provisioning begins (the control plane comes first).
const WORKER_START_SECS: f64 = 30.0;
const WORKER_STAGGER_SECS: f64 = 3.0;
/// Machine Pending -> Provisioning (VM created in Prism).
const MACHINE_PENDING_SECS: f64 = 5.0;
/// CAPX requeue delay when the target PE is unavailable.
const PE_RETRY_SECS: f64 = 30.0;
/// Machine Provisioning -> Running.
const CP_BOOT_SECS: f64 = 60.0;
const WORKER_BOOT_SECS: f64 = 45.0;
/// Running -> overview health Healthy.
const HEALTHY_SECS: f64 = 10.0;
/// Machine Deleting -> VM gone.
const MACHINE_DELETE_SECS: f64 = 20.0;
/// Cluster Deleting -> Deleted, and Deleted -> gone (404).
const CLUSTER_DELETE_SECS: f64 = 40.0;
const PURGE_SECS: f64 = 20.0;
/// How often the cluster delete checks again while machines are still being removed.
const CLUSTER_DELETE_RECHECK_SECS: f64 = 10.0;
/// Packs of a profile update applying on a Running cluster.
pub(crate) const PROFILE_APPLY_SECS: f64 = 20.0;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum Event {
    PrismTaskDone(String),
    PcgRunning(String),
    ClusterProvisioning(String),
    MachineProvision {
        cluster: String,
        machine: String,
    },
    MachineRunning {
        cluster: String,
        machine: String,
    },
    ClusterHealthy(String),
    MachineDeleted {
        cluster: String,
        machine: String,
    },
    ClusterDeleted(String),
    ClusterPurge(String),
    /// The packs of profile update `apply` are running.
    ProfileApplied {
        cluster: String,
        apply: String,
    },
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ClusterEvent {
    pub uid: String,
    pub object_uid: String,
    pub object_name: String,
    pub kind: String,
    pub reason: String,
    pub message: String,
    pub severity: String,
    pub time: String,
}

impl ClusterEvent {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "metadata": {"uid": self.uid, "name": format!("{}.{}", self.object_name, self.reason), "labels": {}, "annotations": {}, "creationTimestamp": self.time, "lastModifiedTimestamp": self.time},
            "involvedObject": {"kind": self.kind, "name": self.object_name, "uid": self.object_uid},
            "relatedObject": {"kind": "spectrocluster", "name": self.object_name, "uid": self.object_uid},
            "reason": self.reason,
            "message": self.message,
            "severity": self.severity,
            "source": {"component": "capstan-sandbox", "host": "palette"},
        })
    }
}

/// Appends a cluster event.
pub(crate) fn event(w: &mut World, cluster_uid: &str, reason: &str, message: &str, severity: &str) {
    let name = w
        .palette
        .clusters
        .iter()
        .find(|c| c.meta.uid == cluster_uid)
        .map(|c| c.meta.name.clone())
        .unwrap_or_default();
    let uid = hex_uid(&mut w.rng);
    w.palette.events.push(ClusterEvent {
        uid,
        object_uid: cluster_uid.to_owned(),
        object_name: name,
        kind: "spectrocluster".into(),
        reason: reason.into(),
        message: message.into(),
        severity: severity.into(),
        time: now_rfc3339(),
    });
}

fn cluster_idx(w: &World, uid: &str) -> Option<usize> {
    w.palette.clusters.iter().position(|c| c.meta.uid == uid)
}

fn find_machine(w: &World, cluster: &str, machine: &str) -> Option<(usize, usize, usize)> {
    let ci = cluster_idx(w, cluster)?;
    for (pi, p) in w.palette.clusters[ci].pools.iter().enumerate() {
        if let Some(mi) = p.machines.iter().position(|m| m.uid == machine) {
            return Some((ci, pi, mi));
        }
    }
    None
}

fn is_active(m: &Machine) -> bool {
    m.state != "Deleting" && m.state != "Deleted"
}

/// Brings a pool's machine count to its size: adds Pending machines or marks the newest
/// ones Deleting. `base` delays the first new machine (demo seconds).
fn reconcile_with(w: &mut World, cluster_uid: &str, pool_name: &str, base: f64, step: f64) {
    let Some(ci) = cluster_idx(w, cluster_uid) else {
        return;
    };
    let Some(pi) = w.palette.clusters[ci]
        .pools
        .iter()
        .position(|p| p.name == pool_name)
    else {
        return;
    };
    let cluster_name = w.palette.clusters[ci].meta.name.clone();
    let active = w.palette.clusters[ci].pools[pi]
        .machines
        .iter()
        .filter(|m| is_active(m))
        .count() as u32;
    let size = w.palette.clusters[ci].pools[pi].size;
    if active < size {
        let prefix = machine_prefix(&cluster_name, &w.palette.clusters[ci].pools[pi]);
        for i in 0..(size - active) {
            let uid = hex_uid(&mut w.rng);
            let name = format!("{prefix}-{}", name_suffix(&mut w.rng, 5));
            let now = now_rfc3339();
            w.palette.clusters[ci].pools[pi].machines.push(Machine {
                uid: uid.clone(),
                name,
                state: "Pending".into(),
                vm_uuid: None,
                ips: vec![],
                created: now.clone(),
                updated: now,
            });
            w.schedule(
                base + f64::from(i) * step,
                Event::MachineProvision {
                    cluster: cluster_uid.to_owned(),
                    machine: uid,
                },
            );
        }
    } else if active > size {
        let mut to_remove = active - size;
        let mut doomed = Vec::new();
        for m in w.palette.clusters[ci].pools[pi].machines.iter_mut().rev() {
            if to_remove == 0 {
                break;
            }
            if is_active(m) {
                m.state = "Deleting".into();
                m.updated = now_rfc3339();
                doomed.push(m.uid.clone());
                to_remove -= 1;
            }
        }
        for (i, m) in doomed.into_iter().enumerate() {
            w.schedule(
                MACHINE_DELETE_SECS + i as f64 * 2.0,
                Event::MachineDeleted {
                    cluster: cluster_uid.to_owned(),
                    machine: m,
                },
            );
        }
    }
    let pool = &w.palette.clusters[ci].pools[pi];
    if pool.deleted && pool.machines.is_empty() {
        w.palette.clusters[ci].pools.remove(pi);
    }
}

/// Scale after a pool edit on a provisioned cluster.
pub(crate) fn reconcile_pool(w: &mut World, cluster_uid: &str, pool_name: &str) {
    reconcile_with(w, cluster_uid, pool_name, MACHINE_PENDING_SECS, 2.0);
    event(
        w,
        cluster_uid,
        "PoolUpdated",
        &format!("Machine pool {pool_name} is being reconciled"),
        "Info",
    );
}

pub(crate) fn start_delete(w: &mut World, uid: &str) {
    let Some(ci) = cluster_idx(w, uid) else {
        return;
    };
    if matches!(
        w.palette.clusters[ci].state.as_str(),
        "Deleting" | "Deleted"
    ) {
        return;
    }
    let c = &mut w.palette.clusters[ci];
    c.state = "Deleting".into();
    c.healthy = false;
    c.set_condition("Deleting", true, "DeletionRequested");
    let mut doomed = Vec::new();
    for p in c.pools.iter_mut() {
        for m in p.machines.iter_mut() {
            // A machine already Deleting (scale-down) has its own delete queued.
            if is_active(m) {
                m.state = "Deleting".into();
                m.updated = now_rfc3339();
                doomed.push(m.uid.clone());
            }
        }
    }
    for (i, m) in doomed.into_iter().enumerate() {
        w.schedule(
            MACHINE_DELETE_SECS + i as f64 * 2.0,
            Event::MachineDeleted {
                cluster: uid.to_owned(),
                machine: m,
            },
        );
    }
    w.schedule(CLUSTER_DELETE_SECS, Event::ClusterDeleted(uid.to_owned()));
    event(
        w,
        uid,
        "Deleting",
        "Cluster deletion started; removing machines",
        "Info",
    );
}

fn remove_machine(w: &mut World, ci: usize, pi: usize, mi: usize) {
    let m = w.palette.clusters[ci].pools[pi].machines.remove(mi);
    if let Some(vm) = &m.vm_uuid {
        ops::delete_vm(w, vm);
        let c = &mut w.palette.clusters[ci];
        if c.vip_holder.as_deref() == Some(vm.as_str()) {
            c.vip_holder = None;
            // kube-vip moves the VIP to another running control-plane node.
            let next = c
                .pools
                .iter()
                .filter(|p| p.is_cp)
                .flat_map(|p| p.machines.iter())
                .find(|m| m.state == "Running")
                .and_then(|m| m.vm_uuid.clone());
            if let Some(vm) = next {
                let vip = c.vip.clone();
                c.vip_holder = Some(vm.clone());
                ops::add_learned_ip(w, &vm, &vip);
            }
        }
    }
    let pool = &w.palette.clusters[ci].pools[pi];
    if pool.deleted && pool.machines.is_empty() {
        w.palette.clusters[ci].pools.remove(pi);
    }
}

pub(crate) fn apply(w: &mut World, ev: Event) {
    match ev {
        Event::PrismTaskDone(task) => ops::complete_task(w, &task),
        Event::PcgRunning(uid) => {
            if let Some(o) = w.palette.overlords.iter_mut().find(|o| o.meta.uid == uid) {
                o.state = "Running".into();
                o.running_since = Some(now_rfc3339());
                o.meta.touch();
            }
        }
        Event::ClusterProvisioning(uid) => {
            let Some(ci) = cluster_idx(w, &uid) else {
                return;
            };
            if w.palette.clusters[ci].state != "Pending" {
                return;
            }
            let c = &mut w.palette.clusters[ci];
            c.state = "Provisioning".into();
            c.set_condition("Provisioned", false, "CreatingMachines");
            c.set_condition("ControlPlaneReady", false, "WaitingForControlPlane");
            let pools: Vec<(String, bool)> =
                c.pools.iter().map(|p| (p.name.clone(), p.is_cp)).collect();
            for (name, is_cp) in pools {
                if is_cp {
                    reconcile_with(w, &uid, &name, 0.0, CP_STAGGER_SECS);
                } else {
                    reconcile_with(w, &uid, &name, WORKER_START_SECS, WORKER_STAGGER_SECS);
                }
            }
            event(
                w,
                &uid,
                "Provisioning",
                "Cluster provisioning started: creating control-plane and worker machines",
                "Info",
            );
        }
        Event::MachineProvision { cluster, machine } => {
            let Some((ci, pi, mi)) = find_machine(w, &cluster, &machine) else {
                return;
            };
            if w.palette.clusters[ci].pools[pi].machines[mi].state != "Pending" {
                return;
            }
            let cluster_name = w.palette.clusters[ci].meta.name.clone();
            let spec = w.palette.clusters[ci].pools[pi].spec.clone();
            let pe_available = w
                .prism
                .clusters
                .get(&spec.pe.0)
                .is_some_and(|c| c.data.is_available);
            if !pe_available {
                // CAPX refuses unavailable PEs and requeues.
                w.schedule(
                    PE_RETRY_SECS,
                    Event::MachineProvision {
                        cluster: cluster.clone(),
                        machine,
                    },
                );
                let msg = format!("the PE cluster {} is not available", spec.pe.1);
                event(w, &cluster, "MachineProvisionFailed", &msg, "Warning");
                return;
            }
            let is_cp = w.palette.clusters[ci].pools[pi].is_cp;
            let name = w.palette.clusters[ci].pools[pi].machines[mi].name.clone();
            let (vm, ips) = provision_vm(w, &cluster_name, &spec, &name);
            let c = &mut w.palette.clusters[ci];
            let m = &mut c.pools[pi].machines[mi];
            m.vm_uuid = Some(vm.clone());
            m.ips = ips;
            m.state = "Provisioning".into();
            m.updated = now_rfc3339();
            if is_cp && c.vip_holder.is_none() {
                // kube-vip on the first control-plane node takes the VIP.
                c.vip_holder = Some(vm.clone());
                let vip = c.vip.clone();
                ops::add_learned_ip(w, &vm, &vip);
            }
            let boot = if is_cp {
                CP_BOOT_SECS
            } else {
                WORKER_BOOT_SECS
            };
            w.schedule(
                boot,
                Event::MachineRunning {
                    cluster: cluster.clone(),
                    machine,
                },
            );
            event(
                w,
                &cluster,
                "MachineProvisioning",
                &format!("VM {name} created in Prism Central"),
                "Info",
            );
        }
        Event::MachineRunning { cluster, machine } => {
            let Some((ci, pi, mi)) = find_machine(w, &cluster, &machine) else {
                return;
            };
            let c = &mut w.palette.clusters[ci];
            let m = &mut c.pools[pi].machines[mi];
            if m.state != "Provisioning" {
                return;
            }
            m.state = "Running".into();
            m.updated = now_rfc3339();
            let name = m.name.clone();
            if c.pools[pi].is_cp && !c.api_ready {
                c.api_ready = true;
                c.set_condition("ControlPlaneReady", true, "ControlPlaneInitialized");
            }
            let all_running = c.pools.iter().filter(|p| !p.deleted).all(|p| {
                let active: Vec<&Machine> = p.machines.iter().filter(|m| is_active(m)).collect();
                active.len() as u32 == p.size && active.iter().all(|m| m.state == "Running")
            });
            let became_running = all_running && c.state == "Provisioning";
            if became_running {
                c.state = "Running".into();
                c.set_condition("Provisioned", true, "AllMachinesRunning");
                c.meta.touch();
            }
            event(
                w,
                &cluster,
                "MachineRunning",
                &format!("Node {name} is running"),
                "Info",
            );
            if became_running {
                w.schedule(HEALTHY_SECS, Event::ClusterHealthy(cluster.clone()));
                event(w, &cluster, "Running", "Cluster is running", "Info");
            }
        }
        Event::ClusterHealthy(uid) => {
            if let Some(ci) = cluster_idx(w, &uid) {
                let c = &mut w.palette.clusters[ci];
                if c.state == "Running" {
                    c.healthy = true;
                    c.set_condition("Healthy", true, "AllPacksDeployed");
                }
            }
        }
        Event::MachineDeleted { cluster, machine } => {
            let Some((ci, pi, mi)) = find_machine(w, &cluster, &machine) else {
                return;
            };
            let m = &w.palette.clusters[ci].pools[pi].machines[mi];
            let name = m.name.clone();
            let vm_uuid = m.vm_uuid.clone();
            // The VM lives on the PE it was created on (the pool may point elsewhere since).
            let unavailable_pe = vm_uuid
                .as_deref()
                .and_then(|vm| w.prism.vms.get(vm))
                .map(|vm| vm.data.cluster.clone())
                .filter(|pe| {
                    w.prism
                        .clusters
                        .get(&pe.0)
                        .is_some_and(|c| !c.data.is_available)
                });
            if let (Some(pe), Some(vm)) = (unavailable_pe, vm_uuid) {
                // CAPX cannot reach the VM through an unavailable PE and requeues.
                w.schedule(
                    PE_RETRY_SECS,
                    Event::MachineDeleted {
                        cluster: cluster.clone(),
                        machine,
                    },
                );
                let msg = format!(
                    "failed to delete VM {name} with UUID {vm}: the PE cluster {} is not available",
                    pe.1
                );
                event(w, &cluster, "MachineDeleteFailed", &msg, "Warning");
                return;
            }
            remove_machine(w, ci, pi, mi);
            event(
                w,
                &cluster,
                "MachineDeleted",
                &format!("Node {name} deleted"),
                "Info",
            );
        }
        Event::ClusterDeleted(uid) => {
            let Some(ci) = cluster_idx(w, &uid) else {
                return;
            };
            // The record goes only when every machine (and so its VM) is gone.
            if w.palette.clusters[ci]
                .pools
                .iter()
                .any(|p| !p.machines.is_empty())
            {
                w.schedule(
                    CLUSTER_DELETE_RECHECK_SECS,
                    Event::ClusterDeleted(uid.clone()),
                );
                return;
            }
            let c = &mut w.palette.clusters[ci];
            c.state = "Deleted".into();
            c.api_ready = false;
            c.vip_holder = None;
            c.profile_apply = None;
            c.meta.touch();
            w.schedule(PURGE_SECS, Event::ClusterPurge(uid.clone()));
            event(w, &uid, "Deleted", "Cluster deleted", "Info");
        }
        Event::ClusterPurge(uid) => {
            w.palette
                .clusters
                .retain(|c| c.meta.uid != uid || c.state != "Deleted");
        }
        Event::ProfileApplied { cluster, apply } => {
            let Some(ci) = cluster_idx(w, &cluster) else {
                return;
            };
            let c = &mut w.palette.clusters[ci];
            if c.profile_apply.as_ref().is_none_or(|a| a.id != apply) {
                // A newer update replaced this apply; its own completion is queued.
                return;
            }
            let Some(done) = c.profile_apply.take() else {
                return;
            };
            if c.state != "Running" {
                return;
            }
            if let Some(v) = done.kubernetes_version {
                c.kubernetes_version = Some(v);
            }
            c.meta.touch();
            let profiles: Vec<String> = c
                .profile_templates
                .iter()
                .map(|t| {
                    format!(
                        "{} {}",
                        t["name"].as_str().unwrap_or_default(),
                        t["profileVersion"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            event(
                w,
                &cluster,
                "ProfileUpdated",
                &format!(
                    "Cluster profiles applied: {}; all packs are running",
                    profiles.join(", ")
                ),
                "Info",
            );
        }
    }
}
