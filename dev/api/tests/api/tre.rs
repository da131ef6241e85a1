//! The Azure TRE-like routes: the workspace list on this API's own token, and
//! each workspace's routes on a token for that workspace's app registration.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;

use crate::support::*;

/// Asserts a 401 for a token of the wrong audience, whose description names `needle`.
async fn assert_wrong_audience(path: &str, token: &str, needle: &str) {
    let challenge = assert_invalid_token_at(app(), path, token, needle).await;
    assert!(
        challenge.starts_with(
            "Bearer error=\"invalid_token\", error_description=\"token audience is not "
        ),
        "{challenge}"
    );
}

async fn assert_forbidden(path: &str, token: &str, roles: &[&str]) {
    let (response, body) = send(app(), get(path, Some(token))).await;
    assert_eq!(response.status(), 403, "{path}: {body}");
    assert_eq!(body["error"], "forbidden");
    assert_eq!(body["required_roles"], json!(roles));
    let detail = body["detail"].as_str().unwrap();
    let challenge = header_str(&response, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains(detail), "{challenge}");
}

#[tokio::test]
async fn tre_members_list_the_workspaces_with_their_app_registrations() {
    for role in ["TREUser", "TREAdmin"] {
        let (response, body) = send(app(), get("/api/workspaces", Some(&token(&[role])))).await;
        assert_eq!(response.status(), 200, "{role}: {body}");
        let list = body["workspaces"].as_array().unwrap();
        let ids: Vec<_> = list.iter().map(|w| w["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["alpha", "beta"]);
        assert_eq!(list[0]["properties"]["client_id"], WS_ALPHA);
        assert_eq!(
            list[0]["properties"]["scope_id"],
            format!("api://{WS_ALPHA}")
        );
        assert_eq!(list[1]["properties"]["client_id"], WS_BETA);
        assert_eq!(list[0]["resourceType"], "workspace");
    }
}

#[tokio::test]
async fn the_workspace_list_needs_a_tre_role_on_this_api() {
    assert_forbidden("/api/workspaces", &token(&[]), &["TREUser", "TREAdmin"]).await;
    let (_, body) = send(app(), get("/api/workspaces", Some(&token(&["Study.Read"])))).await;
    assert_eq!(
        body["detail"],
        "requires one of the roles TREUser, TREAdmin"
    );
    // A workspace token is not a token for the TRE API.
    let ws = token_for(WS_ALPHA, &["WorkspaceOwner"]);
    assert_wrong_audience("/api/workspaces", &ws, "this API").await;
    let (response, body) = send(app(), get("/api/workspaces", None)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(body["error"], "unauthorized");
}

#[tokio::test]
async fn workspace_templates_are_for_tre_admins() {
    let (response, body) = send(
        app(),
        get("/api/workspace-templates", Some(&token(&["TREAdmin"]))),
    )
    .await;
    assert_eq!(response.status(), 200, "{body}");
    assert_eq!(body["templates"][0]["name"], "tre-workspace-base");
    assert_forbidden(
        "/api/workspace-templates",
        &token(&["TREUser"]),
        &["TREAdmin"],
    )
    .await;
}

#[tokio::test]
async fn a_workspace_token_with_a_workspace_role_opens_that_workspace() {
    for role in ["WorkspaceOwner", "WorkspaceResearcher"] {
        let t = token_for(WS_ALPHA, &[role]);
        let (response, body) = send(app(), get("/api/workspaces/alpha", Some(&t))).await;
        assert_eq!(response.status(), 200, "{role}: {body}");
        assert_eq!(body["workspace"]["id"], "alpha");
        assert_eq!(body["workspace"]["properties"]["client_id"], WS_ALPHA);

        let (response, body) = send(
            app(),
            get("/api/workspaces/alpha/workspace-services", Some(&t)),
        )
        .await;
        assert_eq!(response.status(), 200, "{role}: {body}");
        let services = body["workspaceServices"].as_array().unwrap();
        assert_eq!(services.len(), 2);
        assert!(services.iter().all(|s| s["workspaceId"] == "alpha"));
    }
    // The app-id URI as aud is accepted too.
    let t = token_for(&format!("api://{WS_BETA}"), &["WorkspaceOwner"]);
    let (response, _) = send(app(), get("/api/workspaces/beta", Some(&t))).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_tre_api_token_on_a_workspace_route_is_the_wrong_audience() {
    let core = token(&["TREAdmin", "WorkspaceOwner"]);
    for path in [
        "/api/workspaces/alpha",
        "/api/workspaces/alpha/workspace-services",
    ] {
        assert_wrong_audience(path, &core, "workspace alpha").await;
        assert_wrong_audience(path, &core, WS_ALPHA).await;
    }
    let (_, body) = send(app(), get("/api/workspaces/alpha", Some(&core))).await;
    assert_eq!(
        body["detail"],
        format!("token audience is not workspace alpha: expected aud {WS_ALPHA} (a token for a scope of api://{WS_ALPHA})")
    );
}

#[tokio::test]
async fn another_workspace_s_token_is_the_wrong_audience() {
    let alpha = token_for(WS_ALPHA, &["WorkspaceOwner"]);
    assert_wrong_audience("/api/workspaces/beta", &alpha, "workspace beta").await;
    assert_wrong_audience("/api/workspaces/beta/workspace-services", &alpha, WS_BETA).await;
    // ... and not a token for the StudyBuilder-like routes either.
    assert_wrong_audience(
        "/studies",
        &token_for(WS_ALPHA, &["Study.Read"]),
        "this API",
    )
    .await;
}

#[tokio::test]
async fn a_workspace_token_without_a_workspace_role_is_forbidden() {
    let roles = ["WorkspaceOwner", "WorkspaceResearcher"];
    for t in [
        token_for(WS_BETA, &[]),
        token_for(WS_BETA, &["TREAdmin"]),
        token_for(WS_BETA, &["workspaceowner"]),
    ] {
        assert_forbidden("/api/workspaces/beta", &t, &roles).await;
        assert_forbidden("/api/workspaces/beta/workspace-services", &t, &roles).await;
    }
}

#[tokio::test]
async fn workspace_tokens_are_validated_like_any_other() {
    let mut c = claims(&["WorkspaceOwner"]);
    c["aud"] = json!(WS_ALPHA);
    c["exp"] = json!(now() - 600);
    let expired = sign(&c, KID_A, KEY_A_PEM);
    c["exp"] = json!(now() + 600);
    let forged = sign(&c, KID_A, KEY_B_PEM);
    for (t, needle) in [(expired, "expired"), (forged, "signature")] {
        let (response, body) = send(app(), get("/api/workspaces/alpha", Some(&t))).await;
        assert_eq!(response.status(), 401, "{body}");
        assert!(body["detail"].as_str().unwrap().contains(needle), "{body}");
    }
    let (response, body) = send(app(), get("/api/workspaces/alpha", None)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(body["error"], "unauthorized");
    assert_eq!(header_str(&response, "www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn an_unknown_workspace_is_404_whatever_the_token() {
    for t in [None, Some(token_for(WS_ALPHA, &["WorkspaceOwner"]))] {
        for path in [
            "/api/workspaces/gamma",
            "/api/workspaces/gamma/workspace-services",
        ] {
            let (response, body) = send(app(), get(path, t.as_deref())).await;
            assert_eq!(response.status(), 404, "{path}: {body}");
            assert_eq!(body["error"], "not_found");
            assert_eq!(body["detail"], "workspace gamma not found");
        }
    }
}

#[tokio::test]
async fn rbac_off_still_checks_the_workspace_audience() {
    let (response, _) = send(
        app_without_rbac(),
        get("/api/workspaces/alpha", Some(&token_for(WS_ALPHA, &[]))),
    )
    .await;
    assert_eq!(response.status(), 200);
    let (response, _) = send(
        app_without_rbac(),
        get("/api/workspaces/alpha", Some(&token(&[]))),
    )
    .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn oauth_off_lets_the_anonymous_superuser_into_every_workspace() {
    for path in [
        "/api/workspaces",
        "/api/workspace-templates",
        "/api/workspaces/beta",
        "/api/workspaces/beta/workspace-services",
    ] {
        let (response, body) = send(app_without_auth(), get(path, None)).await;
        assert_eq!(response.status(), 200, "{path}: {body}");
    }
}

#[tokio::test]
async fn workspace_errors_carry_cors_headers() {
    let request = Request::get("/api/workspaces/alpha")
        .header("origin", APP_ORIGIN)
        .header("authorization", format!("Bearer {}", token(&["TREUser"])))
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(app(), request).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        header_str(&response, "access-control-allow-origin"),
        Some(APP_ORIGIN)
    );
}
