//! Any clearance catalog as a Cerbos resource policy, and a tenant and a user
//! as a Cerbos check request: the service-level rival.
//!
//! Cerbos keeps no state of its own, so each request carries the tenant's
//! attributes (agreements, profiles, score, primary contact, each program's
//! enrollment, verification and appeals used, each membership's expiry) and
//! the user's roles, as a caller of a stateless decision point would send them.
//!
//! The policy (resource kind [`RESOURCE_KIND`]) holds one local variable per
//! requirement that some action needs (`V.<requirement>`: the CEL condition
//! under which it is met) and one `EFFECT_ALLOW` rule per action whose
//! condition is that all of the action's requirements (the workspace chain
//! flattened, as `Action::all_requirements` holds it) are met; an action no
//! rule allows is denied. A rule's output, produced when its condition is not
//! met, is the list of the ids of the requirements that are not, so a
//! denial's `outputs` name every unmet requirement, as clearance's answer does.
//! (One `EFFECT_DENY` rule per requirement would be the other way to write it,
//! but Cerbos stops at the first deny rule that applies, so its outputs would
//! name one unmet requirement, not all.) The reasons, who can fix each and the
//! next step, which clearance returns with them, have no place in Cerbos'
//! answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use clearance_core::catalog::{ProgramIx, RequirementKind, RoleIx, Set};
use clearance_core::{Catalog, Tenant, User};
use clearance_server::{Service, ServiceOptions, demo};
use clearance_store::Store;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::cases::Case;
use crate::load::{CERBOS_CHECK_PATH, Connection, post_json};

/// The Cerbos resource kind of a tenant.
pub const RESOURCE_KIND: &str = "tenant";

/// The one Cerbos role every principal has (Cerbos wants at least one). The
/// catalog's roles travel as the principal's `roles` attribute: Cerbos
/// evaluates a rule once per principal role, so giving it the catalog's roles
/// as its own would repeat the work (and the outputs) for each.
pub const BASE_ROLE: &str = "user";

/// The catalog as one Cerbos resource policy document (JSON, which Cerbos
/// reads like YAML from a `.json` file in its disk store).
pub fn policy(catalog: &Catalog) -> Value {
    let mut variables = Map::new();
    for action in &catalog.actions {
        for requirement in action.all_requirements.iter() {
            let requirement = catalog.requirement(*requirement);
            variables
                .entry(variable(&requirement.id))
                .or_insert_with(|| Value::String(met(catalog, &requirement.kind)));
        }
    }
    let rules: Vec<Value> = catalog
        .actions
        .iter()
        .map(|action| {
            let ids: Vec<&str> = action
                .all_requirements
                .iter()
                .map(|r| catalog.requirement(*r).id.as_str())
                .collect();
            let mut rule = json!({
                "name": rule_name(&action.id),
                "actions": [action.id],
                "effect": "EFFECT_ALLOW",
                "roles": ["*"],
            });
            if !ids.is_empty() {
                let all: Vec<Value> = ids
                    .iter()
                    .map(|id| json!({ "expr": format!("V.{}", variable(id)) }))
                    .collect();
                let unmet: Vec<String> = ids
                    .iter()
                    .map(|id| format!("V.{} ? \"\" : {}", variable(id), lit(id)))
                    .collect();
                rule["condition"] = json!({ "match": { "all": { "of": all } } });
                rule["output"] = json!({ "when": { "conditionNotMet": format!(
                    "[{}].filter(id, id != \"\")",
                    unmet.join(", ")
                ) } });
            }
            rule
        })
        .collect();
    json!({
        "apiVersion": "api.cerbos.dev/v1",
        "resourcePolicy": {
            "version": "default",
            "resource": RESOURCE_KIND,
            "variables": { "local": variables },
            "rules": rules,
        },
    })
}

/// The variable holding whether a requirement is met (ids hold `a-z0-9_.-`;
/// CEL identifiers only `a-z0-9_`).
fn variable(requirement: &str) -> String {
    format!("met_{}", requirement.replace(['.', '-'], "_"))
}

