//! Browser-tier tests: the thin browser layer in real headless Chromium (WebCrypto,
//! sessionStorage, history). Run with
//! `cargo test -p leptos-oidc-spa --target wasm32-unknown-unknown --lib`.

use super::session_store::{Document, SessionStore};
use super::{location, seal, signature, tab_sync};
use crate::core::authorize::PendingLogin;
use crate::core::config::OidcConfig;
use crate::core::jwks::RsaKey;
use crate::core::pkce::CodeVerifier;
use crate::core::provider_cache::CachedDocument;
use crate::core::session::{HandoverKey, Session};
use crate::core::tab_sync::{fingerprint, Envelope, TabMessage};
use crate::core::token::TokenSet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::rc::Rc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// RFC 7515 appendix A.2: the RS256 example key (modulus and exponent), signing input and
/// signature.
const RFC7515_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const RFC7515_SIGNING_INPUT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const RFC7515_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

fn rfc_key() -> RsaKey {
    RsaKey {
        kid: None,
        n: RFC7515_N.into(),
        e: "AQAB".into(),
    }
}

fn rfc_signature() -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(RFC7515_SIGNATURE).unwrap()
}

#[wasm_bindgen_test]
async fn webcrypto_verifies_the_rfc7515_rs256_example() {
    let ok = signature::verify(
        &rfc_key(),
        "SHA-256",
        RFC7515_SIGNING_INPUT.as_bytes(),
        &rfc_signature(),
    )
    .await;
    assert_eq!(ok, Ok(true));
}

#[wasm_bindgen_test]
async fn webcrypto_rejects_a_tampered_payload_signature_or_hash() {
    let tampered = RFC7515_SIGNING_INPUT.replace("eyJpc3MiOiJqb2Ui", "eyJpc3MiOiJtYWxsb3J5Ii");
    assert_eq!(
        signature::verify(&rfc_key(), "SHA-256", tampered.as_bytes(), &rfc_signature()).await,
        Ok(false)
    );
    let mut sig = rfc_signature();
    sig[10] ^= 1;
    assert_eq!(
        signature::verify(
            &rfc_key(),
            "SHA-256",
            RFC7515_SIGNING_INPUT.as_bytes(),
            &sig
        )
        .await,
        Ok(false)
    );
    assert_eq!(
        signature::verify(
            &rfc_key(),
            "SHA-384",
            RFC7515_SIGNING_INPUT.as_bytes(),
            &rfc_signature()
        )
        .await,
        Ok(false)
    );
}

#[wasm_bindgen_test]
async fn webcrypto_refuses_a_key_that_is_not_rsa() {
    let broken = RsaKey {
        kid: None,
        n: "not-a-modulus".into(),
        e: "AQAB".into(),
    };
    assert!(signature::verify(&broken, "SHA-256", b"x", &[1, 2, 3])
        .await
        .is_err());
}

fn session() -> Session {
    Session::from_tokens(
        TokenSet {
            access_token: "a.b.c".into(),
            expires_in_s: 60.0,
            refresh_token: Some("r".into()),
            id_token: None,
            scope: None,
            refresh_expires_in_s: None,
            dpop_bound: false,
        },
        &[4; 32],
        1_000.0,
    )
}

/// A store under a test prefix: its keys are `test.session` and `test.login.<state>`.
fn store() -> SessionStore {
    SessionStore::new(&OidcConfig::new("https://idp/x", "ui").with_storage_prefix("test"))
}

const SESSION_KEY: &str = "test.session";

fn storage() -> web_sys::Storage {
    web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
}

#[wasm_bindgen_test]
fn the_session_round_trips_through_session_storage_only() {
    store().clear_session();
    assert_eq!(store().load_session(), None);
    store().save_session(&session()).unwrap();
    assert_eq!(store().load_session(), Some(session()));
    let local = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert_eq!(local.length().unwrap(), 0, "nothing in localStorage");
    store().clear_session();
    assert_eq!(storage().get_item(SESSION_KEY).unwrap(), None);
}

#[wasm_bindgen_test]
fn a_corrupt_or_outdated_record_is_discarded() {
    storage().set_item(SESSION_KEY, "{not json").unwrap();
    assert_eq!(store().load_session(), None);
    assert_eq!(
        storage().get_item(SESSION_KEY).unwrap(),
        None,
        "the corrupt record was removed"
    );
    let old = session()
        .to_json()
        .replace("\"version\":2", "\"version\":1");
    storage().set_item(SESSION_KEY, &old).unwrap();
    assert_eq!(store().load_session(), None);
}

