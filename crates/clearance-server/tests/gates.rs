//! The catalog's gates hold for a user with no role (findings F5 and F11):
//! she cannot grant herself a role, nor read the tenant summary or another
//! user's decisions, while her own diagnosis stays hers to read.

mod common;

use common::Demo;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Adds `mallory` with no role to woodgrove (authorized, so roles are not
/// frozen) and returns her token.
async fn role_less_mallory(demo: &Demo) -> String {
    let erin = demo.partner("woodgrove");
    let (status, added) = demo
        .post(
            "/v1/tenants/woodgrove/users",
            &erin,
            json!({"user": "mallory", "roles": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    let (status, issued) = demo
        .call(
            Method::POST,
            "/v1/tokens",
            &demo.admin(),
            Some(
                json!({"principal": {"kind": "partner", "tenant": "woodgrove", "user": "mallory"}}),
            ),
            Some("mallory-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    issued["token"].as_str().expect("a token").to_owned()
}

#[track_caller]
fn assert_denied(status: StatusCode, body: &Value, unmet: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "denied", "{body}");
    assert!(body.to_string().contains(unmet), "{body} lacks {unmet}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_less_user_cannot_grant_herself_a_role() {
    let demo = Demo::start().await;
    let mallory = role_less_mallory(&demo).await;
    let (status, refused) = demo
        .post(
            "/v1/tenants/woodgrove/users/mallory/roles",
            &mallory,
            json!({"op": "grant", "roles": ["global_admin"]}),
        )
        .await;
    assert_denied(status, &refused, "user_admin_role");
    let (status, refused) = demo
        .post(
            "/v1/tenants/woodgrove/users",
            &mallory,
            json!({"user": "trudy", "roles": ["global_admin"]}),
        )
        .await;
    assert_denied(status, &refused, "user_admin_role");
    let (status, users) = demo
        .get("/v1/tenants/woodgrove/users", &demo.partner("woodgrove"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mallory_roles = users
        .as_array()
        .expect("users")
        .iter()
        .find(|user| user["id"] == "mallory")
        .map(|user| user["roles"].clone());
    assert_eq!(mallory_roles, Some(json!([])));
    assert!(
        !users.to_string().contains("trudy"),
        "trudy was added: {users}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_less_user_reads_only_her_own_decisions_and_not_the_tenant_summary() {
    let demo = Demo::start().await;
    let mallory = role_less_mallory(&demo).await;

    let (status, body) = demo.get("/v1/tenants/woodgrove", &mallory).await;
    assert_denied(status, &body, "account_admin_role");
    for path in [
        "/v1/tenants/woodgrove/diagnosis?user=erin",
        "/v1/tenants/woodgrove/access?user=erin",
        // Whether the user exists is not told either.
        "/v1/tenants/woodgrove/diagnosis?user=nobody",
    ] {
        let (status, body) = demo.get(path, &mallory).await;
        assert_denied(status, &body, "user_admin_role");
    }
    let (status, body) = demo
        .post(
            "/v1/check",
            &mallory,
            json!({"tenant": "woodgrove", "user": "erin", "action": "membership.view"}),
        )
        .await;
    assert_denied(status, &body, "user_admin_role");

    for path in [
        "/v1/tenants/woodgrove/diagnosis",
        "/v1/tenants/woodgrove/diagnosis?user=mallory",
        "/v1/tenants/woodgrove/access?user=mallory",
    ] {
        let (status, body) = demo.get(path, &mallory).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (status, body) = demo
        .post(
            "/v1/check",
            &mallory,
            json!({"tenant": "woodgrove", "user": "mallory", "action": "membership.view"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed"], false);

    // The tenant's admin may read both.
    let erin = demo.partner("woodgrove");
    let (status, body) = demo.get("/v1/tenants/woodgrove", &erin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = demo
        .get("/v1/tenants/woodgrove/diagnosis?user=mallory", &erin)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
