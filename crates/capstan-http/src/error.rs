//! Transport error classification shared by the Palette and Prism clients.
//!
//! reqwest wraps hyper, which wraps io and rustls errors; the useful fact (refused, DNS,
//! unknown issuer, wrong host name) sits several `source()` levels down. [`classify`] walks
//! that chain once so every client reports the same stable codes.

use std::error::Error as StdError;
use std::io;

use crate::probe::CertificateInfo;

/// A failure below HTTP: the request never produced a response we could read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("the address \"{url}\" is not valid: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error(
        "the host name \"{host}\" could not be resolved; check the spelling of the address and the DNS settings of this computer"
    )]
    Dns { host: String },
    #[error(
        "could not connect to {host}: {reason}; check that the address and port are right, that the service is running and that no firewall blocks it"
    )]
    Connect { host: String, reason: String },
    #[error(
        "{host} did not answer in time ({phase}); the service may be overloaded or a firewall may be dropping traffic, try again or raise the timeout"
    )]
    Timeout { host: String, phase: &'static str },
    #[error(
        "the connection to {host} was closed before a complete response arrived; if this was a change request, check whether it was applied before retrying"
    )]
    ConnectionDropped { host: String },
    #[error(
        "the certificate presented by {host} is not trusted ({reason}); trust it by pinning its fingerprint, add the CA that signed it as a CA bundle, or (for labs only) allow insecure connections"
    )]
    TlsUntrusted {
        host: String,
        reason: String,
        certificate: Option<Box<CertificateInfo>>,
    },
    #[error(
        "the certificate presented by {host} is not valid for that name ({reason}); connect with a name the certificate lists, or pin the certificate's fingerprint"
    )]
    TlsHostname { host: String, reason: String },
    #[error(
        "the certificate presented by {host} has fingerprint {actual} but the pinned fingerprint is {expected}; if the certificate was renewed on purpose, pin the new one, otherwise do not connect"
    )]
    TlsPinMismatch {
        host: String,
        expected: String,
        actual: String,
    },
    #[error(
        "the certificate presented by {host} has expired or is not yet valid ({reason}); renew it on the server"
    )]
    TlsExpired { host: String, reason: String },
    #[error("the TLS handshake with {host} failed: {reason}")]
    TlsHandshake { host: String, reason: String },
    #[error(
        "the CA bundle is not usable: {reason}; paste one or more PEM certificates (-----BEGIN CERTIFICATE-----)"
    )]
    InvalidCaBundle { reason: String },
    #[error(
        "the pinned fingerprint \"{value}\" is not a SHA-256 fingerprint; expected 64 hexadecimal characters (colons allowed)"
    )]
    InvalidPin { value: String },
    #[error(
        "the proxy could not be used: {reason}; check the proxy address, HTTPS_PROXY/NO_PROXY and that the proxy allows the destination"
    )]
    Proxy { reason: String },
    #[error(
        "{host} answered with something that is not valid HTTP: {reason}; check that the address points at the right service and port"
    )]
    Protocol { host: String, reason: String },
    #[error("the HTTP client could not be set up: {reason}")]
    Setup { reason: String },
    #[error("the request to {host} failed: {reason}")]
    Other { host: String, reason: String },
}

