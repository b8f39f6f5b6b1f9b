//! Step 5 and day-2 through the dispatcher against the embedded sandbox: pickers fed by live
//! Prism Central inventory, the YAML generated from them (golden files) and read back, the
//! preflight blocking a bad deploy, a create that survives a lost answer without making two
//! clusters, the progress to Running with VMs and IPs, the kubeconfig saved 0600, scaling,
//! moving to a new profile version, and delete — including a stuck delete and force delete.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use capstan_engine::{Engine, NoEvents};
use capstan_ipc::ErrorCode;
use capstan_ipc::deploy::*;
use capstan_ipc::preflight::{CheckId, CheckOutcome, PreflightReport};
use capstan_ipc::profile::*;
use capstan_ipc::workflow::{CloudAccountResult, CloudTypeResult, PcgStatus};
use serde_json::{Value, json};
use support::{call, components, fails};

async fn started(home: &Path) -> Engine {
    let mut config = support::config(home, 20);
    // Plain HTTP so the test can reach the sandbox's fault and availability controls.
    config.sandbox.tls = false;
    let engine = Engine::new(config, Arc::new(NoEvents));
    engine.start().await;
    engine
}

fn sandbox_url(engine: &Engine, prism: bool) -> String {
    let env = engine.status().environment;
    if prism {
        env.prism_url
    } else {
        env.palette_url
    }
    .expect("the sandbox is running")
}

async fn control(engine: &Engine, method: reqwest::Method, path: &str, body: Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{}{path}", sandbox_url(engine, false)))
        .json(&body)
        .send()
        .await
        .expect("sandbox control");
    assert!(r.status().is_success(), "{path} refused: {}", r.status());
}

/// A Palette read with the sandbox's own API key (from its info control), to see the record
/// behind what the engine reports.
async fn palette_get(engine: &Engine, path: &str) -> Value {
    let base = sandbox_url(engine, false);
    let http = reqwest::Client::new();
    let info: Value = http
        .get(format!("{base}/__sandbox/info"))
        .send()
        .await
        .expect("sandbox info")
        .json()
        .await
        .expect("info JSON");
    let key = info["palette_api_key"]
        .as_str()
        .expect("the sandbox's API key");
    http.get(format!("{base}{path}"))
        .header("ApiKey", key)
        .send()
        .await
        .expect("palette")
        .json()
        .await
        .expect("palette JSON")
}

async fn prism_control(engine: &Engine, path: &str, body: Value) {
    let r = reqwest::Client::new()
        .put(format!("{}{path}", sandbox_url(engine, true)))
        .json(&body)
        .send()
        .await
        .expect("sandbox control");
    assert!(r.status().is_success(), "{path} refused: {}", r.status());
}

