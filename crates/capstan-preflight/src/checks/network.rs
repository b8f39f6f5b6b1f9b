//! The control-plane endpoint (kube-vip VIP), the subnet's free addresses and the cluster
//! networks (prism-capx.md §6, §8 items 8, 13, 16).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use capstan_prism::{Cluster, ClusterRole};
use serde_json::Value;

use crate::checks::placement::ResolvedSubnet;
use crate::model::{
    AddressesData, CheckData, CheckId, NetworksData, SubnetAddresses, VipConflict, VipData,
};
use crate::net::{Ipv4Net, Ipv4Range, free_ranges};
use crate::runner::{Ctx, Finding, Ran, Step, need, skipped};
use crate::vms::VmEntry;

fn vip_data(
    vip: Ipv4Addr,
    subnet: Option<&ResolvedSubnet>,
    conflicts: Vec<VipConflict>,
) -> CheckData {
    let free = subnet
        .and_then(|s| {
            let cidr = s.cidr?;
            let mut taken = s.pools.clone();
            for ip in [s.gateway, s.dhcp_server].into_iter().flatten() {
                taken.push(Ipv4Range {
                    first: u32::from(ip),
                    last: u32::from(ip),
                });
            }
            Some(free_ranges(&cidr, &taken))
        })
        .unwrap_or_default();
    CheckData::Vip(VipData {
        address: vip.to_string(),
        conflicts,
        subnet: subnet.map(|s| s.name.clone()),
        cidr: subnet.and_then(|s| s.cidr).map(|c| c.to_string()),
        pools: subnet.map(ResolvedSubnet::pools_text).unwrap_or_default(),
        free_ranges: free.iter().map(ToString::to_string).collect(),
    })
}

fn conflict(what: &str, name: Option<String>) -> VipConflict {
    VipConflict {
        what: what.to_owned(),
        name,
        uuid: None,
        address_type: None,
    }
}

/// A usable host address at all (before looking at any subnet).
fn vip_is_unusable(vip: Ipv4Addr) -> bool {
    vip.is_unspecified() || vip.is_loopback() || vip.is_multicast() || vip.is_broadcast()
}

fn pick_fix(subnet: &ResolvedSubnet) -> String {
    let free = match vip_data(Ipv4Addr::UNSPECIFIED, Some(subnet), Vec::new()) {
        CheckData::Vip(v) => v.free_ranges,
        _ => Vec::new(),
    };
    match (subnet.cidr, free.is_empty()) {
        (Some(cidr), false) => format!(
            "Pick a free address in {cidr} outside the IP pool{}: {} (then make sure no machine uses it).",
            if subnet.pools.len() == 1 { "" } else { "s" },
            free.join(", ")
        ),
        (Some(cidr), true) => format!(
            "{cidr} has no address outside its IP pools: shrink a pool in Prism to free addresses for the VIP, or use another subnet."
        ),
        (None, _) => "Pick a free address of the subnet's network, outside its DHCP scope.".into(),
    }
}

