//! The signed-in start page: a greeting and what the person's roles let them do.

use crate::config::context::use_config;
use leptos::prelude::*;
use leptos_oidc_spa::{use_auth, Phase};

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    let name = move || {
        auth.profile
            .get()
            .map_or_else(|| "there".to_string(), |p| p.name)
    };
    let (api_name, role_gating) = use_config().with_value(|c| (c.api_name.clone(), c.role_gating));
    let views = if role_gating {
        "views your roles do not allow are shown greyed out with the role they need"
    } else {
        "role checks are off (OAUTH_RBAC_ENABLED=false), so every view is open to you"
    };
    view! {
        <section class="card">
            <h1>"Welcome, " {move || name()}</h1>
            <p>"You are connected to " <strong>{api_name}</strong> "."</p>
            <Show when=move || auth.phase.get() == Phase::Disabled>
                <p class="warning" role="status">"Sign-in is disabled (OAUTH_ENABLED=false): requests are sent without a token."</p>
            </Show>
            <Show when=move || auth.phase.get() == Phase::SignedIn>
                <p class="muted">"Your roles are listed under your name, top right. Pick an API view to call it with your access token; " {views} "."</p>
            </Show>
        </section>
    }
}
