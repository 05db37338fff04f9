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
    // The same principals, with new random tokens (the demo's are never derived).
    let principals = |tokens: &clearance_server::demo::DemoTokens| {
        printed(tokens)
            .into_iter()
            .map(|(principal, _)| principal)
            .collect::<Vec<_>>()
    };
    assert_eq!(principals(&tokens), principals(demo.tokens()));
    assert_ne!(tokens.support_agent.token, demo.agent());
    assert_eq!(demo.trail("contoso").await, before);
    demo.stop().await;
}

/// Every token the demo prints, with its principal.
fn printed(
    tokens: &clearance_server::demo::DemoTokens,
) -> Vec<(clearance_server::Principal, String)> {
    [&tokens.support_agent, &tokens.support_admin]
        .into_iter()
        .chain(&tokens.partners)
        .map(|demo| (demo.principal.clone(), demo.token.clone()))
        .collect()
}

/// The status of `GET /v1/tenants/contoso` with `token` (401 when it
/// authenticates nobody, 404 for another tenant's partner).
async fn answer(server: &clearance_server::RunningServer, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/v1/tenants/contoso", server.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers")
        .status()
}

/// F4: the demo's tokens used to be `sha256("clearance demo token: " + key)`,
/// computable offline, and stayed valid for good. Now they are random, new at
/// each demo start (earlier ones keep working while the demo goes on), and a
/// start of the same data without the demo revokes them all, and only them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tokens_are_random_and_revoked_when_served_without_the_demo() {
    use sha2::{Digest, Sha256};

    let dir = tempfile::tempdir().expect("a temporary directory");
    let location = dir.path().join("clearance.db");
    let mut config = clearance_testkit::server::config(location.to_str().expect("UTF-8"));
    config.demo = true;
    let start = |config| clearance_server::start(config, |_| axum::Router::new());

    let server = start(config.clone()).await.expect("the demo starts");
    let first = printed(server.demo.as_ref().expect("demo tokens"));
    for (principal, token) in &first {
        let seed: [u8; 32] =
            Sha256::digest(format!("clearance demo token: {}", principal.key())).into();
        let old = format!(
            "clr_{}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, seed)
        );
        assert_ne!(
            token, &old,
            "{principal:?}: the token is not derived from its name"
        );
        assert!(token.starts_with("clr_") && token.len() == 47, "{token}");
    }
    let lasting = clearance_server::auth::new_token();
    server
        .service
        .store_token(&lasting, &clearance_server::demo::support_agent())
        .await
        .expect("a lasting token");
    server.shutdown().await.expect("a clean shutdown");

    let server = start(config.clone()).await.expect("the demo starts again");
    let second = printed(server.demo.as_ref().expect("demo tokens"));
    for ((principal, before), (_, now)) in first.iter().zip(&second) {
        assert_ne!(before, now, "{principal:?}: a new token at each demo start");
    }
    for (principal, token) in first.iter().chain(&second) {
        assert_ne!(
            answer(&server, token).await,
            StatusCode::UNAUTHORIZED,
            "{principal:?}: earlier demo tokens keep working while the demo goes on"
        );
    }
    server.shutdown().await.expect("a clean shutdown");

    config.demo = false;
    let server = start(config)
        .await
        .expect("the data is served without the demo");
    assert!(server.demo.is_none());
    for (principal, token) in first.iter().chain(&second) {
        assert_eq!(
            answer(&server, token).await,
            StatusCode::UNAUTHORIZED,
            "{principal:?}: a demo token is revoked"
        );
    }
    assert_eq!(
        answer(&server, &lasting).await,
        StatusCode::OK,
        "a token issued otherwise is kept"
    );
    server.shutdown().await.expect("a clean shutdown");
}
