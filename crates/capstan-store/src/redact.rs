//! Redaction helpers. The store never stores secrets on purpose (secrets live in the OS
//! keyring), but API paths, error messages and entity JSON come from outside and can carry
//! them by accident: `https://user:pass@host`, an echoed `Authorization` header, a
//! `NUTANIX_PASSWORD` inside a cloud account, a kubeadm token inside a VM's cloud-init
//! `user_data`. Callers redact activity messages before appending them; the store also runs
//! these helpers itself on everything it writes from outside text, as a second line.
//!
//! The rules are deliberately blunt: losing a harmless value such as `tokenExpiry` is a
//! better failure than keeping a password.

use serde_json::Value;

/// What replaces a redacted value. Same marker as `capstan_common::Secret` prints.
pub const REDACTED: &str = "***";

/// Key fragments (lower case, `_` and `-` removed) whose values are secrets. A key matches
/// when its normalised form *contains* one of these.
const SENSITIVE_KEY_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "authorization",
    "privatekey",
    "cookie",
    "pairingcode",
    // cloud-init / sysprep payloads: CAPX VMs carry kubeadm join tokens and certificates here
    "userdata",
    "unattendxml",
];

/// Length of the shortest of [`SENSITIVE_KEY_FRAGMENTS`].
const SHORTEST_FRAGMENT: usize = {
    let mut shortest = usize::MAX;
    let mut i = 0;
    while i < SENSITIVE_KEY_FRAGMENTS.len() {
        if SENSITIVE_KEY_FRAGMENTS[i].len() < shortest {
            shortest = SENSITIVE_KEY_FRAGMENTS[i].len();
        }
        i += 1;
    }
    shortest
};

/// Which bytes start one of [`SENSITIVE_KEY_FRAGMENTS`].
const FRAGMENT_STARTS: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SENSITIVE_KEY_FRAGMENTS.len() {
        table[SENSITIVE_KEY_FRAGMENTS[i].as_bytes()[0] as usize] = true;
        i += 1;
    }
    table
};

/// The same fragments as they appear in free text (headers, query strings, echoed JSON).
const SENSITIVE_TEXT_KEYS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "authorization",
    "private_key",
    "privatekey",
    "cookie",
    "pairingcode",
    "user_data",
];

/// Auth schemes kept in front of a redacted `Authorization` value, so the log still says
/// which kind of credential was sent.
const AUTH_SCHEMES: &[&str] = &["basic", "bearer", "digest", "negotiate"];

/// True when a JSON object key or header name names a secret.
pub fn is_sensitive_key(key: &str) -> bool {
    // Called for every key of every cached entity (25,000 VMs), so short ASCII keys are
    // normalised on the stack.
    let mut buffer = [0u8; 64];
    let mut len = 0;
    let fits = key.is_ascii()
        && key
            .bytes()
            .filter(|b| !matches!(b, b'_' | b'-' | b' '))
            .all(|b| {
                if len == buffer.len() {
                    return false;
                }
                buffer[len] = b.to_ascii_lowercase();
                len += 1;
                true
            });
    // Only positions holding a byte some fragment starts with, with room for the shortest
    // fragment after them, are compared: most keys match nothing.
    let contains = |haystack: &[u8]| {
        let last = haystack.len().checked_sub(SHORTEST_FRAGMENT);
        last.is_some_and(|last| {
            (0..=last).any(|i| {
                FRAGMENT_STARTS[usize::from(haystack[i])]
                    && SENSITIVE_KEY_FRAGMENTS.iter().any(|fragment| {
                        let fragment = fragment.as_bytes();
                        fragment[0] == haystack[i] && haystack[i..].starts_with(fragment)
                    })
            })
        })
    };
    if fits {
        return contains(&buffer[..len]);
    }
    let normalised: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    contains(normalised.as_bytes())
}

/// Replaces the userinfo of every URL in `text` (`https://user:pass@host` becomes
/// `https://***@host`).
pub fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        let authority_len = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_len];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    out
}

/// Redacts free text: URL userinfo, `Authorization:`/`ApiKey:`/`Cookie:` header values,
/// `password=...` query or form fields and `"password": "..."` JSON fields.
pub fn redact(text: &str) -> String {
    redact_key_values(&redact_url_credentials(text))
}

/// Redacts, in place, every JSON value stored under a sensitive key (see
/// [`is_sensitive_key`]), at any depth, and URL credentials inside every string.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if is_sensitive_key(key) && !child.is_null() {
                    *child = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(text) if text.contains("://") => {
            *text = redact_url_credentials(text);
        }
        _ => {}
    }
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn ends_unquoted_value(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b',' | b';' | b'&' | b'}' | b']' | b')' | b'"' | b'\'')
}

