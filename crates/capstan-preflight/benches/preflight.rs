//! Deploy preflight and placement pickers against large sandbox estates (plain bench binary,
//! `harness = false`): both read every VM in Prism Central, so their time grows with the
//! estate. Prints, per size, the placement read (subnets, images, VIP suggestions) and the
//! full 13-check preflight: best and median wall time, and the slowest check.
//!
//! Run: `cargo bench -p capstan-preflight --bench preflight`
//! Knobs (env): `CAPSTAN_BENCH_SIZES=2000,10000,25000`, `CAPSTAN_BENCH_LATENCY_MS=20`
//! (added to every Prism list call, as a WAN would), `CAPSTAN_BENCH_RUNS=3`.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use capstan_capx::render::{BootType, NameOrUuid};
use capstan_capx::sizes::Quantity;
use capstan_diagnose::CapxLine;
use capstan_preflight::{PoolInput, PreflightInput, PreflightOptions};
use capstan_prism::{HttpConfig, PrismAuth, PrismClient, PrismConfig, RetryPolicy, TlsPolicy};
use capstan_sandbox::{FaultKind, FaultRule, FaultService, SandboxConfig};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pool(replicas: u32) -> PoolInput {
    PoolInput {
        name: None,
        replicas,
        vcpu_sockets: 2,
        vcpus_per_socket: 2,
        memory: Quantity::gib(8),
        system_disk: Quantity::gib(40),
        boot_type: BootType::Legacy,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    (ms(times[0]), ms(times[times.len() / 2]))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` runs a small smoke version.
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = std::env::var("CAPSTAN_BENCH_SIZES")
        .unwrap_or_else(|_| (if full { "2000,10000,25000" } else { "300" }).to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let latency_ms: u64 = env_or("CAPSTAN_BENCH_LATENCY_MS", 20);
    let runs: usize = env_or("CAPSTAN_BENCH_RUNS", if full { 3 } else { 1 });
    println!("preflight: latency {latency_ms} ms per Prism list call, {runs} runs per size");
    println!(
        "{:>7} {:>17} {:>19} {:>19} {:>28}",
        "vms", "placement_best_ms", "placement_median_ms", "preflight_median_ms", "slowest_check"
    );
    for vms in sizes {
        let sandbox = capstan_sandbox::start(SandboxConfig {
            vms,
            tls: false,
            seed: 7,
            ..SandboxConfig::default()
        })
        .await
        .unwrap_or_else(|e| panic!("sandbox failed to start: {e}"));
        sandbox.faults().add_rule(FaultRule::new(
            FaultService::Prism,
            "/api/nutanix/v3/*/list",
            FaultKind::Latency { ms: latency_ms },
        ));
        let prism = PrismClient::new(PrismConfig {
            http: HttpConfig {
                tls: TlsPolicy::Insecure,
                no_proxy: true,
                retry: RetryPolicy::none(),
                request_timeout: Duration::from_secs(120),
                ..HttpConfig::default()
            },
            ..PrismConfig::new(
                sandbox.prism_url(),
                PrismAuth::Basic {
                    username: sandbox.prism_user().to_owned(),
                    password: sandbox.prism_password().clone(),
                },
            )
        })
        .expect("client");
        prism.users_me().await.expect("login");
        let pes = capstan_preflight::pickers::prism_elements(&prism)
            .await
            .expect("PEs");
        let pe = &pes[0];
        // The node subnet (untimed), so the timed reads suggest VIPs in it.
        let subnet_uuid = capstan_preflight::pickers::placement(&prism, &pe.uuid, None, None)
            .await
            .expect("placement")
            .subnets
            .into_iter()
            .find(|s| s.cidr.is_some() && s.name.ends_with("vlan110"))
            .expect("an IPAM subnet")
            .uuid;

        let mut placement_times = Vec::new();
        let mut placement = None;
        for _ in 0..runs {
            let started = Instant::now();
            placement = Some(
                capstan_preflight::pickers::placement(
                    &prism,
                    &pe.uuid,
                    Some("1.30.5"),
                    Some(&subnet_uuid),
                )
                .await
                .expect("placement"),
            );
            placement_times.push(started.elapsed());
        }
        let placement = placement.expect("one run");
        let subnet = placement
            .subnets
            .iter()
            .find(|s| s.uuid == subnet_uuid)
            .expect("the node subnet");
        let vip: Ipv4Addr = placement
            .vip_candidates
            .first()
            .expect("a free VIP")
            .parse()
            .expect("an address");
        let input = PreflightInput {
            prism_central_address: sandbox.prism_url(),
            capx_line: CapxLine::V1_5,
            prism_element: NameOrUuid::name(&pe.name).expect("name"),
            subnets: vec![NameOrUuid::name(&subnet.name).expect("name")],
            image: NameOrUuid::name("capx-ubuntu-2204-kube-v1.30.5").expect("name"),
            control_plane_endpoint: vip,
            kubernetes_version: "v1.30.5".into(),
            control_plane: pool(3),
            worker_pools: vec![pool(3)],
            pod_cidr: "172.20.0.0/16".into(),
            service_cidr: "172.19.0.0/16".into(),
        };
        let mut preflight_times = Vec::new();
        let mut slowest = String::new();
        for _ in 0..runs {
            let started = Instant::now();
            let report = capstan_preflight::run(&input, &prism, &PreflightOptions::default()).await;
            preflight_times.push(started.elapsed());
            assert!(report.can_deploy, "{}", report.summary);
            if let Some(c) = report.checks.iter().max_by_key(|c| c.elapsed_ms) {
                slowest = format!("{:?} {} ms", c.id, c.elapsed_ms);
            }
        }
        let (p_best, p_median) = summary(placement_times);
        let (_, f_median) = summary(preflight_times);
        println!("{vms:>7} {p_best:>17.0} {p_median:>19.0} {f_median:>19.0} {slowest:>28}");
        sandbox.shutdown().await;
    }
}
