//! The HTTP endpoints and the role each one requires.
//!
//! | Method and path              | Requires        |
//! |------------------------------|-----------------|
//! | `GET /health`                | nothing         |
//! | `GET /me`                    | any valid token |
//! | `GET /studies`, `GET /studies/{uid}` | `Study.Read` (or `Study.Write`) |
//! | `POST /studies`              | `Study.Write`   |
//! | `GET /library/items`, `GET /library/items/{uid}` | `Library.Read` (or `Library.Write`) |
//! | `POST /library/items`        | `Library.Write` |
//! | `GET /stress/numbers/{count}` | any valid token |
//!
//! plus the Azure TRE-like `/api/workspaces...` routes of [`crate::tre`] and the routes that ask
//! for more (claims, step-up) of [`crate::step_up`].
//!
//! Authentication and role checks run in the extractors, before the body is
//! read, so an unauthorised POST gets 401/403 rather than 422.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::auth::{Authorized, Caller};
use crate::error::ApiError;
use crate::roles::{LibraryRead, LibraryWrite, StudyRead, StudyWrite};
use crate::store::{LibraryItem, NewLibraryItem, NewStudy, Study};
use crate::AppState;

/// All routes, still needing their state.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/me", get(me))
        .route("/studies", get(list_studies).post(create_study))
        .route("/studies/{uid}", get(get_study))
        .route(
            "/library/items",
            get(list_library_items).post(create_library_item),
        )
        .route("/library/items/{uid}", get(get_library_item))
        .route("/stress/numbers/{count}", get(numbers))
        .merge(crate::tre::routes())
        .merge(crate::step_up::routes())
        .fallback(not_found)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

async fn me(caller: Caller) -> Json<Value> {
    Json(caller.to_json())
}

/// The most numbers `/stress/numbers/{count}` answers with: about 15 MB of JSON.
pub const MOST_NUMBERS: u32 = 2_000_000;

/// A JSON array of the numbers from 0 to `count - 1`: an answer as large as a test of a
/// client's limits needs (800,000 numbers are about 5.4 MB).
async fn numbers(_: Caller, Path(count): Path<u32>) -> Result<Json<Vec<u32>>, ApiError> {
    if count > MOST_NUMBERS {
        return Err(ApiError::Unprocessable(format!(
            "count must be at most {MOST_NUMBERS}"
        )));
    }
    Ok(Json((0..count).collect()))
}

/// Parses a JSON request body, turning any problem into a 422 with a message.
fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::Unprocessable(
            "request body must be a JSON object".to_owned(),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Unprocessable(format!("invalid request body: {e}")))
}

async fn list_studies(_: Authorized<StudyRead>, State(state): State<AppState>) -> Json<Vec<Study>> {
    Json(state.store.studies())
}

async fn get_study(
    _: Authorized<StudyRead>,
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> Result<Json<Study>, ApiError> {
    state
        .store
        .study(&uid)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("study {uid} not found")))
}

async fn create_study(
    auth: Authorized<StudyWrite>,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Study>), ApiError> {
    let new = parse_body::<NewStudy>(&body)?.validated()?;
    let study = state.store.add_study(new, auth.caller.username())?;
    Ok((StatusCode::CREATED, Json(study)))
}

async fn list_library_items(
    _: Authorized<LibraryRead>,
    State(state): State<AppState>,
) -> Json<Vec<LibraryItem>> {
    Json(state.store.library_items())
}

async fn get_library_item(
    _: Authorized<LibraryRead>,
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> Result<Json<LibraryItem>, ApiError> {
    state
        .store
        .library_item(&uid)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("library item {uid} not found")))
}

async fn create_library_item(
    _: Authorized<LibraryWrite>,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<LibraryItem>), ApiError> {
    let new = parse_body::<NewLibraryItem>(&body)?.validated()?;
    let item = state.store.add_library_item(new)?;
    Ok((StatusCode::CREATED, Json(item)))
}