/// Inside the first subnet's CIDR, not its network/broadcast/gateway/DHCP address, and
/// outside every IPAM pool (AHV IPAM would hand a pool address to a VM).
pub(crate) async fn vip_in_subnet(
    ctx: Arc<Ctx>,
    subnets: Step<Vec<ResolvedSubnet>>,
) -> Arc<Ran<()>> {
    let id = CheckId::VipInSubnet;
    let started = Instant::now();
    let vip = ctx.input.control_plane_endpoint;
    let subnets = match need(&*subnets.await, "the subnet") {
        Ok(s) => s,
        Err(reason) => return skipped(id, reason, started.elapsed()),
    };
    ctx.timed(id, started.elapsed(), async {
        let Some(subnet) = subnets.first() else {
            return Finding::skipped("no_subnet", "No subnet was chosen.");
        };
        let data = |c: Vec<VipConflict>| vip_data(vip, Some(subnet), c);
        if vip_is_unusable(vip) {
            return Finding::fail(
                "vip_invalid",
                format!("{vip} is not a host address and cannot be a control-plane VIP."),
                pick_fix(subnet),
            )
            .data(data(Vec::new()));
        }
        let Some(cidr) = subnet.cidr else {
            return Finding::warn(
                "vip_subnet_unmanaged",
                format!(
                    "{} has no Prism IPAM, so Capstan cannot tell its network or DHCP scope; {vip} could not be placed.",
                    subnet.name
                ),
                "Make sure the VIP is in that VLAN's network and outside the external DHCP server's scope (and reserved there if you can).",
            )
            .data(data(Vec::new()))
            .value(());
        };
        if !cidr.contains(vip) {
            return Finding::fail(
                "vip_outside_subnet",
                format!(
                    "{vip} is not in {} ({cidr}): kube-vip announces the VIP by ARP on the control-plane nodes' network, so an address outside it is unreachable.",
                    subnet.name
                ),
                pick_fix(subnet),
            )
            .data(data(Vec::new()));
        }
        let as_u32 = u32::from(vip);
        if cidr.prefix() <= 30 && (as_u32 == cidr.first() || as_u32 == cidr.last()) {
            return Finding::fail(
                "vip_reserved_address",
                format!("{vip} is the network or broadcast address of {cidr}."),
                pick_fix(subnet),
            )
            .data(data(Vec::new()));
        }
        if subnet.gateway == Some(vip) {
            return Finding::fail(
                "vip_is_gateway",
                format!("{vip} is the default gateway of {}.", subnet.name),
                pick_fix(subnet),
            )
            .data(data(vec![conflict("gateway", Some(subnet.name.clone()))]));
        }
        if subnet.dhcp_server == Some(vip) {
            return Finding::fail(
                "vip_is_dhcp_server",
                format!("{vip} is the DHCP server address of {}.", subnet.name),
                pick_fix(subnet),
            )
            .data(data(vec![conflict("dhcpServer", Some(subnet.name.clone()))]));
        }
        if let Some(pool) = subnet.pools.iter().find(|p| p.contains(vip)) {
            return Finding::fail(
                "vip_in_ip_pool",
                format!(
                    "{vip} is inside the IP pool {pool} of {}: Prism's IPAM can hand it to a VM (one of this cluster's own nodes, even), and then two machines answer for the API server address.",
                    subnet.name
                ),
                pick_fix(subnet),
            )
            .data(data(vec![conflict("ipPool", Some(pool.to_string()))]));
        }
        Finding::pass(
            "vip_in_subnet",
            format!(
                "{vip} is in {} ({cidr}) and outside its IP pool{} {}.",
                subnet.name,
                if subnet.pools.len() == 1 { "" } else { "s" },
                subnet.pools_text().join(", ")
            ),
        )
        .data(data(Vec::new()))
        .value(())
    })
    .await
}

