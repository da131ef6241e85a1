//! Time and randomness from the browser: `Date.now()` and `crypto.getRandomValues` (getrandom).

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Fills a fixed-size array from the browser's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| format!("the browser's random number generator failed: {e}"))?;
    Ok(bytes)
}

/// A uniform number in [0, 1) for jitter (not security-relevant).
pub fn jitter() -> f64 {
    js_sys::Math::random()
}