/// The name of an action's rule (Cerbos' rule names take no `.`).
fn rule_name(action: &str) -> String {
    action.replace('.', "-")
}

/// The body of a `POST /api/check/resources` asking whether `user` may do
/// `action` on `tenant`.
pub fn check_body(catalog: &Catalog, tenant: &Tenant, user: &User, action: &str) -> Value {
    let roles: Vec<&str> = role_ids(catalog, user.roles).collect();
    json!({
        "requestId": "clearance-loadgen",
        "principal": { "id": user.id, "roles": [BASE_ROLE], "attr": { "roles": roles } },
        "resources": [{
            "actions": [action],
            "resource": { "kind": RESOURCE_KIND, "id": tenant.id, "attr": tenant_attr(catalog, tenant) },
        }],
    })
}

/// The tenant's attributes as the policy's conditions read them.
fn tenant_attr(catalog: &Catalog, tenant: &Tenant) -> Value {
    let mut attr = Map::new();
    attr.insert(
        "agreements".into(),
        json!(
            tenant
                .agreements
                .iter()
                .map(|a| &catalog.agreement(a).id)
                .collect::<Vec<_>>()
        ),
    );
    attr.insert(
        "profiles".into(),
        json!(
            tenant
                .profiles
                .iter()
                .map(|p| &catalog.profile(p).id)
                .collect::<Vec<_>>()
        ),
    );
    if let Some(score) = tenant.capability_score {
        attr.insert("capability_score".into(), json!(score));
    }
    if let Some(contact) = &tenant.primary_contact {
        attr.insert("primary_contact".into(), json!(contact));
    }
    let programs: Map<String, Value> = tenant
        .programs
        .iter()
        .map(|record| {
            (
                catalog.program(record.program).id.clone(),
                json!({
                    "enrollment": record.enrollment.as_str(),
                    "verification": record.verification.status.as_str(),
                    "appeals_used": record.verification.appeals_used,
                }),
            )
        })
        .collect();
    attr.insert("programs".into(), Value::Object(programs));
    let memberships: Map<String, Value> = tenant
        .memberships
        .iter()
        .map(|m| {
            (
                catalog.offer(m.offer).id.clone(),
                json!(m.expires_at.to_string()),
            )
        })
        .collect();
    attr.insert("memberships".into(), Value::Object(memberships));
    Value::Object(attr)
}

fn role_ids(catalog: &Catalog, roles: Set<RoleIx>) -> impl Iterator<Item = &str> {
    roles.iter().map(|r| catalog.role(r).id.as_str())
}

/// A CEL string literal (ids hold only `a-z0-9_.-`; quoted properly anyway).
fn lit(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// A CEL list of string literals.
fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.map(lit).collect();
    format!("[{}]", items.join(", "))
}

