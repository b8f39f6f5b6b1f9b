//! Sync and topology benchmark against the sandbox (plain bench binary, `harness = false`).
//!
//! For estates of 10,000 and 25,000 VMs with 20 ms injected latency on every Prism list
//! call, into an on-disk cache:
//! * the client alone listing the VMs (no cache), the reference for what the sandbox, the
//!   network and JSON decoding cost on this machine;
//! * a cold sync of PE clusters, subnets and VMs, next to the floor
//!   `(pages / concurrency) * latency`;
//! * a warm re-sync of the same, unchanged estate (rows are only marked seen);
//! * loading the VMs from the cache into the topology model, the default (grouped) graph,
//!   one filtered cache query and one model search;
//! * memory: this process's peak (which includes the in-process sandbox and its estate),
//!   and, measured in a child process that only opens the cache file and loads the model,
//!   what the app holds with the VMs cached.
//!
//! Each step runs `CAPSTAN_BENCH_RUNS` times (3; each cold sync into a fresh cache) and is
//! reported as best and median. CPU times are the whole process's (the in-process sandbox
//! included); they are steadier than wall times on a busy machine. A summary block at the
//! end can be pasted into notes.
//!
//! Run: `cargo bench -p capstan-inventory --bench sync`
//! Knobs (env): `CAPSTAN_BENCH_SIZES=10000,25000`, `CAPSTAN_BENCH_LATENCY_MS=20`,
//! `CAPSTAN_BENCH_CONCURRENCY=4`, `CAPSTAN_BENCH_RUNS=3`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use capstan_inventory::topology::{TopologyModel, TopologyOptions};
use capstan_inventory::{CancellationToken, SyncOptions, SyncReport, Syncer};
use capstan_prism::PrismClient;
use capstan_sandbox::{FaultKind, FaultRule, FaultService};
use capstan_store::{EnvironmentSpec, Kind, ListQuery, Store};
use parking_lot::Mutex;

/// Argument that turns this binary into the memory probe (see [`model_memory`]).
const MODEL_MEMORY: &str = "--model-memory";

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

/// User + system CPU of this process, in ms.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // USER_HZ is 100 on every Linux configuration Capstan targets.
    (ticks(11) + ticks(12)) * 10.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {err}");
    std::process::exit(1);
}

/// Wall and CPU time of one async step.
async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration, f64) {
    let cpu = cpu_ms();
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed(), cpu_ms() - cpu)
}

async fn sync(prism: &PrismClient, store: &Arc<Mutex<Store>>, concurrency: usize) -> SyncReport {
    Syncer::new(prism.clone(), None, store.clone())
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
        .unwrap_or_else(|e| fail("sync", e))
}

/// The memory probe, run in a child process: opens the cache file, loads the topology model
/// and builds the default graph, as the app does for the Topology page, and prints one line
/// `model <vms> <rss before KiB> <rss after KiB> <peak KiB> <load ms>`.
fn model_memory(path: &str) {
    let store = Store::open(path).unwrap_or_else(|e| fail("open cache", e));
    let before = status_kib("VmRSS:").unwrap_or(0);
    let started = Instant::now();
    let model = TopologyModel::load(&store, support::ENV).unwrap_or_else(|e| fail("load", e));
    let load = started.elapsed();
    let graph = model.graph(&TopologyOptions::default());
    let hits = model.search("web-01", &TopologyOptions::default(), 50);
    println!(
        "model {} {} {} {} {:.1}",
        model.vm_count(),
        before,
        status_kib("VmRSS:").unwrap_or(0),
        status_kib("VmHWM:").unwrap_or(0),
        ms(load),
    );
    // Keep everything alive until measured.
    drop((graph, hits, model, store));
}

