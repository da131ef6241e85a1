//! Keeping duplicated tabs alive. A duplicated tab (or one opened with `window.open`) starts with
//! a copy of sessionStorage, so two tabs hold the same refresh token; a provider that rotates
//! refresh tokens revokes the one used second. Tabs therefore refresh one at a time (a Web Lock)
//! and the winner hands its new tokens to every tab that held the same refresh token, over a
//! same-origin BroadcastChannel. Tabs are matched by a fingerprint of the refresh token, so no
//! tab adopts a session that was never its own.
//!
//! Every page of the origin can listen on the channel, so nothing crosses it in clear: a
//! message travels in an [`Envelope`], sealed (AES-256-GCM, by `browser::seal`) with the
//! session's `handover_key`, which only the tabs holding a copy of that session have, and bound
//! to the fingerprint it is addressed to.

use super::session::Session;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A short, non-reversible identifier of a session's refresh token (or, without one, of its
/// access token).
pub fn fingerprint(session: &Session) -> String {
    let secret = session
        .refresh_token
        .as_deref()
        .unwrap_or(&session.access_token);
    URL_SAFE_NO_PAD.encode(&Sha256::digest(secret.as_bytes())[..16])
}

/// What one tab tells the others. On the wire (inside the sealed [`Envelope`]) it is one JSON
/// object named after its kind: `{"refreshed": {"previous": …, "session": {…}}}` or
/// `{"signed_out": {"previous": …}}` (serde's default form, read in one pass; a `"kind"` member
/// beside the others would need serde to buffer the whole message first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// One message per refresh or sign-out; boxing the session would make every match read worse.
#[allow(clippy::large_enum_variant)]
pub enum TabMessage {
    /// The session with fingerprint `previous` was refreshed; here is its successor.
    Refreshed {
        /// The [`fingerprint`] of the session before the refresh.
        previous: String,
        /// The refreshed session.
        session: Session,
    },
    /// The session with fingerprint `previous` was signed out.
    SignedOut {
        /// The [`fingerprint`] of the session that was signed out.
        previous: String,
    },
}

impl TabMessage {
    /// The wire form, to seal and post on the BroadcastChannel.
    pub fn to_json(&self) -> String {
        // Strings and numbers only: always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a message; `None` for anything else.
    pub fn parse(text: &str) -> Option<TabMessage> {
        serde_json::from_str(text).ok()
    }

    /// The [`fingerprint`] of the session the message is about.
    pub fn previous(&self) -> &str {
        match self {
            TabMessage::Refreshed { previous, .. } | TabMessage::SignedOut { previous } => previous,
        }
    }

    /// What a tab holding `current` should do with this message.
    pub fn action_for(self, current: Option<&Session>) -> TabAction {
        let Some(current) = current else {
            return TabAction::Ignore;
        };
        let mine = fingerprint(current);
        match self {
            TabMessage::Refreshed { previous, session }
                if previous == mine && Session::restore(&session.to_json()).is_some() =>
            {
                TabAction::Adopt(Box::new(session))
            }
            TabMessage::SignedOut { previous } if previous == mine => TabAction::SignOut,
            _ => TabAction::Ignore,
        }
    }
}

/// What a tab does with a [`TabMessage`] (see [`TabMessage::action_for`]).
#[derive(Debug, PartialEq)]
pub enum TabAction {
    /// Take over the twin's refreshed session: it replaces this tab's own.
    Adopt(Box<Session>),
    /// Sign out too: the twin signed out of this very session.
    SignOut,
    /// Not about this tab's session, this tab has none, or the session handed over is unusable:
    /// do nothing.
    Ignore,
}

/// A [`TabMessage`] as it crosses the channel: `{"to": fingerprint, "iv": …, "sealed": …}`.
/// Only `to` is in clear, so a tab can tell whether the message concerns it without opening it;
/// `sealed` is the message's JSON sealed with the session's hand-over key and `to` as additional
/// data, `iv` the nonce (both base64url).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The fingerprint of the session the message is about ([`TabMessage::previous`]).
    pub to: String,
    /// The AES-GCM nonce.
    pub iv: String,
    /// The sealed message, tag included.
    pub sealed: String,
}

impl Envelope {
    /// The envelope for `message`, once sealed: `iv` and `sealed` are raw bytes.
    pub fn new(message: &TabMessage, iv: &[u8], sealed: &[u8]) -> Envelope {
        Envelope {
            to: message.previous().to_string(),
            iv: URL_SAFE_NO_PAD.encode(iv),
            sealed: URL_SAFE_NO_PAD.encode(sealed),
        }
    }

