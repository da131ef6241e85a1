//! Other APIs declared in `config.json` under `RESOURCES`, called under the same sign-in with
//! access tokens of their own (an Azure TRE workspace, a second service). Each one names its
//! Entra application ID URI and scopes, where it is, and where its roles are.

use super::rules;
use leptos_oidc_spa::entra::api_scope;
use leptos_oidc_spa::Resource;
use serde::Deserialize;
use serde_json::Value;

/// The id of the main API (`OAUTH_API_APP_ID`, `API_BASE_URL`): views without a `resource`
/// call it. A resource may not use it.
pub const MAIN_API: &str = "api";

/// The id of Microsoft Graph when `GRAPH_PROFILE` is on. A resource may not use it.
pub const GRAPH: &str = "graph";

/// One `RESOURCES` entry as written.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    #[serde(default)]
    name: Option<String>,
    app_id_uri: String,
    /// One list or one space-separated string, like `OAUTH_SCOPES`.
    scopes: Value,
    base_url: String,
    #[serde(default)]
    roles_claim: Option<String>,
}

/// Another API, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResource {
    /// What views name it by (`workspace-alpha`).
    pub id: String,
    /// How the UI names it (`TRE workspace alpha`); the id when not given.
    pub name: String,
    /// Its scopes, in full (`api://<app-id>/user_impersonation`).
    pub scopes: Vec<String>,
    /// Where its paths start, without a trailing slash.
    pub base_url: String,
    /// Dotted path to the roles claim in its tokens (default `roles`).
    pub roles_claim: Vec<String>,
}

impl ApiResource {
    /// The library's view of it: what to ask the provider for, and where its roles are.
    pub fn to_oidc(&self) -> Resource {
        Resource::new(self.id.clone(), self.name.clone(), self.scopes.clone())
            .with_roles_claim_segments(self.roles_claim.clone())
    }
}

const EXAMPLE: &str = r#"{"id":"workspace-alpha","name":"TRE workspace alpha","app_id_uri":"api://<app-id>","scopes":["user_impersonation"],"base_url":"https://tre.example.org/api/workspaces/<id>"}"#;

impl Entry {
    /// The entry checked, or the first rule it breaks (`rules::entries` sees to ids used
    /// twice).
    fn check(self) -> Result<ApiResource, String> {
        if !rules::is_id(&self.id) {
            return Err("id must be letters, digits, - or _".into());
        }
        if self.id == MAIN_API || self.id == GRAPH {
            return Err(format!(
                "id {:?} is taken: \"{MAIN_API}\" is the main API and \"{GRAPH}\" Microsoft Graph",
                self.id
            ));
        }
        let app_id_uri = self.app_id_uri.trim();
        if app_id_uri.is_empty() || app_id_uri.contains(char::is_whitespace) {
            return Err(
                "app_id_uri must be the API's application ID URI, e.g. api://<app-id>".into(),
            );
        }
        let scopes: Option<Vec<String>> = match self.scopes {
            Value::String(text) => Some(text.split_whitespace().map(str::to_string).collect()),
            Value::Array(list) => (list.into_iter())
                .map(|s| s.as_str().map(str::to_string))
                .collect(),
            _ => None,
        };
        let scopes = scopes
            .filter(|s| !s.is_empty() && s.iter().all(|s| !s.trim().is_empty() && !s.contains(' ')))
            .ok_or("scopes must name at least one scope, e.g. [\"user_impersonation\"]")?;
        let base_url = self.base_url.trim().trim_end_matches('/').to_string();
        if !rules::is_base_url(&base_url) {
            return Err(format!(
                "base_url {:?} is not an https:// URL (http:// only on localhost) or a path starting with /",
                self.base_url
            ));
        }
        let claim = self.roles_claim.unwrap_or_else(|| "roles".into());
        let roles_claim = rules::claim_path(&claim).ok_or_else(|| {
            format!(
                "roles_claim {claim:?} must be a claim name or a dotted path such as realm_access.roles"
            )
        })?;
        Ok(ApiResource {
            name: (self.name.map(|n| n.trim().to_string()))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| self.id.clone()),
            id: self.id,
            scopes: scopes.iter().map(|s| api_scope(app_id_uri, s)).collect(),
            base_url,
            roles_claim,
        })
    }
}

