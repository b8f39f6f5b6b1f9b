//! Reads the certificate a server presents without trusting it, so the setup UI can show
//! who it claims to be and offer to pin it.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use x509_parser::prelude::*;

use crate::error::TransportError;
use crate::tls::{AcceptAnyVerifier, fingerprint_sha256, provider};

/// What the UI shows about a presented certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses from the subjectAltName extension.
    pub sans: Vec<String>,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// Lower-case hex, no separators: the value to pin.
    pub sha256: String,
    pub self_signed: bool,
    /// The certificate itself, PEM-encoded (to save as a CA bundle if the user wants).
    pub pem: String,
}

impl CertificateInfo {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for name in &ext.value.general_names {
                match name {
                    GeneralName::DNSName(d) => sans.push((*d).to_owned()),
                    GeneralName::IPAddress(bytes) => sans.push(ip_text(bytes)),
                    _ => {}
                }
            }
        }
        let rfc3339 = |t: &ASN1Time| {
            t.to_datetime()
                .format(&::time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| t.to_string())
        };
        Ok(Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            sans,
            not_before: rfc3339(&cert.validity().not_before),
            not_after: rfc3339(&cert.validity().not_after),
            sha256: fingerprint_sha256(der),
            self_signed: cert.subject() == cert.issuer(),
            pem: pem_encode(der),
        })
    }

    /// The fingerprint in the colon-separated upper-case form browsers show.
    pub fn sha256_colons(&self) -> String {
        self.sha256
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(":")
    }
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex::encode(bytes),
    }
}

fn pem_encode(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Connects to `host:port` WITHOUT verifying anything and returns the presented leaf
/// certificate's details. `host` may be a name or an IP address (IPv6 with or without
/// brackets).
pub async fn probe_certificate(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<CertificateInfo, TransportError> {
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Setup {
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyVerifier {
            provider: provider(),
        }))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let server_name =
        ServerName::try_from(bare.clone()).map_err(|e| TransportError::InvalidUrl {
            url: host.to_owned(),
            reason: e.to_string(),
        })?;

    let work = async {
        let tcp = TcpStream::connect((bare.as_str(), port))
            .await
            .map_err(|e| {
                if e.to_string().contains("lookup") {
                    TransportError::Dns { host: bare.clone() }
                } else {
                    TransportError::Connect {
                        host: format!("{bare}:{port}"),
                        reason: e.to_string(),
                    }
                }
            })?;
        let tls = connector.connect(server_name, tcp).await.map_err(|e| {
            TransportError::TlsHandshake {
                host: format!("{bare}:{port}"),
                reason: e.to_string(),
            }
        })?;
        let (_, conn) = tls.get_ref();
        let leaf = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or_else(|| TransportError::TlsHandshake {
                host: format!("{bare}:{port}"),
                reason: "the server presented no certificate".to_owned(),
            })?;
        CertificateInfo::from_der(leaf.as_ref()).map_err(|reason| TransportError::TlsHandshake {
            host: format!("{bare}:{port}"),
            reason: format!("the presented certificate could not be parsed: {reason}"),
        })
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(TransportError::Timeout {
            host: format!("{bare}:{port}"),
            phase: "connect",
        }),
    }
}
