//! CORS: preflight from the app's origin succeeds without a token; other origins get nothing.

use axum::body::Body;
use axum::http::Request;

use crate::support::*;

fn preflight(origin: &str) -> Request<Body> {
    Request::options("/studies")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-request-id",
        )
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn preflight_from_allowed_origin_gets_allow_headers() {
    for origin in [APP_ORIGIN, "http://localhost:8080"] {
        let (response, _) = send(app(), preflight(origin)).await;
        assert!(response.status().is_success(), "{}", response.status());
        assert_eq!(
            header_str(&response, "access-control-allow-origin"),
            Some(origin)
        );
        let headers = header_str(&response, "access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        for allowed in ["authorization", "content-type", "x-request-id"] {
            assert!(headers.contains(allowed), "{headers}");
        }
        let methods = header_str(&response, "access-control-allow-methods").unwrap();
        for method in ["GET", "POST", "OPTIONS"] {
            assert!(methods.contains(method), "{methods}");
        }
        assert!(header_str(&response, "www-authenticate").is_none());
    }
}

#[tokio::test]
async fn preflight_from_foreign_origin_is_not_allowed() {
    for origin in ["http://evil.example", "http://127.0.0.1:8081", "null"] {
        let (response, _) = send(app(), preflight(origin)).await;
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn errors_carry_cors_headers_and_expose_www_authenticate() {
    let request = Request::get("/studies")
        .header("origin", APP_ORIGIN)
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(app(), request).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        header_str(&response, "access-control-allow-origin"),
        Some(APP_ORIGIN)
    );
    let exposed = header_str(&response, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("www-authenticate"), "{exposed}");
}

#[tokio::test]
async fn a_request_id_comes_back_on_the_answer_and_the_browser_may_read_it() {
    let request = Request::get("/studies")
        .header("origin", APP_ORIGIN)
        .header("x-request-id", "gatehouse-42")
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(app(), request).await;
    assert_eq!(response.status(), 401, "echoed on errors too");
    assert_eq!(header_str(&response, "x-request-id"), Some("gatehouse-42"));
    let exposed = header_str(&response, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
    let without = Request::get("/health").body(Body::empty()).unwrap();
    let (response, _) = send(app(), without).await;
    assert!(
        header_str(&response, "x-request-id").is_none(),
        "none invented"
    );
}
