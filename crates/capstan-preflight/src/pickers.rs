//! What the deploy form's pickers offer, read live from Prism Central: the Prism Elements,
//! the subnets a PE's VMs can use (CAPX's rule: its own VLANs plus any overlay), disk
//! images marked by the Kubernetes version their names carry, and free addresses for the
//! kube-vip VIP. The same facts the preflight checks, so what the form offers passes them.

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use capstan_ipc::deploy::{ImageOption, PlacementOptions, PrismElementOption, SubnetOption};
use capstan_prism::{Cluster, ClusterRole, PrismClient, PrismError};

use crate::checks::network::pe_addresses;
use crate::checks::placement::{
    core_version, describe_subnet, kubernetes_version_in_name, usable_from,
};
use crate::net::{Ipv4Range, free_ranges};
use crate::vms::VmEntry;

/// How many VIP suggestions to offer.
const VIP_SUGGESTIONS: usize = 8;

/// The Prism Elements (AOS clusters; Prism Central itself left out), sorted by name.
pub async fn prism_elements(prism: &PrismClient) -> Result<Vec<PrismElementOption>, PrismError> {
    let all = prism.list_clusters(None).await?;
    let pes: Vec<&Cluster> = all
        .iter()
        .filter(|c| c.role() != ClusterRole::PrismCentral)
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for pe in &pes {
        *counts.entry(pe.name().unwrap_or_default()).or_default() += 1;
    }
    let mut out: Vec<PrismElementOption> = pes
        .iter()
        .filter_map(|pe| {
            let res = pe.resources();
            let name = pe.name().unwrap_or_default();
            Some(PrismElementOption {
                uuid: pe.uuid()?.to_owned(),
                name: name.to_owned(),
                name_unique: counts.get(name).copied().unwrap_or(0) == 1,
                available: res.and_then(|r| r.config.is_available) != Some(false),
                hosts: res
                    .and_then(|r| r.nodes.as_ref())
                    .map_or(0, |n| n.hypervisor_server_list.len() as u64),
                hypervisor: res
                    .and_then(|r| r.nodes.as_ref())
                    .and_then(|n| n.hypervisor_server_list.first())
                    .and_then(|h| h.hypervisor_type.clone()),
                aos_version: res
                    .and_then(|r| r.config.build.as_ref())
                    .and_then(|b| b.version.clone()),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.uuid.cmp(&b.uuid)));
    Ok(out)
}

/// Subnets and images for one PE, and VIP suggestions in `vip_subnet` (default: the first
/// subnet with Prism IPAM).
pub async fn placement(
    prism: &PrismClient,
    pe_uuid: &str,
    kubernetes_version: Option<&str>,
    vip_subnet: Option<&str>,
) -> Result<PlacementOptions, PrismError> {
    let (subnets, images, vms, clusters) = tokio::join!(
        prism.list_subnets(None),
        prism.list_images(None),
        prism.list_all::<VmEntry>("vms/list", "vm", None),
        prism.list_clusters(None),
    );
    let (subnets, images, vms, clusters) = (subnets?, images?, vms?, clusters?);

    // Addresses held by any VM (observed or in its spec), for pool usage and the VIP.
    let used: BTreeSet<u32> = vms
        .iter()
        .flat_map(|vm| vm.addresses().into_iter().map(|(ip, _)| u32::from(ip)))
        .collect();
    // Addresses a VIP must not take either (the preflight refuses them): Prism Central's,
    // each Prism Element's virtual and data-services IPs and its hypervisors.
    let mut prism_addresses: Vec<(Ipv4Addr, String)> = Vec::new();
    let mut element_addresses: Vec<(Ipv4Addr, String)> = Vec::new();
    for c in &clusters {
        pe_addresses(c, &mut prism_addresses, &mut element_addresses);
    }
    if let Ok(ip) = prism.endpoint().host().parse::<Ipv4Addr>() {
        prism_addresses.push((ip, String::new()));
    }
    let reserved: BTreeSet<u32> = prism_addresses
        .iter()
        .chain(&element_addresses)
        .map(|(ip, _)| u32::from(*ip))
        .collect();

    let mut name_counts: HashMap<String, usize> = HashMap::new();
    for s in &subnets {
        *name_counts
            .entry(s.name().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let mut resolved = Vec::new();
    let mut subnet_options: Vec<SubnetOption> = subnets
        .iter()
        .filter(|s| usable_from(s, pe_uuid))
        .map(|s| {
            let (facts, r) = describe_subnet(s);
            let free_pool_addresses = r.managed().then(|| {
                r.pools
                    .iter()
                    .map(|p| {
                        let held = used.range(p.first..=p.last).count() as u64;
                        p.size().saturating_sub(held)
                    })
                    .sum()
            });
            resolved.push(r);
            SubnetOption {
                name_unique: name_counts.get(&facts.name).copied().unwrap_or(0) == 1,
                uuid: facts.uuid,
                name: facts.name,
                subnet_type: facts.subnet_type,
                vlan_id: facts.vlan_id,
                cidr: facts.cidr,
                gateway: facts.gateway,
                pools: facts.pools,
                free_pool_addresses,
            }
        })
        .collect();
    subnet_options.sort_by(|a, b| a.name.cmp(&b.name));

    // VIP suggestions: the chosen subnet, else the first with IPAM.
    let vip_target = match vip_subnet {
        Some(uuid) => resolved.iter().find(|r| r.uuid == uuid),
        None => {
            let first_managed = subnet_options
                .iter()
                .find(|o| o.cidr.is_some())
                .map(|o| o.uuid.clone());
            first_managed.and_then(|u| resolved.iter().find(|r| r.uuid == u))
        }
    };
    let (vip_subnet_uuid, vip_candidates, vip_note) = match vip_target {
        None => (
            None,
            Vec::new(),
            Some(
                "No subnet of this Prism Element has Prism IPAM, so Capstan cannot tell which addresses are free; \
                 ask the network team for a free address outside the DHCP range."
                    .to_owned(),
            ),
        ),
        Some(r) => match r.cidr {
            None => (
                Some(r.uuid.clone()),
                Vec::new(),
                Some(format!(
                    "{} has no Prism IPAM: its addresses come from an external DHCP server. Ask the network team for \
                     a free address outside the DHCP range.",
                    r.name
                )),
            ),
            Some(net) => {
                let mut taken: Vec<Ipv4Range> = r.pools.clone();
                for ip in [r.gateway, r.dhcp_server].into_iter().flatten() {
                    let v = u32::from(ip);
                    taken.push(Ipv4Range { first: v, last: v });
                }
                let mut picks = Vec::new();
                'ranges: for range in free_ranges(&net, &taken) {
                    for v in range.first..=range.last {
                        if !used.contains(&v) && !reserved.contains(&v) {
                            picks.push(Ipv4Addr::from(v).to_string());
                            if picks.len() == VIP_SUGGESTIONS {
                                break 'ranges;
                            }
                        }
                    }
                }
                let note = picks.is_empty().then(|| {
                    format!(
                        "Every address of {} outside its IP pools is taken; shrink a pool or use another subnet.",
                        r.name
                    )
                });
                (Some(r.uuid.clone()), picks, note)
            }
        },
    };

    let mut image_counts: HashMap<String, usize> = HashMap::new();
    for i in &images {
        *image_counts
            .entry(i.name().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let mut image_options: Vec<ImageOption> = images
        .iter()
        .filter(|i| {
            i.resources()
                .and_then(|r| r.image_type.as_deref())
                .is_none_or(|t| t.eq_ignore_ascii_case("DISK_IMAGE"))
        })
        .filter_map(|i| {
            let name = i.name().unwrap_or_default().to_owned();
            let version = kubernetes_version_in_name(&name);
            // Same minor: the form then takes the image's exact version (kubeadm and the
            // kubelet come from the image), which the preflight checks to the patch.
            let matches = match (kubernetes_version, &version) {
                (Some(want), Some(v)) => minor(v) == minor(core_version(want)),
                _ => false,
            };
            Some(ImageOption {
                uuid: i.uuid()?.to_owned(),
                name_unique: image_counts.get(&name).copied().unwrap_or(0) == 1,
                kubernetes_version: version,
                matches,
                state: i.status.as_ref().and_then(|s| s.state.clone()),
                name,
            })
        })
        .collect();
    image_options.sort_by(|a, b| b.matches.cmp(&a.matches).then(a.name.cmp(&b.name)));

    Ok(PlacementOptions {
        prism_element_uuid: pe_uuid.to_owned(),
        subnets: subnet_options,
        images: image_options,
        vip_subnet_uuid,
        vip_candidates,
        vip_note,
    })
}

/// `1.30.5` → `1.30`.
fn minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}
