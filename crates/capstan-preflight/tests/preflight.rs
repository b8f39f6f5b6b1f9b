//! The preflight against sandbox estates: all checks pass on a healthy one, and each check
//! fails on an estate built to trip it, with the others unaffected.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use capstan_capx::render::NameOrUuid;
use capstan_diagnose::CapxLine;
use capstan_preflight::{CheckData, CheckId, Outcome, PreflightInput, PreflightOptions};
use capstan_prism::NameMatch;
use capstan_sandbox::{FaultKind, FaultRule, FaultService};
use common::*;

#[tokio::test]
async fn every_check_passes_on_a_healthy_estate() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let input = healthy_input(&sb, &prism).await;
    let report = run(&input, &prism).await;

    assert_eq!(report.checks.len(), CheckId::ALL.len());
    let ids: Vec<CheckId> = report.checks.iter().map(|c| c.id).collect();
    assert_eq!(ids, CheckId::ALL, "report order");
    others_pass(&report, &[]);
    assert!(report.can_deploy);
    assert_eq!(report.verdict, Outcome::Pass);
    for c in &report.checks {
        assert!(c.fix.is_none(), "{:?} passed but suggests a fix", c.id);
        assert!(!c.detail.is_empty(), "{:?} says nothing", c.id);
    }
    // What the checks found is what the estate holds.
    let pe = prism
        .find_prism_element(PE, NameMatch::CaseSensitive)
        .await
        .expect("pe");
    match &report.check(CheckId::PrismElement).expect("pe").data {
        Some(CheckData::PrismElement(r)) => assert_eq!(r.uuid.as_deref(), pe.uuid()),
        other => panic!("PE data: {other:?}"),
    }
    match &report
        .check(CheckId::SubnetCapacity)
        .expect("addresses")
        .data
    {
        Some(CheckData::Addresses(a)) => {
            assert_eq!((a.nodes, a.surge), (5, 2));
            let s = &a.subnets[0];
            assert_eq!(s.pool_size, 990);
            assert!(s.in_use > 0, "the seeded VMs hold pool addresses");
            // Counted from the VMs (stopped ones included, from their spec), the free
            // addresses agree with what Prism reports.
            assert_eq!(s.free, s.pool_size - s.in_use);
            assert_eq!(Some(s.free), s.reported_free);
        }
        other => panic!("address data: {other:?}"),
    }

    // The wire shape is camelCase, with the outcome and data tagged for the UI.
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["canDeploy"], true);
    assert_eq!(json["checks"][2]["id"], "prismElement");
    assert_eq!(json["checks"][2]["outcome"], "pass");
    assert!(json["checks"][2]["elapsedMs"].is_u64());
    assert_eq!(json["checks"][11]["data"]["kind"], "capacity");
    assert!(json["checks"][11]["data"]["freeMemoryMib"].is_u64());
}

#[tokio::test]
async fn input_round_trips_as_camel_case_json() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let input = healthy_input(&sb, &prism).await;
    let json = serde_json::to_value(&input).expect("json");
    assert_eq!(json["capxLine"], "1.7");
    assert_eq!(json["prismElement"]["type"], "name");
    assert_eq!(json["controlPlane"]["memory"], "8Gi");
    assert_eq!(json["workerPools"][0]["bootType"], "legacy");
    let back: PreflightInput = serde_json::from_value(json.clone()).expect("read back");
    assert_eq!(back, input);
    let mut bad = json;
    bad["controlPlane"]["memory"] = "8 GB".into();
    assert!(serde_json::from_value::<PreflightInput>(bad).is_err());
}