/// The condition under which a requirement is met, in CEL over Cerbos'
/// request (`P` the principal, `R` the resource, `now()` the request's time).
/// JSON numbers arrive in Cerbos as doubles, so numbers are compared as such.
fn met(catalog: &Catalog, kind: &RequirementKind) -> String {
    let program = |p: &ProgramIx| lit(&catalog.program(*p).id);
    let offer = |o: &clearance_core::catalog::OfferIx| lit(&catalog.offer(*o).id);
    let any_role = |roles: Set<RoleIx>| {
        format!(
            "hasIntersection(P.attr.roles, {})",
            list(role_ids(catalog, roles))
        )
    };
    match kind {
        RequirementKind::AnyRole(roles) => any_role(*roles),
        RequirementKind::Enrollment {
            program: p,
            statuses,
        } => format!(
            "{p} in R.attr.programs && R.attr.programs[{p}].enrollment in {set}",
            p = program(p),
            set = list(statuses.iter().map(|s| s.as_str())),
        ),
        RequirementKind::Verification {
            program: p,
            statuses,
        } => format!(
            "{p} in R.attr.programs && R.attr.programs[{p}].verification in {set}",
            p = program(p),
            set = list(statuses.iter().map(|s| s.as_str())),
        ),
        RequirementKind::Agreement(a) => {
            format!("{} in R.attr.agreements", lit(&catalog.agreement(*a).id))
        }
        RequirementKind::Profile(p) => {
            format!("{} in R.attr.profiles", lit(&catalog.profile(*p).id))
        }
        RequirementKind::CapabilityScoreAtLeast { min } => {
            format!("has(R.attr.capability_score) && R.attr.capability_score >= {min}.0")
        }
        RequirementKind::NoActiveMembership(o) => format!(
            "!({o} in R.attr.memberships) || timestamp(R.attr.memberships[{o}]) <= now()",
            o = offer(o),
        ),
        RequirementKind::MembershipInRenewalWindow(o) => {
            let hours = u64::from(catalog.offer(*o).renewal_window_days) * 24;
            format!(
                "{o} in R.attr.memberships && timestamp(R.attr.memberships[{o}]) - duration(\"{hours}h\") <= now() && now() < timestamp(R.attr.memberships[{o}])",
                o = offer(o),
            )
        }
        RequirementKind::PrimaryContactOrRole(roles) => format!(
            "(has(R.attr.primary_contact) && R.attr.primary_contact == P.id) || {}",
            any_role(*roles)
        ),
        RequirementKind::AppealsLeft(p) => format!(
            "{p} in R.attr.programs && R.attr.programs[{p}].appeals_used < {max}.0",
            p = program(p),
            max = catalog.vetting.max_appeals,
        ),
    }
}

/// The demo tenants' state, seeded in-process into a temporary store exactly
/// as `clearance serve --demo` seeds them (relative to `now`), so each case's
/// attributes can be sent to Cerbos.
pub async fn demo_tenants(
    catalog: &Arc<Catalog>,
    now: Timestamp,
) -> anyhow::Result<HashMap<String, Arc<Tenant>>> {
    let dir = tempfile::tempdir().context("a temporary directory for the demo's state")?;
    let path = dir.path().join("demo.db");
    let path = path.to_str().context("the temporary path is UTF-8")?;
    let store = Store::open(path)
        .await
        .context("opening the temporary store")?;
    let service = Service::open(store.clone(), catalog.clone(), ServiceOptions::default())
        .await
        .context("starting an in-process service")?;
    demo::seed(&service, now)
        .await
        .context("seeding the demo tenants")?;
    let staff = demo::support_agent();
    let mut tenants = HashMap::new();
    for id in demo::tenants().map(|tenant| tenant.id) {
        let tenant = service
            .tenant(&staff, id, None)
            .await
            .with_context(|| format!("reading demo tenant `{id}`"))?;
        tenants.insert(id.to_owned(), tenant);
    }
    drop(service);
    store.close().await;
    Ok(tenants)
}

/// Builds each case's Cerbos request from the demo's state and asks Cerbos
/// once: every answer must have the effect clearance gave and name, in its
/// outputs, exactly the requirements clearance named unmet. Returns the
/// request bodies, in the cases' order.
pub async fn prepare(
    addr: SocketAddr,
    catalog: &Arc<Catalog>,
    cases: &[Case],
) -> anyhow::Result<Vec<Bytes>> {
    let tenants = demo_tenants(catalog, Timestamp::now()).await?;
    let mut connection = Connection::open(addr)
        .await
        .with_context(|| format!("connecting to Cerbos at {addr}"))?;
    let mut bodies = Vec::with_capacity(cases.len());
    for case in cases {
        let tenant = tenants
            .get(case.tenant)
            .with_context(|| format!("demo tenant `{}` was seeded", case.tenant))?;
        let user = tenant
            .users
            .iter()
            .find(|user| user.id == case.user)
            .with_context(|| format!("demo tenant `{}` has user `{}`", case.tenant, case.user))?;
        let body = Bytes::from(check_body(catalog, tenant, user, case.action).to_string());
        let answer = connection
            .send(&post_json(addr, CERBOS_CHECK_PATH, body.clone()))
            .await?;
        if answer.status != 200 {
            bail!(
                "Cerbos answered {} to {}: {}",
                answer.status,
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&answer.body)
            );
        }
        let cerbos = read_answer(&answer.body, case.action)?;
        let expected = CerbosAnswer {
            allowed: case.allowed,
            unmet: case.unmet.clone(),
        };
        if cerbos != expected {
            bail!(
                "Cerbos and clearance disagree on {} / {} / {}: clearance {expected:?}, Cerbos {cerbos:?}",
                case.tenant,
                case.user,
                case.action
            );
        }
        bodies.push(body);
    }
    Ok(bodies)
}

