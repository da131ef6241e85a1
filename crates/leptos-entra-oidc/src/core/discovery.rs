//! OpenID Connect Discovery 1.0: the provider metadata document and the rule that its `issuer`
//! belongs to the configured authority (§4.3), with Entra's multi-tenant `{tenantid}` placeholder.

use super::error::quoted;
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
}

/// Why a discovery document cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DiscoveryError {
    /// The document is not JSON or lacks a required member; holds the parser's message.
    #[error("The identity provider's discovery document is not valid OpenID Connect metadata ({0}). Check the configured metadata URL.")]
    NotJson(String),
    /// Discovery §4.3: the document's `issuer` does not belong to the metadata URL.
    #[error(
        "The discovery document's issuer {} does not belong to the configured metadata URL (expected {}).",
        quoted(found),
        quoted(expected)
    )]
    IssuerMismatch {
        /// The authority of the metadata URL (without the well-known suffix).
        expected: String,
        /// The document's `issuer`.
        found: String,
    },
    /// RFC 7636 §4.2: `code_challenge_methods_supported` is advertised without `S256`.
    #[error("The identity provider does not support PKCE with S256, which this client requires.")]
    NoS256,
    /// An endpoint the client would navigate to or call is not `https:` (nor plain `http:` on
    /// this computer, for development).
    #[error("The discovery document's {field} is {}, which is not an https URL (plain http is allowed only on localhost, for development).", quoted(url))]
    InsecureEndpoint {
        /// The metadata member at fault.
        field: &'static str,
        /// Its value.
        url: String,
    },
}

const WELL_KNOWN: &str = "/.well-known/openid-configuration";
/// The placeholder in Entra's multi-tenant issuer.
const TENANT_PLACEHOLDER: &str = "{tenantid}";
/// Entra's multi-tenant authorities, whose metadata carries the `{tenantid}` placeholder.
const ENTRA_MULTI_TENANT: [&str; 3] = ["common", "organizations", "consumers"];

/// The authority a metadata URL belongs to: the URL without its query and the well-known suffix.
pub fn authority_of(metadata_url: &str) -> &str {
    let without_query = metadata_url
        .split(['?', '#'])
        .next()
        .unwrap_or(metadata_url);
    without_query
        .strip_suffix(WELL_KNOWN)
        .unwrap_or(without_query)
        .trim_end_matches('/')
}