/// Steps 1–4 done the way the UI does them; returns (account uid, profile 1.0.0, profile 1.1.0).
async fn ready_for_step_five(
    engine: &Engine,
) -> (String, ProfileCreateResult, ProfileCreateResult) {
    let _: CloudTypeResult = call(
        engine,
        "cloud_type_register",
        json!({"capxVersion": "v1.5.4", "source": "shipped", "infrastructureComponents": components("v1.5.4")}),
    )
    .await;
    let pcg: PcgStatus = call(engine, "pcg_create", json!({"name": "edge-pcg"})).await;
    let _: Value = call(
        engine,
        "pcg_apply",
        json!({"uid": pcg.uid, "context": "capstan-sandbox-host"}),
    )
    .await;
    let started = Instant::now();
    while !call::<PcgStatus>(engine, "pcg_status", json!({"uid": pcg.uid}))
        .await
        .running
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "PCG not Running"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let account: CloudAccountResult = call(
        engine,
        "cloud_account_create",
        json!({"name": "nutanix-lab", "pcgUid": pcg.uid, "values": {}}),
    )
    .await;
    let pick = |list: &PackList, name: &str| -> PackOption {
        list.packs.iter().find(|p| p.name == name).cloned().unwrap()
    };
    let os = pick(
        &call(engine, "packs_by_layer", json!({"layer": "os"})).await,
        "os-nutanix",
    );
    let k8s = pick(
        &call(engine, "packs_by_layer", json!({"layer": "k8s"})).await,
        "kubernetes",
    );
    let cni = pick(
        &call(engine, "packs_by_layer", json!({"layer": "cni"})).await,
        "cni-cilium-oss",
    );
    let csi = pick(
        &call(engine, "packs_by_layer", json!({"layer": "csi"})).await,
        "nutanix-csi",
    );
    let layer = |p: &PackOption, version: &str, values: &str| json!({"layer": p.layer, "registryUid": p.registry_uid, "packName": p.name, "version": version, "values": values});
    let layers = |cni_values: &str| {
        json!([
            layer(&os, "1.0.0", ""),
            layer(&k8s, "1.30.6", ""),
            layer(&cni, "1.16.3", cni_values),
            layer(&csi, "3.2.0", ""),
        ])
    };
    let v1: ProfileCreateResult = call(
        engine,
        "profile_create",
        json!({"name": "nutanix-infra", "version": "1.0.0", "layers": layers("charts:\n  cilium:\n    ipam:\n      mode: kubernetes\n"), "publish": true}),
    )
    .await;
    let v2: ProfileCreateResult = call(
        engine,
        "profile_new_version",
        json!({"uid": v1.uid, "version": "1.1.0", "layers": layers("charts:\n  cilium:\n    ipam:\n      mode: cluster-pool\n"), "publish": true}),
    )
    .await;
    (account.uid, v1, v2)
}

fn spec(
    account: &str,
    profile: &str,
    pe: &PrismElementOption,
    subnet: &SubnetOption,
    image: &ImageOption,
    vip: &str,
) -> DeploySpec {
    let pool = |replicas| PoolSpec {
        name: String::new(),
        replicas,
        vcpu_sockets: 2,
        vcpus_per_socket: 1,
        memory_gib: 4,
        disk_gib: 40,
        boot_type: BootKind::Legacy,
    };
    DeploySpec {
        name: "ntx-dev-1".into(),
        description: "made by the deploy test".into(),
        account_uid: account.into(),
        profile_uid: profile.into(),
        layer_values: Vec::new(),
        prism_element: EntityChoice {
            uuid: pe.uuid.clone(),
            name: pe.name.clone(),
            use_uuid: !pe.name_unique,
        },
        subnets: vec![EntityChoice {
            uuid: subnet.uuid.clone(),
            name: subnet.name.clone(),
            use_uuid: !subnet.name_unique,
        }],
        image: EntityChoice {
            uuid: image.uuid.clone(),
            name: image.name.clone(),
            use_uuid: !image.name_unique,
        },
        // The profile's Kubernetes (1.30.6); the engine takes the image's own patch (1.30.5).
        kubernetes_version: "1.30.6".into(),
        control_plane_endpoint: vip.into(),
        control_plane_port: 6443,
        control_plane: pool(1),
        workers: vec![pool(2)],
        ssh_public_key:
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeployTestKeyOnlyForTests capstan@test".into(),
        pod_cidr: "172.20.0.0/16".into(),
        service_cidr: "172.19.0.0/16".into(),
    }
}

/// The PE's `-vlan110` subnet (Prism IPAM) and the pickers with VIP suggestions in it.
async fn node_subnet(engine: &Engine, pe: &PrismElementOption) -> (SubnetOption, PlacementOptions) {
    let first: PlacementOptions = call(
        engine,
        "deploy_placement",
        json!({"prismElementUuid": pe.uuid, "kubernetesVersion": "1.30.6"}),
    )
    .await;
    let subnet = first
        .subnets
        .into_iter()
        .find(|s| s.name == format!("{}-vlan110", pe.name))
        .expect("the PE's IPAM subnet");
    let placement = call(
        engine,
        "deploy_placement",
        json!({"prismElementUuid": pe.uuid, "kubernetesVersion": "1.30.6", "subnetUuid": subnet.uuid}),
    )
    .await;
    (subnet, placement)
}

