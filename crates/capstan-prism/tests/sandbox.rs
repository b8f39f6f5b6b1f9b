//! The Prism client against the Capstan sandbox: auth, inventory, TLS policies and faults.

use std::time::Duration;

use capstan_prism::{
    ClusterRole, HttpConfig, NameMatch, PrismAuth, PrismClient, PrismConfig, ProductKind,
    RetryPolicy, TlsPolicy,
};
use capstan_sandbox::{FaultKind, FaultRule, FaultService, Sandbox, SandboxConfig};

/// Every counted fault rule fired as often as it may: the faults really happened.
fn assert_faults_fired(sb: &Sandbox) {
    for rule in sb.faults().get().rules {
        if let Some(count) = rule.count {
            assert_eq!(
                rule.fired, count,
                "fault {:?} on {} did not fire",
                rule.kind, rule.path
            );
        }
    }
}

async fn sandbox(vms: usize) -> Sandbox {
    capstan_sandbox::start(SandboxConfig {
        vms,
        time_scale: 0.01,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_total: Duration::from_secs(20),
        max_retry_after: Duration::from_secs(3),
    }
}

fn client_with(sb: &Sandbox, tls: TlsPolicy, url: String) -> PrismClient {
    PrismClient::new(PrismConfig {
        http: HttpConfig {
            tls,
            no_proxy: true,
            retry: fast_retries(),
            ..HttpConfig::default()
        },
        ..PrismConfig::new(
            url,
            PrismAuth::Basic {
                username: sb.prism_user().to_owned(),
                password: sb.prism_password().clone(),
            },
        )
    })
    .expect("client")
}

fn pinned(sb: &Sandbox) -> PrismClient {
    let pin = sb.certificate_sha256().expect("tls sandbox");
    client_with(sb, TlsPolicy::Pinned { sha256_hex: pin }, sb.prism_url())
}

#[tokio::test]
async fn system_trust_fails_on_the_self_signed_certificate_with_details() {
    let sb = sandbox(20).await;
    let client = client_with(&sb, TlsPolicy::System, sb.prism_url());
    let err = client.users_me().await.expect_err("self-signed");
    assert_eq!(err.code(), "tls_untrusted", "{err}");
    let capstan_prism::PrismError::Transport(t) = &err else {
        panic!("transport error expected: {err:?}")
    };
    let cert = t.certificate().expect("certificate details");
    assert_eq!(Some(cert.sha256.clone()), sb.certificate_sha256());
    assert!(
        cert.sans.iter().any(|s| s == "localhost"),
        "{:?}",
        cert.sans
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn pinning_ca_bundle_and_insecure_all_connect() {
    let sb = sandbox(20).await;
    assert!(pinned(&sb).users_me().await.is_ok());
    let pem = sb.certificate_pem().expect("pem").to_owned();
    let port = capstan_common::Endpoint::parse(&sb.prism_url(), 9440)
        .expect("url")
        .port;
    let by_name = client_with(
        &sb,
        TlsPolicy::CaBundle { pem: pem.clone() },
        format!("https://localhost:{port}"),
    );
    assert!(
        by_name.users_me().await.is_ok(),
        "CA bundle + a name the certificate lists"
    );
    let by_ip = client_with(&sb, TlsPolicy::CaBundle { pem }, sb.prism_url());
    assert_eq!(
        by_ip.users_me().await.expect_err("no IP SAN").code(),
        "tls_hostname"
    );
    assert!(
        client_with(&sb, TlsPolicy::Insecure, sb.prism_url())
            .users_me()
            .await
            .is_ok()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn inventory_reads_and_pe_pc_detection() {
    let sb = sandbox(60).await;
    let c = pinned(&sb);
    let product = c.ensure_prism_central().await.expect("it is a PC");
    assert_eq!(product.kind, ProductKind::PrismCentral);
    assert!(
        product
            .version
            .as_deref()
            .is_some_and(|v| v.starts_with("pc.")),
        "{product:?}"
    );

    let clusters = c.list_clusters(None).await.expect("clusters");
    assert_eq!(
        clusters
            .iter()
            .filter(|c| c.role() == ClusterRole::PrismCentral)
            .count(),
        1
    );
    let pes = c.list_prism_elements().await.expect("PEs");
    assert!(!pes.is_empty() && pes.iter().all(|p| p.role() == ClusterRole::PrismElement));
    let pe = c
        .find_prism_element("pe-cluster-01", NameMatch::CaseSensitive)
        .await
        .expect("PE by name");
    let pe_uuid = pe.uuid().expect("uuid").to_owned();
    assert_eq!(
        c.get_cluster(&pe_uuid).await.expect("get").name(),
        Some("pe-cluster-01")
    );
    assert_eq!(
        c.find_prism_element("prism-central", NameMatch::CaseSensitive)
            .await
            .expect_err("PC is not a PE")
            .code(),
        "name_not_found"
    );

    let vms = c.list_vms(None).await.expect("vms");
    assert!(vms.len() >= 60, "{}", vms.len());
    let one = &vms[0];
    let again = c.get_vm(one.uuid().expect("uuid")).await.expect("get vm");
    assert_eq!(again.uuid(), one.uuid());

    // vm-network exists on two PEs: ambiguous PC-wide, unique per PE.
    let err = c
        .find_subnet("vm-network", NameMatch::CaseSensitive)
        .await
        .expect_err("duplicate name");
    assert_eq!(err.code(), "ambiguous_name");
    assert!(err.to_string().contains("UUID"), "{err}");
    let s = c
        .find_subnet_for_cluster("vm-network", &pe_uuid, NameMatch::CaseSensitive)
        .await
        .expect("per PE");
    assert_eq!(
        s.cluster_reference().and_then(|r| r.uuid.as_deref()),
        Some(pe_uuid.as_str())
    );
    assert!(
        c.find_subnet_for_cluster("overlay-k8s", &pe_uuid, NameMatch::CaseSensitive)
            .await
            .is_ok()
    );
    // A name with regex metacharacters is matched locally, exactly.
    let iso = c
        .find_image(
            "ubuntu-22.04.5-live-server-amd64.iso",
            NameMatch::CaseSensitive,
        )
        .await
        .expect("iso");
    assert_eq!(
        iso.resources().and_then(|r| r.image_type.as_deref()),
        Some("ISO_IMAGE")
    );
    assert_eq!(
        c.find_image("capx-ubuntu-2204-kube-v1.29.10", NameMatch::CaseSensitive)
            .await
            .expect_err("dup")
            .code(),
        "ambiguous_name"
    );
    assert_eq!(
        c.find_project("DEFAULT")
            .await
            .expect("case-insensitive project")
            .name(),
        Some("default")
    );

    let keys = c.list_category_keys().await.expect("category keys");
    assert!(
        keys.iter().any(|k| k.name == "KubernetesClusterName"),
        "{keys:?}"
    );
    let key = c
        .get_category_key("KubernetesClusterName")
        .await
        .expect("category key");
    assert_eq!(key.name, "KubernetesClusterName");
    let values = c
        .list_category_values("KubernetesClusterName")
        .await
        .expect("values");
    assert!(values.iter().any(|v| v.value == "demo-k8s"));
    let err = c
        .get_category_value("KubernetesClusterName", "no-such-cluster")
        .await
        .expect_err("missing value");
    assert_eq!(err.code(), "not_found");
    assert!(!c.list_hosts(None).await.expect("hosts").is_empty());
    assert!(!c.list_images(None).await.expect("images").is_empty());
    let _tasks = c.list_tasks(None).await.expect("tasks");
    let err = c
        .get_vm("00000000-0000-0000-0000-000000000000")
        .await
        .expect_err("no such vm");
    assert_eq!(err.code(), "not_found");
    sb.shutdown().await;
}

#[tokio::test]
async fn pagination_over_a_larger_estate_with_the_500_cap() {
    let sb = sandbox(1_234).await;
    let c = PrismClient::new(PrismConfig {
        http: HttpConfig {
            tls: TlsPolicy::Pinned {
                sha256_hex: sb.certificate_sha256().expect("pin"),
            },
            no_proxy: true,
            ..HttpConfig::default()
        },
        page_size: 500,
        ..PrismConfig::new(
            sb.prism_url(),
            PrismAuth::Basic {
                username: sb.prism_user().to_owned(),
                password: sb.prism_password().clone(),
            },
        )
    })
    .expect("client");
    let vms = c.list_vms(None).await.expect("vms");
    let mut uuids: Vec<&str> = vms.iter().filter_map(|v| v.uuid()).collect();
    let n = uuids.len();
    uuids.sort_unstable();
    uuids.dedup();
    assert_eq!(uuids.len(), n, "no duplicates across pages");
    assert!(n >= 1_234, "{n}");
    sb.shutdown().await;
}

#[tokio::test]
async fn expired_sessions_bad_credentials_and_api_keys() {
    let sb = sandbox(20).await;
    let c = pinned(&sb);
    c.users_me().await.expect("login");
    assert!(c.has_session());
    sb.faults().add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/clusters/list",
            FaultKind::ExpiredSession,
        )
        .count(1),
    );
    let clusters = c
        .list_clusters(None)
        .await
        .expect("re-login once and retry");
    assert!(!clusters.is_empty());
    assert_faults_fired(&sb);

    let bad = PrismClient::new(PrismConfig {
        http: HttpConfig {
            tls: TlsPolicy::Insecure,
            no_proxy: true,
            ..HttpConfig::default()
        },
        ..PrismConfig::new(
            sb.prism_url(),
            PrismAuth::Basic {
                username: sb.prism_user().to_owned(),
                password: "nope".into(),
            },
        )
    })
    .expect("client");
    let err = bad.users_me().await.expect_err("bad password");
    assert_eq!(err.code(), "unauthorized");

    let by_key = PrismClient::new(PrismConfig {
        http: HttpConfig {
            tls: TlsPolicy::Insecure,
            no_proxy: true,
            ..HttpConfig::default()
        },
        ..PrismConfig::new(
            sb.prism_url(),
            PrismAuth::ApiKey(sb.prism_api_key().clone()),
        )
    })
    .expect("client");
    assert!(
        !by_key
            .list_subnets(None)
            .await
            .expect("api key works")
            .is_empty()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn transient_faults_are_retried_and_malformed_bodies_are_typed() {
    let sb = sandbox(20).await;
    let c = pinned(&sb);
    c.users_me().await.expect("login");
    let faults = sb.faults();
    faults.add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/subnets/list",
            FaultKind::ServiceUnavailable,
        )
        .count(2),
    );
    assert!(
        !c.list_subnets(None)
            .await
            .expect("retried past two 503s")
            .is_empty()
    );
    faults.add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/images/list",
            FaultKind::TooManyRequests {
                retry_after_secs: 1,
            },
        )
        .count(1),
    );
    assert!(
        !c.list_images(None)
            .await
            .expect("waited for Retry-After")
            .is_empty()
    );
    faults.add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/hosts/list",
            FaultKind::DropConnection,
        )
        .count(1),
    );
    assert!(
        !c.list_hosts(None)
            .await
            .expect("dropped connection retried for a read")
            .is_empty()
    );
    faults.add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/projects/list",
            FaultKind::MalformedJson,
        )
        .count(1),
    );
    let err = c.list_projects(None).await.expect_err("malformed");
    assert_eq!(err.code(), "invalid_response");
    assert_faults_fired(&sb);
    faults.add_rule(FaultRule::new(
        FaultService::Prism,
        "/api/nutanix/v3/vms/list",
        FaultKind::InternalError,
    ));
    let err = c
        .list_vms(None)
        .await
        .expect_err("500 is not retried forever");
    assert_eq!(err.code(), "server", "{err}");
    sb.shutdown().await;
}
