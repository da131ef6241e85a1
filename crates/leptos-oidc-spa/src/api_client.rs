//! Calling protected APIs: one request path for every call. [`ApiClient`] builds a request
//! ([`ApiRequest`]: method, URL, query, headers, a JSON or raw body, which API), sends it with
//! the right access token, and on a 401 gets one fresh token and tries once more (see
//! `core::api_call`); the answer is an [`ApiResponse`] whatever its status, or an [`ApiError`]
//! saying why there is none. Every attempt has the HTTP layer's timeout.

pub use crate::api_error::{ApiError, StepUpRequest};
use crate::core::api_call::Target;
use crate::core::query;
use crate::core::safe_url;
pub use crate::exchange::Headers;
use crate::exchange::{HttpRequest, HttpResponse};
use crate::handle::{use_auth, Auth};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

pub use http::Method;

/// An access token, for an app that hands it to another client. Its `Debug` never shows it;
/// [`AccessToken::secret`] does.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// The token itself, for an `Authorization` header.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// Calls protected APIs with the signed-in person's access tokens. `Copy`; get it with
/// [`use_api_client`] under [`AuthProvider`](crate::handle::AuthProvider).
///
/// ```no_run
/// # use leptos_oidc_spa::ApiClient;
/// # #[derive(serde::Deserialize, serde::Serialize)] struct Study { name: String }
/// # async fn example(api: ApiClient) -> Result<(), leptos_oidc_spa::ApiError> {
/// let studies: Vec<Study> = api.get("https://api.example.com/studies").send().await?.json()?;
/// let created = api
///     .post("https://api.example.com/studies")
///     .header("X-Request-Id", "42")
///     .json(&Study { name: "CDISC pilot".into() })
///     .send()
///     .await?
///     .error_for_status()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
pub struct ApiClient {
    auth: Auth,
}

/// The API client provided by [`AuthProvider`](crate::handle::AuthProvider).
pub fn use_api_client() -> ApiClient {
    ApiClient { auth: use_auth() }
}

impl ApiClient {
    /// A `GET` of `url`.
    pub fn get(&self, url: impl Into<String>) -> ApiRequest {
        self.request(Method::GET, url)
    }

    /// A `POST` to `url`.
    pub fn post(&self, url: impl Into<String>) -> ApiRequest {
        self.request(Method::POST, url)
    }

    /// A `PUT` to `url`.
    pub fn put(&self, url: impl Into<String>) -> ApiRequest {
        self.request(Method::PUT, url)
    }

    /// A `PATCH` to `url`.
    pub fn patch(&self, url: impl Into<String>) -> ApiRequest {
        self.request(Method::PATCH, url)
    }

    /// A `DELETE` of `url`.
    pub fn delete(&self, url: impl Into<String>) -> ApiRequest {
        self.request(Method::DELETE, url)
    }

    /// A request with any method.
    pub fn request(&self, method: Method, url: impl Into<String>) -> ApiRequest {
        ApiRequest {
            auth: self.auth,
            request: HttpRequest::new(method, url),
            query: Vec::new(),
            api: None,
            invalid: None,
        }
    }

    /// The session's current access token, refreshed first if it has expired, for an app that
    /// hands it to another client. Prefer [`ApiClient::get`] and friends, which retry on a 401.
    pub async fn access_token(&self) -> Result<AccessToken, ApiError> {
        let driver = self.auth.driver().ok_or(ApiError::NotSignedIn)?;
        driver
            .current_token(&Target::Session)
            .await
            .map(AccessToken)
    }

    /// The current access token for the other API `api` (`OidcConfig::resources`), obtained
    /// first if none is held.
    pub async fn access_token_for(&self, api: &str) -> Result<AccessToken, ApiError> {
        let driver = self.auth.driver().ok_or(ApiError::NotSignedIn)?;
        let target = Target::Resource(api.to_string());
        driver.current_token(&target).await.map(AccessToken)
    }
}

/// A request being built; nothing is sent until [`ApiRequest::send`]. A builder step that
/// cannot be applied (a body that does not serialise, a header the browser refuses) is reported
/// by `send`, with nothing sent.
#[must_use = "a request does nothing until it is sent"]
pub struct ApiRequest {
    auth: Auth,
    /// Method, URL (its query still to come), headers, body and the most of the answer to read.
    request: HttpRequest,
    query: Vec<(String, String)>,
    api: Option<String>,
    invalid: Option<ApiError>,
}

