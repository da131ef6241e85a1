//! DPoP (RFC 9449): `Authorization: DPoP <token>` with a proof, every refusal and what is accepted.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_api::auth::{Auth, TokenValidator};
use gatehouse_api::dpop::{access_token_hash, jwk_thumbprint, Dpop, DpopSettings};
use gatehouse_api::store::Store;
use gatehouse_api::{router, AppState};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Map, Value};

use crate::support::*;

/// A change made to a proof's header or claims.
type Change = Box<dyn FnOnce(&mut Map<String, Value>)>;

/// A change that sets the member `name` to `value`.
fn set(name: &'static str, value: Value) -> Change {
    Box::new(move |m| {
        m.insert(name.into(), value);
    })
}

/// A change that removes the member `name`.
fn unset(name: &'static str) -> Change {
    Box::new(move |m| {
        m.remove(name);
    })
}

/// The URL the test apps are reached at (`DpopSettings::local(8091)`).
const BASE: &str = "http://127.0.0.1:8091";

/// A client's ES256 key, made afresh for each test.
struct ClientKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    jwk: Value,
}

impl ClientKey {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        // Uncompressed point: 0x04 || x || y.
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        Self { pair, rng, jwk }
    }

    fn thumbprint(&self) -> String {
        jwk_thumbprint(self.jwk.as_object().unwrap()).unwrap()
    }

    /// A JWS over `header` and `claims`, signed with this key whatever the header says.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.pair.sign(&self.rng, input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn header(&self) -> Value {
        json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk })
    }

    /// A valid proof for `method` `url` presenting `token`.
    fn proof(&self, method: &str, url: &str, token: &str) -> String {
        self.proof_with(method, url, token, |_, _| {})
    }

    /// A proof for `method` `url` and `token`, after `change` had its way with header and claims.
    fn proof_with(
        &self,
        method: &str,
        url: &str,
        token: &str,
        change: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>),
    ) -> String {
        let mut header = self.header().as_object().unwrap().clone();
        let mut claims = json!({
            "htm": method,
            "htu": url,
            "iat": now(),
            "jti": format!("{}", uuid_like()),
            "ath": access_token_hash(token),
        })
        .as_object()
        .unwrap()
        .clone();
        change(&mut header, &mut claims);
        self.sign(&Value::Object(header), &Value::Object(claims))
    }
}

/// A fresh random id for `jti`.
fn uuid_like() -> String {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token for `roles` bound to `key` (`cnf.jkt`).
fn bound_token(key: &ClientKey, roles: &[&str]) -> String {
    let mut c = claims(roles);
    c["cnf"] = json!({ "jkt": key.thumbprint() });
    sign(&c, KID_A, KEY_A_PEM)
}

/// The app with `settings` for DPoP (key A as the IdP's key, RBAC on); it keeps its replay
/// cache and nonces across the clones the requests are sent to.
fn dpop_app(settings: DpopSettings) -> (Router, Arc<Auth>) {
    let validator =
        TokenValidator::new(static_keys(&[KEY_A_JWK]), APP_ID).with_dpop(Dpop::new(settings));
    let auth = Auth::Enabled {
        validator,
        rbac_enabled: true,
    };
    let state = AppState::new(auth, Store::seeded(), origins()).with_workspaces(workspaces());
    let auth = Arc::clone(&state.auth);
    (router(state), auth)
}

fn local() -> Router {
    dpop_app(DpopSettings::local(8091)).0
}

fn request(method: &str, path: &str, authorization: &str, proofs: &[&str]) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, authorization)
        .header(header::CONTENT_TYPE, "application/json");
    for proof in proofs {
        builder = builder.header("dpop", *proof);
    }
    let body = if method == "POST" {
        Body::from(r#"{"study_number":"4242","acronym":"DPOP"}"#)
    } else {
        Body::empty()
    };
    builder.body(body).unwrap()
}

/// `GET path` with `Authorization: DPoP <token>` and `proof`.
fn dpop_get(path: &str, token: &str, proof: &str) -> Request<Body> {
    request("GET", path, &format!("DPoP {token}"), &[proof])
}

