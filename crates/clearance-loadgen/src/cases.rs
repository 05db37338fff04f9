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
    /// The demo tenant.
    pub tenant: &'static str,
    /// Its admin user.
    pub user: &'static str,
    /// The action asked about.
    pub action: &'static str,
    /// The JSON request body of `POST /v1/check`.
    pub body: Bytes,
    /// Whether the server allowed it when asked before the load.
    pub allowed: bool,
    /// The ids of the unmet requirements it named then, sorted.
    pub unmet: Vec<String>,
}

/// Every (demo tenant, admin user, action) triple, in a fixed order.
pub fn triples() -> Vec<(&'static str, &'static str, &'static str)> {
    clearance_server::demo::tenants()
        .flat_map(|tenant| {
            ACTIONS
                .iter()
                .map(move |action| (tenant.id, tenant.admin, *action))
        })
        .collect()
}

/// The `POST /v1/check` body of one triple.
pub fn body(tenant: &str, user: &str, action: &str) -> Bytes {
    Bytes::from(serde_json::json!({"tenant": tenant, "user": user, "action": action}).to_string())
}

/// Asks the server once for every case and records its answer; fails unless
/// every case answers 200 and the mix holds both allowed and denied cases.
pub async fn prepare(addr: SocketAddr, token: &str) -> anyhow::Result<Vec<Case>> {
    let mut connection = Connection::open(addr).await?;
    let mut cases = Vec::new();
    for (tenant, user, action) in triples() {
        let body = body(tenant, user, action);
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
        let mut unmet = value["unmet"]
            .as_array()
            .context("a check answer has an `unmet` list")?
            .iter()
            .map(|entry| {
                entry["requirement"]
                    .as_str()
                    .map(str::to_owned)
                    .context("each unmet entry names its requirement")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        unmet.sort();
        cases.push(Case {
            tenant,
            user,
            action,
            body,
            allowed,
            unmet,
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_tenant_is_asked_about_every_action() {
        let triples = triples();
        assert_eq!(
            triples.len(),
            clearance_server::demo::tenants().len() * ACTIONS.len()
        );
        let (tenant, user, action) = triples[0];
        let first: serde_json::Value =
            serde_json::from_slice(&body(tenant, user, action)).expect("JSON");
        assert_eq!(
            first,
            serde_json::json!({"tenant": "contoso", "user": "alice", "action": "legal_info.view"})
        );
    }
}
