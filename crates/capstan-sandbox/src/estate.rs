//! Deterministic estate generator: the same seed and size give byte-identical inventories.
//!
//! Layout (names are stable so tests, demos and docs can rely on them):
//! - `prism-central` (the PC itself, `service_list: [PRISM_CENTRAL]`) and PEs `pe-cluster-01`,
//!   `pe-cluster-02`, ... (`[AOS]`; one more PE per 5,000 VMs).
//! - Per PE: `<pe>-vlan110` (IPAM), `<pe>-vlan120` (no `ip_config`, unmanaged), more IPAM
//!   VLANs as the estate grows; `vm-network` exists on both of the first two PEs (duplicate
//!   name); `overlay-k8s` is an OVERLAY subnet with no cluster reference.
//! - CAPI images `capx-ubuntu-2204-kube-v1.29.10`, `...-v1.30.5`, `...-v1.31.4`,
//!   `capx-rockylinux-9-kube-v1.30.5`, a duplicate `capx-ubuntu-2204-kube-v1.29.10`, an ISO
//!   `ubuntu-22.04.5-live-server-amd64.iso`, and filler images when the estate grows.
//! - Projects `default` (is_default) and `platform-team`; hosts per PE; VMs spread over
//!   PEs/subnets with IPs from the pools; the sample cluster `demo-k8s` (3 CP + 2 workers,
//!   category `KubernetesClusterName=demo-k8s`, one CP with the VIP as a `LEARNED` IP).

use std::collections::BTreeMap;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::prism::world::*;
use crate::util::{ipv4_to_string, name_suffix, uuid_from};

pub(crate) const SAMPLE_CLUSTER: &str = "demo-k8s";
pub(crate) const K8S_VERSIONS: &[&str] = &["v1.29.10", "v1.30.5", "v1.31.4"];

fn created(rng: &mut ChaCha8Rng) -> String {
    // A fixed epoch keeps the output identical between runs with the same seed.
    let base = time::macros::datetime!(2025-06-01 00:00:00 UTC);
    let t = base + time::Duration::minutes(rng.random_range(0..(60 * 24 * 300)));
    crate::util::rfc3339(t)
}