#[tokio::test]
async fn a_prism_element_name_used_twice_fails_and_its_uuid_resolves_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = edited_sandbox(dir.path(), |prism| {
        let clusters = prism["clusters"].as_array_mut().expect("clusters");
        let mut twin = clusters
            .iter()
            .find(|c| c["name"] == OTHER_PE)
            .expect("second PE")
            .clone();
        twin["name"] = PE.into();
        twin["uuid"] = "0006aaaa-1111-4222-8333-444455556666".into();
        clusters.push(twin);
    })
    .await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::PrismElement,
        Outcome::Fail,
        "prism_element_ambiguous",
    );
    let c = report.check(CheckId::PrismElement).expect("pe");
    assert!(
        c.detail.contains(&format!(
            "more than one Prism Element cluster found with name {PE}"
        )),
        "{}",
        c.detail
    );
    assert!(c.fix.as_deref().is_some_and(|f| f.contains("UUID")));
    let Some(CheckData::Matches(m)) = &c.data else {
        panic!("matches: {:?}", c.data)
    };
    assert_eq!(m.matches.len(), 2);
    // What needs the PE is skipped, saying why.
    for id in [
        CheckId::Subnets,
        CheckId::PrismElementCapacity,
        CheckId::VipInSubnet,
        CheckId::SubnetCapacity,
    ] {
        expect(&report, id, Outcome::Skipped, "dependency_not_met");
        let detail = &report.check(id).expect("check").detail;
        assert!(detail.contains("Prism Element"), "{id:?}: {detail}");
    }
    assert!(!report.can_deploy);

    // Picking the real one by UUID passes everything.
    let real = m
        .matches
        .iter()
        .find(|e| e.uuid.as_deref() != Some("0006aaaa-1111-4222-8333-444455556666"))
        .and_then(|e| e.uuid.clone())
        .expect("the seeded PE");
    input.prism_element = NameOrUuid::uuid(&real).expect("uuid");
    let report = run(&input, &prism).await;
    others_pass(&report, &[]);
}

#[tokio::test]
async fn a_subnet_of_another_prism_element_fails() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    input.subnets = vec![name("pe-cluster-02-vlan110")];
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::Subnets,
        Outcome::Fail,
        "subnet_on_other_prism_element",
    );
    let c = report.check(CheckId::Subnets).expect("subnets");
    assert!(
        c.detail
            .contains("failed to retrieve subnet by name pe-cluster-02-vlan110")
            && c.detail.contains(OTHER_PE),
        "{}",
        c.detail
    );
    assert!(report.check(CheckId::VipInSubnet).expect("vip").outcome == Outcome::Skipped);
    // By UUID, the same subnet is refused for the same reason.
    let other = subnet(&prism, "pe-cluster-02-vlan110").await;
    input.subnets = vec![NameOrUuid::uuid(other.uuid().expect("uuid")).expect("uuid")];
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::Subnets,
        Outcome::Fail,
        "subnet_on_other_prism_element",
    );
}

#[tokio::test]
async fn two_images_with_one_name_fail_and_the_uuid_resolves_it() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    let twice = "capx-ubuntu-2204-kube-v1.29.10";
    input.image = name(twice);
    input.kubernetes_version = "v1.29.10".into();
    let report = run(&input, &prism).await;
    expect(&report, CheckId::Image, Outcome::Fail, "image_ambiguous");
    let c = report.check(CheckId::Image).expect("image");
    assert!(
        c.detail
            .contains(&format!("more than one image found with name {twice}")),
        "{}",
        c.detail
    );
    assert!(c.fix.as_deref().is_some_and(|f| f.contains("UUID")));
    others_pass(&report, &[CheckId::Image]);

    let Some(CheckData::Matches(m)) = &c.data else {
        panic!("matches: {:?}", c.data)
    };
    assert_eq!(m.matches.len(), 2);
    let on_both = m
        .matches
        .iter()
        .find(|e| e.cluster.as_deref().is_some_and(|c| c.contains(OTHER_PE)))
        .and_then(|e| e.uuid.clone())
        .expect("the copy on both PEs");
    input.image = NameOrUuid::uuid(&on_both).expect("uuid");
    let report = run(&input, &prism).await;
    others_pass(&report, &[]);
}

