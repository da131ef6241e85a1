//! Fixtures shared by the core's unit tests.

use super::jwt::test_token;
use super::token::TokenSet;
use serde_json::json;

/// A code exchange's answer: a one-minute access token with `scp` and roles, a refresh token
/// `r1`, and an ID token for Rita Reader.
pub fn tokens() -> TokenSet {
    TokenSet {
        access_token: test_token(
            &json!({"alg":"RS256"}),
            &json!({"scp":"API.call","roles":["Study.Write","Study.Read"],"name":"Access Name"}),
        ),
        expires_in_s: 60.0,
        refresh_token: Some("r1".into()),
        id_token: Some(test_token(
            &json!({"alg":"RS256"}),
            &json!({"sub":"s","name":"Rita Reader","preferred_username":"rita@x","email":"rita@x","tid":"t","roles":["IdRole"]}),
        )),
        scope: Some("openid API.call".into()),
        refresh_expires_in_s: None,
        dpop_bound: false,
    }
}

/// A one-hour session obtained at `obtained_ms`, whose access token carries the claim
/// `"at": access` and whose refresh token is `refresh`.
pub fn session(refresh: &str, access: &str, obtained_ms: f64) -> super::session::Session {
    super::session::Session::from_tokens(
        TokenSet {
            access_token: test_token(
                &json!({"alg": "RS256"}),
                &json!({"at": access, "roles": ["Study.Read"], "scp": "API.call"}),
            ),
            expires_in_s: 3600.0,
            refresh_token: Some(refresh.into()),
            id_token: Some(test_token(
                &json!({"alg": "RS256"}),
                &json!({"sub": "s", "name": "Rita Reader", "preferred_username": "rita@x"}),
            )),
            scope: None,
            refresh_expires_in_s: None,
            dpop_bound: false,
        },
        &[5; 32],
        obtained_ms,
    )
}

/// The `at` claim of a session's access token made by [`session`], or of a resource token made
/// by [`resource_tokens`].
pub fn access_name(token: &str) -> String {
    let jwt = super::jwt::Jwt::decode(token).expect("a test token");
    jwt.str_claim("at").unwrap_or_default().to_string()
}

/// A grant's answer for another API: a one-hour token carrying `"at": access`, and a rotated
/// refresh token.
pub fn resource_tokens(access: &str, rotated: &str) -> TokenSet {
    TokenSet {
        access_token: test_token(
            &json!({"alg": "RS256"}),
            &json!({"at": access, "roles": ["WorkspaceOwner"]}),
        ),
        expires_in_s: 3600.0,
        refresh_token: Some(rotated.into()),
        id_token: None,
        scope: None,
        refresh_expires_in_s: None,
        dpop_bound: false,
    }
}
