//! Kubernetes quantities and the CAPX size minimums (prism-capx.md §7/§8), with CAPX's
//! own error text where the controller has one.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::CapxError;

const MIB: u128 = 1024 * 1024;
const GIB: u128 = 1024 * MIB;

/// A Kubernetes resource quantity (`4Gi`, `40960Mi`, `21474836480`), kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quantity {
    text: String,
    /// The value in bytes, rounded up (as `resource.Quantity.Value()` does).
    bytes: u128,
}

impl Quantity {
    /// Parse a quantity string.
    pub fn parse(text: &str) -> Result<Self, CapxError> {
        let bad = || CapxError::InvalidQuantity {
            text: text.to_owned(),
        };
        let t = text.trim();
        if t.is_empty() || t.starts_with('-') {
            return Err(bad());
        }
        let t = t.strip_prefix('+').unwrap_or(t);
        let num_len = t
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let (number, suffix) = t.split_at(num_len);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(bad());
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{int_part}{frac_part}");
        let mantissa: u128 = digits.parse().map_err(|_| bad())?;
        // value = mantissa * num / den
        let mut num: u128 = 1;
        let mut den: u128 = 10u128.checked_pow(frac_part.len() as u32).ok_or_else(bad)?;
        let binary = |p: u32| 1024u128.pow(p);
        let decimal = |p: u32| 10u128.pow(p);
        match suffix {
            "" => {}
            "Ki" => num = binary(1),
            "Mi" => num = binary(2),
            "Gi" => num = binary(3),
            "Ti" => num = binary(4),
            "Pi" => num = binary(5),
            "Ei" => num = binary(6),
            "n" => den = den.checked_mul(decimal(9)).ok_or_else(bad)?,
            "u" => den = den.checked_mul(decimal(6)).ok_or_else(bad)?,
            "m" => den = den.checked_mul(decimal(3)).ok_or_else(bad)?,
            "k" => num = decimal(3),
            "M" => num = decimal(6),
            "G" => num = decimal(9),
            "T" => num = decimal(12),
            "P" => num = decimal(15),
            "E" => num = decimal(18),
            s if s.starts_with(['e', 'E']) => {
                let exp: i32 = s[1..].parse().map_err(|_| bad())?;
                if exp.unsigned_abs() > 30 {
                    return Err(bad());
                }
                if exp >= 0 {
                    num = decimal(exp as u32);
                } else {
                    den = den
                        .checked_mul(decimal(exp.unsigned_abs()))
                        .ok_or_else(bad)?;
                }
            }
            _ => return Err(bad()),
        }
        let scaled = mantissa.checked_mul(num).ok_or_else(bad)?;
        let bytes = scaled.div_ceil(den);
        Ok(Self {
            text: text.trim().to_owned(),
            bytes,
        })
    }

    /// `n` GiB written as `<n>Gi`.
    pub fn gib(n: u64) -> Self {
        Self {
            text: format!("{n}Gi"),
            bytes: u128::from(n) * GIB,
        }
    }

