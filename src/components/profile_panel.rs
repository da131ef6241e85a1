//! The profile panel (`profile-panel`): who is signed in (with their photo and job title from
//! Microsoft Graph when `GRAPH_PROFILE` is on), their roles grouped by API (`profile-role` for the
//! main API, `profile-resource-role` for the others; `profile-role-checks-off` when
//! `OAUTH_RBAC_ENABLED` is false), the API scopes granted, a live countdown to
//! the access token's expiry, the last refresh, and the "refresh now" and `sign-out` actions.
//! Closes with Escape or a click outside.
//!
//! Each part reads only what it shows from the session, through a memo, so a change re-renders
//! that part alone: the countdown's tick rewrites one text node, and the buttons (and the focus
//! on them) stay as they are. The role lists are short and change only with the session, so they
//! are rendered whole rather than keyed.

use crate::components::graph_card::GraphCard;
use crate::config::context::use_config;
use crate::profile;
use leptos::prelude::*;
use leptos_oidc_spa::{use_auth, AuthState, Phase, SignedIn};
use wasm_bindgen::JsCast;

fn local_time(ms: f64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms))
        .to_locale_time_string("default")
        .into()
}

/// One part of the signed-in session, as a memo: what reads it re-runs only when that part
/// changes. Outside a session it is the default (the panel then shows none of its parts).
fn session_part<T>(part: impl Fn(&SignedIn) -> T + Send + Sync + 'static) -> Memo<T>
where
    T: Default + PartialEq + Send + Sync + 'static,
{
    let state = use_auth().state;
    Memo::new(move |_| {
        state.with(|state| match state {
            AuthState::SignedIn(session) => part(session),
            _ => T::default(),
        })
    })
}

#[component]
pub fn ProfilePanel(
    /// Whether the panel is open; the panel sets it to `false` to close itself.
    open: RwSignal<bool>,
) -> impl IntoView {
    let auth = use_auth();
    let escape = window_event_listener_untyped("keydown", move |e| {
        if e.unchecked_ref::<web_sys::KeyboardEvent>().key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || escape.remove());
    // The other APIs' roles are in their tokens: get the ones not held yet.
    auth.load_resource_roles();
    let (api_name, graph, role_gating) =
        use_config().with_value(|c| (c.api_name.clone(), c.graph_base_url.clone(), c.role_gating));
    let signed_in = move || auth.phase.get() == Phase::SignedIn;

    view! {
        <div class="backdrop" on:click=move |_| open.set(false) aria-hidden="true"></div>
        <section id="profile-panel" class="profile-panel" role="dialog" aria-label="Your profile" data-testid="profile-panel">
            {graph.map(|base| view! { <GraphCard base/> })}
            <Show when=signed_in>
                <Facts/>
                <h3>"Roles"</h3>
                <p class="muted" data-testid="profile-role-checks-off" hidden=role_gating>"Role checks are off: every view is open to you."</p>
                <MainApiRoles api_name=api_name.clone()/>
                <OtherApisRoles/>
                <TokenTimes/>
                <Actions/>
            </Show>
        </section>
    }
}

/// The person's name, and the username, email, tenant and API scopes the tokens say.
#[component]
fn Facts() -> impl IntoView {
    let name = session_part(|s| s.profile.name.clone());
    let username = session_part(|s| s.profile.username.clone());
    let email = session_part(|s| {
        profile::email_besides(s.profile.email.clone(), s.profile.username.as_deref())
    });
    let tenant = session_part(|s| s.profile.tenant.clone());
    let scopes = session_part(|s| profile::scopes(&s.profile.scopes));
    view! {
        <h2 class="profile-name">{move || name.get()}</h2>
        <dl class="facts">
            <Show when=move || username.with(Option::is_some)>
                <dt>"Username"</dt><dd data-testid="profile-username">{move || username.get()}</dd>
            </Show>
            <Show when=move || email.with(Option::is_some)>
                <dt>"Email"</dt><dd>{move || email.get()}</dd>
            </Show>
            <Show when=move || tenant.with(Option::is_some)>
                <dt>"Tenant"</dt><dd class="mono">{move || tenant.get()}</dd>
            </Show>
            <dt>"API scopes"</dt><dd class="mono" data-testid="profile-scopes">{move || scopes.get()}</dd>
        </dl>
    }
}

/// The roles on the main API (`profile-role`), or a word that there are none.
#[component]
fn MainApiRoles(
    /// How the UI names the main API (`API_NAME`).
    api_name: String,
) -> impl IntoView {
    let roles = session_part(|s| s.profile.roles.clone());
    let none = move || roles.with(Vec::is_empty);
    view! {
        <h4 class="roles-api">{api_name}</h4>
        <Show when=none>
            <p class="muted" data-testid="profile-no-roles">"No roles assigned. Ask your administrator for access."</p>
        </Show>
        <ul class="roles" hidden=none>
            {move || roles.get().into_iter().map(|role| view! { <li class="role" data-testid="profile-role">{role}</li> }).collect_view()}
        </ul>
    }
}

/// One group per other API with roles (`RESOURCES`), in configuration order.
#[component]
fn OtherApisRoles() -> impl IntoView {
    let ids = session_part(|s| {
        (s.profile.resource_roles.iter())
            .map(|api| api.id.clone())
            .collect::<Vec<_>>()
    });
    view! {
        {move || ids.get().into_iter().map(|id| view! { <OtherApiRoles id/> }).collect_view()}
    }
}

/// One other API's roles (`profile-resource`): listed (`profile-resource-role`), "none",
/// waiting for the person's consent, or not known yet (no token for it so far).
#[component]
fn OtherApiRoles(
    /// The API's id in `RESOURCES`.
    id: String,
) -> impl IntoView {
    let api = {
        let id = id.clone();
        session_part(move |s| {
            (s.profile.resource_roles.iter())
                .find(|api| api.id == id)
                .map(|api| (api.name.clone(), api.roles.clone()))
        })
    };
    let needs_consent = {
        let id = id.clone();
        session_part(move |s| s.consent_needed.contains(&id))
    };
    let name = move || api.with(|api| api.as_ref().map(|(name, _)| name.clone()));
    let roles = move || api.with(|api| api.as_ref().and_then(|(_, roles)| roles.clone()));
    view! {
        <div data-testid="profile-resource" data-resource=id>
            <h4 class="roles-api">{name}</h4>
            {move || match roles() {
                None if needs_consent.get() => view! {
                    <p class="muted" data-testid="profile-resource-consent">"Needs your consent: open one of its views to give it."</p>
                }
                .into_any(),
                None => view! { <p class="muted">"Not known yet."</p> }.into_any(),
                Some(roles) if roles.is_empty() => view! { <p class="muted">"No roles assigned."</p> }.into_any(),
                Some(roles) => view! {
                    <ul class="roles">
                        {roles.into_iter().map(|role| view! { <li class="role" data-testid="profile-resource-role">{role}</li> }).collect_view()}
                    </ul>
                }
                .into_any(),
            }}
        </div>
    }
}

/// The access token's countdown, ticking every second while the panel is open, the last
/// refresh, and a refresh that keeps failing.
#[component]
fn TokenTimes() -> impl IntoView {
    let now = super::use_ticking_now();
    let refreshing = session_part(|s| s.refreshing);
    let expires_at = session_part(|s| s.expires_at_ms);
    let refreshed_at = session_part(|s| s.refreshed_at_ms);
    let problem = session_part(|s| s.refresh_problem.clone());
    let ends_at = session_part(|s| s.ends_at_ms);
    let renewable = session_part(|s| s.renewable);
    let binding = session_part(|s| s.binding.describe());
    let expiry = move || profile::expiry(refreshing.get(), expires_at.get(), now.get());
    let session_end = move || {
        let text = profile::session_end(ends_at.get(), renewable.get(), now.get());
        match ends_at.get() {
            Some(end) if end > now.get() => format!("{text}, at {}", local_time(end)),
            _ => text,
        }
    };
    let refreshed = move || {
        (refreshed_at.get())
            .map(local_time)
            .unwrap_or_else(|| "not yet".into())
    };
    view! {
        <dl class="facts">
            <dt>"Access token"</dt><dd data-testid="token-expiry">{expiry}</dd>
            <dt>"Last refreshed"</dt><dd data-testid="token-refreshed">{refreshed}</dd>
            <dt>"Session ends"</dt><dd data-testid="session-ends">{session_end}</dd>
            <dt>"Tokens"</dt><dd data-testid="token-binding">{binding}</dd>
        </dl>
        <Show when=move || problem.with(Option::is_some)>
            <p class="warning" role="status">{move || problem.get()}</p>
        </Show>
    }
}

/// "Refresh now" (disabled while a refresh is under way) and `sign-out`.
#[component]
fn Actions() -> impl IntoView {
    let auth = use_auth();
    let refreshing = session_part(|s| s.refreshing);
    view! {
        <div class="actions">
            <button class="button" data-testid="refresh-now" on:click=move |_| auth.refresh_now() disabled=move || refreshing.get()>
                "Refresh now"
            </button>
            <button class="button danger" data-testid="sign-out" on:click=move |_| auth.sign_out()>"Sign out"</button>
        </div>
    }
}
