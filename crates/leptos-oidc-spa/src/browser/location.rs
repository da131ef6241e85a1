//! The address bar: reading the current URL, removing an authorization response from it and from
//! history, and leaving the app for the identity provider.

use crate::core::error::BrowserError;

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// `location.origin`, e.g. `http://127.0.0.1:8080`.
pub fn origin() -> String {
    window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Path, query and fragment of the current URL.
pub struct CurrentUrl {
    /// `location.pathname`, e.g. `/oauth-callback`.
    pub path: String,
    /// `location.search` without its `?`; empty if none.
    pub query: String,
    /// `location.hash` without its `#`; empty if none.
    pub fragment: String,
}

/// Reads the address bar (all parts empty without a window).
pub fn current() -> CurrentUrl {
    let loc = window().map(|w| w.location());
    let read = |f: fn(&web_sys::Location) -> Result<String, wasm_bindgen::JsValue>| {
        loc.as_ref().and_then(|l| f(l).ok()).unwrap_or_default()
    };
    CurrentUrl {
        path: read(web_sys::Location::pathname),
        query: read(web_sys::Location::search)
            .trim_start_matches('?')
            .to_string(),
        fragment: read(web_sys::Location::hash)
            .trim_start_matches('#')
            .to_string(),
    }
}

/// Replaces the current history entry's URL with `path` (same origin), so a code or error in the
/// query or fragment disappears from the address bar, history and `Referer`.
pub fn replace_with(path: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
}

/// Leaves the app for `url` (the identity provider).
pub fn go_to(url: &str) -> Result<(), BrowserError> {
    let refused = || BrowserError::Navigation(url.to_string());
    window()
        .ok_or_else(refused)?
        .location()
        .assign(url)
        .map_err(|_| refused())
}
