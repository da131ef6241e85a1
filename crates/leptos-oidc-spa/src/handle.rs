//! The Leptos face of the client: `<AuthProvider>` starts the session for its children and
//! `use_auth()` hands components an [`Auth`] handle: read-only signals (state, phase, profile,
//! roles, error), role checks, and the intents (sign in, sign out, refresh now, consent). The
//! effect interpreter (`driver`) does the work; this module wires it to signals, the router and
//! the page's events, and releases them all when the provider unmounts.

use crate::api_error::StepUpRequest;
use crate::boot::BootUrl;
use crate::browser::clock;
use crate::browser::location;
use crate::browser::tab_sync;
use crate::client::OidcClient;
use crate::core::config::OidcConfig;
use crate::core::error::AuthError;
use crate::core::logout::SignedOutNotice;
use crate::core::machine::{AuthState, Event, Phase};
use crate::core::profile::UserProfile;
use crate::core::roles::RoleImplication;
use crate::driver::{Browser as _, Driver};
use crate::web::{Listeners, WebBrowser};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use std::rc::Rc;
use thiserror::Error;

/// The driver behind an `Auth`, when sign-in is on.
type WebDriver = Rc<Driver<WebBrowser>>;

/// The handle components use; `Copy`, so closures capture it freely. Its signals are read-only:
/// the state changes only through the intents below. Get it with [`use_auth`] under
/// [`AuthProvider`].
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Auth {
    /// Where the person stands.
    pub state: ReadSignal<AuthState>,
    /// The phase of `state`, for views that switch on it: they re-render only when it changes.
    pub phase: Memo<Phase>,
    /// The signed-in person's profile; `None` unless signed in.
    pub profile: Memo<Option<UserProfile>>,
    /// The signed-in person's roles, sorted; empty unless signed in.
    pub roles: Memo<Vec<String>>,
    /// Why signing in failed, or why the session ended; `None` otherwise. It stays until the
    /// person signs in again or it is dismissed ([`Auth::dismiss_error`]).
    pub error: Memo<Option<AuthError>>,
    /// Set on the page a sign-out returns to (or ends on): what to tell the person. It stays
    /// until dismissed ([`Auth::dismiss_signed_out`]) or the next sign-out.
    pub signed_out: ReadSignal<Option<SignedOutNotice>>,
    set_signed_out: WriteSignal<Option<SignedOutNotice>>,
    /// `None` when sign-in is switched off.
    driver: StoredValue<Option<WebDriver>, LocalStorage>,
}

/// Why [`Auth::claims`] has no claims of the type asked for.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// Nobody is signed in (or the provider issued no ID token).
    #[error("nobody is signed in")]
    NotSignedIn,
    /// The ID token's claims do not have the shape asked for; says why.
    #[error("the ID token's claims do not fit: {0}")]
    Shape(String),
}

/// Provides [`Auth`] to its children and starts the session: completes a callback, restores a
/// stored session, keeps it fresh. Must sit inside leptos_router's `<Router>`.
///
/// Without a `config`, sign-in is switched off ([`Phase::Disabled`]): every role gate is open
/// and API calls carry no token, for an API that runs without authentication.
///
/// Everything it starts (the refresh timer, the page's wake-up listeners, the channel to twin
/// tabs) stops when it unmounts.
#[component]
pub fn AuthProvider(
    /// The client's configuration (an `OidcConfig`, or an `Option` of one); without one,
    /// sign-in is switched off.
    #[prop(into, default = None)]
    config: Option<OidcConfig>,
    /// The start-up URL, if the app captured it earlier (see [`BootUrl::capture`]).
    #[prop(optional)]
    boot: Option<BootUrl>,
    /// Runs when a session begins: a sign-in completes or a stored session is restored.
    #[prop(optional, into)]
    on_signed_in: Option<Callback<UserProfile>>,
    /// Runs when the session ends: the person signs out (here or in a twin tab) or the
    /// provider ends it.
    #[prop(optional, into)]
    on_signed_out: Option<Callback<()>>,
    children: Children,
) -> impl IntoView {
    let boot = boot.unwrap_or_else(BootUrl::capture);
    let auth = Auth::start(config, boot, on_signed_in, on_signed_out);
    provide_context(auth);
    children()
}

