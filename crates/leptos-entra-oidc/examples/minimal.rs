//! The smallest app that embeds leptos-entra-oidc: a sign-in button, the person's name and
//! roles, a part only `Study.Read` may see, an API call with the bearer token, and sign-out.
//!
//! Build: `cargo build -p leptos-entra-oidc --example minimal --target wasm32-unknown-unknown`

use leptos::prelude::*;
use leptos_entra_oidc::{use_api_client, use_auth, AuthProvider, OidcConfig, Phase, RequireRole};
use leptos_router::components::Router;

#[component]
fn Home() -> impl IntoView {
    let auth = use_auth();
    let api = use_api_client();
    let studies = Action::new_local(move |_: &()| async move {
        match api
            .send("GET", "https://api.example.com/studies", None)
            .await
        {
            Ok(reply) => format!("HTTP {}: {}", reply.status, reply.body),
            Err(why) => why,
        }
    });
    let sign_in = move |_| auth.sign_in("/".into());
    view! {
        <Show
            when=move || auth.phase.get() == Phase::SignedIn
            fallback=move || view! { <button on:click=sign_in>"Sign in"</button> }
        >
            <p>"Hello, " {move || auth.profile.get().map(|p| p.name)}</p>
            <p>"Your roles: " {move || auth.roles.get().join(", ")}</p>
            <RequireRole any=vec!["Study.Read".to_string()]>
                <button on:click=move |_| { studies.dispatch(()); }>"List studies"</button>
                <pre>{move || studies.value().get()}</pre>
            </RequireRole>
            <button on:click=move |_| auth.sign_out()>"Sign out"</button>
        </Show>
    }
}

fn main() {
    let config = OidcConfig::new(
        "https://login.microsoftonline.com/<tenant id>/v2.0/.well-known/openid-configuration",
        "<application (client) id>",
    )
    .with_scopes(["api://<API application id>/Study.Read"]);
    mount_to_body(move || {
        view! {
            <Router>
                <AuthProvider config=Some(config)>
                    <Home/>
                </AuthProvider>
            </Router>
        }
    });
}
