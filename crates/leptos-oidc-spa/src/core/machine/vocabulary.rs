//! The machine's vocabulary: where the person stands (`AuthState`, and its coarse `Phase`), what
//! happens (`Event`) and what the browser layer must do about it (`Effect`).

use crate::core::api_call::Target;
use crate::core::challenge::StepUp;
use crate::core::error::{AuthError, BrowserError};
use crate::core::profile::UserProfile;
use crate::core::refresh::GrantFailure;
use crate::core::session::{HandoverKey, Session};
use crate::core::tab_sync::TabMessage;

/// Where the person stands, as the UI shows it. `Starting` is explicit so pages never flash the
/// signed-out view.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
// A state is cloned once per change; boxing `SignedIn` would make every match on it read worse.
#[allow(clippy::large_enum_variant)]
pub enum AuthState {
    /// Not known yet: the state until the stored session and the address bar have been read.
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
        /// sign-in.
        login_hint: Option<String>,
        /// Why it ended; always an [`AuthError::SessionEnded`].
        error: AuthError,
    },
    /// Signing in failed: discovery, the provider's answer, the callback, token or ID token
    /// checks, or the browser (storage, randomness, WebCrypto).
    Failed(AuthError),
}

impl AuthState {
    /// The coarse phase of this state.
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

    /// The sign-in failure or the reason the session ended, if the state is one of those.
    pub fn error(&self) -> Option<&AuthError> {
        match self {
            AuthState::Failed(error) | AuthState::SessionEnded { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The coarse phase of an [`AuthState`]: what a view usually switches on. Views that depend only
/// on it re-render when it changes, not when a refresh flag or an expiry time inside
/// [`AuthState::SignedIn`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// [`AuthState::Starting`]: not known yet whether anyone is signed in.
    Starting,
    /// [`AuthState::Redirecting`]: leaving for the identity provider.
    Redirecting,
    /// [`AuthState::Completing`]: the page the provider returned to is redeeming the code
    /// ("signing in…").
    Completing,
    /// [`AuthState::SignedOut`].
    SignedOut,
    /// [`AuthState::SignedIn`], whether or not a refresh is under way.
    SignedIn,
    /// Sign-in is switched off (`AuthProvider` without a configuration).
    Disabled,
    /// A sign-in failure or an ended session ([`AuthState::error`] says which).
    Error,
}

/// What the UI knows about a signed-in session (never the tokens themselves).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SignedIn {
    /// The person's details, roles and scopes, from the tokens' claims.
    pub profile: UserProfile,
    /// When the access token expires, in milliseconds since the epoch (this machine's clock).
    pub expires_at_ms: f64,
    /// When the session was last refreshed, in milliseconds since the epoch; `None` if never.
    pub refreshed_at_ms: Option<f64>,
    /// When the session ends whatever the app does, in milliseconds since the epoch, where that
    /// can be known: the refresh token's end (as the provider said it, or by its known rule,
    /// `OidcConfig::refresh_lifetime`), or the access token's expiry without a refresh token.
    pub ends_at_ms: Option<f64>,
    /// Whether the session has a refresh token; without one it ends with its access token.
    pub renewable: bool,
    /// A refresh is under way.
    pub refreshing: bool,
    /// Set while a refresh keeps failing on the network.
    pub refresh_problem: Option<String>,
    /// The other APIs whose last grant said the person must consent first (by id).
    pub consent_needed: Vec<String>,
    /// What a stolen token would be worth: whether the tokens are bound to this browser's key.
    pub binding: TokenBinding,
}

/// Whether a session's tokens are bound to a key the browser holds (DPoP, RFC 9449).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenBinding {
    /// Bearer tokens: whoever holds one can use it.
    Bearer,
    /// The refresh token is bound to the browser's key; access tokens are Bearer (the
    /// provider binds the refresh token alone, RFC 9449 §5, as for APIs that take only Bearer).
    RefreshToken,
    /// Access and refresh tokens are bound: each request carries a proof of the key.
    AllTokens,
}

impl TokenBinding {
    /// How the profile says it.
    pub fn describe(self) -> &'static str {
        match self {
            TokenBinding::Bearer => "Bearer tokens (not bound to this browser)",
            TokenBinding::RefreshToken => {
                "refresh token bound to this browser's key (DPoP); access tokens Bearer"
            }
            TokenBinding::AllTokens => "bound to this browser's key (DPoP)",
        }
    }
}

