//! The identity provider's signing keys: where they come from and how they are cached.
//!
//! A [`KeySource`] yields the issuer and the current JSON Web Key Set. Two
//! sources exist: [`DiscoverySource`] reads the OpenID Connect discovery
//! document (`issuer`, `jwks_uri`) and then the JWKS over HTTP, and
//! [`StaticSource`] returns a fixed set (tests, offline use).
//!
//! [`KeyCache`] sits in front of a source. It loads lazily (and is warmed up
//! in the background at start-up, with retry, so the API may start before the
//! IdP), turns RSA JWKs into verification keys, and when a token names an
//! unknown `kid` it refetches the set once — at most once per
//! [`KeyCache::UNKNOWN_KID_REFETCH_INTERVAL`] — to pick up rotated keys.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, Request, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::DecodingKey;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A boxed, sendable future (keeps [`KeySource`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One JSON Web Key, as published in a JWKS. Only what RS256 needs is kept;
/// other members are ignored.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    /// RSA modulus, base64url.
    #[serde(default)]
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(default)]
    pub e: Option<String>,
}

/// A JSON Web Key Set (`{"keys": [...]}`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// What a [`KeySource`] yields: who issues tokens and with which keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    /// The discovery document's `issuer`; tokens' `iss` must equal it.
    pub issuer: String,
    pub jwks: JwkSet,
}

/// Why keys could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JwksError {
    #[error("invalid URL {0:?}")]
    BadUrl(String),
    #[error("{0}: only http:// URLs are supported (build with the `tls` feature for https)")]
    UnsupportedScheme(String),
    #[error("GET {url}: {reason}")]
    Http { url: String, reason: String },
    #[error("GET {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: timed out")]
    Timeout { url: String },
    #[error("GET {url}: invalid response: {reason}")]
    BadDocument { url: String, reason: String },
}

/// Where the issuer and signing keys come from.
pub trait KeySource: Send + Sync {
    /// Returns the issuer and the *current* key set. Called for the first
    /// load, after a failed load, and when a token names an unknown `kid`.
    fn load(&self) -> BoxFuture<'_, Result<KeyMaterial, JwksError>>;
}

/// A fixed issuer and key set.
#[derive(Debug, Clone)]
pub struct StaticSource(pub KeyMaterial);

impl KeySource for StaticSource {
    fn load(&self) -> BoxFuture<'_, Result<KeyMaterial, JwksError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// The parts of an OpenID Connect discovery document this API uses.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// The HTTP(S) connector: plain http, plus https with the `tls` feature.
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

#[cfg(feature = "tls")]
fn connector() -> Connector {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    // The explicit provider avoids depending on a process-wide default.
    let builder =
        match builder.with_provider_and_webpki_roots(rustls::crypto::ring::default_provider()) {
            Ok(builder) => builder,
            // Only fails if ring offers no safe TLS version, which it always does.
            Err(e) => unreachable!("rustls ring provider unusable: {e}"),
        };
    builder.https_or_http().enable_http1().build()
}

#[cfg(not(feature = "tls"))]
fn connector() -> Connector {
    HttpConnector::new()
}

/// Whether this build can fetch `https://` URLs.
pub const TLS_SUPPORTED: bool = cfg!(feature = "tls");

/// Keys from the network: the discovery document at `metadata_url` (kept once
/// read successfully), then its `jwks_uri` (fetched on every load).
pub struct DiscoverySource {
    metadata_url: String,
    client: Client<Connector, Empty<Bytes>>,
    discovery: tokio::sync::Mutex<Option<Discovery>>,
}

impl DiscoverySource {
    /// Time allowed for one HTTP exchange (connect, headers and body).
    pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
    /// Largest discovery document or JWKS accepted.
    pub const MAX_BODY_BYTES: usize = 1024 * 1024;

