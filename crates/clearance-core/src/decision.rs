//! Access decisions: may this user of this tenant take this action now, and
//! if not, every reason why.

use jiff::Timestamp;

use crate::catalog::{Action, ActionIx, Catalog, Requirement, RequirementIx, Workspace};
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
    let _ = (catalog, tenant, user, action, now);
    todo!("helper implements")
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
    let _ = (catalog, tenant, user, now);
    todo!("helper implements")
}
