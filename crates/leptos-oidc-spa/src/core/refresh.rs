//! When to refresh, and what a failed grant means. The schedule is pure arithmetic on times in
//! milliseconds (the browser layer supplies the clock and the jitter); a failure is classified
//! once, here, for the session's refresh and every other API's grant alike.

use super::entra;
use super::token::TokenError;

/// Refresh this long before expiry at least (plus up to the same again as jitter), so tabs and
/// users sharing a token do not all refresh in the same second.
pub const BASE_LEAD_MS: f64 = 60_000.0;
/// For short-lived tokens the lead is at most this fraction of the lifetime (plus jitter).
pub const SHORT_TOKEN_LEAD_FRACTION: f64 = 0.2;

/// How long to wait before refreshing a token that expires at `expires_at_ms` after a lifetime of
/// `lifetime_ms`; `jitter` in `[0, 1)` spreads the lead over 60–120 s (or 20–40 % of a short
/// lifetime). Never negative: an overdue token is refreshed at once.
pub fn refresh_delay_ms(now_ms: f64, expires_at_ms: f64, lifetime_ms: f64, jitter: f64) -> f64 {
    let jitter = jitter.clamp(0.0, 1.0);
    let lead = (BASE_LEAD_MS * (1.0 + jitter))
        .min(lifetime_ms * SHORT_TOKEN_LEAD_FRACTION * (1.0 + jitter));
    (expires_at_ms - lead - now_ms).max(0.0)
}

/// Delay before the `attempt`-th retry (from 0) of a refresh that failed on the network:
/// 2 s, 4 s, 8 s … capped at 60 s.
pub fn retry_backoff_ms(attempt: u32) -> f64 {
    (2_000.0 * 2f64.powi(attempt.min(5) as i32)).min(60_000.0)
}

/// What a failed grant at the token endpoint (the session's refresh, or a token for another
/// API) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantFailure {
    /// Possibly transient (no answer, a server error, `temporarily_unavailable`): try again.
    Retry,
    /// The person must act at the sign-in page: consent to the scopes asked for (Entra
    /// `AADSTS65001`, OpenID `consent_required`), or more (`interaction_required`, Entra's
    /// multi-factor codes such as `AADSTS50076`): an interactive sign-in for them fixes it.
    ConsentRequired,
    /// The provider will not issue tokens for the scopes asked for (`invalid_scope`,
    /// `invalid_target`, `unauthorized_client`, …).
    Refused,
    /// The refresh token itself is no longer accepted (`invalid_grant`: expired, revoked, spent,
    /// Entra's 24-hour SPA limit `AADSTS700084`): only signing in again helps.
    SessionEnded,
}

/// Classifies a failed grant from the token endpoint's HTTP status and its answer (RFC 6749
/// §5.2). A 5xx is transient whatever its body says; so is an answer without an OAuth error,
/// unless its status is the 400 or 401 that RFC 6749 gives a refused grant.
pub fn classify(status: u16, error: &TokenError) -> GrantFailure {
    if status >= 500 {
        return GrantFailure::Retry;
    }
    let description = error.oauth_description();
    if entra::says_consent_missing(description) || entra::says_interaction_required(description) {
        return GrantFailure::ConsentRequired;
    }
    match error.oauth_error() {
        // RFC 6749 §5.2 answers a bad grant with 400 (401 for the client) and an `error`; a
        // provider that leaves the body out (Glewlwyd, for a spent refresh token) still means
        // no: retrying the same token until the access token expires would only delay that.
        None if status == 400 || status == 401 => GrantFailure::SessionEnded,
        None | Some("temporarily_unavailable") => GrantFailure::Retry,
        Some("consent_required" | "interaction_required") => GrantFailure::ConsentRequired,
        Some("invalid_grant" | "login_required") => GrantFailure::SessionEnded,
        Some(_) => GrantFailure::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_long_tokens_refresh_one_to_two_minutes_early() {
        let hour = 3_600_000.0;
        assert_eq!(refresh_delay_ms(0.0, hour, hour, 0.0), hour - 60_000.0);
        assert_eq!(
            refresh_delay_ms(0.0, hour, hour, 0.999_999_9).round(),
            (hour - 120_000.0).round()
        );
    }

    #[test]
    fn short_tokens_scale_the_lead_down() {
        // A 30 s token refreshes 6-12 s before expiry, not at once.
        assert_eq!(refresh_delay_ms(0.0, 30_000.0, 30_000.0, 0.0), 24_000.0);
        assert_eq!(refresh_delay_ms(0.0, 30_000.0, 30_000.0, 0.5), 21_000.0);
    }

    #[test]
    fn overdue_tokens_refresh_immediately() {
        assert_eq!(refresh_delay_ms(100_000.0, 30_000.0, 30_000.0, 0.0), 0.0);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(retry_backoff_ms(0), 2_000.0);
        assert_eq!(retry_backoff_ms(1), 4_000.0);
        assert_eq!(retry_backoff_ms(10), 60_000.0);
    }

    fn provider(error: &str, description: Option<&str>) -> TokenError {
        TokenError::Provider {
            error: error.into(),
            description: description.map(str::to_string),
        }
    }

    #[test]
    fn each_failure_is_classified_once_from_status_and_answer() {
        let entra_consent = "AADSTS65001: The user or administrator has not consented to use the application with ID 'x'.";
        let malformed = TokenError::Malformed("not JSON".into());
        let cases = [
            (
                400,
                provider("invalid_grant", Some(entra_consent)),
                GrantFailure::ConsentRequired,
            ),
            (
                400,
                provider("consent_required", None),
                GrantFailure::ConsentRequired,
            ),
            (
                400,
                provider("interaction_required", None),
                GrantFailure::ConsentRequired,
            ),
            (
                400,
                provider("invalid_grant", Some("AADSTS700084: expired")),
                GrantFailure::SessionEnded,
            ),
            (
                400,
                provider("invalid_grant", None),
                GrantFailure::SessionEnded,
            ),
            // Entra's answer when a Conditional Access policy wants MFA (suberror basic_action).
            (
                400,
                provider("invalid_grant", Some("AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication")),
                GrantFailure::ConsentRequired,
            ),
            (
                400,
                provider("login_required", None),
                GrantFailure::SessionEnded,
            ),
            (
                400,
                provider("invalid_scope", Some("AADSTS65005: no permission")),
                GrantFailure::Refused,
            ),
            (400, provider("invalid_target", None), GrantFailure::Refused),
            (400, provider("invalid_client", None), GrantFailure::Refused),
            (
                400,
                provider("temporarily_unavailable", None),
                GrantFailure::Retry,
            ),
            (503, provider("invalid_grant", None), GrantFailure::Retry),
            (500, malformed.clone(), GrantFailure::Retry),
            (400, malformed.clone(), GrantFailure::SessionEnded),
            (401, malformed.clone(), GrantFailure::SessionEnded),
            (429, malformed.clone(), GrantFailure::Retry),
            (408, malformed.clone(), GrantFailure::Retry),
            (200, malformed, GrantFailure::Retry),
        ];
        for (status, error, expected) in cases {
            assert_eq!(classify(status, &error), expected, "{status} {error:?}");
        }
    }
}
