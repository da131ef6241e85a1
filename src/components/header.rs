//! The top bar: product name, navigation, and on the right the user menu (signed in) or a
//! "sign-in disabled" badge. Signing in starts from the page body, so there is one button.

use crate::components::user_menu::UserMenu;
use leptos::prelude::*;
use leptos_oidc_spa::{use_auth, Phase};
use leptos_router::components::A;

#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    // The phase memo keeps the user menu (and its open panel) alive while a refresh changes
    // details inside `SignedIn`.
    let phase = auth.phase;
    let signed_in_or_disabled = move || matches!(phase.get(), Phase::SignedIn | Phase::Disabled);
    view! {
        <header class="topbar">
            <A href="/" exact=true attr:class="brand">"Gatehouse"</A>
            <nav aria-label="Main">
                <Show when=signed_in_or_disabled>
                    <A href="/" exact=true>"Home"</A>
                </Show>
            </nav>
            <div class="topbar-right">
                {move || match phase.get() {
                    Phase::SignedIn => view! { <UserMenu/> }.into_any(),
                    Phase::Disabled => view! {
                        <span class="badge warning" data-testid="auth-disabled" title="OAUTH_ENABLED is false in config.json">
                            "Sign-in disabled"
                        </span>
                    }.into_any(),
                    _ => ().into_any(),
                }}
            </div>
        </header>
    }
}
