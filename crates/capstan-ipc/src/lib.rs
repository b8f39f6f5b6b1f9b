//! The IPC contract between the web UI and the Rust backend.
//!
//! Everything that crosses the boundary is declared here and nowhere else:
//! - [`commands`]: every command, with its request and response type, in one table;
//! - [`types`]: the DTOs those commands and events carry ([`inventory`]: cache, sync, topology);
//! - [`events`]: backend → UI push events;
//! - [`error`]: the `{code, message, details?}` envelope every failure becomes.
//!
//! The TypeScript side (`ui/src/lib/bindings/`) is generated from these types by
//! `cargo test -p capstan-ipc` with `CAPSTAN_UPDATE_BINDINGS=1`; without it the same test
//! fails when the committed bindings are stale.

pub mod commands;
pub mod deploy;
pub mod diagnosis;
pub mod error;
pub mod events;
pub mod inventory;
pub mod preflight;
pub mod profile;
pub mod setup;
pub mod types;
pub mod typescript;
pub mod workflow;

pub use commands::Command;
pub use error::{ErrorCode, IpcError};
