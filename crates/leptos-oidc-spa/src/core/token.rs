//! The token endpoint: request bodies for the code and refresh grants (RFC 6749 §4.1.3, §6 with
//! PKCE's `code_verifier`) and the checks on its response (§5.1, §5.2).

use super::query;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use thiserror::Error;

/// Lifetime assumed when a token response omits `expires_in` (RFC 6749 §5.1 makes it optional):
/// one hour, Entra's default access-token lifetime and the low end of its range.
pub const DEFAULT_EXPIRES_IN_S: f64 = 3600.0;

/// A successful, checked token response.
#[derive(Clone, PartialEq)]
pub struct TokenSet {
    /// `access_token`, never empty.
    pub access_token: String,
    /// The access token's lifetime in **seconds** (`expires_in`, or [`DEFAULT_EXPIRES_IN_S`]
    /// when omitted); positive and finite.
    pub expires_in_s: f64,
    /// `refresh_token`, if one was issued.
    pub refresh_token: Option<String>,
    /// `id_token` (not yet validated), if one was issued: required on sign-in, optional on
    /// refresh (OIDC Core §12.2).
    pub id_token: Option<String>,
    /// Scopes granted, when the provider says (it must if they differ from those requested).
    pub scope: Option<String>,
    /// What is left of the refresh token's life in seconds (`refresh_token_expires_in`, as Entra
    /// sends it for a single-page app's refresh token), when the provider says and it is usable.
    pub refresh_expires_in_s: Option<f64>,
    /// `token_type` is `DPoP` (RFC 9449 §5): the access token is bound to the proof's key and is
    /// sent with a proof; else it is a Bearer token.
    pub dpop_bound: bool,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field("expires_in_s", &self.expires_in_s)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[present]"))
            .field("scope", &self.scope)
            .finish()
    }
}

/// Why a token response is unusable.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The provider answered with an OAuth error (§5.2).
    #[error(
        "The identity provider refused to issue tokens: {error}{}",
        then_colon(description)
    )]
    Provider {
        /// The OAuth error code, e.g. `invalid_grant` or `invalid_request`.
        error: String,
        /// The `error_description`, if any (Entra's starts with its `AADSTS` code).
        description: Option<String>,
    },
    /// Not JSON, or JSON of the wrong shape.
    #[error("The identity provider's token response is malformed ({0}).")]
    Malformed(String),
    /// A success response without an `access_token` (§5.1).
    #[error("The identity provider's token response has no access_token.")]
    MissingAccessToken,
    /// `token_type` is not `Bearer` (the only type this client sends).
    #[error("The identity provider issued a {0:?} token; only Bearer tokens, and DPoP tokens for a request with a proof, are supported.")]
    UnsupportedTokenType(String),
    /// `expires_in` is not a positive number of seconds; holds the value as sent.
    #[error("The identity provider's token response has an unusable expires_in ({0}).")]
    BadExpiresIn(String),
    /// An OpenID sign-in must return an ID token.
    #[error(
        "The identity provider's token response has no id_token although openid was requested."
    )]
    MissingIdToken,
}

/// `": text"` for an optional description, or nothing.
fn then_colon(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

impl TokenError {
    /// The OAuth error code, if the provider sent one.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            TokenError::Provider { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The provider's `error_description`, if it sent one.
    pub fn oauth_description(&self) -> Option<&str> {
        match self {
            TokenError::Provider { description, .. } => description.as_deref(),
            _ => None,
        }
    }
}

/// Body of the authorization code grant for a public client (no secret).
pub fn code_request_body(
    code: &str,
    redirect_uri: &str,
    client_id: &str,
    verifier: &str,
) -> String {
    query::encode_pairs([
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", verifier),
    ])
}

/// Body of the refresh grant. `scope` is sent because Entra issues the token for the first
/// resource in it; without it a refresh may come back for a different audience. `claims` is the
/// `claims` request parameter (OIDC Core §5.5; see `challenge::claims_request`), if any.
pub fn refresh_request_body(
    refresh_token: &str,
    client_id: &str,
    scope: &str,
    claims: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
        ("scope", scope),
    ];
    if let Some(claims) = claims {
        pairs.push(("claims", claims));
    }
    query::encode_pairs(pairs)
}

/// The token endpoint's answer, success (§5.1) and error (§5.2) alike; members it does not
/// know are ignored.
#[derive(Deserialize)]
struct TokenResponse {
    error: Option<String>,
    error_description: Option<String>,
    access_token: Option<String>,
    token_type: Option<String>,
    /// A number or, as Entra's v1 endpoint sends it, a numeric string.
    expires_in: Option<Value>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    scope: Option<String>,
    /// Not in RFC 6749: Entra's, for a single-page app's refresh token.
    refresh_token_expires_in: Option<Value>,
}

