//! Step 4, the cluster profile, through the dispatcher against the embedded sandbox: pack
//! registries (custom included), packs per layer with versions (`nutanix-csi` only once the
//! `nutanix` cloud type is registered), default values, the name check, create and publish,
//! re-running the create, YAML refused per layer before anything is sent, and new versions.

use std::path::Path;
use std::sync::Arc;

mod support;

use capstan_engine::{Engine, NoEvents};
use capstan_ipc::ErrorCode;
use capstan_ipc::profile::*;
use capstan_ipc::workflow::{CloudTypeResult, StepStatus, WorkflowState, WorkflowStepId};
use serde_json::{Value, json};
use support::{call, components, fails};

async fn started(home: &Path) -> Engine {
    let mut config = support::config(home, 20);
    config.sandbox.tls = false;
    let engine = Engine::new(config, Arc::new(NoEvents));
    engine.start().await;
    engine
}

async fn register_cloud_type(engine: &Engine) {
    let _: CloudTypeResult = call(
        engine,
        "cloud_type_register",
        json!({
            "capxVersion": "v1.5.4",
            "source": "shipped",
            "infrastructureComponents": components("v1.5.4"),
        }),
    )
    .await;
}

async fn packs(engine: &Engine, layer: &str) -> PackList {
    call(engine, "packs_by_layer", json!({ "layer": layer })).await
}

fn pick<'a>(list: &'a PackList, name: &str) -> &'a PackOption {
    list.packs
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} not offered: {:?}", list.packs))
}

fn layer(p: &PackOption, version: &str, values: &str) -> Value {
    json!({
        "layer": p.layer,
        "registryUid": p.registry_uid,
        "packName": p.name,
        "version": version,
        "values": values,
    })
}

async fn profiles(engine: &Engine) -> Vec<ProfileSummary> {
    call::<ProfileList>(engine, "profiles_list", json!({}))
        .await
        .profiles
}

