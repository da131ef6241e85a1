//! What the UI may know about the signed-in person, read from the session's tokens: the name to
//! show and the usual identity claims (from the ID token, else the access token), the roles from
//! the configured claim of the configured token, the roles on each other API, the granted scopes,
//! and the ID token's claims as they are, for an app that needs more.

use super::config::{OidcConfig, RolesToken};
use super::jwt::Jwt;
use super::roles::roles_at;
use super::session::Session;
use serde_json::{Map, Value};

/// What the UI shows about the signed-in person.
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct UserProfile {
    /// The name to show: the `name` claim, else `preferred_username`, `email` or `sub`, else
    /// "Signed-in user".
    pub name: String,
    /// The `preferred_username` claim (Entra: the sign-in name, usually the UPN). Claims are
    /// read from the ID token, else from the access token.
    pub username: Option<String>,
    /// The `email` claim (ID token, else access token).
    pub email: Option<String>,
    /// The `tid` claim (ID token, else access token): the Entra tenant (directory) ID.
    pub tenant: Option<String>,
    /// The `sub` claim (ID token, else access token): the person's identifier at the provider.
    pub subject: Option<String>,
    /// The roles from the configured claim of the configured token, sorted, without
    /// duplicates.
    pub roles: Vec<String>,
    /// The roles on each other API that has roles (`Resource::roles_claim`), in configuration
    /// order.
    pub resource_roles: Vec<ResourceRoles>,
    /// The scopes granted: the access token's `scp` claim, else the token response's `scope`.
    pub scopes: Vec<String>,
    /// The latest ID token's claims, as the provider sent them (empty without an ID token).
    pub claims: Map<String, Value>,
    /// Entra's `login_hint` claim (ID token), preferred over `id_token_hint` at sign-out.
    pub login_hint_claim: Option<String>,
}

/// The person's roles on one of the other APIs.
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct ResourceRoles {
    /// The resource's id.
    pub id: String,
    /// The resource's name, for the UI.
    pub name: String,
    /// The roles in its access token, sorted; `None` until a token for it has been obtained.
    pub roles: Option<Vec<String>>,
}

impl UserProfile {
    /// The person's details from `session`'s tokens, with roles and scopes as `config` says.
    /// Tokens are decoded, not verified: the ID token was verified when it arrived, and access
    /// tokens are the API's to verify.
    pub fn of(session: &Session, config: &OidcConfig) -> UserProfile {
        let id = session
            .id_token
            .as_deref()
            .and_then(|t| Jwt::decode(t).ok());
        let access = Jwt::decode(&session.access_token).ok();
        let claim = |name: &str| {
            id.as_ref()
                .and_then(|j| j.str_claim(name))
                .or_else(|| access.as_ref().and_then(|j| j.str_claim(name)))
                .map(str::to_string)
        };
        let roles_source = match config.roles_token {
            RolesToken::AccessToken => access.as_ref(),
            RolesToken::IdToken => id.as_ref(),
        };
        let roles = roles_source
            .map(|j| roles_at(&j.claims, &config.roles_claim))
            .unwrap_or_default();
        let scopes = access
            .as_ref()
            .and_then(|j| j.str_claim("scp"))
            .map(str::to_string)
            .or_else(|| session.scope.clone())
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let username = claim("preferred_username");
        UserProfile {
            name: claim("name")
                .or_else(|| username.clone())
                .or_else(|| claim("email"))
                .or_else(|| claim("sub"))
                .unwrap_or_else(|| "Signed-in user".to_string()),
            username,
            email: claim("email"),
            tenant: claim("tid"),
            subject: claim("sub"),
            roles,
            resource_roles: resource_roles(session, config),
            scopes,
            login_hint_claim: id
                .as_ref()
                .and_then(|j| j.str_claim("login_hint"))
                .map(str::to_string),
            claims: id.map(|j| j.claims).unwrap_or_default(),
        }
    }
}

