//! VMs as the preflight reads them: the observed state plus the addresses in the spec.
//!
//! A powered-off VM shows no IP in `status` but keeps the address it was given (IPAM or
//! static) in `spec`; it gets it back when it starts, so it counts as used.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use capstan_prism::{EntityMetadata, EntityStatus, VmNic, VmResources};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct VmEntry {
    #[serde(default)]
    pub metadata: EntityMetadata,
    #[serde(default)]
    spec: Option<VmSpec>,
    #[serde(default = "Option::default")]
    status: Option<EntityStatus<VmResources>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct VmSpec {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    resources: Option<VmSpecResources>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct VmSpecResources {
    #[serde(default)]
    nic_list: Vec<VmNic>,
}

impl VmEntry {
    pub fn name(&self) -> Option<&str> {
        self.status
            .as_ref()
            .and_then(|s| s.name.as_deref())
            .or_else(|| self.spec.as_ref().and_then(|s| s.name.as_deref()))
            .or(self.metadata.name.as_deref())
    }

    pub fn uuid(&self) -> Option<&str> {
        self.metadata.uuid.as_deref()
    }

    pub fn resources(&self) -> Option<&VmResources> {
        self.status.as_ref().and_then(|s| s.resources.as_ref())
    }

    /// The UUID and name of the PE the VM runs on.
    pub fn cluster(&self) -> (Option<&str>, Option<&str>) {
        let r = self
            .status
            .as_ref()
            .and_then(|s| s.cluster_reference.as_ref());
        (
            r.and_then(|c| c.uuid.as_deref()),
            r.and_then(|c| c.name.as_deref()),
        )
    }

    pub fn powered_on(&self) -> bool {
        self.resources()
            .and_then(|r| r.power_state.as_deref())
            .is_some_and(|p| p.eq_ignore_ascii_case("ON"))
    }

    /// Every IPv4 address of the VM with its type (`ASSIGNED`, `LEARNED`): the observed ones,
    /// then those only the spec holds.
    pub fn addresses(&self) -> Vec<(Ipv4Addr, Option<&str>)> {
        let observed = self
            .resources()
            .map(|r| r.nic_list.as_slice())
            .unwrap_or_default();
        let intended = self
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .map(|r| r.nic_list.as_slice())
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for nic in observed.iter().chain(intended) {
            for ep in &nic.ip_endpoint_list {
                if let Some(ip) = ep.ip.as_deref().and_then(|s| s.parse::<Ipv4Addr>().ok())
                    && seen.insert(ip)
                {
                    out.push((ip, ep.ip_kind.as_deref()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_vm_keeps_its_spec_address() {
        let vm: VmEntry = serde_json::from_value(serde_json::json!({
            "metadata": {"kind": "vm", "uuid": "u1"},
            "spec": {"name": "db", "resources": {"nic_list": [
                {"ip_endpoint_list": [{"ip": "10.0.0.5", "type": "ASSIGNED"}]}
            ]}},
            "status": {"name": "db", "resources": {"power_state": "OFF", "nic_list": [
                {"ip_endpoint_list": []}
            ]}}
        }))
        .expect("vm");
        assert!(!vm.powered_on());
        assert_eq!(
            vm.addresses(),
            vec![(Ipv4Addr::new(10, 0, 0, 5), Some("ASSIGNED"))]
        );

        let running: VmEntry = serde_json::from_value(serde_json::json!({
            "metadata": {"uuid": "u2"},
            "spec": {"resources": {"nic_list": [
                {"ip_endpoint_list": [{"ip": "10.0.0.6", "type": "ASSIGNED"}]}
            ]}},
            "status": {"resources": {"power_state": "ON", "nic_list": [
                {"ip_endpoint_list": [
                    {"ip": "10.0.0.6", "type": "ASSIGNED"},
                    {"ip": "10.0.0.7", "type": "LEARNED"}
                ]}
            ]}}
        }))
        .expect("vm");
        assert_eq!(
            running.addresses(),
            vec![
                (Ipv4Addr::new(10, 0, 0, 6), Some("ASSIGNED")),
                (Ipv4Addr::new(10, 0, 0, 7), Some("LEARNED"))
            ]
        );
    }
}
