//! Sync runs (mark-and-sweep, resume, staleness) and the list queries, including a
//! 25,000-VM inventory.

use capstan_store::{
    EnvironmentSpec, Kind, ListQuery, NodeRecord, SortBy, Store, SyncMode, SyncStatus, VmRecord,
};
use serde_json::{Value, json};

fn store_with_env(id: &str) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    store
        .put_environment(&EnvironmentSpec {
            id: id.into(),
            name: format!("env {id}"),
            palette_url: None,
            palette_project_uid: None,
            prism_endpoint: Some("https://pc.example:9440".into()),
            settings: Value::Null,
        })
        .unwrap();
    store
}

/// A v3 VM shaped like the emulator's: PE by index, power state, one or two NICs.
fn vm_json(i: usize) -> Value {
    let mut nics = vec![json!({
        "mac_address": format!("50:6b:8d:{:02x}:{:02x}:{:02x}", i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff),
        "subnet_reference": {"kind": "subnet", "uuid": format!("subnet-{}", i % 20)},
        "ip_endpoint_list": [{"ip": format!("10.{}.{}.{}", i / 65536, i / 256 % 256, i % 256), "type": "ASSIGNED"}]
    })];
    if i.is_multiple_of(10) {
        nics.push(json!({"subnet_reference": {"kind": "subnet", "uuid": "subnet-storage"}}));
    }
    json!({
        "api_version": "3.1",
        "metadata": {
            "kind": "vm", "uuid": format!("vm-{i:06}"),
            "categories": if i % 100 < 3 { json!({"KubernetesClusterName": format!("k8s-{}", i % 100)}) } else { json!({}) },
            "project_reference": {"kind": "project", "uuid": "project-default"}
        },
        "spec": {"name": format!("vm-{i:06}")},
        "status": {
            "name": format!("{}-{i:06}", ["web", "db", "k8s-worker", "build"][i % 4]),
            "state": "COMPLETE",
            "cluster_reference": {"kind": "cluster", "uuid": format!("pe-{}", i % 5)},
            "resources": {
                "power_state": if i.is_multiple_of(7) { "OFF" } else { "ON" },
                "num_sockets": 2, "num_vcpus_per_socket": 1, "memory_size_mib": 4096,
                "host_reference": {"kind": "host", "uuid": format!("host-{}", i % 40)},
                "nic_list": nics
            }
        }
    })
}

fn vms(range: std::ops::Range<usize>) -> Vec<VmRecord> {
    range
        .map(|i| VmRecord::from_v3(vm_json(i)).unwrap())
        .collect()
}

fn ids(page: &capstan_store::Page) -> Vec<String> {
    page.items.iter().map(|e| e.id.clone()).collect()
}

#[test]
fn a_completed_full_sync_removes_what_vanished_remotely() {
    let mut store = store_with_env("e1");
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    store.upsert(&mut run, &vms(0..10)).unwrap();
    assert_eq!(store.finish_sync(run).unwrap(), 0);
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 10);

    // vm 3 and 7 were deleted in Prism; 10 and 11 are new.
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    assert_eq!(run.generation(), 2);
    let seen: Vec<_> = vms(0..12)
        .into_iter()
        .filter(|v| v.uuid != "vm-000003" && v.uuid != "vm-000007")
        .collect();
    store.upsert(&mut run, &seen[..5]).unwrap();
    store.upsert(&mut run, &seen[5..]).unwrap();
    assert_eq!(store.finish_sync(run).unwrap(), 2);
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 10);
    assert!(store.get("e1", Kind::Vm, "vm-000003").unwrap().is_none());
    assert!(store.get("e1", Kind::Vm, "vm-000011").unwrap().is_some());
    // The swept VM's NIC rows went with it (no orphan matches by IP).
    let by_ip = ListQuery {
        ip: Some("10.0.0.3".into()),
        ..Default::default()
    };
    assert_eq!(store.list("e1", Kind::Vm, &by_ip).unwrap().total, 0);

    let state = store.sync_state("e1", Kind::Vm).unwrap();
    assert_eq!(state.status, SyncStatus::Completed);
    assert!(state.last_completed_at.is_some());
}

