//! Schema migrations: a small runner instead of a migration crate (one dependency less, and
//! it lets tests inject a failing migration).
//!
//! Rules:
//! * the schema version lives in `PRAGMA user_version`;
//! * each migration runs in its own `BEGIN IMMEDIATE` transaction together with the
//!   `user_version` bump, so a failure leaves the file exactly at the previous version;
//! * a file whose version is newer than [`LATEST_VERSION`] is refused before anything is
//!   written to it;
//! * shipped migrations are append-only: never edit one, add the next.
//!
//! Every inventory table has one "list" index, `(environment_id, name, key, <filter
//! columns>, sync_gen, last_seen_at)`: it gives name order without a sort, answers filters,
//! counts, the sweep and the last-seen summary from the index alone, and keeps the number
//! of b-trees touched per upserted row small (25,000 VMs per sync).
//!
//! Pragmas (WAL, synchronous, foreign keys) are connection settings and live in
//! `store.rs`, not here.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, StoreError};

/// One schema step: `sql` takes the file from version `index` to `index + 1`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
}

/// Version 1: environments, drafts, activity log, sync bookkeeping and the Prism Central
/// inventory.
const V1_CORE_AND_PRISM: &str = r#"
CREATE TABLE environments (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL COLLATE NOCASE UNIQUE,
    palette_url         TEXT,
    palette_project_uid TEXT,
    prism_endpoint      TEXT,
    settings_json       TEXT NOT NULL DEFAULT '{}',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- environment_id '' = a draft not tied to an environment yet (the new-environment wizard),
-- which is why there is no foreign key here.
CREATE TABLE drafts (
    environment_id TEXT NOT NULL,
    kind           TEXT NOT NULL,
    key            TEXT NOT NULL,
    json           TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (environment_id, kind, key)
);

-- No foreign key: the log outlives a deleted environment.
CREATE TABLE activity (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    ts             INTEGER NOT NULL,
    environment_id TEXT,
    service        TEXT NOT NULL,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    status         INTEGER,
    duration_ms    INTEGER NOT NULL,
    outcome        TEXT NOT NULL,
    error_code     TEXT,
    message        TEXT
);
CREATE INDEX activity_by_ts ON activity (ts);
CREATE INDEX activity_by_environment ON activity (environment_id, ts);

CREATE TABLE sync_state (
    environment_id    TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    generation        INTEGER NOT NULL DEFAULT 0,
    mode              TEXT NOT NULL DEFAULT 'full',
    cursor            TEXT,
    status            TEXT NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    last_completed_at INTEGER,
    error             TEXT,
    PRIMARY KEY (environment_id, kind)
);

CREATE TABLE pc_clusters (
    environment_id   TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid             TEXT NOT NULL,
    name             TEXT NOT NULL COLLATE NOCASE,
    is_prism_central INTEGER NOT NULL,
    aos_version      TEXT,
    external_ip      TEXT,
    is_available     INTEGER,
    json             TEXT NOT NULL,
    sync_gen         INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid)
);
CREATE INDEX pc_clusters_list ON pc_clusters (environment_id, name, uuid, sync_gen, last_seen_at);

CREATE TABLE pc_subnets (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid           TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    cluster_uuid   TEXT,
    subnet_type    TEXT COLLATE NOCASE,
    vlan_id        INTEGER,
    cidr           TEXT,
    gateway_ip     TEXT,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid)
);
CREATE INDEX pc_subnets_list ON pc_subnets (environment_id, name, uuid, cluster_uuid, subnet_type, sync_gen, last_seen_at);

