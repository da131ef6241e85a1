//! Property tests of `config.json` parsing: whatever the operator writes, no panic, and an
//! accepted configuration never points the client or the bearer token off its origins.
#![cfg(not(target_arch = "wasm32"))]

use gatehouse::config::parse;
use leptos_entra_oidc::core::discovery::is_secure_endpoint;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        "(https?://|//|/|javascript:)?[/\\\\.:%a-z0-9@-]{0,24}".prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        Just(serde_json::json!(["x"])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn configurations_never_panic_and_accepted_urls_are_safe(
        metadata in value(), base in value(), enabled in value(), path in value(),
    ) {
        let text = serde_json::json!({
            "OAUTH_ENABLED": enabled,
            "OAUTH_METADATA_URL": metadata,
            "OAUTH_UI_APP_ID": "ui",
            "OAUTH_API_APP_ID": "api",
            "API_BASE_URL": base,
            "VIEWS": [{"id": "v", "title": "V", "path": path}],
        })
        .to_string();
        if let Ok(config) = parse(&text) {
            if let Some(oauth) = &config.oauth {
                prop_assert!(is_secure_endpoint(&oauth.metadata_url), "{}", oauth.metadata_url);
            }
            let base = &config.api_base_url;
            prop_assert!(
                base.is_empty() || (base.starts_with('/') && !base.starts_with("//")) || is_secure_endpoint(base),
                "{base}"
            );
            for view in &config.views {
                let url = format!("{base}{}", view.path);
                prop_assert!(!url.starts_with("//") && !url.contains('\\'), "{url}");
                prop_assert!(view.path.split('/').all(|s| s != ".." && s != "."), "{url}");
            }
        }
    }

    #[test]
    fn any_text_is_a_configuration_or_an_error_naming_what_is_wrong(text in any::<String>()) {
        if let Err(error) = parse(&text) {
            prop_assert!(!error.to_string().is_empty());
        }
    }
}
