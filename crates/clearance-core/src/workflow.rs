//! The vetting workflow and every other change to a tenant, as a state machine
//! over events.
//!
//! A [`Command`] is what someone asks for; [`execute`] checks it against the
//! catalog's rules and the tenant's state and returns the [`Event`]s it causes,
//! or a [`WorkflowError`] naming the rule that refused it (nothing changes).
//! [`Tenant::apply`] folds one event into the state; a tenant's state is the
//! fold of all its events.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::state::{EnrollmentStatus, Tenant, VerificationStatus};

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

/// Roles of the operator's support staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportRole {
    /// Works vetting reviews and support cases.
    SupportAgent,
    /// As an agent, plus tenant and token administration.
    SupportAdmin,
}

/// A request to change a tenant. Ids are the catalog's and the tenant's string ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Create the tenant with its first (admin) user. Support only.
    CreateTenant {
        /// ISO 3166 alpha-2.
        country: String,
        /// The first user, who becomes the primary contact.
        admin: String,
        /// Roles of the first user.
        roles: Vec<String>,
    },
    /// Add a user with roles (refused while verification is not Authorized).
    AddUser {
        /// The new user's id.
        user: String,
        /// Roles to grant.
        roles: Vec<String>,
    },
    /// Enroll in a program: enrollment becomes pending qualification.
    Enroll {
        /// Program id.
        program: String,
    },
    /// Submit verification for a program: status becomes pending, the SLA starts.
    SubmitVerification {
        /// Program id.
        program: String,
    },
    /// A reviewer starts work: pending → in progress. Support only.
    StartReview {
        /// Program id.
        program: String,
    },
    /// Vetting complete: → authorized, enrollment becomes active. Support only.
    Authorize {
        /// Program id.
        program: String,
    },
    /// Vetting refused with a reason. Support only.
    Reject {
        /// Program id.
        program: String,
        /// Why, shown to the partner.
        reason: String,
    },
    /// More information needed: → challenged, banner shown. Support only.
    Challenge {
        /// Program id.
        program: String,
        /// Why, shown in the banner.
        reason: String,
        /// Documents asked for.
        documents: Vec<String>,
    },
    /// Appeal a rejection or challenge with a document: → pending.
    Appeal {
        /// Program id.
        program: String,
        /// Document type chosen.
        document_type: String,
        /// Reference to the uploaded document (content address).
        document: String,
    },
    /// Escalate a stuck verification to a support case.
    Escalate {
        /// Program id.
        program: String,
    },
    /// Mark a verification overdue (the SLA sweeper); opens a case once.
    MarkOverdue {
        /// Program id.
        program: String,
    },
    /// Change an enrollment's status. Support only.
    SetEnrollment {
        /// Program id.
        program: String,
        /// The new status.
        status: EnrollmentStatus,
    },
    /// Accept an agreement.
    AcceptAgreement {
        /// Agreement id.
        agreement: String,
    },
    /// Grant roles to a user (refused while verification is not Authorized).
    GrantRoles {
        /// The user.
        user: String,
        /// Role ids.
        roles: Vec<String>,
    },
    /// Revoke roles from a user (refused while verification is not Authorized).
    RevokeRoles {
        /// The user.
        user: String,
        /// Role ids.
        roles: Vec<String>,
    },
    /// Mark a profile complete or incomplete.
    UpdateProfile {
        /// Profile id.
        profile: String,
        /// Complete or not.
        complete: bool,
    },
    /// Record a new Partner Capability Score. Support or system only.
    UpdateCapabilityScore {
        /// The score, 0–100.
        score: u32,
    },
    /// Buy a membership offer (subject to `membership_offers.buy`).
    BuyMembership {
        /// Offer id.
        offer: String,
    },
    /// Renew a membership (subject to `membership_offers.renew`).
    RenewMembership {
        /// Offer id.
        offer: String,
    },
    /// Open a support case.
    OpenCase {
        /// One-line subject.
        subject: String,
        /// Program concerned, if any.
        program: Option<String>,
        /// First comment.
        body: String,
    },
    /// Comment on a support case.
    CommentCase {
        /// Case id.
        case: String,
        /// Text.
        body: String,
    },
    /// Resolve a support case. Support only.
    ResolveCase {
        /// Case id.
        case: String,
        /// Resolution text.
        resolution: String,
    },
}

