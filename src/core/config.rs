//! Runtime configuration, read from `/config.json` at start-up so one build serves every
//! environment. Key names follow StudyBuilder's UI so its operators can reuse their environment.
//!
//! Parsing is strict where a mistake would surface later as a confusing sign-in failure: every
//! error names the key and says what a valid value looks like.

use super::json::{self, quote, Map, Value};
use super::views::{self, ApiView};
use std::fmt;

/// Scopes requested on every sign-in besides the API scopes.
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Whether the authorization response comes back in the URL fragment or the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    Fragment,
    Query,
}

impl ResponseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Fragment => "fragment",
            ResponseMode::Query => "query",
        }
    }
}

/// The token whose claims carry the user's roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolesToken {
    AccessToken,
    IdToken,
}

/// Everything the OpenID Connect client needs; present only when sign-in is enabled.
#[derive(Clone, Debug, PartialEq)]
pub struct OAuthConfig {
    pub metadata_url: String,
    pub client_id: String,
    pub api_app_id: String,
    pub api_app_id_uri: String,
    /// API scopes, already prefixed with the application ID URI.
    pub api_scopes: Vec<String>,
    pub redirect_path: String,
    pub response_mode: ResponseMode,
    /// Dotted path to the roles claim, split into segments (`realm_access.roles`).
    pub roles_claim: Vec<String>,
    pub roles_token: RolesToken,
    /// `prompt` sent with every authorization request (`login`, `select_account`, ...).
    pub prompt: Option<String>,
    /// `domain_hint` sent with every authorization request (Entra home-realm discovery).
    pub domain_hint: Option<String>,
}