impl TransportError {
    /// Stable snake_case code for UIs, logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "invalid_url",
            Self::Dns { .. } => "dns",
            Self::Connect { .. } => "connect",
            Self::Timeout { .. } => "timeout",
            Self::ConnectionDropped { .. } => "connection_dropped",
            Self::TlsUntrusted { .. } => "tls_untrusted",
            Self::TlsHostname { .. } => "tls_hostname",
            Self::TlsPinMismatch { .. } => "tls_pin_mismatch",
            Self::TlsExpired { .. } => "tls_expired",
            Self::TlsHandshake { .. } => "tls_handshake",
            Self::InvalidCaBundle { .. } => "invalid_ca_bundle",
            Self::InvalidPin { .. } => "invalid_pin",
            Self::Proxy { .. } => "proxy",
            Self::Protocol { .. } => "protocol",
            Self::Setup { .. } => "setup",
            Self::Other { .. } => "transport",
        }
    }

    /// True when the request certainly never reached the server (nothing was sent), so
    /// even a create may be re-sent without risking a duplicate.
    pub fn request_not_sent(&self) -> bool {
        matches!(
            self,
            Self::Dns { .. }
                | Self::Connect { .. }
                | Self::TlsUntrusted { .. }
                | Self::TlsHostname { .. }
                | Self::TlsPinMismatch { .. }
                | Self::TlsExpired { .. }
                | Self::TlsHandshake { .. }
                | Self::InvalidUrl { .. }
                | Self::InvalidCaBundle { .. }
                | Self::InvalidPin { .. }
                | Self::Setup { .. }
                | Self::Proxy { .. }
        ) || matches!(self, Self::Timeout { phase, .. } if *phase == "connect")
    }

    /// True for failures a later attempt can plausibly fix (the server may be back).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. } | Self::Timeout { .. } | Self::ConnectionDropped { .. }
        )
    }

    /// The certificate details attached to a `tls_untrusted` error, if any.
    pub fn certificate(&self) -> Option<&CertificateInfo> {
        match self {
            Self::TlsUntrusted { certificate, .. } => certificate.as_deref(),
            _ => None,
        }
    }
}

/// Maps a reqwest error to a [`TransportError`] by walking its `source()` chain.
pub fn classify(err: &reqwest::Error, host: &str) -> TransportError {
    let host = host.to_owned();
    if err.is_builder() {
        return TransportError::InvalidUrl {
            url: err
                .url()
                .map(|u| u.to_string())
                .unwrap_or_else(|| host.clone()),
            reason: detail(err),
        };
    }

    // TLS first: a rustls error anywhere in the chain decides the category.
    if let Some(tls) = find_in_chain::<rustls::Error>(err) {
        return classify_tls(tls, host);
    }

    let text = detail(err).to_ascii_lowercase();
    if text.contains("pinned fingerprint mismatch") {
        return TransportError::TlsHandshake {
            host,
            reason: detail(err),
        };
    }
    if err.is_timeout() || find_io_kind(err) == Some(io::ErrorKind::TimedOut) {
        let phase = if err.is_connect() {
            "connect"
        } else {
            "response"
        };
        return TransportError::Timeout { host, phase };
    }
    if err.is_connect() {
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return TransportError::Dns { host };
        }
        if text.contains("proxy") || text.contains("tunnel") {
            return TransportError::Proxy {
                reason: detail(err),
            };
        }
        let reason = match find_io_kind(err) {
            Some(io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
            Some(io::ErrorKind::HostUnreachable) => "host unreachable".to_owned(),
            Some(io::ErrorKind::NetworkUnreachable) => "network unreachable".to_owned(),
            Some(io::ErrorKind::ConnectionReset) | Some(io::ErrorKind::UnexpectedEof) => {
                // A reset during connect (often the TLS handshake) means nothing was sent.
                "connection reset during connect".to_owned()
            }
            _ => innermost_text(err),
        };
        return TransportError::Connect { host, reason };
    }
    if matches!(
        find_io_kind(err),
        Some(io::ErrorKind::ConnectionReset)
            | Some(io::ErrorKind::ConnectionAborted)
            | Some(io::ErrorKind::UnexpectedEof)
            | Some(io::ErrorKind::BrokenPipe)
    ) || text.contains("connection closed before message completed")
        || text.contains("incomplete message")
        || text.contains("end of file before message length reached")
        || text.contains("connection reset")
    {
        return TransportError::ConnectionDropped { host };
    }
    if text.contains("invalid http")
        || text.contains("invalid status")
        || text.contains("parse")
        || text.contains("invalid header")
        || text.contains("received http/0.9")
        || text.contains("frame with invalid size")
    {
        return TransportError::Protocol {
            host,
            reason: detail(err),
        };
    }
    if err.is_body() || err.is_decode() {
        return TransportError::ConnectionDropped { host };
    }
    TransportError::Other {
        host,
        reason: detail(err),
    }
}

