//! The Palette client against the Capstan sandbox: the five-step workflow, day-2, auth
//! renewal, typed errors and fault injection.

use std::time::{Duration, Instant};

use bytes::Bytes;
use capstan_palette::*;
use capstan_sandbox::{FaultKind, FaultRule, FaultService, Sandbox, SandboxConfig, samples};

async fn sandbox() -> Sandbox {
    capstan_sandbox::start(SandboxConfig {
        vms: 30,
        time_scale: 0.01,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

fn http(sb: &Sandbox) -> HttpConfig {
    HttpConfig {
        tls: TlsPolicy::Pinned {
            sha256_hex: sb.certificate_sha256().expect("tls sandbox"),
        },
        no_proxy: true,
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            max_total: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(3),
        },
        ..HttpConfig::default()
    }
}

fn client(sb: &Sandbox, auth: PaletteAuth) -> PaletteClient {
    PaletteClient::new(PaletteConfig {
        http: http(sb),
        ..PaletteConfig::new(sb.palette_url(), auth)
    })
    .expect("client")
}

fn api_key(sb: &Sandbox) -> PaletteClient {
    client(sb, PaletteAuth::ApiKey(sb.palette_api_key().clone()))
}

fn sysadmin(sb: &Sandbox) -> PaletteClient {
    client(
        sb,
        PaletteAuth::SystemAdmin {
            username: sb.palette_system_user().to_owned(),
            password: sb.palette_password().clone(),
        },
    )
}

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

async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn register_nutanix(sys: &PaletteClient) {
    let entity = CustomCloudRequestEntity {
        metadata: ObjectMetaInput::named("nutanix"),
        spec: CustomCloudSpecEntity {
            display_name: "Nutanix".into(),
            cloud_category: Some(CloudCategory::Datacenter),
            ..Default::default()
        },
    };
    sys.register_cloud_type(&entity).await.expect("register");
    for (t, yaml) in [
        (
            CloudTypeTemplate::ClusterTemplate,
            samples::CLUSTER_TEMPLATE,
        ),
        (
            CloudTypeTemplate::ControlPlanePoolTemplate,
            samples::CP_POOL,
        ),
        (CloudTypeTemplate::WorkerPoolTemplate, samples::WORKER_POOL),
    ] {
        sys.upload_cloud_type_template("nutanix", t, "t.yaml", Bytes::from_static(yaml.as_bytes()))
            .await
            .expect("template");
    }
    let keys: Vec<String> = [
        "NUTANIX_USER",
        "NUTANIX_PASSWORD",
        "NUTANIX_ENDPOINT",
        "NUTANIX_PORT",
        "NUTANIX_INSECURE",
    ]
    .map(String::from)
    .to_vec();
    sys.put_cloud_account_keys("nutanix", &keys)
        .await
        .expect("keys");
}

async fn running_pcg(c: &PaletteClient, name: &str) -> String {
    let created = c
        .create_self_hosted_pcg(&PcgSelfHostedParams {
            name: name.into(),
            cloud_type: "nutanix".into(),
        })
        .await
        .expect("pcg");
    let uid = created.overlord_uid.clone().expect("overlordUid");
    assert_eq!(created.kubectl_commands.len(), 2, "{created:?}");
    // "Run" the two kubectl commands: fetch both manifests.
    for service in ["ally", "jet"] {
        assert!(
            !c.pcg_manifest(&uid, service)
                .await
                .expect("manifest")
                .is_empty()
        );
    }
    wait_until("PCG Running", Duration::from_secs(30), || {
        let uid = uid.clone();
        async move {
            c.overlord(&uid)
                .await
                .ok()
                .filter(Overlord::is_running)
                .map(|_| ())
        }
    })
    .await;
    uid
}

fn account_entity(sb: &Sandbox, pcg: &str, name: &str) -> CustomAccountEntity {
    let mut creds = StringMap::new();
    creds.insert("NUTANIX_USER".into(), sb.prism_user().to_owned());
    creds.insert(
        "NUTANIX_PASSWORD".into(),
        sb.prism_password().expose().to_owned(),
    );
    creds.insert("NUTANIX_ENDPOINT".into(), "127.0.0.1".into());
    creds.insert("NUTANIX_PORT".into(), "9440".into());
    creds.insert("NUTANIX_INSECURE".into(), "true".into());
    CustomAccountEntity::new(name, pcg, creds)
}

fn profile_entity(name: &str) -> ClusterProfileEntity {
    let pack = |name: &str, tag: &str, layer: &str| PackManifestEntity {
        name: name.into(),
        tag: Some(tag.into()),
        layer: Some(layer.into()),
        ..Default::default()
    };
    ClusterProfileEntity {
        metadata: ObjectMetaInput::named(name),
        spec: ClusterProfileEntitySpec {
            version: Some("1.0.0".into()),
            template: ClusterProfileTemplateDraft {
                cloud_type: "nutanix".into(),
                profile_type: "cluster".into(),
                packs: vec![
                    pack("os-nutanix", "1.0.0", "os"),
                    pack("kubernetes", "1.30.6", "k8s"),
                    pack("cni-cilium-oss", "1.16.3", "cni"),
                    pack("nutanix-csi", "3.2.0", "csi"),
                ],
            },
            variables: vec![],
        },
    }
}

fn cluster_entity(name: &str, account: &str, profile: &str) -> SpectroCustomClusterEntity {
    SpectroCustomClusterEntity {
        metadata: ObjectMetaInput::named(name),
        spec: SpectroCustomClusterEntitySpec {
            // Left empty on purpose: the client fills it from the create path's cloud type.
            cloud_type: String::new(),
            cloud_account_uid: account.into(),
            cloud_config: CustomClusterConfigValues {
                values: samples::cluster_values("10.64.3.240"),
            },
            machine_pool_config: vec![
                CustomMachinePoolConfigEntity::from_yaml(samples::CP_POOL),
                CustomMachinePoolConfigEntity::from_yaml(samples::WORKER_POOL),
            ],
            profiles: vec![SpectroClusterProfileEntity {
                uid: profile.into(),
                ..Default::default()
            }],
            cluster_config: None,
            cluster_type: None,
        },
    }
}

#[tokio::test]
async fn the_five_steps_and_day_two_with_faults() {
    let sb = sandbox().await;
    let faults = sb.faults();
    let sys = sysadmin(&sb);
    let key = api_key(&sb);

    // Step 1: cloud type (system console). An API key is not enough.
    sys.system_user_me().await.expect("system token works");
    let denied = key
        .register_cloud_type(&CustomCloudRequestEntity {
            metadata: ObjectMetaInput::named("x"),
            spec: Default::default(),
        })
        .await
        .expect_err("api key cannot register");
    assert_eq!(denied.code(), "forbidden", "{denied}");
    // A 500 on the first register: the client checks, finds nothing, sends it again.
    faults.add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/clouds/cloudTypes/register",
            FaultKind::InternalError,
        )
        .count(1),
    );
    register_nutanix(&sys).await;
    assert_faults_fired(&sb);
    assert!(
        key.custom_cloud_type("nutanix")
            .await
            .expect("types")
            .is_some()
    );
    let again = sys
        .register_cloud_type(&CustomCloudRequestEntity {
            metadata: ObjectMetaInput::named("nutanix"),
            spec: Default::default(),
        })
        .await
        .expect_err("duplicate");
    assert_eq!(again.code(), "conflict");
    assert_eq!(
        sys.cloud_type_template("nutanix", CloudTypeTemplate::ControlPlanePoolTemplate)
            .await
            .expect("read back"),
        samples::CP_POOL
    );
    assert_eq!(
        key.cloud_account_keys("nutanix").await.expect("keys").len(),
        5
    );
    sys.upload_cloud_type_component(
        "nutanix",
        CloudTypeComponent::CloudProvider,
        "infrastructure-components.yaml",
        Bytes::from_static(b"kind: List\n"),
    )
    .await
    .expect("component");
    assert_eq!(
        sys.cloud_type_component("nutanix", CloudTypeComponent::CloudProvider)
            .await
            .expect("component"),
        "kind: List\n"
    );
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x28\0\0\0\x28\x08\x06\0\0\0";
    sys.upload_cloud_type_logo("nutanix", "logo.png", Bytes::from_static(png))
        .await
        .expect("logo");
    assert_eq!(
        &key.cloud_type_logo("nutanix").await.expect("logo")[..],
        png
    );

    // Step 2: PCG. A 503 on the create is checked before re-sending: still one PCG.
    faults.add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/pcg/selfHosted",
            FaultKind::ServiceUnavailable,
        )
        .count(1),
    );
    let pcg = running_pcg(&key, "pcg-1").await;
    assert_faults_fired(&sb);
    assert_eq!(
        key.overlords(Some("pcg-1")).await.expect("by name").len(),
        1
    );

    // Step 3: account. A dropped connection on the create: checked, then re-sent once.
    faults.add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/cloudaccounts/cloudTypes/nutanix",
            FaultKind::DropConnection,
        )
        .method("POST")
        .count(1),
    );
    let account = key
        .create_cloud_account("nutanix", &account_entity(&sb, &pcg, "nutanix-prod"))
        .await
        .expect("account");
    assert_faults_fired(&sb);
    let accounts = key.cloud_accounts("nutanix").await.expect("list");
    assert_eq!(
        accounts
            .iter()
            .filter(|a| a.metadata.name.as_deref() == Some("nutanix-prod"))
            .count(),
        1
    );
    assert_eq!(
        key.cloud_account("nutanix", &account)
            .await
            .expect("get")
            .kind
            .as_deref(),
        Some("nutanix")
    );
    let dup = key
        .create_cloud_account("nutanix", &account_entity(&sb, &pcg, "nutanix-prod"))
        .await
        .expect_err("duplicate");
    assert_eq!(dup.code(), "conflict");

    // Step 4: profile, packs.
    assert!(
        key.profile_name_available("nutanix-infra", Some("1.0.0"))
            .await
            .expect("free")
    );
    // A 500 on the create: checked by name+version (free), then sent again.
    faults.add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/clusterprofiles",
            FaultKind::InternalError,
        )
        .method("POST")
        .count(1),
    );
    let profile = key
        .create_cluster_profile(&profile_entity("nutanix-infra"), true)
        .await
        .expect("profile");
    assert_faults_fired(&sb);
    assert!(
        !key.profile_name_available("nutanix-infra", Some("1.0.0"))
            .await
            .expect("taken")
    );
    let p = key.cluster_profile(&profile).await.expect("get profile");
    assert_eq!(p.status.is_published, Some(true));
    let registries = key.registries_metadata(None).await.expect("registries");
    assert!(!registries.is_empty());
    let found = key
        .search_packs(&PacksFilterSpec {
            filter: PackFilter {
                layer: vec!["csi".into()],
                environment: vec!["nutanix".into()],
                ..Default::default()
            },
            sort: vec![],
        })
        .await
        .expect("search");
    let csi = found
        .iter()
        .find(|p| p.spec.name.as_deref() == Some("nutanix-csi"))
        .expect("nutanix-csi pack");
    let registry_uid = csi
        .spec
        .registries
        .first()
        .and_then(|r| r.get("uid"))
        .and_then(|u| u.as_str())
        .expect("registry uid");
    let tags = key
        .pack_tags("nutanix-csi", registry_uid, Some("nutanix"), Some("csi"))
        .await
        .expect("tags");
    assert!(!tags.tags.is_empty());

    // Step 5: cluster.
    assert!(key.cluster_name_available("ntx-dev-1").await.expect("free"));
    let entity = cluster_entity("ntx-dev-1", &account, &profile);
    key.validate_cluster("nutanix", &entity)
        .await
        .expect("validates");
    faults.add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/spectroclusters/cloudTypes/nutanix",
            FaultKind::DropConnection,
        )
        .method("POST")
        .count(1),
    );
    let uid = key
        .create_cluster("nutanix", &entity)
        .await
        .expect("cluster");
    assert_faults_fired(&sb);
    assert!(
        !key.cluster_name_available("ntx-dev-1")
            .await
            .expect("taken")
    );
    wait_until("cluster Running", Duration::from_secs(60), || {
        let uid = uid.clone();
        let key = key.clone();
        async move {
            (key.cluster_status(&uid).await.ok()?.status.state.as_deref() == Some("Running"))
                .then_some(())
        }
    })
    .await;
    let cluster = key.cluster(&uid).await.expect("get");
    assert_eq!(cluster.spec.cloud_type.as_deref(), Some("nutanix"));
    let config_uid = cluster
        .spec
        .cloud_config_ref
        .and_then(|r| r.uid)
        .expect("cloudConfigRef");
    wait_until("Healthy", Duration::from_secs(60), || {
        let uid = uid.clone();
        let key = key.clone();
        async move { (key.cluster_overview(&uid).await.ok()?.health() == Some("Healthy")).then_some(()) }
    })
    .await;
    let cfg = key
        .cloud_config("nutanix", &config_uid)
        .await
        .expect("cloud config");
    assert_eq!(cfg.spec.machine_pool_config.len(), 2);
    let kubeconfig = key
        .kubeconfig(&uid, KubeconfigKind::Default)
        .await
        .expect("kubeconfig");
    assert!(kubeconfig.contains("apiVersion"), "{kubeconfig}");
    assert!(
        key.kubeconfig(&uid, KubeconfigKind::Admin)
            .await
            .expect("admin")
            .contains("apiVersion")
    );

    // Day 2: scale the workers 1 -> 3 by rewriting replicas in the pool YAML.
    key.scale_machine_pool("nutanix", &config_uid, "worker-pool", 3)
        .await
        .expect("scale");
    let cfg = key
        .cloud_config("nutanix", &config_uid)
        .await
        .expect("cloud config");
    let pool = cfg
        .spec
        .machine_pool_config
        .iter()
        .find(|p| p.name.as_deref() == Some("worker-pool"))
        .expect("pool");
    assert_eq!(pool.size, Some(3));
    let machines = wait_until("3 workers", Duration::from_secs(60), || {
        let key = key.clone();
        let config_uid = config_uid.clone();
        async move {
            let m = key
                .machines("nutanix", &config_uid, "worker-pool")
                .await
                .ok()?;
            (m.len() == 3).then_some(m)
        }
    })
    .await;
    let one = machines[0].metadata.uid.clone().expect("machine uid");
    assert_eq!(
        key.machine("nutanix", &config_uid, "worker-pool", &one)
            .await
            .expect("machine")
            .metadata
            .uid,
        Some(one)
    );
    let events = key.cluster_events(&uid).await.expect("events");
    assert!(!events.is_empty());

    // Day 2: delete; a 404 afterwards means gone.
    key.delete_cluster(&uid, false).await.expect("delete");
    wait_until("cluster gone", Duration::from_secs(60), || {
        let uid = uid.clone();
        let key = key.clone();
        async move {
            match key.cluster(&uid).await {
                Err(e) if e.is_not_found() => Some(()),
                Ok(c) if c.state() == Some("Deleted") => Some(()),
                _ => None,
            }
        }
    })
    .await;
    key.delete_cluster_profile(&profile)
        .await
        .expect("profile deleted");
    key.delete_cloud_account("nutanix", &account)
        .await
        .expect("account deleted");
    sb.shutdown().await;
}

