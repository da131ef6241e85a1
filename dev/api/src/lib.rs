//! gatehouse-api: a local protected API for Gatehouse.
//!
//! It validates Entra ID (OpenID Connect) bearer tokens the way StudyBuilder's
//! clinical-mdr-api does and serves a small in-memory set of studies and
//! library items guarded by app roles, plus an Azure TRE-like workspace API
//! whose workspaces each take tokens for their own app registration.
//! [`router`] builds the whole application so tests can drive it without a
//! socket; `main.rs` only reads the configuration and listens.

pub mod auth;
pub mod config;
pub mod cors;
pub mod dpop;
pub mod error;
pub mod jwks;
pub mod roles;
pub mod routes;
pub mod step_up;
pub mod store;
pub mod tre;
pub mod workspaces;

use std::sync::Arc;

use axum::http::HeaderValue;
use axum::Router;
use tower_http::request_id::PropagateRequestIdLayer;

use crate::auth::{Auth, TokenValidator};
use crate::config::Config;
use crate::dpop::Dpop;
use crate::jwks::{DiscoverySource, KeyCache};
use crate::store::Store;
use crate::workspaces::Workspaces;

/// Shared state of the application.
#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<Auth>,
    pub store: Arc<Store>,
    pub cors_origins: Arc<[HeaderValue]>,
    /// The Azure TRE workspaces served under `/api/workspaces`.
    pub workspaces: Arc<Workspaces>,
}

impl AppState {
    /// A state without TRE workspaces (see [`AppState::with_workspaces`]).
    pub fn new(auth: Auth, store: Store, cors_origins: Vec<HeaderValue>) -> Self {
        Self {
            auth: Arc::new(auth),
            store: Arc::new(store),
            cors_origins: cors_origins.into(),
            workspaces: Arc::new(Workspaces::default()),
        }
    }

    /// The same state serving `workspaces`.
    pub fn with_workspaces(self, workspaces: Workspaces) -> Self {
        Self {
            workspaces: Arc::new(workspaces),
            ..self
        }
    }

    /// The state described by `config` (whose `port` should be the one listened on, for the
    /// DPoP proofs' `htu`), with a seeded store and, when OAuth
    /// is on, a key cache reading the discovery document. The key cache is
    /// returned too so the caller can warm it up.
    pub fn from_config(config: &Config) -> (Self, Option<Arc<KeyCache>>) {
        let (auth, keys) = match &config.oauth {
            None => (Auth::Disabled, None),
            Some(oauth) => {
                let keys = Arc::new(KeyCache::new(Arc::new(DiscoverySource::new(
                    oauth.metadata_url.clone(),
                ))));
                let validator = TokenValidator::new(Arc::clone(&keys), &oauth.api_app_id)
                    .with_dpop(Dpop::new(config.dpop_settings()));
                (
                    Auth::Enabled {
                        validator,
                        rbac_enabled: config.rbac_enabled,
                    },
                    Some(keys),
                )
            }
        };
        (
            Self::new(auth, Store::seeded(), config.cors_origins.clone())
                .with_workspaces(config.workspaces.clone()),
            keys,
        )
    }
}

/// The application: all routes behind the CORS layer.
pub fn router(state: AppState) -> Router {
    let cors = cors::layer(&state.cors_origins);
    // A caller's `X-Request-Id` comes back on the answer, errors included.
    let echo_request_id = PropagateRequestIdLayer::new(cors::X_REQUEST_ID);
    routes::routes()
        .layer(axum::middleware::from_fn(error::dpop_challenges))
        .layer(echo_request_id)
        .layer(cors)
        .with_state(state)
}
