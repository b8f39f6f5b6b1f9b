//! Inventory sync and topology against the Capstan sandbox: a known estate, a cluster
//! deployed and deleted through Palette, faults mid-sync, cancel, and 25,000 VMs.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use capstan_inventory::topology::{
    self, EdgeKind, NodeKind, Status, TopologyModel, TopologyOptions, cluster_id, pool_id,
    vm_group_id,
};
use capstan_inventory::{
    CancellationToken, SyncMode, SyncOptions, SyncPhase, SyncProgress, Syncer,
};
use capstan_sandbox::{FaultKind, FaultRule, FaultService};
use capstan_store::{Kind, ListQuery, SyncStatus};
use parking_lot::Mutex;
use support::*;

fn quick(kinds: &[Kind]) -> SyncOptions {
    SyncOptions {
        kinds: kinds.to_vec(),
        concurrency: 3,
        page_attempts: 1,
        backoff: Duration::from_millis(10),
        ..SyncOptions::default()
    }
}

fn vm_names(store: &capstan_store::Store) -> HashSet<String> {
    let mut names = HashSet::new();
    let mut offset = 0;
    loop {
        let page = store
            .list(
                ENV,
                Kind::Vm,
                &ListQuery {
                    limit: ListQuery::MAX_LIMIT,
                    offset,
                    ..ListQuery::default()
                },
            )
            .expect("list");
        offset += page.items.len() as u64;
        let done = page.items.is_empty() || offset >= page.total;
        names.extend(page.items.into_iter().map(|i| i.name));
        if done {
            return names;
        }
    }
}

