//! The authorization response (RFC 6749 §4.1.2 and §4.1.2.1) as it arrives in the redirect's
//! fragment or query, and the checks made on it before the code is redeemed: a known single-use
//! `state`, and the `iss` parameter of RFC 9207 when the provider advertises it.

use super::discovery::issuer_matches;
use super::error::quoted;
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
pub enum CallbackError {
    /// The callback URL carries no authorization response (e.g. the page was reloaded).
    #[error("This sign-in link has no response from the identity provider in it.")]
    Empty,
    /// A parameter appears twice (RFC 6749 §3.1: parameters must not be repeated).
    #[error("The sign-in response repeats the parameter {}, so it was rejected.", quoted(.0))]
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
    /// RFC 9207: the provider advertises `iss` but the response has none.
    #[error("The sign-in response does not say which identity provider sent it (iss), although the provider promises to.")]
    MissingIssuer,
    /// RFC 9207: the response's `iss` is not the provider's issuer (mix-up attack).
    #[error(
        "The sign-in response came from {}, not from the configured identity provider {}.",
        quoted(found),
        quoted(expected)
    )]
    WrongIssuer {
        /// The issuer from the provider's metadata.
        expected: String,
        /// The `iss` the response carried.
        found: String,
    },
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

/// RFC 9207 §2.4: when the provider advertises `authorization_response_iss_parameter_supported`,
/// `iss` is required and must be its issuer (for Entra's multi-tenant template, with a real
/// tenant id in place); otherwise a present `iss` must still match.
pub fn check_issuer(
    iss: Option<&str>,
    issuer: &str,
    advertised: bool,
) -> Result<(), CallbackError> {
    match iss {
        Some(found) if issuer_matches(issuer, found) => Ok(()),
        Some(found) => Err(CallbackError::WrongIssuer {
            expected: issuer.to_string(),
            found: found.to_string(),
        }),
        None if advertised => Err(CallbackError::MissingIssuer),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn rfc9207_issuer_checks() {
        assert_eq!(check_issuer(Some("https://i"), "https://i", true), Ok(()));
        assert_eq!(check_issuer(None, "https://i", false), Ok(()));
        assert_eq!(
            check_issuer(None, "https://i", true),
            Err(CallbackError::MissingIssuer)
        );
        assert!(matches!(
            check_issuer(Some("https://evil"), "https://i", false),
            Err(CallbackError::WrongIssuer { .. })
        ));
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

    #[test]
    fn a_multi_tenant_iss_carries_a_real_tenant() {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let real = "https://login.microsoftonline.com/7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43/v2.0";
        assert_eq!(check_issuer(Some(real), template, true), Ok(()));
        for wrong in [template, "https://login.microsoftonline.com/common/v2.0"] {
            assert!(matches!(
                check_issuer(Some(wrong), template, true),
                Err(CallbackError::WrongIssuer { .. })
            ));
        }
    }
}
