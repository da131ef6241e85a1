//! Run-time configuration read from environment variables.
//!
//! Follows clinical-mdr-api's conventions: an empty variable counts as unset,
//! and a boolean switch is off only for `false`, `0`, `off` or `no`
//! (case-insensitive), so a typo fails closed (auth stays on).

use axum::http::HeaderValue;

use crate::dpop::{DpopSettings, PublicUrl, DEFAULT_IAT_WINDOW};
use crate::workspaces::{Workspaces, DEFAULT_TRE_WORKSPACES};

/// Default port when `API_PORT` is unset.
pub const DEFAULT_PORT: u16 = 8091;
/// Default `API_CORS_ORIGINS`: the Gatehouse dev server.
pub const DEFAULT_CORS_ORIGINS: &str = "http://127.0.0.1:8080,http://localhost:8080";

/// The API's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Token validation settings; `None` when `OAUTH_ENABLED` is off.
    pub oauth: Option<OAuthConfig>,
    /// `OAUTH_RBAC_ENABLED`: whether app roles are enforced.
    pub rbac_enabled: bool,
    /// `API_PORT`: port to listen on (on 127.0.0.1 only).
    pub port: u16,
    /// `API_CORS_ORIGINS`: origins allowed to call the API from a browser.
    pub cors_origins: Vec<HeaderValue>,
    /// `TRE_WORKSPACES`: the Azure TRE workspaces and their app ids.
    pub workspaces: Workspaces,
    /// `API_PUBLIC_URL`: the URLs the API is reached at, for DPoP proofs' `htu`; `None`:
    /// `http://127.0.0.1:<port>` and `http://localhost:<port>`.
    pub public_urls: Option<Vec<PublicUrl>>,
    /// `API_DPOP_NONCE`: whether DPoP proofs must carry a nonce from this API.
    pub dpop_nonce: bool,
    /// `API_DPOP_IAT_WINDOW`: how far a DPoP proof's `iat` may be from now, seconds.
    pub dpop_iat_window: u64,
}

/// Settings needed to validate bearer tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// `OAUTH_METADATA_URL`: the OpenID Connect discovery document.
    pub metadata_url: String,
    /// `OAUTH_API_APP_ID`: this API's application id, the expected `aud`.
    pub api_app_id: String,
}

/// A configuration problem found at start-up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} must be set when OAUTH_ENABLED is on")]
    Missing(&'static str),
    #[error("API_PORT must be a port number (0-65535), got {0:?}")]
    BadPort(String),
    #[error("API_CORS_ORIGINS entry {0:?} is not an origin like http://localhost:8080")]
    BadOrigin(String),
    #[error("TRE_WORKSPACES: {0} (expected id=app-id,id=app-id,...)")]
    BadWorkspaces(String),
    #[error("API_PUBLIC_URL: {0} (expected http(s)://host[:port][/path],...)")]
    BadPublicUrl(String),
    #[error("{0} must be on or off, got {1:?}")]
    BadSwitch(&'static str, String),
    #[error("API_DPOP_IAT_WINDOW must be a number of seconds (1-86400), got {0:?}")]
    BadIatWindow(String),
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a stand-in for the
    /// environment, so tests need not touch process-global state).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let oauth = if get("OAUTH_ENABLED").is_none_or(|v| is_truthy(&v)) {
            Some(OAuthConfig {
                metadata_url: get("OAUTH_METADATA_URL")
                    .ok_or(ConfigError::Missing("OAUTH_METADATA_URL"))?,
                api_app_id: get("OAUTH_API_APP_ID")
                    .ok_or(ConfigError::Missing("OAUTH_API_APP_ID"))?,
            })
        } else {
            None
        };
        let rbac_enabled = get("OAUTH_RBAC_ENABLED").is_none_or(|v| is_truthy(&v));
        let port = match get("API_PORT") {
            None => DEFAULT_PORT,
            Some(p) => p.parse().map_err(|_| ConfigError::BadPort(p))?,
        };
        let cors_origins = parse_origins(
            &get("API_CORS_ORIGINS").unwrap_or_else(|| DEFAULT_CORS_ORIGINS.to_owned()),
        )?;
        let workspaces = Workspaces::parse(
            &get("TRE_WORKSPACES").unwrap_or_else(|| DEFAULT_TRE_WORKSPACES.to_owned()),
        )
        .map_err(ConfigError::BadWorkspaces)?;
        let public_urls = get("API_PUBLIC_URL")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(PublicUrl::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(ConfigError::BadPublicUrl)
            })
            .transpose()?;
        let dpop_nonce = match get("API_DPOP_NONCE") {
            None => false,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "on" | "true" | "1" | "yes" => true,
                "off" | "false" | "0" | "no" => false,
                _ => return Err(ConfigError::BadSwitch("API_DPOP_NONCE", v)),
            },
        };
        let dpop_iat_window = match get("API_DPOP_IAT_WINDOW") {
            None => DEFAULT_IAT_WINDOW,
            Some(v) => v
                .parse()
                .ok()
                .filter(|s| (1..=86_400).contains(s))
                .ok_or(ConfigError::BadIatWindow(v))?,
        };
        Ok(Self {
            oauth,
            rbac_enabled,
            port,
            cors_origins,
            workspaces,
            public_urls,
            dpop_nonce,
            dpop_iat_window,
        })
    }

    /// How DPoP proofs are checked: `htu` against `public_urls` (or this API on 127.0.0.1 and
    /// localhost at `port`), the `iat` window and the nonce switch.
    pub fn dpop_settings(&self) -> DpopSettings {
        let local = DpopSettings::local(self.port);
        DpopSettings {
            public_urls: self.public_urls.clone().unwrap_or(local.public_urls),
            iat_window: self.dpop_iat_window,
            nonce: self.dpop_nonce,
        }
    }
}

