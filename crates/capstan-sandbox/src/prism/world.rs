//! Prism Central inventory: typed records, each with its JSON kept pre-serialised so list
//! handlers only concatenate strings.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use crate::util::ipv4_to_string;

/// `(uuid, name)` of a referenced entity.
pub(crate) type Ref = (String, String);

/// `Clone` so a record shared with a state-file snapshot can still be changed (copy on write).
pub(crate) trait Entity: Clone {
    const KIND: &'static str;
    fn uuid(&self) -> &str;
    fn name(&self) -> &str;
    fn to_json(&self) -> Value;
    /// The cached JSON text; entities with many rows override this with a direct writer.
    fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}

pub(crate) struct Row<T> {
    /// Shared so that a snapshot for the state file is a reference count, not a deep copy;
    /// writers go through [`Arc::make_mut`], which copies only while a snapshot holds it.
    pub data: Arc<T>,
    pub json: String,
}

/// Entities of one kind in insertion order.
pub(crate) struct Table<T> {
    pub rows: Vec<Row<T>>,
}

impl<T: Entity> Table<T> {
    pub(crate) fn new() -> Self {
        Self { rows: Vec::new() }
    }

    pub(crate) fn insert(&mut self, data: T) {
        let json = data.to_json_string();
        self.rows.push(Row {
            data: Arc::new(data),
            json,
        });
    }

    pub(crate) fn position(&self, uuid: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.data.uuid() == uuid)
    }

    pub(crate) fn get(&self, uuid: &str) -> Option<&Row<T>> {
        self.rows.iter().find(|r| r.data.uuid() == uuid)
    }

    /// Mutates a record and refreshes its cached JSON.
    pub(crate) fn update(&mut self, uuid: &str, f: impl FnOnce(&mut T)) -> bool {
        match self.rows.iter_mut().find(|r| r.data.uuid() == uuid) {
            Some(row) => {
                f(Arc::make_mut(&mut row.data));
                row.json = row.data.to_json_string();
                true
            }
            None => false,
        }
    }

    pub(crate) fn remove(&mut self, uuid: &str) -> Option<T> {
        self.position(uuid)
            .map(|i| Arc::unwrap_or_clone(self.rows.remove(i).data))
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }
}

impl<T> Table<T> {
    /// The records (shared, not copied) without their cached JSON: only for saving, never
    /// to serve from.
    fn copy_for_saving(&self) -> Self {
        Self {
            rows: self
                .rows
                .iter()
                .map(|r| Row {
                    data: Arc::clone(&r.data),
                    json: String::new(),
                })
                .collect(),
        }
    }
}

// Persisted as the records alone: the cached JSON is derived, so it is rebuilt on load.
impl<T: Serialize> Serialize for Table<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.rows.iter().map(|r| &*r.data))
    }
}

impl<'de, T: Entity + Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let records = Vec::<T>::deserialize(deserializer)?;
        let mut table = Table {
            rows: Vec::with_capacity(records.len()),
        };
        for record in records {
            table.insert(record);
        }
        Ok(table)
    }
}

fn reference(kind: &str, r: &Ref) -> Value {
    json!({"kind": kind, "uuid": r.0, "name": r.1})
}

