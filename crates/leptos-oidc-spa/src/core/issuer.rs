//! Which issuer the client holds the provider to, and the three places it is checked:
//! - the discovery document's `issuer` must belong to the configured metadata URL (OpenID Connect
//!   Discovery 1.0 §4.3), with or without a trailing slash;
//! - an authorization response's `iss` must be that issuer (RFC 9207 §2.4), and present when the
//!   provider promises it;
//! - an ID token's `iss` must be that issuer (OpenID Connect Core §3.1.3.7).
//!
//! Entra's multi-tenant documents carry the template
//! `https://login.microsoftonline.com/{tenantid}/v2.0` instead of an issuer (see `entra`): a
//! single-tenant authority pins it to its tenant, a multi-tenant one keeps it, and each response
//! and token must then name a real tenant in its place.

use super::entra::{is_tenant_id, MULTI_TENANT_AUTHORITIES, TENANT_PLACEHOLDER};
use thiserror::Error;

/// An issuer that is not the one the client expects.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IssuerError {
    /// Discovery §4.3: the document's `issuer` does not belong to the metadata URL.
    #[error("The discovery document's issuer {found:?} does not belong to the configured metadata URL (expected {expected:?}).")]
    NotTheAuthority {
        /// The authority of the metadata URL (without the well-known suffix).
        expected: String,
        /// The document's `issuer`.
        found: String,
    },
    /// RFC 9207: the provider advertises `iss` in authorization responses but this one has none.
    #[error("The sign-in response does not say which identity provider sent it (iss), although the provider promises to.")]
    MissingInResponse,
    /// RFC 9207: the response's `iss` is not the provider's issuer (a mix-up attack).
    #[error("The sign-in response came from {found:?}, not from the configured identity provider {expected:?}.")]
    WrongInResponse {
        /// The issuer from the provider's metadata.
        expected: String,
        /// The `iss` the response carried.
        found: String,
    },
}

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// The authority a metadata URL belongs to: the URL without its query, its fragment and the
/// well-known suffix.
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

/// Discovery §4.3: the issuer the client holds responses and tokens to, from the document
/// fetched for `metadata_url` whose `issuer` is `issuer`. Entra's template is pinned to the
/// tenant of a single-tenant authority and kept for a multi-tenant one.
pub fn from_discovery(metadata_url: &str, issuer: &str) -> Result<String, IssuerError> {
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
            Some(tenant) if is_tenant_id(tenant) => {
                return Ok(issuer.replace(TENANT_PLACEHOLDER, tenant));
            }
            Some(tenant) if MULTI_TENANT_AUTHORITIES.contains(&tenant) => {
                return Ok(issuer.to_string())
            }
            _ => {}
        }
    }
    Err(IssuerError::NotTheAuthority {
        expected: authority.to_string(),
        found: issuer.to_string(),
    })
}

/// Whether an issuer named in a response (`iss`, RFC 9207) is `issuer`: equal to it, or, when
/// `issuer` is Entra's multi-tenant template, the template with a real tenant id in its place.
pub fn matches(issuer: &str, found: &str) -> bool {
    match issuer.split_once(TENANT_PLACEHOLDER) {
        None => found == issuer,
        // The template itself is no issuer: a response must name its tenant.
        Some((before, after)) => found
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(is_tenant_id),
    }
}

/// RFC 9207 §2.4 for any authorization response, code or error: `iss` must be `issuer`, and
/// present when the provider advertises `authorization_response_iss_parameter_supported`.
pub fn check_response(
    iss: Option<&str>,
    issuer: &str,
    advertised: bool,
) -> Result<(), IssuerError> {
    match iss {
        Some(found) if matches(issuer, found) => Ok(()),
        Some(found) => Err(IssuerError::WrongInResponse {
            expected: issuer.to_string(),
            found: found.to_string(),
        }),
        None if advertised => Err(IssuerError::MissingInResponse),
        None => Ok(()),
    }
}

/// The issuer a token from tenant `tid` must carry: `issuer` with Entra's template filled in.
pub fn for_token(issuer: &str, tid: Option<&str>) -> String {
    match tid {
        Some(tid) if issuer.contains(TENANT_PLACEHOLDER) => issuer.replace(TENANT_PLACEHOLDER, tid),
        _ => issuer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43";
    const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

    #[test]
    fn the_authority_drops_query_fragment_and_well_known_suffix() {
        assert_eq!(
            authority_of("https://idp.example/t/v2.0/.well-known/openid-configuration?appid=x#y"),
            "https://idp.example/t/v2.0"
        );
        assert_eq!(
            authority_of("https://idp.example/realms/r/"),
            "https://idp.example/realms/r"
        );
    }

    #[test]
    fn a_discovery_issuer_belongs_to_its_metadata_url() {
        let url = "https://idp.example/t/.well-known/openid-configuration";
        for issuer in ["https://idp.example/t", "https://idp.example/t/"] {
            assert_eq!(from_discovery(url, issuer).as_deref(), Ok(issuer));
        }
        let err = from_discovery(url, "https://evil.example/t").unwrap_err();
        assert!(err.to_string().contains("evil.example"), "{err}");
    }

    #[test]
    fn entra_templates_are_pinned_for_a_tenant_and_kept_for_multi_tenant() {
        for authority in ["common", "organizations"] {
            let url = format!("https://login.microsoftonline.com/{authority}/v2.0/.well-known/openid-configuration");
            assert_eq!(
                from_discovery(&url, TEMPLATE).as_deref(),
                Ok(TEMPLATE),
                "{authority}"
            );
        }
        let url = format!(
            "https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"
        );
        let pinned = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
        assert_eq!(from_discovery(&url, TEMPLATE), Ok(pinned.clone()));
        let bad = "https://login.microsoftonline.com/evil/v2.0/.well-known/openid-configuration";
        assert!(from_discovery(bad, TEMPLATE).is_err());
        assert_eq!(for_token(TEMPLATE, Some(TENANT)), pinned);
        assert_eq!(for_token("https://a/b", Some(TENANT)), "https://a/b");
    }

    #[test]
    fn a_response_from_a_multi_tenant_authority_names_a_real_tenant() {
        let found = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
        assert!(matches(TEMPLATE, &found));
        assert!(matches(&found, &found));
        for bad in [
            "https://login.microsoftonline.com/{tenantid}/v2.0x",
            "https://login.microsoftonline.com/common/v2.0",
            "https://login.microsoftonline.com/evil.example/v2.0",
            "https://evil.example/7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43/v2.0",
            TEMPLATE,
        ] {
            assert!(!matches(TEMPLATE, bad), "{bad}");
        }
        assert!(
            !matches(&found, TEMPLATE),
            "the template is not a concrete issuer"
        );
    }

    #[test]
    fn rfc9207_response_checks() {
        assert_eq!(check_response(Some("https://i"), "https://i", true), Ok(()));
        assert_eq!(check_response(None, "https://i", false), Ok(()));
        assert_eq!(
            check_response(None, "https://i", true),
            Err(IssuerError::MissingInResponse)
        );
        assert!(matches!(
            check_response(Some("https://evil"), "https://i", false),
            Err(IssuerError::WrongInResponse { .. })
        ));
        let real = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
        assert_eq!(check_response(Some(&real), TEMPLATE, true), Ok(()));
    }
}
