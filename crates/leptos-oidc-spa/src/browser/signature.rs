//! RSASSA-PKCS1-v1_5 signature verification with the browser's WebCrypto (no RSA code in the wasm).

use super::seal::subtle;
use crate::core::error::BrowserError;
use crate::core::jwks::RsaKey;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) -> Result<(), BrowserError> {
    Reflect::set(obj, &key.into(), &value.into())
        .map(|_| ())
        .map_err(|_| BrowserError::WebCrypto("build its parameters"))
}

/// Whether `signature` over `data` verifies with `key`; `hash` is the WebCrypto hash name
/// (`SHA-256`, `SHA-384` or `SHA-512`, from the key plan in `core::id_token`).
pub async fn verify(
    key: &RsaKey,
    hash: &str,
    data: &[u8],
    signature: &[u8],
) -> Result<bool, BrowserError> {
    let subtle = subtle()?;
    let jwk = Object::new();
    set(&jwk, "kty", "RSA")?;
    set(&jwk, "n", key.n.as_str())?;
    set(&jwk, "e", key.e.as_str())?;
    let hash_obj = Object::new();
    set(&hash_obj, "name", hash)?;
    let algorithm = Object::new();
    set(&algorithm, "name", "RSASSA-PKCS1-v1_5")?;
    set(&algorithm, "hash", hash_obj)?;
    let usages = Array::of1(&"verify".into());

    let not_a_key = || BrowserError::WebCrypto("import the provider's signing key");
    let promise = subtle
        .import_key_with_object("jwk", &jwk, &algorithm, false, &usages)
        .map_err(|_| not_a_key())?;
    let crypto_key: web_sys::CryptoKey = JsFuture::from(promise)
        .await
        .map_err(|_| not_a_key())?
        .unchecked_into();

    let unchecked = || BrowserError::WebCrypto("check the signature");
    let sig = Uint8Array::from(signature);
    let promise = subtle
        .verify_with_object_and_u8_array_and_u8_slice(&algorithm, &crypto_key, &sig, data)
        .map_err(|_| unchecked())?;
    let verdict = JsFuture::from(promise).await.map_err(|_| unchecked())?;
    Ok(verdict.as_bool() == Some(true))
}
