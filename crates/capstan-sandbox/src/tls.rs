//! The self-signed certificate. Like a freshly installed Prism Central it has DNS names
//! only and no IP SANs, so a client connecting by IP fails verification unless it pins the
//! certificate or skips hostname checks; connecting as `localhost` with the PEM trusted works.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

pub(crate) struct SelfSigned {
    pub cert_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl SelfSigned {
    pub(crate) fn generate() -> Result<Self, String> {
        let mut params = rcgen::CertificateParams::new(vec![
            "localhost".to_owned(),
            "capstan-sandbox.local".to_owned(),
        ])
        .map_err(|e| e.to_string())?;
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "capstan-sandbox.local");
        dn.push(rcgen::DnType::OrganizationName, "Capstan Sandbox");
        params.distinguished_name = dn;
        let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
        Ok(Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        })
    }

    pub(crate) fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.cert_der))
    }

    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cert = rustls::pki_types::CertificateDer::from(self.cert_der.clone());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(self.key_der.clone()),
        );
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(|e| e.to_string())?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
