//! The transport steps both services share: address, DNS, TCP, TLS and "does it speak HTTP".

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use capstan_common::Endpoint;
use capstan_http::{
    CertificateInfo, HttpClient, HttpConfig, HttpResponse, Idempotency, RetryPolicy, TlsPolicy,
    TransportError, probe_certificate,
};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::model::{Recorder, Step, StepData, StepKind, certificate_data};

/// Time limits for one diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnoseOptions {
    pub dns_timeout: Duration,
    /// Per TCP connect (and per TLS handshake).
    pub connect_timeout: Duration,
    /// Per HTTP request, including reading the body.
    pub request_timeout: Duration,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        Self {
            dns_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// What the address step produced for the later steps.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub endpoint: Endpoint,
    /// Host without IPv6 brackets, for sockets and TLS server names.
    pub bare_host: String,
    pub ip: Option<IpAddr>,
}

impl Target {
    pub fn https(&self) -> bool {
        self.endpoint.scheme == "https"
    }
}

pub(crate) fn bare(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned()
}

/// Parses what the user typed. `port_field` is the separate port input, if the form has
/// one; a port inside the address wins over it (and is reported).
pub(crate) fn address_step(
    input: &str,
    port_field: Option<u16>,
    default_port: u16,
    what: &str,
) -> Result<(Target, Step), Box<Step>> {
    let trimmed = input.trim();
    if port_field == Some(0) {
        return Err(Box::new(
            Step::fail(
                StepKind::Address,
                "address_bad_port",
                "Port 0 is not a valid port",
            )
            .detail("The port must be between 1 and 65535.")
            .fix(format!(
                "Enter the port {what} listens on (usually {default_port})."
            )),
        ));
    }
    let endpoint = match Endpoint::parse(trimmed, port_field.unwrap_or(default_port)) {
        Ok(e) => e,
        Err(e) => {
            let port_problem = trimmed.rsplit_once(':').is_some_and(|(_, p)| {
                let p = p.trim_end_matches('/');
                !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_err()
            });
            let (code, fix) = match (&e, port_problem) {
                (_, true) => (
                    "address_bad_port",
                    format!("Ports go from 1 to 65535; {what} usually listens on {default_port}."),
                ),
                (capstan_common::EndpointError::Empty, _) => (
                    "address_empty",
                    format!("Enter the host name or IP address of {what}."),
                ),
                (capstan_common::EndpointError::UnsupportedScheme(_), _) => (
                    "address_bad_scheme",
                    "Enter the address as a host name or IP address, or with https://.".to_owned(),
                ),
                _ => (
                    "address_invalid",
                    format!(
                        "Enter only the host name or IP address of {what} (for example pc.example.com or 10.0.0.5), optionally with :port."
                    ),
                ),
            };
            return Err(Box::new(
                Step::fail(StepKind::Address, code, "The address is not valid")
                    .detail(e.to_string())
                    .fix(fix),
            ));
        }
    };
    if endpoint.port == 0 {
        return Err(Box::new(
            Step::fail(
                StepKind::Address,
                "address_bad_port",
                "Port 0 is not a valid port",
            )
            .detail(format!("\"{trimmed}\" names port 0."))
            .fix(format!(
                "Use the port {what} listens on (usually {default_port})."
            )),
        ));
    }
    let bare_host = bare(&endpoint.host);
    let ip = bare_host.parse::<IpAddr>().ok();

    let mut notes = Vec::new();
    if trimmed.contains("://") {
        notes.push(format!(
            "the scheme {}:// is used as given, the host and port are kept separately",
            endpoint.scheme
        ));
    }
    let after_scheme = trimmed.split_once("://").map(|(_, r)| r).unwrap_or(trimmed);
    let path = after_scheme
        .find(['/', '?', '#'])
        .map(|i| &after_scheme[i..])
        .unwrap_or("");
    let has_path = !path.trim_matches('/').is_empty();
    if has_path {
        notes.push(format!(
            "the path \"{path}\" was dropped (only the host and port are used)"
        ));
    }
    let explicit_port = has_explicit_port(after_scheme);
    if let (Some(field), true) = (port_field, explicit_port)
        && field != endpoint.port
    {
        notes.push(format!(
            "the address names port {} which is used instead of the port field ({field})",
            endpoint.port
        ));
    }
    let data = StepData::Address {
        normalized: endpoint.base_url(),
        scheme: endpoint.scheme.clone(),
        host: endpoint.host.clone(),
        port: endpoint.port,
        ip_literal: ip.is_some(),
    };
    let step = if has_path || notes.iter().any(|n| n.contains("port field")) {
        Step::warn(
            StepKind::Address,
            "address_normalized",
            format!("Using {} (the address was cleaned up)", endpoint.base_url()),
        )
        .detail(format!("From \"{trimmed}\": {}.", notes.join("; ")))
        .fix("Enter just the host name or IP address (and the port, if not the default).")
    } else {
        let mut s = Step::pass(
            StepKind::Address,
            "address_ok",
            format!("Using {}", endpoint.base_url()),
        );
        if !notes.is_empty() {
            s = s.detail(format!("From \"{trimmed}\": {}.", notes.join("; ")));
        }
        s
    }
    .data(data);
    Ok((
        Target {
            endpoint,
            bare_host,
            ip,
        },
        step,
    ))
}

