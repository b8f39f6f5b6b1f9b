//! What the preflight takes (the deploy choices), how it runs (options) and what it returns
//! (the report). Everything serialises in camelCase for the UI.

use std::net::Ipv4Addr;
use std::time::Duration;

use capstan_capx::render::{BootType, ClusterChoices, NameOrUuid, PoolChoices};
use capstan_capx::sizes::{PoolRole, PoolSizing, Quantity};
use capstan_diagnose::CapxLine;
use serde::{Deserialize, Serialize};

/// The deploy choices to check: where the VMs go (PE, subnets, image), the control-plane
/// endpoint, the pools, the Kubernetes version and cluster networks, and the CAPX line the
/// cluster will be created with.
///
/// Placement is cluster-wide: every pool uses the same PE, subnets and image (what the
/// deploy form offers). [`PreflightInput::from_choices`] builds it from the typed choices
/// the templates are rendered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightInput {
    /// The Prism Central address CAPX will use (`NUTANIX_ENDPOINT`): host or IP, a scheme
    /// or port is ignored. Empty means the address of the client the preflight runs with.
    pub prism_central_address: String,
    /// The CAPX line Palette installs; it fixes the minimum PC version and the name-matching
    /// rules (case-sensitive up to 1.7, case-insensitive PE and image names from 1.8).
    pub capx_line: CapxLine,
    #[serde(with = "name_or_uuid")]
    pub prism_element: NameOrUuid,
    /// In NIC order; the first is the control-plane endpoint's network (kube-vip announces
    /// the VIP on the NIC with the default route).
    #[serde(with = "name_or_uuid_list")]
    pub subnets: Vec<NameOrUuid>,
    #[serde(with = "name_or_uuid")]
    pub image: NameOrUuid,
    /// The kube-vip VIP (`CONTROL_PLANE_ENDPOINT_IP`).
    pub control_plane_endpoint: Ipv4Addr,
    /// `v`-prefixed, e.g. `v1.30.4`.
    pub kubernetes_version: String,
    pub control_plane: PoolInput,
    pub worker_pools: Vec<PoolInput>,
    /// e.g. `172.20.0.0/16` (CAPX's default).
    pub pod_cidr: String,
    /// e.g. `172.19.0.0/16` (CAPX's default).
    pub service_cidr: String,
}

/// One node pool's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolInput {
    /// The pool's name as shown to the user (`None`: the template's default).
    #[serde(default)]
    pub name: Option<String>,
    pub replicas: u32,
    pub vcpu_sockets: u32,
    pub vcpus_per_socket: u32,
    #[serde(with = "quantity")]
    pub memory: Quantity,
    #[serde(with = "quantity")]
    pub system_disk: Quantity,
    #[serde(with = "boot_type")]
    pub boot_type: BootType,
}

impl PoolInput {
    /// From the render choices of one pool.
    pub fn from_choices(pool: &PoolChoices) -> Self {
        Self {
            name: pool.name.clone(),
            replicas: pool.replicas,
            vcpu_sockets: pool.vcpu_sockets,
            vcpus_per_socket: pool.vcpus_per_socket,
            memory: pool.memory.clone(),
            system_disk: pool.system_disk.clone(),
            boot_type: pool.boot_type,
        }
    }

    /// The sizing part, for [`capstan_capx::sizes::check_pool_sizing`].
    pub fn sizing(&self, role: PoolRole) -> PoolSizing {
        PoolSizing {
            role,
            replicas: self.replicas,
            vcpu_sockets: self.vcpu_sockets,
            vcpus_per_socket: self.vcpus_per_socket,
            memory: self.memory.clone(),
            system_disk: self.system_disk.clone(),
        }
    }

    /// vCPUs of one node.
    pub fn vcpus(&self) -> u64 {
        u64::from(self.vcpu_sockets) * u64::from(self.vcpus_per_socket)
    }

    /// Memory of one node in MiB (rounded down, as CAPX does).
    pub fn memory_mib(&self) -> u64 {
        u64::try_from(self.memory.mib_floor()).unwrap_or(u64::MAX)
    }
}

impl PreflightInput {
    /// Builds the input from the typed choices the YAML is rendered from. The control-plane
    /// pool's PE, subnets, image and Kubernetes version are the cluster's; a worker pool
    /// that places its VMs elsewhere is refused (the preflight checks one placement).
    pub fn from_choices(
        prism_central_address: &str,
        capx_line: CapxLine,
        cluster: &ClusterChoices,
        control_plane: &PoolChoices,
        workers: &[PoolChoices],
        pod_cidr: &str,
        service_cidr: &str,
    ) -> Result<Self, String> {
        for (i, w) in workers.iter().enumerate() {
            let label = w.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            if w.prism_element != control_plane.prism_element
                || w.subnets != control_plane.subnets
                || w.image != control_plane.image
            {
                return Err(format!(
                    "worker pool {label} uses another Prism Element, subnet or image than the control plane; the preflight checks one placement for the whole cluster"
                ));
            }
            if w.kubernetes_version != control_plane.kubernetes_version {
                return Err(format!(
                    "worker pool {label} is on Kubernetes {} but the control plane on {}; use one version",
                    w.kubernetes_version, control_plane.kubernetes_version
                ));
            }
        }
        Ok(Self {
            prism_central_address: prism_central_address.to_owned(),
            capx_line,
            prism_element: control_plane.prism_element.clone(),
            subnets: control_plane.subnets.clone(),
            image: control_plane.image.clone(),
            control_plane_endpoint: cluster.control_plane_endpoint_ip,
            kubernetes_version: control_plane.kubernetes_version.clone(),
            control_plane: PoolInput::from_choices(control_plane),
            worker_pools: workers.iter().map(PoolInput::from_choices).collect(),
            pod_cidr: pod_cidr.to_owned(),
            service_cidr: service_cidr.to_owned(),
        })
    }

