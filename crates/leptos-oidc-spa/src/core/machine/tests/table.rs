//! The transition table: every event from the state it matters in, one row per line, with the
//! state after it and the kinds of effects it asks for, in order. (Start-up and wake-ups have
//! tables of their own, in `boot` and `refresh`.)

use super::*;
use crate::core::api_call::Target;
use crate::core::challenge::StepUp;

/// A twin's hand-over of the session renewed from the one with fingerprint `previous`.
fn handed_over(previous: String) -> Event {
    Event::Twin(TabMessage::Refreshed {
        previous,
        session: session("r2", T0.ms),
    })
}

fn r1() -> String {
    fingerprint(&session("r1", T0.ms))
}

fn no_storage() -> AuthError {
    AuthError::Browser(BrowserError::NoSessionStorage)
}

fn sign_in() -> Event {
    Event::SignInRequested {
        return_to: "/".into(),
    }
}

fn alpha_finished(result: Result<Session, GrantError>) -> Event {
    Event::ResourceFinished {
        resource: "alpha".into(),
        result,
    }
}

fn alpha_granted() -> Result<Session, GrantError> {
    Ok(with_resource(&session("r1", T0.ms), "alpha", "r2", T0.ms))
}

fn consent_to_alpha() -> Event {
    Event::ConsentRequested {
        resource: "alpha".into(),
        return_to: "/views/ws".into(),
    }
}

fn claims_for(target: Target) -> Event {
    Event::ClaimsChallenged {
        target,
        claims: r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#.into(),
    }
}

fn step_up() -> Event {
    Event::StepUpRequested {
        resource: None,
        step_up: StepUp::UserAuthentication {
            acr_values: Some("urn:gatehouse:mfa".into()),
            max_age: None,
        },
        return_to: "/views/secure".into(),
    }
}

/// A machine in the state a row starts from.
type From = fn() -> Machine;

