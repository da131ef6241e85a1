//! HTTP for the OIDC client: GET a JSON document, POST a form to the token endpoint. Every call
//! returns the status and body, or a network error message; interpretation lives in `core`.

use gloo_net::http::Request;

/// A completed HTTP exchange.
pub struct Reply {
    pub ok: bool,
    pub status: u16,
    pub body: String,
}

fn network_error(e: gloo_net::Error) -> String {
    match e {
        // A TypeError from fetch carries no detail by design (it would leak cross-origin facts).
        gloo_net::Error::JsError(js) => format!(
            "the request failed ({}), possibly offline or blocked by CORS",
            js.message
        ),
        other => other.to_string(),
    }
}

pub async fn get(url: &str) -> Result<Reply, String> {
    let resp = Request::get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(network_error)?;
    let body = resp.text().await.map_err(network_error)?;
    Ok(Reply {
        ok: resp.ok(),
        status: resp.status(),
        body,
    })
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
    let text = resp.text().await.map_err(network_error)?;
    Ok(Reply {
        ok: resp.ok(),
        status: resp.status(),
        body: text,
    })
}
