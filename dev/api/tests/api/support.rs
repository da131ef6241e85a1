//! Shared helpers: test keys, token minting, app construction, requests.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use gatehouse_api::auth::{Auth, TokenValidator};
use gatehouse_api::jwks::{Jwk, JwkSet, KeyCache, KeyMaterial, KeySource, StaticSource};
use gatehouse_api::store::Store;
use gatehouse_api::workspaces::Workspaces;
use gatehouse_api::{router, AppState};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const ISSUER: &str = "http://127.0.0.1:9/test-tenant/v2.0";
pub const APP_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const TENANT: &str = "test-tenant";
pub const APP_ORIGIN: &str = "http://127.0.0.1:8080";
/// App ids of the two TRE workspaces every test app serves (`alpha`, `beta`).
pub const WS_ALPHA: &str = "aaaaaaaa-1111-4111-8111-00000000000a";
pub const WS_BETA: &str = "bbbbbbbb-2222-4222-8222-00000000000b";

pub const KEY_A_PEM: &str = include_str!("../keys/test_rsa_a.pem");
pub const KEY_A_JWK: &str = include_str!("../keys/test_rsa_a.jwk.json");
pub const KEY_B_PEM: &str = include_str!("../keys/test_rsa_b.pem");
pub const KEY_B_JWK: &str = include_str!("../keys/test_rsa_b.jwk.json");
pub const KID_A: &str = "test-key-a";
pub const KID_B: &str = "test-key-b";

pub fn jwk(json: &str) -> Jwk {
    serde_json::from_str(json).unwrap()
}

/// An RSA private key from a PKCS#1 PEM (decoded by hand: no PEM feature needed).
pub fn encoding_key(pem: &str) -> EncodingKey {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    EncodingKey::from_rsa_der(&STANDARD.decode(b64).unwrap())
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Valid claims for a user holding `roles`.
pub fn claims(roles: &[&str]) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": APP_ID,
        "exp": now + 3600,
        "nbf": now - 10,
        "iat": now - 10,
        "name": "Ada Lovelace",
        "preferred_username": "ada@example.test",
        "oid": "00000000-0000-0000-0000-00000000000a",
        "tid": TENANT,
        "sub": "subject-a",
        "scp": "API.Call",
        "roles": roles,
    })
}

/// Signs `claims` with RS256 under `kid` using `pem`.
pub fn sign(claims: &Value, kid: &str, pem: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &encoding_key(pem)).unwrap()
}

/// A valid token (key A) for a user holding `roles`.
pub fn token(roles: &[&str]) -> String {
    sign(&claims(roles), KID_A, KEY_A_PEM)
}

/// A valid token (key A) for the API `aud` (e.g. a workspace), with `roles`.
pub fn token_for(aud: &str, roles: &[&str]) -> String {
    let mut c = claims(roles);
    c["aud"] = json!(aud);
    c["scp"] = json!("user_impersonation");
    sign(&c, KID_A, KEY_A_PEM)
}

/// The TRE workspaces of the test apps: alpha and beta.
pub fn workspaces() -> Workspaces {
    Workspaces::parse(&format!("alpha={WS_ALPHA},beta={WS_BETA}")).unwrap()
}

/// An unsigned token with an arbitrary JOSE header.
pub fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

pub fn static_keys(jwks: &[&str]) -> Arc<KeyCache> {
    let material = KeyMaterial {
        issuer: ISSUER.to_owned(),
        jwks: JwkSet {
            keys: jwks.iter().map(|j| jwk(j)).collect(),
        },
    };
    Arc::new(KeyCache::new(Arc::new(StaticSource(material))))
}

pub fn origins() -> Vec<HeaderValue> {
    gatehouse_api::config::parse_origins(gatehouse_api::config::DEFAULT_CORS_ORIGINS).unwrap()
}

pub fn app_with_keys(keys: Arc<KeyCache>, rbac_enabled: bool) -> Router {
    let auth = Auth::Enabled {
        validator: TokenValidator::new(keys, APP_ID),
        rbac_enabled,
    };
    router(AppState::new(auth, Store::seeded(), origins()).with_workspaces(workspaces()))
}

/// The app with OAuth and RBAC on and key A as the IdP's only key.
pub fn app() -> Router {
    app_with_keys(static_keys(&[KEY_A_JWK]), true)
}

pub fn app_without_rbac() -> Router {
    app_with_keys(static_keys(&[KEY_A_JWK]), false)
}

pub fn app_without_auth() -> Router {
    router(AppState::new(Auth::Disabled, Store::seeded(), origins()).with_workspaces(workspaces()))
}

/// A key source that counts loads and serves a key set the test can change.
pub struct CountingSource {
    pub keys: std::sync::Mutex<Vec<Jwk>>,
    pub loads: std::sync::atomic::AtomicUsize,
}

impl CountingSource {
    pub fn new(jwks: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            keys: std::sync::Mutex::new(jwks.iter().map(|j| jwk(j)).collect()),
            loads: Default::default(),
        })
    }

    pub fn set(&self, jwks: &[&str]) {
        *self.keys.lock().unwrap() = jwks.iter().map(|j| jwk(j)).collect();
    }

    pub fn loads(&self) -> usize {
        self.loads.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl KeySource for CountingSource {
    fn load(
        &self,
    ) -> gatehouse_api::jwks::BoxFuture<'_, Result<KeyMaterial, gatehouse_api::jwks::JwksError>>
    {
        self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let keys = self.keys.lock().unwrap().clone();
        Box::pin(async move {
            Ok(KeyMaterial {
                issuer: ISSUER.to_owned(),
                jwks: JwkSet { keys },
            })
        })
    }
}

pub fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::empty()).unwrap()
}

pub fn post(path: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

/// Sends `request` to `app` (bounded by a timeout) and returns the response
/// and its body parsed as JSON (`Value::Null` when empty).
pub async fn send(app: Router, request: Request<Body>) -> (Response<Body>, Value) {
    let response = tokio::time::timeout(Duration::from_secs(10), app.oneshot(request))
        .await
        .expect("request timed out")
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024).await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (Response::from_parts(parts, Body::empty()), json)
}

pub fn header_str<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Asserts a 401 for an invalid token whose description mentions `needle`.
pub async fn assert_invalid_token(app: Router, token: &str, needle: &str) {
    assert_invalid_token_at(app, "/studies", token, needle).await;
}

/// Asserts a 401 at `path` for an invalid token whose description mentions `needle`; returns
/// the `WWW-Authenticate` challenge.
pub async fn assert_invalid_token_at(app: Router, path: &str, token: &str, needle: &str) -> String {
    assert_refused(
        app,
        get(path, Some(token)),
        "Bearer",
        "invalid_token",
        needle,
    )
    .await
}

/// Asserts that `request` gets a 401 with `error`, whose detail mentions `needle`, challenged in
/// `scheme` (`Bearer` or `DPoP`) with the same error; returns the `WWW-Authenticate` challenge.
pub async fn assert_refused(
    app: Router,
    request: Request<Body>,
    scheme: &str,
    error: &str,
    needle: &str,
) -> String {
    let path = request.uri().to_string();
    let (response, body) = send(app, request).await;
    assert_eq!(response.status(), 401, "{path}: {body}");
    assert_eq!(body["error"], error, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(needle),
        "detail {detail:?} lacks {needle:?}"
    );
    let challenge = header_str(&response, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with(&format!("{scheme} error=\"{error}\", error_description=\"")),
        "{challenge}"
    );
    challenge.to_string()
}
