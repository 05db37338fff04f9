//! Any clearance catalog as Cedar: a schema, one `forbid` per requirement and
//! one `permit`, and a tenant and its user as entities.
//!
//! The translation reads the catalog's raw structure (each workspace's own
//! requirements, its parent, each action's own requirements), not the
//! flattened `Action::all_requirements`: workspaces become Cedar action groups
//! (`Action::"workspace:<id>"`, nested like the workspaces) and a requirement
//! is scoped to the groups and actions that list it. So the differential test
//! also checks the loader's flattening of the workspace chain.
//!
//! Shape:
//! - `User::"<id>"` with `roles: Set<String>`.
//! - `Tenant::"<id>"` with `agreements` and `profiles` (sets of ids),
//!   `capability_score?: Long`, `primary_contact?: User`, `programs` (a record
//!   with an optional `ProgramRecord` per program: enrollment, verification,
//!   appeals used) and `memberships` (a record with an optional `datetime`
//!   expiry per offer).
//! - Context `{ now: datetime }`: time is compared by Cedar itself, so the
//!   entities do not depend on the moment of the request.
//! - Policy id = requirement id (plus an `@id` annotation with the same text);
//!   the permit is `permit:all`, which no requirement id can be (ids hold no
//!   `:`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy,
    PolicyId, PolicySet, Request, Response, RestrictedExpression, Schema, ValidationMode,
    Validator,
};
use clearance_core::catalog::{ActionIx, RequirementKind, RoleIx, Set};
use clearance_core::{Catalog, Tenant, User};
use jiff::Timestamp;

use crate::{TranslateError, cedar_datetime};

/// The policy id of the one `permit`.
pub const PERMIT_ID: &str = "permit:all";

/// A catalog translated into Cedar.
pub struct CedarCatalog {
    schema: Schema,
    schema_text: String,
    policies: PolicySet,
    policies_text: String,
    /// `Action::"<id>"` of each catalog action, by action index.
    actions: Vec<EntityUid>,
    authorizer: Authorizer,
}

/// One tenant and one user as Cedar entities, built once (as a policy
/// decision point with a cached entity store would).
pub struct CedarCase {
    entities: Entities,
    principal: EntityUid,
    resource: EntityUid,
}

/// Cedar's answer in clearance's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CedarDecision {
    /// Cedar said Allow.
    pub allowed: bool,
    /// The ids of the `forbid` policies that decided a Deny (empty on Allow).
    pub unmet: BTreeSet<String>,
    /// Evaluation errors Cedar reported (a correct translation has none).
    pub errors: Vec<String>,
}

