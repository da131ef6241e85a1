//! Shown when `/config.json` is missing or invalid: names the key at fault, never a blank page.

use crate::config::ConfigError;
use leptos::prelude::*;

#[component]
pub fn ConfigErrorPage(error: ConfigError) -> impl IntoView {
    let key = error.key();
    view! {
        <main id="main" class="center">
            <section class="card error-card" role="alert" data-testid="config-error">
                <h1>"Gatehouse is not configured correctly"</h1>
                <p class="error-message">{error.to_string()}</p>
                {key.map(|k| view! { <p>"Setting to fix: " <code data-testid="config-error-key">{k}</code></p> })}
                <p class="hint">"Operators: config.json is written from environment variables of the same names when the container starts; see the configuration reference in README.md."</p>
            </section>
        </main>
    }
}
