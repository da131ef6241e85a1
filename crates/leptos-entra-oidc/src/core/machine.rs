//! The session as a pure state machine: `(state, event, now) → (state, effects)`.
//!
//! Everything that decides what happens to a sign-in lives here: start-up (restore or complete a
//! callback), when to refresh (lead time, jitter, catch-up after sleep or a background tab,
//! backoff while the provider is unreachable), one refresh at a time with the callers waiting for
//! it, access tokens for the other APIs (one refresh grant per API, in turn with the session's
//! own, since each one rotates the shared refresh token), the twin-tab hand-over, the API's 401 → one refresh → one retry, and the end of a session
//! the provider will not renew. The browser layer performs the `Effect`s (storage, fetch, timers,
//! history, Web Locks, BroadcastChannel) and reports back with `Event`s; it decides nothing.

use super::config::OidcConfig;
use super::error::AuthError;
use super::refresh::{self, RefreshFailure, ResourceFailure};
use super::session::{HandoverKey, Session, UserProfile};
use super::tab_sync::{fingerprint, TabAction, TabMessage};
use std::collections::BTreeSet;

/// Where the person stands, as the UI shows it. `Starting` is explicit so pages never flash the
/// signed-out view.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// Not known yet: the state until [`Event::Boot`] has been handled.
    Starting,
    /// Sign-in is switched off (an `AuthProvider` without configuration); the machine never
    /// enters it.
    Disabled,
    /// No session: none was stored, the person signed out (here or in a twin tab), or the
    /// sign-out ended locally.
    SignedOut,
    /// On the way to the identity provider (sign-in or sign-out).
    Redirecting,
    /// Redeeming the authorization code.
    Completing,
    /// A session is current; what the UI may know of it is in [`SignedIn`].
    SignedIn(SignedIn),
    /// The provider will not renew the session; the person must sign in again.
    SessionEnded {
        /// The ended session's `preferred_username`, sent as `login_hint` by the next
        /// [`Event::SignInRequested`].
        login_hint: Option<String>,
        /// Why it ended; always an [`AuthError::SessionEnded`].
        error: AuthError,
    },
    /// Signing in failed: discovery, the provider's answer, the callback, token or ID token
    /// checks, or the browser (storage, randomness, WebCrypto).
    Failed(AuthError),
}

/// What the UI knows about a signed-in session (never the tokens themselves).
#[derive(Clone, Debug, PartialEq)]
pub struct SignedIn {
    /// The person's details, roles and scopes, from the tokens' claims.
    pub profile: UserProfile,
    /// When the access token expires, in milliseconds since the epoch (this machine's clock).
    pub expires_at_ms: f64,
    /// When the session was last refreshed, in milliseconds since the epoch; `None` if never.
    pub refreshed_at_ms: Option<f64>,
    /// A refresh is under way.
    pub refreshing: bool,
    /// Set while a refresh keeps failing on the network.
    pub refresh_problem: Option<String>,
}

/// The time of a step, and a uniform number in `[0, 1)` for the refresh jitter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Now {
    /// Milliseconds since the epoch (`Date.now()`).
    pub ms: f64,
    /// Uniform in `[0, 1)`; spreads the refresh lead (see [`refresh::refresh_delay_ms`]).
    pub jitter: f64,
}

/// A failed refresh and what it means for the session.
#[derive(Clone, Debug, PartialEq)]
pub struct RefreshError {
    /// Retry with backoff, or end the session (see [`refresh::classify`]).
    pub failure: RefreshFailure,
    /// What went wrong: shown as [`SignedIn::refresh_problem`] while retrying, or as the
    /// [`AuthState::SessionEnded`] error.
    pub error: AuthError,
}

/// A failed refresh grant for one of the other APIs.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceError {
    /// What it means: consent needed, that API refused, the session is over, or try again.
    pub failure: ResourceFailure,
    /// What went wrong, for the message.
    pub error: AuthError,
}

/// What the callers waiting for a resource's token learn ([`Effect::ReleaseResourceWaiters`]).
#[derive(Clone, Debug, PartialEq)]
pub enum ResourceOutcome {
    /// The session holds a fresh token for it.
    Ready,
    /// The person has not consented to that API: signing in again for its scopes
    /// ([`Event::ConsentRequested`]) fixes it. Holds the provider's message.
    ConsentRequired(String),
    /// No token now; holds why.
    Failed(String),
}

