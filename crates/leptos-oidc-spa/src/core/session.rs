//! The signed-in session: the tokens, when the access token expires, and the other APIs' tokens.
//! Serialised as one versioned JSON record in sessionStorage; a record of another version, or one
//! that does not parse, is discarded. What the UI shows of it is read by `profile`.

use super::dpop::DpopKeyRef;
use super::refresh;
use super::time::{whole_ms, whole_ms_or_null};
use super::token::TokenSet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Bumped whenever the record's shape changes; older records are dropped, not migrated.
/// Version 2 added `handover_key`; version 1 records (no key) are dropped: their owners sign in
/// again once.
pub const SESSION_VERSION: u32 = 2;

/// The length of a hand-over key: AES-256.
pub const HANDOVER_KEY_BYTES: usize = 32;

/// Tokens and timing of one signed-in session. Stored with these field names; times are written
/// in whole milliseconds (records from builds that wrote fractions still read).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The record's format, [`SESSION_VERSION`]; other versions are dropped on restore.
    pub version: u32,
    /// The access token, sent to the API as `Authorization: Bearer`.
    pub access_token: String,
    /// The refresh token (requested with `offline_access`); without one the session cannot be
    /// renewed.
    pub refresh_token: Option<String>,
    /// The latest ID token (raw JWT): the profile's claims and the sign-out hint. A refresh
    /// that brings none keeps the old one.
    pub id_token: Option<String>,
    /// The scopes granted (the token response's `scope`), if the provider said.
    pub scope: Option<String>,
    /// When the access token expires, in ms since the epoch (this machine's clock).
    #[serde(serialize_with = "whole_ms")]
    pub expires_at_ms: f64,
    /// When the current access token was obtained.
    #[serde(serialize_with = "whole_ms")]
    pub obtained_at_ms: f64,
    /// When the session was last refreshed, if ever.
    #[serde(serialize_with = "whole_ms_or_null")]
    pub refreshed_at_ms: Option<f64>,
    /// The key that seals this session's hand-over to its twin tabs (`core::tab_sync`): random
    /// per sign-in, kept across refreshes, copied with sessionStorage into a duplicated tab,
    /// never sent anywhere.
    pub handover_key: HandoverKey,
    /// Access tokens for the other configured APIs (`OidcConfig::resources`), by resource id,
    /// each redeemed with the refresh token on first use.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceToken>,
    /// When the person signed in (the code was redeemed); kept across refreshes. Absent in
    /// records from builds that did not keep it.
    #[serde(default, serialize_with = "whole_ms_or_null")]
    pub signed_in_at_ms: Option<f64>,
    /// When the refresh token stops working, where the provider said so
    /// (`refresh_token_expires_in`); the latest answer that said it wins.
    #[serde(default, serialize_with = "whole_ms_or_null")]
    pub refresh_expires_at_ms: Option<f64>,
    /// With DPoP (RFC 9449): the key this session's tokens are bound to. Its private half stays
    /// in the browser's key store, which no script can read it from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop: Option<DpopKeyRef>,
    /// The access token is a DPoP token (sent with a proof), not a Bearer one: with DPoP, a
    /// provider may bind the refresh token alone (RFC 9449 §5).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound: bool,
}

/// An access token for one of the other APIs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceToken {
    /// The access token, sent to that API as `Authorization: Bearer`.
    pub access_token: String,
    /// When it expires, in ms since the epoch (this machine's clock).
    #[serde(serialize_with = "whole_ms")]
    pub expires_at_ms: f64,
    /// When it was obtained.
    #[serde(serialize_with = "whole_ms")]
    pub obtained_at_ms: f64,
    /// A DPoP token, sent with a proof of the session's key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound: bool,
}

impl ResourceToken {
    /// Whether it is still worth sending at `now_ms`: not within the refresh lead of its expiry
    /// (the largest lead `refresh::refresh_delay_ms` allows), so it never expires in flight.
    pub fn is_fresh(&self, now_ms: f64) -> bool {
        let lifetime = self.expires_at_ms - self.obtained_at_ms;
        refresh::refresh_delay_ms(now_ms, self.expires_at_ms, lifetime, 1.0) > 0.0
    }
}

