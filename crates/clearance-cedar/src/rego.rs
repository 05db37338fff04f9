//! Any clearance catalog for a Rego policy run by `regorus`: the second rival.
//!
//! The policy ([`POLICY`]) is written once, by hand: it evaluates each
//! requirement kind, as clearance's `is_met` does. The catalog becomes data:
//! each requirement with its kind and fields, and each action's requirement
//! ids. For each request the policy walks only the action's requirements, so
//! its cost follows the action's size, not the catalog's. The input holds the
//! action, `now` (milliseconds since the epoch), the tenant and the user; the
//! result (`data.clearance.unmet`) is the set of unmet requirement ids.

use std::collections::{BTreeMap, BTreeSet};

use clearance_core::catalog::{ActionIx, RequirementKind};
use clearance_core::{Catalog, Tenant, User};
use jiff::Timestamp;
use regorus::{Engine, Value};
use serde_json::{Map, json};

use crate::TranslateError;

/// The Rego policy: `unmet` is the set of the action's unmet requirement ids.
pub const POLICY: &str = r#"package clearance

import rego.v1

unmet contains id if {
	some id in data.catalog.requires[input.action]
	not met(data.catalog.requirements[id])
}

met(r) if {
	r.kind == "any_role"
	some role in input.user.roles
	role in r.roles
}

met(r) if {
	r.kind == "enrollment"
	input.tenant.programs[r.program].enrollment in r.statuses
}

met(r) if {
	r.kind == "verification"
	input.tenant.programs[r.program].verification in r.statuses
}

met(r) if {
	r.kind == "agreement"
	r.agreement in input.tenant.agreements
}

met(r) if {
	r.kind == "profile"
	r.profile in input.tenant.profiles
}

met(r) if {
	r.kind == "capability_score_at_least"
	input.tenant.capability_score >= r.min
}

met(r) if {
	r.kind == "no_active_membership"
	not input.tenant.memberships[r.offer]
}

met(r) if {
	r.kind == "no_active_membership"
	input.tenant.memberships[r.offer] <= input.now
}

met(r) if {
	r.kind == "membership_in_renewal_window"
	expires := input.tenant.memberships[r.offer]
	expires - r.window_ms <= input.now
	input.now < expires
}

met(r) if {
	r.kind == "primary_contact_or_role"
	input.tenant.primary_contact == input.user.id
}

met(r) if {
	r.kind == "primary_contact_or_role"
	some role in input.user.roles
	role in r.roles
}

met(r) if {
	r.kind == "appeals_left"
	input.tenant.programs[r.program].appeals_used < data.catalog.max_appeals
}
"#;

/// The rule that holds the answer.
pub const RULE: &str = "data.clearance.unmet";

/// A catalog loaded into a regorus engine.
pub struct RegoCatalog {
    engine: Engine,
    /// Each action's id as a Rego string, by action index.
    actions: Vec<Value>,
    keys: Keys,
}

/// The input's keys, built once.
struct Keys {
    action: Value,
    now: Value,
    tenant: Value,
    user: Value,
}

/// A tenant and a user as Rego values, built once per case.
#[derive(Clone)]
pub struct RegoCase {
    tenant: Value,
    user: Value,
}

impl RegoCatalog {
    /// Loads [`POLICY`] and the catalog as data into a fresh engine.
    pub fn translate(catalog: &Catalog) -> Result<RegoCatalog, TranslateError> {
        let mut engine = Engine::new();
        engine
            .add_policy("clearance.rego".to_string(), POLICY.to_string())
            .map_err(|e| TranslateError::Rego(e.to_string()))?;
        engine
            .add_data(Value::from(catalog_data(catalog)))
            .map_err(|e| TranslateError::Rego(e.to_string()))?;
        Ok(RegoCatalog {
            engine,
            actions: catalog
                .actions
                .iter()
                .map(|a| Value::from(a.id.as_str()))
                .collect(),
            keys: Keys {
                action: Value::from("action"),
                now: Value::from("now"),
                tenant: Value::from("tenant"),
                user: Value::from("user"),
            },
        })
    }

    /// The tenant and the user as Rego values.
    pub fn case(catalog: &Catalog, tenant: &Tenant, user: &User) -> RegoCase {
        RegoCase {
            tenant: Value::from(tenant_json(catalog, tenant)),
            user: Value::from(json!({
                "id": user.id,
                "roles": user.roles.iter().map(|r| catalog.role(r).id.as_str()).collect::<Vec<_>>(),
            })),
        }
    }

    /// `now` as the policy's input wants it.
    pub fn now(now: Timestamp) -> Value {
        Value::from(now.as_millisecond())
    }

