//! FIQL filters for v3 list calls, plus the client-side exact re-check CAPX does.
//!
//! Prism treats filter values loosely (regex-like), so a server-side filter only narrows
//! the list; the result is always re-checked in Rust ([`exact_name_matches`]). Values that
//! contain FIQL or regex metacharacters are not sent as filters at all by the lookup
//! helpers (see [`Fiql::is_plain_value`]): the list is fetched whole and matched locally,
//! which is always correct.

use std::fmt;

/// A FIQL expression. Build with [`Fiql::eq`] / [`Fiql::ne`], combine with
/// [`Fiql::and`] (`;`) and [`Fiql::or`] (`,`). AND binds tighter than OR in FIQL, so
/// `or` of two `and` groups needs no parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fiql(String);

impl Fiql {
    pub fn eq(attribute: &str, value: &str) -> Self {
        Self(format!("{attribute}=={}", escape_value(value)))
    }

    pub fn ne(attribute: &str, value: &str) -> Self {
        Self(format!("{attribute}!={}", escape_value(value)))
    }

    pub fn and(self, other: Fiql) -> Self {
        Self(format!("{};{}", self.0, other.0))
    }

    pub fn or(self, other: Fiql) -> Self {
        Self(format!("{},{}", self.0, other.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `value` can be sent as-is and Prism will read it literally: no FIQL
    /// operators or separators, no regex metacharacters, no percent signs.
    pub fn is_plain_value(value: &str) -> bool {
        !value.is_empty()
            && !value.chars().any(|c| {
                matches!(
                    c,
                    ';' | ','
                        | '='
                        | '!'
                        | '<'
                        | '>'
                        | '~'
                        | '('
                        | ')'
                        | '%'
                        | '.'
                        | '*'
                        | '+'
                        | '?'
                        | '['
                        | ']'
                        | '{'
                        | '}'
                        | '^'
                        | '$'
                        | '|'
                        | '\\'
                        | '"'
                        | '\''
                ) || c.is_control()
            })
    }
}

impl fmt::Display for Fiql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Percent-encodes the characters FIQL reserves (`;`, `,`, `=`, `!`, `(`, `)`, `%`, `<`,
/// `>`, `~`, `'`, `"`) and control characters, as the FIQL draft prescribes for literal
/// values. Plain names pass unchanged.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(
            c,
            ';' | ',' | '=' | '!' | '(' | ')' | '%' | '<' | '>' | '~' | '\'' | '"'
        ) || c.is_control()
        {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// How names are compared, matching the CAPX generation whose behaviour we mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    /// CAPX <= 1.7 (v3): clusters, subnets and images by exact, case-sensitive name.
    CaseSensitive,
    /// CAPX >= 1.8 and projects in every version: case-insensitive.
    CaseInsensitive,
}

/// The items whose name equals `name` under `rule`.
pub fn exact_name_matches<'a, T, F>(
    items: &'a [T],
    name: &str,
    rule: NameMatch,
    name_of: F,
) -> Vec<&'a T>
where
    F: Fn(&T) -> Option<&str>,
{
    items
        .iter()
        .filter(|item| match (name_of(item), rule) {
            (Some(n), NameMatch::CaseSensitive) => n == name,
            (Some(n), NameMatch::CaseInsensitive) => n.eq_ignore_ascii_case(name),
            (None, _) => false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_combines_and_escapes() {
        let f = Fiql::eq("vm_name", "web-1")
            .and(Fiql::ne("uuid", "x"))
            .or(Fiql::eq("vm_name", "db"));
        assert_eq!(f.as_str(), "vm_name==web-1;uuid!=x,vm_name==db");
        assert_eq!(Fiql::eq("name", "a;b,c=d").as_str(), "name==a%3Bb%2Cc%3Dd");
        assert_eq!(escape_value("100%"), "100%25");
    }

    #[test]
    fn plain_values_are_recognised() {
        assert!(Fiql::is_plain_value("pe-cluster-01"));
        assert!(Fiql::is_plain_value("VM Network 10"));
        for v in ["a.b", "a*", "x;y", "a,b", "", "a=b", "p(1)"] {
            assert!(!Fiql::is_plain_value(v), "{v}");
        }
    }

    #[test]
    fn exact_rechecks_follow_the_rule() {
        let names = vec![Some("Prod"), Some("prod"), Some("prod-2"), None];
        let cs = exact_name_matches(&names, "prod", NameMatch::CaseSensitive, |n| *n);
        assert_eq!(cs.len(), 1);
        let ci = exact_name_matches(&names, "prod", NameMatch::CaseInsensitive, |n| *n);
        assert_eq!(ci.len(), 2);
    }
}
