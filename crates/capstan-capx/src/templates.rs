//! Capstan's own known-good Palette templates, one set per supported CAPX line.
//! Written from the documented fields and variables (palette-api.md §2, prism-capx.md §4-6),
//! and checked in tests against what splitting each upstream release template yields.

use serde::Serialize;

use crate::components::{check_version, minor_of};
use crate::error::CapxError;
use crate::split::PaletteTemplates;

/// A CAPX release line with its own template shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CapxLine {
    /// CAPX 1.5.x: Prism v3 API, CAPI v1beta1, kube-vip v0.8.2. The line Palette's docs use.
    #[serde(rename = "v1.5")]
    V1_5,
    /// CAPX 1.8.x and 1.9.x: Prism v4 API (PC 7.3+), CAPI v1beta1, kube-vip v0.9.2.
    #[serde(rename = "v1.8")]
    V1_8,
    /// CAPX 1.10.x: as 1.8, with CAPI v1beta2 KubeadmControlPlane/KubeadmConfigTemplate.
    #[serde(rename = "v1.10")]
    V1_10,
}

impl CapxLine {
    pub const ALL: [CapxLine; 3] = [CapxLine::V1_5, CapxLine::V1_8, CapxLine::V1_10];

    /// The folder name under `templates/`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_5 => "v1.5",
            Self::V1_8 => "v1.8",
            Self::V1_10 => "v1.10",
        }
    }

    /// The newest release of the line Capstan was checked against.
    pub fn reference_release(self) -> &'static str {
        match self {
            Self::V1_5 => "v1.5.4",
            Self::V1_8 => "v1.8.6",
            Self::V1_10 => "v1.10.3",
        }
    }

    /// The line a CAPX release version belongs to.
    pub fn for_version(version: &str) -> Result<Self, CapxError> {
        check_version(version)?;
        match minor_of(version)? {
            (1, 5) => Ok(Self::V1_5),
            (1, 8 | 9) => Ok(Self::V1_8),
            (1, 10) => Ok(Self::V1_10),
            _ => Err(CapxError::UnsupportedLine {
                version: version.to_owned(),
                supported: "1.5.x, 1.8.x, 1.9.x, 1.10.x".into(),
            }),
        }
    }

    /// The shipped templates of this line.
    pub fn templates(self) -> PaletteTemplates {
        let (cluster, cp, worker) = match self {
            Self::V1_5 => (
                include_str!("../templates/v1.5/cloudClusterTemplate.yaml"),
                include_str!("../templates/v1.5/controlPlanePoolTemplate.yaml"),
                include_str!("../templates/v1.5/workerPoolTemplate.yaml"),
            ),
            Self::V1_8 => (
                include_str!("../templates/v1.8/cloudClusterTemplate.yaml"),
                include_str!("../templates/v1.8/controlPlanePoolTemplate.yaml"),
                include_str!("../templates/v1.8/workerPoolTemplate.yaml"),
            ),
            Self::V1_10 => (
                include_str!("../templates/v1.10/cloudClusterTemplate.yaml"),
                include_str!("../templates/v1.10/controlPlanePoolTemplate.yaml"),
                include_str!("../templates/v1.10/workerPoolTemplate.yaml"),
            ),
        };
        PaletteTemplates {
            cloud_cluster: cluster.to_owned(),
            control_plane_pool: cp.to_owned(),
            worker_pool: worker.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate_templates;

    #[test]
    fn every_shipped_line_passes_palette_validation() {
        for line in CapxLine::ALL {
            let problems = validate_templates(&line.templates());
            assert!(problems.is_empty(), "{}: {problems:#?}", line.as_str());
        }
    }

    #[test]
    fn versions_map_to_lines() {
        assert_eq!(CapxLine::for_version("v1.5.0"), Ok(CapxLine::V1_5));
        assert_eq!(CapxLine::for_version("v1.9.2"), Ok(CapxLine::V1_8));
        assert_eq!(CapxLine::for_version("v1.10.3"), Ok(CapxLine::V1_10));
        assert_eq!(
            CapxLine::for_version("v1.6.1").map_err(|e| e.code()),
            Err("unsupported_capx_line")
        );
        assert_eq!(
            CapxLine::for_version("1.5").map_err(|e| e.code()),
            Err("invalid_capx_version")
        );
    }
}
