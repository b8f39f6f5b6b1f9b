//! The checks, grouped by what they look at.

pub(crate) mod capacity;
pub(crate) mod identity;
pub(crate) mod network;
pub(crate) mod placement;
