//! The profile panel (`profile-panel`): who is signed in, their roles (`profile-role`), the API
//! scopes granted, a live countdown to the access token's expiry, the last refresh, and the
//! "refresh now" and `sign-out` actions. Closes with Escape or a click outside.

use crate::auth::{use_auth, AuthState};
use crate::browser::clock;
use crate::core::duration::countdown;
use leptos::ev;
use leptos::prelude::*;
use std::time::Duration;

fn local_time(ms: f64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms))
        .to_locale_time_string("default")
        .into()
}

#[component]
pub fn ProfilePanel(on_close: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let now = RwSignal::new(clock::now_ms());
    if let Ok(ticker) =
        set_interval_with_handle(move || now.set(clock::now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || ticker.clear());
    }
    let escape = window_event_listener(ev::keydown, move |e| {
        if e.key() == "Escape" {
            on_close.run(());
        }
    });
    on_cleanup(move || escape.remove());

    let signed_in = move || match auth.state.get() {
        AuthState::SignedIn(s) => Some(s),
        _ => None,
    };

    view! {
        <div class="backdrop" on:click=move |_| on_close.run(()) aria-hidden="true"></div>
        <section id="profile-panel" class="profile-panel" role="dialog" aria-label="Your profile" data-testid="profile-panel">
            {move || signed_in().map(|s| {
                let p = s.profile.clone();
                let roles = p.roles.clone();
                let no_roles = roles.is_empty();
                let scopes = if p.scopes.is_empty() { "none".to_string() } else { p.scopes.join(" ") };
                view! {
                    <h2 class="profile-name">{p.name.clone()}</h2>
                    <dl class="facts">
                        {p.username.clone().map(|u| view! { <dt>"Username"</dt><dd data-testid="profile-username">{u}</dd> })}
                        {p.email.clone().filter(|e| Some(e) != p.username.as_ref()).map(|e| view! { <dt>"Email"</dt><dd>{e}</dd> })}
                        {p.tenant.clone().map(|t| view! { <dt>"Tenant"</dt><dd class="mono">{t}</dd> })}
                        <dt>"API scopes"</dt><dd class="mono" data-testid="profile-scopes">{scopes}</dd>
                    </dl>
                    <h3>"Roles"</h3>
                    {if no_roles {
                        view! { <p class="muted" data-testid="profile-no-roles">"No roles assigned. Ask your administrator for access."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="roles">
                                {roles.into_iter().map(|r| view! { <li class="role" data-testid="profile-role">{r}</li> }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                }
            })}
            <dl class="facts">
                <dt>"Access token"</dt>
                <dd data-testid="token-expiry">
                    {move || signed_in().map(|s| {
                        if s.refreshing { "refreshing…".to_string() } else { format!("expires in {}", countdown(s.expires_at_ms - now.get())) }
                    })}
                </dd>
                <dt>"Last refreshed"</dt>
                <dd data-testid="token-refreshed">
                    {move || signed_in().map(|s| s.refreshed_at_ms.map(local_time).unwrap_or_else(|| "not yet".into()))}
                </dd>
            </dl>
            {move || signed_in().and_then(|s| s.refresh_problem).map(|p| view! { <p class="warning" role="status">{p}</p> })}
            <div class="actions">
                <button class="button" data-testid="refresh-now" on:click=move |_| auth.refresh_now()
                    disabled=move || signed_in().is_some_and(|s| s.refreshing)>
                    "Refresh now"
                </button>
                <button class="button danger" data-testid="sign-out" on:click=move |_| auth.sign_out()>"Sign out"</button>
            </div>
        </section>
    }
}
