#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod api_client;
mod api_error;
mod boot;
mod browser;
mod client;
mod components;
mod config_file;
mod core;
mod dpop_prover;
mod driver;
mod exchange;
mod handle;
mod provider_docs;
mod web;

pub use api_client::{
    use_api_client, AccessToken, ApiClient, ApiError, ApiRequest, ApiResponse, Headers, Method,
    StepUpRequest,
};
pub use boot::BootUrl;
pub use components::{
    RequireRole, RequireRoleProps, WhenSignedIn, WhenSignedInProps, WhenSignedOut,
    WhenSignedOutProps,
};
pub use config_file::ConfigFile;
pub use core::config::{OidcConfig, Resource, ResponseMode, RolesToken};
pub use core::dpop::DpopMode;
pub use core::error::{AuthError, BrowserError};
pub use core::logout::SignedOutNotice;
pub use core::machine::{AuthState, Phase, SignedIn, TokenBinding};
pub use core::profile::{ResourceRoles, UserProfile};
pub use core::roles::RoleImplication;
pub use handle::{try_use_auth, use_auth, Auth, AuthProvider, AuthProviderProps, ClaimsError};

/// The checks behind each kind of [`AuthError`], for code that matches on them.
pub mod error {
    pub use crate::core::callback::CallbackError;
    pub use crate::core::discovery::DiscoveryError;
    pub use crate::core::dpop::DpopUnavailable;
    pub use crate::core::id_token::IdTokenError;
    pub use crate::core::issuer::IssuerError;
    pub use crate::core::token::TokenError;
}

/// Microsoft Entra ID: its discovery URL, its hosts and API scopes.
pub mod entra {
    pub use crate::core::entra::{api_scope, is_entra_url, metadata_url};
}

/// Where a token may go: the checks the client applies before it sends the browser or an
/// access token anywhere, for an app that takes URLs from its own configuration.
pub mod safe_url {
    pub use crate::core::safe_url::{
        has_dot_segments, is_same_site_path, is_secure_endpoint, may_carry_token,
    };
}
