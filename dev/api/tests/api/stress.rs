//! Large answers on demand, for tests of how a client copes with them.

use tower::ServiceExt;

use crate::support::*;

#[tokio::test]
async fn numbers_come_as_one_json_array_to_any_valid_token() {
    let (response, body) = send(app(), get("/stress/numbers/5", Some(&token(&[])))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body, serde_json::json!([0, 1, 2, 3, 4]));
    let request = get("/stress/numbers/800000", Some(&token(&[])));
    let response = app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let bytes = axum::body::to_bytes(response.into_body(), 8 * 1024 * 1024)
        .await
        .unwrap();
    assert!(bytes.len() > 5_000_000, "{}", bytes.len());
    assert!(bytes.starts_with(b"[0,1,2,") && bytes.ends_with(b",799999]"));
}

#[tokio::test]
async fn without_a_token_or_beyond_the_limit_there_are_none() {
    let (response, _) = send(app(), get("/stress/numbers/5", None)).await;
    assert_eq!(response.status(), 401);
    let (response, body) = send(app(), get("/stress/numbers/2000001", Some(&token(&[])))).await;
    assert_eq!(response.status(), 422);
    assert!(
        body["detail"].as_str().unwrap().contains("2000000"),
        "{body}"
    );
}