fn metadata(kind: &str, uuid: &str, name: &str, created: &str, project: Option<&Ref>) -> Value {
    let mut m = json!({
        "kind": kind,
        "uuid": uuid,
        "name": name,
        "spec_version": 0,
        "creation_time": created,
        "last_update_time": created,
        "categories": {},
        "categories_mapping": {},
        "owner_reference": {"kind": "user", "uuid": "00000000-0000-0000-0000-000000000000", "name": "admin"},
    });
    if let Some(p) = project {
        m["project_reference"] = reference("project", p);
    }
    m
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct ClusterRec {
    pub uuid: String,
    pub name: String,
    pub is_pc: bool,
    pub external_ip: String,
    pub data_services_ip: String,
    pub hypervisor_ips: Vec<String>,
    pub is_available: bool,
    pub created: String,
}

pub(crate) const PC_VERSION: &str = "pc.2024.3.1.1";
pub(crate) const AOS_VERSION: &str = "6.10.1";

impl Entity for ClusterRec {
    const KIND: &'static str = "cluster";
    fn uuid(&self) -> &str {
        &self.uuid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn to_json(&self) -> Value {
        let (services, build, nos) = if self.is_pc {
            (
                json!(["PRISM_CENTRAL"]),
                json!({"version": "pc", "full_version": "el8.5-release-fraser-2024.3.1.1-stable-1b5c7f2ec1f7a3b2d6e0f4a8c9d1e2f3a4b5c6d7", "commit_id": "1b5c7f2ec1f7a3b2d6e0f4a8c9d1e2f3a4b5c6d7", "short_commit_id": "1b5c7f", "build_type": "release", "is_long_term_support": false}),
                json!({"NOS": {"software_type": "NOS", "version": "2024.3.1.1", "status": "INSTALLED"}}),
            )
        } else {
            (
                json!(["AOS"]),
                json!({"version": AOS_VERSION, "full_version": "el8.5-release-fraser-6.10.1-stable-8f2a9c4d7e6b5a3c1d0e9f8a7b6c5d4e3f2a1b0c", "commit_id": "8f2a9c4d7e6b5a3c1d0e9f8a7b6c5d4e3f2a1b0c", "short_commit_id": "8f2a9c", "build_type": "release", "is_long_term_support": true}),
                json!({"NOS": {"software_type": "NOS", "version": AOS_VERSION, "status": "INSTALLED"}, "NCC": {"software_type": "NCC", "version": "ncc-5.0.1", "status": "INSTALLED"}}),
            )
        };
        let mut config = json!({
            "service_list": services,
            "build": build,
            "software_map": nos,
            "is_available": self.is_available,
            "operation_mode": "NORMAL",
            "redundancy_factor": if self.is_pc { 1 } else { 2 },
            "cluster_arch": "X86_64",
            "timezone": "UTC",
            "domain_awareness_level": "NODE",
            "enabled_feature_list": [],
            "supported_information_verbosity": "BASIC_PLUS_CORE_DUMP",
            "fault_tolerance_domain_type": "NODE",
        });
        let mut network = json!({
            "external_ip": self.external_ip,
            "name_server_ip_list": ["10.0.0.2", "10.0.0.3"],
            "ntp_server_ip_list": ["0.pool.ntp.org", "1.pool.ntp.org"],
        });
        if self.is_pc {
            network["fully_qualified_domain_name"] = json!("prism-central.capstan.local");
            config["runtime_status_list"] = json!(["SSP_CONFIG_OWNER"]);
        } else {
            network["external_data_services_ip"] = json!(self.data_services_ip);
        }
        let mut resources =
            json!({"config": config, "network": network, "runtime_status_list": []});
        if !self.is_pc {
            let hv: Vec<Value> = self
                .hypervisor_ips
                .iter()
                .map(
                    |ip| json!({"ip": ip, "type": "AHV", "version": "el8.nutanix.20230302.101026"}),
                )
                .collect();
            resources["nodes"] = json!({"hypervisor_server_list": hv});
        }
        json!({
            "metadata": metadata("cluster", &self.uuid, &self.name, &self.created, None),
            "spec": {"name": self.name, "resources": resources.clone()},
            "status": {"state": "COMPLETE", "name": self.name, "resources": resources},
        })
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Ipam {
    pub network: u32,
    pub prefix: u8,
    pub gateway: u32,
    pub pool_start: u32,
    pub pool_end: u32,
    pub allocated: BTreeSet<u32>,
    pub next: u32,
}

impl Ipam {
    pub(crate) fn new(network: u32, prefix: u8, pool_size: u32) -> Self {
        Self {
            network,
            prefix,
            gateway: network + 1,
            pool_start: network + 10,
            pool_end: network + 10 + pool_size - 1,
            allocated: BTreeSet::new(),
            next: network + 10,
        }
    }

    pub(crate) fn pool_size(&self) -> u32 {
        self.pool_end - self.pool_start + 1
    }

    /// Next free address in the pool, wrapping once; `None` when the pool is full.
    pub(crate) fn allocate(&mut self) -> Option<u32> {
        let size = self.pool_size();
        for _ in 0..size {
            let ip = self.next;
            self.next = if self.next >= self.pool_end {
                self.pool_start
            } else {
                self.next + 1
            };
            if self.allocated.insert(ip) {
                return Some(ip);
            }
        }
        None
    }

    pub(crate) fn release(&mut self, ip: u32) {
        self.allocated.remove(&ip);
    }

    /// An address inside the subnet but outside the IPAM pool (for a kube-vip VIP).
    pub(crate) fn first_free_outside_pool(&self) -> u32 {
        self.pool_end + 1
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SubnetRec {
    pub uuid: String,
    pub name: String,
    pub overlay: bool,
    pub vlan_id: u32,
    pub cluster: Option<Ref>,
    pub ipam: Option<Ipam>,
    pub vpc: Option<Ref>,
    pub created: String,
}

impl Entity for SubnetRec {
    const KIND: &'static str = "subnet";
    fn uuid(&self) -> &str {
        &self.uuid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn to_json(&self) -> Value {
        let subnet_type = if self.overlay { "OVERLAY" } else { "VLAN" };
        let mut res = json!({"subnet_type": subnet_type, "is_external": false});
        if self.overlay {
            res["vpc_reference"] = self
                .vpc
                .as_ref()
                .map(|v| reference("vpc", v))
                .unwrap_or(Value::Null);
            res["advanced_networking"] = json!(true);
        } else {
            res["vlan_id"] = json!(self.vlan_id);
            res["vswitch_name"] = json!("br0");
            res["virtual_switch_uuid"] =
                json!(format!("{}-0b0b-4c4c-8d8d-00000000b000", &self.uuid[..8]));
        }
        let mut spec_res = res.clone();
        if let Some(ipam) = &self.ipam {
            let ip_config = json!({
                "subnet_ip": ipv4_to_string(ipam.network),
                "prefix_length": ipam.prefix,
                "default_gateway_ip": ipv4_to_string(ipam.gateway),
                "pool_list": [{"range": format!("{} {}", ipv4_to_string(ipam.pool_start), ipv4_to_string(ipam.pool_end))}],
                "dhcp_server_address": {"ip": ipv4_to_string(ipam.network + 2)},
                "dhcp_options": {"domain_name_server_list": ["10.0.0.2", "10.0.0.3"], "domain_search_list": ["capstan.local"], "domain_name": "capstan.local"},
            });
            res["ip_config"] = ip_config.clone();
            spec_res["ip_config"] = ip_config;
            let assigned = ipam.allocated.len() as u32;
            let free = ipam.pool_size().saturating_sub(assigned);
            res["ip_usage_stats"] = json!({
                "num_free_ips": free,
                "num_assigned_ips": assigned,
                "num_macs": assigned,
                "ip_pools_stats": [{"range": format!("{} {}", ipv4_to_string(ipam.pool_start), ipv4_to_string(ipam.pool_end)), "num_free_ips": free, "num_total_ips": ipam.pool_size()}],
            });
        }
        // The spec's availability/vpc blocks are status-only for VLAN subnets.
        if let Some(obj) = spec_res.as_object_mut() {
            obj.remove("vpc_reference");
            if self.overlay {
                obj.insert(
                    "vpc_reference".into(),
                    self.vpc
                        .as_ref()
                        .map(|v| reference("vpc", v))
                        .unwrap_or(Value::Null),
                );
            }
        }
        let mut spec = json!({"name": self.name, "resources": spec_res});
        let mut status = json!({"state": "COMPLETE", "name": self.name, "resources": res});
        if let Some(c) = &self.cluster {
            spec["cluster_reference"] = reference("cluster", c);
            status["cluster_reference"] = reference("cluster", c);
        }
        json!({
            "metadata": metadata("subnet", &self.uuid, &self.name, &self.created, None),
            "spec": spec,
            "status": status,
        })
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct ImageRec {
    pub uuid: String,
    pub name: String,
    pub iso: bool,
    pub size_bytes: u64,
    pub clusters: Vec<Ref>,
    #[serde(with = "crate::persist::static_str")]
    pub state: crate::persist::StaticStr,
    pub source_uri: String,
    pub checksum: String,
    pub created: String,
}

impl Entity for ImageRec {
    const KIND: &'static str = "image";
    fn uuid(&self) -> &str {
        &self.uuid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn to_json(&self) -> Value {
        let image_type = if self.iso { "ISO_IMAGE" } else { "DISK_IMAGE" };
        let refs: Vec<Value> = self
            .clusters
            .iter()
            .map(|c| reference("cluster", c))
            .collect();
        let checksum = json!({"checksum_algorithm": "SHA_256", "checksum_value": self.checksum});
        json!({
            "metadata": metadata("image", &self.uuid, &self.name, &self.created, None),
            "spec": {
                "name": self.name,
                "description": format!("{} (Capstan sandbox)", self.name),
                "resources": {"image_type": image_type, "source_uri": self.source_uri, "architecture": "X86_64", "checksum": checksum},
            },
            "status": {
                "state": self.state,
                "name": self.name,
                "description": format!("{} (Capstan sandbox)", self.name),
                "resources": {
                    "image_type": image_type,
                    "source_uri": self.source_uri,
                    "architecture": "X86_64",
                    "size_bytes": self.size_bytes,
                    "checksum": checksum,
                    "current_cluster_reference_list": refs,
                    "retrieval_uri_list": self.clusters.iter().map(|c| format!("https://{}:9440/api/nutanix/v3/images/{}/file", c.1, self.uuid)).collect::<Vec<_>>(),
                },
            },
        })
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct IpEndpoint {
    pub ip: String,
    pub learned: bool,
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Nic {
    pub uuid: String,
    pub mac: String,
    pub subnet: Ref,
    pub ips: Vec<IpEndpoint>,
    /// Which pool address (if any) this NIC holds, so deletes can release it.
    pub pool_ip: Option<u32>,
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct VmRec {
    pub uuid: String,
    pub name: String,
    pub cluster: Ref,
    pub host: Option<Ref>,
    pub power_on: bool,
    pub sockets: u32,
    pub vcpus_per_socket: u32,
    pub memory_mib: u64,
    pub disk_mib: u64,
    pub image: Option<Ref>,
    pub nics: Vec<Nic>,
    pub categories: BTreeMap<String, String>,
    pub project: Ref,
    pub uefi: bool,
    pub created: String,
    pub description: String,
}

impl Entity for VmRec {
    const KIND: &'static str = "vm";
    fn uuid(&self) -> &str {
        &self.uuid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn to_json_string(&self) -> String {
        super::vmjson::write(self)
    }
    fn to_json(&self) -> Value {
        let mut meta = metadata(
            "vm",
            &self.uuid,
            &self.name,
            &self.created,
            Some(&self.project),
        );
        let cats: serde_json::Map<String, Value> = self
            .categories
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let cats_mapping: serde_json::Map<String, Value> = self
            .categories
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        meta["categories"] = Value::Object(cats);
        meta["categories_mapping"] = Value::Object(cats_mapping);
        meta["use_categories_mapping"] = json!(false);
        let base = self.uuid.get(..34).unwrap_or(&self.uuid);
        let disk_uuid = format!("{base}d0");
        let mut disk = json!({
            "uuid": disk_uuid,
            "disk_size_bytes": self.disk_mib * 1024 * 1024,
            "disk_size_mib": self.disk_mib,
            "device_properties": {"device_type": "DISK", "disk_address": {"adapter_type": "SCSI", "device_index": 0}},
            "storage_config": {"storage_container_reference": {"kind": "storage_container", "uuid": "5b4c3d2e-1f0a-4b9c-8d7e-6f5a4b3c2d1e", "name": "default-container"}},
        });
        if let Some(img) = &self.image {
            disk["data_source_reference"] = reference("image", img);
        }
        let cdrom = json!({
            "uuid": format!("{base}c0"),
            "device_properties": {"device_type": "CDROM", "disk_address": {"adapter_type": "IDE", "device_index": 0}},
        });
        let nics_status: Vec<Value> = self
            .nics
            .iter()
            .map(|n| {
                let eps: Vec<Value> = n
                    .ips
                    .iter()
                    .filter(|_| self.power_on)
                    .map(|e| {
                        if e.learned {
                            json!({"ip": e.ip, "type": "LEARNED", "ip_type": "DHCP"})
                        } else {
                            json!({"ip": e.ip, "type": "ASSIGNED", "ip_type": "DHCP"})
                        }
                    })
                    .collect();
                json!({
                    "uuid": n.uuid,
                    "mac_address": n.mac,
                    "nic_type": "NORMAL_NIC",
                    "vlan_mode": "ACCESS",
                    "is_connected": true,
                    "model": "VIRTIO",
                    "subnet_reference": reference("subnet", &n.subnet),
                    "ip_endpoint_list": eps,
                })
            })
            .collect();
        let nics_spec: Vec<Value> = self
            .nics
            .iter()
            .map(|n| {
                let eps: Vec<Value> = n
                    .ips
                    .iter()
                    .filter(|e| !e.learned)
                    .map(|e| json!({"ip": e.ip, "type": "ASSIGNED"}))
                    .collect();
                json!({
                    "uuid": n.uuid,
                    "mac_address": n.mac,
                    "nic_type": "NORMAL_NIC",
                    "vlan_mode": "ACCESS",
                    "is_connected": true,
                    "subnet_reference": reference("subnet", &n.subnet),
                    "ip_endpoint_list": eps,
                })
            })
            .collect();
        let boot = if self.uefi {
            json!({"boot_type": "UEFI", "boot_device_order_list": ["CDROM", "DISK", "NETWORK"]})
        } else {
            json!({"boot_type": "LEGACY", "boot_device_order_list": ["CDROM", "DISK", "NETWORK"]})
        };
        let power = if self.power_on { "ON" } else { "OFF" };
        let mut status_res = json!({
            "power_state": power,
            "num_sockets": self.sockets,
            "num_vcpus_per_socket": self.vcpus_per_socket,
            "num_threads_per_core": 1,
            "memory_size_mib": self.memory_mib,
            "machine_type": "PC",
            "hypervisor_type": "AHV",
            "boot_config": boot,
            "disk_list": [disk.clone(), cdrom.clone()],
            "nic_list": nics_status,
            "gpu_list": [],
            "serial_port_list": [],
            "vga_console_enabled": true,
            "is_agent_vm": false,
            "protection_type": "UNPROTECTED",
        });
        if let Some(h) = &self.host {
            status_res["host_reference"] = reference("host", h);
        }
        json!({
            "metadata": meta,
            "spec": {
                "name": self.name,
                "description": self.description,
                "cluster_reference": reference("cluster", &self.cluster),
                "resources": {
                    "power_state": power,
                    "num_sockets": self.sockets,
                    "num_vcpus_per_socket": self.vcpus_per_socket,
                    "num_threads_per_core": 1,
                    "memory_size_mib": self.memory_mib,
                    "machine_type": "PC",
                    "hardware_clock_timezone": "UTC",
                    "boot_config": boot,
                    "disk_list": [disk, cdrom],
                    "nic_list": nics_spec,
                    "gpu_list": [],
                },
            },
            "status": {
                "state": "COMPLETE",
                "name": self.name,
                "description": self.description,
                "cluster_reference": reference("cluster", &self.cluster),
                "resources": status_res,
            },
        })
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct HostRec {
    pub uuid: String,
    pub name: String,
    pub cluster: Ref,
    pub cvm_ip: String,
    pub hypervisor_ip: String,
    pub sockets: u32,
    pub cores: u32,
    pub memory_mib: u64,
    pub serial: String,
    pub created: String,
}

impl Entity for HostRec {
    const KIND: &'static str = "host";
    fn uuid(&self) -> &str {
        &self.uuid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn to_json(&self) -> Value {
        json!({
            "metadata": metadata("host", &self.uuid, &self.name, &self.created, None),
            "spec": {"name": self.name, "resources": {}},
            "status": {
                "state": "COMPLETE",
                "name": self.name,
                "cluster_reference": reference("cluster", &self.cluster),
                "resources": {
                    "serial_number": self.serial,
                    "host_type": "HYPER_CONVERGED",
                    "cpu_model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
                    "num_cpu_sockets": self.sockets,
                    "num_cpu_cores": self.cores,
                    "cpu_capacity_hz": u64::from(self.cores) * 2_000_000_000,
                    "memory_capacity_mib": self.memory_mib,
                    "controller_vm": {"ip": self.cvm_ip, "oplog_usage": {"oplog_disk_pct": 0.4, "oplog_disk_size": 412316860416u64}},
                    "hypervisor": {"ip": self.hypervisor_ip, "hypervisor_full_name": "AHV 10.0.1", "num_vms": 0},
                    "gpu_list": [],
                    "block": {"block_serial_number": self.serial, "block_model": "NX-3170-G8"},
                },
            },
        })
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct ProjectRec {
    pub uuid: String,
    pub name: String,
    pub is_default: bool,
    pub clusters: Vec<Ref>,
    pub subnets: Vec<Ref>,
    pub created: String,
}

impl Entity for ProjectRec {
    const KIND: &'static str = "project";
    fn uuid(&self) -> &str {
        &self.uuid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn to_json(&self) -> Value {
        let clusters: Vec<Value> = self
            .clusters
            .iter()
            .map(|c| reference("cluster", c))
            .collect();
        let subnets: Vec<Value> = self
            .subnets
            .iter()
            .map(|s| reference("subnet", s))
            .collect();
        let mut res = json!({
            "is_default": self.is_default,
            "cluster_reference_list": clusters,
            "subnet_reference_list": subnets,
            "resource_domain": {"resources": []},
            "account_reference_list": [],
            "environment_reference_list": [],
            "user_reference_list": [],
            "external_user_group_reference_list": [],
        });
        if let Some(s) = self.subnets.first() {
            res["default_subnet_reference"] = reference("subnet", s);
        }
        json!({
            "metadata": metadata("project", &self.uuid, &self.name, &self.created, None),
            "spec": {"name": self.name, "description": format!("{} project", self.name), "resources": res.clone()},
            "status": {"state": "COMPLETE", "name": self.name, "description": format!("{} project", self.name), "resources": res},
        })
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct TaskRec {
    pub uuid: String,
    pub operation_type: String,
    #[serde(with = "crate::persist::static_str")]
    pub status: crate::persist::StaticStr,
    pub percentage: u32,
    pub entities: Vec<(String, Ref)>,
    pub cluster: Option<Ref>,
    pub created: String,
    pub completed: Option<String>,
    pub error: Option<String>,
}

impl Entity for TaskRec {
    const KIND: &'static str = "task";
    fn uuid(&self) -> &str {
        &self.uuid
    }
    fn name(&self) -> &str {
        &self.operation_type
    }
    fn to_json(&self) -> Value {
        let ents: Vec<Value> = self.entities.iter().map(|(k, r)| reference(k, r)).collect();
        let mut t = json!({
            "uuid": self.uuid,
            "status": self.status,
            "operation_type": self.operation_type,
            "percentage_complete": self.percentage,
            "progress_message": self.operation_type,
            "entity_reference_list": ents,
            "creation_time": self.created,
            "start_time": self.created,
            "last_update_time": self.completed.as_deref().unwrap_or(&self.created),
            "subtask_reference_list": [],
            "api_version": "3.1",
        });
        if let Some(c) = &self.cluster {
            t["cluster_reference"] = reference("cluster", c);
        }
        if let Some(done) = &self.completed {
            t["completion_time"] = json!(done);
        }
        if let Some(e) = &self.error {
            t["error_code"] = json!("INTERNAL_ERROR");
            t["error_detail"] = json!(e);
        }
        t
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct CategoryKey {
    pub description: String,
    pub system_defined: bool,
    pub values: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct PrismWorld {
    pub pc_uuid: String,
    pub pc_vm: Option<Ref>,
    pub clusters: Table<ClusterRec>,
    pub subnets: Table<SubnetRec>,
    pub images: Table<ImageRec>,
    pub vms: Table<VmRec>,
    pub hosts: Table<HostRec>,
    pub projects: Table<ProjectRec>,
    pub tasks: Table<TaskRec>,
    pub categories: BTreeMap<String, CategoryKey>,
}

impl PrismWorld {
    /// A copy to serialise after the world lock is released (records are shared, so this
    /// is cheap); its tables carry no cached JSON.
    pub(crate) fn copy_for_saving(&self) -> Self {
        Self {
            pc_uuid: self.pc_uuid.clone(),
            pc_vm: self.pc_vm.clone(),
            clusters: self.clusters.copy_for_saving(),
            subnets: self.subnets.copy_for_saving(),
            images: self.images.copy_for_saving(),
            vms: self.vms.copy_for_saving(),
            hosts: self.hosts.copy_for_saving(),
            projects: self.projects.copy_for_saving(),
            tasks: self.tasks.copy_for_saving(),
            categories: self.categories.clone(),
        }
    }

    pub(crate) fn add_category_value(&mut self, key: &str, value: &str, description: &str) {
        let k = self
            .categories
            .entry(key.to_owned())
            .or_insert_with(|| CategoryKey {
                description: description.to_owned(),
                system_defined: false,
                values: BTreeMap::new(),
            });
        k.values
            .entry(value.to_owned())
            .or_insert_with(|| description.to_owned());
    }
}
