//! Routes that ask for more than a valid token, as Entra-protected APIs and RFC 9470 resource
//! servers do, so the client's answers can be shown and tested without Entra:
//!
//! | Method and path              | Asks for |
//! |------------------------------|----------|
//! | `GET /secure/context`        | authentication context `c1` (a claims challenge the IdP meets silently) |
//! | `POST /secure/context-mfa`   | authentication context `c2` (the IdP wants the person); echoes the JSON body |
//! | `GET /secure/mfa`            | `acr` `urn:gatehouse:mfa` (`insufficient_user_authentication`, `acr_values`) |
//! | `GET /secure/recent/{seconds}` | an authentication at most `seconds` old (`insufficient_user_authentication`, `max_age`) |
//! | `GET /secure/broken`         | `c1`, whatever the token carries: a misconfigured API, for the client's loop guard |
//!
//! Each answers 401 with the challenge until the access token carries what it asks for, then
//! 200 with the claims it checked.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::{Caller, Claims};
use crate::error::ApiError;
use crate::AppState;

/// The `acr` a sign-in with multi-factor authentication gets from the dev IdP.
pub const MFA: &str = "urn:gatehouse:mfa";

/// The step-up routes, still needing their state.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/secure/context", get(context))
        .route("/secure/context-mfa", post(context_mfa))
        .route("/secure/mfa", get(mfa))
        .route("/secure/recent/{seconds}", get(recent))
        .route("/secure/broken", get(broken))
}

/// The token's claims; with authentication off there is nothing to step up.
fn claims(caller: &Caller) -> Option<&Claims> {
    match caller {
        Caller::Token(claims) => Some(claims),
        Caller::Anonymous { .. } => None,
    }
}

/// Passes if the token carries the authentication context `context` (or auth is off).
fn require_context(caller: &Caller, context: &'static str) -> Result<(), ApiError> {
    match claims(caller) {
        Some(c) if !c.acrs.iter().any(|a| a == context) => {
            Err(ApiError::InsufficientClaims { context })
        }
        _ => Ok(()),
    }
}

fn checked(caller: &Caller, what: Value) -> Json<Value> {
    Json(json!({ "granted": what, "claims": caller.to_json() }))
}

async fn context(caller: Caller) -> Result<Json<Value>, ApiError> {
    require_context(&caller, "c1")?;
    Ok(checked(&caller, json!({ "acrs": "c1" })))
}

async fn context_mfa(caller: Caller, body: Bytes) -> Result<Json<Value>, ApiError> {
    require_context(&caller, "c2")?;
    let received: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Unprocessable(format!("request body is not JSON: {e}")))?;
    Ok(Json(
        json!({ "granted": { "acrs": "c2" }, "received": received }),
    ))
}

async fn mfa(caller: Caller) -> Result<Json<Value>, ApiError> {
    if let Some(c) = claims(&caller) {
        if c.acr.as_deref() != Some(MFA) {
            return Err(ApiError::InsufficientUserAuthentication {
                acr_values: Some(MFA),
                max_age: None,
            });
        }
    }
    Ok(checked(&caller, json!({ "acr": MFA })))
}

/// The most `/secure/recent/{seconds}` accepts: a day.
const MOST_SECONDS: u64 = 86_400;

async fn recent(caller: Caller, Path(seconds): Path<u64>) -> Result<Json<Value>, ApiError> {
    if seconds > MOST_SECONDS {
        return Err(ApiError::Unprocessable(format!(
            "seconds must be at most {MOST_SECONDS}"
        )));
    }
    if let Some(c) = claims(&caller) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let fresh = c
            .auth_time
            .is_some_and(|t| now.saturating_sub(t) <= seconds);
        if !fresh {
            return Err(ApiError::InsufficientUserAuthentication {
                acr_values: None,
                max_age: Some(seconds),
            });
        }
    }
    Ok(checked(&caller, json!({ "max_age": seconds })))
}

async fn broken(caller: Caller) -> Result<Json<Value>, ApiError> {
    match claims(&caller) {
        Some(_) => Err(ApiError::InsufficientClaims { context: "c1" }),
        None => Ok(checked(&caller, json!({}))),
    }
}
