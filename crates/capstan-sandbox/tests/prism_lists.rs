//! Prism Central v3 list semantics, FIQL, entity shapes, error envelopes and headers.

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::json;

#[tokio::test]
async fn list_defaults_echo_and_cap() {
    let sb = start(1200, 1.0).await;

    // `{}`: default length 20; metadata has kind + total_matches only.
    let (s, v) = prism_post(&sb, "/vms/list", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(v["api_version"], "3.1");
    assert_eq!(v["entities"].as_array().unwrap().len(), 20);
    let meta = v["metadata"].as_object().unwrap();
    assert_eq!(meta["kind"], "vm");
    assert_eq!(meta["total_matches"], 1200);
    assert!(
        !meta.contains_key("length") && !meta.contains_key("offset"),
        "{meta:?}"
    );

    // Only `offset` (no kind, no length) works and is echoed alone.
    let (s, v) = prism_post(&sb, "/vms/list", json!({"offset": 1190})).await;
    assert_eq!(s, 200);
    assert_eq!(v["entities"].as_array().unwrap().len(), 10);
    assert_eq!(v["metadata"]["offset"], 1190);
    assert!(v["metadata"].get("length").is_none());

    // length > 500 is capped to 500 per page, and the effective length is echoed.
    let (s, v) = prism_post(
        &sb,
        "/vms/list",
        json!({"kind": "vm", "length": 1000, "offset": 0}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["entities"].as_array().unwrap().len(), 500);
    assert_eq!(v["metadata"]["length"], 500);
    assert_eq!(v["metadata"]["total_matches"], 1200);

    // A client that asked for 1000 and pages by what it got sees every VM exactly once.
    let all = prism_list_all(&sb, "vm", None, 1000).await;
    assert_eq!(all.len(), 1200);
    let uuids: HashSet<&str> = all
        .iter()
        .map(|e| e["metadata"]["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids.len(), 1200);

    // Bad paging is INVALID_ARGUMENT in the v3 envelope.
    for body in [json!({"length": 0}), json!({"offset": -1})] {
        let (s, v) = prism_post(&sb, "/vms/list", body).await;
        assert_eq!(s, 400);
        assert_eq!(v["state"], "ERROR");
        assert_eq!(v["code"], 400);
        assert_eq!(v["api_version"], "3.1");
        assert_eq!(v["message_list"][0]["reason"], "INVALID_ARGUMENT");
    }
}

#[tokio::test]
async fn fiql_filters_and_sorting() {
    let sb = start(300, 1.0).await;

    let (_, v) = prism_post(
        &sb,
        "/clusters/list",
        json!({"filter": "name==pe-cluster-01"}),
    )
    .await;
    assert_eq!(v["metadata"]["total_matches"], 1);
    assert_eq!(v["metadata"]["filter"], "name==pe-cluster-01");
    assert_eq!(
        v["entities"][0]["status"]["resources"]["config"]["service_list"],
        json!(["AOS"])
    );

    // `,` = OR, `;` = AND, `!=`.
    let (_, v) = prism_post(
        &sb,
        "/clusters/list",
        json!({"filter": "name==pe-cluster-01,name==prism-central"}),
    )
    .await;
    assert_eq!(v["metadata"]["total_matches"], 2);
    let (_, v) = prism_post(
        &sb,
        "/clusters/list",
        json!({"filter": "name==pe.*;name!=pe-cluster-02"}),
    )
    .await;
    assert_eq!(v["metadata"]["total_matches"], 1);

    // vm_name with a `.*` glob: the sample cluster's five VMs.
    let (_, v) = prism_post(
        &sb,
        "/vms/list",
        json!({"filter": "vm_name==demo-k8s-.*", "length": 100}),
    )
    .await;
    assert_eq!(v["metadata"]["total_matches"], 5);
    let names: Vec<&str> = v["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["spec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.contains("-kcp-")).count(),
        3,
        "{names:?}"
    );

    // uuid works on every kind.
    let uuid = v["entities"][0]["metadata"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, v) = prism_post(&sb, "/vms/list", json!({"filter": format!("uuid=={uuid}")})).await;
    assert_eq!(v["metadata"]["total_matches"], 1);

    // No match: total 0 and no entities.
    let (s, v) = prism_post(
        &sb,
        "/subnets/list",
        json!({"filter": "name==does-not-exist"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["metadata"]["total_matches"], 0);
    assert!(
        v.get("entities")
            .is_none_or(|e| e.as_array().is_some_and(|a| a.is_empty()))
    );

    // Unknown attribute -> 400 INVALID_ARGUMENT with kind.
    let (s, v) = prism_post(&sb, "/vms/list", json!({"filter": "power_state==ON"})).await;
    assert_eq!(s, 400);
    assert_eq!(v["kind"], "vm");
    assert_eq!(v["message_list"][0]["reason"], "INVALID_ARGUMENT");

    // Sorting by name, both ways.
    let (_, asc) = prism_post(
        &sb,
        "/images/list",
        json!({"sort_attribute": "name", "sort_order": "ASCENDING", "length": 500}),
    )
    .await;
    let names: Vec<String> = asc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["spec"]["name"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(asc["metadata"]["sort_attribute"], "name");
    let (_, desc) = prism_post(
        &sb,
        "/images/list",
        json!({"sort_attribute": "name", "sort_order": "DESCENDING", "length": 500}),
    )
    .await;
    assert_eq!(
        desc["entities"][0]["spec"]["name"],
        asc["entities"][names.len() - 1]["spec"]["name"]
    );
    let (s, _) = prism_post(&sb, "/images/list", json!({"sort_attribute": "size"})).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn estate_shapes_match_the_reference() {
    let sb = start(200, 1.0).await;

    let clusters = prism_list_all(&sb, "cluster", None, 100).await;
    let pc: Vec<_> = clusters
        .iter()
        .filter(|c| c["status"]["resources"]["config"]["service_list"] == json!(["PRISM_CENTRAL"]))
        .collect();
    assert_eq!(pc.len(), 1);
    assert!(pc[0]["status"]["resources"].get("nodes").is_none());
    let pes: Vec<_> = clusters
        .iter()
        .filter(|c| c["status"]["resources"]["config"]["service_list"] == json!(["AOS"]))
        .collect();
    assert!(pes.len() >= 2);
    for pe in &pes {
        assert_eq!(pe["status"]["resources"]["config"]["is_available"], true);
        assert!(pe["status"]["resources"]["network"]["external_ip"].is_string());
        assert_eq!(
            pe["status"]["resources"]["nodes"]["hypervisor_server_list"][0]["type"],
            "AHV"
        );
    }

    let subnets = prism_list_all(&sb, "subnet", None, 100).await;
    let dup: Vec<_> = subnets
        .iter()
        .filter(|s| s["spec"]["name"] == "vm-network")
        .collect();
    assert_eq!(dup.len(), 2, "duplicate-name subnet on two PEs");
    assert_ne!(
        dup[0]["status"]["cluster_reference"]["uuid"],
        dup[1]["status"]["cluster_reference"]["uuid"]
    );
    let overlay: Vec<_> = subnets
        .iter()
        .filter(|s| s["status"]["resources"]["subnet_type"] == "OVERLAY")
        .collect();
    assert_eq!(overlay.len(), 1);
    assert!(overlay[0]["status"].get("cluster_reference").is_none());
    assert!(
        subnets
            .iter()
            .any(|s| s["status"]["resources"]["subnet_type"] == "VLAN"
                && s["status"]["resources"].get("ip_config").is_none())
    );
    let managed = subnets
        .iter()
        .find(|s| s["spec"]["name"] == "pe-cluster-01-vlan110")
        .unwrap();
    let res = &managed["status"]["resources"];
    assert_eq!(res["ip_config"]["prefix_length"], 22);
    assert!(
        res["ip_config"]["pool_list"][0]["range"]
            .as_str()
            .unwrap()
            .contains(' ')
    );
    assert!(res["ip_usage_stats"]["num_assigned_ips"].as_u64().unwrap() > 0);

    let images = prism_list_all(&sb, "image", None, 100).await;
    let n = |name: &str| images.iter().filter(|i| i["spec"]["name"] == name).count();
    assert_eq!(
        n("capx-ubuntu-2204-kube-v1.29.10"),
        2,
        "duplicate image names"
    );
    assert_eq!(n("capx-ubuntu-2204-kube-v1.30.5"), 1);
    assert!(
        images
            .iter()
            .any(|i| i["status"]["resources"]["image_type"] == "ISO_IMAGE")
    );
    assert!(images.iter().all(|i| {
        i["status"]["resources"]["current_cluster_reference_list"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    }));

    // The sample cluster: 3 CP + 2 workers, the VIP as an extra LEARNED address on one CP.
    let vms = cluster_vms(&sb, "demo-k8s").await;
    assert_eq!(vms.len(), 5);
    let learned: Vec<_> = vms
        .iter()
        .flat_map(|v| {
            v["status"]["resources"]["nic_list"]
                .as_array()
                .unwrap()
                .iter()
        })
        .flat_map(|n| n["ip_endpoint_list"].as_array().unwrap().iter())
        .filter(|e| e["type"] == "LEARNED")
        .collect();
    assert_eq!(learned.len(), 1);
    for vm in &vms {
        let r = &vm["status"]["resources"];
        assert_eq!(r["power_state"], "ON");
        assert!(
            r["num_sockets"].as_u64().unwrap() >= 1
                && r["memory_size_mib"].as_u64().unwrap() >= 2048
        );
        assert!(vm["status"]["cluster_reference"]["uuid"].is_string());
    }

    let hosts = prism_list_all(&sb, "host", None, 100).await;
    assert!(hosts.len() >= 6);
    assert!(
        hosts[0]["status"]["resources"]["memory_capacity_mib"]
            .as_u64()
            .unwrap()
            > 0
    );
    let projects = prism_list_all(&sb, "project", None, 100).await;
    assert!(
        projects
            .iter()
            .any(|p| p["status"]["resources"]["is_default"] == true)
    );

    // Singletons.
    let (s, v) = prism_get(&sb, "/prism_central").await;
    assert_eq!(s, 200);
    assert!(
        v["resources"]["version"]
            .as_str()
            .unwrap()
            .starts_with("pc.2024")
    );
    let (_, v) = prism_get(&sb, "/versions").await;
    assert_eq!(v["major_version"], "3");
}

#[tokio::test]
async fn get_by_uuid_categories_and_errors() {
    let sb = start(100, 1.0).await;
    let (_, v) = prism_post(&sb, "/subnets/list", json!({"length": 1})).await;
    let uuid = v["entities"][0]["metadata"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, one) = prism_get(&sb, &format!("/subnets/{uuid}")).await;
    assert_eq!(s, 200);
    assert_eq!(one["api_version"], "3.1");
    assert_eq!(one["metadata"]["uuid"], uuid.as_str());
    assert_eq!(one["metadata"]["kind"], "subnet");

    let (s, e) = prism_get(&sb, "/vms/3fa85f64-5717-4562-b3fc-2c963f66afa6").await;
    assert_eq!(s, 404);
    assert_eq!(e["message_list"][0]["reason"], "ENTITY_NOT_FOUND");
    assert_eq!(e["kind"], "vm");
    let (s, e) = prism_get(&sb, "/vms/not-a-uuid").await;
    assert_eq!(s, 400);
    assert_eq!(e["message_list"][0]["reason"], "INVALID_UUID");

    let (s, v) = prism_post(&sb, "/categories/list", json!({})).await;
    assert_eq!(s, 200);
    assert!(
        v["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "KubernetesClusterName")
    );
    assert!(
        v["entities"][0].get("spec").is_none(),
        "category envelope has no spec/status"
    );
    let (_, v) = prism_post(&sb, "/categories/KubernetesClusterName/list", json!({})).await;
    assert_eq!(v["entities"][0]["value"], "demo-k8s");
    let (s, v) = prism_get(&sb, "/categories/KubernetesClusterName/demo-k8s").await;
    assert_eq!(s, 200);
    assert_eq!(v["value"], "demo-k8s");
    let (s, v) = prism_get(&sb, "/categories/KubernetesClusterName/nope").await;
    assert_eq!(s, 404);
    assert_eq!(
        v["message_list"][0]["reason"],
        "CATEGORY_NAME_VALUE_MISMATCH"
    );
    let (s, _) = prism_get(&sb, "/categories/NoSuchKey").await;
    assert_eq!(s, 404);

    let (s, v) = prism_post(&sb, "/vms/list", json!({"length": "many"})).await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = prism_get(&sb, "/no/such/endpoint").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn prism_headers_on_every_response() {
    let sb = start(10, 1.0).await;
    for (auth, expect) in [(true, 200), (false, 401)] {
        let mut req = client()
            .post(format!("{}/api/nutanix/v3/clusters/list", sb.prism_url()))
            .json(&json!({}));
        if auth {
            req = req.basic_auth(sb.prism_user(), Some(sb.prism_password().expose()));
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), expect);
        let h = r.headers();
        assert_eq!(h["server"], "envoy");
        assert_eq!(h["x-ntnx-env"], "pc");
        assert!(
            h["x-ntnx-product"]
                .to_str()
                .unwrap()
                .starts_with("pc.2024.3")
        );
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
}

#[tokio::test]
async fn vm_create_and_delete_return_202_tasks() {
    let sb = start(20, 0.01).await;
    let (_, c) = prism_post(
        &sb,
        "/clusters/list",
        json!({"filter": "name==pe-cluster-02"}),
    )
    .await;
    let pe = c["entities"][0]["metadata"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, s) = prism_post(
        &sb,
        "/subnets/list",
        json!({"filter": "name==pe-cluster-02-vlan110"}),
    )
    .await;
    let subnet = s["entities"][0]["metadata"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, v) = prism_post(
        &sb,
        "/vms",
        json!({"metadata": {"kind": "vm"}, "spec": {"name": "api-made", "cluster_reference": {"kind": "cluster", "uuid": pe},
            "resources": {"num_sockets": 2, "num_vcpus_per_socket": 1, "memory_size_mib": 4096, "nic_list": [{"subnet_reference": {"kind": "subnet", "uuid": subnet}}]}}}),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    let task = v["status"]["execution_context"]["task_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let vm = v["metadata"]["uuid"].as_str().unwrap().to_owned();
    wait_for("task done", std::time::Duration::from_secs(10), || {
        let (sb, task) = (&sb, task.clone());
        async move {
            let (_, t) = prism_get(sb, &format!("/tasks/{task}")).await;
            (t["status"] == "SUCCEEDED").then_some(())
        }
    })
    .await;
    let (s, got) = prism_get(&sb, &format!("/vms/{vm}")).await;
    assert_eq!(s, 200);
    let ip = got["status"]["resources"]["nic_list"][0]["ip_endpoint_list"][0]["ip"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(ip.starts_with("10.64."), "{ip}");
    let r = client()
        .delete(format!("{}/api/nutanix/v3/vms/{vm}", sb.prism_url()))
        .basic_auth(sb.prism_user(), Some(sb.prism_password().expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let (s, _) = prism_get(&sb, &format!("/vms/{vm}")).await;
    assert_eq!(s, 404);
}