#[test]
fn a_failed_sync_keeps_every_good_row() {
    let mut store = store_with_env("e1");
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    store.upsert(&mut run, &vms(0..10)).unwrap();
    store.finish_sync(run).unwrap();

    // The next sync sees only two pages' worth before the network drops.
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    store.upsert_page(&mut run, &vms(0..3), "3").unwrap();
    store.fail_sync(run, "connection reset by peer").unwrap();

    assert_eq!(
        store.count("e1", Kind::Vm).unwrap(),
        10,
        "nothing may be deleted"
    );
    let state = store.sync_state("e1", Kind::Vm).unwrap();
    assert_eq!(state.status, SyncStatus::Failed);
    assert_eq!(state.error.as_deref(), Some("connection reset by peer"));
    assert_eq!(state.cursor.as_deref(), Some("3"));
}

#[test]
fn a_resumed_sync_continues_from_its_cursor_and_sweeps_correctly() {
    let mut store = store_with_env("e1");
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    store.upsert(&mut run, &vms(0..10)).unwrap();
    store.finish_sync(run).unwrap();

    // Remote now has vms 0..8 (8 and 9 deleted). The run dies after the first page.
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    store.upsert_page(&mut run, &vms(0..4), "4").unwrap();
    drop(run); // crash: status stays "running"

    assert!(store.resume_sync("e1", Kind::Pcg).unwrap().is_none());
    let mut resumed = store
        .resume_sync("e1", Kind::Vm)
        .unwrap()
        .expect("resumable");
    assert_eq!(resumed.cursor(), Some("4"));
    assert_eq!(resumed.generation(), 2);
    let from: usize = resumed.cursor().unwrap().parse().unwrap();
    store.upsert_page(&mut resumed, &vms(from..8), "8").unwrap();
    assert_eq!(resumed.cursor(), Some("8"));
    // Rows from before the crash count as seen: only 8 and 9 go.
    assert_eq!(store.finish_sync(resumed).unwrap(), 2);
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 8);
    assert!(
        store.resume_sync("e1", Kind::Vm).unwrap().is_none(),
        "completed runs are not resumed"
    );
}

#[test]
fn an_older_run_cannot_write_after_a_newer_one_started() {
    let mut store = store_with_env("e1");
    let mut old = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    let mut new = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    let err = store.upsert(&mut old, &vms(0..1)).unwrap_err();
    assert_eq!(err.code(), "store_stale_sync");
    assert_eq!(
        store.finish_sync(old.clone()).unwrap_err().code(),
        "store_stale_sync"
    );
    assert_eq!(
        store.fail_sync(old, "late").unwrap_err().code(),
        "store_stale_sync"
    );
    store.upsert(&mut new, &vms(0..1)).unwrap();
    store.finish_sync(new).unwrap();
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 1);

    // Writing records of another kind into a run is refused.
    let mut run = store.begin_sync("e1", Kind::Node, SyncMode::Full).unwrap();
    assert_eq!(
        store.upsert(&mut run, &vms(0..1)).unwrap_err().code(),
        "store_kind_mismatch"
    );
}

#[test]
fn incremental_runs_update_and_remove_but_never_sweep() {
    let mut store = store_with_env("e1");
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    store.upsert(&mut run, &vms(0..5)).unwrap();
    store.finish_sync(run).unwrap();

    let mut run = store
        .begin_sync("e1", Kind::Vm, SyncMode::Incremental)
        .unwrap();
    let mut changed = VmRecord::from_v3(vm_json(1)).unwrap();
    changed.power_state = Some("OFF".into());
    store.upsert(&mut run, &[changed]).unwrap();
    assert_eq!(store.remove(&run, &["vm-000002", "vm-999999"]).unwrap(), 1);
    assert_eq!(store.finish_sync(run).unwrap(), 0);
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 4);
    let vm = store.get("e1", Kind::Vm, "vm-000001").unwrap().unwrap();
    assert_eq!(vm.state.as_deref(), Some("OFF"));
}

