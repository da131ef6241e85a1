//! The configuration as Leptos context: provided once at start-up, read by any component or page
//! with [`use_config`].

use super::AppConfig;
use leptos::prelude::*;

/// Makes `config` the app's configuration for everything rendered below the current owner.
pub fn provide_config(config: AppConfig) {
    provide_context(StoredValue::new(config));
}

/// The app's configuration (API name, base URL, views), provided at start-up.
pub fn use_config() -> StoredValue<AppConfig> {
    expect_context()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_provided_is_what_is_used() {
        let owner = Owner::new();
        owner.set();
        let config =
            crate::config::parse(r#"{"OAUTH_ENABLED": false, "API_NAME": "StudyBuilder"}"#)
                .unwrap();
        provide_config(config.clone());
        assert_eq!(use_config().get_value(), config);
    }
}
