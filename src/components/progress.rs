//! A labelled busy indicator for every wait, announced to screen readers.

use leptos::prelude::*;

#[component]
pub fn Progress(label: &'static str) -> impl IntoView {
    view! {
        <div class="progress" role="status" aria-live="polite" data-testid="progress">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}
