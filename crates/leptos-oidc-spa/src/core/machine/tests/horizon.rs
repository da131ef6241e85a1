//! When a session ends whatever the app does: the refresh token's end (as the provider said it,
//! or by its known rule), or, without a refresh token, the access token's expiry, which the
//! session lasts until.

use super::*;
use std::time::Duration;

const HOUR: f64 = 60.0 * MINUTE;

fn ends_at(m: &Machine) -> Option<f64> {
    match m.state() {
        AuthState::SignedIn(s) => s.ends_at_ms,
        other => panic!("not signed in: {other:?}"),
    }
}

/// Signed in with a one-hour access token and no refresh token.
fn without_refresh_token() -> Machine {
    let mut s = session("r1", T0.ms);
    s.refresh_token = None;
    let mut m = machine();
    let effects = m.step(
        Event::Boot {
            stored: Some(s),
            callback: None,
            at_callback_path: false,
        },
        T0,
    );
    assert_eq!(
        effects,
        vec![Effect::SetTimer { delay_ms: HOUR }],
        "the timer marks the access token's expiry, not a refresh"
    );
    m
}

#[test]
fn the_end_is_the_providers_word_or_its_rule_or_unknown() {
    let mut said = session("r1", T0.ms);
    said.refresh_expires_at_ms = Some(T0.ms + 2.0 * HOUR);
    let mut m = machine();
    m.step(
        Event::Boot {
            stored: Some(said),
            callback: None,
            at_callback_path: false,
        },
        T0,
    );
    assert_eq!(ends_at(&m), Some(T0.ms + 2.0 * HOUR));

    assert_eq!(ends_at(&signed_in("r1")), None, "no word and no rule");

    let mut entra = Machine::new(
        OidcConfig::new("https://login.microsoftonline.com/t/v2.0", "ui")
            .with_refresh_lifetime(Duration::from_secs(24 * 3600)),
    );
    entra.step(
        Event::Boot {
            stored: Some(session("r1", T0.ms)),
            callback: None,
            at_callback_path: false,
        },
        T0,
    );
    assert_eq!(ends_at(&entra), Some(T0.ms + 24.0 * HOUR));
}

#[test]
fn without_a_refresh_token_the_session_lasts_until_its_access_token_expires() {
    let mut m = without_refresh_token();
    assert_eq!(ends_at(&m), Some(T0.ms + HOUR));
    assert!(matches!(m.state(), AuthState::SignedIn(s) if !s.renewable));

    // An API's 401 before then: nothing to renew with; the caller hears no, the session stays.
    let effects = m.step(
        Event::RefreshRequested { waiter: true },
        at(T0.ms + 10.0 * MINUTE),
    );
    assert_eq!(
        effects,
        vec![
            Effect::ReleaseWaiters { refreshed: false },
            Effect::SetTimer {
                delay_ms: 50.0 * MINUTE
            }
        ]
    );
    assert_eq!(S::of(m.state()), S::SignedIn);

    // Another API's token cannot be had, and that ends nothing.
    let effects = m.step(wanted("alpha"), at(T0.ms + 10.0 * MINUTE));
    assert!(matches!(
        effects.as_slice(),
        [Effect::ReleaseResourceWaiters { outcome: ResourceOutcome::Failed(why), .. }]
            if why.contains("no refresh token")
    ));
    assert_eq!(S::of(m.state()), S::SignedIn);

    // At the end, the session ends and says why.
    m.step(Event::TimerFired, at(T0.ms + HOUR));
    match m.state() {
        AuthState::SessionEnded { error, .. } => {
            assert!(error.to_string().contains("no refresh token"), "{error}")
        }
        other => panic!("expected the end, got {other:?}"),
    }
}

#[test]
fn a_claims_challenge_without_a_refresh_token_needs_the_person() {
    let mut m = without_refresh_token();
    let effects = m.step(
        Event::ClaimsChallenged {
            target: Target::Session,
            claims: "{}".into(),
        },
        T0,
    );
    assert_eq!(effects, vec![Effect::ReleaseWaiters { refreshed: false }]);
    let refusal = m.take_claims_refusal(&Target::Session).unwrap();
    assert!(refusal.needs_person);
    assert_eq!(m.take_claims_refusal(&Target::Session), None, "taken once");
}

#[test]
fn stay_signed_in_tries_silently_as_the_same_person_then_with_the_page() {
    // A sign-in back to the same view as the same person, silent or with the provider's page.
    let sign_in = |silent| {
        vec![Effect::BeginSignIn {
            return_to: "/views/studies".into(),
            login_hint: Some("rita@x".into()),
            resource: None,
            step_up: None,
            silent,
        }]
    };
    let mut m = signed_in("r1");
    let effects = m.step(
        Event::StaySignedInRequested {
            return_to: "/views/studies".into(),
        },
        T0,
    );
    assert_eq!(effects, sign_in(true));
    // Back on the callback page: the provider wants the person, so it is asked with its page.
    let mut m = machine();
    m.step(
        Event::Boot {
            stored: None,
            callback: Some("error=login_required&state=s".into()),
            at_callback_path: true,
        },
        T0,
    );
    let effects = m.step(
        Event::SignInCompleted(Err(AuthError::SilentSignInDeclined {
            return_to: "/views/studies".into(),
            login_hint: Some("rita@x".into()),
        })),
        T0,
    );
    assert_eq!(effects, sign_in(false));
    assert_eq!(S::of(m.state()), S::Redirecting);
    // Nobody signed in: nothing to stay signed in to.
    let mut m = signed_out();
    let stay = Event::StaySignedInRequested {
        return_to: "/".into(),
    };
    assert_eq!(m.step(stay, T0), vec![]);
}
