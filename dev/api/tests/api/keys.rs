//! Key rotation: an unknown `kid` triggers one (rate-limited) JWKS refetch.

use std::sync::Arc;
use std::time::Duration;

use gatehouse_api::jwks::KeyCache;

use crate::support::*;

#[tokio::test]
async fn unknown_kid_triggers_exactly_one_refetch() {
    let source = CountingSource::new(&[KEY_A_JWK]);
    let keys = Arc::new(KeyCache::new(source.clone()));
    let app = app_with_keys(Arc::clone(&keys), true);

    // First request loads the set lazily.
    let (response, _) = send(app.clone(), get("/studies", Some(&token(&["Study.Read"])))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(source.loads(), 1);

    // The IdP rotates in key B; a token signed with it is accepted after one refetch.
    source.set(&[KEY_A_JWK, KEY_B_JWK]);
    let rotated = sign(&claims(&["Study.Read"]), KID_B, KEY_B_PEM);
    let (response, body) = send(app.clone(), get("/studies", Some(&rotated))).await;
    assert_eq!(response.status(), 200, "{body}");
    assert_eq!(source.loads(), 2);

    // Known kids never refetch.
    for t in [&rotated, &token(&["Study.Read"])] {
        assert_eq!(
            send(app.clone(), get("/studies", Some(t))).await.0.status(),
            200
        );
    }
    assert_eq!(source.loads(), 2);

    // Another unknown kid within the rate-limit window: no refetch, 401.
    let unknown = sign(&claims(&["Study.Read"]), "test-key-unknown", KEY_B_PEM);
    for _ in 0..3 {
        assert_invalid_token(app.clone(), &unknown, "no signing key").await;
    }
    assert_eq!(source.loads(), 2);
    assert_eq!(keys.load_count().await, 2);
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_refetch() {
    let source = CountingSource::new(&[KEY_A_JWK]);
    let keys = Arc::new(KeyCache::new(source.clone()));
    keys.refresh().await.unwrap();
    let app = app_with_keys(keys, true);
    let unknown = sign(&claims(&["Study.Read"]), "test-key-unknown", KEY_A_PEM);
    let requests = (0..8).map(|_| send(app.clone(), get("/studies", Some(&unknown))));
    for (response, _) in futures_join_all(requests).await {
        assert_eq!(response.status(), 401);
    }
    assert_eq!(source.loads(), 2);
}

#[tokio::test]
async fn refetch_is_allowed_again_after_the_interval() {
    let source = CountingSource::new(&[KEY_A_JWK]);
    let keys = Arc::new(
        KeyCache::new(source.clone()).with_intervals(Duration::from_millis(50), Duration::ZERO),
    );
    let app = app_with_keys(keys, true);
    assert_eq!(
        send(app.clone(), get("/studies", Some(&token(&["Study.Read"]))))
            .await
            .0
            .status(),
        200
    );
    assert_eq!(source.loads(), 1);
    let rotated = sign(&claims(&["Study.Read"]), KID_B, KEY_B_PEM);
    assert_eq!(
        send(app.clone(), get("/studies", Some(&rotated)))
            .await
            .0
            .status(),
        401
    );
    assert_eq!(source.loads(), 2); // one refetch, key B still absent
    source.set(&[KEY_B_JWK]);
    assert_eq!(
        send(app.clone(), get("/studies", Some(&rotated)))
            .await
            .0
            .status(),
        401
    );
    assert_eq!(source.loads(), 2); // rate-limited
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(
        send(app, get("/studies", Some(&rotated))).await.0.status(),
        200
    );
    assert_eq!(source.loads(), 3);
}

/// Polls all futures to completion concurrently (no `futures` dependency).
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
