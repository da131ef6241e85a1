//! The session as reactive state: one `Auth` handle (in context) holds the `AuthState` the UI
//! renders and the intents it dispatches (sign in, sign out, refresh now). It drives the
//! `OidcClient`, persists the session in sessionStorage and keeps it fresh.

pub mod api;
pub mod client;

use crate::browser::{clock, location, session_store, tab_sync};
use crate::core::authorize::RequestExtras;
use crate::core::config::{AppConfig, OAuthConfig, ResponseMode};
use crate::core::error::AuthError;
use crate::core::query;
use crate::core::refresh::{self, RefreshFailure};
use crate::core::roles;
use crate::core::session::{Session, UserProfile};
use crate::core::tab_sync::{fingerprint, TabAction, TabMessage};
use client::OidcClient;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use std::time::Duration;

/// Where the person stands. `Starting` is explicit so pages never flash the signed-out view.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    Starting,
    /// `OAUTH_ENABLED=false`: no sign-in, API calls carry no token.
    Disabled,
    SignedOut,
    /// On the way to the identity provider (sign-in or sign-out).
    Redirecting,
    /// Redeeming the authorization code.
    Completing,
    SignedIn(SignedIn),
    /// The provider will not renew the session; the person must sign in again.
    SessionEnded {
        login_hint: Option<String>,
        error: AuthError,
    },
    Failed(AuthError),
}

/// The coarse phase of `AuthState`, as a memo: views that depend on it re-render only when it
/// changes, not when a refresh flag or an expiry time inside `SignedIn` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Starting,
    Redirecting,
    Completing,
    SignedOut,
    SignedIn,
    Disabled,
    /// A sign-in failure or an ended session: both show the error panel.
    Error,
}

