//! Property tests of the pure parsers and checks: whatever the input, no panic, and nothing
//! accepted leaves the origin or carries an infinite time.
#![cfg(not(target_arch = "wasm32"))]

use leptos_entra_oidc::core::authorize::safe_return_path;
use leptos_entra_oidc::core::callback::{parse_response, AuthResponse};
use leptos_entra_oidc::core::discovery::{self, is_secure_endpoint};
use leptos_entra_oidc::core::id_token::{self, Expectations};
use leptos_entra_oidc::core::jwt::Jwt;
use leptos_entra_oidc::core::token;
use proptest::prelude::*;

/// Strings built from the characters that matter to URLs and parameters, plus anything.
fn url_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[/\\\\.:%?#&=a-z0-9@\\[\\] \\t\\n-]{0,40}",
        "(https?://|//|/|javascript:|data:)[/\\\\.:%?#&=a-z0-9@\\[\\]-]{0,30}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn callback_parameters_never_panic(params in url_like()) {
        if let Ok(AuthResponse::Code { code, state, .. }) = parse_response(&params) {
            prop_assert!(!code.is_empty() && !state.is_empty());
        }
    }

    #[test]
    fn return_routes_never_leave_the_origin(candidate in url_like()) {
        let route = safe_return_path(&candidate, "/oauth-callback");
        prop_assert!(route.starts_with('/'), "{route}");
        prop_assert!(!route.starts_with("//"), "{route}");
        prop_assert!(!route.contains('\\') && !route.chars().any(char::is_control), "{route}");
        let path = route.split(['?', '#']).next().unwrap();
        prop_assert!(path != "/oauth-callback", "{route}");
        prop_assert!(
            path.split('/').all(|s| s != "." && s != ".."),
            "dot segments are resolved: {route}"
        );
    }

    #[test]
    fn accepted_endpoints_are_https_or_loopback(url in url_like()) {
        if is_secure_endpoint(&url) {
            let loopback = ["http://127.", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| url.to_ascii_lowercase().starts_with(p));
            prop_assert!(url.starts_with("https://") || loopback, "{url}");
            let rest = url.split_once("://").unwrap().1;
            let authority = rest.split(['/', '?', '#']).next().unwrap();
            prop_assert!(!authority.is_empty() && !authority.contains(['@', '\\']), "{url}");
            prop_assert!(!url.chars().any(char::is_whitespace), "{url}");
        }
    }

    #[test]
    fn discovery_documents_never_panic_and_accepted_endpoints_are_secure(
        auth in url_like(), tok in url_like(), keys in url_like(),
    ) {
        let doc = serde_json::json!({
            "issuer": "https://idp.example/t/v2.0",
            "authorization_endpoint": auth,
            "token_endpoint": tok,
            "jwks_uri": keys,
        });
        let url = "https://idp.example/t/v2.0/.well-known/openid-configuration";
        if let Ok(m) = discovery::parse(url, &doc.to_string()) {
            for endpoint in [&m.authorization_endpoint, &m.token_endpoint, &m.jwks_uri] {
                prop_assert!(is_secure_endpoint(endpoint), "{endpoint}");
            }
        }
    }

    #[test]
    fn token_times_are_finite_whole_seconds(
        exp in prop_oneof![any::<f64>().prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from), Just(serde_json::Value::from("1e400"))],
        iat in any::<i64>(),
    ) {
        let claims = serde_json::json!({
            "iss": "https://idp/v2.0", "aud": "ui", "sub": "s", "exp": exp, "iat": iat,
        });
        let token = format!(
            "{}.{}.c2ln",
            base64_url(br#"{"alg":"RS256"}"#),
            base64_url(claims.to_string().as_bytes())
        );
        let jwt = id_token::decode(&token).unwrap();
        let expect = Expectations { issuer: "https://idp/v2.0", client_id: "ui", nonce: None, now_s: 1_000_000.0 };
        if id_token::validate_claims(&jwt, &expect).is_ok() {
            let exp = jwt.time_claim("exp").unwrap();
            prop_assert!(exp.is_finite() && exp.fract() == 0.0 && exp >= 0.0);
        }
    }

    #[test]
    fn jwts_and_token_responses_never_panic(text in any::<String>(), ok in any::<bool>()) {
        let _ = Jwt::decode(&text);
        if let Ok(tokens) = token::parse_response(ok, &text, false) {
            prop_assert!(tokens.expires_in_s.is_finite() && tokens.expires_in_s > 0.0);
        }
    }

    #[test]
    fn expires_in_is_never_infinite(value in prop_oneof![
        any::<f64>().prop_map(|f| f.to_string()),
        "[0-9eE.+-]{1,12}",
        Just("1e400".to_string()),
    ]) {
        for body in [
            format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{value}}}"#),
            format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":"{value}"}}"#),
        ] {
            if let Ok(tokens) = token::parse_response(true, &body, false) {
                prop_assert!(tokens.expires_in_s.is_finite() && tokens.expires_in_s > 0.0, "{body}");
            }
        }
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    URL_SAFE_NO_PAD.encode(bytes)
}
