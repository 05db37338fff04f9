//! The demo tenants are in the states `clearance serve --demo` promises.

mod common;

use common::{Demo, unmet_ids};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_tenant_shows_its_state() {
    let demo = Demo::start().await;
    let agent = demo.agent();
    let summary = |tenant: &'static str| {
        let demo = &demo;
        let agent = agent.clone();
        async move {
            let (status, body) = demo
                .get(&format!("/v1/tenants/{tenant}/verification/maicpp"), &agent)
                .await;
            assert_eq!(status, StatusCode::OK, "{tenant}: {body}");
            body
        }
    };
    let buy = |tenant: &'static str, user: &'static str| {
        let demo = &demo;
        async move {
            let (status, body) = demo
                .post(
                    "/v1/check",
                    &demo.partner(tenant),
                    json!({"tenant": tenant, "user": user, "action": "membership_offers.buy"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };

    let contoso = summary("contoso").await;
    assert_eq!(
        (contoso["enrollment"].as_str(), contoso["status"].as_str()),
        (Some("pending_qualification"), Some("pending"))
    );
    assert_eq!(contoso["business_days_elapsed"], 8);
    assert_eq!(contoso["action_required"], false);

    let fabrikam = summary("fabrikam").await;
    assert_eq!(fabrikam["status"], "rejected");
    assert_eq!(fabrikam["appeals_used"], 1);
    assert_eq!(fabrikam["appeals_left"], 2);
    assert!(fabrikam["reason"].as_str().is_some_and(|r| !r.is_empty()));

    let northwind = summary("northwind").await;
    assert_eq!(northwind["status"], "challenged");
    assert_eq!(northwind["action_required"], true);
    assert_eq!(
        northwind["documents_requested"],
        json!(["utility_bill", "bank_statement"])
    );

    let tailspin = summary("tailspin").await;
    assert_eq!(
        (tailspin["enrollment"].as_str(), tailspin["status"].as_str()),
        (Some("active"), Some("authorized"))
    );
    assert_eq!(
        unmet_ids(&buy("tailspin", "dave").await),
        ["payment_profile_complete"]
    );

    let woodgrove = summary("woodgrove").await;
    assert_eq!(woodgrove["status"], "authorized");
    let (_, legal) = demo.get("/v1/tenants/woodgrove/legal-info", &agent).await;
    assert_eq!(legal["memberships"][0]["offer"], "maicpp_core_benefits");
    assert_eq!(legal["capability_score"], 82);
    assert_eq!(
        unmet_ids(&buy("woodgrove", "erin").await),
        ["no_active_core_membership"]
    );
    let (_, access) = demo
        .get("/v1/tenants/woodgrove/access", &demo.partner("woodgrove"))
        .await;
    let membership = access["workspaces"]
        .as_array()
        .expect("workspaces")
        .iter()
        .find(|workspace| workspace["workspace"] == "membership")
        .expect("the Membership workspace");
    assert_eq!(membership["open"], true);
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_again_applies_nothing_and_keeps_later_changes() {
    let demo = Demo::start().await;
    let agent = demo.agent();
    let (status, _) = demo
        .post(
            "/v1/tenants/contoso/programs/maicpp/start-review",
            &agent,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = demo.trail("contoso").await;
    let tokens = clearance_server::demo::seed(&demo.server.service, jiff::Timestamp::now())
        .await
        .expect("seeding again");
    assert_eq!(&tokens, demo.tokens());
    assert_eq!(demo.trail("contoso").await, before);
    demo.stop().await;
}
