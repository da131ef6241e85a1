//! The session's DPoP key in the browser (RFC 9449): a P-256 key pair made by WebCrypto with a
//! non-extractable private half, which signs proofs and which no script can read out, kept in
//! IndexedDB under the session's key id — so a reload and a duplicated tab find it — and deleted
//! when the session ends. The proofs' content is `core::dpop`'s.

use super::seal::subtle;
use crate::core::dpop::PublicJwk;
use crate::core::error::BrowserError;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, IdbDatabase, IdbRequest, IdbTransactionMode};

/// The object store, in the database named by the caller (one per storage prefix).
const STORE: &str = "keys";

fn object(pairs: &[(&str, &JsValue)]) -> Result<Object, BrowserError> {
    let object = Object::new();
    for (name, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(name), value)
            .map_err(|_| BrowserError::WebCrypto("build its parameters"))?;
    }
    Ok(object)
}

/// A new key pair: the private half non-extractable, the public half as a JWK.
pub async fn generate() -> Result<(CryptoKey, PublicJwk), BrowserError> {
    let refused = || BrowserError::WebCrypto("make a DPoP key pair");
    let algorithm = object(&[("name", &"ECDSA".into()), ("namedCurve", &"P-256".into())])?;
    let usages = Array::of2(&"sign".into(), &"verify".into());
    let subtle = subtle()?;
    let promise =
        (subtle.generate_key_with_object(&algorithm, false, &usages)).map_err(|_| refused())?;
    let pair = JsFuture::from(promise).await.map_err(|_| refused())?;
    let half = |name: &str| -> Result<CryptoKey, BrowserError> {
        Reflect::get(&pair, &name.into())
            .map(JsCast::unchecked_into)
            .map_err(|_| refused())
    };
    let (private, public) = (half("privateKey")?, half("publicKey")?);
    let exported = (subtle.export_key("jwk", &public)).map_err(|_| refused())?;
    let jwk = JsFuture::from(exported).await.map_err(|_| refused())?;
    let coordinate = |name: &str| {
        Reflect::get(&jwk, &name.into())
            .ok()
            .and_then(|v| v.as_string())
            .ok_or_else(refused)
    };
    Ok((private, PublicJwk::p256(coordinate("x")?, coordinate("y")?)))
}

/// The ES256 signature of `data`: the 64 bytes `r || s`, as WebCrypto's ECDSA gives them.
pub async fn sign(key: &CryptoKey, data: &[u8]) -> Result<Vec<u8>, BrowserError> {
    let refused = || BrowserError::WebCrypto("sign a DPoP proof");
    let algorithm = object(&[("name", &"ECDSA".into()), ("hash", &"SHA-256".into())])?;
    let promise =
        (subtle()?.sign_with_object_and_u8_array(&algorithm, key, data)).map_err(|_| refused())?;
    let signature = JsFuture::from(promise).await.map_err(|_| refused())?;
    Ok(js_sys::Uint8Array::new(&signature).to_vec())
}

/// Waits for an IndexedDB request: its result, or `failed`.
async fn settled(request: &IdbRequest, failed: &'static str) -> Result<JsValue, BrowserError> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let done = request.clone();
        // Closures of one type (`dyn FnMut()`) share their glue; each runs at most once.
        let on_success = Closure::<dyn FnMut()>::new(move || {
            let _ = resolve.call1(&JsValue::NULL, &done.result().unwrap_or(JsValue::UNDEFINED));
        })
        .into_js_value();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            let _ = reject.call0(&JsValue::NULL);
        })
        .into_js_value();
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise)
        .await
        .map_err(|_| BrowserError::KeyStore(failed))
}

/// The database `name`, made with its one object store on first use.
async fn open(name: &str) -> Result<IdbDatabase, BrowserError> {
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or(BrowserError::KeyStore(
            "open: this browser has no IndexedDB",
        ))?;
    let request = (factory.open_with_u32(name, 1)).map_err(|_| BrowserError::KeyStore("open"))?;
    let upgrading = request.clone();
    let on_upgrade = Closure::<dyn FnMut()>::new(move || {
        if let Ok(db) = upgrading.result() {
            let _ = db
                .unchecked_into::<IdbDatabase>()
                .create_object_store(STORE);
        }
    })
    .into_js_value();
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    Ok(settled(&request, "open").await?.unchecked_into())
}

/// What one key-store request does with the key under an id.
enum Request<'a> {
    Keep(&'a CryptoKey),
    Read,
    Delete,
}

/// Runs `request` on the key under `id` in database `name`: one transaction, its result. One
/// function for the three requests, so the browser's waits are written (and compiled) once.
async fn run(name: &str, id: &str, request: Request<'_>) -> Result<JsValue, BrowserError> {
    let (mode, what) = match request {
        Request::Keep(_) => (IdbTransactionMode::Readwrite, "keep the key"),
        Request::Read => (IdbTransactionMode::Readonly, "read the key"),
        Request::Delete => (IdbTransactionMode::Readwrite, "delete the key"),
    };
    let db = open(name).await?;
    let store = (db.transaction_with_str_and_mode(STORE, mode))
        .and_then(|transaction| transaction.object_store(STORE))
        .map_err(|_| BrowserError::KeyStore("start a transaction"))?;
    let id = JsValue::from_str(id);
    let pending = match request {
        Request::Keep(key) => store.put_with_key(key, &id),
        Request::Read => store.get(&id),
        Request::Delete => store.delete(&id),
    };
    settled(&pending.map_err(|_| BrowserError::KeyStore(what))?, what).await
}

/// Keeps `key` under `id` in database `name`.
pub async fn save(name: &str, id: &str, key: &CryptoKey) -> Result<(), BrowserError> {
    run(name, id, Request::Keep(key)).await.map(|_| ())
}

/// The key kept under `id` in database `name`, if there is one.
pub async fn load(name: &str, id: &str) -> Result<Option<CryptoKey>, BrowserError> {
    let found = run(name, id, Request::Read).await?;
    Ok(found.dyn_into::<CryptoKey>().ok())
}

/// Deletes the key under `id` in database `name` (none there is no error).
pub async fn delete(name: &str, id: &str) -> Result<(), BrowserError> {
    run(name, id, Request::Delete).await.map(|_| ())
}