async fn detail(engine: &Engine, uid: &str) -> ClusterDetail {
    call(engine, "cluster_detail", json!({"uid": uid})).await
}

/// Polls until `done` holds (the sandbox runs at 1/100 speed: minutes become seconds).
async fn wait_for(
    engine: &Engine,
    uid: &str,
    what: &str,
    done: impl Fn(&ClusterDetail) -> bool,
) -> ClusterDetail {
    let started = Instant::now();
    loop {
        let d = detail(engine, uid).await;
        if done(&d) {
            return d;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "cluster never {what}: phase {:?}, pools {:?}",
            d.phase,
            d.pools
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The nutanix-csi layer of a profile as the deploy form offers it (the pack's defaults).
fn csi_defaults(options: &DeployOptions, profile: &str) -> String {
    options
        .profiles
        .iter()
        .find(|p| p.uid == profile)
        .and_then(|p| p.layers.iter().find(|l| l.pack_name == "nutanix-csi"))
        .map(|l| l.values.trim_end().to_owned())
        .expect("the profile has the CSI layer")
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares with the golden file, or rewrites it with `CAPSTAN_UPDATE_GOLDEN=1`. UUIDs and
/// addresses of the generated estate are stable (the sandbox seed is fixed).
fn assert_golden(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("CAPSTAN_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with CAPSTAN_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "{name} differs from the golden file");
}

#[tokio::test]
async fn pickers_yaml_preflight_deploy_progress_and_day_two() {
    let home = tempfile::tempdir().unwrap();
    let engine = started(home.path()).await;
    let (account_uid, v1, v2) = ready_for_step_five(&engine).await;

    // ---- pickers -------------------------------------------------------------------------
    let options: DeployOptions = call(&engine, "deploy_options", json!({})).await;
    assert!(options.problems.is_empty(), "{:?}", options.problems);
    assert_eq!(options.accounts.len(), 1);
    assert_eq!(options.accounts[0].pcg_name.as_deref(), Some("edge-pcg"));
    assert_eq!(options.accounts[0].pcg_state.as_deref(), Some("Running"));
    let p1 = options.profiles.iter().find(|p| p.uid == v1.uid).unwrap();
    assert_eq!(p1.kubernetes_version.as_deref(), Some("1.30.6"));
    assert_eq!(p1.layers.len(), 4);
    // A layer the profile leaves at its pack's defaults starts from those defaults.
    let csi = p1
        .layers
        .iter()
        .find(|l| l.layer == PackLayer::Csi)
        .unwrap();
    assert!(csi.values.contains("nutanix-csi"), "{}", csi.values);
    let cni = p1
        .layers
        .iter()
        .find(|l| l.layer == PackLayer::Cni)
        .unwrap();
    assert!(
        cni.values.contains("mode: kubernetes"),
        "the profile's own values stay"
    );
    let pe_names: Vec<&str> = options
        .prism_elements
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        pe_names,
        ["pe-cluster-01", "pe-cluster-02"],
        "Prism Central itself is not offered"
    );
    let pe = options.prism_elements[0].clone();
    assert!(pe.available && pe.name_unique);

    let placement: PlacementOptions = call(
        &engine,
        "deploy_placement",
        json!({"prismElementUuid": pe.uuid, "kubernetesVersion": "1.30.6"}),
    )
    .await;
    let subnet_names: Vec<&str> = placement.subnets.iter().map(|s| s.name.as_str()).collect();
    assert!(
        subnet_names.contains(&"pe-cluster-01-vlan110"),
        "{subnet_names:?}"
    );
    assert!(
        subnet_names.contains(&"overlay-k8s"),
        "overlays are usable from any PE"
    );
    assert!(
        !subnet_names.iter().any(|n| n.starts_with("pe-cluster-02")),
        "another PE's VLANs are not offered: {subnet_names:?}"
    );
    let vm_network = placement
        .subnets
        .iter()
        .find(|s| s.name == "vm-network")
        .unwrap();
    assert!(!vm_network.name_unique, "vm-network exists on both PEs");
    let vlan110 = placement
        .subnets
        .iter()
        .find(|s| s.name == "pe-cluster-01-vlan110")
        .unwrap()
        .clone();
    assert!(vlan110.free_pool_addresses.unwrap() > 900);
    assert!(
        placement.images.iter().all(|i| !i.name.ends_with(".iso")),
        "no ISOs"
    );
    assert!(placement.images[0].matches, "matching images come first");
    let image = placement
        .images
        .iter()
        .find(|i| i.name == "capx-ubuntu-2204-kube-v1.30.5")
        .unwrap()
        .clone();
    assert!(image.matches && image.name_unique);
    let old = placement
        .images
        .iter()
        .find(|i| i.name == "capx-ubuntu-2204-kube-v1.29.10")
        .unwrap();
    assert!(
        !old.matches && !old.name_unique,
        "the 1.29 image is there twice"
    );
    // VIP suggestions for the chosen subnet: inside it, outside its pool, not the gateway,
    // not used by any VM.
    let placement: PlacementOptions = call(
        &engine,
        "deploy_placement",
        json!({"prismElementUuid": pe.uuid, "kubernetesVersion": "1.30.6", "subnetUuid": vlan110.uuid}),
    )
    .await;
    assert_eq!(
        placement.vip_subnet_uuid.as_deref(),
        Some(vlan110.uuid.as_str())
    );
    assert!(!placement.vip_candidates.is_empty());
    let pool = &vlan110.pools[0];
    let vip = placement.vip_candidates[0].clone();
    assert_ne!(Some(&vip), vlan110.gateway.as_ref());
    let (first, last) = pool.split_once('-').unwrap();
    let as_u32 = |s: &str| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
    let v = as_u32(&vip);
    assert!(
        !(as_u32(first)..=as_u32(last)).contains(&v),
        "{vip} is in the pool {pool}"
    );

    let mut good = spec(&account_uid, &v1.uid, &pe, &vlan110, &image, &vip);
    // The CSI layer tuned for this cluster only.
    let tuned_csi = format!(
        "{}\n# tuned for ntx-dev-1\n",
        csi_defaults(&options, &v1.uid)
    );
    good.layer_values = vec![LayerValues {
        pack_name: "nutanix-csi".into(),
        values: tuned_csi.clone(),
    }];

    // ---- YAML: golden, and an edit carried back ------------------------------------------
    let rendered: DeployRender = call(&engine, "deploy_render", json!(good)).await;
    assert_golden("deploy-cluster.yaml", &rendered.yaml.cluster);
    assert_golden("deploy-control-plane.yaml", &rendered.yaml.control_plane);
    assert_eq!(rendered.yaml.workers.len(), 1);
    assert_golden("deploy-worker.yaml", &rendered.yaml.workers[0]);
    assert!(rendered.yaml.control_plane.contains(&vip));
    assert!(
        rendered.yaml.control_plane.contains("v1.30.5"),
        "the image's version, not the profile's 1.30.6"
    );
    // Other cluster networks land in the Cluster object.
    let mut other_networks = good.clone();
    other_networks.pod_cidr = "10.200.0.0/16".into();
    other_networks.service_cidr = "10.201.0.0/16".into();
    let networks: DeployRender = call(&engine, "deploy_render", json!(other_networks)).await;
    assert!(
        networks.yaml.cluster.contains("- 10.200.0.0/16"),
        "{}",
        networks.yaml.cluster
    );
    assert!(networks.yaml.cluster.contains("- 10.201.0.0/16"));
    assert!(rendered.yaml.workers[0].contains("capx-ubuntu-2204-kube-v1.30.5"));
    let edited = rendered.yaml.workers[0].replacen("replicas: 2", "replicas: 4", 1);
    assert_ne!(edited, rendered.yaml.workers[0]);
    let back: YamlReadBack = call(
        &engine,
        "deploy_yaml_read_back",
        json!({"spec": good, "pool": {"kind": "worker", "index": 0}, "yaml": edited}),
    )
    .await;
    assert_eq!(back.spec.workers[0].replicas, 4);
    assert_eq!(back.changed, ["workers.0.replicas"]);
    // The cluster YAML maps back too: the VIP, the API port and the networks.
    let cluster_edit = rendered
        .yaml
        .cluster
        .replace(&format!("host: {vip}"), "host: 10.64.3.240")
        .replace("- 172.20.0.0/16", "- 10.200.0.0/16");
    assert_ne!(
        cluster_edit, rendered.yaml.cluster,
        "the VIP and pod CIDR are in the cluster YAML"
    );
    let back_cluster: YamlReadBack = call(
        &engine,
        "deploy_yaml_read_back",
        json!({"spec": good, "pool": {"kind": "cluster"}, "yaml": cluster_edit}),
    )
    .await;
    assert_eq!(back_cluster.changed, ["podCidr", "controlPlaneEndpoint"]);
    assert_eq!(back_cluster.spec.control_plane_endpoint, "10.64.3.240");
    assert_eq!(back_cluster.spec.pod_cidr, "10.200.0.0/16");
    let even = rendered
        .yaml
        .control_plane
        .replacen("replicas: 1", "replicas: 2", 1);
    let refused = fails(
        &engine,
        "deploy_yaml_read_back",
        json!({"spec": good, "pool": {"kind": "controlPlane"}, "yaml": even}),
    )
    .await;
    assert!(refused.message.contains("1, 3 or 5"), "{}", refused.message);
    let broken = fails(
        &engine,
        "deploy_yaml_read_back",
        json!({"spec": good, "pool": {"kind": "controlPlane"}, "yaml": "spec: [\n  replicas: 3\n"}),
    )
    .await;
    assert_eq!(broken.code, ErrorCode::InvalidInput);
    assert!(broken.message.contains("line"), "{}", broken.message);

    // ---- preflight: a VIP inside the DHCP pool blocks the deploy, nothing is created -----
    let mut bad = good.clone();
    bad.control_plane_endpoint = first.to_owned();
    let report: PreflightReport = call(&engine, "deploy_preflight", json!({"spec": bad})).await;
    assert!(!report.can_deploy);
    let vip_check = report.check(CheckId::VipInSubnet).unwrap();
    assert_eq!(vip_check.outcome, CheckOutcome::Fail, "{vip_check:?}");
    assert!(vip_check.fix.is_some());
    let refused = fails(&engine, "cluster_deploy", json!({"spec": bad})).await;
    assert_eq!(
        refused.code,
        ErrorCode::PreflightFailed,
        "{}",
        refused.message
    );
    assert!(
        refused.message.contains("Nothing was created"),
        "{}",
        refused.message
    );
    let details: PreflightReport = serde_json::from_value(refused.details.unwrap()).unwrap();
    assert!(!details.can_deploy);

    // The preflight checks what is deployed: an image typed into the YAML is refused too.
    let mut edited = rendered.yaml.clone();
    for text in std::iter::once(&mut edited.control_plane).chain(edited.workers.iter_mut()) {
        *text = text.replace(
            "capx-ubuntu-2204-kube-v1.30.5",
            "capx-ubuntu-2204-kube-v1.29.10",
        );
    }
    let refused = fails(
        &engine,
        "cluster_deploy",
        json!({"spec": good, "yaml": edited}),
    )
    .await;
    assert_eq!(
        refused.code,
        ErrorCode::PreflightFailed,
        "{}",
        refused.message
    );
    let details: PreflightReport = serde_json::from_value(refused.details.unwrap()).unwrap();
    assert_eq!(
        details.check(CheckId::Image).unwrap().outcome,
        CheckOutcome::Fail,
        "the 1.29 image exists twice"
    );

    let report: PreflightReport = call(&engine, "deploy_preflight", json!({"spec": good})).await;
    assert!(report.can_deploy, "{:#?}", report.checks);
    assert_eq!(report.checks.len(), CheckId::ALL.len());

    // ---- deploy with the answer lost: exactly one cluster ---------------------------------
    control(
        &engine,
        reqwest::Method::POST,
        "/__sandbox/faults/rules",
        json!({"service": "palette", "method": "POST", "path": "/v1/spectroclusters/cloudTypes/nutanix", "kind": {"type": "drop_response"}, "count": 1}),
    )
    .await;
    let deployed: DeployResult = call(&engine, "cluster_deploy", json!({"spec": good})).await;
    assert!(
        deployed.created,
        "the refused deploy above created nothing: {}",
        deployed.message
    );
    let again: DeployResult = call(&engine, "cluster_deploy", json!({"spec": good})).await;
    assert!(!again.created);
    assert_eq!(
        again.uid, deployed.uid,
        "a retried deploy finds the same cluster"
    );
    control(
        &engine,
        reqwest::Method::DELETE,
        "/__sandbox/faults",
        json!({}),
    )
    .await;

    // ---- progress to Running -------------------------------------------------------------
    let first_look = detail(&engine, &deployed.uid).await;
    assert!(
        matches!(
            first_look.phase,
            ClusterPhase::Pending | ClusterPhase::Provisioning
        ),
        "{:?}",
        first_look.phase
    );
    assert_eq!(
        first_look.profile.as_ref().unwrap().version.as_deref(),
        Some("1.0.0")
    );
    let running = wait_for(&engine, &deployed.uid, "Running", |d| {
        d.phase == ClusterPhase::Running
    })
    .await;
    assert_eq!(
        running.endpoint.as_deref(),
        Some(format!("{vip}:6443").as_str())
    );
    assert_eq!(running.pools.len(), 2);
    assert!(running.pools[0].control_plane);
    let nodes: Vec<&ClusterNode> = running.pools.iter().flat_map(|p| &p.nodes).collect();
    assert_eq!(nodes.len(), 3);
    let subnet_net: Vec<&str> = vlan110.cidr.as_deref().unwrap().split('/').collect();
    let prefix: &str = subnet_net[0].rsplitn(3, '.').last().unwrap();
    for n in &nodes {
        assert_eq!(n.state, "Running");
        assert!(n.vm_uuid.is_some(), "{n:?}");
        assert!(
            n.ip.as_deref().unwrap().starts_with(prefix),
            "{n:?} not in {:?}",
            vlan110.cidr
        );
    }
    assert!(running.kubeconfig_ready);
    assert!(running.events.iter().any(|e| e.reason == "Running"));
    assert!(running.elapsed_seconds.is_some());
    assert_eq!(
        running
            .newer_profile_versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["1.1.0"]
    );

    // ---- kubeconfig, 0600 ----------------------------------------------------------------
    let target = home.path().join("kube/ntx-dev-1.yaml");
    let saved: KubeconfigSaved = call(
        &engine,
        "kubeconfig_save",
        json!({"uid": deployed.uid, "path": target.to_string_lossy()}),
    )
    .await;
    assert_eq!(Path::new(&saved.path), target);
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.contains("apiVersion: v1") && text.contains(&vip),
        "{text}"
    );
    assert_eq!(saved.bytes as usize, text.len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // ---- scale ---------------------------------------------------------------------------
    let worker_pool = running.pools[1].name.clone();
    let cp_pool = running.pools[0].name.clone();
    let even = fails(
        &engine,
        "cluster_scale",
        json!({"uid": deployed.uid, "pool": cp_pool, "replicas": 2}),
    )
    .await;
    assert_eq!(even.code, ErrorCode::InvalidInput);
    let scaled: ClusterDetail = call(
        &engine,
        "cluster_scale",
        json!({"uid": deployed.uid, "pool": worker_pool, "replicas": 3}),
    )
    .await;
    assert_eq!(scaled.pools[1].size, 3);
    let grown = wait_for(&engine, &deployed.uid, "scaled to 3 workers", |d| {
        d.phase == ClusterPhase::Running
            && d.pools[1]
                .nodes
                .iter()
                .filter(|n| n.state == "Running")
                .count()
                == 3
    })
    .await;
    assert!(grown.pools[1].nodes.iter().all(|n| n.vm_uuid.is_some()));

    // ---- a new profile version, with the diff first --------------------------------------
    let plan: ProfileUpdatePlan = call(
        &engine,
        "cluster_profile_plan",
        json!({"uid": deployed.uid, "profileUid": v2.uid}),
    )
    .await;
    assert_eq!(
        plan.from.as_ref().unwrap().version.as_deref(),
        Some("1.0.0")
    );
    assert_eq!(plan.to.version.as_deref(), Some("1.1.0"));
    // Only the CNI layer changes: the CSI values tuned for this cluster are kept (same pack
    // version in 1.1.0).
    assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
    assert_eq!(plan.changes[0].pack_name, "cni-cilium-oss");
    assert!(plan.changes[0].to_values.contains("cluster-pool"));
    assert!(plan.impact.contains("in place"), "{}", plan.impact);
    assert!(
        plan.impact.contains("kept for nutanix-csi"),
        "{}",
        plan.impact
    );
    let _: ClusterDetail = call(
        &engine,
        "cluster_profile_update",
        json!({"uid": deployed.uid, "profileUid": v2.uid}),
    )
    .await;
    let updated = wait_for(&engine, &deployed.uid, "on profile 1.1.0", |d| {
        d.profile.as_ref().and_then(|p| p.version.as_deref()) == Some("1.1.0")
    })
    .await;
    assert!(updated.newer_profile_versions.is_empty());
    // Applied: the cluster now runs 1.1.0 with its own CSI values (planning the same version
    // again finds nothing to change).
    let again: ProfileUpdatePlan = call(
        &engine,
        "cluster_profile_plan",
        json!({"uid": deployed.uid, "profileUid": v2.uid}),
    )
    .await;
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    let record = palette_get(&engine, &format!("/v1/spectroclusters/{}", deployed.uid)).await;
    let packs = record["spec"]["clusterProfileTemplates"][0]["packs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let csi = packs
        .iter()
        .find(|p| p["name"] == "nutanix-csi")
        .expect("CSI pack");
    assert!(
        csi["values"]
            .as_str()
            .unwrap_or_default()
            .contains("# tuned for ntx-dev-1"),
        "the cluster kept its CSI values: {csi}"
    );
    assert_eq!(
        record["spec"]["clusterProfileTemplates"][0]["profileVersion"],
        "1.1.0"
    );

    // ---- delete: confirmation, then a delete stuck on an unavailable PE, then force -------
    let wrong = fails(
        &engine,
        "cluster_delete",
        json!({"uid": deployed.uid, "confirmName": "ntx-dev-2"}),
    )
    .await;
    assert_eq!(wrong.code, ErrorCode::InvalidInput);
    let early_force = fails(
        &engine,
        "cluster_delete",
        json!({"uid": deployed.uid, "confirmName": "ntx-dev-1", "force": true}),
    )
    .await;
    assert!(
        early_force.message.contains("stuck"),
        "{}",
        early_force.message
    );
    prism_control(
        &engine,
        &format!("/__sandbox/prism/clusters/{}/availability", pe.name),
        json!({"is_available": false}),
    )
    .await;
    let deleting: ClusterDetail = call(
        &engine,
        "cluster_delete",
        json!({"uid": deployed.uid, "confirmName": "ntx-dev-1"}),
    )
    .await;
    assert_eq!(deleting.phase, ClusterPhase::Deleting);
    let stuck = wait_for(&engine, &deployed.uid, "stuck deleting", |d| d.delete_stuck).await;
    assert_eq!(stuck.phase, ClusterPhase::Deleting);
    let outcome = stuck.outcome.clone().unwrap();
    assert!(
        outcome.next_step.contains("force delete"),
        "{}",
        outcome.next_step
    );
    let forced: ClusterDetail = call(
        &engine,
        "cluster_delete",
        json!({"uid": deployed.uid, "confirmName": "ntx-dev-1", "force": true}),
    )
    .await;
    assert_eq!(forced.phase, ClusterPhase::Deleted);
    let left = forced.outcome.unwrap();
    assert!(left.problem.contains("VMs were left"), "{}", left.problem);
    assert!(
        left.next_step.contains(&nodes[0].name),
        "{}",
        left.next_step
    );
    let gone = fails(&engine, "cluster_detail", json!({"uid": deployed.uid})).await;
    assert_eq!(gone.code, ErrorCode::NotFound);
    engine.shutdown().await;
}

#[tokio::test]
async fn provisioning_on_an_unavailable_prism_element_fails_with_the_reason_and_carries_on_after_a_restart()
 {
    let home = tempfile::tempdir().unwrap();
    let engine = started(home.path()).await;
    let (account_uid, v1, _) = ready_for_step_five(&engine).await;
    let options: DeployOptions = call(&engine, "deploy_options", json!({})).await;
    let pe = options.prism_elements[0].clone();
    let (subnet, placement) = node_subnet(&engine, &pe).await;
    let image = placement
        .images
        .iter()
        .find(|i| i.name == "capx-ubuntu-2204-kube-v1.30.5")
        .unwrap()
        .clone();
    let spec = spec(
        &account_uid,
        &v1.uid,
        &pe,
        &subnet,
        &image,
        &placement.vip_candidates[0],
    );

    // Slow the sandbox clock so the PE goes away while the cluster is still Pending.
    control(
        &engine,
        reqwest::Method::POST,
        "/__sandbox/time-scale",
        json!({"time_scale": 1.0}),
    )
    .await;
    let deployed: DeployResult = call(&engine, "cluster_deploy", json!({"spec": spec})).await;
    prism_control(
        &engine,
        &format!("/__sandbox/prism/clusters/{}/availability", pe.name),
        json!({"is_available": false}),
    )
    .await;
    control(
        &engine,
        reqwest::Method::POST,
        "/__sandbox/time-scale",
        json!({"time_scale": 0.01}),
    )
    .await;
    let failed = wait_for(&engine, &deployed.uid, "Failed", |d| {
        d.phase == ClusterPhase::Failed
    })
    .await;
    let outcome = failed.outcome.clone().expect("a failure says why");
    assert!(
        outcome.problem.contains("not available"),
        "{}",
        outcome.problem
    );
    assert!(
        outcome.next_step.contains("Prism Element"),
        "{}",
        outcome.next_step
    );
    assert!(
        failed
            .events
            .iter()
            .any(|e| e.severity == "Warning" && e.reason == "MachineProvisionFailed")
    );

    // The app quits and starts again: the same cluster is read back, still stuck.
    engine.shutdown().await;
    let engine = started(home.path()).await;
    let again = detail(&engine, &deployed.uid).await;
    assert_eq!(again.name, "ntx-dev-1");
    assert!(
        matches!(
            again.phase,
            ClusterPhase::Failed | ClusterPhase::Provisioning
        ),
        "{:?}",
        again.phase
    );

    // The PE comes back: CAPX's retries go through and the cluster reaches Running.
    prism_control(
        &engine,
        &format!("/__sandbox/prism/clusters/{}/availability", pe.name),
        json!({"is_available": true}),
    )
    .await;
    let running = wait_for(&engine, &deployed.uid, "Running", |d| {
        d.phase == ClusterPhase::Running
    })
    .await;
    assert!(running.outcome.is_none(), "{:?}", running.outcome);
    engine.shutdown().await;
}
