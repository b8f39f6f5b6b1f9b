//! Inventory mutations: VMs created/deleted through the v3 API or by the emulated CAPX
//! controller, with IPs from the subnet pools and a task per operation.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use rand::Rng;
use serde_json::{Value, json};

use super::world::*;
use super::{error, json_response};
use crate::palette::lifecycle::Event;
use crate::state::{Shared, World};
use crate::util::{ipv4_to_string, now_rfc3339, uuid_from};

/// What a new VM looks like.
pub(crate) struct VmSpec {
    pub name: String,
    pub cluster: Ref,
    pub subnets: Vec<Ref>,
    pub image: Option<Ref>,
    pub sockets: u32,
    pub vcpus_per_socket: u32,
    pub memory_mib: u64,
    pub disk_mib: u64,
    pub categories: BTreeMap<String, String>,
    pub uefi: bool,
    pub description: String,
}

fn new_task(
    w: &mut World,
    op: &str,
    entity: (&str, Ref),
    cluster: Option<Ref>,
    done: bool,
) -> String {
    let uuid = uuid_from(&mut w.rng);
    let now = now_rfc3339();
    w.prism.tasks.insert(TaskRec {
        uuid: uuid.clone(),
        operation_type: op.to_owned(),
        status: if done { "SUCCEEDED" } else { "RUNNING" },
        percentage: if done { 100 } else { 10 },
        entities: vec![(entity.0.to_owned(), entity.1)],
        cluster,
        created: now.clone(),
        completed: done.then_some(now),
        error: None,
    });
    uuid
}

pub(crate) fn complete_task(w: &mut World, uuid: &str) {
    w.prism.tasks.update(uuid, |t| {
        t.status = "SUCCEEDED";
        t.percentage = 100;
        t.completed = Some(now_rfc3339());
    });
}

