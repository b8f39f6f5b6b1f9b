//! Nutanix Prism Central v3 client for Capstan.
//!
//! - Auth: Basic once on `GET /users/me`, then only the session cookie; on a 401 the
//!   cookie is dropped, the client logs in again once and retries once. Or `X-ntnx-api-key`.
//! - Inventory: clusters (PE vs PC by `service_list`), subnets, images, VMs, hosts,
//!   categories (flat envelope), projects, tasks; `GET /prism_central`.
//! - Lists: [`PrismClient::list_all`] pages correctly when the server caps the page size,
//!   with bounded concurrency after the first page.
//! - Errors: [`PrismError`] with stable codes, from the v3 envelope (string `details`,
//!   non-JSON 401 bodies) or the shared transport.
//! - [`Fiql`] filters, plus the client-side exact name re-check CAPX does.

pub mod client;
pub mod error;
pub mod fiql;
pub mod model;

pub use capstan_http::{HttpConfig, RetryPolicy, TlsPolicy, TransportError};
pub use client::{
    DEFAULT_PORT, MAX_PAGE_SIZE, PrismAuth, PrismClient, PrismConfig, ProductInfo, ProductKind,
};
pub use error::PrismError;
pub use fiql::{Fiql, NameMatch, exact_name_matches};
pub use model::*;
