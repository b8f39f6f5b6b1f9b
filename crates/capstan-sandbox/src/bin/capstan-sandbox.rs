//! `capstan-sandbox`: runs the Palette + Prism Central emulator until Ctrl-C.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use capstan_sandbox::{FaultConfig, FaultRule, RateLimit, SandboxConfig};
use clap::Parser;

/// A stateful emulator of the Spectro Cloud Palette API and the Nutanix Prism Central v3
/// API. Once listening it prints CAPSTAN_SANDBOX_* lines (URLs and credentials), one per
/// line, and runs until Ctrl-C.
#[derive(Parser, Debug)]
#[command(name = "capstan-sandbox", version)]
struct Args {
    /// Serve plain HTTP instead of HTTPS with a self-signed certificate (no IP SANs).
    #[arg(long)]
    http: bool,
    /// Estate size in VMs; clusters, subnets, images and hosts scale in proportion.
    #[arg(long, default_value_t = 60)]
    vms: usize,
    /// Seed for the estate, the credentials and the fault RNG (same seed, same estate).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Lifecycle speed: 1.0 = demo speed (a cluster takes about two minutes), 0.01 = about a second.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Palette port (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    palette_port: u16,
    /// Prism Central port (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    prism_port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// A fault rule, repeatable: SERVICE:METHOD:PATH:KIND[:PROBABILITY[:COUNT]].
    /// SERVICE is palette, prism or *; METHOD an HTTP method or *; PATH a glob (* matches
    /// anything); KIND one of 429, 500, 503, drop (close without a response), drop-response
    /// (serve the request, then close without its response), slow (trickle
    /// the body), malformed (truncated JSON), expire (reject the session/token with 401) or
    /// latency=MS. PROBABILITY is 0..1 (default 1); COUNT limits how often it fires.
    /// Example: --fault prism:POST:/api/nutanix/v3/vms/list:429:0.2
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<String>,
    /// Rate-limit Palette callers to this many requests per second (burst: half of it), answering 429.
    #[arg(long, value_name = "RPS")]
    palette_rate_limit: Option<f64>,
    /// Rate-limit Prism callers to this many requests per second (burst: half of it), answering 429.
    #[arg(long, value_name = "RPS")]
    prism_rate_limit: Option<f64>,
    /// Prism session cookie lifetime in demo seconds (default 900 = 15 minutes).
    #[arg(long)]
    prism_session_ttl: Option<f64>,
    /// Answer bad Prism credentials with an empty 401 body instead of the JSON envelope.
    #[arg(long)]
    prism_401_empty_body: bool,
    /// Keep the sandbox's world in this JSON file across restarts: loaded at start when it
    /// was saved with the same --seed and --vms (anything else is moved aside to
    /// <file>.broken), saved about once a second after changes and on Ctrl-C.
    #[arg(long, value_name = "PATH")]
    state_file: Option<PathBuf>,
    /// Record request/response pairs (only useful to the library API; kept for parity).
    #[arg(long, hide = true)]
    record: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let args = Args::parse();
    let mut rules = Vec::new();
    for spec in &args.faults {
        match FaultRule::parse(spec) {
            Ok(r) => rules.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let config = SandboxConfig {
        seed: args.seed,
        vms: args.vms,
        time_scale: args.time_scale,
        bind: args.bind,
        palette_port: args.palette_port,
        prism_port: args.prism_port,
        tls: !args.http,
        faults: FaultConfig {
            rules,
            prism_session_ttl_secs: args.prism_session_ttl,
            palette_token_ttl_secs: None,
            prism_401_empty_body: args.prism_401_empty_body,
            latency_ms: args.latency_ms,
            prism_rate_limit: args.prism_rate_limit.map(RateLimit::per_second),
            palette_rate_limit: args.palette_rate_limit.map(RateLimit::per_second),
        },
        record_exchanges: args.record,
        state_file: args.state_file,
    };
    let sandbox = match capstan_sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            return ExitCode::from(1);
        }
    };
    println!("CAPSTAN_SANDBOX_PALETTE_URL={}", sandbox.palette_url());
    println!("CAPSTAN_SANDBOX_PRISM_URL={}", sandbox.prism_url());
    println!("CAPSTAN_SANDBOX_PRISM_USER={}", sandbox.prism_user());
    println!(
        "CAPSTAN_SANDBOX_PRISM_PASSWORD={}",
        sandbox.prism_password().expose()
    );
    println!(
        "CAPSTAN_SANDBOX_PALETTE_API_KEY={}",
        sandbox.palette_api_key().expose()
    );
    if let Some(sha) = sandbox.certificate_sha256() {
        eprintln!("TLS certificate SHA-256: {sha}");
    }
    if let Some(path) = sandbox.state_file() {
        let how = if sandbox.is_restored() {
            "restored from"
        } else {
            "will be saved to"
        };
        eprintln!("State {how} {}", path.display());
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