#[tokio::test]
async fn a_vip_in_the_dhcp_pool_fails() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    let pool = pools_of(&subnet(&prism, SUBNET).await)[0];
    let used = used_addresses(&prism).await;
    let in_pool = (pool.first..=pool.last)
        .rev()
        .map(Ipv4Addr::from)
        .find(|ip| !used.contains(ip))
        .expect("a free pool address");
    input.control_plane_endpoint = in_pool;
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::VipInSubnet,
        Outcome::Fail,
        "vip_in_ip_pool",
    );
    let c = report.check(CheckId::VipInSubnet).expect("vip");
    assert!(c.detail.contains(&pool.to_string()), "{}", c.detail);
    // The fix offers the addresses outside the pool.
    assert!(
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("10.64.3.232-10.64.3.254")),
        "{:?}",
        c.fix
    );
    others_pass(&report, &[CheckId::VipInSubnet]);
}

#[tokio::test]
async fn a_vip_used_by_a_vm_fails() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    // The sample cluster's kube-vip VIP: a LEARNED address on one of its control-plane VMs.
    let vms = prism.list_vms(None).await.expect("vms");
    let (vip, holder) = vms
        .iter()
        .find_map(|vm| {
            let learned = vm
                .resources()?
                .nic_list
                .iter()
                .flat_map(|n| n.ip_endpoint_list.iter())
                .find(|e| e.ip_kind.as_deref() == Some("LEARNED"))?;
            Some((learned.ip.clone()?, vm.name()?.to_owned()))
        })
        .expect("the sample cluster's VIP");
    input.control_plane_endpoint = vip.parse().expect("ipv4");
    let report = run(&input, &prism).await;
    expect(&report, CheckId::VipUnused, Outcome::Fail, "vip_in_use");
    let c = report.check(CheckId::VipUnused).expect("vip");
    assert!(
        c.detail.contains(&holder) && c.detail.contains("LEARNED"),
        "{}",
        c.detail
    );
    others_pass(&report, &[CheckId::VipUnused]);

    // A stopped VM shows no IP in its status but keeps its address (in its spec).
    let raw: Vec<serde_json::Value> = prism.list_all("vms/list", "vm", None).await.expect("vms");
    let (stopped, ip) = raw
        .iter()
        .find_map(|vm| {
            if vm["status"]["resources"]["power_state"] != "OFF" {
                return None;
            }
            let ip =
                vm["spec"]["resources"]["nic_list"][0]["ip_endpoint_list"][0]["ip"].as_str()?;
            Some((vm["status"]["name"].as_str()?.to_owned(), ip.to_owned()))
        })
        .expect("a stopped VM with an address in the seeded estate");
    input.control_plane_endpoint = ip.parse().expect("ipv4");
    let report = run(&input, &prism).await;
    expect(&report, CheckId::VipUnused, Outcome::Fail, "vip_in_use");
    let c = report.check(CheckId::VipUnused).expect("vip");
    assert!(c.detail.contains(&stopped), "{}", c.detail);
}

#[tokio::test]
async fn a_vip_equal_to_the_prism_central_address_fails() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    let pc_ip = prism
        .prism_central()
        .await
        .expect("prism_central")
        .resources
        .virtual_ip
        .expect("virtual ip");
    input.control_plane_endpoint = pc_ip.parse().expect("ipv4");
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::VipNotPrism,
        Outcome::Fail,
        "vip_is_prism_central",
    );
    let c = report.check(CheckId::VipNotPrism).expect("vip");
    assert!(
        c.detail.contains(&format!(
            "prism central and control plane endpoint cannot have the same IP \"{pc_ip}\""
        )),
        "{}",
        c.detail
    );
    // The PC's address is not in the node subnet either.
    expect(
        &report,
        CheckId::VipInSubnet,
        Outcome::Fail,
        "vip_outside_subnet",
    );
    others_pass(&report, &[CheckId::VipNotPrism, CheckId::VipInSubnet]);

    // The address given for CAPX counts too, even when Prism does not list it.
    let mut input = healthy_input(&sb, &prism).await;
    input.prism_central_address = format!("https://{}:9440", input.control_plane_endpoint);
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::VipNotPrism,
        Outcome::Fail,
        "vip_is_prism_central",
    );
}

