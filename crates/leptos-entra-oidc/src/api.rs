//! The API client in context: every call carries `Authorization: Bearer <access token>`. A 401
//! triggers one refresh (shared with every call that got a 401 meanwhile) and one retry; a
//! second 401 ends the session. Calls to one of the other APIs (`OidcConfig::resources`) carry
//! that API's token; a 401 there redeems a new token for it alone and retries once, and never
//! ends the session. Each attempt has the HTTP layer's timeout.

use crate::auth::Phase;
use crate::auth::{use_auth, Auth};
use crate::browser::http::{self, BinaryReply, Reply};
use crate::core::machine::{AuthState, ResourceOutcome};
use leptos::prelude::GetUntracked;
use thiserror::Error;

/// Why a call to one of the other APIs got no reply.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum CallError {
    /// The request never got an answer (offline, CORS, server down, timeout).
    #[error("{0}")]
    Network(String),
    /// The person has not consented to this API: `Auth::consent_to` asks them.
    #[error("{message}")]
    ConsentRequired {
        /// The resource's id.
        resource: String,
        /// The provider's words.
        message: String,
    },
    /// No token for this API could be obtained; says why.
    #[error("No access token for this API: {0}")]
    NoToken(String),
}

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

impl ApiClient {
    /// Sends `method` to `url` with the access token for the resource `resource` (one of
    /// `OidcConfig::resources`), redeemed on first use. A 401 drops that token and retries once
    /// with a new one; the session and the other APIs' tokens are untouched whatever happens.
    pub async fn send_to(
        &self,
        resource: &str,
        method: &str,
        url: &str,
        body: Option<String>,
    ) -> Result<Reply, CallError> {
        if self.auth.phase.get_untracked() == Phase::Disabled {
            return http::api(method, url, None, body)
                .await
                .map_err(CallError::Network);
        }
        let token = self.token_for(resource).await?;
        let reply = http::api(method, url, Some(&token), body.clone())
            .await
            .map_err(CallError::Network)?;
        if reply.status != 401 {
            return Ok(reply);
        }
        self.auth.resource_rejected(resource);
        let token = self.token_for(resource).await?;
        http::api(method, url, Some(&token), body)
            .await
            .map_err(CallError::Network)
    }

    /// GETs `url` (an image, say) with the resource's token, the body read as bytes; a 401
    /// drops the token and retries once, as [`ApiClient::send_to`] does.
    pub async fn get_bytes_from(
        &self,
        resource: &str,
        url: &str,
    ) -> Result<BinaryReply, CallError> {
        let token = self.token_for(resource).await?;
        let reply = http::get_binary(url, &token)
            .await
            .map_err(CallError::Network)?;
        if reply.status != 401 {
            return Ok(reply);
        }
        self.auth.resource_rejected(resource);
        let token = self.token_for(resource).await?;
        http::get_binary(url, &token)
            .await
            .map_err(CallError::Network)
    }

    async fn token_for(&self, resource: &str) -> Result<String, CallError> {
        self.auth
            .resource_token(resource)
            .await
            .map_err(|outcome| match outcome {
                ResourceOutcome::ConsentRequired(message) => CallError::ConsentRequired {
                    resource: resource.to_string(),
                    message,
                },
                ResourceOutcome::Failed(why) => CallError::NoToken(why),
                ResourceOutcome::Ready => CallError::NoToken("it expired at once".into()),
            })
    }
}