#[test]
fn environments_and_kinds_are_isolated() {
    let mut store = store_with_env("e1");
    store
        .put_environment(&EnvironmentSpec {
            id: "e2".into(),
            name: "other".into(),
            palette_url: None,
            palette_project_uid: None,
            prism_endpoint: None,
            settings: json!({}),
        })
        .unwrap();
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    store.upsert(&mut run, &vms(0..5)).unwrap();
    store.finish_sync(run).unwrap();
    // A full sync of e2 that saw nothing must not touch e1.
    let run = store.begin_sync("e2", Kind::Vm, SyncMode::Full).unwrap();
    store.finish_sync(run).unwrap();
    // Nor a full node sync of e1.
    let run = store.begin_sync("e1", Kind::Node, SyncMode::Full).unwrap();
    store.finish_sync(run).unwrap();
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 5);
    assert_eq!(store.count("e2", Kind::Vm).unwrap(), 0);
}

#[test]
fn twenty_five_thousand_vms_upsert_and_filter() {
    const N: usize = 25_000;
    let mut store = store_with_env("e1");
    let records = vms(0..N);
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    for chunk in records.chunks(500) {
        store.upsert(&mut run, chunk).unwrap();
    }
    store.finish_sync(run).unwrap();
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), N as u64);

    // Name search (case-insensitive substring), sorted, paged.
    let query = ListQuery {
        search: Some("DB-0000".into()),
        limit: 5,
        ..Default::default()
    };
    let page = store.list("e1", Kind::Vm, &query).unwrap();
    // i % 4 == 1 and i < 10000 with name "db-0000xx..": i in 1..=9997 step 4 with the
    // leading four zeros, i.e. i < 100 → 25 VMs.
    assert_eq!(page.total, 25);
    assert_eq!(
        ids(&page),
        [
            "vm-000001",
            "vm-000005",
            "vm-000009",
            "vm-000013",
            "vm-000017"
        ]
    );
    let next = store
        .list(
            "e1",
            Kind::Vm,
            &ListQuery {
                offset: 5,
                ..query.clone()
            },
        )
        .unwrap();
    assert_eq!(next.items[0].id, "vm-000021");

    // Power state + PE: OFF is i % 7 == 0, PE is i % 5.
    let off_on_pe2 = ListQuery {
        state: Some("off".into()),
        parent: Some("pe-2".into()),
        ..Default::default()
    };
    let expected = (0..N).filter(|i| i % 7 == 0 && i % 5 == 2).count() as u64;
    assert_eq!(
        store.list("e1", Kind::Vm, &off_on_pe2).unwrap().total,
        expected
    );

    // Subnet: the second NIC of every tenth VM.
    let storage = ListQuery {
        subnet_uuid: Some("subnet-storage".into()),
        ..Default::default()
    };
    assert_eq!(
        store.list("e1", Kind::Vm, &storage).unwrap().total,
        (N / 10) as u64
    );

    // Exact IP and IP-prefix search.
    let by_ip = ListQuery {
        ip: Some("10.0.48.57".into()),
        ..Default::default()
    };
    let page = store.list("e1", Kind::Vm, &by_ip).unwrap();
    assert_eq!(ids(&page), ["vm-012345"]);
    assert_eq!(page.items[0].ips, ["10.0.48.57"]);
    let prefix = ListQuery {
        search: Some("10.0.48.5".into()),
        ..Default::default()
    };
    // 10.0.48.5 and 10.0.48.50..=59 (i = 12293 and 12338..=12347).
    assert_eq!(store.list("e1", Kind::Vm, &prefix).unwrap().total, 11);

    // Category.
    let k8s = ListQuery {
        category: Some(("KubernetesClusterName".into(), "k8s-1".into())),
        ..Default::default()
    };
    assert_eq!(
        store.list("e1", Kind::Vm, &k8s).unwrap().total,
        (N / 100) as u64
    );

    // Descending sort by name and by state; default and capped limits.
    let desc = ListQuery {
        descending: true,
        limit: 1,
        ..Default::default()
    };
    assert_eq!(
        store.list("e1", Kind::Vm, &desc).unwrap().items[0].name,
        "web-024996"
    );
    let by_state = ListQuery {
        sort: SortBy::State,
        limit: 1,
        ..Default::default()
    };
    assert_eq!(
        store.list("e1", Kind::Vm, &by_state).unwrap().items[0]
            .state
            .as_deref(),
        Some("OFF")
    );
    assert_eq!(
        store
            .list("e1", Kind::Vm, &ListQuery::default())
            .unwrap()
            .items
            .len(),
        100
    );
    let huge = ListQuery {
        limit: 1_000_000,
        ..Default::default()
    };
    assert_eq!(store.list("e1", Kind::Vm, &huge).unwrap().items.len(), 1000);

    // Summary with last-seen ages.
    let summary = store.summary("e1").unwrap();
    let vm_summary = summary.iter().find(|s| s.kind == Kind::Vm).unwrap();
    assert_eq!(vm_summary.count, N as u64);
    let age = vm_summary.oldest_age_ms(capstan_store::now_ms()).unwrap();
    assert!((0..600_000).contains(&age), "{age}");
    assert_eq!(
        summary.iter().find(|s| s.kind == Kind::Node).unwrap().count,
        0
    );

    // Details round-trip through the child tables.
    let ips = store.vm_ips("e1", "vm-000010").unwrap();
    assert_eq!(ips.len(), 2);
    assert_eq!(ips[1].subnet_uuid.as_deref(), Some("subnet-storage"));
    assert_eq!(ips[1].ip, None);
}