impl CedarCatalog {
    /// Translates `catalog`: schema, policies, and each action's uid.
    pub fn translate(catalog: &Catalog) -> Result<CedarCatalog, TranslateError> {
        let schema_text = schema_text(catalog);
        let (schema, _warnings) = Schema::from_cedarschema_str(&schema_text)
            .map_err(|e| TranslateError::Schema(format!("{e:?}\n{schema_text}")))?;

        let mut policies = PolicySet::new();
        let mut policies_text = String::new();
        for (id, text) in policy_texts(catalog) {
            let policy = Policy::parse(Some(PolicyId::new(&id)), &text).map_err(|e| {
                TranslateError::Policy {
                    id: id.clone(),
                    message: format!("{e:?}\n{text}"),
                }
            })?;
            policies.add(policy).map_err(|e| TranslateError::Policy {
                id: id.clone(),
                message: e.to_string(),
            })?;
            policies_text.push_str(&text);
            policies_text.push('\n');
        }
        let actions = catalog
            .actions
            .iter()
            .map(|a| action_uid(&a.id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CedarCatalog {
            schema,
            schema_text,
            policies,
            policies_text,
            actions,
            authorizer: Authorizer::new(),
        })
    }

    /// The schema, in Cedar's schema syntax.
    pub fn schema_text(&self) -> &str {
        &self.schema_text
    }

    /// The policies: one `forbid` per requirement some action needs, then
    /// [`PERMIT_ID`].
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// Every policy, in Cedar's syntax.
    pub fn policies_text(&self) -> &str {
        &self.policies_text
    }

    /// Cedar's validator's complaints about the policies against the schema
    /// (strict mode); empty for a correct translation.
    pub fn validate(&self) -> Vec<String> {
        let validator = Validator::new(self.schema.clone());
        let result = validator.validate(&self.policies, ValidationMode::Strict);
        result
            .validation_errors()
            .map(|e| format!("{e:?}"))
            .chain(result.validation_warnings().map(|w| format!("{w:?}")))
            .collect()
    }

    /// The entities of `tenant` and `user` (checked against the schema, with
    /// the catalog's action hierarchy).
    pub fn case(
        &self,
        catalog: &Catalog,
        tenant: &Tenant,
        user: &User,
    ) -> Result<CedarCase, TranslateError> {
        let principal = uid("User", &user.id)?;
        let resource = uid("Tenant", &tenant.id)?;

        let user_entity = Entity::new(
            principal.clone(),
            HashMap::from([("roles".to_string(), role_strings(catalog, user.roles))]),
            HashSet::new(),
        )
        .map_err(|e| TranslateError::Entities(e.to_string()))?;

        let mut attrs: HashMap<String, RestrictedExpression> = HashMap::new();
        attrs.insert(
            "agreements".into(),
            strings(tenant.agreements.iter().map(|a| &catalog.agreement(a).id)),
        );
        attrs.insert(
            "profiles".into(),
            strings(tenant.profiles.iter().map(|p| &catalog.profile(p).id)),
        );
        if let Some(score) = tenant.capability_score {
            attrs.insert(
                "capability_score".into(),
                RestrictedExpression::new_long(i64::from(score)),
            );
        }
        if let Some(contact) = &tenant.primary_contact {
            attrs.insert(
                "primary_contact".into(),
                RestrictedExpression::new_entity_uid(uid("User", contact)?),
            );
        }
        let programs = tenant.programs.iter().map(|record| {
            let fields = [
                (
                    "enrollment".to_string(),
                    RestrictedExpression::new_string(record.enrollment.as_str().into()),
                ),
                (
                    "verification".to_string(),
                    RestrictedExpression::new_string(record.verification.status.as_str().into()),
                ),
                (
                    "appeals_used".to_string(),
                    RestrictedExpression::new_long(i64::from(record.verification.appeals_used)),
                ),
            ];
            let value = RestrictedExpression::new_record(fields)
                .map_err(|e| TranslateError::Entities(e.to_string()))?;
            Ok((catalog.program(record.program).id.clone(), value))
        });
        let programs = programs.collect::<Result<Vec<_>, TranslateError>>()?;
        attrs.insert(
            "programs".into(),
            RestrictedExpression::new_record(programs)
                .map_err(|e| TranslateError::Entities(e.to_string()))?,
        );
        let memberships = tenant.memberships.iter().map(|m| {
            Ok((
                catalog.offer(m.offer).id.clone(),
                RestrictedExpression::new_datetime(cedar_datetime(m.expires_at)?),
            ))
        });
        let memberships = memberships.collect::<Result<Vec<_>, TranslateError>>()?;
        attrs.insert(
            "memberships".into(),
            RestrictedExpression::new_record(memberships)
                .map_err(|e| TranslateError::Entities(e.to_string()))?,
        );
        let tenant_entity = Entity::new(resource.clone(), attrs, HashSet::new())
            .map_err(|e| TranslateError::Entities(e.to_string()))?;

        let entities = Entities::from_entities([user_entity, tenant_entity], Some(&self.schema))
            .map_err(|e| TranslateError::Entities(format!("{e:?}")))?;
        Ok(CedarCase {
            entities,
            principal,
            resource,
        })
    }

    /// The request context for the moment `now`.
    pub fn context(&self, now: Timestamp) -> Result<Context, TranslateError> {
        Context::from_pairs([(
            "now".to_string(),
            RestrictedExpression::new_datetime(cedar_datetime(now)?),
        )])
        .map_err(|e| TranslateError::Request(e.to_string()))
    }

    /// Builds the request for `action` and asks Cedar: the whole per-request
    /// work of a policy decision point whose entities are cached.
    pub fn is_authorized(&self, case: &CedarCase, action: ActionIx, context: &Context) -> Response {
        let request = Request::new(
            case.principal.clone(),
            self.actions[action.index()].clone(),
            case.resource.clone(),
            context.clone(),
            None,
        )
        .expect("without a schema, a request is always well-formed");
        self.authorizer
            .is_authorized(&request, &self.policies, &case.entities)
    }

    /// Cedar's decision for `action` at `now`, in clearance's terms.
    pub fn decide(
        &self,
        case: &CedarCase,
        action: ActionIx,
        now: Timestamp,
    ) -> Result<CedarDecision, TranslateError> {
        let response = self.is_authorized(case, action, &self.context(now)?);
        let allowed = response.decision() == Decision::Allow;
        let diagnostics = response.diagnostics();
        let unmet = if allowed {
            BTreeSet::new()
        } else {
            diagnostics.reason().map(|id| id.to_string()).collect()
        };
        Ok(CedarDecision {
            allowed,
            unmet,
            errors: diagnostics.errors().map(|e| e.to_string()).collect(),
        })
    }

    /// The uid of every action, by action index.
    pub fn action_uids(&self) -> &[EntityUid] {
        &self.actions
    }
}

fn uid(type_name: &str, id: &str) -> Result<EntityUid, TranslateError> {
    let type_name =
        EntityTypeName::from_str(type_name).map_err(|e| TranslateError::Entities(e.to_string()))?;
    Ok(EntityUid::from_type_name_and_id(
        type_name,
        EntityId::new(id),
    ))
}

fn action_uid(id: &str) -> Result<EntityUid, TranslateError> {
    uid("Action", id)
}

fn strings<'a>(items: impl Iterator<Item = &'a String>) -> RestrictedExpression {
    RestrictedExpression::new_set(items.map(|s| RestrictedExpression::new_string(s.clone())))
}

