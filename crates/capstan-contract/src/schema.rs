//! A focused Swagger 2.0 schema checker. It walks the schema and the value together, so every
//! finding carries the JSON pointer where it happened and the deviations (by pointer) can be
//! applied exactly where they belong.
//!
//! Strict about: `type` (also inferred from `properties` / `items`), `required`, `enum`,
//! `items`, `allOf`, `additionalProperties`, `null` without `x-nullable`, integer formats,
//! `date-time`, `pattern`, lengths and bounds. Lenient about: extra properties (unless
//! `additionalProperties: false`), unknown formats, patterns the `regex` crate cannot compile,
//! vendor keywords (`x-ntnx-enum` is documentation, not a constraint), `readOnly`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::deviations::{Deviation, Rule, Side};
use crate::spec::ServiceSpec;
use crate::violation::{Part, Violation, describe, pointer};

/// `$ref` chains longer than this are treated as cycles.
const MAX_REF_HOPS: usize = 32;
/// Values nested deeper than this are not descended into (no real body gets near it).
const MAX_DEPTH: usize = 128;

pub(crate) struct Walker<'a> {
    spec: &'a ServiceSpec,
    side: Side,
    part: Part,
    relaxations: Vec<&'static Deviation>,
    path: Vec<String>,
    pub(crate) violations: Vec<Violation>,
    pub(crate) applied: BTreeSet<&'static str>,
}