CREATE TABLE pc_subnet_pools (
    environment_id TEXT NOT NULL,
    subnet_uuid    TEXT NOT NULL,
    position       INTEGER NOT NULL,
    first_ip       TEXT NOT NULL,
    last_ip        TEXT NOT NULL,
    PRIMARY KEY (environment_id, subnet_uuid, position),
    FOREIGN KEY (environment_id, subnet_uuid)
        REFERENCES pc_subnets (environment_id, uuid) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE pc_images (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid           TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    image_type     TEXT,
    size_bytes     INTEGER,
    state          TEXT COLLATE NOCASE,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid)
);
CREATE INDEX pc_images_list ON pc_images (environment_id, name, uuid, state, sync_gen, last_seen_at);

CREATE TABLE pc_vms (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid           TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    cluster_uuid   TEXT,
    host_uuid      TEXT,
    project_uuid   TEXT,
    power_state    TEXT COLLATE NOCASE,
    num_vcpus      INTEGER,
    memory_mib     INTEGER,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid)
);
CREATE INDEX pc_vms_list ON pc_vms (environment_id, name, uuid, cluster_uuid, power_state, sync_gen, last_seen_at);

-- One row per (NIC, IP); a NIC without an IP has one row with ip NULL. `position` orders
-- the rows of one VM. WITHOUT ROWID: the primary key is the per-VM lookup, one b-tree less
-- to maintain per row.
CREATE TABLE pc_vm_ips (
    environment_id TEXT NOT NULL,
    vm_uuid        TEXT NOT NULL,
    position       INTEGER NOT NULL,
    nic_position   INTEGER NOT NULL,
    subnet_uuid    TEXT,
    mac_address    TEXT,
    ip             TEXT,
    ip_kind        TEXT,
    PRIMARY KEY (environment_id, vm_uuid, position),
    FOREIGN KEY (environment_id, vm_uuid)
        REFERENCES pc_vms (environment_id, uuid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX pc_vm_ips_by_ip ON pc_vm_ips (environment_id, ip);
CREATE INDEX pc_vm_ips_by_subnet ON pc_vm_ips (environment_id, subnet_uuid);

CREATE TABLE pc_vm_categories (
    environment_id TEXT NOT NULL,
    vm_uuid        TEXT NOT NULL,
    key            TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (environment_id, vm_uuid, key),
    FOREIGN KEY (environment_id, vm_uuid)
        REFERENCES pc_vms (environment_id, uuid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX pc_vm_categories_by_pair ON pc_vm_categories (environment_id, key, value);

CREATE TABLE pc_hosts (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid           TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    cluster_uuid   TEXT,
    cvm_ip         TEXT,
    hypervisor_ip  TEXT,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid)
);
CREATE INDEX pc_hosts_list ON pc_hosts (environment_id, name, uuid, cluster_uuid, sync_gen, last_seen_at);

CREATE TABLE pc_projects (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uuid           TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    is_default     INTEGER NOT NULL,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uuid)
);
CREATE INDEX pc_projects_list ON pc_projects (environment_id, name, uuid, sync_gen, last_seen_at);
"#;

/// Version 2: the Palette state. Machine pools have no uid in Palette; their key is
/// `<cluster uid>/<pool name>`.
const V2_PALETTE: &str = r#"
CREATE TABLE pl_cloud_types (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    is_custom      INTEGER NOT NULL,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uid)
);
CREATE INDEX pl_cloud_types_list ON pl_cloud_types (environment_id, name, uid, sync_gen, last_seen_at);

CREATE TABLE pl_pcgs (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    state          TEXT COLLATE NOCASE,
    is_self_hosted INTEGER NOT NULL,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uid)
);
CREATE INDEX pl_pcgs_list ON pl_pcgs (environment_id, name, uid, state, sync_gen, last_seen_at);

CREATE TABLE pl_cloud_accounts (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    cloud_type     TEXT,
    pcg_uid        TEXT,
    state          TEXT COLLATE NOCASE,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uid)
);
CREATE INDEX pl_cloud_accounts_list ON pl_cloud_accounts (environment_id, name, uid, pcg_uid, state, sync_gen, last_seen_at);

