//! Shown when `/config.json` is missing or invalid: names the key at fault, never a blank page.

use crate::config::ConfigError;
use leptos::prelude::*;

/// Loads the page again: the way out when the configuration could not be fetched.
fn reload() {
    let _ = window().location().reload();
}

#[component]
pub fn ConfigErrorPage(error: ConfigError) -> impl IntoView {
    let key = error.key();
    view! {
        <main id="main" class="center">
            <section class="card error-card" role="alert" data-testid="config-error">
                <h1>"Gatehouse is not configured correctly"</h1>
                <p class="error-message">{error.to_string()}</p>
                {key.map(|k| view! { <p>"Setting to fix: " <code data-testid="config-error-key">{k}</code></p> })}
                <div class="actions">
                    <button class="button" data-testid="config-retry" on:click=|_| reload()>"Try again"</button>
                </div>
                <p class="hint">"Operators: config.json is written from environment variables of the same names when the container starts; see the configuration reference in README.md."</p>
            </section>
        </main>
    }
}
