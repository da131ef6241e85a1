//! Shown when the provider will not renew the session (expired, revoked, or Entra's 24-hour
//! limit for single-page apps). Signing in again returns to the same route with `login_hint`.

use crate::components::auth_error::AuthErrorPanel;
use leptos::prelude::*;

#[component]
pub fn SessionEndedPage() -> impl IntoView {
    view! { <AuthErrorPanel/> }
}
