//! The Leptos layer: `<AuthProvider>` runs the session's state machine (`core::machine`) in the
//! browser and `use_auth()` hands components an `Auth` handle with read-only state, role checks
//! and the intents (sign in, sign out, refresh now). Every decision is the machine's; this module
//! only performs its effects (storage, fetch, timers, history, Web Locks, BroadcastChannel) and
//! reports back.

use crate::browser::{clock, location, tab_sync};
use crate::client::OidcClient;
use crate::core::authorize::RequestExtras;
use crate::core::config::{OidcConfig, ResponseMode};
use crate::core::machine::{AuthState, Effect, Event, Machine, Now, ResourceOutcome};
use crate::core::query;
use crate::core::roles;
use crate::core::session::UserProfile;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use std::time::Duration;

/// The coarse phase of `AuthState`, as a memo: views that depend on it re-render only when it
/// changes, not when a refresh flag or an expiry time inside `SignedIn` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// [`AuthState::Starting`]: not known yet whether anyone is signed in.
    Starting,
    /// [`AuthState::Redirecting`]: leaving for the identity provider.
    Redirecting,
    /// [`AuthState::Completing`]: redeeming the authorization code.
    Completing,
    /// [`AuthState::SignedOut`].
    SignedOut,
    /// [`AuthState::SignedIn`], whether or not a refresh is under way.
    SignedIn,
    /// Sign-in is switched off (`AuthProvider` without a configuration).
    Disabled,
    /// A sign-in failure or an ended session.
    Error,
}

impl Phase {
    fn of(state: &AuthState) -> Phase {
        match state {
            AuthState::Starting => Phase::Starting,
            AuthState::Redirecting => Phase::Redirecting,
            AuthState::Completing => Phase::Completing,
            AuthState::SignedOut => Phase::SignedOut,
            AuthState::SignedIn(_) => Phase::SignedIn,
            AuthState::Disabled => Phase::Disabled,
            AuthState::SessionEnded { .. } | AuthState::Failed(_) => Phase::Error,
        }
    }
}

/// What the app found in the address bar at start-up, before anything else ran.
#[derive(Clone, Debug, Default)]
pub struct BootUrl {
    /// The path, e.g. `/oauth-callback`.
    pub path: String,
    /// The query without its `?`; empty if none.
    pub query: String,
    /// The fragment without its `#`; empty if none.
    pub fragment: String,
}

fn carries_auth_response(params: &str) -> bool {
    let pairs = query::parse(params);
    let has = |name: &str| pairs.iter().any(|(k, _)| k == name);
    has("state") && (has("code") || has("error"))
}

impl BootUrl {
    /// Reads the URL and, if it carries an authorization response, removes it from the address
    /// bar and history at once, so the code never lingers where scripts, extensions or a
    /// `Referer` could see it. Call it first thing at start-up; `AuthProvider` calls it itself
    /// when not given one.
    pub fn capture() -> BootUrl {
        let current = location::current();
        let boot = BootUrl {
            path: current.path,
            query: current.query,
            fragment: current.fragment,
        };
        if boot.has_auth_response() {
            location::replace_with(&boot.path);
        }
        boot
    }

    /// Whether the URL carries an authorization response (in its fragment or its query).
    pub fn has_auth_response(&self) -> bool {
        carries_auth_response(&self.fragment) || carries_auth_response(&self.query)
    }

    /// The authorization response's parameters, when this is the callback page and it has one.
    fn callback(&self, config: &OidcConfig) -> Option<String> {
        let params = match config.response_mode {
            ResponseMode::Fragment => &self.fragment,
            ResponseMode::Query => &self.query,
        };
        (self.path == config.redirect_path && carries_auth_response(params)).then(|| params.clone())
    }
}

/// The browser side of the machine: everything its effects need.
struct Driver {
    machine: Machine,
    client: OidcClient,
    timer: Option<TimeoutHandle>,
    channel: Option<web_sys::BroadcastChannel>,
    /// Callers waiting for the refresh in flight (API calls that got a 401).
    waiters: Vec<futures_channel::oneshot::Sender<bool>>,
    /// Callers waiting for a resource's token, with the resource's id.
    resource_waiters: Vec<(String, futures_channel::oneshot::Sender<ResourceOutcome>)>,
}

