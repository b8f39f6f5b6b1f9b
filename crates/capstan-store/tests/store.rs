//! Behaviour of the cache through its public API: opening, upgrading, refusing newer files,
//! rebuilding, environments, drafts, activity and secret hygiene.

use capstan_store::{
    EnvironmentSpec, Kind, LATEST_VERSION, ListQuery, NewActivity, Store, StoreError, SyncMode,
    VmRecord,
};
use rusqlite::Connection;
use serde_json::json;

fn env_spec(id: &str, name: &str) -> EnvironmentSpec {
    EnvironmentSpec {
        id: id.into(),
        name: name.into(),
        palette_url: Some("https://api.spectrocloud.example".into()),
        palette_project_uid: Some("proj-1".into()),
        prism_endpoint: Some("https://pc.example:9440".into()),
        settings: json!({"tls": "system", "page_size": 100}),
    }
}

fn pragma<T: rusqlite::types::FromSql>(conn: &Connection, name: &str) -> T {
    conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
        .unwrap()
}

#[test]
fn a_fresh_file_is_created_in_wal_mode_at_the_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    // The data directory may not exist yet on first start.
    let path = dir
        .path()
        .join("nested/data")
        .join(capstan_store::DEFAULT_FILE_NAME);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(store.path(), Some(path.as_path()));
    drop(store);

    let raw = Connection::open(&path).unwrap();
    assert_eq!(pragma::<String>(&raw, "journal_mode"), "wal");
    assert_eq!(pragma::<i64>(&raw, "user_version"), LATEST_VERSION);

    // Reopening an up-to-date file is a no-op.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    assert!(store.environments().unwrap().is_empty());
}

#[test]
fn in_memory_store_works_and_enforces_foreign_keys() {
    let mut store = Store::open_in_memory().unwrap();
    // A sync for an environment that does not exist is refused.
    let err = store
        .begin_sync("nope", Kind::Vm, SyncMode::Full)
        .unwrap_err();
    assert_eq!(err.code(), "store_unknown_environment");
    store.put_environment(&env_spec("e1", "lab")).unwrap();
    let run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    assert_eq!(run.generation(), 1);
}

/// The v1 schema exactly as version 1 shipped it (before the Palette tables). Frozen here
/// on purpose: it must not follow later edits.
const V1_FIXTURE: &str = r#"
CREATE TABLE environments (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL COLLATE NOCASE UNIQUE,
    palette_url TEXT, palette_project_uid TEXT, prism_endpoint TEXT,
    settings_json TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE drafts (environment_id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
    json TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (environment_id, kind, key));
CREATE TABLE activity (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, environment_id TEXT,
    service TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER,
    duration_ms INTEGER NOT NULL, outcome TEXT NOT NULL, error_code TEXT, message TEXT);
CREATE INDEX activity_by_ts ON activity (ts);
CREATE INDEX activity_by_environment ON activity (environment_id, ts);
CREATE TABLE sync_state (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    kind TEXT NOT NULL, generation INTEGER NOT NULL DEFAULT 0, mode TEXT NOT NULL DEFAULT 'full',
    cursor TEXT, status TEXT NOT NULL, started_at INTEGER, finished_at INTEGER,
    last_completed_at INTEGER, error TEXT, PRIMARY KEY (environment_id, kind));
CREATE TABLE pc_clusters (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, is_prism_central INTEGER NOT NULL,
    aos_version TEXT, external_ip TEXT, is_available INTEGER, json TEXT NOT NULL,
    sync_gen INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uuid));
CREATE TABLE pc_subnets (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, cluster_uuid TEXT, subnet_type TEXT,
    vlan_id INTEGER, cidr TEXT, gateway_ip TEXT, json TEXT NOT NULL, sync_gen INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uuid));