fn mac(rng: &mut ChaCha8Rng) -> String {
    let b: [u8; 3] = [rng.random(), rng.random(), rng.random()];
    format!("50:6b:8d:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from(std::net::Ipv4Addr::new(a, b, c, d))
}

pub(crate) fn generate(seed: u64, vms: usize) -> PrismWorld {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_pe = 2 + vms / 5000;
    let mut clusters = Table::new();
    let pc_uuid = uuid_from(&mut rng);
    clusters.insert(ClusterRec {
        uuid: pc_uuid.clone(),
        name: "prism-central".into(),
        is_pc: true,
        external_ip: "10.0.0.10".into(),
        data_services_ip: String::new(),
        hypervisor_ips: vec![],
        is_available: true,
        created: created(&mut rng),
    });
    // About 50 VMs per host, so a PE has the CPU headroom a real estate of that size keeps
    // (a 4:1 vCPU overcommit on 64-core hosts) and a new cluster still fits.
    let hosts_per_pe = (vms / n_pe / 50).clamp(3, 64);
    let mut pes: Vec<Ref> = Vec::new();
    let mut hosts = Table::new();
    let mut pe_hosts: Vec<Vec<Ref>> = Vec::new();
    for i in 0..n_pe {
        // PE uuids look like cluster incarnation ids (0005...).
        let u = uuid_from(&mut rng);
        let uuid = format!("0006{}", &u[4..]);
        let name = format!("pe-cluster-{:02}", i + 1);
        let third = (i + 1) as u8;
        let hv: Vec<String> = (0..hosts_per_pe)
            .map(|h| ipv4_to_string(ip(10, 1, third, 20 + h as u8)))
            .collect();
        let mut these = Vec::new();
        for (h, hv_ip) in hv.iter().enumerate() {
            let hu = uuid_from(&mut rng);
            let hname = format!("{name}-node-{}", h + 1);
            these.push((hu.clone(), hname.clone()));
            hosts.insert(HostRec {
                uuid: hu,
                name: hname,
                cluster: (uuid.clone(), name.clone()),
                cvm_ip: ipv4_to_string(ip(10, 1, third, 120 + h as u8)),
                hypervisor_ip: hv_ip.clone(),
                sockets: 2,
                // Total cores (`num_cpu_cores`): two 32-core sockets.
                cores: 64,
                memory_mib: 768 * 1024,
                serial: format!("21SM{:06}", rng.random_range(0..1_000_000)),
                created: created(&mut rng),
            });
        }
        clusters.insert(ClusterRec {
            uuid: uuid.clone(),
            name: name.clone(),
            is_pc: false,
            external_ip: ipv4_to_string(ip(10, 1, third, 10)),
            data_services_ip: ipv4_to_string(ip(10, 1, third, 11)),
            hypervisor_ips: hv,
            is_available: true,
            created: created(&mut rng),
        });
        pes.push((uuid, name));
        pe_hosts.push(these);
    }

    // Subnets: network addresses are carved as consecutive /22s from 10.64.0.0.
    let mut subnets = Table::new();
    let mut next_net: u32 = ip(10, 64, 0, 0);
    let mut carve = || {
        let n = next_net;
        next_net += 1024;
        n
    };
    let mut ipam_subnets: Vec<(usize, String, String)> = Vec::new(); // (pe index, uuid, name)
    let mut plain_subnets: Vec<(usize, String, String)> = Vec::new();
    let target_subnets = (vms / 50).max(3 * n_pe + 2);
    let mut per_pe_extra = vec![0u32; n_pe];
    for (i, pe) in pes.iter().enumerate() {
        for (vlan, with_ipam) in [(110u32, true), (120u32, false)] {
            let u = uuid_from(&mut rng);
            let name = format!("{}-vlan{vlan}", pe.1);
            let net = carve();
            subnets.insert(SubnetRec {
                uuid: u.clone(),
                name: name.clone(),
                overlay: false,
                vlan_id: vlan,
                cluster: Some(pe.clone()),
                ipam: with_ipam.then(|| Ipam::new(net, 22, 990)),
                vpc: None,
                created: created(&mut rng),
            });
            if with_ipam {
                ipam_subnets.push((i, u, name));
            } else {
                plain_subnets.push((i, u, name));
            }
        }
        if i < 2 {
            let u = uuid_from(&mut rng);
            let net = carve();
            subnets.insert(SubnetRec {
                uuid: u.clone(),
                name: "vm-network".into(),
                overlay: false,
                vlan_id: 0,
                cluster: Some(pe.clone()),
                ipam: Some(Ipam::new(net, 22, 990)),
                vpc: None,
                created: created(&mut rng),
            });
            ipam_subnets.push((i, u, "vm-network".into()));
        }
    }
    let vpc = (uuid_from(&mut rng), "capstan-vpc".to_owned());
    let net = carve();
    subnets.insert(SubnetRec {
        uuid: uuid_from(&mut rng),
        name: "overlay-k8s".into(),
        overlay: true,
        vlan_id: 0,
        cluster: None,
        ipam: Some(Ipam::new(net, 22, 990)),
        vpc: Some(vpc),
        created: created(&mut rng),
    });
    let mut k = 0usize;
    while subnets.len() < target_subnets {
        let i = k % n_pe;
        k += 1;
        per_pe_extra[i] += 1;
        let vlan = 200 + per_pe_extra[i] * 10;
        let u = uuid_from(&mut rng);
        let name = format!("{}-vlan{vlan}", pes[i].1);
        let net = carve();
        // Every fourth extra subnet is unmanaged (no IPAM), like real estates.
        let with_ipam = !per_pe_extra[i].is_multiple_of(4);
        subnets.insert(SubnetRec {
            uuid: u.clone(),
            name: name.clone(),
            overlay: false,
            vlan_id: vlan,
            cluster: Some(pes[i].clone()),
            ipam: with_ipam.then(|| Ipam::new(net, 22, 990)),
            vpc: None,
            created: created(&mut rng),
        });
        if with_ipam {
            ipam_subnets.push((i, u, name));
        } else {
            plain_subnets.push((i, u, name));
        }
    }

    // Images.
    let mut images = Table::new();
    let all_pes = pes.clone();
    let add_image = |images: &mut Table<ImageRec>,
                     rng: &mut ChaCha8Rng,
                     name: String,
                     iso: bool,
                     clusters: Vec<Ref>,
                     state: &'static str| {
        let u = uuid_from(rng);
        let mut sum = [0u8; 32];
        rng.fill_bytes(&mut sum);
        images.insert(ImageRec {
            uuid: u.clone(),
            source_uri: format!("https://images.capstan.local/{name}"),
            name: name.clone(),
            iso,
            size_bytes: if iso { 2_136_926_208 } else { 21_474_836_480 },
            clusters,
            state,
            checksum: hex::encode(sum),
            created: created(rng),
        });
        (u, name)
    };
    let mut capi_images: BTreeMap<String, Ref> = BTreeMap::new();
    for v in K8S_VERSIONS {
        let r = add_image(
            &mut images,
            &mut rng,
            format!("capx-ubuntu-2204-kube-{v}"),
            false,
            all_pes.clone(),
            "COMPLETE",
        );
        capi_images.insert((*v).to_owned(), r);
    }
    add_image(
        &mut images,
        &mut rng,
        "capx-rockylinux-9-kube-v1.30.5".into(),
        false,
        all_pes.clone(),
        "COMPLETE",
    );
    // Duplicate name (CAPX #260): the same image uploaded again, present on one PE only.
    add_image(
        &mut images,
        &mut rng,
        "capx-ubuntu-2204-kube-v1.29.10".into(),
        false,
        vec![all_pes[0].clone()],
        "COMPLETE",
    );
    add_image(
        &mut images,
        &mut rng,
        "ubuntu-22.04.5-live-server-amd64.iso".into(),
        true,
        all_pes.clone(),
        "COMPLETE",
    );
    // An upload still in progress: listed, but not usable yet.
    add_image(
        &mut images,
        &mut rng,
        "capx-ubuntu-2404-kube-v1.32.2".into(),
        false,
        vec![all_pes[0].clone()],
        "PENDING",
    );
    let target_images = (vms / 25).max(7);
    let mut f = 0usize;
    while images.len() < target_images {
        f += 1;
        let pe = all_pes[f % all_pes.len()].clone();
        let (name, iso) = match f % 5 {
            0 => (format!("tools-{f:05}.iso"), true),
            1 => (format!("rhel-9.4-template-{f:05}"), false),
            2 => (format!("windows-2022-golden-{f:05}"), false),
            3 => (
                format!("capx-ubuntu-2204-kube-v1.28.{}-build{f:05}", f % 16),
                false,
            ),
            _ => (format!("appliance-{f:05}.qcow2"), false),
        };
        add_image(&mut images, &mut rng, name, iso, vec![pe], "COMPLETE");
    }

    // Projects.
    let mut projects = Table::new();
    let default_project = (uuid_from(&mut rng), "default".to_owned());
    let team_project = (uuid_from(&mut rng), "platform-team".to_owned());
    projects.insert(ProjectRec {
        uuid: default_project.0.clone(),
        name: default_project.1.clone(),
        is_default: true,
        clusters: pes.clone(),
        subnets: vec![],
        created: created(&mut rng),
    });
    let team_subnets: Vec<Ref> = ipam_subnets
        .iter()
        .take(2)
        .map(|(_, u, n)| (u.clone(), n.clone()))
        .collect();
    projects.insert(ProjectRec {
        uuid: team_project.0.clone(),
        name: team_project.1.clone(),
        is_default: false,
        clusters: pes.clone(),
        subnets: team_subnets,
        created: created(&mut rng),
    });

    let mut world = PrismWorld {
        pc_uuid,
        pc_vm: None,
        clusters,
        subnets,
        images,
        vms: Table::new(),
        hosts,
        projects,
        tasks: Table::new(),
        categories: BTreeMap::new(),
    };
    seed_categories(&mut world);
    let layout = Layout::of(&world, &pes);

    // The PC VM itself, on the first PE.
    let pc_vm = make_vm(
        &mut world,
        &mut rng,
        "prism-central-vm".into(),
        0,
        &pes,
        &pe_hosts,
        &layout,
        None,
        &default_project,
        BTreeMap::new(),
        (6, 1, 28 * 1024, 500 * 1024),
    );
    world.pc_vm = Some(pc_vm);

    // The sample Kubernetes cluster on pe-cluster-01 / its vlan110 subnet.
    let k8s_subnet = ipam_subnets[0].clone();
    let k8s_row = world.subnets.position(&k8s_subnet.1).unwrap_or(0);
    let k8s_layout = Layout {
        managed: (0..n_pe)
            .map(|i| {
                if i == 0 {
                    vec![((k8s_subnet.1.clone(), k8s_subnet.2.clone()), k8s_row)]
                } else {
                    vec![]
                }
            })
            .collect(),
        unmanaged: vec![vec![]; n_pe],
    };
    let img = capi_images.get("v1.30.5").cloned();
    let mut cats = BTreeMap::new();
    cats.insert(
        "KubernetesClusterName".to_owned(),
        SAMPLE_CLUSTER.to_owned(),
    );
    world.add_category_value("KubernetesClusterName", SAMPLE_CLUSTER, "Managed by CAPX");
    let mut first_cp = None;
    for i in 0..5 {
        let name = if i < 3 {
            format!("{SAMPLE_CLUSTER}-kcp-{}", name_suffix(&mut rng, 5))
        } else {
            format!(
                "{SAMPLE_CLUSTER}-wmd-{}-{}",
                name_suffix(&mut rng, 10),
                name_suffix(&mut rng, 5)
            )
        };
        let r = make_vm(
            &mut world,
            &mut rng,
            name,
            0,
            &pes,
            &pe_hosts,
            &k8s_layout,
            img.clone(),
            &default_project,
            cats.clone(),
            (2, 1, 4096, 40 * 1024),
        );
        if i == 0 {
            first_cp = Some(r);
        }
    }
    if let Some(cp) = first_cp {
        let vip = world
            .subnets
            .get(&k8s_subnet.1)
            .and_then(|s| s.data.ipam.as_ref().map(|i| i.first_free_outside_pool()));
        if let Some(vip) = vip {
            world.vms.update(&cp.0, |vm| {
                if let Some(nic) = vm.nics.first_mut() {
                    nic.ips.push(IpEndpoint {
                        ip: ipv4_to_string(vip),
                        learned: true,
                    });
                }
            });
        }
    }

    // Everything else.
    let words = [
        "web", "db", "app", "cache", "build", "jump", "mon", "log", "api", "etl",
    ];
    let mut n = 0usize;
    while world.vms.len() < vms.max(world.vms.len()) {
        n += 1;
        let pe_idx = n % n_pe;
        let word = words[rng.random_range(0..words.len())];
        let name = format!("{word}-{:05}", n);
        let shape = match rng.random_range(0..4) {
            0 => (1, 2, 2048, 20 * 1024),
            1 => (2, 2, 8192, 60 * 1024),
            2 => (4, 1, 16384, 100 * 1024),
            _ => (2, 1, 4096, 40 * 1024),
        };
        let project = if n.is_multiple_of(7) {
            &team_project
        } else {
            &default_project
        };
        let mut cats = BTreeMap::new();
        if n.is_multiple_of(3) {
            cats.insert("AppType".to_owned(), "Default".to_owned());
        }
        if n.is_multiple_of(5) {
            cats.insert(
                "Environment".to_owned(),
                if n.is_multiple_of(2) {
                    "Production"
                } else {
                    "Dev"
                }
                .to_owned(),
            );
        }
        make_vm(
            &mut world, &mut rng, name, pe_idx, &pes, &pe_hosts, &layout, None, project, cats,
            shape,
        );
    }
    for row in world.subnets.rows.iter_mut() {
        row.json = row.data.to_json().to_string();
    }
    world
}

