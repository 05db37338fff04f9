//! The vetting workflow and every other change to a tenant, as a state machine
//! over events.
//!
//! A [`Command`] is what someone asks for; [`execute`] checks it against the
//! catalog's rules and the tenant's state and returns the [`Event`]s it causes,
//! or a [`WorkflowError`] naming the rule that refused it (nothing changes).
//! [`Tenant::apply`] folds one event into the state; a tenant's state is the
//! fold of all its events.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::catalog::Catalog;
use crate::state::{EnrollmentStatus, Tenant, VerificationStatus};

mod apply;
mod execute;

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
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    IntoStaticStr,
    EnumString,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SupportRole {
    /// Works vetting reviews and support cases.
    SupportAgent,
    /// As an agent, plus tenant and token administration.
    SupportAdmin,
}

/// A request to change a tenant. Ids are the catalog's and the tenant's string ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantNames)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantNames)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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

/// A command refused, or an event that cannot be folded: which rule refused
/// it, with what the user needs to fix the request. Nothing changed.
///
/// [`WorkflowError::rule`] gives each variant a stable snake_case code.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq, IntoStaticStr, VariantNames)]
#[strum(serialize_all = "snake_case")]
pub enum WorkflowError {
    /// The tenant has not been created.
    #[error("tenant {id:?} does not exist; support must create it first")]
    UnknownTenant {
        /// The tenant id.
        id: String,
    },
    /// `create_tenant` for a tenant that already has history.
    #[error("tenant {id:?} already exists")]
    TenantExists {
        /// The tenant id.
        id: String,
    },
    /// No program with this id in the catalog.
    #[error("unknown program {id:?}")]
    UnknownProgram {
        /// The id given.
        id: String,
    },
    /// No role with this id in the catalog.
    #[error("unknown role {id:?}")]
    UnknownRole {
        /// The id given.
        id: String,
    },
    /// No agreement with this id in the catalog.
    #[error("unknown agreement {id:?}")]
    UnknownAgreement {
        /// The id given.
        id: String,
    },
    /// No profile with this id in the catalog.
    #[error("unknown profile {id:?}")]
    UnknownProfile {
        /// The id given.
        id: String,
    },
    /// No offer with this id in the catalog.
    #[error("unknown offer {id:?}")]
    UnknownOffer {
        /// The id given.
        id: String,
    },
    /// The acting or target user is not a user of the tenant.
    #[error("{id:?} is not a user of the tenant")]
    UnknownUser {
        /// The user id.
        id: String,
    },
    /// `add_user` for a user the tenant already has.
    #[error("user {id:?} already exists in the tenant")]
    UserExists {
        /// The user id.
        id: String,
    },
    /// The tenant has no record of the program.
    #[error("the tenant is not enrolled in {program}")]
    NotEnrolled {
        /// Program id.
        program: String,
    },
    /// `enroll` in a program the tenant is already enrolled in (and not closed).
    #[error("the tenant is already enrolled in {program} ({})", status.as_str())]
    AlreadyEnrolled {
        /// Program id.
        program: String,
        /// Its enrollment status.
        status: EnrollmentStatus,
    },
    /// The command is not allowed from the program's current status.
    #[error("{command} is not allowed while {program} is {from}")]
    IllegalTransition {
        /// Program id.
        program: String,
        /// The current status (verification or enrollment), snake_case.
        from: &'static str,
        /// The command refused, snake_case.
        command: &'static str,
    },
    /// Every appeal allowed has been used.
    #[error("all {max} appeals for {program} have been used ({used}); contact support")]
    AppealsExhausted {
        /// Program id.
        program: String,
        /// Appeals used.
        used: u8,
        /// Appeals allowed.
        max: u8,
    },
    /// Escalation of a rejection while appeals are left: appeal first.
    #[error("{program} was rejected with {left} appeal(s) left: submit an appeal first")]
    AppealFirst {
        /// Program id.
        program: String,
        /// Appeals left.
        left: u8,
    },
    /// Only the primary contact (or a role the catalog allows) may appeal.
    #[error("{user:?} is neither the primary contact nor holds a role allowed to appeal")]
    NotPrimaryContact {
        /// The user who tried.
        user: String,
    },
    /// Only the operator's support staff may do this.
    #[error("only support staff may {command}")]
    SupportOnly {
        /// The command refused.
        command: &'static str,
    },
    /// Only a support admin may do this.
    #[error("only a support admin may {command}")]
    SupportAdminOnly {
        /// The command refused.
        command: &'static str,
    },
    /// Only a user of the tenant may do this (a purchase, an appeal, a legal acceptance).
    #[error("only a user of the tenant may {command}")]
    PartnerOnly {
        /// The command refused.
        command: &'static str,
    },
    /// The service itself may only sweep SLAs, escalate and record scores.
    #[error("the system actor may not {command}")]
    SystemNotAllowed {
        /// The command refused.
        command: &'static str,
    },
    /// The partner user lacks every role that may do this.
    #[error("{command} needs one of the roles {}", roles.join(", "))]
    RoleRequired {
        /// The command refused.
        command: &'static str,
        /// Role ids that would allow it.
        roles: Vec<String>,
    },
    /// Roles cannot be added or changed while verification is not Authorized.
    #[error(
        "roles cannot be changed while {program} verification is {} (unmet: {})",
        status.map_or("not enrolled", VerificationStatus::as_str),
        unmet.join(", ")
    )]
    RolesFrozen {
        /// The program whose verification gates role changes.
        program: String,
        /// Its verification status; `None` when not enrolled.
        status: Option<VerificationStatus>,
        /// Every unmet requirement id of the gating action, in catalog order.
        unmet: Vec<String>,
    },
    /// The catalog action that gates the command is denied to this user.
    #[error("{action} is denied: unmet {}", unmet.join(", "))]
    Denied {
        /// The gating action id.
        action: String,
        /// Every unmet requirement id, in catalog order.
        unmet: Vec<String>,
    },
    /// An action-required banner is shown: the partner must answer it first.
    #[error("{program} has an action-required banner to answer first")]
    ActionRequiredShown {
        /// Program id.
        program: String,
    },
    /// The verification is still inside its SLA (or its clock never started).
    #[error(
        "{program} verification is inside its SLA ({})",
        due.map_or_else(|| "never submitted".to_owned(), |d| format!("due {d}"))
    )]
    WithinSla {
        /// Program id.
        program: String,
        /// The due date; `None` when the round has no submission time.
        due: Option<Date>,
    },
    /// The verification round is already marked overdue.
    #[error("{program} verification is already marked overdue")]
    AlreadyOverdue {
        /// Program id.
        program: String,
    },
    /// The verification round already has an open escalation case.
    #[error("{program} verification is already escalated in {case}")]
    AlreadyEscalated {
        /// Program id.
        program: String,
        /// The open case.
        case: String,
    },
    /// The agreement is already accepted.
    #[error("agreement {agreement} is already accepted")]
    AlreadyAccepted {
        /// Agreement id.
        agreement: String,
    },
    /// `buy` while a membership of the offer is active.
    #[error("a membership of {offer} is active until {expires_at}; renew it instead")]
    MembershipActive {
        /// Offer id.
        offer: String,
        /// Its end.
        expires_at: Timestamp,
    },
    /// `renew` without a membership of the offer.
    #[error("there is no membership of {offer} to renew")]
    NoMembership {
        /// Offer id.
        offer: String,
    },
    /// No support case with this id.
    #[error("no support case {id:?}")]
    CaseNotFound {
        /// Case id.
        id: String,
    },
    /// The support case is resolved.
    #[error("support case {id} is resolved")]
    CaseClosed {
        /// Case id.
        id: String,
    },
    /// A field of the command is invalid.
    #[error("{field}: {message}")]
    InvalidInput {
        /// The field, as named in the command.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl WorkflowError {
    /// The stable snake_case code of the rule that refused.
    pub fn rule(&self) -> &'static str {
        self.into()
    }
}

