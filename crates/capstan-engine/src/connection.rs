//! What it takes to talk to an environment's two services: address, credentials (from the
//! secret store), TLS policy and proxy. Health checks, clients for the sync, and "Test
//! connection" are all built from a [`Connection`], so the sandbox and real environments
//! share one path.

use capstan_common::Secret;
use capstan_http::{HttpConfig, TlsPolicy};
use capstan_ipc::setup::{
    EnvironmentConfig, PrismAuthKind, ProxyMode, ProxySettings, SecretsInput, TlsChoice, TlsMode,
};
use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::PaletteAuth;
use capstan_prism::PrismAuth;
use capstan_secrets::names;

/// One service's endpoint, credentials and transport settings.
#[derive(Clone)]
pub(crate) struct ServiceConn<A> {
    pub address: String,
    /// `None` when no credential is saved: the service can be shown but not called.
    pub auth: Option<A>,
    pub tls: TlsPolicy,
    /// `None`: the environment's proxy variables; `Some("")`: direct; else that proxy.
    pub proxy: Option<String>,
}

#[derive(Clone)]
pub(crate) struct Connection {
    pub environment_name: String,
    pub palette: ServiceConn<PaletteAuth>,
    pub palette_project_uid: Option<String>,
    pub prism: ServiceConn<PrismAuth>,
}

impl<A> ServiceConn<A> {
    pub fn http(&self, label: &str) -> HttpConfig {
        let mut config = HttpConfig {
            tls: self.tls.clone(),
            label: label.to_owned(),
            ..HttpConfig::default()
        };
        match self.proxy.as_deref() {
            None => {}
            Some("") => config.no_proxy = true,
            Some(url) => config.proxy = Some(url.to_owned()),
        }
        config
    }
}

/// The TLS policy a choice stands for; a CA bundle is read from its file now.
pub(crate) fn tls_policy(choice: &TlsChoice, service: &str) -> Result<TlsPolicy, IpcError> {
    Ok(match choice.mode {
        TlsMode::System => TlsPolicy::System,
        TlsMode::Insecure => TlsPolicy::Insecure,
        TlsMode::Pinned => {
            let fp = choice
                .pinned_sha256
                .as_deref()
                .map(|s| s.replace(':', "").trim().to_ascii_lowercase())
                .filter(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
                .ok_or_else(|| {
                    invalid(
                        &format!("{service} certificate fingerprint"),
                        "A pinned certificate needs its SHA-256 fingerprint (64 hex digits). Test the connection and choose \"Trust this certificate\".",
                    )
                })?;
            TlsPolicy::Pinned { sha256_hex: fp }
        }
        TlsMode::CaBundle => {
            let path = choice
                .ca_bundle_path
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .ok_or_else(|| {
                    invalid(
                        &format!("{service} CA bundle"),
                        "Choose the PEM file with your CA certificates.",
                    )
                })?;
            let pem = std::fs::read_to_string(path).map_err(|e| {
                invalid(
                    &format!("{service} CA bundle"),
                    &format!("The CA bundle {path} could not be read ({e}). Choose a PEM file that exists and is readable."),
                )
            })?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(invalid(
                    &format!("{service} CA bundle"),
                    &format!(
                        "{path} holds no PEM certificate (no \"BEGIN CERTIFICATE\" block). Export the CA as PEM (Base64) and choose that file."
                    ),
                ));
            }
            TlsPolicy::CaBundle { pem }
        }
    })
}

pub(crate) fn proxy(settings: &ProxySettings) -> Result<Option<String>, IpcError> {
    Ok(match settings.mode {
        ProxyMode::System => None,
        ProxyMode::None => Some(String::new()),
        ProxyMode::Explicit => {
            let url = settings
                .url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    invalid(
                        "proxy",
                        "Enter the proxy address, e.g. http://proxy.example.com:3128.",
                    )
                })?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    "proxy",
                    &format!(
                        "\"{url}\" is not a proxy address. Use http://host:port or https://host:port."
                    ),
                ));
            }
            Some(url.to_owned())
        }
    })
}

/// Secrets for one environment: what was typed wins over what is saved.
#[derive(Clone, Default)]
pub(crate) struct ResolvedSecrets {
    pub palette_api_key: Option<Secret>,
    pub prism_password: Option<Secret>,
    pub prism_api_key: Option<Secret>,
    pub sysadmin_password: Option<Secret>,
}

impl ResolvedSecrets {
    /// Typed values from a form (blank ones ignored).
    pub fn typed(input: &SecretsInput) -> Self {
        let take = |v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| Secret::new(s.to_owned()))
        };
        Self {
            palette_api_key: take(&input.palette_api_key),
            prism_password: take(&input.prism_password),
            prism_api_key: take(&input.prism_api_key),
            sysadmin_password: take(&input.sysadmin_password),
        }
    }

    pub fn or(self, saved: ResolvedSecrets) -> Self {
        Self {
            palette_api_key: self.palette_api_key.or(saved.palette_api_key),
            prism_password: self.prism_password.or(saved.prism_password),
            prism_api_key: self.prism_api_key.or(saved.prism_api_key),
            sysadmin_password: self.sysadmin_password.or(saved.sysadmin_password),
        }
    }

    /// `(secret store name, value)` of every secret present.
    pub fn entries(&self) -> Vec<(&'static str, &Secret)> {
        [
            (names::PALETTE_API_KEY, &self.palette_api_key),
            (names::PRISM_PASSWORD, &self.prism_password),
            (PRISM_API_KEY, &self.prism_api_key),
            (names::PALETTE_SYSADMIN_PASSWORD, &self.sysadmin_password),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.as_ref().map(|v| (n, v)))
        .collect()
    }
}

