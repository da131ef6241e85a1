//! The session's proofs of possession in the browser (RFC 9449): makes the session's key when a
//! sign-in begins, signs a proof for each request with it, remembers each server's last nonce,
//! and deletes the key with the session. What a proof says is `core::dpop`'s; WebCrypto and
//! IndexedDB are `browser::dpop_key`'s.

use crate::browser::{clock, dpop_key};
use crate::core::config::OidcConfig;
use crate::core::dpop::{self, DpopKeyRef, ProofClaims};
use crate::core::error::BrowserError;
use crate::core::pkce;
use futures_util::future::LocalBoxFuture;
use std::cell::RefCell;
use web_sys::CryptoKey;

/// The keys and nonces of one client.
pub(crate) struct Prover {
    /// The IndexedDB database the keys are kept in, named after the storage prefix.
    database: String,
    /// The last nonce each server gave: `scheme://authority` and the nonce.
    nonces: RefCell<Vec<(String, String)>>,
    /// The key made or read last on this page, with its id.
    key: RefCell<Option<(String, CryptoKey)>>,
}

impl Prover {
    /// The prover of the client configured by `config`.
    pub fn new(config: &OidcConfig) -> Prover {
        Prover {
            database: format!("{}.dpop", config.storage_prefix),
            nonces: RefCell::default(),
            key: RefCell::default(),
        }
    }

    /// A new key for a session, kept in the key store.
    pub async fn new_key(&self) -> Result<DpopKeyRef, BrowserError> {
        let (private, public) = dpop_key::generate().await?;
        let id = pkce::random_token(&clock::random_bytes()?);
        dpop_key::save(&self.database, &id, &private).await?;
        *self.key.borrow_mut() = Some((id.clone(), private));
        Ok(DpopKeyRef { id, public })
    }

    /// A proof of `key` for `method` `url`, carrying `access_token`'s hash when given. Boxed:
    /// token requests and API calls share one copy of the signing path.
    pub fn proof<'a>(
        &'a self,
        key: &'a DpopKeyRef,
        method: &'a str,
        url: &'a str,
        access_token: Option<&'a str>,
    ) -> LocalBoxFuture<'a, Result<String, BrowserError>> {
        Box::pin(self.make_proof(key, method, url, access_token))
    }

    async fn make_proof(
        &self,
        key: &DpopKeyRef,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<String, BrowserError> {
        let private = self.private_key(&key.id).await?;
        let jti = pkce::random_token(&clock::random_bytes()?);
        let server = dpop::server_of(url);
        let nonce = (self.nonces.borrow().iter())
            .find(|(s, _)| s == server)
            .map(|(_, n)| n.clone());
        let mut claims =
            ProofClaims::new(method, url, clock::now_ms(), jti).with_nonce(nonce.as_deref());
        if let Some(token) = access_token {
            claims = claims.for_token(token);
        }
        let input = dpop::signing_input(&key.public, &claims);
        let signature = dpop_key::sign(&private, input.as_bytes()).await?;
        Ok(dpop::proof(&input, &signature))
    }

    /// Remembers the nonce the server of `url` gave, for its next proofs.
    pub fn note_nonce(&self, url: &str, nonce: &str) {
        let server = dpop::server_of(url);
        let mut nonces = self.nonces.borrow_mut();
        nonces.retain(|(s, _)| s != server);
        nonces.push((server.to_string(), nonce.to_string()));
    }

    /// Deletes `key` from this page and from the key store.
    pub async fn forget(&self, key: &DpopKeyRef) {
        self.key.borrow_mut().take_if(|(id, _)| *id == key.id);
        if let Err(why) = dpop_key::delete(&self.database, &key.id).await {
            let text = format!("sign-in: the session's DPoP key was not deleted ({why})");
            web_sys::console::warn_1(&text.into());
        }
    }

    /// The private key `id`, from this page or the key store.
    async fn private_key(&self, id: &str) -> Result<CryptoKey, BrowserError> {
        if let Some((_, key)) = self.key.borrow().as_ref().filter(|(kept, _)| kept == id) {
            return Ok(key.clone());
        }
        let key = (dpop_key::load(&self.database, id).await?)
            .ok_or(BrowserError::KeyStore("find the session's key"))?;
        *self.key.borrow_mut() = Some((id.to_string(), key.clone()));
        Ok(key)
    }
}
