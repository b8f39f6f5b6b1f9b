//! Timing of the cache at the 25,000-VM scale the issue asks for. A plain binary (no
//! criterion) so it builds fast; run with `cargo bench -p capstan-store --bench cache`.
//! Prints figures; asserts only correctness.

use std::time::{Duration, Instant};

use capstan_store::{EnvironmentSpec, Kind, ListQuery, SortBy, Store, SyncMode, VmRecord};
use serde_json::{Value, json};

const VMS: usize = 25_000;
const PAGE: usize = 500;

fn vm_json(i: usize) -> Value {
    let mut nics = vec![json!({
        "uuid": format!("nic-{i}"), "nic_type": "NORMAL_NIC", "is_connected": true,
        "mac_address": format!("50:6b:8d:{:02x}:{:02x}:{:02x}", i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff),
        "subnet_reference": {"kind": "subnet", "uuid": format!("subnet-{}", i % 20), "name": format!("vlan{}", i % 20)},
        "ip_endpoint_list": [{"ip": format!("10.{}.{}.{}", i / 65536, i / 256 % 256, i % 256), "type": "ASSIGNED"}]
    })];
    if i.is_multiple_of(10) {
        nics.push(json!({"subnet_reference": {"kind": "subnet", "uuid": "subnet-storage"}}));
    }
    let resources = json!({
        "power_state": if i.is_multiple_of(7) { "OFF" } else { "ON" },
        "num_sockets": 2, "num_vcpus_per_socket": 1, "num_threads_per_core": 1,
        "memory_size_mib": 4096, "machine_type": "PC", "hypervisor_type": "AHV",
        "boot_config": {"boot_type": "LEGACY", "boot_device_order_list": ["CDROM", "DISK", "NETWORK"]},
        "host_reference": {"kind": "host", "uuid": format!("host-{}", i % 40)},
        "disk_list": [{
            "uuid": format!("disk-{i}"), "disk_size_bytes": 42_949_672_960u64, "disk_size_mib": 40960,
            "device_properties": {"device_type": "DISK", "disk_address": {"adapter_type": "SCSI", "device_index": 0}},
            "data_source_reference": {"kind": "image", "uuid": "image-ubuntu-2204"},
            "storage_config": {"storage_container_reference": {"kind": "storage_container", "uuid": "sc-1"}}
        }, {
            "uuid": format!("cdrom-{i}"),
            "device_properties": {"device_type": "CDROM", "disk_address": {"adapter_type": "IDE", "device_index": 0}}
        }],
        "nic_list": nics
    });
    // Shaped like the sandbox's v3 VM intent resource: spec and status both carry the
    // resources, as real Prism Central does.
    json!({
        "api_version": "3.1",
        "metadata": {
            "kind": "vm", "uuid": format!("vm-{i:06}"), "spec_version": 3,
            "creation_time": "2026-01-01T00:00:00Z", "last_update_time": "2026-01-02T00:00:00Z",
            "categories": {"KubernetesClusterName": format!("k8s-{}", i % 100)},
            "project_reference": {"kind": "project", "uuid": "project-default", "name": "default"},
            "owner_reference": {"kind": "user", "uuid": "user-1", "name": "admin"}
        },
        "spec": {
            "name": format!("vm-{i:06}"),
            "cluster_reference": {"kind": "cluster", "uuid": format!("pe-{}", i % 5)},
            "resources": resources.clone()
        },
        "status": {
            "name": format!("{}-{i:06}", ["web", "db", "k8s-worker", "build"][i % 4]),
            "state": "COMPLETE",
            "cluster_reference": {"kind": "cluster", "uuid": format!("pe-{}", i % 5), "name": format!("pe{}", i % 5)},
            "resources": resources
        }
    })
}

fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux configuration Capstan targets.
    Some(ticks * 10.0)
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    let cpu_before = cpu_ms();
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    let cpu = match (cpu_before, cpu_ms()) {
        (Some(before), Some(after)) => format!("  (cpu {:>7.0} ms)", after - before),
        _ => String::new(),
    };
    println!("{label:<52} {:>9.1} ms{cpu}", elapsed.as_secs_f64() * 1e3);
    (out, elapsed)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep it quick then.
    let quick = std::env::args().all(|a| a != "--bench");
    let n = if quick { 2_000 } else { VMS };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.sqlite3");
    let mut store = Store::open(&path).expect("open");
    store
        .put_environment(&EnvironmentSpec {
            id: "e1".into(),
            name: "bench".into(),
            palette_url: None,
            palette_project_uid: None,
            prism_endpoint: None,
            settings: json!({}),
        })
        .expect("environment");

    let (entities, _) = time(&format!("build {n} v3 VM JSON documents"), || {
        (0..n).map(vm_json).collect::<Vec<_>>()
    });
    let (records, _) = time(
        &format!("VmRecord::from_v3 x {n} (extract + redact)"),
        || {
            entities
                .into_iter()
                .map(|e| VmRecord::from_v3(e).expect("vm"))
                .collect::<Vec<_>>()
        },
    );
    let json_bytes: usize = records.iter().map(|r| r.json.len()).sum();
    println!(
        "{:<52} {:>9.1} KiB/VM",
        "average JSON size",
        json_bytes as f64 / n as f64 / 1024.0
    );

    time(
        &format!("first full sync: upsert {n} VMs in pages of {PAGE}"),
        || {
            let mut run = store
                .begin_sync("e1", Kind::Vm, SyncMode::Full)
                .expect("begin");
            for (page, chunk) in records.chunks(PAGE).enumerate() {
                store
                    .upsert_page(&mut run, chunk, &((page + 1) * PAGE).to_string())
                    .expect("upsert");
            }
            store.finish_sync(run).expect("finish")
        },
    );
    time(
        &format!("second full sync: {n} updates, 1% deleted (swept)"),
        || {
            let mut run = store
                .begin_sync("e1", Kind::Vm, SyncMode::Full)
                .expect("begin");
            let kept: Vec<_> = records
                .iter()
                .filter(|r| !r.uuid.ends_with("00"))
                .cloned()
                .collect();
            for chunk in kept.chunks(PAGE) {
                store.upsert(&mut run, chunk).expect("upsert");
            }
            let swept = store.finish_sync(run).expect("finish");
            assert_eq!(swept, n / 100);
        },
    );
    let total = n - n / 100;

    let queries: Vec<(&str, ListQuery)> = vec![
        ("first page by name (100 rows)", ListQuery::default()),
        (
            "deep page (offset = total - 5,000)",
            ListQuery {
                offset: (total as u64).saturating_sub(5_000),
                ..Default::default()
            },
        ),
        (
            "search name substring 'worker-01'",
            ListQuery {
                search: Some("worker-01".into()),
                ..Default::default()
            },
        ),
        (
            "power OFF on PE pe-2, sorted by name",
            ListQuery {
                state: Some("OFF".into()),
                parent: Some("pe-2".into()),
                ..Default::default()
            },
        ),
        (
            "VMs on subnet-storage",
            ListQuery {
                subnet_uuid: Some("subnet-storage".into()),
                ..Default::default()
            },
        ),
        (
            "exact IP 10.0.48.57",
            ListQuery {
                ip: Some("10.0.48.57".into()),
                ..Default::default()
            },
        ),
        (
            "category KubernetesClusterName=k8s-7",
            ListQuery {
                category: Some(("KubernetesClusterName".into(), "k8s-7".into())),
                ..Default::default()
            },
        ),
        (
            "sort by power state, descending",
            ListQuery {
                sort: SortBy::State,
                descending: true,
                ..Default::default()
            },
        ),
    ];
    for (label, query) in &queries {
        let (page, _) = time(label, || store.list("e1", Kind::Vm, query).expect("list"));
        println!("{:<52} {:>9} matches", "", page.total);
    }
    time("summary (counts + last-seen for 13 kinds)", || {
        store.summary("e1").expect("summary")
    });
    drop(store);
    let size: u64 = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{:<52} {:>9.1} MiB",
        "database files on disk",
        size as f64 / 1048576.0
    );
}
