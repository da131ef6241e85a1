//! An Azure TRE-like API surface: workspaces, each guarded by its own app registration.
//!
//! | Method and path                                | Token for (`aud`)    | Requires                                  |
//! |------------------------------------------------|----------------------|-------------------------------------------|
//! | `GET /api/workspaces`                          | this API             | `TREUser` or `TREAdmin`                   |
//! | `GET /api/workspace-templates`                 | this API             | `TREAdmin`                                |
//! | `GET /api/workspaces/{id}`                     | workspace `{id}`     | `WorkspaceOwner` or `WorkspaceResearcher` |
//! | `GET /api/workspaces/{id}/workspace-services`  | workspace `{id}`     | `WorkspaceOwner` or `WorkspaceResearcher` |
//!
//! As in Azure TRE, a request about one workspace needs an access token for
//! that workspace's app registration (scope `api://<workspace app
//! id>/user_impersonation`), whose `roles` hold the caller's workspace roles;
//! a token for the TRE API itself is refused there with 401 (wrong audience).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::{Authorized, Caller};
use crate::error::ApiError;
use crate::roles::{TreAdmin, TreMember, WORKSPACE_ROLES};
use crate::workspaces::{templates_json, Workspace};
use crate::AppState;

/// The TRE routes, still needing their state.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/workspaces", get(list_workspaces))
        .route("/api/workspace-templates", get(list_templates))
        .route("/api/workspaces/{id}", get(get_workspace))
        .route(
            "/api/workspaces/{id}/workspace-services",
            get(list_workspace_services),
        )
}

/// A caller with a token for workspace `{id}` of the path and a workspace
/// role in it. Rejects with 404 (no such workspace), 401 (no token, or one
/// for another audience) or 403 (no workspace role).
pub struct WorkspaceMember {
    pub caller: Caller,
    pub workspace: Workspace,
}

impl FromRequestParts<AppState> for WorkspaceMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::NotFound(e.body_text()))?;
        // The workspace decides which audience the token must have, so it is
        // looked up first: an unknown id is a 404 whatever the token.
        let workspace = state
            .workspaces
            .get(&id)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("workspace {id} not found")))?;
        let caller = state.auth.caller(parts, Some(workspace.audience())).await?;
        state.auth.permit(&caller, WORKSPACE_ROLES)?;
        Ok(Self { caller, workspace })
    }
}

/// Every configured workspace. (Azure TRE shows a `TREUser` only the
/// workspaces they hold a role in; the roles live in the workspaces' own
/// registrations, which this API does not query, so it lists them all.)
async fn list_workspaces(_: Authorized<TreMember>, State(state): State<AppState>) -> Json<Value> {
    let workspaces: Vec<Value> = state.workspaces.iter().map(Workspace::to_json).collect();
    Json(json!({ "workspaces": workspaces }))
}

async fn list_templates(_: Authorized<TreAdmin>) -> Json<Value> {
    Json(templates_json())
}

async fn get_workspace(member: WorkspaceMember) -> Json<Value> {
    Json(json!({ "workspace": member.workspace.to_json() }))
}

async fn list_workspace_services(member: WorkspaceMember) -> Json<Value> {
    Json(json!({ "workspaceServices": member.workspace.services_json() }))
}
