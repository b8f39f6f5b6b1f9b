//! Types shared by every Capstan crate. Kept tiny and dependency-light on purpose: the
//! API clients, the sandbox, the engine and the IPC layer all depend on it.

pub mod endpoint;
pub mod secret;

pub use endpoint::{Endpoint, EndpointError};
pub use secret::Secret;