/// clinical-mdr-api's rule: only an explicit false-like value switches off.
fn is_truthy(value: &str) -> bool {
    !matches!(
        value.to_ascii_lowercase().as_str(),
        "false" | "0" | "off" | "no"
    )
}

/// Parses a comma-separated list of origins (`scheme://host[:port]`, no path).
pub fn parse_origins(list: &str) -> Result<Vec<HeaderValue>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let origin = o.trim_end_matches('/');
            let rest = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') => {
                    HeaderValue::from_str(origin).map_err(|_| ConfigError::BadOrigin(o.to_owned()))
                }
                _ => Err(ConfigError::BadOrigin(o.to_owned())),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    const REQUIRED: [(&str, &str); 2] = [
        (
            "OAUTH_METADATA_URL",
            "http://127.0.0.1:9000/.well-known/openid-configuration?appid=x",
        ),
        ("OAUTH_API_APP_ID", "api-app-id"),
    ];

    #[test]
    fn defaults() {
        let c = config(&REQUIRED).unwrap();
        assert_eq!(c.port, 8091);
        assert!(c.rbac_enabled);
        let oauth = c.oauth.unwrap();
        assert_eq!(oauth.api_app_id, "api-app-id");
        assert!(oauth.metadata_url.ends_with("?appid=x"));
        assert_eq!(
            c.cors_origins,
            ["http://127.0.0.1:8080", "http://localhost:8080"]
        );
    }

    #[test]
    fn oauth_requires_url_and_app_id_unless_disabled() {
        assert_eq!(
            config(&[("OAUTH_API_APP_ID", "x")]).unwrap_err(),
            ConfigError::Missing("OAUTH_METADATA_URL")
        );
        assert_eq!(
            config(&[("OAUTH_METADATA_URL", "http://x"), ("OAUTH_API_APP_ID", "")]).unwrap_err(),
            ConfigError::Missing("OAUTH_API_APP_ID")
        );
        for off in ["false", "0", "OFF", "No"] {
            assert!(config(&[("OAUTH_ENABLED", off)]).unwrap().oauth.is_none());
        }
    }

    #[test]
    fn switches_fail_closed() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("OAUTH_ENABLED", "flase"));
        vars.push(("OAUTH_RBAC_ENABLED", "maybe"));
        let c = config(&vars).unwrap();
        assert!(c.oauth.is_some());
        assert!(c.rbac_enabled);
        let mut vars = REQUIRED.to_vec();
        vars.push(("OAUTH_RBAC_ENABLED", "off"));
        assert!(!config(&vars).unwrap().rbac_enabled);
    }

    #[test]
    fn tre_workspaces_default_to_the_dev_idp_and_are_checked() {
        let c = config(&REQUIRED).unwrap();
        let ids: Vec<_> = c.workspaces.iter().map(|w| w.id()).collect();
        assert_eq!(ids, ["alpha", "beta"]);

        let mut vars = REQUIRED.to_vec();
        vars.push(("TRE_WORKSPACES", "ws1=app-1"));
        let c = config(&vars).unwrap();
        assert_eq!(
            c.workspaces.get("ws1").unwrap().audience().app_id(),
            "app-1"
        );
        assert!(c.workspaces.get("alpha").is_none());

        let mut bad = REQUIRED.to_vec();
        bad.push(("TRE_WORKSPACES", "alpha"));
        assert!(matches!(config(&bad), Err(ConfigError::BadWorkspaces(_))));
    }

    #[test]
    fn dpop_settings() {
        let c = config(&REQUIRED).unwrap();
        let s = c.dpop_settings();
        assert_eq!(s, DpopSettings::local(8091));
        assert_eq!(s.iat_window, 60);
        assert!(!s.nonce);

        let mut vars = REQUIRED.to_vec();
        vars.push((
            "API_PUBLIC_URL",
            "https://app.example/api, http://127.0.0.1:9",
        ));
        vars.push(("API_DPOP_NONCE", "on"));
        vars.push(("API_DPOP_IAT_WINDOW", "5"));
        let s = config(&vars).unwrap().dpop_settings();
        assert_eq!(
            s.public_urls,
            [
                PublicUrl::parse("https://app.example/api").unwrap(),
                PublicUrl::parse("http://127.0.0.1:9").unwrap()
            ]
        );
        assert!(s.nonce);
        assert_eq!(s.iat_window, 5);

        for (name, value) in [
            ("API_PUBLIC_URL", "app.example"),
            ("API_DPOP_NONCE", "sometimes"),
            ("API_DPOP_IAT_WINDOW", "0"),
            ("API_DPOP_IAT_WINDOW", "a minute"),
        ] {
            let mut bad = REQUIRED.to_vec();
            bad.push((name, value));
            assert!(config(&bad).is_err(), "{name}={value}");
        }
    }

    #[test]
    fn port_and_origins() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("API_PORT", "9999"));
        vars.push((
            "API_CORS_ORIGINS",
            " https://app.example ,http://localhost:3000/ ",
        ));
        let c = config(&vars).unwrap();
        assert_eq!(c.port, 9999);
        assert_eq!(
            c.cors_origins,
            ["https://app.example", "http://localhost:3000"]
        );

        let mut bad = REQUIRED.to_vec();
        bad.push(("API_PORT", "http"));
        assert!(matches!(config(&bad), Err(ConfigError::BadPort(_))));
        for origin in ["*", "localhost:8080", "http://x/path", "http://"] {
            let mut bad = REQUIRED.to_vec();
            bad.push(("API_CORS_ORIGINS", origin));
            assert!(
                matches!(config(&bad), Err(ConfigError::BadOrigin(_))),
                "{origin}"
            );
        }
    }
}
