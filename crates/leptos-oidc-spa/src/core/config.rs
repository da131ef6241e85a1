//! What the client needs to know about the provider and the app registration. Built by the app
//! (from its own configuration source) with `OidcConfig::new` and the `with_…` methods.

use super::dpop::DpopMode;
use super::issuer;
use super::roles::RoleImplication;
use std::time::Duration;

/// Scopes requested on every sign-in besides the API scopes.
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A `scope` parameter: the OIDC scopes followed by `api_scopes`.
fn with_oidc_scopes(api_scopes: &[String]) -> String {
    OIDC_SCOPES
        .iter()
        .map(|s| s.to_string())
        .chain(api_scopes.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the authorization response comes back in the URL fragment or the query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseMode {
    /// `#code=…`: the code never reaches a server log or a `Referer` (the default).
    #[default]
    Fragment,
    /// `?code=…`: the response arrives in the query string, which the web server sees and may log.
    Query,
}

impl ResponseMode {
    /// The `response_mode` value sent in the authorization request: `fragment` or `query`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Fragment => "fragment",
            ResponseMode::Query => "query",
        }
    }
}

/// The token whose claims carry the user's roles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RolesToken {
    /// Entra puts an API's app roles in the access token issued for it (the default).
    #[default]
    AccessToken,
    /// The ID token's claims carry the roles (Entra puts the client app's own app roles there).
    IdToken,
}

/// Another API the app calls under the same sign-in. Entra issues an access token for one API
/// at a time, so each resource gets its own, redeemed with the session's refresh token on first
/// use and kept beside the session's.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Resource {
    /// What views, role gates and the API client name it by (`workspace-alpha`).
    pub id: String,
    /// How the UI names it (`TRE workspace alpha`).
    pub name: String,
    /// Its scopes, in full (`api://<app-id>/user_impersonation`, `User.Read`).
    pub scopes: Vec<String>,
    /// Dotted path to the roles claim in its access tokens, split into segments; `None` for an
    /// API without app roles (Microsoft Graph), which the profile does not list.
    pub roles_claim: Option<Vec<String>>,
}

impl Resource {
    /// A resource whose roles are in its access tokens' `roles` claim.
    pub fn new<S: Into<String>>(
        id: impl Into<String>,
        name: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Resource {
        Resource {
            id: id.into(),
            name: name.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            roles_claim: Some(vec!["roles".into()]),
        }
    }

    /// Its roles are at this dotted path of its access tokens' claims (`realm_access.roles`)
    /// instead of `roles`.
    pub fn with_roles_claim(mut self, path: &str) -> Resource {
        self.roles_claim = Some(claim_path(path));
        self
    }

    /// Its roles are at this path of segments, for a claim name with dots in it
    /// (`["https://example.com/roles"]`), as [`OidcConfig::with_roles_claim_segments`].
    pub fn with_roles_claim_segments<S: Into<String>>(
        mut self,
        segments: impl IntoIterator<Item = S>,
    ) -> Resource {
        self.roles_claim = Some(segments.into_iter().map(Into::into).collect());
        self
    }

    /// It has no app roles (Microsoft Graph): the profile does not list it.
    pub fn without_roles(mut self) -> Resource {
        self.roles_claim = None;
        self
    }

    /// The `scope` of a refresh grant for this resource: the OIDC scopes and its own.
    pub fn scope(&self) -> String {
        with_oidc_scopes(&self.scopes)
    }
}

/// A dotted claim path split into its segments.
fn claim_path(path: &str) -> Vec<String> {
    path.split('.').map(str::to_string).collect()
}

/// The OpenID Connect client's configuration: [`OidcConfig::new`] with the provider's discovery
/// document and the app's client id, then a `with_…` method for each setting that differs from
/// the default.
///
/// ```
/// use leptos_oidc_spa::{OidcConfig, RoleImplication};
///
/// let config = OidcConfig::new(
///     "https://keycloak.example/realms/research/.well-known/openid-configuration",
///     "research-portal",
/// )
/// .with_scopes(["studies:read"])
/// .with_roles_claim("realm_access.roles")
/// .with_role_implication(RoleImplication::WriteImpliesRead);
/// assert_eq!(config.roles_claim, ["realm_access", "roles"]);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OidcConfig {
    /// The provider's discovery document, e.g.
    /// `https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration`.
    pub metadata_url: String,
    /// The SPA's application (client) ID.
    pub client_id: String,
    /// API scopes requested besides `openid profile email offline_access`, in full
    /// (`api://<api>/API.call`).
    pub api_scopes: Vec<String>,
    /// The redirect URI's path on this site (default `/oauth-callback`).
    pub redirect_path: String,
    /// Where the authorization response comes back (default: the fragment).
    pub response_mode: ResponseMode,
    /// Dotted path to the roles claim, split into segments (`realm_access.roles`).
    pub roles_claim: Vec<String>,
    /// Which token's claims hold the roles (default: the access token).
    pub roles_token: RolesToken,
    /// Whether holding one role grants another (default: no, roles match exactly).
    pub role_implication: RoleImplication,
    /// `prompt` sent with every authorization request (`login`, `select_account`, ...).
    pub prompt: Option<String>,
    /// `domain_hint` sent with every authorization request (Entra home-realm discovery).
    pub domain_hint: Option<String>,
    /// How long the provider lets a refresh token live after the sign-in when it does not say
    /// (`refresh_token_expires_in`): Entra ends a single-page app's after 24 hours. Used to show
    /// when the session ends; `None`: not known.
    pub refresh_lifetime: Option<Duration>,
    /// Client capabilities declared to the provider (Entra: `cp1`, so that it sends claims
    /// challenges): sent as `access_token.xms_cc` in the `claims` request parameter of every
    /// authorization and refresh request.
    pub client_capabilities: Vec<String>,
    /// The RFC 8707 resource indicator sent with the sign-in's authorization request: the API
    /// the access token is for, for providers that set its `aud` from it (Glewlwyd, Curity,
    /// Keycloak 26 and later). Not sent for other APIs' sign-ins, which ask for their own scopes.
    pub resource_indicator: Option<String>,
    /// What this client's names in the browser start with (default `oidc`): the session record
    /// `<prefix>.session` and pending sign-ins `<prefix>.login.<state>` in sessionStorage, and
    /// the Web Lock and BroadcastChannel `<prefix>.session` shared by the origin's tabs. Two apps
    /// on one origin need different prefixes.
    pub storage_prefix: String,
    /// The other APIs the app calls, each with its own access token.
    pub resources: Vec<Resource>,
    /// Where a person lands when signing in fails on the page the provider returned to (a path
    /// on this site; default `/`). The error stays available from `Auth::error` there.
    pub failure_path: String,
    /// Whether tokens are bound to a key the browser holds (DPoP, RFC 9449; default: when the
    /// provider supports it).
    pub dpop: DpopMode,
}

