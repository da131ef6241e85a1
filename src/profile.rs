//! What the user menu and the profile panel say about the person and their session, as text:
//! the avatar's initials, the scopes granted, the email when it adds something, and the access
//! token's countdown.

use crate::duration::countdown;

/// Up to two initials of `name`, upper-cased, for an avatar: `élodie martin` gives `ÉM`. A letter
/// whose upper case is longer stays whole (`ß` gives `SS`).
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
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
/// ("expires in 4 min 05 s"; once past, "expires in expired").
pub fn expiry(refreshing: bool, expires_at_ms: f64, now_ms: f64) -> String {
    if refreshing {
        "refreshing…".to_string()
    } else {
        format!("expires in {}", countdown(expires_at_ms - now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_are_upper_case_in_any_script() {
        assert_eq!(initials("élodie martin"), "ÉM");
        assert_eq!(initials("Øyvind"), "Ø");
        assert_eq!(
            initials("ß"),
            "SS",
            "a letter whose upper case is two letters"
        );
        assert_eq!(initials("ada author"), "AA");
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
        assert_eq!(expiry(false, 1_000.0, 2_000.0), "expires in expired");
        assert_eq!(expiry(true, 65_000.0, 0.0), "refreshing…");
    }
}