    /// Every pool with its role and a label for messages.
    pub fn pools(&self) -> Vec<(PoolRole, String, &PoolInput)> {
        let mut out = vec![(
            PoolRole::ControlPlane,
            self.control_plane
                .name
                .clone()
                .unwrap_or_else(|| "control plane".to_owned()),
            &self.control_plane,
        )];
        for (i, w) in self.worker_pools.iter().enumerate() {
            let label = match &w.name {
                Some(n) => format!("worker pool {n}"),
                None if self.worker_pools.len() == 1 => "worker pool".to_owned(),
                None => format!("worker pool {}", i + 1),
            };
            out.push((PoolRole::Worker, label, w));
        }
        out
    }

    /// Nodes of the running cluster.
    pub fn node_count(&self) -> u64 {
        self.pools()
            .iter()
            .map(|(_, _, p)| u64::from(p.replicas))
            .sum()
    }

    /// Extra machines a rolling upgrade creates at once: CAPI surges one machine per
    /// KubeadmControlPlane and one per MachineDeployment (maxSurge 1, the default), and the
    /// pools roll at the same time.
    pub fn upgrade_surge(&self) -> u64 {
        self.pools()
            .iter()
            .filter(|(_, _, p)| p.replicas > 0)
            .count() as u64
    }
}

/// How the preflight runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PreflightOptions {
    /// Each check's own time limit (waiting for a check it depends on is not counted: that
    /// one has its own limit).
    pub check_timeout: Duration,
    /// vCPUs per physical core the PE may be committed to (AHV overcommits CPU; 4:1 is a
    /// common ceiling for general workloads).
    pub vcpu_overcommit: f64,
    /// Memory each host keeps for its Controller VM, which `vms/list` does not show.
    pub cvm_memory_mib: u64,
    /// vCPUs each host's Controller VM uses.
    pub cvm_vcpus: u64,
}

impl Default for PreflightOptions {
    fn default() -> Self {
        Self {
            check_timeout: Duration::from_secs(20),
            vcpu_overcommit: 4.0,
            cvm_memory_mib: 32 * 1024,
            cvm_vcpus: 8,
        }
    }
}

// The report types are the IPC contract (the UI renders them as they are), so they live in
// `capstan-ipc`; re-exported here so the checks keep their short names.
/// The preflight's own short name for a check's result.
pub use capstan_ipc::preflight::CheckOutcome as Outcome;
pub use capstan_ipc::preflight::*;

// ---- serde for the capx types (they only serialise, and not in this shape) ------------

mod quantity {
    use capstan_capx::sizes::Quantity;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(q: &Quantity, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(q.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        let text = String::deserialize(d)?;
        Quantity::parse(&text).map_err(serde::de::Error::custom)
    }
}

mod boot_type {
    use capstan_capx::render::BootType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &BootType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(b.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BootType, D::Error> {
        let text = String::deserialize(d)?;
        BootType::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `{"type": "name"|"uuid", "value": "..."}`, the shape `NameOrUuid` serialises to.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
enum Ident {
    Name(String),
    Uuid(String),
}

impl Ident {
    fn of(v: &NameOrUuid) -> Self {
        match v {
            NameOrUuid::Name(n) => Self::Name(n.clone()),
            NameOrUuid::Uuid(u) => Self::Uuid(u.clone()),
        }
    }

    fn into_value(self) -> Result<NameOrUuid, String> {
        match self {
            Self::Name(n) => NameOrUuid::name(&n),
            Self::Uuid(u) => NameOrUuid::uuid(&u),
        }
    }
}

mod name_or_uuid {
    use capstan_capx::render::NameOrUuid;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Ident;

    pub fn serialize<S: Serializer>(v: &NameOrUuid, s: S) -> Result<S::Ok, S::Error> {
        Ident::of(v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NameOrUuid, D::Error> {
        Ident::deserialize(d)?
            .into_value()
            .map_err(serde::de::Error::custom)
    }
}

mod name_or_uuid_list {
    use capstan_capx::render::NameOrUuid;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Ident;

    pub fn serialize<S: Serializer>(v: &[NameOrUuid], s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<Ident> = v.iter().map(Ident::of).collect();
        list.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NameOrUuid>, D::Error> {
        Vec::<Ident>::deserialize(d)?
            .into_iter()
            .map(|i| i.into_value().map_err(serde::de::Error::custom))
            .collect()
    }
}
