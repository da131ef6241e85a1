//! HTTP for the OIDC client: GET a JSON document, POST a form to the token endpoint. Every call
//! returns the status and body, or a network error message; interpretation lives in `core`.

use gloo_net::http::Request;

/// A completed HTTP exchange.
pub struct Reply {
    pub ok: bool,
    pub status: u16,
    pub body: String,
    /// The `WWW-Authenticate` header (API responses only).
    pub www_authenticate: Option<String>,
}

fn network_error(e: gloo_net::Error) -> String {
    match e {
        // A TypeError from fetch carries no detail by design (it would leak cross-origin facts).
        gloo_net::Error::JsError(js) => format!(
            "the request failed ({}), possibly offline or blocked by CORS",
            js.message
        ),
        gloo_net::Error::GlooError(why) => why,
        // gloo-net's JSON helpers, switched on by leptos and never called here: matching the
        // variant away keeps serde_json's error texts out of the wasm.
        #[allow(unreachable_patterns)]
        _ => "the response could not be read".to_string(),
    }
}

/// Reads a response into a `Reply`.
async fn reply(
    resp: gloo_net::http::Response,
    www_authenticate: Option<String>,
) -> Result<Reply, String> {
    let body = resp.text().await.map_err(network_error)?;
    Ok(Reply {
        ok: resp.ok(),
        status: resp.status(),
        body,
        www_authenticate,
    })
}

pub async fn get(url: &str) -> Result<Reply, String> {
    let resp = Request::get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(network_error)?;
    reply(resp, None).await
}

pub async fn post_form(url: &str, body: String) -> Result<Reply, String> {
    let resp = Request::post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body)
        .map_err(network_error)?
        .send()
        .await
        .map_err(network_error)?;
    reply(resp, None).await
}

/// Calls the API: `method` on `url` with an optional bearer token and JSON body.
pub async fn api(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    json_body: Option<&str>,
) -> Result<Reply, String> {
    let mut builder = gloo_net::http::RequestBuilder::new(url)
        .method(match method {
            "POST" => gloo_net::http::Method::POST,
            "PUT" => gloo_net::http::Method::PUT,
            "PATCH" => gloo_net::http::Method::PATCH,
            "DELETE" => gloo_net::http::Method::DELETE,
            _ => gloo_net::http::Method::GET,
        })
        .header("Accept", "application/json");
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match json_body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .map_err(network_error)?,
        None => builder.build().map_err(network_error)?,
    };
    let resp = request.send().await.map_err(network_error)?;
    let www_authenticate = resp.headers().get("www-authenticate");
    reply(resp, www_authenticate).await
}
