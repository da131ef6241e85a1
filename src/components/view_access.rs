//! Whether the person may use an API view, from the roles on the API it calls: the main API's
//! (known from sign-in) or another API's (known once a token for it has been obtained). With
//! role gating off (`OAUTH_RBAC_ENABLED=false`) no roles are asked for.

use crate::access::{any_held, gating_roles};
use crate::config::context::use_config;
use crate::config::views::ApiView;
use leptos::prelude::*;
use leptos_oidc_spa::{Auth, Phase};

/// `Some(true)` or `Some(false)`, or `None` while the roles on the view's API are not known yet
/// (then the view is offered, and its call obtains the token that tells).
pub fn view_access(auth: Auth, view: &ApiView) -> Option<bool> {
    let roles = gating_roles(view, use_config().with_value(|c| c.role_gating));
    let Some(resource) = view.resource.as_deref() else {
        return Some(auth.has_any_role(roles));
    };
    if roles.is_empty() {
        return Some(matches!(
            auth.phase.get(),
            Phase::SignedIn | Phase::Disabled
        ));
    }
    any_held(roles.iter().map(|role| auth.has_role_at(resource, role)))
}

/// The view's roles as its gate names them (`TRE workspace alpha: WorkspaceOwner`).
pub fn role_labels(view: &ApiView) -> Vec<String> {
    let name = use_config().with_value(|c| c.api_name_of(view.resource.as_deref()).to_string());
    view.role_labels(&name)
}
