//! Prism Central versions across the naming changes, and the minimum PC per CAPX line.
//!
//! PC was versioned `5.x` (up to 2021), then by calendar `pc.2021.x` … `pc.2024.3`, then
//! `7.3`, `7.5`, … (PC 7.3 followed pc.2024.3). Compared numerically, `2024.1` would sort
//! above `7.3`, so versions are compared by era first, then component by component.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The naming era of a PC version, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PcEra {
    /// `5.x` and earlier.
    Legacy,
    /// `pc.2021.x` … `pc.2024.x`.
    Calendar,
    /// `7.x` and later.
    Modern,
}

/// A parsed Prism Central version. Equality and order ignore trailing zero components
/// (`7.3` == `7.3.0`) and the `pc.` prefix.
#[derive(Debug, Clone)]
pub struct PcVersion {
    era: PcEra,
    parts: Vec<u64>,
    original: String,
}

/// Why a version string could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionParseError {
    pub input: String,
}

impl fmt::Display for VersionParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}\" is not a Prism Central version (expected e.g. pc.2024.3 or 7.5)",
            self.input
        )
    }
}

impl std::error::Error for VersionParseError {}

impl PcVersion {
    /// Reads `pc.2024.1.0.1`, `pc2024.1`, `PC.2024.3`, `7.3`, `7.5.0.1`, `5.20`.
    pub fn parse(input: &str) -> Result<Self, VersionParseError> {
        let err = || VersionParseError {
            input: input.trim().to_owned(),
        };
        let trimmed = input.trim();
        let lower = trimmed.to_ascii_lowercase();
        let body = lower
            .strip_prefix("pc.")
            .or_else(|| lower.strip_prefix("pc"))
            .unwrap_or(&lower)
            .trim_start_matches('v');
        if body.is_empty() {
            return Err(err());
        }
        let mut parts = Vec::new();
        for part in body.split('.') {
            // Build suffixes such as `7.3-rc1` or `2024.3.0.1-stable`: the number before the
            // dash decides.
            let digits = part.split(['-', '+', '_']).next().unwrap_or_default();
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            parts.push(digits.parse::<u64>().map_err(|_| err())?);
        }
        let major = parts.first().copied().ok_or_else(err)?;
        let era = if major >= 2000 {
            PcEra::Calendar
        } else if major >= 7 {
            PcEra::Modern
        } else {
            PcEra::Legacy
        };
        while parts.len() > 1 && parts.last() == Some(&0) {
            parts.pop();
        }
        Ok(Self {
            era,
            parts,
            original: trimmed.to_owned(),
        })
    }

    pub fn era(&self) -> PcEra {
        self.era
    }

    /// What was parsed, as given.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// `pc.2024.3` for calendar versions, `7.5` otherwise: how Nutanix writes them.
    pub fn canonical(&self) -> String {
        let nums = self
            .parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".");
        match self.era {
            PcEra::Calendar => format!("pc.{nums}"),
            _ => nums,
        }
    }
}

impl PartialEq for PcVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PcVersion {}

impl PartialOrd for PcVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PcVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.era.cmp(&other.era).then_with(|| {
            let n = self.parts.len().max(other.parts.len());
            (0..n)
                .map(|i| {
                    let a = self.parts.get(i).copied().unwrap_or(0);
                    let b = other.parts.get(i).copied().unwrap_or(0);
                    a.cmp(&b)
                })
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        })
    }
}

impl fmt::Display for PcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// A CAPX release line, which fixes the oldest Prism Central it supports
/// (prism-capx.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CapxLine {
    #[serde(rename = "1.5")]
    V1_5,
    #[serde(rename = "1.6")]
    V1_6,
    #[serde(rename = "1.7")]
    V1_7,
    #[serde(rename = "1.8")]
    V1_8,
    #[serde(rename = "1.9")]
    V1_9,
    #[serde(rename = "1.10")]
    V1_10,
}

