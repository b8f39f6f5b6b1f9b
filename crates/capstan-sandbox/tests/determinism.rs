//! Same seed, same estate (and credentials); another seed, another estate.

mod common;

use capstan_sandbox::SandboxConfig;
use common::*;
use serde_json::Value;

async fn snapshot(seed: u64) -> (Vec<Vec<Value>>, String, String) {
    let sb = start_with(SandboxConfig {
        seed,
        vms: 400,
        tls: false,
        ..SandboxConfig::default()
    })
    .await;
    let mut kinds = Vec::new();
    for kind in ["cluster", "subnet", "image", "vm", "host", "project"] {
        kinds.push(prism_list_all(&sb, kind, None, 500).await);
    }
    let (_, regs) = pget(&sb, "/v1/registries/metadata").await;
    (
        kinds,
        sb.prism_password().expose().to_owned(),
        regs.to_string(),
    )
}

#[tokio::test]
async fn same_seed_gives_the_same_estate() {
    let a = snapshot(1234).await;
    let b = snapshot(1234).await;
    assert_eq!(
        a.0.iter().map(Vec::len).collect::<Vec<_>>(),
        b.0.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1, "credentials are derived from the seed");
    assert_eq!(a.2, b.2);
    let c = snapshot(99).await;
    assert_ne!(a.0[3], c.0[3], "another seed gives other VMs");
    assert_ne!(a.1, c.1);
}
