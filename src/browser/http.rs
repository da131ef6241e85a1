//! HTTP for the OIDC client and the API console over the browser's `fetch`: GET a JSON document,
//! POST a form to the token endpoint, call the API. Every call returns the status and body, or a
//! network error message; interpretation lives in `core`.
//!
//! Direct `web_sys` calls rather than gloo-net: the three calls need nothing more, and gloo-net
//! (with the stream support it brings) costs about 5 KB gzip of wasm.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

/// A completed HTTP exchange.
pub struct Reply {
    pub ok: bool,
    pub status: u16,
    pub body: String,
    /// The `WWW-Authenticate` header (API responses only).
    pub www_authenticate: Option<String>,
}

/// The message for a failed `fetch`. Its TypeError carries no detail by design (it would leak
/// cross-origin facts), so say what usually causes it.
fn network_error(error: JsValue) -> String {
    let detail = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| "no detail".into());
    format!("the request failed ({detail}), possibly offline or blocked by CORS")
}

async fn fetch(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Reply, String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let init = RequestInit::new();
    init.set_method(method);
    let header_map = Headers::new().map_err(network_error)?;
    for (name, value) in headers {
        header_map.append(name, value).map_err(network_error)?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(network_error)?
        .unchecked_into();
    let text = response.text().map_err(network_error)?;
    let body = JsFuture::from(text).await.map_err(network_error)?;
    Ok(Reply {
        ok: response.ok(),
        status: response.status(),
        body: body.as_string().unwrap_or_default(),
        www_authenticate: response.headers().get("www-authenticate").ok().flatten(),
    })
}

pub async fn get(url: &str) -> Result<Reply, String> {
    fetch("GET", url, &[("Accept", "application/json")], None).await
}

pub async fn post_form(url: &str, body: String) -> Result<Reply, String> {
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
    ];
    fetch("POST", url, &headers, Some(&body)).await
}

/// Calls the API: `method` on `url` with an optional bearer token and JSON body.
pub async fn api(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    json_body: Option<&str>,
) -> Result<Reply, String> {
    let authorization = bearer.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("Accept", "application/json")];
    if let Some(value) = &authorization {
        headers.push(("Authorization", value));
    }
    if json_body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    fetch(method, url, &headers, json_body).await
}