/// What happened: an intent of the person, a timer, the browser, or the end of an effect.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The page started. `callback` holds the authorization response's parameters when the
    /// address bar carried one; `at_callback_path` says whether the page is the redirect URI.
    Boot {
        /// The session record from sessionStorage, if a valid one is there.
        stored: Option<Session>,
        /// The response's parameters (the fragment or query without `#`/`?`), if any.
        callback: Option<String>,
        /// Whether the path is the redirect URI's; a reload of the callback page goes to `/`.
        at_callback_path: bool,
    },
    /// The person asked to sign in, to come back to `return_to`.
    SignInRequested {
        /// A path (with query) on this site; anything else is replaced by `/`.
        return_to: String,
    },
    /// Starting the sign-in failed before the browser left (no discovery, no storage).
    SignInFailed(AuthError),
    /// The callback's code was redeemed and checked (or was not).
    SignInCompleted(Result<(Session, String), AuthError>),
    /// The refresh timer fired.
    TimerFired,
    /// The tab became visible, gained focus, came back online or was restored: timers may have
    /// been throttled or stopped meanwhile.
    WokeUp {
        /// Whether the page is visible; a hidden tab leaves the refresh to its timer.
        visible: bool,
    },
    /// The person pressed "refresh now", or an API call got a 401 and waits (`waiter`).
    RefreshRequested {
        /// The caller waits for the outcome, which [`Effect::ReleaseWaiters`] delivers.
        waiter: bool,
    },
    /// A caller needs a token for the resource `resource` (an id of `OidcConfig::resources`).
    /// The outcome comes as [`Effect::ReleaseResourceWaiters`] for that resource.
    ResourceWanted {
        /// The resource's id.
        resource: String,
    },
    /// The resource's API refused its token (401): drop it, so the next
    /// [`Event::ResourceWanted`] redeems a new one.
    ResourceRejected {
        /// The resource's id.
        resource: String,
    },
    /// The refresh grant for a resource finished: `Ok` holds the session with the resource's
    /// new token (and the rotated refresh token).
    ResourceFinished {
        /// The resource's id.
        resource: String,
        /// The new session, or what went wrong.
        result: Result<Session, ResourceError>,
    },
    /// The person asked to consent to a resource: sign in again for its scopes, coming back to
    /// `return_to`.
    ConsentRequested {
        /// The resource's id.
        resource: String,
        /// A path (with query) on this site.
        return_to: String,
    },
    /// The cross-tab refresh lock is held: refresh unless a twin already did.
    RefreshLockHeld,
    /// The refresh grant finished.
    RefreshFinished(Result<Session, RefreshError>),
    /// The browser refused to store the session.
    StorageRefused(String),
    /// A twin tab (same sessionStorage copy) refreshed or signed out.
    Twin(TabMessage),
    /// The API refused the session again after a refresh.
    ApiRejected,
    /// The person asked to sign out.
    SignOutRequested,
    /// The provider has no end-session endpoint: the sign-out was local only.
    SignedOutLocally,
}

