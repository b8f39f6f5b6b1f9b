//! Multi-document YAML parsing (serde_norway) and Palette's server-side macro substitution.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// Parses every document of a multi-document YAML string into JSON values (empty documents
/// are skipped).
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let v = serde_norway::Value::deserialize(doc).map_err(|e| e.to_string())?;
        if v.is_null() {
            continue;
        }
        let j = serde_json::to_value(&v).map_err(|e| e.to_string())?;
        out.push(j);
    }
    Ok(out)
}

/// The first document of the given `kind`.
pub(crate) fn find_kind<'a>(docs: &'a [Value], kind: &str) -> Option<&'a Value> {
    docs.iter().find(|d| d["kind"].as_str() == Some(kind))
}

/// Replaces `${VAR}`, `${VAR=default}` and `${VAR:=default}` for the variables Palette
/// fills in itself; unknown variables without a default are left as they are.
pub(crate) fn substitute(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":=").or_else(|| inner.split_once('=')) {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (vars.get(name), default) {
            (Some(v), _) => out.push_str(v),
            (None, Some(d)) => out.push_str(d.trim_matches('"')),
            (None, None) => {
                out.push_str("${");
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// `4Gi`, `4096Mi`, `40G` ... -> MiB.
pub(crate) fn quantity_mib(q: &Value) -> Option<u64> {
    if let Some(n) = q.as_u64() {
        return Some(n / (1024 * 1024));
    }
    let s = q.as_str()?.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mib = match unit {
        "Ki" => n / 1024.0,
        "Mi" => n,
        "Gi" => n * 1024.0,
        "Ti" => n * 1024.0 * 1024.0,
        "K" | "k" => n * 1000.0 / 1_048_576.0,
        "M" => n * 1_000_000.0 / 1_048_576.0,
        "G" => n * 1e9 / 1_048_576.0,
        "T" => n * 1e12 / 1_048_576.0,
        "" => n / 1_048_576.0,
        _ => return None,
    };
    Some(mib.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_and_defaults() {
        let mut vars = BTreeMap::new();
        vars.insert("CLUSTER_NAME".to_owned(), "c1".to_owned());
        assert_eq!(substitute("a ${CLUSTER_NAME}-cp b", &vars), "a c1-cp b");
        assert_eq!(substitute("${PORT=6443}", &vars), "6443");
        assert_eq!(substitute("${X:=\"y\"}", &vars), "y");
        assert_eq!(substitute("${UNKNOWN}", &vars), "${UNKNOWN}");
        assert_eq!(substitute("${broken", &vars), "${broken");
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity_mib(&Value::from("4Gi")), Some(4096));
        assert_eq!(quantity_mib(&Value::from("512Mi")), Some(512));
        assert_eq!(quantity_mib(&Value::from("lots")), None);
    }

    #[test]
    fn multi_doc() {
        let d = documents("kind: A\n---\nkind: B\nspec: {x: 1}\n---\n").unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(find_kind(&d, "B").unwrap()["spec"]["x"], 1);
        assert!(documents("a: [").is_err());
    }
}
