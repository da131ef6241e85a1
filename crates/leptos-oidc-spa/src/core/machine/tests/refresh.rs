//! The refresh: its schedule, catching up after sleep, one at a time with its waiters, backoff, and the end of a session.

use super::*;

#[test]
fn refresh_schedule_lead_jitter_and_short_tokens() {
    let mut m = machine();
    let jitters = [(0.0, 59.0), (0.5, 58.5), (0.999, 58.0)];
    for (jitter, minutes) in jitters {
        let effects = m.step(
            Event::Boot {
                stored: Some(session("r", T0.ms)),
                callback: None,
                at_callback_path: false,
            },
            Now { ms: T0.ms, jitter },
        );
        let Effect::SetTimer { delay_ms } = effects[0] else {
            panic!("{effects:?}")
        };
        assert!(
            (delay_ms - minutes * MINUTE).abs() < 100.0,
            "{jitter}: {delay_ms}"
        );
    }
}

#[test]
fn wake_up_catches_up_only_when_due_and_visible() {
    let cases = [
        // (minutes after sign-in, visible, refresh starts)
        (10.0, true, false),
        (57.9, true, false),
        (58.1, true, true),
        (58.1, false, false),
        (3.0 * 60.0, true, true),
    ];
    for (minutes, visible, starts) in cases {
        let mut m = signed_in("r");
        let effects = m.step(Event::WokeUp { visible }, at(T0.ms + minutes * MINUTE));
        assert_eq!(
            effects == vec![Effect::AcquireRefreshLock],
            starts,
            "{minutes} min, visible {visible}: {effects:?}"
        );
    }
}

#[test]
fn one_refresh_at_a_time_and_its_waiters() {
    let mut m = signed_in("r1");
    // Two API calls get a 401: one refresh, both wait.
    assert_eq!(
        m.step(Event::RefreshRequested { waiter: true }, T0),
        vec![Effect::AcquireRefreshLock]
    );
    assert!(refreshing(&m));
    assert!(m
        .step(Event::RefreshRequested { waiter: true }, T0)
        .is_empty());
    assert!(
        m.step(Event::TimerFired, T0).is_empty(),
        "the timer joins it too"
    );
    let redeemed = match m.step(Event::RefreshLockHeld, T0).as_slice() {
        [Effect::Redeem { session: s, .. }] => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(redeemed.refresh_token.as_deref(), Some("r1"));

    let renewed = session("r2", T0.ms + MINUTE);
    let effects = m.step(
        Event::RefreshFinished(Ok(renewed.clone())),
        at(T0.ms + MINUTE),
    );
    assert_eq!(
        effects,
        vec![
            Effect::Broadcast {
                message: TabMessage::Refreshed {
                    previous: fingerprint(&redeemed),
                    session: renewed.clone()
                },
                key: redeemed.handover_key.clone(),
            },
            Effect::SetTimer {
                delay_ms: 58.5 * MINUTE
            },
            Effect::ReleaseWaiters { refreshed: true },
            Effect::Persist(renewed.clone()),
        ]
    );
    assert!(!refreshing(&m));
    assert_eq!(m.session(), Some(&renewed));
    // The button asks for a refresh without waiting: no waiter is released.
    let mut m = signed_in("r1");
    let _ = to_token_endpoint(&mut m, Event::RefreshRequested { waiter: false });
    let effects = m.step(Event::RefreshFinished(Ok(session("r2", T0.ms))), T0);
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::ReleaseWaiters { .. })));
}

#[test]
fn without_a_session_waiters_are_told_no_at_once() {
    let mut m = signed_out();
    assert_eq!(
        m.step(Event::RefreshRequested { waiter: true }, T0),
        vec![Effect::ReleaseWaiters { refreshed: false }]
    );
}

#[test]
fn network_failures_back_off_while_the_token_is_valid() {
    let mut m = signed_in("r");
    let mut delays = Vec::new();
    for _ in 0..7 {
        let _ = to_token_endpoint(&mut m, Event::TimerFired);
        let effects = m.step(Event::RefreshFinished(Err(network_failure())), T0);
        let Effect::SetTimer { delay_ms } = effects[0] else {
            panic!("{effects:?}")
        };
        delays.push(delay_ms / 1000.0);
        let AuthState::SignedIn(s) = m.state() else {
            panic!("still signed in")
        };
        assert!(s.refresh_problem.as_deref().unwrap().contains("no answer"));
        assert!(!s.refreshing);
    }
    assert_eq!(delays, vec![2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]);
    // A success resets the backoff and clears the problem.
    let _ = to_token_endpoint(&mut m, Event::TimerFired);
    m.step(Event::RefreshFinished(Ok(session("r2", T0.ms))), T0);
    let _ = to_token_endpoint(&mut m, Event::TimerFired);
    let effects = m.step(Event::RefreshFinished(Err(network_failure())), T0);
    assert_eq!(effects[0], Effect::SetTimer { delay_ms: 2_000.0 });
}

#[test]
fn a_refresh_that_fails_for_good_ends_the_session_with_a_hint() {
    let cases = [
        // (failure, minutes after sign-in)
        (invalid_grant(), 10.0),
        (network_failure(), 61.0),
    ];
    for (failure, minutes) in cases {
        let mut m = signed_in("r");
        let _ = to_token_endpoint(&mut m, Event::RefreshRequested { waiter: true });
        let effects = m.step(
            Event::RefreshFinished(Err(failure.clone())),
            at(T0.ms + minutes * MINUTE),
        );
        assert_eq!(
            effects,
            vec![
                Effect::CancelTimer,
                Effect::ClearSession,
                Effect::ReleaseWaiters { refreshed: false }
            ],
            "{failure:?}"
        );
        let AuthState::SessionEnded { login_hint, error } = m.state() else {
            panic!("ended: {:?}", m.state())
        };
        assert_eq!(login_hint.as_deref(), Some("rita@x"));
        assert!(error.to_string().starts_with("Please sign in again."));
        assert_eq!(m.session(), None);
        // Signing in again carries the hint.
        assert_eq!(
            m.step(
                Event::SignInRequested {
                    return_to: "/".into()
                },
                T0
            ),
            vec![Effect::BeginSignIn {
                return_to: "/".into(),
                login_hint: Some("rita@x".into()),
                resource: None,
                step_up: None,
                silent: false,
            }]
        );
    }
}

#[test]
fn api_rejection_after_refresh_ends_the_session() {
    let mut m = signed_in("r");
    m.step(Event::ApiRejected, T0);
    let AuthState::SessionEnded { error, .. } = m.state() else {
        panic!("{:?}", m.state())
    };
    assert!(error
        .to_string()
        .contains("the API no longer accepts your sign-in"));
}

#[test]
fn a_refresh_result_after_sign_out_is_dropped() {
    let mut m = signed_in("r");
    let _ = to_token_endpoint(&mut m, Event::TimerFired);
    m.step(Event::SignOutRequested, T0);
    assert!(m
        .step(Event::RefreshFinished(Ok(session("r2", T0.ms))), T0)
        .is_empty());
    assert_eq!(m.session(), None);
}
