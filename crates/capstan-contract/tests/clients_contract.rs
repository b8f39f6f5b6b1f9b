//! Drives the real Prism and Palette CLIENTS (not hand-written requests) through everything
//! they implement against a recording sandbox, then checks every recorded request and
//! response against the official specs. A client that builds a body or query the spec does
//! not allow fails here even when the lenient sandbox accepts it.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use capstan_capx::templates::CapxLine;
use capstan_contract::{Lookup, Part, Payload, RecordedExchange, Service, Specs, specs_or_skip};
use capstan_palette::{
    CloudCategory, CloudTypeComponent, CloudTypeTemplate, ClusterProfileEntity,
    ClusterProfileEntitySpec, ClusterProfileTemplateDraft, ClusterProfileUpdateEntity,
    CustomAccountEntity, CustomCloudRequestEntity, CustomCloudSpecEntity,
    CustomClusterConfigValues, CustomMachinePoolConfigEntity, KubeconfigKind, ObjectMetaInput,
    Overlord, PackFilter, PackManifestEntity, PacksFilterSpec, PaletteAuth, PaletteClient,
    PaletteConfig, PcgSelfHostedParams, Scope, SpectroClusterProfileEntity,
    SpectroCustomClusterEntity, SpectroCustomClusterEntitySpec, StringMap,
};
use capstan_prism::{Fiql, NameMatch, PrismAuth, PrismClient, PrismConfig};
use capstan_sandbox::{Exchange, Sandbox, SandboxConfig, samples};
use serde_json::Value;

const CLOUD_TYPE: &str = "nutanix";

/// The sandbox keeps parsed JSON bodies plus both content types, so a multipart upload is
/// checked as form data (content type and presence) and a JSON body against its schema.
fn convert(e: Exchange) -> RecordedExchange {
    let service = match e.service {
        capstan_sandbox::Service::Palette => Service::Palette,
        capstan_sandbox::Service::Prism => Service::Prism,
    };
    let request = Payload::from_recorded(e.request_json, e.request_content_type.as_deref());
    let response = Payload::from_recorded(e.response_json, e.response_content_type.as_deref());
    RecordedExchange {
        service,
        method: e.method,
        path: e.path,
        query: e.query,
        status: e.status,
        request_content_type: e.request_content_type,
        request,
        response_content_type: e.response_content_type,
        response,
    }
}

