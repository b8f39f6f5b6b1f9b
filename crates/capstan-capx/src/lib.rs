//! CAPX (Cluster API provider for Nutanix) templates for Palette, without Tauri.
//!
//! * [`split`]: upstream `cluster-template.yaml` → Palette's three templates, patched as the
//!   Palette docs prescribe, with a change report for the UI diff.
//! * [`validate`]: what Palette would reject before upload.
//! * [`templates`]: Capstan's own known-good templates per supported CAPX line.
//! * [`components`]: `infrastructure-components.yaml` identity/version check and download address.
//! * [`macros`]: `${VAR}` listing and substitution.
//! * [`render`]: typed choices → cluster/pool YAML, and pool YAML → choices.
//! * [`sizes`]: quantities and CAPX size minimums.
//! * [`day2`]: machine-template bumps (the mandatory NMT rename).

pub mod components;
pub mod day2;
pub mod error;
pub mod macros;
pub mod render;
pub mod sizes;
pub mod split;
pub mod templates;
pub mod validate;
pub mod yaml;

pub use error::CapxError;
