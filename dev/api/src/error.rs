//! The API's error type and how each variant becomes an HTTP response.
//!
//! Every failure a handler or extractor can produce is an [`ApiError`]; its
//! [`IntoResponse`] impl picks the status code, the JSON body
//! `{"error": "...", "detail": "..."}` and, for authentication failures, the
//! RFC 6750 `WWW-Authenticate: Bearer ...` challenge, or RFC 9449's
//! `WWW-Authenticate: DPoP ..., algs="ES256"` one for DPoP problems (and, through
//! [`dpop_challenges`], for every challenge answering a DPoP request).

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use crate::roles::Role;

/// The request header carrying a DPoP proof (RFC 9449 §4.1).
pub const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The response header carrying a nonce the client must put in its next proof (RFC 9449 §8).
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");
/// The proof algorithms accepted (the `algs` of the `DPoP` challenges).
pub const ALGS: &str = "ES256";

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer ...` credentials were sent.
    #[error("{0}")]
    MissingToken(String),
    /// A bearer token was sent but is malformed, badly signed, expired, for
    /// another audience or issuer, ...
    #[error("{0}")]
    InvalidToken(String),
    /// The token is valid but holds none of the roles this endpoint accepts.
    #[error("{}", requirement(required))]
    Forbidden { required: &'static [Role] },
    /// The signing keys could not be loaded from the identity provider, so no
    /// token can be checked right now.
    #[error("{0}")]
    KeysUnavailable(String),
    /// The requested item does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The item conflicts with an existing one (e.g. a duplicate study number).
    #[error("{0}")]
    Conflict(String),
    /// The request body is not acceptable JSON for this endpoint.
    #[error("{0}")]
    Unprocessable(String),
    /// The `DPoP` proof is missing, malformed, badly signed, for another request, too old or
    /// replayed (RFC 9449 §4.3).
    #[error("{0}")]
    InvalidDpopProof(String),
    /// The proof has no nonce, or not a current one: the client must retry with `nonce`.
    #[error("{detail}")]
    UseDpopNonce { detail: String, nonce: String },
    /// A token problem that only DPoP explains (a bound token sent as Bearer, or a token
    /// bound to another key): `invalid_token` in a `DPoP` challenge.
    #[error("{0}")]
    InvalidDpopToken(String),
    /// The token lacks the authentication context `context`: Entra's claims challenge.
    #[error("this endpoint requires the authentication context {context}")]
    InsufficientClaims { context: &'static str },
    /// The sign-in is not strong or recent enough (RFC 9470).
    #[error("{}", step_up_requirement(*acr_values, *max_age))]
    InsufficientUserAuthentication {
        acr_values: Option<&'static str>,
        max_age: Option<u64>,
    },
}

impl ApiError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken(_)
            | Self::InvalidToken(_)
            | Self::InvalidDpopProof(_)
            | Self::UseDpopNonce { .. }
            | Self::InvalidDpopToken(_)
            | Self::InsufficientClaims { .. }
            | Self::InsufficientUserAuthentication { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::KeysUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The short machine-readable code put in the body's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken(_) => "unauthorized",
            Self::InvalidToken(_) | Self::InvalidDpopToken(_) => "invalid_token",
            Self::InvalidDpopProof(_) => "invalid_dpop_proof",
            Self::UseDpopNonce { .. } => "use_dpop_nonce",
            Self::Forbidden { .. } => "forbidden",
            Self::KeysUnavailable(_) => "keys_unavailable",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Unprocessable(_) => "unprocessable_entity",
            Self::InsufficientClaims { .. } => "insufficient_claims",
            Self::InsufficientUserAuthentication { .. } => "insufficient_user_authentication",
        }
    }

    /// The `WWW-Authenticate` challenge to send with this error, if any.
    fn challenge(&self) -> Option<String> {
        match self {
            Self::MissingToken(_) => Some("Bearer".to_owned()),
            Self::InvalidToken(detail) => Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                quoted_string_safe(detail)
            )),
            Self::InvalidDpopProof(_) | Self::UseDpopNonce { .. } | Self::InvalidDpopToken(_) => {
                Some(format!(
                    "DPoP error=\"{}\", error_description=\"{}\", algs=\"{ALGS}\"",
                    self.code(),
                    quoted_string_safe(&self.to_string())
                ))
            }
            Self::Forbidden { required } => Some(format!(
                "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
                requirement(required)
            )),
            Self::InsufficientClaims { context } => {
                let claims = format!(
                    r#"{{"access_token":{{"acrs":{{"essential":true,"value":"{context}"}}}}}}"#
                );
                Some(format!(
                    "Bearer realm=\"\", error=\"insufficient_claims\", error_description=\"{}\", claims=\"{}\"",
                    quoted_string_safe(&self.to_string()),
                    STANDARD.encode(claims)
                ))
            }
            Self::InsufficientUserAuthentication {
                acr_values,
                max_age,
            } => {
                let mut challenge = format!(
                    "Bearer error=\"insufficient_user_authentication\", error_description=\"{}\"",
                    quoted_string_safe(&self.to_string())
                );
                if let Some(acr) = acr_values {
                    challenge.push_str(&format!(", acr_values=\"{acr}\""));
                }
                if let Some(age) = max_age {
                    challenge.push_str(&format!(", max_age={age}"));
                }
                Some(challenge)
            }
            _ => None,
        }
    }
}

/// What a step-up route asks for, in words.
fn step_up_requirement(acr_values: Option<&str>, max_age: Option<u64>) -> String {
    match (acr_values, max_age) {
        (Some(acr), _) => format!("this endpoint requires a sign-in with {acr}"),
        (None, Some(age)) => format!("this endpoint requires a sign-in within the last {age} s"),
        (None, None) => "this endpoint requires a stronger sign-in".to_owned(),
    }
}

/// "requires role X", or "requires one of the roles X, Y" when several are accepted.
fn requirement(any_of: &[Role]) -> String {
    let names: Vec<&str> = any_of.iter().map(|r| r.as_str()).collect();
    match names.as_slice() {
        [one] => format!("requires role {one}"),
        _ => format!("requires one of the roles {}", names.join(", ")),
    }
}

/// Makes `s` safe inside an RFC 7230 quoted-string (and thus a header value):
/// printable ASCII only, no `"` or `\`.
fn quoted_string_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::Forbidden { required } => json!({
                "error": self.code(),
                "detail": self.to_string(),
                "required_roles": required.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            }),
            _ => json!({ "error": self.code(), "detail": self.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(challenge) = self.challenge() {
            // Always valid: `quoted_string_safe` leaves printable ASCII only.
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Self::UseDpopNonce { nonce, .. } = &self {
            if let Ok(value) = HeaderValue::from_str(nonce) {
                response.headers_mut().insert(DPOP_NONCE, value);
            }
        }
        if matches!(self, Self::KeysUnavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// A `Bearer` challenge as it answers a request made with the `DPoP` scheme: `DPoP` with the
/// same parameters and `algs` (RFC 9449 §7.1); other challenges unchanged.
pub fn dpop_challenge(challenge: &str) -> String {
    match challenge.split_once(' ') {
        Some((scheme, params)) if scheme.eq_ignore_ascii_case("bearer") => {
            format!("DPoP {params}, algs=\"{ALGS}\"")
        }
        None if challenge.eq_ignore_ascii_case("bearer") => format!("DPoP algs=\"{ALGS}\""),
        _ => challenge.to_owned(),
    }
}

/// Middleware: the answer to a request with `Authorization: DPoP ...` challenges in the DPoP
/// scheme (a 403 `insufficient_scope`, a step-up or claims challenge, an invalid token).
pub async fn dpop_challenges(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let dpop = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split(' ').next())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("dpop"));
    let mut response = next.run(request).await;
    if dpop {
        let rewritten = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(dpop_challenge)
            .and_then(|c| HeaderValue::from_str(&c).ok());
        if let Some(value) = rewritten {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_is_sanitised_for_the_header() {
        assert_eq!(quoted_string_safe("a \"b\" \\c\n"), "a 'b' /c?");
    }

    #[test]
    fn bearer_challenges_become_dpop_ones() {
        assert_eq!(
            dpop_challenge(r#"Bearer error="insufficient_scope", error_description="x""#),
            r#"DPoP error="insufficient_scope", error_description="x", algs="ES256""#
        );
        assert_eq!(dpop_challenge("Bearer"), r#"DPoP algs="ES256""#);
        let dpop = r#"DPoP error="invalid_dpop_proof", algs="ES256""#;
        assert_eq!(dpop_challenge(dpop), dpop);
    }

    #[test]
    fn one_role_or_a_choice_of_roles() {
        assert_eq!(
            requirement(&[Role::StudyWrite]),
            "requires role Study.Write"
        );
        assert_eq!(
            requirement(&[Role::TreUser, Role::TreAdmin]),
            "requires one of the roles TREUser, TREAdmin"
        );
    }
}
