//! Runtime configuration, read from `/config.json` at start-up so one build serves every
//! environment. Key names follow StudyBuilder's UI so its operators can reuse their environment.
//!
//! Parsing is strict where a mistake would surface later as a confusing sign-in failure: every
//! error names the key and says what a valid value looks like, and a key Gatehouse does not know
//! (a typo such as `OAUTH_SCOPE`) is reported rather than ignored. The keys of StudyBuilder's own
//! `config.json` that Gatehouse has no use for ([`STUDYBUILDER_KEYS`]) are ignored by name, so
//! its file can be used as it is.
//!
//! `settings` reads the file as written, `rules` holds the value rules, `views` and `resources`
//! read the two lists, and this module turns them into an [`AppConfig`]; `context` hands it to
//! the UI.

pub mod context;
pub mod resources;
mod rules;
mod settings;
pub mod views;

pub use rules::parse_flag;
pub use settings::{KEYS, STUDYBUILDER_KEYS};

use leptos_oidc_spa::entra::{api_scope, is_entra_url};
use leptos_oidc_spa::{DpopMode, OidcConfig, Resource, ResponseMode, RoleImplication, RolesToken};
use resources::{ApiResource, GRAPH};
use rules::{claim_path, flag, is_base_url, parse_list, required, url, Rejection};
use settings::{Misread, Settings};
use std::collections::BTreeSet;
use thiserror::Error;
use views::ApiView;

/// The whole application configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct AppConfig {
    /// `None` when `OAUTH_ENABLED` is false: the app runs without sign-in.
    pub oauth: Option<OidcConfig>,
    /// Base URL of the API without a trailing slash; empty means the app's own origin.
    pub api_base_url: String,
    /// What the landing page says the app fronts.
    pub api_name: String,
    /// API views declared under `VIEWS`.
    pub views: Vec<ApiView>,
    /// Other APIs declared under `RESOURCES`.
    pub resources: Vec<ApiResource>,
    /// Microsoft Graph's base URL when `GRAPH_PROFILE` is on: the profile shows the person's
    /// photo and job title from it.
    pub graph_base_url: Option<String>,
    /// How long before the session's end the "Stay signed in" notice appears, in milliseconds
    /// (`SESSION_NOTICE_MINUTES`).
    pub session_notice_ms: f64,
    /// Whether the UI gates views by the person's roles (`OAUTH_RBAC_ENABLED`, on by default).
    /// Off, as in StudyBuilder's API, every view is open to everyone signed in.
    pub role_gating: bool,
}

/// The "Stay signed in" notice's lead when `SESSION_NOTICE_MINUTES` is unset.
pub const SESSION_NOTICE_MINUTES: f64 = 10.0;

/// Entra's fixed lifetime of a single-page app's refresh token, from the sign-in.
pub const ENTRA_REFRESH_LIFETIME_HOURS: f64 = 24.0;

impl AppConfig {
    /// The base URL of the API `resource` names (`None`: the main API).
    pub fn base_url_of(&self, resource: Option<&str>) -> Option<&str> {
        match resource {
            None => Some(&self.api_base_url),
            Some(id) => (self.resources.iter().find(|r| r.id == id)).map(|r| r.base_url.as_str()),
        }
    }

    /// How the UI names the API `resource` names.
    pub fn api_name_of<'a>(&'a self, resource: Option<&'a str>) -> &'a str {
        match resource {
            None => &self.api_name,
            Some(id) => (self.resources.iter().find(|r| r.id == id))
                .map(|r| r.name.as_str())
                .unwrap_or(id),
        }
    }

    /// Whether this configuration can finish a sign-in on the page at `path`: sign-in is on and
    /// `path` is its redirect path. A tab's copy that cannot is fetched again.
    pub fn completes_sign_in_at(&self, path: &str) -> bool {
        (self.oauth.as_ref()).is_some_and(|oidc| oidc.redirect_path == path)
    }
}

/// Why the configuration cannot be used. Each variant names the offending key.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// `/config.json` could not be fetched at all.
    #[error("The configuration file /config.json could not be loaded: {0}.")]
    Unavailable(String),
    /// The file is not a JSON object.
    #[error("The configuration file /config.json is not a JSON object ({0}). It must look like {{\"OAUTH_METADATA_URL\": \"…\", …}}.")]
    NotAnObject(String),
    /// A key Gatehouse does not know, most likely a misspelt one.
    #[error("{0} in /config.json is not a Gatehouse setting (misspelt?). The settings are {keys}.", keys = KEYS.join(", "))]
    Unknown(String),
    /// A key required when sign-in is enabled is absent or empty.
    #[error("{0} is missing from /config.json. It is required while sign-in is enabled (OAUTH_ENABLED).")]
    Missing(&'static str),
    /// `OAUTH_API_APP_ID` is absent with an Entra ID discovery URL, which needs it for its scopes.
    #[error("OAUTH_API_APP_ID is missing from /config.json. Microsoft Entra ID (the host of OAUTH_METADATA_URL) names an API's scopes after its application ID: set it to the API's Application (client) ID.")]
    EntraApiMissing,
    /// A key's value has the wrong JSON type.
    #[error("{key} in /config.json is invalid: {why}.")]
    WrongType { key: String, why: String },
    /// A key is present but its value is unusable.
    #[error("{key} in /config.json has the value {value:?}; expected {expected}.")]
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    /// `VIEWS` is not a valid list of API views.
    #[error("VIEWS in /config.json is invalid: {0}.")]
    BadViews(String),
    /// `RESOURCES` is not a list of usable APIs; says which entry and why.
    #[error("RESOURCES in /config.json is invalid: {0}.")]
    BadResources(String),
}