impl CapxLine {
    pub const ALL: [CapxLine; 6] = [
        Self::V1_5,
        Self::V1_6,
        Self::V1_7,
        Self::V1_8,
        Self::V1_9,
        Self::V1_10,
    ];

    /// `1.7.x`
    pub fn label(self) -> &'static str {
        match self {
            Self::V1_5 => "1.5.x",
            Self::V1_6 => "1.6.x",
            Self::V1_7 => "1.7.x",
            Self::V1_8 => "1.8.x",
            Self::V1_9 => "1.9.x",
            Self::V1_10 => "1.10.x",
        }
    }

    /// The minimum Prism Central version, as Nutanix writes it.
    pub fn min_pc_text(self) -> &'static str {
        match self {
            Self::V1_5 => "pc.2024.1",
            Self::V1_6 => "pc.2024.2",
            Self::V1_7 => "pc.2024.3",
            Self::V1_8 => "7.3",
            Self::V1_9 | Self::V1_10 => "7.5",
        }
    }

    pub fn min_pc(self) -> PcVersion {
        // The table's texts are valid versions; the fallback keeps this panic-free anyway.
        PcVersion::parse(self.min_pc_text()).unwrap_or(PcVersion {
            era: PcEra::Modern,
            parts: vec![u64::MAX],
            original: self.min_pc_text().to_owned(),
        })
    }

    /// The line of a CAPX version such as `v1.7.2`, `1.10.3` or `1.8`.
    pub fn from_capx_version(version: &str) -> Option<Self> {
        let v = version.trim().trim_start_matches(['v', 'V']);
        let mut it = v.split('.');
        let major = it.next()?.parse::<u64>().ok()?;
        let minor = it.next()?.split(['-', '+']).next()?.parse::<u64>().ok()?;
        if major != 1 {
            return None;
        }
        match minor {
            5 => Some(Self::V1_5),
            6 => Some(Self::V1_6),
            7 => Some(Self::V1_7),
            8 => Some(Self::V1_8),
            9 => Some(Self::V1_9),
            10 => Some(Self::V1_10),
            _ => None,
        }
    }
}

/// What Prism Central version the workflow needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "camelCase")]
pub enum VersionRequirement {
    /// The minimum of this CAPX line (§3 table).
    CapxLine { line: CapxLine },
    /// An explicit minimum, e.g. CAREN's `7.5`.
    Minimum { version: String },
}