impl ApiRequest {
    /// Sets the header `name` to `value` (replacing a value set before, `Accept:
    /// application/json` included). `Authorization` is the client's. The browser checks the
    /// name and the value when the request is sent; one it refuses is
    /// [`ApiError::InvalidRequest`], with nothing sent.
    pub fn header(mut self, name: impl AsRef<str>, value: impl Into<String>) -> ApiRequest {
        self.request.headers.set(name.as_ref(), value);
        self
    }

    /// Appends `pairs` to the URL's query, form-encoded.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> ApiRequest {
        let pairs = pairs.into_iter();
        self.query
            .extend(pairs.map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string())));
        self
    }

    /// Sends `body` as JSON (`Content-Type: application/json`).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> ApiRequest {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.request.body = Some(bytes);
                (self.request.headers).set("Content-Type", "application/json");
            }
            Err(e) => self.reject(format!("the body does not serialise as JSON ({e})")),
        }
        self
    }

    /// Sends `bytes` as the body, of type `content_type`.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>, content_type: &str) -> ApiRequest {
        self.request.body = Some(bytes.into());
        self.header("Content-Type", content_type)
    }

    /// Calls the other API `id` (one of `OidcConfig::resources`) with its own access token
    /// instead of the session's.
    pub fn api(mut self, id: impl Into<String>) -> ApiRequest {
        self.api = Some(id.into());
        self
    }

    /// Reads at most `bytes` of the answer's body and leaves the rest unread (the whole body is
    /// read by default): an API that answers with more than the app can show cannot fill the
    /// page's memory. [`ApiResponse::is_truncated`] says whether there was more.
    pub fn max_body(mut self, bytes: usize) -> ApiRequest {
        self.request.max_body = Some(bytes);
        self
    }

    fn reject(&mut self, what: String) {
        self.invalid.get_or_insert(ApiError::InvalidRequest(what));
    }

    /// Sends the request with the right access token and reads the whole answer. A 401 gets
    /// one fresh token and one more try; a second 401 from the session's API ends the session
    /// ([`ApiError::SessionEnded`]); another API's second 401 is its answer. With sign-in
    /// switched off, no token is sent and the API's answer is the answer.
    pub async fn send(self) -> Result<ApiResponse, ApiError> {
        if let Some(invalid) = self.invalid {
            return Err(invalid);
        }
        let mut request = self.request;
        let pairs = self.query.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        request.url = query::append_to(&request.url, pairs);
        let url = request.url.clone();
        let response = match self.auth.driver() {
            None => (crate::browser::http::fetch(request).await)
                .map_err(|e| ApiError::from_http(&url, e))?,
            Some(driver) => {
                if !safe_url::may_carry_token(&url) {
                    return Err(ApiError::InsecureUrl(url));
                }
                let target = self.api.map_or(Target::Session, Target::Resource);
                driver.call(request, target).await?
            }
        };
        Ok(ApiResponse::new(url, response))
    }
}

/// An API's answer, its body read whole (or up to [`ApiRequest::max_body`]), whatever its
/// status.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    url: String,
    response: HttpResponse,
}

impl ApiResponse {
    pub(crate) fn new(url: String, response: HttpResponse) -> ApiResponse {
        ApiResponse { url, response }
    }

    /// The URL the request went to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        self.response.ok()
    }

    /// The headers the browser lets the app read (CORS: the safelisted ones and those the API
    /// exposes).
    pub fn headers(&self) -> &Headers {
        &self.response.headers
    }

    /// The value of the header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers.get(name)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        self.response.text()
    }

    /// The body as bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.response.body
    }

    /// Whether the body went on past the request's [`ApiRequest::max_body`], and the rest was
    /// not read: the bytes here are its beginning only.
    pub fn is_truncated(&self) -> bool {
        self.response.truncated
    }

    /// The body read as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.response.body).map_err(|e| ApiError::Decode {
            url: self.url.clone(),
            reason: e.to_string(),
        })
    }

    /// The answer if its status is 2xx, else [`ApiError::Status`] with its body.
    pub fn error_for_status(self) -> Result<ApiResponse, ApiError> {
        if self.ok() {
            return Ok(self);
        }
        Err(ApiError::Status {
            status: self.status(),
            body: self.text(),
            url: self.url,
        })
    }
}