fn has_explicit_port(after_scheme: &str) -> bool {
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        rest.split_once(']')
            .is_some_and(|(_, after)| after.starts_with(':'))
    } else {
        authority.contains(':')
    }
}

/// Resolves `host`; an IP literal passes without a lookup.
pub(crate) async fn dns_step(
    host: &str,
    port: u16,
    role: &str,
    timeout: Duration,
) -> (Step, Vec<SocketAddr>) {
    if let Ok(ip) = host.parse::<IpAddr>() {
        let addr = SocketAddr::new(ip, port);
        return (
            Step::pass(
                StepKind::Dns,
                "dns_not_needed",
                format!("{host} is an IP address; no name lookup needed"),
            )
            .data(StepData::Resolved {
                host: host.to_owned(),
                addresses: vec![ip.to_string()],
            }),
            vec![addr],
        );
    }
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(addrs)) => {
            let mut addrs: Vec<SocketAddr> = addrs.collect();
            addrs.dedup();
            if addrs.is_empty() {
                return (dns_not_found(host, role, "the lookup returned no addresses"), addrs);
            }
            let ips: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            (
                Step::pass(
                    StepKind::Dns,
                    "dns_ok",
                    format!("{host} resolves to {}", ips.join(", ")),
                )
                .data(StepData::Resolved {
                    host: host.to_owned(),
                    addresses: ips,
                }),
                addrs,
            )
        }
        Ok(Err(e)) => (dns_not_found(host, role, &e.to_string()), Vec::new()),
        Err(_) => (
            Step::fail(
                StepKind::Dns,
                "dns_timeout",
                format!("Looking up {host} took longer than {} s", timeout.as_secs_f32()),
            )
            .detail(format!(
                "The DNS server did not answer for the {role} name \"{host}\" in time."
            ))
            .fix("Check this computer's DNS settings and network (VPN?), or enter the IP address instead."),
            Vec::new(),
        ),
    }
}

fn dns_not_found(host: &str, role: &str, why: &str) -> Step {
    Step::fail(
        StepKind::Dns,
        "dns_not_found",
        format!("The name {host} could not be resolved"),
    )
    .detail(format!(
        "The {role} host name \"{host}\" is unknown to this computer's DNS ({why})."
    ))
    .fix(
        "Check the spelling of the host name. If it is an internal name, make sure this computer uses the company DNS (VPN connected?), or enter the IP address instead.",
    )
}

