//! What Microsoft Entra ID does differently from the OpenID Connect specifications, in one place:
//! its multi-tenant issuer template, its `AADSTS` error codes and what to do about them, and its
//! way of saying that consent is missing. Every rule here is harmless for other providers: it
//! only matches Entra's own names.

/// The placeholder in Entra's multi-tenant issuer
/// (`https://login.microsoftonline.com/{tenantid}/v2.0`).
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// Entra's multi-tenant authorities, whose discovery documents carry [`TENANT_PLACEHOLDER`].
pub const MULTI_TENANT_AUTHORITIES: [&str; 3] = ["common", "organizations", "consumers"];

/// Entra's code for "the user or administrator has not consented to this application".
pub const CONSENT_MISSING: &str = "AADSTS65001";

/// Whether `tenant` is a directory (tenant) id: a GUID in its 8-4-4-4-12 form.
pub fn is_tenant_id(tenant: &str) -> bool {
    tenant.len() == 36
        && tenant.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Whether a token endpoint's `error_description` says that consent is missing.
pub fn says_consent_missing(description: Option<&str>) -> bool {
    description.is_some_and(|d| d.starts_with(CONSENT_MISSING))
}

/// Entra's codes for "the person must do something at the sign-in page": strong authentication
/// required (50074, 50076), MFA registration (50079), an external security challenge (50158).
/// Entra sends them as `invalid_grant` with a `suberror`, which must not end the session when
/// the grant carried an API's claims: a sign-in for the claims helps.
const NEEDS_INTERACTION: [&str; 4] = ["AADSTS50074", "AADSTS50076", "AADSTS50079", "AADSTS50158"];

/// Whether a token endpoint's `error_description` says the person must act at the sign-in page.
pub fn says_interaction_required(description: Option<&str>) -> bool {
    description.is_some_and(|d| NEEDS_INTERACTION.iter().any(|code| d.starts_with(code)))
}

/// Advice for the Entra error codes operators and people meet most, by code.
const HINTS: [(&str, &str); 6] = [
    ("AADSTS9002326", "Register the redirect URI under the \"Single-page application\" platform of the app registration (not \"Web\"), so Entra allows the browser to redeem the code."),
    ("AADSTS9002327", "Register the redirect URI under the \"Single-page application\" platform of the app registration (not \"Web\"), so Entra allows the browser to redeem the code."),
    ("AADSTS50011", "The redirect URI does not match one registered for this app: add this site's callback URL (the redirect path) to the app registration exactly, including the port."),
    (CONSENT_MISSING, "Consent for the API scope is missing: grant admin consent for the delegated permission in the app registration's \"API permissions\"."),
    ("AADSTS700084", "Entra limits single-page app sessions to 24 hours: sign in again."),
    ("AADSTS50076", "Your organisation requires multi-factor authentication: sign in again to complete it."),
];

/// Advice for the first Entra error code that `message` mentions, if any.
pub fn hint_for(message: &str) -> Option<&'static str> {
    HINTS
        .iter()
        .find(|(code, _)| message.contains(code))
        .map(|(_, hint)| *hint)
}

/// The v2.0 discovery document of `tenant`: a tenant id, a verified domain, or `organizations`,
/// `common` or `consumers` for a multi-tenant app.
pub fn metadata_url(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration")
}

/// The sign-in hosts of Microsoft Entra ID's clouds (global, US government, China).
const HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn",
];

/// Whether `url` (a discovery document's URL, say) is on one of Entra ID's sign-in hosts, whose
/// API scopes are named after the API's application ID URI.
pub fn is_entra_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#', ':']).next().unwrap_or_default();
    HOSTS.iter().any(|h| host.eq_ignore_ascii_case(h))
}

/// An API scope in full: `scope` prefixed with the API's application ID URI
/// (`api://<app-id>/API.call`), unless it is one already (it contains `://` or starts with
/// `api:` or `urn:`).
pub fn api_scope(app_id_uri: &str, scope: &str) -> String {
    if scope.contains("://") || scope.starts_with("api:") || scope.starts_with("urn:") {
        scope.to_string()
    } else {
        format!("{}/{scope}", app_id_uri.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_urls_are_told_by_their_host() {
        assert!(is_entra_url(&metadata_url("organizations")));
        assert!(is_entra_url("https://LOGIN.microsoftonline.us/t/v2.0"));
        assert!(is_entra_url("https://login.microsoftonline.com:443/t"));
        for not in [
            "http://login.microsoftonline.com/t",
            "https://login.microsoftonline.com.evil.example/t",
            "https://evil.example/login.microsoftonline.com/t",
            "https://keycloak.example/realms/r",
            "http://127.0.0.1:8090/t/v2.0",
        ] {
            assert!(!is_entra_url(not), "{not}");
        }
    }

    #[test]
    fn tenant_ids_are_guids() {
        assert!(is_tenant_id("7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43"));
        for not in [
            "common",
            "7f3c9b2e4d1a4c8e9b6f2a5d8e1c0f43",
            "7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f4g",
            "evil.example",
        ] {
            assert!(!is_tenant_id(not), "{not}");
        }
    }

    #[test]
    fn known_codes_get_advice() {
        assert!(
            hint_for("invalid_request: AADSTS9002326: Cross-origin token redemption")
                .is_some_and(|h| h.contains("Single-page application"))
        );
        assert!(hint_for("AADSTS700084: expired").is_some_and(|h| h.contains("24 hours")));
        assert_eq!(hint_for("invalid_grant"), None);
        assert!(says_consent_missing(Some("AADSTS65001: no consent")));
        assert!(!says_consent_missing(Some("AADSTS65005: no permission")));
        assert!(!says_consent_missing(None));
    }

    #[test]
    fn urls_and_scopes() {
        assert_eq!(
            metadata_url("organizations"),
            "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration"
        );
        assert_eq!(api_scope("api://abc/", "API.call"), "api://abc/API.call");
        for full in [
            "api://x/y",
            "urn:x:y",
            "https://graph.microsoft.com/User.Read",
        ] {
            assert_eq!(api_scope("api://abc", full), full);
        }
    }
}
