//! The notice that the session is about to end, whatever the app does (Entra ends a
//! single-page app's refresh token 24 hours after the sign-in; some providers issue none): it
//! appears `SESSION_NOTICE_MINUTES` before the end, does not block the page, and offers "Stay
//! signed in", a new sign-in as the same person at a moment the person chooses, coming back to
//! the same page.

use crate::components::{use_return_path, use_ticking_now};
use crate::config::context::use_config;
use crate::profile;
use leptos::prelude::*;
use leptos_oidc_spa::{use_auth, AuthState};

#[component]
pub fn SessionEndNotice() -> impl IntoView {
    let auth = use_auth();
    let lead_ms = use_config().with_value(|c| c.session_notice_ms);
    let ends_at = Memo::new(move |_| {
        auth.state.with(|s| match s {
            AuthState::SignedIn(signed_in) => signed_in.ends_at_ms,
            _ => None,
        })
    });
    let now = use_ticking_now();
    let dismissed_for = RwSignal::new(None::<f64>);
    let near = move || {
        let end = ends_at.get();
        profile::session_end_near(end, lead_ms, now.get()) && dismissed_for.get() != end
    };
    let left = move || {
        let end = ends_at.get().unwrap_or_default();
        crate::duration::countdown(end - now.get())
    };
    let here = use_return_path();
    let stay = move |_| auth.stay_signed_in(here());
    view! {
        <Show when=near>
            <div class="notice" role="status" data-testid="session-ending">
                <p>
                    <strong>"Your session ends in " {left} "."</strong>
                    " Sign in again now to keep working; you come back to this page."
                </p>
                <div class="actions">
                    <button class="button primary" data-testid="stay-signed-in" on:click=stay>
                        "Stay signed in"
                    </button>
                    <button
                        class="button"
                        data-testid="session-ending-dismiss"
                        on:click=move |_| dismissed_for.set(ends_at.get_untracked())
                    >
                        "Later"
                    </button>
                </div>
            </div>
        </Show>
    }
}