/// Every IPv4 address in a JSON value (for `pc_vm_list[].nic_list[].ip_list`, whose shape
/// varies between releases).
fn ips_in(value: &Value, out: &mut Vec<Ipv4Addr>) {
    match value {
        Value::String(s) => {
            if let Ok(ip) = s.parse() {
                out.push(ip);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| ips_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| ips_in(v, out)),
        _ => {}
    }
}

/// Not Prism Central's address (as given for CAPX, its virtual IP, its VM's IPs), nor a
/// Prism Element's virtual, data-services or hypervisor address.
pub(crate) async fn vip_not_prism(ctx: Arc<Ctx>, credentials: Step<()>) -> Arc<Ran<()>> {
    let id = CheckId::VipNotPrism;
    let started = Instant::now();
    if let Err(reason) = need(&*credentials.await, "a working Prism Central login") {
        return skipped(id, reason, started.elapsed());
    }
    let vip = ctx.input.control_plane_endpoint;
    ctx.timed(id, started.elapsed(), async {
        // (address, what it is, for CAREN's wording)
        let mut prism_central: Vec<(Ipv4Addr, String)> = Vec::new();
        let host = ctx.prism_central_host();
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => prism_central.push((ip, format!("the Prism Central address CAPX uses ({host})"))),
            Ok(IpAddr::V6(_)) => {}
            Err(_) => {
                let target = (host.as_str(), capstan_prism::DEFAULT_PORT);
                if let Ok(addrs) = tokio::net::lookup_host(target).await {
                    for a in addrs {
                        if let IpAddr::V4(ip) = a.ip() {
                            prism_central.push((ip, format!("the address {host} resolves to")));
                        }
                    }
                }
            }
        }
        if let Ok(info) = ctx.inventory.prism_central.clone().await {
            if let Some(ip) = info.resources.virtual_ip.as_deref().and_then(|s| s.parse().ok()) {
                prism_central.push((ip, "Prism Central's virtual IP".into()));
            }
            let mut vm_ips = Vec::new();
            info.resources.pc_vm_list.iter().for_each(|vm| ips_in(&vm["nic_list"], &mut vm_ips));
            prism_central.extend(
                vm_ips
                    .into_iter()
                    .map(|ip| (ip, "the IP of a Prism Central VM".to_owned())),
            );
        }
        let clusters = match ctx.inventory.clusters.clone().await {
            Ok(c) => c,
            Err(e) => return Finding::prism_error("listing clusters", &e),
        };
        let mut elements: Vec<(Ipv4Addr, String)> = Vec::new();
        for c in clusters.iter() {
            pe_addresses(c, &mut prism_central, &mut elements);
        }
        dedup_by_address(&mut prism_central);
        dedup_by_address(&mut elements);
        if let Some((_, what)) = prism_central.iter().find(|(ip, _)| *ip == vip) {
            return Finding::fail(
                "vip_is_prism_central",
                format!(
                    "{vip} is {what}: prism central and control plane endpoint cannot have the same IP \"{vip}\"."
                ),
                "Pick another free address for the control-plane endpoint, in the node subnet and outside its IP pools.",
            )
            .data(vip_data(vip, None, vec![conflict("prismCentral", Some(what.clone()))]));
        }
        if let Some((_, what)) = elements.iter().find(|(ip, _)| *ip == vip) {
            return Finding::fail(
                "vip_is_prism_element",
                format!("{vip} is {what}; the control-plane endpoint must be an address nothing else uses."),
                "Pick another free address for the control-plane endpoint, in the node subnet and outside its IP pools.",
            )
            .data(vip_data(vip, None, vec![conflict("prismElement", Some(what.clone()))]));
        }
        Finding::pass(
            "vip_not_prism",
            format!(
                "{vip} is none of the {} Prism Central and {} Prism Element addresses.",
                prism_central.len(),
                elements.len()
            ),
        )
        .data(vip_data(vip, None, Vec::new()))
        .value(())
    })
    .await
}

/// Keeps the first description of each address.
fn dedup_by_address(list: &mut Vec<(Ipv4Addr, String)>) {
    let mut seen = BTreeSet::new();
    list.retain(|(ip, _)| seen.insert(*ip));
}

pub(crate) fn pe_addresses(
    c: &Cluster,
    pc: &mut Vec<(Ipv4Addr, String)>,
    pes: &mut Vec<(Ipv4Addr, String)>,
) {
    let Some(res) = c.resources() else { return };
    let name = c.name().unwrap_or("?");
    let parse = |s: &Option<String>| s.as_deref().and_then(|s| s.parse::<Ipv4Addr>().ok());
    match c.role() {
        ClusterRole::PrismElement => {}
        ClusterRole::PrismCentral => {
            if let Some(ip) = parse(&res.network.external_ip) {
                pc.push((ip, "Prism Central's virtual IP".into()));
            }
            return;
        }
        ClusterRole::Other => return,
    }
    if let Some(ip) = parse(&res.network.external_ip) {
        pes.push((ip, format!("the virtual IP of Prism Element {name}")));
    }
    if let Some(ip) = parse(&res.network.external_data_services_ip) {
        pes.push((ip, format!("the data services IP of Prism Element {name}")));
    }
    for h in res
        .nodes
        .iter()
        .flat_map(|n| n.hypervisor_server_list.iter())
    {
        if let Some(ip) = parse(&h.ip) {
            pes.push((ip, format!("a hypervisor address of Prism Element {name}")));
        }
    }
}

