//! What the person typed into a console, kept in this tab's sessionStorage while a sign-in for
//! an API's challenge takes them to the provider and back, so nothing typed is lost.

use crate::config::STORAGE_PREFIX;

fn key(view_id: &str) -> String {
    format!("{STORAGE_PREFIX}.draft.{view_id}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// Keeps `text` as the draft of the view `view_id` (best effort: a browser that refuses
/// storage loses the draft, not the sign-in).
pub fn keep(view_id: &str, text: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&key(view_id), text);
    }
}

/// Removes and returns the draft of the view `view_id`, if one was kept.
pub fn take(view_id: &str) -> Option<String> {
    let storage = storage()?;
    let text = storage.get_item(&key(view_id)).ok().flatten()?;
    let _ = storage.remove_item(&key(view_id));
    Some(text)
}
