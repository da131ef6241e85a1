//! Reusable view pieces. They render `Auth` state and dispatch its intents; no protocol logic.

pub mod auth_error;
pub mod draft;
pub mod graph_card;
pub mod header;
pub mod json_tree;
pub mod not_permitted;
pub mod profile_panel;
pub mod progress;
pub mod session_end;
pub mod user_menu;
pub mod view_access;
pub mod views_nav;

use leptos::prelude::*;

/// A sign-in button that returns to the current route.
#[component]
pub fn SignInButton(#[prop(default = "Sign in")] label: &'static str) -> impl IntoView {
    let auth = leptos_oidc_spa::use_auth();
    let location = leptos_router::hooks::use_location();
    // Where to come back to after signing in: this path and query.
    let here = move || {
        let (path, query) = (location.pathname, location.search);
        crate::routes::return_path(&path.get_untracked(), &query.get_untracked())
    };
    view! {
        <button class="button primary" data-testid="sign-in" on:click=move |_| auth.sign_in(here())>
            {label}
        </button>
    }
}