impl OAuthConfig {
    /// The full `scope` parameter: the OIDC scopes followed by the API scopes.
    pub fn scope(&self) -> String {
        OIDC_SCOPES
            .iter()
            .map(|s| s.to_string())
            .chain(self.api_scopes.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The whole application configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct AppConfig {
    /// `None` when `OAUTH_ENABLED` is false: the app runs without sign-in.
    pub oauth: Option<OAuthConfig>,
    /// Base URL of the API without a trailing slash; empty means the app's own origin.
    pub api_base_url: String,
    /// What the landing page says the app fronts.
    pub api_name: String,
    /// API views declared under `VIEWS`.
    pub views: Vec<ApiView>,
}

/// Why the configuration cannot be used. Each variant names the offending key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `/config.json` could not be fetched at all.
    Unavailable(String),
    /// The file is not a JSON object.
    NotAnObject(String),
    /// A key required when sign-in is enabled is absent or empty.
    Missing(&'static str),
    /// A key is present but its value is unusable.
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    /// `VIEWS` is not a valid list of API views.
    BadViews(String),
}

impl ConfigError {
    /// The configuration key at fault, if one is.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            ConfigError::Missing(key) | ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::BadViews(_) => Some("VIEWS"),
            _ => None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Unavailable(why) => {
                write!(f, "The configuration file /config.json could not be loaded: {why}.")
            }
            ConfigError::NotAnObject(why) => write!(
                f,
                "The configuration file /config.json is not a JSON object ({why}). It must look like {{\"OAUTH_METADATA_URL\": \"…\", …}}."
            ),
            ConfigError::Missing(key) => write!(
                f,
                "{key} is missing from /config.json. It is required while sign-in is enabled (OAUTH_ENABLED)."
            ),
            ConfigError::BadViews(why) => write!(f, "VIEWS in /config.json is invalid: {why}."),
            ConfigError::Invalid { key, value, expected } => {
                write!(f, "{key} in /config.json has the value {}; expected {expected}.", quote(value))
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Parses the text of `config.json`.
pub fn parse(text: &str) -> Result<AppConfig, ConfigError> {
    let value = json::parse(text).map_err(|e| ConfigError::NotAnObject(e.to_string()))?;
    match value {
        Value::Object(map) => from_map(&map),
        other => Err(ConfigError::NotAnObject(format!("found {}", kind(&other)))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a key as trimmed text. Absent, null and empty count as unset, like clinical-mdr-api's
/// environment variables; numbers and booleans are accepted as their text.
fn text(map: &Map, key: &'static str) -> Result<Option<String>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(ConfigError::Invalid {
            key,
            value: other.to_string(),
            expected: "a string",
        }),
    }
}

fn required(map: &Map, key: &'static str) -> Result<String, ConfigError> {
    text(map, key)?.ok_or(ConfigError::Missing(key))
}

/// Parses a flag the way StudyBuilder does: `true`/`on`/`1`/`yes` and `false`/`off`/`0`/`no`,
/// case-insensitive.
pub fn parse_flag(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Some(true),
        "false" | "off" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn is_http_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/'))
}

fn url(key: &'static str, value: String) -> Result<String, ConfigError> {
    if is_http_url(&value) && !value.contains(char::is_whitespace) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            key,
            value,
            expected: "an absolute http:// or https:// URL",
        })
    }
}

/// Prefixes a relative scope with the API's application ID URI; full scopes (containing `://`
/// or starting with `api:`) pass through.
fn full_scope(uri: &str, scope: &str) -> String {
    if scope.contains("://") || scope.starts_with("api:") || scope.starts_with("urn:") {
        scope.to_string()
    } else {
        format!("{}/{}", uri.trim_end_matches('/'), scope)
    }
}

fn from_map(map: &Map) -> Result<AppConfig, ConfigError> {
    let enabled = match text(map, "OAUTH_ENABLED")? {
        None => true,
        Some(v) => parse_flag(&v).ok_or(ConfigError::Invalid {
            key: "OAUTH_ENABLED",
            value: v,
            expected: "true/false (also on/off, 1/0, yes/no)",
        })?,
    };

    let api_base_url = match text(map, "API_BASE_URL")? {
        None => String::new(),
        Some(v) if (v.starts_with('/') && !v.starts_with("//")) || is_http_url(&v) => {
            v.trim_end_matches('/').to_string()
        }
        Some(v) => {
            return Err(ConfigError::Invalid {
                key: "API_BASE_URL",
                value: v,
                expected: "an absolute http(s) URL or a path starting with /",
            })
        }
    };
    let api_name = text(map, "API_NAME")?.unwrap_or_else(|| "the API".to_string());
    let views = match map.get("VIEWS") {
        None | Some(Value::Null) => Ok(Vec::new()),
        // VIEWS may also arrive as JSON text (e.g. an environment variable copied verbatim).
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => json::parse(s)
            .map_err(|e| e.to_string())
            .and_then(|v| views::parse(&v)),
        Some(other) => views::parse(other),
    }
    .map_err(ConfigError::BadViews)?;

    if !enabled {
        return Ok(AppConfig {
            oauth: None,
            api_base_url,
            api_name,
            views,
        });
    }

    let metadata_url = url("OAUTH_METADATA_URL", required(map, "OAUTH_METADATA_URL")?)?;
    let client_id = required(map, "OAUTH_UI_APP_ID")?;
    let api_app_id = required(map, "OAUTH_API_APP_ID")?;
    let api_app_id_uri =
        text(map, "OAUTH_API_APP_ID_URI")?.unwrap_or_else(|| format!("api://{api_app_id}"));
    let api_scopes: Vec<String> = text(map, "OAUTH_SCOPES")?
        .unwrap_or_else(|| "API.call".to_string())
        .split_whitespace()
        .map(|s| full_scope(&api_app_id_uri, s))
        .collect();

    let redirect_path =
        text(map, "OAUTH_REDIRECT_PATH")?.unwrap_or_else(|| "/oauth-callback".into());
    if !redirect_path.starts_with('/')
        || redirect_path.starts_with("//")
        || redirect_path.contains(['?', '#'])
    {
        return Err(ConfigError::Invalid {
            key: "OAUTH_REDIRECT_PATH",
            value: redirect_path,
            expected: "a path on this site such as /oauth-callback (no query or fragment)",
        });
    }

    let response_mode = match text(map, "OAUTH_RESPONSE_MODE")?.as_deref() {
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

    let roles_claim_text = text(map, "OAUTH_ROLES_CLAIM")?.unwrap_or_else(|| "roles".into());
    let roles_claim: Vec<String> = roles_claim_text.split('.').map(str::to_string).collect();
    if roles_claim.iter().any(|segment| segment.is_empty()) {
        return Err(ConfigError::Invalid {
            key: "OAUTH_ROLES_CLAIM",
            value: roles_claim_text,
            expected: "a claim name, or a dotted path such as realm_access.roles",
        });
    }

    let roles_token = match text(map, "OAUTH_ROLES_TOKEN")?.as_deref() {
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

    Ok(AppConfig {
        oauth: Some(OAuthConfig {
            metadata_url,
            client_id,
            api_app_id,
            api_app_id_uri,
            api_scopes,
            redirect_path,
            response_mode,
            roles_claim,
            roles_token,
            prompt: text(map, "OAUTH_PROMPT")?,
            domain_hint: text(map, "OAUTH_DOMAIN_HINT")?,
        }),
        api_base_url,
        api_name,
        views,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{
        "OAUTH_METADATA_URL": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration?appid=a",
        "OAUTH_UI_APP_ID": "ui-id",
        "OAUTH_API_APP_ID": "api-id"
    }"#;

    fn oauth(text: &str) -> OAuthConfig {
        parse(text).unwrap().oauth.unwrap()
    }

    #[test]
    fn defaults_follow_studybuilder() {
        let c = oauth(MINIMAL);
        assert_eq!(c.api_app_id_uri, "api://api-id");
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
            (r#""API_BASE_URL":"ftp://files""#, "API_BASE_URL"),
            (r#""OAUTH_SCOPES":["API.call"]"#, "OAUTH_SCOPES"),
            (r#""VIEWS":[{"id":"x"}]"#, "VIEWS"),
            (r#""VIEWS":"not json""#, "VIEWS"),
        ];
        for (extra, key) in cases {
            let text = format!(
                r#"{{"OAUTH_METADATA_URL":"https://idp/x","OAUTH_UI_APP_ID":"u","OAUTH_API_APP_ID":"a",{extra}}}"#
            );
            // The last of duplicate keys wins, so `extra` overrides the base.
            let err = parse(&text).unwrap_err();
            assert_eq!(err.key(), Some(key), "{text}");
            assert!(err.to_string().contains(key));
        }
    }

    #[test]
    fn views_may_be_an_array_or_json_text() {
        let base = r#""OAUTH_ENABLED":false"#;
        let array = parse(&format!(
            r#"{{{base},"VIEWS":[{{"id":"a","title":"A","path":"/a","body":{{"n":1.50}}}}]}}"#
        ))
        .unwrap();
        let text = parse(&format!(
            r#"{{{base},"VIEWS":"[{{\"id\":\"a\",\"title\":\"A\",\"path\":\"/a\",\"body\":{{\"n\":1.50}}}}]"}}"#
        ))
        .unwrap();
        assert_eq!(array.views, text.views);
        assert_eq!(array.views[0].body_text(), "{\n  \"n\": 1.50\n}");
        let err = parse(&format!(r#"{{{base},"VIEWS":"[{{\"id\":}}]"}}"#)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VIEWS in /config.json is invalid: expected a value at line 1 column 8."
        );
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