/// Creates a powered-on VM; returns its uuid and the IPs it got (one per NIC, if any).
pub(crate) fn create_vm(w: &mut World, spec: VmSpec) -> (String, Vec<String>) {
    let uuid = uuid_from(&mut w.rng);
    let mut nics = Vec::new();
    let mut ips = Vec::new();
    for subnet in &spec.subnets {
        let mut allocated = None;
        let mut managed = false;
        w.prism.subnets.update(&subnet.0, |s| {
            if let Some(ipam) = s.ipam.as_mut() {
                managed = true;
                allocated = ipam.allocate();
            }
        });
        let (endpoints, pool_ip) = match (managed, allocated) {
            (true, Some(a)) => (
                vec![IpEndpoint {
                    ip: ipv4_to_string(a),
                    learned: false,
                }],
                Some(a),
            ),
            (true, None) => (vec![], None),
            (false, _) => {
                // Unmanaged network: the guest gets an address from an external DHCP server.
                let ip = format!(
                    "172.16.{}.{}",
                    w.rng.random_range(0..255),
                    w.rng.random_range(2..254)
                );
                (vec![IpEndpoint { ip, learned: true }], None)
            }
        };
        ips.extend(endpoints.iter().map(|e| e.ip.clone()));
        let mac: [u8; 3] = [w.rng.random(), w.rng.random(), w.rng.random()];
        nics.push(Nic {
            uuid: uuid_from(&mut w.rng),
            mac: format!("50:6b:8d:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2]),
            subnet: subnet.clone(),
            ips: endpoints,
            pool_ip,
        });
    }
    let hosts: Vec<Ref> = w
        .prism
        .hosts
        .rows
        .iter()
        .filter(|h| h.data.cluster.0 == spec.cluster.0)
        .map(|h| (h.data.uuid.clone(), h.data.name.clone()))
        .collect();
    let host = (!hosts.is_empty()).then(|| hosts[w.rng.random_range(0..hosts.len())].clone());
    let project = w
        .prism
        .projects
        .rows
        .iter()
        .find(|p| p.data.is_default)
        .map(|p| (p.data.uuid.clone(), p.data.name.clone()))
        .unwrap_or_default();
    for (k, v) in &spec.categories {
        w.prism.add_category_value(k, v, "Managed by CAPX");
    }
    let vm_ref = (uuid.clone(), spec.name.clone());
    w.prism.vms.insert(VmRec {
        uuid: uuid.clone(),
        name: spec.name,
        cluster: spec.cluster.clone(),
        host,
        power_on: true,
        sockets: spec.sockets,
        vcpus_per_socket: spec.vcpus_per_socket,
        memory_mib: spec.memory_mib,
        disk_mib: spec.disk_mib,
        image: spec.image,
        nics,
        categories: spec.categories,
        project,
        uefi: spec.uefi,
        created: now_rfc3339(),
        description: spec.description,
    });
    new_task(w, "kVmCreate", ("vm", vm_ref), Some(spec.cluster), true);
    (uuid, ips)
}

/// Removes a VM and gives its pool addresses back.
pub(crate) fn delete_vm(w: &mut World, uuid: &str) -> bool {
    let Some(vm) = w.prism.vms.remove(uuid) else {
        return false;
    };
    for nic in &vm.nics {
        if let Some(ip) = nic.pool_ip {
            w.prism.subnets.update(&nic.subnet.0, |s| {
                if let Some(ipam) = s.ipam.as_mut() {
                    ipam.release(ip);
                }
            });
        }
    }
    new_task(
        w,
        "kVmDelete",
        ("vm", (vm.uuid.clone(), vm.name.clone())),
        Some(vm.cluster),
        true,
    );
    true
}

pub(crate) fn add_learned_ip(w: &mut World, vm_uuid: &str, ip: &str) {
    w.prism.vms.update(vm_uuid, |vm| {
        if let Some(nic) = vm.nics.first_mut() {
            nic.ips.push(IpEndpoint {
                ip: ip.to_owned(),
                learned: true,
            });
        }
    });
}

/// A Prism Element (AOS) cluster by name or uuid.
pub(crate) fn find_pe(w: &World, by_name: Option<&str>, by_uuid: Option<&str>) -> Option<Ref> {
    w.prism
        .clusters
        .rows
        .iter()
        .filter(|c| !c.data.is_pc)
        .find(|c| {
            by_name.is_some_and(|n| c.data.name == n) || by_uuid.is_some_and(|u| c.data.uuid == u)
        })
        .map(|c| (c.data.uuid.clone(), c.data.name.clone()))
}

/// Subnets usable from `pe` (VLANs on that PE, or overlays) that match the name/uuid.
pub(crate) fn find_subnets(
    w: &World,
    pe: &Ref,
    by_name: Option<&str>,
    by_uuid: Option<&str>,
) -> Vec<Ref> {
    w.prism
        .subnets
        .rows
        .iter()
        .filter(|s| {
            by_name.is_some_and(|n| s.data.name == n) || by_uuid.is_some_and(|u| s.data.uuid == u)
        })
        .filter(|s| s.data.overlay || s.data.cluster.as_ref().is_some_and(|c| c.0 == pe.0))
        .map(|s| (s.data.uuid.clone(), s.data.name.clone()))
        .collect()
}

pub(crate) fn find_images(
    w: &World,
    by_name: Option<&str>,
    by_uuid: Option<&str>,
) -> Vec<(Ref, &'static str)> {
    w.prism
        .images
        .rows
        .iter()
        .filter(|i| {
            by_name.is_some_and(|n| i.data.name == n) || by_uuid.is_some_and(|u| i.data.uuid == u)
        })
        .map(|i| ((i.data.uuid.clone(), i.data.name.clone()), i.data.state))
        .collect()
}

// ---------------------------------------------------------------------------------------
// HTTP: POST /vms, DELETE /vms/{uuid} (202 + task)

fn bad(message: String) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("vm"),
        "INVALID_ARGUMENT",
        message,
        None,
    )
}

