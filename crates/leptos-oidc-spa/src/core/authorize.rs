//! The authorization request (RFC 6749 §4.1.1 + RFC 7636 §4.3 + OIDC Core §3.1.2.1) and the
//! per-attempt login state that must survive the round trip to the provider.

use super::challenge::{self, StepUp};
use super::config::OidcConfig;
use super::dpop::DpopKeyRef;
use super::pkce::CodeVerifier;
use super::query;
use super::time::whole_ms;
use serde::{Deserialize, Serialize};

/// How long a started sign-in stays redeemable. Entra's authorization codes live ten minutes.
pub const LOGIN_STATE_TTL_MS: f64 = 10.0 * 60.0 * 1000.0;

/// What one sign-in attempt must remember until its callback: kept per tab in sessionStorage under
/// `<storage_prefix>.login.<state>` and deleted when the callback consumes it (single use).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The request's `state` (RFC 6749 §10.12): single use, and the record's storage key.
    pub state: String,
    /// The request's `nonce`, which the ID token must carry (OIDC Core §3.1.2.1).
    pub nonce: String,
    /// The PKCE code verifier (RFC 7636 §4.1) whose challenge went out with the request.
    pub verifier: CodeVerifier,
    /// The request's `redirect_uri`, which the token request must repeat (RFC 6749 §4.1.3).
    pub redirect_uri: String,
    /// Same-origin path (with query) to return to after sign-in.
    pub return_to: String,
    /// When the sign-in started, in milliseconds since the epoch.
    #[serde(serialize_with = "whole_ms")]
    pub created_at_ms: f64,
    /// Set when the sign-in asks for another API's scopes, to consent to it
    /// (`OidcConfig::resources`): the code then redeems that API's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Set when the sign-in gives what an API asked for (its [`StepUp::key`]): once back, the
    /// same challenge from that API is not answered again (the loop guard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
    /// A silent sign-in ("Stay signed in", `prompt=none`): if the provider wants the person,
    /// the client asks again with its page, for `login_hint`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
    /// The `login_hint` sent, for that second request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// With DPoP: the key the tokens will be bound to, its public half and its name in the
    /// browser's key store; the request carries its thumbprint as `dpop_jkt` (RFC 9449 §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop: Option<DpopKeyRef>,
}

impl PendingLogin {
    /// Whether the record can no longer be redeemed at `now_ms` (milliseconds): started more than
    /// [`LOGIN_STATE_TTL_MS`] ago, or more than a minute in the future (the clock went back).
    pub fn is_expired(&self, now_ms: f64) -> bool {
        now_ms - self.created_at_ms > LOGIN_STATE_TTL_MS || now_ms < self.created_at_ms - 60_000.0
    }

