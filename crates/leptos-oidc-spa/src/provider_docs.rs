//! The provider's public documents, the discovery document and the key set, kept for the tab
//! (see `core::provider_cache`): from this page's memory, else the tab's stored copy (fresh, from
//! the same URL, and passing every check again), else fetched and kept. One lookup at a time, so a
//! sign-in click during the prefetch, or a refresh during start-up, waits for the fetch in flight
//! and finds its result instead of fetching again.

use crate::browser::clock;
use crate::browser::http;
use crate::browser::session_store::{Document, SessionStore};
use crate::core::discovery::{self, ProviderMetadata};
use crate::core::error::AuthError;
use crate::core::jwks::{self, RsaKey};
use crate::core::provider_cache::CachedDocument;
use crate::exchange::HttpRequest;
use futures_util::lock::Mutex;
use std::cell::RefCell;

/// The discovery document and the key set of one provider.
pub(crate) struct ProviderDocs {
    metadata_url: String,
    store: SessionStore,
    metadata: RefCell<Option<ProviderMetadata>>,
    keys: RefCell<Option<Vec<RsaKey>>>,
    /// Held while a document is looked up or fetched.
    turn: Mutex<()>,
}

impl Document {
    /// The step a failed fetch of this document names.
    fn during(self) -> &'static str {
        match self {
            Document::Discovery => "loading the identity provider's configuration",
            Document::Jwks => "loading the identity provider's signing keys",
        }
    }
}

impl ProviderDocs {
    /// The documents of the provider at `metadata_url`, nothing fetched yet.
    pub fn new(metadata_url: &str, store: SessionStore) -> ProviderDocs {
        ProviderDocs {
            metadata_url: metadata_url.to_string(),
            store,
            metadata: RefCell::new(None),
            keys: RefCell::new(None),
            turn: Mutex::new(()),
        }
    }

    /// The checked discovery document.
    pub async fn metadata(&self) -> Result<ProviderMetadata, AuthError> {
        let url = &self.metadata_url;
        let parse = |body: &str| discovery::parse(url, body).map_err(AuthError::from);
        self.document(&self.metadata, Document::Discovery, url, false, parse)
            .await
    }

    /// The provider's RSA signing keys; `refetch` skips the copies held (a token names a key
    /// they lack).
    pub async fn signing_keys(&self, refetch: bool) -> Result<Vec<RsaKey>, AuthError> {
        let url = self.metadata().await?.jwks_uri;
        let parse = |body: &str| {
            jwks::parse(body).ok_or_else(|| {
                AuthError::network(Document::Jwks.during(), &url, "the reply is not a key set")
            })
        };
        self.document(&self.keys, Document::Jwks, &url, refetch, parse)
            .await
    }

    /// Fetches both documents ahead of need and keeps them for the tab. Failures are left to
    /// the step that needs the documents, which reports them.
    pub async fn prefetch(&self) {
        let _ = self.signing_keys(false).await;
    }

    /// Forgets both documents, here and in the tab's storage: after a sign-in that used them
    /// failed, the next attempt starts from fresh copies.
    pub fn forget(&self) {
        *self.metadata.borrow_mut() = None;
        *self.keys.borrow_mut() = None;
        self.store.forget_document(Document::Discovery);
        self.store.forget_document(Document::Jwks);
    }

    /// One document: from `memory` unless `refetch`, else from the tab's fresh stored copy
    /// (parsed and checked again), else fetched, checked and kept.
    async fn document<T: Clone>(
        &self,
        memory: &RefCell<Option<T>>,
        document: Document,
        url: &str,
        refetch: bool,
        parse: impl Fn(&str) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        let in_memory = || (!refetch).then(|| memory.borrow().clone()).flatten();
        if let Some(value) = in_memory() {
            return Ok(value);
        }
        let _turn = self.turn.lock().await;
        if let Some(value) = in_memory() {
            return Ok(value); // fetched while this caller waited its turn
        }
        let stored = (!refetch)
            .then(|| self.stored(document, url))
            .flatten()
            .and_then(|body| parse(&body).ok());
        let value = match stored {
            Some(value) => value,
            None => {
                let body = self.fetch(document, url).await?;
                let value = parse(&body)?;
                let copy = CachedDocument::new(url, body, clock::now_ms());
                self.store.save_document(document, &copy);
                value
            }
        };
        *memory.borrow_mut() = Some(value.clone());
        Ok(value)
    }

    /// The tab's fresh stored copy of `document` from `url`; a copy that is not usable any more
    /// is deleted.
    fn stored(&self, document: Document, url: &str) -> Option<String> {
        let copy = self.store.load_document(document)?;
        let body = copy.fresh_body(url, clock::now_ms()).map(str::to_string);
        if body.is_none() {
            self.store.forget_document(document);
        }
        body
    }

    /// A document's body, fetched.
    async fn fetch(&self, document: Document, url: &str) -> Result<String, AuthError> {
        let during = document.during();
        let response = http::fetch(HttpRequest::get_json(url))
            .await
            .map_err(|e| AuthError::network(during, url, e))?;
        if !response.ok() {
            let status = format!("HTTP status {}", response.status);
            return Err(AuthError::network(during, url, status));
        }
        if response.too_large_for_a_provider() {
            let size = "the reply is larger than a megabyte, which no provider's document is";
            return Err(AuthError::network(during, url, size));
        }
        Ok(response.text())
    }
}
