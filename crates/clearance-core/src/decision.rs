//! Access decisions: may this user of this tenant take this action now, and
//! if not, every reason why.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::catalog::{
    Action, ActionIx, Catalog, FixedBy, Requirement, RequirementIx, RequirementKind, Workspace,
};
use crate::prose;
use crate::state::{Tenant, User};

/// The answer for one (tenant, user, action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<'c> {
    /// The action decided.
    pub action: &'c Action,
    /// Every unmet requirement, in catalog order; empty exactly when allowed.
    pub unmet: Vec<Unmet<'c>>,
}

/// One requirement that is not met, with its explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unmet<'c> {
    /// Which requirement.
    pub index: RequirementIx,
    /// The requirement: its reason, who can fix it and the next step.
    pub requirement: &'c Requirement,
}

impl Decision<'_> {
    /// Allowed exactly when no requirement is unmet.
    pub fn allowed(&self) -> bool {
        self.unmet.is_empty()
    }
}

/// Decides whether `user` of `tenant` may take `action` at `now`.
///
/// Lists every unmet requirement, not only the first, in catalog order.
///
/// ```
/// use clearance_core::{Catalog, Scenario, decide};
///
/// let catalog = Catalog::partner_center();
/// let scenario = Scenario::from_toml(catalog, "seed.toml", r#"
///     now = "2026-11-24T10:00:00Z"
///     [tenant]
///     id = "contoso"
///     country = "US"
///     [tenant.programs.maicpp]
///     enrollment = "pending_qualification"
///     verification = "pending"
///     submitted_at = "2026-11-12T09:00:00Z"
///     [user]
///     id = "alice"
///     roles = ["global_admin", "maicpp_partner_admin"]
/// "#)?;
/// // The action the catalog says gates the Membership page.
/// let membership = catalog.gates.membership_page.action().expect("gated in the default catalog");
/// let decision = decide(catalog, &scenario.tenant, &scenario.user, membership, scenario.now);
///
/// // Denied for the enrollment and the verification, not for the roles.
/// let unmet: Vec<&str> = decision.unmet.iter().map(|u| u.requirement.id.as_str()).collect();
/// assert_eq!(unmet, ["maicpp_enrollment_active", "maicpp_verification_authorized"]);
/// # Ok::<(), clearance_core::ScenarioError>(())
/// ```
pub fn decide<'c>(
    catalog: &'c Catalog,
    tenant: &Tenant,
    user: &User,
    action: ActionIx,
    now: Timestamp,
) -> Decision<'c> {
    let action = catalog.action(action);
    // `Vec::new` does not allocate: an allowed decision costs no allocation.
    let mut unmet = Vec::new();
    for (position, &index) in action.all_requirements.iter().enumerate() {
        let requirement = catalog.requirement(index);
        if !is_met(catalog, &requirement.kind, tenant, user, now) {
            if unmet.capacity() == 0 {
                // One allocation for the whole denial, however many are unmet.
                unmet.reserve_exact(action.all_requirements.len() - position);
            }
            unmet.push(Unmet { index, requirement });
        }
    }
    Decision { action, unmet }
}

