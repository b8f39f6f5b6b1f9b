//! Sandbox estates for the preflight tests, built through the sandbox's public surface:
//! its seeded estate, the Prism v3 create endpoint (`POST /vms`), its controls (faults, PE
//! availability) and, where neither can make the estate, its state file.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use capstan_capx::render::{BootType, NameOrUuid};
use capstan_capx::sizes::Quantity;
use capstan_diagnose::CapxLine;
use capstan_preflight::net::Ipv4Range;
use capstan_preflight::{
    CheckId, Outcome, PoolInput, PreflightInput, PreflightOptions, PreflightReport,
};
use capstan_prism::{
    HttpConfig, NameMatch, PrismAuth, PrismClient, PrismConfig, RetryPolicy, Subnet,
};
use capstan_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

pub const PE: &str = "pe-cluster-01";
pub const OTHER_PE: &str = "pe-cluster-02";
pub const SUBNET: &str = "pe-cluster-01-vlan110";
pub const IMAGE: &str = "capx-ubuntu-2204-kube-v1.30.5";
pub const K8S: &str = "v1.30.5";
/// The sandbox runs pc.2024.3.1.1: CAPX 1.7 accepts it, 1.8 needs PC 7.3.
pub const LINE: CapxLine = CapxLine::V1_7;

/// A small estate (20 VMs over two PEs) on plain HTTP.
pub fn config() -> SandboxConfig {
    SandboxConfig {
        vms: 20,
        time_scale: 0.01,
        tls: false,
        ..SandboxConfig::default()
    }
}

pub async fn sandbox() -> Sandbox {
    capstan_sandbox::start(config())
        .await
        .expect("sandbox starts")
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        max_total: Duration::from_secs(5),
        max_retry_after: Duration::from_secs(1),
    }
}

pub fn client_for(url: &str, user: &str, password: &str) -> PrismClient {
    PrismClient::new(PrismConfig {
        http: HttpConfig {
            no_proxy: true,
            retry: quick_retries(),
            connect_timeout: Duration::from_secs(2),
            ..HttpConfig::default()
        },
        ..PrismConfig::new(
            url,
            PrismAuth::Basic {
                username: user.to_owned(),
                password: password.into(),
            },
        )
    })
    .expect("client")
}

pub fn client(sb: &Sandbox) -> PrismClient {
    client_for(
        &sb.prism_url(),
        sb.prism_user(),
        sb.prism_password().expose(),
    )
}

pub fn options() -> PreflightOptions {
    PreflightOptions {
        check_timeout: Duration::from_secs(15),
        ..PreflightOptions::default()
    }
}

pub fn pool(replicas: u32, memory: &str, disk: &str) -> PoolInput {
    PoolInput {
        name: None,
        replicas,
        vcpu_sockets: 2,
        vcpus_per_socket: 2,
        memory: Quantity::parse(memory).expect("quantity"),
        system_disk: Quantity::parse(disk).expect("quantity"),
        boot_type: BootType::Legacy,
    }
}

pub fn name(n: &str) -> NameOrUuid {
    NameOrUuid::name(n).expect("name")
}

/// The pool range(s) of a subnet.
pub fn pools_of(subnet: &Subnet) -> Vec<Ipv4Range> {
    subnet
        .resources()
        .and_then(|r| r.ip_config.as_ref())
        .map(|c| {
            c.pool_list
                .iter()
                .filter_map(|p| p.range.as_deref().and_then(Ipv4Range::parse_pool))
                .collect()
        })
        .unwrap_or_default()
}

pub async fn subnet(prism: &PrismClient, name: &str) -> Subnet {
    prism
        .find_subnet(name, NameMatch::CaseSensitive)
        .await
        .expect("subnet of the seeded estate")
}

/// Every IPv4 address a VM holds in Prism (ASSIGNED and LEARNED).
pub async fn used_addresses(prism: &PrismClient) -> Vec<Ipv4Addr> {
    let vms = prism.list_vms(None).await.expect("vms");
    vms.iter()
        .filter_map(|vm| vm.resources())
        .flat_map(|r| r.nic_list.iter())
        .flat_map(|n| n.ip_endpoint_list.iter())
        .filter_map(|e| e.ip.as_deref()?.parse().ok())
        .collect()
}

