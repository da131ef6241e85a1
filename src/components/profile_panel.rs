//! The profile panel (`profile-panel`): who is signed in (with their photo and job title from
//! Microsoft Graph when `GRAPH_PROFILE` is on), their roles grouped by API (`profile-role` for the
//! main API, `profile-resource-role` for the others), the API scopes granted, a live countdown to
//! the access token's expiry, the last refresh, and the "refresh now" and `sign-out` actions.
//! Closes with Escape or a click outside.

use crate::components::graph_card::GraphCard;
use crate::config::context::use_config;
use crate::profile;
use leptos::prelude::*;
use leptos_oidc_spa::{use_auth, AuthState, ResourceRoles};
use std::time::Duration;
use wasm_bindgen::JsCast;

fn local_time(ms: f64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms))
        .to_locale_time_string("default")
        .into()
}

#[component]
pub fn ProfilePanel(
    /// Whether the panel is open; the panel sets it to `false` to close itself.
    open: RwSignal<bool>,
) -> impl IntoView {
    let auth = use_auth();
    let now = RwSignal::new(js_sys::Date::now());
    if let Ok(ticker) =
        set_interval_with_handle(move || now.set(js_sys::Date::now()), Duration::from_secs(1))
    {
        on_cleanup(move || ticker.clear());
    }
    let escape = window_event_listener_untyped("keydown", move |e| {
        if e.unchecked_ref::<web_sys::KeyboardEvent>().key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || escape.remove());
    // The other APIs' roles are in their tokens: get the ones not held yet.
    auth.load_resource_roles();
    let (api_name, graph) =
        use_config().with_value(|c| (c.api_name.clone(), c.graph_base_url.clone()));

    // One reactive closure for the whole content: it re-renders in place (same DOM nodes, so
    // focus stays) on every tick and auth change, and each extra closure would cost wasm size.
    let content = move || {
        let AuthState::SignedIn(s) = auth.state.get() else {
            return None;
        };
        let p = s.profile;
        let scopes = profile::scopes(&p.scopes);
        let email = profile::email_besides(p.email, p.username.as_deref());
        let expiry = profile::expiry(s.refreshing, s.expires_at_ms, now.get());
        let refreshed = s
            .refreshed_at_ms
            .map(local_time)
            .unwrap_or_else(|| "not yet".into());
        let none = p.roles.is_empty();
        let others = (p.resource_roles.into_iter())
            .map(|api| {
                let consent = s.consent_needed.contains(&api.id);
                resource_roles(api, consent)
            })
            .collect_view();
        Some(view! {
            <h2 class="profile-name">{p.name}</h2>
            <dl class="facts">
                {p.username.map(|u| view! { <dt>"Username"</dt><dd data-testid="profile-username">{u}</dd> })}
                {email.map(|e| view! { <dt>"Email"</dt><dd>{e}</dd> })}
                {p.tenant.map(|t| view! { <dt>"Tenant"</dt><dd class="mono">{t}</dd> })}
                <dt>"API scopes"</dt><dd class="mono" data-testid="profile-scopes">{scopes}</dd>
            </dl>
            <h3>"Roles"</h3>
            <h4 class="roles-api">{api_name.clone()}</h4>
            {none.then(|| view! { <p class="muted" data-testid="profile-no-roles">"No roles assigned. Ask your administrator for access."</p> })}
            <ul class="roles" hidden=none>
                {p.roles.into_iter().map(|r| view! { <li class="role" data-testid="profile-role">{r}</li> }).collect_view()}
            </ul>
            {others}
            <dl class="facts">
                <dt>"Access token"</dt><dd data-testid="token-expiry">{expiry}</dd>
                <dt>"Last refreshed"</dt><dd data-testid="token-refreshed">{refreshed}</dd>
            </dl>
            {s.refresh_problem.map(|p| view! { <p class="warning" role="status">{p}</p> })}
            <div class="actions">
                <button class="button" data-testid="refresh-now" on:click=move |_| auth.refresh_now() disabled=s.refreshing>
                    "Refresh now"
                </button>
                <button class="button danger" data-testid="sign-out" on:click=move |_| auth.sign_out()>"Sign out"</button>
            </div>
        })
    };

    view! {
        <div class="backdrop" on:click=move |_| open.set(false) aria-hidden="true"></div>
        <section id="profile-panel" class="profile-panel" role="dialog" aria-label="Your profile" data-testid="profile-panel">
            {graph.map(|base| view! { <GraphCard base/> })}
            {move || content().into_any()}
        </section>
    }
}

/// One other API's roles: listed, "none", waiting for the person's consent, or not known yet
/// (no token for it so far).
fn resource_roles(api: ResourceRoles, needs_consent: bool) -> impl IntoView {
    let list = match api.roles {
        None if needs_consent => view! {
            <p class="muted" data-testid="profile-resource-consent">"Needs your consent: open one of its views to give it."</p>
        }
        .into_any(),
        None => view! { <p class="muted">"Not known yet."</p> }.into_any(),
        Some(roles) if roles.is_empty() => view! { <p class="muted">"No roles assigned."</p> }.into_any(),
        Some(roles) => view! {
            <ul class="roles">
                {roles.into_iter().map(|r| view! { <li class="role" data-testid="profile-resource-role">{r}</li> }).collect_view()}
            </ul>
        }
        .into_any(),
    };
    view! {
        <div data-testid="profile-resource" data-resource=api.id>
            <h4 class="roles-api">{api.name}</h4>
            {list}
        </div>
    }
}