/// The time of a step, and a uniform number in `[0, 1)` for the refresh jitter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Now {
    /// Milliseconds since the epoch (`Date.now()`).
    pub ms: f64,
    /// Uniform in `[0, 1)`; spreads the refresh lead (see `refresh::refresh_delay_ms`).
    pub jitter: f64,
}

/// A failed grant at the token endpoint (the session's refresh, or a token for another API) and
/// what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantError {
    /// What it means: try again, consent needed, refused, or the session is over (see
    /// `refresh::classify`). For the session's own refresh, anything but `Retry` ends it.
    pub failure: GrantFailure,
    /// What went wrong: shown as [`SignedIn::refresh_problem`] while retrying, or as the error
    /// of [`AuthState::SessionEnded`] or of the API call that needed the token.
    pub error: AuthError,
}

impl GrantError {
    /// A failure that may pass: the network, the provider's documents, a server error.
    pub fn retry(error: AuthError) -> GrantError {
        GrantError {
            failure: GrantFailure::Retry,
            error,
        }
    }

    /// The session is over: there is no refresh token, or it is no longer accepted.
    pub fn session_ended(detail: impl Into<String>) -> GrantError {
        GrantError {
            failure: GrantFailure::SessionEnded,
            error: AuthError::SessionEnded {
                detail: detail.into(),
            },
        }
    }
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

/// Why a grant carrying an API's claims challenge failed, for the call that asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimsRefusal {
    /// The provider's message.
    pub message: String,
    /// The provider wants the person (`interaction_required`): a sign-in with the claims helps.
    pub needs_person: bool,
}

impl ClaimsRefusal {
    /// The refusal a failed grant means.
    pub fn of(error: &GrantError) -> ClaimsRefusal {
        ClaimsRefusal {
            message: error.error.to_string(),
            needs_person: error.failure == GrantFailure::ConsentRequired,
        }
    }
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
    /// An API answered with a claims challenge: the next grant for `target` (the session's
    /// refresh, or a new token for that resource) carries `claims`. For the session the caller
    /// waits as for a refresh ([`Effect::ReleaseWaiters`]); for a resource the token is dropped
    /// and the caller asks for a new one ([`Event::ResourceWanted`]). A failure that the session
    /// survives is kept for the caller (`Machine::take_claims_refusal`).
    ClaimsChallenged {
        /// Whose token the API wants with more claims.
        target: Target,
        /// The claims request (a JSON object), as the API asked.
        claims: String,
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
        result: Result<Session, GrantError>,
    },
    /// The person asked to consent to a resource: sign in again for its scopes, coming back to
    /// `return_to`.
    ConsentRequested {
        /// The resource's id.
        resource: String,
        /// A path (with query) on this site.
        return_to: String,
    },
    /// The person agreed to sign in again for what an API asked for (`step_up`), coming back to
    /// `return_to`; `resource` names the other API, or `None` for the session's own.
    StepUpRequested {
        /// The other API's id, if the challenge was for one.
        resource: Option<String>,
        /// What the API asked for.
        step_up: StepUp,
        /// A path (with query) on this site.
        return_to: String,
    },
    /// The person chose "Stay signed in" before the session's end: a new sign-in as the same
    /// person, silent where the provider allows, coming back to `return_to`.
    StaySignedInRequested {
        /// A path (with query) on this site.
        return_to: String,
    },
    /// The cross-tab refresh lock is held: refresh unless a twin already did.
    RefreshLockHeld,
    /// The refresh grant finished.
    RefreshFinished(Result<Session, GrantError>),
    /// The browser refused to store the session.
    StorageRefused(BrowserError),
    /// A twin tab (same sessionStorage copy) refreshed or signed out.
    Twin(TabMessage),
    /// The API refused the session again after a refresh.
    ApiRejected,
    /// The person asked to sign out.
    SignOutRequested,
    /// The provider has no end-session endpoint: the sign-out was local only.
    SignedOutLocally,
    /// The person has read the sign-in error (or the notice that the session ended) and
    /// dismissed it.
    ErrorDismissed,
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
        /// What an API asked for that the sign-in must give.
        step_up: Option<StepUp>,
        /// Try without the provider's page first (`prompt=none`), falling back to it.
        silent: bool,
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
    Redeem {
        /// The session whose refresh token to redeem.
        session: Session,
        /// The claims an API asked for, to send with the grant.
        claims: Option<String>,
    },
    /// Redeem the refresh token for the resource `resource` (still holding the lock); answer
    /// with `ResourceFinished`.
    RedeemFor {
        /// The session whose refresh token to redeem.
        session: Session,
        /// The resource's id.
        resource: String,
        /// The claims the resource's API asked for, to send with the grant.
        claims: Option<String>,
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
