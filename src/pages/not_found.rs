//! The page for routes the app does not have.

use leptos::prelude::*;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address."</p>
            <a class="button" href="/">"Go to the start page"</a>
        </section>
    }
}