    /// Builds the input for `action` and evaluates the policy: the whole
    /// per-request work.
    pub fn unmet_value(
        &mut self,
        case: &RegoCase,
        action: ActionIx,
        now: &Value,
    ) -> Result<Value, TranslateError> {
        let input = BTreeMap::from([
            (
                self.keys.action.clone(),
                self.actions[action.index()].clone(),
            ),
            (self.keys.now.clone(), now.clone()),
            (self.keys.tenant.clone(), case.tenant.clone()),
            (self.keys.user.clone(), case.user.clone()),
        ]);
        self.engine.set_input(Value::from(input));
        self.engine
            .eval_rule(RULE.to_string())
            .map_err(|e| TranslateError::Rego(e.to_string()))
    }

    /// The ids of the unmet requirements of `action` at `now`.
    pub fn unmet(
        &mut self,
        case: &RegoCase,
        action: ActionIx,
        now: Timestamp,
    ) -> Result<BTreeSet<String>, TranslateError> {
        let value = self.unmet_value(case, action, &Self::now(now))?;
        let set = value
            .as_set()
            .map_err(|e| TranslateError::Rego(format!("`unmet` is not a set: {e}")))?;
        set.iter()
            .map(|v| {
                v.as_string()
                    .map(|s| s.to_string())
                    .map_err(|e| TranslateError::Rego(e.to_string()))
            })
            .collect()
    }
}

/// The catalog as the policy's data document.
pub fn catalog_data(catalog: &Catalog) -> serde_json::Value {
    let ids = |set: clearance_core::catalog::Set<clearance_core::catalog::RoleIx>| {
        set.iter()
            .map(|r| catalog.role(r).id.clone())
            .collect::<Vec<_>>()
    };
    let mut requirements = Map::new();
    for requirement in &catalog.requirements {
        let value = match &requirement.kind {
            RequirementKind::AnyRole(roles) => json!({"kind": "any_role", "roles": ids(*roles)}),
            RequirementKind::Enrollment { program, statuses } => json!({
                "kind": "enrollment",
                "program": catalog.program(*program).id,
                "statuses": statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            }),
            RequirementKind::Verification { program, statuses } => json!({
                "kind": "verification",
                "program": catalog.program(*program).id,
                "statuses": statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            }),
            RequirementKind::Agreement(a) => json!({
                "kind": "agreement",
                "agreement": catalog.agreement(*a).id,
            }),
            RequirementKind::Profile(p) => json!({
                "kind": "profile",
                "profile": catalog.profile(*p).id,
            }),
            RequirementKind::CapabilityScoreAtLeast { min } => {
                json!({"kind": "capability_score_at_least", "min": min})
            }
            RequirementKind::NoActiveMembership(o) => json!({
                "kind": "no_active_membership",
                "offer": catalog.offer(*o).id,
            }),
            RequirementKind::MembershipInRenewalWindow(o) => {
                let offer = catalog.offer(*o);
                json!({
                    "kind": "membership_in_renewal_window",
                    "offer": offer.id,
                    "window_ms": i64::from(offer.renewal_window_days) * 86_400_000,
                })
            }
            RequirementKind::PrimaryContactOrRole(roles) => {
                json!({"kind": "primary_contact_or_role", "roles": ids(*roles)})
            }
            RequirementKind::AppealsLeft(p) => json!({
                "kind": "appeals_left",
                "program": catalog.program(*p).id,
            }),
        };
        requirements.insert(requirement.id.clone(), value);
    }
    let requires: Map<String, serde_json::Value> = catalog
        .actions
        .iter()
        .map(|action| {
            let ids: Vec<&str> = action
                .all_requirements
                .iter()
                .map(|r| catalog.requirement(*r).id.as_str())
                .collect();
            (action.id.clone(), json!(ids))
        })
        .collect();
    json!({"catalog": {
        "requirements": requirements,
        "requires": requires,
        "max_appeals": catalog.vetting.max_appeals,
    }})
}

/// The tenant as the policy's input wants it.
pub fn tenant_json(catalog: &Catalog, tenant: &Tenant) -> serde_json::Value {
    let mut value = json!({
        "id": tenant.id,
        "agreements": tenant.agreements.iter().map(|a| catalog.agreement(a).id.as_str()).collect::<Vec<_>>(),
        "profiles": tenant.profiles.iter().map(|p| catalog.profile(p).id.as_str()).collect::<Vec<_>>(),
        "programs": tenant.programs.iter().map(|record| (
            catalog.program(record.program).id.clone(),
            json!({
                "enrollment": record.enrollment.as_str(),
                "verification": record.verification.status.as_str(),
                "appeals_used": record.verification.appeals_used,
            }),
        )).collect::<Map<_, _>>(),
        "memberships": tenant.memberships.iter().map(|m| (
            catalog.offer(m.offer).id.clone(),
            json!(m.expires_at.as_millisecond()),
        )).collect::<Map<_, _>>(),
    });
    let object = value.as_object_mut().expect("built as an object");
    if let Some(score) = tenant.capability_score {
        object.insert("capability_score".into(), json!(score));
    }
    if let Some(contact) = &tenant.primary_contact {
        object.insert("primary_contact".into(), json!(contact));
    }
    value
}