impl<'a> Walker<'a> {
    /// `relaxations` are the pointer-level deviations (`AllowType`, `AllowMissing`) that apply
    /// to this operation; the others are ignored here.
    pub(crate) fn new(
        spec: &'a ServiceSpec,
        side: Side,
        part: Part,
        relaxations: Vec<&'static Deviation>,
    ) -> Walker<'a> {
        Walker {
            spec,
            side,
            part,
            relaxations,
            path: Vec::new(),
            violations: Vec::new(),
            applied: BTreeSet::new(),
        }
    }

    /// Starts the walk at a pointer other than the root (used for parameters: `/name`).
    pub(crate) fn at(mut self, segment: &str) -> Walker<'a> {
        self.path.push(segment.to_string());
        self
    }

    fn violation(&mut self, expected: impl Into<String>, found: impl Into<String>) {
        self.violations.push(Violation::new(
            self.part,
            pointer(&self.path),
            expected,
            found,
        ));
    }

    fn pointer_matches(&self, pattern: &str, extra: Option<&str>) -> bool {
        let want: Vec<&str> = pattern.split('/').skip(1).collect();
        let have_len = self.path.len() + usize::from(extra.is_some());
        if want.len() != have_len {
            return false;
        }
        let have = self.path.iter().map(String::as_str).chain(extra);
        want.iter().zip(have).all(|(w, h)| *w == "*" || *w == h)
    }

    fn type_relaxed(&mut self, value: &Value) -> bool {
        let hit = self.relaxations.iter().copied().find(|d| match &d.rule {
            Rule::AllowType {
                side,
                pointer,
                types,
            } => {
                *side == self.side
                    && types.iter().any(|t| t.admits(value))
                    && self.pointer_matches(pointer, None)
            }
            _ => false,
        });
        if let Some(d) = hit {
            self.applied.insert(d.id);
        }
        hit.is_some()
    }

    fn missing_relaxed(&mut self, property: &str) -> bool {
        let hit = self.relaxations.iter().copied().find(|d| match &d.rule {
            Rule::AllowMissing { side, pointers } => {
                *side == self.side
                    && pointers
                        .iter()
                        .any(|p| self.pointer_matches(p, Some(property)))
            }
            _ => false,
        });
        if let Some(d) = hit {
            self.applied.insert(d.id);
        }
        hit.is_some()
    }

    /// Follows `$ref`s to the schema that has content.
    fn deref<'x>(&mut self, mut schema: &'x Value) -> Option<&'x Value>
    where
        'a: 'x,
    {
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                return Some(schema);
            };
            match self.spec.resolve(reference) {
                Some(target) => schema = target,
                None => {
                    self.violation(
                        format!("a resolvable schema reference ({reference})"),
                        "a dangling $ref in the spec",
                    );
                    return None;
                }
            }
        }
        self.violation("a finite $ref chain", "a $ref cycle in the spec");
        None
    }

    pub(crate) fn check<'x>(&mut self, schema: &'x Value, value: &Value)
    where
        'a: 'x,
    {
        if self.path.len() > MAX_DEPTH || self.type_relaxed(value) {
            return;
        }
        let Some(schema) = self.deref(schema) else {
            return;
        };
        let Some(obj) = schema.as_object() else {
            return;
        };
        let ty = schema_type(obj);
        if value.is_null() {
            let nullable = obj.get("x-nullable").and_then(Value::as_bool) == Some(true);
            if !nullable && (ty.is_some() || obj.contains_key("allOf")) {
                let expected = ty.unwrap_or("a value");
                self.violation(format!("{expected} (not x-nullable)"), "null");
            }
            return;
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value);
            }
        }
        if let Some(ty) = ty
            && !type_admits(ty, value)
        {
            self.violation(ty, describe(value));
            return;
        }
        if let Some(options) = obj.get("enum").and_then(Value::as_array)
            && !options.iter().any(|o| o == value)
        {
            let list: Vec<String> = options.iter().take(12).map(Value::to_string).collect();
            let more = if options.len() > 12 { ", ..." } else { "" };
            self.violation(
                format!("one of [{}{more}]", list.join(", ")),
                describe(value),
            );
        }
        match value {
            Value::String(s) => self.check_string(obj, s, value),
            Value::Number(_) => self.check_number(obj, value),
            Value::Array(items) => self.check_array(obj, items),
            Value::Object(map) => self.check_object(obj, map),
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn check_string(&mut self, obj: &Map<String, Value>, s: &str, value: &Value) {
        if let Some(format) = obj.get("format").and_then(Value::as_str)
            && format == "date-time"
            && OffsetDateTime::parse(s, &Rfc3339).is_err()
        {
            self.violation("an RFC 3339 date-time", describe(value));
        }
        let len = s.chars().count() as u64;
        if let Some(max) = obj.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            self.violation(format!("at most {max} characters"), format!("{len}"));
        }
        if let Some(min) = obj.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            self.violation(format!("at least {min} characters"), describe(value));
        }
        if let Some(pattern) = obj.get("pattern").and_then(Value::as_str)
            && let Some(re) = self.spec.regex(pattern)
            && !re.is_match(s)
        {
            self.violation(format!("a string matching /{pattern}/"), describe(value));
        }
    }

    fn check_number(&mut self, obj: &Map<String, Value>, value: &Value) {
        let format = obj.get("format").and_then(Value::as_str).unwrap_or("");
        let range: Option<(i128, i128)> = match format {
            "int8" => Some((i8::MIN.into(), i8::MAX.into())),
            "int16" => Some((i16::MIN.into(), i16::MAX.into())),
            "int32" => Some((i32::MIN.into(), i32::MAX.into())),
            "int64" => Some((i64::MIN.into(), i64::MAX.into())),
            "uint8" => Some((0, u8::MAX.into())),
            "uint16" => Some((0, u16::MAX.into())),
            "uint32" => Some((0, u32::MAX.into())),
            "uint64" => Some((0, u64::MAX.into())),
            _ => None,
        };
        if let Some((lo, hi)) = range {
            // `3.0` is an integer value too (JSON has one number type).
            let whole_float = value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
                .map(|f| f as i128);
            let as_int = value
                .as_i64()
                .map(i128::from)
                .or_else(|| value.as_u64().map(i128::from))
                .or(whole_float);
            match as_int {
                Some(n) if n >= lo && n <= hi => {}
                _ => self.violation(
                    format!("a whole number in the {format} range"),
                    describe(value),
                ),
            }
        }
        let Some(n) = value.as_f64() else {
            return;
        };
        let exclusive = |key: &str| obj.get(key).and_then(Value::as_bool) == Some(true);
        if let Some(min) = obj.get("minimum").and_then(Value::as_f64) {
            let ok = if exclusive("exclusiveMinimum") {
                n > min
            } else {
                n >= min
            };
            if !ok {
                self.violation(format!("a number >= {min}"), describe(value));
            }
        }
        if let Some(max) = obj.get("maximum").and_then(Value::as_f64) {
            let ok = if exclusive("exclusiveMaximum") {
                n < max
            } else {
                n <= max
            };
            if !ok {
                self.violation(format!("a number <= {max}"), describe(value));
            }
        }
    }

    fn check_array(&mut self, obj: &Map<String, Value>, items: &[Value]) {
        let len = items.len() as u64;
        if let Some(max) = obj.get("maxItems").and_then(Value::as_u64)
            && len > max
        {
            self.violation(format!("at most {max} items"), format!("{len} items"));
        }
        if let Some(min) = obj.get("minItems").and_then(Value::as_u64)
            && len < min
        {
            self.violation(format!("at least {min} items"), format!("{len} items"));
        }
        // Pairwise comparison: fine for API-sized arrays, skipped for huge ones.
        if obj.get("uniqueItems").and_then(Value::as_bool) == Some(true) && items.len() <= 2000 {
            'outer: for (i, a) in items.iter().enumerate() {
                for (j, b) in items.iter().enumerate().skip(i + 1) {
                    if a == b {
                        self.violation(
                            "unique items",
                            format!("items {i} and {j} equal: {}", describe(a)),
                        );
                        break 'outer;
                    }
                }
            }
        }
        if let Some(item_schema) = obj.get("items").filter(|s| s.is_object()) {
            for (i, item) in items.iter().enumerate() {
                self.path.push(i.to_string());
                self.check(item_schema, item);
                self.path.pop();
            }
        }
    }

    fn check_object(&mut self, obj: &Map<String, Value>, map: &Map<String, Value>) {
        let properties = obj.get("properties").and_then(Value::as_object);
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) && !self.missing_relaxed(name) {
                    self.path.push(name.to_string());
                    self.violation(format!("required property `{name}`"), "it missing");
                    self.path.pop();
                }
            }
        }
        if let Some(properties) = properties {
            for (name, sub) in properties {
                if let Some(v) = map.get(name) {
                    self.path.push(name.clone());
                    self.check(sub, v);
                    self.path.pop();
                }
            }
        }
        let extra = map
            .iter()
            .filter(|(k, _)| !properties.is_some_and(|p| p.contains_key(k.as_str())));
        match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                let names: Vec<&str> = extra.map(|(k, _)| k.as_str()).collect();
                if !names.is_empty() {
                    self.violation(
                        "no properties beyond the documented ones (additionalProperties: false)",
                        format!("extra {}", names.join(", ")),
                    );
                }
            }
            Some(sub @ Value::Object(_)) => {
                for (name, v) in extra {
                    self.path.push(name.clone());
                    self.check(sub, v);
                    self.path.pop();
                }
            }
            _ => {}
        }
    }
}

