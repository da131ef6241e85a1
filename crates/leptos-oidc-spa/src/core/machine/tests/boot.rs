//! Start-up (restore, callback, a reload of the callback page), signing in and out.

use super::*;

/// (stored session, callback parameters, at the callback path) → (state, effects).
#[test]
#[rustfmt::skip]
fn boot_table() {
    let fresh = || Some(session("r", T0.ms));
    let stale = || Some(session("r", T0.ms - 61.0 * MINUTE));
    let home = || Effect::Navigate { to: "/".into(), replace: true };
    let callback = || Effect::CompleteSignIn { params: "code=c&state=s".into() };
    type Row = (Option<Session>, Option<&'static str>, bool, S, Vec<Effect>);
    let cases: Vec<Row> = vec![
        (None,    None,                   false, S::SignedOut,  vec![]),
        (fresh(), None,                   false, S::SignedIn,   vec![Effect::SetTimer { delay_ms: 58.5 * MINUTE }]),
        (stale(), None,                   false, S::SignedIn,   vec![Effect::SetTimer { delay_ms: 0.0 }, Effect::AcquireRefreshLock]),
        (fresh(), Some("code=c&state=s"), true,  S::Completing, vec![callback()]),
        (None,    None,                   true,  S::SignedOut,  vec![home()]),
        (fresh(), None,                   true,  S::SignedIn,   vec![home(), Effect::SetTimer { delay_ms: 58.5 * MINUTE }]),
    ];
    for (stored, callback, at_callback_path, state, effects) in cases {
        let mut m = machine();
        let what = format!("{stored:?} {callback:?} {at_callback_path}");
        let event = Event::Boot { stored, callback: callback.map(String::from), at_callback_path };
        assert_eq!(m.step(event, T0), effects, "{what}");
        assert_eq!(S::of(m.state()), state, "{what}");
    }
}

#[test]
fn sign_in_and_callback() {
    let mut m = signed_out();
    assert_eq!(
        m.step(
            Event::SignInRequested {
                return_to: "/views/a".into()
            },
            T0
        ),
        vec![Effect::BeginSignIn {
            return_to: "/views/a".into(),
            login_hint: None,
            resource: None,
            step_up: None,
            silent: false,
        }]
    );
    assert_eq!(m.state(), &AuthState::Redirecting);

    let s = session("r", T0.ms);
    let effects = m.step(
        Event::SignInCompleted(Ok((s.clone(), "/views/a".into()))),
        T0,
    );
    assert_eq!(
        effects,
        vec![
            Effect::SetTimer {
                delay_ms: 58.5 * MINUTE
            },
            Effect::Navigate {
                to: "/views/a".into(),
                replace: true
            },
            Effect::Persist(s.clone()),
        ]
    );
    let AuthState::SignedIn(state) = m.state() else {
        panic!("signed in")
    };
    assert_eq!(state.profile.name, "Rita Reader");
    assert_eq!(state.profile.roles, vec!["Study.Read"]);
    assert_eq!(m.session(), Some(&s));
}

#[test]
fn a_failed_callback_leaves_the_callback_page_for_the_failure_path_and_can_be_dismissed() {
    let error = AuthError::Callback(crate::core::callback::CallbackError::UnknownState);
    let mut failed = completing();
    assert_eq!(
        failed.step(Event::SignInCompleted(Err(error.clone())), T0),
        vec![Effect::Navigate {
            to: "/".into(),
            replace: true
        }]
    );
    assert_eq!(failed.state(), &AuthState::Failed(error.clone()));
    assert_eq!(failed.state().error(), Some(&error));
    assert!(failed.step(Event::ErrorDismissed, T0).is_empty());
    assert_eq!(failed.state(), &AuthState::SignedOut);

    let mut elsewhere =
        Machine::new(OidcConfig::new("https://idp/x", "ui").with_failure_path("/signed-out"));
    elsewhere.step(
        Event::Boot {
            stored: None,
            callback: Some("error=access_denied&state=s".into()),
            at_callback_path: true,
        },
        T0,
    );
    assert_eq!(
        elsewhere.step(Event::SignInCompleted(Err(error)), T0),
        vec![Effect::Navigate {
            to: "/signed-out".into(),
            replace: true
        }]
    );
    // Dismissing means nothing to a session that is fine.
    let mut fine = signed_in("r");
    assert!(fine.step(Event::ErrorDismissed, T0).is_empty());
    assert_eq!(S::of(fine.state()), S::SignedIn);
}

#[test]
fn a_sign_in_that_cannot_start_says_why() {
    let mut m = signed_out();
    m.step(
        Event::SignInRequested {
            return_to: "/".into(),
        },
        T0,
    );
    let error = AuthError::Browser(BrowserError::NoSessionStorage);
    assert!(m.step(Event::SignInFailed(error.clone()), T0).is_empty());
    assert_eq!(m.state(), &AuthState::Failed(error));
}

#[test]
fn sign_out_tells_twins_then_leaves_for_the_provider() {
    let s = session("r", T0.ms);
    let mut m = signed_in("r");
    let effects = m.step(Event::SignOutRequested, T0);
    assert_eq!(
        effects,
        vec![
            Effect::Broadcast {
                message: TabMessage::SignedOut {
                    previous: fingerprint(&s)
                },
                key: s.handover_key.clone(),
            },
            Effect::CancelTimer,
            Effect::ClearSession,
            Effect::ClearPendingLogins,
            Effect::EndProviderSession(Some(s)),
        ]
    );
    assert_eq!(m.state(), &AuthState::Redirecting);
    assert_eq!(
        m.step(Event::SignedOutLocally, T0),
        vec![Effect::Navigate {
            to: "/".into(),
            replace: true
        }]
    );
    assert_eq!(m.state(), &AuthState::SignedOut);
}

#[test]
fn storage_refusal_says_why_and_keeps_nothing() {
    // The session is persisted last, so the refusal's answer has the last word.
    let s = session("r", T0.ms);
    let mut m = machine();
    let effects = m.step(Event::SignInCompleted(Ok((s.clone(), "/".into()))), T0);
    assert_eq!(effects.last(), Some(&Effect::Persist(s)));
    let effects = m.step(Event::StorageRefused(BrowserError::StorageRefused), T0);
    assert_eq!(
        m.state(),
        &AuthState::Failed(AuthError::Browser(BrowserError::StorageRefused))
    );
    assert!(effects.contains(&Effect::CancelTimer));
    assert_eq!(m.session(), None);
    let mut callback_page = completing();
    callback_page.step(Event::StorageRefused(BrowserError::NoSessionStorage), T0);
    assert_eq!(
        callback_page.state(),
        &AuthState::Failed(AuthError::Browser(BrowserError::NoSessionStorage))
    );
}