    /// The wire form.
    pub fn to_json(&self) -> String {
        // Strings only: always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads an envelope addressed to the session `mine` (a [`fingerprint`]): its nonce and sealed
    /// bytes. `None` for anything else on the channel, and for envelopes for other sessions.
    pub fn open_for(text: &str, mine: &str) -> Option<(Vec<u8>, Vec<u8>)> {
        let envelope: Envelope = serde_json::from_str(text).ok()?;
        if envelope.to != mine {
            return None;
        }
        let iv = URL_SAFE_NO_PAD.decode(&envelope.iv).ok()?;
        let sealed = URL_SAFE_NO_PAD.decode(&envelope.sealed).ok()?;
        Some((iv, sealed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::token::TokenSet;

    fn session(refresh: &str) -> Session {
        Session::from_tokens(
            TokenSet {
                access_token: format!("at-{refresh}"),
                expires_in_s: 60.0,
                refresh_token: Some(refresh.into()),
                id_token: None,
                scope: None,
                refresh_expires_in_s: None,
                dpop_bound: false,
            },
            &[9; 32],
            0.0,
        )
    }

    #[test]
    fn a_twin_adopts_the_refreshed_session() {
        let old = session("r1");
        let new = session("r2");
        let msg = TabMessage::Refreshed {
            previous: fingerprint(&old),
            session: new.clone(),
        };
        let text = msg.to_json();
        assert!(text.starts_with(r#"{"refreshed":{"previous":""#), "{text}");
        assert!(text.contains(r#","session":{"version":2,"#), "{text}");
        let parsed = TabMessage::parse(&text).unwrap();
        assert_eq!(
            parsed.action_for(Some(&old)),
            TabAction::Adopt(Box::new(new))
        );
    }

    #[test]
    fn other_sessions_and_signed_out_tabs_ignore_it() {
        let msg = TabMessage::Refreshed {
            previous: fingerprint(&session("r1")),
            session: session("r2"),
        };
        assert_eq!(
            msg.clone().action_for(Some(&session("other"))),
            TabAction::Ignore
        );
        assert_eq!(msg.action_for(None), TabAction::Ignore);
    }

    #[test]
    fn sign_out_reaches_twins_only() {
        let s = session("r1");
        let msg = TabMessage::SignedOut {
            previous: fingerprint(&s),
        };
        assert_eq!(
            msg.to_json(),
            format!(r#"{{"signed_out":{{"previous":"{}"}}}}"#, fingerprint(&s))
        );
        assert_eq!(TabMessage::parse(&msg.to_json()), Some(msg.clone()));
        assert_eq!(msg.clone().action_for(Some(&s)), TabAction::SignOut);
        assert_eq!(msg.action_for(Some(&session("r9"))), TabAction::Ignore);
    }

    #[test]
    fn fingerprints_do_not_reveal_the_token_and_garbage_is_ignored() {
        let s = session("secret-refresh-token");
        assert!(!fingerprint(&s).contains("secret"));
        assert_eq!(fingerprint(&s).len(), 22);
        assert_eq!(TabMessage::parse(r#"{"hack":{"previous":"x"}}"#), None);
        assert_eq!(TabMessage::parse(r#"{"refreshed":{"previous":"x"}}"#), None);
        assert_eq!(TabMessage::parse("not json"), None);
    }

    #[test]
    fn an_envelope_shows_only_whom_it_is_for() {
        let s = session("r1");
        let message = TabMessage::SignedOut {
            previous: fingerprint(&s),
        };
        let text = Envelope::new(&message, &[1; 12], b"sealed bytes").to_json();
        assert_eq!(
            text,
            format!(
                r#"{{"to":"{}","iv":"AQEBAQEBAQEBAQEB","sealed":"c2VhbGVkIGJ5dGVz"}}"#,
                fingerprint(&s)
            )
        );
        assert_eq!(
            Envelope::open_for(&text, &fingerprint(&s)),
            Some((vec![1; 12], b"sealed bytes".to_vec()))
        );
        assert_eq!(
            Envelope::open_for(&text, &fingerprint(&session("r2"))),
            None
        );
        for junk in [
            "",
            "not json",
            &message.to_json(),
            r#"{"to":"x","iv":"!!","sealed":""}"#,
        ] {
            assert_eq!(Envelope::open_for(junk, "x"), None, "{junk}");
        }
    }
}
