//! sessionStorage access: the session record and the pending sign-ins of this tab. Nothing is
//! ever written to localStorage. A browser that refuses storage (privacy modes) gets an error
//! the UI can show, not a panic.

use crate::core::authorize::{PendingLogin, LOGIN_STATE_KEY_PREFIX};
use crate::core::session::{Session, SESSION_KEY};

fn storage() -> Result<web_sys::Storage, String> {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .ok_or_else(|| {
            "This browser does not allow sessionStorage, which is needed to keep you signed in."
                .to_string()
        })
}

fn set(key: &str, value: &str) -> Result<(), String> {
    storage()?.set_item(key, value).map_err(|_| {
        "The browser refused to store the session (storage full or disabled).".to_string()
    })
}

fn get(key: &str) -> Option<String> {
    storage().ok()?.get_item(key).ok().flatten()
}

fn remove(key: &str) {
    if let Ok(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// The stored session, if there is a valid one; a corrupt or outdated record is deleted.
pub fn load_session() -> Option<Session> {
    let text = get(SESSION_KEY)?;
    let session = Session::restore(&text);
    if session.is_none() {
        remove(SESSION_KEY);
    }
    session
}

/// Stores the session record under [`SESSION_KEY`]; `Err` holds a message for the UI when the
/// browser refuses.
pub fn save_session(session: &Session) -> Result<(), String> {
    set(SESSION_KEY, &session.to_json())
}

/// Deletes the session record.
pub fn clear_session() {
    remove(SESSION_KEY);
}

/// Stores a pending login under its [`PendingLogin::storage_key`]; `Err` holds a message for
/// the UI when the browser refuses.
pub fn save_pending_login(login: &PendingLogin) -> Result<(), String> {
    set(&login.storage_key(), &login.to_json())
}

/// Removes and returns the pending login for `state`: a state can be consumed exactly once.
pub fn take_pending_login(state: &str) -> Option<PendingLogin> {
    let key = format!("{LOGIN_STATE_KEY_PREFIX}{state}");
    let text = get(&key)?;
    remove(&key);
    PendingLogin::from_json(&text)
}

/// Deletes this tab's pending logins except those `keep` accepts (unreadable ones always): all
/// of them at sign-out, the expired ones when a new sign-in starts.
pub fn clear_pending_logins(keep: impl Fn(&PendingLogin) -> bool) {
    let Ok(s) = storage() else { return };
    let len = s.length().unwrap_or(0);
    let keys: Vec<String> = (0..len)
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with(LOGIN_STATE_KEY_PREFIX))
        .collect();
    for key in keys {
        let pending = get(&key).and_then(|t| PendingLogin::from_json(&t));
        if !pending.is_some_and(|p| keep(&p)) {
            remove(&key);
        }
    }
}
