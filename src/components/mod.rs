//! Reusable view pieces. They render `Auth` state and dispatch its intents; no protocol logic.

pub mod auth_error;
pub mod header;
pub mod json_tree;
pub mod profile_panel;
pub mod progress;
pub mod require_role;
pub mod user_menu;
pub mod views_nav;

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The current route (path and query) as a closure, for "return here after sign-in".
pub fn use_current_route() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let location = use_location();
    move || {
        let search = location.search.get_untracked();
        let path = location.pathname.get_untracked();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{}", search.trim_start_matches('?'))
        }
    }
}

/// A sign-in button that returns to the current route.
#[component]
pub fn SignInButton(#[prop(into, default = "Sign in".into())] label: String) -> impl IntoView {
    let auth = crate::auth::use_auth();
    let here = use_current_route();
    view! {
        <button class="button primary" data-testid="sign-in" on:click=move |_| auth.sign_in(here())>
            {label}
        </button>
    }
}
