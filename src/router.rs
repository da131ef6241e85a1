//! In-app navigation over the History API: the current URL (path and query) as a signal kept in
//! step with the address bar, `navigate` for moves made by code, and `<Link>` for anchors that
//! move without reloading. Which page a path shows is decided by `core::route`.

use crate::browser::location;
use crate::core::route::{self, Route};
use leptos::ev;
use leptos::prelude::*;

/// The router handle, provided as context by `provide_router`.
#[derive(Clone, Copy)]
pub struct Router {
    /// The current path and query, e.g. `/views/studies?x=1`.
    url: RwSignal<String>,
}

fn address_bar() -> String {
    let here = location::current();
    if here.query.is_empty() {
        here.path
    } else {
        format!("{}?{}", here.path, here.query)
    }
}

/// Creates the router for the address bar as it is now and follows back/forward buttons.
pub fn provide_router() -> Router {
    let router = Router {
        url: RwSignal::new(address_bar()),
    };
    let listener =
        window_event_listener_untyped("popstate", move |_| router.url.set(address_bar()));
    on_cleanup(move || listener.remove());
    provide_context(router);
    router
}

/// The router provided by an ancestor.
pub fn use_router() -> Router {
    expect_context()
}

impl Router {
    /// The current path and query, without tracking: for "come back here after sign-in".
    pub fn here(&self) -> String {
        self.url.get_untracked()
    }

    /// The page for the current path (tracked).
    pub fn route(&self) -> Route {
        self.url.with(|url| route::parse(route::path_of(url)))
    }

    /// Whether the current path is `path` (tracked), for `aria-current`.
    pub fn is_at(&self, path: &str) -> bool {
        self.url.with(|url| route::path_of(url) == path)
    }

    /// Moves to `to` (a same-origin path) without reloading, adding a history entry unless
    /// `replace`.
    pub fn navigate(&self, to: &str, replace: bool) {
        if self.url.with_untracked(|url| url == to) {
            return;
        }
        if replace {
            location::replace_with(to);
        } else {
            location::push(to);
        }
        self.url.set(to.to_string());
    }
}

/// An in-app link: a real `<a href>` (so opening in a new tab, copying and middle-clicking work)
/// whose plain left click moves without a reload. Marked `aria-current="page"` when it is where
/// the person is.
#[component]
pub fn Link(
    href: String,
    #[prop(optional)] class: &'static str,
    #[prop(optional, into)] testid: Option<String>,
    children: Children,
) -> impl IntoView {
    let router = use_router();
    let target = href.clone();
    let here = href.clone();
    let on_click = move |e: ev::MouseEvent| {
        let modified = e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key();
        if e.default_prevented() || e.button() != 0 || modified {
            return;
        }
        e.prevent_default();
        router.navigate(&target, false);
    };
    view! {
        <a href=href class=class data-testid=testid aria-current=move || router.is_at(&here).then_some("page") on:click=on_click>
            {children()}
        </a>
    }
}
