//! The user's name, top right (`user-menu`); it opens the profile panel, as in StudyBuilder.

use crate::components::profile_panel::ProfilePanel;
use crate::profile::initials;
use leptos::prelude::*;
use leptos_oidc_spa::{use_auth, AuthState};

#[component]
pub fn UserMenu() -> impl IntoView {
    let auth = use_auth();
    let open = RwSignal::new(false);
    let name = move || auth.profile.get().map(|p| p.name).unwrap_or_default();
    let refreshing =
        Memo::new(move |_| matches!(auth.state.get(), AuthState::SignedIn(s) if s.refreshing));
    view! {
        <div class="user-menu">
            <button
                class="button user-button"
                data-testid="user-menu"
                aria-haspopup="dialog"
                aria-controls="profile-panel"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="avatar" aria-hidden="true">{move || initials(&name())}</span>
                <span class="user-name">{move || name()}</span>
                <Show when=move || refreshing.get()>
                    <span class="spinner small" role="status" aria-label="Refreshing your session" data-testid="refreshing"></span>
                </Show>
            </button>
            <Show when=move || open.get()>
                <ProfilePanel open/>
            </Show>
        </div>
    }
}