/// Something that happened to a tenant. Append-only; serialized with a `type` tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The tenant was created with its first user as primary contact.
    TenantCreated {
        /// Country.
        country: String,
        /// First user.
        admin: String,
        /// Its roles.
        roles: Vec<String>,
    },
    /// A user was added.
    UserAdded {
        /// User id.
        user: String,
        /// Roles.
        roles: Vec<String>,
    },
    /// Enrolled in a program.
    Enrolled {
        /// Program id.
        program: String,
    },
    /// Enrollment status changed.
    EnrollmentChanged {
        /// Program id.
        program: String,
        /// New status.
        status: EnrollmentStatus,
    },
    /// Verification status changed (submitted, review started, authorized,
    /// rejected, challenged, appealed).
    VerificationChanged {
        /// Program id.
        program: String,
        /// New status.
        status: VerificationStatus,
        /// Reason (reject, challenge).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Documents asked for (challenge).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<String>,
    },
    /// An appeal was submitted (followed by a change to pending).
    AppealSubmitted {
        /// Program id.
        program: String,
        /// Document type.
        document_type: String,
        /// Document reference.
        document: String,
        /// Who.
        by: String,
    },
    /// The verification was found past its SLA.
    MarkedOverdue {
        /// Program id.
        program: String,
    },
    /// The verification was escalated to a support case.
    Escalated {
        /// Program id.
        program: String,
        /// The case opened.
        case: String,
    },
    /// An agreement was accepted.
    AgreementAccepted {
        /// Agreement id.
        agreement: String,
    },
    /// Roles granted.
    RolesGranted {
        /// User.
        user: String,
        /// Roles.
        roles: Vec<String>,
    },
    /// Roles revoked.
    RolesRevoked {
        /// User.
        user: String,
        /// Roles.
        roles: Vec<String>,
    },
    /// A profile was completed or cleared.
    ProfileUpdated {
        /// Profile id.
        profile: String,
        /// Complete or not.
        complete: bool,
    },
    /// The capability score changed.
    CapabilityScoreUpdated {
        /// New score.
        score: u32,
    },
    /// A membership was bought.
    MembershipBought {
        /// Offer id.
        offer: String,
        /// Its end.
        expires_at: Timestamp,
    },
    /// A membership was renewed.
    MembershipRenewed {
        /// Offer id.
        offer: String,
        /// Its new end.
        expires_at: Timestamp,
    },
    /// A support case was opened.
    CaseOpened {
        /// Case id.
        case: String,
        /// Subject.
        subject: String,
        /// Program, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        program: Option<String>,
        /// First comment.
        body: String,
        /// Who.
        by: String,
    },
    /// A comment was added to a case.
    CaseCommented {
        /// Case id.
        case: String,
        /// Text.
        body: String,
        /// Who.
        by: String,
    },
    /// A case was resolved.
    CaseResolved {
        /// Case id.
        case: String,
        /// Resolution.
        resolution: String,
        /// Who.
        by: String,
    },
}

/// A command refused: which rule refused it. Nothing changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkflowError {
    /// Placeholder variant list; the helper completes it (unknown ids, illegal
    /// transitions, appeals exhausted, not primary contact, support only,
    /// roles frozen while unverified, action denied with its unmet requirements...).
    #[error("{rule}: {message}")]
    Refused {
        /// Stable rule code.
        rule: &'static str,
        /// Explanation.
        message: String,
    },
}

/// Checks `command` by `actor` against the rules and returns the events it causes.
pub fn execute(
    catalog: &Catalog,
    tenant: &Tenant,
    actor: &Actor,
    command: &Command,
    now: Timestamp,
) -> Result<Vec<Event>, WorkflowError> {
    let _ = (catalog, tenant, actor, command, now);
    todo!("helper implements")
}

impl Tenant {
    /// Folds one event, recorded at `at`, into the state.
    ///
    /// Events were validated when executed; an event naming an id the catalog
    /// no longer has is an error (the catalog changed under stored history).
    pub fn apply(
        &mut self,
        catalog: &Catalog,
        event: &Event,
        at: Timestamp,
    ) -> Result<(), WorkflowError> {
        let _ = (catalog, event, at);
        todo!("helper implements")
    }
}