/// Parses and checks the `RESOURCES` value; the error says which entry and what is wrong.
pub fn parse(value: Value) -> Result<Vec<ApiResource>, String> {
    let Value::Array(items) = value else {
        return Err(format!("it must be a list such as [{EXAMPLE}]"));
    };
    rules::entries(items, "resource", EXAMPLE, |item| {
        Entry::deserialize(item).map_err(|e| e.to_string())?.check()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> Result<Vec<ApiResource>, String> {
        super::parse(value)
    }

    #[test]
    fn parses_resources_with_defaults_and_full_scopes() {
        let resources = parse(json!([
            {"id": "alpha", "name": "TRE workspace alpha", "app_id_uri": "api://43d6",
             "scopes": ["user_impersonation"], "base_url": "https://tre.example/api/workspaces/alpha/"},
            {"id": "beta", "app_id_uri": "api://5df3", "scopes": "user_impersonation api://5df3/.default",
             "base_url": "http://127.0.0.1:8091", "roles_claim": "realm_access.roles"}
        ]))
        .unwrap();
        assert_eq!(
            resources[0],
            ApiResource {
                id: "alpha".into(),
                name: "TRE workspace alpha".into(),
                scopes: vec!["api://43d6/user_impersonation".into()],
                base_url: "https://tre.example/api/workspaces/alpha".into(),
                roles_claim: vec!["roles".into()],
            }
        );
        assert_eq!(
            resources[1].name, "beta",
            "the id names it when no name is given"
        );
        assert_eq!(
            resources[1].scopes,
            vec!["api://5df3/user_impersonation", "api://5df3/.default"]
        );
        assert_eq!(resources[1].roles_claim, vec!["realm_access", "roles"]);
        let on_this_site = parse(
            json!([{"id": "ws", "app_id_uri": "api://w", "scopes": ["s"], "base_url": "/api/workspaces/ws"}]),
        );
        assert_eq!(on_this_site.unwrap()[0].base_url, "/api/workspaces/ws");
        let oidc = resources[0].to_oidc();
        assert_eq!(oidc.id, "alpha");
        assert_eq!(oidc.scopes, vec!["api://43d6/user_impersonation"]);
    }

    #[test]
    fn rejects_bad_entries_naming_them() {
        let good = json!({"id": "alpha", "app_id_uri": "api://a", "scopes": ["s"], "base_url": "https://a.example"});
        let with = |key: &str, value: serde_json::Value| {
            let mut entry = good.clone();
            entry[key] = value;
            json!([entry])
        };
        let cases = [
            (json!({"id": "x"}), "it must be a list such as"),
            (json!(["alpha"]), "resource 1: expected an object"),
            (with("id", json!("a b")), "resource 1 (\"a b\"): id must be"),
            (with("id", json!("api")), "id \"api\" is taken"),
            (with("id", json!("graph")), "id \"graph\" is taken"),
            (
                json!([good.clone(), good.clone()]),
                "resource 2 (\"alpha\"): id is used twice",
            ),
            (with("app_id_uri", json!(" ")), "app_id_uri must be"),
            (
                with("scopes", json!([])),
                "scopes must name at least one scope",
            ),
            (
                with("scopes", json!("  ")),
                "scopes must name at least one scope",
            ),
            (
                with("base_url", json!("http://tre.example")),
                "base_url \"http://tre.example\" is not an https:// URL",
            ),
            (
                with("base_url", json!("javascript:alert(1)")),
                "is not an https:// URL",
            ),
            (
                with("base_url", json!("//evil.example")),
                "is not an https:// URL",
            ),
            (
                with("roles_claim", json!("a..b")),
                "roles_claim \"a..b\" must be",
            ),
            (
                with("role_claim", json!("roles")),
                "resource 1 (\"alpha\"): unknown field `role_claim`",
            ),
            (
                json!([{"id": "alpha", "scopes": ["s"], "base_url": "https://a.example"}]),
                "missing field `app_id_uri`",
            ),
        ];
        for (value, expected) in cases {
            let err = parse(value.clone()).unwrap_err();
            assert!(err.contains(expected), "{value} -> {err}");
        }
    }
}
