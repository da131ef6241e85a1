//! Why an API call got no usable answer: one error for every failure of the request path, from a
//! request that could not be built to a session that has ended.

use crate::core::challenge::StepUp;
use crate::exchange::HttpError;
use thiserror::Error;

/// What an API asked for that only the person can give: a sign-in with more claims, a stronger
/// method or a more recent authentication. Hand it to `Auth::step_up`, which signs in again for
/// it and comes back to the route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepUpRequest {
    /// The other API's id, or `None` for the session's own API.
    pub(crate) resource: Option<String>,
    pub(crate) step_up: StepUp,
}

impl StepUpRequest {
    /// What the API asked for, in words for the page.
    pub fn describe(&self) -> String {
        self.step_up.describe()
    }
}

/// Why a call got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request could not be built: a header name or value that is not valid, a body that
    /// does not serialise. Nothing was sent.
    #[error("The request is not valid: {0}.")]
    InvalidRequest(String),
    /// The URL may not carry an access token: only `https` URLs (`http` on this computer) and
    /// paths on this site may. Nothing was sent.
    #[error("Refusing to send an access token to {0:?}: only https URLs (http on localhost) and paths on this site may carry one.")]
    InsecureUrl(String),
    /// No answer came: offline, DNS, refused, or blocked by CORS.
    #[error("Could not reach {url}: {detail}.")]
    Network {
        /// The request's URL.
        url: String,
        /// Why, as the browser says it.
        detail: String,
    },
    /// No answer came within the time every request is allowed.
    #[error("{url} did not answer within {seconds} seconds.")]
    Timeout {
        /// The request's URL.
        url: String,
        /// The limit, in seconds.
        seconds: u64,
    },
    /// The call needs an access token and nobody is signed in.
    #[error("Nobody is signed in.")]
    NotSignedIn,
    /// The API refused the session's token even right after a refresh: the session has ended
    /// (the UI shows it), and the person must sign in again.
    #[error("The API no longer accepts your sign-in. Please sign in again.")]
    SessionEnded,
    /// The person has not consented to the API `api`: `Auth::consent_to` asks them.
    #[error("{name} needs your consent before this app can call it for you. ({message})")]
    ConsentRequired {
        /// The API's id.
        api: String,
        /// The API's name.
        name: String,
        /// The provider's words.
        message: String,
    },
    /// The API asks for a sign-in the person must give (more claims, a stronger method, a more
    /// recent authentication); [`Auth::step_up`](crate::Auth::step_up) signs in for it and
    /// comes back.
    #[error("{name} asks for {asked}. Sign in again to continue.")]
    StepUpRequired {
        /// The API's name.
        name: String,
        /// What it asked for, in words.
        asked: String,
        /// What to hand to `Auth::step_up`.
        request: StepUpRequest,
    },
    /// The API asked again for what it had just been given: the call stops here instead of
    /// signing in again and again.
    #[error("{name} asked again for {asked} right after getting it. Nothing more can be done from here: the API or its sign-in policy may be misconfigured; tell its administrators.")]
    ChallengeRepeated {
        /// The API's name.
        name: String,
        /// What it asked for, in words.
        asked: String,
    },
    /// The identity provider would not issue a token with what the API asked for.
    #[error("{name} asks for {asked}, which the identity provider refused: {reason}.")]
    StepUpRefused {
        /// The API's name.
        name: String,
        /// What it asked for, in words.
        asked: String,
        /// The provider's words.
        reason: String,
    },
    /// No access token for the API could be obtained; says why.
    #[error("No access token for {api}: {reason}.")]
    NoToken {
        /// The API's name.
        api: String,
        /// Why.
        reason: String,
    },
    /// The request names an API that is not configured.
    #[error("No API named {0:?} is configured.")]
    UnknownApi(String),
    /// The answer's status is not a success (`ApiResponse::error_for_status`).
    #[error("{url} answered HTTP {status}.")]
    Status {
        /// The request's URL.
        url: String,
        /// The status.
        status: u16,
        /// The body, as text.
        body: String,
    },
    /// The answer is not the JSON asked for (`ApiResponse::json`); says why.
    #[error("The answer from {url} is not the JSON expected: {reason}.")]
    Decode {
        /// The request's URL.
        url: String,
        /// serde's words.
        reason: String,
    },
}

impl ApiError {
    /// The error for a request to `url` that got no answer.
    pub(crate) fn from_http(url: &str, error: HttpError) -> ApiError {
        match error {
            HttpError::Timeout { seconds } => ApiError::Timeout {
                url: url.to_string(),
                seconds,
            },
            HttpError::Failed(_) => ApiError::Network {
                url: url.to_string(),
                detail: error.to_string(),
            },
            HttpError::Refused(why) => ApiError::InvalidRequest(why),
        }
    }
}
