//! The vetting workflow and every other change to a tenant, as a state machine
//! over events.
//!
//! A [`Command`] is what someone asks for; [`execute`] checks it against the
//! catalog's rules and the tenant's state and returns the [`Event`]s it causes,
//! or a [`WorkflowError`] naming the rule that refused it (nothing changes).
//! [`Tenant::apply`] folds one event into the state; a tenant's state is the
//! fold of all its events.

use crate::vocabulary::stable_codes;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::state::Tenant;

mod apply;
mod command;
mod error;
mod event;
mod execute;

pub use command::Command;
pub use error::WorkflowError;
pub use event::Event;

/// Who asks for a change. Recorded with every event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A user of the tenant itself.
    Partner {
        /// The user's id within the tenant.
        user: String,
    },
    /// The operator's support staff.
    Support {
        /// The staff member's id.
        id: String,
        /// Their role.
        role: SupportRole,
    },
    /// The service itself (the SLA sweeper).
    System,
}

stable_codes! {
    /// Roles of the operator's support staff.
    pub enum SupportRole {
        /// Works vetting reviews and support cases.
        SupportAgent,
        /// As an agent, plus tenant and token administration.
        SupportAdmin,
    }
}

impl Actor {
    /// The id recorded as the author of cases, comments and appeals: the
    /// user's id, the staff member's id, or `system`.
    pub fn id(&self) -> &str {
        match self {
            Self::Partner { user } => user,
            Self::Support { id, .. } => id,
            Self::System => "system",
        }
    }
}

/// Checks `command` by `actor` against the rules and returns the events it causes.
///
/// Never changes `tenant`; fold the events with [`Tenant::apply`] to get the
/// new state. A refused command returns the [`WorkflowError`] of the first
/// rule that refused it. Checks run in this order: the tenant exists, the
/// acting partner is a user of it, the command's fields and ids are valid, the
/// actor may issue the command, and the tenant's state allows it (for partner
/// commands gated by a catalog action, the action's [`decide`](crate::decide)
/// comes last and lists every unmet requirement).
pub fn execute(
    catalog: &Catalog,
    tenant: &Tenant,
    actor: &Actor,
    command: &Command,
    now: Timestamp,
) -> Result<Vec<Event>, WorkflowError> {
    execute::execute(catalog, tenant, actor, command, now)
}

/// Rebuilds a tenant's state by folding its events, each with the time it was
/// recorded, in order.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use clearance_core::Catalog;
/// use clearance_core::workflow::{Event, replay};
///
/// let catalog = Catalog::partner_center();
/// let at = "2026-11-02T09:00:00Z".parse()?;
/// let created = Event::TenantCreated {
///     country: "US".into(),
///     admin: "alice".into(),
///     roles: vec!["global_admin".into()],
/// };
/// let tenant = replay(catalog, "contoso", [(created, at)])?;
/// assert_eq!(tenant.primary_contact.as_deref(), Some("alice"));
/// assert_eq!(tenant.version, 1);
/// # Ok(())
/// # }
/// ```
pub fn replay(
    catalog: &Catalog,
    id: &str,
    events: impl IntoIterator<Item = (Event, Timestamp)>,
) -> Result<Tenant, WorkflowError> {
    let mut tenant = Tenant::new(id, "");
    for (event, at) in events {
        tenant.apply(catalog, &event, at)?;
    }
    Ok(tenant)
}

