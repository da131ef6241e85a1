//! Property tests of `config.json` parsing: whatever the operator writes, no panic, and an
//! accepted configuration never points the client or the bearer token off its origins.
#![cfg(not(target_arch = "wasm32"))]

use gatehouse::config::parse;
use leptos_oidc_spa::safe_url::is_secure_endpoint;
use proptest::prelude::*;

thread_local! {
    /// How many generated `RESOURCES` configurations this thread's property accepted (it must
    /// see some). Per thread: proptest runs a property's cases on the thread that calls it.
    static ACCEPTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// How many generated configurations with URLs were accepted (likewise).
    static URL_ACCEPTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        // Tabs, line breaks and spaces among them: a browser drops the first two from a URL.
        "(https?://|//|/|javascript:)?[/\\\\.:%a-z0-9@ \t\r\n-]{0,24}"
            .prop_map(serde_json::Value::from),
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
        // Each value is mostly a good one, else one a mistake or an attacker would write.
        metadata in prop_oneof![2 => Just(serde_json::json!("https://login.example/t/v2.0/.well-known/openid-configuration")), 1 => value()],
        base in prop_oneof![1 => Just(serde_json::json!("/api")), 1 => Just(serde_json::json!("https://api.example")), 2 => value()],
        enabled in prop_oneof![2 => Just(serde_json::json!(true)), 1 => value()],
        path in prop_oneof![2 => Just(serde_json::json!("/studies?page=1")), 1 => value()],
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
                prop_assert!(!url.chars().any(|c| c.is_whitespace() || c.is_control()), "{url:?}");
            }
            if let Some(oauth) = &config.oauth {
                prop_assert!(!oauth.metadata_url.chars().any(|c| c.is_whitespace() || c.is_control()));
            }
            URL_ACCEPTED.with(|n| n.set(n.get() + 1));
        }
    }

    #[test]
    fn other_apis_never_panic_and_accepted_ones_stay_on_safe_urls(
        id in prop_oneof!["[a-z]{1,6}", "[a-z_ -]{0,6}"],
        base in prop_oneof![
            value(),
            Just(serde_json::json!("https://tre.example/api")),
            Just(serde_json::json!("/api/workspaces/alpha")),
            Just(serde_json::json!("http://127.0.0.1:8091")),
        ],
        scopes in prop_oneof![value(), Just(serde_json::json!(["user_impersonation"])), Just(serde_json::json!("a b"))],
        uri in prop_oneof![value(), Just(serde_json::json!("api://ws"))],
        graph in prop_oneof![value(), Just(serde_json::json!("true")), Just(serde_json::Value::Null)],
        view_names_it in any::<bool>(),
    ) {
        let view_resource = if view_names_it { serde_json::json!(id) } else { serde_json::Value::Null };
        let text = serde_json::json!({
            "OAUTH_METADATA_URL": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration",
            "OAUTH_UI_APP_ID": "ui",
            "OAUTH_API_APP_ID": "api",
            "RESOURCES": [{"id": id, "app_id_uri": uri, "scopes": scopes, "base_url": base}],
            "VIEWS": [{"id": "v", "title": "V", "path": "/x", "resource": view_resource}],
            "GRAPH_PROFILE": graph,
        })
        .to_string();
        if let Ok(config) = parse(&text) {
            for resource in &config.resources {
                let base = &resource.base_url;
                prop_assert!(!base.chars().any(|c| c.is_whitespace() || c.is_control()), "{base:?}");
                prop_assert!(
                    (base.starts_with('/') && !base.starts_with("//") && !base.contains('\\'))
                        || is_secure_endpoint(base),
                    "{base}"
                );
                prop_assert!(!resource.scopes.is_empty());
                prop_assert!(resource.id != "api" && resource.id != "graph");
            }
            for view in &config.views {
                if let Some(id) = &view.resource {
                    prop_assert!(config.resources.iter().any(|r| &r.id == id), "{id}");
                }
            }
            ACCEPTED.with(|n| n.set(n.get() + 1));
            let oidc = config.oauth.expect("sign-in is on");
            prop_assert_eq!(
                oidc.resources.len(),
                config.resources.len() + usize::from(config.graph_base_url.is_some())
            );
        }
    }

    #[test]
    fn any_text_is_a_configuration_or_an_error_naming_what_is_wrong(text in any::<String>()) {
        if let Err(error) = parse(&text) {
            prop_assert!(!error.to_string().is_empty());
        }
    }
}

#[test]
fn the_properties_see_accepted_configurations() {
    configurations_never_panic_and_accepted_urls_are_safe();
    other_apis_never_panic_and_accepted_ones_stay_on_safe_urls();
    let (urls, apis) = (URL_ACCEPTED.with(|n| n.get()), ACCEPTED.with(|n| n.get()));
    eprintln!("property configuration URLs: {urls} of 2000 accepted; other APIs: {apis} of 2000");
    assert!(
        urls > 20,
        "only {urls} of 2,000 generated configurations with URLs were accepted"
    );
    assert!(
        apis > 20,
        "only {apis} of 2,000 generated configurations were accepted"
    );
}