#[tokio::test]
async fn tokens_are_renewed_and_errors_are_typed() {
    let sb = sandbox().await;
    let user = client(
        &sb,
        PaletteAuth::User {
            email: sb.palette_email().to_owned(),
            password: sb.palette_password().clone(),
            org: None,
        },
    );
    user.authenticate().await.expect("login");
    let info = user.users_info().await.expect("info");
    assert!(info.tenant_uid.is_some());
    // The server forgets the token: one 401, then renewal and a retry.
    sb.faults().add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/users/info",
            FaultKind::ExpiredSession,
        )
        .count(1),
    );
    assert!(user.users_info().await.is_ok());
    assert_faults_fired(&sb);
    // Token lifetime passes on the server: the same.
    sb.advance(3600.0);
    assert!(user.users_info().await.is_ok());

    let bad = client(
        &sb,
        PaletteAuth::User {
            email: sb.palette_email().to_owned(),
            password: "wrong".into(),
            org: None,
        },
    );
    let err = bad.users_info().await.expect_err("bad password");
    assert_eq!(err.code(), "unauthorized");
    assert!(!err.to_string().contains("wrong"));
    let bad_key = client(&sb, PaletteAuth::ApiKey("nope".into()));
    assert_eq!(
        bad_key.users_info().await.expect_err("bad key").code(),
        "unauthorized"
    );

    let key = api_key(&sb);
    let projects = key.projects(None).await.expect("projects");
    let project_uid = projects
        .first()
        .and_then(|p| p.metadata.uid.clone())
        .expect("a project");
    assert!(key.project(&project_uid).await.is_ok());
    let scoped = key.with_scope(Scope::Project(project_uid));
    assert!(scoped.users_info().await.is_ok());

    let err = key
        .cluster("0123456789abcdef01234567")
        .await
        .expect_err("no such cluster");
    assert_eq!(err.code(), "not_found");
    let PaletteError::Api { palette_code, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(palette_code.as_deref(), Some("ResourceNotFound"));

    // 429 with Retry-After on a read: waited for and retried.
    sb.faults().add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/users/info",
            FaultKind::TooManyRequests {
                retry_after_secs: 1,
            },
        )
        .count(1),
    );
    let started = Instant::now();
    key.users_info().await.expect("after Retry-After");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_faults_fired(&sb);
    // A 500 on a read is not retried and keeps Palette's code.
    sb.faults().add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/users/info",
            FaultKind::InternalError,
        )
        .count(1),
    );
    let err = key.users_info().await.expect_err("500");
    assert_eq!(err.code(), "server");
    // Malformed JSON is a typed error, not a panic.
    sb.faults().add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/users/info",
            FaultKind::MalformedJson,
        )
        .count(1),
    );
    assert_eq!(
        key.users_info().await.expect_err("malformed").code(),
        "invalid_response"
    );

    // TLS: the system trust store rejects the sandbox's self-signed certificate.
    let system = PaletteClient::new(PaletteConfig {
        http: HttpConfig {
            tls: TlsPolicy::System,
            no_proxy: true,
            ..HttpConfig::default()
        },
        ..PaletteConfig::new(
            sb.palette_url(),
            PaletteAuth::ApiKey(sb.palette_api_key().clone()),
        )
    })
    .expect("client");
    let err = system.users_info().await.expect_err("untrusted");
    assert_eq!(err.code(), "tls_untrusted");
    let PaletteError::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        t.certificate().map(|c| c.sha256.clone()),
        sb.certificate_sha256()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn updates_pools_force_delete_and_cleanup() {
    let sb = sandbox().await;
    let sys = sysadmin(&sb);
    let key = api_key(&sb);
    register_nutanix(&sys).await;
    let entity = CustomCloudRequestEntity {
        metadata: ObjectMetaInput::named("nutanix"),
        spec: CustomCloudSpecEntity {
            display_name: "Nutanix AHV".into(),
            ..Default::default()
        },
    };
    sys.update_cloud_type_meta("nutanix", &entity)
        .await
        .expect("meta update");
    let meta = sys.cloud_type_meta("nutanix").await.expect("meta");
    assert_eq!(
        meta.spec
            .as_ref()
            .and_then(|s| s.get("displayName"))
            .and_then(|v| v.as_str()),
        Some("Nutanix AHV")
    );

    let pcg = running_pcg(&key, "pcg-2").await;
    let account = key
        .create_cloud_account("nutanix", &account_entity(&sb, &pcg, "acct-a"))
        .await
        .expect("account");
    key.update_cloud_account("nutanix", &account, &account_entity(&sb, &pcg, "acct-a"))
        .await
        .expect("account update");

    // Profile: draft, then publish separately, then update.
    let profile = key
        .create_cluster_profile(&profile_entity("infra-draft"), false)
        .await
        .expect("draft");
    assert_ne!(
        key.cluster_profile(&profile)
            .await
            .expect("get")
            .status
            .is_published,
        Some(true)
    );
    key.publish_cluster_profile(&profile)
        .await
        .expect("publish");
    assert_eq!(
        key.cluster_profile(&profile)
            .await
            .expect("get")
            .status
            .is_published,
        Some(true)
    );
    let packs = key.cluster_profile_packs(&profile).await.expect("packs");
    assert!(packs.to_string().contains("nutanix-csi"), "{packs}");
    let update = ClusterProfileUpdateEntity {
        metadata: ObjectMetaInput::named("infra-draft"),
        spec: profile_entity("infra-draft").spec,
    };
    key.update_cluster_profile(&profile, &update)
        .await
        .expect("profile update");

    let uid = key
        .create_cluster("nutanix", &cluster_entity("ntx-day2", &account, &profile))
        .await
        .expect("cluster");
    let config_uid = key
        .cluster(&uid)
        .await
        .expect("get")
        .spec
        .cloud_config_ref
        .and_then(|r| r.uid)
        .expect("config");
    wait_until("cluster Running", Duration::from_secs(60), || {
        let (uid, key) = (uid.clone(), key.clone());
        async move { (key.cluster(&uid).await.ok()?.state() == Some("Running")).then_some(()) }
    })
    .await;
    // Cluster YAML edit, and a second worker pool added then removed.
    let values = samples::CLUSTER_TEMPLATE.replace("${CONTROL_PLANE_ENDPOINT_IP}", "10.64.3.240");
    key.update_cluster_config("nutanix", &config_uid, &values)
        .await
        .expect("cluster config");
    let extra = samples::WORKER_POOL.replace("worker-pool", "gpu-pool");
    key.add_machine_pool(
        "nutanix",
        &config_uid,
        "gpu-pool",
        &CustomMachinePoolConfigEntity::from_yaml(extra.clone()),
    )
    .await
    .expect("add pool");
    let dup = key
        .add_machine_pool(
            "nutanix",
            &config_uid,
            "gpu-pool",
            &CustomMachinePoolConfigEntity::from_yaml(extra),
        )
        .await;
    assert_eq!(dup.expect_err("duplicate pool").code(), "conflict");
    let names: Vec<_> = key
        .cloud_config("nutanix", &config_uid)
        .await
        .expect("cfg")
        .spec
        .machine_pool_config
        .into_iter()
        .filter_map(|p| p.name)
        .collect();
    assert!(names.contains(&"gpu-pool".to_owned()), "{names:?}");
    key.delete_machine_pool("nutanix", &config_uid, "gpu-pool")
        .await
        .expect("delete pool");
    let err = key
        .scale_machine_pool("nutanix", &config_uid, "no-such-pool", 2)
        .await
        .expect_err("unknown pool");
    assert_eq!(err.code(), "invalid_input");

    // Force delete removes the record at once; a second delete is a no-op.
    key.delete_cluster(&uid, true).await.expect("force delete");
    assert!(key.cluster(&uid).await.expect_err("gone").is_not_found());
    key.delete_cluster(&uid, true)
        .await
        .expect("already gone is fine");

    key.delete_cluster_profile(&profile).await.expect("profile");
    key.delete_cloud_account("nutanix", &account)
        .await
        .expect("account");
    key.delete_overlord(&pcg).await.expect("pcg");
    assert!(key.overlord_by_name("pcg-2").await.expect("list").is_none());
    sys.delete_cloud_type_template("nutanix", CloudTypeTemplate::WorkerPoolTemplate)
        .await
        .expect("template delete");
    assert!(
        sys.cloud_type_template("nutanix", CloudTypeTemplate::WorkerPoolTemplate)
            .await
            .map(|y| y.is_empty())
            .unwrap_or(true)
    );
    sys.delete_cloud_type("nutanix").await.expect("unregister");
    assert!(
        key.custom_cloud_type("nutanix")
            .await
            .expect("types")
            .is_none()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let sb = capstan_sandbox::start(SandboxConfig {
        vms: 10,
        time_scale: 0.01,
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let user = PaletteClient::new(PaletteConfig {
        http: http(&sb),
        // Treat tokens as short-lived so the proactive refresh path runs in the test.
        token_lifetime: Duration::from_millis(400),
        refresh_margin: Duration::from_millis(200),
        ..PaletteConfig::new(
            sb.palette_url(),
            PaletteAuth::User {
                email: sb.palette_email().to_owned(),
                password: sb.palette_password().clone(),
                org: None,
            },
        )
    })
    .expect("client");
    user.users_info().await.expect("first call logs in");
    tokio::time::sleep(Duration::from_millis(300)).await;
    user.users_info()
        .await
        .expect("second call refreshes first");
    let paths: Vec<String> = sb.take_exchanges().into_iter().map(|e| e.path).collect();
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.as_str() == "/v1/auth/authenticate")
            .count(),
        1,
        "{paths:?}"
    );
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.starts_with("/v1/auth/refresh/"))
            .count(),
        1,
        "{paths:?}"
    );
    assert!(paths.iter().all(|p| !p.contains("password")));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_cluster_moves_to_a_new_profile_version() {
    let sb = sandbox().await;
    let key = api_key(&sb);
    register_nutanix(&sysadmin(&sb)).await;
    let pcg = running_pcg(&key, "pcg-upd").await;
    let account = key
        .create_cloud_account("nutanix", &account_entity(&sb, &pcg, "acct-upd"))
        .await
        .expect("account");
    let v1 = key
        .create_cluster_profile(&profile_entity("infra-upd"), true)
        .await
        .expect("v1");
    let mut next = profile_entity("infra-upd");
    next.spec.version = Some("1.1.0".into());
    for p in &mut next.spec.template.packs {
        if p.name == "kubernetes" {
            p.tag = Some("1.31.4".into());
        }
    }
    let v2 = key.create_cluster_profile(&next, true).await.expect("v2");
    let uid = key
        .create_cluster("nutanix", &cluster_entity("ntx-upd", &account, &v1))
        .await
        .expect("cluster");
    // From here only `advance` moves the clock, so every phase can be seen.
    sb.set_time_scale(1000.0).expect("scale");
    let to_v2 = [SpectroClusterProfileEntity {
        uid: v2.clone(),
        pack_values: vec![PackValuesEntity {
            name: "cni-cilium-oss".into(),
            tag: Some("1.16.3".into()),
            pack_type: Some("spectro".into()),
            values: Some("charts:\n  cilium:\n    hubble: true\n".into()),
            ..Default::default()
        }],
        ..Default::default()
    }];

    let attached = key.cluster_profiles(&uid).await.expect("profiles");
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].metadata.uid.as_deref(), Some(v1.as_str()));
    let k8s = attached[0]
        .spec
        .packs
        .iter()
        .find(|p| p.spec.layer.as_deref() == Some("k8s"))
        .expect("k8s pack");
    assert_eq!(k8s.spec.version.as_deref(), Some("1.30.6"));
    let busy = key
        .update_cluster_profiles(&uid, &to_v2)
        .await
        .expect_err("not Running yet");
    assert_eq!(busy.code(), "conflict", "{busy}");

    sb.advance(300.0);
    assert_eq!(
        key.cluster(&uid).await.expect("get").state(),
        Some("Running")
    );
    let unknown = key
        .update_cluster_profiles(
            &uid,
            &[SpectroClusterProfileEntity {
                uid: "no-such-profile".into(),
                ..Default::default()
            }],
        )
        .await
        .expect_err("unknown profile");
    assert!(unknown.is_not_found(), "{unknown}");

    key.update_cluster_profiles(&uid, &to_v2)
        .await
        .expect("update");
    let c = key.cluster(&uid).await.expect("get");
    assert_eq!(c.state(), Some("Running"));
    let applied = &c.spec.cluster_profile_templates;
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].uid.as_deref(), Some(v2.as_str()));
    assert_eq!(applied[0].name.as_deref(), Some("infra-upd"));
    assert_eq!(applied[0].profile_version.as_deref(), Some("1.1.0"));
    let k8s = applied[0]
        .packs
        .iter()
        .find(|p| p.name == "kubernetes")
        .expect("kubernetes");
    assert_eq!(
        (k8s.tag.as_deref(), k8s.layer.as_deref()),
        (Some("1.31.4"), Some("k8s"))
    );
    let packs = &c.status.as_ref().expect("status").packs;
    let k8s_status = packs
        .iter()
        .find(|p| p.name.as_deref() == Some("kubernetes"))
        .expect("kubernetes status");
    assert_eq!(k8s_status.version.as_deref(), Some("1.31.4"));
    assert_eq!(k8s_status.profile_uid.as_deref(), Some(v2.as_str()));
    assert!(!k8s_status.is_ready(), "applying: {k8s_status:?}");
    assert_eq!(
        key.cluster_profiles(&uid).await.expect("profiles")[0]
            .metadata
            .uid
            .as_deref(),
        Some(v2.as_str())
    );

    sb.advance(25.0);
    let c = key.cluster(&uid).await.expect("get");
    let packs = &c.status.as_ref().expect("status").packs;
    assert!(
        !packs.is_empty() && packs.iter().all(ClusterPackStatus::is_ready),
        "{packs:?}"
    );
    let overview = key.cluster_overview(&uid).await.expect("overview");
    assert_eq!(
        overview
            .status
            .kube_meta
            .as_ref()
            .and_then(|m| m.get("kubernetesVersion"))
            .and_then(|v| v.as_str()),
        Some("v1.31.4")
    );
    let reasons: Vec<String> = key
        .cluster_events(&uid)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    assert!(
        reasons.iter().any(|r| r == "ProfileUpdating")
            && reasons.iter().any(|r| r == "ProfileUpdated"),
        "{reasons:?}"
    );
    sb.shutdown().await;
}
