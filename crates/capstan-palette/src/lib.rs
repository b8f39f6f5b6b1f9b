//! Spectro Cloud Palette API client for Capstan's Nutanix custom-cloud workflow.
//!
//! - Auth: `ApiKey` header, or a JWT in `Authorization` (no `Bearer`) from
//!   `/v1/auth/authenticate` or `/v1/auth/syslogin`, refreshed before expiry and once on a 401.
//! - Scope: [`Scope::Tenant`] or [`Scope::Project`] (the `ProjectUid` header).
//! - Lists: `continue`-token pagination behind [`PaletteClient::list_stream`] /
//!   [`PaletteClient::list_all`].
//! - Errors: [`PaletteError`] with stable codes, keeping Palette's own `code` and `ref`.
//! - Retries through capstan-http for idempotent calls; creates are never re-sent blindly:
//!   an ambiguous failure is resolved by checking whether the object exists first.

pub mod api;
pub mod client;
pub mod error;
pub mod model;

pub use api::{KubeconfigKind, decode_kubeconfig, set_replicas};
pub use capstan_http::{HttpConfig, RetryPolicy, TlsPolicy, TransportError};
pub use client::{PaletteAuth, PaletteClient, PaletteConfig, Scope};
pub use error::{ApiErrorKind, PaletteError};
pub use model::*;
