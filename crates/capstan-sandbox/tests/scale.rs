//! A 25,000-VM estate generates and lists completely (not a timing assertion).

mod common;

use std::collections::HashSet;
use std::time::Instant;

use common::*;
use serde_json::json;

#[tokio::test]
async fn large_estate_lists_completely() {
    let t = Instant::now();
    let sb = start(25_000, 1.0).await;
    let generated = t.elapsed();
    let t = Instant::now();
    let vms = prism_list_all(&sb, "vm", None, 500).await;
    let listed = t.elapsed();
    eprintln!("25,000 VMs: generated in {generated:?}, listed in {listed:?}");
    assert_eq!(vms.len(), 25_000);
    let uuids: HashSet<&str> = vms
        .iter()
        .map(|v| v["metadata"]["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids.len(), 25_000);

    let subnets = prism_list_all(&sb, "subnet", None, 500).await;
    assert!(subnets.len() >= 500, "{}", subnets.len());
    let images = prism_list_all(&sb, "image", None, 500).await;
    assert!(images.len() >= 1000, "{}", images.len());

    // Pool addresses are unique across the whole estate.
    let mut ips = HashSet::new();
    for vm in &vms {
        for nic in vm["status"]["resources"]["nic_list"].as_array().unwrap() {
            for ep in nic["ip_endpoint_list"].as_array().unwrap() {
                if ep["type"] == "ASSIGNED" {
                    assert!(
                        ips.insert(ep["ip"].as_str().unwrap().to_owned()),
                        "duplicate {}",
                        ep["ip"]
                    );
                }
            }
        }
    }
    assert!(ips.len() > 15_000);

    // A filtered query over the big table still answers exactly.
    let (_, v) = prism_post(
        &sb,
        "/vms/list",
        json!({"filter": "vm_name==web-.*", "length": 1}),
    )
    .await;
    let expected = vms
        .iter()
        .filter(|v| v["spec"]["name"].as_str().unwrap().starts_with("web-"))
        .count();
    assert_eq!(v["metadata"]["total_matches"], expected);
}
