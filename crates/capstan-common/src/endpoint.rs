//! Address hygiene for user-typed endpoints.
//!
//! Users paste `https://pc.example.com:9440/`, `pc.example.com`, `10.0.0.5:9440` or
//! `https://api.spectrocloud.com/v1/`. CAPX once sent requests to `https:///api/...` because
//! a scheme ended up in the host field (CAPX PR #354). Everything that takes an address
//! from a user goes through [`Endpoint::parse`], which keeps scheme, host and port apart.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("the address is empty; enter a host name or IP address such as pc.example.com")]
    Empty,
    #[error("\"{0}\" is not a valid address: {1}")]
    Invalid(String, String),
    #[error("only https:// and http:// addresses are supported, not \"{0}://\"")]
    UnsupportedScheme(String),
    #[error("\"{0}\" has no host name")]
    NoHost(String),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Endpoint {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// Parses what a user typed. `default_port` applies when none was given (9440 for
    /// Prism Central, 443 for Palette). A missing scheme means `https`. A trailing slash
    /// or path is dropped: the clients add their own API base paths.
    pub fn parse(input: &str, default_port: u16) -> Result<Self, EndpointError> {
        // Only whitespace is trimmed here: trailing slashes and paths are dropped by taking
        // just scheme, host and port from the parsed URL (trimming "/" first would turn
        // "https://" into the host name "https").
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EndpointError::Empty);
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let url = url::Url::parse(&with_scheme)
            .map_err(|e| EndpointError::Invalid(input.trim().to_owned(), e.to_string()))?;
        let scheme = url.scheme().to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(EndpointError::UnsupportedScheme(scheme));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            _ => return Err(EndpointError::NoHost(input.trim().to_owned())),
        };
        let explicit_port = url.port();
        let port = explicit_port.unwrap_or(if trimmed.contains("://") && scheme == "http" {
            if default_port == 443 {
                80
            } else {
                default_port
            }
        } else {
            default_port
        });
        Ok(Self { scheme, host, port })
    }

    /// `scheme://host:port` with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("{}://{}:{}", self.scheme, self.host, self.port)
    }

    /// The bare host, as CAPX's `prismCentral.address` wants it (no scheme, no port).
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_prism_addresses_are_normalised() {
        for input in [
            "https://pc.example.com:9440/",
            "pc.example.com",
            "PC.example.com:9440",
            "  https://pc.example.com:9440/api/nutanix/v3/ ",
        ] {
            let e = Endpoint::parse(input, 9440).unwrap();
            assert_eq!(e.base_url(), "https://pc.example.com:9440", "{input}");
            assert_eq!(e.host(), "pc.example.com");
        }
    }

    #[test]
    fn ip_addresses_and_explicit_ports() {
        let e = Endpoint::parse("10.0.0.5:9441", 9440).unwrap();
        assert_eq!(e.base_url(), "https://10.0.0.5:9441");
        let e = Endpoint::parse("http://127.0.0.1:8080", 443).unwrap();
        assert_eq!(e.base_url(), "http://127.0.0.1:8080");
        let e = Endpoint::parse("http://palette.local", 443).unwrap();
        assert_eq!(e.port, 80);
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        assert_eq!(Endpoint::parse("  ", 9440), Err(EndpointError::Empty));
        assert!(
            matches!(Endpoint::parse("ftp://x", 9440), Err(EndpointError::UnsupportedScheme(s)) if s == "ftp")
        );
        assert!(matches!(
            Endpoint::parse("https://", 9440),
            Err(EndpointError::Invalid(..))
        ));
        let msg = Endpoint::parse("pc:99999", 9440).unwrap_err().to_string();
        assert!(msg.contains("pc:99999"), "{msg}");
    }
}