/// Connects to each address in turn, stopping at the first that accepts.
pub(crate) async fn tcp_step(
    addrs: &[SocketAddr],
    role: &str,
    timeout: Duration,
) -> (Step, Option<SocketAddr>) {
    let mut failures: Vec<(SocketAddr, TcpFailure)> = Vec::new();
    for addr in addrs {
        let started = Instant::now();
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(_stream)) => {
                let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                let mut step = Step::pass(
                    StepKind::Tcp,
                    "tcp_ok",
                    format!("{addr} accepts connections"),
                )
                .data(StepData::Connected {
                    address: addr.to_string(),
                    millis,
                });
                if !failures.is_empty() {
                    step = step.detail(format!(
                        "Other addresses failed first: {}.",
                        failures
                            .iter()
                            .map(|(a, f)| format!("{a} {}", f.text()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                return (step, Some(*addr));
            }
            Ok(Err(e)) => failures.push((*addr, TcpFailure::from_io(&e))),
            Err(_) => failures.push((*addr, TcpFailure::TimedOut)),
        }
    }
    let Some((addr, first)) = failures.first().cloned() else {
        return (
            Step::fail(StepKind::Tcp, "tcp_no_address", "No address to connect to"),
            None,
        );
    };
    // One message for the most telling failure: refused beats unreachable beats timeout.
    let worst = failures
        .iter()
        .map(|(_, f)| f.clone())
        .min_by_key(TcpFailure::rank)
        .unwrap_or(first);
    let all = failures
        .iter()
        .map(|(a, f)| format!("{a}: {}", f.text()))
        .collect::<Vec<_>>()
        .join("; ");
    let port = addr.port();
    let step = match worst {
        TcpFailure::Refused => Step::fail(
            StepKind::Tcp,
            "tcp_refused",
            format!("Connection refused on port {port}"),
        )
        .detail(format!(
            "The host answered but nothing listens on port {port} ({all}). The host is up; the port is wrong or the {role} service is stopped."
        ))
        .fix(if role == "proxy" {
            "Check the proxy address and port, and that the proxy is running.".to_owned()
        } else {
            format!(
                "Check the port (Prism Central uses 9440, Palette 443) and that the {role} service is running."
            )
        }),
        TcpFailure::TimedOut => Step::fail(
            StepKind::Tcp,
            "tcp_timeout",
            format!("No answer from port {port} within {} s", timeout.as_secs_f32()),
        )
        .detail(format!(
            "Connecting timed out ({all}): the host is down, the address is wrong, or a firewall silently drops the traffic."
        ))
        .fix(format!(
            "Check the address, that the {role} host is up, and that firewalls between this computer and it allow port {port}. If you need a proxy, set it."
        )),
        TcpFailure::Unreachable(what) => Step::fail(
            StepKind::Tcp,
            "tcp_unreachable",
            format!("The {what} is unreachable"),
        )
        .detail(format!(
            "This computer has no route to the address ({all})."
        ))
        .fix("Check this computer's network connection (VPN connected?) and the address; a proxy may be required."),
        TcpFailure::Other(text) => Step::fail(
            StepKind::Tcp,
            "tcp_failed",
            format!("Could not connect to port {port}"),
        )
        .detail(format!("{text} ({all})."))
        .fix("Check the address, the port and the network."),
    };
    (step, None)
}

#[derive(Debug, Clone)]
enum TcpFailure {
    Refused,
    TimedOut,
    Unreachable(&'static str),
    Other(String),
}

impl TcpFailure {
    fn from_io(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => Self::Refused,
            io::ErrorKind::TimedOut => Self::TimedOut,
            io::ErrorKind::HostUnreachable => Self::Unreachable("host"),
            io::ErrorKind::NetworkUnreachable => Self::Unreachable("network"),
            _ => Self::Other(e.to_string()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Refused => 0,
            Self::Unreachable(_) => 1,
            Self::TimedOut => 2,
            Self::Other(_) => 3,
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Refused => "refused".to_owned(),
            Self::TimedOut => "timed out".to_owned(),
            Self::Unreachable(w) => format!("{w} unreachable"),
            Self::Other(t) => t.clone(),
        }
    }
}

/// Why a TLS check failed, in the terms the explanation needs.
#[derive(Debug)]
pub(crate) enum TlsProblem {
    Policy(TransportError),
    Pin {
        expected: String,
        actual: String,
    },
    Name,
    Expired,
    NotYetValid,
    UnknownIssuer,
    OtherCertificate(String),
    /// The handshake itself failed (not a certificate verdict).
    Handshake(String),
    Timeout,
    Io(String),
}

/// Handshakes with `addr` under `policy`.
pub(crate) async fn handshake(
    target: &Target,
    addr: SocketAddr,
    policy: &TlsPolicy,
    label: &str,
    timeout: Duration,
) -> Result<(), TlsProblem> {
    let config = capstan_http::tls::client_config(policy, label).map_err(TlsProblem::Policy)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from(target.bare_host.clone())
        .map_err(|e| TlsProblem::Handshake(format!("invalid server name: {e}")))?;
    let work = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| TlsProblem::Io(e.to_string()))?;
        connector
            .connect(name, tcp)
            .await
            .map(|_| ())
            .map_err(|e| classify_tls_io(&e))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(TlsProblem::Timeout),
    }
}

fn classify_tls_io(e: &io::Error) -> TlsProblem {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(tls) => classify_rustls(tls),
        None => match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => TlsProblem::Handshake(
                format!("the server closed the connection during the handshake ({e})"),
            ),
            _ => TlsProblem::Io(e.to_string()),
        },
    }
}

