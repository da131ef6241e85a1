//! `config.json` as written: a JSON object whose keys are settings ([`KEYS`]) or keys of
//! StudyBuilder's own file that Gatehouse ignores ([`STUDYBUILDER_KEYS`]), read into one
//! [`Setting`] per key of `KEYS` (the two lists as JSON). A key in neither list, or a list or an
//! object where text belongs, is a [`Misread`] naming the key. Checking the values is `rules`'
//! and `from_settings`'.

use serde_json::{Map, Value};

/// Every key `config.json` may hold, in the order the README lists them.
pub const KEYS: [&str; 24] = [
    "OAUTH_ENABLED",
    "OAUTH_METADATA_URL",
    "OAUTH_UI_APP_ID",
    "OAUTH_API_APP_ID",
    "OAUTH_API_APP_ID_URI",
    "OAUTH_SCOPES",
    "OAUTH_REDIRECT_PATH",
    "OAUTH_RESPONSE_MODE",
    "OAUTH_ROLES_CLAIM",
    "OAUTH_ROLES_TOKEN",
    "OAUTH_RBAC_ENABLED",
    "OAUTH_PROMPT",
    "OAUTH_DOMAIN_HINT",
    "OAUTH_RESOURCE",
    "OAUTH_CLIENT_CAPABILITIES",
    "OAUTH_DPOP",
    "OAUTH_REFRESH_LIFETIME_HOURS",
    "SESSION_NOTICE_MINUTES",
    "API_BASE_URL",
    "API_NAME",
    "VIEWS",
    "RESOURCES",
    "GRAPH_PROFILE",
    "GRAPH_BASE_URL",
];

/// The keys of StudyBuilder's own `config.json` (its frontend's, OSB v0.20 and the `AUTH_*` of
/// older releases) that Gatehouse has no use for: accepted whatever their value and ignored, so
/// StudyBuilder's file works as it is. The keys it shares with Gatehouse are in [`KEYS`].
pub const STUDYBUILDER_KEYS: [&str; 23] = [
    "APP_ENV",
    "DOC_BASE_URL",
    "NEODASH_BASE_URL",
    "NEED_HELP_URL",
    "APPINSIGHTS_CONNSTRING",
    "APPINSIGHTS_DISABLE",
    "BUILD_NUMBER",
    "BUILD_BRANCH",
    "BUILD_COMMIT",
    "AUTH_APP_ID",
    "AUTH_AUTHORITY",
    "AUTH_CLIENT_ID",
    "AUTH_ENABLED",
    "API_BUILD_NUMBER",
    "DATA_IMPORT_BUILD_NUMBER",
    "DOCUMENTATION_PORTAL_BUILD_NUMBER",
    "FRONTEND_BUILD_NUMBER",
    "NEO4J_MDR_BUILD_NUMBER",
    "NEODASH_BUILD_NUMBER",
    "RELEASE_VERSION_NUMBER",
    "STANDARDS_IMPORT_BUILD_NUMBER",
    "STUDYBUILDER_EXPORT_BUILD_NUMBER",
    "STUDYBUILDER_VERSION",
];

/// Whether `key` is one of StudyBuilder's keys that Gatehouse ignores.
fn is_ignored(key: &str) -> bool {
    STUDYBUILDER_KEYS.contains(&key)
}

/// One setting as text. Absent, null and empty count as unset, like clinical-mdr-api's
/// environment variables; strings are trimmed; numbers and booleans count as their text (as JSON
/// writes them).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Setting(pub(crate) Option<String>);

/// `config.json` as written: one field per key of `KEYS`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Settings {
    pub(crate) oauth_enabled: Setting,
    pub(crate) oauth_metadata_url: Setting,
    pub(crate) oauth_ui_app_id: Setting,
    pub(crate) oauth_api_app_id: Setting,
    pub(crate) oauth_api_app_id_uri: Setting,
    pub(crate) oauth_scopes: Setting,
    pub(crate) oauth_redirect_path: Setting,
    pub(crate) oauth_response_mode: Setting,
    pub(crate) oauth_roles_claim: Setting,
    pub(crate) oauth_roles_token: Setting,
    pub(crate) oauth_rbac_enabled: Setting,
    pub(crate) oauth_prompt: Setting,
    pub(crate) oauth_domain_hint: Setting,
    pub(crate) oauth_resource: Setting,
    pub(crate) oauth_client_capabilities: Setting,
    pub(crate) oauth_dpop: Setting,
    pub(crate) oauth_refresh_lifetime_hours: Setting,
    pub(crate) session_notice_minutes: Setting,
    pub(crate) api_base_url: Setting,
    pub(crate) api_name: Setting,
    /// A list of views, or the same list as JSON text (an environment variable copied verbatim);
    /// read by `views::parse`.
    pub(crate) views: Option<Value>,
    /// Likewise a list or its JSON text; read by `resources::parse`.
    pub(crate) resources: Option<Value>,
    pub(crate) graph_profile: Setting,
    pub(crate) graph_base_url: Setting,
}

