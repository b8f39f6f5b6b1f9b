//! How a client decides to trust a server certificate.
//!
//! Prism Central ships a self-signed certificate without IP SANs, so "system trust" fails
//! for most on-prem users. The policies below are the choices the setup UI offers, from
//! safest to least safe.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

use crate::error::TransportError;

/// The trust decision for one endpoint.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TlsPolicy {
    /// The operating system's trust store (rustls-platform-verifier).
    #[default]
    System,
    /// The system roots plus the CA certificates in this PEM bundle.
    CaBundle { pem: String },
    /// Exactly the leaf certificate with this SHA-256 fingerprint, whatever its issuer or
    /// names. Hex, upper or lower case, colons allowed.
    Pinned { sha256_hex: String },
    /// No verification at all. An explicit per-endpoint choice for labs.
    Insecure,
}

impl fmt::Debug for TlsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("System"),
            Self::CaBundle { pem } => write!(f, "CaBundle({} bytes)", pem.len()),
            Self::Pinned { sha256_hex } => write!(f, "Pinned({sha256_hex})"),
            Self::Insecure => f.write_str("Insecure"),
        }
    }
}

impl TlsPolicy {
    pub fn code(&self) -> &'static str {
        match self {
            Self::System => "system",
            Self::CaBundle { .. } => "ca_bundle",
            Self::Pinned { .. } => "pinned",
            Self::Insecure => "insecure",
        }
    }
}

/// Normalises a fingerprint to 64 lower-case hex digits.
pub fn normalize_fingerprint(input: &str) -> Result<String, TransportError> {
    let cleaned: String = input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    let cleaned = cleaned
        .strip_prefix("sha256")
        .map(|s| s.trim_start_matches('='))
        .unwrap_or(&cleaned)
        .to_owned();
    if cleaned.len() == 64 && cleaned.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(cleaned)
    } else {
        Err(TransportError::InvalidPin {
            value: input.trim().to_owned(),
        })
    }
}

/// SHA-256 of a DER certificate, lower-case hex.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Parses a PEM bundle into DER certificates, rejecting text that holds none.
pub fn parse_ca_bundle(pem: &str) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    if pem.trim().is_empty() {
        return Err(TransportError::InvalidCaBundle {
            reason: "it is empty".to_owned(),
        });
    }
    let mut reader = std::io::BufReader::new(pem.as_bytes());
    let mut certs = Vec::new();
    for item in rustls_pemfile::certs(&mut reader) {
        let cert = item.map_err(|e| TransportError::InvalidCaBundle {
            reason: format!("a PEM block could not be decoded ({e})"),
        })?;
        // Reject base64 that decodes but is not an X.509 certificate.
        if let Err(e) = x509_parser::parse_x509_certificate(cert.as_ref()) {
            return Err(TransportError::InvalidCaBundle {
                reason: format!("certificate {} is not valid X.509 ({e})", certs.len() + 1),
            });
        }
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(TransportError::InvalidCaBundle {
            reason: "it contains no PEM certificate".to_owned(),
        });
    }
    Ok(certs)
}

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the rustls configuration for a policy. `label` names the endpoint in the
/// one-time insecure warning.
pub fn client_config(
    policy: &TlsPolicy,
    label: &str,
) -> Result<rustls::ClientConfig, TransportError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Setup {
            reason: e.to_string(),
        })?;
    let verifier: Arc<dyn ServerCertVerifier> = match policy {
        TlsPolicy::System => Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| {
                TransportError::Setup {
                    reason: format!("system trust store: {e}"),
                }
            })?,
        ),
        TlsPolicy::CaBundle { pem } => {
            let extra = parse_ca_bundle(pem)?;
            Arc::new(
                rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                    .map_err(|e| TransportError::InvalidCaBundle {
                    reason: e.to_string(),
                })?,
            )
        }
        TlsPolicy::Pinned { sha256_hex } => Arc::new(PinnedVerifier {
            expected: normalize_fingerprint(sha256_hex)?,
            provider: provider.clone(),
        }),
        TlsPolicy::Insecure => {
            warn_insecure_once(label);
            Arc::new(AcceptAnyVerifier {
                provider: provider.clone(),
            })
        }
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn warn_insecure_once(label: &str) {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let set = WARNED.get_or_init(|| Mutex::new(HashSet::new()));
    let first = match set.lock() {
        Ok(mut s) => s.insert(label.to_owned()),
        Err(_) => true,
    };
    if first {
        tracing::warn!(
            endpoint = label,
            "TLS verification is switched off for this endpoint; anyone on the network path can read and change the traffic"
        );
    }
}

/// Carried inside `rustls::CertificateError::Other` so the classifier can report both
/// fingerprints.
#[derive(Debug)]
pub struct PinMismatch {
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pinned fingerprint mismatch: expected {}, got {}",
            self.expected, self.actual
        )
    }
}

impl std::error::Error for PinMismatch {}

/// Accepts exactly one leaf certificate (by SHA-256), ignoring CA and host name. The
/// handshake signature is still checked against that certificate's key, so a server that
/// merely replays the certificate cannot complete the handshake.
#[derive(Debug)]
struct PinnedVerifier {
    expected: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let actual = fingerprint_sha256(end_entity.as_ref());
        if constant_time_eq(actual.as_bytes(), self.expected.as_bytes()) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Other(rustls::OtherError(Arc::new(PinMismatch {
                    expected: self.expected.clone(),
                    actual,
                }))),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Accepts any certificate. Used for `Insecure` and for [`crate::probe_certificate`].
#[derive(Debug)]
pub(crate) struct AcceptAnyVerifier {
    pub(crate) provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_normalise_from_common_notations() {
        let hex64 = "AB".repeat(32);
        let colons = hex64
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(normalize_fingerprint(&colons).unwrap(), "ab".repeat(32));
        assert_eq!(
            normalize_fingerprint(&format!("SHA256={hex64}")).unwrap(),
            "ab".repeat(32)
        );
        let err = normalize_fingerprint("abcd").unwrap_err();
        assert_eq!(err.code(), "invalid_pin");
    }

    #[test]
    fn ca_bundle_that_is_not_pem_is_rejected_clearly() {
        for bad in [
            "",
            "hello",
            "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
        ] {
            let err = parse_ca_bundle(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_ca_bundle", "{bad:?}");
            assert!(err.to_string().contains("PEM"), "{err}");
        }
        let err = client_config(&TlsPolicy::CaBundle { pem: "junk".into() }, "t").unwrap_err();
        assert_eq!(err.code(), "invalid_ca_bundle");
    }

    #[test]
    fn debug_of_a_bundle_does_not_dump_it() {
        let p = TlsPolicy::CaBundle {
            pem: "x".repeat(500),
        };
        assert_eq!(format!("{p:?}"), "CaBundle(500 bytes)");
    }
}