CREATE TABLE pc_subnet_pools (environment_id TEXT NOT NULL, subnet_uuid TEXT NOT NULL,
    position INTEGER NOT NULL, first_ip TEXT NOT NULL, last_ip TEXT NOT NULL,
    PRIMARY KEY (environment_id, subnet_uuid, position),
    FOREIGN KEY (environment_id, subnet_uuid) REFERENCES pc_subnets (environment_id, uuid) ON DELETE CASCADE);
CREATE TABLE pc_images (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, image_type TEXT, size_bytes INTEGER,
    state TEXT, json TEXT NOT NULL, sync_gen INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid));
CREATE TABLE pc_vms (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, cluster_uuid TEXT, host_uuid TEXT,
    project_uuid TEXT, power_state TEXT, num_vcpus INTEGER, memory_mib INTEGER, json TEXT NOT NULL,
    sync_gen INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uuid));
CREATE INDEX pc_vms_list ON pc_vms (environment_id, name, uuid, cluster_uuid, power_state, sync_gen, last_seen_at);
CREATE TABLE pc_vm_ips (environment_id TEXT NOT NULL, vm_uuid TEXT NOT NULL, position INTEGER NOT NULL,
    nic_position INTEGER NOT NULL, subnet_uuid TEXT, mac_address TEXT, ip TEXT, ip_kind TEXT,
    PRIMARY KEY (environment_id, vm_uuid, position),
    FOREIGN KEY (environment_id, vm_uuid) REFERENCES pc_vms (environment_id, uuid) ON DELETE CASCADE) WITHOUT ROWID;
CREATE INDEX pc_vm_ips_by_ip ON pc_vm_ips (environment_id, ip);
CREATE TABLE pc_vm_categories (environment_id TEXT NOT NULL, vm_uuid TEXT NOT NULL, key TEXT NOT NULL,
    value TEXT NOT NULL, PRIMARY KEY (environment_id, vm_uuid, key),
    FOREIGN KEY (environment_id, vm_uuid) REFERENCES pc_vms (environment_id, uuid) ON DELETE CASCADE);
CREATE TABLE pc_hosts (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, cluster_uuid TEXT, cvm_ip TEXT,
    hypervisor_ip TEXT, json TEXT NOT NULL, sync_gen INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid));
CREATE TABLE pc_projects (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, is_default INTEGER NOT NULL,
    json TEXT NOT NULL, sync_gen INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid));
"#;

#[test]
fn a_version_1_file_is_upgraded_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch(V1_FIXTURE).unwrap();
        raw.execute_batch(
            "INSERT INTO environments VALUES ('e1', 'Lab', 'https://palette.example', NULL, \
                 'https://pc.example:9440', '{\"tls\":\"system\"}', 1, 2);
             INSERT INTO drafts VALUES ('e1', 'cluster_create', 'dev', '{\"name\":\"dev\"}', 3);
             INSERT INTO sync_state (environment_id, kind, generation, status) VALUES ('e1', 'vm', 4, 'completed');
             INSERT INTO pc_vms (environment_id, uuid, name, power_state, json, sync_gen, last_seen_at)
                 VALUES ('e1', 'vm-1', 'old-vm', 'ON', '{}', 4, 5);
             INSERT INTO pc_vm_ips VALUES ('e1', 'vm-1', 0, 0, 's-1', NULL, '10.0.0.7', 'ASSIGNED');
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let env = store.environment("e1").unwrap().unwrap();
    assert_eq!(env.spec.name, "Lab");
    assert_eq!(env.spec.settings, json!({"tls": "system"}));
    let draft = store
        .draft(Some("e1"), "cluster_create", "dev")
        .unwrap()
        .unwrap();
    assert_eq!(draft.json, json!({"name": "dev"}));
    let page = store
        .list(
            "e1",
            Kind::Vm,
            &ListQuery {
                ip: Some("10.0.0.7".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].name, "old-vm");
    assert_eq!(store.sync_state("e1", Kind::Vm).unwrap().generation, 4);

    // The tables added by version 2 work on the upgraded file.
    let mut run = store.begin_sync("e1", Kind::Pcg, SyncMode::Full).unwrap();
    let pcg = capstan_store::PcgRecord::from_palette(json!({
        "metadata": {"uid": "pcg-1", "name": "gw"}, "spec": {"isSelfHosted": true},
        "status": {"state": "Running"}
    }))
    .unwrap();
    store.upsert(&mut run, &[pcg]).unwrap();
    store.finish_sync(run).unwrap();
    assert_eq!(store.count("e1", Kind::Pcg).unwrap(), 1);
}

/// The Palette tables exactly as version 2 shipped them. Frozen, like [`V1_FIXTURE`].
const V2_PALETTE_FIXTURE: &str = r#"
CREATE TABLE pl_cloud_types (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, is_custom INTEGER NOT NULL, json TEXT NOT NULL,
    sync_gen INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uid));