/// The [`Auth`] handle provided by [`AuthProvider`]. Panics outside one, naming it; see
/// [`try_use_auth`] for code that may run without it.
pub fn use_auth() -> Auth {
    try_use_auth().expect("use_auth() must be called under <AuthProvider>")
}

/// The [`Auth`] handle, if an [`AuthProvider`] is above.
pub fn try_use_auth() -> Option<Auth> {
    use_context::<Auth>()
}

impl Auth {
    fn start(
        config: Option<OidcConfig>,
        boot: BootUrl,
        on_signed_in: Option<Callback<UserProfile>>,
        on_signed_out: Option<Callback<()>>,
    ) -> Auth {
        let initial = if config.is_some() {
            AuthState::Starting
        } else {
            AuthState::Disabled
        };
        let (state, set_state) = signal(initial);
        let (signed_out, set_signed_out) = signal(None);
        let driver = config.map(|config| {
            let router_navigate = use_navigate();
            let navigate = move |to: &str, replace: bool| {
                let options = NavigateOptions {
                    replace,
                    ..Default::default()
                };
                router_navigate(to, options)
            };
            let listeners = Listeners {
                state: Box::new(move |s: &AuthState| drop(set_state.try_set(s.clone()))),
                navigate: Box::new(navigate),
                signed_in: on_signed_in,
                signed_out: on_signed_out,
                notice: Box::new(move |n| {
                    let _ = set_signed_out.try_set(Some(n));
                }),
            };
            let browser = WebBrowser::new(OidcClient::new(config.clone()), listeners);
            Driver::new(browser, config)
        });
        let profile = Memo::new(move |_| {
            state.with(|s| match s {
                AuthState::SignedIn(signed_in) => Some(signed_in.profile.clone()),
                _ => None,
            })
        });
        let auth = Auth {
            state,
            phase: Memo::new(move |_| state.with(AuthState::phase)),
            profile,
            roles: Memo::new(move |_| {
                profile.with(|p| p.as_ref().map(|p| p.roles.clone()).unwrap_or_default())
            }),
            error: Memo::new(move |_| state.with(|s| s.error().cloned())),
            signed_out,
            set_signed_out,
            driver: StoredValue::new_local(driver.clone()),
        };
        if let Some(driver) = driver {
            watch_wake_ups(&driver);
            listen_to_twins(&driver);
            let stop = SendWrapper::new(driver.clone());
            on_cleanup(move || stop.take().browser().cancel_timer());
            driver.recall_answered_step_up();
            spawn_local(async move {
                let client = driver.browser().client();
                let callback = boot.callback(client.config());
                // The provider sent the person back from this tab's sign-out: say so, once.
                if client
                    .store()
                    .sign_out_returned(&boot.query, clock::now_ms())
                {
                    location::replace_with(&boot.path);
                    set_signed_out.set(Some(SignedOutNotice::Provider));
                }
                let completing = callback.is_some();
                driver.dispatch(Event::Boot {
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

    /// The driver, when sign-in is on (and the provider still mounted).
    pub(crate) fn driver(&self) -> Option<WebDriver> {
        self.driver.try_with_value(Clone::clone).flatten()
    }

    fn dispatch(&self, event: Event) {
        if let Some(driver) = self.driver() {
            driver.dispatch(event);
        }
    }

    /// Whether someone is signed in (reactive). With sign-in switched off, `false`.
    pub fn is_signed_in(&self) -> bool {
        self.phase.get() == Phase::SignedIn
    }

    /// Whether the person holds any of `roles` (none required: always), as the configured
    /// [`RoleImplication`] counts them (reactive). With sign-in switched
    /// off every gate is open: the API decides.
    pub fn has_any_role<S: AsRef<str>>(&self, roles: &[S]) -> bool {
        match self.phase.get() {
            Phase::SignedIn => {
                let implication = self.implication();
                let roles: Vec<String> = roles.iter().map(|r| r.as_ref().to_string()).collect();
                self.roles.with(|held| implication.grants_any(held, &roles))
            }
            Phase::Disabled => true,
            _ => false,
        }
    }

    /// Whether the person holds `role` (reactive); see [`Auth::has_any_role`].
    pub fn has_role(&self, role: &str) -> bool {
        self.has_any_role(&[role])
    }

    /// Whether the person holds `role` on the other API `id` (reactive). `None` while no token
    /// for it has been obtained (nothing is known yet). With sign-in switched off every gate is
    /// open.
    pub fn has_role_at(&self, id: &str, role: &str) -> Option<bool> {
        match self.phase.get() {
            Phase::Disabled => Some(true),
            Phase::SignedIn => {
                let implication = self.implication();
                self.profile.with(|p| {
                    let roles = p.as_ref()?.resource_roles.iter().find(|r| r.id == id)?;
                    let held = roles.roles.as_ref()?;
                    Some(implication.grants(held, role))
                })
            }
            _ => Some(false),
        }
    }

    /// For leptos_router's `<ProtectedRoute condition=…>`: `None` while it is not known yet
    /// (start-up, a sign-in completing), `Some(true)` when signed in or sign-in is switched off,
    /// `Some(false)` otherwise (reactive).
    pub fn route_access(&self) -> Option<bool> {
        match self.phase.get() {
            Phase::Starting | Phase::Completing => None,
            Phase::SignedIn | Phase::Disabled => Some(true),
            _ => Some(false),
        }
    }

    /// As [`Auth::route_access`], also requiring one of `roles`.
    pub fn route_access_with_any_role<S: AsRef<str>>(&self, roles: &[S]) -> Option<bool> {
        self.route_access()
            .map(|open| open && self.has_any_role(roles))
    }

    /// The signed-in person's ID token claims as `T` (reactive): a struct of the claims the app
    /// needs, with serde's derive.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, ClaimsError> {
        self.profile.with(|profile| {
            let claims = profile
                .as_ref()
                .map(|p| &p.claims)
                .filter(|claims| !claims.is_empty())
                .ok_or(ClaimsError::NotSignedIn)?;
            T::deserialize(claims).map_err(|e| ClaimsError::Shape(e.to_string()))
        })
    }

    /// Whether the last grant for the other API `id` said the person must consent first
    /// (reactive); [`Auth::consent_to`] asks them.
    pub fn needs_consent(&self, id: &str) -> bool {
        self.state.with(|s| needs_consent_in(s, id))
    }

    /// The client configuration; `None` when sign-in is switched off.
    pub fn config(&self) -> Option<OidcConfig> {
        self.driver().map(|driver| driver.config())
    }

    fn implication(&self) -> RoleImplication {
        (self.driver()).map_or_else(Default::default, |d| d.role_implication())
    }

    /// Starts a sign-in that comes back to `return_to` (a path on this site; anything else
    /// comes back to `/`).
    pub fn sign_in(&self, return_to: impl Into<String>) {
        self.dispatch(Event::SignInRequested {
            return_to: return_to.into(),
        });
    }

    /// Signs out here and in the twin tabs, then at the provider when it supports it.
    pub fn sign_out(&self) {
        self.dispatch(Event::SignOutRequested);
    }

    /// Refreshes the session now (joining a refresh already under way).
    pub fn refresh_now(&self) {
        self.dispatch(Event::RefreshRequested { waiter: false });
    }

    /// Forgets a sign-in failure or the notice that the session ended, once the person has read
    /// it: the state becomes signed out.
    pub fn dismiss_error(&self) {
        self.dispatch(Event::ErrorDismissed);
    }

    /// Signs in again for what an API asked for (more claims, a stronger method, a more recent
    /// authentication: the `request` of [`ApiError::StepUpRequired`](crate::ApiError)), and
    /// comes back to `return_to`. The person stays signed in until the provider answers.
    pub fn step_up(&self, request: &StepUpRequest, return_to: impl Into<String>) {
        self.dispatch(Event::StepUpRequested {
            resource: request.resource.clone(),
            step_up: request.step_up.clone(),
            return_to: return_to.into(),
        });
    }

    /// Signs in again as the same person before the session's end (see
    /// [`SignedIn::ends_at_ms`](crate::SignedIn)), coming back to `return_to`: without the
    /// provider's page where it allows (`prompt=none`), else with it.
    pub fn stay_signed_in(&self, return_to: impl Into<String>) {
        self.dispatch(Event::StaySignedInRequested {
            return_to: return_to.into(),
        });
    }

    /// Forgets the sign-out notice once the person has read it.
    pub fn dismiss_signed_out(&self) {
        self.set_signed_out.set(None);
    }

    /// Gets tokens for every configured API not yet held, in the background (so their roles can
    /// be shown). An API known to need consent is not asked again: the calls that need it say
    /// so, with the way to give it.
    pub fn load_resource_roles(&self) {
        let Some(driver) = self.driver() else { return };
        let ids: Vec<String> = (driver.config().resources.iter())
            .map(|r| r.id.clone())
            .filter(|id| !self.state.with_untracked(|s| needs_consent_in(s, id)))
            .collect();
        for resource in ids {
            driver.dispatch(Event::ResourceWanted { resource });
        }
    }

    /// Signs in again for the other API `id`'s scopes, so the provider asks for the missing
    /// consent, and comes back to `return_to`. The person stays signed in to the other APIs.
    pub fn consent_to(&self, id: &str, return_to: impl Into<String>) {
        self.dispatch(Event::ConsentRequested {
            resource: id.to_string(),
            return_to: return_to.into(),
        });
    }
}

/// Whether the last grant for the API `id` in `state` said the person must consent first.
fn needs_consent_in(state: &AuthState, id: &str) -> bool {
    matches!(state, AuthState::SignedIn(s) if s.consent_needed.iter().any(|r| r == id))
}

/// Timers are throttled in background tabs and stop while the machine sleeps, so the refresh
/// is re-checked whenever the tab becomes visible, the window gains focus or the network comes
/// back. The listeners go when the provider unmounts.
fn watch_wake_ups(driver: &WebDriver) {
    for event in ["visibilitychange", "focus", "online", "pageshow"] {
        let driver = Rc::downgrade(driver);
        let handle = window_event_listener_untyped(event, move |_| {
            let visible = document().visibility_state() != web_sys::VisibilityState::Hidden;
            if let Some(driver) = driver.upgrade() {
                driver.dispatch(Event::WokeUp { visible });
            }
        });
        on_cleanup(move || handle.remove());
    }
}

/// Hands twin tabs' messages (refreshed, signed out) to the machine, once opened with this
/// tab's session key; anything else on the channel is ignored. The channel closes when the
/// provider unmounts.
fn listen_to_twins(driver: &WebDriver) {
    let Some(channel) = driver.browser().channel() else {
        return;
    };
    let weak = Rc::downgrade(driver);
    let listener = tab_sync::listen(channel, move |text| {
        let Some(driver) = weak.upgrade() else { return };
        let Some(mine) = driver.session() else { return };
        spawn_local(async move {
            if let Some(message) = tab_sync::open(&text, &mine).await {
                driver.dispatch(Event::Twin(message));
            }
        });
    });
    let listener = SendWrapper::new(listener);
    on_cleanup(move || listener.take().stop());
}
