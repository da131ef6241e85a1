//! Browser-tier tests: the thin browser layer in real headless Chromium (WebCrypto,
//! sessionStorage, history). Run with `cargo test --target wasm32-unknown-unknown --test browser`.
#![cfg(target_arch = "wasm32")]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use leptos_entra_oidc::browser::session_store::SessionStore;
use leptos_entra_oidc::browser::{location, signature};
use leptos_entra_oidc::core::authorize::PendingLogin;
use leptos_entra_oidc::core::jwks::RsaKey;
use leptos_entra_oidc::core::pkce::CodeVerifier;
use leptos_entra_oidc::core::session::Session;
use leptos_entra_oidc::core::token::TokenSet;
use leptos_entra_oidc::OidcConfig;
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
        },
        1_000.0,
    )
}

/// A store under a test prefix: its keys are `test.session` and `test.login.<state>`.
fn store() -> SessionStore {
    SessionStore::new(&OidcConfig {
        storage_prefix: "test".into(),
        ..OidcConfig::new("https://idp/x", "ui")
    })
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
        .replace("\"version\":1", "\"version\":0");
    storage().set_item(SESSION_KEY, &old).unwrap();
    assert_eq!(store().load_session(), None);
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
