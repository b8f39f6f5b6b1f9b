//! Shared test helpers: where the upstream CAPX fixtures live, and fixed choices.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::PathBuf;

use capstan_capx::render::{BootType, ClusterChoices, KubeVipToggles, NameOrUuid, PoolChoices};
use capstan_capx::sizes::Quantity;

/// Upstream release templates used as fixtures, with the CAPX version each is from.
pub const FIXTURE_VERSIONS: [&str; 3] = ["v1.5.4", "v1.8.6", "v1.10.3"];

/// `$CAPSTAN_SPECS_DIR/capx`, else `<workspace>/../shared/specs/capx`. `None` (after a loud
/// SKIPPED line) when the directory is not there.
pub fn capx_specs(test: &str) -> Option<PathBuf> {
    let base = match std::env::var_os("CAPSTAN_SPECS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs"),
    };
    let dir = base.join("capx");
    if dir.join("templates").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {test} because the CAPX fixtures are not at {} (set CAPSTAN_SPECS_DIR to a copy of shared/specs)",
            dir.display()
        );
        None
    }
}

/// The upstream cluster-template.yaml of a release.
pub fn upstream_template(dir: &std::path::Path, version: &str) -> String {
    let path = dir.join(format!("templates/cluster-template-{version}.yaml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub const TEST_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTESTTESTTESTTESTTESTTESTTESTwCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n";

pub fn cluster_choices() -> ClusterChoices {
    ClusterChoices {
        cluster_name: "ntx-dev-1".into(),
        control_plane_endpoint_ip: Ipv4Addr::new(10, 20, 30, 40),
        control_plane_endpoint_port: 6443,
        trust_bundle_pem: Some(TEST_PEM.into()),
    }
}

pub fn q(text: &str) -> Quantity {
    Quantity::parse(text).expect("test quantity")
}

/// Control-plane pool chosen by name everywhere.
pub fn control_plane_choices() -> PoolChoices {
    PoolChoices {
        name: None,
        replicas: 3,
        vcpu_sockets: 2,
        vcpus_per_socket: 2,
        memory: q("8Gi"),
        system_disk: q("60Gi"),
        boot_type: BootType::Legacy,
        prism_element: NameOrUuid::name("PE-Cluster-01").expect("name"),
        subnets: vec![NameOrUuid::name("vlan.120").expect("name")],
        image: NameOrUuid::name("ubuntu-2204-kube-v1.30.4").expect("name"),
        kubernetes_version: "v1.30.4".into(),
        ssh_authorized_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTKEY capstan@test".into(),
        tls_cipher_suites: None,
        kube_vip: KubeVipToggles {
            svc_enable: true,
            lb_enable: false,
            svc_election: false,
        },
    }
}

/// Worker pool: PE by UUID (an ambiguous name), two subnets, UEFI, custom pool name.
pub fn worker_choices() -> PoolChoices {
    PoolChoices {
        name: Some("workers-a".into()),
        replicas: 4,
        vcpu_sockets: 4,
        vcpus_per_socket: 1,
        memory: q("16Gi"),
        system_disk: q("80Gi"),
        boot_type: BootType::Uefi,
        prism_element: NameOrUuid::uuid("0005f1c2-7d3e-4a51-9b2e-1c2d3e4f5a6b").expect("uuid"),
        subnets: vec![
            NameOrUuid::name("vlan.120").expect("name"),
            NameOrUuid::uuid("8b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b").expect("uuid"),
        ],
        image: NameOrUuid::name("ubuntu-2204-kube-v1.30.4").expect("name"),
        kubernetes_version: "v1.30.4".into(),
        ssh_authorized_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTKEY capstan@test".into(),
        tls_cipher_suites: Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()),
        kube_vip: KubeVipToggles::default(),
    }
}