#[test]
#[rustfmt::skip]
fn transition_table() {
    use K::*;
    let failed = || {
        let mut m = completing();
        m.step(Event::SignInCompleted(Err(no_storage())), T0);
        m
    };
    let ended = || {
        let mut m = signed_in("r1");
        m.step(Event::ApiRejected, T0);
        m
    };
    let rows: Vec<(&str, From, Event, S, Vec<K>)> = vec![
        ("signed out",  signed_out,     sign_in(),                                              S::Redirecting,  vec![BeginSignIn]),
        ("redirecting", redirecting,    Event::SignInFailed(no_storage()),                      S::Failed,       vec![]),
        ("completing",  completing,     Event::SignInCompleted(Ok((session("r1", T0.ms), "/v".into()))), S::SignedIn, vec![SetTimer, Navigate, Persist]),
        ("completing",  completing,     Event::SignInCompleted(Err(no_storage())),              S::Failed,       vec![Navigate]),
        ("completing",  completing,     Event::StorageRefused(BrowserError::StorageRefused),    S::Failed,       vec![CancelTimer, ClearSession]),
        ("failed",      failed,         Event::ErrorDismissed,                                  S::SignedOut,    vec![]),
        ("failed",      failed,         sign_in(),                                              S::Redirecting,  vec![BeginSignIn]),
        ("ended",       ended,          Event::ErrorDismissed,                                  S::SignedOut,    vec![]),
        ("ended",       ended,          sign_in(),                                              S::Redirecting,  vec![BeginSignIn]),
        ("signed in",   signed_in_r1,   Event::TimerFired,                                      S::SignedIn,     vec![AcquireRefreshLock]),
        ("signed in",   signed_in_r1,   Event::RefreshRequested { waiter: false },              S::SignedIn,     vec![AcquireRefreshLock]),
        ("signed in",   signed_in_r1,   Event::ErrorDismissed,                                  S::SignedIn,     vec![]),
        ("locking",     locking,        Event::RefreshRequested { waiter: true },               S::SignedIn,     vec![]),
        ("locking",     locking,        Event::TimerFired,                                      S::SignedIn,     vec![]),
        ("locking",     locking,        Event::RefreshLockHeld,                                 S::SignedIn,     vec![Redeem]),
        ("redeeming",   redeeming,      Event::RefreshFinished(Ok(session("r2", T0.ms))),       S::SignedIn,     vec![Broadcast, SetTimer, ReleaseWaiters, Persist]),
        ("redeeming",   redeeming,      Event::RefreshFinished(Err(network_failure())),         S::SignedIn,     vec![SetTimer, ReleaseWaiters]),
        ("redeeming",   redeeming,      Event::RefreshFinished(Err(invalid_grant())),           S::SessionEnded, vec![CancelTimer, ClearSession, ReleaseWaiters]),
        ("redeeming",   redeeming,      Event::ApiRejected,                                     S::SessionEnded, vec![CancelTimer, ClearSession, ReleaseWaiters]),
        ("signed in",   signed_in_r1,   Event::StorageRefused(BrowserError::StorageRefused),    S::Failed,       vec![CancelTimer, ClearSession]),
        ("signed in",   signed_in_r1,   handed_over(r1()),                                      S::SignedIn,     vec![SetTimer, Persist]),
        ("locking",     locking,        handed_over(r1()),                                      S::SignedIn,     vec![SetTimer, Persist]),
        ("signed in",   signed_in_r1,   handed_over("other".into()),                            S::SignedIn,     vec![]),
        ("signed in",   signed_in_r1,   Event::Twin(TabMessage::SignedOut { previous: r1() }),  S::SignedOut,    vec![CancelTimer, ClearSession, Navigate]),
        ("signed out",  signed_out,     Event::Twin(TabMessage::SignedOut { previous: r1() }),  S::SignedOut,    vec![]),
        ("signed in",   signed_in_r1,   Event::ApiRejected,                                     S::SessionEnded, vec![CancelTimer, ClearSession]),
        ("signed in",   signed_in_r1,   Event::SignOutRequested,                                S::Redirecting,  vec![Broadcast, CancelTimer, ClearSession, ClearPendingLogins, EndProviderSession]),
        ("locking",     locking,        Event::SignOutRequested,                                S::Redirecting,  vec![Broadcast, CancelTimer, ClearSession, ReleaseWaiters, ClearPendingLogins, EndProviderSession]),
        ("redirecting", redirecting,    Event::SignedOutLocally,                                S::SignedOut,    vec![Navigate]),
        ("signed out",  signed_out,     Event::RefreshLockHeld,                                 S::SignedOut,    vec![]),
        ("signed out",  signed_out,     Event::RefreshFinished(Ok(session("r2", T0.ms))),       S::SignedOut,    vec![]),
        ("signed in",   signed_in_r1,   wanted("alpha"),                                        S::SignedIn,     vec![AcquireRefreshLock]),
        ("redeeming",   redeeming,      wanted("alpha"),                                        S::SignedIn,     vec![]),
        ("signed out",  signed_out,     wanted("alpha"),                                        S::SignedOut,    vec![ReleaseResourceWaiters]),
        ("fetching α",  fetching_alpha, alpha_finished(alpha_granted()),                        S::SignedIn,     vec![Broadcast, SetTimer, ReleaseResourceWaiters, Persist]),
        ("fetching α",  fetching_alpha, alpha_finished(Err(grant_error(GrantFailure::ConsentRequired, "AADSTS65001"))), S::SignedIn, vec![ReleaseResourceWaiters]),
        ("fetching α",  fetching_alpha, alpha_finished(Err(grant_error(GrantFailure::Retry, "offline"))),               S::SignedIn, vec![ReleaseResourceWaiters]),
        ("fetching α",  fetching_alpha, alpha_finished(Err(grant_error(GrantFailure::SessionEnded, "invalid_grant"))),  S::SessionEnded, vec![CancelTimer, ClearSession]),
        ("signed out",  signed_out,     alpha_finished(Ok(session("r2", T0.ms))),               S::SignedOut,    vec![]),
        ("signed in",   signed_in_r1,   Event::ResourceRejected { resource: "alpha".into() },   S::SignedIn,     vec![]),
        ("signed in",   signed_in_r1,   consent_to_alpha(),                                     S::Redirecting,  vec![BeginSignIn]),
        ("signed in",   signed_in_r1,   claims_for(Target::Session),                            S::SignedIn,     vec![AcquireRefreshLock]),
        ("signed in",   signed_in_r1,   claims_for(Target::Resource("alpha".into())),           S::SignedIn,     vec![]),
        ("signed in",   signed_in_r1,   step_up(),                                              S::Redirecting,  vec![BeginSignIn]),
        ("signed out",  signed_out,     step_up(),                                              S::SignedOut,    vec![]),
        ("signed out",  signed_out,     claims_for(Target::Session),                            S::SignedOut,    vec![ReleaseWaiters]),
    ];
    for (from, start, event, state, effects) in rows {
        let mut m = start();
        let what = format!("{from} + {event:?}");
        assert_eq!(kinds(&m.step(event, T0)), effects, "{what}");
        assert_eq!(S::of(m.state()), state, "{what} -> {:?}", m.state());
    }
}
