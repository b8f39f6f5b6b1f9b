//! A wrapper for secret values (passwords, API keys, tokens).
//!
//! `Debug` and `Display` always print `***`, so a secret that ends up in a log line, a
//! `tracing` field, an error message or a panic shows nothing. Reading the value needs an
//! explicit [`Secret::expose`] call, which makes every use easy to audit with grep.
//! Deserialising is allowed (secrets arrive from the UI and from the keyring); serialising
//! is deliberately not implemented, so a secret can never be written into SQLite, a JSON
//! response or a settings file by accident.

use std::fmt;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const REDACTED: &'static str = "***";

    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Call only at the point where it must leave the process (an HTTP
    /// header, the keyring); never to log or display it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Login {
            user: String,
            password: Secret,
        }
        let login = Login {
            user: "admin".into(),
            password: s.clone(),
        };
        let text = format!("{login:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn deserialises_from_a_plain_string() {
        let s: Secret = serde_json::from_str("\"k3y\"").unwrap();
        assert_eq!(s.expose(), "k3y");
    }
}