impl fmt::Debug for ResourceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceToken")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// An AES-256 key, stored as base64url. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HandoverKey(String);

impl HandoverKey {
    /// The key with these bytes (from the browser's CSPRNG).
    pub fn new(bytes: &[u8; HANDOVER_KEY_BYTES]) -> HandoverKey {
        HandoverKey(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The key's bytes; `None` if the stored text is not 32 bytes of base64url.
    pub fn bytes(&self) -> Option<[u8; HANDOVER_KEY_BYTES]> {
        let bytes = URL_SAFE_NO_PAD.decode(&self.0).ok()?;
        bytes.try_into().ok()
    }
}

impl fmt::Debug for HandoverKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HandoverKey(…)")
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("version", &self.version)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("refreshed_at_ms", &self.refreshed_at_ms)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A new session from the token response of a code exchange, with a fresh random
    /// `handover_key`.
    pub fn from_tokens(
        tokens: TokenSet,
        handover_key: &[u8; HANDOVER_KEY_BYTES],
        now_ms: f64,
    ) -> Session {
        Session {
            handover_key: HandoverKey::new(handover_key),
            version: SESSION_VERSION,
            signed_in_at_ms: Some(now_ms),
            refresh_expires_at_ms: tokens.refresh_expires_in_s.map(|s| now_ms + s * 1000.0),
            expires_at_ms: now_ms + tokens.expires_in_s * 1000.0,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            id_token: tokens.id_token,
            scope: tokens.scope,
            obtained_at_ms: now_ms,
            refreshed_at_ms: None,
            resources: BTreeMap::new(),
            dpop: None,
            dpop_bound: tokens.dpop_bound,
        }
    }

    /// The session with its tokens bound to `key` (the sign-in that made it proved with it).
    pub fn with_dpop_key(mut self, key: Option<DpopKeyRef>) -> Session {
        self.dpop = key;
        self
    }

    /// The session after a refresh: providers may omit a new refresh or ID token, and then the
    /// old ones stay (RFC 6749 §6, OIDC Core §12.2).
    pub fn refreshed(&self, tokens: TokenSet, now_ms: f64) -> Session {
        Session {
            version: SESSION_VERSION,
            signed_in_at_ms: self.signed_in_at_ms,
            refresh_expires_at_ms: (tokens.refresh_expires_in_s)
                .map(|s| now_ms + s * 1000.0)
                .or(self.refresh_expires_at_ms),
            expires_at_ms: now_ms + tokens.expires_in_s * 1000.0,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.or_else(|| self.refresh_token.clone()),
            id_token: tokens.id_token.or_else(|| self.id_token.clone()),
            scope: tokens.scope.or_else(|| self.scope.clone()),
            obtained_at_ms: now_ms,
            refreshed_at_ms: Some(now_ms),
            handover_key: self.handover_key.clone(),
            resources: self.resources.clone(),
            dpop: self.dpop.clone(),
            dpop_bound: tokens.dpop_bound,
        }
    }

    /// The session after a refresh grant for the resource `id`: its new access token is kept
    /// under `id`, a rotated refresh token replaces the old one, and the session's own access
    /// and ID tokens stay.
    pub fn with_resource_token(&self, id: &str, tokens: TokenSet, now_ms: f64) -> Session {
        let mut session = self.clone();
        if let Some(rotated) = tokens.refresh_token {
            session.refresh_token = Some(rotated);
        }
        session.resources.insert(
            id.to_string(),
            ResourceToken {
                access_token: tokens.access_token,
                expires_at_ms: now_ms + tokens.expires_in_s * 1000.0,
                obtained_at_ms: now_ms,
                dpop_bound: tokens.dpop_bound,
            },
        );
        session
    }

    /// The access token for the resource `id`, if there is one still fresh at `now_ms`.
    pub fn resource_token(&self, id: &str, now_ms: f64) -> Option<&str> {
        self.resources
            .get(id)
            .filter(|t| t.is_fresh(now_ms))
            .map(|t| t.access_token.as_str())
    }

    /// The stored record.
    pub fn to_json(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Restores a stored record, or `None` if it is corrupt or of another version.
    pub fn restore(text: &str) -> Option<Session> {
        let session: Session = serde_json::from_str(text).ok()?;
        (session.version == SESSION_VERSION
            && !session.access_token.is_empty()
            && session.expires_at_ms.is_finite()
            && session.handover_key.bytes().is_some())
        .then_some(session)
    }

    /// How long to wait before refreshing (see `refresh::refresh_delay_ms`).
    pub fn refresh_delay_ms(&self, now_ms: f64, jitter: f64) -> f64 {
        let lifetime = self.expires_at_ms - self.obtained_at_ms;
        refresh::refresh_delay_ms(now_ms, self.expires_at_ms, lifetime, jitter)
    }

    /// When the session ends whatever the app does, if that can be known: the access token's
    /// expiry when there is no refresh token; else the refresh token's end as the provider
    /// said it; else the sign-in plus `refresh_lifetime_ms`, the provider's known rule (Entra
    /// ends a single-page app's refresh token 24 hours after the sign-in).
    pub fn ends_at_ms(&self, refresh_lifetime_ms: Option<f64>) -> Option<f64> {
        if self.refresh_token.is_none() {
            return Some(self.expires_at_ms);
        }
        (self.refresh_expires_at_ms).or_else(|| Some(self.signed_in_at_ms? + refresh_lifetime_ms?))
    }

    /// Whether the access token has expired at `now_ms` (milliseconds since the epoch).
    pub fn is_access_token_expired(&self, now_ms: f64) -> bool {
        now_ms >= self.expires_at_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::{resource_tokens, tokens};

    const KEY: [u8; HANDOVER_KEY_BYTES] = [7; HANDOVER_KEY_BYTES];

    #[test]
    fn new_session_expires_after_expires_in() {
        let s = Session::from_tokens(tokens(), &KEY, 1_000.0);
        assert_eq!(s.expires_at_ms, 61_000.0);
        assert!(!s.is_access_token_expired(60_999.0));
        assert!(s.is_access_token_expired(61_000.0));
    }

    #[test]
    fn the_session_ends_when_the_provider_says_or_its_rule_does() {
        const DAY: f64 = 86_400_000.0;
        let s = Session::from_tokens(tokens(), &KEY, 1_000.0);
        assert_eq!(s.ends_at_ms(None), None, "not known");
        assert_eq!(s.ends_at_ms(Some(DAY)), Some(1_000.0 + DAY), "Entra's rule");
        let mut said = tokens();
        said.refresh_expires_in_s = Some(3_600.0);
        let s = Session::from_tokens(said.clone(), &KEY, 1_000.0);
        assert_eq!(
            s.ends_at_ms(Some(DAY)),
            Some(3_601_000.0),
            "the provider's word wins"
        );
        // A refresh keeps the sign-in time and takes a newer word, or keeps the old one.
        said.refresh_expires_in_s = Some(1_800.0);
        let r = s.refreshed(said, 2_000_000.0);
        assert_eq!(r.signed_in_at_ms, Some(1_000.0));
        assert_eq!(r.ends_at_ms(None), Some(3_800_000.0));
        let r = r.refreshed(tokens(), 2_500_000.0);
        assert_eq!(r.ends_at_ms(None), Some(3_800_000.0));
        // Without a refresh token the access token is all there is.
        let mut no_refresh = tokens();
        no_refresh.refresh_token = None;
        let s = Session::from_tokens(no_refresh, &KEY, 1_000.0);
        assert_eq!(s.ends_at_ms(Some(DAY)), Some(s.expires_at_ms));
        // A record from a build that kept neither time still restores, with nothing known.
        let mut old: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
        old.as_object_mut().unwrap().remove("signed_in_at_ms");
        old.as_object_mut().unwrap().remove("refresh_expires_at_ms");
        let restored = Session::restore(&old.to_string()).unwrap();
        assert_eq!(restored.signed_in_at_ms, None);
    }

    #[test]
    fn refresh_keeps_old_tokens_the_provider_did_not_replace() {
        let s = Session::from_tokens(tokens(), &KEY, 0.0);
        let mut t = tokens();
        t.refresh_token = None;
        t.id_token = None;
        t.access_token = "new".into();
        let r = s.refreshed(t, 5_000.0);
        assert_eq!(r.access_token, "new");
        assert_eq!(r.refresh_token.as_deref(), Some("r1"));
        assert_eq!(r.id_token, s.id_token);
        assert_eq!(r.refreshed_at_ms, Some(5_000.0));
        assert_eq!(r.expires_at_ms, 65_000.0);
    }

    #[test]
    fn stored_record_round_trips_and_bad_records_are_dropped() {
        let s = Session::from_tokens(tokens(), &KEY, 0.0);
        assert_eq!(Session::restore(&s.to_json()), Some(s.clone()));
        let old = s.to_json().replace("\"version\":2", "\"version\":1");
        assert_eq!(
            Session::restore(&old),
            None,
            "version 1 records are dropped"
        );
        assert_eq!(Session::restore("{not json"), None);
        assert_eq!(Session::restore("{\"version\":2}"), None);
        let key_text = URL_SAFE_NO_PAD.encode(KEY);
        for bad_key in ["", "c2hvcnQ", "not base64!"] {
            let keyless = s.to_json().replace(&key_text, bad_key);
            assert_eq!(Session::restore(&keyless), None, "key {bad_key:?}");
        }
        assert_eq!(s.handover_key.bytes(), Some(KEY));
        assert_eq!(format!("{:?}", s.handover_key), "HandoverKey(…)");
        assert!(!format!("{s:?}").contains("r1"), "Debug never shows tokens");
    }

    #[test]
    fn stored_record_keeps_its_field_names_and_reads_older_float_times() {
        let s = Session::from_tokens(tokens(), &KEY, 1_000.0);
        let text = s.to_json();
        assert!(
            text.starts_with(r#"{"version":2,"access_token":""#),
            "{text}"
        );
        assert!(
            text.ends_with(r#""scope":"openid API.call","expires_at_ms":61000,"obtained_at_ms":1000,"refreshed_at_ms":null,"handover_key":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","resources":{},"signed_in_at_ms":1000,"refresh_expires_at_ms":null}"#),
            "{text}"
        );
        // Records written by earlier builds carry times as floats (`61000.0`).
        let older = text
            .replace(":61000,", ":61000.0,")
            .replace(":1000,", ":1000.0,");
        assert_eq!(Session::restore(&older), Some(s));
    }

    #[test]
    fn a_resource_token_is_kept_beside_the_sessions_own() {
        let s = Session::from_tokens(tokens(), &KEY, 0.0);
        let alpha = resource_tokens("alpha-1", "r2");
        let with = s.with_resource_token("alpha", alpha, 1_000.0);
        assert_eq!(with.refresh_token.as_deref(), Some("r2"), "rotated");
        assert_eq!(
            with.access_token, s.access_token,
            "the session's own token stays"
        );
        assert_eq!(with.id_token, s.id_token);
        assert!(with.resource_token("alpha", 1_000.0).is_some());
        // Expires at 3,601,000; the largest lead is two minutes.
        assert!(with.resource_token("alpha", 3_480_000.0).is_some());
        assert!(
            with.resource_token("alpha", 3_482_000.0).is_none(),
            "within the lead"
        );
        assert!(with.resource_token("beta", 1_000.0).is_none());
        assert_eq!(Session::restore(&with.to_json()), Some(with.clone()));
        assert!(
            !format!("{:?}", with.resources).contains("ey"),
            "Debug hides the token"
        );
    }
}
