//! API entities read straight into redacted JSON text.
//!
//! The sync lists 25,000 VMs of about 2.5 KB each. Parsing every one into a
//! `serde_json::Value` tree, walking the tree to redact it, serialising it back and freeing
//! the tree costs more CPU than the SQLite writes. [`RedactedJson`] is a `Deserialize` type
//! that does the same in one streaming pass: the API response is deserialised *into*
//! `ListResponse<RedactedJson>`, and each entity comes out as compact JSON text with the
//! same redaction as [`redact_json`] (a sensitive key's non-null value becomes `"***"`, URL
//! userinfo inside strings is stripped). Records are then read from that text
//! (e.g. [`crate::VmRecord::from_redacted`]).

use std::fmt;
use std::fmt::Write as _;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::Result;
use crate::redact::{REDACTED, is_sensitive_key, redact_json, redact_url_credentials};

/// One entity as compact JSON text, already redacted. Deserialising it from an API response
/// redacts on the way in, without building a `Value` tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactedJson(String);

impl RedactedJson {
    /// Redacts an already parsed entity.
    pub fn from_value(mut value: Value) -> Result<Self> {
        redact_json(&mut value);
        Ok(Self(serde_json::to_string(&value)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for RedactedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let mut out = String::with_capacity(4096);
        Transcode { out: &mut out }.deserialize(deserializer)?;
        Ok(Self(out))
    }
}

/// Writes JSON for whatever the deserializer yields, redacting as it goes.
struct Transcode<'a> {
    out: &'a mut String,
}

/// Writes `text` as a JSON string, escaped exactly as `serde_json` does (so the output
/// matches the `Value` route byte for byte); runs without escapes are copied whole.
fn write_str(out: &mut String, text: &str) {
    out.push('"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // Only ASCII bytes end a run, so `start..i` stays on character boundaries.
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

impl<'de> DeserializeSeed<'de> for Transcode<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Transcode<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<(), E> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<(), E> {
        write!(self.out, "{v}").map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<(), E> {
        write!(self.out, "{v}").map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<(), E> {
        // serde_json's float format (not Rust's `Display`), as the `Value` route writes it.
        self.out
            .push_str(&serde_json::to_string(&v).map_err(E::custom)?);
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<(), E> {
        // memchr for ':' first: most strings (uuids, names) have none.
        if v.as_bytes().contains(&b':') && v.contains("://") {
            write_str(self.out, &redact_url_credentials(v));
        } else {
            write_str(self.out, v);
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.out.push_str("null");
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        self.out.push('[');
        let mut first = true;
        loop {
            // The separator goes in before we know whether another element follows; it is
            // taken back at the end.
            let mark = self.out.len();
            if !first {
                self.out.push(',');
            }
            if seq
                .next_element_seed(Transcode { out: self.out })?
                .is_none()
            {
                self.out.truncate(mark);
                break;
            }
            first = false;
        }
        self.out.push(']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        self.out.push('{');
        let mut first = true;
        loop {
            let mark = self.out.len();
            if !first {
                self.out.push(',');
            }
            let Some(sensitive) = map.next_key_seed(Key { out: self.out })? else {
                self.out.truncate(mark);
                break;
            };
            first = false;
            self.out.push(':');
            if sensitive {
                // Same rule as `redact_json`: a null stays null, anything else goes.
                let is_null = map.next_value_seed(IsNull)?;
                if is_null {
                    self.out.push_str("null");
                } else {
                    write_str(self.out, REDACTED);
                }
            } else {
                map.next_value_seed(Transcode { out: self.out })?;
            }
        }
        self.out.push('}');
        Ok(())
    }
}

/// Writes an object key; yields whether its value must be redacted.
struct Key<'a> {
    out: &'a mut String,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> std::result::Result<bool, E> {
        write_str(self.out, key);
        Ok(is_sensitive_key(key))
    }
}

/// Skips a value, telling whether it was `null`.
struct IsNull;

impl<'de> DeserializeSeed<'de> for IsNull {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<bool, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for IsNull {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<bool, E> {
        Ok(true)
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<bool, E> {
        Ok(true)
    }

    fn visit_some<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<bool, D::Error> {
        IgnoredAny::deserialize(deserializer)?;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn via_value(text: &str) -> Value {
        let mut value: Value = serde_json::from_str(text).unwrap();
        redact_json(&mut value);
        value
    }

    fn streamed(text: &str) -> Value {
        let redacted: RedactedJson = serde_json::from_str(text).unwrap();
        serde_json::from_str(redacted.as_str()).unwrap()
    }

    #[test]
    fn streaming_redaction_matches_the_value_route() {
        let samples = [
            json!({"metadata": {"uuid": "vm-1", "categories": {"Env": "prod"}},
                   "spec": {"resources": {"guest_customization": {"cloud_init": {
                       "user_data": "I2Nsb3VkLWNvbmZpZwo=", "meta_data": null}}}},
                   "status": {"name": "a \"quoted\" \\ name \u{e9}\u{1F600}\n\t", "api_key": null,
                              "Password": {"nested": [1, 2]}, "n": [1.5, -3, 18446744073709551615u64, 0.1, 1e300, true, false, null],
                              "url": "https://admin:hunter2@pc.example:9440/x", "empty": {}, "list": [],
                              "deep": [[{"token": "t"}], {"x-Auth-Token": 5}]}}),
            json!([]),
            json!("https://u:p@h/"),
            json!(42),
            json!({"a": {"b": {"c": {"secretKey": ["x"], "ok": "keep"}}}}),
        ];
        for sample in samples {
            let text = serde_json::to_string(&sample).unwrap();
            assert_eq!(streamed(&text), via_value(&text), "{text}");
        }
        // Escapes and unicode as another encoder might send them.
        let text = r#"{"name":"caf\u00e9 \ud83d\ude00 \/x","PASSWORD":"p","t":1.0,"e":2E3}"#;
        assert_eq!(streamed(text), via_value(text));
        let redacted: RedactedJson = serde_json::from_str(text).unwrap();
        assert!(
            !redacted.as_str().contains("\"p\""),
            "{}",
            redacted.as_str()
        );
    }

    #[test]
    fn text_is_escaped_and_numbers_written_as_serde_json_does() {
        for value in [
            json!({"s": "quote \" backslash \\ nl \n cr \r tab \t bs \u{8} ff \u{c} nul \u{0} us \u{1f} del \u{7f} é 😀 </"}),
            json!({"n": [0, -1, 1.5, 1e300, -2.5e-10, 18446744073709551615u64, -9223372036854775808i64]}),
            json!({"e": "", "b": [true, false, null], "o": {}}),
        ] {
            let text = serde_json::to_string(&value).unwrap();
            let redacted: RedactedJson = serde_json::from_str(&text).unwrap();
            // Keys are sorted in both, so the texts must match byte for byte.
            assert_eq!(redacted.as_str(), text);
        }
    }

    #[test]
    fn secrets_never_reach_the_text() {
        let text = r#"{"spec":{"resources":{"guest_customization":{"cloud_init":{"user_data":"SECRETDATA"}}},
            "credentials":{"NUTANIX_PASSWORD":"SECRETPASS"},"endpoint":"https://me:SECRETURL@pc/"}}"#;
        let redacted: RedactedJson = serde_json::from_str(text).unwrap();
        for secret in ["SECRETDATA", "SECRETPASS", "SECRETURL"] {
            assert!(!redacted.as_str().contains(secret), "{}", redacted.as_str());
        }
        assert_eq!(
            RedactedJson::from_value(serde_json::from_str(text).unwrap())
                .unwrap()
                .as_str()
                .len(),
            redacted.as_str().len()
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(serde_json::from_str::<RedactedJson>(r#"{"a": [1, }"#).is_err());
        assert!(serde_json::from_str::<RedactedJson>(r#"{"a": 1"#).is_err());
    }
}