/// Runs [`model_memory`] in a child process on the cache at `path`.
fn probe_model_memory(path: &Path) -> Option<(usize, u64, u64, u64, f64)> {
    let exe = std::env::current_exe().ok()?;
    let output = std::process::Command::new(exe)
        .arg(MODEL_MEMORY)
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|l| l.starts_with("model "))?;
    let f: Vec<&str> = line.split_whitespace().skip(1).collect();
    Some((
        f.first()?.parse().ok()?,
        f.get(1)?.parse().ok()?,
        f.get(2)?.parse().ok()?,
        f.get(3)?.parse().ok()?,
        f.get(4)?.parse().ok()?,
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(i) = args.iter().position(|a| a == MODEL_MEMORY) {
        let path = args
            .get(i + 1)
            .unwrap_or_else(|| fail("usage", "--model-memory <file>"));
        model_memory(path);
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail("runtime", e))
        .block_on(run(args.iter().any(|a| a == "--bench")));
}

/// Wall and CPU times of repeated runs of one step.
#[derive(Default)]
struct Runs {
    wall: Vec<Duration>,
    cpu: Vec<f64>,
}

impl Runs {
    fn add(&mut self, wall: Duration, cpu: f64) {
        self.wall.push(wall);
        self.cpu.push(cpu);
    }

    fn best(&self) -> f64 {
        self.wall
            .iter()
            .map(|d| ms(*d))
            .fold(f64::INFINITY, f64::min)
    }

    fn median(&self) -> f64 {
        let mut walls: Vec<f64> = self.wall.iter().map(|d| ms(*d)).collect();
        walls.sort_by(f64::total_cmp);
        walls.get(walls.len() / 2).copied().unwrap_or(0.0)
    }

    fn median_cpu(&self) -> f64 {
        let mut cpu = self.cpu.clone();
        cpu.sort_by(f64::total_cmp);
        cpu.get(cpu.len() / 2).copied().unwrap_or(0.0)
    }

    /// `best / median ms (cpu median ms)`
    fn show(&self) -> String {
        format!(
            "best {:>7.1} ms, median {:>7.1} ms (cpu {:.0} ms)",
            self.best(),
            self.median(),
            self.median_cpu()
        )
    }
}

/// A fresh on-disk cache with the bench environment; the directory goes when dropped.
fn fresh_store(prism_url: String) -> (tempfile::TempDir, std::path::PathBuf, Arc<Mutex<Store>>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail("temp dir", e));
    let path = dir.path().join("cache.sqlite3");
    let mut store = Store::open(&path).unwrap_or_else(|e| fail("open cache", e));
    if let Err(e) = store.put_environment(&EnvironmentSpec {
        id: support::ENV.into(),
        name: "Bench".into(),
        palette_url: None,
        palette_project_uid: None,
        prism_endpoint: Some(prism_url),
        settings: serde_json::json!({}),
    }) {
        fail("environment", e);
    }
    (dir, path, Arc::new(Mutex::new(store)))
}

