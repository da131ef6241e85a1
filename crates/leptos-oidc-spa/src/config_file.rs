//! An app's runtime configuration file (`/config.json`), kept for the tab: one build serves every
//! environment when the app reads its `OidcConfig` from a file at start-up, and then the page a
//! sign-in returns to should not fetch that file again before it can redeem the code. The copy is
//! kept in sessionStorage for an hour (as the provider's documents are, see
//! `core::provider_cache`) and used only there.

use crate::api_client::ApiResponse;
use crate::api_error::ApiError;
use crate::boot::BootUrl;
use crate::browser::{clock, http, session_store};
use crate::core::provider_cache::CachedDocument;
use crate::exchange::HttpRequest;

/// A configuration file at a URL of this site, with the sessionStorage key of its copy.
///
/// ```no_run
/// use leptos_oidc_spa::{BootUrl, ConfigFile};
///
/// # async fn start() -> Result<(), leptos_oidc_spa::ApiError> {
/// let boot = BootUrl::capture();
/// let file = ConfigFile::new("/config.json", "myapp.config");
/// let text = file.load(&boot).await?;
/// // … parse `text` into the app's settings and an `OidcConfig`; when it is valid:
/// file.keep(&text);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ConfigFile {
    url: String,
    storage_key: String,
}

impl ConfigFile {
    /// The file at `url`, its copy kept under `storage_key` in sessionStorage.
    pub fn new(url: impl Into<String>, storage_key: impl Into<String>) -> ConfigFile {
        ConfigFile {
            url: url.into(),
            storage_key: storage_key.into(),
        }
    }

    /// The file's text: on the page a sign-in returns to (`boot` carries an authorization
    /// response), the copy kept when the sign-in started, if it is at most an hour old;
    /// otherwise fetched.
    pub async fn load(&self, boot: &BootUrl) -> Result<String, ApiError> {
        match self.kept(boot) {
            Some(text) => Ok(text),
            None => self.fetch().await,
        }
    }

    /// The copy kept when the sign-in started, on the page that sign-in returns to (`boot`
    /// carries an authorization response), if it is of this URL and at most an hour old; `None`
    /// on any other page. For an app that checks the copy before it trusts it, and fetches the
    /// file ([`ConfigFile::fetch`]) when it will not do.
    pub fn kept(&self, boot: &BootUrl) -> Option<String> {
        if !boot.has_auth_response() {
            return None;
        }
        let copy = CachedDocument::from_json(&session_store::get(&self.storage_key)?)?;
        let body = copy.fresh_body(&self.url, clock::now_ms())?;
        Some(body.to_string())
    }

    /// The file's text, fetched (with the timeout every request has).
    pub async fn fetch(&self) -> Result<String, ApiError> {
        let response = (http::fetch(HttpRequest::get_json(&self.url)).await)
            .map_err(|e| ApiError::from_http(&self.url, e))?;
        let response = ApiResponse::new(self.url.clone(), response).error_for_status()?;
        Ok(response.text())
    }

    /// Keeps `text` for the tab, for the page the next sign-in returns to. Best effort: without
    /// storage, that page fetches the file again.
    pub fn keep(&self, text: &str) {
        let copy = CachedDocument::new(&self.url, text.to_string(), clock::now_ms());
        let _ = session_store::set(&self.storage_key, &copy.to_json());
    }

    /// Forgets the copy (it did not parse, or is for another redirect path).
    pub fn forget(&self) {
        session_store::remove(&self.storage_key);
    }
}