#[wasm_bindgen_test]
fn provider_documents_are_kept_per_kind_and_forgotten_one_by_one() {
    let discovery = CachedDocument::new("https://idp/x", r#"{"issuer":"i"}"#.into(), 5_000.0);
    let jwks = CachedDocument::new("https://idp/keys", r#"{"keys":[]}"#.into(), 6_000.0);
    store().save_document(Document::Discovery, &discovery);
    store().save_document(Document::Jwks, &jwks);
    assert_eq!(store().load_document(Document::Discovery), Some(discovery));
    assert_eq!(store().load_document(Document::Jwks), Some(jwks.clone()));
    assert!(storage().get_item("test.provider.jwks").unwrap().is_some());
    store().forget_document(Document::Discovery);
    assert_eq!(store().load_document(Document::Discovery), None);
    assert_eq!(store().load_document(Document::Jwks), Some(jwks));
    storage().set_item("test.provider.jwks", "{junk").unwrap();
    assert_eq!(
        store().load_document(Document::Jwks),
        None,
        "junk is no copy"
    );
    store().forget_document(Document::Jwks);
}

#[wasm_bindgen_test]
fn a_login_state_can_be_taken_once() {
    let login = PendingLogin {
        state: "state-1".into(),
        nonce: "n".into(),
        verifier: CodeVerifier::from_random_bytes(&[3; 32]),
        redirect_uri: "http://x/cb".into(),
        return_to: "/".into(),
        created_at_ms: 0.0,
        resource: None,
        answers: None,
        silent: false,
        login_hint: None,
        dpop: None,
    };
    store().save_pending_login(&login).unwrap();
    assert_eq!(
        store().take_pending_login("state-1").map(|l| l.nonce),
        Some("n".into())
    );
    assert!(
        store().take_pending_login("state-1").is_none(),
        "single use"
    );
    store().save_pending_login(&login).unwrap();
    store().clear_pending_logins(|_| false);
    assert!(store().take_pending_login("state-1").is_none());
}

#[wasm_bindgen_test]
fn replace_with_removes_a_fragment_from_the_address_bar() {
    let history = web_sys::window().unwrap().history().unwrap();
    let path = location::current().path;
    history
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}#code=secret&state=s")),
        )
        .unwrap();
    assert_eq!(location::current().fragment, "code=secret&state=s");
    location::replace_with(&path);
    assert_eq!(location::current().fragment, "");
}

#[wasm_bindgen_test]
async fn aes_gcm_opens_only_with_the_same_key_and_additional_data() {
    let key = [7u8; 32];
    let (iv, sealed) = seal::seal(&key, "to-me", "the refresh token")
        .await
        .unwrap();
    assert_eq!(iv.len(), 12);
    assert!(!String::from_utf8_lossy(&sealed).contains("refresh"));
    assert_eq!(
        seal::open(&key, "to-me", &iv, &sealed).await.unwrap(),
        "the refresh token"
    );
    assert!(seal::open(&[8; 32], "to-me", &iv, &sealed).await.is_err());
    assert!(seal::open(&key, "to-you", &iv, &sealed).await.is_err());
    let mut tampered = sealed.clone();
    tampered[0] ^= 1;
    assert!(seal::open(&key, "to-me", &iv, &tampered).await.is_err());
    let (iv2, _) = seal::seal(&key, "to-me", "the refresh token")
        .await
        .unwrap();
    assert_ne!(iv, iv2, "a fresh nonce every time");
}

#[wasm_bindgen_test]
async fn a_hand_over_opens_in_a_twin_and_nowhere_else() {
    let mine = session();
    let mut renewed = session();
    // Long enough that random base64 cannot contain it by chance ("r2" did, once in ~7 runs).
    renewed.refresh_token = Some("second-refresh-token".into());
    let message = TabMessage::Refreshed {
        previous: fingerprint(&mine),
        session: renewed.clone(),
    };
    let key = mine.handover_key.bytes().unwrap();
    let (iv, sealed) = seal::seal(&key, message.previous(), &message.to_json())
        .await
        .unwrap();
    let text = Envelope::new(&message, &iv, &sealed).to_json();
    let secrets = ["second-refresh-token", "a.b.c"];
    assert!(!secrets.iter().any(|s| text.contains(s)), "{text}");
    assert_eq!(tab_sync::open(&text, &mine).await, Some(message.clone()));

    // The same session under another key (another sign-in), or another session: nothing.
    let mut stranger = session();
    stranger.handover_key = HandoverKey::new(&[5; 32]);
    assert_eq!(tab_sync::open(&text, &stranger).await, None);
    assert_eq!(tab_sync::open(&text, &renewed).await, None);
    // A message in clear is not an envelope.
    assert_eq!(tab_sync::open(&message.to_json(), &mine).await, None);
}