#[tokio::test]
async fn a_full_sync_of_the_known_estate_draws_the_expected_topology() {
    let sb = sandbox(60).await;
    let prism = prism(&sb);
    let store = store(&sb);
    let events = Mutex::new(Vec::<SyncProgress>::new());
    let report = Syncer::new(prism.clone(), None, store.clone())
        .sync_environment(
            ENV,
            &SyncOptions {
                page_size: 20,
                ..quick(&[])
            },
            |p| events.lock().push(p),
            &CancellationToken::new(),
        )
        .await
        .expect("sync");
    assert_eq!(report.kinds.len(), 6, "{report:?}");

    // The cache holds exactly what Prism lists.
    let remote_vms = prism.list_vms(None).await.expect("vms").len() as u64;
    assert_eq!(remote_vms, 60);
    assert_eq!(
        store.lock().count(ENV, Kind::Vm).expect("count"),
        remote_vms
    );
    assert_eq!(report.kind(Kind::Vm).map(|k| k.fetched), Some(remote_vms));
    let vm_events: Vec<_> = events
        .lock()
        .iter()
        .filter(|e| e.kind == Kind::Vm)
        .cloned()
        .collect();
    assert_eq!(vm_events.first().map(|e| e.phase), Some(SyncPhase::Started));
    assert!(
        vm_events
            .iter()
            .filter(|e| e.phase == SyncPhase::Fetching)
            .count()
            >= 3,
        "pages of 20: {vm_events:?}"
    );
    let last = vm_events.last().expect("events");
    assert_eq!(
        (last.phase, last.done, last.total),
        (SyncPhase::Completed, 60, Some(60))
    );

    let model = TopologyModel::load(&store.lock(), ENV).expect("model");
    let graph = model.graph(&TopologyOptions {
        inline_limit: 0,
        ..TopologyOptions::default()
    });
    let pc = graph
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::PrismCentral)
        .expect("PC node");
    assert_eq!(pc.label, "prism-central");
    let pes: Vec<_> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::PrismElement)
        .collect();
    let mut pe_names: Vec<_> = pes.iter().map(|n| n.label.as_str()).collect();
    pe_names.sort();
    assert_eq!(pe_names, ["pe-cluster-01", "pe-cluster-02"]);
    for pe in &pes {
        assert_eq!(pe.parent.as_deref(), Some(pc.id.as_str()));
        assert!(graph.has_edge(&pc.id, &pe.id, EdgeKind::Contains));
        assert_eq!(pe.status, Status::Ok);
    }
    let pe_vm_total: u64 = pes
        .iter()
        .filter_map(|p| p.counts.as_ref())
        .map(|c| c.vms)
        .sum();
    assert_eq!(pe_vm_total, 60);

    // The sample cluster: on pe-cluster-01, 3 control-plane and 2 worker VMs, the VIP.
    let demo = graph.node(&cluster_id("demo-k8s")).expect("demo-k8s");
    let pe01 = pes
        .iter()
        .find(|p| p.label == "pe-cluster-01")
        .expect("pe01");
    assert_eq!(demo.parent.as_deref(), Some(pe01.id.as_str()));
    assert!(graph.has_edge(&demo.id, &pe01.id, EdgeKind::RunsOn));
    assert_eq!(demo.detail["vip"], "10.64.3.232");
    assert_eq!(demo.status, Status::Ok);
    let cp = graph
        .node(&pool_id("demo-k8s", "control-plane"))
        .expect("cp pool");
    let workers = graph
        .node(&pool_id("demo-k8s", "workers"))
        .expect("workers");
    assert_eq!(cp.counts.as_ref().map(|c| c.vms), Some(3));
    assert_eq!(workers.counts.as_ref().map(|c| c.vms), Some(2));
    let cp_vms: Vec<_> = graph.children(&cp.id).collect();
    assert_eq!(cp_vms.len(), 3);
    assert!(cp_vms.iter().all(|v| v.label.contains("-kcp-")));
    let holder = demo.detail["vipHolderVm"].as_str().expect("holder");
    let holder = graph.node(holder).expect("holder node");
    assert_eq!(holder.parent.as_deref(), Some(cp.id.as_str()));
    assert_eq!(holder.detail["holdsVip"], "10.64.3.232");
    assert!(
        holder.detail["learnedIps"]
            .as_array()
            .is_some_and(|ips| ips.iter().any(|ip| ip == "10.64.3.232"))
    );
    assert!(
        graph
            .edges
            .iter()
            .any(|e| e.from == cp.id && e.kind == EdgeKind::BootsFrom),
        "the CP pool boots from its image"
    );

    // Other VMs are summarised per PE, collapsed, and expand on demand.
    let group = graph.node(&vm_group_id(&pe01.id[3..])).expect("group");
    assert!(group.collapsed);
    assert_eq!(graph.children(&group.id).count(), 0);
    let grouped: u64 = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::VmGroup)
        .filter_map(|n| n.counts.as_ref())
        .map(|c| c.vms)
        .sum();
    assert_eq!(grouped, 55);
    assert!(
        graph
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Vm)
            .count()
            == 5
    );
    let expanded = model.graph(&TopologyOptions {
        expanded: HashSet::from([group.id.clone()]),
        inline_limit: 0,
    });
    assert_eq!(
        expanded.children(&group.id).count() as u64,
        group.counts.as_ref().map(|c| c.vms).unwrap_or(0)
    );

    // Search finds a VM inside the collapsed group and names the group to open.
    let some_vm = expanded.children(&group.id).next().expect("a vm").clone();
    let hits = model.search(
        &some_vm.label,
        &TopologyOptions {
            inline_limit: 0,
            ..TopologyOptions::default()
        },
        20,
    );
    let hit = hits
        .iter()
        .find(|h| h.node_id == some_vm.id)
        .expect("search hit");
    assert_eq!(hit.expand.as_deref(), Some(group.id.as_str()));
    let by_vip = model.search("10.64.3.232", &TopologyOptions::default(), 5);
    assert_eq!(
        by_vip.first().map(|h| h.node_id.as_str()),
        Some(holder.id.as_str())
    );
    assert!(model.search("demo-k8s", &TopologyOptions::default(), 5)[0].node_id == demo.id);

    // Every edge joins nodes of the graph; the JSON is camelCase.
    let ids: HashSet<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    assert!(
        graph
            .edges
            .iter()
            .all(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str()))
    );
    let json = serde_json::to_value(&graph).expect("json");
    let demo_json = json["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["id"] == "cluster:demo-k8s"))
        .expect("demo json");
    assert_eq!(demo_json["detail"]["vipHolderVm"], holder.id.as_str());
    assert_eq!(demo_json["kind"], "cluster");
    let group_json = json["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["kind"] == "vm_group"))
        .expect("group json");
    assert!(group_json["counts"]["poweredOn"].is_u64());

    // A second sync with nothing changed sweeps nothing; incremental skips fresh kinds.
    let again = Syncer::new(prism.clone(), None, store.clone())
        .sync_environment(ENV, &quick(&[]), |_| {}, &CancellationToken::new())
        .await
        .expect("resync");
    assert!(again.kinds.iter().all(|k| k.swept == 0), "{again:?}");
    let incremental = Syncer::new(prism, None, store.clone())
        .sync_environment(
            ENV,
            &SyncOptions {
                mode: SyncMode::Incremental,
                ..quick(&[])
            },
            |_| {},
            &CancellationToken::new(),
        )
        .await
        .expect("incremental");
    assert!(
        incremental.kinds.iter().all(|k| k.skipped),
        "{incremental:?}"
    );
}

#[tokio::test]
async fn a_palette_cluster_appears_after_a_resync_and_leaves_after_its_deletion() {
    let sb = sandbox(30).await;
    let prism = prism(&sb);
    let key = api_key(&sb);
    let store = store(&sb);
    let syncer = Syncer::new(prism.clone(), Some(key.clone()), store.clone());
    let sync = || async {
        syncer
            .sync_environment(ENV, &quick(&[]), |_| {}, &CancellationToken::new())
            .await
            .expect("sync")
    };
    sync().await;
    let before = topology::build(&store.lock(), ENV, &TopologyOptions::default()).expect("graph");
    assert!(before.node(&cluster_id("inv-dev")).is_none());

    register_nutanix(&sysadmin(&sb)).await;
    let pcg = running_pcg(&key, "inv-pcg").await;
    let account = key
        .create_cloud_account("nutanix", &account_entity(&sb, &pcg, "inv-account"))
        .await
        .expect("account");
    let profile = key
        .create_cluster_profile(&profile_entity("inv-profile"), true)
        .await
        .expect("profile");
    let uid = key
        .create_cluster("nutanix", &cluster_entity("inv-dev", &account, &profile))
        .await
        .expect("cluster");
    wait_until("cluster Running", Duration::from_secs(60), || {
        let (key, uid) = (key.clone(), uid.clone());
        async move {
            (key.cluster_status(&uid).await.ok()?.status.state.as_deref() == Some("Running"))
                .then_some(())
        }
    })
    .await;

    let report = sync().await;
    assert_eq!(
        report.kind(Kind::PaletteCluster).map(|k| k.fetched),
        Some(1)
    );
    assert_eq!(report.kind(Kind::MachinePool).map(|k| k.fetched), Some(2));
    assert_eq!(report.kind(Kind::Node).map(|k| k.fetched), Some(2));
    for kind in [Kind::Pcg, Kind::CloudAccount, Kind::Profile] {
        assert_eq!(report.kind(kind).map(|k| k.fetched), Some(1), "{kind}");
    }
    let cloud_types = store
        .lock()
        .list(ENV, Kind::CloudType, &ListQuery::default())
        .expect("cloud types");
    assert!(cloud_types.items.iter().any(|c| c.id == "nutanix"));
    let graph = topology::build(&store.lock(), ENV, &TopologyOptions::default()).expect("graph");
    let cluster = graph.node(&cluster_id("inv-dev")).expect("inv-dev");
    assert_eq!(cluster.detail["paletteUid"], uid.as_str());
    assert_eq!(cluster.detail["vip"], "10.64.3.240");
    assert!(graph.has_edge(&format!("pcg:{pcg}"), &cluster.id, EdgeKind::Deploys));
    let pcg_node = graph.node(&format!("pcg:{pcg}")).expect("pcg node");
    assert_eq!(pcg_node.status, Status::Ok);
    assert_eq!(pcg_node.parent.as_deref(), Some("palette"));
    assert_eq!(pcg_node.detail["ipAddress"], "10.64.0.200");
    assert_eq!(pcg_node.detail["health"], "Healthy");
    let palette = graph.node("palette").expect("palette root");
    assert!(
        palette.label.starts_with("Palette (tenant "),
        "{}",
        palette.label
    );
    assert!(
        graph
            .edges
            .iter()
            .any(|e| e.from == pcg_node.id && e.kind == EdgeKind::Manages),
        "the PCG manages Prism Central through its account"
    );
    let cp = graph.node(&pool_id("inv-dev", "cp-pool")).expect("cp pool");
    let workers = graph
        .node(&pool_id("inv-dev", "worker-pool"))
        .expect("worker pool");
    assert_eq!(cp.detail["controlPlane"], true);
    assert_eq!(cp.counts.as_ref().map(|c| c.vms), Some(1));
    assert_eq!(workers.counts.as_ref().map(|c| c.vms), Some(1));
    let cp_vm = graph.children(&cp.id).next().expect("cp vm");
    assert!(cp_vm.label.starts_with("inv-dev-cp-"), "{}", cp_vm.label);
    // The cached cloud account keeps no password.
    let accounts = store
        .lock()
        .list(ENV, Kind::CloudAccount, &ListQuery::default())
        .expect("accounts");
    assert_eq!(accounts.total, 1);
    assert!(
        !accounts.items[0]
            .json
            .to_string()
            .contains(sb.prism_password().expose())
    );

    // A Palette failure mid-sync keeps the cached Palette state.
    sb.faults().add_rule(
        FaultRule::new(
            FaultService::Palette,
            "/v1/overlords",
            FaultKind::InternalError,
        )
        .method("GET"),
    );
    let err = syncer
        .sync_environment(ENV, &quick(&[]), |_| {}, &CancellationToken::new())
        .await
        .expect_err("PCG list fails");
    assert_eq!(
        (err.code(), err.kind()),
        ("sync_remote_failed", Some(Kind::Pcg)),
        "{err}"
    );
    assert_eq!(store.lock().count(ENV, Kind::Pcg).expect("pcgs"), 1);
    assert_eq!(
        store
            .lock()
            .count(ENV, Kind::PaletteCluster)
            .expect("clusters"),
        1
    );
    sb.faults().clear_rules();

    key.delete_cluster(&uid, false).await.expect("delete");
    wait_until("cluster gone", Duration::from_secs(60), || {
        let (key, uid) = (key.clone(), uid.clone());
        async move {
            match key.cluster(&uid).await {
                Err(e) if e.is_not_found() => Some(()),
                _ => None,
            }
        }
    })
    .await;
    let report = sync().await;
    assert_eq!(report.kind(Kind::PaletteCluster).map(|k| k.swept), Some(1));
    assert!(report.kind(Kind::Vm).is_some_and(|k| k.swept >= 2));
    let after = topology::build(&store.lock(), ENV, &TopologyOptions::default()).expect("graph");
    assert!(after.node(&cluster_id("inv-dev")).is_none());
    assert!(after.node(&pool_id("inv-dev", "cp-pool")).is_none());
    assert!(
        !vm_names(&store.lock())
            .iter()
            .any(|n| n.starts_with("inv-dev-"))
    );
    assert!(after.node(&cluster_id("demo-k8s")).is_some());
}

/// Baseline sync, then a VM deleted remotely: a failing sync must keep it (no partial
/// sweep), the resumed sync must drop it.
async fn fault_then_resume(rule: FaultRule, expected_code: &str) {
    let sb = sandbox(1200).await;
    let prism = prism(&sb);
    let store = store(&sb);
    let options = SyncOptions {
        page_size: 100,
        ..quick(&[Kind::Vm])
    };
    let syncer = Syncer::new(prism.clone(), None, store.clone());
    syncer
        .sync_environment(ENV, &options, |_| {}, &CancellationToken::new())
        .await
        .expect("baseline");
    let baseline = vm_names(&store.lock());
    assert_eq!(baseline.len(), 1200);

    let victim = prism
        .list_vms(None)
        .await
        .expect("vms")
        .into_iter()
        .find(|vm| vm.name().is_some_and(|n| !n.starts_with("demo-k8s")))
        .expect("a plain vm");
    let victim_name = victim.name().expect("name").to_owned();
    let victim_uuid = victim.uuid().expect("uuid").to_owned();
    prism
        .request_raw(http::Method::DELETE, &format!("vms/{victim_uuid}"), None)
        .await
        .expect("delete vm");
    wait_until("VM deleted", Duration::from_secs(30), || {
        let prism = prism.clone();
        let uuid = victim_uuid.clone();
        async move {
            prism
                .get_vm(&uuid)
                .await
                .err()
                .filter(|e| e.code() == "not_found")
                .map(|_| ())
        }
    })
    .await;

    sb.faults().add_rule(rule);
    let err = syncer
        .sync_environment(ENV, &options, |_| {}, &CancellationToken::new())
        .await
        .expect_err("the fault makes the sync fail");
    assert_eq!(err.code(), expected_code, "{err}");
    assert!(err.is_resumable());
    assert_eq!(err.kind(), Some(Kind::Vm));
    // Nothing swept, nothing lost: the deleted VM is still cached, every other VM too.
    assert_eq!(vm_names(&store.lock()), baseline);
    let state = store.lock().sync_state(ENV, Kind::Vm).expect("state");
    assert_eq!(state.status, SyncStatus::Failed);
    assert!(state.error.is_some());

    sb.faults().clear_rules();
    let report = syncer
        .sync_environment(ENV, &options, |_| {}, &CancellationToken::new())
        .await
        .expect("resumed sync");
    let vm = report.kind(Kind::Vm).expect("vm report");
    assert!(vm.resumed, "{report:?}");
    assert_eq!(vm.swept, 1);
    let after = vm_names(&store.lock());
    assert_eq!(after.len(), 1199);
    assert!(!after.contains(&victim_name));
    assert_eq!(
        store
            .lock()
            .sync_state(ENV, Kind::Vm)
            .expect("state")
            .status,
        SyncStatus::Completed
    );
}

#[tokio::test]
async fn a_429_storm_fails_typed_and_resumably_without_wiping() {
    fault_then_resume(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/vms/list",
            FaultKind::TooManyRequests {
                retry_after_secs: 0,
            },
        )
        .method("POST"),
        "sync_rate_limited",
    )
    .await;
}

