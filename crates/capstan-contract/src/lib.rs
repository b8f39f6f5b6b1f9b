//! Contract checks for Capstan: every request the clients send and every response the sandbox
//! returns in the test suite is checked against the official Swagger 2.0 specs in
//! `../shared/specs` (by operation), apart from the documented real-world deviations in
//! [`deviations`] (mirrored in `DEVIATIONS.md` beside this crate's `Cargo.toml`).
//!
//! Used as a dev-dependency only:
//!
//! ```no_run
//! # fn test() {
//! use capstan_contract::{BodyRef, Service, specs_or_skip};
//! // Returns from the test, with a loud banner on stderr, when the specs are absent
//! // (a user's own clone); fails instead when CAPSTAN_REQUIRE_SPECS=1.
//! let specs = specs_or_skip!();
//! let body = serde_json::json!({"userUid": "u1", "tenantUid": "t1", "orgName": "acme"});
//! specs
//!     .validate_response(Service::Palette, "GET", "/v1/users/info", 200, &body)
//!     .expect("matches v1UserInfo");
//! // The detailed form also checks content types and reports the deviations it needed.
//! let outcome = specs.check_request(
//!     Service::Palette,
//!     "PUT",
//!     "/v1/clouds/cloudTypes/nutanix/content/templates/clusterTemplate",
//!     None,
//!     Some("multipart/form-data; boundary=x"),
//!     BodyRef::Other { len: Some(1234) },
//! );
//! assert!(outcome.is_ok(), "{:?}", outcome.violations);
//! # }
//! ```
//!
//! Whole scenarios: record exchanges (the sandbox does with `record_exchanges: true`), convert
//! them to [`RecordedExchange`] and call [`Specs::validate_exchanges`]; the [`Report`] groups
//! failures per operation and measures coverage of the operations Capstan uses
//! ([`used_operations`]). `tests/sandbox_contract.rs` is the worked example.
//!
//! Where the specs are: `$CAPSTAN_SPECS_DIR`, else `<workspace root>/../shared/specs`. They are
//! read and parsed once per process.

mod check;
pub mod deviations;
mod error;
mod exchange;
mod schema;
mod service;
mod spec;
mod specs;
mod used;
mod violation;

pub use check::{BodyRef, OperationId, Outcome};
pub use deviations::{DEVIATIONS, Deviation, OperationKey};
pub use error::ContractError;
pub use exchange::{ExchangeOutcome, Failure, Payload, RecordedExchange, Report};
pub use service::Service;
pub use spec::{Lookup, Operation, ServiceSpec};
pub use specs::{
    REQUIRE_SPECS_ENV, SPECS_DIR_ENV, Specs, SpecsLoad, announce_skip, locate, specs_required,
};
pub use used::{PALETTE_USED, PRISM_USED, used_operations};
pub use violation::{JsonType, Part, Violation};
