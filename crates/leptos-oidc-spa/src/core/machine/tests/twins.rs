//! Duplicated tabs: the hand-over of a refreshed session and of a sign-out.

use super::*;

#[test]
fn twin_hand_over() {
    let old = session("r1", T0.ms);
    let new = session("r2", T0.ms + MINUTE);
    let handed = |previous: &Session| {
        Event::Twin(TabMessage::Refreshed {
            previous: fingerprint(previous),
            session: new.clone(),
        })
    };
    // A twin holding the same session adopts the new one.
    let mut m = signed_in("r1");
    let effects = m.step(handed(&old), T0);
    assert_eq!(effects.last(), Some(&Effect::Persist(new.clone())));
    assert_eq!(m.session(), Some(&new));
    // Another session's hand-over is ignored.
    let mut other = signed_in("other");
    assert!(other.step(handed(&old), T0).is_empty());
    // A tab waiting for the lock finds the session renewed and does not redeem.
    let mut waiting = signed_in("r1");
    waiting.step(Event::RefreshRequested { waiter: true }, T0);
    waiting.step(handed(&old), T0);
    assert_eq!(
        waiting.step(Event::RefreshLockHeld, T0),
        vec![Effect::ReleaseWaiters { refreshed: true }]
    );
    assert!(!refreshing(&waiting));
    // A twin's sign-out signs this tab out and goes home.
    let mut twin = signed_in("r1");
    let effects = twin.step(
        Event::Twin(TabMessage::SignedOut {
            previous: fingerprint(&old),
        }),
        T0,
    );
    assert_eq!(twin.state(), &AuthState::SignedOut);
    assert!(effects.contains(&Effect::ClearSession));
    assert!(effects.contains(&Effect::Navigate {
        to: "/".into(),
        replace: true
    }));
}

#[test]
fn a_failed_redeem_after_a_twin_hand_over_is_harmless() {
    let old = session("r1", T0.ms);
    let mut m = signed_in("r1");
    let _ = to_token_endpoint(&mut m, Event::RefreshRequested { waiter: true });
    m.step(
        Event::Twin(TabMessage::Refreshed {
            previous: fingerprint(&old),
            session: session("r2", T0.ms),
        }),
        T0,
    );
    assert_eq!(
        m.step(Event::RefreshFinished(Err(invalid_grant())), T0),
        vec![Effect::ReleaseWaiters { refreshed: true }]
    );
    assert!(matches!(m.state(), AuthState::SignedIn(_)));
}