/// What the browser layer must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Record a pending sign-in and send the browser to the provider.
    BeginSignIn {
        /// Where to come back to, from [`Event::SignInRequested`].
        return_to: String,
        /// The `login_hint` to send: the username of a session that ended, else `None`.
        login_hint: Option<String>,
        /// Sign in for this resource's scopes (to consent to it) instead of the session's.
        resource: Option<String>,
    },
    /// Redeem the authorization response's code; answer with `SignInCompleted`.
    CompleteSignIn {
        /// The authorization response's parameters, from [`Event::Boot`]'s `callback`.
        params: String,
    },
    /// (Re)arm the one refresh timer; answer with `TimerFired`.
    SetTimer {
        /// Milliseconds from now; never negative.
        delay_ms: f64,
    },
    /// Disarm the refresh timer, if armed. Nothing answers.
    CancelTimer,
    /// Take the origin-wide refresh lock; answer with `RefreshLockHeld` while holding it.
    AcquireRefreshLock,
    /// Redeem the refresh token (still holding the lock); answer with `RefreshFinished`.
    Redeem(Session),
    /// Redeem the refresh token for the resource `resource` (still holding the lock); answer
    /// with `ResourceFinished`.
    RedeemFor {
        /// The session whose refresh token to redeem.
        session: Session,
        /// The resource's id.
        resource: String,
    },
    /// Resolve every caller waiting for a token for `resource`.
    ReleaseResourceWaiters {
        /// The resource's id.
        resource: String,
        /// What they learn.
        outcome: ResourceOutcome,
    },
    /// Store the session in sessionStorage; answer `StorageRefused` if the browser will not.
    /// Always the last effect of a step, so a refusal's answer comes after everything else the
    /// step asked for and has the last word.
    Persist(Session),
    /// Delete the session record from sessionStorage. Nothing answers.
    ClearSession,
    /// Delete every pending sign-in (`<storage_prefix>.login.*`) from sessionStorage. Nothing answers.
    ClearPendingLogins,
    /// Tell the twin tabs: `message`, sealed with `key` (the session's hand-over key). Nothing
    /// answers.
    Broadcast {
        /// What to tell them.
        message: TabMessage,
        /// The hand-over key of the session the message is about.
        key: HandoverKey,
    },
    /// Resolve every caller waiting for a refresh: `true` if there is a fresh token to retry with.
    ReleaseWaiters {
        /// Whether the session was renewed (here or by a twin tab).
        refreshed: bool,
    },
    /// Navigate within the app with the router (no page load). Nothing answers.
    Navigate {
        /// A path on this site: the sign-in's `return_to`, or `/`.
        to: String,
        /// Replace the current history entry instead of pushing one.
        replace: bool,
    },
    /// Send the browser to the provider's end-session endpoint, or answer `SignedOutLocally`.
    EndProviderSession(Option<Session>),
}

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
                self.state = AuthState::Redirecting;
                effects.push(Effect::BeginSignIn {
                    return_to,
                    login_hint,
                    resource: None,
                });
            }
            Event::ConsentRequested {
                resource,
                return_to,
            } => {
                // The same person, so the provider need not ask which account.
                let login_hint = match &self.state {
                    AuthState::SignedIn(signed_in) => signed_in.profile.username.clone(),
                    _ => None,
                };
                self.state = AuthState::Redirecting;
                effects.push(Effect::BeginSignIn {
                    return_to,
                    login_hint,
                    resource: Some(resource),
                });
            }
            Event::ResourceWanted { resource } => self.want(resource, now, &mut effects),
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
            Event::SignInCompleted(Ok((session, return_to))) => {
                self.adopt(session.clone(), now, &mut effects);
                effects.push(Effect::Navigate {
                    to: return_to,
                    replace: true,
                });
                effects.push(Effect::Persist(session));
            }
            Event::SignInCompleted(Err(error)) => self.state = AuthState::Failed(error),
            Event::TimerFired => self.start_refresh(&mut effects),
            Event::WokeUp { visible } => {
                // Due once the timer could have fired: with the largest lead the jitter allows.
                let due = self
                    .session
                    .as_ref()
                    .is_some_and(|s| s.refresh_delay_ms(now.ms, 1.0) <= 0.0);
                if due && visible {
                    self.start_refresh(&mut effects);
                }
            }
            Event::RefreshRequested { waiter } => {
                if waiter {
                    self.waiting += 1;
                }
                self.start_refresh(&mut effects);
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
                    self.start_refresh(effects);
                }
            }
            None => self.state = AuthState::SignedOut,
        }
    }

    /// Makes `session` current and arms the refresh timer.
    fn adopt(&mut self, session: Session, now: Now, effects: &mut Vec<Effect>) {
        self.state = AuthState::SignedIn(SignedIn {
            profile: session.profile(&self.config),
            expires_at_ms: session.expires_at_ms,
            refreshed_at_ms: session.refreshed_at_ms,
            refreshing: self.refresh != Refresh::Idle,
            refresh_problem: None,
        });
        effects.push(Effect::SetTimer {
            delay_ms: session.refresh_delay_ms(now.ms, now.jitter),
        });
        self.session = Some(session);
    }

    fn set_refreshing(&mut self, refreshing: bool, problem: Option<String>) {
        if let AuthState::SignedIn(signed_in) = &mut self.state {
            signed_in.refreshing = refreshing;
            signed_in.refresh_problem = problem;
        }
    }

    /// Starts a refresh unless one is under way; without a session, waiting callers are told no.
    fn start_refresh(&mut self, effects: &mut Vec<Effect>) {
        if self.session.is_none() {
            self.release(false, effects);
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
            Some(_) => {
                self.wanted.insert(resource);
                self.request_lock(effects);
                return;
            }
        };
        effects.push(Effect::ReleaseResourceWaiters { resource, outcome });
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
        let Some(session) = &self.session else {
            self.fail_wanted("you are not signed in", effects);
            return;
        };
        if self.session_due {
            self.refresh = Refresh::Redeeming {
                fingerprint: fingerprint(session),
                resource: None,
            };
            effects.push(Effect::Redeem(session.clone()));
            return;
        }
        // A twin may have handed over some of them meanwhile.
        let ready: Vec<String> = (self.wanted.iter())
            .filter(|r| session.resource_token(r, now.ms).is_some())
            .cloned()
            .collect();
        for resource in ready {
            self.wanted.remove(&resource);
            effects.push(Effect::ReleaseResourceWaiters {
                resource,
                outcome: ResourceOutcome::Ready,
            });
        }
        if let Some(resource) = self.wanted.first().cloned() {
            self.refresh = Refresh::Redeeming {
                fingerprint: fingerprint(session),
                resource: Some(resource.clone()),
            };
            effects.push(Effect::RedeemFor {
                session: session.clone(),
                resource,
            });
        }
    }

    /// Tells every caller waiting for a resource that there will be no token.
    fn fail_wanted(&mut self, why: &str, effects: &mut Vec<Effect>) {
        for resource in std::mem::take(&mut self.wanted) {
            effects.push(Effect::ReleaseResourceWaiters {
                resource,
                outcome: ResourceOutcome::Failed(why.to_string()),
            });
        }
    }

    /// Ends the grant at the token endpoint if it is the one for `resource` (`None`: the
    /// session's own refresh), returning the fingerprint it redeemed; any other answer is stale.
    fn finish_redeeming(&mut self, resource: Option<&str>) -> Option<String> {
        match &self.refresh {
            Refresh::Redeeming {
                fingerprint,
                resource: redeeming,
            } if redeeming.as_deref() == resource => {
                let redeemed = fingerprint.clone();
                self.refresh = Refresh::Idle;
                Some(redeemed)
            }
            _ => None,
        }
    }

    fn resource_finished(
        &mut self,
        resource: String,
        result: Result<Session, ResourceError>,
        now: Now,
        effects: &mut Vec<Effect>,
    ) {
        let Some(redeemed) = self.finish_redeeming(Some(&resource)) else {
            return;
        };
        self.wanted.remove(&resource);
        let Some(previous) = self.session.clone() else {
            effects.push(Effect::ReleaseResourceWaiters {
                resource,
                outcome: ResourceOutcome::Failed("you signed out".into()),
            });
            return;
        };
        let outcome = match result {
            Ok(session) => {
                effects.push(Effect::Broadcast {
                    message: TabMessage::Refreshed {
                        previous: fingerprint(&previous),
                        session: session.clone(),
                    },
                    key: previous.handover_key.clone(),
                });
                self.adopt(session.clone(), now, effects);
                effects.push(Effect::ReleaseResourceWaiters {
                    resource,
                    outcome: ResourceOutcome::Ready,
                });
                self.next_grant(now, effects);
                effects.push(Effect::Persist(session));
                return;
            }
            Err(e)
                if e.failure == ResourceFailure::SessionEnded
                    && fingerprint(&previous) == redeemed =>
            {
                self.end_session(e.error, effects);
                return;
            }
            Err(e) if e.failure == ResourceFailure::ConsentRequired => {
                ResourceOutcome::ConsentRequired(e.error.to_string())
            }
            // Refused, a network failure, or a refresh token a twin has replaced meanwhile.
            Err(e) => ResourceOutcome::Failed(e.error.to_string()),
        };
        effects.push(Effect::ReleaseResourceWaiters { resource, outcome });
        self.next_grant(now, effects);
    }

    fn refresh_finished(
        &mut self,
        result: Result<Session, RefreshError>,
        now: Now,
        effects: &mut Vec<Effect>,
    ) {
        let Some(redeemed) = self.finish_redeeming(None) else {
            return;
        };
        self.session_due = false;
        let Some(previous) = self.session.clone() else {
            // Signed out while the refresh was at the token endpoint: drop its result.
            self.release(false, effects);
            return;
        };
        if result.is_err() && fingerprint(&previous) != redeemed {
            // A twin handed over a fresh session meanwhile; this tab's failure no longer matters.
            self.set_refreshing(false, None);
            self.release(true, effects);
            self.next_grant(now, effects);
            return;
        }
        match result {
            Ok(session) => {
                self.retry_attempt = 0;
                effects.push(Effect::Broadcast {
                    message: TabMessage::Refreshed {
                        previous: fingerprint(&previous),
                        session: session.clone(),
                    },
                    key: previous.handover_key.clone(),
                });
                self.adopt(session.clone(), now, effects);
                self.release(true, effects);
                self.next_grant(now, effects);
                effects.push(Effect::Persist(session));
            }
            Err(e)
                if e.failure == RefreshFailure::Retry
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

    fn forget(&mut self, effects: &mut Vec<Effect>) {
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
            .and_then(|s| s.profile(&self.config).username);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Resource;
    use crate::core::jwt::test_token;
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
        Machine::new(OidcConfig {
            resources: vec![
                Resource::new(
                    "alpha",
                    "Workspace alpha",
                    ["api://ws-a/user_impersonation"],
                ),
                Resource::new("beta", "Workspace beta", ["api://ws-b/user_impersonation"]),
            ],
            ..OidcConfig::new("https://idp/x", "ui").with_scopes(["api://api/API.call"])
        })
    }

    /// `session` after a grant for `resource` rotated its refresh token to `rotated`.
    fn with_resource(session: &Session, resource: &str, rotated: &str, ms: f64) -> Session {
        let tokens = TokenSet {
            access_token: test_token(
                &json!({"alg": "RS256"}),
                &json!({"aud": resource, "roles": ["WorkspaceOwner"]}),
            ),
            expires_in_s: 3600.0,
            refresh_token: Some(rotated.into()),
            id_token: None,
            scope: None,
        };
        session.with_resource_token(resource, tokens, ms)
    }

    fn kinds(effects: &[Effect]) -> Vec<&'static str> {
        effects.iter().map(kind).collect()
    }

    /// A refresh grant's answer for the session's own API.
    fn tokens_for_refresh() -> TokenSet {
        TokenSet {
            access_token: test_token(&json!({"alg": "RS256"}), &json!({"scp": "API.call"})),
            expires_in_s: 3600.0,
            refresh_token: None,
            id_token: None,
            scope: None,
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

    fn resource_error(failure: ResourceFailure, detail: &str) -> ResourceError {
        ResourceError {
            failure,
            error: AuthError::SessionEnded {
                detail: detail.into(),
            },
        }
    }

    /// A one-hour session obtained at `obtained_ms` whose refresh token is `refresh`.
    fn session(refresh: &str, obtained_ms: f64) -> Session {
        Session::from_tokens(
            TokenSet {
                access_token: test_token(
                    &json!({"alg": "RS256"}),
                    &json!({"roles": ["Study.Read"], "scp": "API.call"}),
                ),
                expires_in_s: 3600.0,
                refresh_token: Some(refresh.into()),
                id_token: Some(test_token(
                    &json!({"alg": "RS256"}),
                    &json!({"sub": "s", "name": "Rita Reader", "preferred_username": "rita@x"}),
                )),
                scope: None,
            },
            &[5; 32],
            obtained_ms,
        )
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
            [Effect::Redeem(s)] => s.clone(),
            other => panic!("expected a redeem, got {other:?}"),
        }
    }

    fn network_failure() -> RefreshError {
        RefreshError {
            failure: RefreshFailure::Retry,
            error: AuthError::Network {
                during: "refreshing the session",
                url: "https://idp/token".into(),
                detail: "no answer within 20 seconds".into(),
            },
        }
    }

    fn invalid_grant() -> RefreshError {
        RefreshError {
            failure: RefreshFailure::SessionEnded,
            error: AuthError::SessionEnded {
                detail: "invalid_grant: AADSTS700084".into(),
            },
        }
    }

    #[test]
    fn boot_table() {
        let fresh = session("r", T0.ms);
        let stale = session("r", T0.ms - 61.0 * MINUTE);
        // (stored, callback, at callback path) → (state, effects)
        type Case = (
            Option<Session>,
            Option<&'static str>,
            bool,
            &'static str,
            Vec<Effect>,
        );
        let cases: Vec<Case> = vec![
            (None, None, false, "SignedOut", vec![]),
            (
                Some(fresh.clone()),
                None,
                false,
                "SignedIn",
                vec![Effect::SetTimer {
                    delay_ms: 60.0 * MINUTE - 1.5 * MINUTE,
                }],
            ),
            (
                Some(stale),
                None,
                false,
                "SignedIn",
                vec![
                    Effect::SetTimer { delay_ms: 0.0 },
                    Effect::AcquireRefreshLock,
                ],
            ),
            (
                Some(fresh),
                Some("code=c&state=s"),
                true,
                "Completing",
                vec![Effect::CompleteSignIn {
                    params: "code=c&state=s".into(),
                }],
            ),
            (
                None,
                None,
                true,
                "SignedOut",
                vec![Effect::Navigate {
                    to: "/".into(),
                    replace: true,
                }],
            ),
        ];
        for (stored, callback, at_callback_path, state, effects) in cases {
            let mut m = machine();
            let got = m.step(
                Event::Boot {
                    stored,
                    callback: callback.map(String::from),
                    at_callback_path,
                },
                T0,
            );
            assert!(
                format!("{:?}", m.state()).starts_with(state),
                "{state}: {:?}",
                m.state()
            );
            assert_eq!(got, effects, "{state}");
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

        let mut failed = machine();
        let error = AuthError::Callback(crate::core::callback::CallbackError::UnknownState);
        assert!(failed
            .step(Event::SignInCompleted(Err(error.clone())), T0)
            .is_empty());
        assert_eq!(failed.state(), &AuthState::Failed(error));
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
        let error = AuthError::Browser("storage disabled".into());
        assert!(m.step(Event::SignInFailed(error.clone()), T0).is_empty());
        assert_eq!(m.state(), &AuthState::Failed(error));
    }

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
            [Effect::Redeem(s)] => s.clone(),
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
                }]
            );
        }
    }

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
    fn a_refresh_result_after_sign_out_is_dropped() {
        let mut m = signed_in("r");
        let _ = to_token_endpoint(&mut m, Event::TimerFired);
        m.step(Event::SignOutRequested, T0);
        assert!(m
            .step(Event::RefreshFinished(Ok(session("r2", T0.ms))), T0)
            .is_empty());
        assert_eq!(m.session(), None);
    }

    #[test]
    fn storage_refusal_says_why_and_keeps_nothing() {
        // The session is persisted last, so the refusal's answer has the last word.
        let s = session("r", T0.ms);
        let mut m = machine();
        let effects = m.step(Event::SignInCompleted(Ok((s.clone(), "/".into()))), T0);
        assert_eq!(effects.last(), Some(&Effect::Persist(s)));
        let effects = m.step(Event::StorageRefused("full".into()), T0);
        assert_eq!(
            m.state(),
            &AuthState::Failed(AuthError::Browser("full".into()))
        );
        assert!(effects.contains(&Effect::CancelTimer));
        assert_eq!(m.session(), None);
        let mut completing = machine();
        completing.step(
            Event::Boot {
                stored: None,
                callback: Some("code=c&state=s".into()),
                at_callback_path: true,
            },
            T0,
        );
        completing.step(Event::StorageRefused("disabled".into()), T0);
        assert_eq!(
            completing.state(),
            &AuthState::Failed(AuthError::Browser("disabled".into()))
        );
    }

    /// The name of an effect's kind, for the transition table.
    fn kind(effect: &Effect) -> &'static str {
        match effect {
            Effect::BeginSignIn { .. } => "BeginSignIn",
            Effect::CompleteSignIn { .. } => "CompleteSignIn",
            Effect::SetTimer { .. } => "SetTimer",
            Effect::CancelTimer => "CancelTimer",
            Effect::AcquireRefreshLock => "AcquireRefreshLock",
            Effect::Redeem(_) => "Redeem",
            Effect::RedeemFor { .. } => "RedeemFor",
            Effect::ReleaseResourceWaiters { .. } => "ReleaseResourceWaiters",
            Effect::Persist(_) => "Persist",
            Effect::ClearSession => "ClearSession",
            Effect::ClearPendingLogins => "ClearPendingLogins",
            Effect::Broadcast { .. } => "Broadcast",
            Effect::ReleaseWaiters { .. } => "ReleaseWaiters",
            Effect::Navigate { .. } => "Navigate",
            Effect::EndProviderSession(_) => "EndProviderSession",
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

    /// Every event from the state it matters in: the state after it and the kinds of effects it
    /// asks for, in order. (Boot and wake-up have tables of their own above.)
    #[test]
    fn transition_table() {
        let r1 = || fingerprint(&session("r1", T0.ms));
        let error = || AuthError::Browser("no storage".into());
        // A twin's hand-over of the session renewed from the one with fingerprint `previous`.
        let handed_over = |previous: String| {
            Event::Twin(TabMessage::Refreshed {
                previous,
                session: session("r2", T0.ms),
            })
        };
        type Case = (
            &'static str,
            fn() -> Machine,
            Event,
            &'static str,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "signed out",
                signed_out,
                Event::SignInRequested {
                    return_to: "/".into(),
                },
                "Redirecting",
                vec!["BeginSignIn"],
            ),
            (
                "redirecting",
                redirecting,
                Event::SignInFailed(error()),
                "Failed",
                vec![],
            ),
            (
                "completing",
                completing,
                Event::SignInCompleted(Ok((session("r1", T0.ms), "/v".into()))),
                "SignedIn",
                vec!["SetTimer", "Navigate", "Persist"],
            ),
            (
                "completing",
                completing,
                Event::SignInCompleted(Err(error())),
                "Failed",
                vec![],
            ),
            (
                "completing",
                completing,
                Event::StorageRefused("full".into()),
                "Failed",
                vec!["CancelTimer", "ClearSession"],
            ),
            (
                "signed in",
                signed_in_r1,
                Event::TimerFired,
                "SignedIn",
                vec!["AcquireRefreshLock"],
            ),
            (
                "signed in",
                signed_in_r1,
                Event::RefreshRequested { waiter: false },
                "SignedIn",
                vec!["AcquireRefreshLock"],
            ),
            (
                "locking",
                locking,
                Event::RefreshRequested { waiter: true },
                "SignedIn",
                vec![],
            ),
            ("locking", locking, Event::TimerFired, "SignedIn", vec![]),
            (
                "locking",
                locking,
                Event::RefreshLockHeld,
                "SignedIn",
                vec!["Redeem"],
            ),
            (
                "redeeming",
                redeeming,
                Event::RefreshFinished(Ok(session("r2", T0.ms))),
                "SignedIn",
                vec!["Broadcast", "SetTimer", "ReleaseWaiters", "Persist"],
            ),
            (
                "redeeming",
                redeeming,
                Event::RefreshFinished(Err(network_failure())),
                "SignedIn",
                vec!["SetTimer", "ReleaseWaiters"],
            ),
            (
                "redeeming",
                redeeming,
                Event::RefreshFinished(Err(invalid_grant())),
                "SessionEnded",
                vec!["CancelTimer", "ClearSession", "ReleaseWaiters"],
            ),
            (
                "redeeming",
                redeeming,
                Event::ApiRejected,
                "SessionEnded",
                vec!["CancelTimer", "ClearSession", "ReleaseWaiters"],
            ),
            (
                "signed in",
                signed_in_r1,
                Event::StorageRefused("full".into()),
                "Failed",
                vec!["CancelTimer", "ClearSession"],
            ),
            (
                "signed in",
                signed_in_r1,
                handed_over(r1()),
                "SignedIn",
                vec!["SetTimer", "Persist"],
            ),
            (
                "locking",
                locking,
                handed_over(r1()),
                "SignedIn",
                vec!["SetTimer", "Persist"],
            ),
            (
                "signed in",
                signed_in_r1,
                handed_over("other".into()),
                "SignedIn",
                vec![],
            ),
            (
                "signed in",
                signed_in_r1,
                Event::Twin(TabMessage::SignedOut { previous: r1() }),
                "SignedOut",
                vec!["CancelTimer", "ClearSession", "Navigate"],
            ),
            (
                "signed out",
                signed_out,
                Event::Twin(TabMessage::SignedOut { previous: r1() }),
                "SignedOut",
                vec![],
            ),
            (
                "signed in",
                signed_in_r1,
                Event::ApiRejected,
                "SessionEnded",
                vec!["CancelTimer", "ClearSession"],
            ),
            (
                "signed in",
                signed_in_r1,
                Event::SignOutRequested,
                "Redirecting",
                vec![
                    "Broadcast",
                    "CancelTimer",
                    "ClearSession",
                    "ClearPendingLogins",
                    "EndProviderSession",
                ],
            ),
            (
                "locking",
                locking,
                Event::SignOutRequested,
                "Redirecting",
                vec![
                    "Broadcast",
                    "CancelTimer",
                    "ClearSession",
                    "ReleaseWaiters",
                    "ClearPendingLogins",
                    "EndProviderSession",
                ],
            ),
            (
                "redirecting",
                redirecting,
                Event::SignedOutLocally,
                "SignedOut",
                vec!["Navigate"],
            ),
            (
                "signed out",
                signed_out,
                Event::RefreshLockHeld,
                "SignedOut",
                vec![],
            ),
            (
                "signed out",
                signed_out,
                Event::RefreshFinished(Ok(session("r2", T0.ms))),
                "SignedOut",
                vec![],
            ),
            (
                "signed in",
                signed_in_r1,
                wanted("alpha"),
                "SignedIn",
                vec!["AcquireRefreshLock"],
            ),
            (
                "refresh at the token endpoint",
                redeeming,
                wanted("alpha"),
                "SignedIn",
                vec![],
            ),
            (
                "signed out",
                signed_out,
                wanted("alpha"),
                "SignedOut",
                vec!["ReleaseResourceWaiters"],
            ),
            (
                "fetching alpha",
                fetching_alpha,
                Event::ResourceFinished {
                    resource: "alpha".into(),
                    result: Ok(with_resource(&session("r1", T0.ms), "alpha", "r2", T0.ms)),
                },
                "SignedIn",
                vec!["Broadcast", "SetTimer", "ReleaseResourceWaiters", "Persist"],
            ),
            (
                "fetching alpha",
                fetching_alpha,
                Event::ResourceFinished {
                    resource: "alpha".into(),
                    result: Err(resource_error(
                        ResourceFailure::ConsentRequired,
                        "AADSTS65001",
                    )),
                },
                "SignedIn",
                vec!["ReleaseResourceWaiters"],
            ),
            (
                "fetching alpha",
                fetching_alpha,
                Event::ResourceFinished {
                    resource: "alpha".into(),
                    result: Err(resource_error(ResourceFailure::Retry, "offline")),
                },
                "SignedIn",
                vec!["ReleaseResourceWaiters"],
            ),
            (
                "fetching alpha",
                fetching_alpha,
                Event::ResourceFinished {
                    resource: "alpha".into(),
                    result: Err(resource_error(
                        ResourceFailure::SessionEnded,
                        "invalid_grant",
                    )),
                },
                "SessionEnded",
                vec!["CancelTimer", "ClearSession"],
            ),
            (
                "signed out",
                signed_out,
                Event::ResourceFinished {
                    resource: "alpha".into(),
                    result: Ok(session("r2", T0.ms)),
                },
                "SignedOut",
                vec![],
            ),
            (
                "signed in",
                signed_in_r1,
                Event::ResourceRejected {
                    resource: "alpha".into(),
                },
                "SignedIn",
                vec![],
            ),
            (
                "signed in",
                signed_in_r1,
                Event::ConsentRequested {
                    resource: "alpha".into(),
                    return_to: "/views/ws".into(),
                },
                "Redirecting",
                vec!["BeginSignIn"],
            ),
        ];
        for (from, start, event, state, effects) in cases {
            let mut m = start();
            let what = format!("{from} + {event:?}");
            let got: Vec<&str> = m.step(event, T0).iter().map(kind).collect();
            assert_eq!(got, effects, "{what}");
            assert!(
                format!("{:?}", m.state()).starts_with(state),
                "{what} -> {:?}",
                m.state()
            );
        }
    }

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
                resource: "alpha".into()
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
                "Broadcast",
                "SetTimer",
                "ReleaseResourceWaiters",
                "Redeem",
                "Persist"
            ]
        );
        assert!(
            effects.contains(&Effect::Redeem(s2.clone())),
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
                "Broadcast",
                "SetTimer",
                "ReleaseWaiters",
                "RedeemFor",
                "Persist"
            ]
        );
        assert!(
            effects.contains(&Effect::RedeemFor {
                session: s3.clone(),
                resource: "alpha".into()
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
            vec!["Broadcast", "SetTimer", "ReleaseResourceWaiters", "Persist"],
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
                result: Err(resource_error(
                    ResourceFailure::ConsentRequired,
                    "AADSTS65001",
                )),
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
                    resource: "beta".into()
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
                result: Err(resource_error(ResourceFailure::Refused, "invalid_scope")),
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
                result: Err(resource_error(
                    ResourceFailure::SessionEnded,
                    "invalid_grant",
                )),
            },
            T0,
        );
        assert_eq!(
            kinds(&effects),
            vec!["CancelTimer", "ClearSession", "ReleaseResourceWaiters"]
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
}