/// Cerbos' answer to one check: the action's effect and the ids its deny
/// rules' outputs named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CerbosAnswer {
    /// `EFFECT_ALLOW`.
    pub allowed: bool,
    /// The requirement ids the action's rule output, sorted, each once.
    pub unmet: Vec<String>,
}

/// Reads a `POST /api/check/resources` answer for `action`.
pub fn read_answer(body: &[u8], action: &str) -> anyhow::Result<CerbosAnswer> {
    let value: Value = serde_json::from_slice(body).context("Cerbos answered JSON")?;
    let result = &value["results"][0];
    let effect = result["actions"][action]
        .as_str()
        .with_context(|| format!("Cerbos' answer has an effect for `{action}`: {value}"))?;
    let mut unmet: Vec<String> = result["outputs"]
        .as_array()
        .map(|outputs| {
            outputs
                .iter()
                .filter_map(|output| output["val"].as_array())
                .flatten()
                .filter_map(|id| id.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    unmet.sort();
    unmet.dedup();
    Ok(CerbosAnswer {
        allowed: effect == "EFFECT_ALLOW",
        unmet,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_one_allow_rule_over_its_requirements_variables() {
        let catalog = Catalog::partner_center();
        let policy = policy(catalog);
        let rules = policy["resourcePolicy"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), catalog.actions.len());
        let variables = policy["resourcePolicy"]["variables"]["local"]
            .as_object()
            .expect("variables");
        for (action, rule) in catalog.actions.iter().zip(rules) {
            assert_eq!(rule["actions"], json!([action.id]));
            assert_eq!(rule["effect"], "EFFECT_ALLOW");
            let all = rule["condition"]["match"]["all"]["of"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            assert_eq!(all.len(), action.all_requirements.len(), "{}", action.id);
            for (entry, requirement) in all.iter().zip(action.all_requirements.iter()) {
                let id = &catalog.requirement(*requirement).id;
                let name = variable(id);
                assert_eq!(entry["expr"], format!("V.{name}"));
                assert!(variables.contains_key(&name), "{name}");
                let output = rule["output"]["when"]["conditionNotMet"]
                    .as_str()
                    .expect("an output");
                assert!(output.contains(&lit(id)), "{output}");
            }
        }
    }

    #[test]
    fn conditions_read_the_request_as_the_body_writes_it() {
        let catalog = Catalog::partner_center();
        let buy = catalog
            .action_ix("membership_offers.buy")
            .expect("the default catalog has Buy");
        for requirement in catalog.action(buy).all_requirements.iter() {
            let expr = met(catalog, &catalog.requirement(*requirement).kind);
            assert!(
                expr.contains("P.attr.roles") || expr.contains("R.attr."),
                "{expr}"
            );
        }
    }

    #[test]
    fn answers_are_read_with_their_outputs() {
        let body = br#"{"requestId":"x","results":[{"resource":{"id":"contoso","kind":"tenant"},
            "actions":{"membership_offers.buy":"EFFECT_DENY"},
            "outputs":[{"src":"resource.tenant.vdefault#membership_offers-buy","val":["b","a","b"]}]}]}"#;
        assert_eq!(
            read_answer(body, "membership_offers.buy").expect("readable"),
            CerbosAnswer {
                allowed: false,
                unmet: vec!["a".into(), "b".into()]
            }
        );
        assert!(read_answer(body, "membership_offers.renew").is_err());
    }
}
