//! When to refresh, and what a failed refresh means. Pure arithmetic on times in milliseconds;
//! the browser layer supplies the clock and the jitter.

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

/// What the outcome of a failed refresh means for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshFailure {
    /// The provider will not refresh this session any more: sign in again.
    SessionEnded,
    /// Possibly transient: retry with backoff while the access token is valid.
    Retry,
}

/// Classifies a token endpoint OAuth error code (`None` = network or server failure).
pub fn classify(oauth_error: Option<&str>) -> RefreshFailure {
    match oauth_error {
        Some("temporarily_unavailable") | None => RefreshFailure::Retry,
        // invalid_grant (expired, revoked, Entra's 24-hour SPA limit AADSTS700084),
        // interaction_required, login_required, consent_required, invalid_client, ...
        Some(_) => RefreshFailure::SessionEnded,
    }
}

/// What the failure of a refresh grant for one of the other APIs means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceFailure {
    /// The person has not consented to that API (Entra `AADSTS65001`, OpenID
    /// `consent_required`/`interaction_required`): an interactive sign-in for its scopes fixes
    /// it. The refresh token is still good for the others.
    ConsentRequired,
    /// The provider will not issue tokens for that API (not permitted, unknown scope): the other
    /// APIs are unaffected.
    Refused,
    /// The refresh token itself is no longer accepted: the whole session is over.
    SessionEnded,
    /// Possibly transient (network, server): the next call tries again.
    Retry,
}

/// Classifies a failed refresh grant for another API from the token endpoint's OAuth error code
/// and description (`None` = network or server failure).
pub fn classify_resource(oauth_error: Option<&str>, description: Option<&str>) -> ResourceFailure {
    let consent = description.is_some_and(|d| d.starts_with("AADSTS65001"));
    match oauth_error {
        None | Some("temporarily_unavailable") => ResourceFailure::Retry,
        Some("consent_required" | "interaction_required") => ResourceFailure::ConsentRequired,
        Some(_) if consent => ResourceFailure::ConsentRequired,
        // The refresh token is spent, revoked or expired (Entra AADSTS700084, 70008, ...).
        Some("invalid_grant" | "login_required") => ResourceFailure::SessionEnded,
        // invalid_scope, invalid_target, invalid_resource, unauthorized_client, ...
        Some(_) => ResourceFailure::Refused,
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

    #[test]
    fn only_transient_failures_are_retried() {
        assert_eq!(classify(None), RefreshFailure::Retry);
        assert_eq!(
            classify(Some("temporarily_unavailable")),
            RefreshFailure::Retry
        );
        assert_eq!(
            classify(Some("invalid_grant")),
            RefreshFailure::SessionEnded
        );
        assert_eq!(
            classify(Some("interaction_required")),
            RefreshFailure::SessionEnded
        );
    }

    #[test]
    fn a_resource_grant_failure_ends_only_what_it_must() {
        let entra_consent = "AADSTS65001: The user or administrator has not consented to use the application with ID 'x'.";
        for (error, description, expected) in [
            (
                Some("invalid_grant"),
                Some(entra_consent),
                ResourceFailure::ConsentRequired,
            ),
            (
                Some("consent_required"),
                None,
                ResourceFailure::ConsentRequired,
            ),
            (
                Some("interaction_required"),
                None,
                ResourceFailure::ConsentRequired,
            ),
            (
                Some("invalid_grant"),
                Some("AADSTS700084: expired"),
                ResourceFailure::SessionEnded,
            ),
            (Some("invalid_grant"), None, ResourceFailure::SessionEnded),
            (
                Some("invalid_scope"),
                Some("AADSTS65005: no permission"),
                ResourceFailure::Refused,
            ),
            (Some("invalid_target"), None, ResourceFailure::Refused),
            (
                Some("temporarily_unavailable"),
                None,
                ResourceFailure::Retry,
            ),
            (None, None, ResourceFailure::Retry),
        ] {
            assert_eq!(
                classify_resource(error, description),
                expected,
                "{error:?} {description:?}"
            );
        }
    }
}