async fn run(full: bool) {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then a small smoke run.
    let sizes: Vec<usize> = std::env::var("CAPSTAN_BENCH_SIZES")
        .unwrap_or_else(|_| (if full { "10000,25000" } else { "1200" }).to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let latency_ms: u64 = env_or("CAPSTAN_BENCH_LATENCY_MS", 20);
    let concurrency: usize = env_or("CAPSTAN_BENCH_CONCURRENCY", 4);
    let runs: usize = env_or("CAPSTAN_BENCH_RUNS", if full { 3 } else { 1 }).max(1);
    let page = capstan_prism::MAX_PAGE_SIZE as usize;
    println!(
        "sync: latency {latency_ms} ms per list call, concurrency {concurrency}, page size {page}; kinds pe_cluster, subnet, vm; on-disk cache; {} CPUs; {runs} runs per step (each cold run into a fresh cache)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut summary: Vec<String> = Vec::new();
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
        reset_hwm();
        let rss_before = status_kib("VmRSS:").unwrap_or(0);

        // The same pages listed by the client alone (no cache writes), for comparison.
        let mut list = Runs::default();
        for _ in 0..runs {
            let (listed, wall, cpu) = timed(prism.list_vms(None)).await;
            let listed = listed.unwrap_or_else(|e| fail("list", e)).len();
            if listed != vms {
                fail("list", format!("listed {listed} of {vms} VMs"));
            }
            list.add(wall, cpu);
        }
        println!(
            "{vms:>6} VMs: the client listing them without the cache: {}",
            list.show()
        );

        let mut cold = Runs::default();
        let mut kept = None;
        let mut pages = 0;
        let mut serial_floor = 0;
        for _ in 0..runs {
            // The previous run's cache goes first, so only one is on disk at a time.
            drop(kept.take());
            let (dir, path, store) = fresh_store(sb.prism_url());
            let (report, wall, cpu) = timed(sync(&prism, &store, concurrency)).await;
            let fetched = report.kind(Kind::Vm).map_or(0, |k| k.fetched) as usize;
            if fetched != vms {
                fail("sync", format!("fetched {fetched} of {vms} VMs"));
            }
            cold.add(wall, cpu);
            pages = report
                .kinds
                .iter()
                .map(|k| (k.fetched as usize).div_ceil(page).max(1))
                .sum::<usize>();
            // Kinds run one after another and each first page is alone: the reachable floor.
            serial_floor = report
                .kinds
                .iter()
                .map(|k| {
                    let p = (k.fetched as usize).div_ceil(page).max(1);
                    (1 + (p - 1).div_ceil(concurrency)) as u64 * latency_ms
                })
                .sum::<u64>();
            kept = Some((dir, path, store));
        }
        let Some((_dir, path, store)) = kept else {
            fail("sync", "no run");
        };
        let floor = (pages as f64 / concurrency as f64) * latency_ms as f64;
        println!(
            "        cold sync: {} | pages {pages} | floor {floor:.0} ms (with per-kind first pages: {serial_floor} ms) | median x client-only median {:.2}",
            cold.show(),
            cold.median() / list.median().max(1.0),
        );

        let mut warm = Runs::default();
        for _ in 0..runs {
            let (report, wall, cpu) = timed(sync(&prism, &store, concurrency)).await;
            let (fetched, unchanged) = report
                .kind(Kind::Vm)
                .map_or((0, 0), |k| (k.fetched, k.unchanged));
            if fetched as usize != vms || unchanged as usize != vms {
                fail(
                    "warm sync",
                    format!("{fetched} VMs read, {unchanged} unchanged, of {vms}"),
                );
            }
            warm.add(wall, cpu);
        }
        println!(
            "        warm re-sync (nothing changed, every VM only marked seen): {} | median x client-only median {:.2}",
            warm.show(),
            warm.median() / list.median().max(1.0),
        );

        let mut load = Runs::default();
        let mut graph_time = Runs::default();
        let mut filter = Runs::default();
        let mut search = Runs::default();
        let (mut nodes, mut edges, mut json_len, mut filtered, mut hits, mut model_vms) =
            (0, 0, 0, 0, 0, 0);
        for _ in 0..runs {
            let store = store.lock();
            let started = Instant::now();
            let model =
                TopologyModel::load(&store, support::ENV).unwrap_or_else(|e| fail("load", e));
            load.add(started.elapsed(), 0.0);
            model_vms = model.vm_count();
            let started = Instant::now();
            let graph = model.graph(&TopologyOptions::default());
            graph_time.add(started.elapsed(), 0.0);
            (nodes, edges) = (graph.nodes.len(), graph.edges.len());
            json_len = serde_json::to_vec(&graph).map(|v| v.len()).unwrap_or(0);
            let started = Instant::now();
            filtered = store
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
                .unwrap_or_else(|e| fail("filter", e))
                .total;
            filter.add(started.elapsed(), 0.0);
            let started = Instant::now();
            hits = model
                .search("web-01", &TopologyOptions::default(), 50)
                .len();
            search.add(started.elapsed(), 0.0);
        }
        if model_vms != vms {
            fail("load", format!("{model_vms} of {vms} VMs in the model"));
        }
        println!(
            "        cache → topology model: best {:.1} ms, median {:.1} ms ({model_vms} VMs) | graph {:.1} ms ({nodes} nodes, {edges} edges, {} KiB JSON) | filter query {:.1} ms ({filtered} matches) | model search {:.1} ms ({hits} hits)",
            load.best(),
            load.median(),
            graph_time.median(),
            json_len / 1024,
            filter.median(),
            search.median(),
        );
        let peak = status_kib("VmHWM:").unwrap_or(0);
        println!(
            "        this process: RSS {:.1} MiB before the syncs (the in-process sandbox and its estate), peak (VmHWM) {:.1} MiB",
            mib(rss_before),
            mib(peak),
        );
        // Settle the file the way the app leaves it, then measure the app's side alone.
        if let Err(e) = store.lock().checkpoint() {
            fail("checkpoint", e);
        }
        drop(store);
        let app = probe_model_memory(&path);
        match app {
            Some((n, before, after, hwm, load)) => println!(
                "        app alone (child process: cache opened, {n} VMs loaded into the model, graph built): RSS {:.1} MiB after open, {:.1} MiB with the model (peak {:.1} MiB); load {load:.1} ms",
                mib(before),
                mib(after),
                mib(hwm),
            ),
            None => println!("        app alone: the child-process probe did not run"),
        }

        summary.push(format!(
            "{vms} VMs ({latency_ms} ms latency, concurrency {concurrency}; median of {runs}): client-only list {:.0} ms; cold sync {:.0} ms = {:.1}x it (best {:.0} ms; floor {floor:.0} ms); warm re-sync {:.0} ms = {:.1}x it (best {:.0} ms)",
            list.median(),
            cold.median(),
            cold.median() / list.median().max(1.0),
            cold.best(),
            warm.median(),
            warm.median() / list.median().max(1.0),
            warm.best(),
        ));
        summary.push(format!(
            "{vms} VMs: cache → topology model {:.0} ms, graph {:.0} ms, filter query {:.1} ms, model search {:.1} ms",
            load.median(),
            graph_time.median(),
            filter.median(),
            search.median(),
        ));
        if let Some((_, _, after, hwm, _)) = app {
            summary.push(format!(
                "{vms} VMs: app memory with them cached (store + model + graph, no sandbox): RSS {:.0} MiB, peak {:.0} MiB; the bench process with the in-process sandbox peaked at {:.0} MiB",
                mib(after),
                mib(hwm),
                mib(peak),
            ));
        }
        sb.shutdown().await;
    }
    println!("\n---- summary (capstan-inventory sync bench) ----");
    for line in summary {
        println!("{line}");
    }
}
