//! The cache, sync and topology commands through the dispatcher, against the embedded
//! sandbox: sync with progress events, the views it feeds, cancel, and painting from the
//! cache after a restart with the network gone.

mod support;

use std::time::{Duration, Instant};

use capstan_ipc::ErrorCode;
use capstan_ipc::inventory::*;
use serde_json::{Value, json};
use support::{Collect, call, engine};

fn sync_events(events: &Collect) -> Vec<SyncEvent> {
    events.payloads("capstan://sync")
}

/// Waits for the run's last event (completed, failed or cancelled).
async fn finished(events: &Collect, run_id: u64) -> SyncEvent {
    let started = Instant::now();
    loop {
        if let Some(e) = sync_events(events).into_iter().find(|e| {
            e.run_id == run_id
                && matches!(
                    e.phase,
                    SyncEventPhase::Completed | SyncEventPhase::Failed | SyncEventPhase::Cancelled
                )
        }) {
            return e;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "sync {run_id} did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_sync_fills_the_cache_and_every_view_reads_it() {
    let home = tempfile::tempdir().unwrap();
    let (engine, events) = engine(home.path(), 120);
    let _: Value = call(&engine, "environment_activate", json!({"id": "sandbox"})).await;

    // Before any sync: an empty, honest answer.
    let summary: CacheSummary = call(&engine, "cache_summary", json!({})).await;
    assert!(summary.freshness.empty, "{summary:?}");
    assert!(
        summary.database.ends_with("capstan.db"),
        "{}",
        summary.database
    );
    let view: TopologyView = call(&engine, "topology_get", json!({"expanded": []})).await;
    assert!(view.graph.nodes.is_empty() || view.vm_count == 0);

    let started: SyncStarted = call(&engine, "sync_start", json!({"mode": "full"})).await;
    assert!(started.started);
    // A second start while it runs reports the same run.
    let again: SyncStarted = call(&engine, "sync_start", json!({"mode": "full"})).await;
    if !again.started {
        assert_eq!(again.run_id, started.run_id);
    }
    let last = finished(&events, started.run_id).await;
    assert_eq!(last.phase, SyncEventPhase::Completed, "{last:?}");
    assert_eq!(last.kinds_done, last.kinds_total);
    assert_eq!(
        last.kinds_total, 13,
        "6 Prism Central kinds + 7 Palette kinds"
    );
    let progress: Vec<SyncEvent> = sync_events(&events)
        .into_iter()
        .filter(|e| e.run_id == started.run_id && e.phase == SyncEventPhase::Progress)
        .collect();
    let vm_progress = progress
        .iter()
        .rfind(|e| e.kind == Some(EntityKind::Vm))
        .expect("VM progress events");
    assert_eq!(vm_progress.total, Some(vm_progress.done), "{vm_progress:?}");
    assert!(vm_progress.done >= 120, "{vm_progress:?}");

    let summary: CacheSummary = call(&engine, "cache_summary", json!({})).await;
    assert!(
        !summary.freshness.empty && !summary.freshness.stale,
        "{summary:?}"
    );
    assert!(summary.sync.is_none());
    let vms = summary
        .kinds
        .iter()
        .find(|k| k.kind == EntityKind::Vm)
        .expect("vm kind");
    assert_eq!(vms.status, KindSyncStatus::Completed);
    assert_eq!(vms.count, vm_progress.done);

    // Topology: the sandbox's CAPX cluster with its pools, VMs and kube-vip address.
    let view: TopologyView = call(&engine, "topology_get", json!({"expanded": []})).await;
    assert_eq!(view.vm_count, vms.count);
    let cluster = view
        .graph
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::Cluster)
        .expect("a Kubernetes cluster node");
    assert!(
        cluster.detail.get("vip").is_some_and(|v| v.is_string()),
        "{cluster:?}"
    );
    assert!(
        view.graph
            .nodes
            .iter()
            .any(|n| n.kind == NodeKind::PrismElement)
    );
    assert!(
        view.graph
            .nodes
            .iter()
            .any(|n| n.kind == NodeKind::VmGroup && n.collapsed),
        "with 120 VMs the PE groups start collapsed"
    );

    // Search finds a VM inside a collapsed group and says which group to expand.
    let list: InventoryPage = call(
        &engine,
        "inventory_list",
        json!({"kind": "vm", "sort": "name", "descending": false, "offset": 0, "limit": 5, "state": "ON"}),
    )
    .await;
    assert!(list.total > 0 && list.rows.len() <= 5);
    let plain_vm = list
        .rows
        .iter()
        .find(|r| r.columns.get("cluster").is_none_or(Value::is_null))
        .expect("a VM outside Kubernetes");
    assert!(
        plain_vm.parent_name.is_some(),
        "PE name resolved: {plain_vm:?}"
    );
    assert!(
        plain_vm.columns.get("vcpus").is_some_and(Value::is_number),
        "{plain_vm:?}"
    );
    let hits: TopologySearchResult = call(
        &engine,
        "topology_search",
        json!({"text": plain_vm.name, "expanded": []}),
    )
    .await;
    let hit = hits
        .hits
        .iter()
        .find(|h| Some(&h.node_id) == plain_vm.node_id.as_ref())
        .expect("the VM is found");
    let group = hit.expand.clone().expect("inside a collapsed group");
    let expanded: TopologyView = call(&engine, "topology_get", json!({"expanded": [group]})).await;
    assert!(expanded.graph.node(&hit.node_id).is_some());

    // Sorting and searching the VM list.
    let desc: InventoryPage = call(
        &engine,
        "inventory_list",
        json!({"kind": "vm", "sort": "name", "descending": true, "offset": 0, "limit": 3}),
    )
    .await;
    let asc: InventoryPage = call(
        &engine,
        "inventory_list",
        json!({"kind": "vm", "sort": "name", "descending": false, "offset": 0, "limit": 3}),
    )
    .await;
    assert!(desc.rows[0].name >= asc.rows[0].name);
    assert_eq!(desc.total, asc.total);

    // Clusters page rows come from the same model.
    let clusters: ClusterList = call(&engine, "clusters_list", json!({})).await;
    let row = clusters
        .clusters
        .iter()
        .find(|c| c.id == cluster.id)
        .expect("cluster row");
    assert!(row.endpoint.is_some());
    assert!(row.control_plane_nodes >= 1, "{row:?}");
    assert!(!row.prism_elements.is_empty());

    // One item with its raw record.
    let item: InventoryItem = call(
        &engine,
        "inventory_get",
        json!({"kind": "vm", "id": plain_vm.id}),
    )
    .await;
    assert_eq!(item.row.name, plain_vm.name);
    assert!(item.raw.get("metadata").is_some());
    let missing = engine
        .dispatch("inventory_get", json!({"kind": "vm", "id": "no-such-vm"}))
        .await
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);
    engine.shutdown().await;
}

