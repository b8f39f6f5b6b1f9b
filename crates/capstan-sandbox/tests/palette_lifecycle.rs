//! PCG and cluster lifecycles end to end at a small time scale, including what appears in
//! (and disappears from) the Prism inventory.

mod common;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use base64::Engine;
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn pcg_runs_only_after_both_manifests_are_fetched() {
    let sb = start(10, 0.001).await;
    register_nutanix(&sb).await;
    let (s, v) = ppost(
        &sb,
        "/v1/pcg/selfHosted",
        json!({"name": "gw", "cloudType": "nutanix"}),
    )
    .await;
    assert_eq!(s, 200);
    let uid = v["overlordUid"].as_str().unwrap().to_owned();
    let cmds: Vec<String> = v["kubectlCommands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(cmds.len(), 2);
    assert_eq!(
        cmds[0],
        format!(
            "kubectl apply -f {}/v1/pcg/{uid}/services/ally/manifest",
            sb.palette_url()
        )
    );
    assert_eq!(
        cmds[1],
        format!(
            "kubectl apply -f {}/v1/pcg/{uid}/services/jet/manifest",
            sb.palette_url()
        )
    );

    let (s, o) = pget(&sb, &format!("/v1/overlords/{uid}")).await;
    assert_eq!(s, 200);
    assert_eq!(o["status"]["state"], "Pending");
    assert_eq!(o["spec"]["isSelfHosted"], true);
    assert_eq!(o["status"]["kubectlCommands"].as_array().unwrap().len(), 2);

    // One manifest is not enough, however long we wait.
    let r = client()
        .get(cmds[0].trim_start_matches("kubectl apply -f "))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert!(r.text().await.unwrap().contains("kind: Deployment"));
    sb.advance(3600.0);
    let (_, o) = pget(&sb, &format!("/v1/overlords/{uid}")).await;
    assert_eq!(o["status"]["state"], "Pending");
    assert_eq!(o["status"]["isReady"], false);

    // An account cannot use a PCG that is not Running.
    let (s, v) = ppost(&sb, "/v1/cloudaccounts/cloudTypes/nutanix", json!({"metadata": {"name": "a", "annotations": {"overlordUid": uid}}, "spec": {"credentials": {"NUTANIX_USER": "u", "NUTANIX_PASSWORD": "p", "NUTANIX_ENDPOINT": "e", "NUTANIX_PORT": "9440", "NUTANIX_INSECURE": "true"}}})).await;
    assert_eq!(s, 400, "{v}");

    client()
        .get(cmds[1].trim_start_matches("kubectl apply -f "))
        .send()
        .await
        .unwrap();
    let o = wait_for("PCG Running", Duration::from_secs(10), || {
        let (sb, uid) = (&sb, uid.clone());
        async move {
            let (_, o) = pget(sb, &format!("/v1/overlords/{uid}")).await;
            (o["status"]["state"] == "Running").then_some(o)
        }
    })
    .await;
    assert_eq!(o["status"]["isReady"], true);
    assert_eq!(o["status"]["isActive"], true);
    assert_eq!(o["status"]["health"]["state"], "Healthy");
    assert!(o["status"]["health"]["lastHeartBeatTimestamp"].is_string());

    let (_, l) = pget(&sb, "/v1/overlords?name=gw").await;
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    assert!(
        l.get("listmeta").is_none(),
        "GET /v1/overlords returns only items"
    );
    let (s, _) = ppost(
        &sb,
        "/v1/pcg/selfHosted",
        json!({"name": "gw", "cloudType": "nutanix"}),
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = pput(
        &sb,
        &format!("/v1/overlords/{uid}/metadata"),
        json!({"metadata": {"name": "gw-renamed", "labels": {"a": "b"}}}),
    )
    .await;
    assert_eq!(s, 204);
    let (_, o) = pget(&sb, &format!("/v1/overlords/{uid}")).await;
    assert_eq!(o["metadata"]["name"], "gw-renamed");
    let (s, v) = pput(&sb, &format!("/v1/overlords/{uid}/reset"), json!({})).await;
    assert_eq!(s, 200);
    assert!(v["msg"].is_string());

    // Accounts: validation, scope annotation, kind.
    let (s, v) = ppost(&sb, "/v1/cloudaccounts/cloudTypes/nutanix", json!({"metadata": {"name": "a", "annotations": {"overlordUid": uid}}, "spec": {"credentials": {}}})).await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = ppost(&sb, "/v1/cloudaccounts/cloudTypes/nutanix", json!({"metadata": {"name": "a", "annotations": {"overlordUid": uid}}, "spec": {"credentials": {"NUTANIX_USER": "u", "NUTANIX_PASSWORD": "p", "NUTANIX_ENDPOINT": "e", "NUTANIX_PORT": 9440, "NUTANIX_INSECURE": "true"}}})).await;
    assert_eq!(s, 400, "non-string credential values are refused");
    let acc = account(&sb, &uid, "prod").await;
    let (_, a) = pget(&sb, &format!("/v1/cloudaccounts/cloudTypes/nutanix/{acc}")).await;
    assert_eq!(a["kind"], "nutanix");
    assert_eq!(a["metadata"]["annotations"]["scope"], "tenant");
    assert_eq!(a["metadata"]["annotations"]["overlordUid"], uid.as_str());
    let (s, _) = ppost(&sb, "/v1/cloudaccounts/cloudTypes/nutanix", json!({"metadata": {"name": "prod", "annotations": {"overlordUid": uid}}, "spec": {"credentials": {"NUTANIX_USER": "u", "NUTANIX_PASSWORD": "p", "NUTANIX_ENDPOINT": "e", "NUTANIX_PORT": "9440", "NUTANIX_INSECURE": "true"}}})).await;
    assert_eq!(s, 409);
    let (_, sum) = pget(&sb, "/v1/cloudaccounts/summary").await;
    assert_eq!(sum["items"][0]["kind"], "nutanix");
    // The PCG cannot go while an account uses it.
    let (s, _) = pdelete(&sb, &format!("/v1/overlords/{uid}")).await;
    assert_eq!(s, 409);
    let (s, _) = pdelete(&sb, &format!("/v1/cloudaccounts/cloudTypes/nutanix/{acc}")).await;
    assert_eq!(s, 204);
    let (s, v) = pdelete(&sb, &format!("/v1/overlords/{uid}")).await;
    assert_eq!(s, 200);
    assert!(v["msg"].is_string());
}

fn ips_of(vm: &Value, kind: &str) -> Vec<String> {
    vm["status"]["resources"]["nic_list"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["ip_endpoint_list"].as_array().unwrap().iter())
        .filter(|e| e["type"] == kind)
        .map(|e| e["ip"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_state(sb: &capstan_sandbox::Sandbox, uid: &str, want: &str) {
    wait_for(want, Duration::from_secs(20), || async move {
        let (_, st) = cluster_state(sb, uid).await;
        (st == want).then_some(())
    })
    .await;
}

#[tokio::test]
async fn cluster_lifecycle_end_to_end() {
    let sb = start(50, 0.005).await;
    let setup = ready(&sb).await;
    let (s, _) = pget(&sb, "/v1/spectroclusters/validate/name?name=ntx-dev-1").await;
    assert_eq!(s, 204);
    let body = cluster_body(
        "ntx-dev-1",
        &setup.account,
        &setup.profile,
        &DEFAULT_PLACEMENT,
        3,
        2,
    );
    let (s, v) = ppost(
        &sb,
        "/v1/spectroclusters/cloudTypes/nutanix/validate",
        body.clone(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["machinePools"]["results"].as_array().unwrap().len(), 2);

    let (s, v) = ppost(&sb, "/v1/spectroclusters/cloudTypes/nutanix", body.clone()).await;
    assert_eq!(s, 201, "{v}");
    let uid = v["uid"].as_str().unwrap().to_owned();
    let (s, _) = ppost(&sb, "/v1/spectroclusters/cloudTypes/nutanix", body).await;
    assert_eq!(s, 409, "duplicate cluster name");
    let (s, _) = pget(&sb, "/v1/spectroclusters/validate/name?name=ntx-dev-1").await;
    assert_eq!(s, 409);

    let (_, c) = pget(&sb, &format!("/v1/spectroclusters/{uid}")).await;
    // Pending lasts a fraction of a second at this time scale; a loaded machine may
    // already see the next phase, never a later one or a missing state.
    let state = c["status"]["state"].as_str().unwrap_or_default().to_owned();
    assert!(
        state == "Pending" || state == "Provisioning",
        "a new cluster starts Pending: {state}"
    );
    // Picker endpoints: the cluster meta list is a bare array (v1SpectroClustersMeta).
    let (_, metas) = pget(&sb, "/v1/dashboard/spectroclusters/meta").await;
    let metas = metas.as_array().expect("a JSON array");
    assert!(
        metas
            .iter()
            .any(|m| m["metadata"]["uid"] == uid.as_str() && m["spec"]["cloudType"] == "nutanix")
    );
    let (_, profiles) = pget(&sb, "/v1/dashboard/clusterprofiles/metadata").await;
    assert_eq!(
        profiles["items"][0]["metadata"]["uid"],
        setup.profile.as_str()
    );
    assert_eq!(profiles["items"][0]["spec"]["version"], "1.0.0");
    assert_eq!(c["spec"]["cloudType"], "nutanix");
    let config_uid = c["spec"]["cloudConfigRef"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();

    // Provisioning: VMs appear in Prism, named and categorised like CAPX does.
    wait_state(&sb, &uid, "Provisioning").await;
    wait_state(&sb, &uid, "Running").await;
    let (_, st) = pget(&sb, &format!("/v1/spectroclusters/{uid}/status")).await;
    assert_eq!(st["status"]["state"], "Running");
    let o = wait_for("Healthy", Duration::from_secs(10), || {
        let (sb, uid) = (&sb, uid.clone());
        async move {
            let (_, o) = pget(sb, &format!("/v1/dashboard/spectroclusters/{uid}/overview")).await;
            (o["status"]["health"]["state"] == "Healthy").then_some(o)
        }
    })
    .await;
    assert_eq!(o["status"]["kubeMeta"]["kubernetesVersion"], "v1.30.5");

    let (_, c) = pget(&sb, &format!("/v1/spectroclusters/{uid}")).await;
    assert_eq!(
        c["status"]["apiEndpoints"],
        json!([{"host": "10.64.3.240", "port": 6443}])
    );

    let vms = cluster_vms(&sb, "ntx-dev-1").await;
    assert_eq!(vms.len(), 5);
    let names: Vec<&str> = vms
        .iter()
        .map(|v| v["spec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("ntx-dev-1-cp-"))
            .count(),
        3,
        "{names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("ntx-dev-1-worker-pool-"))
            .count(),
        2,
        "{names:?}"
    );
    let (_, subnet) = prism_post(
        &sb,
        "/subnets/list",
        json!({"filter": "name==pe-cluster-01-vlan110"}),
    )
    .await;
    let range = subnet["entities"][0]["status"]["resources"]["ip_config"]["pool_list"][0]["range"]
        .as_str()
        .unwrap()
        .to_owned();
    let (lo, hi) = range.split_once(' ').unwrap();
    let (lo, hi): (Ipv4Addr, Ipv4Addr) = (lo.parse().unwrap(), hi.parse().unwrap());
    let mut assigned = HashSet::new();
    for vm in &vms {
        assert_eq!(vm["status"]["cluster_reference"]["name"], "pe-cluster-01");
        assert_eq!(
            vm["status"]["resources"]["nic_list"][0]["subnet_reference"]["name"],
            "pe-cluster-01-vlan110"
        );
        assert_eq!(vm["status"]["resources"]["power_state"], "ON");
        let ip: Ipv4Addr = ips_of(vm, "ASSIGNED")[0].parse().unwrap();
        assert!(ip >= lo && ip <= hi, "{ip} not in {range}");
        assert!(assigned.insert(ip), "IPs are unique");
    }
    // Worker sizing comes from the worker NutanixMachineTemplate.
    let worker = vms
        .iter()
        .find(|v| v["spec"]["name"].as_str().unwrap().contains("worker"))
        .unwrap();
    assert_eq!(worker["status"]["resources"]["memory_size_mib"], 8192);
    // The VIP is a LEARNED address on exactly one CP VM.
    let holders: Vec<&Value> = vms
        .iter()
        .filter(|v| ips_of(v, "LEARNED").contains(&"10.64.3.240".to_owned()))
        .collect();
    assert_eq!(holders.len(), 1);
    assert!(
        holders[0]["spec"]["name"]
            .as_str()
            .unwrap()
            .contains("-cp-")
    );
    let (_, cat) = prism_get(&sb, "/categories/KubernetesClusterName/ntx-dev-1").await;
    assert_eq!(cat["value"], "ntx-dev-1");

    // Machines and cloud config.
    let (_, cfg) = pget(
        &sb,
        &format!("/v1/cloudconfigs/cloudTypes/nutanix/{config_uid}"),
    )
    .await;
    let pools = cfg["spec"]["machinePoolConfig"].as_array().unwrap();
    assert_eq!(pools.len(), 2);
    assert!(
        pools
            .iter()
            .any(|p| p["name"] == "cp-pool" && p["isControlPlane"] == true && p["size"] == 3)
    );
    let (_, ms) = pget(
        &sb,
        &format!(
            "/v1/cloudconfigs/cloudTypes/nutanix/{config_uid}/machinePools/worker-pool/machines"
        ),
    )
    .await;
    let machines = ms["items"].as_array().unwrap();
    assert_eq!(machines.len(), 2);
    for m in machines {
        assert_eq!(m["status"]["instanceState"], "Running");
        assert_eq!(m["status"]["ready"], true);
        assert_eq!(m["status"]["health"]["state"], "Healthy");
        assert_eq!(m["status"]["addresses"][0]["type"], "InternalIP");
    }
    let muid = machines[0]["metadata"]["uid"].as_str().unwrap();
    let (s, one) = pget(&sb, &format!("/v1/cloudconfigs/cloudTypes/nutanix/{config_uid}/machinePools/worker-pool/machines/{muid}")).await;
    assert_eq!(s, 200);
    assert_eq!(one["metadata"]["uid"], muid);

    // Kubeconfig: base64 on /assets/kubeconfig, plain on the others.
    let r = client()
        .get(format!(
            "{}/v1/spectroclusters/{uid}/assets/kubeconfig",
            sb.palette_url()
        ))
        .header("ApiKey", sb.palette_api_key().expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(r.text().await.unwrap().trim())
        .unwrap();
    assert!(String::from_utf8(decoded).unwrap().contains("kind: Config"));
    let r = client()
        .get(format!(
            "{}/v1/spectroclusters/{uid}/assets/adminKubeconfig",
            sb.palette_url()
        ))
        .header("ApiKey", sb.palette_api_key().expose())
        .send()
        .await
        .unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("server: https://10.64.3.240:6443")
    );

    // Events.
    let (_, ev) = pget(&sb, &format!("/v1/events/components/spectrocluster/{uid}")).await;
    assert!(
        ev["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "Running")
    );

    // Scale workers 2 -> 4 -> 1.
    let worker_yaml = fill(WORKER_POOL_TEMPLATE, &DEFAULT_PLACEMENT, 4);
    let pool_path =
        format!("/v1/cloudconfigs/cloudTypes/nutanix/{config_uid}/machinePools/worker-pool");
    let (s, v) = pput(
        &sb,
        &pool_path,
        json!({"cloudConfig": {"values": worker_yaml}, "poolConfig": {"isControlPlane": false}}),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    wait_for("4 workers running", Duration::from_secs(20), || async {
        let (_, ms) = pget(&sb, &format!("{pool_path}/machines")).await;
        let items = ms["items"].as_array().cloned().unwrap_or_default();
        (items.len() == 4
            && items
                .iter()
                .all(|m| m["status"]["instanceState"] == "Running"))
        .then_some(())
    })
    .await;
    assert_eq!(cluster_vms(&sb, "ntx-dev-1").await.len(), 7);
    let worker_yaml = fill(WORKER_POOL_TEMPLATE, &DEFAULT_PLACEMENT, 1);
    let (s, _) = pput(
        &sb,
        &pool_path,
        json!({"cloudConfig": {"values": worker_yaml}}),
    )
    .await;
    assert_eq!(s, 204);
    wait_for("scale down", Duration::from_secs(20), || async {
        (cluster_vms(&sb, "ntx-dev-1").await.len() == 4).then_some(())
    })
    .await;
    let (_, ms) = pget(&sb, &format!("{pool_path}/machines")).await;
    assert_eq!(ms["items"].as_array().unwrap().len(), 1);

    // The account and profile are in use now.
    let (s, _) = pdelete(
        &sb,
        &format!("/v1/cloudaccounts/cloudTypes/nutanix/{}", setup.account),
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = pdelete(&sb, &format!("/v1/clusterprofiles/{}", setup.profile)).await;
    assert_eq!(s, 409);

    // Delete: Deleting -> Deleted -> 404, VMs and their IPs gone.
    let (s, _) = pdelete(&sb, &format!("/v1/spectroclusters/{uid}")).await;
    assert_eq!(s, 204);
    let (_, st) = cluster_state(&sb, &uid).await;
    assert_eq!(st, "Deleting");
    wait_state(&sb, &uid, "Deleted").await;
    wait_for("404 after delete", Duration::from_secs(20), || async {
        let (s, _) = cluster_state(&sb, &uid).await;
        (s == 404).then_some(())
    })
    .await;
    assert!(cluster_vms(&sb, "ntx-dev-1").await.is_empty());
    let (_, subnet_after) = prism_post(
        &sb,
        "/subnets/list",
        json!({"filter": "name==pe-cluster-01-vlan110"}),
    )
    .await;
    assert_eq!(
        subnet_after["entities"][0]["status"]["resources"]["ip_usage_stats"]["num_assigned_ips"],
        subnet["entities"][0]["status"]["resources"]["ip_usage_stats"]["num_assigned_ips"]
            .as_u64()
            .unwrap()
            - 5,
        "the cluster's pool addresses were released"
    );
}

#[tokio::test]
async fn force_delete_and_create_validation() {
    let sb = start(50, 0.005).await;
    let r = ready(&sb).await;

    let bad = |pe: &'static str, subnet: &'static str, image: &'static str| Placement {
        pe,
        subnet,
        image,
        vip: "10.64.3.240",
    };
    for (placement, needle) in [
        (
            bad(
                "pe-nowhere",
                "pe-cluster-01-vlan110",
                "capx-ubuntu-2204-kube-v1.30.5",
            ),
            "pe-nowhere",
        ),
        (
            bad(
                "pe-cluster-01",
                "no-such-subnet",
                "capx-ubuntu-2204-kube-v1.30.5",
            ),
            "no-such-subnet",
        ),
        (
            bad(
                "pe-cluster-01",
                "pe-cluster-02-vlan110",
                "capx-ubuntu-2204-kube-v1.30.5",
            ),
            "pe-cluster-02-vlan110",
        ),
        (
            bad(
                "pe-cluster-01",
                "pe-cluster-01-vlan110",
                "capx-ubuntu-2204-kube-v1.29.10",
            ),
            "more than one image",
        ),
    ] {
        let (s, v) = ppost(
            &sb,
            "/v1/spectroclusters/cloudTypes/nutanix",
            cluster_body("bad", &r.account, &r.profile, &placement, 1, 1),
        )
        .await;
        assert_eq!(s, 400, "{v}");
        assert!(v["message"].as_str().unwrap().contains(needle), "{v}");
    }
    let (s, v) = ppost(
        &sb,
        "/v1/spectroclusters/cloudTypes/nutanix",
        cluster_body(
            "bad",
            &r.account,
            &r.profile,
            &DEFAULT_PLACEMENT,
            1,
            100_000,
        ),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("replicas"), "{v}");
    let mut no_cp = cluster_body("bad", &r.account, &r.profile, &DEFAULT_PLACEMENT, 1, 1);
    no_cp["spec"]["machinepoolconfig"][0]["poolConfig"]["isControlPlane"] = json!(false);
    let (s, _) = ppost(&sb, "/v1/spectroclusters/cloudTypes/nutanix", no_cp).await;
    assert_eq!(s, 400);
    let mut no_values = cluster_body("bad", &r.account, &r.profile, &DEFAULT_PLACEMENT, 1, 1);
    no_values["spec"]["cloudConfig"]["values"] = json!("");
    let (s, _) = ppost(&sb, "/v1/spectroclusters/cloudTypes/nutanix", no_values).await;
    assert_eq!(s, 400);
    let (s, _) = ppost(
        &sb,
        "/v1/spectroclusters/cloudTypes/nutanix",
        cluster_body(
            "bad",
            "missing-account",
            &r.profile,
            &DEFAULT_PLACEMENT,
            1,
            1,
        ),
    )
    .await;
    assert_eq!(s, 400);
    let mut raw_vip = cluster_body("bad", &r.account, &r.profile, &DEFAULT_PLACEMENT, 1, 1);
    raw_vip["spec"]["cloudConfig"]["values"] = json!(CLUSTER_TEMPLATE);
    let (s, v) = ppost(&sb, "/v1/spectroclusters/cloudTypes/nutanix", raw_vip).await;
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("CONTROL_PLANE_ENDPOINT_IP"),
        "{v}"
    );

    // Force delete: the record goes at once; like real Palette the VMs stay behind.
    let (s, v) = ppost(
        &sb,
        "/v1/spectroclusters/cloudTypes/nutanix",
        cluster_body("quick", &r.account, &r.profile, &DEFAULT_PLACEMENT, 1, 1),
    )
    .await;
    assert_eq!(s, 201);
    let uid = v["uid"].as_str().unwrap().to_owned();
    wait_state(&sb, &uid, "Running").await;
    assert_eq!(cluster_vms(&sb, "quick").await.len(), 2);
    let (s, _) = pdelete(&sb, &format!("/v1/spectroclusters/{uid}?forceDelete=true")).await;
    assert_eq!(s, 204);
    let (s, v) = pget(&sb, &format!("/v1/spectroclusters/{uid}")).await;
    assert_eq!(s, 404);
    assert_eq!(v["code"], "ResourceNotFound");
    sb.advance(600.0);
    assert_eq!(
        cluster_vms(&sb, "quick").await.len(),
        2,
        "orphaned VMs remain for manual clean-up"
    );

    // A cluster deleted while still provisioning never leaves VMs behind.
    let (_, v) = ppost(
        &sb,
        "/v1/spectroclusters/cloudTypes/nutanix",
        cluster_body("early", &r.account, &r.profile, &DEFAULT_PLACEMENT, 1, 1),
    )
    .await;
    let uid = v["uid"].as_str().unwrap().to_owned();
    let (s, _) = pdelete(&sb, &format!("/v1/spectroclusters/{uid}")).await;
    assert_eq!(s, 204);
    sb.advance(600.0);
    let (s, _) = cluster_state(&sb, &uid).await;
    assert_eq!(s, 404);
    assert!(cluster_vms(&sb, "early").await.is_empty());
}

#[tokio::test]
async fn unavailable_pe_holds_machines_until_it_is_back() {
    let sb = start(50, 0.005).await;
    let r = ready(&sb).await;
    let resp = client()
        .put(format!(
            "{}/__sandbox/prism/clusters/pe-cluster-01/availability",
            sb.prism_url()
        ))
        .json(&json!({"is_available": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, pe) = prism_post(
        &sb,
        "/clusters/list",
        json!({"filter": "name==pe-cluster-01"}),
    )
    .await;
    assert_eq!(
        pe["entities"][0]["status"]["resources"]["config"]["is_available"],
        false
    );

    let (s, v) = ppost(
        &sb,
        "/v1/spectroclusters/cloudTypes/nutanix",
        cluster_body("held", &r.account, &r.profile, &DEFAULT_PLACEMENT, 1, 1),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let uid = v["uid"].as_str().unwrap().to_owned();
    sb.advance(300.0);
    let (_, st) = cluster_state(&sb, &uid).await;
    assert_eq!(
        st, "Provisioning",
        "no VM can be created on an unavailable PE"
    );
    assert!(cluster_vms(&sb, "held").await.is_empty());
    let (_, ev) = pget(&sb, &format!("/v1/events/components/spectrocluster/{uid}")).await;
    assert!(
        ev["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"] == "the PE cluster pe-cluster-01 is not available")
    );

    assert!(sb.set_pe_available("pe-cluster-01", true));
    assert!(!sb.set_pe_available("pe-nowhere", true));
    wait_state(&sb, &uid, "Running").await;
    assert_eq!(cluster_vms(&sb, "held").await.len(), 2);
}