#[tokio::test]
async fn browse_packs_create_publish_rerun_and_version_a_profile() {
    let home = tempfile::tempdir().unwrap();
    let engine = started(home.path()).await;

    // Registries: Palette's own and the custom one.
    let registries: PackRegistryList = call(&engine, "pack_registries", json!({})).await;
    let custom: Vec<&PackRegistry> = registries.registries.iter().filter(|r| r.custom).collect();
    assert_eq!(custom.len(), 1, "{:?}", registries.registries);
    assert_eq!(custom[0].name, "capstan-custom-packs");
    assert!(
        registries
            .registries
            .iter()
            .any(|r| !r.custom && r.is_default)
    );

    // Before the cloud type is registered under the name `nutanix`, no Nutanix CSI.
    let csi = packs(&engine, "csi").await;
    assert!(!csi.packs.iter().any(|p| p.name == "nutanix-csi"));
    register_cloud_type(&engine).await;
    let csi = packs(&engine, "csi").await;
    let nutanix_csi = pick(&csi, "nutanix-csi");
    assert_eq!(nutanix_csi.versions, ["3.2.0", "3.1.0"]);
    assert!(csi.packs.iter().all(|p| p.layer == PackLayer::Csi));

    // Each layer with its packs; custom OS pack from the custom registry; newest first.
    let os = packs(&engine, "os").await;
    let custom_os = pick(&os, "os-nutanix");
    assert_eq!(custom_os.registry_uid, custom[0].uid);
    let k8s = packs(&engine, "k8s").await;
    let kubernetes = pick(&k8s, "kubernetes");
    assert_eq!(kubernetes.versions, ["1.31.4", "1.30.6", "1.29.10"]);
    assert!(!k8s.packs.iter().any(|p| p.name == "ubuntu"));
    let cni = packs(&engine, "cni").await;
    let cilium = pick(&cni, "cni-cilium-oss");
    let only_calico: PackList = call(
        &engine,
        "packs_by_layer",
        json!({"layer": "cni", "search": "calico"}),
    )
    .await;
    assert_eq!(
        only_calico
            .packs
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["cni-calico"]
    );
    let custom_only: PackList = call(
        &engine,
        "packs_by_layer",
        json!({"layer": "os", "registryUid": custom[0].uid}),
    )
    .await;
    assert!(
        custom_only
            .packs
            .iter()
            .all(|p| p.registry_uid == custom[0].uid)
    );
    assert!(custom_only.packs.iter().any(|p| p.name == "os-nutanix"));

    // Default values of one version.
    let defaults: PackDefaults = call(
        &engine,
        "pack_values",
        json!({"registryUid": nutanix_csi.registry_uid, "packName": "nutanix-csi", "version": "3.1.0"}),
    )
    .await;
    assert!(
        defaults.values.contains("nutanix-csi 3.1.0"),
        "{}",
        defaults.values
    );
    let no_such = fails(
        &engine,
        "pack_values",
        json!({"registryUid": nutanix_csi.registry_uid, "packName": "nutanix-csi", "version": "9.9.9"}),
    )
    .await;
    assert_eq!(no_such.code, ErrorCode::InvalidInput);
    assert!(no_such.message.contains("3.2.0"), "{}", no_such.message);

    // The name check.
    let check: ProfileNameCheck = call(
        &engine,
        "profile_name_check",
        json!({"name": "nutanix-infra", "version": "1.0.0"}),
    )
    .await;
    assert!(check.available, "{check:?}");
    let bad_version: ProfileNameCheck = call(
        &engine,
        "profile_name_check",
        json!({"name": "nutanix-infra", "version": "1.0"}),
    )
    .await;
    assert!(!bad_version.available);
    assert_eq!(bad_version.field.as_deref(), Some("version"));

    let cni_values = "charts:\n  cilium:\n    ipam:\n      mode: cluster-pool\n";
    let layers = json!([
        layer(custom_os, "1.0.0", ""),
        layer(kubernetes, "1.30.6", ""),
        layer(cilium, "1.16.3", cni_values),
        layer(nutanix_csi, "3.2.0", &defaults.values),
    ]);
    let request = |layers: Value| {
        json!({
            "name": "nutanix-infra",
            "version": "1.0.0",
            "description": "CAPX on Nutanix",
            "layers": layers,
            "publish": true,
        })
    };

    // Malformed YAML is refused naming the layer, before anything is created.
    let mut broken = layers.clone();
    broken[2]["values"] = json!("charts:\n  cilium:\n    ipam: [\n  mode: x\n");
    let refused = fails(&engine, "profile_create", request(broken)).await;
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    assert!(refused.message.contains("CNI"), "{}", refused.message);
    let details = refused.details.expect("details");
    assert_eq!(details["layer"], "cni");
    assert_eq!(details["field"], "layers[2].values");
    assert!(details["line"].as_u64().is_some(), "{details}");
    // A missing CSI layer is refused too.
    let mut no_csi = layers.clone();
    no_csi.as_array_mut().unwrap().pop();
    let refused = fails(&engine, "profile_create", request(no_csi)).await;
    assert_eq!(refused.details.unwrap()["field"], "layers");
    assert!(profiles(&engine).await.is_empty());

    // Create and publish.
    let created: ProfileCreateResult =
        call(&engine, "profile_create", request(layers.clone())).await;
    assert!(created.created);
    assert_eq!(created.published, Some(true));
    let detail: ProfileDetail = call(&engine, "profile_get", json!({"uid": created.uid})).await;
    assert!(detail.published);
    assert_eq!(detail.name, "nutanix-infra");
    assert_eq!(detail.version, "1.0.0");
    assert_eq!(detail.description, "CAPX on Nutanix");
    assert_eq!(detail.layers.len(), 4);
    let cni_layer = detail
        .layers
        .iter()
        .find(|l| l.layer == PackLayer::Cni)
        .unwrap();
    assert_eq!(cni_layer.values, cni_values);
    assert_eq!(cni_layer.version, "1.16.3");
    // The stepper reads the same profile back: step 4 is done.
    let state: WorkflowState = call(&engine, "workflow_state", json!({})).await;
    let step4 = state
        .steps
        .iter()
        .find(|s| s.id == WorkflowStepId::Profile)
        .unwrap();
    assert_eq!(step4.status, StepStatus::Done, "{}", step4.summary);
    assert_eq!(step4.object_uid.as_deref(), Some(created.uid.as_str()));

    // The name is taken now; creating again keeps the one there.
    let taken: ProfileNameCheck = call(
        &engine,
        "profile_name_check",
        json!({"name": "nutanix-infra", "version": "1.0.0"}),
    )
    .await;
    assert!(!taken.available);
    assert!(taken.reason.unwrap().contains("already exists"));
    let again: ProfileCreateResult = call(&engine, "profile_create", request(layers.clone())).await;
    assert!(!again.created);
    assert_eq!(again.uid, created.uid);
    assert_eq!(again.published, Some(true));
    let listed = profiles(&engine).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].versions.len(), 1);

    // A new version with another Kubernetes version.
    let mut next_layers = layers.clone();
    next_layers[1]["version"] = json!("1.31.4");
    let next: ProfileCreateResult = call(
        &engine,
        "profile_new_version",
        json!({"uid": created.uid, "version": "1.1.0", "layers": next_layers, "publish": true}),
    )
    .await;
    assert!(next.created);
    assert_ne!(next.uid, created.uid);
    assert_eq!(next.name, "nutanix-infra");
    let next_detail: ProfileDetail = call(&engine, "profile_get", json!({"uid": next.uid})).await;
    assert_eq!(next_detail.version, "1.1.0");
    assert_eq!(next_detail.description, "CAPX on Nutanix");
    let k8s_layer = next_detail
        .layers
        .iter()
        .find(|l| l.layer == PackLayer::K8s)
        .unwrap();
    assert_eq!(k8s_layer.version, "1.31.4");
    let listed = profiles(&engine).await;
    assert_eq!(listed.len(), 1);
    let versions: Vec<&str> = listed[0]
        .versions
        .iter()
        .map(|v| v.version.as_str())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0"]);
    // The original version is untouched.
    let first: ProfileDetail = call(&engine, "profile_get", json!({"uid": created.uid})).await;
    assert_eq!(first.version, "1.0.0");

    // A version of a pack the registry does not have is refused, naming the field.
    let mut unknown = layers.clone();
    unknown[1]["version"] = json!("1.0.0");
    let refused = fails(
        &engine,
        "profile_new_version",
        json!({"uid": created.uid, "version": "1.2.0", "layers": unknown}),
    )
    .await;
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    assert_eq!(refused.details.unwrap()["field"], "version");
    assert_eq!(profiles(&engine).await[0].versions.len(), 2);
}

