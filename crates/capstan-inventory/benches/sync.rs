//! Cold-sync benchmark against the sandbox (plain bench binary, `harness = false`).
//!
//! For estates of 10,000 and 25,000 VMs with 20 ms injected latency on every Prism list
//! call: a cold sync of PE clusters, subnets and VMs into an on-disk cache, printed next to
//! the floor `(pages / concurrency) * latency`; then loading the 25,000 VMs from the cache
//! into the topology model, building the default (grouped) graph, one filtered cache query
//! and one model search; and the process's peak memory (VmHWM).
//!
//! Run: `cargo bench -p capstan-inventory --bench sync`
//! Knobs (env): `CAPSTAN_BENCH_SIZES=10000,25000`, `CAPSTAN_BENCH_LATENCY_MS=20`,
//! `CAPSTAN_BENCH_CONCURRENCY=4`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use capstan_inventory::topology::{TopologyModel, TopologyOptions};
use capstan_inventory::{CancellationToken, SyncOptions, Syncer};
use capstan_sandbox::{FaultKind, FaultRule, FaultService};
use capstan_store::{EnvironmentSpec, Kind, ListQuery, Store};
use parking_lot::Mutex;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Resets VmHWM to the current RSS, so each size's peak is its own.
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {err}");
    std::process::exit(1);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then a small smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = std::env::var("CAPSTAN_BENCH_SIZES")
        .unwrap_or_else(|_| (if full { "10000,25000" } else { "1200" }).to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let latency_ms: u64 = env_or("CAPSTAN_BENCH_LATENCY_MS", 20);
    let concurrency: usize = env_or("CAPSTAN_BENCH_CONCURRENCY", 4);
    let page = capstan_prism::MAX_PAGE_SIZE as usize;
    println!(
        "sync: latency {latency_ms} ms per list call, concurrency {concurrency}, page size {page}; kinds pe_cluster, subnet, vm; on-disk cache"
    );
    for vms in sizes {
        let sb = support::sandbox(vms).await;
        sb.faults().add_rule(FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/*/list",
            FaultKind::Latency { ms: latency_ms },
        ));
        let prism = support::prism(&sb);
        if let Err(e) = prism.users_me().await {
            fail("login", e);
        }
        // The same pages listed by the client alone (no cache writes), for comparison: what
        // the sandbox and JSON decoding cost on this machine.
        let started = Instant::now();
        let listed = prism
            .list_vms(None)
            .await
            .unwrap_or_else(|e| fail("list", e))
            .len();
        let list_only = started.elapsed();
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail("temp dir", e));
        let mut store =
            Store::open(dir.path().join("cache.sqlite3")).unwrap_or_else(|e| fail("open cache", e));
        if let Err(e) = store.put_environment(&EnvironmentSpec {
            id: support::ENV.into(),
            name: "Bench".into(),
            palette_url: None,
            palette_project_uid: None,
            prism_endpoint: Some(sb.prism_url()),
            settings: serde_json::json!({}),
        }) {
            fail("environment", e);
        }
        let store = Arc::new(Mutex::new(store));
        reset_hwm();
        let rss_before = status_kib("VmRSS:").unwrap_or(0);

        let started = Instant::now();
        let report = Syncer::new(prism, None, store.clone())
            .sync_environment(
                support::ENV,
                &SyncOptions {
                    kinds: vec![Kind::PeCluster, Kind::Subnet, Kind::Vm],
                    concurrency,
                    ..SyncOptions::default()
                },
                |_| {},
                &CancellationToken::new(),
            )
            .await
            .unwrap_or_else(|e| fail("sync", e));
        let sync_time = started.elapsed();
        let fetched = report.kind(Kind::Vm).map(|k| k.fetched).unwrap_or(0) as usize;
        if fetched != vms {
            fail("sync", format!("fetched {fetched} of {vms} VMs"));
        }
        let vm_pages = vms.div_ceil(page);
        let other_pages = report
            .kinds
            .iter()
            .filter(|k| k.kind != Kind::Vm)
            .map(|k| (k.fetched as usize).div_ceil(page).max(1))
            .sum::<usize>();
        let pages = vm_pages + other_pages;
        let floor = (pages as f64 / concurrency as f64) * latency_ms as f64;
        // Kinds run one after another and each first page is alone: the reachable floor.
        let serial_floor = report
            .kinds
            .iter()
            .map(|k| {
                let p = (k.fetched as usize).div_ceil(page).max(1);
                (1 + (p - 1).div_ceil(concurrency)) as u64 * latency_ms
            })
            .sum::<u64>();
        println!(
            "{vms:>6} VMs: cold sync {:>8.1} ms | pages {pages} | floor {floor:.0} ms (with per-kind first pages: {serial_floor} ms) | x floor {:.2}",
            ms(sync_time),
            ms(sync_time) / floor.max(1.0),
        );
        println!(
            "        the client listing the same {listed} VMs without the cache: {:>8.1} ms",
            ms(list_only)
        );

        {
            let store = store.lock();
            let started = Instant::now();
            let model =
                TopologyModel::load(&store, support::ENV).unwrap_or_else(|e| fail("load", e));
            let load_time = started.elapsed();
            let started = Instant::now();
            let graph = model.graph(&TopologyOptions::default());
            let graph_time = started.elapsed();
            let json_len = serde_json::to_vec(&graph).map(|v| v.len()).unwrap_or(0);
            let started = Instant::now();
            let filtered = store
                .list(
                    support::ENV,
                    Kind::Vm,
                    &ListQuery {
                        search: Some("web-0".into()),
                        state: Some("ON".into()),
                        limit: 100,
                        ..ListQuery::default()
                    },
                )
                .unwrap_or_else(|e| fail("filter", e));
            let filter_time = started.elapsed();
            let started = Instant::now();
            let hits = model.search("web-01", &TopologyOptions::default(), 50);
            let search_time = started.elapsed();
            println!(
                "        cache → topology model {:>7.1} ms ({} VMs) | graph {:>6.1} ms ({} nodes, {} edges, {} KiB JSON) | filter query {:>6.1} ms ({} matches) | model search {:>6.1} ms ({} hits)",
                ms(load_time),
                model.vm_count(),
                ms(graph_time),
                graph.nodes.len(),
                graph.edges.len(),
                json_len / 1024,
                ms(filter_time),
                filtered.total,
                ms(search_time),
                hits.len(),
            );
            println!(
                "        RSS before sync {:.1} MiB (includes the in-process sandbox and its estate), peak (VmHWM) {:.1} MiB",
                rss_before as f64 / 1024.0,
                status_kib("VmHWM:").unwrap_or(0) as f64 / 1024.0
            );
        }
        sb.shutdown().await;
    }
}
