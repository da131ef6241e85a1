//! DPoP (RFC 9449): checking the proof that comes with `Authorization: DPoP <token>`.
//!
//! [`Dpop::verify`] applies RFC 9449 §4.3 and §7.1 to the `DPoP` request header: a compact JWS
//! with `typ: dpop+jwt`, `alg: ES256` and a public P-256 `jwk` in its header, signed with that
//! key; `htm` the request method; `htu` this API's public URL of the request path (query and
//! fragment ignored); `iat` within [`DpopSettings::iat_window`] of now; a `jti` not seen before
//! with the same key while the proof could still be accepted; `ath` the base64url SHA-256 of
//! the access token; and, when [`DpopSettings::nonce`] is on, a `nonce` this API handed out
//! (`use_dpop_nonce` with a `DPoP-Nonce` header otherwise). It returns the RFC 7638 thumbprint
//! of the key ([`jwk_thumbprint`]), which the caller compares with the token's `cnf.jkt`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};

use crate::error::ApiError;

pub use crate::error::{ALGS, DPOP, DPOP_NONCE};

/// Default [`DpopSettings::iat_window`]: how far a proof's `iat` may be from now, in seconds.
pub const DEFAULT_IAT_WINDOW: u64 = 60;
/// How many `jti`s the replay cache holds at most; the oldest go first beyond that.
pub const REPLAY_CACHE_SIZE: usize = 100_000;
/// How long a nonce handed out stays current; the one before it is still accepted.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// The longest `jti` accepted (a UUID is 36 characters).
const MAX_JTI_LEN: usize = 256;

/// How proofs are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopSettings {
    /// The URLs this API is reached at (`scheme://host[:port][/prefix]`); a proof's `htu` must
    /// be one of them followed by the request path.
    pub public_urls: Vec<PublicUrl>,
    /// Accepted distance of `iat` from now, seconds, either way.
    pub iat_window: u64,
    /// Whether proofs must carry a nonce from this API (`API_DPOP_NONCE`).
    pub nonce: bool,
}

impl DpopSettings {
    /// The defaults for an API listening on 127.0.0.1 at `port`: reached as
    /// `http://127.0.0.1:<port>` or `http://localhost:<port>`, ±60 s, no nonces.
    pub fn local(port: u16) -> Self {
        Self {
            public_urls: ["127.0.0.1", "localhost"]
                .iter()
                .filter_map(|host| PublicUrl::parse(&format!("http://{host}:{port}")).ok())
                .collect(),
            iat_window: DEFAULT_IAT_WINDOW,
            nonce: false,
        }
    }
}

/// An absolute URL split for comparison: scheme and host lower-cased, the port explicit, the
/// path without query, fragment or trailing slash (RFC 3986 §6.2.2-6.2.3 normalisation, as far
/// as a client can be expected to differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    scheme: String,
    host: String,
    port: u16,
    path: String,
}

impl PublicUrl {
    /// Parses an `http` or `https` URL; the query and fragment are dropped.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.split(['#', '?']).next().unwrap_or_default();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url:?} is not an absolute URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(format!("{url:?} is not an http(s) URL")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("{url:?} has no usable host"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                let port = port
                    .parse()
                    .map_err(|_| format!("{url:?} has a bad port"))?;
                (host, port)
            }
            _ => (authority, default_port),
        };
        Ok(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path: path.trim_end_matches('/').to_owned(),
        })
    }

    /// Whether `htu` is this URL followed by `request_path`.
    fn matches(&self, htu: &PublicUrl, request_path: &str) -> bool {
        self.scheme == htu.scheme
            && self.host == htu.host
            && self.port == htu.port
            && format!("{}{}", self.path, request_path).trim_end_matches('/') == htu.path
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}:{}{}",
            self.scheme, self.host, self.port, self.path
        )
    }
}