    pub fn new(metadata_url: impl Into<String>) -> Self {
        let client = Client::builder(TokioExecutor::new())
            // Fetches are rare; a fresh connection each time survives IdP restarts.
            .pool_max_idle_per_host(0)
            .build(connector());
        Self {
            metadata_url: metadata_url.into(),
            client,
            discovery: tokio::sync::Mutex::new(None),
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, JwksError> {
        let uri: Uri = url.parse().map_err(|_| JwksError::BadUrl(url.to_owned()))?;
        match uri.scheme_str() {
            Some("http") if uri.host().is_some() => {}
            Some("https") if TLS_SUPPORTED && uri.host().is_some() => {}
            Some("https") => return Err(JwksError::UnsupportedScheme(url.to_owned())),
            _ => return Err(JwksError::BadUrl(url.to_owned())),
        }
        let request = Request::get(uri)
            .header(header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| JwksError::BadUrl(format!("{url}: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| JwksError::Http {
                    url: url.to_owned(),
                    reason: error_chain(&e),
                })?;
            let status = response.status();
            if !status.is_success() {
                return Err(JwksError::Status {
                    url: url.to_owned(),
                    status: status.as_u16(),
                });
            }
            let body = Limited::new(response.into_body(), Self::MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| JwksError::Http {
                    url: url.to_owned(),
                    reason: format!("reading body: {e}"),
                })?
                .to_bytes();
            serde_json::from_slice(&body).map_err(|e| JwksError::BadDocument {
                url: url.to_owned(),
                reason: e.to_string(),
            })
        };
        tokio::time::timeout(Self::FETCH_TIMEOUT, exchange)
            .await
            .map_err(|_| JwksError::Timeout {
                url: url.to_owned(),
            })?
    }
}

/// Joins an error with its sources ("connect error: Connection refused").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl KeySource for DiscoverySource {
    fn load(&self) -> BoxFuture<'_, Result<KeyMaterial, JwksError>> {
        Box::pin(async move {
            let mut cached = self.discovery.lock().await;
            let discovery = match cached.as_ref() {
                Some(d) => d.clone(),
                None => {
                    let d: Discovery = self.get_json(&self.metadata_url).await?;
                    *cached = Some(d.clone());
                    d
                }
            };
            drop(cached);
            let jwks: JwkSet = self.get_json(&discovery.jwks_uri).await?;
            Ok(KeyMaterial {
                issuer: discovery.issuer,
                jwks,
            })
        })
    }
}

/// A key ready to verify a token, with the issuer it belongs to.
#[derive(Clone)]
pub struct VerificationKey {
    pub issuer: Arc<str>,
    pub key: DecodingKey,
}

/// Why no key could be produced for a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeyLookupError {
    /// The keys have never been loaded (IdP unreachable so far).
    #[error("signing keys are not available yet: {0}")]
    Unavailable(String),
    /// The keys are loaded but none has this `kid`, even after a refetch.
    #[error("no signing key with kid {0:?}")]
    UnknownKid(String),
}

/// A usable key set, indexed by `kid`.
struct LoadedKeys {
    issuer: Arc<str>,
    keys: HashMap<String, DecodingKey>,
}

impl LoadedKeys {
    fn from_material(material: KeyMaterial) -> Self {
        let keys = material
            .jwks
            .keys
            .into_iter()
            .filter_map(|jwk| {
                let usable = jwk.kty == "RSA"
                    && jwk.use_.as_deref().is_none_or(|u| u == "sig")
                    && jwk.alg.as_deref().is_none_or(|a| a == "RS256");
                if !usable {
                    return None;
                }
                let key =
                    DecodingKey::from_rsa_components(jwk.n.as_deref()?, jwk.e.as_deref()?).ok()?;
                Some((jwk.kid?, key))
            })
            .collect();
        Self {
            issuer: material.issuer.into(),
            keys,
        }
    }

    fn get(&self, kid: &str) -> Option<VerificationKey> {
        self.keys.get(kid).map(|key| VerificationKey {
            issuer: Arc::clone(&self.issuer),
            key: key.clone(),
        })
    }
}

