//! OpenID Connect Discovery 1.0: the provider metadata document, checked before use: its
//! `issuer` belongs to the configured authority (§4.3, see `issuer`), every endpoint the client
//! navigates to or calls is secure (see `safe_url`), and PKCE with S256 is supported.

use super::issuer::{self, IssuerError};
use super::safe_url::is_secure_endpoint;
use serde::Deserialize;
use thiserror::Error;

/// The parts of the provider metadata this client uses; other members of the document are ignored.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ProviderMetadata {
    /// The provider's issuer identifier, which ID tokens' `iss` must equal (Entra's
    /// multi-tenant metadata has a `{tenantid}` placeholder in it).
    pub issuer: String,
    /// Where the browser is sent to sign in (RFC 6749 §3.1).
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are redeemed (RFC 6749 §3.2).
    pub token_endpoint: String,
    /// The JSON Web Key Set (RFC 7517) whose keys verify ID token signatures.
    pub jwks_uri: String,
    /// The end-session endpoint (RP-Initiated Logout 1.0 §2); without it, sign-out is local only.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// RFC 9207 §3: whether authorization responses carry `iss`; if so, the callback requires
    /// it. Absent means `false`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// PKCE methods the provider supports (RFC 8414 §2); when present it must list `S256`,
    /// when absent `S256` is assumed.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// The `prompt` values the provider supports (OpenID Connect Prompt Create 1.0 §4.1), when
    /// it lists them.
    #[serde(default)]
    pub prompt_values_supported: Option<Vec<String>>,
    /// The algorithms the provider takes DPoP proofs in (RFC 9449 §5.1); absent: no DPoP.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl ProviderMetadata {
    /// Whether a sign-in may try `prompt=none` first (OIDC Core §3.1.2.1): unless the provider
    /// lists its prompt values without it. Every OpenID provider must support it; Entra does
    /// and lists none.
    pub fn allows_silent_sign_in(&self) -> bool {
        (self.prompt_values_supported.as_ref())
            .is_none_or(|values| values.iter().any(|v| v == "none"))
    }
}

/// Why a discovery document cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The document is not JSON or lacks a required member; holds the parser's message.
    #[error("The identity provider's discovery document is not valid OpenID Connect metadata ({0}). Check the configured metadata URL.")]
    NotJson(String),
    /// Discovery §4.3: the document's `issuer` does not belong to the metadata URL.
    #[error(transparent)]
    Issuer(#[from] IssuerError),
    /// RFC 7636 §4.2: `code_challenge_methods_supported` is advertised without `S256`.
    #[error("The identity provider does not support PKCE with S256, which this client requires.")]
    NoS256,
    /// An endpoint the client would navigate to or call is not `https:` (nor plain `http:` on
    /// this computer, for development).
    #[error("The discovery document's {field} is {url:?}, which is not an https URL (plain http is allowed only on localhost, for development).")]
    InsecureEndpoint {
        /// The metadata member at fault.
        field: &'static str,
        /// Its value.
        url: String,
    },
}

/// Parses and checks a discovery document fetched from `metadata_url`.
pub fn parse(metadata_url: &str, text: &str) -> Result<ProviderMetadata, DiscoveryError> {
    let mut metadata: ProviderMetadata =
        serde_json::from_str(text).map_err(|e| DiscoveryError::NotJson(e.to_string()))?;
    metadata.issuer = issuer::from_discovery(metadata_url, &metadata.issuer)?;
    let endpoints = [
        (
            "authorization_endpoint",
            Some(&metadata.authorization_endpoint),
        ),
        ("token_endpoint", Some(&metadata.token_endpoint)),
        ("jwks_uri", Some(&metadata.jwks_uri)),
        (
            "end_session_endpoint",
            metadata.end_session_endpoint.as_ref(),
        ),
    ];
    for (field, url) in endpoints {
        if let Some(url) = url.filter(|url| !is_secure_endpoint(url)) {
            return Err(DiscoveryError::InsecureEndpoint {
                field,
                url: url.clone(),
            });
        }
    }
    if let Some(methods) = &metadata.code_challenge_methods_supported {
        if !methods.iter().any(|m| m == "S256") {
            return Err(DiscoveryError::NoS256);
        }
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_sign_in_is_tried_unless_the_provider_lists_prompts_without_none() {
        let doc = |extra: &str| {
            parse(
                "https://idp.example/.well-known/openid-configuration",
                &format!(
                    r#"{{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://idp.example/t","jwks_uri":"https://idp.example/k"{extra}}}"#
                ),
            )
            .unwrap()
        };
        assert!(doc("").allows_silent_sign_in());
        assert!(doc(r#","prompt_values_supported":["none","login"]"#).allows_silent_sign_in());
        assert!(!doc(r#","prompt_values_supported":["login","create"]"#).allows_silent_sign_in());
    }

    const TENANT: &str = "7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43";

    fn doc(issuer: &str) -> String {
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"https://l/a","token_endpoint":"https://l/t",
            "jwks_uri":"https://l/k","code_challenge_methods_supported":["plain","S256"]}}"#
        )
    }

    #[test]
    fn single_tenant_issuer_matches_metadata_url_with_query() {
        let url = format!("https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration?appid=x");
        let m = parse(
            &url,
            &doc(&format!("https://login.microsoftonline.com/{TENANT}/v2.0")),
        )
        .unwrap();
        assert!(!m.authorization_response_iss_parameter_supported);
        assert_eq!(m.end_session_endpoint, None);
    }

    #[test]
    fn foreign_issuer_is_rejected() {
        let url = "http://127.0.0.1:8090/t/v2.0/.well-known/openid-configuration";
        let err = parse(url, &doc("https://evil.example/t/v2.0")).unwrap_err();
        assert!(matches!(err, DiscoveryError::Issuer(_)));
        assert!(err.to_string().contains("evil.example"));
    }

    #[test]
    fn an_entra_multi_tenant_document_keeps_its_template() {
        let url =
            "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration";
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert_eq!(parse(url, &doc(template)).unwrap().issuer, template);
    }

    #[test]
    fn provider_without_s256_is_refused() {
        let text = r#"{"issuer":"https://i","authorization_endpoint":"https://i/a","token_endpoint":"https://i/t",
            "jwks_uri":"https://i/k","code_challenge_methods_supported":["plain"]}"#;
        assert_eq!(
            parse("https://i/.well-known/openid-configuration", text),
            Err(DiscoveryError::NoS256)
        );
        let missing = parse("https://i", "{}").unwrap_err();
        assert!(
            missing.to_string().contains("missing field `issuer`"),
            "{missing}"
        );
        assert!(matches!(
            parse("https://i", "[]"),
            Err(DiscoveryError::NotJson(_))
        ));
    }

    #[test]
    fn every_endpoint_must_be_secure() {
        let url = "http://127.0.0.1:8090/t/v2.0/.well-known/openid-configuration";
        let doc = r#"{"issuer":"http://127.0.0.1:8090/t/v2.0","authorization_endpoint":"javascript:alert(1)",
            "token_endpoint":"http://127.0.0.1:8090/t/token","jwks_uri":"http://127.0.0.1:8090/t/keys"}"#;
        let err = parse(url, doc).unwrap_err();
        assert_eq!(
            err,
            DiscoveryError::InsecureEndpoint {
                field: "authorization_endpoint",
                url: "javascript:alert(1)".into()
            }
        );
        assert!(err.to_string().contains("authorization_endpoint"), "{err}");
    }
}