CREATE TABLE pl_pcgs (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, state TEXT COLLATE NOCASE,
    is_self_hosted INTEGER NOT NULL, json TEXT NOT NULL, sync_gen INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uid));
CREATE TABLE pl_cloud_accounts (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, cloud_type TEXT, pcg_uid TEXT,
    state TEXT COLLATE NOCASE, json TEXT NOT NULL, sync_gen INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uid));
CREATE TABLE pl_profiles (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, version TEXT, cloud_type TEXT,
    profile_type TEXT, is_published INTEGER NOT NULL, json TEXT NOT NULL, sync_gen INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uid));
CREATE TABLE pl_clusters (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, cloud_type TEXT, cloud_account_uid TEXT,
    cloud_config_uid TEXT, state TEXT COLLATE NOCASE, health_state TEXT, json TEXT NOT NULL,
    sync_gen INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uid));
CREATE TABLE pl_machine_pools (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, cluster_uid TEXT NOT NULL,
    is_control_plane INTEGER NOT NULL, size INTEGER, json TEXT NOT NULL, sync_gen INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uid));
CREATE TABLE pl_nodes (environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, cluster_uid TEXT, pool_name TEXT,
    instance_state TEXT COLLATE NOCASE, health_state TEXT, ip TEXT, json TEXT NOT NULL,
    sync_gen INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, PRIMARY KEY (environment_id, uid));
CREATE INDEX pl_nodes_by_ip ON pl_nodes (environment_id, ip);
"#;

