//! The thin layer over browser APIs. Nothing here makes a protocol decision: it moves bytes
//! between `core` and the web platform (storage, fetch, crypto, timers, history).

pub mod clock;
pub mod dpop_key;
pub mod http;
pub mod location;
pub mod seal;
pub mod session_store;
pub mod signature;
pub mod tab_sync;

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
