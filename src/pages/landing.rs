//! The signed-out landing page: what Gatehouse fronts and the sign-in button.

use crate::components::SignInButton;
use crate::config::context::use_config;
use leptos::prelude::*;
use leptos_oidc_spa::use_auth;

#[component]
pub fn LandingPage() -> impl IntoView {
    let auth = use_auth();
    let api_name = use_config().with_value(|c| c.api_name.clone());
    let provider = auth
        .config()
        .map(|c| c.authority().to_string())
        .unwrap_or_default();
    view! {
        <section class="card hero">
            <h1>"Gatehouse"</h1>
            <p class="lead">"Sign in to use " <strong data-testid="api-name">{api_name}</strong> "."</p>
            <p class="muted">"You will be sent to your organisation's sign-in page and brought back here."</p>
            <SignInButton/>
            <p class="muted small">"Identity provider: " <span class="mono">{provider}</span></p>
        </section>
    }
}
