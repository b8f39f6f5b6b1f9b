//! The two APIs Capstan talks to.

use std::fmt;

/// Which official spec an exchange is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Spectro Cloud Palette (`/v1/...`, no `basePath`).
    Palette,
    /// Nutanix Prism Central v3 (`basePath` `/api/nutanix/v3`).
    Prism,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::Palette, Service::Prism];

    pub fn name(self) -> &'static str {
        match self {
            Service::Palette => "Palette",
            Service::Prism => "Prism",
        }
    }

    /// Where the spec lives below the specs directory.
    pub(crate) fn spec_file(self) -> &'static str {
        match self {
            Service::Palette => "palette/palette-apis-spec.json",
            Service::Prism => "prism/prism-central-v3-swagger.json",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
