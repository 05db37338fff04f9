//! The `POST /v1/check` cases: every demo tenant's admin against a spread of
//! the default catalog's actions, each asked once before the load to learn its
//! answer, so that every answer under load can be checked against it.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use bytes::Bytes;

use crate::load::Connection;

/// Actions of the default catalog asked about for every demo tenant: views that
/// admins may always open, and actions that verification, profiles, agreements
/// or memberships hold back in some demo tenants.
pub const ACTIONS: [&str; 10] = [
    "legal_info.view",
    "verification.view",
    "verification.appeal",
    "membership.view",
    "membership_offers.view",
    "membership_offers.buy",
    "membership_offers.renew",
    "users.manage_roles",
    "marketplace_offers.publish",
    "support.open_case",
];

/// One check request and the answer it must get.
#[derive(Clone, Debug)]
pub struct Case {
    /// The JSON request body.
    pub body: Bytes,
    /// Whether the server allowed it when asked before the load.
    pub allowed: bool,
}

/// The request bodies of every (demo tenant, action) pair.
pub fn bodies() -> Vec<Bytes> {
    clearance_server::demo::TENANTS
        .iter()
        .flat_map(|(tenant, user, _)| {
            ACTIONS.iter().map(move |action| {
                Bytes::from(
                    serde_json::json!({"tenant": tenant, "user": user, "action": action})
                        .to_string(),
                )
            })
        })
        .collect()
}

/// Asks the server once for every case and records its answer; fails unless
/// every case answers 200 and the mix holds both allowed and denied cases.
pub async fn prepare(addr: SocketAddr, token: &str) -> anyhow::Result<Vec<Case>> {
    let mut connection = Connection::open(addr).await?;
    let mut cases = Vec::new();
    for body in bodies() {
        let answer = connection
            .send(&crate::load::check_request(addr, token, body.clone()))
            .await?;
        if answer.status != 200 {
            bail!(
                "POST /v1/check {} answered {}: {}",
                String::from_utf8_lossy(&body),
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
        }
        let value: serde_json::Value =
            serde_json::from_slice(&answer.body).context("a check answer is JSON")?;
        let allowed = value["allowed"]
            .as_bool()
            .context("a check answer has a boolean `allowed`")?;
        cases.push(Case { body, allowed });
    }
    let allowed = cases.iter().filter(|case| case.allowed).count();
    if allowed == 0 || allowed == cases.len() {
        bail!(
            "the demo cases should mix allowed and denied answers; {allowed} of {} are allowed",
            cases.len()
        );
    }
    Ok(cases)
}

/// Whether a check answer's body says what the case expects. A substring test,
/// not a parse, to keep the client's share of the CPU small; the server writes
/// compact JSON with `allowed` as a top-level field.
pub fn answer_matches(body: &[u8], allowed: bool) -> bool {
    let needle: &[u8] = if allowed {
        b"\"allowed\":true"
    } else {
        b"\"allowed\":false"
    };
    body.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_tenant_is_asked_about_every_action() {
        let bodies = bodies();
        assert_eq!(
            bodies.len(),
            clearance_server::demo::TENANTS.len() * ACTIONS.len()
        );
        let first: serde_json::Value = serde_json::from_slice(&bodies[0]).expect("JSON");
        assert_eq!(
            first,
            serde_json::json!({"tenant": "contoso", "user": "alice", "action": "legal_info.view"})
        );
    }

    #[test]
    fn answers_are_matched_on_the_allowed_field() {
        assert!(answer_matches(
            br#"{"action":"a","allowed":true,"unmet":[]}"#,
            true
        ));
        assert!(!answer_matches(
            br#"{"action":"a","allowed":true,"unmet":[]}"#,
            false
        ));
        assert!(answer_matches(
            br#"{"action":"a","allowed":false,"unmet":[{}]}"#,
            false
        ));
        assert!(!answer_matches(br#"{"error":{"code":"not_found"}}"#, false));
    }
}
