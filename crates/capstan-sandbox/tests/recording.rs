//! Recorded exchanges for contract tests.

mod common;

use capstan_sandbox::{SandboxConfig, Service};
use common::*;
use serde_json::json;

#[tokio::test]
async fn exchanges_are_recorded_with_route_templates() {
    let sb = start_with(SandboxConfig {
        vms: 10,
        tls: false,
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .await;
    let (_, v) = prism_post(&sb, "/subnets/list", json!({"length": 1})).await;
    let uuid = v["entities"][0]["metadata"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    prism_get(&sb, &format!("/subnets/{uuid}")).await;
    pget(&sb, "/v1/users/info").await;
    let ex = sb.take_exchanges();
    assert_eq!(ex.len(), 3);
    assert_eq!(ex[0].service, Service::Prism);
    assert_eq!(ex[0].method, "POST");
    assert_eq!(ex[0].route.as_deref(), Some("/api/nutanix/v3/subnets/list"));
    assert_eq!(ex[0].request_json, Some(json!({"length": 1})));
    assert_eq!(
        ex[0].response_json.as_ref().unwrap()["metadata"]["kind"],
        "subnet"
    );
    assert_eq!(
        ex[1].route.as_deref(),
        Some("/api/nutanix/v3/subnets/{uuid}")
    );
    assert_eq!(ex[1].status, 200);
    assert_eq!(ex[2].service, Service::Palette);
    assert_eq!(ex[2].route.as_deref(), Some("/v1/users/info"));
    assert!(sb.take_exchanges().is_empty(), "take drains the buffer");
}
