//! The sign-in error panel (`auth-error`): a title, the message as plain text (provider-supplied
//! text is never interpreted as HTML), an actionable hint, and a way to try again.

use crate::components::SignInButton;
use leptos::prelude::*;
use leptos_oidc_spa::use_auth;

#[component]
pub fn AuthErrorPanel() -> impl IntoView {
    let auth = use_auth();
    let error = move || auth.error.get();
    let panel = move || {
        error().map(|e| {
            let hint = e.hint();
            view! {
                <section class="card error-card" role="alert" data-testid="auth-error">
                    <h1>{e.title()}</h1>
                    <p class="error-message" data-testid="auth-error-message">{e.to_string()}</p>
                    {hint.map(|h| view! { <p class="hint">{h}</p> })}
                    <div class="actions">
                        <SignInButton label="Sign in again"/>
                        <a class="button" href="/">"Back to start"</a>
                    </div>
                </section>
            }
        })
    };
    view! { {panel} }
}
