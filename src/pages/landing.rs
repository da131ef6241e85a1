//! The signed-out landing page: what Gatehouse fronts, the sign-in button, and after a sign-out
//! a notice that says how far it went.

use crate::components::SignInButton;
use crate::config::context::use_config;
use leptos::prelude::*;
use leptos_oidc_spa::{use_auth, SignedOutNotice};

#[component]
pub fn LandingPage() -> impl IntoView {
    let auth = use_auth();
    let api_name = use_config().with_value(|c| c.api_name.clone());
    let provider = auth
        .config()
        .map(|c| c.authority().to_string())
        .unwrap_or_default();
    view! {
        <SignedOutBanner/>
        <section class="card hero">
            <h1>"Gatehouse"</h1>
            <p class="lead">"Sign in to use " <strong data-testid="api-name">{api_name}</strong> "."</p>
            <p class="muted">"You will be sent to your organisation's sign-in page and brought back here."</p>
            <SignInButton/>
            <p class="muted small">"Identity provider: " <span class="mono">{provider}</span></p>
        </section>
    }
}

/// "You are signed out", on the page the provider's sign-out returned to (or where a sign-out
/// ended when the provider has no end-session endpoint), until dismissed.
#[component]
fn SignedOutBanner() -> impl IntoView {
    let auth = use_auth();
    let notice = auth.signed_out;
    view! {
        <Show when=move || notice.get().is_some()>
            <div class="notice" role="status" data-testid="signed-out-notice">
                <p>
                    <strong>"You are signed out."</strong>
                    " "
                    {move || match notice.get() {
                        Some(SignedOutNotice::ThisAppOnly) => {
                            "Your identity provider offers no sign-out page, so it may still have you signed in: close the browser to end that session too."
                        }
                        _ => "Your identity provider has ended your session too.",
                    }}
                </p>
                <button class="button" data-testid="dismiss-signed-out" on:click=move |_| auth.dismiss_signed_out()>
                    "Dismiss"
                </button>
            </div>
        </Show>
    }
}