    /// `n` MiB written as `<n>Mi`.
    pub fn mib(n: u64) -> Self {
        Self {
            text: format!("{n}Mi"),
            bytes: u128::from(n) * MIB,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn bytes(&self) -> u128 {
        self.bytes
    }

    /// Whole MiB, rounded down (CAPX's `GetMibValueOfQuantity`).
    pub fn mib_floor(&self) -> u128 {
        self.bytes / MIB
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Quantity {
    type Err = CapxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Minimum memory CAPX accepts (controller check).
pub const MIN_MEMORY_MIB: u128 = 2048;
/// Minimum system disk CAPX accepts (controller check).
pub const MIN_SYSTEM_DISK_MIB: u128 = 20480;

/// Which pool a sizing belongs to (the control plane has the odd-count rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolRole {
    ControlPlane,
    Worker,
}

/// The sizing fields of one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSizing {
    pub role: PoolRole,
    pub replicas: u32,
    pub vcpu_sockets: u32,
    pub vcpus_per_socket: u32,
    pub memory: Quantity,
    pub system_disk: Quantity,
}

/// One size problem: what, CAPX's own error text if it has one, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizeProblem {
    /// The form field (`memory`, `system_disk`, `vcpu_sockets`, `vcpus_per_socket`, `replicas`).
    pub field: &'static str,
    /// Stable machine code.
    pub code: &'static str,
    /// The error CAPX itself would report (verbatim format), when the controller checks this.
    pub capx_error: Option<String>,
    /// What to do about it.
    pub fix: String,
}

/// Check a pool against the CAPX minimums and the control-plane count rule.
/// Returns every problem found (empty when the sizing is acceptable).
pub fn check_pool_sizing(sizing: &PoolSizing) -> Vec<SizeProblem> {
    let mut problems = Vec::new();
    let memory_mib = sizing.memory.mib_floor();
    if memory_mib < MIN_MEMORY_MIB {
        problems.push(SizeProblem {
            field: "memory",
            code: "memory_below_minimum",
            capx_error: Some(format!(
                "minimum memorySize is {MIN_MEMORY_MIB}Mib but given {memory_mib}Mib"
            )),
            fix: "Give each VM at least 2Gi of memory (4Gi is CAPX's default; control-plane nodes want 4Gi or more).".into(),
        });
    }
    let disk_mib = sizing.system_disk.mib_floor();
    if disk_mib < MIN_SYSTEM_DISK_MIB {
        problems.push(SizeProblem {
            field: "system_disk",
            code: "system_disk_below_minimum",
            capx_error: Some(format!(
                "minimum systemDiskSize is {MIN_SYSTEM_DISK_MIB}Mib but given {disk_mib}Mib"
            )),
            fix: "Give each VM a system disk of at least 20Gi (40Gi is CAPX's default) and no smaller than the image.".into(),
        });
    }
    if sizing.vcpus_per_socket < 1 {
        problems.push(SizeProblem {
            field: "vcpus_per_socket",
            code: "vcpus_per_socket_below_minimum",
            capx_error: Some(format!(
                "minimum vcpus per socket is 1 but given {}",
                sizing.vcpus_per_socket
            )),
            fix: "Set at least 1 vCPU per socket.".into(),
        });
    }
    if sizing.vcpu_sockets < 1 {
        problems.push(SizeProblem {
            field: "vcpu_sockets",
            code: "vcpu_sockets_below_minimum",
            capx_error: Some(format!(
                "minimum vcpu sockets is 1 but given {}",
                sizing.vcpu_sockets
            )),
            fix: "Set at least 1 vCPU socket.".into(),
        });
    }
    match sizing.role {
        PoolRole::ControlPlane if !matches!(sizing.replicas, 1 | 3 | 5) => {
            problems.push(SizeProblem {
                field: "replicas",
                code: "control_plane_count_not_odd",
                // KubeadmControlPlane's webhook rejects even counts; CAPX has no message of its own.
                capx_error: None,
                fix: format!(
                    "Use 1, 3 or 5 control-plane nodes (etcd needs an odd quorum); {} was chosen.",
                    sizing.replicas
                ),
            });
        }
        PoolRole::Worker if sizing.replicas == 0 => problems.push(SizeProblem {
            field: "replicas",
            code: "worker_count_zero",
            capx_error: None,
            fix: "A worker pool needs at least 1 node to run workloads; set the node count to 1 or more.".into(),
        }),
        _ => {}
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_decimal_and_fractions() {
        assert_eq!(Quantity::parse("4Gi").map(|q| q.bytes()), Ok(4 * GIB));
        assert_eq!(Quantity::parse("1.5Gi").map(|q| q.mib_floor()), Ok(1536));
        assert_eq!(Quantity::parse("2G").map(|q| q.bytes()), Ok(2_000_000_000));
        assert_eq!(Quantity::parse("1e3").map(|q| q.bytes()), Ok(1000));
        assert_eq!(Quantity::parse("1500m").map(|q| q.bytes()), Ok(2));
        assert_eq!(
            Quantity::parse("21474836480").map(|q| q.mib_floor()),
            Ok(20480)
        );
        let tiny = format!("0.{}1n", "0".repeat(30));
        let huge = "9".repeat(60);
        for bad in [
            "", "Gi", "4GB", "-1Gi", "1.2.3", "4 Gi", "1e-31", &tiny, &huge,
        ] {
            assert_eq!(
                Quantity::parse(bad).map_err(|e| e.code()),
                Err("invalid_quantity"),
                "{bad}"
            );
        }
    }

    fn sizing(role: PoolRole, replicas: u32, mem: &str, disk: &str) -> PoolSizing {
        PoolSizing {
            role,
            replicas,
            vcpu_sockets: 2,
            vcpus_per_socket: 1,
            memory: Quantity::parse(mem).expect("test quantity"),
            system_disk: Quantity::parse(disk).expect("test quantity"),
        }
    }

    #[test]
    fn reports_capx_text_for_small_sizes() {
        let problems = check_pool_sizing(&sizing(PoolRole::Worker, 2, "1536Mi", "10Gi"));
        let texts: Vec<_> = problems
            .iter()
            .filter_map(|p| p.capx_error.clone())
            .collect();
        assert_eq!(
            texts,
            vec![
                "minimum memorySize is 2048Mib but given 1536Mib",
                "minimum systemDiskSize is 20480Mib but given 10240Mib"
            ]
        );
    }

    #[test]
    fn boundaries_are_accepted() {
        assert!(check_pool_sizing(&sizing(PoolRole::ControlPlane, 3, "2Gi", "20Gi")).is_empty());
    }

    #[test]
    fn control_plane_count_must_be_odd() {
        for n in [0, 2, 4, 6, 7] {
            let p = check_pool_sizing(&sizing(PoolRole::ControlPlane, n, "4Gi", "40Gi"));
            assert_eq!(p.len(), 1, "{n}");
            assert_eq!(p[0].code, "control_plane_count_not_odd");
        }
        let mut s = sizing(PoolRole::Worker, 4, "4Gi", "40Gi");
        s.vcpu_sockets = 0;
        s.vcpus_per_socket = 0;
        let codes: Vec<_> = check_pool_sizing(&s).iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            vec![
                "vcpus_per_socket_below_minimum",
                "vcpu_sockets_below_minimum"
            ]
        );
    }
}