/// Every IPv4 address Prism knows for the VMs (ASSIGNED and LEARNED, so another cluster's
/// kube-vip VIP held by its control-plane VM counts too; a stopped VM's address as well).
fn vm_addresses(vms: &[VmEntry]) -> impl Iterator<Item = (Ipv4Addr, &VmEntry, Option<&str>)> {
    vms.iter().flat_map(|vm| {
        vm.addresses()
            .into_iter()
            .map(move |(ip, kind)| (ip, vm, kind))
    })
}

pub(crate) async fn vip_unused(ctx: Arc<Ctx>, credentials: Step<()>) -> Arc<Ran<()>> {
    let id = CheckId::VipUnused;
    let started = Instant::now();
    if let Err(reason) = need(&*credentials.await, "a working Prism Central login") {
        return skipped(id, reason, started.elapsed());
    }
    let vip = ctx.input.control_plane_endpoint;
    ctx.timed(id, started.elapsed(), async {
        let vms = match ctx.inventory.vms.clone().await {
            Ok(v) => v,
            Err(e) => return Finding::prism_error("listing VMs", &e),
        };
        let users: Vec<(&VmEntry, Option<&str>)> = vm_addresses(&vms)
            .filter(|(ip, _, _)| *ip == vip)
            .map(|(_, vm, kind)| (vm, kind))
            .collect();
        let Some((vm, kind)) = users.first() else {
            return Finding::pass(
                "vip_unused",
                format!("None of the {} VMs in Prism Central uses {vip}.", vms.len()),
            )
            .data(vip_data(vip, None, Vec::new()))
            .value(());
        };
        let conflicts = users
            .iter()
            .map(|(vm, kind)| VipConflict {
                what: "vm".into(),
                name: vm.name().map(str::to_owned),
                uuid: vm.uuid().map(str::to_owned),
                address_type: kind.map(str::to_owned),
            })
            .collect();
        let learned = kind.is_some_and(|k| k.eq_ignore_ascii_case("LEARNED"));
        let owner = vm
            .metadata
            .categories
            .get("KubernetesClusterName")
            .map(|c| format!(" of Kubernetes cluster {c}"))
            .unwrap_or_default();
        Finding::fail(
            "vip_in_use",
            format!(
                "{vip} is already in use: VM {}{owner} ({}) on {} has it as {} address{}.",
                vm.name().unwrap_or("?"),
                vm.uuid().unwrap_or("?"),
                vm.cluster().1.unwrap_or("an unknown cluster"),
                if learned { "a LEARNED" } else { "an ASSIGNED" },
                if learned {
                    " (a learned extra address is typically another cluster's kube-vip VIP)"
                } else {
                    ""
                }
            ),
            "Pick another free address: two machines announcing one VIP take turns answering, and the API server becomes unreachable.",
        )
        .data(vip_data(vip, None, conflicts))
    })
    .await
}

