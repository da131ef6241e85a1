//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2): which hint identifies the
//! session to end, and the URL that ends the provider's session and brings the person back.

use super::query;

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
/// signs out locally only).
pub fn end_session_url(
    end_session_endpoint: Option<&str>,
    client_id: &str,
    post_logout_redirect_uri: &str,
    hint: LogoutHint<'_>,
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
        )
        .unwrap();
        assert_eq!(
            url,
            "https://login/t/oauth2/v2.0/logout?id_token_hint=a.b.c&client_id=ui&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F"
        );
        let url = end_session_url(
            Some("https://l/logout?x=1"),
            "ui",
            "/",
            LogoutHint::LoginHint("O.aaa"),
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
        assert_eq!(end_session_url(None, "ui", "/", LogoutHint::None), None);
    }
}
