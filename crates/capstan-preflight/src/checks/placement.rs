//! Where the VMs go: the Prism Element, its subnets and the image, resolved the way CAPX
//! resolves them (prism-capx.md §7), and the image against the Kubernetes version.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use capstan_capx::render::{NameOrUuid, check_kubernetes_version};
use capstan_diagnose::CapxLine;
use capstan_prism::{Cluster, Image, NameMatch, Subnet, exact_name_matches};

use crate::model::{
    CheckData, CheckId, EntityRef, ImageData, ImageVersionData, MatchesData, SubnetFacts,
    SubnetsData,
};
use crate::net::{Ipv4Net, Ipv4Range};
use crate::runner::{Ctx, Finding, Ran, Step, need, skipped};

/// The PE the VMs go to.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedPe {
    pub uuid: String,
    pub name: String,
}

/// A subnet the VMs get a NIC on, with what Prism's IPAM says about its addresses.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedSubnet {
    pub uuid: String,
    pub name: String,
    /// Set when Prism manages the addresses (`ip_config`).
    pub cidr: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    pub dhcp_server: Option<Ipv4Addr>,
    pub pools: Vec<Ipv4Range>,
    /// `ip_usage_stats.num_free_ips`.
    pub reported_free: Option<u64>,
}

impl ResolvedSubnet {
    pub fn managed(&self) -> bool {
        self.cidr.is_some()
    }