#[test]
fn a_version_2_file_is_upgraded_with_its_vm_json_moved_and_rows_rewritten_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let vm_json = json!({
        "metadata": {"uuid": "vm-1", "categories": {"KubernetesClusterName": "dev"}},
        "status": {"name": "dev-cp-0", "cluster_reference": {"uuid": "pe-1"},
                   "resources": {"power_state": "ON", "num_sockets": 2, "memory_size_mib": 4096,
                                 "disk_list": [{"data_source_reference": {"kind": "image", "uuid": "img-1"}}],
                                 "nic_list": [{"subnet_reference": {"uuid": "s-1"},
                                               "ip_endpoint_list": [{"ip": "10.0.0.7", "type": "ASSIGNED"}]}]}}
    });
    {
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch(V1_FIXTURE).unwrap();
        raw.execute_batch(V2_PALETTE_FIXTURE).unwrap();
        raw.execute(
            "INSERT INTO environments VALUES ('e1', 'Lab', NULL, NULL, NULL, '{}', 1, 2)",
            [],
        )
        .unwrap();
        raw.execute(
            "INSERT INTO pc_vms (environment_id, uuid, name, cluster_uuid, power_state, num_vcpus, \
             memory_mib, json, sync_gen, last_seen_at) VALUES ('e1', 'vm-1', 'dev-cp-0', 'pe-1', 'ON', 2, 4096, ?1, 1, 5)",
            [vm_json.to_string()],
        )
        .unwrap();
        raw.execute_batch(
            "INSERT INTO pc_vm_ips VALUES ('e1', 'vm-1', 0, 0, 's-1', NULL, '10.0.0.7', 'ASSIGNED');
             INSERT INTO pc_vm_categories VALUES ('e1', 'vm-1', 'KubernetesClusterName', 'dev');
             INSERT INTO sync_state (environment_id, kind, generation, status) VALUES ('e1', 'vm', 1, 'completed');
             INSERT INTO pl_nodes (environment_id, uid, name, json, sync_gen, last_seen_at)
                 VALUES ('e1', 'm-1', 'node-1', '{}', 1, 5);
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    // The JSON moved to its own table and reads back unchanged; the rest is where it was.
    let vm = store.get("e1", Kind::Vm, "vm-1").unwrap().unwrap();
    assert_eq!(vm.json, vm_json);
    assert_eq!(
        (vm.name.as_str(), vm.ips.as_slice()),
        ("dev-cp-0", &["10.0.0.7".to_owned()][..])
    );
    assert_eq!(store.count("e1", Kind::Node).unwrap(), 1);
    let summary = &store.vm_summaries("e1").unwrap()[0];
    assert_eq!(summary.assigned_ips, ["10.0.0.7"]);
    assert_eq!(
        summary.categories,
        [("KubernetesClusterName".to_owned(), "dev".to_owned())]
    );
    assert!(
        summary.image_uuids.is_empty(),
        "not known until the next sync"
    );

    // Old rows have no content hash: the first sync rewrites them, the next one does not.
    for (written, unchanged) in [(1, 0), (0, 1)] {
        let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
        let record = VmRecord::from_v3(vm_json.clone()).unwrap();
        store.upsert(&mut run, &[record]).unwrap();
        assert_eq!(
            (run.stats().written, run.stats().unchanged),
            (written, unchanged)
        );
        assert_eq!(store.finish_sync(run).unwrap(), 0);
    }
    assert_eq!(store.vm_summaries("e1").unwrap()[0].image_uuids, ["img-1"]);
    drop(store);

    let raw = Connection::open(&path).unwrap();
    let vm_columns: Vec<String> = raw
        .prepare("SELECT name FROM pragma_table_info('pc_vms')")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(!vm_columns.iter().any(|c| c == "json"), "{vm_columns:?}");
    assert!(
        vm_columns.iter().any(|c| c == "content_hash"),
        "{vm_columns:?}"
    );
}

#[test]
fn a_file_from_a_newer_version_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 42;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();

    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code(), "store_newer_schema");
    assert!(err.suggests_rebuild());
    match &err {
        StoreError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!(*found, 42);
            assert_eq!(*supported, LATEST_VERSION);
        }
        other => panic!("unexpected error: {other}"),
    }
    let message = err.to_string();
    assert!(message.contains("update Capstan"), "{message}");
    assert!(message.contains("rebuild the cache"), "{message}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the newer file must not be modified"
    );
    assert!(!dir.path().join("cache.sqlite3-wal").exists());
}

#[test]
fn a_damaged_file_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    std::fs::write(
        &path,
        b"this is not a sqlite database, not even close........",
    )
    .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code(), "store_corrupt", "{err}");
    assert!(err.suggests_rebuild());

    let (store, report) = Store::rebuild(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let backup = report.backup_path.expect("the damaged file is kept");
    assert!(backup.exists());
    assert!(report.salvage_error.is_some());
    assert_eq!(report.environments_kept, 0);
}

