//! Integration tests for gatehouse-api, built as one test binary (one link).
//!
//! Tokens are signed with the throwaway keys in `tests/keys/` (test-only).
//! Most tests drive `gatehouse_api::router` with `tower::ServiceExt::oneshot`
//! and a static key set; `idp` serves discovery + JWKS from an in-process
//! server on 127.0.0.1:0; `binary` starts the real executable; `tre` covers
//! the Azure TRE-like workspace routes and their per-workspace audiences; `dpop`
//! the DPoP (RFC 9449) proofs.

mod auth;
mod binary;
mod cors;
mod dpop;
mod idp;
mod keys;
mod resources;
mod step_up;
mod stress;
mod support;
mod tre;