/// Finds `<sensitive key>[quote] <: or => [quote]<value>` and replaces the value. Works on
/// bytes: every delimiter is ASCII, so every slice boundary is a char boundary.
fn redact_key_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let lower = lower.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(keyword) = SENSITIVE_TEXT_KEYS
            .iter()
            .find(|k| lower[pos..].starts_with(k.as_bytes()))
        else {
            pos += 1;
            continue;
        };
        // The rest of the key (`NUTANIX_PASSWORD`, `X-Api-Key-Id`), a closing quote, spaces,
        // then the separator.
        let mut j = pos + keyword.len();
        while j < bytes.len() && is_key_char(bytes[j]) {
            j += 1;
        }
        if j < bytes.len() && matches!(bytes[j], b'"' | b'\'') {
            j += 1;
        }
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j >= bytes.len() || !matches!(bytes[j], b':' | b'=') {
            pos += 1;
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let (value_start, value_end) = if j < bytes.len() && matches!(bytes[j], b'"' | b'\'') {
            let quote = bytes[j];
            let start = j + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end] != quote {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            (start, end.min(bytes.len()))
        } else {
            let mut start = j;
            // Keep the scheme of `Authorization: Bearer <token>`.
            let word_end = (start..bytes.len())
                .find(|&i| ends_unquoted_value(bytes[i]))
                .unwrap_or(bytes.len());
            let word = &lower[start..word_end];
            if AUTH_SCHEMES.iter().any(|s| s.as_bytes() == word)
                && word_end < bytes.len()
                && bytes[word_end] == b' '
            {
                start = word_end + 1;
            }
            let end = (start..bytes.len())
                .find(|&i| ends_unquoted_value(bytes[i]))
                .unwrap_or(bytes.len());
            (start, end)
        };
        let value = &text[value_start..value_end];
        if !value.is_empty() && value != REDACTED {
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = value_end;
        }
        pos = value_end.max(pos + 1);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_userinfo_from_every_url() {
        let text = "GET https://admin:hunter2@pc.example:9440/api/nutanix/v3/vms then \
                    ftp://bob@files.example/x and https://plain.example/path";
        let out = redact_url_credentials(text);
        assert!(!out.contains("hunter2"), "{out}");
        assert!(!out.contains("admin:"), "{out}");
        assert!(!out.contains("bob@"), "{out}");
        assert!(
            out.contains("https://***@pc.example:9440/api/nutanix/v3/vms"),
            "{out}"
        );
        assert!(out.contains("https://plain.example/path"), "{out}");
    }

    #[test]
    fn keeps_an_at_sign_in_the_path() {
        let out = redact_url_credentials("https://host.example/users/me@corp");
        assert_eq!(out, "https://host.example/users/me@corp");
    }

    #[test]
    fn redacts_header_values_but_keeps_the_scheme() {
        let out = redact("sent Authorization: Basic YWRtaW46aHVudGVyMg== and ApiKey: k-123abc");
        assert_eq!(out, "sent Authorization: Basic *** and ApiKey: ***");
        let out = redact("authorization=Bearer eyJhbGciOi.x.y; next");
        assert_eq!(out, "authorization=Bearer ***; next");
    }

    #[test]
    fn redacts_json_fields_and_query_parameters_in_text() {
        let out =
            redact(r#"{"NUTANIX_USER":"admin","NUTANIX_PASSWORD":"p@ss \"w0rd\"","port":9440}"#);
        assert!(!out.contains("w0rd"), "{out}");
        assert!(out.contains(r#""NUTANIX_PASSWORD":"***""#), "{out}");
        assert!(out.contains(r#""NUTANIX_USER":"admin""#), "{out}");
        let out = redact("/v1/things?name=a&password=s3cr3t&x=1");
        assert_eq!(out, "/v1/things?name=a&password=***&x=1");
    }

    #[test]
    fn leaves_innocent_text_alone() {
        let text = "the token budget is fine; passwords are rotated monthly";
        assert_eq!(redact(text), text);
        assert_eq!(redact(""), "");
        assert_eq!(
            redact("ünïcødé password: ключ остальное"),
            "ünïcødé password: *** остальное"
        );
    }

    #[test]
    fn sensitive_keys_are_recognised_in_any_spelling_and_length() {
        for key in [
            "password",
            "NUTANIX_PASSWORD",
            "apiKey",
            "X-Api-Key",
            "client-secret",
            "user_data",
        ] {
            assert!(is_sensitive_key(key), "{key}");
        }
        for key in ["name", "uuid", "keys", "sshKeyName", "power_state", ""] {
            assert!(!is_sensitive_key(key), "{key}");
        }
        let long = format!("{}_PASSWORD", "X".repeat(100));
        assert!(is_sensitive_key(&long));
        assert!(is_sensitive_key("Passwört_ÄPIKEY_password"));
        assert!(!is_sensitive_key(&"ü".repeat(40)));
    }

    #[test]
    fn redacts_sensitive_json_keys_at_any_depth() {
        let mut value = json!({
            "spec": {
                "credentials": {
                    "NUTANIX_USER": "admin",
                    "NUTANIX_PASSWORD": "hunter2",
                    "NUTANIX_ENDPOINT": "https://admin:hunter3@10.0.0.10:9440"
                },
                "resources": {"guest_customization": {"cloud_init": {"user_data": "I2Nsb3VkLWNvbmZpZw=="}}},
                "apiKey": {"value": "k"},
                "list": [{"clientSecret": "z"}]
            }
        });
        redact_json(&mut value);
        let text = value.to_string();
        for secret in ["hunter2", "hunter3", "I2Nsb3Vk", "\"k\"", "\"z\""] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(value["spec"]["credentials"]["NUTANIX_USER"], "admin");
    }
}