#[test]
fn rebuild_discards_cached_data_but_keeps_environments_and_drafts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let mut store = Store::open(&path).unwrap();
        store.put_environment(&env_spec("e1", "lab")).unwrap();
        store
            .put_draft(Some("e1"), "cluster_create", "dev", &json!({"workers": 3}))
            .unwrap();
        store
            .put_draft(None, "environment_create", "new", &json!({"name": "x"}))
            .unwrap();
        let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
        let vm = VmRecord::from_v3(json!({"metadata": {"uuid": "vm-1"}, "status": {"name": "a"}}))
            .unwrap();
        store.upsert(&mut run, &[vm]).unwrap();
        store.finish_sync(run).unwrap();
        store
            .append_activity(&activity("e1", "GET", "/vms", None))
            .unwrap();
    }

    let (store, report) = Store::rebuild(&path).unwrap();
    assert_eq!(report.salvage_error, None);
    assert_eq!(report.environments_kept, 1);
    assert_eq!(report.drafts_kept, 2);
    assert!(report.backup_path.as_ref().unwrap().exists());
    assert_eq!(store.environment("e1").unwrap().unwrap().spec.name, "lab");
    assert_eq!(
        store
            .draft(Some("e1"), "cluster_create", "dev")
            .unwrap()
            .unwrap()
            .json,
        json!({"workers": 3})
    );
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 0);
    assert!(store.recent_activity(None, 10).unwrap().is_empty());

    // The backup is the old cache, intact.
    let old = Store::open(report.backup_path.unwrap()).unwrap();
    assert_eq!(old.count("e1", Kind::Vm).unwrap(), 1);
}

#[test]
fn rebuild_gets_past_a_newer_file_and_salvages_what_it_understands() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let mut store = Store::open(&path).unwrap();
        store.put_environment(&env_spec("e1", "lab")).unwrap();
    }
    {
        // What a future version might have done: more tables, a higher version.
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch(&format!(
            "CREATE TABLE from_the_future (x); PRAGMA user_version = {};",
            LATEST_VERSION + 5
        ))
        .unwrap();
    }
    assert_eq!(Store::open(&path).unwrap_err().code(), "store_newer_schema");
    let (store, report) = Store::rebuild(&path).unwrap();
    assert_eq!(report.environments_kept, 1, "{report:?}");
    assert_eq!(store.environments().unwrap().len(), 1);
}

#[test]
fn environments_are_redacted_unique_and_deletable() {
    let mut store = Store::open_in_memory().unwrap();
    let mut spec = env_spec("e1", "Lab");
    spec.prism_endpoint = Some("https://admin:hunter2@pc.example:9440".into());
    spec.settings =
        json!({"tls": "pinned", "prism_password": "hunter2", "nested": {"apiKey": "k-9"}});
    let stored = store.put_environment(&spec).unwrap();
    assert_eq!(
        stored.spec.prism_endpoint.as_deref(),
        Some("https://***@pc.example:9440")
    );
    assert_eq!(stored.spec.settings["prism_password"], "***");
    assert_eq!(stored.spec.settings["nested"]["apiKey"], "***");
    assert_eq!(stored.spec.settings["tls"], "pinned");

    // Names are unique regardless of case.
    let err = store.put_environment(&env_spec("e2", "lab")).unwrap_err();
    assert_eq!(err.code(), "store_duplicate_environment_name");
    // Updating by id keeps created_at and changes the name.
    let renamed = store.put_environment(&env_spec("e1", "Lab 2")).unwrap();
    assert_eq!(renamed.created_at, stored.created_at);
    assert_eq!(renamed.spec.name, "Lab 2");
    assert_eq!(
        store
            .put_environment(&env_spec(" ", "x"))
            .unwrap_err()
            .code(),
        "store_empty_field"
    );

    store.put_environment(&env_spec("e0", "Alpha")).unwrap();
    let names: Vec<_> = store
        .environments()
        .unwrap()
        .into_iter()
        .map(|e| e.spec.name)
        .collect();
    assert_eq!(names, ["Alpha", "Lab 2"]);

    // Deleting cascades to the cache and drafts.
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    let vm = VmRecord::from_v3(json!({"metadata": {"uuid": "vm-1"}})).unwrap();
    store.upsert(&mut run, &[vm]).unwrap();
    store.put_draft(Some("e1"), "k", "x", &json!(1)).unwrap();
    assert!(store.delete_environment("e1").unwrap());
    assert!(!store.delete_environment("e1").unwrap());
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 0);
    assert!(store.draft(Some("e1"), "k", "x").unwrap().is_none());
}

