//! On PostgreSQL (when `CLEARANCE_TEST_POSTGRES` holds a URL): two servers over
//! one database agree after a write, a read naming the write's revision on the
//! other server sees it, and the demo seeds once.

use std::time::{SystemTime, UNIX_EPOCH};

use clearance_server::server::start;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn database() -> Option<String> {
    let url = std::env::var("CLEARANCE_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty());
    if url.is_none() {
        eprintln!(
            "skipped: set CLEARANCE_TEST_POSTGRES=postgres://... to run the PostgreSQL tests"
        );
    }
    url
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("an answer");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_agree_after_a_write() {
    let Some(url) = database() else { return };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    let schema = format!("server_test_{}_{nanos}", std::process::id());
    let mut config = clearance_testkit::server::config(&url);
    config.schema = Some(schema.clone());
    config.demo = true;
    let a = start(config.clone(), |_| axum::Router::new())
        .await
        .expect("server A");
    // B also asks for the demo: it finds every step already applied.
    let b = start(config, |_| axum::Router::new())
        .await
        .expect("server B");
    let tokens = a.demo.clone().expect("demo tokens");
    // B prints new random tokens; A's keep working on both (used below).
    let b_tokens = b.demo.as_ref().expect("demo tokens");
    assert_eq!(
        b_tokens.support_agent.principal,
        tokens.support_agent.principal
    );
    assert_ne!(b_tokens.support_agent.token, tokens.support_agent.token);
    let agent = &tokens.support_agent.token;
    let client = reqwest::Client::new();

    let (status, tenants_a) = send(
        client
            .get(format!("{}/v1/tenants", a.url()))
            .bearer_auth(agent),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, tenants_b) = send(
        client
            .get(format!("{}/v1/tenants", b.url()))
            .bearer_auth(agent),
    )
    .await;
    assert_eq!(tenants_a, tenants_b, "seeded once, seen alike");

    // A write on A; B answers at its revision with the write applied.
    let (status, written) = send(
        client
            .post(format!(
                "{}/v1/tenants/contoso/programs/maicpp/start-review",
                a.url()
            ))
            .bearer_auth(agent)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{written}");
    let revision = written["revision"].as_u64().expect("a revision");
    let (status, summary) = send(
        client
            .get(format!(
                "{}/v1/tenants/contoso/verification/maicpp?min_revision={revision}",
                b.url()
            ))
            .bearer_auth(agent),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["status"], "in_progress");

    // A write on B based on it: B's cache had A's write, so it is not stale.
    let (status, authorized) = send(
        client
            .post(format!(
                "{}/v1/tenants/contoso/programs/maicpp/authorize",
                b.url()
            ))
            .bearer_auth(agent)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{authorized}");
    let revision = authorized["revision"].as_u64().expect("a revision");
    let (_, check) = send(
        client
            .post(format!("{}/v1/check", a.url()))
            .bearer_auth(&tokens.partners[0].token)
            .json(
                &json!({"tenant": "contoso", "user": "alice", "action": "membership.view",
                          "min_revision": revision}),
            ),
    )
    .await;
    assert_eq!(check["allowed"], true, "{check}");
    a.shutdown().await.expect("A stops");
    b.shutdown().await.expect("B stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_seeding_the_demo_at_once_apply_each_step_once() {
    let Some(url) = database() else { return };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    let mut config = clearance_testkit::server::config(&url);
    config.schema = Some(format!("server_seed_{}_{nanos}", std::process::id()));
    config.demo = true;
    let (a, b) = tokio::join!(
        start(config.clone(), |_| axum::Router::new()),
        start(config, |_| axum::Router::new())
    );
    let (a, b) = (a.expect("server A"), b.expect("server B"));
    let agent = a
        .demo
        .as_ref()
        .expect("demo tokens")
        .support_agent
        .token
        .clone();
    let client = reqwest::Client::new();
    let (_, trail) = send(
        client
            .get(format!("{}/v1/tenants/woodgrove/events?limit=500", a.url()))
            .bearer_auth(&agent),
    )
    .await;
    let kinds: Vec<&str> = trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == "membership_bought")
            .count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == "tenant_created")
            .count(),
        1
    );
    a.shutdown().await.expect("A stops");
    b.shutdown().await.expect("B stops");
}
