//! The page shown instead of what the person's roles do not allow (`not-permitted`). The gates
//! themselves are the library's (`Auth::has_any_role`, `Auth::has_role_at`); the UI is
//! convenience only, the API enforces.

use crate::access::refusal;
use leptos::prelude::*;

#[component]
pub fn NotPermitted(
    /// The roles of which one would allow it (empty: none would).
    #[prop(into)]
    any: Vec<String>,
    /// What the API said, if it said why.
    #[prop(optional_no_strip)]
    detail: Option<String>,
) -> impl IntoView {
    let what = refusal(&any);
    view! {
        <section class="card not-permitted" role="alert" data-testid="not-permitted">
            <h1>"Not permitted"</h1>
            <p>"This " {what} "."</p>
            {detail.map(|d| view! { <p class="muted">{d}</p> })}
            <p class="muted">"Ask your administrator to assign the role to your account, then sign in again."</p>
        </section>
    }
}
