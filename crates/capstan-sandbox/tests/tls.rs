//! HTTPS with the generated self-signed certificate (no IP SANs, like a real PC).

mod common;

use std::net::SocketAddr;

use base64::Engine;
use capstan_sandbox::SandboxConfig;
use common::start_with;
use sha2::{Digest, Sha256};

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn self_signed_certificate_can_be_trusted_or_pinned() {
    let sb = start_with(SandboxConfig {
        vms: 10,
        ..SandboxConfig::default()
    })
    .await;
    assert!(sb.palette_url().starts_with("https://127.0.0.1:"));
    assert!(sb.prism_url().starts_with("https://127.0.0.1:"));
    let pem = sb.certificate_pem().expect("tls on").to_owned();
    let cert = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();

    // The SHA-256 pin is over the DER inside the PEM.
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(
        sb.certificate_sha256().unwrap(),
        hex::encode(Sha256::digest(&der))
    );

    // Trusting the PEM and connecting by host name works.
    let port = port_of(&sb.prism_url());
    let trusting = reqwest::Client::builder()
        .tls_certs_only([cert.clone()])
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    let r = trusting
        .get(format!("https://localhost:{port}/api/nutanix/v3/users/me"))
        .basic_auth(sb.prism_user(), Some(sb.prism_password().expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );

    // By IP the same trust fails: the certificate has no IP SANs.
    let by_ip = reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .unwrap();
    assert!(
        by_ip
            .get(format!("{}/__sandbox/info", sb.prism_url()))
            .send()
            .await
            .is_err()
    );

    // Without trust it fails (unknown issuer); skipping verification works (CAPX insecure: true).
    let default = reqwest::Client::new();
    assert!(
        default
            .get(format!("{}/__sandbox/info", sb.palette_url()))
            .send()
            .await
            .is_err()
    );
    let insecure = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let r = insecure
        .get(format!("{}/v1/users/info", sb.palette_url()))
        .header("ApiKey", sb.palette_api_key().expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sb.shutdown().await;
}