    pub fn pools_text(&self) -> Vec<String> {
        self.pools.iter().map(ToString::to_string).collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ResolvedImage {
    pub name: String,
}

fn entity_ref<R>(e: &capstan_prism::Entity<R>) -> EntityRef {
    EntityRef {
        uuid: e.uuid().map(str::to_owned),
        name: e.name().map(str::to_owned),
        cluster: e.cluster_reference().and_then(|c| c.name.clone()),
    }
}

fn uuids<R>(items: &[&capstan_prism::Entity<R>]) -> String {
    items
        .iter()
        .map(|e| e.uuid().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn same_uuid(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

fn rule_text(rule: NameMatch) -> &'static str {
    match rule {
        NameMatch::CaseSensitive => "case-sensitively",
        NameMatch::CaseInsensitive => "ignoring case",
    }
}

/// Names that differ only by case, as a hint when a case-sensitive lookup found nothing.
fn case_hint<'a>(names: impl Iterator<Item = &'a str>, wanted: &str) -> Option<String> {
    let near: Vec<&str> = names
        .filter(|n| n.eq_ignore_ascii_case(wanted) && *n != wanted)
        .collect();
    (!near.is_empty()).then(|| {
        format!(
            " Prism Central has {} (the case differs).",
            near.iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

// ---- Prism Element ------------------------------------------------------------------------

pub(crate) async fn prism_element(ctx: Arc<Ctx>, credentials: Step<()>) -> Arc<Ran<ResolvedPe>> {
    let id = CheckId::PrismElement;
    let started = Instant::now();
    if let Err(reason) = need(&*credentials.await, "a working Prism Central login") {
        return skipped(id, reason, started.elapsed());
    }
    ctx.timed(id, started.elapsed(), async {
        let clusters = match ctx.inventory.clusters.clone().await {
            Ok(c) => c,
            Err(e) => return Finding::prism_error("listing clusters", &e),
        };
        let pes: Vec<&Cluster> = clusters.iter().filter(|c| c.is_prism_element()).collect();
        let found = match &ctx.input.prism_element {
            NameOrUuid::Name(name) => {
                match find_pe_by_name(&ctx, &clusters, &pes, name) {
                    Ok(c) => c,
                    Err(f) => return f.retype(),
                }
            }
            NameOrUuid::Uuid(uuid) => {
                match clusters.iter().find(|c| same_uuid(c.uuid(), uuid)) {
                    Some(c) if c.is_prism_element() => c,
                    Some(c) => {
                        return Finding::fail(
                            "not_a_prism_element",
                            format!(
                                "{uuid} is {} ({}), not a Prism Element: CAPX only places VMs on clusters running AOS.",
                                c.name().unwrap_or("a cluster"),
                                c.resources()
                                    .map(|r| r.config.service_list.join(", "))
                                    .unwrap_or_default()
                            ),
                            "Pick one of the Prism Elements registered with Prism Central.",
                        );
                    }
                    None => {
                        return Finding::fail(
                            "prism_element_not_found",
                            format!(
                                "Prism Central has no cluster with UUID {uuid}; CAPX would fail with \"failed to find Prism Element cluster with UUID {uuid}\"."
                            ),
                            format!("Pick one of the Prism Elements registered with Prism Central: {}.", names_of(&pes)),
                        );
                    }
                }
            }
        };
        pe_health(found)
    })
    .await
}

fn names_of(pes: &[&Cluster]) -> String {
    let names: Vec<&str> = pes.iter().filter_map(|c| c.name()).take(12).collect();
    if names.is_empty() {
        "none is registered".into()
    } else {
        names.join(", ")
    }
}

fn find_pe_by_name<'a>(
    ctx: &Ctx,
    clusters: &'a [Cluster],
    pes: &[&'a Cluster],
    name: &str,
) -> Result<&'a Cluster, Finding<()>> {
    let rule = ctx.entity_name_rule();
    let matches: Vec<&'a Cluster> = exact_name_matches(pes, name, rule, |c| c.name())
        .into_iter()
        .copied()
        .collect();
    match matches.len() {
        1 => Ok(matches[0]),
        0 => {
            let is_pc = clusters
                .iter()
                .any(|c| !c.is_prism_element() && c.name() == Some(name));
            let hint = if is_pc {
                format!(" \"{name}\" is Prism Central itself, which cannot run the cluster's VMs.")
            } else if rule == NameMatch::CaseSensitive {
                case_hint(pes.iter().filter_map(|c| c.name()), name).unwrap_or_default()
            } else {
                String::new()
            };
            Err(Finding::fail(
                "prism_element_not_found",
                format!(
                    "No Prism Element named \"{name}\" is registered with Prism Central ({} compares names {}); CAPX would fail with \"failed to retrieve Prism Element cluster by name {name}\".{hint}",
                    ctx.capx_label(),
                    rule_text(rule)
                ),
                format!("Pick one of the Prism Elements Prism Central lists: {}.", names_of(pes)),
            ))
        }
        n => Err(Finding::fail(
            "prism_element_ambiguous",
            format!(
                "{n} Prism Elements are named \"{name}\" ({}); CAPX would fail with \"more than one Prism Element cluster found with name {name}\".",
                uuids(&matches)
            ),
            "Choose the Prism Element by UUID (Capstan then writes `type: uuid` into the machine templates), or rename the duplicates.",
        )
        .data(CheckData::Matches(MatchesData {
            name: name.to_owned(),
            matches: matches.iter().map(|c| entity_ref(c)).collect(),
        }))),
    }
}

/// Availability, operation mode and hypervisor of the chosen PE (§8 item 7).
fn pe_health(pe: &Cluster) -> Finding<ResolvedPe> {
    let name = pe.name().unwrap_or("?").to_owned();
    let uuid = pe.uuid().unwrap_or_default().to_owned();
    let resolved = ResolvedPe {
        uuid: uuid.clone(),
        name: name.clone(),
    };
    let data = CheckData::PrismElement(entity_ref(pe));
    let res = pe.resources();
    let config = res.map(|r| &r.config);
    let hypervisors: Vec<String> = res
        .and_then(|r| r.nodes.as_ref())
        .map(|n| {
            n.hypervisor_server_list
                .iter()
                .filter_map(|h| h.hypervisor_type.clone())
                .collect()
        })
        .unwrap_or_default();
    if config.and_then(|c| c.is_available) == Some(false) {
        return Finding::fail(
            "prism_element_unavailable",
            format!(
                "{name} ({uuid}) is not reachable from Prism Central; CAPX would fail with \"the PE cluster {name} is not available\"."
            ),
            "Check the Prism Element's health and its connection to Prism Central (Prism Central > Clusters), or pick another Prism Element.",
        )
        .data(data)
        .value(resolved);
    }
    if let Some(other) = hypervisors.iter().find(|h| !h.eq_ignore_ascii_case("AHV")) {
        return Finding::fail(
            "prism_element_not_ahv",
            format!("{name} runs {other} hosts; CAPX creates AHV virtual machines only."),
            "Pick a Prism Element whose hosts run AHV.",
        )
        .data(data)
        .value(resolved);
    }
    let version = config
        .and_then(|c| c.build.as_ref())
        .and_then(|b| b.version.clone());
    let facts = format!(
        "{name} ({uuid}){}{}",
        version.map(|v| format!(", AOS {v}")).unwrap_or_default(),
        if hypervisors.is_empty() {
            String::new()
        } else {
            format!(", {} AHV hosts", hypervisors.len())
        }
    );
    if let Some(mode) = config
        .and_then(|c| c.operation_mode.as_deref())
        .filter(|m| !m.eq_ignore_ascii_case("NORMAL"))
    {
        return Finding::warn(
            "prism_element_not_normal",
            format!("{facts} is in operation mode {mode}, not NORMAL: creating VMs may be refused or slow."),
            "Check the Prism Element's state in Prism Element > Settings before deploying.",
        )
        .data(data)
        .value(resolved);
    }
    Finding::pass(
        "prism_element_ok",
        format!("{facts}: found exactly once and available."),
    )
    .data(data)
    .value(resolved)
}

// ---- subnets ------------------------------------------------------------------------------

pub(crate) async fn subnets(ctx: Arc<Ctx>, pe: Step<ResolvedPe>) -> Arc<Ran<Vec<ResolvedSubnet>>> {
    let id = CheckId::Subnets;
    let started = Instant::now();
    let pe = match need(&*pe.await, "the Prism Element") {
        Ok(pe) => pe,
        Err(reason) => return skipped(id, reason, started.elapsed()),
    };
    ctx.timed(id, started.elapsed(), async {
        let wanted = &ctx.input.subnets;
        if wanted.is_empty() {
            return Finding::fail(
                "no_subnet",
                "No subnet was chosen; CAPX would fail with \"at least one subnet is needed to create the VM\".",
                format!("Pick a subnet of {}.", pe.name),
            );
        }
        if let Some(dup) = wanted.iter().enumerate().find(|(i, s)| wanted[..*i].contains(s)) {
            return Finding::fail(
                "subnet_listed_twice",
                format!("{} is listed twice; CAPX gives each VM one NIC per listed subnet and refuses duplicates.", ident_text(dup.1)),
                "Remove the duplicate subnet.",
            );
        }
        let all = match ctx.inventory.subnets.clone().await {
            Ok(s) => s,
            Err(e) => return Finding::prism_error("listing subnets", &e),
        };
        let mut resolved = Vec::new();
        let mut problems: Vec<Finding<()>> = Vec::new();
        for want in wanted {
            match resolve_subnet(&all, want, &pe) {
                Ok(s) => resolved.push(s),
                Err(f) => problems.push(f),
            }
        }
        if !problems.is_empty() {
            let code = problems[0].code.clone();
            let detail = problems.iter().map(|p| p.detail.as_str()).collect::<Vec<_>>().join(" ");
            let fix = problems
                .iter()
                .filter_map(|p| p.fix.as_deref())
                .collect::<Vec<_>>()
                .join(" ");
            let mut finding = Finding::fail(&code, detail, fix);
            if let Some(data) = problems.into_iter().find_map(|p| p.data) {
                finding = finding.data(*data);
            }
            return finding;
        }
        let facts: Vec<SubnetFacts> = resolved.iter().map(|(facts, _)| facts.clone()).collect();
        let data = CheckData::Subnets(SubnetsData { subnets: facts });
        let resolved: Vec<ResolvedSubnet> = resolved.into_iter().map(|(_, s)| s).collect();
        let described: Vec<String> = resolved
            .iter()
            .map(|s| match &s.cidr {
                Some(c) => format!("{} ({c})", s.name),
                None => format!("{} (no Prism IPAM)", s.name),
            })
            .collect();
        let unmanaged: Vec<&str> = resolved
            .iter()
            .filter(|s| !s.managed())
            .map(|s| s.name.as_str())
            .collect();
        if !unmanaged.is_empty() {
            return Finding::warn(
                "subnet_unmanaged",
                format!(
                    "Found on {}: {}. {} has no Prism IPAM, so its addresses come from an external DHCP server that Capstan cannot see.",
                    pe.name,
                    described.join(", "),
                    unmanaged.join(", ")
                ),
                "Make sure a DHCP server serves that VLAN with enough free leases for every node plus an upgrade, and that the control-plane VIP is outside its scope.",
            )
            .data(data)
            .value(resolved);
        }
        Finding::pass(
            "subnets_ok",
            format!("Found exactly once on {}: {}.", pe.name, described.join(", ")),
        )
        .data(data)
        .value(resolved)
    })
    .await
}

fn ident_text(id: &NameOrUuid) -> String {
    match id {
        NameOrUuid::Name(n) => format!("\"{n}\""),
        NameOrUuid::Uuid(u) => u.clone(),
    }
}

/// OVERLAY subnets are usable from any PE; a VLAN only from the PE that owns it (CAPX rule).
pub(crate) fn usable_from(s: &Subnet, pe_uuid: &str) -> bool {
    let overlay = s
        .resources()
        .and_then(|r| r.subnet_type.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("OVERLAY"));
    overlay
        || same_uuid(
            s.cluster_reference().and_then(|c| c.uuid.as_deref()),
            pe_uuid,
        )
}

fn owner_name(s: &Subnet) -> String {
    s.cluster_reference()
        .and_then(|c| c.name.clone().or_else(|| c.uuid.clone()))
        .unwrap_or_else(|| "no Prism Element".into())
}

fn resolve_subnet(
    all: &[Subnet],
    want: &NameOrUuid,
    pe: &ResolvedPe,
) -> Result<(SubnetFacts, ResolvedSubnet), Finding<()>> {
    let subnet = match want {
        NameOrUuid::Name(name) => {
            // Subnet names are matched case-sensitively by every CAPX line.
            let same_name: Vec<&Subnet> = all
                .iter()
                .filter(|s| s.name() == Some(name.as_str()))
                .collect();
            let on_pe: Vec<&Subnet> = same_name
                .iter()
                .copied()
                .filter(|s| usable_from(s, &pe.uuid))
                .collect();
            match on_pe.len() {
                1 => on_pe[0],
                0 if !same_name.is_empty() => {
                    let owners: Vec<String> = same_name.iter().map(|s| owner_name(s)).collect();
                    return Err(Finding::fail(
                        "subnet_on_other_prism_element",
                        format!(
                            "\"{name}\" is not a subnet of {}: it belongs to {}. CAPX would fail with \"failed to retrieve subnet by name {name}\".",
                            pe.name,
                            owners.join(", ")
                        ),
                        format!(
                            "Pick a subnet of {}, or place the cluster on {} instead.",
                            pe.name,
                            owners.join(" or ")
                        ),
                    )
                    .data(CheckData::Matches(MatchesData {
                        name: name.clone(),
                        matches: same_name.iter().map(|s| entity_ref(s)).collect(),
                    })));
                }
                0 => {
                    let hint =
                        case_hint(all.iter().filter_map(|s| s.name()), name).unwrap_or_default();
                    return Err(Finding::fail(
                        "subnet_not_found",
                        format!(
                            "Prism Central has no subnet named \"{name}\"; CAPX would fail with \"failed to retrieve subnet by name {name}\".{hint}"
                        ),
                        format!("Pick one of the subnets of {}.", pe.name),
                    ));
                }
                n => {
                    return Err(Finding::fail(
                        "subnet_ambiguous",
                        format!(
                            "{n} subnets usable from {} are named \"{name}\" ({}); CAPX would fail with \"more than one subnet found with name {name}\".",
                            pe.name,
                            uuids(&on_pe)
                        ),
                        "Choose the subnet by UUID (Capstan then writes `type: uuid` into the machine templates), or rename the duplicates.",
                    )
                    .data(CheckData::Matches(MatchesData {
                        name: name.clone(),
                        matches: on_pe.iter().map(|s| entity_ref(s)).collect(),
                    })));
                }
            }
        }
        NameOrUuid::Uuid(uuid) => match all.iter().find(|s| same_uuid(s.uuid(), uuid)) {
            Some(s) if usable_from(s, &pe.uuid) => s,
            Some(s) => {
                return Err(Finding::fail(
                    "subnet_on_other_prism_element",
                    format!(
                        "Subnet {} ({uuid}) belongs to {}, not to {}: a VM on {} cannot have a NIC on it.",
                        s.name().unwrap_or("?"),
                        owner_name(s),
                        pe.name,
                        pe.name
                    ),
                    format!("Pick a subnet of {}.", pe.name),
                ));
            }
            None => {
                return Err(Finding::fail(
                    "subnet_not_found",
                    format!("Prism Central has no subnet with UUID {uuid}."),
                    format!("Pick one of the subnets of {}.", pe.name),
                ));
            }
        },
    };
    Ok(describe_subnet(subnet))
}

pub(crate) fn describe_subnet(s: &Subnet) -> (SubnetFacts, ResolvedSubnet) {
    let res = s.resources();
    let ip = res.and_then(|r| r.ip_config.as_ref());
    let cidr = ip.and_then(|c| {
        let addr: Ipv4Addr = c.subnet_ip.as_deref()?.parse().ok()?;
        Ipv4Net::new(addr, c.prefix_length?)
    });
    let gateway = ip
        .and_then(|c| c.default_gateway_ip.as_deref())
        .and_then(|g| g.parse().ok());
    let dhcp_server = ip
        .and_then(|c| c.dhcp_server_address.as_ref())
        .and_then(|d| d.get("ip"))
        .and_then(serde_json::Value::as_str)
        .and_then(|d| d.parse().ok());
    let pools: Vec<Ipv4Range> = ip
        .map(|c| {
            c.pool_list
                .iter()
                .filter_map(|p| p.range.as_deref().and_then(Ipv4Range::parse_pool))
                .collect()
        })
        .unwrap_or_default();
    let reported_free = res
        .and_then(|r| r.ip_usage_stats.as_ref())
        .and_then(|u| u.get("num_free_ips"))
        .and_then(serde_json::Value::as_u64);
    let resolved = ResolvedSubnet {
        uuid: s.uuid().unwrap_or_default().to_owned(),
        name: s.name().unwrap_or("?").to_owned(),
        cidr,
        gateway,
        dhcp_server,
        pools,
        reported_free,
    };
    let facts = SubnetFacts {
        uuid: resolved.uuid.clone(),
        name: resolved.name.clone(),
        subnet_type: res.and_then(|r| r.subnet_type.clone()),
        vlan_id: res.and_then(|r| r.vlan_id),
        cidr: cidr.map(|c| c.to_string()),
        gateway: gateway.map(|g: Ipv4Addr| g.to_string()),
        pools: resolved.pools_text(),
    };
    (facts, resolved)
}

// ---- image --------------------------------------------------------------------------------

pub(crate) async fn image(
    ctx: Arc<Ctx>,
    credentials: Step<()>,
    pe: Step<ResolvedPe>,
) -> Arc<Ran<ResolvedImage>> {
    let id = CheckId::Image;
    let started = Instant::now();
    if let Err(reason) = need(&*credentials.await, "a working Prism Central login") {
        return skipped(id, reason, started.elapsed());
    }
    // Where the image is matters only for a warning: the PE is used if it was resolved.
    let pe = pe.await.value.clone();
    ctx.timed(id, started.elapsed(), async {
        let all = match ctx.inventory.images.clone().await {
            Ok(i) => i,
            Err(e) => return Finding::prism_error("listing images", &e),
        };
        let image = match find_image(&ctx, &all) {
            Ok(i) => i,
            Err(f) => return f.retype(),
        };
        image_health(&ctx, image, pe.as_deref())
    })
    .await
}

fn find_image<'a>(ctx: &Ctx, all: &'a [Image]) -> Result<&'a Image, Finding<()>> {
    match &ctx.input.image {
        NameOrUuid::Uuid(uuid) => all
            .iter()
            .find(|i| same_uuid(i.uuid(), uuid))
            .ok_or_else(|| {
                Finding::fail(
                    "image_not_found",
                    format!("Prism Central has no image with UUID {uuid}."),
                    "Pick one of the disk images Prism Central lists, or upload the image first.",
                )
            }),
        NameOrUuid::Name(name) => {
            let rule = ctx.entity_name_rule();
            let matches = exact_name_matches(all, name, rule, |i| i.name());
            match matches.len() {
                1 => Ok(matches[0]),
                0 => {
                    let capx_text = if ctx.input.capx_line <= CapxLine::V1_7 {
                        format!("failed to retrieve image by name {name}")
                    } else {
                        format!("found no image with name {name}")
                    };
                    let mut hint = if rule == NameMatch::CaseSensitive {
                        case_hint(all.iter().filter_map(|i| i.name()), name).unwrap_or_default()
                    } else {
                        String::new()
                    };
                    if name == "placeholder-image" {
                        hint.push_str(
                            " \"placeholder-image\" is the CAPX template's default, not a real image.",
                        );
                    }
                    Err(Finding::fail(
                        "image_not_found",
                        format!(
                            "Prism Central has no image named \"{name}\" ({} compares names {}); CAPX would fail with \"{capx_text}\".{hint}",
                            ctx.capx_label(),
                            rule_text(rule)
                        ),
                        "Pick one of the disk images Prism Central lists, or upload the image (built with image-builder for this Kubernetes version) first.",
                    ))
                }
                n => Err(Finding::fail(
                    "image_ambiguous",
                    format!(
                        "{n} images are named \"{name}\" ({}); CAPX would fail with \"more than one image found with name {name}\".",
                        uuids(&matches)
                    ),
                    "Choose the image by UUID (Capstan then writes `type: uuid` into the machine templates), or delete or rename the duplicates.",
                )
                .data(CheckData::Matches(MatchesData {
                    name: name.clone(),
                    matches: matches
                        .iter()
                        .map(|i| EntityRef {
                            uuid: i.uuid().map(str::to_owned),
                            name: i.name().map(str::to_owned),
                            cluster: i.resources().map(|r| {
                                r.current_cluster_reference_list
                                    .iter()
                                    .filter_map(|c| c.name.clone())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            }),
                        })
                        .collect(),
                }))),
            }
        }
    }
}

/// Type, state, presence on the PE and size against the system disks (§8 item 9, 12).
fn image_health(ctx: &Ctx, image: &Image, pe: Option<&ResolvedPe>) -> Finding<ResolvedImage> {
    let name = image.name().unwrap_or("?").to_owned();
    let res = image.resources();
    let present_on: Vec<String> = res
        .map(|r| {
            r.current_cluster_reference_list
                .iter()
                .filter_map(|c| c.name.clone().or_else(|| c.uuid.clone()))
                .collect()
        })
        .unwrap_or_default();
    let data = CheckData::Image(ImageData {
        uuid: image.uuid().map(str::to_owned),
        name: Some(name.clone()),
        image_type: res.and_then(|r| r.image_type.clone()),
        state: image.state().map(str::to_owned),
        size_bytes: res.and_then(|r| r.size_bytes),
        present_on: present_on.clone(),
    });
    let resolved = ResolvedImage { name: name.clone() };
    let image_type = res.and_then(|r| r.image_type.as_deref()).unwrap_or("");
    if !image_type.is_empty() && !image_type.eq_ignore_ascii_case("DISK_IMAGE") {
        return Finding::fail(
            "image_not_a_disk",
            format!("{name} is an {image_type}; CAPX clones the system disk from a disk image."),
            "Pick a disk image built for Kubernetes (image-builder's Nutanix output), not an installer ISO.",
        )
        .data(data);
    }
    match image.state() {
        Some(s) if s.eq_ignore_ascii_case("COMPLETE") => {}
        Some(s) if s.to_ascii_uppercase().contains("DELETE") => {
            return Finding::fail(
                "image_being_deleted",
                format!("CAPX would fail with \"system disk image {name} is being deleted\" (state {s})."),
                "Pick another image.",
            )
            .data(data);
        }
        Some(s) => {
            return Finding::fail(
                "image_not_ready",
                format!("{name} is not ready to use (state {s}, not COMPLETE): its upload has not finished."),
                "Wait until the image shows as Active in Prism Central, then run the preflight again.",
            )
            .data(data);
        }
        None => {}
    }
    let size = res.and_then(|r| r.size_bytes);
    let small_disks: Vec<String> = size
        .map(|size| {
            ctx.input
                .pools()
                .into_iter()
                .filter(|(_, _, p)| p.system_disk.bytes() < u128::from(size))
                .map(|(_, label, p)| format!("{label} ({})", p.system_disk))
                .collect()
        })
        .unwrap_or_default();
    let size_text = size
        .map(|s| format!("{:.1} GiB", s as f64 / f64::from(1u32 << 30)))
        .unwrap_or_else(|| "unknown size".into());
    if !small_disks.is_empty() {
        return Finding::warn(
            "system_disk_smaller_than_image",
            format!(
                "{name} is {size_text}, larger than the system disk of {}: the disk cloned from it cannot be smaller than the image.",
                small_disks.join(", ")
            ),
            format!("Give every pool a system disk of at least {size_text}."),
        )
        .data(data)
        .value(resolved);
    }
    if let Some(pe) = pe
        && !present_on.is_empty()
        && !present_on
            .iter()
            .any(|c| c == &pe.name || c.eq_ignore_ascii_case(&pe.uuid))
    {
        return Finding::warn(
            "image_not_on_prism_element",
            format!(
                "{name} is found exactly once but is stored on {}, not on {}: Prism Central copies it there when the first VM is created, so the first nodes boot slowly.",
                present_on.join(", "),
                pe.name
            ),
            format!("Nothing blocks the deploy; to avoid the wait, copy the image to {} in Prism Central first.", pe.name),
        )
        .data(data)
        .value(resolved);
    }
    Finding::pass(
        "image_ok",
        format!(
            "{name} ({}) found exactly once: a disk image, {size_text}, ready{}.",
            image.uuid().unwrap_or("?"),
            pe.map(|p| format!(", on {}", p.name)).unwrap_or_default()
        ),
    )
    .data(data)
    .value(resolved)
}

// ---- image vs Kubernetes version ----------------------------------------------------------

/// The Kubernetes version an image name carries: the first `1.x` or `1.x.y`, optionally
/// `v`-prefixed, standing as its own word (`capx-ubuntu-2204-kube-v1.30.5` → `1.30.5`,
/// `kubedistro-rocky-9.5-1.32.3-20250604` → `1.32.3`).
pub fn kubernetes_version_in_name(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for start in 0..bytes.len() {
        // Bytes, not `&name[start..]`: a non-ASCII name has positions that are not char boundaries.
        if !bytes[start..].starts_with(b"1.") {
            continue;
        }
        let before_ok = match start {
            0 => true,
            _ => {
                let b = bytes[start - 1];
                if b == b'v' || b == b'V' {
                    start == 1 || !word(bytes[start - 2])
                } else {
                    !word(b)
                }
            }
        };
        if !before_ok {
            continue;
        }
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let minor = digits(start + 2);
        if minor == 0 {
            continue;
        }
        let mut end = start + 2 + minor;
        if bytes.get(end) == Some(&b'.') {
            let patch = digits(end + 1);
            if patch > 0 {
                end += 1 + patch;
            }
        }
        if bytes.get(end).is_some_and(|b| word(*b)) {
            continue;
        }
        return Some(name[start..end].to_owned());
    }
    None
}

/// `v1.30.4+rke2r1` → `1.30.4`.
pub(crate) fn core_version(version: &str) -> &str {
    let v = version.trim().trim_start_matches(['v', 'V']);
    v.split(['+', '-']).next().unwrap_or(v)
}

fn versions_match(image: &str, cluster: &str) -> bool {
    if image.split('.').count() >= 3 {
        image == cluster
    } else {
        // `1.30` in the name: only the minor version can be compared.
        cluster.split('.').take(2).collect::<Vec<_>>().join(".") == image
    }
}

pub(crate) async fn image_kubernetes_version(
    ctx: Arc<Ctx>,
    credentials: Step<()>,
    image: Step<ResolvedImage>,
) -> Arc<Ran<()>> {
    let id = CheckId::ImageKubernetesVersion;
    let started = Instant::now();
    let k8s = ctx.input.kubernetes_version.clone();
    if let Err(e) = check_kubernetes_version(&k8s) {
        return ctx
            .timed(id, started.elapsed(), async move {
                Finding::fail(
                    "kubernetes_version_invalid",
                    format!("The Kubernetes version {e}."),
                    "Pick a Kubernetes version from the cluster profile, written like v1.30.4.",
                )
            })
            .await;
    }
    // A name tells the version at once; a UUID needs the image check's answer.
    let name = match &ctx.input.image {
        NameOrUuid::Name(n) => n.clone(),
        NameOrUuid::Uuid(_) => match need(&*image.await, "the image's name") {
            Ok(i) => i.name.clone(),
            Err(reason) => return skipped(id, reason, started.elapsed()),
        },
    };
    // Suggestions need a working login: another attempt with rejected credentials could
    // lock the account.
    let logged_in = credentials.await.value.is_some();
    ctx.timed(id, started.elapsed(), async {
        let cluster_version = core_version(&k8s).to_owned();
        let in_name = kubernetes_version_in_name(&name);
        // Suggestions: images whose names carry the cluster's version.
        let images = if logged_in {
            ctx.inventory.images.clone().await.ok()
        } else {
            None
        };
        let matching_images: Vec<String> = match images {
            Some(all) => {
                let mut names: Vec<String> = all
                    .iter()
                    .filter_map(|i| i.name())
                    .filter(|n| {
                        kubernetes_version_in_name(n)
                            .is_some_and(|v| versions_match(&v, &cluster_version))
                    })
                    .map(str::to_owned)
                    .collect();
                names.sort();
                names.dedup();
                names
            }
            None => Vec::new(),
        };
        let data = CheckData::ImageVersion(ImageVersionData {
            image: name.clone(),
            image_version: in_name.clone(),
            kubernetes_version: k8s.clone(),
            matching_images: matching_images.clone(),
        });
        let suggestion = match (logged_in, matching_images.is_empty()) {
            (false, _) => String::new(),
            (true, true) => format!(
                " No image in Prism Central names {k8s}; build one with image-builder and upload it."
            ),
            (true, false) => format!(" Images for {k8s}: {}.", matching_images.join(", ")),
        };
        match in_name {
            None => Finding::warn(
                "image_version_unknown",
                format!("The image name \"{name}\" does not say which Kubernetes version it carries, so it cannot be compared with {k8s}."),
                format!("Make sure the image was built for {k8s}: kubelet and kubeadm come from the image.{suggestion}"),
            )
            .data(data)
            .value(()),
            Some(v) if versions_match(&v, &cluster_version) => Finding::pass(
                "image_version_ok",
                format!("The image \"{name}\" carries Kubernetes {v}, as the cluster ({k8s}) needs."),
            )
            .data(data)
            .value(()),
            Some(v) => Finding::fail(
                "image_kubernetes_mismatch",
                format!(
                    "The cluster is set to Kubernetes {k8s} but the image \"{name}\" carries {v}: kubeadm and kubelet come from the image, so the nodes would not join or would run the wrong version."
                ),
                format!("Pick an image built for {k8s}, or set the Kubernetes version to v{v}.{suggestion}"),
            )
            .data(data),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_image_names() {
        let cases = [
            ("capx-ubuntu-2204-kube-v1.30.5", Some("1.30.5")),
            ("ubuntu-2204-kube-v1.30.4", Some("1.30.4")),
            (
                "kubedistro-rocky-9.5-vgpu-1.32.3-20250604180644",
                Some("1.32.3"),
            ),
            ("rhel-8.10-k8s-1.29", Some("1.29")),
            ("V1.31.0-image", Some("1.31.0")),
            ("ubuntu-22.04.5-live-server-amd64.iso", None),
            ("kubev1.30.4", None),
            ("image-11.30.4", None),
            ("node-1.30x", None),
            ("", None),
            // Non-ASCII names (an en dash, an accent) are read, not a panic.
            ("ubuntu–kube–v1.30.5", Some("1.30.5")),
            ("imagé-1.31.2", Some("1.31.2")),
            ("ü1.30", Some("1.30")),
        ];
        for (name, want) in cases {
            assert_eq!(kubernetes_version_in_name(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn versions_compare_by_patch_or_by_minor() {
        assert!(versions_match("1.30.5", core_version("v1.30.5")));
        assert!(!versions_match("1.30.5", core_version("v1.30.4")));
        assert!(versions_match("1.30", core_version("v1.30.4+build.1")));
        assert!(!versions_match("1.30", core_version("v1.31.0")));
    }
}