async fn add_fault(engine: &Engine, rule: Value) {
    let palette = engine
        .status()
        .environment
        .palette_url
        .expect("the sandbox is running");
    let r = reqwest::Client::new()
        .post(format!("{palette}/__sandbox/faults/rules"))
        .json(&rule)
        .send()
        .await
        .expect("fault control");
    assert!(r.status().is_success(), "fault rule refused: {rule}");
}

#[tokio::test]
async fn a_lost_answer_to_the_create_leaves_exactly_one_profile() {
    let home = tempfile::tempdir().unwrap();
    let engine = started(home.path()).await;
    register_cloud_type(&engine).await;
    let (os, k8s, cni, csi) = (
        packs(&engine, "os").await,
        packs(&engine, "k8s").await,
        packs(&engine, "cni").await,
        packs(&engine, "csi").await,
    );
    let layers = json!([
        layer(pick(&os, "ubuntu"), "24.04", ""),
        layer(pick(&k8s, "kubernetes"), "1.31.4", ""),
        layer(pick(&cni, "cni-calico"), "3.29.0", ""),
        layer(pick(&csi, "nutanix-csi"), "3.2.0", ""),
    ]);
    // Palette creates the profile but the answer never arrives.
    add_fault(&engine, json!({"service": "palette", "method": "POST", "path": "/v1/clusterprofiles", "kind": {"type": "drop_response"}, "count": 1})).await;
    let request = json!({"name": "ntx", "version": "0.1.0", "layers": layers});
    let first: ProfileCreateResult = call(&engine, "profile_create", request.clone()).await;
    let palette = engine.status().environment.palette_url.unwrap();
    let faults: Value = reqwest::get(format!("{palette}/__sandbox/faults"))
        .await
        .expect("fault control")
        .json()
        .await
        .expect("fault config");
    assert_eq!(
        faults["rules"][0]["fired"], 1,
        "the answer was not dropped: {faults}"
    );
    let listed = profiles(&engine).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].versions.len(), 1);
    assert_eq!(listed[0].versions[0].uid, first.uid);
    // Not asked to publish: a draft.
    let detail: ProfileDetail = call(&engine, "profile_get", json!({"uid": first.uid})).await;
    assert!(!detail.published);
    let again: ProfileCreateResult = call(&engine, "profile_create", request).await;
    assert!(!again.created);
    assert_eq!(again.uid, first.uid);
    assert_eq!(profiles(&engine).await[0].versions.len(), 1);
}
