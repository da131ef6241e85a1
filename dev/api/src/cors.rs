//! Cross-origin access for the Gatehouse single-page app.
//!
//! Only the configured origins may call the API from a browser, with the
//! `Authorization`, `Content-Type`, `DPoP` and `X-Request-Id` request headers and
//! GET/POST. The `WWW-Authenticate` response header is exposed so the app can
//! read why a token was refused, `DPoP-Nonce` so it can retry with the nonce
//! asked for, and `X-Request-Id` so it can match an answer to its request. Preflight (`OPTIONS`) requests are answered by this layer
//! before any authentication runs.

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::dpop::{DPOP, DPOP_NONCE};

/// The request correlation header: a caller's id for its request, echoed on the answer.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long a browser may cache a preflight answer.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The CORS layer for `origins` (exact `scheme://host[:port]` values).
pub fn layer(origins: &[HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            DPOP,
            X_REQUEST_ID,
        ])
        .expose_headers([header::WWW_AUTHENTICATE, DPOP_NONCE, X_REQUEST_ID])
        .max_age(PREFLIGHT_MAX_AGE)
}
