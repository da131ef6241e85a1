//! The real browser behind the effect interpreter: storage, timers, the Web Lock, the twin-tab
//! channel, the router and the client's flows, each one call into `browser`, `client` or
//! leptos_router.

use crate::browser::{clock, http, location, tab_sync};
use crate::client::OidcClient;
use crate::core::api_call::Target;
use crate::core::challenge::StepUp;
use crate::core::dpop::DpopKeyRef;
use crate::core::error::{AuthError, BrowserError};
use crate::core::logout::SignedOutNotice;
use crate::core::machine::{AuthState, GrantError, Now};
use crate::core::profile::UserProfile;
use crate::core::session::{HandoverKey, Session};
use crate::core::tab_sync::TabMessage;
use crate::driver::Browser;
use crate::exchange::{HttpError, HttpRequest, HttpResponse};
use leptos::prelude::{set_timeout_with_handle, Callable, Callback, TimeoutHandle};
use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

/// Navigation within the app: the path, and whether to replace the history entry.
pub(crate) type Navigate = Box<dyn Fn(&str, bool)>;

/// What the UI layer hears from the driver.
pub(crate) struct Listeners {
    /// The machine's new state.
    pub state: Box<dyn Fn(&AuthState)>,
    /// Router navigation within the app.
    pub navigate: Navigate,
    /// The app's hook for a session that began (signed in, restored, completed).
    pub signed_in: Option<Callback<UserProfile>>,
    /// The app's hook for a session that ended (signed out, here or in a twin; ended).
    pub signed_out: Option<Callback<()>>,
    /// What the page should say about a sign-out.
    pub notice: Box<dyn Fn(SignedOutNotice)>,
}

/// The browser as the effect interpreter sees it.
pub(crate) struct WebBrowser {
    client: OidcClient,
    channel: Option<web_sys::BroadcastChannel>,
    timer: RefCell<Option<TimeoutHandle>>,
    listeners: Listeners,
}

impl WebBrowser {
    /// The browser side of `client`, reporting to `listeners`.
    pub fn new(client: OidcClient, listeners: Listeners) -> WebBrowser {
        WebBrowser {
            channel: tab_sync::channel(&client.config().channel_name()),
            client,
            timer: RefCell::new(None),
            listeners,
        }
    }

    /// The client's flows.
    pub fn client(&self) -> &OidcClient {
        &self.client
    }

    /// The channel to the twin tabs, if the browser has BroadcastChannel.
    pub fn channel(&self) -> Option<&web_sys::BroadcastChannel> {
        self.channel.as_ref()
    }
}

impl Browser for WebBrowser {
    fn now(&self) -> Now {
        Now {
            ms: clock::now_ms(),
            jitter: clock::jitter(),
        }
    }

    fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        leptos::task::spawn_local(task);
    }

    fn set_timer(&self, delay_ms: f64, fire: impl FnOnce() + 'static) {
        self.cancel_timer();
        // Browsers cap timers at 2^31-1 ms; longer waits are re-checked on wake-ups.
        let delay = Duration::from_millis(delay_ms.clamp(0.0, 2_147_483_000.0) as u64);
        if let Ok(handle) = set_timeout_with_handle(fire, delay) {
            *self.timer.borrow_mut() = Some(handle);
        }
    }

    fn cancel_timer(&self) {
        if let Some(handle) = self.timer.borrow_mut().take() {
            handle.clear();
        }
    }

    async fn with_refresh_lock(&self, task: impl Future<Output = ()> + 'static) {
        let lock = self.client.config().channel_name();
        tab_sync::with_refresh_lock(&lock, move || task).await
    }

    fn persist(&self, session: &Session) -> Result<(), BrowserError> {
        self.client.store().save_session(session)
    }

    fn clear_session(&self) {
        // The session's DPoP key goes with it.
        if let Some(key) = self.client.store().load_session().and_then(|s| s.dpop) {
            let prover = self.client.prover().clone();
            leptos::task::spawn_local(async move { prover.forget(&key).await });
        }
        self.client.store().clear_session();
    }

    fn clear_pending_logins(&self) {
        // At sign-out: a pending sign-in then is one from the session (a step-up, a consent),
        // which uses the session's key, deleted with the session.
        self.client.store().clear_pending_logins(|_| false);
    }

    fn broadcast(&self, message: TabMessage, key: HandoverKey) {
        let Some(channel) = self.channel.clone() else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Err(why) = tab_sync::post(&channel, &message, &key).await {
                let text = format!("sign-in: twin tabs were not told ({why})");
                web_sys::console::warn_1(&text.into());
            }
        });
    }

    fn navigate(&self, to: &str, replace: bool) {
        (self.listeners.navigate)(to, replace);
    }

    fn publish(&self, state: &AuthState) {
        (self.listeners.state)(state);
    }

    fn session_began(&self, profile: &UserProfile) {
        if let Some(hook) = self.listeners.signed_in {
            hook.run(profile.clone());
        }
    }

    fn session_ended(&self) {
        if let Some(hook) = self.listeners.signed_out {
            hook.run(());
        }
    }

    async fn begin_sign_in(
        &self,
        return_to: String,
        login_hint: Option<String>,
        resource: Option<String>,
        step_up: Option<StepUp>,
        silent: bool,
    ) -> Result<(), AuthError> {
        (self.client)
            .begin_sign_in(&return_to, login_hint, resource.as_deref(), step_up, silent)
            .await
    }

    async fn complete_sign_in(&self, params: String) -> Result<(Session, String), AuthError> {
        self.client.complete_sign_in(&params).await
    }

    async fn refresh(
        &self,
        session: Session,
        claims: Option<String>,
    ) -> Result<Session, GrantError> {
        self.client.refresh(&session, claims.as_deref()).await
    }

    async fn redeem_for(
        &self,
        session: Session,
        resource: String,
        claims: Option<String>,
    ) -> Result<Session, GrantError> {
        (self.client)
            .redeem_for(&session, &resource, claims.as_deref())
            .await
    }

    fn take_answered_step_up(&self) -> Option<(Target, String)> {
        self.client.store().take_answered_step_up()
    }

    async fn end_provider_session(&self, session: Option<Session>) -> bool {
        // The session's DPoP key is deleted before the page leaves for the provider: a deletion
        // still under way when the browser navigates away may never finish.
        if let Some(key) = session.as_ref().and_then(|s| s.dpop.as_ref()) {
            self.client.prover().forget(key).await;
        }
        match self.client.end_session_url(session.as_ref()).await {
            Some(url) => location::go_to(&url).is_ok(),
            None => {
                (self.listeners.notice)(SignedOutNotice::ThisAppOnly);
                false
            }
        }
    }

    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        http::fetch(request).await
    }

    async fn dpop_proof(
        &self,
        key: &DpopKeyRef,
        method: &str,
        url: &str,
        access_token: &str,
    ) -> Result<String, BrowserError> {
        let prover = self.client.prover();
        prover.proof(key, method, url, Some(access_token)).await
    }

    fn note_dpop_nonce(&self, url: &str, nonce: &str) {
        self.client.prover().note_nonce(url, nonce);
    }
}
