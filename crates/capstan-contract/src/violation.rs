//! What a failed check reports.

use std::fmt;

use serde_json::Value;

/// Which part of an exchange a [`Violation`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// The method and path are not an operation of the spec.
    Operation,
    /// The response status is not documented for the operation.
    Status,
    PathParameter,
    QueryParameter,
    RequestContentType,
    RequestBody,
    ResponseContentType,
    ResponseBody,
    /// A deviation entry itself is broken (e.g. its inline schema is not JSON).
    Deviation,
}

impl Part {
    pub fn label(self) -> &'static str {
        match self {
            Part::Operation => "operation",
            Part::Status => "status",
            Part::PathParameter => "path parameter",
            Part::QueryParameter => "query parameter",
            Part::RequestContentType => "request content type",
            Part::RequestBody => "request body",
            Part::ResponseContentType => "response content type",
            Part::ResponseBody => "response body",
            Part::Deviation => "deviation",
        }
    }
}

/// One mismatch between an exchange and the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub part: Part,
    /// JSON pointer into the body (`""` = the whole body); for parameters, `/name`.
    pub pointer: String,
    pub expected: String,
    pub found: String,
}

impl Violation {
    pub(crate) fn new(
        part: Part,
        pointer: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Violation {
        Violation {
            part,
            pointer: pointer.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(
            f,
            "{} {}: expected {}, found {}",
            self.part.label(),
            pointer,
            self.expected,
            self.found
        )
    }
}

/// The JSON type name of a value, as Swagger spells types.
pub(crate) fn json_type(value: &Value) -> JsonType {
    match value {
        Value::Null => JsonType::Null,
        Value::Bool(_) => JsonType::Boolean,
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                JsonType::Integer
            } else {
                JsonType::Number
            }
        }
        Value::String(_) => JsonType::String,
        Value::Array(_) => JsonType::Array,
        Value::Object(_) => JsonType::Object,
    }
}

/// JSON value types a deviation may allow in place of the documented one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Boolean,
    /// A number without a fractional part.
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    pub(crate) fn admits(self, value: &Value) -> bool {
        match (self, json_type(value)) {
            (JsonType::Number, JsonType::Integer) => true,
            (a, b) => a == b,
        }
    }
}

/// A short rendering of a value for a violation's `found`.
pub(crate) fn describe(value: &Value) -> String {
    const MAX: usize = 80;
    let kind = match value {
        Value::Null => return "null".to_string(),
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(a) => return format!("array of {} item(s)", a.len()),
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().take(6).map(String::as_str).collect();
            let more = if o.len() > 6 { ", ..." } else { "" };
            return format!("object {{{}{more}}}", keys.join(", "));
        }
    };
    let mut text = value.to_string();
    if text.chars().count() > MAX {
        text = text.chars().take(MAX).collect::<String>() + "...";
    }
    format!("{kind} {text}")
}

/// Renders a list of pointer segments as a JSON pointer.
pub(crate) fn pointer(segments: &[String]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        out.push_str(&s.replace('~', "~0").replace('/', "~1"));
    }
    out
}
