//! A partner token never reaches another tenant: every route under
//! `/v1/tenants/{tenant}`, enumerated from the served OpenAPI document (so a
//! new route is covered without anyone remembering), answers 404 with the
//! same body as for a tenant that does not exist, and changes nothing.

mod common;

use common::Demo;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Fills a path template's parameters: `{tenant}` with `tenant`, others with
/// values that exist in the demo data where it matters.
fn fill(template: &str, tenant: &str) -> String {
    template
        .replace("{tenant}", tenant)
        .replace("{program}", "maicpp")
        .replace("{agreement}", "mpa")
        .replace("{profile}", "payment")
        .replace("{offer}", "maicpp_core_benefits")
        .replace("{user}", "bob")
        .replace("{case}", "case-1")
}

/// The error a partner sees for a tenant it may not know about.
fn hidden(tenant: &str) -> Value {
    json!({"error": {"code": "not_found", "message": format!("tenant `{tenant}` was not found"), "field": null}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_gets_not_found_on_every_route_of_another_tenant() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let (status, api) = demo.get("/openapi.json", "").await;
    assert_eq!(status, StatusCode::OK);
    let paths = api["paths"].as_object().expect("paths");
    let mut covered = Vec::new();
    let before = demo.trail("fabrikam").await.len();
    for (template, operations) in paths {
        if !template.contains("{tenant}") {
            continue;
        }
        for method in operations.as_object().expect("operations").keys() {
            let method: Method = method.to_uppercase().parse().expect("an HTTP method");
            // A plausible body, so that nothing but the tenant can be the reason.
            let body = (method == Method::POST).then(|| json!({}));
            for (tenant, expected) in [
                ("fabrikam", hidden("fabrikam")),
                ("no-such-tenant", hidden("no-such-tenant")),
            ] {
                let path = fill(template, tenant);
                let (status, answer) = demo
                    .call(
                        method.clone(),
                        &path,
                        &alice,
                        body.clone(),
                        Some("isolation"),
                    )
                    .await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
                assert_eq!(answer, expected, "{method} {path}");
            }
            covered.push(format!("{method} {template}"));
        }
    }
    // The enumeration really ran over the API, reads and writes alike.
    assert!(covered.len() >= 25, "only {covered:?}");
    for route in [
        "GET /v1/tenants/{tenant}/access",
        "GET /v1/tenants/{tenant}/events",
        "POST /v1/tenants/{tenant}/programs/{program}/appeal",
        "POST /v1/tenants/{tenant}/memberships/{offer}/buy",
        "POST /v1/tenants/{tenant}/users/{user}/roles",
    ] {
        assert!(covered.iter().any(|c| c == route), "{route} not covered");
    }
    assert_eq!(
        demo.trail("fabrikam").await.len(),
        before,
        "nothing changed"
    );

    // The same partner reaches its own tenant.
    let (status, _) = demo.get("/v1/tenants/contoso/access", &alice).await;
    assert_eq!(status, StatusCode::OK);
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_cannot_check_or_fetch_documents_of_another_tenant() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let bob = demo.partner("fabrikam");

    let (status, answer) = demo
        .post(
            "/v1/check",
            &alice,
            json!({"tenant": "fabrikam", "user": "bob", "action": "membership.view"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer, hidden("fabrikam"));

    let (status, batch) = demo
        .post(
            "/v1/check/batch",
            &alice,
            json!({"checks": [
                {"tenant": "contoso", "user": "alice", "action": "legal_info.view"},
                {"tenant": "fabrikam", "user": "bob", "action": "legal_info.view"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(batch["results"][0]["allowed"], true);
    assert_eq!(batch["results"][1], hidden("fabrikam"));

    // fabrikam's appeal document: its tenant and staff may fetch it, contoso may not.
    let (_, summary) = demo
        .get("/v1/tenants/fabrikam/verification/maicpp", &bob)
        .await;
    let sha = summary["appeals"][0]["document"]
        .as_str()
        .expect("the demo appeal's document")
        .to_owned();
    let path = format!("/v1/documents/{sha}");
    for (token, expected) in [
        (&bob, StatusCode::OK),
        (&demo.agent(), StatusCode::OK),
        (&alice, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = demo.get(&path, token).await;
        assert_eq!(status, expected);
    }

    // Operator lists are staff only.
    for path in ["/v1/tenants", "/v1/cases", "/v1/verification-queue"] {
        let (status, answer) = demo.get(path, &alice).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(answer["error"]["code"], "staff_only");
    }
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_are_unauthenticated() {
    let demo = Demo::start().await;
    for token in ["", "clr_not-a-real-token", "something-else"] {
        let (status, answer) = demo.get("/v1/tenants/contoso/access", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(answer["error"]["code"], "unauthenticated");
    }
    // An unknown API path answers in the API's error shape.
    let (status, answer) = demo.get("/v1/no-such-thing", &demo.agent()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["error"]["code"], "not_found");
    // Health, readiness, metrics and the API description need no token.
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let (status, _) = demo.get(path, "").await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    demo.stop().await;
}