/// Asserts a 401 `error` (`invalid_dpop_proof`, `invalid_token`, ...) in the DPoP form, the
/// detail mentioning `needle`.
/// `request` gets 200.
async fn assert_accepted(app: Router, request: Request<Body>) {
    let (response, body) = send(app, request).await;
    assert_eq!(response.status(), 200, "{body}");
}

async fn assert_refused(app: Router, request: Request<Body>, error: &str, needle: &str) {
    let challenge = crate::support::assert_refused(app, request, "DPoP", error, needle).await;
    assert!(challenge.ends_with(r#", algs="ES256""#), "{challenge}");
}

#[tokio::test]
async fn a_bound_token_with_its_proof_is_accepted() {
    let key = ClientKey::new();
    let token = bound_token(&key, &["Study.Read"]);
    let app = local();
    let url = format!("{BASE}/studies");
    let (response, body) = send(
        app.clone(),
        dpop_get("/studies", &token, &key.proof("GET", &url, &token)),
    )
    .await;
    assert_eq!(response.status(), 200, "{body}");
    assert!(body.as_array().is_some_and(|s| !s.is_empty()));

    // The same at localhost, with a query (not part of htu), and a lower-case scheme name.
    let proof = key.proof("GET", "http://localhost:8091/me?x=1#y", &token);
    let request = request("GET", "/me?x=1", &format!("dpop {token}"), &[&proof]);
    let (response, body) = send(app, request).await;
    assert_eq!(response.status(), 200, "{body}");
    assert_eq!(body["cnf"]["jkt"], key.thumbprint());
}

#[tokio::test]
async fn a_replayed_proof_is_refused() {
    let key = ClientKey::new();
    let token = bound_token(&key, &["Study.Read"]);
    let app = local();
    let proof = key.proof("GET", &format!("{BASE}/studies"), &token);
    assert_accepted(app.clone(), dpop_get("/studies", &token, &proof)).await;
    assert_refused(
        app.clone(),
        dpop_get("/studies", &token, &proof),
        "invalid_dpop_proof",
        "replay",
    )
    .await;
    // A new proof is fine.
    let again = key.proof("GET", &format!("{BASE}/studies"), &token);
    assert_accepted(app, dpop_get("/studies", &token, &again)).await;
}

#[tokio::test]
async fn a_refused_proof_does_not_use_up_its_jti() {
    let key = ClientKey::new();
    let token = bound_token(&key, &["Study.Read"]);
    let app = local();
    let proof = key.proof("GET", &format!("{BASE}/studies"), &token);
    // Sent with an unbound token first: refused before the proof is checked.
    assert_refused(
        app.clone(),
        dpop_get("/studies", &crate::support::token(&["Study.Read"]), &proof),
        "invalid_token",
        "not bound",
    )
    .await;
    assert_accepted(app, dpop_get("/studies", &token, &proof)).await;
}

#[tokio::test]
async fn the_scheme_must_match_the_binding() {
    let key = ClientKey::new();
    let app = local();
    // A bound token as Bearer (e.g. copied out of the app without its key).
    let bound = bound_token(&key, &["Study.Read"]);
    assert_refused(
        app.clone(),
        get("/studies", Some(&bound)),
        "invalid_token",
        "bound to a DPoP key",
    )
    .await;
    // An unbound token as DPoP, even with a good proof.
    let plain = token(&["Study.Read"]);
    let proof = key.proof("GET", &format!("{BASE}/studies"), &plain);
    assert_refused(
        app.clone(),
        dpop_get("/studies", &plain, &proof),
        "invalid_token",
        "not bound",
    )
    .await;
    // A token bound to another key than the proof's.
    let thief = ClientKey::new();
    let proof = thief.proof("GET", &format!("{BASE}/studies"), &bound);
    assert_refused(
        app.clone(),
        dpop_get("/studies", &bound, &proof),
        "invalid_token",
        "another key",
    )
    .await;
    // Unbound tokens as Bearer: as always.
    assert_eq!(
        send(app, get("/studies", Some(&plain))).await.0.status(),
        200
    );
}

#[tokio::test]
async fn a_missing_or_doubled_proof_is_refused() {
    let key = ClientKey::new();
    let token = bound_token(&key, &["Study.Read"]);
    let app = local();
    let auth = format!("DPoP {token}");
    assert_refused(
        app.clone(),
        request("GET", "/studies", &auth, &[]),
        "invalid_dpop_proof",
        "missing",
    )
    .await;
    let a = key.proof("GET", &format!("{BASE}/studies"), &token);
    let b = key.proof("GET", &format!("{BASE}/studies"), &token);
    assert_refused(
        app.clone(),
        request("GET", "/studies", &auth, &[&a, &b]),
        "invalid_dpop_proof",
        "more than one",
    )
    .await;
    assert_refused(
        app.clone(),
        request("GET", "/studies", &format!("DPoP {token} x"), &[&a]),
        "invalid_token",
        "single token",
    )
    .await;
    for junk in ["", "abc", "a.b", "a.b.c", "a.b.c.d"] {
        assert_refused(
            app.clone(),
            dpop_get("/studies", &token, junk),
            "invalid_dpop_proof",
            "proof",
        )
        .await;
    }
}

#[tokio::test]
async fn the_proof_header_is_checked() {
    let key = ClientKey::new();
    let token = bound_token(&key, &["Study.Read"]);
    let app = local();
    let url = format!("{BASE}/studies");
    let cases: Vec<(&str, Change)> = vec![
        ("typ", set("typ", json!("JWT"))),
        ("typ", unset("typ")),
        ("\"none\"", set("alg", json!("none"))),
        ("\"HS256\"", set("alg", json!("HS256"))),
        ("\"RS256\"", set("alg", json!("RS256"))),
        ("no alg", unset("alg")),
        ("no jwk", unset("jwk")),
        (
            "private key",
            Box::new(|h| {
                h["jwk"]["d"] = json!("AAAA");
            }),
        ),
        (
            "P-256",
            Box::new(|h| {
                h["jwk"]["crv"] = json!("P-384");
            }),
        ),
        (
            "P-256",
            Box::new(|h| {
                h.insert("jwk".into(), serde_json::from_str(KEY_A_JWK).unwrap());
            }),
        ),
        (
            "no x",
            Box::new(|h| {
                h["jwk"].as_object_mut().unwrap().remove("x");
            }),
        ),
        (
            "usable",
            Box::new(|h| {
                h["jwk"]["x"] = json!("not base64!");
            }),
        ),
        (
            "signature",
            Box::new(|h| {
                h["jwk"]["x"] = json!("AAAA");
            }),
        ),
    ];
    for (needle, change) in cases {
        let proof = key.proof_with("GET", &url, &token, |h, _| change(h));
        assert_refused(
            app.clone(),
            dpop_get("/studies", &token, &proof),
            "invalid_dpop_proof",
            needle,
        )
        .await;
    }
    // Signed by another key than the one in its header.
    let other = ClientKey::new();
    let forged = other.sign(&key.header(), &json!({
        "htm": "GET", "htu": url, "iat": now(), "jti": uuid_like(), "ath": access_token_hash(&token),
    }));
    assert_refused(
        app.clone(),
        dpop_get("/studies", &token, &forged),
        "invalid_dpop_proof",
        "signature",
    )
    .await;
    // A signature from the right key over something else.
    let good = key.proof("GET", &url, &token);
    let other_claims = key.proof("GET", &format!("{BASE}/library/items"), &token);
    let spliced = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        other_claims.rsplit_once('.').unwrap().1
    );
    assert_refused(
        app,
        dpop_get("/studies", &token, &spliced),
        "invalid_dpop_proof",
        "signature",
    )
    .await;
}

#[tokio::test]
async fn the_proof_claims_are_checked() {
    let key = ClientKey::new();
    let token = bound_token(&key, &["Study.Read"]);
    let app = local();
    let url = format!("{BASE}/studies");
    let now = now();
    let cases: Vec<(&str, Change)> = vec![
        ("htm", set("htm", json!("POST"))),
        ("htm", set("htm", json!("get"))),
        ("htm", unset("htm")),
        ("htu", set("htu", json!("http://127.0.0.1:8092/studies"))),
        ("htu", set("htu", json!("https://127.0.0.1:8091/studies"))),
        ("htu", set("htu", json!("http://evil.example:8091/studies"))),
        ("htu", set("htu", json!(format!("{BASE}/library/items")))),
        ("htu", set("htu", json!("/studies"))),
        ("htu", unset("htu")),
        (
            "iat",
            Box::new(move |c| {
                c.insert("iat".into(), json!(now - 61));
            }),
        ),
        (
            "iat",
            Box::new(move |c| {
                c.insert("iat".into(), json!(now + 61));
            }),
        ),
        ("iat", set("iat", json!("now"))),
        ("iat", unset("iat")),
        ("jti", unset("jti")),
        ("jti", set("jti", json!(""))),
        ("ath", set("ath", json!(access_token_hash("another token")))),
        ("ath", unset("ath")),
    ];
    for (needle, change) in cases {
        let proof = key.proof_with("GET", &url, &token, |_, c| change(c));
        assert_refused(
            app.clone(),
            dpop_get("/studies", &token, &proof),
            "invalid_dpop_proof",
            needle,
        )
        .await;
    }
    // Within the window either way: accepted.
    for iat in [now - 55, now + 55] {
        let proof = key.proof_with("GET", &url, &token, |_, c| {
            c.insert("iat".into(), json!(iat));
        });
        assert_eq!(
            send(app.clone(), dpop_get("/studies", &token, &proof))
                .await
                .0
                .status(),
            200,
            "iat {iat}"
        );
    }
}

#[tokio::test]
async fn htu_follows_the_public_url_and_the_iat_window_is_configurable() {
    let key = ClientKey::new();
    let token = bound_token(&key, &["Study.Read"]);
    let settings = DpopSettings {
        public_urls: vec![
            gatehouse_api::dpop::PublicUrl::parse("https://app.example/api").unwrap(),
        ],
        iat_window: 5,
        nonce: false,
    };
    let (app, _) = dpop_app(settings);
    let proof = key.proof("GET", "https://app.example/api/studies", &token);
    assert_accepted(app.clone(), dpop_get("/studies", &token, &proof)).await;
    let local = key.proof("GET", &format!("{BASE}/studies"), &token);
    assert_refused(
        app.clone(),
        dpop_get("/studies", &token, &local),
        "invalid_dpop_proof",
        "htu",
    )
    .await;
    let old = key.proof_with("GET", "https://app.example/api/studies", &token, |_, c| {
        c.insert("iat".into(), json!(now() - 10));
    });
    assert_refused(
        app,
        dpop_get("/studies", &token, &old),
        "invalid_dpop_proof",
        "5 s",
    )
    .await;
}

#[tokio::test]
async fn with_nonces_on_the_api_demands_its_nonce_and_can_change_it() {
    let key = ClientKey::new();
    let token = bound_token(&key, &["Study.Read"]);
    let settings = DpopSettings {
        nonce: true,
        ..DpopSettings::local(8091)
    };
    let (app, auth) = dpop_app(settings);
    let url = format!("{BASE}/studies");

    let (response, body) = send(
        app.clone(),
        dpop_get("/studies", &token, &key.proof("GET", &url, &token)),
    )
    .await;
    assert_eq!(response.status(), 401, "{body}");
    assert_eq!(body["error"], "use_dpop_nonce");
    let challenge = header_str(&response, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with("DPoP error=\"use_dpop_nonce\""),
        "{challenge}"
    );
    assert!(challenge.ends_with(r#"algs="ES256""#), "{challenge}");
    let nonce = header_str(&response, "dpop-nonce").unwrap().to_owned();

    let with_nonce = |n: &str| {
        let n = n.to_owned();
        key.proof_with("GET", &url, &token, move |_, c| {
            c.insert("nonce".into(), json!(n));
        })
    };
    assert_eq!(
        send(
            app.clone(),
            dpop_get("/studies", &token, &with_nonce(&nonce))
        )
        .await
        .0
        .status(),
        200
    );
    assert_refused(
        app.clone(),
        dpop_get("/studies", &token, &with_nonce("made-up")),
        "use_dpop_nonce",
        "not current",
    )
    .await;

    // A nonce demanded mid-session: the old one stops working, the answer names the new one.
    let Auth::Enabled { validator, .. } = &*auth else {
        panic!("auth is on")
    };
    validator.dpop().rotate_nonce();
    let (response, body) = send(
        app.clone(),
        dpop_get("/studies", &token, &with_nonce(&nonce)),
    )
    .await;
    assert_eq!(body["error"], "use_dpop_nonce", "{body}");
    let fresh = header_str(&response, "dpop-nonce").unwrap().to_owned();
    assert_ne!(fresh, nonce);
    assert_accepted(app, dpop_get("/studies", &token, &with_nonce(&fresh))).await;
}

#[tokio::test]
async fn later_challenges_answer_a_dpop_request_in_the_dpop_scheme() {
    let key = ClientKey::new();
    let app = local();
    // A reader may not create studies: 403 insufficient_scope, as a DPoP challenge.
    let token = bound_token(&key, &["Study.Read"]);
    let proof = key.proof("POST", &format!("{BASE}/studies"), &token);
    let (response, body) = send(
        app.clone(),
        request("POST", "/studies", &format!("DPoP {token}"), &[&proof]),
    )
    .await;
    assert_eq!(response.status(), 403, "{body}");
    let challenge = header_str(&response, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with("DPoP error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.ends_with(r#", algs="ES256""#), "{challenge}");
    // A step-up route's claims challenge too.
    let proof = key.proof("GET", &format!("{BASE}/secure/context"), &token);
    let (response, _) = send(app.clone(), dpop_get("/secure/context", &token, &proof)).await;
    assert_eq!(response.status(), 401);
    let challenge = header_str(&response, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with("DPoP realm=\"\", error=\"insufficient_claims\""),
        "{challenge}"
    );
    // An expired bound token: invalid_token in the DPoP scheme.
    let mut c = claims(&["Study.Read"]);
    c["cnf"] = json!({ "jkt": key.thumbprint() });
    c["exp"] = json!(now() - 3600);
    let expired = sign(&c, KID_A, KEY_A_PEM);
    let proof = key.proof("GET", &format!("{BASE}/studies"), &expired);
    assert_refused(
        app.clone(),
        dpop_get("/studies", &expired, &proof),
        "invalid_token",
        "expired",
    )
    .await;
    // Bearer requests keep their Bearer challenges.
    let plain = crate::support::token(&["Study.Read"]);
    let (response, _) = send(app, post("/studies", Some(&plain), "{}")).await;
    assert_eq!(response.status(), 403);
    assert!(header_str(&response, "www-authenticate")
        .unwrap()
        .starts_with("Bearer error=\"insufficient_scope\""));
}

#[tokio::test]
async fn workspace_routes_take_dpop_too() {
    let key = ClientKey::new();
    let mut c = claims(&["WorkspaceOwner"]);
    c["aud"] = json!(WS_ALPHA);
    c["cnf"] = json!({ "jkt": key.thumbprint() });
    let token = sign(&c, KID_A, KEY_A_PEM);
    let proof = key.proof("GET", &format!("{BASE}/api/workspaces/alpha"), &token);
    assert_accepted(local(), dpop_get("/api/workspaces/alpha", &token, &proof)).await;
}

#[tokio::test]
async fn a_browser_may_send_dpop_and_read_dpop_nonce() {
    let preflight = Request::options("/studies")
        .header("origin", APP_ORIGIN)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization,dpop")
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(local(), preflight).await;
    assert!(response.status().is_success());
    let allowed = header_str(&response, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("dpop"), "{allowed}");

    let request = Request::get("/studies")
        .header("origin", APP_ORIGIN)
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(local(), request).await;
    let exposed = header_str(&response, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("dpop-nonce") && exposed.contains("www-authenticate"),
        "{exposed}"
    );
}
