//! [`Event`]: what happened to a tenant; append-only, and the state is their fold.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantNames};

use crate::state::{EnrollmentStatus, VerificationStatus};

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
    /// A user was removed from the tenant.
    UserRemoved {
        /// User id.
        user: String,
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

impl Event {
    /// The event's stable snake_case name (its serde `type` tag).
    pub fn name(&self) -> &'static str {
        self.into()
    }
}
