//! Role gates for views. The UI is convenience only (the API enforces), but people should not
//! be offered what they cannot do:
//! - `<RequireRole any=..>` renders its children only with one of the roles (else a fallback);
//! - `missing_role_reason` gives the text for an element shown disabled ("requires Study.Write");
//! - `<NotPermitted>` replaces a gated page's content.
//!
//! Write roles imply the read role of the same resource (see `core::roles`).

use crate::auth::use_auth;
use leptos::prelude::*;

/// "requires Study.Write" / "requires one of TREAdmin, TREUser".
pub fn missing_role_reason(any: &[String]) -> String {
    match any {
        [] => String::new(),
        [one] => format!("requires {one}"),
        many => format!("requires one of {}", many.join(", ")),
    }
}

#[component]
pub fn RequireRole(
    /// Roles of which one suffices (empty: always shown).
    #[prop(into)]
    any: Vec<String>,
    #[prop(optional, into)] fallback: ViewFn,
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let allowed = move || auth.has_any_role(&any);
    view! { <Show when=allowed fallback=fallback>{children()}</Show> }
}

/// The page shown instead of a view the person's roles do not allow.
#[component]
pub fn NotPermitted(
    #[prop(into)] any: Vec<String>,
    #[prop(optional_no_strip)] detail: Option<String>,
) -> impl IntoView {
    view! {
        <section class="card not-permitted" role="alert" data-testid="not-permitted">
            <h1>"Not permitted"</h1>
            <p>"This " {if any.is_empty() { "action is not allowed for your account".to_string() } else { missing_role_reason(&any) }} "."</p>
            {detail.map(|d| view! { <p class="muted">{d}</p> })}
            <p class="muted">"Ask your administrator to assign the role to your account, then sign in again."</p>
        </section>
    }
}
