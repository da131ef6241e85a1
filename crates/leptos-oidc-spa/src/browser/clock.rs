//! Time and randomness from the browser: `Date.now()` and `crypto.getRandomValues` (getrandom).

use crate::core::error::BrowserError;

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Fills a fixed-size array from the browser's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], BrowserError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| BrowserError::NoRandomness(e.to_string()))?;
    Ok(bytes)
}

/// A uniform number in [0, 1) for jitter (not security-relevant).
pub fn jitter() -> f64 {
    js_sys::Math::random()
}