impl Tenant {
    /// Folds one event, recorded at `at`, into the state (`version` grows by one).
    ///
    /// Events were validated when executed; an event naming an id the catalog
    /// no longer has, or a record the state lacks, is an error (the catalog
    /// changed under stored history) and leaves the state unchanged.
    pub fn apply(
        &mut self,
        catalog: &Catalog,
        event: &Event,
        at: Timestamp,
    ) -> Result<(), WorkflowError> {
        apply::apply(self, catalog, event, at)
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantNames;

    use super::*;
    use crate::state::{EnrollmentStatus, VerificationStatus};

    /// `name()` is the serde `type` tag of every variant, and `names` covers every variant.
    fn names_are_type_tags<T: Serialize>(
        samples: &[T],
        name: fn(&T) -> &'static str,
        names: &[&str],
    ) {
        let mut seen = Vec::new();
        for sample in samples {
            let json = serde_json::to_value(sample).expect("serializes");
            assert_eq!(json["type"], name(sample));
            seen.push(name(sample));
        }
        assert_eq!(seen, names, "one sample per variant, in declaration order");
    }

    fn text() -> String {
        "x".to_owned()
    }

    #[test]
    fn command_names_are_their_type_tags() {
        use Command::*;
        let program = text;
        names_are_type_tags(
            &[
                CreateTenant {
                    country: text(),
                    admin: text(),
                    roles: vec![],
                },
                AddUser {
                    user: text(),
                    roles: vec![],
                },
                RemoveUser { user: text() },
                Enroll { program: program() },
                SubmitVerification { program: program() },
                StartReview { program: program() },
                Authorize { program: program() },
                Reject {
                    program: program(),
                    reason: text(),
                },
                Challenge {
                    program: program(),
                    reason: text(),
                    documents: vec![],
                },
                Appeal {
                    program: program(),
                    document_type: text(),
                    document: text(),
                },
                Escalate { program: program() },
                MarkOverdue { program: program() },
                SetEnrollment {
                    program: program(),
                    status: EnrollmentStatus::Active,
                },
                AcceptAgreement { agreement: text() },
                GrantRoles {
                    user: text(),
                    roles: vec![],
                },
                RevokeRoles {
                    user: text(),
                    roles: vec![],
                },
                UpdateProfile {
                    profile: text(),
                    complete: true,
                },
                UpdateCapabilityScore { score: 1 },
                BuyMembership { offer: text() },
                RenewMembership { offer: text() },
                OpenCase {
                    subject: text(),
                    program: None,
                    body: text(),
                },
                CommentCase {
                    case: text(),
                    body: text(),
                },
                ResolveCase {
                    case: text(),
                    resolution: text(),
                },
            ],
            Command::name,
            Command::VARIANTS,
        );
    }

    #[test]
    fn event_names_are_their_type_tags() {
        use Event::*;
        let at = Timestamp::UNIX_EPOCH;
        names_are_type_tags(
            &[
                TenantCreated {
                    country: text(),
                    admin: text(),
                    roles: vec![],
                },
                UserAdded {
                    user: text(),
                    roles: vec![],
                },
                UserRemoved { user: text() },
                Enrolled { program: text() },
                EnrollmentChanged {
                    program: text(),
                    status: EnrollmentStatus::Active,
                },
                VerificationChanged {
                    program: text(),
                    status: VerificationStatus::Pending,
                    reason: None,
                    documents: vec![],
                },
                AppealSubmitted {
                    program: text(),
                    document_type: text(),
                    document: text(),
                    by: text(),
                },
                MarkedOverdue { program: text() },
                Escalated {
                    program: text(),
                    case: text(),
                },
                AgreementAccepted { agreement: text() },
                RolesGranted {
                    user: text(),
                    roles: vec![],
                },
                RolesRevoked {
                    user: text(),
                    roles: vec![],
                },
                ProfileUpdated {
                    profile: text(),
                    complete: false,
                },
                CapabilityScoreUpdated { score: 1 },
                MembershipBought {
                    offer: text(),
                    expires_at: at,
                },
                MembershipRenewed {
                    offer: text(),
                    expires_at: at,
                },
                CaseOpened {
                    case: text(),
                    subject: text(),
                    program: None,
                    body: text(),
                    by: text(),
                },
                CaseCommented {
                    case: text(),
                    body: text(),
                    by: text(),
                },
                CaseResolved {
                    case: text(),
                    resolution: text(),
                    by: text(),
                },
            ],
            Event::name,
            Event::VARIANTS,
        );
    }
}
