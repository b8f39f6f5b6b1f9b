//! The state file: a sandbox started again with it carries on where it stopped; files that
//! do not fit are moved aside, never loaded and never lost.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use capstan_sandbox::{Sandbox, SandboxConfig};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn config(state_file: &Path, seed: u64, vms: usize) -> SandboxConfig {
    SandboxConfig {
        seed,
        vms,
        time_scale: 0.005,
        tls: false,
        state_file: Some(state_file.to_owned()),
        ..SandboxConfig::default()
    }
}

async fn cloud_type_names(sb: &Sandbox) -> Vec<String> {
    let (s, v) = pget(sb, "/v1/clouds/cloudTypes").await;
    assert_eq!(s, 200, "{v}");
    v["cloudTypes"]
        .as_array()
        .expect("a list of cloud types")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn vm_uuids(sb: &Sandbox, cluster: &str) -> Vec<String> {
    let mut uuids: Vec<String> = cluster_vms(sb, cluster)
        .await
        .iter()
        .map(|v| v["metadata"]["uuid"].as_str().unwrap().to_owned())
        .collect();
    uuids.sort();
    uuids
}

async fn total_vms(sb: &Sandbox) -> u64 {
    let (s, v) = prism_post(sb, "/vms/list", json!({"length": 1})).await;
    assert_eq!(s, 200, "{v}");
    v["metadata"]["total_matches"].as_u64().expect("total")
}

#[tokio::test]
async fn palette_and_prism_state_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state").join("sandbox.json");
    let sb = start_with(config(&file, 42, 30)).await;
    assert!(!sb.is_restored());
    assert_eq!(sb.state_file(), Some(file.as_path()));
    let vms_at_start = total_vms(&sb).await;

    let setup = ready(&sb).await;
    let token = syslogin(&sb).await;
    let logo = b"\x89PNG\r\n\x1a\nnot-really-a-png".to_vec();
    let s = upload(
        &sb,
        &token,
        "/v1/clouds/cloudTypes/nutanix/logo",
        logo.clone(),
        "logo.png",
    )
    .await;
    assert_eq!(s, 204);
    let (_, pcgs) = pget(&sb, "/v1/overlords?name=pcg-1").await;
    let pcg_uid = pcgs["items"][0]["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, v) = ppost(
        &sb,
        "/v1/spectroclusters/cloudTypes/nutanix",
        cluster_body(
            "persisted",
            &setup.account,
            &setup.profile,
            &DEFAULT_PLACEMENT,
            1,
            1,
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let running_uid = v["uid"].as_str().unwrap().to_owned();
    wait_for("cluster Running", Duration::from_secs(20), || async {
        (cluster_state(&sb, &running_uid).await.1 == "Running").then_some(())
    })
    .await;
    let running_vms = vm_uuids(&sb, "persisted").await;
    assert_eq!(running_vms.len(), 2);

    // The background writer saves changes without a shutdown (an app that is killed loses
    // at most about a second).
    wait_for("the state file", Duration::from_secs(10), || async {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        text.contains(&running_uid).then_some(())
    })
    .await;

    // A second cluster is still Pending when the sandbox stops.
    let (s, v) = ppost(
        &sb,
        "/v1/spectroclusters/cloudTypes/nutanix",
        cluster_body(
            "mid-flight",
            &setup.account,
            &setup.profile,
            &Placement {
                vip: "10.64.3.241",
                ..DEFAULT_PLACEMENT
            },
            1,
            1,
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let pending_uid = v["uid"].as_str().unwrap().to_owned();
    assert_eq!(cluster_state(&sb, &pending_uid).await.1, "Pending");

    let api_key = sb.palette_api_key().expose().to_owned();
    let prism_password = sb.prism_password().expose().to_owned();
    let (_, account_before) = pget(
        &sb,
        &format!("/v1/cloudaccounts/cloudTypes/nutanix/{}", setup.account),
    )
    .await;
    let (_, cluster_before) = pget(&sb, &format!("/v1/spectroclusters/{running_uid}")).await;
    sb.shutdown().await;

    let sb = start_with(config(&file, 42, 30)).await;
    assert!(sb.is_restored());
    // The credentials are the same, so a client configured before the restart still works.
    assert_eq!(sb.palette_api_key().expose(), api_key);
    assert_eq!(sb.prism_password().expose(), prism_password);
    let r = client()
        .get(format!("{}/v1/users/info", sb.palette_url()))
        .header("ApiKey", &api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .post(format!("{}/api/nutanix/v3/vms/list", sb.prism_url()))
        .basic_auth("admin", Some(&prism_password))
        .json(&json!({"length": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = syslogin(&sb).await;

    // Palette: cloud type with its templates, keys and logo; PCG; account; profile; clusters.
    assert!(cloud_type_names(&sb).await.contains(&"nutanix".to_owned()));
    let r = client()
        .get(format!(
            "{}/v1/clouds/cloudTypes/nutanix/content/templates/clusterTemplate",
            sb.palette_url()
        ))
        .header("Authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("kind: NutanixCluster"));
    let (_, keys) = palette(
        &sb,
        Method::GET,
        "/v1/clouds/cloudTypes/nutanix/cloudAccountKeys",
        Auth::Token(&token),
        None,
    )
    .await;
    assert!(keys.to_string().contains("NUTANIX_PASSWORD"), "{keys}");
    let r = client()
        .get(format!(
            "{}/v1/clouds/cloudTypes/nutanix/logo",
            sb.palette_url()
        ))
        .header("ApiKey", &api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), logo);

    let (s, pcg) = pget(&sb, &format!("/v1/overlords/{pcg_uid}")).await;
    assert_eq!(s, 200);
    assert_eq!(pcg["status"]["state"], "Running");
    assert_eq!(pcg["metadata"]["name"], "pcg-1");
    let (s, account_after) = pget(
        &sb,
        &format!("/v1/cloudaccounts/cloudTypes/nutanix/{}", setup.account),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(account_after, account_before);
    let (s, profile) = pget(&sb, &format!("/v1/clusterprofiles/{}", setup.profile)).await;
    assert_eq!(s, 200, "{profile}");
    assert_eq!(profile["metadata"]["name"], "nutanix-infra");
    let (s, cluster_after) = pget(&sb, &format!("/v1/spectroclusters/{running_uid}")).await;
    assert_eq!(s, 200);
    assert_eq!(cluster_after["status"]["state"], "Running");
    assert_eq!(cluster_after["metadata"], cluster_before["metadata"]);
    assert_eq!(
        cluster_after["status"]["apiEndpoints"],
        cluster_before["status"]["apiEndpoints"]
    );
    let (_, events) = pget(
        &sb,
        &format!("/v1/events/components/spectrocluster/{running_uid}"),
    )
    .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "Running"),
        "{events}"
    );

    // Prism: the running cluster's VMs are still there.
    assert_eq!(vm_uuids(&sb, "persisted").await, running_vms);

    // The cluster that was mid-flight carries on and gets its VM.
    wait_for(
        "restored cluster Running",
        Duration::from_secs(20),
        || async { (cluster_state(&sb, &pending_uid).await.1 == "Running").then_some(()) },
    )
    .await;
    assert_eq!(vm_uuids(&sb, "mid-flight").await.len(), 2);
    assert_eq!(total_vms(&sb).await, vms_at_start + 4);

    // Names stay unique across the restart.
    let (s, _) = ppost(
        &sb,
        "/v1/pcg/selfHosted",
        json!({"name": "pcg-1", "cloudType": "nutanix"}),
    )
    .await;
    assert_eq!(s, 409);
    sb.shutdown().await;

    // A third start still sees everything, including what happened after the restore.
    let sb = start_with(config(&file, 42, 30)).await;
    assert!(sb.is_restored());
    assert_eq!(cluster_state(&sb, &pending_uid).await.1, "Running");
    assert_eq!(total_vms(&sb).await, vms_at_start + 4);
    sb.shutdown().await;
    assert!(!file.with_extension("json.broken").exists());
}

#[tokio::test]
async fn a_corrupt_state_file_is_kept_aside_and_a_fresh_estate_starts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.json");
    let garbage = b"{\"format\": 1, \"seed\": 42, \"vms\": 30, \"prism\": {\"trunc".to_vec();
    std::fs::write(&file, &garbage).unwrap();

    let sb = start_with(config(&file, 42, 30)).await;
    assert!(!sb.is_restored());
    let aside = dir.path().join("sandbox.json.broken");
    assert_eq!(std::fs::read(&aside).unwrap(), garbage);
    assert!(!cloud_type_names(&sb).await.contains(&"nutanix".to_owned()));
    let fresh = start_with(SandboxConfig {
        state_file: None,
        ..config(&file, 42, 30)
    })
    .await;
    assert_eq!(total_vms(&sb).await, total_vms(&fresh).await);
    fresh.shutdown().await;
    register_nutanix(&sb).await;
    sb.shutdown().await;

    // The new file is good; a second broken file does not overwrite the first one.
    let sb = start_with(config(&file, 42, 30)).await;
    assert!(sb.is_restored());
    assert!(cloud_type_names(&sb).await.contains(&"nutanix".to_owned()));
    sb.shutdown().await;
    std::fs::write(&file, b"not json at all").unwrap();
    let sb = start_with(config(&file, 42, 30)).await;
    assert!(!sb.is_restored());
    sb.shutdown().await;
    assert_eq!(std::fs::read(&aside).unwrap(), garbage);
    assert_eq!(
        std::fs::read(dir.path().join("sandbox.json.broken.2")).unwrap(),
        b"not json at all"
    );
}

#[tokio::test]
async fn a_state_file_from_another_seed_or_size_is_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.json");
    let sb = start_with(config(&file, 7, 30)).await;
    register_nutanix(&sb).await;
    let seed7_key = sb.palette_api_key().expose().to_owned();
    sb.shutdown().await;
    let saved = std::fs::read(&file).unwrap();

    let sb = start_with(config(&file, 42, 30)).await;
    assert!(!sb.is_restored());
    assert_ne!(sb.palette_api_key().expose(), seed7_key);
    assert!(!cloud_type_names(&sb).await.contains(&"nutanix".to_owned()));
    sb.shutdown().await;
    assert_eq!(
        std::fs::read(dir.path().join("sandbox.json.broken")).unwrap(),
        saved,
        "the seed-7 state is kept, not lost"
    );

    // Same seed, different estate size: not loaded either.
    let sb = start_with(config(&file, 42, 31)).await;
    assert!(!sb.is_restored());
    sb.shutdown().await;
    assert!(dir.path().join("sandbox.json.broken.2").exists());
}

#[tokio::test]
async fn without_a_state_file_nothing_is_saved() {
    let sb = start(10, 0.005).await;
    assert_eq!(sb.state_file(), None);
    assert!(!sb.is_restored());
    assert_eq!(sb.save_state().await.unwrap(), None);
    sb.shutdown().await;
}

/// Sizes and timings of a save and a restore, for the default estate and for 25,000 VMs
/// (printed; the assertions are about correctness, not speed).
#[tokio::test]
async fn snapshot_size_and_timing() {
    for vms in [SandboxConfig::default().vms, 25_000] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sandbox.json");
        let t = Instant::now();
        let sb = start_with(config(&file, 42, vms)).await;
        let generated = t.elapsed();
        register_nutanix(&sb).await;
        let stats = sb.save_state().await.unwrap().expect("a state file");
        assert_eq!(stats.bytes as u64, std::fs::metadata(&file).unwrap().len());
        sb.shutdown().await;
        let t = Instant::now();
        let sb = start_with(config(&file, 42, vms)).await;
        let restored = t.elapsed();
        assert!(sb.is_restored());
        assert_eq!(total_vms(&sb).await, vms as u64);
        assert!(cloud_type_names(&sb).await.contains(&"nutanix".to_owned()));
        eprintln!(
            "{vms} VMs: {:.1} MiB, copied under the lock in {:?}, serialised and written in {:?}; \
             generated in {generated:?}, restored in {restored:?}",
            stats.bytes as f64 / (1024.0 * 1024.0),
            stats.locked,
            stats.write,
        );
        sb.shutdown().await;
    }
}

#[tokio::test]
async fn the_info_control_reports_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.json");
    let sb = start_with(config(&file, 42, 10)).await;
    let info: Value = client()
        .get(format!("{}/__sandbox/info", sb.palette_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["state_file"], file.display().to_string());
    assert_eq!(info["restored"], false);
    sb.shutdown().await;
}
