//! An HTTP exchange as plain data: the request the client sends, the response it reads whole, its
//! headers, and why none came. The browser layer (`browser::http`) turns these into `fetch`
//! calls; tests fake them.

use http::Method;
use thiserror::Error;

/// HTTP header fields, in order. Names compare without regard to case, as HTTP says; the
/// browser checks names and values when a request is sent, and gives a response's names in
/// lower case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// The value of the first field called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        (self.0.iter())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every field, in order: name and value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Sets the field `name` to `value`, replacing any field of that name.
    pub(crate) fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.0.push((name.to_string(), value.into()));
    }

    /// Adds a field, keeping any of the same name (a response may repeat one).
    pub(crate) fn append(&mut self, name: String, value: String) {
        self.0.push((name, value));
    }
}

/// A request, ready to send.
#[derive(Clone, Debug)]
pub(crate) struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Headers,
    pub body: Option<Vec<u8>>,
    /// At most this many bytes of the answer's body are read (as a stream, cancelled at the
    /// limit); `None`: all of it.
    pub max_body: Option<usize>,
}

/// The most a provider's document or token answer may be: they are a few kilobytes, so a
/// larger one is no provider's and is refused.
pub(crate) const PROVIDER_MAX_BODY: usize = 1024 * 1024;

impl HttpRequest {
    /// A `method` request of `url` that accepts JSON, without a body; its whole answer is read.
    pub fn new(method: Method, url: impl Into<String>) -> HttpRequest {
        let mut headers = Headers::default();
        headers.set("Accept", "application/json");
        HttpRequest {
            method,
            url: url.into(),
            headers,
            body: None,
            max_body: None,
        }
    }

    /// A GET of a JSON document (discovery, key set, a configuration file).
    pub fn get_json(url: &str) -> HttpRequest {
        HttpRequest::new(Method::GET, url)
    }

    /// A POST of a form to the token endpoint.
    pub fn post_form(url: &str, form: String) -> HttpRequest {
        let mut request = HttpRequest::new(Method::POST, url);
        (request.headers).set("Content-Type", "application/x-www-form-urlencoded");
        request.body = Some(form.into_bytes());
        request
    }
}

/// A response, its body read whole or up to the request's `max_body`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
    /// The body went on past `max_body`, and the rest was not read.
    pub truncated: bool,
}

impl HttpResponse {
    /// Whether the body is larger than a provider's answer can be ([`PROVIDER_MAX_BODY`]).
    pub fn too_large_for_a_provider(&self) -> bool {
        self.truncated || self.body.len() > PROVIDER_MAX_BODY
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_compare_without_case_and_a_set_replaces() {
        let mut headers = Headers::default();
        headers.set("Accept", "application/json");
        headers.set("X-Request-Id", "1");
        headers.set("accept", "image/*");
        assert_eq!(headers.get("ACCEPT"), Some("image/*"));
        assert_eq!(headers.get("x-request-id"), Some("1"));
        assert_eq!(headers.get("content-type"), None);
        headers.append("set-cookie".into(), "a".into());
        headers.append("set-cookie".into(), "b".into());
        let names: Vec<&str> = headers.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["X-Request-Id", "accept", "set-cookie", "set-cookie"]
        );
    }
}
