//! Gates for parts of a page. The UI is a convenience (the API enforces), but people should not
//! be offered what they cannot do, nor see a signed-out page flash while a session is restored:
//! - `<RequireRole any=…>` renders its children only when the person holds one of the roles;
//! - `<WhenSignedIn>` and `<WhenSignedOut>` render theirs by whether someone is signed in, and
//!   nothing while that is not known yet.

use crate::core::machine::Phase;
use crate::handle::use_auth;
use leptos::prelude::*;

/// Shows its children when the person holds one of `any` (an empty list: anyone signed in),
/// else `fallback`. `any` may be a plain list or a signal. Roles count as the configuration's
/// `RoleImplication` says.
#[component]
pub fn RequireRole(
    /// Roles of which one suffices.
    #[prop(into)]
    any: Signal<Vec<String>>,
    /// What to show instead (default: nothing).
    #[prop(optional, into)]
    fallback: ViewFn,
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let allowed = Memo::new(move |_| any.with(|any| auth.has_any_role(any)));
    view! { <Show when=move || allowed.get() fallback=fallback>{children()}</Show> }
}

/// Shows its children while someone is signed in (or sign-in is switched off), `fallback` once
/// it is known that nobody is, and nothing before that (start-up, a sign-in completing).
#[component]
pub fn WhenSignedIn(
    /// What to show when nobody is signed in (default: nothing).
    #[prop(optional, into)]
    fallback: ViewFn,
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let access = Memo::new(move |_| auth.route_access());
    move || match access.get() {
        Some(true) => children().into_any(),
        Some(false) => fallback.run(),
        None => ().into_any(),
    }
}

/// Shows its children once it is known that nobody is signed in (signed out, a sign-in that
/// failed, a session that ended); nothing otherwise.
#[component]
pub fn WhenSignedOut(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let signed_out =
        Memo::new(move |_| matches!(auth.phase.get(), Phase::SignedOut | Phase::Error));
    view! { <Show when=move || signed_out.get()>{children()}</Show> }
}
