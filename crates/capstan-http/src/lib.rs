//! Shared HTTPS transport for Capstan's API clients (Palette, Prism Central).
//!
//! - [`TlsPolicy`]: system trust, system + CA bundle, a pinned leaf fingerprint, or insecure.
//! - [`probe_certificate`]: the presented certificate's details, for the pin-it dialog.
//! - [`HttpClient::send`]: timeouts, proxy (environment or explicit) and retries with
//!   backoff, jitter and `Retry-After`, only where repeating is safe.
//! - [`TransportError`]: stable codes (`dns`, `connect`, `timeout`, `tls_untrusted`, ...).

pub mod client;
pub mod error;
pub mod probe;
pub mod retry;
pub mod tls;

pub use client::{CALL_TARGET, HttpClient, HttpConfig, HttpResponse};
pub use error::{TransportError, chain_text, classify};
pub use probe::{CertificateInfo, probe_certificate};
pub use retry::{Idempotency, RetryPolicy, is_retryable_status, parse_retry_after};
pub use tls::{TlsPolicy, fingerprint_sha256, normalize_fingerprint, parse_ca_bundle};
