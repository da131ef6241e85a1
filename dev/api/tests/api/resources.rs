//! Role checks (403) and the study / library resources (200, 201, 404, 409, 422).

use serde_json::json;

use crate::support::*;

async fn assert_forbidden(
    app: axum::Router,
    request: axum::http::Request<axum::body::Body>,
    role: &str,
) {
    let (response, body) = send(app, request).await;
    assert_eq!(response.status(), 403, "{body}");
    assert_eq!(
        body,
        json!({
            "error": "forbidden",
            "detail": format!("requires role {role}"),
            "required_roles": [role],
        })
    );
    let challenge = header_str(&response, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\""),
        "{challenge}"
    );
}

const NEW_STUDY: &str = r#"{"study_number":"4242","acronym":"GH-42","title":"A new study"}"#;

#[tokio::test]
async fn reader_cannot_post_a_study() {
    let t = token(&["Study.Read", "Library.Read"]);
    assert_forbidden(app(), post("/studies", Some(&t), NEW_STUDY), "Study.Write").await;
}

#[tokio::test]
async fn forbidden_comes_before_body_validation() {
    let t = token(&["Study.Read"]);
    assert_forbidden(app(), post("/studies", Some(&t), "not json"), "Study.Write").await;
}

#[tokio::test]
async fn user_without_roles_cannot_list_studies() {
    assert_forbidden(app(), get("/studies", Some(&token(&[]))), "Study.Read").await;
    assert_forbidden(
        app(),
        get("/studies/Study_000001", Some(&token(&[]))),
        "Study.Read",
    )
    .await;
}

#[tokio::test]
async fn roles_are_per_resource() {
    let study_writer = token(&["Study.Write"]);
    assert_forbidden(
        app(),
        get("/library/items", Some(&study_writer)),
        "Library.Read",
    )
    .await;
    let library_writer = token(&["Library.Write"]);
    assert_forbidden(app(), get("/studies", Some(&library_writer)), "Study.Read").await;
    let library_reader = token(&["Library.Read"]);
    assert_forbidden(
        app(),
        post(
            "/library/items",
            Some(&library_reader),
            r#"{"name":"X","library":"Sponsor"}"#,
        ),
        "Library.Write",
    )
    .await;
}

#[tokio::test]
async fn reader_lists_and_gets_studies() {
    let t = token(&["Study.Read"]);
    let (response, body) = send(app(), get("/studies", Some(&t))).await;
    assert_eq!(response.status(), 200);
    let studies = body.as_array().unwrap();
    assert!(studies.len() >= 3);
    for field in ["uid", "study_number", "acronym", "title", "created_by"] {
        assert!(studies[0][field].is_string(), "{field}");
    }
    let (response, body) = send(app(), get("/studies/Study_000001", Some(&t))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body["uid"], "Study_000001");
}

#[tokio::test]
async fn study_write_alone_can_read_studies() {
    let t = token(&["Study.Write"]);
    assert_eq!(send(app(), get("/studies", Some(&t))).await.0.status(), 200);
    assert_eq!(
        send(app(), get("/studies/Study_000002", Some(&t)))
            .await
            .0
            .status(),
        200
    );
}

#[tokio::test]
async fn writer_creates_a_study_and_reads_it_back() {
    let app = app();
    let t = token(&["Study.Write"]);
    let (response, created) = send(app.clone(), post("/studies", Some(&t), NEW_STUDY)).await;
    assert_eq!(response.status(), 201, "{created}");
    assert_eq!(created["study_number"], "4242");
    assert_eq!(created["acronym"], "GH-42");
    assert_eq!(created["created_by"], "ada@example.test");
    let uid = created["uid"].as_str().unwrap();

    let (response, body) = send(app.clone(), get(&format!("/studies/{uid}"), Some(&t))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body, created);
    let (_, list) = send(app.clone(), get("/studies", Some(&t))).await;
    assert!(list.as_array().unwrap().contains(&created));

    // Same study number again: conflict.
    let (response, body) = send(app, post("/studies", Some(&t), NEW_STUDY)).await;
    assert_eq!(response.status(), 409, "{body}");
}

#[tokio::test]
async fn bad_study_bodies_are_422_with_a_message() {
    let t = token(&["Study.Write"]);
    for body in [
        "",
        "not json",
        "[]",
        r#"{"acronym":"X"}"#,
        r#"{"study_number":"12a","acronym":"X"}"#,
        r#"{"study_number":"12","acronym":"  "}"#,
        r#"{"study_number":12,"acronym":"X"}"#,
        r#"{"study_number":"12","acronym":"X","created_by":"mallory"}"#,
    ] {
        let (response, json) = send(app(), post("/studies", Some(&t), body)).await;
        assert_eq!(response.status(), 422, "{body}: {json}");
        assert_eq!(json["error"], "unprocessable_entity");
        assert!(!json["detail"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn unknown_study_is_404() {
    let t = token(&["Study.Read"]);
    let (response, body) = send(app(), get("/studies/Study_999999", Some(&t))).await;
    assert_eq!(response.status(), 404);
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn library_items_read_and_write() {
    let app = app();
    let reader = token(&["Library.Read"]);
    let (response, body) = send(app.clone(), get("/library/items", Some(&reader))).await;
    assert_eq!(response.status(), 200);
    let first = &body.as_array().unwrap()[0];
    for field in ["uid", "name", "library", "status"] {
        assert!(first[field].is_string(), "{field}");
    }

    let writer = token(&["Library.Write"]);
    let (response, created) = send(
        app.clone(),
        post(
            "/library/items",
            Some(&writer),
            r#"{"name":"Heart Rate","library":"Sponsor"}"#,
        ),
    )
    .await;
    assert_eq!(response.status(), 201, "{created}");
    assert_eq!(created["status"], "Draft");
    let uid = created["uid"].as_str().unwrap();
    let (response, body) = send(
        app.clone(),
        get(&format!("/library/items/{uid}"), Some(&writer)),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(body, created);

    let (response, _) = send(
        app.clone(),
        get("/library/items/LibraryItem_999999", Some(&reader)),
    )
    .await;
    assert_eq!(response.status(), 404);
    let (response, _) = send(
        app,
        post(
            "/library/items",
            Some(&writer),
            r#"{"name":"X","library":"Sponsor","status":"Bogus"}"#,
        ),
    )
    .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn rbac_disabled_lets_any_valid_token_through() {
    let t = token(&[]);
    assert_eq!(
        send(app_without_rbac(), get("/studies", Some(&t)))
            .await
            .0
            .status(),
        200
    );
    let (response, _) = send(app_without_rbac(), post("/studies", Some(&t), NEW_STUDY)).await;
    assert_eq!(response.status(), 201);
    // ... but a token is still required.
    assert_eq!(
        send(app_without_rbac(), get("/studies", None))
            .await
            .0
            .status(),
        401
    );
}

#[tokio::test]
async fn unknown_route_is_json_404() {
    let (response, body) = send(app(), get("/nope", None)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(body["error"], "not_found");
}
