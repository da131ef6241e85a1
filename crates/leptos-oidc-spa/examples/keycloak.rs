//! A Leptos app that signs people in with Keycloak, whose realm roles are at
//! `realm_access.roles` in the access token. An admin page is a protected route; the study form
//! POSTs JSON with a request id header; a claim beyond the profile is read as a typed struct; the
//! app forgets its cached data when the session ends.
//!
//! Register a public client (*Client authentication* off, *Standard flow* on, PKCE method S256),
//! with `<origin>/oauth-callback` as a valid redirect URI, `<origin>/` as a valid post-logout
//! redirect URI and `<origin>` as a web origin.
//!
//! Build: `cargo build -p leptos-oidc-spa --example keycloak --target wasm32-unknown-unknown`

use leptos::prelude::*;
use leptos_oidc_spa::{use_api_client, use_auth, ApiError, AuthProvider, OidcConfig, WhenSignedIn};
use leptos_router::components::{ProtectedRoute, Route, Router, Routes};
use leptos_router::path;
use serde::{Deserialize, Serialize};

const REALM: &str = "https://keycloak.example.com/realms/research";
const API_BASE: &str = "https://portal.example.com/api";

#[derive(Clone, Debug, Serialize)]
struct NewStudy {
    name: String,
}

#[derive(Clone, Debug, Deserialize)]
struct Study {
    uid: String,
    name: String,
}

/// Claims of Keycloak's ID token that the profile does not read.
#[derive(Deserialize)]
struct KeycloakClaims {
    #[serde(default)]
    email_verified: bool,
}

fn config() -> OidcConfig {
    OidcConfig::new(
        format!("{REALM}/.well-known/openid-configuration"),
        "research-portal",
    )
    .with_roles_claim("realm_access.roles")
    .with_storage_prefix("portal")
}

fn main() {
    console_error_panic_hook::set_once();
    let created = RwSignal::new(Vec::<Study>::new());
    mount_to_body(move || {
        view! {
            <Router>
                <AuthProvider config=config() on_signed_out=move || created.set(Vec::new())>
                    <Routes fallback=|| "Page not found.">
                        <Route path=path!("/") view=move || view! { <Home created/> }/>
                        <Route path=path!("/oauth-callback") view=|| "Signing you in…"/>
                        <ProtectedRoute
                            path=path!("/admin")
                            view=Admin
                            condition=move || use_auth().route_access_with_any_role(&["portal-admin"])
                            redirect_path=|| "/"
                        />
                    </Routes>
                </AuthProvider>
            </Router>
        }
    });
}

#[component]
fn Home(created: RwSignal<Vec<Study>>) -> impl IntoView {
    let auth = use_auth();
    let verified = move || {
        auth.claims::<KeycloakClaims>()
            .is_ok_and(|c| c.email_verified)
    };
    let sign_in = move || view! { <button on:click=move |_| auth.sign_in("/")>"Sign in"</button> };
    view! {
        <WhenSignedIn fallback=sign_in>
            <p>
                {move || auth.profile.get().map(|p| p.name)}
                {move || if verified() { " (verified)" } else { "" }}
            </p>
            <p>"Realm roles: " {move || auth.roles.get().join(", ")}</p>
            <NewStudyForm created/>
            <ul>{move || created.get().into_iter().map(|s| view! { <li title=s.uid>{s.name}</li> }).collect_view()}</ul>
            <button on:click=move |_| auth.sign_out()>"Sign out"</button>
        </WhenSignedIn>
    }
}

#[component]
fn NewStudyForm(created: RwSignal<Vec<Study>>) -> impl IntoView {
    let api = use_api_client();
    let name = RwSignal::new(String::new());
    let create = Action::new_local(move |study: &NewStudy| {
        let study = study.clone();
        async move {
            let request_id = format!("portal-{}", js_sys::Date::now());
            let answer = api
                .post(format!("{API_BASE}/studies"))
                .header("X-Request-Id", request_id)
                .json(&study)
                .send()
                .await?
                .error_for_status()?;
            let study: Study = answer.json()?;
            created.update(|list| list.push(study.clone()));
            Ok::<Study, ApiError>(study)
        }
    });
    view! {
        <form on:submit=move |e| {
            e.prevent_default();
            create.dispatch(NewStudy { name: name.get_untracked() });
        }>
            <input prop:value=name on:input=move |e| name.set(event_target_value(&e))/>
            <button type="submit" disabled=move || create.pending().get()>"Create study"</button>
        </form>
        {move || create.value().get().and_then(Result::err).map(|e| view! { <p role="alert">{e.to_string()}</p> })}
    }
}

#[component]
fn Admin() -> impl IntoView {
    view! { <h1>"Administration"</h1> }
}
