//! The routes that ask for more than a valid token: Entra's claims challenges and RFC 9470
//! step-up, each answered with 401 and its `WWW-Authenticate` until the token carries it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use crate::support::*;

fn token_with(extra: serde_json::Value) -> String {
    let mut c = claims(&[]);
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    sign(&c, KID_A, KEY_A_PEM)
}

#[tokio::test]
async fn an_authentication_context_is_asked_for_with_entras_claims_challenge() {
    let (response, body) = send(app(), get("/secure/context", Some(&token(&[])))).await;
    assert_eq!(response.status(), 401);
    assert_eq!(body["error"], "insufficient_claims");
    let challenge = header_str(&response, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with(r#"Bearer realm="", error="insufficient_claims""#),
        "{challenge}"
    );
    let encoded = challenge
        .split(r#"claims=""#)
        .nth(1)
        .unwrap()
        .trim_end_matches('"');
    let claims: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(encoded).unwrap()).unwrap();
    assert_eq!(
        claims,
        json!({"access_token": {"acrs": {"essential": true, "value": "c1"}}})
    );

    let granted = token_with(json!({"acrs": ["c1"]}));
    let (response, body) = send(app(), get("/secure/context", Some(&granted))).await;
    assert_eq!(response.status(), 200, "{body}");
    assert_eq!(body["claims"]["acrs"], json!(["c1"]));
}

#[tokio::test]
async fn the_body_of_a_call_that_needed_c2_is_echoed_once_it_is_granted() {
    let (response, _) = send(
        app(),
        post(
            "/secure/context-mfa",
            Some(&token_with(json!({"acrs": ["c1"]}))),
            "{}",
        ),
    )
    .await;
    assert_eq!(response.status(), 401);
    let granted = token_with(json!({"acrs": ["c1", "c2"]}));
    let (response, body) = send(
        app(),
        post(
            "/secure/context-mfa",
            Some(&granted),
            r#"{"typed":"by hand"}"#,
        ),
    )
    .await;
    assert_eq!(response.status(), 200, "{body}");
    assert_eq!(body["received"], json!({"typed": "by hand"}));
}

#[tokio::test]
async fn a_stronger_sign_in_is_asked_for_with_acr_values() {
    let (response, body) = send(app(), get("/secure/mfa", Some(&token(&[])))).await;
    assert_eq!(response.status(), 401);
    assert_eq!(body["error"], "insufficient_user_authentication");
    assert_eq!(
        header_str(&response, "www-authenticate").unwrap(),
        r#"Bearer error="insufficient_user_authentication", error_description="this endpoint requires a sign-in with urn:gatehouse:mfa", acr_values="urn:gatehouse:mfa""#
    );
    let strong = token_with(json!({"acr": "urn:gatehouse:mfa"}));
    let (response, _) = send(app(), get("/secure/mfa", Some(&strong))).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_recent_sign_in_is_asked_for_with_max_age() {
    let old = token_with(json!({"auth_time": now() - 120}));
    let (response, _) = send(app(), get("/secure/recent/60", Some(&old))).await;
    assert_eq!(response.status(), 401);
    assert!(header_str(&response, "www-authenticate")
        .unwrap()
        .ends_with(", max_age=60"));
    let (response, _) = send(app(), get("/secure/recent/60", Some(&token(&[])))).await;
    assert_eq!(response.status(), 401, "no auth_time is not recent");
    let fresh = token_with(json!({"auth_time": now() - 5}));
    let (response, _) = send(app(), get("/secure/recent/60", Some(&fresh))).await;
    assert_eq!(response.status(), 200);
    let (response, _) = send(app(), get("/secure/recent/86401", Some(&fresh))).await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn the_broken_route_asks_for_c1_whatever_the_token_carries() {
    let granted = token_with(json!({"acrs": ["c1"]}));
    let (response, body) = send(app(), get("/secure/broken", Some(&granted))).await;
    assert_eq!(response.status(), 401);
    assert_eq!(body["error"], "insufficient_claims");
}

#[tokio::test]
async fn without_authentication_nothing_is_asked() {
    for path in [
        "/secure/context",
        "/secure/mfa",
        "/secure/recent/1",
        "/secure/broken",
    ] {
        let (response, _) = send(app_without_auth(), get(path, None)).await;
        assert_eq!(response.status(), 200, "{path}");
    }
}