/// The roles on each configured API that has a roles claim, from the token held for it.
fn resource_roles(session: &Session, config: &OidcConfig) -> Vec<ResourceRoles> {
    config
        .resources
        .iter()
        .filter_map(|resource| {
            let path = resource.roles_claim.as_ref()?;
            let roles = session.resources.get(&resource.id).map(|token| {
                Jwt::decode(&token.access_token)
                    .map(|jwt| roles_at(&jwt.claims, path))
                    .unwrap_or_default()
            });
            Some(ResourceRoles {
                id: resource.id.clone(),
                name: resource.name.clone(),
                roles,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Resource;
    use crate::core::jwt::test_token;
    use crate::core::test_support::{resource_tokens, tokens};
    use serde_json::json;

    fn cfg(roles_token: RolesToken) -> OidcConfig {
        OidcConfig::new("https://i/x", "u").with_roles_token(roles_token)
    }

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn identity_from_the_id_token_roles_from_the_configured_token() {
        let s = Session::from_tokens(tokens(), &KEY, 0.0);
        let p = UserProfile::of(&s, &cfg(RolesToken::AccessToken));
        assert_eq!(p.name, "Rita Reader");
        assert_eq!(p.username.as_deref(), Some("rita@x"));
        assert_eq!(p.tenant.as_deref(), Some("t"));
        assert_eq!(p.roles, vec!["Study.Read", "Study.Write"]);
        assert_eq!(p.scopes, vec!["API.call"]);
        assert_eq!(p.claims["tid"], "t");
        let from_id = UserProfile::of(&s, &cfg(RolesToken::IdToken));
        assert_eq!(from_id.roles, vec!["IdRole"]);
    }

    #[test]
    fn an_opaque_access_token_leaves_the_granted_scope() {
        let mut t = tokens();
        t.access_token = "opaque".into();
        let s = Session::from_tokens(t, &KEY, 0.0);
        let p = UserProfile::of(&s, &cfg(RolesToken::AccessToken));
        assert!(p.roles.is_empty());
        assert_eq!(p.scopes, vec!["openid", "API.call"]);
    }

    #[test]
    fn the_name_falls_back_from_claim_to_claim() {
        let mut t = tokens();
        t.id_token = Some(test_token(&json!({"alg":"RS256"}), &json!({"sub":"s-1"})));
        t.access_token = "opaque".into();
        let s = Session::from_tokens(t, &KEY, 0.0);
        assert_eq!(UserProfile::of(&s, &cfg(RolesToken::IdToken)).name, "s-1");
        let mut t = tokens();
        t.id_token = None;
        t.access_token = "opaque".into();
        let s = Session::from_tokens(t, &KEY, 0.0);
        let p = UserProfile::of(&s, &cfg(RolesToken::IdToken));
        assert_eq!(p.name, "Signed-in user");
        assert!(p.claims.is_empty());
    }

    #[test]
    fn roles_on_other_apis_once_their_token_is_held() {
        let alpha = resource_tokens("alpha-1", "r2");
        let s =
            Session::from_tokens(tokens(), &KEY, 0.0).with_resource_token("alpha", alpha, 1_000.0);
        let config = cfg(RolesToken::AccessToken).with_resources([
            Resource::new("alpha", "Workspace alpha", ["api://ws/user_impersonation"]),
            Resource::new("beta", "Workspace beta", ["api://wb/user_impersonation"]),
            Resource::new("graph", "Microsoft Graph", ["User.Read"]).without_roles(),
        ]);
        assert_eq!(
            UserProfile::of(&s, &config).resource_roles,
            vec![
                ResourceRoles {
                    id: "alpha".into(),
                    name: "Workspace alpha".into(),
                    roles: Some(vec!["WorkspaceOwner".into()]),
                },
                ResourceRoles {
                    id: "beta".into(),
                    name: "Workspace beta".into(),
                    roles: None,
                },
            ],
            "graph has no roles to list; beta has no token yet"
        );
    }
}