/// Parses and checks a discovery document fetched from `metadata_url`.
pub fn parse(metadata_url: &str, text: &str) -> Result<ProviderMetadata, DiscoveryError> {
    let mut metadata: ProviderMetadata =
        serde_json::from_str(text).map_err(|e| DiscoveryError::NotJson(e.to_string()))?;
    metadata.issuer = check_issuer(metadata_url, &metadata.issuer)?;
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

/// Whether the client may navigate to or call `url`: `https://`, or `http://` on a loopback host
/// (`localhost`, `127.0.0.0/8`, `[::1]`) for development. `javascript:`, `data:`, relative URLs,
/// plain `http` to another host and URLs with credentials or backslashes are refused.
pub fn is_secure_endpoint(url: &str) -> bool {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return false,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains(['@', '\\']) {
        return false;
    }
    https || is_loopback(authority)
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback(authority: &str) -> bool {
    if authority == "[::1]" || authority.starts_with("[::1]:") {
        return true;
    }
    let host = authority.split(':').next().unwrap_or_default();
    let octets: Vec<&str> = host.split('.').collect();
    host.eq_ignore_ascii_case("localhost")
        || (octets.len() == 4
            && octets[0] == "127"
            && octets.iter().all(|o| o.parse::<u8>().is_ok()))
}

/// OpenID Connect Discovery §4.3: the issuer must equal the URL the document was fetched for,
/// and the result is the issuer the client holds responses and tokens to. Entra's documents
/// carry the template `https://login.microsoftonline.com/{tenantid}/v2.0`:
/// - for a single-tenant authority (a tenant id in the URL) the template is filled with that
///   tenant, so a token from any other tenant is refused;
/// - for a multi-tenant authority (`common`, `organizations`, `consumers`) the template stays,
///   to be filled by each response's own tenant (see `issuer_matches`, `expected_issuer`).
pub fn check_issuer(metadata_url: &str, issuer: &str) -> Result<String, DiscoveryError> {
    let authority = authority_of(metadata_url);
    let issuer_trimmed = issuer.trim_end_matches('/');
    if authority == issuer_trimmed {
        return Ok(issuer.to_string());
    }
    if let Some((before, after)) = issuer_trimmed.split_once(TENANT_PLACEHOLDER) {
        let tenant = authority
            .strip_prefix(before)
            .and_then(|r| r.strip_suffix(after));
        match tenant {
            Some(tenant) if is_guid(tenant) => {
                return Ok(issuer.replace(TENANT_PLACEHOLDER, tenant));
            }
            Some(tenant) if ENTRA_MULTI_TENANT.contains(&tenant) => return Ok(issuer.to_string()),
            _ => {}
        }
    }
    Err(DiscoveryError::IssuerMismatch {
        expected: authority.to_string(),
        found: issuer.to_string(),
    })
}

/// Whether an issuer named in a response (`iss`, RFC 9207) is `issuer`: equal to it, or, when
/// `issuer` is Entra's multi-tenant template, the template with a real tenant id (a GUID) in
/// place of `{tenantid}`.
pub fn issuer_matches(issuer: &str, found: &str) -> bool {
    match issuer.split_once(TENANT_PLACEHOLDER) {
        None => found == issuer,
        // The template itself is no issuer: a response must name its tenant.
        Some((before, after)) => found
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(is_guid),
    }
}

/// The issuer a token from tenant `tid` must carry: the metadata issuer with `{tenantid}` filled in.
pub fn expected_issuer(metadata_issuer: &str, tid: Option<&str>) -> String {
    match tid {
        Some(tid) if metadata_issuer.contains(TENANT_PLACEHOLDER) => {
            metadata_issuer.replace(TENANT_PLACEHOLDER, tid)
        }
        _ => metadata_issuer.to_string(),
    }
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(err, DiscoveryError::IssuerMismatch { .. }));
        assert!(err.to_string().contains("evil.example"));
    }

    #[test]
    fn entra_multi_tenant_placeholder() {
        let issuer = "https://login.microsoftonline.com/{tenantid}/v2.0";
        for authority in ["common", "organizations"] {
            let url = format!("https://login.microsoftonline.com/{authority}/v2.0/.well-known/openid-configuration");
            assert_eq!(check_issuer(&url, issuer).unwrap(), issuer, "{authority}");
        }
        // A single-tenant authority pins the template to its tenant.
        let url = format!(
            "https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"
        );
        assert_eq!(
            check_issuer(&url, issuer).unwrap(),
            format!("https://login.microsoftonline.com/{TENANT}/v2.0")
        );
        // RFC 9207 iss against the template: a real tenant id only.
        let found = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
        assert!(issuer_matches(issuer, &found));
        assert!(issuer_matches(&found, &found));
        for bad in [
            "https://login.microsoftonline.com/{tenantid}/v2.0x",
            "https://login.microsoftonline.com/common/v2.0",
            "https://login.microsoftonline.com/evil.example/v2.0",
            "https://evil.example/7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43/v2.0",
        ] {
            assert!(!issuer_matches(issuer, bad), "{bad}");
        }
        assert!(
            !issuer_matches(&found, issuer),
            "the template is not a concrete issuer"
        );
        let bad = "https://login.microsoftonline.com/evil/v2.0/.well-known/openid-configuration";
        assert!(check_issuer(bad, issuer).is_err());
        assert_eq!(
            expected_issuer(issuer, Some(TENANT)),
            format!("https://login.microsoftonline.com/{TENANT}/v2.0")
        );
        assert_eq!(expected_issuer("https://a/b", Some(TENANT)), "https://a/b");
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
    fn endpoints_must_be_https_or_loopback_http() {
        for ok in [
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            "http://127.0.0.1:8090/t/token",
            "http://localhost:8090/token",
            "http://[::1]:8090/token",
        ] {
            assert!(is_secure_endpoint(ok), "{ok}");
        }
        for bad in [
            "http://idp.example/token",
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative/token",
            "//idp.example/token",
            "https://",
            "https://user@idp.example/token",
            "http://127.0.0.1.evil.example/token",
            "http://localhost.evil.example/token",
            "https://idp.example/a b",
        ] {
            assert!(!is_secure_endpoint(bad), "{bad}");
        }
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
