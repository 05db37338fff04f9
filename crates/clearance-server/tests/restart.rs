//! A restarted server rebuilds the same cache from snapshots and the events
//! after them.

use clearance_server::server::start;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get(url: &str, token: &str) -> Value {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_from_snapshots_rebuilds_the_same_state() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let location = dir.path().join("clearance.db");
    let location = location.to_str().expect("UTF-8");
    let mut config = clearance_testkit::server::config(location);
    config.demo = true;
    config.options.snapshot_every = 3;
    let server = start(config.clone(), |_| axum::Router::new())
        .await
        .expect("the first server starts");
    let tokens = server.demo.clone().expect("demo tokens");
    let agent = tokens.support_agent.token.clone();
    for n in 0..4 {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/tenants/woodgrove/cases", server.url()))
            .bearer_auth(&tokens.partners[4].token)
            .json(&json!({"subject": format!("question {n}"), "body": "..."}))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let before = get(&format!("{}/v1/tenants", server.url()), &agent).await;
    let cases_before = get(&format!("{}/v1/cases", server.url()), &agent).await;
    // Snapshots are saved in the background; the shutdown drains the writer.
    server.shutdown().await.expect("a clean shutdown");

    let store = clearance_store::Store::open(location)
        .await
        .expect("the store");
    let mut loader = store.load_all().await.expect("a loader");
    let mut snapshotted = Vec::new();
    while let Some(history) = loader.next().await.expect("a history") {
        if history.snapshot.is_some() {
            snapshotted.push(history.tenant);
        }
    }
    drop(loader);
    store.close().await;
    assert!(
        snapshotted.contains(&"woodgrove".to_owned()),
        "{snapshotted:?}"
    );

    config.demo = false;
    let server = start(config, |_| axum::Router::new())
        .await
        .expect("the second server starts");
    // Served without the demo, the demo's tokens are revoked: read with a lasting one.
    let agent = clearance_server::auth::new_token();
    server
        .service
        .store_token(&agent, &clearance_server::demo::support_agent())
        .await
        .expect("a lasting token");
    assert_eq!(
        get(&format!("{}/v1/tenants", server.url()), &agent).await,
        before
    );
    assert_eq!(
        get(&format!("{}/v1/cases", server.url()), &agent).await,
        cases_before
    );
    server.shutdown().await.expect("a clean shutdown");
}