/// The handle components use; `Copy`, so closures capture it freely. Its signals are read-only:
/// the state changes only through the intents below.
#[derive(Clone, Copy)]
pub struct Auth {
    /// Where the person stands.
    pub state: ReadSignal<AuthState>,
    /// The phase of `state`, for views that switch on it: they re-render only when it changes.
    pub phase: Memo<Phase>,
    /// The signed-in person's profile; `None` unless signed in.
    pub profile: Memo<Option<UserProfile>>,
    /// The signed-in person's roles, sorted; empty unless signed in.
    pub roles: Memo<Vec<String>>,
    writer: WriteSignal<AuthState>,
    /// The resources whose last grant said the person must consent first.
    consent_needed: RwSignal<Vec<String>>,
    navigate: Callback<(String, bool)>,
    /// `None` when sign-in is switched off.
    driver: StoredValue<Option<Driver>, LocalStorage>,
}

/// Provides `Auth` to its children and starts the session: completes a callback, restores a
/// stored session, keeps it fresh. Must sit inside leptos_router's `<Router>`.
///
/// Without a `config`, sign-in is switched off (`AuthState::Disabled`): every role gate is open
/// and API calls carry no token, for an API that runs without authentication.
#[component]
pub fn AuthProvider(
    /// The client's configuration; `None` switches sign-in off.
    config: Option<OidcConfig>,
    /// The start-up URL, if the app captured it earlier (see `BootUrl::capture`).
    #[prop(optional)]
    boot: Option<BootUrl>,
    children: Children,
) -> impl IntoView {
    let boot = boot.unwrap_or_else(BootUrl::capture);
    Auth::start(config, boot);
    children()
}

/// The `Auth` handle provided by `<AuthProvider>`.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

impl Auth {
    fn start(config: Option<OidcConfig>, boot: BootUrl) -> Auth {
        let router_navigate = use_navigate();
        let navigate = Callback::new(move |(to, replace): (String, bool)| {
            router_navigate(
                &to,
                NavigateOptions {
                    replace,
                    ..Default::default()
                },
            )
        });
        let initial = if config.is_some() {
            AuthState::Starting
        } else {
            AuthState::Disabled
        };
        let (state, writer) = signal(initial);
        let profile = Memo::new(move |_| {
            state.with(|s| match s {
                AuthState::SignedIn(signed_in) => Some(signed_in.profile.clone()),
                _ => None,
            })
        });
        let driver = config.map(|config| Driver {
            channel: tab_sync::channel(&config.channel_name()),
            client: OidcClient::new(config.clone()),
            machine: Machine::new(config),
            timer: None,
            waiters: Vec::new(),
            resource_waiters: Vec::new(),
        });
        let auth = Auth {
            state,
            phase: Memo::new(move |_| state.with(Phase::of)),
            profile,
            roles: Memo::new(move |_| {
                profile.with(|p| p.as_ref().map(|p| p.roles.clone()).unwrap_or_default())
            }),
            writer,
            consent_needed: RwSignal::new(Vec::new()),
            navigate,
            driver: StoredValue::new_local(driver),
        };
        provide_context(auth);
        if let Some(client) = auth.client() {
            auth.watch_wake_ups();
            auth.listen_to_twins();
            spawn_local(async move {
                let callback = boot.callback(client.config());
                let completing = callback.is_some();
                auth.dispatch(Event::Boot {
                    stored: client.store().load_session(),
                    callback,
                    at_callback_path: boot.path == client.config().redirect_path,
                });
                // Fetch the provider's documents now, while the person reads the page: a
                // sign-in click or a refresh starts at once, and the callback page will need
                // only the token endpoint (the callback page itself uses the stored copies).
                if !completing {
                    client.prefetch().await;
                }
            });
        }
        auth
    }

    fn client(&self) -> Option<OidcClient> {
        self.driver
            .with_value(|d| d.as_ref().map(|d| d.client.clone()))
    }

    /// Feeds `event` to the machine, publishes its new state and performs its effects. Returns
    /// the effects, for the caller that holds the refresh lock.
    fn dispatch(&self, event: Event) -> Vec<Effect> {
        let now = Now {
            ms: clock::now_ms(),
            jitter: clock::jitter(),
        };
        let stepped = self
            .driver
            .try_update_value(|d| {
                d.as_mut().map(|d| {
                    let effects = d.machine.step(event, now);
                    (d.machine.state().clone(), effects)
                })
            })
            .flatten();
        let Some((state, effects)) = stepped else {
            return Vec::new();
        };
        if self.state.with_untracked(|s| *s != state) {
            self.writer.set(state);
        }
        for effect in &effects {
            self.perform(effect.clone());
        }
        effects
    }