/// Per-PE subnets VMs can be placed on: `(subnet ref, table row)`.
struct Layout {
    managed: Vec<Vec<(Ref, usize)>>,
    unmanaged: Vec<Vec<(Ref, usize)>>,
}

impl Layout {
    fn of(world: &PrismWorld, pes: &[Ref]) -> Self {
        let mut managed = vec![Vec::new(); pes.len()];
        let mut unmanaged = vec![Vec::new(); pes.len()];
        for (row, s) in world.subnets.rows.iter().enumerate() {
            let Some(c) = &s.data.cluster else { continue };
            let Some(pe) = pes.iter().position(|p| p.0 == c.0) else {
                continue;
            };
            let r = ((s.data.uuid.clone(), s.data.name.clone()), row);
            if s.data.ipam.is_some() {
                managed[pe].push(r);
            } else {
                unmanaged[pe].push(r);
            }
        }
        Self { managed, unmanaged }
    }
}

fn seed_categories(world: &mut PrismWorld) {
    let system = [
        (
            "AppType",
            "Application type",
            &["Default", "Kubernetes", "Exchange", "Oracle_DB"][..],
        ),
        (
            "Environment",
            "Environment",
            &["Production", "Dev", "Testing", "Staging"][..],
        ),
        ("AppTier", "Application tier", &["Default", "Web", "DB"][..]),
    ];
    for (key, desc, values) in system {
        let mut vals = BTreeMap::new();
        for v in values {
            vals.insert((*v).to_owned(), String::new());
        }
        world.categories.insert(
            key.to_owned(),
            CategoryKey {
                description: desc.to_owned(),
                system_defined: true,
                values: vals,
            },
        );
    }
    world.categories.insert(
        "KubernetesClusterName".to_owned(),
        CategoryKey {
            description: "Managed by CAPX".to_owned(),
            system_defined: false,
            values: BTreeMap::new(),
        },
    );
}

