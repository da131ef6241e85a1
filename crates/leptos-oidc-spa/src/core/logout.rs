//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2): which hint identifies the
//! session to end, the URL that ends the provider's session and brings the person back, and the
//! `state` that proves, on the page the provider returns to, that this tab's sign-out came back.
//!
//! `state` is optional in the specification, but some providers redirect to
//! `post_logout_redirect_uri` only when the request carries one; so every end-session request
//! has a fresh one, kept for the tab and consumed by the return that repeats it.

use super::query;
use super::time::whole_ms;
use serde::{Deserialize, Serialize};

/// How long a sign-out waits for its return: a provider that asks "sign out?" waits for the
/// person, who may take a while to answer.
pub const SIGN_OUT_STATE_TTL_MS: f64 = 10.0 * 60.0 * 1000.0;

/// A sign-out on its way to the provider: kept per tab in sessionStorage under
/// `<storage_prefix>.signout` until the provider sends the person back with its `state`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingSignOut {
    /// The end-session request's `state` (§2), 128 random bits.
    pub state: String,
    /// When the sign-out started, in milliseconds since the epoch.
    #[serde(serialize_with = "whole_ms")]
    pub created_at_ms: f64,
}

/// What the page can say after a sign-out ([`Auth::signed_out`](crate::Auth::signed_out)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedOutNotice {
    /// The provider ended its session and sent the person back with this tab's `state`.
    Provider,
    /// Signed out of this app only: the provider has no end-session endpoint, so its session
    /// may let the next sign-in through without asking for a password.
    ThisAppOnly,
}

/// What a page load makes of a pending sign-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignOutReturn {
    /// The address carries this sign-out's `state`: the provider ended its session and sent the
    /// person back. The record is consumed, so the same address loaded again says nothing.
    Confirmed,
    /// The address does not carry it (another page, or a foreign `state`): the record waits.
    Waiting,
    /// Too old or from the future (the clock went back): the record is dropped.
    Expired,
}

impl PendingSignOut {
    /// What `query` (the page's query without its `?`) at `now_ms` makes of this sign-out. A
    /// `state` repeated in the query is not this one's return: providers send it once.
    pub fn on_return(&self, query: &str, now_ms: f64) -> SignOutReturn {
        if now_ms - self.created_at_ms > SIGN_OUT_STATE_TTL_MS
            || now_ms < self.created_at_ms - 60_000.0
        {
            return SignOutReturn::Expired;
        }
        let mut states = query::parse(query)
            .into_iter()
            .filter(|(name, _)| name == "state");
        match (states.next(), states.next()) {
            (Some((_, state)), None) if state == self.state => SignOutReturn::Confirmed,
            _ => SignOutReturn::Waiting,
        }
    }