fn role_strings(catalog: &Catalog, roles: Set<RoleIx>) -> RestrictedExpression {
    strings(roles.iter().map(|r| &catalog.role(r).id))
}

/// A Cedar string literal (ids hold only `a-z0-9_.-`, but quote properly anyway).
fn lit(text: &str) -> String {
    format!("{text:?}")
}

fn workspace_group(id: &str) -> String {
    format!("workspace:{id}")
}

/// The schema of a catalog, in Cedar's schema syntax.
pub fn schema_text(catalog: &Catalog) -> String {
    let mut s = String::new();
    s.push_str(
        "type ProgramRecord = { enrollment: String, verification: String, appeals_used: Long };\n",
    );
    s.push_str("entity User = { roles: Set<String> };\n");
    s.push_str("entity Tenant = {\n  agreements: Set<String>,\n  profiles: Set<String>,\n");
    s.push_str("  capability_score?: Long,\n  primary_contact?: User,\n  programs: {\n");
    for program in &catalog.programs {
        let _ = writeln!(s, "    {}?: ProgramRecord,", lit(&program.id));
    }
    s.push_str("  },\n  memberships: {\n");
    for offer in &catalog.offers {
        let _ = writeln!(s, "    {}?: datetime,", lit(&offer.id));
    }
    s.push_str("  },\n};\n");
    for workspace in &catalog.workspaces {
        let _ = write!(s, "action {}", lit(&workspace_group(&workspace.id)));
        if let Some(parent) = workspace.parent {
            let parent = &catalog.workspace(parent).id;
            let _ = write!(s, " in [{}]", lit(&workspace_group(parent)));
        }
        s.push_str(";\n");
    }
    for action in &catalog.actions {
        let workspace = &catalog.workspace(action.workspace).id;
        let _ = writeln!(
            s,
            "action {} in [{}] appliesTo {{ principal: [User], resource: [Tenant], context: {{ now: datetime }} }};",
            lit(&action.id),
            lit(&workspace_group(workspace)),
        );
    }
    s
}

/// `(policy id, policy text)` of every requirement that some action needs,
/// then the permit.
pub fn policy_texts(catalog: &Catalog) -> Vec<(String, String)> {
    // Workspaces that hold an action, directly or through a child: a scope
    // naming only empty workspaces could match no request (and Cedar's
    // validator calls such a policy impossible).
    let mut in_use = vec![false; catalog.workspaces.len()];
    for action in &catalog.actions {
        let mut current = Some(action.workspace);
        while let Some(workspace) = current {
            if in_use[workspace.index()] {
                break;
            }
            in_use[workspace.index()] = true;
            current = catalog.workspace(workspace).parent;
        }
    }
    // Where each requirement is listed: workspace groups and actions.
    let mut scopes: Vec<Vec<String>> = vec![Vec::new(); catalog.requirements.len()];
    for (workspace, _) in catalog
        .workspaces
        .iter()
        .zip(&in_use)
        .filter(|(_, used)| **used)
    {
        for requirement in &workspace.requires {
            scopes[requirement.index()].push(workspace_group(&workspace.id));
        }
    }
    for action in &catalog.actions {
        for requirement in &action.requires {
            scopes[requirement.index()].push(action.id.clone());
        }
    }
    let mut out = Vec::new();
    for (requirement, scope) in catalog.requirements.iter().zip(&scopes) {
        if scope.is_empty() {
            // No action needs it: it is never unmet.
            continue;
        }
        let scope: Vec<String> = scope
            .iter()
            .map(|id| format!("Action::{}", lit(id)))
            .collect();
        let condition = condition(catalog, &requirement.kind);
        let text = format!(
            "@id({id})\nforbid (principal, action in [{scope}], resource)\nunless {{ {condition} }};\n",
            id = lit(&requirement.id),
            scope = scope.join(", "),
        );
        out.push((requirement.id.clone(), text));
    }
    out.push((
        PERMIT_ID.to_string(),
        format!(
            "@id({})\npermit (principal, action, resource);\n",
            lit(PERMIT_ID)
        ),
    ));
    out
}