/// Free pool addresses of every subnet against the nodes plus the upgrade surge.
///
/// Free = the size of the subnet's IP pools minus the distinct pool addresses that VMs known
/// to Prism hold (ASSIGNED or LEARNED); when Prism reports `ip_usage_stats.num_free_ips`,
/// the smaller of the two counts (Prism may hold addresses no listed VM shows).
pub(crate) async fn subnet_capacity(
    ctx: Arc<Ctx>,
    subnets: Step<Vec<ResolvedSubnet>>,
) -> Arc<Ran<()>> {
    let id = CheckId::SubnetCapacity;
    let started = Instant::now();
    let subnets = match need(&*subnets.await, "the subnet") {
        Ok(s) => s,
        Err(reason) => return skipped(id, reason, started.elapsed()),
    };
    ctx.timed(id, started.elapsed(), async {
        let vms = match ctx.inventory.vms.clone().await {
            Ok(v) => v,
            Err(e) => return Finding::prism_error("listing VMs", &e),
        };
        let used: BTreeSet<u32> = vm_addresses(&vms).map(|(ip, _, _)| u32::from(ip)).collect();
        let nodes = ctx.input.node_count();
        let surge = ctx.input.upgrade_surge();
        let needed = nodes + surge;
        let mut rows = Vec::new();
        let mut short: Vec<String> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut poolless: Vec<String> = Vec::new();
        let mut fine: Vec<String> = Vec::new();
        for s in subnets.iter() {
            let pool_size: u64 = s.pools.iter().map(Ipv4Range::size).sum();
            let in_use = used
                .iter()
                .filter(|ip| s.pools.iter().any(|p| (p.first..=p.last).contains(*ip)))
                .count() as u64;
            let counted = pool_size.saturating_sub(in_use);
            let free = s.reported_free.map_or(counted, |r| r.min(counted));
            rows.push(SubnetAddresses {
                name: s.name.clone(),
                uuid: s.uuid.clone(),
                managed: s.managed(),
                pool_size,
                in_use,
                free,
                reported_free: s.reported_free,
                needed,
            });
            if !s.managed() {
                unknown.push(s.name.clone());
            } else if s.pools.is_empty() {
                poolless.push(s.name.clone());
            } else if free < needed {
                short.push(format!(
                    "{} has {free} free address{} in its IP pool{} ({pool_size} in total, {in_use} held by VMs{})",
                    s.name,
                    if free == 1 { "" } else { "es" },
                    if s.pools.len() == 1 { "" } else { "s" },
                    s.reported_free
                        .filter(|r| *r < counted)
                        .map(|r| format!(", Prism reports {r} free"))
                        .unwrap_or_default()
                ));
            } else {
                fine.push(format!("{} has {free} free of {pool_size}", s.name));
            }
        }
        let data = CheckData::Addresses(AddressesData {
            nodes,
            surge,
            subnets: rows,
        });
        let need_text = format!(
            "the cluster needs {needed}: {nodes} node{} plus {surge} for a rolling upgrade (one extra machine per pool)",
            if nodes == 1 { "" } else { "s" }
        );
        if !short.is_empty() {
            return Finding::fail(
                "subnet_addresses_exhausted",
                format!("{}; {need_text}. Nodes that get no address never join, and the upgrade stalls.", short.join("; ")),
                "Free addresses (delete unused VMs), extend the subnet's IP pool in Prism, pick a subnet with more room, or deploy fewer nodes.",
            )
            .data(data);
        }
        if !poolless.is_empty() {
            return Finding::fail(
                "subnet_has_no_pool",
                format!(
                    "{} {} managed by Prism but {} no IP pool: the VMs would get no address.",
                    poolless.join(", "),
                    if poolless.len() == 1 { "is" } else { "are" },
                    if poolless.len() == 1 { "has" } else { "have" }
                ),
                "Add an IP pool to the subnet in Prism (Network Configuration), or pick a subnet with one.",
            )
            .data(data);
        }
        if !unknown.is_empty() {
            return Finding::warn(
                "subnet_addresses_unknown",
                format!(
                    "{} {} no Prism IPAM, so the free addresses cannot be counted; {need_text}.",
                    unknown.join(", "),
                    if unknown.len() == 1 { "has" } else { "have" }
                ),
                format!("Make sure the external DHCP server of that VLAN has at least {needed} free leases."),
            )
            .data(data)
            .value(());
        }
        Finding::pass(
            "subnet_addresses_ok",
            format!("{}; {need_text}.", fine.join("; ")),
        )
        .data(data)
        .value(())
    })
    .await
}

