//! Discovery and JWKS over HTTP from an in-process fake IdP on 127.0.0.1:0.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get as route_get;
use axum::{Json, Router};
use gatehouse_api::jwks::{DiscoverySource, KeyCache, KeySource};
use serde_json::{json, Value};

use crate::support::*;

#[derive(Default)]
struct Idp {
    up: AtomicBool,
    base: Mutex<String>,
    keys: Mutex<Vec<Value>>,
    discovery_hits: AtomicUsize,
    jwks_hits: AtomicUsize,
}

async fn discovery(State(idp): State<Arc<Idp>>, RawQuery(q): RawQuery) -> Response {
    idp.discovery_hits.fetch_add(1, Ordering::SeqCst);
    if !idp.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    assert_eq!(q, Some(format!("appid={APP_ID}")), "appid query kept");
    let base = idp.base.lock().unwrap().clone();
    Json(json!({
        "issuer": format!("{base}/{{tenantid}}/v2.0"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
    }))
    .into_response()
}

async fn jwks(State(idp): State<Arc<Idp>>) -> Json<Value> {
    idp.jwks_hits.fetch_add(1, Ordering::SeqCst);
    Json(json!({ "keys": *idp.keys.lock().unwrap() }))
}

/// Starts the fake IdP; returns it and its discovery URL (with `?appid=`).
async fn start_idp(up: bool) -> (Arc<Idp>, String) {
    let idp = Arc::new(Idp::default());
    idp.up.store(up, Ordering::SeqCst);
    *idp.keys.lock().unwrap() = vec![serde_json::from_str(KEY_A_JWK).unwrap()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *idp.base.lock().unwrap() = base.clone();
    let app = Router::new()
        .route(
            "/common/v2.0/.well-known/openid-configuration",
            route_get(discovery),
        )
        .route("/discovery/v2.0/keys", route_get(jwks))
        .with_state(Arc::clone(&idp));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("{base}/common/v2.0/.well-known/openid-configuration?appid={APP_ID}");
    (idp, url)
}

/// Claims whose issuer is the fake IdP's, for tenant `TENANT`.
fn idp_claims(idp: &Idp, roles: &[&str]) -> Value {
    let mut c = claims(roles);
    c["iss"] = json!(format!("{}/{TENANT}/v2.0", idp.base.lock().unwrap()));
    c
}

#[tokio::test]
async fn discovery_then_jwks_then_one_refetch_on_unknown_kid() {
    let (idp, url) = start_idp(true).await;
    let keys = Arc::new(KeyCache::new(Arc::new(DiscoverySource::new(url))));
    tokio::time::timeout(Duration::from_secs(10), Arc::clone(&keys).warm_up())
        .await
        .unwrap();
    assert!(keys.is_loaded());
    let app = app_with_keys(Arc::clone(&keys), true);

    let t = sign(&idp_claims(&idp, &["Study.Read"]), KID_A, KEY_A_PEM);
    let (response, body) = send(app.clone(), get("/studies", Some(&t))).await;
    assert_eq!(response.status(), 200, "{body}");
    assert_eq!(idp.discovery_hits.load(Ordering::SeqCst), 1);
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 1);

    // Wrong tenant in iss: the {tenantid} template is filled from `tid`.
    let mut other = idp_claims(&idp, &["Study.Read"]);
    other["tid"] = json!("another-tenant");
    assert_invalid_token(app.clone(), &sign(&other, KID_A, KEY_A_PEM), "issuer").await;

    // Rotation: key B appears; one JWKS refetch (discovery is not re-read).
    idp.keys
        .lock()
        .unwrap()
        .push(serde_json::from_str(KEY_B_JWK).unwrap());
    let rotated = sign(&idp_claims(&idp, &["Study.Read"]), KID_B, KEY_B_PEM);
    let (response, body) = send(app.clone(), get("/studies", Some(&rotated))).await;
    assert_eq!(response.status(), 200, "{body}");
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 2);
    assert_eq!(idp.discovery_hits.load(Ordering::SeqCst), 1);

    // A second unknown kid soon after: rate-limited, no third fetch.
    let unknown = sign(&idp_claims(&idp, &["Study.Read"]), "kid-c", KEY_B_PEM);
    assert_invalid_token(app, &unknown, "no signing key").await;
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn api_starts_before_the_idp_and_recovers_lazily() {
    let (idp, url) = start_idp(false).await;
    let keys = Arc::new(
        KeyCache::new(Arc::new(DiscoverySource::new(url)))
            .with_intervals(Duration::from_secs(30), Duration::ZERO),
    );
    let app = app_with_keys(keys, true);
    let t = sign(&idp_claims(&idp, &["Study.Read"]), KID_A, KEY_A_PEM);

    let (response, body) = send(app.clone(), get("/studies", Some(&t))).await;
    assert_eq!(response.status(), 503, "{body}");
    assert_eq!(body["error"], "keys_unavailable");
    assert!(body["detail"].as_str().unwrap().contains("503"), "{body}");

    idp.up.store(true, Ordering::SeqCst);
    let (response, body) = send(app, get("/studies", Some(&t))).await;
    assert_eq!(response.status(), 200, "{body}");
}

#[tokio::test]
async fn unreachable_idp_is_a_bounded_error() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let source = DiscoverySource::new(format!(
        "http://127.0.0.1:{port}/.well-known/openid-configuration"
    ));
    let result = tokio::time::timeout(Duration::from_secs(10), source.load())
        .await
        .unwrap();
    let err = result.unwrap_err().to_string();
    assert!(err.contains(&port.to_string()), "{err}");
}