#[tokio::test]
async fn server_errors_mid_sync_keep_the_cache_and_a_resume_completes() {
    // Most VM pages fail with a 500 (not retried by the client; once by the syncer).
    fault_then_resume(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/vms/list",
            FaultKind::InternalError,
        )
        .method("POST")
        .probability(0.8),
        "sync_remote_failed",
    )
    .await;
}

#[tokio::test]
async fn a_dropped_connection_keeps_the_cache_and_a_resume_completes() {
    fault_then_resume(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/vms/list",
            FaultKind::DropConnection,
        )
        .method("POST"),
        "sync_remote_failed",
    )
    .await;
}

#[tokio::test]
async fn transient_faults_are_retried_and_the_sync_completes() {
    let sb = sandbox(600).await;
    let prism = prism(&sb);
    let store = store(&sb);
    sb.faults().add_rule(
        FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/vms/list",
            FaultKind::TooManyRequests {
                retry_after_secs: 0,
            },
        )
        .method("POST")
        .count(3),
    );
    let report = Syncer::new(prism, None, store.clone())
        .sync_environment(
            ENV,
            &SyncOptions {
                page_size: 100,
                page_attempts: 3,
                ..quick(&[Kind::Vm])
            },
            |_| {},
            &CancellationToken::new(),
        )
        .await
        .expect("the client and the syncer ride out three 429s");
    assert_eq!(report.kind(Kind::Vm).map(|k| k.fetched), Some(600));
    assert!(
        sb.faults()
            .get()
            .rules
            .iter()
            .all(|r| r.count == Some(r.fired))
    );
    assert_eq!(store.lock().count(ENV, Kind::Vm).expect("count"), 600);
}

