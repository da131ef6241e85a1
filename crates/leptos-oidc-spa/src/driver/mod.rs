//! The effect interpreter: it feeds events to the session's state machine (`core::machine`) and
//! performs the effects the machine returns, through the small [`Browser`] trait, so that the
//! refresh-lock loop, the callers waiting for a refresh or a token, and the API call's one retry
//! run natively in tests against a fake browser. It decides nothing: every decision is the
//! machine's or `core::api_call`'s.

use crate::api_error::{ApiError, StepUpRequest};
use crate::core::api_call::{self, Answer, Next, PerTarget, Target};
use crate::core::challenge::StepUp;
use crate::core::config::OidcConfig;
use crate::core::dpop::{self, DpopKeyRef};
use crate::core::error::{AuthError, BrowserError};
use crate::core::machine::{
    AuthState, ClaimsRefusal, Effect, Event, GrantError, Machine, Now, ResourceOutcome,
};
use crate::core::profile::UserProfile;
use crate::core::roles::RoleImplication;
use crate::core::session::{HandoverKey, Session};
use crate::core::tab_sync::TabMessage;
use crate::exchange::{HttpError, HttpRequest, HttpResponse};
use futures_channel::oneshot;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

/// What the interpreter needs from the browser: one method per kind of effect, plus the clock,
/// a way to run work in the background, and `fetch` for API calls. The real one is
/// `web::WebBrowser`; the tests' one is scripted.
#[allow(async_fn_in_trait)] // crate-private; every implementation is single-threaded
pub(crate) trait Browser: 'static {
    /// The time of a step and a fresh jitter.
    fn now(&self) -> Now;
    /// Runs `task` in the background.
    fn spawn(&self, task: impl Future<Output = ()> + 'static);
    /// (Re)arms the one refresh timer; `fire` runs when it goes off.
    fn set_timer(&self, delay_ms: f64, fire: impl FnOnce() + 'static);
    /// Disarms the refresh timer, if armed.
    fn cancel_timer(&self);
    /// Runs `task` while holding the origin-wide refresh lock (or without it, where the browser
    /// has none: a refresh never hangs on the lock).
    async fn with_refresh_lock(&self, task: impl Future<Output = ()> + 'static);
    /// Stores the session record.
    fn persist(&self, session: &Session) -> Result<(), BrowserError>;
    /// Deletes the session record.
    fn clear_session(&self);
    /// Deletes every pending sign-in.
    fn clear_pending_logins(&self);
    /// Seals `message` with `key` and posts it to the twin tabs (best effort).
    fn broadcast(&self, message: TabMessage, key: HandoverKey);
    /// Navigates within the app.
    fn navigate(&self, to: &str, replace: bool);
    /// Shows the machine's new state to the UI.
    fn publish(&self, state: &AuthState);
    /// A session began: signed in, restored at start-up, or completed on the callback page.
    fn session_began(&self, profile: &UserProfile);
    /// The session ended: signed out (here or in a twin tab), or ended by the provider.
    fn session_ended(&self);
    /// Records a pending sign-in and leaves for the provider.
    async fn begin_sign_in(
        &self,
        return_to: String,
        login_hint: Option<String>,
        resource: Option<String>,
        step_up: Option<StepUp>,
        silent: bool,
    ) -> Result<(), AuthError>;
    /// Redeems the authorization response: the new session and the route to return to.
    async fn complete_sign_in(&self, params: String) -> Result<(Session, String), AuthError>;
    /// Redeems the refresh token for the session's own scopes, with the claims its API asked
    /// for, if any.
    async fn refresh(
        &self,
        session: Session,
        claims: Option<String>,
    ) -> Result<Session, GrantError>;
    /// Redeems the refresh token for the resource `resource`, with the claims its API asked
    /// for, if any.
    async fn redeem_for(
        &self,
        session: Session,
        resource: String,
        claims: Option<String>,
    ) -> Result<Session, GrantError>;
    /// What the sign-in this page returned from gave an API (the loop guard's memory: the API
    /// and the challenge's key), once.
    fn take_answered_step_up(&self) -> Option<(Target, String)>;
    /// Leaves for the provider's end-session endpoint; `false` when it has none (or the browser
    /// would not go), so the sign-out was local.
    async fn end_provider_session(&self, session: Option<Session>) -> bool;
    /// Sends an API request and reads the whole response.
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;
    /// A DPoP proof of `key` for a `method` request of `url` carrying `access_token` (RFC 9449
    /// §7), with the last nonce that server gave.
    async fn dpop_proof(
        &self,
        key: &DpopKeyRef,
        method: &str,
        url: &str,
        access_token: &str,
    ) -> Result<String, BrowserError>;
    /// Remembers the nonce the server of `url` gave, for its next proofs.
    fn note_dpop_nonce(&self, url: &str, nonce: &str);
}

/// An access token as a call carries it: the token, and the key it is bound to when it is a
/// DPoP token (sent with a proof of that key; a Bearer token otherwise).
pub(crate) struct Credential {
    pub token: String,
    pub dpop: Option<DpopKeyRef>,
}

/// The machine, the browser, and the callers waiting for the machine's answers.
pub(crate) struct Driver<B: Browser> {
    browser: B,
    machine: RefCell<Machine>,
    /// Callers waiting for the refresh in flight (API calls that got a 401).
    waiters: RefCell<Vec<oneshot::Sender<bool>>>,
    /// Callers waiting for a resource's token, with the resource's id.
    resource_waiters: RefCell<Vec<(String, oneshot::Sender<ResourceOutcome>)>>,
    /// The key of the challenge each API asked for last and was given, until it answers
    /// without one.
    answered: RefCell<PerTarget<String>>,
}

impl<B: Browser> Driver<B> {
    /// A driver for `config`, its machine not started (the first event is `Event::Boot`).
    pub fn new(browser: B, config: OidcConfig) -> Rc<Driver<B>> {
        Rc::new(Driver {
            browser,
            machine: RefCell::new(Machine::new(config)),
            waiters: RefCell::new(Vec::new()),
            resource_waiters: RefCell::new(Vec::new()),
            answered: RefCell::default(),
        })
    }

    /// The browser it drives.
    pub fn browser(&self) -> &B {
        &self.browser
    }

    /// The configuration the machine was built with.
    pub fn config(&self) -> OidcConfig {
        self.machine.borrow().config().clone()
    }

    /// How the configuration says roles imply one another.
    pub fn role_implication(&self) -> RoleImplication {
        self.machine.borrow().config().role_implication
    }

    /// The current session, if any.
    pub fn session(&self) -> Option<Session> {
        self.machine.borrow().session().cloned()
    }

    /// Feeds `event` to the machine, publishes its new state and performs its effects, in
    /// order. Returns the effects, for the caller that holds the refresh lock.
    pub fn dispatch(self: &Rc<Self>, event: Event) -> Vec<Effect> {
        let now = self.browser.now();
        let (before, had_session, state, has_session, effects) = {
            let mut machine = self.machine.borrow_mut();
            let before = machine.state().clone();
            let had_session = machine.session().is_some();
            let effects = machine.step(event, now);
            let has_session = machine.session().is_some();
            (
                before,
                had_session,
                machine.state().clone(),
                has_session,
                effects,
            )
        };
        if state != before {
            self.browser.publish(&state);
        }
        match (had_session, has_session, &state) {
            (false, true, AuthState::SignedIn(signed_in)) => {
                self.browser.session_began(&signed_in.profile)
            }
            (true, false, _) => self.browser.session_ended(),
            _ => {}
        }
        for effect in &effects {
            self.perform(effect.clone());
        }
        effects
    }

    fn perform(self: &Rc<Self>, effect: Effect) {
        match effect {
            Effect::BeginSignIn {
                return_to,
                login_hint,
                resource,
                step_up,
                silent,
            } => {
                let driver = self.clone();
                self.browser.spawn(async move {
                    let started = (driver.browser)
                        .begin_sign_in(return_to, login_hint, resource, step_up, silent);
                    if let Err(error) = started.await {
                        driver.dispatch(Event::SignInFailed(error));
                    }
                });
            }
            Effect::CompleteSignIn { params } => {
                let driver = self.clone();
                self.browser.spawn(async move {
                    let result = driver.browser.complete_sign_in(params).await;
                    driver.dispatch(Event::SignInCompleted(result));
                });
            }
            Effect::SetTimer { delay_ms } => {
                let driver = Rc::downgrade(self);
                self.browser.set_timer(delay_ms, move || {
                    if let Some(driver) = driver.upgrade() {
                        driver.dispatch(Event::TimerFired);
                    }
                });
            }
            Effect::CancelTimer => self.browser.cancel_timer(),
            Effect::AcquireRefreshLock => {
                let driver = self.clone();
                self.browser.spawn(async move {
                    let holder = driver.clone();
                    driver
                        .browser
                        .with_refresh_lock(holder.hold_refresh_lock())
                        .await;
                });
            }
            // Performed by the lock holder, which keeps the lock until it is done.
            Effect::Redeem { .. } | Effect::RedeemFor { .. } => {}
            Effect::Persist(session) => {
                if let Err(why) = self.browser.persist(&session) {
                    self.dispatch(Event::StorageRefused(why));
                }
            }
            Effect::ClearSession => self.browser.clear_session(),
            Effect::ClearPendingLogins => self.browser.clear_pending_logins(),
            Effect::Broadcast { message, key } => self.browser.broadcast(message, key),
            Effect::ReleaseWaiters { refreshed } => {
                for waiter in self.waiters.take() {
                    let _ = waiter.send(refreshed);
                }
            }
            Effect::ReleaseResourceWaiters { resource, outcome } => {
                let (theirs, others): (Vec<_>, Vec<_>) = (self.resource_waiters.take())
                    .into_iter()
                    .partition(|(id, _)| *id == resource);
                *self.resource_waiters.borrow_mut() = others;
                for (_, waiter) in theirs {
                    let _ = waiter.send(outcome.clone());
                }
            }
            Effect::Navigate { to, replace } => self.browser.navigate(&to, replace),
            Effect::EndProviderSession(session) => {
                let driver = self.clone();
                self.browser.spawn(async move {
                    if !driver.browser.end_provider_session(session).await {
                        driver.dispatch(Event::SignedOutLocally);
                    }
                });
            }
        }
    }

    /// Under the refresh lock: everything due is redeemed in turn, since each grant rotates the
    /// refresh token the next one uses; the lock goes when the machine asks for no more.
    async fn hold_refresh_lock(self: Rc<Self>) {
        let mut effects = self.dispatch(Event::RefreshLockHeld);
        loop {
            let grant = effects.into_iter().find_map(|effect| match effect {
                Effect::Redeem { session, claims } => Some((session, None, claims)),
                Effect::RedeemFor {
                    session,
                    resource,
                    claims,
                } => Some((session, Some(resource), claims)),
                _ => None,
            });
            effects = match grant {
                Some((session, None, claims)) => {
                    let result = self.browser.refresh(session, claims).await;
                    self.dispatch(Event::RefreshFinished(result))
                }
                Some((session, Some(resource), claims)) => {
                    let redeemed = self.browser.redeem_for(session, resource.clone(), claims);
                    let result = redeemed.await;
                    self.dispatch(Event::ResourceFinished { resource, result })
                }
                None => break,
            };
        }
    }

    /// Refreshes (joining a refresh in flight) and resolves to whether there is a fresh access
    /// token to retry with.
    pub async fn refresh_and_wait(self: &Rc<Self>) -> bool {
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().push(tx);
        self.dispatch(Event::RefreshRequested { waiter: true });
        rx.await.unwrap_or(false)
    }

    /// An access token for the resource `id`: the session's if still fresh, else redeemed
    /// with the refresh token (in turn with any other grant) and kept. `Err` says why there is
    /// none.
    pub async fn resource_token(self: &Rc<Self>, id: &str) -> Result<Credential, ResourceOutcome> {
        let (tx, rx) = oneshot::channel();
        self.resource_waiters
            .borrow_mut()
            .push((id.to_string(), tx));
        self.dispatch(Event::ResourceWanted {
            resource: id.to_string(),
        });
        let outcome = rx
            .await
            .unwrap_or_else(|_| ResourceOutcome::Failed("the page is closing".into()));
        if outcome != ResourceOutcome::Ready {
            return Err(outcome);
        }
        self.credential(&Target::Resource(id.to_string()))
            .ok_or_else(|| ResourceOutcome::Failed("the token expired at once".into()))
    }

    /// The token a call to `target` would carry now, if the session holds a fresh one, and
    /// the key it is bound to.
    fn credential(&self, target: &Target) -> Option<Credential> {
        let now = self.browser.now().ms;
        let machine = self.machine.borrow();
        let session = machine.session()?;
        let (token, bound) = match target {
            Target::Session => (session.access_token.clone(), session.dpop_bound),
            Target::Resource(id) => {
                let token = session.resources.get(id).filter(|t| t.is_fresh(now))?;
                (token.access_token.clone(), token.dpop_bound)
            }
        };
        Some(Credential {
            token,
            dpop: session.dpop.clone().filter(|_| bound),
        })
    }

    /// The access token a call to `target` would carry now: the session's (refreshed first if
    /// it has expired, as after the machine slept), or the resource's (obtained first if none
    /// is held).
    pub async fn current_token(self: &Rc<Self>, target: &Target) -> Result<String, ApiError> {
        let now = self.browser.now().ms;
        let expired = (self.machine.borrow().session())
            .is_some_and(|session| session.is_access_token_expired(now));
        if *target == Target::Session && expired {
            self.refresh_and_wait().await;
        }
        self.token_for(target)
            .await
            .map(|credential| credential.token)
    }

    /// The access token a call to `target` carries now: the session's, or the resource's
    /// (obtained first if need be).
    async fn token_for(self: &Rc<Self>, target: &Target) -> Result<Credential, ApiError> {
        match target {
            Target::Session => (self.credential(target)).ok_or(ApiError::NotSignedIn),
            Target::Resource(id) if self.machine.borrow().config().resource(id).is_none() => {
                Err(ApiError::UnknownApi(id.clone()))
            }
            Target::Resource(id) => self.resource_token(id).await.map_err(|outcome| {
                let api = self.api_name(id);
                match outcome {
                    ResourceOutcome::ConsentRequired(message) => ApiError::ConsentRequired {
                        api: id.clone(),
                        name: api,
                        message,
                    },
                    ResourceOutcome::Failed(reason) => ApiError::NoToken { api, reason },
                    ResourceOutcome::Ready => ApiError::NoToken {
                        api,
                        reason: "it expired at once".into(),
                    },
                }
            }),
        }
    }

    /// How the UI names the API `id`.
    fn api_name(&self, id: &str) -> String {
        let machine = self.machine.borrow();
        (machine.config().resource(id)).map_or_else(|| id.to_string(), |r| r.name.clone())
    }

    /// Takes over what the sign-in this page returned from gave an API, so the loop guard
    /// remembers it (called once, at start-up).
    pub fn recall_answered_step_up(&self) {
        if let Some((target, key)) = self.browser.take_answered_step_up() {
            self.answered.borrow_mut().insert(target, key);
        }
    }

    /// Sends `request` to `target` with its access token. A 401 gets one fresh token (a
    /// refresh, or a new grant for that API alone) and one more try; a second 401 from the
    /// session's API ends the session (see `core::api_call`).
    pub async fn call(
        self: &Rc<Self>,
        request: HttpRequest,
        target: Target,
    ) -> Result<HttpResponse, ApiError> {
        let mut attempt = 1;
        let mut nonce_given = false;
        loop {
            let Credential { token, dpop } = self.token_for(&target).await?;
            let mut sent = request.clone();
            let url = sent.url.clone();
            match &dpop {
                None => sent.headers.set("Authorization", format!("Bearer {token}")),
                Some(key) => {
                    let method = sent.method.as_str().to_string();
                    let proof = (self.browser.dpop_proof(key, &method, &url, &token).await)
                        .map_err(|e| ApiError::NoToken {
                            api: self.target_name(&target),
                            reason: e.to_string(),
                        })?;
                    sent.headers.set("Authorization", format!("DPoP {token}"));
                    sent.headers.set("DPoP", proof);
                }
            }
            let response =
                (self.browser.fetch(sent).await).map_err(|e| ApiError::from_http(&url, e))?;
            // A DPoP API may give a nonce with any answer, and demand one once (RFC 9449 §9).
            let nonce = dpop.as_ref().and(response.headers.get("dpop-nonce"));
            if let Some(nonce) = nonce {
                self.browser.note_dpop_nonce(&url, nonce);
                let challenge = response.headers.get("www-authenticate");
                let demanded = dpop::demanded_nonce(response.status, Some(nonce), "", challenge);
                if demanded.is_some() && !nonce_given {
                    nonce_given = true;
                    continue;
                }
            }
            // Only a 401's challenge means anything to the call (`api_call::after_response`).
            let challenge = (response.status == 401)
                .then(|| response.headers.get("www-authenticate"))
                .flatten()
                .and_then(StepUp::from_header);
            let answer = Answer {
                status: response.status,
                carried_token: true,
                challenge: challenge.as_ref(),
            };
            let answered = self.answered.borrow().get(&target).cloned();
            let next = api_call::after_response(&target, attempt, answer, answered.as_deref());
            if response.status != 401 {
                self.answered.borrow_mut().remove(&target);
            }
            match next {
                Next::Done => return Ok(response),
                Next::RefreshAndRetry => {
                    if !self.refresh_and_wait().await {
                        return Ok(response);
                    }
                }
                Next::RenewAndRetry => {
                    if let Target::Resource(resource) = &target {
                        self.dispatch(Event::ResourceRejected {
                            resource: resource.clone(),
                        });
                    }
                }
                Next::EndSession => {
                    self.dispatch(Event::ApiRejected);
                    return Err(ApiError::SessionEnded);
                }
                Next::ClaimsAndRetry(claims) => {
                    let asked = challenge.unwrap_or(StepUp::Claims {
                        claims: claims.clone(),
                    });
                    (self.answered.borrow_mut()).insert(target.clone(), asked.key());
                    match self.redeem_claims(&target, claims).await {
                        Ok(true) => {}
                        Ok(false) => return Ok(response),
                        Err(error) => return Err(self.step_up_error(&target, asked, error)),
                    }
                }
                Next::SignInToStepUp(step_up) => {
                    let request = StepUpRequest {
                        resource: resource_of(&target),
                        step_up,
                    };
                    return Err(ApiError::StepUpRequired {
                        name: self.target_name(&target),
                        asked: request.describe(),
                        request,
                    });
                }
                Next::Repeated(step_up) => {
                    self.answered.borrow_mut().remove(&target);
                    return Err(ApiError::ChallengeRepeated {
                        name: self.target_name(&target),
                        asked: step_up.describe(),
                    });
                }
            }
            attempt += 1;
        }
    }

    /// Redeems the refresh token for `target` with `claims`: `Ok(true)` when a new token is
    /// there to try again with, `Ok(false)` when none came for a passing reason (the network),
    /// `Err` with the provider's refusal.
    async fn redeem_claims(
        self: &Rc<Self>,
        target: &Target,
        claims: String,
    ) -> Result<bool, ClaimsRefusal> {
        let event = Event::ClaimsChallenged {
            target: target.clone(),
            claims,
        };
        let redeemed = match target {
            Target::Session => {
                let (tx, rx) = oneshot::channel();
                self.waiters.borrow_mut().push(tx);
                self.dispatch(event);
                rx.await.unwrap_or(false)
            }
            Target::Resource(id) => {
                self.dispatch(event);
                self.resource_token(id).await.is_ok()
            }
        };
        match self.machine.borrow_mut().take_claims_refusal(target) {
            Some(refusal) => Err(refusal),
            None => Ok(redeemed),
        }
    }

    /// The error for a claims grant the provider refused: the person can help if the provider
    /// wants interaction; otherwise nothing here can.
    fn step_up_error(&self, target: &Target, asked: StepUp, refusal: ClaimsRefusal) -> ApiError {
        let name = self.target_name(target);
        let request = StepUpRequest {
            resource: resource_of(target),
            step_up: asked,
        };
        if refusal.needs_person {
            ApiError::StepUpRequired {
                name,
                asked: request.describe(),
                request,
            }
        } else {
            ApiError::StepUpRefused {
                name,
                asked: request.describe(),
                reason: refusal.message,
            }
        }
    }

    /// How the UI names the API a call to `target` goes to.
    fn target_name(&self, target: &Target) -> String {
        match target {
            Target::Session => "The API".to_string(),
            Target::Resource(id) => self.api_name(id),
        }
    }
}

/// The other API's id of `target`, or `None` for the session's own.
fn resource_of(target: &Target) -> Option<String> {
    match target {
        Target::Session => None,
        Target::Resource(id) => Some(id.clone()),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
