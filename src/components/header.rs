//! The top bar: product name, navigation, and on the right the user menu (signed in) or a
//! "sign-in disabled" badge. Signing in starts from the page body, so there is one button.

use crate::auth::{use_auth, AuthState};
use crate::components::user_menu::UserMenu;
use crate::router::Link;
use leptos::prelude::*;

/// What the right-hand side shows. Only this kind matters here: a memo of it keeps the user menu
/// (and its open panel) alive while a refresh changes details inside `SignedIn`.
#[derive(Clone, Copy, PartialEq)]
enum Right {
    User,
    Disabled,
    Nothing,
}

#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let right = Memo::new(move |_| match auth.state.get() {
        AuthState::SignedIn(_) => Right::User,
        AuthState::Disabled => Right::Disabled,
        _ => Right::Nothing,
    });
    view! {
        <header class="topbar">
            <Link href="/".to_string() class="brand">"Gatehouse"</Link>
            <nav aria-label="Main">
                {move || (right.get() != Right::Nothing).then(|| view! { <Link href="/".to_string()>"Home"</Link> })}
            </nav>
            <div class="topbar-right">
                {move || match right.get() {
                    Right::User => view! { <UserMenu/> }.into_any(),
                    Right::Disabled => view! {
                        <span class="badge warning" data-testid="auth-disabled" title="OAUTH_ENABLED is false in config.json">
                            "Sign-in disabled"
                        </span>
                    }.into_any(),
                    Right::Nothing => ().into_any(),
                }}
            </div>
        </header>
    }
}
