//! Tokens for the other APIs: redeemed under the refresh lock in turn, consent and refusals per API.

use super::*;

#[test]
fn a_resource_token_is_redeemed_under_the_lock_then_served_from_the_session() {
    let mut m = signed_in("r1");
    let s = session("r1", T0.ms);
    assert_eq!(
        m.step(wanted("alpha"), T0),
        vec![Effect::AcquireRefreshLock]
    );
    assert_eq!(
        m.step(Event::RefreshLockHeld, T0),
        vec![Effect::RedeemFor {
            session: s.clone(),
            resource: "alpha".into(),
            claims: None,
        }]
    );
    let renewed = with_resource(&s, "alpha", "r2", T0.ms);
    let effects = m.step(
        Event::ResourceFinished {
            resource: "alpha".into(),
            result: Ok(renewed.clone()),
        },
        T0,
    );
    assert_eq!(
        effects,
        vec![
            Effect::Broadcast {
                message: TabMessage::Refreshed {
                    previous: fingerprint(&s),
                    session: renewed.clone(),
                },
                key: s.handover_key.clone(),
            },
            Effect::SetTimer {
                delay_ms: s.refresh_delay_ms(T0.ms, T0.jitter)
            },
            released("alpha", ResourceOutcome::Ready),
            Effect::Persist(renewed.clone()),
        ]
    );
    assert_eq!(m.session(), Some(&renewed));
    let AuthState::SignedIn(signed_in) = m.state() else {
        panic!("still signed in")
    };
    assert_eq!(
        signed_in.profile.resource_roles[0].roles,
        Some(vec!["WorkspaceOwner".to_string()])
    );
    // Fresh: no grant, no lock.
    assert_eq!(
        m.step(wanted("alpha"), at(T0.ms + MINUTE)),
        vec![released("alpha", ResourceOutcome::Ready)]
    );
    // Close to its expiry it is redeemed again.
    assert_eq!(
        m.step(wanted("alpha"), at(T0.ms + 59.0 * MINUTE)),
        vec![Effect::AcquireRefreshLock]
    );
}

#[test]
fn grants_take_turns_each_with_the_latest_refresh_token_the_sessions_own_first() {
    let mut m = signed_in("r1");
    let s1 = session("r1", T0.ms);
    m.step(wanted("beta"), T0);
    m.step(Event::RefreshLockHeld, T0); // beta at the token endpoint

    // Meanwhile: alpha is wanted and the session's own refresh is due. Nothing new starts.
    assert_eq!(m.step(wanted("alpha"), T0), vec![]);
    assert_eq!(m.step(Event::RefreshRequested { waiter: true }, T0), vec![]);

    let s2 = with_resource(&s1, "beta", "r2", T0.ms);
    let effects = m.step(
        Event::ResourceFinished {
            resource: "beta".into(),
            result: Ok(s2.clone()),
        },
        T0,
    );
    assert_eq!(
        kinds(&effects),
        vec![
            K::Broadcast,
            K::SetTimer,
            K::ReleaseResourceWaiters,
            K::Redeem,
            K::Persist
        ]
    );
    assert!(
        effects.contains(&Effect::Redeem {
            session: s2.clone(),
            claims: None,
        }),
        "the session's own refresh, with r2"
    );

    let s3 = s2.refreshed(
        TokenSet {
            refresh_token: Some("r3".into()),
            ..tokens_for_refresh()
        },
        T0.ms,
    );
    let effects = m.step(Event::RefreshFinished(Ok(s3.clone())), T0);
    assert_eq!(
        kinds(&effects),
        vec![
            K::Broadcast,
            K::SetTimer,
            K::ReleaseWaiters,
            K::RedeemFor,
            K::Persist
        ]
    );
    assert!(
        effects.contains(&Effect::RedeemFor {
            session: s3.clone(),
            resource: "alpha".into(),
            claims: None,
        }),
        "then alpha, with r3"
    );

    let s4 = with_resource(&s3, "alpha", "r4", T0.ms);
    let effects = m.step(
        Event::ResourceFinished {
            resource: "alpha".into(),
            result: Ok(s4.clone()),
        },
        T0,
    );
    assert_eq!(
        kinds(&effects),
        vec![
            K::Broadcast,
            K::SetTimer,
            K::ReleaseResourceWaiters,
            K::Persist
        ],
        "nothing left: the lock goes"
    );
    assert_eq!(
        m.session().and_then(|s| s.refresh_token.as_deref()),
        Some("r4")
    );
    assert!(m.session().is_some_and(|s| s.resources.len() == 2));
}