/// The declared type, or the one implied by object/array keywords (go-swagger omits `type`
/// on many object definitions, e.g. `v1UserInfo`).
fn schema_type(obj: &Map<String, Value>) -> Option<&str> {
    match obj.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        _ if obj.contains_key("properties") || obj.contains_key("additionalProperties") => {
            Some("object")
        }
        _ if obj.get("items").is_some_and(Value::is_object) => Some("array"),
        _ => None,
    }
}

fn type_admits(ty: &str, value: &Value) -> bool {
    match ty {
        "string" => value.is_string(),
        "integer" => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
        }
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        // `file` and anything unknown: no JSON-level constraint.
        _ => true,
    }
}

/// True for `type: file` and `type: string, format: binary` (non-JSON payloads).
pub(crate) fn is_binary_schema(spec: &ServiceSpec, schema: &Value) -> bool {
    let mut schema = schema;
    for _ in 0..MAX_REF_HOPS {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match spec.resolve(r) {
                Some(t) => schema = t,
                None => return false,
            },
            None => break,
        }
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let format = schema.get("format").and_then(Value::as_str);
    ty == Some("file") || (ty == Some("string") && format == Some("binary"))
}

/// A human name for a schema: the definition it references, or its type.
pub(crate) fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => match schema.get("items") {
            Some(items) => format!("array of {}", schema_name(items)),
            None => "array".to_string(),
        },
        Some(t) => t.to_string(),
        None => "the documented schema".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::deviations::{Deviation, Operations};
    use crate::service::Service;
    use crate::violation::JsonType;

    fn spec() -> ServiceSpec {
        ServiceSpec::from_document(
            Service::Palette,
            json!({
                "swagger": "2.0",
                "paths": {},
                "definitions": {
                    "meta": {"type": "object", "required": ["name"],
                             "properties": {"name": {"type": "string", "maxLength": 5},
                                            "count": {"type": "integer", "format": "int32", "minimum": 0}}},
                    "closed": {"type": "object", "additionalProperties": false,
                               "properties": {"a": {"type": "string"}}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "both": {"allOf": [{"$ref": "#/definitions/meta"},
                                       {"properties": {"extra": {"type": "boolean"}}}]},
                    "maybe": {"type": "object", "properties": {
                        "soft": {"type": "string", "x-nullable": true},
                        "hard": {"type": "string"},
                        "any": {"description": "no type at all"}}},
                    "loop": {"$ref": "#/definitions/loop"},
                    "dangling": {"$ref": "#/definitions/nowhere"},
                    "tags": {"type": "array", "uniqueItems": true, "maxItems": 3,
                             "items": {"type": "string", "enum": ["a", "b", "c", "d"]}},
                    "when": {"type": "string", "format": "date-time"},
                    "ip": {"type": "string", "pattern": "^\\d+\\.\\d+\\.\\d+\\.\\d+$"},
                    "ecma": {"type": "string", "pattern": "^(?!x)"}
                }
            }),
        )
        .expect("valid document")
    }

    fn check(spec: &ServiceSpec, definition: &str, value: Value) -> Vec<(String, String)> {
        let mut walker = Walker::new(spec, Side::Response, Part::ResponseBody, Vec::new());
        walker.check(
            &json!({"$ref": format!("#/definitions/{definition}")}),
            &value,
        );
        walker
            .violations
            .into_iter()
            .map(|v| (v.pointer, v.expected))
            .collect()
    }

    #[test]
    fn required_types_and_bounds() {
        let spec = spec();
        assert!(check(&spec, "meta", json!({"name": "abc", "count": 3})).is_empty());
        let found = check(&spec, "meta", json!({"count": -1}));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "/name");
        assert_eq!(found[1].0, "/count");
        let found = check(
            &spec,
            "meta",
            json!({"name": "toolong", "count": 4_000_000_000u64}),
        );
        let mut pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        pointers.sort_unstable();
        assert_eq!(pointers, ["/count", "/name"], "{found:?}");
        // 3.0 is an integer value; 3.5 is not.
        assert!(check(&spec, "meta", json!({"name": "a", "count": 3.0})).is_empty());
        assert_eq!(
            check(&spec, "meta", json!({"name": "a", "count": 3.5})).len(),
            1
        );
        assert_eq!(check(&spec, "meta", json!("not an object"))[0].1, "object");
    }

    #[test]
    fn additional_properties() {
        let spec = spec();
        assert!(check(&spec, "closed", json!({"a": "x"})).is_empty());
        let found = check(&spec, "closed", json!({"a": "x", "b": 1}));
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains("additionalProperties: false"));
        assert!(check(&spec, "labels", json!({"k": "v"})).is_empty());
        assert_eq!(check(&spec, "labels", json!({"k": 1}))[0].0, "/k");
        // Unknown properties pass by default.
        assert!(check(&spec, "meta", json!({"name": "a", "surprise": [1]})).is_empty());
    }

    #[test]
    fn all_of_combines_every_part() {
        let spec = spec();
        assert!(check(&spec, "both", json!({"name": "a", "extra": true})).is_empty());
        let found = check(&spec, "both", json!({"extra": "yes"}));
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(pointers, ["/name", "/extra"]);
    }

    #[test]
    fn null_needs_x_nullable() {
        let spec = spec();
        assert!(check(&spec, "maybe", json!({"soft": null, "any": null})).is_empty());
        let found = check(&spec, "maybe", json!({"hard": null}));
        assert_eq!(
            found,
            [("/hard".to_string(), "string (not x-nullable)".to_string())]
        );
    }

    #[test]
    fn broken_references_are_reported_not_looped() {
        let spec = spec();
        assert!(check(&spec, "loop", json!({}))[0].1.contains("finite"));
        assert!(check(&spec, "dangling", json!({}))[0].1.contains("nowhere"));
    }

    #[test]
    fn arrays_enums_formats_and_patterns() {
        let spec = spec();
        assert!(check(&spec, "tags", json!(["a", "b"])).is_empty());
        let found = check(&spec, "tags", json!(["a", "a", "z", "b"]));
        let expected: Vec<&str> = found.iter().map(|(_, e)| e.as_str()).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(expected[0].starts_with("at most 3"));
        assert_eq!(expected[1], "unique items");
        assert_eq!(found[2].0, "/2");
        assert!(check(&spec, "when", json!("2026-11-21T06:00:00.123Z")).is_empty());
        assert!(check(&spec, "when", json!("0001-01-01T00:00:00Z")).is_empty());
        assert_eq!(check(&spec, "when", json!("21/11/2026")).len(), 1);
        assert!(check(&spec, "ip", json!("10.0.0.1")).is_empty());
        assert_eq!(check(&spec, "ip", json!("10.0.0")).len(), 1);
        // A look-ahead is valid ECMA but not `regex` syntax: skipped, not guessed.
        assert!(check(&spec, "ecma", json!("xyz")).is_empty());
    }

    static RELAX: Deviation = Deviation {
        id: "test-relax",
        service: Service::Palette,
        operations: Operations::All,
        rule: Rule::AllowType {
            side: Side::Response,
            pointer: "/items/*/name",
            types: &[JsonType::Integer],
        },
        source: "unit test",
        reason: "unit test",
    };
    static OPTIONAL: Deviation = Deviation {
        id: "test-optional",
        service: Service::Palette,
        operations: Operations::All,
        rule: Rule::AllowMissing {
            side: Side::Response,
            pointers: &["/items/*/name"],
        },
        source: "unit test",
        reason: "unit test",
    };

    #[test]
    fn pointer_relaxations_apply_exactly_where_listed() {
        let spec = spec();
        let schema = json!({"type": "object", "properties": {"items": {"type": "array",
            "items": {"$ref": "#/definitions/meta"}}, "name": {"type": "string"}}});
        let mut walker = Walker::new(
            &spec,
            Side::Response,
            Part::ResponseBody,
            vec![&RELAX, &OPTIONAL],
        );
        walker.check(
            &schema,
            &json!({"items": [{"name": 7}, {"count": 1}, {"name": true}], "name": 7}),
        );
        let pointers: Vec<&str> = walker
            .violations
            .iter()
            .map(|v| v.pointer.as_str())
            .collect();
        // `true` is not an allowed type; the top-level `name` is outside the pointer.
        assert_eq!(pointers, ["/items/2/name", "/name"]);
        assert_eq!(
            walker.applied.iter().copied().collect::<Vec<_>>(),
            ["test-optional", "test-relax"]
        );
        // On the request side the same deviations do nothing.
        let mut walker = Walker::new(&spec, Side::Request, Part::RequestBody, vec![&RELAX]);
        walker.check(&schema, &json!({"items": [{"name": 7}]}));
        assert_eq!(walker.violations.len(), 1);
        assert!(walker.applied.is_empty());
    }
}
