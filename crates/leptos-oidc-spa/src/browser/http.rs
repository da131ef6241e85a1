//! Every request the client makes, over gloo-net: the provider's documents, the token endpoint
//! and the APIs alike. Each carries an `AbortSignal` that fires after [`TIMEOUT`], so a server
//! that never answers ends in an error naming the limit, never an endless wait. Interpretation
//! lives in `core`.

use crate::exchange::{Headers, HttpError, HttpRequest, HttpResponse};
use gloo_net::http::RequestBuilder;
use js_sys::Uint8Array;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::ReadableStreamReadResult;

/// How long any request may take, body included, before it is abandoned.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// What a failed `fetch` means. It says nothing more by design (details would leak cross-origin
/// facts), so the message says what usually causes it.
fn failure(error: gloo_net::Error) -> HttpError {
    match error {
        gloo_net::Error::JsError(e) if e.name == "TimeoutError" || e.name == "AbortError" => {
            HttpError::Timeout {
                seconds: TIMEOUT.as_secs(),
            }
        }
        gloo_net::Error::JsError(e) => HttpError::Failed(e.message),
        other => HttpError::Failed(other.to_string()),
    }
}

/// Sends `request` and reads the whole response, within [`TIMEOUT`].
pub async fn fetch(request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let timeout = web_sys::AbortSignal::timeout_with_u32(TIMEOUT.as_millis() as u32);
    // The browser's own rules for header names and values, with an error instead of a throw.
    let headers = web_sys::Headers::new().map_err(|_| HttpError::Refused("no headers".into()))?;
    for (name, value) in request.headers.iter() {
        headers.set(name, value).map_err(|_| {
            HttpError::Refused(format!("the header {name:?} with the value {value:?}"))
        })?;
    }
    let builder = RequestBuilder::new(&request.url)
        .method(request.method)
        .headers(gloo_net::http::Headers::from_raw(headers))
        .abort_signal(Some(&timeout));
    let built = match request.body {
        Some(body) => builder.body(js_sys::Uint8Array::from(body.as_slice())),
        None => builder.build(),
    };
    let response = built
        .map_err(|e| HttpError::Refused(e.to_string()))?
        .send()
        .await
        .map_err(failure)?;
    let (body, truncated) = match request.max_body {
        None => (response.binary().await.map_err(failure)?, false),
        Some(limit) => read_at_most(&response, limit).await?,
    };
    let mut headers = Headers::default();
    for (name, value) in response.headers().entries() {
        headers.append(name, value);
    }
    Ok(HttpResponse {
        status: response.status(),
        headers,
        body,
        truncated,
    })
}

/// Reads the body chunk by chunk until `limit` bytes, then cancels the stream: the bytes, and
/// whether there was more.
async fn read_at_most(
    response: &gloo_net::http::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), HttpError> {
    let Some(stream) = response.body() else {
        return Ok((Vec::new(), false));
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let broken = |_| HttpError::Failed("the answer's body could not be read".into());
    let mut body = Vec::new();
    loop {
        let chunk: ReadableStreamReadResult = (JsFuture::from(reader.read()).await)
            .map_err(broken)?
            .unchecked_into();
        if chunk.get_done() == Some(true) {
            return Ok((body, false));
        }
        let bytes: Uint8Array = chunk.get_value().unchecked_into();
        let room = limit - body.len();
        if bytes.length() as usize > room {
            body.extend(bytes.subarray(0, room as u32).to_vec());
            // Not read further: the server may stop sending.
            let _ = reader.cancel();
            return Ok((body, true));
        }
        body.extend(bytes.to_vec());
    }
}