/// Empty strings count as absent.
fn present(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.is_empty())
}

/// The longest lifetime believed: a year. Anything longer is a mistake or an attack, and would
/// put the refresh out of reach of any timer.
const MAX_EXPIRES_IN_S: u64 = 366 * 24 * 3600;

/// A usable `expires_in` (RFC 6749 §5.1): a whole number of seconds from 1 to a year, as a
/// number or, as Entra's v1 endpoint sends it, a string of digits. Fractions, signs, exponents
/// and `1e400` are refused, never read as infinity.
fn positive_seconds(value: &Value) -> Option<f64> {
    let seconds = match value {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<u64>().ok()?
        }
        _ => return None,
    };
    (1..=MAX_EXPIRES_IN_S)
        .contains(&seconds)
        .then_some(seconds as f64)
}

/// Checks a token endpoint response. `http_ok` is whether the status was 2xx; `proved`, whether
/// the request carried a DPoP proof (only then may the token be a DPoP one).
pub fn parse_response(
    http_ok: bool,
    body: &str,
    id_token_required: bool,
    proved: bool,
) -> Result<TokenSet, TokenError> {
    let response: TokenResponse = serde_json::from_str(body).map_err(|e| {
        TokenError::Malformed(if !http_ok && body.trim().is_empty() {
            "an error status with an empty answer".to_string()
        } else if !http_ok {
            "an error page instead of JSON".to_string()
        } else if e.is_syntax() || e.is_eof() {
            "not JSON".to_string()
        } else {
            e.to_string()
        })
    })?;
    if let Some(error) = present(response.error) {
        return Err(TokenError::Provider {
            error,
            description: present(response.error_description),
        });
    }
    if !http_ok {
        return Err(TokenError::Malformed(
            "an error status without an OAuth error".into(),
        ));
    }
    let access_token = present(response.access_token).ok_or(TokenError::MissingAccessToken)?;
    let dpop_bound = match response.token_type {
        Some(t) if t.eq_ignore_ascii_case("bearer") => false,
        Some(t) if proved && t.eq_ignore_ascii_case("dpop") => true,
        Some(t) => return Err(TokenError::UnsupportedTokenType(t)),
        None => return Err(TokenError::UnsupportedTokenType("missing".into())),
    };
    let expires_in_s = match response.expires_in {
        None | Some(Value::Null) => DEFAULT_EXPIRES_IN_S,
        Some(value) => positive_seconds(&value).ok_or_else(|| {
            TokenError::BadExpiresIn(match value {
                Value::String(s) => s,
                other => other.to_string(),
            })
        })?,
    };
    let id_token = present(response.id_token);
    if id_token_required && id_token.is_none() {
        return Err(TokenError::MissingIdToken);
    }
    let refresh_token = present(response.refresh_token);
    // Informational: an unusable value is ignored rather than failing the grant.
    let refresh_expires_in_s = (response.refresh_token_expires_in.as_ref())
        .filter(|_| refresh_token.is_some())
        .and_then(positive_seconds);
    Ok(TokenSet {
        access_token,
        expires_in_s,
        refresh_token,
        id_token,
        scope: present(response.scope),
        refresh_expires_in_s,
        dpop_bound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entras_refresh_token_lifetime_when_usable() {
        let body = |value: &str| {
            format!(
                r#"{{"access_token":"a","token_type":"Bearer","refresh_token":"r","refresh_token_expires_in":{value}}}"#
            )
        };
        let lifetime = |value: &str| {
            parse_response(true, &body(value), false, false)
                .unwrap()
                .refresh_expires_in_s
        };
        assert_eq!(lifetime("86399"), Some(86_399.0));
        assert_eq!(lifetime(r#""3600""#), Some(3_600.0));
        for unusable in ["0", "-1", "1.5", "null", r#""soon""#, "[1]"] {
            assert_eq!(lifetime(unusable), None, "{unusable}");
        }
        let without_refresh_token =
            r#"{"access_token":"a","token_type":"Bearer","refresh_token_expires_in":60}"#;
        assert_eq!(
            parse_response(true, without_refresh_token, false, false)
                .unwrap()
                .refresh_expires_in_s,
            None
        );
    }

    #[test]
    fn accepts_a_full_response_with_any_case_bearer() {
        let t = parse_response(
            true,
            r#"{"access_token":"a","token_type":"bearer","expires_in":3599,"refresh_token":"r","id_token":"i","scope":"openid"}"#,
            true, false,
        )
        .unwrap();
        assert_eq!(t.access_token, "a");
        assert_eq!(t.expires_in_s, 3599.0);
        assert_eq!(t.refresh_token.as_deref(), Some("r"));
        assert_eq!(t.id_token.as_deref(), Some("i"));
        assert!(
            !format!("{t:?}").contains("\"a\""),
            "tokens are redacted in Debug"
        );
    }

    #[test]
    fn expires_in_defaults_or_parses_strings_and_rejects_nonsense() {
        let body = |e: &str| format!(r#"{{"access_token":"a","token_type":"Bearer"{e}}}"#);
        assert_eq!(
            parse_response(true, &body(""), false, false)
                .unwrap()
                .expires_in_s,
            DEFAULT_EXPIRES_IN_S
        );
        assert_eq!(
            parse_response(true, &body(r#","expires_in":"300""#), false, false)
                .unwrap()
                .expires_in_s,
            300.0
        );
        for bad in [
            r#","expires_in":"3599.5""#,
            r#","expires_in":3599.5"#,
            r#","expires_in":" 300""#,
            r#","expires_in":"+300""#,
            r#","expires_in":1e3"#,
            r#","expires_in":40000000"#,
            r#","expires_in":0"#,
            r#","expires_in":-5"#,
            r#","expires_in":"soon""#,
            r#","expires_in":"0x10""#,
            r#","expires_in":[1]"#,
        ] {
            assert!(
                matches!(
                    parse_response(true, &body(bad), false, false),
                    Err(TokenError::BadExpiresIn(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_infinite_expires_in_is_refused() {
        // serde_json refuses numbers beyond f64's range, so the response never parses.
        let body = r#"{"access_token":"a","token_type":"Bearer","expires_in":1e400}"#;
        assert!(parse_response(true, body, false, false).is_err());
    }

    #[test]
    fn rejects_missing_pieces() {
        assert_eq!(
            parse_response(true, r#"{"token_type":"Bearer"}"#, false, false),
            Err(TokenError::MissingAccessToken)
        );
        assert_eq!(
            parse_response(
                true,
                r#"{"access_token":"a","token_type":"mac"}"#,
                false,
                false
            ),
            Err(TokenError::UnsupportedTokenType("mac".into()))
        );
        assert_eq!(
            parse_response(true, r#"{"access_token":"a"}"#, false, false),
            Err(TokenError::UnsupportedTokenType("missing".into()))
        );
        assert_eq!(
            parse_response(
                true,
                r#"{"access_token":"a","token_type":"Bearer"}"#,
                true,
                false
            ),
            Err(TokenError::MissingIdToken)
        );
        assert!(matches!(
            parse_response(true, "<html>", false, false),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn a_dpop_token_is_taken_only_for_a_request_that_carried_a_proof() {
        let dpop = r#"{"access_token":"a","token_type":"DPoP","expires_in":300}"#;
        let bound = parse_response(true, dpop, false, true).unwrap();
        assert!(bound.dpop_bound);
        // RFC 9449 §5: a provider may bind the refresh token alone and answer Bearer.
        let bearer = r#"{"access_token":"a","token_type":"Bearer","refresh_token":"r"}"#;
        assert!(
            !parse_response(true, bearer, false, true)
                .unwrap()
                .dpop_bound
        );
        // Without a proof, a DPoP token cannot be used.
        assert_eq!(
            parse_response(true, dpop, false, false),
            Err(TokenError::UnsupportedTokenType("DPoP".into()))
        );
    }

    #[test]
    fn reports_provider_errors() {
        let e = parse_response(
            false,
            r#"{"error":"invalid_grant","error_description":"AADSTS700084: expired"}"#,
            true,
            false,
        )
        .unwrap_err();
        assert_eq!(e.oauth_error(), Some("invalid_grant"));
        assert!(e.to_string().contains("AADSTS700084"));
        assert!(matches!(
            parse_response(false, "{}", true, false),
            Err(TokenError::Malformed(_))
        ));
        assert_eq!(
            parse_response(false, " ", true, false),
            Err(TokenError::Malformed(
                "an error status with an empty answer".into()
            ))
        );
        assert_eq!(
            parse_response(false, "<html>", true, false),
            Err(TokenError::Malformed(
                "an error page instead of JSON".into()
            ))
        );
    }

    #[test]
    fn request_bodies_are_form_encoded() {
        assert_eq!(
            code_request_body("c/1", "http://h/cb", "ui", "v"),
            "grant_type=authorization_code&code=c%2F1&redirect_uri=http%3A%2F%2Fh%2Fcb&client_id=ui&code_verifier=v"
        );
        assert_eq!(
            refresh_request_body("r", "ui", "openid api://a/API.call", None),
            "grant_type=refresh_token&refresh_token=r&client_id=ui&scope=openid%20api%3A%2F%2Fa%2FAPI.call"
        );
        assert_eq!(
            refresh_request_body("r", "ui", "openid", Some(r#"{"a":1}"#)),
            "grant_type=refresh_token&refresh_token=r&client_id=ui&scope=openid&claims=%7B%22a%22%3A1%7D"
        );
    }
}
