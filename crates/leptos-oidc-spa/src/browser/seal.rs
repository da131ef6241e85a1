//! AES-256-GCM with the browser's WebCrypto, for the twin-tab hand-over: a message is sealed with
//! the session's hand-over key (`core::session::Session::handover_key`), which only the tabs
//! holding a copy of the session have, and bound to its fingerprint as additional data.

use crate::core::error::BrowserError;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The length of a fresh nonce (GCM's recommended 96 bits).
const IV_BYTES: usize = 12;

/// The browser's WebCrypto, if the page is a secure context.
pub(super) fn subtle() -> Result<web_sys::SubtleCrypto, BrowserError> {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.subtle())
        .ok_or(BrowserError::NoWebCrypto)
}

async fn import(
    subtle: &web_sys::SubtleCrypto,
    key: &[u8],
) -> Result<web_sys::CryptoKey, BrowserError> {
    let refused = || BrowserError::WebCrypto("import the hand-over key");
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let promise = subtle
        .import_key_with_str("raw", &Uint8Array::from(key), "AES-GCM", false, &usages)
        .map_err(|_| refused())?;
    JsFuture::from(promise)
        .await
        .map(JsCast::unchecked_into)
        .map_err(|_| refused())
}

/// `{name: "AES-GCM", iv, additionalData}`.
fn params(iv: &[u8], aad: &str) -> Result<Object, BrowserError> {
    let params = Object::new();
    for (name, value) in [
        ("name", JsValue::from_str("AES-GCM")),
        ("iv", Uint8Array::from(iv).into()),
        ("additionalData", Uint8Array::from(aad.as_bytes()).into()),
    ] {
        Reflect::set(&params, &name.into(), &value)
            .map_err(|_| BrowserError::WebCrypto("build its parameters"))?;
    }
    Ok(params)
}

/// Seals `plaintext` with `key` (32 bytes) and `aad`: returns a fresh nonce and the ciphertext
/// (with its tag).
pub async fn seal(
    key: &[u8],
    aad: &str,
    plaintext: &str,
) -> Result<(Vec<u8>, Vec<u8>), BrowserError> {
    let refused = || BrowserError::WebCrypto("seal the hand-over");
    let subtle = subtle()?;
    let iv = super::clock::random_bytes::<IV_BYTES>()?;
    let key = import(&subtle, key).await?;
    let promise = subtle
        .encrypt_with_object_and_u8_array(&params(&iv, aad)?, &key, plaintext.as_bytes())
        .map_err(|_| refused())?;
    let sealed = JsFuture::from(promise).await.map_err(|_| refused())?;
    Ok((iv.to_vec(), Uint8Array::new(&sealed).to_vec()))
}

/// Opens what [`seal`] sealed; `Err` when the key, the nonce, the additional data or the
/// ciphertext differ from the sealer's (GCM's tag fails).
pub async fn open(key: &[u8], aad: &str, iv: &[u8], sealed: &[u8]) -> Result<String, BrowserError> {
    let refused = || BrowserError::WebCrypto("open the hand-over with this session's key");
    let subtle = subtle()?;
    let key = import(&subtle, key).await?;
    let promise = subtle
        .decrypt_with_object_and_u8_array(&params(iv, aad)?, &key, sealed)
        .map_err(|_| refused())?;
    let plain = JsFuture::from(promise).await.map_err(|_| refused())?;
    String::from_utf8(Uint8Array::new(&plain).to_vec()).map_err(|_| refused())
}
