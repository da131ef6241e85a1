//! Gatehouse: a single-page app that signs people in with OpenID Connect (authorization code flow
//! with PKCE) and calls an API protected by Microsoft Entra ID or any OIDC provider.
//!
//! The OpenID Connect client is the `leptos_oidc_spa` crate (`crates/leptos-oidc-spa`). This
//! crate is the app around it: `config` reads `/config.json` (with `config::views`, the API views
//! it declares, and `config::resources`, the other APIs it calls under the same sign-in), `api`
//! what an API response means for the person, `access` who may use a view, `profile` what the
//! profile says, `routes` the app's addresses (all plain Rust, tested natively); `app`,
//! `components` and `pages` render them, reading the configuration through `config::context`.

pub mod access;
pub mod api;
pub mod config;
pub mod duration;
pub mod graph;
pub mod profile;
pub mod routes;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod pages;
