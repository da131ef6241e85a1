//! Role gates. The UI is convenience only (the API enforces), but people should not be offered
//! what they cannot do:
//! - `<RequireRole any=..>` renders its children only with one of the roles, else its fallback
//!   (nothing, or a "not permitted" page when it guards a route);
//! - `Auth::has_any_role` and `missing_role_reason` for an element shown disabled
//!   ("requires Study.Write").
//!
//! Write roles imply the read role of the same resource (see `core::roles`).

use crate::auth::use_auth;
use leptos::prelude::*;

/// "requires Study.Write" / "requires one of TREAdmin, TREUser"; empty when nothing is required.
pub fn missing_role_reason(any: &[String]) -> String {
    match any {
        [] => String::new(),
        [one] => format!("requires {one}"),
        many => format!("requires one of {}", many.join(", ")),
    }
}

/// Shows its children when the person holds one of `any` (an empty list: to everyone signed
/// in), else `fallback`.
#[component]
pub fn RequireRole(
    /// Roles of which one suffices.
    #[prop(into)]
    any: Vec<String>,
    /// What to show instead (default: nothing).
    #[prop(optional, into)]
    fallback: ViewFn,
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let allowed = Memo::new(move |_| auth.has_any_role(&any));
    view! { <Show when=move || allowed.get() fallback=fallback>{children()}</Show> }
}