#[tokio::test]
async fn a_vip_outside_the_subnet_fails() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    input.control_plane_endpoint = Ipv4Addr::new(10, 99, 0, 5);
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::VipInSubnet,
        Outcome::Fail,
        "vip_outside_subnet",
    );
    let c = report.check(CheckId::VipInSubnet).expect("vip");
    assert!(c.detail.contains("10.64.0.0/22"), "{}", c.detail);
    others_pass(&report, &[CheckId::VipInSubnet]);
}

#[tokio::test]
async fn a_subnet_without_enough_free_addresses_fails() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    input.control_plane = pool(1, "8Gi", "40Gi");
    input.worker_pools = vec![pool(1, "8Gi", "40Gi")];
    // Fill the pool through the v3 API until 3 addresses are left; the cluster needs 4
    // (2 nodes + 2 surge).
    let s = subnet(&prism, SUBNET).await;
    let free = s
        .resources()
        .and_then(|r| r.ip_usage_stats.as_ref())
        .and_then(|u| u["num_free_ips"].as_u64())
        .expect("ip usage");
    let pe = prism
        .find_prism_element(PE, NameMatch::CaseSensitive)
        .await
        .expect("pe");
    let nics = vec![s.uuid().expect("uuid").to_owned(); (free - 3) as usize];
    create_vm(
        &prism,
        "address-hog",
        pe.uuid().expect("uuid"),
        &nics,
        1,
        1024,
    )
    .await;

    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::SubnetCapacity,
        Outcome::Fail,
        "subnet_addresses_exhausted",
    );
    let c = report.check(CheckId::SubnetCapacity).expect("addresses");
    assert!(
        c.detail.contains("has 3 free addresses") && c.detail.contains("needs 4"),
        "{}",
        c.detail
    );
    others_pass(&report, &[CheckId::SubnetCapacity]);
}

#[tokio::test]
async fn a_prism_element_without_headroom_fails() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let input = healthy_input(&sb, &prism).await;
    // Three large VMs take the PE's memory (3 hosts of 768 GiB).
    let pe = prism
        .find_prism_element(PE, NameMatch::CaseSensitive)
        .await
        .expect("pe");
    for i in 0..3 {
        create_vm(
            &prism,
            &format!("memory-hog-{i}"),
            pe.uuid().expect("uuid"),
            &[],
            8,
            700 * 1024,
        )
        .await;
    }
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::PrismElementCapacity,
        Outcome::Fail,
        "prism_element_capacity_exhausted",
    );
    let c = report
        .check(CheckId::PrismElementCapacity)
        .expect("capacity");
    assert!(c.detail.contains("of memory"), "{}", c.detail);
    let Some(CheckData::Capacity(data)) = &c.data else {
        panic!("capacity data: {:?}", c.data)
    };
    assert!(data.allocated_memory_mib >= 3 * 700 * 1024);
    assert!(data.needed_memory_mib > data.free_memory_mib);
    others_pass(&report, &[CheckId::PrismElementCapacity]);

    // The same pools fit on the other PE.
    let mut elsewhere = input.clone();
    elsewhere.prism_element = name(OTHER_PE);
    elsewhere.subnets = vec![name("pe-cluster-02-vlan110")];
    let s = subnet(&prism, "pe-cluster-02-vlan110").await;
    let last = pools_of(&s).iter().map(|p| p.last).max().expect("pool");
    elsewhere.control_plane_endpoint = Ipv4Addr::from(last + 10);
    let report = run(&elsewhere, &prism).await;
    others_pass(&report, &[]);
}