impl AuthState {
    pub fn phase(&self) -> Phase {
        match self {
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

/// What the UI knows about a signed-in session (never the tokens themselves).
#[derive(Clone, Debug, PartialEq)]
pub struct SignedIn {
    pub profile: UserProfile,
    pub expires_at_ms: f64,
    pub refreshed_at_ms: Option<f64>,
    pub refreshing: bool,
    /// Set while a refresh keeps failing on the network.
    pub refresh_problem: Option<String>,
}

/// What the app found in the address bar at start-up, before anything else ran.
#[derive(Clone, Debug, Default)]
pub struct BootUrl {
    pub path: String,
    pub query: String,
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
    /// `Referer` could see it.
    pub fn capture() -> BootUrl {
        let current = location::current();
        let boot = BootUrl {
            path: current.path,
            query: current.query,
            fragment: current.fragment,
        };
        if carries_auth_response(&boot.fragment) || carries_auth_response(&boot.query) {
            location::replace_with(&boot.path);
        }
        boot
    }

    fn response_params(&self, mode: ResponseMode) -> Option<&str> {
        let params = match mode {
            ResponseMode::Fragment => &self.fragment,
            ResponseMode::Query => &self.query,
        };
        carries_auth_response(params).then_some(params.as_str())
    }
}

/// The handle components use; `Copy`, so closures capture it freely.
#[derive(Clone, Copy)]
pub struct Auth {
    pub state: RwSignal<AuthState>,
    pub phase: Memo<Phase>,
    /// The router's `navigate` (path, replace): to the return route after a callback, and home
    /// after a sign-out.
    navigate: Callback<(String, bool)>,
    pub config: StoredValue<AppConfig>,
    inner: StoredValue<Inner, LocalStorage>,
}

/// The non-reactive part of `Auth`, in one place (one stored value costs less wasm than eight).
/// Accessed only through short closures that never call back into `Auth`.
struct Inner {
    client: Option<OidcClient>,
    session: Option<Session>,
    timer: Option<TimeoutHandle>,
    refreshing: bool,
    retry_attempt: u32,
    channel: Option<web_sys::BroadcastChannel>,
    /// Callers waiting for the refresh in flight (e.g. several API calls that got a 401).
    waiters: Vec<futures_channel::oneshot::Sender<bool>>,
}

impl Auth {
    /// Creates the handle, provides it as context and starts the session logic.
    /// Must run inside the `<Router>`.
    pub fn start(config: AppConfig, boot: BootUrl) -> Auth {
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
        let client = config.oauth.clone().map(OidcClient::new);
        let state = RwSignal::new(AuthState::Starting);
        let auth = Auth {
            state,
            phase: Memo::new(move |_| state.with(AuthState::phase)),
            navigate,
            config: StoredValue::new(config),
            inner: StoredValue::new_local(Inner {
                client,
                session: None,
                timer: None,
                refreshing: false,
                retry_attempt: 0,
                channel: tab_sync::channel(),
                waiters: Vec::new(),
            }),
        };
        provide_context(auth);
        auth.watch_wake_ups();
        auth.listen_to_twins();
        spawn_local(async move { auth.boot(boot).await });
        auth
    }

    fn client(&self) -> Option<OidcClient> {
        self.inner.with_value(|i| i.client.clone())
    }

    fn session(&self) -> Option<Session> {
        self.inner.with_value(|i| i.session.clone())
    }

    fn set_session(&self, session: Option<Session>) {
        self.inner.update_value(|i| i.session = session);
    }

    fn set_refreshing(&self, refreshing: bool) {
        self.inner.update_value(|i| i.refreshing = refreshing);
    }

    pub fn oauth_config(&self) -> Option<OAuthConfig> {
        self.config.with_value(|c| c.oauth.clone())
    }

    async fn boot(self, boot: BootUrl) {
        let Some(client) = self.client() else {
            self.state.set(AuthState::Disabled);
            return;
        };
        let config = client.config().clone();
        if boot.path == config.redirect_path {
            match boot.response_params(config.response_mode) {
                Some(params) => {
                    self.state.set(AuthState::Completing);
                    match client.complete_sign_in(params).await {
                        Ok((session, return_to)) => {
                            if let Err(e) = session_store::save_session(&session) {
                                self.state.set(AuthState::Failed(AuthError::Browser(e)));
                                return;
                            }
                            self.adopt(session);
                            self.navigate.run((return_to, true));
                        }
                        Err(error) => self.state.set(AuthState::Failed(error)),
                    }
                    return;
                }
                // A reload of the callback page (its response is already gone): go home.
                None => self.navigate.run(("/".into(), true)),
            }
        }
        match session_store::load_session() {
            Some(session) => {
                let expired = session.is_access_token_expired(clock::now_ms());
                self.adopt(session);
                if expired {
                    self.refresh_now();
                }
            }
            None => self.state.set(AuthState::SignedOut),
        }
        // Warm the discovery cache so the sign-in click is immediate.
        let _ = client.metadata().await;
    }

    fn signed_in_state(&self, session: &Session) -> Option<SignedIn> {
        let config = self.oauth_config()?;
        Some(SignedIn {
            profile: session.profile(&config),
            expires_at_ms: session.expires_at_ms,
            refreshed_at_ms: session.refreshed_at_ms,
            refreshing: false,
            refresh_problem: None,
        })
    }

    /// Makes `session` current: state, storage already written by the caller, refresh timer.
    fn adopt(&self, session: Session) {
        if let Some(signed_in) = self.signed_in_state(&session) {
            self.state.set(AuthState::SignedIn(signed_in));
        }
        self.set_session(Some(session));
        self.schedule_refresh();
    }

    fn clear_timer(&self) {
        if let Some(handle) = self.inner.try_update_value(|i| i.timer.take()).flatten() {
            handle.clear();
        }
    }

    fn set_timer(&self, delay_ms: f64, action: impl FnOnce() + 'static) {
        self.clear_timer();
        // Browsers cap timers at 2^31-1 ms; longer waits are re-checked on wake-up events.
        let delay = Duration::from_millis(delay_ms.clamp(0.0, 2_147_483_000.0) as u64);
        if let Ok(handle) = set_timeout_with_handle(action, delay) {
            self.inner.update_value(|i| i.timer = Some(handle));
        }
    }

    fn schedule_refresh(&self) {
        let Some(session) = self.session() else {
            return;
        };
        let delay = session.refresh_delay_ms(clock::now_ms(), clock::jitter());
        let auth = *self;
        self.set_timer(delay, move || auth.refresh_now());
    }

    /// Timers are throttled in background tabs and stop while the machine sleeps, so the refresh
    /// is re-checked whenever the tab becomes visible, the window gains focus or the network
    /// comes back.
    fn watch_wake_ups(&self) {
        let auth = *self;
        let check = move |_| auth.refresh_if_due();
        for event in ["visibilitychange", "focus", "online", "pageshow"] {
            let _handle = window_event_listener_untyped(event, check);
        }
    }

    fn refresh_if_due(&self) {
        let hidden = document().visibility_state() == web_sys::VisibilityState::Hidden;
        let Some(session) = self.session() else {
            return;
        };
        // With the largest lead the schedule allows: due once the timer could have fired.
        let due = session.refresh_delay_ms(clock::now_ms(), 1.0) <= 0.0;
        if due && !hidden {
            self.refresh_now();
        }
    }

    fn mark_refreshing(&self, refreshing: bool, problem: Option<String>) {
        self.state.update(|s| {
            if let AuthState::SignedIn(signed_in) = s {
                signed_in.refreshing = refreshing;
                signed_in.refresh_problem = problem;
            }
        });
    }

    /// Refreshes the session now. A refresh already under way in this tab is not started twice,
    /// and across tabs refreshes take turns under a Web Lock; a tab that finds its session
    /// already renewed by a twin while it waited does nothing.
    pub fn refresh_now(&self) {
        if self.inner.with_value(|i| i.refreshing) {
            return;
        }
        let (Some(client), Some(session)) = (self.client(), self.session()) else {
            self.notify_waiters(false);
            return;
        };
        self.set_refreshing(true);
        self.mark_refreshing(true, None);
        let auth = *self;
        spawn_local(tab_sync::with_refresh_lock(move || async move {
            let still_current = auth
                .inner
                .with_value(|i| i.session.as_ref().map(fingerprint))
                == Some(fingerprint(&session));
            if !still_current {
                auth.set_refreshing(false);
                auth.mark_refreshing(false, None);
                auth.notify_waiters(true);
                return;
            }
            let outcome = client.refresh(&session).await;
            auth.set_refreshing(false);
            match outcome {
                Ok(new_session) => {
                    if let Err(e) = session_store::save_session(&new_session) {
                        auth.end_session(AuthError::Browser(e));
                        auth.notify_waiters(false);
                        return;
                    }
                    auth.inner.update_value(|i| i.retry_attempt = 0);
                    auth.tell_twins(TabMessage::Refreshed {
                        previous: fingerprint(&session),
                        session: new_session.clone(),
                    });
                    auth.adopt(new_session);
                    auth.notify_waiters(true);
                }
                Err(e)
                    if e.failure == RefreshFailure::Retry
                        && !session.is_access_token_expired(clock::now_ms()) =>
                {
                    let attempt = auth
                        .inner
                        .try_update_value(|i| {
                            i.retry_attempt += 1;
                            i.retry_attempt - 1
                        })
                        .unwrap_or(0);
                    auth.mark_refreshing(false, Some(e.error.to_string()));
                    auth.set_timer(refresh::retry_backoff_ms(attempt), move || {
                        auth.refresh_now()
                    });
                    auth.notify_waiters(false);
                }
                Err(e) => {
                    auth.end_session(e.error);
                    auth.notify_waiters(false);
                }
            }
        }));
    }

    /// Refreshes (joining a refresh already in flight) and resolves to whether it succeeded.
    pub async fn refresh_and_wait(&self) -> bool {
        let (tx, rx) = futures_channel::oneshot::channel();
        self.inner.update_value(|i| i.waiters.push(tx));
        self.refresh_now();
        rx.await.unwrap_or(false)
    }

    fn notify_waiters(&self, refreshed: bool) {
        let waiters = self
            .inner
            .try_update_value(|i| std::mem::take(&mut i.waiters))
            .unwrap_or_default();
        for waiter in waiters {
            let _ = waiter.send(refreshed);
        }
    }

    /// The API rejected the session even after a refresh: it is over.
    pub fn api_rejected_session(&self) {
        self.end_session(AuthError::SessionEnded {
            detail: "the API no longer accepts your sign-in".into(),
        });
    }

    fn tell_twins(&self, message: TabMessage) {
        self.inner.with_value(|i| {
            if let Some(channel) = &i.channel {
                tab_sync::post(channel, &message.to_json());
            }
        });
    }

    /// Adopts a twin tab's refreshed session, or follows its sign-out.
    fn listen_to_twins(&self) {
        let auth = *self;
        self.inner.with_value(|i| {
            let Some(channel) = &i.channel else { return };
            tab_sync::listen(channel, move |text| {
                let Some(message) = TabMessage::parse(&text) else {
                    return;
                };
                match auth
                    .inner
                    .with_value(|i| message.action_for(i.session.as_ref()))
                {
                    TabAction::Adopt(session) => {
                        if session_store::save_session(&session).is_ok() {
                            auth.adopt(*session);
                        }
                    }
                    TabAction::SignOut => {
                        auth.forget_session();
                        auth.state.set(AuthState::SignedOut);
                        auth.navigate.run(("/".into(), true));
                    }
                    TabAction::Ignore => {}
                }
            });
        });
    }

    fn forget_session(&self) {
        self.clear_timer();
        self.set_session(None);
        session_store::clear_session();
    }

    /// Drops the session after the provider refused to renew it, keeping the route so signing
    /// in again returns here.
    fn end_session(&self, error: AuthError) {
        let login_hint = self
            .session()
            .zip(self.oauth_config())
            .and_then(|(s, c)| s.profile(&c).username);
        self.forget_session();
        let error = match error {
            AuthError::SessionEnded { .. } => error,
            other => AuthError::SessionEnded {
                detail: other.to_string(),
            },
        };
        self.state
            .set(AuthState::SessionEnded { login_hint, error });
    }

    /// Starts a sign-in that returns to `return_to`.
    pub fn sign_in(&self, return_to: String) {
        let Some(client) = self.client() else { return };
        let login_hint = match self.state.get_untracked() {
            AuthState::SessionEnded { login_hint, .. } => login_hint,
            _ => None,
        };
        self.state.set(AuthState::Redirecting);
        let auth = *self;
        spawn_local(async move {
            let extras = RequestExtras {
                login_hint,
                prompt: None,
            };
            if let Err(error) = client.begin_sign_in(&return_to, extras).await {
                auth.state.set(AuthState::Failed(error));
            }
        });
    }

    /// Forgets the session here and ends it at the provider.
    pub fn sign_out(&self) {
        let session = self.session();
        if let Some(s) = &session {
            self.tell_twins(TabMessage::SignedOut {
                previous: fingerprint(s),
            });
        }
        self.forget_session();
        session_store::clear_pending_logins(|_| false);
        let Some(client) = self.client() else { return };
        self.state.set(AuthState::Redirecting);
        let auth = *self;
        spawn_local(async move {
            match client.end_session_url(session.as_ref()).await {
                Some(url) if location::go_to(&url).is_ok() => {}
                _ => {
                    auth.state.set(AuthState::SignedOut);
                    auth.navigate.run(("/".into(), true));
                }
            }
        });
    }

    /// The current access token, for the `Authorization` header.
    pub fn access_token(&self) -> Option<String> {
        self.inner
            .with_value(|i| i.session.as_ref().map(|s| s.access_token.clone()))
    }

    /// Whether the person holds any of `roles` (none required: always), counting write roles as
    /// their read role (reactive). With sign-in disabled every gate is open: the API decides.
    pub fn has_any_role(&self, roles: &[String]) -> bool {
        self.state.with(|s| match s {
            AuthState::SignedIn(signed_in) => roles::grants_any(&signed_in.profile.roles, roles),
            AuthState::Disabled => true,
            _ => false,
        })
    }

    /// Whether the person holds `role`, counting write roles as their read role (reactive).
    pub fn has_role(&self, role: &str) -> bool {
        self.has_any_role(&[role.to_string()])
    }
}

/// The `Auth` handle from context.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