CREATE TABLE pl_profiles (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    version        TEXT,
    cloud_type     TEXT,
    profile_type   TEXT,
    is_published   INTEGER NOT NULL,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uid)
);
CREATE INDEX pl_profiles_list ON pl_profiles (environment_id, name, uid, sync_gen, last_seen_at);

CREATE TABLE pl_clusters (
    environment_id    TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid               TEXT NOT NULL,
    name              TEXT NOT NULL COLLATE NOCASE,
    cloud_type        TEXT,
    cloud_account_uid TEXT,
    cloud_config_uid  TEXT,
    state             TEXT COLLATE NOCASE,
    health_state      TEXT,
    json              TEXT NOT NULL,
    sync_gen          INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uid)
);
CREATE INDEX pl_clusters_list ON pl_clusters (environment_id, name, uid, cloud_account_uid, state, sync_gen, last_seen_at);

CREATE TABLE pl_machine_pools (
    environment_id   TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid              TEXT NOT NULL,
    name             TEXT NOT NULL COLLATE NOCASE,
    cluster_uid      TEXT NOT NULL,
    is_control_plane INTEGER NOT NULL,
    size             INTEGER,
    json             TEXT NOT NULL,
    sync_gen         INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uid)
);
CREATE INDEX pl_machine_pools_list ON pl_machine_pools (environment_id, name, uid, cluster_uid, sync_gen, last_seen_at);

CREATE TABLE pl_nodes (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    name           TEXT NOT NULL COLLATE NOCASE,
    cluster_uid    TEXT,
    pool_name      TEXT,
    instance_state TEXT COLLATE NOCASE,
    health_state   TEXT,
    ip             TEXT,
    json           TEXT NOT NULL,
    sync_gen       INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, uid)
);
CREATE INDEX pl_nodes_list ON pl_nodes (environment_id, name, uid, cluster_uid, instance_state, sync_gen, last_seen_at);
CREATE INDEX pl_nodes_by_ip ON pl_nodes (environment_id, ip);
"#;

/// Version 3: cheap re-syncs and a narrow VM read.
///
/// * `content_hash` on every inventory table: a hash of what a row was written from. A sync
///   that sees the same hash only bumps `sync_gen`/`last_seen_at` instead of rewriting the
///   row, its JSON and its child rows. Rows from older versions have none and are rewritten
///   once.
/// * The VM JSON moves to `pc_vm_json`. A VM row was mostly JSON (about 2.5 KB, one row per
///   page), so marking an unchanged VM as seen rewrote a whole page; now it touches a narrow
///   row, and list scans read narrow pages.
/// * `pc_vms.image_uuids` (a JSON array of the images the VM's disks were cloned from), so the
///   topology reads every VM's facts from columns and child tables, never from the JSON.
const V3_CONTENT_HASH_AND_VM_JSON: &str = r#"
ALTER TABLE pc_clusters ADD COLUMN content_hash INTEGER;
ALTER TABLE pc_subnets ADD COLUMN content_hash INTEGER;
ALTER TABLE pc_images ADD COLUMN content_hash INTEGER;
ALTER TABLE pc_vms ADD COLUMN content_hash INTEGER;
ALTER TABLE pc_hosts ADD COLUMN content_hash INTEGER;
ALTER TABLE pc_projects ADD COLUMN content_hash INTEGER;
ALTER TABLE pl_cloud_types ADD COLUMN content_hash INTEGER;
ALTER TABLE pl_pcgs ADD COLUMN content_hash INTEGER;
ALTER TABLE pl_cloud_accounts ADD COLUMN content_hash INTEGER;
ALTER TABLE pl_profiles ADD COLUMN content_hash INTEGER;
ALTER TABLE pl_clusters ADD COLUMN content_hash INTEGER;
ALTER TABLE pl_machine_pools ADD COLUMN content_hash INTEGER;
ALTER TABLE pl_nodes ADD COLUMN content_hash INTEGER;

ALTER TABLE pc_vms ADD COLUMN image_uuids TEXT;