impl ConfigError {
    /// The configuration key at fault, if one is.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Missing(key) | ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::EntraApiMissing => Some("OAUTH_API_APP_ID"),
            ConfigError::Unknown(key) | ConfigError::WrongType { key, .. } => Some(key),
            ConfigError::BadViews(_) => Some("VIEWS"),
            ConfigError::BadResources(_) => Some("RESOURCES"),
            ConfigError::Unavailable(_) | ConfigError::NotAnObject(_) => None,
        }
    }

    /// A rule's rejection of the setting `key`.
    fn at(key: &'static str) -> impl FnOnce(Rejection) -> ConfigError {
        move |rejection| match rejection {
            Rejection::Missing => ConfigError::Missing(key),
            Rejection::Invalid { value, expected } => ConfigError::Invalid {
                key,
                value,
                expected,
            },
        }
    }
}

/// Why the file cannot be read, with the key at fault when there is one.
impl From<Misread> for ConfigError {
    fn from(misread: Misread) -> ConfigError {
        match misread {
            Misread::NotAnObject(why) => ConfigError::NotAnObject(why),
            Misread::Unknown(key) => ConfigError::Unknown(key),
            Misread::WrongType { key, why } => ConfigError::WrongType { key, why },
        }
    }
}

/// Where `config.json` is fetched from.
pub const CONFIG_URL: &str = "/config.json";

/// The sessionStorage key of this tab's copy of `config.json`, which the page a sign-in returns
/// to uses instead of fetching the file again.
pub const CONFIG_COPY_KEY: &str = "gatehouse.config";

/// What Gatehouse's records in sessionStorage (`gatehouse.session`, `gatehouse.login.<state>`),
/// its Web Lock and its BroadcastChannel are named after.
pub const STORAGE_PREFIX: &str = "gatehouse";

/// Microsoft Graph v1.0, where `GRAPH_PROFILE` reads the person's photo and job title.
pub const GRAPH_BASE_URL: &str = "https://graph.microsoft.com/v1.0";

/// The delegated permission the profile needs from Graph.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/User.Read";

/// Parses the text of `config.json`.
pub fn parse(text: &str) -> Result<AppConfig, ConfigError> {
    from_settings(Settings::read(text)?)
}