#[test]
fn filters_that_do_not_apply_to_a_kind_are_errors_not_silently_ignored() {
    let store = store_with_env("e1");
    let by_ip = ListQuery {
        ip: Some("10.0.0.1".into()),
        ..Default::default()
    };
    let err = store.list("e1", Kind::Image, &by_ip).unwrap_err();
    assert_eq!(err.code(), "store_unsupported_filter");
    let by_state = ListQuery {
        state: Some("x".into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list("e1", Kind::Project, &by_state)
            .unwrap_err()
            .code(),
        "store_unsupported_filter"
    );
}

#[test]
fn like_wildcards_in_search_are_literal() {
    let mut store = store_with_env("e1");
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    let mut a = VmRecord::from_v3(json!({"metadata": {"uuid": "a"}})).unwrap();
    a.name = "100%_done".into();
    let mut b = VmRecord::from_v3(json!({"metadata": {"uuid": "b"}})).unwrap();
    b.name = "1000 done".into();
    store.upsert(&mut run, &[a, b]).unwrap();
    let q = ListQuery {
        search: Some("0%_d".into()),
        ..Default::default()
    };
    assert_eq!(ids(&store.list("e1", Kind::Vm, &q).unwrap()), ["a"]);
}

#[test]
fn palette_nodes_and_subnets_are_queryable() {
    let mut store = store_with_env("e1");
    let mut run = store.begin_sync("e1", Kind::Node, SyncMode::Full).unwrap();
    let nodes: Vec<_> = (0..3)
        .map(|i| {
            NodeRecord::from_palette(
                "cluster-1",
                if i == 0 { "cp-pool" } else { "worker-pool" },
                json!({
                    "metadata": {"uid": format!("m-{i}"), "name": format!("node-{i}")},
                    "status": {"instanceState": if i == 2 { "Provisioning" } else { "Running" },
                               "health": {"state": "Healthy"},
                               "addresses": [{"type": "ExternalIP", "address": "1.2.3.4"},
                                             {"type": "InternalIP", "address": format!("10.1.0.{i}")}]}
                }),
            )
            .unwrap()
        })
        .collect();
    store.upsert(&mut run, &nodes).unwrap();
    store.finish_sync(run).unwrap();
    let running = ListQuery {
        state: Some("Running".into()),
        parent: Some("cluster-1".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(&store.list("e1", Kind::Node, &running).unwrap()),
        ["m-0", "m-1"]
    );
    let by_ip = ListQuery {
        ip: Some("10.1.0.2".into()),
        ..Default::default()
    };
    let page = store.list("e1", Kind::Node, &by_ip).unwrap();
    assert_eq!(page.items[0].ips, ["10.1.0.2"]);

    let mut run = store
        .begin_sync("e1", Kind::Subnet, SyncMode::Full)
        .unwrap();
    let subnet = capstan_store::SubnetRecord::from_v3(json!({
        "metadata": {"uuid": "s-1"},
        "status": {"name": "vlan0", "cluster_reference": {"uuid": "pe-1"},
                   "resources": {"subnet_type": "VLAN", "ip_config": {"subnet_ip": "10.1.0.0", "prefix_length": 16,
                                  "pool_list": [{"range": "10.1.1.0 10.1.1.255"}, {"range": "10.1.2.0 10.1.2.9"}]}}}
    }))
    .unwrap();
    store
        .upsert(&mut run, std::slice::from_ref(&subnet))
        .unwrap();
    // Re-upserting replaces the pools rather than appending to them.
    store.upsert(&mut run, &[subnet]).unwrap();
    store.finish_sync(run).unwrap();
    let pools = store.subnet_pools("e1", "s-1").unwrap();
    assert_eq!(pools.len(), 2);
    assert_eq!(pools[1].last_ip, "10.1.2.9");
    let vlan = ListQuery {
        parent: Some("pe-1".into()),
        state: Some("VLAN".into()),
        ..Default::default()
    };
    assert_eq!(store.list("e1", Kind::Subnet, &vlan).unwrap().total, 1);
}

fn full_sync(store: &mut Store, records: &[VmRecord]) -> (capstan_store::WriteStats, usize) {
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    for (page, chunk) in records.chunks(7).enumerate() {
        store
            .upsert_page(&mut run, chunk, &((page + 1) * 7).to_string())
            .unwrap();
    }
    let stats = run.stats();
    (stats, store.finish_sync(run).unwrap())
}

fn last_seen(store: &Store, id: &str) -> i64 {
    store.get("e1", Kind::Vm, id).unwrap().unwrap().last_seen_at
}

#[test]
fn unchanged_rows_are_only_marked_seen_and_survive_the_sweep() {
    let mut store = store_with_env("e1");
    let (stats, _) = full_sync(&mut store, &vms(0..30));
    assert_eq!((stats.written, stats.unchanged), (30, 0));
    let before = last_seen(&store, "vm-000004");
    std::thread::sleep(std::time::Duration::from_millis(5));

    // The same 29 objects again (vm 5 deleted remotely): nothing is rewritten, every one is
    // marked seen by the new run, so the sweep removes only vm 5.
    let seen: Vec<_> = vms(0..30)
        .into_iter()
        .filter(|v| v.uuid != "vm-000005")
        .collect();
    let (stats, swept) = full_sync(&mut store, &seen);
    assert_eq!((stats.written, stats.unchanged), (0, 29));
    assert_eq!(swept, 1);
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 29);
    assert!(last_seen(&store, "vm-000004") > before, "marked seen");
    // Child rows and JSON are still there and still answer queries.
    let vm = store.get("e1", Kind::Vm, "vm-000004").unwrap().unwrap();
    assert_eq!(vm.ips, ["10.0.0.4"]);
    assert_eq!(vm.json, vm_json(4));
    let by_category = ListQuery {
        category: Some(("KubernetesClusterName".into(), "k8s-1".into())),
        ..Default::default()
    };
    assert_eq!(
        ids(&store.list("e1", Kind::Vm, &by_category).unwrap()),
        ["vm-000001"]
    );
    let storage = ListQuery {
        subnet_uuid: Some("subnet-storage".into()),
        ..Default::default()
    };
    assert_eq!(store.list("e1", Kind::Vm, &storage).unwrap().total, 3);
}

#[test]
fn changed_rows_are_rewritten_with_their_child_rows() {
    let mut store = store_with_env("e1");
    full_sync(&mut store, &vms(0..20));

    let mut records = vms(0..20);
    // vm 3: new IP, powered off, another cluster category; vm 4: only the name changed.
    let mut moved = vm_json(3);
    moved["status"]["resources"]["nic_list"][0]["ip_endpoint_list"][0]["ip"] = json!("10.9.9.9");
    moved["status"]["resources"]["power_state"] = json!("OFF");
    moved["metadata"]["categories"] = json!({"KubernetesClusterName": "k8s-new"});
    records[3] = VmRecord::from_v3(moved).unwrap();
    let mut renamed = vm_json(4);
    renamed["status"]["name"] = json!("renamed-4");
    records[4] = VmRecord::from_v3(renamed).unwrap();
    let (stats, swept) = full_sync(&mut store, &records);
    assert_eq!((stats.written, stats.unchanged, swept), (2, 18, 0));

    let by_ip = |ip: &str| ListQuery {
        ip: Some(ip.into()),
        ..Default::default()
    };
    assert_eq!(
        ids(&store.list("e1", Kind::Vm, &by_ip("10.9.9.9")).unwrap()),
        ["vm-000003"]
    );
    assert_eq!(
        store
            .list("e1", Kind::Vm, &by_ip("10.0.0.3"))
            .unwrap()
            .total,
        0
    );
    let vm = store.get("e1", Kind::Vm, "vm-000003").unwrap().unwrap();
    assert_eq!(vm.state.as_deref(), Some("OFF"));
    assert_eq!(
        vm.json["metadata"]["categories"]["KubernetesClusterName"],
        "k8s-new"
    );
    let old_category = ListQuery {
        category: Some(("KubernetesClusterName".into(), "k8s-3".into())),
        ..Default::default()
    };
    assert_eq!(store.list("e1", Kind::Vm, &old_category).unwrap().total, 0);
    assert_eq!(
        store
            .get("e1", Kind::Vm, "vm-000004")
            .unwrap()
            .unwrap()
            .name,
        "renamed-4"
    );

    // A change that lives only in a column (the pool a machine is listed under, which
    // Palette gives by the call, not in the machine JSON) is a change too.
    let node = |pool: &str| {
        NodeRecord::from_palette(
            "c-1",
            pool,
            json!({"metadata": {"uid": "m-1", "name": "n"}}),
        )
        .unwrap()
    };
    for (pool, written) in [("pool-a", 1), ("pool-a", 0), ("pool-b", 1)] {
        let mut run = store.begin_sync("e1", Kind::Node, SyncMode::Full).unwrap();
        store.upsert(&mut run, &[node(pool)]).unwrap();
        assert_eq!(run.stats().written, written, "{pool}");
        store.finish_sync(run).unwrap();
    }
    let node = store.get("e1", Kind::Node, "m-1").unwrap().unwrap();
    assert_eq!(node.json["metadata"]["uid"], "m-1");
    let in_cluster = ListQuery {
        parent: Some("c-1".into()),
        ..Default::default()
    };
    assert_eq!(store.list("e1", Kind::Node, &in_cluster).unwrap().total, 1);

    // A subnet whose pools changed gets the new pools, not the old ones plus the new.
    let subnet = |ranges: &[&str]| {
        capstan_store::SubnetRecord::from_v3(json!({
            "metadata": {"uuid": "s-1"},
            "status": {"name": "vlan0", "resources": {"ip_config": {
                "pool_list": ranges.iter().map(|r| json!({"range": r})).collect::<Vec<_>>()}}}
        }))
        .unwrap()
    };
    for ranges in [
        &["10.0.0.10 10.0.0.20", "10.0.1.10 10.0.1.20"][..],
        &["10.0.2.1 10.0.2.9"],
    ] {
        let mut run = store
            .begin_sync("e1", Kind::Subnet, SyncMode::Full)
            .unwrap();
        store.upsert(&mut run, &[subnet(ranges)]).unwrap();
        store.finish_sync(run).unwrap();
    }
    let pools = store.subnet_pools("e1", "s-1").unwrap();
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0].first_ip, "10.0.2.1");
}

