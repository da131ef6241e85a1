//! The machine's tests, one file per concern, and the fixtures they share.

mod boot;
mod horizon;
mod refresh;
mod resources;
mod table;
mod twins;

use super::*;
use crate::core::api_call::Target;
use crate::core::config::Resource;
use crate::core::error::BrowserError;
use crate::core::jwt::test_token;
use crate::core::test_support;
use crate::core::token::TokenSet;
use serde_json::json;

const MINUTE: f64 = 60_000.0;
/// Half-way through the jitter range: a one-hour token is refreshed 90 s before expiry.
const T0: Now = Now {
    ms: 1_000_000.0,
    jitter: 0.5,
};

fn at(ms: f64) -> Now {
    Now { ms, jitter: 0.5 }
}

fn machine() -> Machine {
    Machine::new(
        OidcConfig::new("https://idp/x", "ui")
            .with_scopes(["api://api/API.call"])
            .with_resources([
                Resource::new(
                    "alpha",
                    "Workspace alpha",
                    ["api://ws-a/user_impersonation"],
                ),
                Resource::new("beta", "Workspace beta", ["api://ws-b/user_impersonation"]),
            ]),
    )
}

/// `session` after a grant for `resource` rotated its refresh token to `rotated`.
fn with_resource(session: &Session, resource: &str, rotated: &str, ms: f64) -> Session {
    let tokens = test_support::resource_tokens(resource, rotated);
    session.with_resource_token(resource, tokens, ms)
}

fn kinds(effects: &[Effect]) -> Vec<K> {
    effects.iter().map(K::of).collect()
}

/// A refresh grant's answer for the session's own API.
fn tokens_for_refresh() -> TokenSet {
    TokenSet {
        access_token: test_token(&json!({"alg": "RS256"}), &json!({"scp": "API.call"})),
        expires_in_s: 3600.0,
        refresh_token: None,
        id_token: None,
        scope: None,
        refresh_expires_in_s: None,
        dpop_bound: false,
    }
}

fn wanted(resource: &str) -> Event {
    Event::ResourceWanted {
        resource: resource.into(),
    }
}

fn released(resource: &str, outcome: ResourceOutcome) -> Effect {
    Effect::ReleaseResourceWaiters {
        resource: resource.into(),
        outcome,
    }
}

fn grant_error(failure: GrantFailure, detail: &str) -> GrantError {
    GrantError {
        failure,
        error: AuthError::SessionEnded {
            detail: detail.into(),
        },
    }
}

/// A one-hour session obtained at `obtained_ms` whose refresh token is `refresh`.
fn session(refresh: &str, obtained_ms: f64) -> Session {
    test_support::session(refresh, refresh, obtained_ms)
}

fn signed_out() -> Machine {
    let mut m = machine();
    m.step(
        Event::Boot {
            stored: None,
            callback: None,
            at_callback_path: false,
        },
        T0,
    );
    m
}

fn signed_in(refresh: &str) -> Machine {
    let mut m = machine();
    m.step(
        Event::Boot {
            stored: Some(session(refresh, T0.ms)),
            callback: None,
            at_callback_path: false,
        },
        T0,
    );
    m
}

fn refreshing(m: &Machine) -> bool {
    matches!(m.state(), AuthState::SignedIn(s) if s.refreshing)
}

/// Runs a refresh up to the token endpoint and returns the session it redeems.
fn to_token_endpoint(m: &mut Machine, event: Event) -> Session {
    assert_eq!(m.step(event, T0), vec![Effect::AcquireRefreshLock]);
    match m.step(Event::RefreshLockHeld, T0).as_slice() {
        [Effect::Redeem { session: s, .. }] => s.clone(),
        other => panic!("expected a redeem, got {other:?}"),
    }
}

fn network_failure() -> GrantError {
    GrantError::retry(AuthError::Network {
        during: "refreshing the session",
        url: "https://idp/token".into(),
        detail: "no answer within 20 seconds".into(),
    })
}

fn invalid_grant() -> GrantError {
    GrantError::session_ended("invalid_grant: AADSTS700084")
}

/// Where a machine stands, one name per [`AuthState`] variant: the tables' typed state check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum S {
    Starting,
    SignedOut,
    Redirecting,
    Completing,
    SignedIn,
    SessionEnded,
    Failed,
}

impl S {
    fn of(state: &AuthState) -> S {
        match state {
            AuthState::Starting => S::Starting,
            AuthState::SignedOut => S::SignedOut,
            AuthState::Redirecting => S::Redirecting,
            AuthState::Completing => S::Completing,
            AuthState::SignedIn(_) => S::SignedIn,
            AuthState::SessionEnded { .. } => S::SessionEnded,
            AuthState::Failed(_) => S::Failed,
            AuthState::Disabled => unreachable!("the machine never enters Disabled"),
        }
    }
}

/// An effect's kind, one name per [`Effect`] variant, for tables that list effects by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    BeginSignIn,
    CompleteSignIn,
    SetTimer,
    CancelTimer,
    AcquireRefreshLock,
    Redeem,
    RedeemFor,
    ReleaseResourceWaiters,
    Persist,
    ClearSession,
    ClearPendingLogins,
    Broadcast,
    ReleaseWaiters,
    Navigate,
    EndProviderSession,
}

impl K {
    fn of(effect: &Effect) -> K {
        match effect {
            Effect::BeginSignIn { .. } => K::BeginSignIn,
            Effect::CompleteSignIn { .. } => K::CompleteSignIn,
            Effect::SetTimer { .. } => K::SetTimer,
            Effect::CancelTimer => K::CancelTimer,
            Effect::AcquireRefreshLock => K::AcquireRefreshLock,
            Effect::Redeem { .. } => K::Redeem,
            Effect::RedeemFor { .. } => K::RedeemFor,
            Effect::ReleaseResourceWaiters { .. } => K::ReleaseResourceWaiters,
            Effect::Persist(_) => K::Persist,
            Effect::ClearSession => K::ClearSession,
            Effect::ClearPendingLogins => K::ClearPendingLogins,
            Effect::Broadcast { .. } => K::Broadcast,
            Effect::ReleaseWaiters { .. } => K::ReleaseWaiters,
            Effect::Navigate { .. } => K::Navigate,
            Effect::EndProviderSession(_) => K::EndProviderSession,
        }
    }
}

fn redirecting() -> Machine {
    let mut m = signed_out();
    m.step(
        Event::SignInRequested {
            return_to: "/".into(),
        },
        T0,
    );
    m
}

fn completing() -> Machine {
    let mut m = machine();
    m.step(
        Event::Boot {
            stored: None,
            callback: Some("code=c&state=s".into()),
            at_callback_path: true,
        },
        T0,
    );
    m
}

fn signed_in_r1() -> Machine {
    signed_in("r1")
}

/// Signed in, a refresh asked for by a waiting API call and waiting for the lock.
fn locking() -> Machine {
    let mut m = signed_in("r1");
    m.step(Event::RefreshRequested { waiter: true }, T0);
    m
}

/// Signed in, the refresh grant at the token endpoint.
fn redeeming() -> Machine {
    let mut m = locking();
    m.step(Event::RefreshLockHeld, T0);
    m
}

/// Signed in, a grant for the resource `alpha` at the token endpoint.
fn fetching_alpha() -> Machine {
    let mut m = signed_in("r1");
    m.step(wanted("alpha"), T0);
    m.step(Event::RefreshLockHeld, T0);
    m
}