#[tokio::test]
async fn undersized_pools_fail_with_capx_texts() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    input.control_plane = pool(2, "4Gi", "40Gi");
    input.worker_pools = vec![pool(2, "1536Mi", "30Gi")];
    let report = run(&input, &prism).await;
    let c = report.check(CheckId::MachineSizes).expect("sizes");
    assert_eq!(c.outcome, Outcome::Fail, "{}", c.detail);
    assert!(
        c.detail
            .contains("CAPX would fail with \"minimum memorySize is 2048Mib but given 1536Mib\""),
        "{}",
        c.detail
    );
    let Some(CheckData::Sizes(sizes)) = &c.data else {
        panic!("sizes: {:?}", c.data)
    };
    let codes: Vec<&str> = sizes.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(
        codes,
        vec!["control_plane_count_not_odd", "memory_below_minimum"]
    );
    others_pass(&report, &[CheckId::MachineSizes]);

    // A system disk below CAPX's minimum is also smaller than the 20 GiB image.
    input.control_plane = pool(3, "4Gi", "10Gi");
    input.worker_pools = vec![pool(2, "4Gi", "40Gi")];
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::MachineSizes,
        Outcome::Fail,
        "system_disk_below_minimum",
    );
    expect(
        &report,
        CheckId::Image,
        Outcome::Warn,
        "system_disk_smaller_than_image",
    );
}

#[tokio::test]
async fn overlapping_cluster_networks_fail() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    input.pod_cidr = "10.64.0.0/16".into();
    input.service_cidr = "10.64.128.0/20".into();
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::ClusterNetworks,
        Outcome::Fail,
        "cluster_network_overlap",
    );
    let c = report.check(CheckId::ClusterNetworks).expect("networks");
    for part in [
        "the pod CIDR 10.64.0.0/16 overlaps the service CIDR 10.64.128.0/20",
        "the pod CIDR 10.64.0.0/16 overlaps the node subnet pe-cluster-01-vlan110 (10.64.0.0/22)",
        "inside the pod CIDR",
    ] {
        assert!(
            c.detail.to_lowercase().contains(&part.to_lowercase()),
            "{part}: {}",
            c.detail
        );
    }
    others_pass(&report, &[CheckId::ClusterNetworks]);

    // Only the service CIDR on the node subnet.
    input.pod_cidr = "172.20.0.0/16".into();
    input.service_cidr = "10.64.0.0/24".into();
    let report = run(&input, &prism).await;
    let c = report.check(CheckId::ClusterNetworks).expect("networks");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.detail
            .contains("service CIDR 10.64.0.0/24 overlaps the node subnet"),
        "{}",
        c.detail
    );
}

#[tokio::test]
async fn wrong_credentials_fail_and_skip_what_needs_prism() {
    let sb = sandbox().await;
    let good = client(&sb);
    let input = healthy_input(&sb, &good).await;
    let bad = client_for(&sb.prism_url(), sb.prism_user(), "not-the-password");
    let report = run(&input, &bad).await;
    expect(
        &report,
        CheckId::Credentials,
        Outcome::Fail,
        "credentials_rejected",
    );
    let c = report.check(CheckId::Credentials).expect("credentials");
    assert!(
        c.detail.contains("invalid Nutanix credentials"),
        "{}",
        c.detail
    );
    assert!(c.fix.as_deref().is_some_and(|f| f.contains("password")));
    for id in [
        CheckId::PrismCentralVersion,
        CheckId::PrismElement,
        CheckId::Subnets,
        CheckId::Image,
        CheckId::VipInSubnet,
        CheckId::VipNotPrism,
        CheckId::VipUnused,
        CheckId::SubnetCapacity,
        CheckId::PrismElementCapacity,
        CheckId::ClusterNetworks,
    ] {
        let c = report.check(id).expect("check");
        assert_eq!(c.outcome, Outcome::Skipped, "{id:?}: {}", c.detail);
    }
    // What needs no Prism still ran.
    expect(
        &report,
        CheckId::MachineSizes,
        Outcome::Pass,
        "machine_sizes_ok",
    );
    expect(
        &report,
        CheckId::ImageKubernetesVersion,
        Outcome::Pass,
        "image_version_ok",
    );
    assert!(!report.can_deploy);
    assert_eq!(report.verdict, Outcome::Fail);
}

#[tokio::test]
async fn an_unreachable_prism_central_fails_fast() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let input = healthy_input(&sb, &prism).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let nowhere = client_for(&format!("http://127.0.0.1:{closed}"), "admin", "x");
    let report = run(&input, &nowhere).await;
    expect(
        &report,
        CheckId::Credentials,
        Outcome::Fail,
        "prism_central_unreachable",
    );
    assert_eq!(outcome(&report, CheckId::PrismElement), Outcome::Skipped);
}