impl SupportRole {
    /// The stable snake_case id used on the wire (`FromStr` parses it back).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Command {
    /// The command's stable snake_case name (its serde `type` tag).
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

impl Event {
    /// The event's stable snake_case name (its serde `type` tag).
    pub fn name(&self) -> &'static str {
        self.into()
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
    use super::*;

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

    #[test]
    fn rule_codes_are_unchanged() {
        assert_eq!(
            WorkflowError::VARIANTS,
            [
                "unknown_tenant",
                "tenant_exists",
                "unknown_program",
                "unknown_role",
                "unknown_agreement",
                "unknown_profile",
                "unknown_offer",
                "unknown_user",
                "user_exists",
                "not_enrolled",
                "already_enrolled",
                "illegal_transition",
                "appeals_exhausted",
                "appeal_first",
                "not_primary_contact",
                "support_only",
                "support_admin_only",
                "partner_only",
                "system_not_allowed",
                "role_required",
                "roles_frozen",
                "denied",
                "action_required_shown",
                "within_sla",
                "already_overdue",
                "already_escalated",
                "already_accepted",
                "membership_active",
                "no_membership",
                "case_not_found",
                "case_closed",
                "invalid_input",
            ]
        );
        let refused = WorkflowError::AppealFirst {
            program: text(),
            left: 1,
        };
        assert_eq!(refused.rule(), "appeal_first");
    }
}