/// Waits `ms` milliseconds in the browser.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The provider in a real page, shown and hidden by a `<Show>` as an app that mounts it
/// conditionally would: its children get the handle, it settles on "signed out" when nothing is
/// stored (the unreachable provider is not needed for that), and when it is hidden, nothing it
/// started (the refresh timer, the page's wake-up listeners, the twin-tab channel, its tasks)
/// keeps its driver alive; shown again, it starts afresh.
#[wasm_bindgen_test]
async fn the_provider_mounts_conditionally_and_unmounting_releases_what_it_started() {
    use crate::core::machine::Phase;
    use crate::handle::{use_auth, AuthProvider};
    use leptos::prelude::*;
    use std::sync::{Arc, Mutex};
    use wasm_bindgen::JsCast;

    let config = OidcConfig::new("http://127.0.0.1:9/.well-known/openid-configuration", "ui")
        .with_storage_prefix("mount-test");
    let seen = Arc::new(Mutex::new(None));
    let shown = RwSignal::new(false);
    let parent: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&parent).unwrap();
    let into = seen.clone();
    let _mounted = leptos::mount::mount_to(parent.clone(), move || {
        let provider = move || {
            let into = into.clone();
            let probe = move || {
                let auth = use_auth();
                *into.lock().unwrap() = Some(auth);
                view! { <p>{move || format!("{:?}", auth.phase.get())}</p> }
            };
            view! { <AuthProvider config=config.clone()>{probe()}</AuthProvider> }
        };
        view! {
            <leptos_router::components::Router>
                <Show when=move || shown.get()>{provider.clone()}</Show>
            </leptos_router::components::Router>
        }
    });
    for round in 0..2 {
        shown.set(true);
        leptos::task::tick().await;
        let auth = seen
            .lock()
            .unwrap()
            .take()
            .expect("the child got the handle");
        let driver = Rc::downgrade(&auth.driver().expect("sign-in is on"));
        for _ in 0..50 {
            if auth.phase.get_untracked() == Phase::SignedOut {
                break;
            }
            sleep(20).await;
        }
        assert_eq!(
            auth.phase.get_untracked(),
            Phase::SignedOut,
            "round {round}"
        );
        assert_eq!(parent.inner_text(), "SignedOut");
        // Let the prefetch of the unreachable provider fail, then hide the provider.
        sleep(200).await;
        shown.set(false);
        leptos::task::tick().await;
        sleep(50).await;
        for event in ["focus", "online", "visibilitychange"] {
            let event = web_sys::Event::new(event).unwrap();
            web_sys::window().unwrap().dispatch_event(&event).unwrap();
        }
        assert_eq!(parent.inner_text(), "", "round {round}: hidden");
        assert_eq!(
            driver.strong_count(),
            0,
            "round {round}: the driver is still held after the provider unmounted"
        );
    }
    parent.remove();
}

/// A header the browser refuses (a name with a space, a value with a line break) is an error
/// before anything is sent, not a thrown exception that would stop the page's task.
#[wasm_bindgen_test]
async fn a_header_the_browser_refuses_is_an_error_and_nothing_is_sent() {
    use crate::exchange::{HttpError, HttpRequest};
    for (name, value) in [("X Bad", "1"), ("X-Ok", "a\r\nInjected: yes")] {
        let mut request = HttpRequest::get_json("http://127.0.0.1:9/nowhere");
        request.headers.set(name, value);
        match super::http::fetch(request).await {
            Err(HttpError::Refused(why)) => assert!(why.contains("header"), "{why}"),
            other => panic!("{name:?}: {other:?}"),
        }
    }
}

/// A body is read only up to the request's limit, and the response says when there was more;
/// without a limit it is read whole. (A blob: URL stands in for a server: fetch reads it as a
/// stream in chunks like any answer.)
#[wasm_bindgen_test]
async fn a_body_is_read_up_to_its_limit_and_says_when_there_was_more() {
    use crate::exchange::HttpRequest;
    let bytes = vec![b'7'; 300_000];
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    let url = web_sys::Url::create_object_url_with_blob(&blob).unwrap();
    for (limit, length, truncated) in [
        (Some(100_000), 100_000, true),
        (Some(300_000), 300_000, false),
        (Some(1_000_000), 300_000, false),
        (None, 300_000, false),
    ] {
        let mut request = HttpRequest::get_json(&url);
        request.max_body = limit;
        let response = super::http::fetch(request).await.unwrap();
        assert_eq!(response.body.len(), length, "{limit:?}");
        assert_eq!(response.truncated, truncated, "{limit:?}");
        assert!(response.body.iter().all(|b| *b == b'7'));
    }
    web_sys::Url::revoke_object_url(&url).unwrap();
}

