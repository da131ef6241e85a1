//! OpenID Connect for Leptos single-page apps: the authorization code flow with PKCE and
//! fragment (or query) response mode, tokens kept in sessionStorage and refreshed before they
//! expire, the roles claim for role gates, and an API client that sends the bearer token and
//! refreshes once on a 401. Built for Microsoft Entra ID (multi-tenant issuers, `login_hint`
//! sign-out, its error codes explained) and any OpenID Connect provider.
//!
//! ```ignore
//! use leptos::prelude::*;
//! use leptos_entra_oidc::{use_auth, AuthProvider, OidcConfig, RequireRole};
//! use leptos_router::components::Router;
//!
//! let config = OidcConfig::new(
//!     "https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration",
//!     "<client id>",
//! );
//! mount_to_body(move || view! {
//!     <Router>
//!         <AuthProvider config=Some(config)>
//!             <RequireRole any=vec!["Study.Read".to_string()]>"Studies"</RequireRole>
//!         </AuthProvider>
//!     </Router>
//! });
//! ```
//!
//! The crate has three layers:
//! - [`core`]: the protocol as plain Rust, tested natively: PKCE, the authorization request,
//!   callback parsing, token and ID token checks, the session and its refresh schedule, and the
//!   session's state machine ([`core::machine`]) that decides everything the client does;
//! - [`browser`]: the thin layer over web APIs that performs the machine's effects:
//!   sessionStorage, fetch with timeouts (gloo-net), WebCrypto, timers, history, Web Locks and
//!   BroadcastChannel;
//! - the Leptos layer: [`AuthProvider`], [`use_auth`], [`RequireRole`] and
//!   [`use_api_client`].

#![deny(missing_docs)]

pub mod core;

mod api;
mod auth;
pub mod browser;
mod client;
mod components;

pub use api::{use_api_client, ApiClient, CallError};
pub use auth::{use_auth, Auth, AuthProvider, AuthProviderProps, BootUrl, Phase};
pub use browser::http::Reply;
pub use client::OidcClient;
pub use components::{missing_role_reason, RequireRole, RequireRoleProps};
pub use core::config::{OidcConfig, Resource, ResponseMode, RolesToken};
pub use core::error::AuthError;
pub use core::machine::{AuthState, ResourceOutcome, SignedIn};
pub use core::session::{ResourceRoles, UserProfile};