    fn perform(&self, effect: Effect) {
        let auth = *self;
        match effect {
            Effect::BeginSignIn {
                return_to,
                login_hint,
                resource,
            } => {
                let Some(client) = self.client() else { return };
                spawn_local(async move {
                    let extras = RequestExtras {
                        login_hint,
                        ..RequestExtras::default()
                    };
                    let started = client.begin_sign_in(&return_to, extras, resource.as_deref());
                    if let Err(error) = started.await {
                        auth.dispatch(Event::SignInFailed(error));
                    }
                });
            }
            Effect::CompleteSignIn { params } => {
                let Some(client) = self.client() else { return };
                spawn_local(async move {
                    let result = client.complete_sign_in(&params).await;
                    auth.dispatch(Event::SignInCompleted(result));
                });
            }
            Effect::SetTimer { delay_ms } => {
                self.cancel_timer();
                // Browsers cap timers at 2^31-1 ms; longer waits are re-checked on wake-ups.
                let delay = Duration::from_millis(delay_ms.clamp(0.0, 2_147_483_000.0) as u64);
                if let Ok(handle) =
                    set_timeout_with_handle(move || drop(auth.dispatch(Event::TimerFired)), delay)
                {
                    self.driver.update_value(|d| {
                        if let Some(d) = d {
                            d.timer = Some(handle);
                        }
                    });
                }
            }
            Effect::CancelTimer => self.cancel_timer(),
            Effect::AcquireRefreshLock => {
                let Some(client) = self.client() else { return };
                let lock = client.config().channel_name();
                spawn_local(async move {
                    tab_sync::with_refresh_lock(&lock, move || async move {
                        // Everything due is redeemed in turn while the lock is held: each grant
                        // rotates the refresh token the next one uses.
                        let mut effects = auth.dispatch(Event::RefreshLockHeld);
                        loop {
                            let next = effects.into_iter().find_map(|e| match e {
                                Effect::Redeem(session) => Some((session, None)),
                                Effect::RedeemFor { session, resource } => {
                                    Some((session, Some(resource)))
                                }
                                _ => None,
                            });
                            effects = match next {
                                Some((session, None)) => {
                                    let result = client.refresh(&session).await;
                                    auth.dispatch(Event::RefreshFinished(result))
                                }
                                Some((session, Some(resource))) => {
                                    let result = client.redeem_for(&session, &resource).await;
                                    auth.dispatch(Event::ResourceFinished { resource, result })
                                }
                                None => break,
                            };
                        }
                    })
                    .await
                });
            }
            // Performed by the lock holder above, which must keep the lock until it is done.
            Effect::Redeem(_) | Effect::RedeemFor { .. } => {}
            Effect::Persist(session) => {
                let Some(client) = self.client() else { return };
                if let Err(why) = client.store().save_session(&session) {
                    self.dispatch(Event::StorageRefused(why));
                }
            }
            Effect::ClearSession => {
                if let Some(client) = self.client() {
                    client.store().clear_session();
                }
            }
            Effect::ClearPendingLogins => {
                if let Some(client) = self.client() {
                    client.store().clear_pending_logins(|_| false);
                }
            }
            Effect::Broadcast { message, key } => {
                let channel = self
                    .driver
                    .with_value(|d| d.as_ref().and_then(|d| d.channel.clone()));
                let Some(channel) = channel else { return };
                spawn_local(async move {
                    if let Err(why) = tab_sync::post(&channel, &message, &key).await {
                        let text = format!("sign-in: twin tabs were not told ({why})");
                        web_sys::console::warn_1(&text.into());
                    }
                });
            }
            Effect::ReleaseWaiters { refreshed } => {
                let waiters = self
                    .driver
                    .try_update_value(|d| d.as_mut().map(|d| std::mem::take(&mut d.waiters)))
                    .flatten()
                    .unwrap_or_default();
                for waiter in waiters {
                    let _ = waiter.send(refreshed);
                }
            }
            Effect::ReleaseResourceWaiters { resource, outcome } => {
                let needs_consent = matches!(outcome, ResourceOutcome::ConsentRequired(_));
                if needs_consent
                    != self
                        .consent_needed
                        .with_untracked(|c| c.contains(&resource))
                {
                    self.consent_needed.update(|c| {
                        c.retain(|id| *id != resource);
                        if needs_consent {
                            c.push(resource.clone());
                        }
                    });
                }
                let waiters = self
                    .driver
                    .try_update_value(|d| {
                        d.as_mut().map(|d| {
                            let (theirs, others) = std::mem::take(&mut d.resource_waiters)
                                .into_iter()
                                .partition(|(id, _)| *id == resource);
                            d.resource_waiters = others;
                            theirs
                        })
                    })
                    .flatten()
                    .unwrap_or_else(Vec::new);
                for (_, waiter) in waiters {
                    let _ = waiter.send(outcome.clone());
                }
            }
            Effect::Navigate { to, replace } => self.navigate.run((to, replace)),
            Effect::EndProviderSession(session) => {
                let Some(client) = self.client() else { return };
                spawn_local(async move {
                    match client.end_session_url(session.as_ref()).await {
                        Some(url) if location::go_to(&url).is_ok() => {}
                        _ => drop(auth.dispatch(Event::SignedOutLocally)),
                    }
                });
            }
        }
    }