#[test]
fn drafts_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let mut store = Store::open(&path).unwrap();
        store.put_environment(&env_spec("e1", "lab")).unwrap();
        store
            .put_draft(Some("e1"), "cluster_create", "dev", &json!({"step": 1}))
            .unwrap();
        store
            .put_draft(Some("e1"), "cluster_create", "dev", &json!({"step": 2}))
            .unwrap();
        store
            .put_draft(Some("e1"), "profile_create", "infra", &json!({"packs": []}))
            .unwrap();
        store
            .put_draft(None, "environment_create", "wizard", &json!({"name": "n"}))
            .unwrap();
        // Dropped without any explicit close or checkpoint, like a crash after commit.
        std::mem::forget(store);
    }
    let mut store = Store::open(&path).unwrap();
    let draft = store
        .draft(Some("e1"), "cluster_create", "dev")
        .unwrap()
        .unwrap();
    assert_eq!(draft.json, json!({"step": 2}));
    assert_eq!(draft.environment_id.as_deref(), Some("e1"));
    assert_eq!(store.drafts(Some("e1"), None).unwrap().len(), 2);
    assert_eq!(
        store
            .drafts(Some("e1"), Some("profile_create"))
            .unwrap()
            .len(),
        1
    );
    let global = store.drafts(None, None).unwrap();
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].environment_id, None);

    assert!(
        store
            .delete_draft(Some("e1"), "cluster_create", "dev")
            .unwrap()
    );
    assert!(
        !store
            .delete_draft(Some("e1"), "cluster_create", "dev")
            .unwrap()
    );
    assert!(
        store
            .draft(Some("e1"), "cluster_create", "dev")
            .unwrap()
            .is_none()
    );
}

fn activity(env: &str, method: &str, path: &str, message: Option<&str>) -> NewActivity {
    NewActivity {
        ts: capstan_store::now_ms(),
        environment_id: Some(env.into()),
        service: "prism".into(),
        method: method.into(),
        path: path.into(),
        status: Some(200),
        duration_ms: 12,
        outcome: "ok".into(),
        error_code: None,
        message: message.map(str::to_owned),
    }
}

#[test]
fn activity_append_recent_and_prune() {
    let mut store = Store::open_in_memory().unwrap();
    for i in 0..10 {
        let mut entry = activity(
            if i % 2 == 0 { "e1" } else { "e2" },
            "POST",
            "/vms/list",
            None,
        );
        entry.ts = 1_000 + i;
        store.append_activity(&entry).unwrap();
    }
    let recent = store.recent_activity(None, 3).unwrap();
    assert_eq!(
        recent.iter().map(|a| a.entry.ts).collect::<Vec<_>>(),
        [1_009, 1_008, 1_007]
    );
    let e1 = store.recent_activity(Some("e1"), 100).unwrap();
    assert_eq!(e1.len(), 5);
    assert!(
        e1.iter()
            .all(|a| a.entry.environment_id.as_deref() == Some("e1"))
    );

    assert_eq!(store.prune_activity(Some(1_003), None).unwrap(), 3);
    assert_eq!(store.prune_activity(None, Some(4)).unwrap(), 3);
    let left: Vec<_> = store
        .recent_activity(None, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.entry.ts)
        .collect();
    assert_eq!(left, [1_009, 1_008, 1_007, 1_006]);
}