impl OidcConfig {
    /// A configuration with the defaults: no API scopes, `/oauth-callback`, fragment response
    /// mode, roles from the access token's `roles` claim.
    pub fn new(metadata_url: impl Into<String>, client_id: impl Into<String>) -> OidcConfig {
        OidcConfig {
            metadata_url: metadata_url.into(),
            client_id: client_id.into(),
            api_scopes: Vec::new(),
            redirect_path: "/oauth-callback".into(),
            response_mode: ResponseMode::Fragment,
            roles_claim: vec!["roles".into()],
            roles_token: RolesToken::AccessToken,
            role_implication: RoleImplication::Exact,
            prompt: None,
            domain_hint: None,
            client_capabilities: Vec::new(),
            refresh_lifetime: None,
            resource_indicator: None,
            storage_prefix: "oidc".into(),
            resources: Vec::new(),
            failure_path: "/".into(),
            dpop: DpopMode::Auto,
        }
    }

    /// The authority the discovery document belongs to: the metadata URL without its query
    /// and the `/.well-known/openid-configuration` suffix.
    pub fn authority(&self) -> &str {
        issuer::authority_of(&self.metadata_url)
    }

    /// The resource named `id`, if configured.
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == id)
    }

    /// The sessionStorage key of the session record.
    pub fn session_key(&self) -> String {
        format!("{}.session", self.storage_prefix)
    }

    /// The sessionStorage key of what the last sign-in gave an API (the loop guard's memory).
    pub fn step_up_key(&self) -> String {
        format!("{}.stepup", self.storage_prefix)
    }

    /// The sessionStorage key of the sign-out on its way to the provider.
    pub fn sign_out_key(&self) -> String {
        format!("{}.signout", self.storage_prefix)
    }

    /// What the sessionStorage keys of pending sign-ins start with (the `state` follows).
    pub fn login_key_prefix(&self) -> String {
        format!("{}.login.", self.storage_prefix)
    }

    /// What the sessionStorage keys of the provider's stored documents start with (`discovery`
    /// or `jwks` follows).
    pub fn document_key_prefix(&self) -> String {
        format!("{}.provider.", self.storage_prefix)
    }

    /// The name of the Web Lock held while refreshing and of the BroadcastChannel between tabs.
    pub fn channel_name(&self) -> String {
        format!("{}.session", self.storage_prefix)
    }

    /// The API scopes to request, in full (`api://<api>/API.call`).
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.api_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The redirect URI's path on this site, registered with the provider.
    pub fn with_redirect_path(mut self, path: impl Into<String>) -> Self {
        self.redirect_path = path.into();
        self
    }

    /// Where the authorization response comes back.
    pub fn with_response_mode(mut self, mode: ResponseMode) -> Self {
        self.response_mode = mode;
        self
    }

    /// The roles claim as a dotted path: `roles` (Entra), `realm_access.roles` or
    /// `resource_access.<client>.roles` (Keycloak). A claim whose name has dots in it (Auth0's
    /// namespaced `https://example.com/roles`) needs [`OidcConfig::with_roles_claim_segments`].
    pub fn with_roles_claim(mut self, path: &str) -> Self {
        self.roles_claim = claim_path(path);
        self
    }

    /// The roles claim as path segments, for a claim name with dots in it
    /// (`["https://example.com/roles"]`).
    pub fn with_roles_claim_segments<S: Into<String>>(
        mut self,
        segments: impl IntoIterator<Item = S>,
    ) -> Self {
        self.roles_claim = segments.into_iter().map(Into::into).collect();
        self
    }

    /// Which token's claims hold the roles.
    pub fn with_roles_token(mut self, token: RolesToken) -> Self {
        self.roles_token = token;
        self
    }

    /// Whether holding one role grants another.
    pub fn with_role_implication(mut self, implication: RoleImplication) -> Self {
        self.role_implication = implication;
        self
    }

    /// `prompt` for every authorization request (`login`, `select_account`, `consent`).
    pub fn with_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// Entra's `domain_hint` for every authorization request.
    pub fn with_domain_hint(mut self, hint: impl Into<String>) -> Self {
        self.domain_hint = Some(hint.into());
        self
    }

    /// How long refresh tokens live after the sign-in when the provider does not say (see
    /// [`OidcConfig::refresh_lifetime`]): 24 hours for Entra's single-page apps.
    pub fn with_refresh_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = Some(lifetime);
        self
    }

    /// Client capabilities to declare (see [`OidcConfig::client_capabilities`]), e.g. `["cp1"]`.
    pub fn with_client_capabilities<S: Into<String>>(
        mut self,
        capabilities: impl IntoIterator<Item = S>,
    ) -> Self {
        self.client_capabilities = capabilities.into_iter().map(Into::into).collect();
        self
    }

    /// The RFC 8707 `resource` of the sign-in (see [`OidcConfig::resource_indicator`]).
    pub fn with_resource_indicator(mut self, resource: impl Into<String>) -> Self {
        self.resource_indicator = Some(resource.into());
        self
    }

    /// Whether to bind tokens to a key the browser holds (see [`DpopMode`]).
    pub fn with_dpop(mut self, mode: DpopMode) -> Self {
        self.dpop = mode;
        self
    }

    /// What this client's names in the browser start with (see [`OidcConfig::storage_prefix`]).
    pub fn with_storage_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.storage_prefix = prefix.into();
        self
    }

    /// The other APIs the app calls under the same sign-in, each with its own token.
    pub fn with_resources(mut self, resources: impl IntoIterator<Item = Resource>) -> Self {
        self.resources = resources.into_iter().collect();
        self
    }

    /// Where a person lands when signing in fails on the callback page.
    pub fn with_failure_path(mut self, path: impl Into<String>) -> Self {
        self.failure_path = path.into();
        self
    }

    /// The full `scope` parameter: the OIDC scopes followed by the API scopes.
    pub fn scope(&self) -> String {
        with_oidc_scopes(&self.api_scopes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_scope() {
        let c = OidcConfig::new("https://idp/.well-known/openid-configuration", "ui")
            .with_scopes(["api://a/API.call"]);
        assert_eq!(c.redirect_path, "/oauth-callback");
        assert_eq!(c.response_mode, ResponseMode::Fragment);
        assert_eq!(c.roles_claim, vec!["roles"]);
        assert_eq!(c.roles_token, RolesToken::AccessToken);
        assert_eq!(
            c.scope(),
            "openid profile email offline_access api://a/API.call"
        );
        assert_eq!(c.session_key(), "oidc.session");
        assert_eq!(c.login_key_prefix(), "oidc.login.");
        assert_eq!(c.channel_name(), "oidc.session");
        assert!(c.resources.is_empty());
    }

    #[test]
    fn a_resource_asks_for_its_own_scopes_only() {
        let alpha = Resource::new("alpha", "Workspace alpha", ["api://ws/user_impersonation"]);
        assert_eq!(
            alpha.scope(),
            "openid profile email offline_access api://ws/user_impersonation"
        );
        assert_eq!(alpha.roles_claim, Some(vec!["roles".to_string()]));
        let c = OidcConfig::new("https://idp/x", "ui").with_resources([alpha.clone()]);
        assert_eq!(c.resource("alpha"), Some(&alpha));
        assert_eq!(c.resource("beta"), None);
    }

    #[test]
    fn a_resources_roles_claim_is_a_dotted_path_or_segments() {
        let keycloak = Resource::new("k", "K", ["s"]).with_roles_claim("realm_access.roles");
        assert_eq!(
            keycloak.roles_claim,
            Some(vec!["realm_access".to_string(), "roles".to_string()])
        );
        let auth0 =
            Resource::new("a", "A", ["s"]).with_roles_claim_segments(["https://a.example/roles"]);
        assert_eq!(
            auth0.roles_claim,
            Some(vec!["https://a.example/roles".to_string()])
        );
        assert_eq!(
            Resource::new("g", "G", ["s"]).without_roles().roles_claim,
            None
        );
    }
}