    fn cancel_timer(&self) {
        let timer = self
            .driver
            .try_update_value(|d| d.as_mut().and_then(|d| d.timer.take()))
            .flatten();
        if let Some(handle) = timer {
            handle.clear();
        }
    }

    /// Timers are throttled in background tabs and stop while the machine sleeps, so the refresh
    /// is re-checked whenever the tab becomes visible, the window gains focus or the network
    /// comes back.
    fn watch_wake_ups(&self) {
        let auth = *self;
        for event in ["visibilitychange", "focus", "online", "pageshow"] {
            let _handle = window_event_listener_untyped(event, move |_| {
                let visible = document().visibility_state() != web_sys::VisibilityState::Hidden;
                auth.dispatch(Event::WokeUp { visible });
            });
        }
    }

    /// Hands twin tabs' messages (refreshed, signed out) to the machine, once opened with this
    /// tab's session key; anything else on the channel is ignored.
    fn listen_to_twins(&self) {
        let auth = *self;
        self.driver.with_value(|d| {
            let Some(channel) = d.as_ref().and_then(|d| d.channel.as_ref()) else {
                return;
            };
            tab_sync::listen(channel, move |text| {
                let mine = auth
                    .driver
                    .with_value(|d| d.as_ref().and_then(|d| d.machine.session().cloned()));
                let Some(mine) = mine else { return };
                spawn_local(async move {
                    if let Some(message) = tab_sync::open(&text, &mine).await {
                        auth.dispatch(Event::Twin(message));
                    }
                });
            });
        });
    }

    /// Where the person stands, without tracking.
    pub fn state_untracked(&self) -> AuthState {
        self.state.get_untracked()
    }

    /// Whether the person holds any of `roles` (none required: always), counting write roles as
    /// their read role (reactive). With sign-in switched off every gate is open: the API decides.
    pub fn has_any_role(&self, roles: &[String]) -> bool {
        match self.phase.get() {
            Phase::SignedIn => self.roles.with(|held| roles::grants_any(held, roles)),
            Phase::Disabled => true,
            _ => false,
        }
    }

    /// Whether the person holds `role`, counting write roles as their read role (reactive).
    pub fn has_role(&self, role: &str) -> bool {
        self.has_any_role(&[role.to_string()])
    }

    /// The client configuration; `None` when sign-in is switched off.
    pub fn config(&self) -> Option<OidcConfig> {
        self.driver
            .with_value(|d| d.as_ref().map(|d| d.machine.config().clone()))
    }

    /// Starts a sign-in that comes back to `return_to` (a path on this site).
    pub fn sign_in(&self, return_to: String) {
        self.dispatch(Event::SignInRequested { return_to });
    }

    /// Signs out here and in the twin tabs, then at the provider when it supports it.
    pub fn sign_out(&self) {
        self.dispatch(Event::SignOutRequested);
    }

    /// Refreshes the session now (joining a refresh already under way).
    pub fn refresh_now(&self) {
        self.dispatch(Event::RefreshRequested { waiter: false });
    }

