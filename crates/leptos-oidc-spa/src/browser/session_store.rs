//! sessionStorage access: the session record, the pending sign-ins and the provider's stored
//! documents of this tab, under the keys `OidcConfig::storage_prefix` names. Nothing is ever
//! written to localStorage. A browser that refuses storage (privacy modes) gets an error the UI
//! can show, not a panic.

use crate::core::api_call::Target;
use crate::core::authorize::PendingLogin;
use crate::core::config::OidcConfig;
use crate::core::error::BrowserError;
use crate::core::logout::{PendingSignOut, SignOutReturn};
use crate::core::provider_cache::CachedDocument;
use crate::core::session::Session;

fn storage() -> Result<web_sys::Storage, BrowserError> {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .ok_or(BrowserError::NoSessionStorage)
}

/// Stores `value` under `key` in sessionStorage.
pub fn set(key: &str, value: &str) -> Result<(), BrowserError> {
    storage()?
        .set_item(key, value)
        .map_err(|_| BrowserError::StorageRefused)
}

/// The value under `key` in sessionStorage, if any.
pub fn get(key: &str) -> Option<String> {
    storage().ok()?.get_item(key).ok().flatten()
}

/// Deletes the value under `key`, if any.
pub fn remove(key: &str) {
    if let Ok(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// This client's records in sessionStorage.
#[derive(Clone, Debug)]
pub struct SessionStore {
    session_key: String,
    sign_out_key: String,
    step_up_key: String,
    login_key_prefix: String,
    document_key_prefix: String,
}

/// A provider document kept for the tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// The OpenID Connect discovery document.
    Discovery,
    /// The JSON Web Key Set.
    Jwks,
}

impl Document {
    fn name(self) -> &'static str {
        match self {
            Document::Discovery => "discovery",
            Document::Jwks => "jwks",
        }
    }
}

impl SessionStore {
    /// The store for `config`'s keys.
    pub fn new(config: &OidcConfig) -> SessionStore {
        SessionStore {
            session_key: config.session_key(),
            sign_out_key: config.sign_out_key(),
            step_up_key: config.step_up_key(),
            login_key_prefix: config.login_key_prefix(),
            document_key_prefix: config.document_key_prefix(),
        }
    }

    /// The stored session, if there is a valid one; a corrupt or outdated record is deleted.
    pub fn load_session(&self) -> Option<Session> {
        let text = get(&self.session_key)?;
        let session = Session::restore(&text);
        if session.is_none() {
            remove(&self.session_key);
        }
        session
    }

    /// Stores the session record.
    pub fn save_session(&self, session: &Session) -> Result<(), BrowserError> {
        set(&self.session_key, &session.to_json())
    }

    /// Deletes the session record.
    pub fn clear_session(&self) {
        remove(&self.session_key);
    }

    /// Stores the sign-out on its way to the provider (replacing an earlier one).
    pub fn save_pending_sign_out(&self, sign_out: &PendingSignOut) -> Result<(), BrowserError> {
        set(&self.sign_out_key, &sign_out.to_json())
    }

    /// Whether the page's `query` at `now_ms` is the return of this tab's sign-out; the record is
    /// consumed when it is (single use), dropped when expired or unreadable, kept otherwise.
    pub fn sign_out_returned(&self, query: &str, now_ms: f64) -> bool {
        let Some(text) = get(&self.sign_out_key) else {
            return false;
        };
        let outcome = PendingSignOut::from_json(&text)
            .map_or(SignOutReturn::Expired, |p| p.on_return(query, now_ms));
        if outcome != SignOutReturn::Waiting {
            remove(&self.sign_out_key);
        }
        outcome == SignOutReturn::Confirmed
    }

    /// Keeps what a sign-in just gave an API (`None`: the session's own), by its key, for the
    /// page it returns to (best effort: without it the loop guard waits one more round). One
    /// line each: the API's id, then the key.
    pub fn save_answered_step_up(&self, resource: Option<&str>, key: &str) {
        let _ = set(
            &self.step_up_key,
            &format!("{}\n{key}", resource.unwrap_or_default()),
        );
    }

    /// Removes and returns what the last sign-in gave an API, if it gave one.
    pub fn take_answered_step_up(&self) -> Option<(Target, String)> {
        let text = get(&self.step_up_key)?;
        remove(&self.step_up_key);
        let (resource, key) = text.split_once('\n')?;
        let target = match resource {
            "" => Target::Session,
            id => Target::Resource(id.to_string()),
        };
        Some((target, key.to_string()))
    }

    /// Stores a pending login under its `state`.
    pub fn save_pending_login(&self, login: &PendingLogin) -> Result<(), BrowserError> {
        set(
            &format!("{}{}", self.login_key_prefix, login.state),
            &login.to_json(),
        )
    }

    /// Removes and returns the pending login for `state`: a state can be consumed exactly once.
    pub fn take_pending_login(&self, state: &str) -> Option<PendingLogin> {
        let key = format!("{}{state}", self.login_key_prefix);
        let text = get(&key)?;
        remove(&key);
        PendingLogin::from_json(&text)
    }

    /// Deletes this tab's pending logins except those `keep` accepts (unreadable ones always),
    /// and returns the readable ones it deleted.
    pub fn clear_pending_logins(&self, keep: impl Fn(&PendingLogin) -> bool) -> Vec<PendingLogin> {
        let Ok(s) = storage() else {
            return Vec::new();
        };
        let len = s.length().unwrap_or(0);
        let keys: Vec<String> = (0..len)
            .filter_map(|i| s.key(i).ok().flatten())
            .filter(|k| k.starts_with(&self.login_key_prefix))
            .collect();
        let mut cleared = Vec::new();
        for key in keys {
            let pending = get(&key).and_then(|t| PendingLogin::from_json(&t));
            if !pending.as_ref().is_some_and(&keep) {
                remove(&key);
                cleared.extend(pending);
            }
        }
        cleared
    }

    fn document_key(&self, document: Document) -> String {
        format!("{}{}", self.document_key_prefix, document.name())
    }

    /// The stored copy of `document`, if any (fresh or not: the caller decides).
    pub fn load_document(&self, document: Document) -> Option<CachedDocument> {
        CachedDocument::from_json(&get(&self.document_key(document))?)
    }

    /// Keeps a copy of `document` for the tab. Best effort: a browser that refuses storage only
    /// makes the next page fetch it again.
    pub fn save_document(&self, document: Document, copy: &CachedDocument) {
        let _ = set(&self.document_key(document), &copy.to_json());
    }

    /// Deletes the stored copy of `document`.
    pub fn forget_document(&self, document: Document) {
        remove(&self.document_key(document));
    }
}