/// Book-keeping for loads, guarded by an async mutex so that only one load
/// runs at a time (concurrent requests wait for it instead of piling on).
#[derive(Default)]
struct LoadState {
    last_attempt: Option<Instant>,
    last_unknown_kid_refetch: Option<Instant>,
    last_error: Option<String>,
    loads: u64,
}

/// Caches the signing keys of a [`KeySource`]; see the module docs.
pub struct KeyCache {
    source: Arc<dyn KeySource>,
    current: RwLock<Option<Arc<LoadedKeys>>>,
    load_state: tokio::sync::Mutex<LoadState>,
    unknown_kid_interval: Duration,
    retry_interval: Duration,
}

impl KeyCache {
    /// Minimum time between two refetches caused by unknown `kid`s.
    pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
    /// While no keys are loaded, minimum time between two request-triggered loads.
    pub const RETRY_INTERVAL: Duration = Duration::from_secs(1);

    pub fn new(source: Arc<dyn KeySource>) -> Self {
        Self {
            source,
            current: RwLock::new(None),
            load_state: tokio::sync::Mutex::new(LoadState::default()),
            unknown_kid_interval: Self::UNKNOWN_KID_REFETCH_INTERVAL,
            retry_interval: Self::RETRY_INTERVAL,
        }
    }

    /// Overrides the rate limits (tests).
    pub fn with_intervals(mut self, unknown_kid: Duration, retry: Duration) -> Self {
        self.unknown_kid_interval = unknown_kid;
        self.retry_interval = retry;
        self
    }

    fn snapshot(&self) -> Option<Arc<LoadedKeys>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether a key set has been loaded.
    pub fn is_loaded(&self) -> bool {
        self.snapshot().is_some()
    }

    /// How many times the source has been asked to load (for diagnostics and tests).
    pub async fn load_count(&self) -> u64 {
        self.load_state.lock().await.loads
    }