    /// Refreshes (joining a refresh already in flight) and resolves to whether there is a fresh
    /// access token to retry with.
    pub async fn refresh_and_wait(&self) -> bool {
        let (tx, rx) = futures_channel::oneshot::channel();
        let registered = self
            .driver
            .try_update_value(|d| d.as_mut().map(|d| d.waiters.push(tx)))
            .flatten()
            .is_some();
        if !registered {
            return false;
        }
        self.dispatch(Event::RefreshRequested { waiter: true });
        rx.await.unwrap_or(false)
    }

    /// The API refused the session even after a refresh: it is over.
    pub fn api_rejected_session(&self) {
        self.dispatch(Event::ApiRejected);
    }

    /// An access token for the resource `id` (one of `OidcConfig::resources`): the session's
    /// if still fresh, else redeemed with the refresh token (in turn with any other grant) and
    /// kept. `Err` says why there is none: consent needed, or a failure.
    pub async fn resource_token(&self, id: &str) -> Result<String, ResourceOutcome> {
        let (tx, rx) = futures_channel::oneshot::channel();
        let registered = self
            .driver
            .try_update_value(|d| d.as_mut().map(|d| d.resource_waiters.push((id.into(), tx))))
            .flatten()
            .is_some();
        if !registered {
            return Err(ResourceOutcome::Failed("sign-in is switched off".into()));
        }
        self.dispatch(Event::ResourceWanted {
            resource: id.to_string(),
        });
        let outcome = rx
            .await
            .unwrap_or_else(|_| ResourceOutcome::Failed("the page is closing".into()));
        if outcome != ResourceOutcome::Ready {
            return Err(outcome);
        }
        let now = clock::now_ms();
        self.driver
            .with_value(|d| {
                let session = d.as_ref()?.machine.session()?;
                session.resource_token(id, now).map(str::to_string)
            })
            .ok_or_else(|| ResourceOutcome::Failed("the token expired at once".into()))
    }

    /// The resource's API refused its token (401): it is dropped, and the next
    /// [`Auth::resource_token`] redeems a new one.
    pub fn resource_rejected(&self, id: &str) {
        self.dispatch(Event::ResourceRejected {
            resource: id.to_string(),
        });
    }

    /// Gets tokens for every configured resource not yet held, in the background (so their
    /// roles can be shown). A resource known to need consent is not asked again: the calls that
    /// need it say so, with the way to give it.
    pub fn load_resource_roles(&self) {
        let ids: Vec<String> = self.driver.with_value(|d| {
            (d.iter().flat_map(|d| &d.machine.config().resources))
                .map(|r| r.id.clone())
                .collect()
        });
        for resource in ids
            .into_iter()
            .filter(|id| !self.needs_consent_untracked(id))
        {
            self.dispatch(Event::ResourceWanted { resource });
        }
    }

    /// Whether the last grant for the resource `id` said the person must consent first
    /// (reactive).
    pub fn needs_consent(&self, id: &str) -> bool {
        self.consent_needed.with(|c| c.iter().any(|r| r == id))
    }

    fn needs_consent_untracked(&self, id: &str) -> bool {
        self.consent_needed
            .with_untracked(|c| c.iter().any(|r| r == id))
    }

    /// Signs in again for the resource's scopes, so the provider asks for the missing consent,
    /// and comes back to `return_to`. The person stays signed in to the other APIs.
    pub fn consent_to(&self, id: &str, return_to: String) {
        self.dispatch(Event::ConsentRequested {
            resource: id.to_string(),
            return_to,
        });
    }

    /// Whether the person holds `role` on the resource `id`, counting write roles as their read
    /// role (reactive). `None` while no token for it has been obtained (nothing is known yet).
    /// With sign-in switched off every gate is open.
    pub fn has_role_at(&self, id: &str, role: &str) -> Option<bool> {
        match self.phase.get() {
            Phase::Disabled => Some(true),
            Phase::SignedIn => self.profile.with(|p| {
                let roles = p.as_ref()?.resource_roles.iter().find(|r| r.id == id)?;
                let held = roles.roles.as_ref()?;
                Some(roles::grants_any(held, &[role.to_string()]))
            }),
            _ => Some(false),
        }
    }

    /// The current access token, for the `Authorization` header (not reactive).
    pub fn access_token(&self) -> Option<String> {
        self.driver.with_value(|d| {
            d.as_ref()
                .and_then(|d| d.machine.session())
                .map(|s| s.access_token.clone())
        })
    }
}
