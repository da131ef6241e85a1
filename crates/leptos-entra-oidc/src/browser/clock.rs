//! Time and randomness from the browser: `Date.now()` and `crypto.getRandomValues` (getrandom).

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Fills a fixed-size array from the browser's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    // The error's own text is not shown: formatting it links std's I/O error tables into the
    // wasm, and the only cause in a browser is a missing or failing `crypto.getRandomValues`.
    getrandom::fill(&mut bytes).map_err(|_| {
        "the browser's random number generator (crypto.getRandomValues) failed".to_string()
    })?;
    Ok(bytes)
}

/// A uniform number in [0, 1) for jitter (not security-relevant).
pub fn jitter() -> f64 {
    js_sys::Math::random()
}
