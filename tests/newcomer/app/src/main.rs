//! Signs in, shows the person's roles, lists the studies of the API as typed JSON, creates a
//! library item with a POST that carries a request id, and signs out.

use leptos::prelude::*;
use leptos_oidc_spa::{
    use_api_client, use_auth, ApiError, AuthProvider, OidcConfig, RequireRole, WhenSignedIn,
};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use serde::{Deserialize, Serialize};

// Where the identity provider and the API are, given when the app is built.
const METADATA_URL: &str = env!("NEWCOMER_METADATA_URL");
const CLIENT_ID: &str = env!("NEWCOMER_CLIENT_ID");
const API_SCOPE: &str = env!("NEWCOMER_API_SCOPE");
const API: &str = env!("NEWCOMER_API");

#[derive(Clone, Debug, Deserialize)]
struct Study {
    uid: String,
    acronym: String,
}

#[derive(Clone, Debug, Serialize)]
struct NewItem {
    name: String,
    library: String,
}

#[derive(Clone, Debug, Deserialize)]
struct Item {
    uid: String,
    name: String,
}

fn main() {
    console_error_panic_hook::set_once();
    let config = OidcConfig::new(METADATA_URL, CLIENT_ID).with_scopes([API_SCOPE]);
    mount_to_body(move || {
        view! {
            <Router>
                <AuthProvider config=config.clone()>
                    <Routes fallback=|| "Page not found.">
                        <Route path=path!("/") view=Home/>
                        <Route path=path!("/oauth-callback") view=|| view! { <p id="signing-in">"Signing you in…"</p> }/>
                    </Routes>
                </AuthProvider>
            </Router>
        }
    });
}

#[component]
fn Home() -> impl IntoView {
    let auth = use_auth();
    let sign_in = move || view! { <button id="sign-in" on:click=move |_| auth.sign_in("/")>"Sign in"</button> };
    view! {
        <WhenSignedIn fallback=sign_in>
            <p id="name">{move || auth.profile.get().map(|p| p.name)}</p>
            <ul id="roles">{move || auth.roles.get().into_iter().map(|role| view! { <li>{role}</li> }).collect_view()}</ul>
            <Studies/>
            <RequireRole any=vec!["Library.Write".to_string()]>
                <NewItemButton/>
            </RequireRole>
            <button id="sign-out" on:click=move |_| auth.sign_out()>"Sign out"</button>
        </WhenSignedIn>
    }
}

#[component]
fn Studies() -> impl IntoView {
    let api = use_api_client();
    let studies = LocalResource::new(move || async move {
        let answer = api.get(format!("{API}/studies")).send().await?;
        answer.error_for_status()?.json::<Vec<Study>>()
    });
    view! {
        <Suspense fallback=|| "Loading the studies…">
            {move || studies.get().map(|answer| match answer {
                Ok(list) => view! {
                    <ul id="studies">{list.into_iter().map(|s| view! { <li title=s.uid>{s.acronym}</li> }).collect_view()}</ul>
                }.into_any(),
                Err(error) => view! { <p id="studies-error">{error.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn NewItemButton() -> impl IntoView {
    let api = use_api_client();
    let create = Action::new_local(move |_: &()| async move {
        let answer = api
            .post(format!("{API}/library/items"))
            .header("X-Request-Id", "newcomer-1")
            .json(&NewItem {
                name: "Systolic blood pressure".into(),
                library: "Sponsor".into(),
            })
            .send()
            .await?
            .error_for_status()?;
        let request_id = answer.header("x-request-id").unwrap_or("none").to_string();
        let item: Item = answer.json()?;
        Ok::<_, ApiError>((item, request_id))
    });
    view! {
        <button id="create" on:click=move |_| { create.dispatch(()); }>"New library item"</button>
        {move || create.value().get().map(|answer| match answer {
            Ok((item, request_id)) => view! {
                <p id="created" title=item.uid>{item.name} " (request " {request_id} ")"</p>
            }.into_any(),
            Err(error) => view! { <p id="create-error">{error.to_string()}</p> }.into_any(),
        })}
    }
}
