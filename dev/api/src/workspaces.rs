//! The Azure TRE workspaces this API serves, and how Azure TRE's API describes them.
//!
//! In Azure TRE each workspace has its own Entra app registration, whose
//! application id the workspace records as `properties.client_id` (and its
//! identifier URI as `scope_id`). Requests about one workspace carry a token
//! for that registration (`aud` = its app id) holding a workspace role. The
//! workspaces are configured as `id=app-id` pairs (`TRE_WORKSPACES`); their
//! other details (names, services) are generated from the id.

use serde_json::{json, Value};

use crate::auth::Audience;

/// `TRE_WORKSPACES` when unset: workspaces alpha and beta of the development
/// IdP's Azure TRE registration (`dev/idp/registrations.js`).
pub const DEFAULT_TRE_WORKSPACES: &str =
    "alpha=43d6845f-d5ad-4150-ad74-8c24f34f2b4b,beta=5df32cf4-488f-47c8-8ca0-21ec69108b8f";

/// The template every workspace here is made from, as in a basic TRE install.
const WORKSPACE_TEMPLATE: &str = "tre-workspace-base";
const WORKSPACE_TEMPLATE_VERSION: &str = "1.5.0";

/// One workspace: its id (in the URL) and the audience of its app registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    id: String,
    audience: Audience,
}

impl Workspace {
    /// The workspace id, as in `/api/workspaces/{id}`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Tokens for this workspace carry its app id as `aud`.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }

    fn display_name(&self) -> String {
        format!("TRE workspace {}", self.id)
    }

    /// The workspace as Azure TRE's API returns it.
    pub fn to_json(&self) -> Value {
        let app_id = self.audience.app_id();
        json!({
            "id": self.id,
            "templateName": WORKSPACE_TEMPLATE,
            "templateVersion": WORKSPACE_TEMPLATE_VERSION,
            "properties": {
                "display_name": self.display_name(),
                "description": format!("Development workspace {}", self.id),
                "client_id": app_id,
                "scope_id": format!("api://{app_id}"),
            },
            "isEnabled": true,
            "deploymentStatus": "deployed",
            "resourceType": "workspace",
            "resourcePath": format!("/workspaces/{}", self.id),
            "workspaceURL": "",
        })
    }

    /// The workspace's services (the same two in every workspace), as Azure
    /// TRE's API returns them.
    pub fn services_json(&self) -> Vec<Value> {
        [
            (
                "guacamole",
                "tre-service-guacamole",
                "Virtual Desktops",
                "Analyse data in Windows and Linux virtual desktops",
            ),
            (
                "gitea",
                "tre-workspace-service-gitea",
                "Gitea",
                "Source control for the workspace's code",
            ),
        ]
        .into_iter()
        .map(|(key, template, name, description)| {
            let id = format!("{}-{key}", self.id);
            json!({
                "id": id,
                "workspaceId": self.id,
                "templateName": template,
                "templateVersion": "1.0.0",
                "properties": { "display_name": name, "description": description },
                "isEnabled": true,
                "deploymentStatus": "deployed",
                "resourceType": "workspace-service",
                "resourcePath": format!("/workspaces/{}/workspace-services/{id}", self.id),
            })
        })
        .collect()
    }
}

/// The workspace templates, as Azure TRE's `GET /api/workspace-templates` lists them.
pub fn templates_json() -> Value {
    json!({
        "templates": [{
            "id": "0b5b1d88-6a1f-4d0a-9a35-1d3a8e5c2f00",
            "name": WORKSPACE_TEMPLATE,
            "title": "Basic Workspace",
            "description": "A workspace with a virtual network and Azure Firewall rules",
            "version": WORKSPACE_TEMPLATE_VERSION,
            "resourceType": "workspace",
            "current": true,
        }],
    })
}

/// The configured workspaces, in configuration order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspaces(Vec<Workspace>);

impl Workspaces {
    /// Parses `TRE_WORKSPACES`: comma-separated `id=app-id` pairs. Ids are
    /// 1-64 letters, digits, `-` or `_`; an app id may be given as `api://<id>`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut workspaces: Vec<Workspace> = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, app_id) = entry
                .split_once('=')
                .map(|(id, app)| (id.trim(), app.trim()))
                .ok_or_else(|| format!("entry {entry:?} is not id=app-id"))?;
            let id_ok = (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_ok {
                return Err(format!(
                    "workspace id {id:?} must be 1-64 letters, digits, - or _"
                ));
            }
            let bare = app_id.strip_prefix("api://").unwrap_or(app_id);
            if bare.is_empty() || bare.contains(|c: char| c.is_whitespace() || c == '/') {
                return Err(format!("workspace {id}: {app_id:?} is not an app id"));
            }
            if workspaces.iter().any(|w| w.id == id) {
                return Err(format!("workspace id {id} is given twice"));
            }
            workspaces.push(Workspace {
                id: id.to_owned(),
                audience: Audience::named(bare, format!("workspace {id}")),
            });
        }
        Ok(Self(workspaces))
    }

    /// The workspace with this id.
    pub fn get(&self, id: &str) -> Option<&Workspace> {
        self.0.iter().find(|w| w.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Workspace> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_names_the_dev_idp_workspaces() {
        let ws = Workspaces::parse(DEFAULT_TRE_WORKSPACES).unwrap();
        let ids: Vec<_> = ws.iter().map(|w| (w.id(), w.audience().app_id())).collect();
        assert_eq!(
            ids,
            [
                ("alpha", "43d6845f-d5ad-4150-ad74-8c24f34f2b4b"),
                ("beta", "5df32cf4-488f-47c8-8ca0-21ec69108b8f")
            ]
        );
    }

    #[test]
    fn spaces_uri_form_and_empty_entries_are_tolerated() {
        let ws = Workspaces::parse(" a = api://id-1 ,, b=id-2 ").unwrap();
        assert_eq!(ws.get("a").unwrap().audience().app_id(), "id-1");
        assert_eq!(ws.get("b").unwrap().audience().app_id(), "id-2");
        assert!(ws.get("c").is_none());
        assert!(Workspaces::parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in [
            "alpha",
            "=id",
            "al pha=id",
            "a/b=id",
            "alpha=",
            "alpha=api://",
            "alpha=a b",
            "alpha=api://x/y",
            "a=1,a=2",
        ] {
            assert!(Workspaces::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_has_the_tre_fields_the_ui_needs() {
        let ws = Workspaces::parse("alpha=app-1").unwrap();
        let alpha = ws.get("alpha").unwrap();
        let json = alpha.to_json();
        assert_eq!(json["id"], "alpha");
        assert_eq!(json["properties"]["client_id"], "app-1");
        assert_eq!(json["properties"]["scope_id"], "api://app-1");
        let services = alpha.services_json();
        assert_eq!(services.len(), 2);
        assert_eq!(services[0]["workspaceId"], "alpha");
        assert_eq!(
            services[0]["resourcePath"],
            "/workspaces/alpha/workspace-services/alpha-guacamole"
        );
    }
}
