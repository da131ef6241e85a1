//! What the user menu and the profile panel say about the person and their session, as text:
//! the avatar's initials, the scopes granted, the email when it adds something, the access
//! token's countdown, and when the session ends and whether to say so yet.

use crate::duration::countdown;

/// Up to two initials of `name`, for an avatar: the first letter of each of its first two words
/// (`élodie martin` gives `ém`). The avatar's style upper-cases them (`text-transform:
/// uppercase`, so `ÉM`): the browser knows every script's case rules, and the language's, which
/// Unicode's tables in the wasm would not (they cost 9.7 KB gzip).
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect()
}

/// The scopes granted, space-separated, or "none".
pub fn scopes(granted: &[String]) -> String {
    if granted.is_empty() {
        "none".to_string()
    } else {
        granted.join(" ")
    }
}

/// The email to list under the username: none when it is the username again.
pub fn email_besides(email: Option<String>, username: Option<&str>) -> Option<String> {
    email.filter(|email| Some(email.as_str()) != username)
}

/// The access token's line: "refreshing…" while a refresh is under way, else the time left
/// ("expires in 4 min 05 s"), or "expired" once it is past.
pub fn expiry(refreshing: bool, expires_at_ms: f64, now_ms: f64) -> String {
    let left = expires_at_ms - now_ms;
    if refreshing {
        "refreshing…".to_string()
    } else if left <= 0.0 {
        "expired".to_string()
    } else {
        format!("expires in {}", countdown(left))
    }
}

/// The session's end, for the profile panel: "in 3 h 12 min", "with the access token, in
/// 4 min 05 s" without a refresh token, "now" once past, or "not known" when the provider
/// neither says nor has a known rule.
pub fn session_end(ends_at_ms: Option<f64>, renewable: bool, now_ms: f64) -> String {
    match ends_at_ms {
        None => "not known (the provider does not say)".to_string(),
        Some(end) if end <= now_ms => "now".to_string(),
        Some(end) if renewable => format!("in {}", countdown(end - now_ms)),
        Some(end) => format!(
            "with the access token, in {} (no refresh token)",
            countdown(end - now_ms)
        ),
    }
}

/// Whether the "Stay signed in" notice is due: the session's end is known, still ahead, and at
/// most `lead_ms` away.
pub fn session_end_near(ends_at_ms: Option<f64>, lead_ms: f64, now_ms: f64) -> bool {
    ends_at_ms.is_some_and(|end| end > now_ms && end - now_ms <= lead_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_end_is_said_plainly_and_the_notice_comes_within_its_lead() {
        const MIN: f64 = 60_000.0;
        assert_eq!(
            session_end(None, true, 0.0),
            "not known (the provider does not say)"
        );
        assert_eq!(session_end(Some(192.0 * MIN), true, 0.0), "in 3 h 12 min");
        assert_eq!(
            session_end(Some(65_000.0), false, 0.0),
            "with the access token, in 1 min 05 s (no refresh token)"
        );
        assert_eq!(session_end(Some(10.0), true, 10.0), "now");
        assert!(!session_end_near(None, 10.0 * MIN, 0.0));
        assert!(!session_end_near(Some(11.0 * MIN), 10.0 * MIN, 0.0));
        assert!(session_end_near(Some(10.0 * MIN), 10.0 * MIN, 0.0));
        assert!(session_end_near(Some(1.0), 10.0 * MIN, 0.0));
        assert!(
            !session_end_near(Some(0.0), 10.0 * MIN, 0.0),
            "past: the end itself says so"
        );
    }

    #[test]
    fn initials_are_the_first_letters_of_two_words_in_any_script() {
        assert_eq!(initials("élodie martin"), "ém");
        assert_eq!(initials("Øyvind"), "Ø");
        assert_eq!(initials("ß"), "ß", "the style upper-cases it to SS");
        assert_eq!(initials("ada author"), "aa");
        assert_eq!(initials("  Jean-Luc   Picard  Jr "), "JP", "two at most");
        assert_eq!(
            initials("李 小龙"),
            "李小",
            "scripts without case stay as they are"
        );
        assert_eq!(initials(""), "");
        assert_eq!(initials(" \t\n "), "");
    }

    #[test]
    fn scopes_or_none() {
        assert_eq!(scopes(&[]), "none");
        let granted = ["API.call".to_string(), "User.Read".to_string()];
        assert_eq!(scopes(&granted), "API.call User.Read");
    }

    #[test]
    fn the_email_only_when_it_is_not_the_username() {
        let email = || Some("ada@example.org".to_string());
        assert_eq!(email_besides(email(), Some("ada@example.org")), None);
        assert_eq!(email_besides(email(), Some("ada")), email());
        assert_eq!(email_besides(email(), None), email());
        assert_eq!(email_besides(None, Some("ada")), None);
    }

    #[test]
    fn expiry_counts_down_unless_refreshing() {
        assert_eq!(expiry(false, 65_000.0, 0.0), "expires in 1 min 05 s");
        assert_eq!(expiry(false, 1_000.0, 2_000.0), "expired");
        assert_eq!(expiry(true, 65_000.0, 0.0), "refreshing…");
    }
}
