//! The top bar: product name, navigation, and on the right the user menu (signed in) or a
//! "sign-in disabled" badge. Signing in starts from the page body, so there is one button.

use crate::auth::{use_auth, AuthState};
use crate::components::user_menu::UserMenu;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let in_app = move || {
        matches!(
            auth.state.get(),
            AuthState::SignedIn(_) | AuthState::Disabled
        )
    };
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Gatehouse"</A>
            <nav aria-label="Main">
                <Show when=in_app>
                    <A href="/">"Home"</A>
                </Show>
            </nav>
            <div class="topbar-right">
                {move || match auth.state.get() {
                    AuthState::SignedIn(_) => view! { <UserMenu/> }.into_any(),
                    AuthState::Disabled => view! {
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