/// Why `config.json` cannot be read, as far as the file tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Misread {
    /// The file is not a JSON object; says what serde found.
    NotAnObject(String),
    /// A key Gatehouse does not know.
    Unknown(String),
    /// A key holds a list or an object where text belongs; says what was found.
    WrongType { key: String, why: String },
}

impl Settings {
    /// Reads `config.json`'s text: a JSON object whose every key is a setting or one of
    /// StudyBuilder's that Gatehouse ignores, each setting but the two lists holding text, a
    /// number, true/false or null.
    pub(crate) fn read(text: &str) -> Result<Settings, Misread> {
        let mut object = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            Ok(Value::Array(_)) => return Err(Misread::NotAnObject("found an array".into())),
            Ok(_) => return Err(Misread::NotAnObject("found a single value".into())),
            Err(e) => return Err(Misread::NotAnObject(e.to_string())),
        };
        let unknown = (object.keys()).find(|key| !KEYS.contains(&key.as_str()) && !is_ignored(key));
        if let Some(key) = unknown {
            return Err(Misread::Unknown(key.clone()));
        }
        let text = |key| setting(&object, key);
        Ok(Settings {
            oauth_enabled: text("OAUTH_ENABLED")?,
            oauth_metadata_url: text("OAUTH_METADATA_URL")?,
            oauth_ui_app_id: text("OAUTH_UI_APP_ID")?,
            oauth_api_app_id: text("OAUTH_API_APP_ID")?,
            oauth_api_app_id_uri: text("OAUTH_API_APP_ID_URI")?,
            oauth_scopes: text("OAUTH_SCOPES")?,
            oauth_redirect_path: text("OAUTH_REDIRECT_PATH")?,
            oauth_response_mode: text("OAUTH_RESPONSE_MODE")?,
            oauth_roles_claim: text("OAUTH_ROLES_CLAIM")?,
            oauth_roles_token: text("OAUTH_ROLES_TOKEN")?,
            oauth_rbac_enabled: text("OAUTH_RBAC_ENABLED")?,
            oauth_prompt: text("OAUTH_PROMPT")?,
            oauth_domain_hint: text("OAUTH_DOMAIN_HINT")?,
            oauth_resource: text("OAUTH_RESOURCE")?,
            oauth_client_capabilities: text("OAUTH_CLIENT_CAPABILITIES")?,
            oauth_dpop: text("OAUTH_DPOP")?,
            oauth_refresh_lifetime_hours: text("OAUTH_REFRESH_LIFETIME_HOURS")?,
            session_notice_minutes: text("SESSION_NOTICE_MINUTES")?,
            api_base_url: text("API_BASE_URL")?,
            api_name: text("API_NAME")?,
            graph_profile: text("GRAPH_PROFILE")?,
            graph_base_url: text("GRAPH_BASE_URL")?,
            views: list(&mut object, "VIEWS"),
            resources: list(&mut object, "RESOURCES"),
        })
    }
}

/// The setting `key` of `object` as text.
fn setting(object: &Map<String, Value>, key: &str) -> Result<Setting, Misread> {
    debug_assert!(KEYS.contains(&key), "{key} is not in KEYS");
    let text = match object.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        Some(Value::Bool(flag)) => Some(flag.to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            let found = if other.is_array() { "sequence" } else { "map" };
            return Err(Misread::WrongType {
                key: key.to_string(),
                why: format!("invalid type: {found}, expected a string"),
            });
        }
    };
    Ok(Setting(text))
}

/// The list setting `key` of `object` as JSON, taken out of it.
fn list(object: &mut Map<String, Value>, key: &str) -> Option<Value> {
    debug_assert!(KEYS.contains(&key), "{key} is not in KEYS");
    object.get_mut(key).map(Value::take)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each key of `KEYS` is read into `Settings` (a value for it changes what is read), and
    /// `Settings` reads no other key (`setting` and `list` assert it in debug builds).
    #[test]
    fn keys_are_exactly_the_keys_settings_reads() {
        let unique: std::collections::BTreeSet<&str> = KEYS.into_iter().collect();
        assert_eq!(unique.len(), KEYS.len(), "a key is listed twice in KEYS");
        let none = Settings::read("{}").unwrap();
        assert_eq!(none, Settings::default());
        for key in KEYS {
            let text = serde_json::json!({ key: "set" }).to_string();
            assert_ne!(Settings::read(&text).unwrap(), none, "{key} is not read");
        }
    }

    #[test]
    fn studybuilder_keys_are_not_settings() {
        for key in STUDYBUILDER_KEYS {
            assert!(!KEYS.contains(&key), "{key}");
            let text = serde_json::json!({ key: {"any": [1]} }).to_string();
            assert_eq!(Settings::read(&text), Ok(Settings::default()), "{key}");
        }
    }
}
