//! Day 2 on a Running cluster: switching to another cluster-profile version (the packs apply
//! while the cluster stays Running), and a delete that is stuck while the PE holding the VMs
//! is unavailable. Time is driven with `advance` at a slow scale, so every phase is seen.

mod common;

use std::path::Path;

use capstan_sandbox::{Sandbox, SandboxConfig};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Setup (PCG boot, ...) runs fast; then real time nearly stops and only `advance` moves it.
async fn ready_and_slow(sb: &Sandbox) -> Ready {
    let r = ready(sb).await;
    sb.set_time_scale(1000.0).expect("time scale");
    r
}

async fn create_cluster(sb: &Sandbox, r: &Ready, name: &str, vip: &str) -> String {
    let placement = Placement {
        vip,
        ..DEFAULT_PLACEMENT
    };
    let (s, v) = ppost(
        sb,
        "/v1/spectroclusters/cloudTypes/nutanix",
        cluster_body(name, &r.account, &r.profile, &placement, 1, 1),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["uid"].as_str().unwrap().to_owned()
}

async fn running_cluster(sb: &Sandbox, r: &Ready, name: &str, vip: &str) -> String {
    let uid = create_cluster(sb, r, name, vip).await;
    sb.advance(300.0);
    assert_eq!(cluster_state(sb, &uid).await.1, "Running");
    uid
}

/// A published profile `name` version `version` with the given Kubernetes pack tag.
async fn profile_version(
    sb: &Sandbox,
    name: &str,
    version: &str,
    k8s: &str,
    cloud: &str,
) -> String {
    let (s, v) = ppost(
        sb,
        "/v1/clusterprofiles?publish=true",
        json!({
            "metadata": {"name": name},
            "spec": {"version": version, "template": {"cloudType": cloud, "type": "cluster", "packs": [
                {"name": "os-nutanix", "tag": "1.0.0", "layer": "os"},
                {"name": "kubernetes", "tag": k8s, "layer": "k8s"},
                {"name": "cni-cilium-oss", "tag": "1.16.3", "layer": "cni"},
            ]}},
        }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["uid"].as_str().unwrap().to_owned()
}

async fn ppatch(sb: &Sandbox, path: &str, body: Value) -> (StatusCode, Value) {
    palette(sb, Method::PATCH, path, Auth::ApiKey, Some(body)).await
}

async fn cluster(sb: &Sandbox, uid: &str) -> Value {
    let (s, c) = pget(sb, &format!("/v1/spectroclusters/{uid}")).await;
    assert_eq!(s, 200, "{c}");
    c
}

async fn kubernetes_version(sb: &Sandbox, uid: &str) -> String {
    let (_, o) = pget(sb, &format!("/v1/dashboard/spectroclusters/{uid}/overview")).await;
    o["status"]["kubeMeta"]["kubernetesVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn pack_status<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["status"]["packs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no status for pack {name}: {c}"))
}

async fn events(sb: &Sandbox, uid: &str) -> Vec<Value> {
    let (_, ev) = pget(sb, &format!("/v1/events/components/spectrocluster/{uid}")).await;
    ev["items"].as_array().cloned().unwrap_or_default()
}

async fn count_events(sb: &Sandbox, uid: &str, reason: &str) -> usize {
    events(sb, uid)
        .await
        .iter()
        .filter(|e| e["reason"] == reason)
        .count()
}

#[tokio::test]
async fn a_running_cluster_moves_to_a_new_profile_version() {
    let sb = start(50, 0.005).await;
    let r = ready_and_slow(&sb).await;
    let v2 = profile_version(&sb, "nutanix-infra", "1.1.0", "1.31.4", "nutanix").await;
    let uid = create_cluster(&sb, &r, "ntx-upd", "10.64.3.240").await;
    let profiles_path = format!("/v1/spectroclusters/{uid}/profiles");
    let to_v2 = json!({"profiles": [{"uid": v2}]});

    // The create path records the attached profile: GET .../profiles works at once.
    let (s, list) = pget(&sb, &profiles_path).await;
    assert_eq!(s, 200, "{list}");
    let attached = list["profiles"].as_array().unwrap();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0]["metadata"]["uid"], r.profile.as_str());
    assert_eq!(attached[0]["metadata"]["name"], "nutanix-infra");
    assert_eq!(attached[0]["spec"]["cloudType"], "nutanix");
    let k8s = attached[0]["spec"]["packs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["name"] == "kubernetes")
        .expect("kubernetes pack");
    assert_eq!(k8s["spec"]["version"], "1.30.6");
    assert_eq!(k8s["spec"]["layer"], "k8s");

    // Not Running yet: Pending, then Provisioning, both refuse the update.
    for want in ["Pending", "Provisioning"] {
        assert_eq!(cluster_state(&sb, &uid).await.1, want);
        let (s, v) = ppatch(&sb, &profiles_path, to_v2.clone()).await;
        assert_eq!(s, 409, "{want}: {v}");
        assert_eq!(v["code"], "ClusterNotRunning");
        assert!(v["message"].as_str().unwrap().contains(want), "{v}");
        sb.advance(16.0);
    }
    sb.advance(300.0);
    assert_eq!(cluster_state(&sb, &uid).await.1, "Running");
    assert_eq!(kubernetes_version(&sb, &uid).await, "v1.30.5");

    // Not found: the cluster, or the profile. Wrong cloud type and bad bodies: 400.
    let (s, v) = ppatch(
        &sb,
        "/v1/spectroclusters/no-such-cluster/profiles",
        to_v2.clone(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("ResourceNotFound"))
    );
    let (s, v) = ppatch(
        &sb,
        &profiles_path,
        json!({"profiles": [{"uid": "no-such-profile"}]}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("ResourceNotFound"))
    );
    let vsphere = profile_version(&sb, "vsphere-infra", "1.0.0", "1.31.4", "vsphere").await;
    let (s, v) = ppatch(&sb, &profiles_path, json!({"profiles": [{"uid": vsphere}]})).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("vsphere"), "{v}");
    let (s, _) = ppatch(&sb, &profiles_path, json!({"profile": []})).await;
    assert_eq!(s, 400);
    let (s, v) = ppatch(
        &sb,
        &profiles_path,
        json!({"profiles": [{"uid": v2, "packValues": [{"name": "kubernetes", "tag": "1.29.10"}]}]}),
    )
    .await;
    assert_eq!(s, 400, "a tag the profile does not have: {v}");
    assert_eq!(
        cluster(&sb, &uid).await["spec"]["clusterProfileTemplates"][0]["uid"],
        r.profile.as_str(),
        "refused updates change nothing"
    );

    // The switch: v2 carries Kubernetes 1.31.4; the Cilium values are edited on the way.
    let (s, v) = ppatch(
        &sb,
        &profiles_path,
        json!({"profiles": [{"uid": v2, "packValues": [
            {"name": "cni-cilium-oss", "tag": "1.16.3", "type": "spectro", "values": "charts:\n  cilium:\n    hubble: true\n"},
        ]}]}),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let c = cluster(&sb, &uid).await;
    assert_eq!(c["status"]["state"], "Running", "the cluster stays Running");
    let templates = c["spec"]["clusterProfileTemplates"].as_array().unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0]["uid"], v2.as_str());
    assert_eq!(templates[0]["name"], "nutanix-infra");
    assert_eq!(templates[0]["profileVersion"], "1.1.0");
    let packs = templates[0]["packs"].as_array().unwrap();
    let k8s = packs.iter().find(|p| p["name"] == "kubernetes").unwrap();
    assert_eq!(
        (k8s["tag"].as_str(), k8s["layer"].as_str()),
        (Some("1.31.4"), Some("k8s"))
    );
    let cilium = packs
        .iter()
        .find(|p| p["name"] == "cni-cilium-oss")
        .unwrap();
    assert!(
        cilium["values"].as_str().unwrap().contains("hubble"),
        "{cilium}"
    );
    // Changed packs apply; the unchanged OS pack stays deployed.
    let k8s = pack_status(&c, "kubernetes");
    assert_eq!(k8s["version"], "1.31.4");
    assert_eq!(k8s["profileUid"], v2.as_str());
    assert_eq!(
        (
            k8s["condition"]["status"].as_str(),
            k8s["condition"]["reason"].as_str()
        ),
        (Some("False"), Some("Upgrading"))
    );
    assert_eq!(
        pack_status(&c, "cni-cilium-oss")["condition"]["reason"],
        "Upgrading"
    );
    assert_eq!(
        pack_status(&c, "os-nutanix")["condition"]["reason"],
        "Deployed"
    );
    assert_eq!(
        kubernetes_version(&sb, &uid).await,
        "v1.30.5",
        "the version changes once the pack is applied"
    );
    let (_, list) = pget(&sb, &profiles_path).await;
    assert_eq!(list["profiles"][0]["metadata"]["uid"], v2.as_str());
    assert_eq!(count_events(&sb, &uid, "ProfileUpdating").await, 1);
    assert_eq!(count_events(&sb, &uid, "ProfileUpdated").await, 0);
    // The old version is no longer in use; the new one is.
    let (_, old) = pget(&sb, &format!("/v1/clusterprofiles/{}", r.profile)).await;
    assert_eq!(old["status"]["inUseClusterUids"], json!([]));
    let (_, new) = pget(&sb, &format!("/v1/clusterprofiles/{v2}")).await;
    assert_eq!(new["status"]["inUseClusterUids"], json!([uid]));

    sb.advance(10.0);
    assert_eq!(
        pack_status(&cluster(&sb, &uid).await, "kubernetes")["condition"]["reason"],
        "Upgrading"
    );
    sb.advance(15.0);
    let c = cluster(&sb, &uid).await;
    assert_eq!(c["status"]["state"], "Running");
    for p in c["status"]["packs"].as_array().unwrap() {
        assert_eq!(p["condition"]["status"], "True", "{p}");
        assert_eq!(p["condition"]["reason"], "Deployed", "{p}");
    }
    assert_eq!(kubernetes_version(&sb, &uid).await, "v1.31.4");
    assert_eq!(count_events(&sb, &uid, "ProfileUpdated").await, 1);
    let (_, o) = pget(
        &sb,
        &format!("/v1/dashboard/spectroclusters/{uid}/overview"),
    )
    .await;
    assert_eq!(o["status"]["health"]["state"], "Healthy");

    // Sending what is applied already is a no-op: no new apply, no events.
    let same = json!({"profiles": [{"uid": v2, "packValues": [
        {"name": "cni-cilium-oss", "values": "charts:\n  cilium:\n    hubble: true\n"},
    ]}]});
    let (s, _) = ppatch(&sb, &profiles_path, same).await;
    assert_eq!(s, 204);
    assert_eq!(count_events(&sb, &uid, "ProfileUpdating").await, 1);

    // Another profile name replaces the attached one only when asked to (PUT, whole set).
    let other = profile_version(&sb, "nutanix-lts", "1.0.0", "1.30.6", "nutanix").await;
    let (s, v) = ppatch(&sb, &profiles_path, json!({"profiles": [{"uid": other}]})).await;
    assert_eq!(s, 400, "a second infrastructure profile: {v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("replaceWithProfile"),
        "{v}"
    );
    let (s, _) = pput(
        &sb,
        &profiles_path,
        json!({"profiles": [{"uid": other, "replaceWithProfile": "not-attached"}]}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = pput(&sb, &profiles_path, json!({"profiles": []})).await;
    assert_eq!(s, 400, "a cluster keeps at least one profile");
    let (s, v) = pput(
        &sb,
        &profiles_path,
        json!({"profiles": [{"uid": other, "replaceWithProfile": v2}]}),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let (_, list) = pget(&sb, &profiles_path).await;
    let names: Vec<&str> = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nutanix-lts"]);
    sb.advance(25.0);
    assert_eq!(kubernetes_version(&sb, &uid).await, "v1.30.6");
    assert_eq!(count_events(&sb, &uid, "ProfileUpdated").await, 2);

    // Deleting and Deleted clusters refuse updates too.
    let (s, _) = pdelete(&sb, &format!("/v1/spectroclusters/{uid}")).await;
    assert_eq!(s, 204);
    let (s, v) = ppatch(&sb, &profiles_path, to_v2).await;
    assert_eq!(s, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("Deleting"), "{v}");
}

/// Makes a PE (un)available through the documented control endpoint.
async fn set_pe(sb: &Sandbox, pe: &str, available: bool) {
    let resp = client()
        .put(format!(
            "{}/__sandbox/prism/clusters/{pe}/availability",
            sb.prism_url()
        ))
        .json(&json!({"is_available": available}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_delete_waits_for_an_unavailable_pe_and_force_delete_still_works() {
    let sb = start(50, 0.005).await;
    let r = ready_and_slow(&sb).await;
    let uid = running_cluster(&sb, &r, "stuck", "10.64.3.240").await;
    let vms = cluster_vms(&sb, "stuck").await;
    assert_eq!(vms.len(), 2);

    set_pe(&sb, "pe-cluster-01", false).await;
    let (s, _) = pdelete(&sb, &format!("/v1/spectroclusters/{uid}")).await;
    assert_eq!(s, 204);
    sb.advance(190.0);
    assert_eq!(
        cluster_state(&sb, &uid).await.1,
        "Deleting",
        "the record stays while its machines cannot be deleted"
    );
    assert_eq!(cluster_vms(&sb, "stuck").await.len(), 2);
    let warnings: Vec<Value> = events(&sb, &uid)
        .await
        .into_iter()
        .filter(|e| e["reason"] == "MachineDeleteFailed")
        .collect();
    assert!(!warnings.is_empty());
    for w in &warnings {
        assert_eq!(w["severity"], "Warning");
        let msg = w["message"].as_str().unwrap();
        assert!(
            msg.starts_with("failed to delete VM stuck-")
                && msg.ends_with(": the PE cluster pe-cluster-01 is not available"),
            "{msg}"
        );
    }
    // CAPX requeues every 30 s: 60 s more brings about two more warnings per machine.
    sb.advance(60.0);
    let more = count_events(&sb, &uid, "MachineDeleteFailed").await;
    assert!(
        more >= warnings.len() + 4,
        "{more} after {}",
        warnings.len()
    );
    assert_eq!(cluster_state(&sb, &uid).await.1, "Deleting");

    // The PE is back: the next retries delete the VMs, and the next check finishes the
    // cluster (Deleted, then gone 20 s later).
    set_pe(&sb, "pe-cluster-01", true).await;
    sb.advance(31.0);
    assert!(cluster_vms(&sb, "stuck").await.is_empty());
    assert_eq!(cluster_state(&sb, &uid).await.1, "Deleted");
    sb.advance(21.0);
    assert_eq!(cluster_state(&sb, &uid).await.0, 404);

    // Stuck again, then force-deleted: the record goes at once, the VMs stay behind.
    let uid = running_cluster(&sb, &r, "stuck-2", "10.64.3.241").await;
    set_pe(&sb, "pe-cluster-01", false).await;
    let (s, _) = pdelete(&sb, &format!("/v1/spectroclusters/{uid}")).await;
    assert_eq!(s, 204);
    sb.advance(120.0);
    assert_eq!(cluster_state(&sb, &uid).await.1, "Deleting");
    let (s, _) = pdelete(&sb, &format!("/v1/spectroclusters/{uid}?forceDelete=true")).await;
    assert_eq!(s, 204);
    assert_eq!(cluster_state(&sb, &uid).await.0, 404);
    set_pe(&sb, "pe-cluster-01", true).await;
    sb.advance(600.0);
    assert_eq!(
        cluster_vms(&sb, "stuck-2").await.len(),
        2,
        "force delete leaves the VMs for manual clean-up"
    );
}

fn state_config(file: &Path, time_scale: f64) -> SandboxConfig {
    SandboxConfig {
        vms: 30,
        time_scale,
        tls: false,
        state_file: Some(file.to_owned()),
        ..SandboxConfig::default()
    }
}

#[tokio::test]
async fn a_profile_update_in_flight_survives_a_restart_and_old_files_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.json");
    let sb = start_with(state_config(&file, 0.005)).await;
    let r = ready_and_slow(&sb).await;
    let v2 = profile_version(&sb, "nutanix-infra", "1.1.0", "1.31.4", "nutanix").await;
    let uid = running_cluster(&sb, &r, "kept", "10.64.3.240").await;
    let (s, _) = ppatch(
        &sb,
        &format!("/v1/spectroclusters/{uid}/profiles"),
        json!({"profiles": [{"uid": v2}]}),
    )
    .await;
    assert_eq!(s, 204);
    sb.shutdown().await;

    // The apply carries on after the restart and finishes with the new version.
    let sb = start_with(state_config(&file, 1000.0)).await;
    assert!(sb.is_restored());
    assert_eq!(
        pack_status(&cluster(&sb, &uid).await, "kubernetes")["condition"]["reason"],
        "Upgrading"
    );
    sb.advance(25.0);
    assert_eq!(kubernetes_version(&sb, &uid).await, "v1.31.4");
    assert_eq!(
        cluster(&sb, &uid).await["spec"]["clusterProfileTemplates"][0]["profileVersion"],
        "1.1.0"
    );
    sb.shutdown().await;

    // A file written before these fields existed still loads (they default to none).
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for c in saved["palette"]["clusters"].as_array_mut().unwrap() {
        let c = c.as_object_mut().unwrap();
        assert!(c.remove("profile_apply").is_some() && c.remove("kubernetes_version").is_some());
    }
    std::fs::write(&file, saved.to_string()).unwrap();
    let sb = start_with(state_config(&file, 1000.0)).await;
    assert!(sb.is_restored(), "an older file is read, not moved aside");
    assert_eq!(cluster_state(&sb, &uid).await.1, "Running");
    assert_eq!(
        kubernetes_version(&sb, &uid).await,
        "v1.30.5",
        "without the override the pool YAML's version shows"
    );
    sb.shutdown().await;
}