#[tokio::test]
async fn an_old_prism_central_fails_for_a_newer_capx_line() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    input.capx_line = CapxLine::V1_8;
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::PrismCentralVersion,
        Outcome::Fail,
        "prism_central_too_old",
    );
    let c = report.check(CheckId::PrismCentralVersion).expect("version");
    assert!(
        c.detail.contains(
            "Prism Central version \"pc.2024.3.1.1\" is older than the minimum supported version 7.3"
        ),
        "{}",
        c.detail
    );
    assert!(
        c.fix.as_deref().is_some_and(|f| f.contains("1.7.x")),
        "the fix names the CAPX lines that would work: {:?}",
        c.fix
    );
    others_pass(&report, &[CheckId::PrismCentralVersion]);
}

#[tokio::test]
async fn an_image_for_another_kubernetes_version_fails() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    input.kubernetes_version = "v1.31.4".into();
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::ImageKubernetesVersion,
        Outcome::Fail,
        "image_kubernetes_mismatch",
    );
    let c = report
        .check(CheckId::ImageKubernetesVersion)
        .expect("version");
    assert!(c.detail.contains("carries 1.30.5"), "{}", c.detail);
    assert!(
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("capx-ubuntu-2204-kube-v1.31.4")),
        "the fix offers the image for v1.31.4: {:?}",
        c.fix
    );
    others_pass(&report, &[CheckId::ImageKubernetesVersion]);

    // By UUID, the name is taken from Prism.
    let image = prism
        .find_image(IMAGE, NameMatch::CaseSensitive)
        .await
        .expect("image");
    input.image = NameOrUuid::uuid(image.uuid().expect("uuid")).expect("uuid");
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::ImageKubernetesVersion,
        Outcome::Fail,
        "image_kubernetes_mismatch",
    );
}

#[tokio::test]
async fn an_unavailable_prism_element_and_an_unfinished_image_fail() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    assert!(sb.set_pe_available(PE, false));
    input.image = name("capx-ubuntu-2404-kube-v1.32.2");
    input.kubernetes_version = "v1.32.2".into();
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::PrismElement,
        Outcome::Fail,
        "prism_element_unavailable",
    );
    assert!(
        report
            .check(CheckId::PrismElement)
            .expect("pe")
            .detail
            .contains(&format!("the PE cluster {PE} is not available"))
    );
    expect(&report, CheckId::Image, Outcome::Fail, "image_not_ready");
    // The PE was still found, so what depends on it ran.
    expect(&report, CheckId::Subnets, Outcome::Pass, "subnets_ok");
}

#[tokio::test]
async fn a_slow_prism_times_out_one_check_without_holding_up_the_others() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let input = healthy_input(&sb, &prism).await;
    sb.faults().add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/hosts/list",
            FaultKind::Latency { ms: 5_000 },
        )
        .method("POST"),
    );
    let options = PreflightOptions {
        check_timeout: Duration::from_millis(800),
        ..PreflightOptions::default()
    };
    let started = Instant::now();
    let report = capstan_preflight::run(&input, &prism, &options).await;
    let took = started.elapsed();

    expect(
        &report,
        CheckId::PrismElementCapacity,
        Outcome::Error,
        "timeout",
    );
    let c = report
        .check(CheckId::PrismElementCapacity)
        .expect("capacity");
    assert!(c.detail.contains("0.8 s"), "{}", c.detail);
    assert!(c.elapsed_ms >= 800, "{}", c.elapsed_ms);
    others_pass(&report, &[CheckId::PrismElementCapacity]);
    for other in report
        .checks
        .iter()
        .filter(|c| c.id != CheckId::PrismElementCapacity)
    {
        assert!(
            other.elapsed_ms + other.waited_ms < 800,
            "{:?} waited for the slow one: {} + {} ms",
            other.id,
            other.waited_ms,
            other.elapsed_ms
        );
    }
    assert!(took < Duration::from_millis(2_500), "{took:?}");
    assert!(!report.can_deploy, "an unfinished check blocks the deploy");
    assert_eq!(report.verdict, Outcome::Error);
    assert!(
        report.summary.contains("could not finish"),
        "{}",
        report.summary
    );
    let fired: u64 = sb.faults().get().rules.iter().map(|r| r.fired).sum();
    assert_eq!(fired, 1, "the hosts list was requested once, and slowed");
}