#[tokio::test]
async fn cancel_mid_sync_leaves_a_consistent_cache_and_the_next_sync_resumes() {
    let sb = sandbox(1000).await;
    let prism = prism(&sb);
    let store = store(&sb);
    let options = SyncOptions {
        page_size: 50,
        concurrency: 2,
        ..quick(&[Kind::Vm])
    };
    let cancel = CancellationToken::new();
    let fired = AtomicBool::new(false);
    let err = Syncer::new(prism.clone(), None, store.clone())
        .sync_environment(
            ENV,
            &options,
            |p| {
                if p.kind == Kind::Vm && p.phase == SyncPhase::Fetching && p.done >= 300 {
                    fired.store(true, Ordering::SeqCst);
                    cancel.cancel();
                }
            },
            &cancel,
        )
        .await
        .expect_err("cancelled");
    assert!(fired.load(Ordering::SeqCst));
    assert_eq!(err.code(), "sync_cancelled");
    let kept = store.lock().count(ENV, Kind::Vm).expect("count");
    assert!((300..1000).contains(&kept), "kept {kept}");
    let state = store.lock().sync_state(ENV, Kind::Vm).expect("state");
    assert_eq!(state.status, SyncStatus::Failed);
    let cursor: u64 = state
        .cursor
        .as_deref()
        .and_then(|c| c.parse().ok())
        .expect("cursor");
    // Every row up to the cursor is cached (pages are written in offset order).
    assert_eq!(cursor, kept);

    let report = Syncer::new(prism, None, store.clone())
        .sync_environment(ENV, &options, |_| {}, &CancellationToken::new())
        .await
        .expect("resume");
    let vm = report.kind(Kind::Vm).expect("vm");
    assert!(vm.resumed);
    assert!(vm.fetched < 1000, "resumed, not restarted: {vm:?}");
    assert_eq!(store.lock().count(ENV, Kind::Vm).expect("count"), 1000);
}

