//! List-all-VMs benchmark against the sandbox (plain bench binary, `harness = false`).
//!
//! For estates of 10,000 and 25,000 VMs with 20 ms injected latency per call, lists every
//! VM and prints the wall time next to the floor `(pages / concurrency) * latency`, plus
//! the process's peak memory (VmHWM).
//!
//! Run: `cargo bench -p capstan-prism --bench list_vms`
//! Knobs (env): `CAPSTAN_BENCH_SIZES=10000,25000`, `CAPSTAN_BENCH_LATENCY_MS=20`,
//! `CAPSTAN_BENCH_CONCURRENCY=4`, `CAPSTAN_BENCH_RUNS=3`.

use std::time::{Duration, Instant};

use capstan_prism::{
    HttpConfig, ListResponse, PrismAuth, PrismClient, PrismConfig, RetryPolicy, TlsPolicy, Vm,
};
use capstan_sandbox::{FaultKind, FaultRule, FaultService, SandboxConfig};

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

fn vm_hwm_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// Resets VmHWM to the current RSS (Linux: `5` in clear_refs), so each size's peak is its own.
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then run a small
    // smoke version so test runs stay fast.
    let full = std::env::args().any(|a| a == "--bench");
    let default_sizes = if full { "10000,25000" } else { "1200" };
    let sizes: Vec<usize> = std::env::var("CAPSTAN_BENCH_SIZES")
        .unwrap_or_else(|_| default_sizes.to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let latency_ms: u64 = env_or("CAPSTAN_BENCH_LATENCY_MS", 20);
    let concurrency: usize = env_or("CAPSTAN_BENCH_CONCURRENCY", 4);
    let runs: usize = env_or("CAPSTAN_BENCH_RUNS", if full { 3 } else { 1 });
    let page = capstan_prism::MAX_PAGE_SIZE as usize;

    println!(
        "list_vms: latency {latency_ms} ms/call, concurrency {concurrency}, page size {page}, {runs} runs per size"
    );
    println!(
        "{:>8} {:>6} {:>10} {:>10} {:>10} {:>8} {:>9} {:>12} {:>12}",
        "vms",
        "pages",
        "floor_ms",
        "best_ms",
        "median_ms",
        "x_floor",
        "parse_ms",
        "rss_pre_mib",
        "vm_hwm_mib"
    );
    for vms in sizes {
        let sandbox = match capstan_sandbox::start(SandboxConfig {
            vms,
            tls: false,
            seed: 7,
            ..SandboxConfig::default()
        })
        .await
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("sandbox failed to start: {e}");
                std::process::exit(1);
            }
        };
        sandbox.faults().add_rule(FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/vms/list",
            FaultKind::Latency { ms: latency_ms },
        ));
        let client = match PrismClient::new(PrismConfig {
            http: HttpConfig {
                tls: TlsPolicy::Insecure,
                no_proxy: true,
                retry: RetryPolicy::none(),
                request_timeout: Duration::from_secs(120),
                ..HttpConfig::default()
            },
            concurrency,
            ..PrismConfig::new(
                sandbox.prism_url(),
                PrismAuth::Basic {
                    username: sandbox.prism_user().to_owned(),
                    password: sandbox.prism_password().clone(),
                },
            )
        }) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("client: {e}");
                std::process::exit(1);
            }
        };
        // Log in outside the timed section.
        if let Err(e) = client.users_me().await {
            eprintln!("login failed: {e}");
            std::process::exit(1);
        }
        // Peak memory of the listing itself: reset VmHWM once the sandbox (which lives in
        // this process and holds the whole estate) is up.
        reset_hwm();
        let rss_before = status_kib("VmRSS:").unwrap_or(0);
        let mut times = Vec::new();
        let mut count = 0;
        for _ in 0..runs {
            let started = Instant::now();
            match client.list_vms(None).await {
                Ok(list) => count = list.len(),
                Err(e) => {
                    eprintln!("list failed: {e}");
                    std::process::exit(1);
                }
            }
            times.push(started.elapsed());
        }
        times.sort();
        // The client's share of the CPU: decoding one full page, times the page count.
        let page_body = serde_json::json!({"kind": "vm", "offset": 0, "length": page});
        let parse_ms = match client
            .request_raw(reqwest::Method::POST, "vms/list", Some(&page_body))
            .await
        {
            Ok(raw) => {
                let reps = 10;
                let started = Instant::now();
                for _ in 0..reps {
                    let parsed: Result<ListResponse<Vm>, _> = serde_json::from_slice(&raw.body);
                    if parsed.is_err() {
                        eprintln!("page did not parse");
                        std::process::exit(1);
                    }
                }
                started.elapsed().as_secs_f64() * 1000.0 / reps as f64 * count.div_ceil(page) as f64
            }
            Err(e) => {
                eprintln!("raw page failed: {e}");
                std::process::exit(1);
            }
        };
        let total_vms = count;
        let pages = total_vms.div_ceil(page);
        // First page alone, then the rest `concurrency` at a time.
        let floor_ms = (1 + (pages.saturating_sub(1)).div_ceil(concurrency)) as u64 * latency_ms;
        let plain_floor = (pages as f64 / concurrency as f64) * latency_ms as f64;
        let best = times.first().copied().unwrap_or_default();
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        println!(
            "{:>8} {:>6} {:>10} {:>10.1} {:>10.1} {:>8.2} {:>9.1} {:>12.1} {:>12.1}",
            total_vms,
            pages,
            format!("{plain_floor:.0}/{floor_ms}"),
            best.as_secs_f64() * 1000.0,
            median.as_secs_f64() * 1000.0,
            best.as_secs_f64() * 1000.0 / plain_floor.max(1.0),
            parse_ms,
            rss_before as f64 / 1024.0,
            vm_hwm_kib().unwrap_or(0) as f64 / 1024.0
        );
        sandbox.shutdown().await;
    }
    println!(
        "floor_ms = (pages / concurrency) * latency / with the first page alone: (1 + ceil((pages-1)/concurrency)) * latency"
    );
    println!(
        "parse_ms = client-side JSON decoding of all pages (single-threaded), measured separately\nrss_pre_mib = resident memory before listing (includes the in-process sandbox and its estate); vm_hwm_mib = peak while listing"
    );
}
