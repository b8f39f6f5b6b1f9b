//! The FIQL subset Prism Central v3 list filters use: `attr==value`, `attr!=value`, `;`
//! (AND, binds tighter) and `,` (OR). A value containing `.*` is a glob (`.*` = any run of
//! characters); anything else matches exactly.

use crate::util::glob_match;

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Name,
    Uuid,
}

#[derive(Debug, Clone)]
struct Cond {
    field: Field,
    negate: bool,
    pattern: String,
}

impl Cond {
    fn matches(&self, name: &str, uuid: &str) -> bool {
        let text = match self.field {
            Field::Name => name,
            Field::Uuid => uuid,
        };
        let hit = if self.pattern.contains(".*") {
            // Escape literal stars first so only `.*` acts as a wildcard.
            glob_match(
                &self.pattern.replace('*', "\u{1}").replace(".\u{1}", "*"),
                text,
            )
        } else {
            self.pattern == text
        };
        hit != self.negate
    }
}

/// OR of ANDs.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    any_of: Vec<Vec<Cond>>,
}

impl Filter {
    /// `name_attrs` are the attribute names that address the entity name (`name`, or
    /// `vm_name` for VMs); `uuid` is always accepted.
    pub(crate) fn parse(filter: &str, name_attrs: &[&str]) -> Result<Self, String> {
        let mut any_of = Vec::new();
        for or_part in filter.split(',') {
            let mut all_of = Vec::new();
            for term in or_part.split(';') {
                let term = term.trim();
                let (attr, negate, value) = if let Some((a, v)) = term.split_once("!=") {
                    (a, true, v)
                } else if let Some((a, v)) = term.split_once("==") {
                    (a, false, v)
                } else if term.contains("=lt=")
                    || term.contains("=le=")
                    || term.contains("=gt=")
                    || term.contains("=ge=")
                {
                    return Err(format!(
                        "filter term \"{term}\": range comparisons are not supported on this attribute"
                    ));
                } else {
                    return Err(format!(
                        "filter term \"{term}\" is not of the form attribute==value or attribute!=value"
                    ));
                };
                let attr = attr.trim();
                let field = if name_attrs.contains(&attr) {
                    Field::Name
                } else if attr == "uuid" {
                    Field::Uuid
                } else {
                    return Err(format!(
                        "Invalid filter attribute \"{attr}\"; supported: {}, uuid",
                        name_attrs.join(", ")
                    ));
                };
                all_of.push(Cond {
                    field,
                    negate,
                    pattern: value.to_owned(),
                });
            }
            any_of.push(all_of);
        }
        Ok(Self { any_of })
    }

    pub(crate) fn matches(&self, name: &str, uuid: &str) -> bool {
        self.any_of
            .iter()
            .any(|all| all.iter().all(|c| c.matches(name, uuid)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_or_and_globs() {
        let f = Filter::parse("vm_name==web.*;vm_name!=web-2,uuid==u9", &["vm_name"]).unwrap();
        assert!(f.matches("web-1", "u1"));
        assert!(!f.matches("web-2", "u2"));
        assert!(f.matches("db", "u9"));
        assert!(!f.matches("db", "u1"));
        let exact = Filter::parse("name==a.b", &["name"]).unwrap();
        assert!(exact.matches("a.b", ""));
        assert!(!exact.matches("axb", ""));
        let star = Filter::parse("name==a*", &["name"]).unwrap();
        assert!(star.matches("a*", ""));
        assert!(!star.matches("ab", ""));
    }

    #[test]
    fn unknown_attributes_and_syntax_are_rejected() {
        assert!(Filter::parse("power_state==ON", &["vm_name"]).is_err());
        assert!(Filter::parse("name", &["name"]).is_err());
        assert!(Filter::parse("name=gt=3", &["name"]).is_err());
    }
}
