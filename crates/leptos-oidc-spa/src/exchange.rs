//! An HTTP exchange as plain data: the request the client sends, the response it reads whole, and
//! why none came. The browser layer (`browser::http`) turns these into `fetch` calls; tests fake
//! them.

use http::{HeaderMap, HeaderValue, Method};
use thiserror::Error;

/// A request, ready to send.
#[derive(Clone, Debug)]
pub(crate) struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A GET of a JSON document (discovery, key set, a configuration file).
    pub fn get_json(url: &str) -> HttpRequest {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        HttpRequest {
            method: Method::GET,
            url: url.to_string(),
            headers,
            body: None,
        }
    }

    /// A POST of a form to the token endpoint.
    pub fn post_form(url: &str, form: String) -> HttpRequest {
        let mut request = HttpRequest::get_json(url);
        request.method = Method::POST;
        request.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        request.body = Some(form.into_bytes());
        request
    }
}

/// A response, its body read whole.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub(crate) enum HttpError {
    /// Nothing came back within the time every request is allowed.
    #[error("no answer within {seconds} seconds")]
    Timeout {
        /// The limit, in seconds.
        seconds: u64,
    },
    /// The request failed before an answer: offline, DNS, refused, or blocked by CORS (a failed
    /// `fetch` says no more, by design).
    #[error("the request failed ({0}), possibly offline or blocked by CORS")]
    Failed(String),
    /// The request could not even be made (a URL or header the browser refuses).
    #[error("the browser refused the request ({0})")]
    Refused(String),
}
