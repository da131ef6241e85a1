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
use std::time::Duration;

/// Where a sign-in started here comes back to: the current path and query, read when called.
pub fn use_return_path() -> impl Fn() -> String + Copy {
    let location = leptos_router::hooks::use_location();
    let (path, query) = (location.pathname, location.search);
    move || crate::routes::return_path(&path.get_untracked(), &query.get_untracked())
}

/// The time now, in milliseconds since the epoch, ticking every second while the component
/// that asked for it is mounted: for countdowns.
pub fn use_ticking_now() -> RwSignal<f64> {
    let now = RwSignal::new(js_sys::Date::now());
    if let Ok(ticker) =
        set_interval_with_handle(move || now.set(js_sys::Date::now()), Duration::from_secs(1))
    {
        on_cleanup(move || ticker.clear());
    }
    now
}

/// A sign-in button that returns to the current route.
#[component]
pub fn SignInButton(#[prop(default = "Sign in")] label: &'static str) -> impl IntoView {
    let auth = leptos_oidc_spa::use_auth();
    let here = use_return_path();
    view! {
        <button class="button primary" data-testid="sign-in" on:click=move |_| auth.sign_in(here())>
            {label}
        </button>
    }
}
