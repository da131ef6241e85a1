//! The API client: every call carries `Authorization: Bearer <access token>`. A 401 triggers one
//! refresh (shared by all calls that got a 401 meanwhile) and one retry; a second 401 ends the
//! session. Interpretation of the response lives in `core::api`.

use super::{Auth, AuthState};
use crate::browser::http;
use crate::core::api;
pub use crate::core::api::ApiResult;
use leptos::prelude::*;

/// One attempt with the current access token; a transport failure becomes `ApiResult::Network`.
async fn send(
    auth: Auth,
    method: &str,
    url: &str,
    body: Option<String>,
) -> Result<http::Reply, ApiResult> {
    http::api(method, url, auth.access_token().as_deref(), body)
        .await
        .map_err(|e| ApiResult::Network(format!("{url}: {e}")))
}

pub async fn call(auth: Auth, method: &str, path: &str, body: Option<String>) -> ApiResult {
    let base = auth.config.with_value(|c| c.api_base_url.clone());
    let url = api::url(&base, path);
    let signed_in = matches!(auth.state.get_untracked(), AuthState::SignedIn(_));
    let mut reply = match send(auth, method, &url, body.clone()).await {
        Ok(r) => r,
        Err(network) => return network,
    };
    if reply.status == 401 && signed_in && auth.refresh_and_wait().await {
        reply = match send(auth, method, &url, body).await {
            Ok(r) => r,
            Err(network) => return network,
        };
        if reply.status == 401 {
            auth.api_rejected_session();
        }
    }
    api::response(reply.status, reply.body, reply.www_authenticate.as_deref())
}