pub(crate) async fn create_vm_http(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return bad(format!(
                "the request body is not valid vm_intent_input JSON: {e}"
            ));
        }
    };
    let spec = &v["spec"];
    let Some(name) = spec["name"].as_str().filter(|n| !n.is_empty()) else {
        return bad("spec.name is required".into());
    };
    let Some(cluster_uuid) = spec["cluster_reference"]["uuid"].as_str() else {
        return bad("spec.cluster_reference.uuid is required".into());
    };
    let res = &spec["resources"];
    let mut w = shared.world();
    let Some(cluster) = find_pe(&w, None, Some(cluster_uuid)) else {
        return error(
            StatusCode::NOT_FOUND,
            Some("cluster"),
            "ENTITY_NOT_FOUND",
            format!("cluster : {cluster_uuid} not found"),
            None,
        );
    };
    let mut subnets = Vec::new();
    for nic in res["nic_list"].as_array().cloned().unwrap_or_default() {
        let Some(su) = nic["subnet_reference"]["uuid"].as_str() else {
            return bad("nic_list[].subnet_reference.uuid is required".into());
        };
        match find_subnets(&w, &cluster, None, Some(su))
            .into_iter()
            .next()
        {
            Some(s) => subnets.push(s),
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    Some("subnet"),
                    "ENTITY_NOT_FOUND",
                    format!("subnet : {su} not found on cluster {}", cluster.1),
                    None,
                );
            }
        }
    }
    let categories: BTreeMap<String, String> = v["metadata"]["categories"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let (uuid, _) = create_vm(
        &mut w,
        VmSpec {
            name: name.to_owned(),
            cluster,
            subnets,
            image: None,
            sockets: res["num_sockets"].as_u64().unwrap_or(1) as u32,
            vcpus_per_socket: res["num_vcpus_per_socket"].as_u64().unwrap_or(1) as u32,
            memory_mib: res["memory_size_mib"].as_u64().unwrap_or(2048),
            disk_mib: 20 * 1024,
            categories,
            uefi: false,
            description: spec["description"].as_str().unwrap_or_default().to_owned(),
        },
    );
    // The create task already exists as SUCCEEDED; report it RUNNING until a short delay.
    let task = w
        .prism
        .tasks
        .rows
        .last()
        .map(|t| t.data.uuid.clone())
        .unwrap_or_default();
    w.prism.tasks.update(&task, |t| {
        t.status = "RUNNING";
        t.percentage = 50;
        t.completed = None;
    });
    w.schedule(5.0, Event::PrismTaskDone(task.clone()));
    let body = json!({
        "api_version": "3.1",
        "metadata": {"kind": "vm", "uuid": uuid, "spec_version": 0, "categories": v["metadata"]["categories"].clone()},
        "spec": spec.clone(),
        "status": {"state": "PENDING", "execution_context": {"task_uuid": task}},
    });
    json_response(StatusCode::ACCEPTED, body.to_string())
}

pub(crate) async fn delete_vm_http(
    State(shared): State<Arc<Shared>>,
    Path(uuid): Path<String>,
) -> Response {
    let mut w = shared.world();
    if !delete_vm(&mut w, &uuid) {
        return error(
            StatusCode::NOT_FOUND,
            Some("vm"),
            "ENTITY_NOT_FOUND",
            format!("vm : {uuid} not found"),
            None,
        );
    }
    let task = w
        .prism
        .tasks
        .rows
        .last()
        .map(|t| t.data.uuid.clone())
        .unwrap_or_default();
    let body = json!({
        "api_version": "3.1",
        "metadata": {"kind": "vm", "uuid": uuid},
        "status": {"state": "DELETE_PENDING", "execution_context": {"task_uuid": task}},
    });
    json_response(StatusCode::ACCEPTED, body.to_string())
}
