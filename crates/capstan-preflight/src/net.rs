//! IPv4 networks and ranges, as Prism describes them (`subnet_ip` + `prefix_length`, pool
//! ranges written `"10.0.0.50 10.0.0.99"`).

use std::fmt;
use std::net::Ipv4Addr;

/// An IPv4 network, stored masked (`10.64.1.7/22` is kept as `10.64.0.0/22`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Net {
    network: u32,
    prefix: u8,
}

impl Ipv4Net {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Self> {
        (prefix <= 32).then(|| Self {
            network: u32::from(addr) & mask(prefix),
            prefix,
        })
    }

    /// Reads `a.b.c.d/n`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("\"{text}\" is not a CIDR such as 172.20.0.0/16"))?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("\"{text}\" is not an IPv4 CIDR such as 172.20.0.0/16"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("\"{text}\" has a prefix length outside 0-32"))?;
        Self::new(addr, prefix).ok_or_else(|| format!("\"{text}\" is not a valid CIDR"))
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn first(&self) -> u32 {
        self.network
    }

    pub fn last(&self) -> u32 {
        self.network | !mask(self.prefix)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == self.network
    }

    pub fn overlaps(&self, other: &Ipv4Net) -> bool {
        self.first() <= other.last() && other.first() <= self.last()
    }

    /// Addresses in the network.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

/// An inclusive address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Range {
    pub first: u32,
    pub last: u32,
}

impl Ipv4Range {
    /// Reads a Prism pool range: `"10.0.0.50 10.0.0.99"` (a dash is accepted too).
    pub fn parse_pool(text: &str) -> Option<Self> {
        let mut parts = text
            .split(|c: char| c.is_whitespace() || c == '-')
            .filter(|p| !p.is_empty());
        let first: Ipv4Addr = parts.next()?.parse().ok()?;
        let last: Ipv4Addr = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => first,
        };
        let (first, last) = (u32::from(first), u32::from(last));
        (first <= last && parts.next().is_none()).then_some(Self { first, last })
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (self.first..=self.last).contains(&u32::from(ip))
    }

    pub fn size(&self) -> u64 {
        u64::from(self.last - self.first) + 1
    }
}

impl fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", Ipv4Addr::from(self.first))
        } else {
            write!(
                f,
                "{}-{}",
                Ipv4Addr::from(self.first),
                Ipv4Addr::from(self.last)
            )
        }
    }
}

/// The host addresses of `net` (network and broadcast excluded for prefixes up to /30) that
/// are in none of `taken`, as ranges.
pub fn free_ranges(net: &Ipv4Net, taken: &[Ipv4Range]) -> Vec<Ipv4Range> {
    let (mut start, end) = if net.prefix() <= 30 {
        (net.first() + 1, net.last() - 1)
    } else {
        (net.first(), net.last())
    };
    let mut sorted: Vec<Ipv4Range> = taken.to_vec();
    sorted.sort_by_key(|r| r.first);
    let mut out = Vec::new();
    for r in sorted {
        if r.last < start {
            continue;
        }
        if r.first > end {
            break;
        }
        if r.first > start {
            out.push(Ipv4Range {
                first: start,
                last: r.first - 1,
            });
        }
        if r.last >= end {
            return out;
        }
        start = r.last + 1;
    }
    if start <= end {
        out.push(Ipv4Range {
            first: start,
            last: end,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().expect("test address")
    }

    #[test]
    fn cidrs_parse_mask_and_overlap() {
        let n = Ipv4Net::parse("10.64.1.7/22").expect("cidr");
        assert_eq!(n.to_string(), "10.64.0.0/22");
        assert!(n.contains(ip("10.64.3.255")));
        assert!(!n.contains(ip("10.64.4.0")));
        assert_eq!(n.size(), 1024);
        let pods = Ipv4Net::parse("10.0.0.0/8").expect("cidr");
        assert!(pods.overlaps(&n) && n.overlaps(&pods));
        let services = Ipv4Net::parse("172.19.0.0/16").expect("cidr");
        assert!(!services.overlaps(&n));
        assert!(
            Ipv4Net::parse("0.0.0.0/0")
                .expect("cidr")
                .contains(ip("8.8.8.8"))
        );
        for bad in ["10.0.0.0", "10.0.0.0/33", "fd00::/8", "x/8", "10.0.0/8"] {
            assert!(Ipv4Net::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pool_ranges_parse_and_count() {
        let r = Ipv4Range::parse_pool("10.64.0.10 10.64.3.231").expect("range");
        assert_eq!(r.size(), 990);
        assert!(r.contains(ip("10.64.3.231")) && !r.contains(ip("10.64.3.232")));
        assert_eq!(
            Ipv4Range::parse_pool("10.0.0.5-10.0.0.6").map(|r| r.size()),
            Some(2)
        );
        assert!(Ipv4Range::parse_pool("10.0.0.9 10.0.0.5").is_none());
        assert!(Ipv4Range::parse_pool("").is_none());
    }

    #[test]
    fn free_ranges_skip_what_is_taken() {
        let n = Ipv4Net::parse("10.0.0.0/24").expect("cidr");
        let taken = [
            Ipv4Range::parse_pool("10.0.0.10 10.0.0.200").expect("pool"),
            Ipv4Range::parse_pool("10.0.0.1").expect("gateway"),
        ];
        let free: Vec<String> = free_ranges(&n, &taken)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(free, vec!["10.0.0.2-10.0.0.9", "10.0.0.201-10.0.0.254"]);
        let everything = [Ipv4Range {
            first: n.first(),
            last: n.last(),
        }];
        assert!(free_ranges(&n, &everything).is_empty());
    }
}
