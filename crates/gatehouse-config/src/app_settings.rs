//! The app's settings from the environment: `config.json` is written from the variables named
//! like its keys, and checked with the app's own rules (`gatehouse::config::parse`) first, so a
//! mistake stops the container with the message the app's error page would show.

use crate::environment::Environment;
use crate::refusal::Refusal;
use gatehouse::config::{self, AppConfig, ConfigError, KEYS};
use serde_json::Value;

/// StudyBuilder's API reads these; an environment shared with it may hand them to this container
/// too. They are not the app's settings and never reach `config.json`, which is public (one of
/// them is a client secret).
const STUDYBUILDER_API_KEYS: [&str; 2] = ["OAUTH_API_APP_SECRET", "OAUTH_SWAGGER_APP_ID"];

/// Settings whose value is a JSON list (also accepted as the list's text).
const LISTS: [&str; 2] = ["VIEWS", "RESOURCES"];

/// `config.json` as written, and the configuration the app will make of it.
#[derive(Debug)]
pub struct AppSettings {
    /// The text of `config.json`: the settings that are set, in the README's order.
    pub json: String,
    /// What the app reads from it.
    pub config: AppConfig,
}

/// Reads the app's settings from `env` and checks them as the app will.
pub fn from_env(env: &Environment) -> Result<AppSettings, Refusal> {
    // A misspelt OAUTH_ variable (OAUTH_SCOPE) would otherwise be dropped without a word.
    if let Some(name) = env.names().find(|name| {
        name.starts_with("OAUTH_")
            && !KEYS.contains(name)
            && !config::STUDYBUILDER_KEYS.contains(name)
            && !STUDYBUILDER_API_KEYS.contains(name)
    }) {
        return Err(refusal(ConfigError::Unknown(name.to_string())));
    }
    let mut entries = Vec::new();
    for key in KEYS {
        let Some(text) = env.get(key)? else { continue };
        let value = match serde_json::from_str::<Value>(&text) {
            Ok(list) if LISTS.contains(&key) => list,
            _ => Value::String(text),
        };
        entries.push(format!(
            "  {}: {}",
            Value::from(key),
            serde_json::to_string(&value).map_err(|e| Refusal::new(key, e.to_string()))?
        ));
    }
    let json = if entries.is_empty() {
        "{}\n".to_string()
    } else {
        format!("{{\n{}\n}}\n", entries.join(",\n"))
    };
    let config = config::parse(&json).map_err(refusal)?;
    Ok(AppSettings { json, config })
}

/// The app's refusal, named after the variable at fault.
fn refusal(error: ConfigError) -> Refusal {
    let subject = error.key().unwrap_or("config.json").to_string();
    Refusal::new(subject, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRA: [(&str, &str); 4] = [
        (
            "OAUTH_METADATA_URL",
            "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration",
        ),
        ("OAUTH_UI_APP_ID", "ui"),
        ("OAUTH_API_APP_ID", "api"),
        ("PATH", "/usr/bin"),
    ];

    /// The settings of an Entra environment with `extra` variables.
    fn with(extra: &[(&str, &str)]) -> Result<AppSettings, Refusal> {
        from_env(&Environment::of(&[&ENTRA[..], extra].concat()))
    }

    #[test]
    fn the_settings_that_are_set_are_written_in_the_readmes_order() {
        let settings = with(&[
            ("API_NAME", "  the \"API\"\n"),
            ("OAUTH_PROMPT", " "),
            (
                "VIEWS",
                r#"[{"id": "studies", "path": "/studies", "title": "Studies"}]"#,
            ),
        ])
        .unwrap();
        let written: serde_json::Map<String, Value> = serde_json::from_str(&settings.json).unwrap();
        assert_eq!(written["API_NAME"], "the \"API\"");
        assert!(written["VIEWS"].is_array());
        assert!(!written.contains_key("OAUTH_PROMPT"));
        assert!(!written.contains_key("PATH"));
        let order: Vec<&str> = KEYS
            .into_iter()
            .filter(|k| written.contains_key(*k))
            .collect();
        let keys: Vec<&str> = settings
            .json
            .lines()
            .filter_map(|line| line.trim().strip_prefix('"')?.split('"').next())
            .collect();
        assert_eq!(keys, order);
        assert_eq!(settings.config.api_name, "the \"API\"");
    }

    #[test]
    fn a_mistake_is_refused_with_the_apps_own_message() {
        let refusal = with(&[("OAUTH_RESPONSE_MODE", "form_post")]).unwrap_err();
        assert_eq!(refusal.subject, "OAUTH_RESPONSE_MODE");
        let text = r#"{"OAUTH_METADATA_URL": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration", "OAUTH_UI_APP_ID": "ui", "OAUTH_API_APP_ID": "api", "OAUTH_RESPONSE_MODE": "form_post"}"#;
        assert_eq!(
            refusal.message,
            config::parse(text).unwrap_err().to_string()
        );
    }

    #[test]
    fn a_misspelt_oauth_variable_is_refused_by_name_and_the_apis_secret_is_never_written() {
        let refusal = with(&[("OAUTH_SCOPE", "API.call")]).unwrap_err();
        assert_eq!(refusal.subject, "OAUTH_SCOPE");
        assert!(
            refusal.message.contains("not a Gatehouse setting"),
            "{refusal}"
        );

        let settings = with(&[("OAUTH_API_APP_SECRET", "s3cret")]).unwrap();
        assert!(!settings.json.contains("s3cret"));
    }

    #[test]
    fn studybuilders_environment_is_accepted_and_only_gatehouses_keys_are_written() {
        let settings = with(&[
            ("APP_ENV", "prod"),
            ("BUILD_NUMBER", "OSB v0.20.0"),
            ("APPINSIGHTS_DISABLE", "true"),
            ("DOC_BASE_URL", "/doc"),
            ("OAUTH_RBAC_ENABLED", "false"),
        ])
        .unwrap();
        let written: serde_json::Map<String, Value> = serde_json::from_str(&settings.json).unwrap();
        assert_eq!(written["OAUTH_RBAC_ENABLED"], "false");
        assert!(!written.contains_key("APP_ENV") && !written.contains_key("BUILD_NUMBER"));
        assert!(!settings.config.role_gating);
    }

    #[test]
    fn studybuilders_own_config_json_as_its_environment_is_accepted() {
        // Each key of StudyBuilder's file as a variable, as its frontend container takes them.
        let file: serde_json::Map<String, Value> = serde_json::from_str(include_str!(
            "../../../tests/fixtures/studybuilder-config.json"
        ))
        .unwrap();
        let env = Environment::from_os(
            file.iter()
                .map(|(key, value)| (key.into(), value.as_str().unwrap_or_default().into())),
        );
        let settings = from_env(&env).unwrap();
        let written: serde_json::Map<String, Value> = serde_json::from_str(&settings.json).unwrap();
        let keys: Vec<&str> = written.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert!(
            settings.config.oauth.is_none(),
            "it ships with OAUTH_ENABLED false"
        );
        assert_eq!(settings.config.api_base_url, "/api");
    }

    #[test]
    fn a_list_that_is_not_json_reaches_the_apps_rule() {
        assert_eq!(
            with(&[("VIEWS", r#"["studies",]"#)]).unwrap_err().subject,
            "VIEWS"
        );
    }
}