#[tokio::test]
async fn names_are_matched_as_the_capx_line_does() {
    let sb = sandbox().await;
    let prism = client(&sb);
    let mut input = healthy_input(&sb, &prism).await;
    input.prism_element = name("PE-Cluster-01");
    input.image = name("CAPX-Ubuntu-2204-Kube-v1.30.5");
    // CAPX 1.7 (v3) compares PE and image names case-sensitively...
    let report = run(&input, &prism).await;
    expect(
        &report,
        CheckId::PrismElement,
        Outcome::Fail,
        "prism_element_not_found",
    );
    let c = report.check(CheckId::PrismElement).expect("pe");
    assert!(
        c.detail
            .contains("failed to retrieve Prism Element cluster by name PE-Cluster-01")
            && c.detail.contains("\"pe-cluster-01\" (the case differs)"),
        "{}",
        c.detail
    );
    expect(&report, CheckId::Image, Outcome::Fail, "image_not_found");
    assert!(
        report
            .check(CheckId::Image)
            .expect("image")
            .detail
            .contains("failed to retrieve image by name CAPX-Ubuntu-2204-Kube-v1.30.5")
    );
    // ...CAPX 1.8 (v4) ignores case (and needs a newer Prism Central).
    input.capx_line = CapxLine::V1_8;
    let report = run(&input, &prism).await;
    others_pass(&report, &[CheckId::PrismCentralVersion]);
}

#[test]
fn the_input_is_built_from_the_render_choices() {
    use capstan_capx::render::{ClusterChoices, KubeVipToggles, PoolChoices};
    let cp = PoolChoices {
        name: None,
        replicas: 3,
        vcpu_sockets: 2,
        vcpus_per_socket: 1,
        memory: capstan_capx::sizes::Quantity::gib(8),
        system_disk: capstan_capx::sizes::Quantity::gib(40),
        boot_type: capstan_capx::render::BootType::Uefi,
        prism_element: name(PE),
        subnets: vec![name(SUBNET)],
        image: name(IMAGE),
        kubernetes_version: K8S.into(),
        ssh_authorized_key: "ssh-ed25519 AAAA test".into(),
        tls_cipher_suites: None,
        kube_vip: KubeVipToggles::default(),
    };
    let worker = PoolChoices {
        name: Some("workers".into()),
        replicas: 4,
        ..cp.clone()
    };
    let cluster = ClusterChoices {
        cluster_name: "demo".into(),
        control_plane_endpoint_ip: Ipv4Addr::new(10, 64, 3, 240),
        control_plane_endpoint_port: 6443,
        trust_bundle_pem: None,
    };
    let input = PreflightInput::from_choices(
        "pc.example.com",
        LINE,
        &cluster,
        &cp,
        std::slice::from_ref(&worker),
        "172.20.0.0/16",
        "172.19.0.0/16",
    )
    .expect("one placement");
    assert_eq!(
        input.control_plane_endpoint,
        cluster.control_plane_endpoint_ip
    );
    assert_eq!(input.prism_element, name(PE));
    assert_eq!(input.worker_pools[0].replicas, 4);
    assert_eq!(
        input.control_plane.boot_type,
        capstan_capx::render::BootType::Uefi
    );
    assert_eq!((input.node_count(), input.upgrade_surge()), (7, 2));

    let elsewhere = PoolChoices {
        image: name("capx-rockylinux-9-kube-v1.30.5"),
        ..worker
    };
    let err = PreflightInput::from_choices(
        "pc.example.com",
        LINE,
        &cluster,
        &cp,
        &[elsewhere],
        "172.20.0.0/16",
        "172.19.0.0/16",
    )
    .expect_err("two placements");
    assert!(err.contains("worker pool workers"), "{err}");
}