    /// The stored record: a JSON object with the field names above.
    pub fn to_json(&self) -> String {
        // A string and a number always serialise.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored record; `None` if malformed.
    pub fn from_json(text: &str) -> Option<PendingSignOut> {
        serde_json::from_str(text).ok()
    }
}

/// What identifies the session to end. Entra prefers `logout_hint` (from the ID token's
/// `login_hint` claim) because it skips the account picker; otherwise `id_token_hint`.
pub enum LogoutHint<'a> {
    /// Sent as `logout_hint`: the ID token's `login_hint` claim (Entra).
    LoginHint(&'a str),
    /// Sent as `id_token_hint` (§2): the raw ID token last issued for the session.
    IdToken(&'a str),
    /// No hint: the provider may ask which account to sign out.
    None,
}

impl<'a> LogoutHint<'a> {
    /// The hint for a session with Entra's `login_hint` claim and the raw ID token, as far as
    /// it has them: the claim first (it skips Entra's account picker), else the ID token.
    pub fn choose(login_hint_claim: Option<&'a str>, id_token: Option<&'a str>) -> LogoutHint<'a> {
        match (login_hint_claim, id_token) {
            (Some(login_hint), _) => LogoutHint::LoginHint(login_hint),
            (None, Some(id_token)) => LogoutHint::IdToken(id_token),
            (None, None) => LogoutHint::None,
        }
    }
}

/// The end-session URL, or `None` when the provider has no end-session endpoint (then the app
/// signs out locally only). `state` is the [`PendingSignOut`]'s.
pub fn end_session_url(
    end_session_endpoint: Option<&str>,
    client_id: &str,
    post_logout_redirect_uri: &str,
    hint: LogoutHint<'_>,
    state: &str,
) -> Option<String> {
    let endpoint = end_session_endpoint?;
    let mut params: Vec<(&str, &str)> = Vec::new();
    match hint {
        LogoutHint::LoginHint(h) => params.push(("logout_hint", h)),
        LogoutHint::IdToken(t) => params.push(("id_token_hint", t)),
        LogoutHint::None => {}
    }
    params.push(("client_id", client_id));
    params.push(("post_logout_redirect_uri", post_logout_redirect_uri));
    params.push(("state", state));
    Some(query::append_to(endpoint, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_entra_logout_url() {
        let url = end_session_url(
            Some("https://login/t/oauth2/v2.0/logout"),
            "ui",
            "http://127.0.0.1:8080/",
            LogoutHint::IdToken("a.b.c"),
            "s-1",
        )
        .unwrap();
        assert_eq!(
            url,
            "https://login/t/oauth2/v2.0/logout?id_token_hint=a.b.c&client_id=ui&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F&state=s-1"
        );
        let url = end_session_url(
            Some("https://l/logout?x=1"),
            "ui",
            "/",
            LogoutHint::LoginHint("O.aaa"),
            "s",
        )
        .unwrap();
        assert!(url.starts_with("https://l/logout?x=1&logout_hint=O.aaa&client_id=ui"));
    }

    #[test]
    fn the_login_hint_claim_is_preferred_to_the_id_token() {
        assert!(matches!(
            LogoutHint::choose(Some("O.aaa"), Some("a.b.c")),
            LogoutHint::LoginHint("O.aaa")
        ));
        assert!(matches!(
            LogoutHint::choose(None, Some("a.b.c")),
            LogoutHint::IdToken("a.b.c")
        ));
        assert!(matches!(LogoutHint::choose(None, None), LogoutHint::None));
    }

    #[test]
    fn without_an_endpoint_there_is_no_url() {
        assert_eq!(
            end_session_url(None, "ui", "/", LogoutHint::None, "s"),
            None
        );
    }

    const T0: f64 = 1_700_000_000_000.0;

    fn pending() -> PendingSignOut {
        PendingSignOut {
            state: "Zm9vYmFyYmF6cXV4MTIzNA".into(),
            created_at_ms: T0,
        }
    }

    #[test]
    fn the_return_with_this_state_confirms_the_sign_out() {
        let p = pending();
        assert_eq!(
            p.on_return("state=Zm9vYmFyYmF6cXV4MTIzNA", T0 + 5_000.0),
            SignOutReturn::Confirmed
        );
        // Percent-encoded by the provider: the same value.
        let p = PendingSignOut {
            state: "a b".into(),
            ..pending()
        };
        assert_eq!(p.on_return("x=1&state=a%20b", T0), SignOutReturn::Confirmed);
    }

    #[test]
    fn a_foreign_missing_or_repeated_state_leaves_it_waiting() {
        let p = pending();
        for query in [
            "",
            "state=",
            "state=forged",
            "STATE=Zm9vYmFyYmF6cXV4MTIzNA",
            "state=Zm9vYmFyYmF6cXV4MTIzNA&state=Zm9vYmFyYmF6cXV4MTIzNA",
            "state=forged&state=Zm9vYmFyYmF6cXV4MTIzNA",
        ] {
            assert_eq!(p.on_return(query, T0), SignOutReturn::Waiting, "{query}");
        }
    }

    #[test]
    fn an_old_sign_out_expires_even_when_its_state_comes_back() {
        let p = pending();
        let query = "state=Zm9vYmFyYmF6cXV4MTIzNA";
        assert_eq!(
            p.on_return(query, T0 + SIGN_OUT_STATE_TTL_MS),
            SignOutReturn::Confirmed
        );
        assert_eq!(
            p.on_return(query, T0 + SIGN_OUT_STATE_TTL_MS + 1.0),
            SignOutReturn::Expired
        );
        assert_eq!(
            p.on_return(query, T0 - 60_001.0),
            SignOutReturn::Expired,
            "the clock went back"
        );
    }

    #[test]
    fn the_record_round_trips_and_refuses_garbage() {
        let p = pending();
        assert_eq!(PendingSignOut::from_json(&p.to_json()), Some(p));
        assert_eq!(PendingSignOut::from_json("{\"state\":1}"), None);
        assert_eq!(PendingSignOut::from_json("not json"), None);
    }
}