#[tokio::test]
async fn a_25k_vm_estate_syncs_completely_and_stays_grouped() {
    let sb = sandbox(25_000).await;
    let prism = prism(&sb);
    let store = store(&sb);
    let report = Syncer::new(prism, None, store.clone())
        .sync_environment(
            ENV,
            &SyncOptions {
                concurrency: 4,
                ..quick(&[Kind::PeCluster, Kind::Subnet, Kind::Vm])
            },
            |_| {},
            &CancellationToken::new(),
        )
        .await
        .expect("sync");
    assert_eq!(report.kind(Kind::Vm).map(|k| k.fetched), Some(25_000));
    assert_eq!(store.lock().count(ENV, Kind::Vm).expect("count"), 25_000);
    let model = TopologyModel::load(&store.lock(), ENV).expect("model");
    assert_eq!(model.vm_count(), 25_000);
    let graph = model.graph(&TopologyOptions::default());
    let vm_nodes = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Vm)
        .count();
    assert_eq!(vm_nodes, 5, "only the sample cluster's VMs are drawn");
    let groups: Vec<_> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::VmGroup)
        .collect();
    assert_eq!(
        groups
            .iter()
            .filter_map(|g| g.counts.as_ref())
            .map(|c| c.vms)
            .sum::<u64>(),
        24_995
    );
    assert!(groups.iter().all(|g| g.collapsed));
    let hits = model.search("web-24", &TopologyOptions::default(), 10);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.expand.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_shifts_during_the_sync_is_read_again_before_sweeping() {
    let sb = sandbox(600).await;
    let prism = prism(&sb);
    let store = store(&sb);
    // A VM on the first page, deleted right after that page is written: every later VM
    // moves one offset down, so the first VM of the second page would be skipped.
    let first_page: capstan_prism::ListResponse<serde_json::Value> = prism
        .post_json(
            "vms/list",
            &serde_json::json!({"kind": "vm", "offset": 0, "length": 100}),
        )
        .await
        .expect("first page");
    let victim = first_page.entities[10]["metadata"]["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    let deleted = AtomicBool::new(false);
    let report = Syncer::new(prism.clone(), None, store.clone())
        .sync_environment(
            ENV,
            &SyncOptions {
                page_size: 100,
                concurrency: 1,
                ..quick(&[Kind::Vm])
            },
            |p| {
                if p.phase == SyncPhase::Fetching && !deleted.swap(true, Ordering::SeqCst) {
                    // Finish the delete before the sync asks for the next page.
                    tokio::task::block_in_place(|| {
                        tokio::runtime::Handle::current().block_on(prism.request_raw(
                            http::Method::DELETE,
                            &format!("vms/{victim}"),
                            None,
                        ))
                    })
                    .expect("delete");
                }
            },
            &CancellationToken::new(),
        )
        .await
        .expect("sync");
    assert!(deleted.load(Ordering::SeqCst));
    let remote: HashSet<String> = prism
        .list_vms(None)
        .await
        .expect("vms")
        .iter()
        .filter_map(|vm| vm.name().map(str::to_owned))
        .collect();
    assert_eq!(remote.len(), 599);
    // Every VM that exists is cached: none was skipped by the shift.
    let cached = vm_names(&store.lock());
    let missing: Vec<_> = remote.difference(&cached).collect();
    assert!(missing.is_empty(), "skipped: {missing:?}");
    assert!(
        report.kind(Kind::Vm).is_some_and(|k| k.fetched > 600),
        "read twice: {report:?}"
    );
    // The deleted VM was seen by this run before it went, so it leaves with the next sync.
    Syncer::new(prism, None, store.clone())
        .sync_environment(ENV, &quick(&[Kind::Vm]), |_| {}, &CancellationToken::new())
        .await
        .expect("next sync");
    let cached = vm_names(&store.lock());
    let extra: Vec<_> = cached.difference(&remote).collect();
    let missing: Vec<_> = remote.difference(&cached).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "extra {extra:?}, missing {missing:?}"
    );
}

