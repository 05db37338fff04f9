//! Tenant, user and token administration through the API.

mod common;

use common::Demo;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_admin_creates_a_tenant_and_issues_its_admin_a_token() {
    let demo = Demo::start().await;
    let admin = demo.admin();
    let agent = demo.agent();
    let tenant =
        json!({"id": "litware", "country": "GB", "admin": "gina", "roles": ["global_admin"]});

    // An agent may not create tenants; nothing is created.
    let (status, refused) = demo.post("/v1/tenants", &agent, tenant.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "support_admin_only");
    let (status, _) = demo.get("/v1/tenants/litware", &agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, created) = demo.post("/v1/tenants", &admin, tenant.clone()).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["events"][0]["type"], "tenant_created");
    let (status, again) = demo.post("/v1/tenants", &admin, tenant).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["error"]["code"], "tenant_exists");
    let (status, bad) = demo
        .post(
            "/v1/tenants",
            &admin,
            json!({"id": "Bad Id", "country": "GB", "admin": "x", "roles": []}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["field"], "tenant");

    // A token for the new tenant's admin, once per idempotency key.
    let principal = json!({"principal": {"kind": "partner", "tenant": "litware", "user": "gina"}});
    let (status, refused) = demo
        .call(
            Method::POST,
            "/v1/tokens",
            &agent,
            Some(principal.clone()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refused["error"]["code"], "support_admin_only");
    let (status, issued) = demo
        .call(
            Method::POST,
            "/v1/tokens",
            &admin,
            Some(principal.clone()),
            Some("gina-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let gina = issued["token"].as_str().expect("a token").to_owned();
    assert!(gina.starts_with("clr_"));
    let (status, repeat) = demo
        .call(
            Method::POST,
            "/v1/tokens",
            &admin,
            Some(principal),
            Some("gina-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(repeat["error"]["code"], "token_already_issued");
    // An unknown user gets no token, and the refused request does not use up its key.
    let nobody = json!({"principal": {"kind": "partner", "tenant": "litware", "user": "nobody"}});
    let (status, unknown) = demo
        .call(
            Method::POST,
            "/v1/tokens",
            &admin,
            Some(nobody),
            Some("nobody-1"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    let (status, _) = demo
        .call(
            Method::POST,
            "/v1/tokens",
            &admin,
            Some(json!({"principal": {"kind": "staff", "id": "sue", "role": "support_agent"}})),
            Some("nobody-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // The new admin sees its tenant and its users; staff list every tenant.
    let (status, users) = demo.get("/v1/tenants/litware/users", &gina).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    assert_eq!(users[0]["id"], "gina");
    assert_eq!(users[0]["roles"], json!(["global_admin"]));
    assert_eq!(users[0]["primary_contact"], true);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    // Its "Save roles" button is refused until the verification is authorized.
    assert_eq!(users[0]["change_roles"]["allowed"], false);
    assert_eq!(
        users[0]["change_roles"]["refusal"]["code"], "roles_frozen",
        "{users}"
    );
    let (_, tenants) = demo.get("/v1/tenants", &agent).await;
    let ids: Vec<&str> = tenants
        .as_array()
        .expect("tenants")
        .iter()
        .map(|tenant| tenant["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "contoso",
            "fabrikam",
            "litware",
            "northwind",
            "tailspin",
            "woodgrove"
        ]
    );

    // A revoked token stops working at once on this server.
    let (status, _) = demo
        .post("/v1/tokens/revoke", &admin, json!({"token": gina}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = demo.get("/v1/tenants/litware/users", &gina).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, unknown) = demo
        .post("/v1/tokens/revoke", &admin, json!({"token": "clr_unknown"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    demo.stop().await;
}
