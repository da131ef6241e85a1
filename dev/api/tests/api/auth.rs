//! 401s: every way a request can fail authentication, and what is accepted.

use axum::body::Body;
use axum::http::{header, Request};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn health_needs_no_token() {
    let (response, body) = send(app(), get("/health", None)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn missing_header_is_401_with_bare_bearer_challenge() {
    let (response, body) = send(app(), get("/studies", None)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(header_str(&response, "www-authenticate"), Some("Bearer"));
    assert_eq!(body["error"], "unauthorized");
    assert!(body["detail"].as_str().unwrap().contains("Authorization"));
}

#[tokio::test]
async fn malformed_headers_are_401() {
    let valid = token(&["Study.Read"]);
    for value in [
        format!("Basic {valid}"),
        valid.clone(),
        "Bearer".to_owned(),
        "Bearer    ".to_owned(),
        format!("Bearer {valid} extra"),
    ] {
        let request = Request::get("/studies")
            .header(header::AUTHORIZATION, value.clone())
            .body(Body::empty())
            .unwrap();
        let (response, body) = send(app(), request).await;
        assert_eq!(response.status(), 401, "{value}");
        let challenge = header_str(&response, "www-authenticate").unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(
            body["error"].is_string() && body["detail"].is_string(),
            "{body}"
        );
    }
    // Two Authorization headers are ambiguous.
    let request = Request::get("/studies")
        .header(header::AUTHORIZATION, format!("Bearer {valid}"))
        .header(header::AUTHORIZATION, format!("Bearer {valid}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(app(), request).await.0.status(), 401);
}

#[tokio::test]
async fn lowercase_bearer_scheme_is_accepted() {
    let request = Request::get("/studies")
        .header(
            header::AUTHORIZATION,
            format!("bearer {}", token(&["Study.Read"])),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(app(), request).await.0.status(), 200);
}

#[tokio::test]
async fn garbage_tokens_are_invalid() {
    assert_invalid_token(app(), "not-a-jwt", "not a JWT").await;
    assert_invalid_token(app(), "a.b.c", "header").await;
    let header = json!({"alg": "RS256", "kid": KID_A}).to_string();
    let garbage_payload = format!(
        "{}.!!!.sig",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
    );
    assert_invalid_token(app(), &garbage_payload, "not a JWT").await;
}

#[tokio::test]
async fn wrong_signature_is_invalid() {
    // Signed with key B but claiming to be key A.
    let forged = sign(&claims(&["Study.Read"]), KID_A, KEY_B_PEM);
    assert_invalid_token(app(), &forged, "signature").await;
    // A valid token with its payload swapped keeps a now-wrong signature.
    let good = token(&["Study.Read"]);
    let other = token(&["Study.Write"]);
    let parts: Vec<&str> = good.split('.').collect();
    let other_payload = other.split('.').nth(1).unwrap();
    let spliced = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
    assert_invalid_token(app(), &spliced, "signature").await;
}

#[tokio::test]
async fn expired_token_is_invalid() {
    let mut c = claims(&["Study.Read"]);
    c["exp"] = json!(now() - 600);
    c["nbf"] = json!(now() - 4000);
    assert_invalid_token(app(), &sign(&c, KID_A, KEY_A_PEM), "expired").await;
}

#[tokio::test]
async fn expiry_within_leeway_is_accepted() {
    let mut c = claims(&["Study.Read"]);
    c["exp"] = json!(now() - 5);
    let (response, _) = send(app(), get("/studies", Some(&sign(&c, KID_A, KEY_A_PEM)))).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn future_nbf_is_invalid() {
    let mut c = claims(&["Study.Read"]);
    c["nbf"] = json!(now() + 600);
    assert_invalid_token(app(), &sign(&c, KID_A, KEY_A_PEM), "nbf").await;
}

#[tokio::test]
async fn missing_exp_is_invalid() {
    let mut c = claims(&["Study.Read"]);
    c.as_object_mut().unwrap().remove("exp");
    assert_invalid_token(app(), &sign(&c, KID_A, KEY_A_PEM), "exp").await;
}

#[tokio::test]
async fn wrong_issuer_is_invalid() {
    let mut c = claims(&["Study.Read"]);
    c["iss"] = json!("http://127.0.0.1:9/other-tenant/v2.0");
    assert_invalid_token(app(), &sign(&c, KID_A, KEY_A_PEM), "issuer").await;
    c.as_object_mut().unwrap().remove("iss");
    assert_invalid_token(app(), &sign(&c, KID_A, KEY_A_PEM), "iss").await;
}

#[tokio::test]
async fn wrong_audience_is_invalid() {
    for aud in [
        json!("00000003-0000-0000-c000-000000000000"),
        json!(format!("{APP_ID}-x")),
        json!(format!("api://other/{APP_ID}")),
        json!([]),
    ] {
        let mut c = claims(&["Study.Read"]);
        c["aud"] = aud;
        assert_invalid_token(app(), &sign(&c, KID_A, KEY_A_PEM), "aud").await;
    }
}

#[tokio::test]
async fn app_id_uri_audience_and_audience_arrays_are_accepted() {
    for aud in [
        json!(format!("api://{APP_ID}")),
        json!(["someone-else", APP_ID]),
    ] {
        let mut c = claims(&["Study.Read"]);
        c["aud"] = aud.clone();
        let (response, body) =
            send(app(), get("/studies", Some(&sign(&c, KID_A, KEY_A_PEM)))).await;
        assert_eq!(response.status(), 200, "{aud}: {body}");
    }
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let c = claims(&["Study.Read", "Study.Write"]);
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": KID_A});
        assert_invalid_token(app(), &unsigned(&header, &c, ""), "only RS256").await;
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_rejected() {
    // Classic key-confusion attack: HMAC keyed with the (public) RSA key material.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID_A.to_owned());
    let c = claims(&["Study.Read", "Study.Write"]);
    for secret in [
        KEY_A_JWK.as_bytes(),
        jwk(KEY_A_JWK).n.as_deref().unwrap().as_bytes(),
    ] {
        let forged = jsonwebtoken::encode(&header, &c, &EncodingKey::from_secret(secret)).unwrap();
        assert_invalid_token(app(), &forged, "only RS256").await;
    }
}

#[tokio::test]
async fn other_rsa_algorithms_are_rejected() {
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some(KID_A.to_owned());
    let forged =
        jsonwebtoken::encode(&header, &claims(&["Study.Read"]), &encoding_key(KEY_A_PEM)).unwrap();
    assert_invalid_token(app(), &forged, "only RS256").await;
}

#[tokio::test]
async fn token_without_kid_is_invalid() {
    let header = Header::new(Algorithm::RS256);
    let t =
        jsonwebtoken::encode(&header, &claims(&["Study.Read"]), &encoding_key(KEY_A_PEM)).unwrap();
    assert_invalid_token(app(), &t, "kid").await;
}

#[tokio::test]
async fn malformed_roles_claim_is_invalid() {
    for roles in [json!(42), json!([1, 2]), json!({"Study.Read": true})] {
        let mut c = claims(&[]);
        c["roles"] = roles;
        assert_invalid_token(app(), &sign(&c, KID_A, KEY_A_PEM), "claims").await;
    }
}

#[tokio::test]
async fn a_roles_claim_joined_with_commas_grants_its_roles() {
    // Glewlwyd's form: one string, the roles joined with commas.
    let mut c = claims(&[]);
    c["roles"] = json!("Library.Read,Study.Read");
    let (response, body) = send(app(), get("/studies", Some(&sign(&c, KID_A, KEY_A_PEM)))).await;
    assert_eq!(response.status(), 200, "{body}");
}

#[tokio::test]
async fn me_returns_the_validated_claims() {
    let t = token(&["Study.Read", "Library.Read"]);
    let (response, body) = send(app(), get("/me", Some(&t))).await;
    assert_eq!(response.status(), 200, "{body}");
    let expected = claims(&["Study.Read", "Library.Read"]);
    for field in [
        "name",
        "preferred_username",
        "oid",
        "tid",
        "roles",
        "scp",
        "aud",
        "iss",
        "exp",
    ] {
        assert_eq!(body[field], expected[field], "{field}");
    }
}

#[tokio::test]
async fn me_works_without_roles_and_reports_empty_roles() {
    let mut c = claims(&[]);
    c.as_object_mut().unwrap().remove("roles");
    let (response, body) = send(app(), get("/me", Some(&sign(&c, KID_A, KEY_A_PEM)))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body["roles"], json!([]));
}

#[tokio::test]
async fn me_requires_a_token() {
    assert_eq!(send(app(), get("/me", None)).await.0.status(), 401);
}

#[tokio::test]
async fn oauth_disabled_makes_an_anonymous_superuser() {
    let (response, body) = send(app_without_auth(), get("/me", None)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body["anonymous"], true);
    assert_eq!(body["roles"].as_array().unwrap().len(), 4);

    let request = Request::post("/studies")
        .header("x-test-user-id", "tester")
        .body(Body::from(r#"{"study_number":"777","acronym":"ANON"}"#))
        .unwrap();
    let (response, body) = send(app_without_auth(), request).await;
    assert_eq!(response.status(), 201, "{body}");
    assert_eq!(body["created_by"], "tester");
}