#[tokio::test]
async fn a_resync_of_an_unchanged_estate_only_marks_rows_seen() {
    let sb = sandbox(300).await;
    let prism = prism(&sb);
    let store = store(&sb);
    let options = SyncOptions {
        page_size: 50,
        ..quick(&[Kind::Subnet, Kind::Vm])
    };
    let syncer = Syncer::new(prism.clone(), None, store.clone());
    let cold = syncer
        .sync_environment(ENV, &options, |_| {}, &CancellationToken::new())
        .await
        .expect("cold sync");
    let vm = cold.kind(Kind::Vm).expect("vm report");
    assert_eq!((vm.fetched, vm.unchanged), (300, 0));
    let seen_before = store
        .lock()
        .summary(ENV)
        .expect("summary")
        .into_iter()
        .find(|k| k.kind == Kind::Vm)
        .and_then(|k| k.oldest_seen_at)
        .expect("seen");

    // One VM deleted remotely; nothing else changes.
    let victim = prism.list_vms(None).await.expect("vms")[7]
        .uuid()
        .expect("uuid")
        .to_owned();
    prism
        .request_raw(http::Method::DELETE, &format!("vms/{victim}"), None)
        .await
        .expect("delete vm");
    wait_until("VM deleted", Duration::from_secs(30), || {
        let prism = prism.clone();
        let uuid = victim.clone();
        async move {
            prism
                .get_vm(&uuid)
                .await
                .err()
                .filter(|e| e.code() == "not_found")
                .map(|_| ())
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(5)).await;

    let warm = syncer
        .sync_environment(ENV, &options, |_| {}, &CancellationToken::new())
        .await
        .expect("warm sync");
    let vm = warm.kind(Kind::Vm).expect("vm report");
    assert_eq!(
        (vm.fetched, vm.unchanged, vm.swept),
        (299, 299, 1),
        "{vm:?}"
    );
    // The subnet that got the deleted VM's address back changed; the others did not.
    let subnets = warm.kind(Kind::Subnet).expect("subnet report");
    assert_eq!(subnets.unchanged, subnets.fetched - 1, "{subnets:?}");
    let store = store.lock();
    assert_eq!(store.count(ENV, Kind::Vm).expect("count"), 299);
    assert!(store.get(ENV, Kind::Vm, &victim).expect("get").is_none());
    // Every remaining row was marked seen by the warm run, though none was rewritten.
    let summary = store.summary(ENV).expect("summary");
    let vms = summary
        .iter()
        .find(|k| k.kind == Kind::Vm)
        .expect("vm summary");
    assert!(vms.oldest_seen_at.expect("seen") > seen_before, "{vms:?}");
    assert_eq!(vms.sync.status, SyncStatus::Completed);
}

/// What the topology used to read from every VM's JSON, kept here as the reference for the
/// store's narrow query.
fn facts_from_json(vm: &capstan_store::CachedEntity) -> capstan_store::VmSummary {
    use serde_json::Value;
    let text = |v: &Value, pointer: &str| {
        v.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let json = &vm.json;
    let resources = json
        .pointer("/status/resources")
        .or_else(|| json.pointer("/spec/resources"))
        .expect("resources");
    let mut facts = capstan_store::VmSummary {
        uuid: vm.id.clone(),
        name: vm.name.clone(),
        cluster_uuid: vm.parent.clone(),
        power_state: vm.state.clone(),
        num_vcpus: resources["num_sockets"]
            .as_i64()
            .map(|s| s * resources["num_vcpus_per_socket"].as_i64().unwrap_or(1)),
        memory_mib: resources["memory_size_mib"].as_i64(),
        categories: json["metadata"]["categories"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default(),
        ..Default::default()
    };
    for nic in resources["nic_list"].as_array().into_iter().flatten() {
        if let Some(subnet) = text(nic, "/subnet_reference/uuid") {
            facts.subnet_uuids.push(subnet);
        }
        for endpoint in nic["ip_endpoint_list"].as_array().into_iter().flatten() {
            let Some(ip) = text(endpoint, "/ip") else {
                continue;
            };
            if endpoint["type"] == "LEARNED" {
                facts.learned_ips.push(ip);
            } else {
                facts.assigned_ips.push(ip);
            }
        }
    }
    facts.subnet_uuids.dedup();
    for disk in resources["disk_list"].as_array().into_iter().flatten() {
        if disk["data_source_reference"]["kind"] == "image"
            && let Some(image) = text(disk, "/data_source_reference/uuid")
        {
            facts.image_uuids.push(image);
        }
    }
    facts
}

#[tokio::test]
async fn the_narrow_vm_query_returns_what_the_full_json_says() {
    let sb = sandbox(400).await;
    let prism = prism(&sb);
    let store = store(&sb);
    Syncer::new(prism, None, store.clone())
        .sync_environment(
            ENV,
            &quick(&[Kind::PeCluster, Kind::Subnet, Kind::Image, Kind::Vm]),
            |_| {},
            &CancellationToken::new(),
        )
        .await
        .expect("sync");
    let store = store.lock();
    let summaries = store.vm_summaries(ENV).expect("summaries");
    let mut full = Vec::new();
    loop {
        let page = store
            .list(
                ENV,
                Kind::Vm,
                &ListQuery {
                    limit: ListQuery::MAX_LIMIT,
                    offset: full.len() as u64,
                    ..ListQuery::default()
                },
            )
            .expect("list");
        let done =
            page.items.is_empty() || full.len() as u64 + page.items.len() as u64 >= page.total;
        full.extend(page.items);
        if done {
            break;
        }
    }
    assert_eq!(summaries.len(), 400);
    assert_eq!(full.len(), 400);
    let from_json: Vec<_> = full.iter().map(facts_from_json).collect();
    assert_eq!(summaries, from_json);
    // The estate exercises every fact: Kubernetes VMs with a LEARNED VIP, images, subnets.
    assert!(summaries.iter().any(|s| !s.learned_ips.is_empty()));
    assert!(summaries.iter().any(|s| !s.image_uuids.is_empty()));
    assert!(summaries.iter().any(|s| {
        s.categories
            .iter()
            .any(|(k, _)| k == topology::CLUSTER_CATEGORY)
    }));
    assert!(
        summaries
            .iter()
            .all(|s| !s.subnet_uuids.is_empty() && s.num_vcpus.is_some())
    );
}