/// The Prism Central API key's name in the secret store.
pub(crate) const PRISM_API_KEY: &str = "prism_api_key";
pub(crate) const SECRET_NAMES: [&str; 4] = [
    names::PALETTE_API_KEY,
    names::PRISM_PASSWORD,
    PRISM_API_KEY,
    names::PALETTE_SYSADMIN_PASSWORD,
];

/// `https://host:port` for Prism Central from the address field and the port field (a
/// port or scheme typed into the address wins).
pub(crate) fn prism_address(config: &EnvironmentConfig) -> String {
    let address = config.prism.address.trim().trim_end_matches('/');
    let has_port = address
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let with_scheme = if address.contains("://") {
        address.to_owned()
    } else {
        format!("https://{address}")
    };
    if has_port {
        with_scheme
    } else {
        format!("{with_scheme}:{}", config.prism.port)
    }
}

pub(crate) fn for_config(
    config: &EnvironmentConfig,
    secrets: &ResolvedSecrets,
) -> Result<Connection, IpcError> {
    let proxy = proxy(&config.proxy)?;
    let prism_auth = match config.prism.auth {
        PrismAuthKind::Basic => match (&config.prism.username, &secrets.prism_password) {
            (Some(user), Some(password)) if !user.trim().is_empty() => Some(PrismAuth::Basic {
                username: user.trim().to_owned(),
                password: password.clone(),
            }),
            _ => None,
        },
        PrismAuthKind::ApiKey => secrets.prism_api_key.clone().map(PrismAuth::ApiKey),
    };
    Ok(Connection {
        environment_name: config.name.clone(),
        palette: ServiceConn {
            address: config.palette.url.trim().to_owned(),
            auth: secrets.palette_api_key.clone().map(PaletteAuth::ApiKey),
            tls: tls_policy(&config.palette.tls, "Palette")?,
            proxy: proxy.clone(),
        },
        palette_project_uid: config.palette.project_uid.clone(),
        prism: ServiceConn {
            address: prism_address(config),
            auth: prism_auth,
            tls: tls_policy(&config.prism.tls, "Prism Central")?,
            proxy,
        },
    })
}

pub(crate) fn invalid(field: &str, message: &str) -> IpcError {
    let mut e = IpcError::new(ErrorCode::InvalidInput, message.to_owned());
    e.details = Some(serde_json::json!({ "field": field }));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_ipc::setup::{PaletteSettings, PrismSettings};

    fn config(address: &str, port: u16) -> EnvironmentConfig {
        EnvironmentConfig {
            name: "Lab".into(),
            palette: PaletteSettings {
                url: "https://api.spectrocloud.com".into(),
                ..Default::default()
            },
            prism: PrismSettings {
                address: address.into(),
                port,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn the_prism_address_takes_the_port_field_unless_one_was_typed() {
        assert_eq!(
            prism_address(&config("pc.lab", 9440)),
            "https://pc.lab:9440"
        );
        assert_eq!(
            prism_address(&config("10.0.0.5:9441", 9440)),
            "https://10.0.0.5:9441"
        );
        assert_eq!(
            prism_address(&config("https://pc.lab/", 9440)),
            "https://pc.lab:9440"
        );
    }

    #[test]
    fn tls_choices_are_checked_before_use() {
        let pinned = |fp: &str| TlsChoice {
            mode: TlsMode::Pinned,
            pinned_sha256: Some(fp.into()),
            ..Default::default()
        };
        let fp = "AB:".repeat(31) + "AB";
        assert!(
            matches!(tls_policy(&pinned(&fp), "Prism Central"), Ok(TlsPolicy::Pinned { sha256_hex }) if sha256_hex == "ab".repeat(32))
        );
        let e = tls_policy(&pinned("abc"), "Prism Central").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        let missing = TlsChoice {
            mode: TlsMode::CaBundle,
            ca_bundle_path: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let e = tls_policy(&missing, "Palette").unwrap_err();
        assert!(e.message.contains("/nonexistent/ca.pem"), "{}", e.message);
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.txt");
        std::fs::write(&not_pem, "hello").unwrap();
        let e = tls_policy(
            &TlsChoice {
                mode: TlsMode::CaBundle,
                ca_bundle_path: Some(not_pem.display().to_string()),
                ..Default::default()
            },
            "Palette",
        )
        .unwrap_err();
        assert!(e.message.contains("no PEM certificate"), "{}", e.message);
    }

    #[test]
    fn proxies_must_be_addresses() {
        let explicit = |url: &str| ProxySettings {
            mode: ProxyMode::Explicit,
            url: Some(url.into()),
        };
        assert_eq!(
            proxy(&explicit("http://p:3128")).unwrap().as_deref(),
            Some("http://p:3128")
        );
        assert_eq!(
            proxy(&explicit("p:3128")).unwrap_err().code,
            ErrorCode::InvalidInput
        );
        assert_eq!(
            proxy(&ProxySettings {
                mode: ProxyMode::None,
                url: None
            })
            .unwrap()
            .as_deref(),
            Some("")
        );
    }

    #[test]
    fn typed_secrets_win_over_saved_ones_and_blanks_are_ignored() {
        let typed = ResolvedSecrets::typed(&SecretsInput {
            palette_api_key: Some("typed-key".into()),
            prism_password: Some("  ".into()),
            ..Default::default()
        });
        let saved = ResolvedSecrets {
            palette_api_key: Some(Secret::new("saved-key".to_owned())),
            prism_password: Some(Secret::new("saved-pw".to_owned())),
            ..Default::default()
        };
        let merged = typed.or(saved);
        assert_eq!(merged.palette_api_key.unwrap().expose(), "typed-key");
        assert_eq!(merged.prism_password.unwrap().expose(), "saved-pw");
    }
}
