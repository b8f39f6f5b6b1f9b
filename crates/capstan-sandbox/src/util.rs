//! Small helpers shared by both emulated services.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// RFC 3339 wall-clock timestamp with second precision, e.g. `2026-11-21T06:02:14Z`.
pub(crate) fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Deterministic RFC 4122 v4 UUID from the RNG.
pub(crate) fn uuid_from(rng: &mut ChaCha8Rng) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// Palette-style opaque uid: 24 lowercase hex characters.
pub(crate) fn hex_uid(rng: &mut ChaCha8Rng) -> String {
    let mut b = [0u8; 12];
    rng.fill_bytes(&mut b);
    hex::encode(b)
}

pub(crate) fn hex_token(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Short lowercase suffix like CAPI's random name suffixes (`abcde`).
pub(crate) fn name_suffix(rng: &mut ChaCha8Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..len)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Glob match where `*` matches any run of characters (used for fault path patterns and,
/// with `.*`, for FIQL values).
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

pub(crate) fn ipv4_to_string(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars_anywhere() {
        assert!(glob_match(
            "/api/nutanix/v3/*/list",
            "/api/nutanix/v3/vms/list"
        ));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*c", "abbbc"));
        assert!(!glob_match("a*c", "abbbd"));
        assert!(glob_match("/v1/*", "/v1/users/info"));
        assert!(!glob_match("/v1/users", "/v1/users/info"));
    }
}
