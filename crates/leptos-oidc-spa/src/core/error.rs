//! The one error type of signing in and staying signed in: every failure of discovery, the
//! redirect, the token exchange, validation or the browser, with a title for a panel and a hint
//! for the known causes (Entra's codes among them, see `entra`). Messages are plain text, and text
//! from outside is quoted with `{:?}` so its quotes and control characters stay visible; a UI
//! renders them as text, never as HTML.

use super::callback::CallbackError;
use super::discovery::DiscoveryError;
use super::dpop::DpopUnavailable;
use super::entra;
use super::id_token::IdTokenError;
use super::token::TokenError;
use thiserror::Error;

/// Every way signing in or staying signed in can fail. `Display` is the message for the person;
/// [`AuthError::title`] gives the panel's heading and [`AuthError::hint`] advice for known causes.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
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
    /// A silent sign-in ("Stay signed in", `prompt=none`) needs the person after all: the
    /// client asks the provider again, with its page. Not shown; it leads straight there.
    #[error("Signing in again needs you at the identity provider's page.")]
    SilentSignInDeclined {
        /// Where the sign-in returns to.
        return_to: String,
        /// The username to prefill.
        login_hint: Option<String>,
    },
    /// A sign-in for another API's scopes names an API the configuration does not have.
    #[error("No API named {0:?} is configured.")]
    UnknownApi(String),
    /// The browser lacks something sign-in needs (sessionStorage, WebCrypto, randomness).
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// DPoP is required (`DpopMode::Required`) and the provider cannot bind tokens.
    #[error(transparent)]
    DpopUnavailable(#[from] DpopUnavailable),
}

/// What the browser could not do for the client.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// sessionStorage is missing or disabled (some privacy modes).
    #[error("This browser does not allow sessionStorage, which is needed to keep you signed in.")]
    NoSessionStorage,
    /// sessionStorage refused a write (full, or disabled).
    #[error("The browser refused to store the session (storage full or disabled).")]
    StorageRefused,
    /// `crypto.getRandomValues` failed; holds the reason the browser gave.
    #[error("The browser's random number generator (crypto.getRandomValues) failed: {0}.")]
    NoRandomness(String),
    /// WebCrypto is missing: the page is not a secure context (https or localhost).
    #[error("WebCrypto is not available (the app must be served over https or from localhost).")]
    NoWebCrypto,
    /// A WebCrypto operation failed; says which.
    #[error("WebCrypto could not {0}.")]
    WebCrypto(&'static str),
    /// The browser refused to leave for the provider; holds the URL.
    #[error("The browser refused to navigate to {0}.")]
    Navigation(String),
    /// The browser's key store (IndexedDB), which keeps the session's DPoP key, failed; says at
    /// what.
    #[error("The browser's key store (IndexedDB) could not {0}.")]
    KeyStore(&'static str),
}

impl AuthError {
    /// A request to the provider that got no answer: `during` names the step, `url` the
    /// request, `detail` why (as the HTTP layer words it).
    pub fn network(during: &'static str, url: &str, detail: impl std::fmt::Display) -> AuthError {
        AuthError::Network {
            during,
            url: url.to_string(),
            detail: detail.to_string(),
        }
    }

    /// A short title for the error panel.
    pub fn title(&self) -> &'static str {
        match self {
            AuthError::Discovery(_) => "The identity provider's configuration is unusable",
            AuthError::Network { .. } => "The identity provider could not be reached",
            AuthError::Redirect { .. } | AuthError::SilentSignInDeclined { .. } => {
                "Sign-in was not completed"
            }
            AuthError::Callback(_) => "This sign-in response was rejected",
            AuthError::Token(_) => "The identity provider did not issue tokens",
            AuthError::IdToken(_) => "The identity token failed validation",
            AuthError::SessionEnded { .. } => "Your session has ended",
            AuthError::ConsentRequired { .. } => "This API needs your consent",
            AuthError::UnknownApi(_) => "This app's configuration is incomplete",
            AuthError::Browser(_) => "This browser cannot keep you signed in",
            AuthError::DpopUnavailable(_) => {
                "The identity provider cannot bind tokens to this browser"
            }
        }
    }

    /// Advice for known provider error codes, if any.
    pub fn hint(&self) -> Option<&'static str> {
        if let Some(hint) = entra::hint_for(&self.to_string()) {
            return Some(hint);
        }
        match self {
            AuthError::Network { .. } => Some("Check the network connection. If it works, the identity provider may not allow this site's origin (CORS): for Entra the redirect URI must be registered as a single-page application."),
            AuthError::Redirect { error, .. } if error == "access_denied" => Some("Sign-in was cancelled or refused. You can try again."),
            AuthError::Callback(CallbackError::UnknownState) => Some("Start the sign-in again from this tab; links from other tabs or old emails cannot be reused."),
            AuthError::DpopUnavailable(_) => Some("Turn DPoP on at the identity provider for this client, or set OAUTH_DPOP to auto to use Bearer tokens where it cannot."),
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
