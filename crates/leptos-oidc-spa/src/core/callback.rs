//! The authorization response (RFC 6749 §4.1.2 and §4.1.2.1) as it arrives in the redirect's
//! fragment or query: whether a URL carries one, its parameters, and why one is rejected before
//! its code is redeemed (no repeated parameters, a known single-use `state`, and the `iss` of
//! RFC 9207, checked in `issuer`).

use super::issuer::IssuerError;
use super::query;
use thiserror::Error;

/// A parsed authorization response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthResponse {
    /// Success (RFC 6749 §4.1.2): the provider issued an authorization code.
    Code {
        /// The authorization code, to redeem at the token endpoint with the PKCE verifier.
        code: String,
        /// The `state` of the request this answers; names the pending login to consume.
        state: String,
        /// The RFC 9207 issuer identifier, if the provider sent one.
        iss: Option<String>,
    },
    /// Failure (RFC 6749 §4.1.2.1): the provider redirected back with an error.
    Error {
        /// The OAuth error code, e.g. `access_denied` or `interaction_required`.
        error: String,
        /// The `error_description`, if any (Entra's starts with its `AADSTS` code).
        description: Option<String>,
        /// The request's `state`, if the provider echoed it.
        state: Option<String>,
        /// The RFC 9207 issuer identifier, if the provider sent one.
        iss: Option<String>,
    },
}

/// Why a callback cannot be completed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The callback URL carries no authorization response (e.g. the page was reloaded).
    #[error("This sign-in link has no response from the identity provider in it.")]
    Empty,
    /// A parameter appears twice (RFC 6749 §3.1: parameters must not be repeated).
    #[error("The sign-in response repeats the parameter {0:?}, so it was rejected.")]
    Repeated(String),
    /// A success response without a (non-empty) `code`.
    #[error("The sign-in response has no authorization code.")]
    MissingCode,
    /// A success response without a (non-empty) `state`.
    #[error("The sign-in response has no state parameter, so it cannot be matched to a sign-in started here.")]
    MissingState,
    /// The `state` was never issued by this tab, was already used, or expired.
    #[error("This sign-in response does not match a sign-in started in this tab, or it was already used or has expired. Please sign in again.")]
    UnknownState,
    /// RFC 9207: the response's `iss` is missing or names another issuer.
    #[error(transparent)]
    Issuer(#[from] IssuerError),
}

/// Whether URL parameters (a fragment or query without its `#` or `?`) carry an authorization
/// response: a `state` with a `code` or an `error`.
pub fn carries_auth_response(params: &str) -> bool {
    let pairs = query::parse(params);
    let has = |name: &str| pairs.iter().any(|(k, _)| k == name);
    has("state") && (has("code") || has("error"))
}

/// Whether an error response to a silent request (`prompt=none`) means that the provider wants
/// the person at its page (OIDC Core §3.1.2.6), rather than a failure.
pub fn needs_the_person(error: &str) -> bool {
    matches!(
        error,
        "login_required"
            | "interaction_required"
            | "consent_required"
            | "account_selection_required"
    )
}

/// Parses the text after `#` or `?` of the callback URL.
pub fn parse_response(params: &str) -> Result<AuthResponse, CallbackError> {
    let pairs = query::parse(params);
    if pairs.is_empty() {
        return Err(CallbackError::Empty);
    }
    // Sorted, a repeated name sits next to itself: O(n log n) on hostile input.
    let mut names: Vec<String> = pairs.iter().map(|(name, _)| name.clone()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(CallbackError::Repeated(pair[0].clone()));
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let state = get("state");
    let iss = get("iss");
    if let Some(error) = get("error") {
        return Ok(AuthResponse::Error {
            error,
            description: get("error_description"),
            state,
            iss,
        });
    }
    let code = get("code").ok_or(CallbackError::MissingCode)?;
    let state = state.ok_or(CallbackError::MissingState)?;
    Ok(AuthResponse::Code { code, state, iss })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_request_needs_the_person_for_the_four_oidc_errors_only() {
        for error in [
            "login_required",
            "interaction_required",
            "consent_required",
            "account_selection_required",
        ] {
            assert!(needs_the_person(error), "{error}");
        }
        for error in ["access_denied", "server_error", "invalid_request", ""] {
            assert!(!needs_the_person(error), "{error}");
        }
    }

    #[test]
    fn parses_a_code_response_with_iss() {
        assert_eq!(
            parse_response("code=abc&state=xyz&iss=http%3A%2F%2Fidp%2Ft%2Fv2.0&session_state=s"),
            Ok(AuthResponse::Code {
                code: "abc".into(),
                state: "xyz".into(),
                iss: Some("http://idp/t/v2.0".into())
            })
        );
    }

    #[test]
    fn parses_an_error_response_keeping_hostile_text_as_text() {
        let r = parse_response("error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E+AADSTS65001&state=s").unwrap();
        assert_eq!(
            r,
            AuthResponse::Error {
                error: "access_denied".into(),
                description: Some("<script>alert(1)</script> AADSTS65001".into()),
                state: Some("s".into()),
                iss: None
            }
        );
    }

    #[test]
    fn rejects_empty_repeated_and_incomplete_responses() {
        assert_eq!(parse_response(""), Err(CallbackError::Empty));
        assert_eq!(
            parse_response("code=a&state=b&code=c"),
            Err(CallbackError::Repeated("code".into()))
        );
        assert_eq!(parse_response("state=b"), Err(CallbackError::MissingCode));
        assert_eq!(parse_response("code=a"), Err(CallbackError::MissingState));
        assert_eq!(
            parse_response("code=a&state="),
            Err(CallbackError::MissingState)
        );
    }

    #[test]
    fn a_url_carries_a_response_with_state_and_code_or_error() {
        assert!(carries_auth_response("code=c&state=s"));
        assert!(carries_auth_response("state=s&error=access_denied"));
        for not in ["", "code=c", "state=s", "tab=2&x=y", "codes=c&state=s"] {
            assert!(!carries_auth_response(not), "{not}");
        }
    }

    #[test]
    fn a_hundred_thousand_parameters_are_checked_in_linearithmic_time() {
        let many: String = (0..100_000).map(|i| format!("p{i}=v&")).collect();
        let started = std::time::Instant::now();
        let parsed = parse_response(&format!("{many}code=c&state=s"));
        assert!(matches!(parsed, Ok(AuthResponse::Code { .. })));
        let repeated = parse_response(&format!("{many}code=c&state=s&p99999=again"));
        assert_eq!(repeated, Err(CallbackError::Repeated("p99999".into())));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