/// Whether one requirement holds for `user` of `tenant` at `now`.
///
/// Memberships: one is *active* while `now < expires_at`; it is *in its
/// renewal window* from `expires_at - renewal_window_days` (inclusive) until
/// `expires_at` (exclusive). An expired membership cannot be renewed; it is
/// bought again (the "no active membership" requirement then holds).
/// A program the tenant has no record of meets no enrollment, verification or
/// appeals requirement.
pub fn is_met(
    catalog: &Catalog,
    kind: &RequirementKind,
    tenant: &Tenant,
    user: &User,
    now: Timestamp,
) -> bool {
    match kind {
        RequirementKind::AnyRole(roles) => user.roles.intersects(*roles),
        RequirementKind::Enrollment { program, statuses } => tenant
            .program(*program)
            .is_some_and(|record| statuses.contains(&record.enrollment)),
        RequirementKind::Verification { program, statuses } => tenant
            .program(*program)
            .is_some_and(|record| statuses.contains(&record.verification.status)),
        RequirementKind::Agreement(agreement) => tenant.agreements.contains(*agreement),
        RequirementKind::Profile(profile) => tenant.profiles.contains(*profile),
        RequirementKind::CapabilityScoreAtLeast { min } => {
            tenant.capability_score.is_some_and(|score| score >= *min)
        }
        RequirementKind::NoActiveMembership(offer) => tenant
            .membership(*offer)
            .is_none_or(|membership| membership.expires_at <= now),
        RequirementKind::MembershipInRenewalWindow(offer) => {
            tenant.membership(*offer).is_some_and(|membership| {
                // Whole nanoseconds: exact, and cheaper than calendar arithmetic.
                let days = catalog.offer(*offer).renewal_window_days;
                let window = i128::from(days) * 86_400 * 1_000_000_000;
                let expires = membership.expires_at.as_nanosecond();
                let now = now.as_nanosecond();
                expires - window <= now && now < expires
            })
        }
        RequirementKind::PrimaryContactOrRole(roles) => {
            tenant.primary_contact.as_deref() == Some(user.id.as_str())
                || user.roles.intersects(*roles)
        }
        RequirementKind::AppealsLeft(program) => tenant
            .program(*program)
            .is_some_and(|record| record.verification.appeals_used < catalog.vetting.max_appeals),
    }
}

/// One workspace as a navigation bar shows it: open, or locked with reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceAccess<'c> {
    /// The workspace.
    pub workspace: &'c Workspace,
    /// The decision of each of its actions, in catalog order.
    pub actions: Vec<Decision<'c>>,
}

impl WorkspaceAccess<'_> {
    /// Open when at least one of its actions is allowed.
    pub fn open(&self) -> bool {
        self.actions.iter().any(Decision::allowed)
    }
}

/// Every workspace and action for one user at once, in catalog order.
pub fn access<'c>(
    catalog: &'c Catalog,
    tenant: &Tenant,
    user: &User,
    now: Timestamp,
) -> Vec<WorkspaceAccess<'c>> {
    catalog
        .workspaces
        .iter()
        .map(|workspace| WorkspaceAccess {
            workspace,
            actions: workspace
                .actions
                .iter()
                .map(|&action| decide(catalog, tenant, user, action, now))
                .collect(),
        })
        .collect()
}

/// Who can fix a requirement, in words ([`prose::who_can_fix`]): "a Global
/// Admin or Account admin, the primary contact or support"; empty when nobody
/// is named.
pub fn fixed_by_text(catalog: &Catalog, fixed_by: &FixedBy) -> String {
    prose::who_can_fix(catalog, fixed_by).unwrap_or_default()
}

impl Decision<'_> {
    /// The decision as plain text for a person: a ✔/✘ headline, then each
    /// unmet requirement with its reason, who can fix it and the next step.
    pub fn explain(&self, catalog: &Catalog) -> String {
        let action = self.action;
        let mut text = String::new();
        if self.allowed() {
            let _ = writeln!(text, "✔ {} ({}): allowed", action.id, action.name);
            return text;
        }
        let count = self.unmet.len();
        let plural = if count == 1 { "" } else { "s" };
        let _ = writeln!(
            text,
            "✘ {} ({}): denied, {count} unmet requirement{plural}",
            action.id, action.name
        );
        for (n, unmet) in self.unmet.iter().enumerate() {
            let requirement = unmet.requirement;
            let _ = writeln!(text, "  {}. {}", n + 1, requirement.reason);
            let _ = writeln!(
                text,
                "     requirement: {} ({})",
                requirement.id,
                requirement.kind.name()
            );
            let _ = writeln!(
                text,
                "     who can fix: {}",
                fixed_by_text(catalog, &requirement.fixed_by)
            );
            let _ = writeln!(
                text,
                "     next step:   {} → {}",
                requirement.next_step.code, requirement.next_step.page
            );
        }
        text
    }
}

#[cfg(test)]
mod tests;
