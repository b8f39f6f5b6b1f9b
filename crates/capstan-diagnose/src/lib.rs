//! "Test connection" for Prism Central and Palette, with a precise diagnosis.
//!
//! [`diagnose_prism`] and [`diagnose_palette`] run the checks in order (address, DNS, TCP,
//! TLS, HTTP, credentials, product, then version or projects), stop at the first hard
//! failure and record the rest as `skipped`. Every step carries a stable `code`, what was
//! found (`detail`), what to do (`fix`) and structured `data` (the presented certificate,
//! resolved IPs, the user, the PC version, the project list). A [`Diagnosis`] serialises in
//! camelCase for the UI. Secrets never appear in it: they are not written into any text,
//! and every text is scrubbed of the secret values before it is returned.
//!
//! Nothing here knows about Tauri; the IPC layer passes the result through.

pub mod model;
pub mod net;
pub mod palette;
pub mod prism;
pub mod version;

pub use capstan_http::TlsPolicy;
pub use capstan_palette::PaletteAuth;
pub use capstan_prism::PrismAuth;
pub use model::{CertificateData, Diagnosis, Outcome, Service, Step, StepData, StepKind};
pub use net::DiagnoseOptions;
pub use palette::{PaletteTarget, diagnose_palette, diagnose_palette_with};
pub use prism::{PrismTarget, diagnose_prism, diagnose_prism_with};
pub use version::{CapxLine, PcEra, PcVersion, VersionParseError, VersionRequirement};
