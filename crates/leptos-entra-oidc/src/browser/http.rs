//! HTTP for the OIDC client and the API console, over gloo-net: GET a JSON document, POST a form
//! to the token endpoint, call the API. Every request carries an `AbortSignal` that fires after
//! `TIMEOUT`, so a server that never answers ends in an error naming it, never an endless wait.
//! Every call returns the status and body, or a network error message; interpretation lives in
//! `core`.

use gloo_net::http::{Method, RequestBuilder};
use std::time::Duration;

/// How long any request may take, body included, before it is abandoned.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A completed HTTP exchange.
#[derive(Debug)]
pub struct Reply {
    /// Whether the status is 2xx (`Response.ok`).
    pub ok: bool,
    /// The HTTP status code.
    pub status: u16,
    /// The whole body as text.
    pub body: String,
    /// The `WWW-Authenticate` header (API responses only).
    pub www_authenticate: Option<String>,
}

/// The message for a failed request. A failed `fetch` says nothing by design (details would leak
/// cross-origin facts), so say what usually causes it.
fn network_error(error: gloo_net::Error) -> String {
    match error {
        gloo_net::Error::JsError(e) if e.name == "TimeoutError" || e.name == "AbortError" => {
            format!("no answer within {} seconds", TIMEOUT.as_secs())
        }
        gloo_net::Error::JsError(e) => format!(
            "the request failed ({}), possibly offline or blocked by CORS",
            e.message
        ),
        other => format!("the request failed ({other})"),
    }
}

/// Sends `request` with the timeout signal and reads the whole reply.
async fn send(request: RequestBuilder, body: Option<String>) -> Result<Reply, String> {
    let timeout = web_sys::AbortSignal::timeout_with_u32(TIMEOUT.as_millis() as u32);
    let request = request.abort_signal(Some(&timeout));
    let request = match body {
        Some(body) => request.body(body),
        None => request.build(),
    }
    .map_err(network_error)?;
    let response = request.send().await.map_err(network_error)?;
    let body = response.text().await.map_err(network_error)?;
    Ok(Reply {
        ok: response.ok(),
        status: response.status(),
        body,
        www_authenticate: response.headers().get("www-authenticate"),
    })
}

/// GETs a JSON document (configuration, discovery, key set).
pub async fn get(url: &str) -> Result<Reply, String> {
    send(
        RequestBuilder::new(url).header("Accept", "application/json"),
        None,
    )
    .await
}

/// POSTs a form (the token endpoint).
pub async fn post_form(url: &str, body: String) -> Result<Reply, String> {
    let request = RequestBuilder::new(url)
        .method(Method::POST)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json");
    send(request, Some(body)).await
}

/// Calls the API: `method` on `url` with an optional bearer token and JSON body.
pub async fn api(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    json_body: Option<String>,
) -> Result<Reply, String> {
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("{method} is not an HTTP method"))?;
    let mut request = RequestBuilder::new(url)
        .method(method)
        .header("Accept", "application/json");
    if let Some(token) = bearer {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    if json_body.is_some() {
        request = request.header("Content-Type", "application/json");
    }
    send(request, json_body).await
}

/// A completed HTTP exchange whose body is bytes (an image).
#[derive(Debug)]
pub struct BinaryReply {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The whole body.
    pub bytes: Vec<u8>,
}

/// GETs `url` with a bearer token and reads the body as bytes.
pub async fn get_binary(url: &str, bearer: &str) -> Result<BinaryReply, String> {
    let timeout = web_sys::AbortSignal::timeout_with_u32(TIMEOUT.as_millis() as u32);
    let response = RequestBuilder::new(url)
        .header("Authorization", &format!("Bearer {bearer}"))
        .abort_signal(Some(&timeout))
        .send()
        .await
        .map_err(network_error)?;
    let bytes = response.binary().await.map_err(network_error)?;
    Ok(BinaryReply {
        status: response.status(),
        content_type: response.headers().get("content-type"),
        bytes,
    })
}