#[test]
fn the_database_file_never_contains_a_planted_secret() {
    const PLANTED: &str = "Sup3rS3cretPlanted";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let mut store = Store::open(&path).unwrap();
        let mut spec = env_spec("e1", "lab");
        spec.prism_endpoint = Some(format!("https://admin:{PLANTED}@pc.example:9440"));
        spec.settings = json!({"palette_api_key": PLANTED, "tls": "system"});
        store.put_environment(&spec).unwrap();

        // The caller's redaction path for activity messages, as the HTTP layer uses it.
        let message = capstan_store::redact(&format!(
            "401 from https://admin:{PLANTED}@pc.example:9440/api/nutanix/v3/vms/list; \
             request had Authorization: Basic {PLANTED} and ApiKey: {PLANTED}; \
             body {{\"username\":\"admin\",\"password\":\"{PLANTED}\"}}"
        ));
        assert!(!message.contains(PLANTED), "{message}");
        let mut entry = activity(
            "e1",
            "POST",
            &format!("/v1/things?apiKey={PLANTED}"),
            Some(&message),
        );
        entry.outcome = "error".into();
        entry.error_code = Some("http_unauthorized".into());
        store.append_activity(&entry).unwrap();
        // A forgotten call site: the store redacts again.
        let raw = activity("e1", "GET", "/", Some(&format!("password={PLANTED}")));
        store.append_activity(&raw).unwrap();

        // Entities carrying secrets: cloud account credentials, VM cloud-init.
        let mut run = store
            .begin_sync("e1", Kind::CloudAccount, SyncMode::Full)
            .unwrap();
        let account = capstan_store::CloudAccountRecord::from_palette(json!({
            "kind": "nutanix", "metadata": {"uid": "a-1", "name": "prod"},
            "spec": {"credentials": {"NUTANIX_USER": "admin", "NUTANIX_PASSWORD": PLANTED}}
        }))
        .unwrap();
        store.upsert(&mut run, &[account]).unwrap();
        store.finish_sync(run).unwrap();
        let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
        let vm = VmRecord::from_v3(
            json!({"metadata": {"uuid": "vm-1"}, "status": {"resources": {
            "guest_customization": {"cloud_init": {"user_data": PLANTED}}}}}),
        )
        .unwrap();
        store.upsert(&mut run, &[vm]).unwrap();
        let failed_with = format!("fetch failed: https://u:{PLANTED}@pc.example/");
        store.fail_sync(run, &failed_with).unwrap();
        drop(store);
    }

    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(bytes.len() > 4096, "the file was written");
    let needle = PLANTED.as_bytes();
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "the planted secret reached the database file"
    );
    // Non-secret values did reach the file, so the scan is looking at real content.
    assert!(bytes.windows(13).any(|w| w == b"pc.example:94"));
}

#[test]
fn large_writes_are_checkpointed_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let mut store = Store::open(&path).unwrap();
    store.put_environment(&env_spec("e1", "lab")).unwrap();
    let file_size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let empty = file_size();

    // About 6 MB of log: far below SQLite's own (backstop) threshold, so only the
    // background checkpointer can move it into the file.
    let mut run = store.begin_sync("e1", Kind::Vm, SyncMode::Full).unwrap();
    for page in 0..4 {
        let records: Vec<VmRecord> = (page * 500..(page + 1) * 500)
            .map(|i| {
                VmRecord::from_v3(json!({
                    "metadata": {"uuid": format!("vm-{i:05}")},
                    "status": {"name": format!("vm-{i:05}"), "description": "x".repeat(2000)}
                }))
                .unwrap()
            })
            .collect();
        store
            .upsert_page(&mut run, &records, &((page + 1) * 500).to_string())
            .unwrap();
    }
    store.finish_sync(run).unwrap();
    let started = std::time::Instant::now();
    while file_size() < empty + 4_000_000 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the log was not checkpointed: file {} bytes",
            file_size()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // An explicit checkpoint still completes with the checkpointer running, and the data
    // is all there after reopening.
    assert!(store.checkpoint().unwrap());
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count("e1", Kind::Vm).unwrap(), 2000);
}
