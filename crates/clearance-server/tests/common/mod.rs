//! Shared by the HTTP tests: a real server on a loopback port over a fresh
//! SQLite file, seeded with the demo, and a small JSON client.

#![allow(dead_code)]

use clearance_server::RunningServer;
use clearance_server::demo::DemoTokens;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A running demo server and the temporary directory holding its store.
pub struct Demo {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
}

impl Demo {
    /// Starts a demo server on a fresh SQLite store.
    pub async fn start() -> Demo {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let location = dir.path().join("clearance.db");
        let server = clearance_testkit::server::start_demo(location.to_str().expect("UTF-8 path"))
            .await
            .expect("the demo server starts");
        Demo { server, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub fn tokens(&self) -> &DemoTokens {
        self.server.demo.as_ref().expect("the demo was seeded")
    }

    /// The token of the demo tenant's admin.
    pub fn partner(&self, tenant: &str) -> String {
        self.tokens()
            .partners
            .iter()
            .find(|demo| {
                matches!(&demo.principal, clearance_server::Principal::Partner { tenant: t, .. } if t == tenant)
            })
            .map(|demo| demo.token.clone())
            .expect("a demo tenant")
    }

    pub fn agent(&self) -> String {
        self.tokens().support_agent.token.clone()
    }

    pub fn admin(&self) -> String {
        self.tokens().support_admin.token.clone()
    }

    /// Sends a request and returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new()
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body), None).await
    }

    /// Every event of a tenant's audit trail, as staff sees it.
    pub async fn trail(&self, tenant: &str) -> Vec<Value> {
        let (status, page) = self
            .get(
                &format!("/v1/tenants/{tenant}/events?limit=500"),
                &self.agent(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["events"].as_array().expect("events").clone()
    }

    pub async fn stop(self) {
        self.server.shutdown().await.expect("a clean shutdown");
    }
}

/// The requirement ids of a check answer's `unmet` list.
pub fn unmet_ids(result: &Value) -> Vec<String> {
    result["unmet"]
        .as_array()
        .expect("unmet")
        .iter()
        .map(|unmet| {
            unmet["requirement"]
                .as_str()
                .expect("requirement")
                .to_owned()
        })
        .collect()
}
