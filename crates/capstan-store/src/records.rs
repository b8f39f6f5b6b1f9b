//! What the cache holds: one record type per cached kind, with the columns the views sort
//! and filter on pulled out of the API JSON, and the full (redacted) JSON kept alongside.
//!
//! Each record has a `from_*` constructor that reads the API's own shape (Prism Central v3
//! intent resources, Palette objects), so the sync code can hand entities over as they
//! arrive. The constructors run [`redact_json`] before keeping the JSON: a Palette cloud
//! account carries `NUTANIX_PASSWORD`, and a CAPX VM carries kubeadm tokens in its
//! cloud-init `user_data`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, StoreError};
use crate::redact::redact_json;

/// A cached kind. `as_str` names are stable: they are stored in `sync_state.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    // Prism Central
    /// PE clusters, plus the Prism Central's own cluster entity (`is_prism_central`).
    PeCluster,
    Subnet,
    Image,
    Vm,
    Host,
    Project,
    // Palette
    CloudType,
    Pcg,
    CloudAccount,
    Profile,
    PaletteCluster,
    MachinePool,
    Node,
}

pub(crate) struct KindSpec {
    pub(crate) table: &'static str,
    /// `uuid` for Prism Central, `uid` for Palette.
    pub(crate) key: &'static str,
    /// Kind-specific columns, in the order `Write::columns` binds them.
    pub(crate) columns: &'static [&'static str],
    /// Column behind the generic "parent" filter (owning PE cluster, Palette cluster, PCG).
    pub(crate) parent: Option<&'static str>,
    /// Column behind the generic "state" filter (power state, status.state).
    pub(crate) state: Option<&'static str>,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::PeCluster,
        Kind::Subnet,
        Kind::Image,
        Kind::Vm,
        Kind::Host,
        Kind::Project,
        Kind::CloudType,
        Kind::Pcg,
        Kind::CloudAccount,
        Kind::Profile,
        Kind::PaletteCluster,
        Kind::MachinePool,
        Kind::Node,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PeCluster => "pe_cluster",
            Kind::Subnet => "subnet",
            Kind::Image => "image",
            Kind::Vm => "vm",
            Kind::Host => "host",
            Kind::Project => "project",
            Kind::CloudType => "cloud_type",
            Kind::Pcg => "pcg",
            Kind::CloudAccount => "cloud_account",
            Kind::Profile => "profile",
            Kind::PaletteCluster => "palette_cluster",
            Kind::MachinePool => "machine_pool",
            Kind::Node => "node",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub(crate) fn spec(self) -> &'static KindSpec {
        const fn spec(
            table: &'static str,
            key: &'static str,
            columns: &'static [&'static str],
            parent: Option<&'static str>,
            state: Option<&'static str>,
        ) -> KindSpec {
            KindSpec {
                table,
                key,
                columns,
                parent,
                state,
            }
        }
        static PE_CLUSTER: KindSpec = spec(
            "pc_clusters",
            "uuid",
            &[
                "is_prism_central",
                "aos_version",
                "external_ip",
                "is_available",
            ],
            None,
            None,
        );
        static SUBNET: KindSpec = spec(
            "pc_subnets",
            "uuid",
            &[
                "cluster_uuid",
                "subnet_type",
                "vlan_id",
                "cidr",
                "gateway_ip",
            ],
            Some("cluster_uuid"),
            Some("subnet_type"),
        );
        static IMAGE: KindSpec = spec(
            "pc_images",
            "uuid",
            &["image_type", "size_bytes", "state"],
            None,
            Some("state"),
        );
        static VM: KindSpec = spec(
            "pc_vms",
            "uuid",
            &[
                "cluster_uuid",
                "host_uuid",
                "project_uuid",
                "power_state",
                "num_vcpus",
                "memory_mib",
            ],
            Some("cluster_uuid"),
            Some("power_state"),
        );
        static HOST: KindSpec = spec(
            "pc_hosts",
            "uuid",
            &["cluster_uuid", "cvm_ip", "hypervisor_ip"],
            Some("cluster_uuid"),
            None,
        );
        static PROJECT: KindSpec = spec("pc_projects", "uuid", &["is_default"], None, None);
        static CLOUD_TYPE: KindSpec = spec("pl_cloud_types", "uid", &["is_custom"], None, None);
        static PCG: KindSpec = spec(
            "pl_pcgs",
            "uid",
            &["state", "is_self_hosted"],
            None,
            Some("state"),
        );
        static CLOUD_ACCOUNT: KindSpec = spec(
            "pl_cloud_accounts",
            "uid",
            &["cloud_type", "pcg_uid", "state"],
            Some("pcg_uid"),
            Some("state"),
        );
        static PROFILE: KindSpec = spec(
            "pl_profiles",
            "uid",
            &["version", "cloud_type", "profile_type", "is_published"],
            None,
            None,
        );
        static PALETTE_CLUSTER: KindSpec = spec(
            "pl_clusters",
            "uid",
            &[
                "cloud_type",
                "cloud_account_uid",
                "cloud_config_uid",
                "state",
                "health_state",
            ],
            Some("cloud_account_uid"),
            Some("state"),
        );
        static MACHINE_POOL: KindSpec = spec(
            "pl_machine_pools",
            "uid",
            &["cluster_uid", "is_control_plane", "size"],
            Some("cluster_uid"),
            None,
        );
        static NODE: KindSpec = spec(
            "pl_nodes",
            "uid",
            &[
                "cluster_uid",
                "pool_name",
                "instance_state",
                "health_state",
                "ip",
            ],
            Some("cluster_uid"),
            Some("instance_state"),
        );
        match self {
            Kind::PeCluster => &PE_CLUSTER,
            Kind::Subnet => &SUBNET,
            Kind::Image => &IMAGE,
            Kind::Vm => &VM,
            Kind::Host => &HOST,
            Kind::Project => &PROJECT,
            Kind::CloudType => &CLOUD_TYPE,
            Kind::Pcg => &PCG,
            Kind::CloudAccount => &CLOUD_ACCOUNT,
            Kind::Profile => &PROFILE,
            Kind::PaletteCluster => &PALETTE_CLUSTER,
            Kind::MachinePool => &MACHINE_POOL,
            Kind::Node => &NODE,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(crate) mod private {
    use rusqlite::{ToSql, Transaction};

    /// How a record is written. Lives in a private module so the public trait is sealed
    /// and the SQL plumbing stays out of the public API.
    pub trait Write {
        /// Kind-specific column values, in `KindSpec::columns` order.
        fn columns(&self) -> Vec<&dyn ToSql>;
        /// Rewrites child rows (VM NICs/IPs and categories, subnet pools). The parent row
        /// already exists.
        fn write_children(
            &self,
            _tx: &Transaction<'_>,
            _environment_id: &str,
        ) -> rusqlite::Result<()> {
            Ok(())
        }
    }
}

/// A record the cache can hold. Implemented by every `*Record` type in this module.
pub trait CacheRecord: private::Write {
    const KIND: Kind;
    /// The API's identifier: Prism `metadata.uuid`, Palette `metadata.uid`.
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    /// The full entity as JSON text, already redacted.
    fn json(&self) -> &str;
}

macro_rules! cache_record {
    ($ty:ty, $kind:expr, $id:ident) => {
        impl CacheRecord for $ty {
            const KIND: Kind = $kind;
            fn id(&self) -> &str {
                &self.$id
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn json(&self) -> &str {
                &self.json
            }
        }
    };
}

// ---- JSON helpers -------------------------------------------------------------------

fn str_at(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn first_str(value: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| str_at(value, p))
}

fn i64_at(value: &Value, pointer: &str) -> Option<i64> {
    value.pointer(pointer).and_then(Value::as_i64)
}

fn bool_at(value: &Value, pointer: &str) -> Option<bool> {
    value.pointer(pointer).and_then(Value::as_bool)
}

fn required(value: &Value, kind: Kind, pointers: &[&str], field: &'static str) -> Result<String> {
    first_str(value, pointers).ok_or(StoreError::MissingField {
        kind: kind.as_str(),
        field,
    })
}

/// Redacts and serialises the entity for the `json` column.
fn redacted_json(mut value: Value) -> Result<String> {
    redact_json(&mut value);
    Ok(serde_json::to_string(&value)?)
}

// ---- Prism Central --------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeClusterRecord {
    pub uuid: String,
    pub name: String,
    /// The Prism Central's own cluster entity (`service_list` contains `PRISM_CENTRAL`).
    pub is_prism_central: bool,
    pub aos_version: Option<String>,
    pub external_ip: Option<String>,
    pub is_available: Option<bool>,
    pub json: String,
}

impl PeClusterRecord {
    /// From a v3 `cluster_intent_resource`.
    pub fn from_v3(entity: Value) -> Result<Self> {
        let uuid = required(
            &entity,
            Kind::PeCluster,
            &["/metadata/uuid"],
            "metadata.uuid",
        )?;
        let services = entity.pointer("/status/resources/config/service_list");
        let is_prism_central = services.and_then(Value::as_array).is_some_and(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case("PRISM_CENTRAL"))
        });
        Ok(Self {
            name: first_str(&entity, &["/status/name", "/spec/name"]).unwrap_or_default(),
            is_prism_central,
            aos_version: str_at(&entity, "/status/resources/config/build/version"),
            external_ip: str_at(&entity, "/status/resources/network/external_ip"),
            is_available: bool_at(&entity, "/status/resources/config/is_available"),
            uuid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for PeClusterRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![
            &self.is_prism_central,
            &self.aos_version,
            &self.external_ip,
            &self.is_available,
        ]
    }
}
cache_record!(PeClusterRecord, Kind::PeCluster, uuid);

/// One IP pool range of a managed subnet (`"10.0.0.50 10.0.0.99"` in the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPool {
    pub first_ip: String,
    pub last_ip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetRecord {
    pub uuid: String,
    pub name: String,
    /// Owning PE for VLAN subnets; overlay subnets have none.
    pub cluster_uuid: Option<String>,
    /// `VLAN` or `OVERLAY`.
    pub subnet_type: Option<String>,
    pub vlan_id: Option<i64>,
    /// `subnet_ip/prefix_length`; none for an unmanaged network.
    pub cidr: Option<String>,
    pub gateway_ip: Option<String>,
    pub ip_pools: Vec<IpPool>,
    pub json: String,
}

impl SubnetRecord {
    /// From a v3 `subnet_intent_resource`.
    pub fn from_v3(entity: Value) -> Result<Self> {
        let uuid = required(&entity, Kind::Subnet, &["/metadata/uuid"], "metadata.uuid")?;
        let res = |field: &str| format!("/status/resources/{field}");
        let cidr = match (
            str_at(&entity, &res("ip_config/subnet_ip")),
            i64_at(&entity, &res("ip_config/prefix_length")),
        ) {
            (Some(ip), Some(prefix)) => Some(format!("{ip}/{prefix}")),
            _ => None,
        };
        let ip_pools = entity
            .pointer("/status/resources/ip_config/pool_list")
            .and_then(Value::as_array)
            .map(|pools| {
                pools
                    .iter()
                    .filter_map(|p| p.get("range").and_then(Value::as_str))
                    .filter_map(|range| {
                        let mut parts = range.split_whitespace();
                        let first = parts.next()?;
                        let last = parts.next().unwrap_or(first);
                        Some(IpPool {
                            first_ip: first.to_owned(),
                            last_ip: last.to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            name: first_str(&entity, &["/status/name", "/spec/name"]).unwrap_or_default(),
            cluster_uuid: first_str(
                &entity,
                &[
                    "/status/cluster_reference/uuid",
                    "/spec/cluster_reference/uuid",
                ],
            ),
            subnet_type: first_str(
                &entity,
                &[
                    "/status/resources/subnet_type",
                    "/spec/resources/subnet_type",
                ],
            ),
            vlan_id: i64_at(&entity, &res("vlan_id")),
            cidr,
            gateway_ip: str_at(&entity, &res("ip_config/default_gateway_ip")),
            ip_pools,
            uuid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for SubnetRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![
            &self.cluster_uuid,
            &self.subnet_type,
            &self.vlan_id,
            &self.cidr,
            &self.gateway_ip,
        ]
    }

    fn write_children(
        &self,
        tx: &rusqlite::Transaction<'_>,
        environment_id: &str,
    ) -> rusqlite::Result<()> {
        tx.prepare_cached(
            "DELETE FROM pc_subnet_pools WHERE environment_id = ?1 AND subnet_uuid = ?2",
        )?
        .execute((environment_id, &self.uuid))?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO pc_subnet_pools (environment_id, subnet_uuid, position, first_ip, last_ip) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (position, pool) in self.ip_pools.iter().enumerate() {
            insert.execute((
                environment_id,
                &self.uuid,
                position as i64,
                &pool.first_ip,
                &pool.last_ip,
            ))?;
        }
        Ok(())
    }
}
cache_record!(SubnetRecord, Kind::Subnet, uuid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub uuid: String,
    pub name: String,
    /// `DISK_IMAGE` or `ISO_IMAGE`.
    pub image_type: Option<String>,
    pub size_bytes: Option<i64>,
    /// `COMPLETE` when usable.
    pub state: Option<String>,
    pub json: String,
}

impl ImageRecord {
    /// From a v3 `image_intent_resource`.
    pub fn from_v3(entity: Value) -> Result<Self> {
        let uuid = required(&entity, Kind::Image, &["/metadata/uuid"], "metadata.uuid")?;
        Ok(Self {
            name: first_str(&entity, &["/status/name", "/spec/name"]).unwrap_or_default(),
            image_type: first_str(
                &entity,
                &["/status/resources/image_type", "/spec/resources/image_type"],
            ),
            size_bytes: i64_at(&entity, "/status/resources/size_bytes"),
            state: first_str(&entity, &["/status/state", "/status/resources/state"]),
            uuid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for ImageRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![&self.image_type, &self.size_bytes, &self.state]
    }
}
cache_record!(ImageRecord, Kind::Image, uuid);

/// One IP of one VM NIC. A NIC without any IP is one entry with `ip: None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmIp {
    pub nic_position: i64,
    pub subnet_uuid: Option<String>,
    pub mac_address: Option<String>,
    pub ip: Option<String>,
    /// `ASSIGNED` or `LEARNED` (a kube-vip VIP shows up as an extra `LEARNED` IP).
    pub ip_kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmRecord {
    pub uuid: String,
    pub name: String,
    /// The PE the VM runs on.
    pub cluster_uuid: Option<String>,
    pub host_uuid: Option<String>,
    pub project_uuid: Option<String>,
    /// `ON`, `OFF`, `PAUSED` or `UNKNOWN`.
    pub power_state: Option<String>,
    pub num_vcpus: Option<i64>,
    pub memory_mib: Option<i64>,
    pub ips: Vec<VmIp>,
    /// `metadata.categories` (CAPX sets `KubernetesClusterName`).
    pub categories: Vec<(String, String)>,
    pub json: String,
}

impl VmRecord {
    /// From a v3 `vm_intent_resource`. Reads `status` first (what is), then `spec`.
    pub fn from_v3(entity: Value) -> Result<Self> {
        let uuid = required(&entity, Kind::Vm, &["/metadata/uuid"], "metadata.uuid")?;
        let resources = entity
            .pointer("/status/resources")
            .or_else(|| entity.pointer("/spec/resources"));
        let res_i64 = |field: &str| resources.and_then(|r| r.get(field)).and_then(Value::as_i64);
        let num_vcpus = match (res_i64("num_sockets"), res_i64("num_vcpus_per_socket")) {
            (None, None) => None,
            (sockets, per_socket) => Some(sockets.unwrap_or(1) * per_socket.unwrap_or(1)),
        };
        let mut ips = Vec::new();
        let nics = resources
            .and_then(|r| r.get("nic_list"))
            .and_then(Value::as_array);
        for (position, nic) in nics.into_iter().flatten().enumerate() {
            let subnet_uuid = str_at(nic, "/subnet_reference/uuid");
            let mac_address = str_at(nic, "/mac_address");
            let endpoints = nic.get("ip_endpoint_list").and_then(Value::as_array);
            let before = ips.len();
            for endpoint in endpoints.into_iter().flatten() {
                if let Some(ip) = str_at(endpoint, "/ip") {
                    ips.push(VmIp {
                        nic_position: position as i64,
                        subnet_uuid: subnet_uuid.clone(),
                        mac_address: mac_address.clone(),
                        ip: Some(ip),
                        ip_kind: str_at(endpoint, "/type"),
                    });
                }
            }
            if ips.len() == before {
                ips.push(VmIp {
                    nic_position: position as i64,
                    subnet_uuid,
                    mac_address,
                    ip: None,
                    ip_kind: None,
                });
            }
        }
        let categories = entity
            .pointer("/metadata/categories")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            name: first_str(&entity, &["/status/name", "/spec/name"]).unwrap_or_default(),
            cluster_uuid: first_str(
                &entity,
                &[
                    "/status/cluster_reference/uuid",
                    "/spec/cluster_reference/uuid",
                ],
            ),
            host_uuid: resources.and_then(|r| str_at(r, "/host_reference/uuid")),
            project_uuid: str_at(&entity, "/metadata/project_reference/uuid"),
            power_state: resources.and_then(|r| str_at(r, "/power_state")),
            num_vcpus,
            memory_mib: res_i64("memory_size_mib"),
            ips,
            categories,
            uuid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for VmRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![
            &self.cluster_uuid,
            &self.host_uuid,
            &self.project_uuid,
            &self.power_state,
            &self.num_vcpus,
            &self.memory_mib,
        ]
    }

    fn write_children(
        &self,
        tx: &rusqlite::Transaction<'_>,
        environment_id: &str,
    ) -> rusqlite::Result<()> {
        tx.prepare_cached("DELETE FROM pc_vm_ips WHERE environment_id = ?1 AND vm_uuid = ?2")?
            .execute((environment_id, &self.uuid))?;
        tx.prepare_cached(
            "DELETE FROM pc_vm_categories WHERE environment_id = ?1 AND vm_uuid = ?2",
        )?
        .execute((environment_id, &self.uuid))?;
        let mut insert_ip = tx.prepare_cached(
            "INSERT INTO pc_vm_ips (environment_id, vm_uuid, position, nic_position, \
             subnet_uuid, mac_address, ip, ip_kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (position, ip) in self.ips.iter().enumerate() {
            insert_ip.execute((
                environment_id,
                &self.uuid,
                position as i64,
                ip.nic_position,
                &ip.subnet_uuid,
                &ip.mac_address,
                &ip.ip,
                &ip.ip_kind,
            ))?;
        }
        let mut insert_category = tx.prepare_cached(
            "INSERT OR REPLACE INTO pc_vm_categories (environment_id, vm_uuid, key, value) \
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (key, value) in &self.categories {
            insert_category.execute((environment_id, &self.uuid, key, value))?;
        }
        Ok(())
    }
}
cache_record!(VmRecord, Kind::Vm, uuid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRecord {
    pub uuid: String,
    pub name: String,
    pub cluster_uuid: Option<String>,
    pub cvm_ip: Option<String>,
    pub hypervisor_ip: Option<String>,
    pub json: String,
}

impl HostRecord {
    /// From a v3 `host_intent_resource`.
    pub fn from_v3(entity: Value) -> Result<Self> {
        let uuid = required(&entity, Kind::Host, &["/metadata/uuid"], "metadata.uuid")?;
        Ok(Self {
            name: first_str(&entity, &["/status/name", "/spec/name"]).unwrap_or_default(),
            cluster_uuid: first_str(
                &entity,
                &[
                    "/status/cluster_reference/uuid",
                    "/spec/cluster_reference/uuid",
                ],
            ),
            cvm_ip: str_at(&entity, "/status/resources/controller_vm/ip"),
            hypervisor_ip: str_at(&entity, "/status/resources/hypervisor/ip"),
            uuid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for HostRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![&self.cluster_uuid, &self.cvm_ip, &self.hypervisor_ip]
    }
}
cache_record!(HostRecord, Kind::Host, uuid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRecord {
    pub uuid: String,
    pub name: String,
    pub is_default: bool,
    pub json: String,
}

impl ProjectRecord {
    /// From a v3 `project_intent_resource`.
    pub fn from_v3(entity: Value) -> Result<Self> {
        let uuid = required(&entity, Kind::Project, &["/metadata/uuid"], "metadata.uuid")?;
        Ok(Self {
            name: first_str(&entity, &["/spec/name", "/status/name"]).unwrap_or_default(),
            is_default: bool_at(&entity, "/status/resources/is_default")
                .or_else(|| bool_at(&entity, "/spec/resources/is_default"))
                .unwrap_or(false),
            uuid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for ProjectRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![&self.is_default]
    }
}
cache_record!(ProjectRecord, Kind::Project, uuid);

// ---- Palette -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudTypeRecord {
    /// Cloud types are keyed by name (`nutanix`).
    pub uid: String,
    pub name: String,
    pub is_custom: bool,
    pub json: String,
}

impl CloudTypeRecord {
    /// From a `v1CustomCloudType` (`GET /v1/clouds/cloudTypes` → `cloudTypes[]`).
    pub fn from_palette(entity: Value) -> Result<Self> {
        let uid = required(
            &entity,
            Kind::CloudType,
            &["/name", "/metadata/name"],
            "name",
        )?;
        Ok(Self {
            name: first_str(&entity, &["/displayName"]).unwrap_or_else(|| uid.clone()),
            is_custom: bool_at(&entity, "/isCustom").unwrap_or(false),
            uid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for CloudTypeRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![&self.is_custom]
    }
}
cache_record!(CloudTypeRecord, Kind::CloudType, uid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcgRecord {
    pub uid: String,
    pub name: String,
    /// `Pending` → `Running`.
    pub state: Option<String>,
    pub is_self_hosted: bool,
    pub json: String,
}

impl PcgRecord {
    /// From a `v1Overlord`.
    pub fn from_palette(entity: Value) -> Result<Self> {
        let uid = required(&entity, Kind::Pcg, &["/metadata/uid"], "metadata.uid")?;
        Ok(Self {
            name: str_at(&entity, "/metadata/name").unwrap_or_default(),
            state: str_at(&entity, "/status/state"),
            is_self_hosted: bool_at(&entity, "/spec/isSelfHosted").unwrap_or(false),
            uid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for PcgRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![&self.state, &self.is_self_hosted]
    }
}
cache_record!(PcgRecord, Kind::Pcg, uid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudAccountRecord {
    pub uid: String,
    pub name: String,
    pub cloud_type: Option<String>,
    pub pcg_uid: Option<String>,
    pub state: Option<String>,
    /// Redacted: `spec.credentials.NUTANIX_PASSWORD` (and anything password-like) is `***`.
    pub json: String,
}

impl CloudAccountRecord {
    /// From a `v1CustomAccount`.
    pub fn from_palette(entity: Value) -> Result<Self> {
        let uid = required(
            &entity,
            Kind::CloudAccount,
            &["/metadata/uid"],
            "metadata.uid",
        )?;
        Ok(Self {
            name: str_at(&entity, "/metadata/name").unwrap_or_default(),
            cloud_type: str_at(&entity, "/kind"),
            pcg_uid: str_at(&entity, "/metadata/annotations/overlordUid"),
            state: str_at(&entity, "/status/state"),
            uid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for CloudAccountRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![&self.cloud_type, &self.pcg_uid, &self.state]
    }
}
cache_record!(CloudAccountRecord, Kind::CloudAccount, uid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub uid: String,
    pub name: String,
    pub version: Option<String>,
    pub cloud_type: Option<String>,
    /// `cluster`, `infra`, `add-on` or `system`.
    pub profile_type: Option<String>,
    pub is_published: bool,
    pub json: String,
}

impl ProfileRecord {
    /// From a `v1ClusterProfile`.
    pub fn from_palette(entity: Value) -> Result<Self> {
        let uid = required(&entity, Kind::Profile, &["/metadata/uid"], "metadata.uid")?;
        Ok(Self {
            name: str_at(&entity, "/metadata/name").unwrap_or_default(),
            version: str_at(&entity, "/spec/version"),
            cloud_type: first_str(
                &entity,
                &[
                    "/spec/published/cloudType",
                    "/spec/draft/cloudType",
                    "/spec/template/cloudType",
                ],
            ),
            profile_type: first_str(
                &entity,
                &[
                    "/spec/published/type",
                    "/spec/draft/type",
                    "/spec/template/type",
                ],
            ),
            is_published: bool_at(&entity, "/status/isPublished").unwrap_or(false),
            uid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for ProfileRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![
            &self.version,
            &self.cloud_type,
            &self.profile_type,
            &self.is_published,
        ]
    }
}
cache_record!(ProfileRecord, Kind::Profile, uid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaletteClusterRecord {
    pub uid: String,
    pub name: String,
    pub cloud_type: Option<String>,
    pub cloud_account_uid: Option<String>,
    /// `spec.cloudConfigRef.uid`, the key for pool and node calls.
    pub cloud_config_uid: Option<String>,
    /// `status.state`: `Pending`, `Provisioning`, `Running`, `Deleting`, ...
    pub state: Option<String>,
    /// From the overview call (`Healthy`, ...); not part of `v1SpectroCluster`.
    pub health_state: Option<String>,
    pub json: String,
}

impl PaletteClusterRecord {
    /// From a `v1SpectroCluster`. `health_state` is read when the JSON carries the
    /// overview's `status.health.state`, else left empty for the caller to fill.
    pub fn from_palette(entity: Value) -> Result<Self> {
        let uid = required(
            &entity,
            Kind::PaletteCluster,
            &["/metadata/uid"],
            "metadata.uid",
        )?;
        Ok(Self {
            name: str_at(&entity, "/metadata/name").unwrap_or_default(),
            cloud_type: str_at(&entity, "/spec/cloudType"),
            cloud_account_uid: first_str(
                &entity,
                &[
                    "/spec/cloudAccountUid",
                    "/spec/cloudConfig/spec/cloudAccountRef/uid",
                ],
            ),
            cloud_config_uid: str_at(&entity, "/spec/cloudConfigRef/uid"),
            state: str_at(&entity, "/status/state"),
            health_state: str_at(&entity, "/status/health/state"),
            uid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for PaletteClusterRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![
            &self.cloud_type,
            &self.cloud_account_uid,
            &self.cloud_config_uid,
            &self.state,
            &self.health_state,
        ]
    }
}
cache_record!(PaletteClusterRecord, Kind::PaletteCluster, uid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachinePoolRecord {
    /// Pools have no uid in Palette: `<cluster uid>/<pool name>`.
    pub uid: String,
    pub name: String,
    pub cluster_uid: String,
    pub is_control_plane: bool,
    pub size: Option<i64>,
    pub json: String,
}

impl MachinePoolRecord {
    pub fn pool_uid(cluster_uid: &str, pool_name: &str) -> String {
        format!("{cluster_uid}/{pool_name}")
    }

    /// From one `spec.machinePoolConfig[]` entry of a `v1CustomCloudConfig`.
    pub fn from_palette(cluster_uid: &str, entity: Value) -> Result<Self> {
        let name = required(&entity, Kind::MachinePool, &["/name"], "name")?;
        Ok(Self {
            uid: Self::pool_uid(cluster_uid, &name),
            cluster_uid: cluster_uid.to_owned(),
            is_control_plane: bool_at(&entity, "/isControlPlane").unwrap_or(false),
            size: i64_at(&entity, "/size"),
            name,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for MachinePoolRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![&self.cluster_uid, &self.is_control_plane, &self.size]
    }
}
cache_record!(MachinePoolRecord, Kind::MachinePool, uid);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub uid: String,
    pub name: String,
    pub cluster_uid: Option<String>,
    pub pool_name: Option<String>,
    /// `Pending`, `Provisioning`, `Running`, `Deleting`, `Failed`, ...
    pub instance_state: Option<String>,
    pub health_state: Option<String>,
    /// First `InternalIP` address.
    pub ip: Option<String>,
    pub json: String,
}

impl NodeRecord {
    /// From a `v1CustomMachine` of `.../machinePools/{pool}/machines`.
    pub fn from_palette(cluster_uid: &str, pool_name: &str, entity: Value) -> Result<Self> {
        let uid = required(&entity, Kind::Node, &["/metadata/uid"], "metadata.uid")?;
        let internal_ip = entity
            .pointer("/status/addresses")
            .and_then(Value::as_array)
            .and_then(|addresses| {
                addresses
                    .iter()
                    .find(|a| a.get("type").and_then(Value::as_str) == Some("InternalIP"))
                    .and_then(|a| str_at(a, "/address"))
            })
            .or_else(|| str_at(&entity, "/spec/nics/0/privateIPs/0"));
        Ok(Self {
            name: first_str(&entity, &["/metadata/name", "/spec/hostName"]).unwrap_or_default(),
            cluster_uid: Some(cluster_uid.to_owned()),
            pool_name: Some(pool_name.to_owned()),
            instance_state: str_at(&entity, "/status/instanceState"),
            health_state: str_at(&entity, "/status/health/state"),
            ip: internal_ip,
            uid,
            json: redacted_json(entity)?,
        })
    }
}

impl private::Write for NodeRecord {
    fn columns(&self) -> Vec<&dyn rusqlite::ToSql> {
        vec![
            &self.cluster_uid,
            &self.pool_name,
            &self.instance_state,
            &self.health_state,
            &self.ip,
        ]
    }
}
cache_record!(NodeRecord, Kind::Node, uid);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kind_names_round_trip_and_specs_match_the_record_columns() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("nope"), None);
        for kind in Kind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        let vm = VmRecord::from_v3(json!({"metadata": {"uuid": "u"}})).unwrap();
        assert_eq!(
            private::Write::columns(&vm).len(),
            Kind::Vm.spec().columns.len()
        );
        let node = NodeRecord::from_palette("c", "p", json!({"metadata": {"uid": "n"}})).unwrap();
        assert_eq!(
            private::Write::columns(&node).len(),
            Kind::Node.spec().columns.len()
        );
    }

    #[test]
    fn vm_from_v3_reads_status_nics_ips_and_categories() {
        let vm = VmRecord::from_v3(json!({
            "metadata": {"uuid": "vm-1", "categories": {"KubernetesClusterName": "dev"},
                          "project_reference": {"kind": "project", "uuid": "p-1"}},
            "spec": {"name": "spec-name"},
            "status": {
                "name": "cp-0", "cluster_reference": {"uuid": "pe-1"},
                "resources": {
                    "power_state": "ON", "num_sockets": 2, "num_vcpus_per_socket": 2,
                    "memory_size_mib": 8192, "host_reference": {"uuid": "h-1"},
                    "guest_customization": {"cloud_init": {"user_data": "c2VjcmV0LXRva2Vu"}},
                    "nic_list": [
                        {"mac_address": "50:6b:8d:00:00:01", "subnet_reference": {"uuid": "s-1"},
                         "ip_endpoint_list": [{"ip": "10.0.0.11", "type": "ASSIGNED"},
                                              {"ip": "10.0.0.5", "type": "LEARNED"}]},
                        {"subnet_reference": {"uuid": "s-2"}}
                    ]
                }
            }
        }))
        .unwrap();
        assert_eq!(vm.name, "cp-0");
        assert_eq!(vm.cluster_uuid.as_deref(), Some("pe-1"));
        assert_eq!(vm.power_state.as_deref(), Some("ON"));
        assert_eq!(vm.num_vcpus, Some(4));
        assert_eq!(vm.ips.len(), 3);
        assert_eq!(vm.ips[1].ip_kind.as_deref(), Some("LEARNED"));
        assert_eq!(vm.ips[2].ip, None);
        assert_eq!(vm.ips[2].subnet_uuid.as_deref(), Some("s-2"));
        assert_eq!(
            vm.categories,
            vec![("KubernetesClusterName".into(), "dev".into())]
        );
        assert!(!vm.json.contains("c2VjcmV0LXRva2Vu"), "{}", vm.json);
    }

    #[test]
    fn a_missing_uuid_is_a_typed_error() {
        let err = VmRecord::from_v3(json!({"status": {"name": "x"}})).unwrap_err();
        assert_eq!(err.code(), "store_missing_field");
    }

    #[test]
    fn subnet_pools_and_cloud_account_credentials() {
        let subnet = SubnetRecord::from_v3(json!({
            "metadata": {"uuid": "s-1"},
            "status": {"name": "vlan0", "cluster_reference": {"uuid": "pe-1"},
                        "resources": {"subnet_type": "VLAN", "vlan_id": 0,
                                      "ip_config": {"subnet_ip": "10.0.0.0", "prefix_length": 24,
                                                    "default_gateway_ip": "10.0.0.1",
                                                    "pool_list": [{"range": "10.0.0.50 10.0.0.99"}]}}}
        }))
        .unwrap();
        assert_eq!(subnet.cidr.as_deref(), Some("10.0.0.0/24"));
        assert_eq!(
            subnet.ip_pools,
            vec![IpPool {
                first_ip: "10.0.0.50".into(),
                last_ip: "10.0.0.99".into()
            }]
        );
        let account = CloudAccountRecord::from_palette(json!({
            "kind": "nutanix",
            "metadata": {"uid": "a-1", "name": "prod", "annotations": {"overlordUid": "pcg-1"}},
            "spec": {"credentials": {"NUTANIX_USER": "admin", "NUTANIX_PASSWORD": "hunter2"}}
        }))
        .unwrap();
        assert_eq!(account.pcg_uid.as_deref(), Some("pcg-1"));
        assert!(!account.json.contains("hunter2"));
        assert!(account.json.contains("admin"));
    }
}