#[tokio::test]
async fn the_cache_paints_after_a_restart_without_the_network() {
    let home = tempfile::tempdir().unwrap();
    let names = {
        let (engine, events) = engine(home.path(), 60);
        let _: Value = call(&engine, "environment_activate", json!({"id": "sandbox"})).await;
        let started: SyncStarted = call(&engine, "sync_start", json!({"mode": "full"})).await;
        assert_eq!(
            finished(&events, started.run_id).await.phase,
            SyncEventPhase::Completed
        );
        let page: InventoryPage = call(
            &engine,
            "inventory_list",
            json!({"kind": "vm", "sort": "name", "descending": false, "offset": 0, "limit": 1000}),
        )
        .await;
        engine.shutdown().await;
        page.rows.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(names.len(), 60);

    // A new engine on the same data dir; the sandbox is never started, so nothing is
    // reachable: the views answer from the SQLite file.
    let (engine, _) = engine(home.path(), 60);
    let page: InventoryPage = call(
        &engine,
        "inventory_list",
        json!({"kind": "vm", "sort": "name", "descending": false, "offset": 0, "limit": 1000}),
    )
    .await;
    assert_eq!(
        page.rows.into_iter().map(|r| r.name).collect::<Vec<_>>(),
        names
    );
    assert!(!page.freshness.empty);
    let view: TopologyView = call(&engine, "topology_get", json!({"expanded": []})).await;
    assert_eq!(view.vm_count, 60);
    // Syncing now says why it cannot, and the cache is untouched.
    let e = engine
        .dispatch("sync_start", json!({"mode": "full"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unavailable, "{}", e.message);
    let view_after: TopologyView = call(&engine, "topology_get", json!({"expanded": []})).await;
    assert_eq!(view_after.vm_count, 60);
}

#[tokio::test]
async fn a_cancelled_sync_keeps_the_cache_and_the_next_one_completes() {
    let home = tempfile::tempdir().unwrap();
    let (engine, events) = engine(home.path(), 3000);
    let _: Value = call(&engine, "environment_activate", json!({"id": "sandbox"})).await;
    let started: SyncStarted = call(&engine, "sync_start", json!({"mode": "full"})).await;
    let cancelled: SyncCancelled = call(&engine, "sync_cancel", json!({})).await;
    assert!(cancelled.cancelled);
    let last = finished(&events, started.run_id).await;
    assert_eq!(last.phase, SyncEventPhase::Cancelled, "{last:?}");
    let nothing: SyncCancelled = call(&engine, "sync_cancel", json!({})).await;
    assert!(!nothing.cancelled);

    let again: SyncStarted = call(&engine, "sync_start", json!({"mode": "full"})).await;
    assert!(again.started && again.run_id > started.run_id);
    assert_eq!(
        finished(&events, again.run_id).await.phase,
        SyncEventPhase::Completed
    );
    let summary: CacheSummary = call(&engine, "cache_summary", json!({})).await;
    let vms = summary
        .kinds
        .iter()
        .find(|k| k.kind == EntityKind::Vm)
        .unwrap();
    assert!(vms.count >= 3000, "{vms:?}");
    engine.shutdown().await;
}

#[tokio::test]
async fn a_damaged_cache_file_is_reported_and_rebuilt() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("capstan.db"),
        b"this is not a SQLite database at all....",
    )
    .unwrap();
    let (engine, _) = engine(home.path(), 30);
    let summary: CacheSummary = call(&engine, "cache_summary", json!({})).await;
    let problem = summary.problem.expect("the problem is reported");
    assert!(problem.contains("Rebuild cache"), "{problem}");
    assert_eq!(summary.database, ":memory:");

    let rebuilt: CacheSummary = call(&engine, "cache_rebuild", json!({})).await;
    assert!(rebuilt.problem.is_none(), "{rebuilt:?}");
    assert!(rebuilt.database.ends_with("capstan.db"));
    let kept_aside = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains(".bak-"));
    assert!(kept_aside, "the damaged file is kept aside, not deleted");
}
