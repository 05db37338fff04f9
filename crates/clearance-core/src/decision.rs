//! Access decisions: may this user of this tenant take this action now, and
//! if not, every reason why.

use jiff::{SignedDuration, Timestamp};

use crate::catalog::{
    Action, ActionIx, Catalog, Requirement, RequirementIx, RequirementKind, Workspace,
};
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
pub fn decide<'c>(
    catalog: &'c Catalog,
    tenant: &Tenant,
    user: &User,
    action: ActionIx,
    now: Timestamp,
) -> Decision<'c> {
    let action = &catalog.actions[action.index()];
    // `Vec::new` does not allocate: an allowed decision costs no allocation.
    let mut unmet = Vec::new();
    for &index in &action.all_requirements {
        let requirement = &catalog.requirements[index.index()];
        if !is_met(catalog, &requirement.kind, tenant, user, now) {
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
        RequirementKind::NoActiveMembership(offer) => !tenant
            .membership(*offer)
            .is_some_and(|membership| now < membership.expires_at),
        RequirementKind::MembershipInRenewalWindow(offer) => {
            tenant.membership(*offer).is_some_and(|membership| {
                let days = catalog.offers[offer.index()].renewal_window_days;
                let window = SignedDuration::from_hours(i64::from(days) * 24);
                // A window reaching before the earliest timestamp is open from it.
                let opens = membership
                    .expires_at
                    .checked_sub(window)
                    .unwrap_or(Timestamp::MIN);
                opens <= now && now < membership.expires_at
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