pub(crate) fn classify_rustls(tls: &rustls::Error) -> TlsProblem {
    use rustls::CertificateError as CE;
    match tls {
        rustls::Error::InvalidCertificate(ce) => match ce {
            CE::NotValidForName | CE::NotValidForNameContext { .. } => TlsProblem::Name,
            CE::Expired | CE::ExpiredContext { .. } => TlsProblem::Expired,
            CE::NotValidYet | CE::NotValidYetContext { .. } => TlsProblem::NotYetValid,
            CE::UnknownIssuer => TlsProblem::UnknownIssuer,
            CE::Other(other) => match other.0.downcast_ref::<capstan_http::tls::PinMismatch>() {
                Some(pin) => TlsProblem::Pin {
                    expected: pin.expected.clone(),
                    actual: pin.actual.clone(),
                },
                None => TlsProblem::OtherCertificate(other.to_string()),
            },
            other => TlsProblem::OtherCertificate(format!("{other:?}")),
        },
        other => TlsProblem::Handshake(other.to_string()),
    }
}

/// Whether the port answers a plain HTTP request (to explain a failed TLS handshake).
pub(crate) async fn speaks_plain_http(addr: SocketAddr, host: &str, timeout: Duration) -> bool {
    let work = async {
        let mut tcp = TcpStream::connect(addr).await.ok()?;
        let req = format!("GET / HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        tcp.write_all(req.as_bytes()).await.ok()?;
        let mut buf = [0u8; 5];
        tcp.read_exact(&mut buf).await.ok()?;
        Some(&buf == b"HTTP/")
    };
    matches!(tokio::time::timeout(timeout, work).await, Ok(Some(true)))
}

/// Explains a TLS failure with the certificate's details and the fix, safest first.
pub(crate) fn explain_tls(
    problem: &TlsProblem,
    target: &Target,
    policy: &TlsPolicy,
    cert: Option<&CertificateInfo>,
    role: &str,
) -> Step {
    let host = &target.bare_host;
    let port = target.endpoint.port;
    let by_ip = target.ip.is_some();
    let ip_listed = cert.is_some_and(|c| c.sans.iter().any(|s| s == host));
    let dns_names: Vec<&str> = cert
        .map(|c| {
            c.sans
                .iter()
                .filter(|s| s.parse::<IpAddr>().is_err())
                .map(String::as_str)
                .collect()
        })
        .unwrap_or_default();
    let names_text = if dns_names.is_empty() {
        "no host names".to_owned()
    } else {
        dns_names.join(", ")
    };
    let cert_text = cert
        .map(|c| {
            format!(
                " Presented certificate: subject \"{}\", issuer \"{}\"{}, names [{}], valid {} to {}, SHA-256 {}.",
                c.subject,
                c.issuer,
                if c.self_signed { " (self-signed)" } else { "" },
                c.sans.join(", "),
                c.not_before,
                c.not_after,
                c.sha256_colons()
            )
        })
        .unwrap_or_default();
    let pin_fix = cert
        .map(|c| {
            format!(
                "Pin this certificate (\"Trust this certificate\"): SHA-256 {}; compare it with the fingerprint shown in {role}'s own certificate settings before trusting it.",
                c.sha256_colons()
            )
        })
        .unwrap_or_else(|| {
            "Pin the server's certificate fingerprint (\"Trust this certificate\").".to_owned()
        });
    let use_name_fix = if by_ip && !dns_names.is_empty() {
        format!(
            " Or connect by a host name the certificate lists ({names_text}) if it resolves to this server."
        )
    } else {
        String::new()
    };
    let lab_note = " Switching verification off (insecure) is for throwaway labs only.";
    let ip_san_note = if by_ip && cert.is_some() && !ip_listed {
        format!(
            " The certificate also does not list the IP address {host} (no IP SAN), so even a trusted CA would not make a connection by IP valid."
        )
    } else {
        String::new()
    };
    let with_cert = |s: Step| match cert {
        Some(c) => s.data(StepData::Certificate(certificate_data(c))),
        None => s,
    };

    let step = match problem {
        TlsProblem::Policy(e) => {
            let code = match e.code() {
                "invalid_pin" => "tls_invalid_pin",
                "invalid_ca_bundle" => "tls_invalid_ca_bundle",
                _ => "tls_setup_failed",
            };
            Step::fail(StepKind::Tls, code, "The chosen trust setting cannot be used")
                .detail(e.to_string())
                .fix("Re-enter the fingerprint (64 hex characters) or paste the CA bundle as PEM.")
        }
        TlsProblem::Pin { expected, actual } => Step::fail(
            StepKind::Tls,
            "tls_pin_mismatch",
            "The certificate is not the one you pinned",
        )
        .detail(format!(
            "Pinned SHA-256 {expected}, but {host}:{port} presents {actual}.{cert_text}"
        ))
        .fix(format!(
            "If {role}'s certificate was replaced on purpose (ask its administrator), pin the new fingerprint {actual}. Otherwise do not connect: something else may be answering at this address."
        )),
        TlsProblem::UnknownIssuer => {
            let self_signed = cert.is_some_and(|c| c.self_signed);
            let (code, title, what) = if self_signed {
                (
                    "tls_self_signed",
                    "The certificate is self-signed",
                    format!(
                        "{host}:{port} presents a self-signed certificate, which this computer cannot verify (Prism Central ships with one)."
                    ),
                )
            } else {
                (
                    "tls_unknown_ca",
                    "The certificate's issuer is not trusted",
                    format!(
                        "{host}:{port} presents a certificate signed by \"{}\", a certificate authority this computer does not trust.",
                        cert.map(|c| c.issuer.as_str()).unwrap_or("an unknown issuer")
                    ),
                )
            };
            let bundle_fix = if self_signed {
                " Or provide a CA bundle containing this certificate (its PEM is shown)".to_owned()
            } else {
                " Or provide the CA bundle (PEM) of the issuing CA, from your PKI team".to_owned()
            };
            let bundle_fix = if by_ip && !ip_listed {
                format!("{bundle_fix}, and connect by a name the certificate lists ({names_text}).")
            } else {
                format!("{bundle_fix}.")
            };
            Step::fail(StepKind::Tls, code, title)
                .detail(format!(
                    "{what}{ip_san_note} Trust setting: {}.{cert_text}",
                    policy.code()
                ))
                .fix(format!("{pin_fix}{bundle_fix}{lab_note}"))
        }
        TlsProblem::Name if by_ip => Step::fail(
            StepKind::Tls,
            "tls_no_ip_san",
            format!("The certificate does not list the IP address {host}"),
        )
        .detail(format!(
            "You connect by IP address, but the certificate names only {names_text} (no IP SAN), so it is not valid for {host}.{cert_text}"
        ))
        .fix(format!(
            "Use one of the host names in the certificate ({names_text}) as the address, if it resolves to this server. Or pin the certificate instead: {pin_fix} Or install a certificate on {role} that lists {host}."
        )),
        TlsProblem::Name => Step::fail(
            StepKind::Tls,
            "tls_hostname_mismatch",
            format!("The certificate is not valid for {host}"),
        )
        .detail(format!(
            "The certificate names {names_text}, not {host}.{cert_text}"
        ))
        .fix(format!(
            "Enter the address as one of the names in the certificate ({names_text}). Or pin the certificate: {pin_fix}"
        )),
        TlsProblem::Expired | TlsProblem::NotYetValid => {
            let (code, title) = if matches!(problem, TlsProblem::Expired) {
                ("tls_expired", "The certificate has expired")
            } else {
                ("tls_not_yet_valid", "The certificate is not valid yet")
            };
            Step::fail(StepKind::Tls, code, title)
                .detail(format!(
                    "{host}:{port} presents a certificate valid from {} to {}. Check this computer's clock too.{cert_text}",
                    cert.map(|c| c.not_before.as_str()).unwrap_or("?"),
                    cert.map(|c| c.not_after.as_str()).unwrap_or("?"),
                ))
                .fix(format!(
                    "Replace the certificate on {role} (Prism Central: Settings → SSL Certificate). Until then you can pin it: {pin_fix}"
                ))
        }
        TlsProblem::OtherCertificate(why) => Step::fail(
            StepKind::Tls,
            "tls_untrusted",
            "The certificate was rejected",
        )
        .detail(format!("Verification failed: {why}.{ip_san_note}{cert_text}"))
        .fix(format!("{pin_fix}{use_name_fix}{lab_note}")),
        TlsProblem::Handshake(why) => Step::fail(
            StepKind::Tls,
            "tls_handshake_failed",
            "The TLS handshake failed",
        )
        .detail(format!("{host}:{port}: {why}."))
        .fix(format!(
            "Check that port {port} is the HTTPS port of {role} and that no proxy or firewall intercepts TLS."
        )),
        TlsProblem::Timeout => Step::fail(
            StepKind::Tls,
            "tls_timeout",
            "The TLS handshake did not finish in time",
        )
        .detail(format!(
            "{host}:{port} accepted the connection but did not complete a TLS handshake."
        ))
        .fix(format!(
            "Check that port {port} is the HTTPS port of {role}; a service that waits for the client to speak first (plain HTTP, SSH) looks like this."
        )),
        TlsProblem::Io(why) => Step::fail(
            StepKind::Tls,
            "tls_connection_failed",
            "The connection failed during the TLS handshake",
        )
        .detail(format!("{host}:{port}: {why}."))
        .fix("Try again; if it persists, check firewalls and proxies between this computer and the server."),
    };
    with_cert(step)
}

/// The HTTP client for a target: one attempt, short timeouts, the chosen trust and proxy
/// (no proxy = a direct connection, whatever the environment says, so the checks above
/// describe the path actually used).
pub(crate) fn http_client(
    policy: &TlsPolicy,
    proxy: Option<&str>,
    label: &str,
    options: &DiagnoseOptions,
) -> Result<HttpClient, TransportError> {
    HttpClient::new(http_config(policy, proxy, label, options))
}

pub(crate) fn http_config(
    policy: &TlsPolicy,
    proxy: Option<&str>,
    label: &str,
    options: &DiagnoseOptions,
) -> HttpConfig {
    HttpConfig {
        tls: policy.clone(),
        proxy: proxy.map(str::to_owned),
        no_proxy: proxy.is_none(),
        connect_timeout: options.connect_timeout,
        request_timeout: options.request_timeout,
        retry: RetryPolicy::none(),
        label: label.to_owned(),
        probe_on_tls_failure: true,
        ..HttpConfig::default()
    }
}

/// One GET with optional extra headers; any status is a successful transport outcome.
pub(crate) async fn get(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Result<HttpResponse, TransportError> {
    client
        .send(Idempotency::Idempotent, |c| {
            let mut rb = c.get(url).header(http::header::ACCEPT, "application/json");
            for (k, v) in headers {
                rb = rb.header(*k, *v);
            }
            if let Some((u, p)) = basic {
                rb = rb.basic_auth(u, Some(p));
            }
            rb
        })
        .await
}

/// The "does it speak HTTP" step from an unauthenticated probe's outcome.
pub(crate) async fn http_step(
    outcome: &Result<HttpResponse, TransportError>,
    target: &Target,
    path: &str,
    role: &str,
    options: &DiagnoseOptions,
) -> Step {
    let port = target.endpoint.port;
    match outcome {
        Ok(resp) => {
            let header = |n: &str| resp.header(n).map(str::to_owned);
            Step::pass(
                StepKind::Http,
                "http_ok",
                format!(
                    "The server answers HTTP (status {} on {path})",
                    resp.status.as_u16()
                ),
            )
            .data(StepData::Http {
                status: resp.status.as_u16(),
                server: header("server"),
                content_type: header("content-type"),
                ntnx_env: header("x-ntnx-env"),
            })
        }
        Err(e) => {
            let code = e.code();
            // Plain HTTP sent to a TLS port: the server hangs up or answers with TLS bytes.
            if !target.https() && matches!(code, "protocol" | "connection_dropped" | "timeout") {
                let tls = probe_certificate(&target.bare_host, port, options.connect_timeout).await;
                if tls.is_ok() {
                    return Step::fail(
                        StepKind::Http,
                        "http_port_expects_https",
                        format!("Port {port} expects HTTPS, not plain HTTP"),
                    )
                    .detail(format!(
                        "The address starts with http://, but {}:{port} answers with a TLS handshake.",
                        target.bare_host
                    ))
                    .fix(format!(
                        "Enter the address with https:// (https://{}:{port}).",
                        target.endpoint.host
                    ));
                }
            }
            match code {
                "timeout" => Step::fail(
                    StepKind::Http,
                    "http_timeout",
                    format!("No HTTP answer within {} s", options.request_timeout.as_secs_f32()),
                )
                .detail(e.to_string())
                .fix(format!("{role} may be overloaded or starting; try again in a minute. Check that the port is right.")),
                "protocol" | "connection_dropped" => Step::fail(
                    StepKind::Http,
                    "http_not_http",
                    format!("Port {port} does not speak HTTP"),
                )
                .detail(e.to_string())
                .fix(format!("Check the port: {role} answers HTTPS on {}.", if role == "Prism Central" { 9440 } else { 443 })),
                "proxy" => Step::fail(StepKind::Http, "http_proxy_failed", "The proxy refused or failed the request")
                    .detail(e.to_string())
                    .fix("Check the proxy address and that it allows connections to this host and port."),
                _ => Step::fail(StepKind::Http, "http_failed", "The HTTP request failed")
                    .detail(e.to_string())
                    .fix("Check the address and the network."),
            }
        }
    }
}

/// For the proxy case: turns a TLS transport error from the HTTP probe into the TLS step.
pub(crate) fn tls_problem_from_transport(e: &TransportError) -> Option<TlsProblem> {
    Some(match e {
        TransportError::TlsUntrusted { reason, .. } => {
            if reason.contains("self-signed") || reason.contains("unknown certificate authority") {
                TlsProblem::UnknownIssuer
            } else {
                TlsProblem::OtherCertificate(reason.clone())
            }
        }
        TransportError::TlsHostname { .. } => TlsProblem::Name,
        TransportError::TlsPinMismatch {
            expected, actual, ..
        } => TlsProblem::Pin {
            expected: expected.clone(),
            actual: actual.clone(),
        },
        TransportError::TlsExpired { reason, .. } => {
            if reason.contains("NotValidYet") {
                TlsProblem::NotYetValid
            } else {
                TlsProblem::Expired
            }
        }
        TransportError::TlsHandshake { reason, .. } => TlsProblem::Handshake(reason.clone()),
        TransportError::InvalidCaBundle { .. } | TransportError::InvalidPin { .. } => {
            TlsProblem::Policy(e.clone())
        }
        _ => return None,
    })
}

/// Decides whether a body is JSON (object or array).
pub(crate) fn json_body(body: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

/// A short, printable excerpt of a body for error details.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(160).collect();
    if one_line.chars().count() > 160 {
        out.push('…');
    }
    out
}

pub(crate) fn looks_like_html(resp: &HttpResponse) -> bool {
    resp.header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("text/html"))
        || {
            let start: String = String::from_utf8_lossy(&resp.body)
                .trim_start()
                .chars()
                .take(15)
                .collect::<String>()
                .to_ascii_lowercase();
            start.starts_with("<!doctype") || start.starts_with("<html")
        }
}

/// DNS, TCP, TLS and HTTP. Returns the unauthenticated probe's response, or `None` after
/// a failure.
pub(crate) async fn transport_steps(
    target: &Target,
    policy: &TlsPolicy,
    proxy: Option<&str>,
    options: &DiagnoseOptions,
    rec: &mut Recorder,
    probe_path: &str,
    role: &str,
) -> Option<HttpResponse> {
    // With a proxy, this computer only resolves and connects to the proxy.
    let (dns_host, dns_port, dns_role) = match proxy.map(proxy_endpoint) {
        Some(Ok((host, port))) => (host, port, "proxy"),
        Some(Err(step)) => {
            rec.push(*step);
            return None;
        }
        None => (target.bare_host.clone(), target.endpoint.port, role),
    };
    let (step, addrs) = dns_step(&dns_host, dns_port, dns_role, options.dns_timeout).await;
    if !rec.push(step) {
        return None;
    }
    let (mut step, connected) = tcp_step(&addrs, dns_role, options.connect_timeout).await;
    if proxy.is_some() {
        step.title = format!("Proxy: {}", step.title);
    }
    if !rec.push(step) {
        return None;
    }
    let addr = connected?;

    // Direct TLS check (through a proxy, the HTTP request below decides).
    if !target.https() {
        rec.push(
            Step::warn(StepKind::Tls, "tls_not_used", "The connection is not encrypted")
                .detail("The address starts with http://, so credentials and data would travel in clear text.")
                .fix(format!("Use https:// ({role} serves HTTPS).")),
        );
    } else if proxy.is_none() {
        match handshake(target, addr, policy, "diagnosis", options.connect_timeout).await {
            Ok(()) => {
                let mut step = Step::pass(
                    StepKind::Tls,
                    "tls_ok",
                    format!("The certificate is trusted ({})", policy.code()),
                );
                if let Ok(cert) = probe_certificate(
                    &target.bare_host,
                    target.endpoint.port,
                    options.connect_timeout,
                )
                .await
                {
                    step = step
                        .detail(format!(
                            "Subject \"{}\", issuer \"{}\", valid until {}, SHA-256 {}.",
                            cert.subject,
                            cert.issuer,
                            cert.not_after,
                            cert.sha256_colons()
                        ))
                        .data(StepData::Certificate(certificate_data(&cert)));
                }
                rec.push(step);
            }
            Err(problem) => {
                let step = match &problem {
                    TlsProblem::Handshake(_) | TlsProblem::Timeout
                        if speaks_plain_http(addr, &target.bare_host, options.connect_timeout).await =>
                    {
                        Step::fail(
                            StepKind::Tls,
                            "tls_port_speaks_http",
                            format!("Port {} serves plain HTTP, not HTTPS", target.endpoint.port),
                        )
                        .detail(format!(
                            "A TLS handshake with {}:{} failed, but the port answers plain HTTP requests.",
                            target.bare_host, target.endpoint.port
                        ))
                        .fix(format!(
                            "Check the port ({role} serves HTTPS on {}). If this server really serves plain HTTP, enter the address with http://.",
                            if role == "Prism Central" { 9440 } else { 443 }
                        ))
                    }
                    TlsProblem::Policy(_)
                    | TlsProblem::Handshake(_)
                    | TlsProblem::Timeout
                    | TlsProblem::Io(_) => explain_tls(&problem, target, policy, None, role),
                    _ => {
                        let cert = probe_certificate(&target.bare_host, target.endpoint.port, options.connect_timeout)
                            .await
                            .ok();
                        explain_tls(&problem, target, policy, cert.as_ref(), role)
                    }
                };
                rec.push(step);
                return None;
            }
        }
    }

    // Unauthenticated request: does it speak HTTP at all?
    let client = match http_client(policy, proxy, "diagnosis", options) {
        Ok(c) => c,
        Err(e) => {
            let step = match tls_problem_from_transport(&e) {
                Some(p) => explain_tls(&p, target, policy, None, role),
                None => Step::fail(
                    StepKind::Http,
                    "client_setup_failed",
                    "The HTTP client could not be set up",
                )
                .detail(e.to_string()),
            };
            rec.push(step);
            return None;
        }
    };
    let url = format!("{}{probe_path}", target.endpoint.base_url());
    let outcome = get(&client, &url, &[], None).await;
    if target.https() && proxy.is_some() {
        match outcome.as_ref().err().and_then(tls_problem_from_transport) {
            Some(p) => {
                let cert = outcome.as_ref().err().and_then(TransportError::certificate);
                rec.push(explain_tls(&p, target, policy, cert, role));
                return None;
            }
            None if outcome.is_ok() => {
                rec.push(Step::pass(
                    StepKind::Tls,
                    "tls_ok",
                    format!(
                        "The certificate is trusted ({}), checked through the proxy",
                        policy.code()
                    ),
                ));
            }
            None => rec.skip(
                StepKind::Tls,
                "tls_not_reached",
                "The request through the proxy failed before TLS could be checked.",
            ),
        }
    }
    let step = http_step(&outcome, target, probe_path, role, options).await;
    if rec.push(step) { outcome.ok() } else { None }
}

fn proxy_endpoint(proxy: &str) -> Result<(String, u16), Box<Step>> {
    let default = if proxy.trim().to_ascii_lowercase().starts_with("https://") {
        443
    } else {
        80
    };
    match capstan_common::Endpoint::parse(proxy, default) {
        Ok(e) => Ok((bare(&e.host), e.port)),
        Err(e) => Err(Box::new(
            Step::fail(
                StepKind::Dns,
                "proxy_invalid",
                "The proxy address is not valid",
            )
            .detail(e.to_string())
            .fix("Enter the proxy as http://host:port."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_urls_are_cleaned_and_reported() {
        let (t, s) = address_step(
            "https://pc.example.com:9440/console/#login",
            None,
            9440,
            "PC",
        )
        .expect("valid");
        assert_eq!(t.endpoint.base_url(), "https://pc.example.com:9440");
        assert_eq!(s.code, "address_normalized");
        assert!(s.detail.contains("/console/#login"), "{}", s.detail);

        let (t, s) = address_step("10.0.0.5", None, 9440, "PC").expect("valid");
        assert_eq!(s.code, "address_ok");
        assert!(t.ip.is_some());

        let (_, s) = address_step("pc.example.com:9441", Some(9440), 9440, "PC").expect("valid");
        assert_eq!(s.code, "address_normalized");
        assert!(s.detail.contains("9441"), "{}", s.detail);

        let (t, _) = address_step("[::1]:9440", None, 9440, "PC").expect("v6");
        assert_eq!(t.bare_host, "::1");
    }

    #[test]
    fn bad_addresses_fail_with_a_code() {
        for (input, port, code) in [
            ("", None, "address_empty"),
            ("pc:99999", None, "address_bad_port"),
            ("pc.example.com", Some(0), "address_bad_port"),
            ("ftp://pc", None, "address_bad_scheme"),
            ("https://", None, "address_invalid"),
        ] {
            let s = address_step(input, port, 9440, "PC").expect_err(input);
            assert_eq!(s.code, code, "{input}: {}", s.detail);
            assert!(!s.fix.is_empty());
        }
    }
}