    /// The stored record: a JSON object with the field names above.
    pub fn to_json(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored record; `None` if any field is missing or malformed.
    pub fn from_json(text: &str) -> Option<PendingLogin> {
        serde_json::from_str(text).ok()
    }
}

/// Per-request extras besides the configured ones.
#[derive(Clone, Debug, Default)]
pub struct RequestExtras {
    /// `login_hint` (OIDC Core §3.1.2.1): the username to prefill, e.g. after a session ended.
    pub login_hint: Option<String>,
    /// `prompt` for this request, in place of [`OidcConfig::prompt`].
    pub prompt: Option<String>,
    /// `scope` for this request, in place of [`OidcConfig::scope`] (another API's, to consent
    /// to it).
    pub scope: Option<String>,
    /// What an API asked for that this sign-in must give: `claims`, or `acr_values` and
    /// `max_age`.
    pub step_up: Option<StepUp>,
}

/// The URL to send the browser to for `login`.
pub fn authorization_url(
    authorization_endpoint: &str,
    config: &OidcConfig,
    login: &PendingLogin,
    extras: &RequestExtras,
) -> String {
    let challenge = login.verifier.challenge();
    let scope = extras.scope.clone().unwrap_or_else(|| config.scope());
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", &config.client_id),
        ("response_type", "code"),
        ("redirect_uri", &login.redirect_uri),
        ("scope", &scope),
        ("state", &login.state),
        ("nonce", &login.nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("response_mode", config.response_mode.as_str()),
    ];
    if let Some(prompt) = extras.prompt.as_deref().or(config.prompt.as_deref()) {
        params.push(("prompt", prompt));
    }
    if let Some(hint) = &extras.login_hint {
        params.push(("login_hint", hint));
    }
    if let Some(hint) = &config.domain_hint {
        params.push(("domain_hint", hint));
    }
    if let (None, Some(resource)) = (&extras.scope, &config.resource_indicator) {
        params.push(("resource", resource));
    }
    let (challenge_claims, acr_values, max_age) = match &extras.step_up {
        Some(StepUp::Claims { claims }) => (Some(claims.as_str()), None, None),
        Some(StepUp::UserAuthentication {
            acr_values,
            max_age,
        }) => (None, acr_values.as_deref(), max_age.map(|a| a.to_string())),
        None => (None, None, None),
    };
    let claims = challenge::claims_request(challenge_claims, &config.client_capabilities);
    if let Some(claims) = &claims {
        params.push(("claims", claims));
    }
    if let Some(acr_values) = acr_values {
        params.push(("acr_values", acr_values));
    }
    if let Some(max_age) = &max_age {
        params.push(("max_age", max_age));
    }
    let jkt = login.dpop.as_ref().map(|key| key.public.thumbprint());
    if let Some(jkt) = &jkt {
        params.push(("dpop_jkt", jkt));
    }
    query::append_to(authorization_endpoint, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> OidcConfig {
        OidcConfig {
            domain_hint: Some("example.com".into()),
            ..OidcConfig::new("https://idp/t/v2.0/.well-known/openid-configuration", "ui")
                .with_scopes(["api://api/API.call"])
        }
    }

    fn login() -> PendingLogin {
        PendingLogin {
            state: "st".into(),
            nonce: "no".into(),
            verifier: CodeVerifier::from_random_bytes(&[1; 32]),
            redirect_uri: "http://127.0.0.1:8080/oauth-callback".into(),
            return_to: "/studies?x=1".into(),
            created_at_ms: 1_000.0,
            resource: None,
            answers: None,
            silent: false,
            login_hint: None,
            dpop: None,
        }
    }

    #[test]
    fn a_dpop_sign_in_carries_its_keys_thumbprint() {
        use crate::core::dpop::{DpopKeyRef, PublicJwk};
        let endpoint = "https://idp/t/oauth2/v2.0/authorize";
        let extras = RequestExtras::default();
        let plain = authorization_url(endpoint, &cfg(), &login(), &extras);
        assert!(!plain.contains("dpop_jkt"), "{plain}");
        // RFC 9449 §4.1's example key, whose thumbprint §6.1 gives.
        let key = DpopKeyRef {
            id: "k1".into(),
            public: PublicJwk::p256(
                "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
            ),
        };
        let bound = PendingLogin {
            dpop: Some(key),
            ..login()
        };
        let url = authorization_url(endpoint, &cfg(), &bound, &extras);
        assert!(
            url.contains("&dpop_jkt=0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"),
            "{url}"
        );
        let stored = PendingLogin::from_json(&bound.to_json()).unwrap();
        assert_eq!(
            stored.dpop, bound.dpop,
            "the key's name survives the round trip"
        );
    }

    #[test]
    fn builds_a_pkce_code_request_with_fragment_mode() {
        let l = login();
        let url = authorization_url(
            "https://idp/t/oauth2/v2.0/authorize",
            &cfg(),
            &l,
            &RequestExtras::default(),
        );
        let (base, q) = url.split_once('?').unwrap();
        assert_eq!(base, "https://idp/t/oauth2/v2.0/authorize");
        let params: std::collections::HashMap<_, _> = query::parse(q).into_iter().collect();
        assert_eq!(params["client_id"], "ui");
        assert_eq!(params["response_type"], "code");
        assert_eq!(
            params["redirect_uri"],
            "http://127.0.0.1:8080/oauth-callback"
        );
        assert_eq!(
            params["scope"],
            "openid profile email offline_access api://api/API.call"
        );
        assert_eq!(params["state"], "st");
        assert_eq!(params["nonce"], "no");
        assert_eq!(params["code_challenge"], l.verifier.challenge());
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["response_mode"], "fragment");
        assert_eq!(params["domain_hint"], "example.com");
        assert!(!params.contains_key("prompt"));
        assert!(
            !q.contains(l.verifier.secret()),
            "the verifier never leaves the tab"
        );
    }

    #[test]
    fn the_resource_indicator_goes_with_the_sign_in_but_not_with_another_apis() {
        let config = cfg().with_resource_indicator("https://gatehouse-api");
        let params = |extras: &RequestExtras| -> std::collections::HashMap<String, String> {
            let url = authorization_url("https://idp/authorize", &config, &login(), extras);
            query::parse(url.split_once('?').unwrap().1)
                .into_iter()
                .collect()
        };
        assert_eq!(
            params(&RequestExtras::default())["resource"],
            "https://gatehouse-api"
        );
        let other_api = RequestExtras {
            scope: Some("openid api://ws/user_impersonation".into()),
            ..RequestExtras::default()
        };
        assert!(!params(&other_api).contains_key("resource"));
        let url = authorization_url("https://idp/a", &cfg(), &login(), &RequestExtras::default());
        assert!(!url.contains("resource="), "none unless configured");
    }

    #[test]
    fn a_step_up_sign_in_asks_for_what_the_api_asked() {
        let params = |config: &OidcConfig, step_up| -> std::collections::HashMap<String, String> {
            let extras = RequestExtras {
                step_up: Some(step_up),
                ..RequestExtras::default()
            };
            let url = authorization_url("https://idp/a", config, &login(), &extras);
            query::parse(url.split_once('?').unwrap().1)
                .into_iter()
                .collect()
        };
        let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c2"}}}"#;
        let asked = StepUp::Claims {
            claims: claims.into(),
        };
        assert_eq!(params(&cfg(), asked.clone())["claims"], claims);
        let cp1 = cfg().with_client_capabilities(["cp1"]);
        assert_eq!(
            params(&cp1, asked)["claims"],
            r#"{"access_token":{"acrs":{"essential":true,"value":"c2"},"xms_cc":{"values":["cp1"]}}}"#
        );
        let mfa = params(
            &cfg(),
            StepUp::UserAuthentication {
                acr_values: Some("urn:gatehouse:mfa".into()),
                max_age: Some(0),
            },
        );
        assert_eq!(mfa["acr_values"], "urn:gatehouse:mfa");
        assert_eq!(mfa["max_age"], "0");
        assert!(!mfa.contains_key("claims"));
        // Capabilities go with every sign-in, challenged or not.
        let url = authorization_url("https://idp/a", &cp1, &login(), &RequestExtras::default());
        assert!(url.contains("claims=%7B%22access_token%22%3A%7B%22xms_cc%22"));
    }

    #[test]
    fn passes_login_hint_and_prompt_and_keeps_existing_query() {
        let extras = RequestExtras {
            login_hint: Some("rita@studybuilder.test".into()),
            prompt: Some("login".into()),
            scope: None,
            step_up: None,
        };
        let url = authorization_url("https://idp/authorize?p=B2C_1", &cfg(), &login(), &extras);
        assert!(url.starts_with("https://idp/authorize?p=B2C_1&client_id=ui"));
        assert!(url.contains("&login_hint=rita%40studybuilder.test"));
        assert!(url.contains("&prompt=login"));
    }

    #[test]
    fn stored_record_round_trips_with_its_field_names() {
        let l = login();
        let text = l.to_json();
        assert!(text.starts_with(r#"{"state":"st","nonce":"no","verifier":""#));
        assert!(text.ends_with(r#""return_to":"/studies?x=1","created_at_ms":1000}"#));
        let back = PendingLogin::from_json(&text).unwrap();
        assert_eq!(back.to_json(), text);
        assert!(PendingLogin::from_json(&text.replace("\"nonce\"", "\"n\"")).is_none());
        assert!(PendingLogin::from_json("{not json").is_none());
    }

    #[test]
    fn login_state_expires_after_ten_minutes() {
        let l = login();
        assert!(!l.is_expired(1_000.0 + LOGIN_STATE_TTL_MS));
        assert!(l.is_expired(1_001.0 + LOGIN_STATE_TTL_MS));
    }
}