/// Polls `f` until it yields a value, advancing the sandbox clock so demo minutes pass at once.
async fn wait_until<T, F, Fut>(sb: &Sandbox, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        sb.advance(20.0);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

fn palette(sb: &Sandbox, auth: PaletteAuth) -> PaletteClient {
    PaletteClient::new(PaletteConfig::new(sb.palette_url(), auth)).expect("palette client")
}

fn prism(sb: &Sandbox, auth: PrismAuth) -> PrismClient {
    PrismClient::new(PrismConfig::new(sb.prism_url(), auth)).expect("prism client")
}

/// Every Prism call the client implements: session, product detection, each kind's list and
/// get, categories and the name lookups.
async fn prism_scenario(sb: &Sandbox) {
    let c = prism(
        sb,
        PrismAuth::Basic {
            username: sb.prism_user().to_owned(),
            password: sb.prism_password().clone(),
        },
    );
    let me = c.users_me().await.expect("users/me");
    assert_eq!(me.username(), Some(sb.prism_user()));
    c.prism_central().await.expect("prism_central");
    let versions = c.versions().await.expect("versions");
    assert!(versions.is_object(), "{versions}");
    c.detect_product().await.expect("detect product");
    c.ensure_prism_central().await.expect("it is a PC");

    let clusters = c.list_clusters(None).await.expect("clusters");
    assert!(!clusters.is_empty());
    let pes = c.list_prism_elements().await.expect("PEs");
    let pe = c
        .find_prism_element("pe-cluster-01", NameMatch::CaseSensitive)
        .await
        .expect("PE by name");
    let pe_uuid = pe.uuid().expect("PE uuid").to_owned();
    assert!(pes.iter().any(|p| p.uuid() == Some(pe_uuid.as_str())));
    c.get_cluster(&pe_uuid).await.expect("get cluster");
    // A FIQL filter travels in the list body: it must be a spec-valid `filter` string.
    let by_name = c
        .list_clusters(Some(&Fiql::eq("name", "pe-cluster-01")))
        .await
        .expect("filtered clusters");
    assert!(by_name.iter().any(|c| c.name() == Some("pe-cluster-01")));

    let subnets = c.list_subnets(None).await.expect("subnets");
    let subnet = subnets.first().and_then(|s| s.uuid()).expect("a subnet");
    c.get_subnet(subnet).await.expect("get subnet");
    c.find_subnet_for_cluster("vm-network", &pe_uuid, NameMatch::CaseSensitive)
        .await
        .expect("subnet on the PE");
    assert_eq!(
        c.find_subnet("vm-network", NameMatch::CaseSensitive)
            .await
            .expect_err("on two PEs")
            .code(),
        "ambiguous_name"
    );

    let images = c.list_images(None).await.expect("images");
    let image = images.first().and_then(|i| i.uuid()).expect("an image");
    c.get_image(image).await.expect("get image");
    c.find_image(
        "ubuntu-22.04.5-live-server-amd64.iso",
        NameMatch::CaseSensitive,
    )
    .await
    .expect("image by name");

    let vms = c.list_vms(None).await.expect("vms");
    let vm = vms.first().expect("a vm");
    c.get_vm(vm.uuid().expect("vm uuid")).await.expect("get vm");
    c.find_vm(vm.name().expect("vm name"), NameMatch::CaseInsensitive)
        .await
        .expect("vm by name");
    assert_eq!(
        c.get_vm("00000000-0000-0000-0000-000000000000")
            .await
            .expect_err("no such vm")
            .code(),
        "not_found"
    );

    let hosts = c.list_hosts(None).await.expect("hosts");
    let host = hosts.first().and_then(|h| h.uuid()).expect("a host");
    c.get_host(host).await.expect("get host");

    let projects = c.list_projects(None).await.expect("projects");
    let project = projects.first().and_then(|p| p.uuid()).expect("a project");
    c.get_project(project).await.expect("get project");
    c.find_project("DEFAULT").await.expect("project by name");

    let tasks = c.list_tasks(None).await.expect("tasks");
    match tasks.first().and_then(|t| t.uuid.as_deref()) {
        Some(task) => {
            c.get_task(task).await.expect("get task");
        }
        // An empty estate has no tasks; the GET is still exercised (and its 404 checked).
        None => {
            let err = c
                .get_task("00000000-0000-0000-0000-000000000000")
                .await
                .expect_err("no such task");
            assert_eq!(err.code(), "not_found");
        }
    }

    let keys = c.list_category_keys().await.expect("category keys");
    assert!(keys.iter().any(|k| k.name == "KubernetesClusterName"));
    c.get_category_key("KubernetesClusterName")
        .await
        .expect("category key");
    let values = c
        .list_category_values("KubernetesClusterName")
        .await
        .expect("category values");
    let value = values.first().map(|v| v.value.clone()).expect("a value");
    c.get_category_value("KubernetesClusterName", &value)
        .await
        .expect("category value");

    // The API-key flavour sends the same calls with `X-ntnx-api-key`.
    let keyed = prism(sb, PrismAuth::ApiKey(sb.prism_api_key().clone()));
    keyed.users_me().await.expect("users/me by API key");
    keyed.list_subnets(None).await.expect("subnets by API key");
}

fn cloud_type_entity(display_name: &str) -> CustomCloudRequestEntity {
    CustomCloudRequestEntity {
        metadata: ObjectMetaInput::named(CLOUD_TYPE),
        spec: CustomCloudSpecEntity {
            display_name: display_name.into(),
            cloud_category: Some(CloudCategory::Datacenter),
            ..Default::default()
        },
    }
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

fn profile_spec() -> ClusterProfileEntitySpec {
    let pack = |name: &str, tag: &str, layer: &str| PackManifestEntity {
        name: name.into(),
        tag: Some(tag.into()),
        layer: Some(layer.into()),
        ..Default::default()
    };
    ClusterProfileEntitySpec {
        version: Some("1.0.0".into()),
        template: ClusterProfileTemplateDraft {
            cloud_type: CLOUD_TYPE.into(),
            profile_type: "cluster".into(),
            packs: vec![
                pack("os-nutanix", "1.0.0", "os"),
                pack("kubernetes", "1.30.6", "k8s"),
                pack("cni-cilium-oss", "1.16.3", "cni"),
                pack("nutanix-csi", "3.2.0", "csi"),
            ],
        },
        variables: vec![],
    }
}

fn cluster_entity(name: &str, account: &str, profile: &str) -> SpectroCustomClusterEntity {
    SpectroCustomClusterEntity {
        metadata: ObjectMetaInput::named(name),
        spec: SpectroCustomClusterEntitySpec {
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
            // `cloudType` is left for the client to fill in: that is the path under test.
            ..Default::default()
        },
    }
}

/// Step 1 in the system console: register, logo, content, templates (the shipped CAPX
/// v1.5 set), account keys, and every read-back.
async fn cloud_type_scenario(sys: &PaletteClient, key: &PaletteClient) {
    sys.system_user_me().await.expect("system user");
    sys.register_cloud_type(&cloud_type_entity("Nutanix"))
        .await
        .expect("register");
    sys.update_cloud_type_meta(CLOUD_TYPE, &cloud_type_entity("Nutanix AHV"))
        .await
        .expect("meta update");
    sys.cloud_type_meta(CLOUD_TYPE).await.expect("meta");
    assert!(
        key.custom_cloud_type(CLOUD_TYPE)
            .await
            .expect("cloud types")
            .is_some()
    );
    key.cloud_types().await.expect("cloud types");

    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x28\0\0\0\x28\x08\x06\0\0\0";
    sys.upload_cloud_type_logo(CLOUD_TYPE, "nutanix.png", Bytes::from_static(png))
        .await
        .expect("logo");
    assert_eq!(
        &key.cloud_type_logo(CLOUD_TYPE).await.expect("logo")[..],
        png
    );

    let components = b"apiVersion: v1\nkind: List\nitems: []\n";
    sys.upload_cloud_type_component(
        CLOUD_TYPE,
        CloudTypeComponent::CloudProvider,
        "infrastructure-components.yaml",
        Bytes::from_static(components),
    )
    .await
    .expect("component");
    sys.cloud_type_component(CLOUD_TYPE, CloudTypeComponent::CloudProvider)
        .await
        .expect("component read-back");

    let shipped = CapxLine::V1_5.templates();
    for (kind, yaml) in [
        (CloudTypeTemplate::ClusterTemplate, &shipped.cloud_cluster),
        (
            CloudTypeTemplate::ControlPlanePoolTemplate,
            &shipped.control_plane_pool,
        ),
        (CloudTypeTemplate::WorkerPoolTemplate, &shipped.worker_pool),
    ] {
        sys.upload_cloud_type_template(
            CLOUD_TYPE,
            kind,
            "template.yaml",
            Bytes::from(yaml.clone()),
        )
        .await
        .expect("template upload");
        assert_eq!(
            &sys.cloud_type_template(CLOUD_TYPE, kind)
                .await
                .expect("template read-back"),
            yaml
        );
    }
    let keys: Vec<String> = capstan_capx::macros::CLOUD_ACCOUNT_KEYS
        .map(String::from)
        .to_vec();
    sys.put_cloud_account_keys(CLOUD_TYPE, &keys)
        .await
        .expect("account keys");
    assert_eq!(
        key.cloud_account_keys(CLOUD_TYPE)
            .await
            .expect("keys")
            .len(),
        keys.len()
    );
}

/// Step 2: create the PCG, "run" its two kubectl commands, wait for the emulated agent.
async fn pcg_scenario(sb: &Sandbox, key: &PaletteClient, name: &str) -> String {
    let created = key
        .create_self_hosted_pcg(&PcgSelfHostedParams {
            name: name.into(),
            cloud_type: CLOUD_TYPE.into(),
        })
        .await
        .expect("pcg");
    let uid = created.overlord_uid.clone().expect("overlordUid");
    for service in ["ally", "jet"] {
        assert!(
            !key.pcg_manifest(&uid, service)
                .await
                .expect("manifest")
                .is_empty()
        );
    }
    wait_until(sb, "PCG Running", || async {
        key.overlord(&uid)
            .await
            .ok()
            .filter(Overlord::is_running)
            .map(|_| ())
    })
    .await;
    assert!(key.overlord_by_name(name).await.expect("by name").is_some());
    key.overlords(None).await.expect("all overlords");
    uid
}

async fn palette_scenario(sb: &Sandbox) {
    let sys = palette(
        sb,
        PaletteAuth::SystemAdmin {
            username: sb.palette_system_user().to_owned(),
            password: sb.palette_password().clone(),
        },
    );
    let key = palette(sb, PaletteAuth::ApiKey(sb.palette_api_key().clone()));
    let user = palette(
        sb,
        PaletteAuth::User {
            email: sb.palette_email().to_owned(),
            password: sb.palette_password().clone(),
            org: None,
        },
    );

    // Identity and projects, with the user login and a project scope.
    user.authenticate().await.expect("user login");
    user.users_info().await.expect("users info (user)");
    key.users_info().await.expect("users info (key)");
    let projects = key.projects(None).await.expect("projects");
    let project_uid = projects
        .first()
        .and_then(|p| p.metadata.uid.clone())
        .expect("a project");
    let project_name = projects
        .first()
        .and_then(|p| p.metadata.name.clone())
        .expect("a project name");
    key.projects(Some(&project_name))
        .await
        .expect("projects by name");
    key.project(&project_uid).await.expect("project");
    key.with_scope(Scope::Project(project_uid))
        .users_info()
        .await
        .expect("project-scoped call");

    cloud_type_scenario(&sys, &key).await;
    let pcg = pcg_scenario(sb, &key, "pcg-contract").await;

    // Step 3: cloud account CRUD.
    let account = key
        .create_cloud_account(CLOUD_TYPE, &account_entity(sb, &pcg, "nutanix-prod"))
        .await
        .expect("account");
    key.cloud_accounts(CLOUD_TYPE).await.expect("accounts");
    assert!(
        key.cloud_account_by_name(CLOUD_TYPE, "nutanix-prod")
            .await
            .expect("by name")
            .is_some()
    );
    key.cloud_account(CLOUD_TYPE, &account)
        .await
        .expect("account get");
    key.update_cloud_account(
        CLOUD_TYPE,
        &account,
        &account_entity(sb, &pcg, "nutanix-prod"),
    )
    .await
    .expect("account update");

    // Step 4: profile as a draft, published separately, then read, updated, packs searched.
    assert!(
        key.profile_name_available("nutanix-infra", Some("1.0.0"))
            .await
            .expect("name free")
    );
    let profile = key
        .create_cluster_profile(
            &ClusterProfileEntity {
                metadata: ObjectMetaInput::named("nutanix-infra"),
                spec: profile_spec(),
            },
            false,
        )
        .await
        .expect("profile");
    key.publish_cluster_profile(&profile)
        .await
        .expect("publish");
    let p = key.cluster_profile(&profile).await.expect("profile get");
    assert_eq!(p.status.is_published, Some(true));
    key.update_cluster_profile(
        &profile,
        &ClusterProfileUpdateEntity {
            metadata: ObjectMetaInput::named("nutanix-infra"),
            spec: profile_spec(),
        },
    )
    .await
    .expect("profile update");
    key.cluster_profile_packs(&profile).await.expect("packs");
    // A published profile with auto-publish: create + publish in one call.
    let published = key
        .create_cluster_profile(
            &ClusterProfileEntity {
                metadata: ObjectMetaInput::named("nutanix-infra-2"),
                spec: profile_spec(),
            },
            true,
        )
        .await
        .expect("published profile");
    let registries = key.registries_metadata(None).await.expect("registries");
    assert!(!registries.is_empty());
    let found = key
        .search_packs(&PacksFilterSpec {
            filter: PackFilter {
                layer: vec!["csi".into()],
                environment: vec![CLOUD_TYPE.into()],
                ..Default::default()
            },
            sort: vec![],
        })
        .await
        .expect("pack search");
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
    key.pack_tags("nutanix-csi", registry_uid, Some(CLOUD_TYPE), Some("csi"))
        .await
        .expect("pack tags");

    // Step 5: the cluster, and day 2.
    assert!(
        key.cluster_name_available("ntx-contract")
            .await
            .expect("name free")
    );
    let entity = cluster_entity("ntx-contract", &account, &profile);
    key.validate_cluster(CLOUD_TYPE, &entity)
        .await
        .expect("validates");
    let uid = key
        .create_cluster(CLOUD_TYPE, &entity)
        .await
        .expect("cluster");
    let config_uid = key
        .cluster(&uid)
        .await
        .expect("cluster get")
        .spec
        .cloud_config_ref
        .and_then(|r| r.uid)
        .expect("cloudConfigRef");
    wait_until(sb, "cluster Running", || async {
        (key.cluster_status(&uid).await.ok()?.status.state.as_deref() == Some("Running"))
            .then_some(())
    })
    .await;
    key.cluster_overview(&uid).await.expect("overview");
    let cfg = key
        .cloud_config(CLOUD_TYPE, &config_uid)
        .await
        .expect("cloud config");
    assert_eq!(cfg.spec.machine_pool_config.len(), 2);
    key.update_cluster_config(
        CLOUD_TYPE,
        &config_uid,
        &samples::cluster_values("10.64.3.240"),
    )
    .await
    .expect("cluster config update");
    key.scale_machine_pool(CLOUD_TYPE, &config_uid, "worker-pool", 2)
        .await
        .expect("scale");
    let machines = wait_until(sb, "2 workers", || async {
        let m = key
            .machines(CLOUD_TYPE, &config_uid, "worker-pool")
            .await
            .ok()?;
        (m.len() == 2).then_some(m)
    })
    .await;
    let machine = machines[0].metadata.uid.clone().expect("machine uid");
    key.machine(CLOUD_TYPE, &config_uid, "worker-pool", &machine)
        .await
        .expect("machine");
    let extra = samples::WORKER_POOL.replace("worker-pool", "gpu-pool");
    key.add_machine_pool(
        CLOUD_TYPE,
        &config_uid,
        "gpu-pool",
        &CustomMachinePoolConfigEntity::from_yaml(extra.clone()),
    )
    .await
    .expect("add pool");
    key.update_machine_pool(
        CLOUD_TYPE,
        &config_uid,
        "gpu-pool",
        &CustomMachinePoolConfigEntity::from_yaml(extra),
    )
    .await
    .expect("update pool");
    key.delete_machine_pool(CLOUD_TYPE, &config_uid, "gpu-pool")
        .await
        .expect("delete pool");
    for kind in [
        KubeconfigKind::Default,
        KubeconfigKind::Client,
        KubeconfigKind::Admin,
    ] {
        let kubeconfig = key.kubeconfig(&uid, kind).await.expect("kubeconfig");
        assert!(kubeconfig.contains("apiVersion"), "{kubeconfig}");
    }
    key.cluster_events(&uid).await.expect("events");
    // Day-2 profile calls: read what is attached, then re-apply it (a no-op PATCH).
    let attached = key.cluster_profiles(&uid).await.expect("cluster profiles");
    let attached_uid = attached[0]
        .metadata
        .uid
        .clone()
        .expect("attached profile uid");
    key.update_cluster_profiles(
        &uid,
        &[capstan_palette::SpectroClusterProfileEntity {
            uid: attached_uid,
            ..Default::default()
        }],
    )
    .await
    .expect("profile update");

    // Ordinary delete, waited out; then a second cluster removed with force.
    key.delete_cluster(&uid, false).await.expect("delete");
    wait_until(sb, "cluster gone", || async {
        match key.cluster(&uid).await {
            Err(e) if e.is_not_found() => Some(()),
            Ok(c) if c.state() == Some("Deleted") => Some(()),
            _ => None,
        }
    })
    .await;
    let second = key
        .create_cluster(
            CLOUD_TYPE,
            &cluster_entity("ntx-contract-2", &account, &published),
        )
        .await
        .expect("second cluster");
    key.delete_cluster(&second, true)
        .await
        .expect("force delete");
    assert!(key.cluster(&second).await.expect_err("gone").is_not_found());

    // Clean-up runs through every remaining delete the clients implement.
    key.delete_cluster_profile(&profile)
        .await
        .expect("profile delete");
    key.delete_cluster_profile(&published)
        .await
        .expect("profile delete");
    key.delete_cloud_account(CLOUD_TYPE, &account)
        .await
        .expect("account delete");
    key.delete_overlord(&pcg).await.expect("pcg delete");
    sys.delete_cloud_type_component(CLOUD_TYPE, CloudTypeComponent::CloudProvider)
        .await
        .expect("component delete");
    sys.delete_cloud_type_template(CLOUD_TYPE, CloudTypeTemplate::WorkerPoolTemplate)
        .await
        .expect("template delete");
    sys.delete_cloud_type(CLOUD_TYPE).await.expect("unregister");
}

#[tokio::test]
async fn every_request_the_clients_send_matches_the_official_specs() {
    let specs: &Specs = specs_or_skip!();
    let sandbox = capstan_sandbox::start(SandboxConfig {
        vms: 40,
        time_scale: 0.01,
        tls: false,
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts");

    prism_scenario(&sandbox).await;
    palette_scenario(&sandbox).await;

    let exchanges: Vec<RecordedExchange> =
        sandbox.take_exchanges().into_iter().map(convert).collect();
    let requests_with_bodies = exchanges
        .iter()
        .filter(|e| matches!(e.request, Payload::Json(_)))
        .count();
    eprintln!(
        "recorded {} exchange(s), {requests_with_bodies} with a JSON request body",
        exchanges.len()
    );
    assert!(exchanges.len() > 80, "only {} exchanges", exchanges.len());
    let report = specs.validate_exchanges(&exchanges);
    println!("{}", report.summary());
    report.assert_clean();
    assert_eq!(
        report.uncovered(Service::Palette),
        vec![],
        "Palette operations Capstan uses that the clients were not driven through"
    );
    assert_eq!(
        report.uncovered(Service::Prism),
        vec![],
        "Prism operations Capstan uses that the clients were not driven through"
    );
    the_request_check_bites(specs, &exchanges);
    let undeclared = undeclared_query_parameters(specs, &exchanges);
    assert!(
        undeclared.is_empty(),
        "query parameters the spec does not declare: {undeclared:#?}"
    );
    // ... and that look-up catches a misspelt name.
    let misspelt = RecordedExchange {
        service: Service::Palette,
        method: "DELETE".into(),
        path: "/v1/spectroclusters/0123456789abcdef01234567".into(),
        query: Some("forcedelete=true".into()),
        status: 204,
        request_content_type: None,
        request: Payload::Empty,
        response_content_type: None,
        response: Payload::Empty,
    };
    assert_eq!(undeclared_query_parameters(specs, &[misspelt]).len(), 1);
    sandbox.shutdown().await;
}

/// The contract check validates the query parameters an operation declares, but does not
/// flag extra ones (a misspelt `forcedelete` would pass silently). This looks each sent
/// name up in the operation's own and path-level parameters, read from the raw spec.
fn undeclared_query_parameters(specs: &Specs, exchanges: &[RecordedExchange]) -> Vec<String> {
    let load = |relative: &str| -> Value {
        let path = specs.dir().join(relative);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let palette_doc = load("palette/palette-apis-spec.json");
    let prism_doc = load("prism/prism-central-v3-swagger.json");
    let mut problems = Vec::new();
    for e in exchanges {
        let Some(query) = e.query.as_deref().filter(|q| !q.is_empty()) else {
            continue;
        };
        let doc = match e.service {
            Service::Palette => &palette_doc,
            Service::Prism => &prism_doc,
        };
        let Lookup::Found(op) = specs.spec(e.service).operation(&e.method, &e.path) else {
            // An unknown operation is already a failure in the contract report.
            continue;
        };
        let path_item = &doc["paths"][op.template];
        let declared: Vec<&str> = [
            &path_item["parameters"],
            &path_item[op.method.to_ascii_lowercase().as_str()]["parameters"],
        ]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .map(|p| match p.get("$ref").and_then(Value::as_str) {
            Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(p),
            None => p,
        })
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect();
        for pair in query.split('&') {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            if !declared.contains(&name) {
                problems.push(format!(
                    "{} {} ({}): `{name}` is not one of {declared:?}",
                    op.method, e.path, op.template
                ));
            }
        }
    }
    problems
}

/// A clean report only means something if request bodies are really checked: the recorded
/// cluster create carries the spec-required `spec.cloudType`, and the same body without it
/// is rejected.
fn the_request_check_bites(specs: &Specs, exchanges: &[RecordedExchange]) {
    let create = exchanges
        .iter()
        .find(|e| {
            e.method.eq_ignore_ascii_case("POST")
                && e.path == format!("/v1/spectroclusters/cloudTypes/{CLOUD_TYPE}")
        })
        .expect("the cluster create was recorded");
    let Payload::Json(body) = &create.request else {
        panic!("the cluster create sent no JSON body: {:?}", create.request)
    };
    assert_eq!(
        body.pointer("/spec/cloudType").and_then(|v| v.as_str()),
        Some(CLOUD_TYPE),
        "{body}"
    );
    let mut broken = create.clone();
    let mut without = body.clone();
    if let Some(spec) = without.get_mut("spec").and_then(|s| s.as_object_mut()) {
        spec.remove("cloudType");
    }
    broken.request = Payload::Json(without);
    let outcome = specs.check_exchange(&broken);
    assert!(
        outcome
            .request
            .violations
            .iter()
            .any(|v| v.part == Part::RequestBody && v.to_string().contains("cloudType")),
        "dropping spec.cloudType went unnoticed: {:?}",
        outcome.request.violations
    );

    // Uploads are checked as form data: the logo went as multipart, and anything else is
    // rejected.
    let logo = exchanges
        .iter()
        .find(|e| {
            e.method.eq_ignore_ascii_case("PUT")
                && e.path == format!("/v1/clouds/cloudTypes/{CLOUD_TYPE}/logo")
        })
        .expect("the logo upload was recorded");
    assert!(
        logo.request_content_type
            .as_deref()
            .is_some_and(|ct| ct.starts_with("multipart/form-data")),
        "{:?}",
        logo.request_content_type
    );
    let mut as_octets = logo.clone();
    as_octets.request_content_type = Some("application/octet-stream".into());
    let outcome = specs.check_exchange(&as_octets);
    assert!(
        outcome
            .request
            .violations
            .iter()
            .any(|v| v.part == Part::RequestContentType),
        "a non-multipart logo upload went unnoticed: {:?}",
        outcome.request.violations
    );
}