impl VersionRequirement {
    /// (minimum, CAPX line label) or a parse error for a bad explicit minimum.
    pub fn resolve(&self) -> Result<(PcVersion, Option<&'static str>), VersionParseError> {
        match self {
            Self::CapxLine { line } => Ok((line.min_pc(), Some(line.label()))),
            Self::Minimum { version } => Ok((PcVersion::parse(version)?, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> PcVersion {
        PcVersion::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn eras_order_before_numbers() {
        let ordered = [
            "5.17",
            "5.20.4",
            "pc.2021.9",
            "pc.2022.6.0.8",
            "pc.2023.4",
            "pc.2024.1",
            "pc.2024.1.0.1",
            "pc.2024.2",
            "pc.2024.3",
            "pc.2024.3.1.1",
            "7.3",
            "7.3.0.5",
            "7.3.1",
            "7.5",
            "7.10",
            "8.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
            assert!(v(pair[1]) > v(pair[0]), "{} > {}", pair[1], pair[0]);
        }
        // The naive numeric comparison would get this one wrong.
        assert!(v("pc.2024.3") < v("7.3"));
        assert!(v("2024.3") < v("7.3"));
    }

    #[test]
    fn trailing_zeros_prefixes_and_case_do_not_matter() {
        assert_eq!(v("7.3"), v("7.3.0"));
        assert_eq!(v("7.3"), v("7.3.0.0"));
        assert_eq!(v("pc.2024.1"), v("pc2024.1"));
        assert_eq!(v("pc.2024.1"), v("PC.2024.1.0"));
        assert_eq!(v("pc.2024.1"), v("2024.1"));
        assert_eq!(v(" 7.5 "), v("7.5"));
        assert!(v("7.3.0.1") > v("7.3"));
        assert!(v("7.3-rc1") == v("7.3"));
    }

    #[test]
    fn eras_and_canonical_forms() {
        assert_eq!(v("pc.2024.1.0.1").era(), PcEra::Calendar);
        assert_eq!(v("7.5").era(), PcEra::Modern);
        assert_eq!(v("5.20").era(), PcEra::Legacy);
        assert_eq!(v("pc2024.3.0").canonical(), "pc.2024.3");
        assert_eq!(v("7.5.0.1").canonical(), "7.5.0.1");
        assert_eq!(v("pc.2024.1.0.1").to_string(), "pc.2024.1.0.1");
    }

    #[test]
    fn garbage_is_rejected_not_guessed() {
        for bad in [
            "",
            "pc.",
            "master",
            "7.x",
            "abc",
            "7..3",
            "pc.2024.1a",
            "-1",
        ] {
            let e = PcVersion::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("not a Prism Central version"), "{e}");
        }
    }

    #[test]
    fn capx_table_minimums() {
        let cases = [
            (CapxLine::V1_5, "pc.2024.1.0.1", true),
            (CapxLine::V1_5, "pc.2023.4", false),
            (CapxLine::V1_6, "pc.2024.1.0.1", false),
            (CapxLine::V1_6, "pc.2024.2", true),
            (CapxLine::V1_7, "pc.2024.3.1.1", true),
            (CapxLine::V1_7, "pc.2024.2.0.5", false),
            (CapxLine::V1_7, "7.3", true),
            (CapxLine::V1_8, "pc.2024.3.1.1", false),
            (CapxLine::V1_8, "7.3", true),
            (CapxLine::V1_9, "7.3.1", false),
            (CapxLine::V1_9, "7.5", true),
            (CapxLine::V1_10, "7.5.0.1", true),
            (CapxLine::V1_10, "pc.2024.3", false),
        ];
        for (line, found, ok) in cases {
            assert_eq!(
                v(found) >= line.min_pc(),
                ok,
                "{found} vs CAPX {}",
                line.label()
            );
        }
        // Minimums never go down from one line to the next.
        for pair in CapxLine::ALL.windows(2) {
            assert!(pair[0].min_pc() <= pair[1].min_pc());
        }
    }

    #[test]
    fn capx_versions_map_to_lines() {
        assert_eq!(CapxLine::from_capx_version("v1.7.2"), Some(CapxLine::V1_7));
        assert_eq!(CapxLine::from_capx_version("1.10.3"), Some(CapxLine::V1_10));
        assert_eq!(CapxLine::from_capx_version("1.8"), Some(CapxLine::V1_8));
        assert_eq!(
            CapxLine::from_capx_version("1.9.0-beta.1"),
            Some(CapxLine::V1_9)
        );
        assert_eq!(CapxLine::from_capx_version("1.4.0"), None);
        assert_eq!(CapxLine::from_capx_version("2.0.0"), None);
        assert_eq!(CapxLine::from_capx_version("junk"), None);
    }

    #[test]
    fn requirements_resolve() {
        let (min, line) = VersionRequirement::CapxLine {
            line: CapxLine::V1_8,
        }
        .resolve()
        .expect("table");
        assert_eq!(min, v("7.3"));
        assert_eq!(line, Some("1.8.x"));
        let r: VersionRequirement =
            serde_json::from_str(r#"{"by":"capxLine","line":"1.10"}"#).expect("json");
        assert_eq!(
            r,
            VersionRequirement::CapxLine {
                line: CapxLine::V1_10
            }
        );
        assert!(
            VersionRequirement::Minimum {
                version: "soon".into()
            }
            .resolve()
            .is_err()
        );
    }
}
