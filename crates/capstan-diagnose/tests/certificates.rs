//! TLS explanations for certificates the sandbox does not present: expired, issued for
//! another name, signed by a private CA. Each test serves its own certificate on loopback.

mod common;

use std::sync::Arc;

use capstan_common::Secret;
use capstan_diagnose::{
    Outcome, PrismAuth, PrismTarget, StepData, StepKind, TlsPolicy, diagnose_prism,
};
use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves HTTPS with `chain` (leaf first) and answers every request with a 200 "hello".
async fn tls_server(chain: Vec<Vec<u8>>, key_der: Vec<u8>) -> u16 {
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        chain
            .into_iter()
            .map(rustls::pki_types::CertificateDer::from)
            .collect(),
        key,
    )
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

struct SelfSigned {
    port: u16,
    pem: String,
    sha256: String,
}

async fn self_signed(names: &[&str], expired: bool) -> SelfSigned {
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "test-pc.example");
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.self_signed(&key).expect("cert");
    let der = cert.der().to_vec();
    let info = capstan_http::CertificateInfo::from_der(&der).expect("parse");
    SelfSigned {
        port: tls_server(vec![der], key.serialize_der()).await,
        pem: cert.pem(),
        sha256: info.sha256,
    }
}

fn target(address: String, tls: TlsPolicy) -> PrismTarget {
    PrismTarget {
        address,
        port: None,
        auth: PrismAuth::ApiKey(Secret::new("k3y-value")),
        tls,
        proxy: None,
        requirement: None,
    }
}

#[tokio::test]
async fn an_expired_certificate_says_so_with_its_dates() {
    let server = self_signed(&["localhost"], true).await;
    let d = diagnose_prism(target(
        format!("localhost:{}", server.port),
        TlsPolicy::CaBundle { pem: server.pem },
    ))
    .await;
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_expired");
    assert!(tls.detail.contains("2021-01-01"), "{}", tls.detail);
    assert!(tls.fix.contains("Replace the certificate"), "{}", tls.fix);
    let Some(StepData::Certificate(cert)) = &tls.data else {
        panic!("certificate expected: {}", pretty(&d));
    };
    assert_eq!(cert.sha256, server.sha256);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_hostname_mismatch() {
    let server = self_signed(&["pc.other.example"], false).await;
    let d = diagnose_prism(target(
        format!("localhost:{}", server.port),
        TlsPolicy::CaBundle { pem: server.pem },
    ))
    .await;
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_hostname_mismatch");
    assert!(tls.detail.contains("pc.other.example"), "{}", tls.detail);
    assert!(tls.fix.contains("pc.other.example"), "{}", tls.fix);

    // Pinning that exact certificate is accepted whatever its names.
    let d = diagnose_prism(target(
        format!("localhost:{}", server.port),
        TlsPolicy::Pinned {
            sha256_hex: server.sha256,
        },
    ))
    .await;
    assert_step(&d, StepKind::Tls, Outcome::Pass, "tls_ok");
}

#[tokio::test]
async fn a_private_ca_is_named_and_its_bundle_fixes_it() {
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Example Corp Issuing CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).expect("leaf");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");
    let port = tls_server(
        vec![leaf.der().to_vec(), ca_cert.der().to_vec()],
        leaf_key.serialize_der(),
    )
    .await;

    let d = diagnose_prism(target(format!("localhost:{port}"), TlsPolicy::System)).await;
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_unknown_ca");
    assert!(
        tls.detail.contains("Example Corp Issuing CA"),
        "{}",
        tls.detail
    );
    assert!(tls.fix.contains("CA bundle"), "{}", tls.fix);
    let Some(StepData::Certificate(cert)) = &tls.data else {
        panic!("certificate expected: {}", pretty(&d));
    };
    assert!(!cert.self_signed);

    let d = diagnose_prism(target(
        format!("localhost:{port}"),
        TlsPolicy::CaBundle { pem: ca_cert.pem() },
    ))
    .await;
    assert_step(&d, StepKind::Tls, Outcome::Pass, "tls_ok");
    // The server answers "hello" to everything: HTTP works, but it is no Prism API.
    assert_step(&d, StepKind::Http, Outcome::Pass, "http_ok");
    assert_step(&d, StepKind::Product, Outcome::Fail, "not_nutanix_api");
}

#[tokio::test]
async fn an_unusable_pin_is_a_policy_problem() {
    let server = self_signed(&["localhost"], false).await;
    let d = diagnose_prism(target(
        format!("localhost:{}", server.port),
        TlsPolicy::Pinned {
            sha256_hex: "not-a-fingerprint".into(),
        },
    ))
    .await;
    assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_invalid_pin");
}