#[test]
fn missing_consent_for_one_api_leaves_the_session_and_the_others_alone() {
    let mut m = signed_in("r1");
    let s = session("r1", T0.ms);
    m.step(wanted("alpha"), T0);
    m.step(wanted("beta"), T0);
    m.step(Event::RefreshLockHeld, T0); // alpha first
    let effects = m.step(
        Event::ResourceFinished {
            resource: "alpha".into(),
            result: Err(grant_error(GrantFailure::ConsentRequired, "AADSTS65001")),
        },
        T0,
    );
    assert_eq!(
        effects,
        vec![
            released(
                "alpha",
                ResourceOutcome::ConsentRequired("Please sign in again. (AADSTS65001)".into())
            ),
            Effect::RedeemFor {
                session: s.clone(),
                resource: "beta".into(),
                claims: None,
            },
        ],
        "the refresh token is unspent: beta goes on with it"
    );
    assert!(matches!(m.state(), AuthState::SignedIn(_)));
    assert_eq!(m.session(), Some(&s));

    // Consenting signs in again for alpha's scopes, as the same person, back to the route.
    assert_eq!(
        m.step(
            Event::ConsentRequested {
                resource: "alpha".into(),
                return_to: "/views/ws".into()
            },
            T0
        ),
        vec![Effect::BeginSignIn {
            return_to: "/views/ws".into(),
            login_hint: Some("rita@x".into()),
            resource: Some("alpha".into()),
            step_up: None,
            silent: false,
        }]
    );
}

#[test]
fn a_refused_api_fails_alone_but_a_spent_refresh_token_ends_everything() {
    let mut m = signed_in("r1");
    m.step(wanted("alpha"), T0);
    m.step(Event::RefreshLockHeld, T0);
    let effects = m.step(
        Event::ResourceFinished {
            resource: "alpha".into(),
            result: Err(grant_error(GrantFailure::Refused, "invalid_scope")),
        },
        T0,
    );
    assert_eq!(
        effects,
        vec![released(
            "alpha",
            ResourceOutcome::Failed("Please sign in again. (invalid_scope)".into())
        )]
    );
    assert!(matches!(m.state(), AuthState::SignedIn(_)));

    m.step(wanted("alpha"), T0);
    m.step(wanted("beta"), T0);
    m.step(Event::RefreshLockHeld, T0);
    let effects = m.step(
        Event::ResourceFinished {
            resource: "alpha".into(),
            result: Err(grant_error(GrantFailure::SessionEnded, "invalid_grant")),
        },
        T0,
    );
    assert_eq!(
        kinds(&effects),
        vec![K::CancelTimer, K::ClearSession, K::ReleaseResourceWaiters]
    );
    assert!(effects.contains(&released(
        "beta",
        ResourceOutcome::Failed("the session ended".into())
    )));
    assert!(matches!(m.state(), AuthState::SessionEnded { .. }));
}

#[test]
fn a_token_the_api_rejects_is_dropped_and_unknown_or_signed_out_fail_at_once() {
    let mut m = signed_in("r1");
    let s = with_resource(&session("r1", T0.ms), "alpha", "r1", T0.ms);
    m.step(
        Event::Twin(TabMessage::Refreshed {
            previous: fingerprint(&session("r1", T0.ms)),
            session: s.clone(),
        }),
        T0,
    );
    assert_eq!(
        m.step(wanted("alpha"), T0),
        vec![released("alpha", ResourceOutcome::Ready)]
    );
    let effects = m.step(
        Event::ResourceRejected {
            resource: "alpha".into(),
        },
        T0,
    );
    let Some(Effect::Persist(kept)) = effects.first() else {
        panic!("the session is stored without it: {effects:?}")
    };
    assert!(kept.resources.is_empty());
    assert_eq!(
        m.step(wanted("alpha"), T0),
        vec![Effect::AcquireRefreshLock]
    );

    assert_eq!(
        m.step(wanted("gamma"), T0),
        vec![released(
            "gamma",
            ResourceOutcome::Failed("no API named gamma is configured".into())
        )]
    );
    assert_eq!(
        signed_out().step(wanted("alpha"), T0),
        vec![released(
            "alpha",
            ResourceOutcome::Failed("you are not signed in".into())
        )]
    );
}

#[test]
fn signing_out_mid_grant_releases_its_callers() {
    let mut m = signed_in("r1");
    m.step(wanted("alpha"), T0);
    m.step(Event::RefreshLockHeld, T0);
    let effects = m.step(Event::SignOutRequested, T0);
    assert!(effects.contains(&released(
        "alpha",
        ResourceOutcome::Failed("the session ended".into())
    )));
    let late = m.step(
        Event::ResourceFinished {
            resource: "alpha".into(),
            result: Ok(with_resource(&session("r1", T0.ms), "alpha", "r2", T0.ms)),
        },
        T0,
    );
    assert_eq!(
        late,
        vec![released(
            "alpha",
            ResourceOutcome::Failed("you signed out".into())
        )]
    );
    assert_eq!(m.session(), None);
}
