//! Navigation entries for the configured API views (`view-<id>`). A view the person's roles do
//! not allow is shown disabled with the reason rather than hidden, so people know it exists and
//! what to ask for.

use crate::components::view_access::{role_labels, view_access};
use crate::config::context::use_config;
use crate::config::views::missing_role_reason;
use crate::routes::view_path;
use leptos::prelude::*;
use leptos_oidc_spa::use_auth;
use leptos_router::components::A;

#[component]
pub fn ViewsNav() -> impl IntoView {
    let auth = use_auth();
    let views = use_config().with_value(|c| c.views.clone());
    if views.is_empty() {
        return ().into_any();
    }
    let entries = views
        .into_iter()
        .map(|v| {
            let testid = format!("view-{}", v.id);
            let href = view_path(&v.id);
            let roles = role_labels(&v);
            let (title, method) = (v.title.clone(), v.method.clone());
            let entry = move || {
                let (title, method) = (title.clone(), method.clone());
                // Re-runs on every auth change; the same arm then updates in place. A view on
                // another API whose roles are not known yet is offered: its call tells.
                if view_access(auth, &v) != Some(false) {
                    view! {
                        <li><A href=href.clone() attr:class="nav-item" attr:data-testid=testid.clone()>
                            <span class="method">{method}</span>{title}
                        </A></li>
                    }
                    .into_any()
                } else {
                    let reason = missing_role_reason(&roles);
                    view! {
                        <li><span class="nav-item disabled" aria-disabled="true" data-testid=testid.clone()
                            data-reason=reason.clone() title=reason.clone()>
                            <span class="method">{method}</span>{title}
                            <small class="reason">{reason.clone()}</small>
                        </span></li>
                    }
                    .into_any()
                }
            };
            view! { {move || entry()} }
        })
        .collect_view();
    view! {
        <nav class="views-nav" aria-label="API views">
            <h2>"API"</h2>
            <ul>{entries}</ul>
        </nav>
    }
    .into_any()
}
