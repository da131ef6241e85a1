//! The OpenID Connect client's protocol logic: plain Rust, no browser types, tested natively.
//! Each module owns one rule set, cites the specification it enforces, and is the only place that
//! rule is written; `machine` decides what the client does with them.
//!
//! A reading order, from the configuration to the session:
//! 1. `config` — what the app says about the provider and itself; `entra` — what Microsoft
//!    Entra ID does differently, gathered in one place.
//! 2. `safe_url` — where the browser and a token may go; `query` — form encoding.
//! 3. `discovery` and `issuer` — the provider's metadata and the issuer everything is held to.
//! 4. `pkce`, `authorize` — the authorization request; `callback` — the response.
//! 5. `token` — the token endpoint; `jwt`, `jwks`, `id_token` — the ID token and its key plan.
//! 6. `session`, `profile`, `roles` — the signed-in session and what the UI may know of it.
//! 7. `refresh` — when to refresh and what a failed grant means; `tab_sync` — twin tabs;
//!    `provider_cache` — the provider's documents kept for the tab; `logout` — sign-out.
//! 8. `api_call` — what a response to an API call means for the call; `challenge` — what an
//!    API's `WWW-Authenticate` asks for (more claims, a stronger or more recent sign-in);
//!    `dpop` — tokens bound to the browser's key (RFC 9449): the proofs and the nonces.
//! 9. `machine` — the session as a state machine over all of the above; `error` — what fails.

pub mod api_call;
pub mod authorize;
pub mod callback;
pub mod challenge;
pub mod config;
pub mod discovery;
pub mod dpop;
pub mod entra;
pub mod error;
pub mod id_token;
pub mod issuer;
pub mod jwks;
pub mod jwt;
pub mod logout;
pub mod machine;
pub mod pkce;
pub mod profile;
pub mod provider_cache;
pub mod query;
pub mod refresh;
pub mod roles;
pub mod safe_url;
pub mod session;
pub mod tab_sync;
pub mod time;
pub mod token;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties;
#[cfg(test)]
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) mod test_support;