fn classify_tls(tls: &rustls::Error, host: String) -> TransportError {
    use rustls::CertificateError as CE;
    match tls {
        rustls::Error::InvalidCertificate(ce) => match ce {
            CE::NotValidForName | CE::NotValidForNameContext { .. } => {
                TransportError::TlsHostname {
                    host,
                    reason: ce_text(ce),
                }
            }
            CE::Expired
            | CE::ExpiredContext { .. }
            | CE::NotValidYet
            | CE::NotValidYetContext { .. } => TransportError::TlsExpired {
                host,
                reason: ce_text(ce),
            },
            CE::Other(other) => {
                if let Some(pin) = other.0.downcast_ref::<crate::tls::PinMismatch>() {
                    TransportError::TlsPinMismatch {
                        host,
                        expected: pin.expected.clone(),
                        actual: pin.actual.clone(),
                    }
                } else {
                    TransportError::TlsUntrusted {
                        host,
                        reason: other.to_string(),
                        certificate: None,
                    }
                }
            }
            _ => TransportError::TlsUntrusted {
                host,
                reason: ce_text(ce),
                certificate: None,
            },
        },
        other => TransportError::TlsHandshake {
            host,
            reason: other.to_string(),
        },
    }
}

fn ce_text(ce: &rustls::CertificateError) -> String {
    use rustls::CertificateError as CE;
    match ce {
        CE::UnknownIssuer => {
            "it is self-signed or signed by an unknown certificate authority".to_owned()
        }
        CE::NotValidForName => "the host name is not among the certificate's names".to_owned(),
        CE::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "expected {expected:?}, the certificate lists {}",
            if presented.is_empty() {
                "no names".to_owned()
            } else {
                presented.join(", ")
            }
        ),
        other => format!("{other:?}"),
    }
}

fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        // rustls errors reach us wrapped in io::Error(Other, io::Error(InvalidData,
        // rustls::Error)); io::Error::source() skips the wrapped error itself.
        if let Some(ioe) = e.downcast_ref::<io::Error>()
            && let Some(inner) = ioe.get_ref()
        {
            let inner: &(dyn StdError + 'static) = inner;
            if let Some(found) = find_in_chain::<T>(inner) {
                return Some(found);
            }
        }
        cur = e.source();
    }
    None
}

fn find_io_kind(err: &(dyn StdError + 'static)) -> Option<io::ErrorKind> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    let mut found = None;
    while let Some(e) = cur {
        if let Some(ioe) = e.downcast_ref::<io::Error>() {
            found = Some(ioe.kind());
            if let Some(inner) = ioe.get_ref() {
                let inner: &(dyn StdError + 'static) = inner;
                if let Some(k) = find_io_kind(inner) {
                    found = Some(k);
                }
            }
        }
        cur = e.source();
    }
    found
}

/// The chain below reqwest's own error, whose text repeats the URL: URLs can carry
/// tokens (Palette's `/v1/auth/refresh/{token}`), and error texts reach logs and the UI.
fn detail(err: &reqwest::Error) -> String {
    match err.source() {
        Some(src) => chain_text(src),
        None => {
            let mut e = String::new();
            for (flag, word) in [
                (err.is_timeout(), "timed out"),
                (err.is_connect(), "connection failed"),
                (err.is_body(), "body error"),
                (err.is_decode(), "decode error"),
                (err.is_redirect(), "redirect error"),
                (err.is_builder(), "invalid request"),
            ] {
                if flag {
                    e = word.to_owned();
                    break;
                }
            }
            if e.is_empty() {
                "request failed".to_owned()
            } else {
                e
            }
        }
    }
}

/// The whole chain as one line, outermost first, without repeating identical texts.
pub fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let t = e.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = e.source();
    }
    parts.join(": ")
}

fn innermost_text(err: &(dyn StdError + 'static)) -> String {
    let mut cur: &(dyn StdError + 'static) = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_messages_say_what_to_do() {
        let e = TransportError::Dns {
            host: "pc.example".into(),
        };
        assert_eq!(e.code(), "dns");
        assert!(e.to_string().contains("check the spelling"));
        assert!(e.request_not_sent());
        let e = TransportError::ConnectionDropped { host: "h".into() };
        assert!(!e.request_not_sent());
        assert!(e.is_transient());
        let e = TransportError::Timeout {
            host: "h".into(),
            phase: "connect",
        };
        assert!(e.request_not_sent());
        let e = TransportError::Timeout {
            host: "h".into(),
            phase: "response",
        };
        assert!(!e.request_not_sent());
    }
}
