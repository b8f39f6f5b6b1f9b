//! Recording of request/response pairs for contract tests.

use parking_lot::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Service {
    Palette,
    Prism,
}

/// One recorded exchange. JSON bodies are parsed; other bodies are left out.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub service: Service,
    pub method: String,
    /// The request path, e.g. `/v1/spectroclusters/5f0c...`.
    pub path: String,
    /// The route template that matched, e.g. `/v1/spectroclusters/{uid}` (spec style).
    pub route: Option<String>,
    pub query: Option<String>,
    pub status: u16,
    /// The request's `Content-Type` (e.g. `multipart/form-data; boundary=...`).
    pub request_content_type: Option<String>,
    pub request_json: Option<serde_json::Value>,
    pub response_json: Option<serde_json::Value>,
    pub response_content_type: Option<String>,
}

pub(crate) struct Recorder {
    enabled: bool,
    items: Mutex<Vec<Exchange>>,
}

impl Recorder {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            items: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn push(&self, e: Exchange) {
        if self.enabled {
            self.items.lock().push(e);
        }
    }

    pub(crate) fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.items.lock())
    }
}