#[test]
fn vm_summaries_carry_the_facts_of_the_full_records_in_list_order() {
    let mut store = store_with_env("e1");
    let mut records = vms(0..120);
    // One VM with a kube-vip VIP, images and two NICs on one subnet.
    let mut cp = vm_json(1);
    cp["status"]["resources"]["nic_list"] = json!([
        {"subnet_reference": {"uuid": "subnet-1"}, "ip_endpoint_list": [
            {"ip": "10.0.0.1", "type": "ASSIGNED"}, {"ip": "10.0.0.250", "type": "LEARNED"}]},
        {"subnet_reference": {"uuid": "subnet-1"}, "ip_endpoint_list": [{"ip": "10.0.0.2"}]},
        {"subnet_reference": {"uuid": "subnet-2"}}
    ]);
    cp["status"]["resources"]["disk_list"] = json!([
        {"data_source_reference": {"kind": "image", "uuid": "img-ubuntu"}},
        {"data_source_reference": {"kind": "image", "uuid": "img-tools"}}
    ]);
    records[1] = VmRecord::from_v3(cp).unwrap();
    full_sync(&mut store, &records);

    let summaries = store.vm_summaries("e1").unwrap();
    let listed = store
        .list(
            "e1",
            Kind::Vm,
            &ListQuery {
                limit: ListQuery::MAX_LIMIT,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        summaries.iter().map(|s| s.uuid.clone()).collect::<Vec<_>>(),
        ids(&listed),
        "same order as the name-sorted list"
    );
    for summary in &summaries {
        let record = records.iter().find(|r| r.uuid == summary.uuid).unwrap();
        let mut subnets: Vec<String> = record
            .ips
            .iter()
            .filter_map(|i| i.subnet_uuid.clone())
            .collect();
        subnets.dedup();
        let ips = |learned: bool| -> Vec<String> {
            record
                .ips
                .iter()
                .filter(|i| (i.ip_kind.as_deref() == Some("LEARNED")) == learned)
                .filter_map(|i| i.ip.clone())
                .collect()
        };
        assert_eq!(summary.name, record.name);
        assert_eq!(summary.cluster_uuid, record.cluster_uuid);
        assert_eq!(summary.power_state, record.power_state);
        assert_eq!(summary.num_vcpus, record.num_vcpus);
        assert_eq!(summary.memory_mib, record.memory_mib);
        assert_eq!(summary.categories, record.categories);
        assert_eq!(summary.image_uuids, record.image_uuids);
        assert_eq!(summary.subnet_uuids, subnets);
        assert_eq!(summary.assigned_ips, ips(false));
        assert_eq!(summary.learned_ips, ips(true));
    }
    let cp = summaries.iter().find(|s| s.uuid == "vm-000001").unwrap();
    assert_eq!(cp.assigned_ips, ["10.0.0.1", "10.0.0.2"]);
    assert_eq!(cp.learned_ips, ["10.0.0.250"]);
    assert_eq!(cp.subnet_uuids, ["subnet-1", "subnet-2"]);
    assert_eq!(cp.image_uuids, ["img-ubuntu", "img-tools"]);
    assert_eq!(
        cp.categories,
        [("KubernetesClusterName".to_owned(), "k8s-1".to_owned())]
    );
    // Other environments are not mixed in.
    assert!(store.vm_summaries("nope").unwrap().is_empty());
}
