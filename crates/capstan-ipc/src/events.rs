//! Backend → UI events. The name is what the UI subscribes to; the payload type is fixed.

use crate::inventory::SyncEvent;
use crate::types::{ActivityEvent, Status};

pub trait Event {
    const NAME: &'static str;
    type Payload: serde::Serialize + ts_rs::TS;
}

macro_rules! events {
    ($( $(#[$doc:meta])* $ty:ident = $name:literal => $payload:ty ;)*) => {
        $( $(#[$doc])* pub struct $ty; impl Event for $ty { const NAME: &'static str = $name; type Payload = $payload; } )*

        /// `(event name, payload type name)` for every event, in declaration order.
        pub fn all() -> Vec<(&'static str, String)> {
            vec![$( ($name, <$payload as ts_rs::TS>::name(&ts_rs::Config::default())) ),*]
        }
    };
}

events! {
    /// A new Activity entry was recorded.
    ActivityRecorded = "capstan://activity" => ActivityEvent;
    /// The active environment or its health changed.
    StatusChanged = "capstan://status" => Status;
    /// Inventory sync progress; `completed` means the cache changed and views should reload.
    SyncProgressed = "capstan://sync" => SyncEvent;
}