/// The RFC 7638 thumbprint of a public JWK: base64url SHA-256 of its required members, in
/// lexicographic order, as compact JSON.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Result<String, String> {
    let members: &[&str] = match jwk.get("kty").and_then(Value::as_str) {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("RSA") => &["e", "kty", "n"],
        Some("OKP") => &["crv", "kty", "x"],
        _ => return Err("jwk has no supported kty".to_owned()),
    };
    let mut canonical = Vec::with_capacity(members.len());
    for &member in members {
        let value = jwk
            .get(member)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("jwk has no {member}"))?;
        canonical.push(format!("{}:{}", Value::from(member), Value::from(value)));
    }
    let json = format!("{{{}}}", canonical.join(","));
    Ok(URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, json.as_bytes())))
}

/// base64url(SHA-256(access token)): what a proof's `ath` must be.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// Seconds since the epoch.
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The proof checker, with its replay cache and (optional) nonces.
pub struct Dpop {
    settings: DpopSettings,
    replay: Mutex<ReplayCache>,
    nonces: Mutex<Nonces>,
    rng: SystemRandom,
}

impl Dpop {
    /// A checker with `settings`.
    pub fn new(settings: DpopSettings) -> Self {
        let rng = SystemRandom::new();
        let nonces = Nonces::new(&rng);
        Self {
            settings,
            replay: Mutex::new(ReplayCache::default()),
            nonces: Mutex::new(nonces),
            rng,
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> &DpopSettings {
        &self.settings
    }

    /// The nonce proofs must carry now (when nonces are on).
    pub fn current_nonce(&self) -> String {
        self.lock_nonces().current(&self.rng).to_owned()
    }

    /// Ends every nonce handed out so far: the next proof with one gets `use_dpop_nonce`.
    pub fn rotate_nonce(&self) {
        self.lock_nonces().rotate(&self.rng);
    }

    fn lock_nonces(&self) -> std::sync::MutexGuard<'_, Nonces> {
        // A poisoned lock only means another request panicked; the nonces are still usable.
        self.nonces.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks `proof` for a `method` request to `path` (this API's path, as received) with
    /// `access_token`; returns the thumbprint of the proof's key.
    pub fn verify(
        &self,
        proof: &str,
        method: &Method,
        path: &str,
        access_token: &str,
    ) -> Result<String, ApiError> {
        self.verify_at(proof, method, path, access_token, now_secs())
    }

    /// [`Dpop::verify`] at the time `now` (seconds since the epoch).
    pub fn verify_at(
        &self,
        proof: &str,
        method: &Method,
        path: &str,
        access_token: &str,
        now: u64,
    ) -> Result<String, ApiError> {
        let Jws {
            header,
            claims,
            signing_input,
            signature,
        } = split(proof)?;
        if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
            return Err(bad("proof typ must be dpop+jwt"));
        }
        match header.get("alg").and_then(Value::as_str) {
            Some(ALGS) => {}
            Some(other) => {
                return Err(bad(format!(
                    "proof algorithm {other:?} is not accepted; only {ALGS} is"
                )))
            }
            None => return Err(bad("proof header has no alg")),
        }
        let jwk = header
            .get("jwk")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("proof header has no jwk"))?;
        if jwk.contains_key("d") {
            return Err(bad("proof jwk contains a private key"));
        }
        if jwk.get("kty").and_then(Value::as_str) != Some("EC")
            || jwk.get("crv").and_then(Value::as_str) != Some("P-256")
        {
            return Err(bad("proof jwk must be an EC P-256 public key"));
        }
        let coordinate = |name: &str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("proof jwk has no {name}")))
        };
        let key = DecodingKey::from_ec_components(coordinate("x")?, coordinate("y")?)
            .map_err(|_| bad("proof jwk is not a usable P-256 key"))?;
        let verified = jsonwebtoken::crypto::verify(
            signature,
            signing_input.as_bytes(),
            &key,
            Algorithm::ES256,
        )
        .unwrap_or(false);
        if !verified {
            return Err(bad("proof signature does not verify with its jwk"));
        }

        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("htm") != Some(method.as_str()) {
            return Err(bad(format!("proof htm is not {method}")));
        }
        let htu = text("htu")
            .and_then(|htu| PublicUrl::parse(htu).ok())
            .ok_or_else(|| bad("proof htu is not an http(s) URL"))?;
        if !self
            .settings
            .public_urls
            .iter()
            .any(|base| base.matches(&htu, path))
        {
            return Err(bad("proof htu is not the URL of this request"));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("proof has no iat"))?;
        if iat.abs_diff(now) > self.settings.iat_window {
            return Err(bad(format!(
                "proof iat is more than {} s from now",
                self.settings.iat_window
            )));
        }
        let jti = text("jti")
            .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LEN)
            .ok_or_else(|| bad("proof has no usable jti"))?;
        if text("ath") != Some(access_token_hash(access_token).as_str()) {
            return Err(bad("proof ath is not the hash of the access token"));
        }
        if self.settings.nonce {
            let mut nonces = self.lock_nonces();
            match text("nonce") {
                Some(nonce) if nonces.accepts(nonce, &self.rng) => {}
                sent => {
                    return Err(ApiError::UseDpopNonce {
                        detail: match sent {
                            None => "proof has no nonce; use the one in DPoP-Nonce".to_owned(),
                            Some(_) => {
                                "proof nonce is not current; use the one in DPoP-Nonce".to_owned()
                            }
                        },
                        nonce: nonces.current(&self.rng).to_owned(),
                    })
                }
            }
        }
        let thumbprint = jwk_thumbprint(jwk).map_err(bad)?;
        // Last, so that a refused proof does not use up its jti.
        let expires = iat.saturating_add(self.settings.iat_window).max(now) + 1;
        let fresh = self
            .replay
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(format!("{thumbprint} {jti}"), expires, now);
        if !fresh {
            return Err(bad("proof jti was used before (replay)"));
        }
        Ok(thumbprint)
    }
}

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::InvalidDpopProof(detail.into())
}