/// Checks the settings one key at a time and builds the configuration; the first key at fault
/// is the error.
fn from_settings(s: Settings) -> Result<AppConfig, ConfigError> {
    let enabled = flag(s.oauth_enabled, true).map_err(ConfigError::at("OAUTH_ENABLED"))?;

    let api_base_url = match s.api_base_url.0 {
        None => String::new(),
        Some(v) if is_base_url(&v) => v.trim_end_matches('/').to_string(),
        Some(v) => {
            return Err(ConfigError::Invalid {
                key: "API_BASE_URL",
                value: v,
                expected: "an https:// URL (http:// only on localhost) or a path starting with /",
            })
        }
    };
    let api_name = s.api_name.0.unwrap_or_else(|| "the API".to_string());
    let views = parse_list(s.views, views::parse).map_err(ConfigError::BadViews)?;
    let resources = parse_list(s.resources, resources::parse).map_err(ConfigError::BadResources)?;
    // Inserted one by one: collecting would sort first, a stable sort's code for this alone.
    let mut declared = BTreeSet::new();
    for resource in &resources {
        declared.insert(resource.id.as_str());
    }
    for view in &views {
        if let Some(id) = view.resource.as_deref() {
            if !declared.contains(id) {
                return Err(ConfigError::BadViews(format!(
                    "view {:?}: resource {id:?} is not declared in RESOURCES",
                    view.id
                )));
            }
        }
    }
    let role_gating =
        flag(s.oauth_rbac_enabled, true).map_err(ConfigError::at("OAUTH_RBAC_ENABLED"))?;
    let graph = flag(s.graph_profile, false).map_err(ConfigError::at("GRAPH_PROFILE"))?;
    let graph_base_url = match s.graph_base_url.0 {
        Some(v) => url(v).map_err(ConfigError::at("GRAPH_BASE_URL"))?,
        None => GRAPH_BASE_URL.to_string(),
    };
    let graph_base_url =
        (graph && enabled).then(|| graph_base_url.trim_end_matches('/').to_string());

    let notice_minutes = rules::amount(
        s.session_notice_minutes,
        24.0 * 60.0,
        "a number of minutes above 0 and at most 1440, such as 10 or 0.5",
    )
    .map_err(ConfigError::at("SESSION_NOTICE_MINUTES"))?;
    let session_notice_ms = notice_minutes.unwrap_or(SESSION_NOTICE_MINUTES) * 60_000.0;

    if !enabled {
        return Ok(AppConfig {
            oauth: None,
            api_base_url,
            api_name,
            views,
            resources,
            graph_base_url,
            session_notice_ms,
            role_gating,
        });
    }

    let metadata_url = required(s.oauth_metadata_url)
        .and_then(url)
        .map_err(ConfigError::at("OAUTH_METADATA_URL"))?;
    let client_id = required(s.oauth_ui_app_id).map_err(ConfigError::at("OAUTH_UI_APP_ID"))?;
    // Entra names an API's scopes after its application ID URI (`api://<id>/API.call`); other
    // providers' scopes are plain names, sent as written.
    let api_app_id = match s.oauth_api_app_id.0 {
        None if is_entra_url(&metadata_url) => return Err(ConfigError::EntraApiMissing),
        id => id,
    };
    let api_app_id_uri = (s.oauth_api_app_id_uri.0).or(api_app_id.map(|id| format!("api://{id}")));
    let api_scopes: Vec<String> = match &api_app_id_uri {
        Some(uri) => (s.oauth_scopes.0)
            .unwrap_or_else(|| "API.call".to_string())
            .split_whitespace()
            .map(|scope| api_scope(uri, scope))
            .collect(),
        None => (s.oauth_scopes.0)
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    };

    let redirect_path = s
        .oauth_redirect_path
        .0
        .unwrap_or_else(|| "/oauth-callback".into());
    if !rules::is_redirect_path(&redirect_path) {
        return Err(ConfigError::Invalid {
            key: "OAUTH_REDIRECT_PATH",
            value: redirect_path,
            expected: "a path on this site such as /oauth-callback (no query or fragment)",
        });
    }

    let response_mode = match s.oauth_response_mode.0.as_deref() {
        None | Some("fragment") => ResponseMode::Fragment,
        Some("query") => ResponseMode::Query,
        Some(other) => {
            return Err(ConfigError::Invalid {
                key: "OAUTH_RESPONSE_MODE",
                value: other.to_string(),
                expected: "fragment or query",
            })
        }
    };

    let roles_claim_text = s.oauth_roles_claim.0.unwrap_or_else(|| "roles".into());
    let Some(roles_claim) = claim_path(&roles_claim_text) else {
        return Err(ConfigError::Invalid {
            key: "OAUTH_ROLES_CLAIM",
            value: roles_claim_text,
            expected: "a claim name, or a dotted path such as realm_access.roles",
        });
    };

    let roles_token = match s.oauth_roles_token.0.as_deref() {
        None | Some("access_token") => RolesToken::AccessToken,
        Some("id_token") => RolesToken::IdToken,
        Some(other) => {
            return Err(ConfigError::Invalid {
                key: "OAUTH_ROLES_TOKEN",
                value: other.to_string(),
                expected: "access_token or id_token",
            })
        }
    };

    let graph = graph_base_url
        .as_ref()
        .map(|_| Resource::new(GRAPH, "Microsoft Graph", [GRAPH_SCOPE]).without_roles());
    let mut oidc = OidcConfig::new(metadata_url, client_id)
        .with_scopes(api_scopes)
        .with_redirect_path(redirect_path)
        .with_response_mode(response_mode)
        .with_roles_claim_segments(roles_claim)
        .with_roles_token(roles_token)
        // StudyBuilder's APIs let Write imply Read of the same resource (clinical-mdr-api).
        .with_role_implication(RoleImplication::WriteImpliesRead)
        .with_storage_prefix(STORAGE_PREFIX)
        .with_resources(resources.iter().map(ApiResource::to_oidc).chain(graph));
    if let Some(prompt) = s.oauth_prompt.0 {
        oidc = oidc.with_prompt(prompt);
    }
    if let Some(hint) = s.oauth_domain_hint.0 {
        oidc = oidc.with_domain_hint(hint);
    }
    // Entra ends a single-page app's refresh token 24 hours after the sign-in and says so only
    // in refresh_token_expires_in; other providers' rules are theirs to say.
    let refresh_lifetime_hours = rules::amount(
        s.oauth_refresh_lifetime_hours,
        24.0 * 366.0,
        "a number of hours above 0, such as 24",
    )
    .map_err(ConfigError::at("OAUTH_REFRESH_LIFETIME_HOURS"))?
    .or_else(|| is_entra_url(&oidc.metadata_url).then_some(ENTRA_REFRESH_LIFETIME_HOURS));
    if let Some(hours) = refresh_lifetime_hours {
        // Whole milliseconds: a checked amount of hours, at most a year.
        let lifetime = std::time::Duration::from_millis((hours * 3_600_000.0) as u64);
        oidc = oidc.with_refresh_lifetime(lifetime);
    }
    if let Some(value) = s.oauth_client_capabilities.0 {
        let expected = "capability names separated by spaces or commas, such as cp1";
        let names =
            rules::names(value, expected).map_err(ConfigError::at("OAUTH_CLIENT_CAPABILITIES"))?;
        oidc = oidc.with_client_capabilities(names);
    }
    let dpop = match s.oauth_dpop.0.as_deref() {
        None | Some("auto") => DpopMode::Auto,
        Some("off") => DpopMode::Off,
        Some("required") => DpopMode::Required,
        Some(other) => {
            return Err(ConfigError::Invalid {
                key: "OAUTH_DPOP",
                value: other.to_string(),
                expected: "auto, off or required",
            })
        }
    };
    oidc = oidc.with_dpop(dpop);
    if let Some(value) = s.oauth_resource.0 {
        let resource =
            rules::resource_indicator(value).map_err(ConfigError::at("OAUTH_RESOURCE"))?;
        oidc = oidc.with_resource_indicator(resource);
    }
    Ok(AppConfig {
        oauth: Some(oidc),
        api_base_url,
        api_name,
        views,
        resources,
        graph_base_url,
        session_notice_ms,
        role_gating,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const MINIMAL: &str = r#"{
        "OAUTH_METADATA_URL": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration?appid=a",
        "OAUTH_UI_APP_ID": "ui-id",
        "OAUTH_API_APP_ID": "api-id"
    }"#;

    fn oauth(text: &str) -> OidcConfig {
        parse(text).unwrap().oauth.unwrap()
    }

    #[test]
    fn a_copy_finishes_a_sign_in_only_at_its_own_redirect_path() {
        let config = parse(MINIMAL).unwrap();
        assert!(config.completes_sign_in_at("/oauth-callback"));
        assert!(!config.completes_sign_in_at("/other-callback"));
        let disabled = parse(r#"{"OAUTH_ENABLED": "false"}"#).unwrap();
        assert!(
            !disabled.completes_sign_in_at("/oauth-callback"),
            "sign-in off"
        );
    }

    #[test]
    fn defaults_follow_studybuilder() {
        let c = oauth(MINIMAL);
        assert_eq!(c.api_scopes, vec!["api://api-id/API.call"]);
        assert_eq!(
            c.scope(),
            "openid profile email offline_access api://api-id/API.call"
        );
        assert_eq!(c.redirect_path, "/oauth-callback");
        assert_eq!(c.response_mode, ResponseMode::Fragment);
        assert_eq!(c.roles_claim, vec!["roles"]);
        assert_eq!(c.roles_token, RolesToken::AccessToken);
        assert_eq!(parse(MINIMAL).unwrap().api_base_url, "");
    }

    #[test]
    fn scopes_may_be_relative_or_full() {
        let c = oauth(
            r#"{"OAUTH_METADATA_URL":"https://idp/x","OAUTH_UI_APP_ID":"u","OAUTH_API_APP_ID":"a",
            "OAUTH_API_APP_ID_URI":"https://api.example.com/","OAUTH_SCOPES":" user_impersonation  api://other/.default https://graph.microsoft.com/User.Read "}"#,
        );
        assert_eq!(
            c.api_scopes,
            vec![
                "https://api.example.com/user_impersonation",
                "api://other/.default",
                "https://graph.microsoft.com/User.Read"
            ]
        );
    }

    #[test]
    fn without_an_api_id_other_providers_get_their_scopes_as_written() {
        let keycloak = r#"{"OAUTH_METADATA_URL":"https://kc.example/realms/r/.well-known/openid-configuration","OAUTH_UI_APP_ID":"gatehouse"}"#;
        assert_eq!(oauth(keycloak).api_scopes, Vec::<String>::new());
        assert_eq!(
            oauth(keycloak).scope(),
            "openid profile email offline_access"
        );
        let c = oauth(
            r#"{"OAUTH_METADATA_URL":"https://id.example/.well-known/openid-configuration","OAUTH_UI_APP_ID":"u",
            "OAUTH_SCOPES":"studybuilder-api read:studies"}"#,
        );
        assert_eq!(c.api_scopes, vec!["studybuilder-api", "read:studies"]);
        // A prefix given on its own still applies.
        let c = oauth(
            r#"{"OAUTH_METADATA_URL":"https://id.example/x","OAUTH_UI_APP_ID":"u",
            "OAUTH_API_APP_ID_URI":"https://api.example","OAUTH_SCOPES":"read"}"#,
        );
        assert_eq!(c.api_scopes, vec!["https://api.example/read"]);
    }

    #[test]
    fn a_roles_claim_named_by_a_url_is_one_name() {
        let c = oauth(&minimal_with(
            r#""OAUTH_ROLES_CLAIM":"https://gatehouse.example/roles""#,
        ));
        assert_eq!(c.roles_claim, vec!["https://gatehouse.example/roles"]);
        let c = oauth(&minimal_with(
            r#""OAUTH_ROLES_CLAIM":"resource_access.gatehouse.roles""#,
        ));
        assert_eq!(c.roles_claim, vec!["resource_access", "gatehouse", "roles"]);
    }

    #[test]
    fn every_preset_is_a_valid_configuration() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public/presets");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                let config = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(config.oauth.is_some(), "{}", path.display());
                seen.push(path.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                "auth0",
                "azure-tre",
                "destiny",
                "influxion",
                "keycloak",
                "okta",
                "studybuilder"
            ]
        );
        let preset = |name: &str| {
            let text = std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap();
            parse(&text).unwrap().oauth.unwrap()
        };
        assert_eq!(preset("keycloak").api_scopes, vec!["studybuilder-api"]);
        assert_eq!(
            preset("keycloak").roles_claim,
            vec!["realm_access", "roles"]
        );
        assert_eq!(preset("okta").api_scopes, vec!["studybuilder"]);
        assert_eq!(preset("auth0").api_scopes, Vec::<String>::new());
        assert_eq!(
            preset("auth0").roles_claim,
            vec!["https://gatehouse.example/roles"]
        );
    }

    #[test]
    fn the_resource_indicator_is_an_absolute_uri_without_a_fragment() {
        let c = oauth(&minimal_with(r#""OAUTH_RESOURCE":"https://gatehouse-api""#));
        assert_eq!(
            c.resource_indicator.as_deref(),
            Some("https://gatehouse-api")
        );
        let c = oauth(&minimal_with(r#""OAUTH_RESOURCE":"urn:example:api""#));
        assert_eq!(c.resource_indicator.as_deref(), Some("urn:example:api"));
        for bad in [
            "gatehouse-api",
            "/api",
            "https://api#x",
            "https://a b",
            "1https://x",
            ":x",
        ] {
            let err = parse(&minimal_with(&format!(r#""OAUTH_RESOURCE":"{bad}""#))).unwrap_err();
            assert_eq!(err.key(), Some("OAUTH_RESOURCE"), "{bad}");
        }
    }

    #[test]
    fn client_capabilities_are_names_such_as_cp1() {
        let c = oauth(&minimal_with(r#""OAUTH_CLIENT_CAPABILITIES":"cp1""#));
        assert_eq!(c.client_capabilities, vec!["cp1"]);
        let c = oauth(&minimal_with(r#""OAUTH_CLIENT_CAPABILITIES":"cp1, cp2""#));
        assert_eq!(c.client_capabilities, vec!["cp1", "cp2"]);
        assert!(oauth(MINIMAL).client_capabilities.is_empty());
        let err = parse(&minimal_with(r#""OAUTH_CLIENT_CAPABILITIES":"cp1;x""#)).unwrap_err();
        assert_eq!(err.key(), Some("OAUTH_CLIENT_CAPABILITIES"));
    }

    #[test]
    fn the_session_horizon_follows_entra_unless_told_and_the_notice_leads_it() {
        use std::time::Duration;
        let entra = parse(MINIMAL).unwrap();
        assert_eq!(
            entra.oauth.unwrap().refresh_lifetime,
            Some(Duration::from_secs(24 * 3600))
        );
        assert_eq!(entra.session_notice_ms, 600_000.0);
        let other = parse(&minimal_with(
            r#""OAUTH_REFRESH_LIFETIME_HOURS":"0.5","SESSION_NOTICE_MINUTES":"0.25""#,
        ))
        .unwrap();
        assert_eq!(
            other.oauth.unwrap().refresh_lifetime,
            Some(Duration::from_secs(1800))
        );
        assert_eq!(other.session_notice_ms, 15_000.0);
        assert_eq!(oauth(&minimal_with("")).refresh_lifetime, None, "not Entra");
        for (key, bad) in [
            ("OAUTH_REFRESH_LIFETIME_HOURS", "0"),
            ("OAUTH_REFRESH_LIFETIME_HOURS", "-1"),
            ("OAUTH_REFRESH_LIFETIME_HOURS", "a day"),
            ("SESSION_NOTICE_MINUTES", "NaN"),
            ("SESSION_NOTICE_MINUTES", "1441"),
        ] {
            let err = parse(&minimal_with(&format!(r#""{key}":"{bad}""#))).unwrap_err();
            assert_eq!(err.key(), Some(key), "{bad}");
        }
    }

    #[test]
    fn entra_needs_the_api_id_for_its_scopes() {
        let err = parse(
            r#"{"OAUTH_METADATA_URL":"https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration","OAUTH_UI_APP_ID":"u"}"#,
        )
        .unwrap_err();
        assert_eq!(err, ConfigError::EntraApiMissing);
        assert_eq!(err.key(), Some("OAUTH_API_APP_ID"));
        assert!(err.to_string().contains("Application (client) ID"));
    }

    #[test]
    fn enabled_flag_accepts_studybuilder_spellings() {
        for on in ["true", "on", "1", "yes", "TRUE", "Yes"] {
            assert_eq!(parse_flag(on), Some(true), "{on}");
        }
        for off in ["false", "off", "0", "no"] {
            assert_eq!(parse_flag(off), Some(false), "{off}");
        }
        assert_eq!(parse(r#"{"OAUTH_ENABLED": false}"#).unwrap().oauth, None);
        assert_eq!(parse(r#"{"OAUTH_ENABLED": "off"}"#).unwrap().oauth, None);
        assert_eq!(
            parse(r#"{"OAUTH_ENABLED": "maybe"}"#).unwrap_err().key(),
            Some("OAUTH_ENABLED")
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let err = parse(r#"{"OAUTH_METADATA_URL":"https://idp/x","OAUTH_UI_APP_ID":"  ","OAUTH_API_APP_ID":"a"}"#)
            .unwrap_err();
        assert_eq!(err, ConfigError::Missing("OAUTH_UI_APP_ID"));
        assert!(err.to_string().contains("OAUTH_UI_APP_ID"));
    }

    /// A minimal sign-in configuration with the members `extra` (JSON members without the
    /// braces) added or replacing its own.
    fn minimal_with(extra: &str) -> String {
        let mut settings: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"OAUTH_METADATA_URL":"https://idp/x","OAUTH_UI_APP_ID":"u","OAUTH_API_APP_ID":"a"}"#,
        )
        .unwrap();
        let extra: serde_json::Map<String, Value> =
            serde_json::from_str(&format!("{{{extra}}}")).unwrap();
        settings.extend(extra);
        Value::Object(settings).to_string()
    }

    #[test]
    fn oauth_dpop_chooses_whether_tokens_are_bound() {
        let with = |value: &str| {
            let text = MINIMAL.replacen('{', &format!(r#"{{"OAUTH_DPOP": "{value}","#), 1);
            parse(&text).unwrap().oauth.unwrap().dpop
        };
        assert_eq!(parse(MINIMAL).unwrap().oauth.unwrap().dpop, DpopMode::Auto);
        assert_eq!(with("auto"), DpopMode::Auto);
        assert_eq!(with("off"), DpopMode::Off);
        assert_eq!(with("required"), DpopMode::Required);
    }

    #[test]
    fn each_bad_key_is_named() {
        let cases = [
            (
                r#""OAUTH_METADATA_URL":"login.microsoftonline.com""#,
                "OAUTH_METADATA_URL",
            ),
            (
                r#""OAUTH_RESPONSE_MODE":"form_post""#,
                "OAUTH_RESPONSE_MODE",
            ),
            (
                r#""OAUTH_REDIRECT_PATH":"https://evil.example/cb""#,
                "OAUTH_REDIRECT_PATH",
            ),
            (
                r#""OAUTH_ROLES_CLAIM":"realm_access..roles""#,
                "OAUTH_ROLES_CLAIM",
            ),
            (
                r#""OAUTH_ROLES_TOKEN":"refresh_token""#,
                "OAUTH_ROLES_TOKEN",
            ),
            (r#""OAUTH_DPOP":"sometimes""#, "OAUTH_DPOP"),
            (r#""OAUTH_DPOP":"Required""#, "OAUTH_DPOP"),
            (r#""API_BASE_URL":"ftp://files""#, "API_BASE_URL"),
            (r#""API_BASE_URL":"http://api.example""#, "API_BASE_URL"),
            (r#""API_BASE_URL":"javascript:alert(1)""#, "API_BASE_URL"),
            (
                r#""OAUTH_METADATA_URL":"http://idp.example/.well-known/openid-configuration""#,
                "OAUTH_METADATA_URL",
            ),
            (r#""OAUTH_SCOPES":["API.call"]"#, "OAUTH_SCOPES"),
            (r#""VIEWS":[{"id":"x"}]"#, "VIEWS"),
            (r#""VIEWS":"not json""#, "VIEWS"),
        ];
        for (extra, key) in cases {
            let text = minimal_with(extra);
            let err = parse(&text).unwrap_err();
            assert_eq!(err.key(), Some(key), "{text}");
            assert!(err.to_string().contains(key));
        }
    }

    /// A browser drops tabs and line breaks from a URL, so `/\n/evil.example` would become
    /// `//evil.example`, another host: no URL-like value may hold whitespace or a control
    /// character, and the message names the key.
    #[test]
    fn url_values_with_whitespace_or_control_characters_are_refused_naming_the_key() {
        // JSON escapes: the values hold a real line feed, tab, carriage return, space, NUL.
        let hostile = [
            r"/\n/evil.example",
            r"/\t/evil.example",
            r"/\r/evil.example",
            "/ /evil.example",
            r"/\u0000/x",
        ];
        for bad in hostile {
            let cases = [
                (format!(r#""API_BASE_URL":"{bad}""#), "API_BASE_URL"),
                (
                    format!(r#""OAUTH_REDIRECT_PATH":"{bad}""#),
                    "OAUTH_REDIRECT_PATH",
                ),
                (
                    format!(r#""OAUTH_METADATA_URL":"https://idp.example{bad}""#),
                    "OAUTH_METADATA_URL",
                ),
                (
                    format!(
                        r#""GRAPH_PROFILE":true,"GRAPH_BASE_URL":"https://graph.example{bad}""#
                    ),
                    "GRAPH_BASE_URL",
                ),
                (
                    format!(r#""VIEWS":[{{"id":"v","title":"V","path":"/a{bad}"}}]"#),
                    "VIEWS",
                ),
                (
                    format!(
                        r#""RESOURCES":[{{"id":"r","app_id_uri":"api://r","scopes":"x","base_url":"{bad}"}}]"#
                    ),
                    "RESOURCES",
                ),
            ];
            for (extra, key) in cases {
                let text = minimal_with(&extra);
                let err = parse(&text).expect_err(&text);
                assert_eq!(err.key(), Some(key), "{text}: {err}");
            }
        }
    }

    #[test]
    fn twenty_thousand_views_and_apis_are_checked_in_linear_time() {
        let views: Vec<Value> = (0..22_000)
            .map(|i| serde_json::json!({"id": format!("v{i}"), "title": "V", "path": "/x", "resource": format!("r{}", i % 22_000)}))
            .collect();
        let resources: Vec<Value> = (0..22_000)
            .map(|i| serde_json::json!({"id": format!("r{i}"), "app_id_uri": "api://r", "scopes": "x", "base_url": "/r"}))
            .collect();
        let text =
            serde_json::json!({"OAUTH_ENABLED": false, "VIEWS": views, "RESOURCES": resources})
                .to_string();
        let started = std::time::Instant::now();
        let config = parse(&text).unwrap();
        assert_eq!(
            (config.views.len(), config.resources.len()),
            (22_000, 22_000)
        );
        let mut twice = views.clone();
        twice.push(serde_json::json!({"id": "v7", "title": "V", "path": "/x"}));
        let text = serde_json::json!({"OAUTH_ENABLED": false, "VIEWS": twice}).to_string();
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains(r#"view 22001 ("v7"): id is used twice"#),
            "{err}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn views_may_be_an_array_or_json_text() {
        let base = r#""OAUTH_ENABLED":false"#;
        let array = parse(&format!(
            r#"{{{base},"VIEWS":[{{"id":"a","title":"A","path":"/a","body":{{"n":1.5}}}}]}}"#
        ))
        .unwrap();
        let text = parse(&format!(
            r#"{{{base},"VIEWS":"[{{\"id\":\"a\",\"title\":\"A\",\"path\":\"/a\",\"body\":{{\"n\":1.5}}}}]"}}"#
        ))
        .unwrap();
        assert_eq!(array.views, text.views);
        assert_eq!(array.views[0].body_text(), "{\n  \"n\": 1.5\n}");
        let err = parse(&format!(r#"{{{base},"VIEWS":"[{{\"id\":}}]"}}"#)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VIEWS in /config.json is invalid: expected value at line 1 column 8."
        );
    }

    #[test]
    fn unknown_and_mistyped_keys_are_named() {
        let err = parse(r#"{"OAUTH_ENABLED":false,"OAUTH_SCOPE":"API.call"}"#).unwrap_err();
        assert_eq!(err, ConfigError::Unknown("OAUTH_SCOPE".into()));
        assert!(err
            .to_string()
            .contains("OAUTH_SCOPE in /config.json is not a Gatehouse setting"));
        assert!(err.to_string().contains("OAUTH_SCOPES"), "{err}");
        let err = parse(r#"{"OAUTH_ENABLED":false,"API_NAME":{"x":1}}"#).unwrap_err();
        assert_eq!(err.key(), Some("API_NAME"));
        assert_eq!(
            err.to_string(),
            "API_NAME in /config.json is invalid: invalid type: map, expected a string."
        );
    }

    /// StudyBuilder's frontend `config.json` (`studybuilder/public/config.json`, OSB v0.20), with
    /// the `AUTH_*` keys of older releases, exactly as it ships.
    const STUDYBUILDER: &str = include_str!("../../tests/fixtures/studybuilder-config.json");

    #[test]
    fn studybuilders_own_file_is_accepted_as_it_is() {
        // Its OAUTH_ENABLED is "false": it runs without sign-in, calling /api.
        let config = parse(STUDYBUILDER).unwrap();
        assert_eq!(config.oauth, None);
        assert_eq!(config.api_base_url, "/api");
        assert!(config.role_gating);
        assert!(config.views.is_empty());
        let mut keys: serde_json::Map<String, Value> = serde_json::from_str(STUDYBUILDER).unwrap();
        for key in keys.keys() {
            assert!(
                KEYS.contains(&key.as_str()) != STUDYBUILDER_KEYS.contains(&key.as_str()),
                "{key} is a setting or ignored, not both"
            );
        }
        for key in STUDYBUILDER_KEYS {
            assert!(keys.contains_key(key), "{key} is StudyBuilder's");
        }

        // The same file with sign-in on and an Entra registration's values, role checks off.
        let entra = [
            ("OAUTH_ENABLED", "true"),
            ("OAUTH_RBAC_ENABLED", "false"),
            (
                "OAUTH_METADATA_URL",
                "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration",
            ),
            ("OAUTH_UI_APP_ID", "ui-id"),
            ("OAUTH_API_APP_ID", "api-id"),
        ];
        for (key, value) in entra {
            keys.insert(key.into(), value.into());
        }
        let config = parse(&Value::Object(keys).to_string()).unwrap();
        assert!(!config.role_gating);
        let oidc = config.oauth.unwrap();
        assert_eq!(oidc.client_id, "ui-id");
        assert_eq!(oidc.api_scopes, vec!["api://api-id/API.call"]);
    }

    #[test]
    fn role_checks_follow_oauth_rbac_enabled_as_studybuilders_api_reads_it() {
        let gating = |value: Value| {
            let text = serde_json::json!({"OAUTH_ENABLED": false, "OAUTH_RBAC_ENABLED": value});
            parse(&text.to_string()).map(|c| c.role_gating)
        };
        for on in ["true", "on", "1", "yes", "TRUE", "", " "] {
            assert_eq!(gating(on.into()), Ok(true), "{on:?}");
        }
        for off in ["false", "off", "0", "no", "False", "OFF"] {
            assert_eq!(gating(off.into()), Ok(false), "{off:?}");
        }
        assert_eq!(gating(Value::Null), Ok(true), "unset");
        assert_eq!(gating(false.into()), Ok(false));
        assert_eq!(gating(0.into()), Ok(false));
        assert!(parse(r#"{"OAUTH_ENABLED": false}"#).unwrap().role_gating);
        assert!(parse(MINIMAL).unwrap().role_gating);
        let err = gating("disabled".into()).unwrap_err();
        assert_eq!(err.key(), Some("OAUTH_RBAC_ENABLED"));
        assert_eq!(
            err.to_string(),
            "OAUTH_RBAC_ENABLED in /config.json has the value \"disabled\"; expected true/false (also on/off, 1/0, yes/no)."
        );
        let err = gating(serde_json::json!(["false"])).unwrap_err();
        assert_eq!(err.key(), Some("OAUTH_RBAC_ENABLED"));
    }

    #[test]
    fn a_key_neither_gatehouse_nor_studybuilder_uses_is_refused_by_name() {
        let text = STUDYBUILDER.replace(
            r#""OAUTH_ENABLED""#,
            r#""OAUTH_SCOPE": "API.call", "OAUTH_ENABLED""#,
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(err, ConfigError::Unknown("OAUTH_SCOPE".into()));
        let err = parse(r#"{"OAUTH_ENABLED": false, "BUILD_NUMBERS": "1"}"#).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Unknown("BUILD_NUMBERS".into()),
            "names only, no prefixes"
        );
        let err = parse(r#"{"OAUTH_ENABLED": false, "app_env": ""}"#).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Unknown("app_env".into()),
            "names as written"
        );
    }

    #[test]
    fn studybuilders_keys_are_ignored_whatever_their_value() {
        for value in [
            "1.5",
            "20",
            "true",
            "null",
            r#"{"a": [1, {"b": null}]}"#,
            "[]",
            r#""""#,
        ] {
            for key in ["APP_ENV", "BUILD_NUMBER", "APPINSIGHTS_DISABLE"] {
                let text = format!(r#"{{"OAUTH_ENABLED": false, "{key}": {value}}}"#);
                let config = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(config, parse(r#"{"OAUTH_ENABLED": false}"#).unwrap());
            }
        }
    }

    #[test]
    fn resources_and_graph_become_the_clients_resources() {
        let text = r#"{
            "OAUTH_METADATA_URL": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration",
            "OAUTH_UI_APP_ID": "ui", "OAUTH_API_APP_ID": "core",
            "RESOURCES": "[{\"id\":\"alpha\",\"name\":\"TRE workspace alpha\",\"app_id_uri\":\"api://ws-a\",\"scopes\":\"user_impersonation\",\"base_url\":\"https://tre.example/api/workspaces/alpha\"}]",
            "VIEWS": [{"id": "ws", "title": "Workspace", "path": "/", "resource": "alpha", "roles": ["WorkspaceOwner"]}],
            "GRAPH_PROFILE": "on"
        }"#;
        let config = parse(text).unwrap();
        assert_eq!(config.resources.len(), 1);
        assert_eq!(config.graph_base_url.as_deref(), Some(GRAPH_BASE_URL));
        assert_eq!(
            config.base_url_of(Some("alpha")),
            Some("https://tre.example/api/workspaces/alpha")
        );
        assert_eq!(config.base_url_of(None), Some(""));
        assert_eq!(config.api_name_of(Some("alpha")), "TRE workspace alpha");
        let oidc = config.oauth.unwrap();
        let ids: Vec<&str> = oidc.resources.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["alpha", "graph"]);
        assert_eq!(
            oidc.resources[0].scopes,
            vec!["api://ws-a/user_impersonation"]
        );
        assert_eq!(oidc.resources[1].scopes, vec![GRAPH_SCOPE]);
        assert_eq!(
            oidc.resources[1].roles_claim, None,
            "Graph has no roles to show"
        );
        assert_eq!(
            oauth(MINIMAL).resources,
            vec![],
            "no RESOURCES and no GRAPH_PROFILE: the main API only"
        );

        let unknown = parse(&text.replace(r#""resource": "alpha""#, r#""resource": "beta""#));
        assert_eq!(
            unknown.unwrap_err().to_string(),
            "VIEWS in /config.json is invalid: view \"ws\": resource \"beta\" is not declared in RESOURCES."
        );
        let bad = parse(&text.replace("https://tre.example", "http://tre.example"));
        let err = bad.unwrap_err();
        assert_eq!(err.key(), Some("RESOURCES"));
        assert!(
            err.to_string().contains("resource 1 (\"alpha\"): base_url"),
            "{err}"
        );
        let bad = parse(&text.replace(r#""on""#, r#""maybe""#)).unwrap_err();
        assert_eq!(bad.key(), Some("GRAPH_PROFILE"));
        let bad = parse(&text.replace(
            r#""GRAPH_PROFILE""#,
            r#""GRAPH_BASE_URL": "ftp://x", "GRAPH_PROFILE""#,
        ));
        assert_eq!(bad.unwrap_err().key(), Some("GRAPH_BASE_URL"));
    }

    #[test]
    fn not_json_or_not_an_object_is_reported() {
        assert!(matches!(parse("<html>"), Err(ConfigError::NotAnObject(_))));
        assert!(matches!(parse("[1]"), Err(ConfigError::NotAnObject(_))));
    }

    #[test]
    fn nested_roles_claim_and_id_token_source() {
        let c = oauth(
            r#"{"OAUTH_METADATA_URL":"https://idp/x","OAUTH_UI_APP_ID":"u","OAUTH_API_APP_ID":"a",
            "OAUTH_ROLES_CLAIM":"realm_access.roles","OAUTH_ROLES_TOKEN":"id_token","OAUTH_RESPONSE_MODE":"query",
            "API_BASE_URL":"http://127.0.0.1:8091/"}"#,
        );
        assert_eq!(c.roles_claim, vec!["realm_access", "roles"]);
        assert_eq!(c.roles_token, RolesToken::IdToken);
        assert_eq!(c.response_mode, ResponseMode::Query);
    }
}