/// Pod and service CIDRs: valid, apart from each other, from the node subnets, from the
/// VIP and from Prism Central (pods reach PC through the node network), and large enough.
pub(crate) async fn cluster_networks(
    ctx: Arc<Ctx>,
    subnets: Step<Vec<ResolvedSubnet>>,
) -> Arc<Ran<()>> {
    let id = CheckId::ClusterNetworks;
    let started = Instant::now();
    let input = &ctx.input;
    let parsed = (
        Ipv4Net::parse(&input.pod_cidr),
        Ipv4Net::parse(&input.service_cidr),
    );
    let (pods, services) = match parsed {
        (Ok(p), Ok(s)) => (p, s),
        (p, s) => {
            let problems: Vec<String> = [("pod", p.err()), ("service", s.err())]
                .into_iter()
                .filter_map(|(what, e)| e.map(|e| format!("The {what} CIDR {e}.")))
                .collect();
            return ctx
                .timed(id, started.elapsed(), async move {
                    Finding::fail(
                        "cluster_network_invalid",
                        problems.join(" "),
                        "Write each as an IPv4 CIDR, e.g. 172.20.0.0/16 for pods and 172.19.0.0/16 for services (CAPX's defaults).",
                    )
                })
                .await;
        }
    };
    let subnets_ran = subnets.await;
    let waited = started.elapsed();
    ctx.timed(id, waited, async {
        let mut overlaps: Vec<String> = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        if pods.overlaps(&services) {
            overlaps.push(format!("the pod CIDR {pods} overlaps the service CIDR {services}"));
        }
        let vip = input.control_plane_endpoint;
        for (what, net) in [("pod", pods), ("service", services)] {
            if net.contains(vip) {
                overlaps.push(format!("the control-plane VIP {vip} is inside the {what} CIDR {net}"));
            }
        }
        if let Ok(IpAddr::V4(pc)) = ctx.prism_central_host().parse::<IpAddr>() {
            for (what, net) in [("pod", pods), ("service", services)] {
                if net.contains(pc) {
                    overlaps.push(format!(
                        "Prism Central's address {pc} is inside the {what} CIDR {net}, so the nodes' CAPX, CCM and CSI traffic to it would be routed into the cluster"
                    ));
                }
            }
        }
        // Each node gets a /24 of the pod CIDR (kube-controller-manager's default mask).
        let nodes = input.node_count() + input.upgrade_surge();
        let pod_room = if pods.prefix() >= 24 { 1 } else { 1u64 << (24 - pods.prefix()) };
        if pods.prefix() > 24 || nodes > pod_room {
            overlaps.push(format!(
                "the pod CIDR {pods} has room for {pod_room} node{} (a /24 each) but the cluster can have {nodes} during an upgrade",
                if pod_room == 1 { "" } else { "s" }
            ));
        }
        if services.prefix() >= 24 {
            warnings.push(format!(
                "the service CIDR {services} holds only {} addresses; /23 or larger (CAPX uses /16) leaves room to grow",
                services.size()
            ));
        }
        let mut node_subnets = Vec::new();
        let resolved = need(&subnets_ran, "the subnet");
        if let Ok(subnets) = &resolved {
            for s in subnets.iter() {
                match s.cidr {
                    Some(cidr) => {
                        node_subnets.push(format!("{} ({cidr})", s.name));
                        for (what, net) in [("pod", pods), ("service", services)] {
                            if net.overlaps(&cidr) {
                                overlaps.push(format!(
                                    "the {what} CIDR {net} overlaps the node subnet {} ({cidr})",
                                    s.name
                                ));
                            }
                        }
                    }
                    None => warnings.push(format!(
                        "{} has no Prism IPAM, so its network is unknown and could not be compared",
                        s.name
                    )),
                }
            }
        }
        let data = CheckData::Networks(NetworksData {
            pod_cidr: pods.to_string(),
            service_cidr: services.to_string(),
            node_subnets: node_subnets.clone(),
            overlaps: overlaps.clone(),
        });
        if !overlaps.is_empty() {
            return Finding::fail(
                "cluster_network_overlap",
                format!("{}.", capitalise(&overlaps.join("; "))),
                "Pick pod and service CIDRs that overlap neither each other nor any network the nodes must reach (CAPX's defaults are 172.20.0.0/16 for pods and 172.19.0.0/16 for services).",
            )
            .data(data);
        }
        if let Err(reason) = resolved {
            return Finding::skipped(
                "dependency_not_met",
                format!(
                    "Pods {pods} and services {services} do not overlap each other or the VIP; the node subnet was not compared. {reason}"
                ),
            )
            .data(data);
        }
        if !warnings.is_empty() {
            return Finding::warn(
                "cluster_network_warning",
                format!("{}.", capitalise(&warnings.join("; "))),
                "Check the networks by hand, or pick larger ranges.",
            )
            .data(data)
            .value(());
        }
        Finding::pass(
            "cluster_networks_ok",
            format!(
                "Pods {pods} and services {services} overlap neither each other nor the node subnet {}.",
                node_subnets.join(", ")
            ),
        )
        .data(data)
        .value(())
    })
    .await
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
