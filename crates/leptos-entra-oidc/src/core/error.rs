//! The one error type the UI shows in `auth-error`: every failure of configuration, discovery,
//! the redirect, the token exchange or validation, with a hint for the Entra errors operators
//! meet most. Messages are plain text; the UI never renders them as HTML.

use super::callback::CallbackError;
use super::discovery::DiscoveryError;
use super::id_token::IdTokenError;
use super::token::TokenError;
use thiserror::Error;

/// Text from outside (a provider, a token, a configuration file) as a JSON string literal, for
/// messages: quotes and control characters stay visible and nothing in it is interpreted.
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Every way signing in or staying signed in can fail. `Display` is the message for the person;
/// [`AuthError::title`] gives the panel's heading and [`AuthError::hint`] advice for known causes.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuthError {
    /// The provider's discovery document is unusable (OpenID Connect Discovery 1.0).
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// A request to the provider failed before an answer arrived (offline, DNS, CORS, timeout).
    #[error("Could not reach {url} while {during}: {detail}.")]
    Network {
        /// What the client was doing, e.g. `"refreshing the session"`.
        during: &'static str,
        /// The URL that gave no answer.
        url: String,
        /// Why, as the HTTP layer words it (e.g. `"no answer within 20 seconds"`).
        detail: String,
    },
    /// The provider redirected back with `error` (RFC 6749 §4.1.2.1).
    #[error("The identity provider returned {error}{}", description.as_deref().map_or_else(|| ".".to_string(), |d| format!(": {d}")))]
    Redirect {
        /// The OAuth error code, e.g. `access_denied` or `consent_required`.
        error: String,
        /// The provider's `error_description`, if any (Entra's starts with its `AADSTS` code).
        description: Option<String>,
    },
    /// The authorization response failed a check before its code was redeemed.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// The token endpoint refused to issue tokens or answered with an unusable response.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The ID token failed validation (OpenID Connect Core §3.1.3.7) or its signature check.
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// Refreshing is no longer possible; the person must sign in again.
    #[error("Please sign in again. ({detail})")]
    SessionEnded {
        /// Why: the provider's refusal (e.g. `invalid_grant: AADSTS700084: …`) or another cause.
        detail: String,
    },
    /// The person has not consented to one of the other APIs; signing in again for its scopes
    /// asks them. The session itself is fine.
    #[error("{api} needs your consent before this app can call it for you. ({detail})")]
    ConsentRequired {
        /// The API's name (`OidcConfig::resources`).
        api: String,
        /// The provider's refusal.
        detail: String,
    },
    /// The browser lacks something sign-in needs (sessionStorage, WebCrypto).
    #[error("{0}")]
    Browser(String),
}

/// Entra error codes and what the operator or user should do about them.
const ENTRA_HINTS: [(&str, &str); 6] = [
    ("AADSTS9002326", "Register the redirect URI under the \"Single-page application\" platform of the app registration (not \"Web\"), so Entra allows the browser to redeem the code."),
    ("AADSTS9002327", "Register the redirect URI under the \"Single-page application\" platform of the app registration (not \"Web\"), so Entra allows the browser to redeem the code."),
    ("AADSTS50011", "The redirect URI does not match one registered for this app: add this site's callback URL (the redirect path) to the app registration exactly, including the port."),
    ("AADSTS65001", "Consent for the API scope is missing: grant admin consent for the delegated permission in the app registration's \"API permissions\"."),
    ("AADSTS700084", "Entra limits single-page app sessions to 24 hours: sign in again."),
    ("AADSTS50076", "Your organisation requires multi-factor authentication: sign in again to complete it."),
];

impl AuthError {
    /// A short title for the error panel.
    pub fn title(&self) -> &'static str {
        match self {
            AuthError::Discovery(_) => "The identity provider's configuration is unusable",
            AuthError::Network { .. } => "The identity provider could not be reached",
            AuthError::Redirect { .. } => "Sign-in was not completed",
            AuthError::Callback(_) => "This sign-in response was rejected",
            AuthError::Token(_) => "The identity provider did not issue tokens",
            AuthError::IdToken(_) => "The identity token failed validation",
            AuthError::SessionEnded { .. } => "Your session has ended",
            AuthError::ConsentRequired { .. } => "This API needs your consent",
            AuthError::Browser(_) => "This browser cannot keep you signed in",
        }
    }

    /// Advice for known provider error codes, if any.
    pub fn hint(&self) -> Option<&'static str> {
        let text = self.to_string();
        if let Some((_, hint)) = ENTRA_HINTS.iter().find(|(code, _)| text.contains(code)) {
            return Some(hint);
        }
        match self {
            AuthError::Network { .. } => Some("Check the network connection. If it works, the identity provider may not allow this site's origin (CORS): for Entra the redirect URI must be registered as a single-page application."),
            AuthError::Redirect { error, .. } if error == "access_denied" => Some("Sign-in was cancelled or refused. You can try again."),
            AuthError::Callback(CallbackError::UnknownState) => Some("Start the sign-in again from this tab; links from other tabs or old emails cannot be reused."),
            AuthError::IdToken(IdTokenError::Expired | IdTokenError::IssuedInFuture | IdTokenError::NotYetValid) => Some("Check that this computer's date and time are set correctly."),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_codes_get_hints() {
        let e = AuthError::Token(TokenError::Provider {
            error: "invalid_request".into(),
            description: Some("AADSTS9002326: Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type.".into()),
        });
        assert!(e.hint().unwrap().contains("Single-page application"));
        let e = AuthError::Redirect {
            error: "invalid_request".into(),
            description: Some("AADSTS50011: The redirect URI ...".into()),
        };
        assert!(e.hint().unwrap().contains("redirect URI"));
        let e = AuthError::Redirect {
            error: "consent_required".into(),
            description: Some("AADSTS65001: no consent".into()),
        };
        assert!(e.hint().unwrap().contains("consent"));
        let e = AuthError::SessionEnded {
            detail: "invalid_grant: AADSTS700084: expired".into(),
        };
        assert!(e.hint().unwrap().contains("24 hours"));
    }

    #[test]
    fn messages_name_the_failed_check() {
        let e: AuthError = CallbackError::UnknownState.into();
        assert_eq!(e.title(), "This sign-in response was rejected");
        assert!(e
            .to_string()
            .contains("does not match a sign-in started in this tab"));
    }
}
