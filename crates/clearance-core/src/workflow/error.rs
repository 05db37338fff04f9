//! [`WorkflowError`]: the rule that refused a command or an event, with its stable code.

use jiff::Timestamp;
use jiff::civil::Date;
use strum::{IntoStaticStr, VariantNames};

use crate::state::{EnrollmentStatus, VerificationStatus};

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
    /// The change would leave the tenant without any holder of an owner role
    /// (Global Admin): nobody could manage its users any more.
    #[error(
        "{user:?} is the tenant's last {role}: give another user that role first, so the tenant keeps one"
    )]
    LastOwner {
        /// The user who would lose the role.
        user: String,
        /// The role's name.
        role: String,
    },
    /// `remove_user` for the tenant's primary contact.
    #[error("{id:?} is the tenant's primary contact and cannot be removed")]
    PrimaryContactKept {
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