/// A free address of `SUBNET` outside its pool: what a user would pick for the VIP.
pub async fn free_vip(prism: &PrismClient) -> Ipv4Addr {
    let s = subnet(prism, SUBNET).await;
    let last_pool = pools_of(&s).iter().map(|p| p.last).max().expect("pool");
    let used = used_addresses(prism).await;
    (last_pool + 8..last_pool + 20)
        .map(Ipv4Addr::from)
        .find(|ip| !used.contains(ip))
        .expect("a free address after the pool")
}

/// Deploy choices that pass every check on the seeded estate.
pub async fn healthy_input(sb: &Sandbox, prism: &PrismClient) -> PreflightInput {
    PreflightInput {
        prism_central_address: sb.prism_url(),
        capx_line: LINE,
        prism_element: name(PE),
        subnets: vec![name(SUBNET)],
        image: name(IMAGE),
        control_plane_endpoint: free_vip(prism).await,
        kubernetes_version: K8S.to_owned(),
        control_plane: pool(3, "8Gi", "40Gi"),
        worker_pools: vec![pool(2, "16Gi", "60Gi")],
        pod_cidr: "172.20.0.0/16".to_owned(),
        service_cidr: "172.19.0.0/16".to_owned(),
    }
}

pub async fn run(input: &PreflightInput, prism: &PrismClient) -> PreflightReport {
    capstan_preflight::run(input, prism, &options()).await
}

pub fn outcome(report: &PreflightReport, id: CheckId) -> Outcome {
    report.check(id).expect("every check is reported").outcome
}

/// Asserts one check's outcome and code, printing the report when it differs.
pub fn expect(report: &PreflightReport, id: CheckId, outcome: Outcome, code: &str) {
    let c = report.check(id).expect("every check is reported");
    assert!(
        c.outcome == outcome && c.code == code,
        "{id:?}: expected {outcome:?}/{code}, got {:?}/{}: {}\nreport: {}",
        c.outcome,
        c.code,
        c.detail,
        serde_json::to_string_pretty(report).unwrap_or_default()
    );
}

/// Every check other than `except` passed (so a failing estate trips only what it should).
pub fn others_pass(report: &PreflightReport, except: &[CheckId]) {
    for c in &report.checks {
        if !except.contains(&c.id) {
            assert_eq!(
                c.outcome,
                Outcome::Pass,
                "{:?} should pass: {} ({})",
                c.id,
                c.detail,
                c.code
            );
        }
    }
}

/// Creates a powered-on VM on `pe_uuid` through `POST /vms`, with one NIC per entry of
/// `nics` (subnet UUIDs).
pub async fn create_vm(
    prism: &PrismClient,
    vm_name: &str,
    pe_uuid: &str,
    nics: &[String],
    vcpus: u32,
    memory_mib: u64,
) {
    let nic_list: Vec<_> = nics
        .iter()
        .map(|u| json!({"subnet_reference": {"kind": "subnet", "uuid": u}}))
        .collect();
    let body = json!({
        "metadata": {"kind": "vm"},
        "spec": {
            "name": vm_name,
            "cluster_reference": {"kind": "cluster", "uuid": pe_uuid},
            "resources": {
                "num_sockets": 1,
                "num_vcpus_per_socket": vcpus,
                "memory_size_mib": memory_mib,
                "nic_list": nic_list,
            },
        },
    });
    let _: serde_json::Value = prism.post_json("vms", &body).await.expect("VM created");
}

/// A sandbox whose Prism world was edited as JSON before it started: the running sandbox
/// saves its state file, `edit` changes the `prism` part, and a new sandbox with the same
/// seed and size restores it. For estates no API can build (two PEs with one name).
pub async fn edited_sandbox(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> Sandbox {
    let file = dir.join("state.json");
    let with_file = || SandboxConfig {
        state_file: Some(file.clone()),
        ..config()
    };
    let first = capstan_sandbox::start(with_file())
        .await
        .expect("sandbox starts");
    first.shutdown().await;
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("state file written"))
            .expect("state file is JSON");
    edit(&mut state["prism"]);
    std::fs::write(&file, serde_json::to_vec(&state).expect("json")).expect("write state");
    let sb = capstan_sandbox::start(with_file())
        .await
        .expect("sandbox restarts");
    assert!(
        sb.is_restored(),
        "the sandbox did not load the edited state file (its format changed?)"
    );
    sb
}