fn string_set<'a>(items: impl Iterator<Item = &'a str>) -> Option<String> {
    let items: Vec<String> = items.map(lit).collect();
    (!items.is_empty()).then(|| format!("[{}]", items.join(", ")))
}

fn any_role(catalog: &Catalog, roles: Set<RoleIx>) -> String {
    match string_set(roles.iter().map(|r| catalog.role(r).id.as_str())) {
        Some(set) => format!("principal.roles.containsAny({set})"),
        // No role can satisfy an empty list (and Cedar's validator refuses an
        // empty set literal).
        None => "false".to_string(),
    }
}

/// The condition under which a requirement is met, as a Cedar expression.
fn condition(catalog: &Catalog, kind: &RequirementKind) -> String {
    let program = |p: &clearance_core::catalog::ProgramIx| {
        format!("resource.programs[{}]", lit(&catalog.program(*p).id))
    };
    let has_program = |p: &clearance_core::catalog::ProgramIx| {
        format!("resource.programs has {}", lit(&catalog.program(*p).id))
    };
    let membership = |o: &clearance_core::catalog::OfferIx| {
        format!("resource.memberships[{}]", lit(&catalog.offer(*o).id))
    };
    let has_membership = |o: &clearance_core::catalog::OfferIx| {
        format!("resource.memberships has {}", lit(&catalog.offer(*o).id))
    };
    match kind {
        RequirementKind::AnyRole(roles) => any_role(catalog, *roles),
        RequirementKind::Enrollment {
            program: p,
            statuses,
        } => match string_set(statuses.iter().map(|s| s.as_str())) {
            Some(set) => format!(
                "{} && {set}.contains({}.enrollment)",
                has_program(p),
                program(p)
            ),
            None => "false".to_string(),
        },
        RequirementKind::Verification {
            program: p,
            statuses,
        } => match string_set(statuses.iter().map(|s| s.as_str())) {
            Some(set) => format!(
                "{} && {set}.contains({}.verification)",
                has_program(p),
                program(p)
            ),
            None => "false".to_string(),
        },
        RequirementKind::Agreement(a) => format!(
            "resource.agreements.contains({})",
            lit(&catalog.agreement(*a).id)
        ),
        RequirementKind::Profile(p) => format!(
            "resource.profiles.contains({})",
            lit(&catalog.profile(*p).id)
        ),
        RequirementKind::CapabilityScoreAtLeast { min } => {
            format!("resource has capability_score && resource.capability_score >= {min}")
        }
        // `if` rather than `!has || ...`: the validator follows the guard
        // into the `then` branch only.
        RequirementKind::NoActiveMembership(o) => format!(
            "if {} then {} <= context.now else true",
            has_membership(o),
            membership(o)
        ),
        RequirementKind::MembershipInRenewalWindow(o) => {
            let days = catalog.offer(*o).renewal_window_days;
            format!(
                "{has} && {m} <= context.now.offset(duration(\"{days}d\")) && context.now < {m}",
                has = has_membership(o),
                m = membership(o),
            )
        }
        RequirementKind::PrimaryContactOrRole(roles) => format!(
            "(resource has primary_contact && resource.primary_contact == principal) || {}",
            any_role(catalog, *roles)
        ),
        RequirementKind::AppealsLeft(p) => format!(
            "{} && {}.appeals_used < {}",
            has_program(p),
            program(p),
            catalog.vetting.max_appeals
        ),
    }
}