#[wasm_bindgen_test]
fn what_a_sign_in_gave_an_api_is_taken_once() {
    use crate::core::api_call::Target;
    use crate::core::challenge::StepUp;
    let mfa = StepUp::UserAuthentication {
        acr_values: Some("urn:gatehouse:mfa".into()),
        max_age: Some(60),
    };
    store().save_answered_step_up(Some("alpha"), &mfa.key());
    assert_eq!(
        store().take_answered_step_up(),
        Some((Target::Resource("alpha".into()), mfa.key()))
    );
    store().save_answered_step_up(None, &mfa.key());
    assert_eq!(
        store().take_answered_step_up(),
        Some((Target::Session, mfa.key()))
    );
    assert_eq!(store().take_answered_step_up(), None);
}

#[wasm_bindgen_test]
fn a_sign_out_return_is_recognised_once_and_only_with_its_state() {
    use crate::core::logout::PendingSignOut;
    let pending = PendingSignOut {
        state: "s-1".into(),
        created_at_ms: 1_000_000.0,
    };
    store().save_pending_sign_out(&pending).unwrap();
    assert!(!store().sign_out_returned("state=other", 1_000_100.0));
    assert!(store().sign_out_returned("state=s-1", 1_000_100.0));
    assert!(
        !store().sign_out_returned("state=s-1", 1_000_100.0),
        "consumed"
    );
}

/// Verifies an ES256 signature with the public JWK, as a server would.
async fn es256_verifies(
    public: &crate::core::dpop::PublicJwk,
    data: &[u8],
    signature: &[u8],
) -> bool {
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    let set = |o: &Object, k: &str, v: &str| {
        Reflect::set(o, &k.into(), &JsValue::from_str(v)).unwrap();
    };
    let jwk = Object::new();
    for (k, v) in [
        ("kty", "EC"),
        ("crv", "P-256"),
        ("x", public.x.as_str()),
        ("y", public.y.as_str()),
    ] {
        set(&jwk, k, v);
    }
    let import = Object::new();
    set(&import, "name", "ECDSA");
    set(&import, "namedCurve", "P-256");
    let subtle = web_sys::window().unwrap().crypto().unwrap().subtle();
    let usages = Array::of1(&"verify".into());
    let promise = subtle
        .import_key_with_object("jwk", &jwk, &import, true, &usages)
        .unwrap();
    let key: web_sys::CryptoKey = JsFuture::from(promise).await.unwrap().unchecked_into();
    let params = Object::new();
    set(&params, "name", "ECDSA");
    set(&params, "hash", "SHA-256");
    let promise = subtle
        .verify_with_object_and_u8_array_and_u8_slice(
            &params,
            &key,
            &js_sys::Uint8Array::from(signature),
            data,
        )
        .unwrap();
    JsFuture::from(promise).await.unwrap().as_bool() == Some(true)
}

#[wasm_bindgen_test]
async fn a_dpop_key_is_non_extractable_kept_across_pages_and_signs_verifiable_proofs() {
    use super::dpop_key;
    let (private, public) = dpop_key::generate().await.unwrap();
    assert!(
        !private.extractable(),
        "the private half cannot be read out"
    );
    let subtle = web_sys::window().unwrap().crypto().unwrap().subtle();
    let export =
        wasm_bindgen_futures::JsFuture::from(subtle.export_key("jwk", &private).unwrap()).await;
    assert!(export.is_err(), "exportKey refuses it");
    assert_eq!(public.x.len(), 43, "a P-256 coordinate, base64url");

    // Kept in IndexedDB: what a reload or a duplicated tab reads back is the same key.
    let database = "gatehouse-test.dpop";
    dpop_key::save(database, "k1", &private).await.unwrap();
    let read = dpop_key::load(database, "k1").await.unwrap().expect("kept");
    assert!(!read.extractable());
    let signature = dpop_key::sign(&read, b"header.claims").await.unwrap();
    assert_eq!(signature.len(), 64, "r || s, as JWS ES256 wants");
    assert!(es256_verifies(&public, b"header.claims", &signature).await);
    assert!(!es256_verifies(&public, b"header.claimz", &signature).await);

    dpop_key::delete(database, "k1").await.unwrap();
    assert!(
        dpop_key::load(database, "k1").await.unwrap().is_none(),
        "deleted"
    );
    assert!(dpop_key::load(database, "never-made")
        .await
        .unwrap()
        .is_none());
}
