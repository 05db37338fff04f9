//! [`Command`]: what someone asks to change about a tenant, before the rules check it.

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantNames};

use crate::state::EnrollmentStatus;

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
    /// Remove a user from the tenant (refused for the primary contact and for
    /// the last holder of an owner role).
    RemoveUser {
        /// The user to remove.
        user: String,
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

impl Command {
    /// The command's stable snake_case name (its serde `type` tag).
    pub fn name(&self) -> &'static str {
        self.into()
    }
}
