//! Timing of the cache at the 25,000-VM scale the issue asks for. A plain binary (no
//! criterion) so it builds fast; run with `cargo bench -p capstan-store --bench cache`.
//! Prints figures and a summary block; asserts only correctness.
//!
//! Stages: turning API text into records (the `Value` route against the streaming
//! `RedactedJson` route the sync uses), a cold sync, a warm re-sync with nothing changed, a
//! re-sync with 10% changed, the narrow VM read the topology uses against reading every
//! VM's JSON, and the list queries behind the virtualised views.

use std::time::{Duration, Instant};

use capstan_store::{
    EnvironmentSpec, Kind, ListQuery, RedactedJson, SortBy, Store, SyncMode, VmRecord,
};
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

/// Wall and CPU time of one step.
#[derive(Debug, Clone, Copy, Default)]
struct Timing {
    wall: Duration,
    cpu_ms: Option<f64>,
}

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} ms", self.wall.as_secs_f64() * 1e3)?;
        if let Some(cpu) = self.cpu_ms {
            write!(f, " (cpu {cpu:.0} ms)")?;
        }
        Ok(())
    }
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> (T, Timing) {
    let cpu_before = cpu_ms();
    let start = Instant::now();
    let out = f();
    let wall = start.elapsed();
    let cpu_ms = match (cpu_before, cpu_ms()) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    let cpu = cpu_ms.map_or(String::new(), |c| format!("  (cpu {c:>7.0} ms)"));
    println!("{label:<60} {:>9.1} ms{cpu}", wall.as_secs_f64() * 1e3);
    (out, Timing { wall, cpu_ms })
}

fn sync_all(store: &mut Store, records: &[VmRecord]) -> (usize, capstan_store::WriteStats) {
    let mut run = store
        .begin_sync("e1", Kind::Vm, SyncMode::Full)
        .expect("begin");
    for (page, chunk) in records.chunks(PAGE).enumerate() {
        store
            .upsert_page(&mut run, chunk, &((page + 1) * PAGE).to_string())
            .expect("upsert");
    }
    let stats = run.stats();
    (store.finish_sync(run).expect("finish"), stats)
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
    let mut summary: Vec<(String, String)> = Vec::new();
    let ms = |t: Timing| t.to_string();

    let (texts, _) = time(&format!("build {n} v3 VM documents as API text"), || {
        (0..n)
            .map(|i| serde_json::to_string(&vm_json(i)).expect("json"))
            .collect::<Vec<_>>()
    });
    let (_, value_route) = time(
        &format!("records, Value route: parse + from_v3 x {n}"),
        || {
            texts
                .iter()
                .map(|t| VmRecord::from_v3(serde_json::from_str(t).expect("parse")).expect("vm"))
                .collect::<Vec<_>>()
        },
    );
    let (records, streaming_route) = time(
        &format!("records, streaming route: RedactedJson + from_redacted x {n}"),
        || {
            texts
                .iter()
                .map(|t| {
                    let entity: RedactedJson = serde_json::from_str(t).expect("parse");
                    VmRecord::from_redacted(entity).expect("vm")
                })
                .collect::<Vec<_>>()
        },
    );
    summary.push((
        format!("API text → records, {n} VMs (Value route → streaming)"),
        format!("{} → {}", ms(value_route), ms(streaming_route)),
    ));
    let json_bytes: usize = records.iter().map(|r| r.json.len()).sum();
    println!(
        "{:<60} {:>9.1} KiB/VM",
        "average JSON size",
        json_bytes as f64 / n as f64 / 1024.0
    );

    let ((_, stats), cold) = time(
        &format!("cold sync: upsert {n} VMs in pages of {PAGE}, finish"),
        || sync_all(&mut store, &records),
    );
    assert_eq!(stats.written as usize, n);
    summary.push((format!("cold sync write, {n} VMs"), ms(cold)));

    let kept: Vec<VmRecord> = records
        .iter()
        .filter(|r| !r.uuid.ends_with("00"))
        .cloned()
        .collect();
    let ((swept, stats), warm) = time(
        &format!("warm re-sync: {n} seen, none changed, 1% gone (swept)"),
        || sync_all(&mut store, &kept),
    );
    assert_eq!(swept, n / 100);
    assert_eq!((stats.written, stats.unchanged), (0, kept.len() as u64));
    summary.push((format!("warm re-sync write (unchanged), {n} VMs"), ms(warm)));

    let changed: Vec<VmRecord> = kept
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if i % 10 == 0 {
                let mut entity: serde_json::Value = serde_json::from_str(&r.json).expect("json");
                entity["status"]["resources"]["power_state"] = json!("OFF");
                entity["metadata"]["spec_version"] = json!(4);
                VmRecord::from_v3(entity).expect("vm")
            } else {
                r.clone()
            }
        })
        .collect();
    let ((_, stats), _) = time("re-sync with 10% changed", || {
        sync_all(&mut store, &changed)
    });
    assert_eq!(stats.written as usize, changed.len().div_ceil(10));
    let total = kept.len();

    let (_, checkpoint) = time("WAL checkpoint (truncate) after the syncs", || {
        store.checkpoint().expect("checkpoint")
    });
    summary.push(("WAL checkpoint after the syncs".into(), ms(checkpoint)));

    let (summaries, narrow) = time(&format!("vm_summaries: {total} VMs, no JSON"), || {
        store.vm_summaries("e1").expect("summaries")
    });
    assert_eq!(summaries.len(), total);
    let (_, full) = time(
        &format!("list every VM with its JSON ({total} VMs)"),
        || {
            let mut offset = 0;
            let mut bytes = 0;
            loop {
                let page = store
                    .list(
                        "e1",
                        Kind::Vm,
                        &ListQuery {
                            limit: ListQuery::MAX_LIMIT,
                            offset,
                            ..Default::default()
                        },
                    )
                    .expect("list");
                bytes += page.items.len();
                offset += page.items.len() as u64;
                if page.items.is_empty() || offset >= page.total {
                    return bytes;
                }
            }
        },
    );
    summary.push((
        format!("read every VM for the topology, {total} VMs (full JSON → narrow)"),
        format!("{} → {}", ms(full), ms(narrow)),
    ));

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
    let mut slowest = Timing::default();
    for (label, query) in &queries {
        let (page, elapsed) = time(label, || store.list("e1", Kind::Vm, query).expect("list"));
        println!("{:<60} {:>9} matches", "", page.total);
        if elapsed.wall > slowest.wall {
            slowest = elapsed;
        }
    }
    summary.push((
        format!("slowest list query of {} (page of 100)", queries.len()),
        ms(slowest),
    ));
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
        "{:<60} {:>9.1} MiB",
        "database files on disk",
        size as f64 / 1048576.0
    );
    summary.push((
        "database files on disk".into(),
        format!("{:.0} MiB", size as f64 / 1048576.0),
    ));
    println!("\n---- summary (capstan-store, {n} VMs; one run each, CPU is this process's) ----");
    for (label, value) in summary {
        println!("{label:<66} {value}");
    }
}
