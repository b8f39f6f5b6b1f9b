//! Multi-document YAML on `serde_norway::Value`: parsing with positions, emitting, and
//! small path helpers. Mapping order is preserved (serde_norway keeps insertion order), so
//! a split template keeps upstream's field order; only quote styles may change.

use serde::Deserialize;
use serde_norway::{Mapping, Value};

use crate::error::CapxError;

/// Parse every document of a YAML stream; empty documents (e.g. a leading `---`) are dropped.
///
/// `what` names the input in errors ("cloudClusterTemplate.yaml", "cluster template").
pub fn parse_documents(what: &str, text: &str) -> Result<Vec<Value>, CapxError> {
    let mut docs = Vec::new();
    for (index, de) in serde_norway::Deserializer::from_str(text).enumerate() {
        match Value::deserialize(de) {
            Ok(Value::Null) => {}
            Ok(value) => docs.push(value),
            Err(err) => {
                let (line, column) = err
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .unwrap_or((0, 0));
                return Err(CapxError::YamlUnparsable {
                    what: what.to_owned(),
                    document: index + 1,
                    line,
                    column,
                    message: strip_position_suffix(&err.to_string()),
                });
            }
        }
    }
    Ok(docs)
}

/// serde_norway appends " at line L column C" to its messages; we report the position separately.
fn strip_position_suffix(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// Emit documents as one multi-document stream (`---` between documents).
pub fn emit_documents(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        // Serialising a `Value` we built ourselves cannot fail (no non-string keys of
        // unsupported types are ever produced); fall back to an empty doc rather than panic.
        out.push_str(&serde_norway::to_string(doc).unwrap_or_default());
    }
    out
}

/// `kind` of a Kubernetes object.
pub fn kind_of(doc: &Value) -> Option<&str> {
    doc.get("kind").and_then(Value::as_str)
}

/// `metadata.name` of a Kubernetes object.
pub fn name_of(doc: &Value) -> Option<&str> {
    get(doc, &["metadata", "name"]).and_then(Value::as_str)
}

/// `Kind/name` label used in reports.
pub fn label_of(doc: &Value) -> String {
    format!(
        "{}/{}",
        kind_of(doc).unwrap_or("?"),
        name_of(doc).unwrap_or("?")
    )
}

/// Follow a path of mapping keys.
pub fn get<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = doc;
    for key in path {
        cur = cur.as_mapping()?.get(*key)?;
    }
    Some(cur)
}

/// Follow a path of mapping keys, mutably.
pub fn get_mut<'a>(doc: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut cur = doc;
    for key in path {
        cur = cur.as_mapping_mut()?.get_mut(*key)?;
    }
    Some(cur)
}

/// A path step met a node that is not a mapping (or the path was empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAMapping;

/// Set a value at a path, creating intermediate mappings. Returns the previous value.
/// Fails when an intermediate node exists but is not a mapping.
pub fn set(doc: &mut Value, path: &[&str], value: Value) -> Result<Option<Value>, NotAMapping> {
    let Some((last, parents)) = path.split_last() else {
        return Err(NotAMapping);
    };
    let mut cur = doc;
    for key in parents {
        let map = cur.as_mapping_mut().ok_or(NotAMapping)?;
        if !map.contains_key(*key) {
            map.insert(Value::from(*key), Value::Mapping(Mapping::new()));
        }
        cur = map.get_mut(*key).ok_or(NotAMapping)?;
    }
    let map = cur.as_mapping_mut().ok_or(NotAMapping)?;
    Ok(map.insert(Value::from(*last), value))
}

/// Remove a key at a path; returns the removed value.
pub fn remove(doc: &mut Value, path: &[&str]) -> Option<Value> {
    let (last, parents) = path.split_last()?;
    let parent = get_mut(doc, parents)?;
    parent.as_mapping_mut()?.remove(*last)
}

/// A scalar rendered as text for reports (`None` for maps and sequences).
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".to_owned()),
        _ => None,
    }
}

/// Visit every string scalar (map values and sequence items; keys are left alone).
pub fn for_each_string_mut(value: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    match value {
        Value::String(_) => f(value),
        Value::Sequence(items) => {
            for item in items {
                for_each_string_mut(item, f);
            }
        }
        Value::Mapping(map) => {
            for (_, v) in map.iter_mut() {
                for_each_string_mut(v, f);
            }
        }
        Value::Tagged(tagged) => for_each_string_mut(&mut tagged.value, f),
        _ => {}
    }
}

/// Visit every string scalar read-only.
pub fn for_each_string<'a>(value: &'a Value, f: &mut dyn FnMut(&'a str)) {
    match value {
        Value::String(s) => f(s),
        Value::Sequence(items) => items.iter().for_each(|i| for_each_string(i, f)),
        Value::Mapping(map) => map.iter().for_each(|(_, v)| for_each_string(v, f)),
        Value::Tagged(tagged) => for_each_string(&tagged.value, f),
        _ => {}
    }
}