CREATE TABLE pc_vm_json (
    environment_id TEXT NOT NULL,
    uuid           TEXT NOT NULL,
    json           TEXT NOT NULL,
    PRIMARY KEY (environment_id, uuid),
    FOREIGN KEY (environment_id, uuid)
        REFERENCES pc_vms (environment_id, uuid) ON DELETE CASCADE
);
INSERT INTO pc_vm_json (environment_id, uuid, json)
    SELECT environment_id, uuid, json FROM pc_vms;
ALTER TABLE pc_vms DROP COLUMN json;
"#;

/// Every shipped migration, oldest first. Append only.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        description: "core tables and Prism Central inventory",
        sql: V1_CORE_AND_PRISM,
    },
    Migration {
        description: "Palette state",
        sql: V2_PALETTE,
    },
    Migration {
        description: "content hashes and the VM JSON in its own table",
        sql: V3_CONTENT_HASH_AND_VM_JSON,
    },
];

/// The schema version this build writes and understands.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings `conn` up to `migrations.len()`, one transaction per step. Returns the version
/// the file had before. Refuses a file newer than `migrations.len()`.
pub(crate) fn migrate(conn: &mut Connection, path: &str, migrations: &[Migration]) -> Result<i64> {
    let supported = migrations.len() as i64;
    let initial = user_version(conn).map_err(|source| StoreError::Corrupt {
        path: path.to_owned(),
        source,
    })?;
    if initial > supported {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found: initial,
            supported,
        });
    }
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Re-read under the write lock: another process may have migrated meanwhile.
        let current = user_version(&tx)?;
        if current > supported {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found: current,
                supported,
            });
        }
        let Some(step) = migrations.get(current as usize) else {
            return Ok(initial);
        };
        let next = current + 1;
        let fail = |source| StoreError::Migration {
            version: next,
            description: step.description,
            from: current,
            source,
        };
        tx.execute_batch(step.sql).map_err(fail)?;
        // user_version lives in the file header and is part of the same transaction.
        tx.pragma_update(None, "user_version", next).map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn every_shipped_migration_applies_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        let before = migrate(&mut conn, ":memory:", MIGRATIONS).unwrap();
        assert_eq!(before, 0);
        assert_eq!(user_version(&conn).unwrap(), LATEST_VERSION);
        let names = tables(&conn);
        for expected in [
            "environments",
            "pc_vms",
            "pc_vm_ips",
            "pl_nodes",
            "sync_state",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing: {names:?}"
            );
        }
        // Idempotent: a second run is a no-op.
        assert_eq!(
            migrate(&mut conn, ":memory:", MIGRATIONS).unwrap(),
            LATEST_VERSION
        );
    }

    #[test]
    fn a_failing_migration_leaves_the_file_at_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite3");
        let mut conn = Connection::open(&path).unwrap();
        let good = MIGRATIONS[0];
        // The first statement succeeds, the second fails: the first must be rolled back.
        let bad = Migration {
            description: "injected failure",
            sql: "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);",
        };
        let err = migrate(&mut conn, "test", &[good, bad]).unwrap_err();
        assert_eq!(err.code(), "store_migration_failed");
        assert!(
            matches!(
                err,
                StoreError::Migration {
                    version: 2,
                    from: 1,
                    ..
                }
            ),
            "{err}"
        );
        drop(conn);

        // Reopen from disk: version 1 committed, version 2 left no trace.
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 1);
        let names = tables(&conn);
        assert!(names.iter().any(|n| n == "pc_vms"), "{names:?}");
        assert!(!names.iter().any(|n| n == "half_done"), "{names:?}");
    }

    #[test]
    fn a_newer_file_is_refused_without_being_touched() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut conn, "x.sqlite3", MIGRATIONS).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, supported, .. } if supported == LATEST_VERSION)
        );
        assert_eq!(user_version(&conn).unwrap(), 99);
        assert!(tables(&conn).is_empty());
    }
}