    /// Loads from the source now and, on success, replaces the cached keys.
    /// Callers must hold the load-state lock.
    async fn load_locked(&self, state: &mut LoadState) -> Result<(), JwksError> {
        state.last_attempt = Some(Instant::now());
        state.loads += 1;
        match self.source.load().await {
            Ok(material) => {
                let loaded = Arc::new(LoadedKeys::from_material(material));
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(loaded);
                state.last_error = None;
                Ok(())
            }
            Err(e) => {
                state.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Loads the keys now, whatever the rate limits say.
    pub async fn refresh(&self) -> Result<(), JwksError> {
        let mut state = self.load_state.lock().await;
        self.load_locked(&mut state).await
    }

    /// Start-up warm-up: loads until it succeeds (or something else loaded
    /// the keys), backing off from 1 s to 30 s between attempts.
    pub async fn warm_up(self: Arc<Self>) {
        let mut delay = Duration::from_secs(1);
        loop {
            if self.is_loaded() {
                return;
            }
            match self.refresh().await {
                Ok(()) => {
                    eprintln!("gatehouse-api: signing keys loaded");
                    return;
                }
                Err(e) => eprintln!(
                    "gatehouse-api: cannot load signing keys yet ({e}); retrying in {}s",
                    delay.as_secs()
                ),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    }

    /// The verification key for `kid`, loading or refetching the set if
    /// needed and allowed by the rate limits.
    pub async fn key_for(&self, kid: &str) -> Result<VerificationKey, KeyLookupError> {
        if let Some(key) = self.snapshot().and_then(|k| k.get(kid)) {
            return Ok(key);
        }
        let mut state = self.load_state.lock().await;
        // Another request may have loaded the keys while this one waited.
        let loaded = self.snapshot();
        if let Some(key) = loaded.as_ref().and_then(|k| k.get(kid)) {
            return Ok(key);
        }
        let now = Instant::now();
        let allowed_since = |last: Option<Instant>, interval: Duration| {
            last.is_none_or(|t| now.duration_since(t) >= interval)
        };
        if loaded.is_none() {
            // Never loaded: the IdP may be coming up; retry, but not on every request.
            if allowed_since(state.last_attempt, self.retry_interval) {
                // A failure is recorded in `last_error` and reported below.
                let _ = self.load_locked(&mut state).await;
            }
            return match self.snapshot() {
                Some(keys) => keys
                    .get(kid)
                    .ok_or_else(|| KeyLookupError::UnknownKid(kid.to_owned())),
                None => Err(KeyLookupError::Unavailable(
                    state
                        .last_error
                        .clone()
                        .unwrap_or_else(|| "not loaded".to_owned()),
                )),
            };
        }
        // Loaded, but the kid is unknown: the IdP may have rotated its keys.
        if allowed_since(state.last_unknown_kid_refetch, self.unknown_kid_interval) {
            state.last_unknown_kid_refetch = Some(now);
            if let Err(e) = self.load_locked(&mut state).await {
                eprintln!("gatehouse-api: JWKS refetch for unknown kid failed: {e}");
            }
        }
        self.snapshot()
            .and_then(|k| k.get(kid))
            .ok_or_else(|| KeyLookupError::UnknownKid(kid.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa_jwk(kid: &str) -> Jwk {
        Jwk {
            kty: "RSA".into(),
            kid: Some(kid.into()),
            use_: Some("sig".into()),
            alg: Some("RS256".into()),
            n: Some("sXch".into()),
            e: Some("AQAB".into()),
        }
    }

    #[test]
    fn only_rsa_signing_keys_with_a_kid_are_kept() {
        let mut enc = rsa_jwk("enc");
        enc.use_ = Some("enc".into());
        let mut ec = rsa_jwk("ec");
        ec.kty = "EC".into();
        let mut no_kid = rsa_jwk("x");
        no_kid.kid = None;
        let mut no_n = rsa_jwk("no-n");
        no_n.n = None;
        let mut ps256 = rsa_jwk("ps");
        ps256.alg = Some("PS256".into());
        let mut bare = rsa_jwk("bare");
        bare.use_ = None;
        bare.alg = None;
        let loaded = LoadedKeys::from_material(KeyMaterial {
            issuer: "iss".into(),
            jwks: JwkSet {
                keys: vec![rsa_jwk("good"), enc, ec, no_kid, no_n, ps256, bare],
            },
        });
        let mut kids: Vec<_> = loaded.keys.keys().cloned().collect();
        kids.sort();
        assert_eq!(kids, ["bare", "good"]);
    }

    #[test]
    fn jwks_json_with_extra_members_parses() {
        let set: JwkSet = serde_json::from_str(
            r#"{"keys":[{"kty":"RSA","use":"sig","kid":"k","x5t":"t","n":"AQAB","e":"AQAB","x5c":["..."],"issuer":"i"}]}"#,
        )
        .unwrap();
        assert_eq!(set.keys[0].kid.as_deref(), Some("k"));
    }

    #[cfg(not(feature = "tls"))]
    #[tokio::test]
    async fn https_is_refused_without_the_tls_feature() {
        let source = DiscoverySource::new("https://login.example/.well-known/openid-configuration");
        assert!(matches!(
            source.load().await,
            Err(JwksError::UnsupportedScheme(_))
        ));
    }

    #[cfg(feature = "tls")]
    #[tokio::test]
    async fn https_is_attempted_with_the_tls_feature() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let source = DiscoverySource::new(format!(
            "https://127.0.0.1:{port}/.well-known/openid-configuration"
        ));
        assert!(matches!(source.load().await, Err(JwksError::Http { .. })));
    }

    #[tokio::test]
    async fn garbage_urls_are_refused_without_network() {
        for url in ["not a url", "ftp://x/y", "/relative/path"] {
            let source = DiscoverySource::new(url);
            assert!(
                matches!(source.load().await, Err(JwksError::BadUrl(_))),
                "{url}"
            );
        }
    }
}