/// A compact JWS taken apart (nothing verified yet).
struct Jws<'a> {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    /// `header.claims` as sent: what the signature covers.
    signing_input: &'a str,
    /// The signature, base64url.
    signature: &'a str,
}

/// Splits a proof into its header and claims (JSON objects), signing input and signature.
fn split(proof: &str) -> Result<Jws<'_>, ApiError> {
    let (signing_input, signature) = proof
        .rsplit_once('.')
        .ok_or_else(|| bad("proof is not a JWT"))?;
    let (header, claims) = signing_input
        .split_once('.')
        .ok_or_else(|| bad("proof is not a JWT"))?;
    if signature.is_empty() || claims.contains('.') {
        return Err(bad("proof is not a signed JWT (three parts)"));
    }
    let object = |part: &str, what: &str| -> Result<Map<String, Value>, ApiError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| bad(format!("proof {what} is not base64url")))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(bad(format!("proof {what} is not a JSON object"))),
        }
    };
    Ok(Jws {
        header: object(header, "header")?,
        claims: object(claims, "claims")?,
        signing_input,
        signature,
    })
}

/// `jti`s seen (with their key) and until when each matters; bounded by [`REPLAY_CACHE_SIZE`].
#[derive(Default)]
struct ReplayCache {
    expiry: HashMap<String, u64>,
    order: VecDeque<(u64, String)>,
}

impl ReplayCache {
    /// Records `id` until `expires`; false if it is already recorded and not expired.
    fn insert(&mut self, id: String, expires: u64, now: u64) -> bool {
        // Forget what has expired, and the oldest entries beyond the bound.
        while let Some((at, _)) = self.order.front() {
            if *at > now && self.order.len() < REPLAY_CACHE_SIZE {
                break;
            }
            let Some((at, old)) = self.order.pop_front() else {
                break;
            };
            // Unless the id was recorded again since (then its newer entry stays).
            if self.expiry.get(&old) == Some(&at) {
                self.expiry.remove(&old);
            }
        }
        if self.expiry.get(&id).is_some_and(|e| *e > now) {
            return false;
        }
        self.expiry.insert(id.clone(), expires);
        self.order.push_back((expires, id));
        true
    }
}

/// This API's nonces: the current one and the one before, each living [`NONCE_LIFETIME`].
struct Nonces {
    current: String,
    previous: Option<String>,
    since: Instant,
}

