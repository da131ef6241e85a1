//! Gatehouse: a single-page app that signs people in with OpenID Connect (authorization code flow
//! with PKCE) and calls an API protected by Microsoft Entra ID or any OIDC provider.
//!
//! `core` is the pure protocol logic; `browser` is the thin layer over web APIs; `auth` holds the
//! reactive session state; `components` and `pages` render it.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod auth;
#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod pages;
