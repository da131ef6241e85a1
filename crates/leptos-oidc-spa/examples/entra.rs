//! A Leptos app that signs people in with Microsoft Entra ID and calls its own API, as
//! StudyBuilder's front end does: the roles come from the API's app roles in the access token,
//! `Study.Write` implies `Study.Read` (that API's rule), and a part of the page shows only to
//! readers of studies, who get the list as typed JSON.
//!
//! Build: `cargo build -p leptos-oidc-spa --example entra --target wasm32-unknown-unknown`

use leptos::prelude::*;
use leptos_oidc_spa::{
    entra, use_api_client, use_auth, AuthProvider, OidcConfig, Phase, RequireRole, RoleImplication,
    WhenSignedIn,
};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use serde::Deserialize;

/// The directory (tenant) id, from the app registration's overview.
const TENANT: &str = "00000000-0000-0000-0000-000000000000";
/// This app's registration: its Application (client) ID. Register `<origin>/oauth-callback` as
/// a redirect URI under the *Single-page application* platform.
const CLIENT_ID: &str = "11111111-1111-1111-1111-111111111111";
/// The API's Application ID URI (*Expose an API*).
const API: &str = "api://22222222-2222-2222-2222-222222222222";
const API_BASE: &str = "https://studybuilder.example.com/api";

#[derive(Clone, Debug, Deserialize)]
struct Study {
    uid: String,
    name: String,
}

fn config() -> OidcConfig {
    OidcConfig::new(entra::metadata_url(TENANT), CLIENT_ID)
        .with_scopes([entra::api_scope(API, "API.call")])
        .with_role_implication(RoleImplication::WriteImpliesRead)
}

fn main() {
    console_error_panic_hook::set_once();
    mount_to_body(|| {
        view! {
            <Router>
                <AuthProvider config=config()>
                    <main>
                        <Routes fallback=|| "Page not found.">
                            <Route path=path!("/") view=Home/>
                            // Shown while the code the provider sent back is redeemed.
                            <Route path=path!("/oauth-callback") view=|| "Signing you in…"/>
                        </Routes>
                    </main>
                </AuthProvider>
            </Router>
        }
    });
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <WhenSignedIn fallback=SignIn>
            <Profile/>
            <RequireRole any=vec!["Study.Read".to_string()] fallback=|| "Ask for Study.Read to see the studies.">
                <Studies/>
            </RequireRole>
        </WhenSignedIn>
    }
}

/// The sign-in button, and why the last sign-in failed, if it did.
#[component]
fn SignIn() -> impl IntoView {
    let auth = use_auth();
    view! {
        {move || auth.error.get().map(|error| view! {
            <section role="alert">
                <h2>{error.title()}</h2>
                <p>{error.to_string()}</p>
                <p>{error.hint()}</p>
                <button on:click=move |_| auth.dismiss_error()>"Dismiss"</button>
            </section>
        })}
        <button on:click=move |_| auth.sign_in("/") disabled=move || auth.phase.get() == Phase::Redirecting>
            "Sign in with Microsoft"
        </button>
    }
}

#[component]
fn Profile() -> impl IntoView {
    let auth = use_auth();
    view! {
        <p>"Signed in as " {move || auth.profile.get().map(|p| p.name)}</p>
        <ul>{move || auth.roles.get().into_iter().map(|role| view! { <li>{role}</li> }).collect_view()}</ul>
        <button on:click=move |_| auth.sign_out()>"Sign out"</button>
    }
}

#[component]
fn Studies() -> impl IntoView {
    let api = use_api_client();
    let studies = LocalResource::new(move || async move {
        let url = format!("{API_BASE}/studies");
        api.get(url)
            .send()
            .await?
            .error_for_status()?
            .json::<Vec<Study>>()
    });
    view! {
        <Suspense fallback=|| "Loading studies…">
            {move || studies.get().map(|answer| match answer {
                Ok(list) => view! {
                    <ul>{list.into_iter().map(|s| view! { <li title=s.uid>{s.name}</li> }).collect_view()}</ul>
                }.into_any(),
                Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}
