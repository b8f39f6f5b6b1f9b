//! Deploy preflight for CAPX clusters on Nutanix, without Tauri.
//!
//! [`run`] checks the deploy choices ([`PreflightInput`]: PE, subnets, image, control-plane
//! VIP, pools, Kubernetes version, pod/service CIDRs, CAPX line) against live Prism Central
//! inventory before anything is created. Every check runs concurrently under its own time
//! limit and says what it found (`detail`) and what to do (`fix`), using CAPX's own error
//! texts where CAPX would later fail the same way (prism-capx.md §7, §9). A check that
//! needs what another found (the PE's UUID, the resolved subnet) waits for it, or is
//! `skipped` with the reason. Inventory lists are read once and shared.
//!
//! The report ([`PreflightReport`]) has an overall verdict, `can_deploy` (no check failed
//! and none could not finish) and the time each check took; it serialises in camelCase.
//! README.md lists the checks and the formulas behind the capacity checks.

mod checks;
pub mod model;
pub mod net;
pub mod pickers;
mod runner;
mod vms;

use capstan_prism::PrismClient;

pub use checks::placement::kubernetes_version_in_name;
pub use model::*;

/// Runs every check and returns the report (never an error: a check that cannot finish is
/// reported as `error`, with code `timeout` when it ran out of time).
pub async fn run(
    input: &PreflightInput,
    prism: &PrismClient,
    options: &PreflightOptions,
) -> PreflightReport {
    runner::run(input, prism, options).await
}