#[allow(clippy::too_many_arguments)]
fn make_vm(
    world: &mut PrismWorld,
    rng: &mut ChaCha8Rng,
    name: String,
    pe_idx: usize,
    pes: &[Ref],
    pe_hosts: &[Vec<Ref>],
    layout: &Layout,
    image: Option<Ref>,
    project: &Ref,
    categories: BTreeMap<String, String>,
    shape: (u32, u32, u64, u64),
) -> Ref {
    let uuid = uuid_from(rng);
    // Mostly IPAM subnets of this PE; one VM in eight sits on an unmanaged VLAN.
    let managed = &layout.managed[pe_idx];
    let unmanaged = &layout.unmanaged[pe_idx];
    let use_plain =
        !unmanaged.is_empty() && (rng.next_u32().is_multiple_of(8) || managed.is_empty());
    let power_on = !rng.next_u32().is_multiple_of(10);
    let mut nics = Vec::new();
    let nic_uuid = uuid_from(rng);
    let nic_mac = mac(rng);
    if use_plain {
        let (s, _) = &unmanaged[(rng.next_u32() as usize) % unmanaged.len()];
        let learned = format!(
            "172.16.{}.{}",
            rng.random_range(0..255),
            rng.random_range(2..254)
        );
        nics.push(Nic {
            uuid: nic_uuid,
            mac: nic_mac,
            subnet: s.clone(),
            ips: vec![IpEndpoint {
                ip: learned,
                learned: true,
            }],
            pool_ip: None,
        });
    } else if !managed.is_empty() {
        let (s, row) = &managed[(rng.next_u32() as usize) % managed.len()];
        // Cached subnet JSON is refreshed once after generation, not per VM.
        let allocated = std::sync::Arc::make_mut(&mut world.subnets.rows[*row].data)
            .ipam
            .as_mut()
            .and_then(Ipam::allocate);
        nics.push(Nic {
            uuid: nic_uuid,
            mac: nic_mac,
            subnet: s.clone(),
            ips: allocated
                .map(|a| {
                    vec![IpEndpoint {
                        ip: ipv4_to_string(a),
                        learned: false,
                    }]
                })
                .unwrap_or_default(),
            pool_ip: allocated,
        });
    }
    let hosts = &pe_hosts[pe_idx];
    let host = (!hosts.is_empty() && power_on)
        .then(|| hosts[(rng.next_u32() as usize) % hosts.len()].clone());
    let (sockets, per_socket, mem, disk) = shape;
    world.vms.insert(VmRec {
        uuid: uuid.clone(),
        name: name.clone(),
        cluster: pes[pe_idx].clone(),
        host,
        power_on: power_on || categories.contains_key("KubernetesClusterName"),
        sockets,
        vcpus_per_socket: per_socket,
        memory_mib: mem,
        disk_mib: disk,
        image,
        nics,
        categories,
        project: project.clone(),
        uefi: rng.next_u32().is_multiple_of(4),
        created: created(rng),
        description: String::new(),
    });
    (uuid, name)
}
