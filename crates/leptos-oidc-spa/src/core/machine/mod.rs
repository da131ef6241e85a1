//! The session as a pure state machine: `(state, event, now) → (state, effects)`.
//!
//! Everything that decides what happens to a sign-in lives here: start-up (restore or complete a
//! callback), when to refresh (lead time, jitter, catch-up after sleep or a background tab,
//! backoff while the provider is unreachable), one refresh at a time with the callers waiting for
//! it, access tokens for the other APIs (one refresh grant per API, in turn with the session's
//! own, since each one rotates the shared refresh token), the twin-tab hand-over, the API's 401 →
//! one refresh → one retry, and the end of a session the provider will not renew. The browser
//! layer performs the `Effect`s (storage, fetch, timers, history, Web Locks, BroadcastChannel)
//! and reports back with `Event`s; it decides nothing.

mod vocabulary;

pub use vocabulary::{
    AuthState, ClaimsRefusal, Effect, Event, GrantError, Now, Phase, ResourceOutcome, SignedIn,
    TokenBinding,
};

use super::api_call::{PerTarget, Target};
use super::challenge::StepUp;
use super::config::OidcConfig;
use super::error::AuthError;
use super::profile::UserProfile;
use super::refresh::{self, GrantFailure};
use super::session::Session;
use super::tab_sync::{fingerprint, TabAction, TabMessage};
use std::collections::BTreeSet;

/// Why a session cannot be renewed, nor get tokens for other APIs.
const NO_REFRESH_TOKEN: &str = "the provider issued no refresh token";

/// Where the refresh stands.
#[derive(Clone, Debug, PartialEq)]
enum Refresh {
    Idle,
    /// Waiting for the lock; the fingerprint of the session it was asked for.
    Locking(String),
    /// A grant is at the token endpoint, for the session with fingerprint `fingerprint`: for
    /// the other API `resource`, or the session's own refresh (`None`).
    Redeeming {
        fingerprint: String,
        resource: Option<String>,
        /// The claims an API asked for, if the grant carries them.
        claims: Option<String>,
    },
}

/// The session's state machine. `step` is the only way to change it.
#[derive(Clone, Debug)]
pub struct Machine {
    config: OidcConfig,
    state: AuthState,
    session: Option<Session>,
    refresh: Refresh,
    /// Network failures in a row, for the backoff.
    retry_attempt: u32,
    /// Callers waiting for the refresh in flight.
    waiting: usize,
    /// The session's own refresh is due: it goes first once the lock is held.
    session_due: bool,
    /// Resources whose token a caller waits for, redeemed in turn under the lock.
    wanted: BTreeSet<String>,
    /// Resources whose last grant said the person must consent first.
    needs_consent: BTreeSet<String>,
    /// Claims an API asked for, to send with the next grant for it.
    claims: PerTarget<String>,
    /// Why the last claims grant for an API failed, until the caller that asked takes it.
    claims_refused: PerTarget<ClaimsRefusal>,
}

impl Machine {
    /// A machine in [`AuthState::Starting`]; the browser layer's first event is [`Event::Boot`].
    pub fn new(config: OidcConfig) -> Machine {
        Machine {
            config,
            state: AuthState::Starting,
            session: None,
            refresh: Refresh::Idle,
            retry_attempt: 0,
            waiting: 0,
            session_due: false,
            wanted: BTreeSet::new(),
            needs_consent: BTreeSet::new(),
            claims: PerTarget::default(),
            claims_refused: PerTarget::default(),
        }
    }

    /// Where the person stands, for the UI.
    pub fn state(&self) -> &AuthState {
        &self.state
    }

    /// The current session, for the bearer header and the sign-out hint.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The configuration the machine was built with.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Why the last claims grant for `target` failed, once: the caller that asked for the grant
    /// takes it.
    pub fn take_claims_refusal(&mut self, target: &Target) -> Option<ClaimsRefusal> {
        self.claims_refused.remove(target)
    }

