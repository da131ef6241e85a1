//! The OpenID Connect client's protocol logic: plain Rust, no browser types, tested natively.
//! Each module owns one rule set and cites the specification it enforces; `machine` decides
//! what the client does with them.

pub mod authorize;
pub mod callback;
pub mod config;
pub mod discovery;
pub mod error;
pub mod id_token;
pub mod jwks;
pub mod jwt;
pub mod logout;
pub mod machine;
pub mod pkce;
pub mod provider_cache;
pub mod query;
pub mod refresh;
pub mod roles;
pub mod session;
pub mod tab_sync;
pub mod token;