impl Nonces {
    fn new(rng: &SystemRandom) -> Self {
        Self {
            current: random_nonce(rng),
            previous: None,
            since: Instant::now(),
        }
    }

    fn rotate(&mut self, rng: &SystemRandom) {
        self.previous = None;
        self.current = random_nonce(rng);
        self.since = Instant::now();
    }

    /// The current nonce, making a new one when it has lived long enough.
    fn current(&mut self, rng: &SystemRandom) -> &str {
        if self.since.elapsed() >= NONCE_LIFETIME {
            let old = std::mem::replace(&mut self.current, random_nonce(rng));
            self.previous = Some(old);
            self.since = Instant::now();
        }
        &self.current
    }

    fn accepts(&mut self, nonce: &str, rng: &SystemRandom) -> bool {
        self.current(rng) == nonce || self.previous.as_deref() == Some(nonce)
    }
}

/// 128 random bits, base64url (the clock's nanoseconds should the system RNG ever fail).
fn random_nonce(rng: &SystemRandom) -> String {
    let mut bytes = [0u8; 16];
    if rng.fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            jwk_thumbprint(jwk.as_object().unwrap()).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn ec_thumbprint_uses_crv_kty_x_y_in_order() {
        let jwk = json!({"y": "Y", "x": "X", "kty": "EC", "crv": "P-256", "kid": "ignored"});
        let expected = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            br#"{"crv":"P-256","kty":"EC","x":"X","y":"Y"}"#,
        ));
        assert_eq!(jwk_thumbprint(jwk.as_object().unwrap()).unwrap(), expected);
        assert!(jwk_thumbprint(json!({"kty": "oct", "k": "x"}).as_object().unwrap()).is_err());
    }

    #[test]
    fn urls_compare_after_normalisation() {
        let base = PublicUrl::parse("HTTP://LocalHost:8091/").unwrap();
        let htu = |s: &str| PublicUrl::parse(s).unwrap();
        assert!(base.matches(&htu("http://localhost:8091/studies?x=1#f"), "/studies"));
        assert!(!base.matches(&htu("http://localhost:8092/studies"), "/studies"));
        assert!(!base.matches(&htu("https://localhost:8091/studies"), "/studies"));
        assert!(!base.matches(&htu("http://localhost:8091/studies/1"), "/studies"));
        let default_port = PublicUrl::parse("https://api.example").unwrap();
        assert!(default_port.matches(&htu("https://API.example:443/me"), "/me"));
        let prefixed = PublicUrl::parse("https://app.example/api").unwrap();
        assert!(prefixed.matches(&htu("https://app.example/api/me"), "/me"));
        assert!(!prefixed.matches(&htu("https://app.example/me"), "/me"));
        for bad in [
            "ftp://x/",
            "localhost:8091",
            "http://",
            "http://h:port/",
            "http://u@h/",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replay_cache_forgets_expired_ids_and_stays_bounded() {
        let mut cache = ReplayCache::default();
        assert!(cache.insert("a".into(), 100, 10));
        assert!(!cache.insert("a".into(), 100, 50));
        assert!(cache.insert("a".into(), 200, 100), "expired at 100");
        for i in 0..REPLAY_CACHE_SIZE + 10 {
            cache.insert(format!("k{i}"), 1_000, 150);
        }
        assert!(cache.expiry.len() <= REPLAY_CACHE_SIZE);
        assert!(cache.order.len() <= REPLAY_CACHE_SIZE);
    }

    #[test]
    fn nonces_rotate_and_keep_the_previous_one() {
        let rng = SystemRandom::new();
        let mut nonces = Nonces::new(&rng);
        let first = nonces.current(&rng).to_owned();
        assert!(nonces.accepts(&first, &rng));
        nonces.since -= NONCE_LIFETIME;
        let second = nonces.current(&rng).to_owned();
        assert_ne!(first, second);
        assert!(nonces.accepts(&first, &rng) && nonces.accepts(&second, &rng));
        nonces.rotate(&rng);
        assert!(!nonces.accepts(&first, &rng) && !nonces.accepts(&second, &rng));
    }
}