    /// Applies `event` at `now` and returns what the browser layer must do, in order.
    pub fn step(&mut self, event: Event, now: Now) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            Event::Boot {
                stored,
                callback,
                at_callback_path,
            } => self.boot(stored, callback, at_callback_path, now, &mut effects),
            Event::SignInRequested { return_to } => {
                let login_hint = match &self.state {
                    AuthState::SessionEnded { login_hint, .. } => login_hint.clone(),
                    _ => None,
                };
                self.sign_in(return_to, login_hint, &mut effects);
            }
            Event::StaySignedInRequested { return_to } => {
                if self.is_signed_in() {
                    self.sign_in_again(return_to, None, None, true, &mut effects);
                }
            }
            Event::ConsentRequested {
                resource,
                return_to,
            } => self.sign_in_again(return_to, Some(resource), None, false, &mut effects),
            Event::StepUpRequested {
                resource,
                step_up,
                return_to,
            } => {
                if self.is_signed_in() {
                    self.sign_in_again(return_to, resource, Some(step_up), false, &mut effects);
                }
            }
            Event::ResourceWanted { resource } => self.want(resource, now, &mut effects),
            Event::ClaimsChallenged { target, claims } => {
                self.claims_refused.remove(&target);
                match &target {
                    Target::Session if !self.has_refresh_token() => {
                        // Only a sign-in can bring the claims.
                        let refusal = ClaimsRefusal {
                            message: NO_REFRESH_TOKEN.into(),
                            needs_person: true,
                        };
                        self.claims_refused.insert(target, refusal);
                        effects.push(Effect::ReleaseWaiters { refreshed: false });
                    }
                    Target::Session => {
                        self.claims.insert(target, claims);
                        self.waiting += 1;
                        self.start_refresh(now, &mut effects);
                    }
                    Target::Resource(resource) => {
                        // The next token for it must be a new one, carrying the claims.
                        if let Some(session) = &mut self.session {
                            if session.resources.remove(resource).is_some() {
                                effects.push(Effect::Persist(session.clone()));
                            }
                        }
                        self.claims.insert(target, claims);
                    }
                }
            }
            Event::ResourceRejected { resource } => {
                if let Some(session) = &mut self.session {
                    if session.resources.remove(&resource).is_some() {
                        effects.push(Effect::Persist(session.clone()));
                    }
                }
            }
            Event::ResourceFinished { resource, result } => {
                self.resource_finished(resource, result, now, &mut effects)
            }
            Event::SignInFailed(error) => self.state = AuthState::Failed(error),
            Event::ErrorDismissed => {
                if self.state.error().is_some() {
                    self.state = AuthState::SignedOut;
                }
            }
            Event::SignInCompleted(Ok((session, return_to))) => {
                self.adopt(session.clone(), now, &mut effects);
                effects.push(Effect::Navigate {
                    to: return_to,
                    replace: true,
                });
                effects.push(Effect::Persist(session));
            }
            // The provider wants the person after all: its page, for the same person.
            Event::SignInCompleted(Err(AuthError::SilentSignInDeclined {
                return_to,
                login_hint,
            })) => self.sign_in(return_to, login_hint, &mut effects),
            Event::SignInCompleted(Err(error)) => {
                // Off the callback page, so the app's own routes show the error.
                self.state = AuthState::Failed(error);
                effects.push(Effect::Navigate {
                    to: self.config.failure_path.clone(),
                    replace: true,
                });
            }
            Event::TimerFired => self.start_refresh(now, &mut effects),
            Event::WokeUp { visible } => {
                // Due once the timer could have fired: with the largest lead the jitter allows.
                let due = self
                    .session
                    .as_ref()
                    .is_some_and(|s| s.refresh_delay_ms(now.ms, 1.0) <= 0.0);
                if due && visible {
                    self.start_refresh(now, &mut effects);
                }
            }
            Event::RefreshRequested { waiter } => {
                if waiter {
                    self.waiting += 1;
                }
                self.start_refresh(now, &mut effects);
            }
            Event::RefreshLockHeld => self.lock_held(now, &mut effects),
            Event::RefreshFinished(result) => self.refresh_finished(result, now, &mut effects),
            Event::StorageRefused(why) => {
                // Without storage nobody stays signed in: say why rather than "sign in again".
                self.forget(&mut effects);
                self.state = AuthState::Failed(AuthError::Browser(why));
            }
            Event::Twin(message) => match message.action_for(self.session.as_ref()) {
                TabAction::Adopt(session) => {
                    self.adopt((*session).clone(), now, &mut effects);
                    if self.refresh == Refresh::Idle {
                        self.release(true, &mut effects);
                    }
                    effects.push(Effect::Persist(*session));
                }
                TabAction::SignOut => {
                    self.forget(&mut effects);
                    self.state = AuthState::SignedOut;
                    effects.push(Effect::Navigate {
                        to: "/".into(),
                        replace: true,
                    });
                }
                TabAction::Ignore => {}
            },
            Event::ApiRejected => self.end_session(
                AuthError::SessionEnded {
                    detail: "the API no longer accepts your sign-in".into(),
                },
                &mut effects,
            ),
            Event::SignOutRequested => {
                let session = self.session.clone();
                if let Some(s) = &session {
                    effects.push(Effect::Broadcast {
                        message: TabMessage::SignedOut {
                            previous: fingerprint(s),
                        },
                        key: s.handover_key.clone(),
                    });
                }
                self.forget(&mut effects);
                effects.push(Effect::ClearPendingLogins);
                self.state = AuthState::Redirecting;
                effects.push(Effect::EndProviderSession(session));
            }
            Event::SignedOutLocally => {
                self.state = AuthState::SignedOut;
                effects.push(Effect::Navigate {
                    to: "/".into(),
                    replace: true,
                });
            }
        }
        effects
    }

    fn boot(
        &mut self,
        stored: Option<Session>,
        callback: Option<String>,
        at_callback_path: bool,
        now: Now,
        effects: &mut Vec<Effect>,
    ) {
        if let Some(params) = callback {
            self.state = AuthState::Completing;
            effects.push(Effect::CompleteSignIn { params });
            return;
        }
        if at_callback_path {
            // A reload of the callback page: its response is gone (used or removed).
            effects.push(Effect::Navigate {
                to: "/".into(),
                replace: true,
            });
        }
        match stored {
            Some(session) => {
                let expired = session.is_access_token_expired(now.ms);
                self.adopt(session, now, effects);
                if expired {
                    self.start_refresh(now, effects);
                }
            }
            None => self.state = AuthState::SignedOut,
        }
    }

    /// Makes `session` current and arms the refresh timer.
    fn adopt(&mut self, session: Session, now: Now, effects: &mut Vec<Effect>) {
        let refresh_lifetime_ms = (self.config.refresh_lifetime).map(|d| d.as_secs_f64() * 1000.0);
        self.state = AuthState::SignedIn(SignedIn {
            profile: UserProfile::of(&session, &self.config),
            expires_at_ms: session.expires_at_ms,
            refreshed_at_ms: session.refreshed_at_ms,
            ends_at_ms: session.ends_at_ms(refresh_lifetime_ms),
            renewable: session.refresh_token.is_some(),
            refreshing: self.refresh != Refresh::Idle,
            refresh_problem: None,
            consent_needed: self.needs_consent.iter().cloned().collect(),
            binding: match (&session.dpop, session.dpop_bound) {
                (None, _) => TokenBinding::Bearer,
                (Some(_), false) => TokenBinding::RefreshToken,
                (Some(_), true) => TokenBinding::AllTokens,
            },
        });
        // Without a refresh token there is nothing to renew: the timer marks the end.
        let delay_ms = match session.refresh_token {
            Some(_) => session.refresh_delay_ms(now.ms, now.jitter),
            None => (session.expires_at_ms - now.ms).max(0.0),
        };
        effects.push(Effect::SetTimer { delay_ms });
        self.session = Some(session);
    }

    fn is_signed_in(&self) -> bool {
        matches!(self.state, AuthState::SignedIn(_))
    }

    /// Leaves for the provider's sign-in page, for the session's own scopes.
    fn sign_in(
        &mut self,
        return_to: String,
        login_hint: Option<String>,
        effects: &mut Vec<Effect>,
    ) {
        self.state = AuthState::Redirecting;
        effects.push(Effect::BeginSignIn {
            return_to,
            login_hint,
            resource: None,
            step_up: None,
            silent: false,
        });
    }

    /// Leaves to sign in again as the person signed in now, so the provider need not ask which
    /// account: for another API's scopes (`resource`), for what an API asked for (`step_up`),
    /// or before the session's end (`silent`, trying `prompt=none` first).
    fn sign_in_again(
        &mut self,
        return_to: String,
        resource: Option<String>,
        step_up: Option<StepUp>,
        silent: bool,
        effects: &mut Vec<Effect>,
    ) {
        let login_hint = match &self.state {
            AuthState::SignedIn(signed_in) => signed_in.profile.username.clone(),
            _ => None,
        };
        self.state = AuthState::Redirecting;
        effects.push(Effect::BeginSignIn {
            return_to,
            login_hint,
            resource,
            step_up,
            silent,
        });
    }

    fn has_refresh_token(&self) -> bool {
        (self.session.as_ref()).is_some_and(|s| s.refresh_token.is_some())
    }

    fn set_refreshing(&mut self, refreshing: bool, problem: Option<String>) {
        if let AuthState::SignedIn(signed_in) = &mut self.state {
            signed_in.refreshing = refreshing;
            signed_in.refresh_problem = problem;
        }
    }

    /// Starts a refresh unless one is under way; without a session, waiting callers are told no.
    /// A session without a refresh token is kept until its access token expires, then ended.
    fn start_refresh(&mut self, now: Now, effects: &mut Vec<Effect>) {
        let Some(session) = &self.session else {
            self.release(false, effects);
            return;
        };
        if session.refresh_token.is_none() {
            if session.is_access_token_expired(now.ms) {
                let detail = format!("{NO_REFRESH_TOKEN}, and the access token has expired");
                self.end_session(AuthError::SessionEnded { detail }, effects);
            } else {
                let delay_ms = session.expires_at_ms - now.ms;
                self.release(false, effects);
                effects.push(Effect::SetTimer { delay_ms });
            }
            return;
        }
        if self.session_due {
            return;
        }
        self.session_due = true;
        self.set_refreshing(true, None);
        self.request_lock(effects);
    }

    /// A caller needs the resource's token: at once if the session holds a fresh one, else after
    /// a refresh grant for it under the lock.
    fn want(&mut self, resource: String, now: Now, effects: &mut Vec<Effect>) {
        let outcome = match &self.session {
            None => ResourceOutcome::Failed("you are not signed in".into()),
            Some(_) if self.config.resource(&resource).is_none() => {
                ResourceOutcome::Failed(format!("no API named {resource} is configured"))
            }
            Some(session) if session.resource_token(&resource, now.ms).is_some() => {
                ResourceOutcome::Ready
            }
            Some(session) if session.refresh_token.is_none() => {
                ResourceOutcome::Failed(format!("{NO_REFRESH_TOKEN} to get a token for it with"))
            }
            Some(_) => {
                self.wanted.insert(resource);
                self.request_lock(effects);
                return;
            }
        };
        self.release_resource(resource, outcome, effects);
    }

    /// Asks for the refresh lock unless it is asked for or held already; whoever holds it works
    /// through everything due ([`Machine::next_grant`]).
    fn request_lock(&mut self, effects: &mut Vec<Effect>) {
        if self.refresh != Refresh::Idle {
            return;
        }
        if let Some(session) = &self.session {
            self.refresh = Refresh::Locking(fingerprint(session));
            effects.push(Effect::AcquireRefreshLock);
        }
    }

    /// Under the lock: a twin may have renewed (and handed over) the session while this tab
    /// waited; then the session's own refresh is done.
    fn lock_held(&mut self, now: Now, effects: &mut Vec<Effect>) {
        let Refresh::Locking(asked_for) = std::mem::replace(&mut self.refresh, Refresh::Idle)
        else {
            return;
        };
        match &self.session {
            Some(session) if fingerprint(session) == asked_for => {}
            current => {
                let renewed = current.is_some();
                if self.session_due {
                    self.session_due = false;
                    self.set_refreshing(false, None);
                    self.release(renewed, effects);
                }
            }
        }
        self.next_grant(now, effects);
    }

    /// Still holding the lock: the session's own refresh if due, else the next wanted resource
    /// whose token the session lacks; nothing left means the lock is let go.
    fn next_grant(&mut self, now: Now, effects: &mut Vec<Effect>) {
        let Some(session) = self.session.clone() else {
            self.fail_wanted("you are not signed in", effects);
            return;
        };
        if self.session_due {
            let claims = self.claims.remove(&Target::Session);
            self.refresh = Refresh::Redeeming {
                fingerprint: fingerprint(&session),
                resource: None,
                claims: claims.clone(),
            };
            effects.push(Effect::Redeem { session, claims });
            return;
        }
        // A twin may have handed over some of them meanwhile.
        let ready: Vec<String> = (self.wanted.iter())
            .filter(|r| session.resource_token(r, now.ms).is_some())
            .cloned()
            .collect();
        for resource in ready {
            self.wanted.remove(&resource);
            self.release_resource(resource, ResourceOutcome::Ready, effects);
        }
        if let Some(resource) = self.wanted.first().cloned() {
            let claims = self.claims.remove(&Target::Resource(resource.clone()));
            self.refresh = Refresh::Redeeming {
                fingerprint: fingerprint(&session),
                resource: Some(resource.clone()),
                claims: claims.clone(),
            };
            effects.push(Effect::RedeemFor {
                session,
                resource,
                claims,
            });
        }
    }

    /// Tells every caller waiting for a resource that there will be no token.
    fn fail_wanted(&mut self, why: &str, effects: &mut Vec<Effect>) {
        for resource in std::mem::take(&mut self.wanted) {
            self.release_resource(resource, ResourceOutcome::Failed(why.to_string()), effects);
        }
    }

    /// Ends the grant at the token endpoint if it is the one for `resource` (`None`: the
    /// session's own refresh), returning the fingerprint it redeemed and the claims it carried;
    /// any other answer is stale.
    fn finish_redeeming(&mut self, resource: Option<&str>) -> Option<(String, Option<String>)> {
        match &self.refresh {
            Refresh::Redeeming {
                fingerprint,
                resource: redeeming,
                claims,
            } if redeeming.as_deref() == resource => {
                let redeemed = (fingerprint.clone(), claims.clone());
                self.refresh = Refresh::Idle;
                Some(redeemed)
            }
            _ => None,
        }
    }

    fn resource_finished(
        &mut self,
        resource: String,
        result: Result<Session, GrantError>,
        now: Now,
        effects: &mut Vec<Effect>,
    ) {
        let Some((redeemed, claims)) = self.finish_redeeming(Some(&resource)) else {
            return;
        };
        self.wanted.remove(&resource);
        let Some(previous) = self.session.clone() else {
            self.release_resource(
                resource,
                ResourceOutcome::Failed("you signed out".into()),
                effects,
            );
            return;
        };
        let outcome = match result {
            Ok(session) => {
                tell_twins_renewed(&previous, &session, effects);
                self.adopt(session.clone(), now, effects);
                self.release_resource(resource, ResourceOutcome::Ready, effects);
                self.next_grant(now, effects);
                effects.push(Effect::Persist(session));
                return;
            }
            Err(e)
                if e.failure == GrantFailure::SessionEnded
                    && fingerprint(&previous) == redeemed =>
            {
                self.end_session(e.error, effects);
                return;
            }
            // The provider wants the person for the claims: that is not a missing consent.
            Err(e) if claims.is_some() => {
                let refusal = ClaimsRefusal::of(&e);
                self.claims_refused
                    .insert(Target::Resource(resource.clone()), refusal);
                ResourceOutcome::Failed(e.error.to_string())
            }
            Err(e) if e.failure == GrantFailure::ConsentRequired => {
                ResourceOutcome::ConsentRequired(e.error.to_string())
            }
            // Refused, a network failure, or a refresh token a twin has replaced meanwhile.
            Err(e) => ResourceOutcome::Failed(e.error.to_string()),
        };
        self.release_resource(resource, outcome, effects);
        self.next_grant(now, effects);
    }

    fn refresh_finished(
        &mut self,
        result: Result<Session, GrantError>,
        now: Now,
        effects: &mut Vec<Effect>,
    ) {
        let Some((redeemed, claims)) = self.finish_redeeming(None) else {
            return;
        };
        self.session_due = false;
        let Some(previous) = self.session.clone() else {
            // Signed out while the refresh was at the token endpoint: drop its result.
            self.release(false, effects);
            return;
        };
        if result.is_err() && fingerprint(&previous) != redeemed {
            // A twin handed over a fresh session meanwhile; this tab's failure no longer
            // matters, unless the grant carried an API's claims: then they go with a new one.
            if let Some(claims) = claims {
                self.claims.insert(Target::Session, claims);
                self.session_due = true;
                self.next_grant(now, effects);
                return;
            }
            self.set_refreshing(false, None);
            self.release(true, effects);
            self.next_grant(now, effects);
            return;
        }
        match result {
            Ok(session) => {
                self.retry_attempt = 0;
                tell_twins_renewed(&previous, &session, effects);
                self.adopt(session.clone(), now, effects);
                if self.claims.contains(&Target::Session) {
                    // A claims challenge came while a plain refresh was at the token endpoint:
                    // its callers wait for the grant that carries the claims.
                    self.session_due = true;
                    self.set_refreshing(true, None);
                } else {
                    self.release(true, effects);
                }
                self.next_grant(now, effects);
                effects.push(Effect::Persist(session));
            }
            Err(e) if claims.is_some() && e.failure != GrantFailure::SessionEnded => {
                // The session stays: only the API's call cannot go on as it is.
                self.claims_refused
                    .insert(Target::Session, ClaimsRefusal::of(&e));
                self.set_refreshing(false, None);
                self.release(false, effects);
                self.next_grant(now, effects);
            }
            Err(e)
                if e.failure == GrantFailure::Retry
                    && !previous.is_access_token_expired(now.ms) =>
            {
                let delay_ms = refresh::retry_backoff_ms(self.retry_attempt);
                self.retry_attempt += 1;
                self.set_refreshing(false, Some(e.error.to_string()));
                effects.push(Effect::SetTimer { delay_ms });
                self.release(false, effects);
                self.next_grant(now, effects);
            }
            Err(e) => self.end_session(e.error, effects),
        }
    }

    /// Resolves the callers waiting for a refresh, if any.
    fn release(&mut self, refreshed: bool, effects: &mut Vec<Effect>) {
        if self.waiting > 0 {
            self.waiting = 0;
            effects.push(Effect::ReleaseWaiters { refreshed });
        }
    }

    /// Resolves the callers waiting for `resource`'s token with `outcome`, and remembers whether
    /// the person must consent to it first.
    fn release_resource(
        &mut self,
        resource: String,
        outcome: ResourceOutcome,
        effects: &mut Vec<Effect>,
    ) {
        let needs_consent = matches!(outcome, ResourceOutcome::ConsentRequired(_));
        let changed = if needs_consent {
            self.needs_consent.insert(resource.clone())
        } else {
            self.needs_consent.remove(&resource)
        };
        if let (true, AuthState::SignedIn(signed_in)) = (changed, &mut self.state) {
            signed_in.consent_needed = self.needs_consent.iter().cloned().collect();
        }
        effects.push(Effect::ReleaseResourceWaiters { resource, outcome });
    }

    fn forget(&mut self, effects: &mut Vec<Effect>) {
        self.needs_consent.clear();
        self.claims.clear();
        self.claims_refused.clear();
        self.session = None;
        self.retry_attempt = 0;
        self.session_due = false;
        effects.push(Effect::CancelTimer);
        effects.push(Effect::ClearSession);
        self.release(false, effects);
        self.fail_wanted("the session ended", effects);
    }

    /// The provider (or the API) will not renew the session: drop it, keeping the route so
    /// signing in again returns here, and the username as the next sign-in's hint.
    fn end_session(&mut self, error: AuthError, effects: &mut Vec<Effect>) {
        let login_hint = self
            .session
            .as_ref()
            .and_then(|s| UserProfile::of(s, &self.config).username);
        self.forget(effects);
        let error = match error {
            AuthError::SessionEnded { .. } => error,
            other => AuthError::SessionEnded {
                detail: other.to_string(),
            },
        };
        self.state = AuthState::SessionEnded { login_hint, error };
    }
}

/// Tells the twin tabs holding `previous` that `renewed` replaces it.
fn tell_twins_renewed(previous: &Session, renewed: &Session, effects: &mut Vec<Effect>) {
    effects.push(Effect::Broadcast {
        message: TabMessage::Refreshed {
            previous: fingerprint(previous),
            session: renewed.clone(),
        },
        key: previous.handover_key.clone(),
    });
}

#[cfg(test)]
mod tests;
