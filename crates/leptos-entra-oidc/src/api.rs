//! The API client in context: every call carries `Authorization: Bearer <access token>`. A 401
//! triggers one refresh (shared with every call that got a 401 meanwhile) and one retry; a
//! second 401 ends the session. Each attempt has the HTTP layer's timeout.

use crate::auth::{use_auth, Auth};
use crate::browser::http::{self, Reply};
use crate::core::machine::AuthState;

/// Calls a protected API with the signed-in person's access token. `Copy`; get it with
/// `use_api_client()` under `<AuthProvider>`.
#[derive(Clone, Copy)]
pub struct ApiClient {
    auth: Auth,
}

/// The API client provided by `<AuthProvider>`.
pub fn use_api_client() -> ApiClient {
    ApiClient { auth: use_auth() }
}

impl ApiClient {
    /// Sends `method` to `url` with the bearer token and an optional JSON body. Returns the
    /// reply whatever its status (4xx and 5xx included), or why no reply came.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<String>,
    ) -> Result<Reply, String> {
        let signed_in = matches!(self.auth.state_untracked(), AuthState::SignedIn(_));
        let token = self.auth.access_token();
        let reply = http::api(method, url, token.as_deref(), body.clone()).await?;
        if reply.status != 401 || !signed_in || !self.auth.refresh_and_wait().await {
            return Ok(reply);
        }
        let token = self.auth.access_token();
        let retried = http::api(method, url, token.as_deref(), body).await?;
        if retried.status == 401 {
            self.auth.api_rejected_session();
        }
        Ok(retried)
    }
}
