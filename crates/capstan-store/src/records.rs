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

use crate::entity::RedactedJson;
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
    /// Where the JSON lives when not in the table's own `json` column: a table with
    /// `(environment_id, <key>, json)` (VMs, see schema version 3).
    pub(crate) json_table: Option<&'static str>,
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
                json_table: None,
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
        static VM: KindSpec = KindSpec {
            json_table: Some("pc_vm_json"),
            ..spec(
                "pc_vms",
                "uuid",
                &[
                    "cluster_uuid",
                    "host_uuid",
                    "project_uuid",
                    "power_state",
                    "num_vcpus",
                    "memory_mib",
                    "image_uuids",
                ],
                Some("cluster_uuid"),
                Some("power_state"),
            )
        };
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
        /// Kind-specific columns computed for the write, after [`Write::columns`] in
        /// `KindSpec::columns` order.
        fn computed_columns(&self) -> Vec<rusqlite::types::Value> {
            Vec::new()
        }
        /// Feeds the child rows into the content hash, so a change in how they are read
        /// from the JSON (a newer Capstan) rewrites them too.
        fn hash_children(&self, _hasher: &mut std::hash::DefaultHasher) {}
        /// Writes child rows (VM NICs/IPs and categories, subnet pools). The parent row
        /// already exists; `replace` says whether it existed before this write (then its old
        /// child rows are removed first).
        fn write_children(
            &self,
            _tx: &Transaction<'_>,
            _environment_id: &str,
            _replace: bool,
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

    fn hash_children(&self, hasher: &mut std::hash::DefaultHasher) {
        std::hash::Hash::hash(&self.ip_pools, hasher);
    }

    fn write_children(
        &self,
        tx: &rusqlite::Transaction<'_>,
        environment_id: &str,
        replace: bool,
    ) -> rusqlite::Result<()> {
        if replace {
            tx.prepare_cached(
                "DELETE FROM pc_subnet_pools WHERE environment_id = ?1 AND subnet_uuid = ?2",
            )?
            .execute((environment_id, &self.uuid))?;
        }
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// `metadata.categories` with string values, by key (CAPX sets `KubernetesClusterName`).
    pub categories: Vec<(String, String)>,
    /// Images the VM's disks were cloned from (`disk_list[].data_source_reference` of kind
    /// `image`), in disk order.
    #[serde(default)]
    pub image_uuids: Vec<String>,
    pub json: String,
}

impl VmRecord {
    /// From a v3 `vm_intent_resource`. Reads `status` first (what is), then `spec`.
    pub fn from_v3(entity: Value) -> Result<Self> {
        let facts = v3::Obj::<v3::Vm>::deserialize(&entity)?;
        Self::from_facts(facts.value.unwrap_or_default(), redacted_json(entity)?)
    }

    /// From an entity that was redacted while the API response was parsed (see
    /// [`RedactedJson`]): the same record as [`VmRecord::from_v3`] without a `Value` tree.
    /// The one difference: a category whose key looks like a secret keeps `***` as its value
    /// here.
    pub fn from_redacted(entity: RedactedJson) -> Result<Self> {
        let facts: v3::Obj<v3::Vm> = serde_json::from_str(entity.as_str())?;
        Self::from_facts(facts.value.unwrap_or_default(), entity.into_string())
    }

    fn from_facts(vm: v3::Vm, json: String) -> Result<Self> {
        let metadata = vm.metadata.value.unwrap_or_default();
        let uuid = metadata.uuid.non_empty().ok_or(StoreError::MissingField {
            kind: Kind::Vm.as_str(),
            field: "metadata.uuid",
        })?;
        let status = vm.status.value.unwrap_or_default();
        let spec = vm.spec.value.unwrap_or_default();
        // Like `pointer("/status/resources")`: a `resources` that is there but not an object
        // still wins over the spec's.
        let resources = if status.resources.present {
            status.resources.value
        } else {
            spec.resources.value
        }
        .unwrap_or_default();
        let num_vcpus = match (resources.num_sockets.0, resources.num_vcpus_per_socket.0) {
            (None, None) => None,
            (sockets, per_socket) => {
                Some(sockets.unwrap_or(1).saturating_mul(per_socket.unwrap_or(1)))
            }
        };
        let mut ips = Vec::new();
        for (position, nic) in resources.nic_list.0.into_iter().enumerate() {
            let nic = nic.value.unwrap_or_default();
            let subnet_uuid = nic.subnet_reference.value.and_then(|r| r.uuid.non_empty());
            let mac_address = nic.mac_address.non_empty();
            let before = ips.len();
            for endpoint in nic.ip_endpoint_list.0 {
                let endpoint = endpoint.value.unwrap_or_default();
                if let Some(ip) = endpoint.ip.non_empty() {
                    ips.push(VmIp {
                        nic_position: position as i64,
                        subnet_uuid: subnet_uuid.clone(),
                        mac_address: mac_address.clone(),
                        ip: Some(ip),
                        ip_kind: endpoint.kind.non_empty(),
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
        let image_uuids = resources
            .disk_list
            .0
            .into_iter()
            .filter_map(|disk| disk.value?.data_source_reference.value)
            .filter(|source| source.kind.0.as_deref() == Some("image"))
            .filter_map(|source| source.uuid.non_empty())
            .collect();
        Ok(Self {
            name: status
                .name
                .non_empty()
                .or_else(|| spec.name.non_empty())
                .unwrap_or_default(),
            cluster_uuid: status
                .cluster_reference
                .value
                .and_then(|r| r.uuid.non_empty())
                .or_else(|| {
                    spec.cluster_reference
                        .value
                        .and_then(|r| r.uuid.non_empty())
                }),
            host_uuid: resources
                .host_reference
                .value
                .and_then(|r| r.uuid.non_empty()),
            project_uuid: metadata
                .project_reference
                .value
                .and_then(|r| r.uuid.non_empty()),
            power_state: resources.power_state.non_empty(),
            num_vcpus,
            memory_mib: resources.memory_size_mib.0,
            ips,
            categories: metadata
                .categories
                .value
                .map(|c| c.0.into_iter().collect())
                .unwrap_or_default(),
            image_uuids,
            uuid,
            json,
        })
    }
}

/// The parts of a v3 VM the record reads, deserialised leniently: a field of the wrong JSON
/// type reads as absent, as `Value::pointer(..).and_then(Value::as_str)` would, never as an
/// error. Unknown fields are skipped without being kept.
mod v3 {
    use std::collections::BTreeMap;
    use std::fmt;
    use std::marker::PhantomData;

    use serde::Deserialize;
    use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Vm {
        pub metadata: Obj<Metadata>,
        pub spec: Obj<Part>,
        pub status: Obj<Part>,
    }

    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Metadata {
        pub uuid: Str,
        pub categories: Obj<Categories>,
        pub project_reference: Obj<Reference>,
    }

    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Part {
        pub name: Str,
        pub cluster_reference: Obj<Reference>,
        pub resources: Obj<Resources>,
    }

    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Reference {
        pub kind: Str,
        pub uuid: Str,
    }

    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Resources {
        pub power_state: Str,
        pub num_sockets: Int,
        pub num_vcpus_per_socket: Int,
        pub memory_size_mib: Int,
        pub host_reference: Obj<Reference>,
        pub nic_list: Arr<Nic>,
        pub disk_list: Arr<Disk>,
    }

    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Nic {
        pub mac_address: Str,
        pub subnet_reference: Obj<Reference>,
        pub ip_endpoint_list: Arr<Endpoint>,
    }

    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Endpoint {
        pub ip: Str,
        #[serde(rename = "type")]
        pub kind: Str,
    }

    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Disk {
        pub data_source_reference: Obj<Reference>,
    }

    /// Reads and drops whatever compound value a lenient reader did not want.
    fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// A string, or nothing when the value is of another type.
    #[derive(Default)]
    pub(super) struct Str(pub Option<String>);

    impl Str {
        /// Like the `Value` helpers: an empty string counts as absent.
        pub fn non_empty(self) -> Option<String> {
            self.0.filter(|s| !s.is_empty())
        }
    }

    impl<'de> Deserialize<'de> for Str {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Str;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Str, E> {
                    Ok(Str(Some(v.to_owned())))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<Str, E> {
                    Ok(Str(Some(v)))
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> Result<Str, E> {
                    Ok(Str(None))
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> Result<Str, E> {
                    Ok(Str(None))
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> Result<Str, E> {
                    Ok(Str(None))
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> Result<Str, E> {
                    Ok(Str(None))
                }
                fn visit_unit<E: de::Error>(self) -> Result<Str, E> {
                    Ok(Str(None))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Str, A::Error> {
                    drain_seq(seq).map(|()| Str(None))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Str, A::Error> {
                    drain_map(map).map(|()| Str(None))
                }
            }
            d.deserialize_any(V)
        }
    }

    /// An integer that fits an `i64`, or nothing (floats, strings, ...).
    #[derive(Default)]
    pub(super) struct Int(pub Option<i64>);

    impl<'de> Deserialize<'de> for Int {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Int;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                    Ok(Int(Some(v)))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                    Ok(Int(i64::try_from(v).ok()))
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> Result<Int, E> {
                    Ok(Int(None))
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> Result<Int, E> {
                    Ok(Int(None))
                }
                fn visit_str<E: de::Error>(self, _: &str) -> Result<Int, E> {
                    Ok(Int(None))
                }
                fn visit_unit<E: de::Error>(self) -> Result<Int, E> {
                    Ok(Int(None))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Int, A::Error> {
                    drain_seq(seq).map(|()| Int(None))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Int, A::Error> {
                    drain_map(map).map(|()| Int(None))
                }
            }
            d.deserialize_any(V)
        }
    }

    /// An object read as `T`; `present` tells a field that is there but not an object apart
    /// from a missing one.
    pub(super) struct Obj<T> {
        pub present: bool,
        pub value: Option<T>,
    }

    impl<T> Default for Obj<T> {
        fn default() -> Self {
            Self {
                present: false,
                value: None,
            }
        }
    }

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<T>(PhantomData<T>);
            fn other<T>() -> Obj<T> {
                Obj {
                    present: true,
                    value: None,
                }
            }
            impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
                type Value = Obj<T>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                    Ok(Obj {
                        present: true,
                        value: Some(T::deserialize(MapAccessDeserializer::new(map))?),
                    })
                }
                fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Obj<T>, A::Error> {
                    drain_seq(seq).map(|()| other())
                }
                fn visit_str<E: de::Error>(self, _: &str) -> Result<Obj<T>, E> {
                    Ok(other())
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> Result<Obj<T>, E> {
                    Ok(other())
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> Result<Obj<T>, E> {
                    Ok(other())
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> Result<Obj<T>, E> {
                    Ok(other())
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> Result<Obj<T>, E> {
                    Ok(other())
                }
                fn visit_unit<E: de::Error>(self) -> Result<Obj<T>, E> {
                    Ok(other())
                }
            }
            d.deserialize_any(V(PhantomData))
        }
    }

    /// An array of objects read as `T`, in order; an element that is not an object counts
    /// as an empty one (it still takes a position). Not an array: empty.
    pub(super) struct Arr<T>(pub Vec<Obj<T>>);

    impl<T> Default for Arr<T> {
        fn default() -> Self {
            Self(Vec::new())
        }
    }

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Arr<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<T>(PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
                type Value = Arr<T>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Arr<T>, A::Error> {
                    Ok(Arr(Vec::deserialize(SeqAccessDeserializer::new(seq))?))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Arr<T>, A::Error> {
                    drain_map(map).map(|()| Arr::default())
                }
                fn visit_str<E: de::Error>(self, _: &str) -> Result<Arr<T>, E> {
                    Ok(Arr::default())
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> Result<Arr<T>, E> {
                    Ok(Arr::default())
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> Result<Arr<T>, E> {
                    Ok(Arr::default())
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> Result<Arr<T>, E> {
                    Ok(Arr::default())
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> Result<Arr<T>, E> {
                    Ok(Arr::default())
                }
                fn visit_unit<E: de::Error>(self) -> Result<Arr<T>, E> {
                    Ok(Arr::default())
                }
            }
            d.deserialize_any(V(PhantomData))
        }
    }

    /// `metadata.categories`: the entries with string values, by key (a repeated key keeps
    /// its last value, as a parsed `Value` would).
    #[derive(Default)]
    pub(super) struct Categories(pub BTreeMap<String, String>);

    impl<'de> Deserialize<'de> for Categories {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Categories;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a map of categories")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Categories, A::Error> {
                    let mut out = BTreeMap::new();
                    while let Some(key) = map.next_key::<String>()? {
                        match map.next_value::<Str>()?.0 {
                            Some(value) => {
                                out.insert(key, value);
                            }
                            None => {
                                out.remove(&key);
                            }
                        }
                    }
                    Ok(Categories(out))
                }
            }
            d.deserialize_map(V)
        }
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

    fn computed_columns(&self) -> Vec<rusqlite::types::Value> {
        let images = if self.image_uuids.is_empty() {
            rusqlite::types::Value::Null
        } else {
            // A JSON array of plain strings cannot fail to encode.
            rusqlite::types::Value::Text(
                serde_json::to_string(&self.image_uuids).unwrap_or_default(),
            )
        };
        vec![images]
    }

    fn hash_children(&self, hasher: &mut std::hash::DefaultHasher) {
        std::hash::Hash::hash(&self.ips, hasher);
        std::hash::Hash::hash(&self.categories, hasher);
    }

    fn write_children(
        &self,
        tx: &rusqlite::Transaction<'_>,
        environment_id: &str,
        replace: bool,
    ) -> rusqlite::Result<()> {
        if replace {
            tx.prepare_cached("DELETE FROM pc_vm_ips WHERE environment_id = ?1 AND vm_uuid = ?2")?
                .execute((environment_id, &self.uuid))?;
            tx.prepare_cached(
                "DELETE FROM pc_vm_categories WHERE environment_id = ?1 AND vm_uuid = ?2",
            )?
            .execute((environment_id, &self.uuid))?;
        }
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
        // An upsert rather than INSERT OR REPLACE: REPLACE takes SQLite's slow delete-then-
        // insert path on every row (measured: ~100 ms of a 25,000-VM cold write), while a repeated key
        // (only possible in a hand-built record) is rare.
        let mut insert_category = tx.prepare_cached(
            "INSERT INTO pc_vm_categories (environment_id, vm_uuid, key, value) \
             VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (environment_id, vm_uuid, key) DO UPDATE SET value = excluded.value",
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
            private::Write::columns(&vm).len() + private::Write::computed_columns(&vm).len(),
            Kind::Vm.spec().columns.len()
        );
        let node = NodeRecord::from_palette("c", "p", json!({"metadata": {"uid": "n"}})).unwrap();
        assert_eq!(
            private::Write::columns(&node).len() + private::Write::computed_columns(&node).len(),
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
    fn the_streaming_route_reads_the_same_vm_as_the_value_route() {
        let entities = [
            json!({
                "metadata": {"uuid": "vm-1", "categories": {"KubernetesClusterName": "dev", "Env": "prod", "Odd": 7},
                              "project_reference": {"uuid": "p-1"}},
                "spec": {"name": "spec-name", "cluster_reference": {"uuid": "pe-spec"}},
                "status": {"name": "cp-0", "cluster_reference": {"uuid": "pe-1"},
                    "resources": {"power_state": "ON", "num_sockets": 2, "num_vcpus_per_socket": 3,
                        "memory_size_mib": 8192, "host_reference": {"uuid": "h-1"},
                        "guest_customization": {"cloud_init": {"user_data": "c2VjcmV0"}},
                        "disk_list": [
                            {"data_source_reference": {"kind": "image", "uuid": "img-1"}},
                            {"data_source_reference": {"kind": "vm_snapshot", "uuid": "snap-1"}},
                            {"device_properties": {"device_type": "CDROM"}},
                            {"data_source_reference": {"kind": "image", "uuid": "img-2"}}
                        ],
                        "nic_list": [
                            {"mac_address": "50:6b:8d:00:00:01", "subnet_reference": {"uuid": "s-1"},
                             "ip_endpoint_list": [{"ip": "10.0.0.11", "type": "ASSIGNED"},
                                                  {"ip": "10.0.0.5", "type": "LEARNED"}, {"ip": ""}]},
                            "not an object",
                            {"subnet_reference": {"uuid": "s-2"}, "ip_endpoint_list": "nope"}
                        ]}}
            }),
            // Only a spec; odd types where strings and numbers are expected.
            json!({
                "metadata": {"uuid": "vm-2", "categories": null, "project_reference": "p"},
                "spec": {"name": "only-spec", "cluster_reference": {"uuid": "pe-2"},
                    "resources": {"power_state": 1, "num_vcpus_per_socket": 4, "memory_size_mib": 1.5,
                                  "nic_list": {"x": 1}, "disk_list": [1, null]}},
                "status": {"name": ""}
            }),
            // A `resources` that is there but null wins over the spec's, as a pointer would.
            json!({
                "metadata": {"uuid": "vm-3"},
                "spec": {"resources": {"power_state": "ON"}},
                "status": {"resources": null, "name": 42}
            }),
        ];
        let mut read = Vec::new();
        for entity in entities {
            let text = serde_json::to_string(&entity).unwrap();
            let via_value = VmRecord::from_v3(entity).unwrap();
            read.push(via_value.clone());
            let streamed: RedactedJson = serde_json::from_str(&text).unwrap();
            let streamed = VmRecord::from_redacted(streamed).unwrap();
            let as_value = |json: &str| serde_json::from_str::<Value>(json).unwrap();
            assert_eq!(as_value(&streamed.json), as_value(&via_value.json));
            assert_eq!(
                VmRecord {
                    json: String::new(),
                    ..streamed
                },
                VmRecord {
                    json: String::new(),
                    ..via_value
                },
                "{text}"
            );
        }
        // What both routes agree on is right, not just equal.
        let vm = &read[0];
        assert_eq!(vm.name, "cp-0");
        assert_eq!(vm.cluster_uuid.as_deref(), Some("pe-1"));
        assert_eq!(vm.num_vcpus, Some(6));
        assert_eq!(vm.image_uuids, ["img-1", "img-2"]);
        assert_eq!(
            vm.categories,
            [
                ("Env".to_owned(), "prod".to_owned()),
                ("KubernetesClusterName".to_owned(), "dev".to_owned())
            ]
        );
        let ips: Vec<_> = vm
            .ips
            .iter()
            .map(|i| (i.nic_position, i.ip.as_deref()))
            .collect();
        assert_eq!(
            ips,
            [
                (0, Some("10.0.0.11")),
                (0, Some("10.0.0.5")),
                (1, None),
                (2, None)
            ]
        );
        assert!(!vm.json.contains("c2VjcmV0"));
        let vm = &read[1];
        assert_eq!(
            (
                vm.name.as_str(),
                vm.cluster_uuid.as_deref(),
                vm.power_state.as_deref()
            ),
            ("only-spec", Some("pe-2"), None)
        );
        assert_eq!(
            (vm.num_vcpus, vm.memory_mib, vm.project_uuid.as_deref()),
            (Some(4), None, None)
        );
        assert!(vm.ips.is_empty() && vm.image_uuids.is_empty() && vm.categories.is_empty());
        assert_eq!(
            (read[2].name.as_str(), read[2].power_state.as_deref()),
            ("", None)
        );

        let vm = VmRecord::from_redacted(
            serde_json::from_str(r#"{"metadata":{"uuid":"u"},"status":{"resources":{"num_sockets":2,"disk_list":[{"data_source_reference":{"kind":"image","uuid":"img-1"}}]}}}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(vm.num_vcpus, Some(2));
        assert_eq!(vm.image_uuids, ["img-1"]);
        let err = VmRecord::from_redacted(serde_json::from_str("[1]").unwrap()).unwrap_err();
        assert_eq!(err.code(), "store_missing_field");
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
