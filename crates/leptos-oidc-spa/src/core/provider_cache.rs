//! The provider's public documents (the discovery document and the JWKS) kept for the tab, so
//! the callback page needs the token endpoint and nothing else: they are fetched while the
//! person is still at the sign-in page and stored with their URL and the time they were fetched.
//! A stored copy is used only for the same URL and while it is younger than [`MAX_AGE_MS`]; it
//! is read with the same parser and checks as a fresh one, and the client drops it when those
//! checks or a sign-in that used it fail, or when a token names a key it does not hold.

use super::time::whole_ms;
use serde::{Deserialize, Serialize};

/// How long a stored copy is used: an hour. Long enough for a sign-in with MFA and a password
/// reset; short enough that a provider's configuration change reaches the tab soon. A key
/// rollover does not wait for it: an unknown `kid` always fetches the key set again.
pub const MAX_AGE_MS: f64 = 60.0 * 60.0 * 1000.0;

/// One provider document as fetched: where from, when, and the response body unparsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CachedDocument {
    /// The URL it was fetched from.
    pub url: String,
    /// When it was fetched (milliseconds since the epoch).
    #[serde(serialize_with = "whole_ms")]
    pub fetched_at_ms: f64,
    /// The response body, to be parsed and checked again on each use.
    pub body: String,
}

impl CachedDocument {
    /// A copy of `body`, fetched from `url` at `now_ms`.
    pub fn new(url: &str, body: String, now_ms: f64) -> CachedDocument {
        CachedDocument {
            url: url.to_string(),
            fetched_at_ms: now_ms,
            body,
        }
    }

    /// The body, if this copy came from `url` and is still fresh at `now_ms`. A copy from the
    /// future (the clock went back) is not fresh.
    pub fn fresh_body(&self, url: &str, now_ms: f64) -> Option<&str> {
        let age = now_ms - self.fetched_at_ms;
        (self.url == url && (0.0..=MAX_AGE_MS).contains(&age)).then_some(self.body.as_str())
    }

    /// The stored record.
    pub fn to_json(&self) -> String {
        // A struct of strings and a number always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored record; `None` if it is not one.
    pub fn from_json(text: &str) -> Option<CachedDocument> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://login.example/t/v2.0/.well-known/openid-configuration";

    fn copy() -> CachedDocument {
        CachedDocument::new(URL, r#"{"issuer":"x"}"#.into(), 1_000_000.0)
    }

    #[test]
    fn a_fresh_copy_of_the_same_url_is_used() {
        assert_eq!(
            copy().fresh_body(URL, 1_000_000.0),
            Some(r#"{"issuer":"x"}"#)
        );
        assert!(copy().fresh_body(URL, 1_000_000.0 + MAX_AGE_MS).is_some());
    }

    #[test]
    fn an_old_copy_a_copy_from_the_future_or_of_another_url_is_not() {
        assert_eq!(copy().fresh_body(URL, 1_000_001.0 + MAX_AGE_MS), None);
        assert_eq!(copy().fresh_body(URL, 999_999.0), None);
        assert_eq!(
            copy().fresh_body(&format!("{URL}?appid=1"), 1_000_000.0),
            None
        );
        assert_eq!(copy().fresh_body(URL, f64::NAN), None);
    }

    #[test]
    fn the_record_round_trips_and_junk_is_not_a_record() {
        let text = copy().to_json();
        assert_eq!(
            text,
            format!(r#"{{"url":"{URL}","fetched_at_ms":1000000,"body":"{{\"issuer\":\"x\"}}"}}"#)
        );
        assert_eq!(CachedDocument::from_json(&text), Some(copy()));
        for junk in ["", "null", "{}", r#"{"url":1,"fetched_at_ms":0,"body":""}"#] {
            assert_eq!(CachedDocument::from_json(junk), None, "{junk}");
        }
    }
}
