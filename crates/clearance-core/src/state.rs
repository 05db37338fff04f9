//! A tenant's state: the fold of its events, indexed by the catalog.
//!
//! Ids that the catalog defines (programs, roles, agreements, profiles, offers)
//! are held as dense catalog indices so that decisions never hash strings.
//! Ids that the tenant owns (the tenant, its users, its support cases) are strings.

use crate::vocabulary::stable_codes;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::{AgreementIx, OfferIx, ProfileIx, ProgramIx, RoleIx, Set};
pub use crate::vocabulary::{EnrollmentStatus, VerificationStatus};

/// One tenant (a partner organisation) as the decisions see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// The tenant's stable id.
    pub id: String,
    /// ISO 3166 alpha-2 country code, upper case.
    pub country: String,
    /// The user id of the primary contact, who may appeal a rejection.
    pub primary_contact: Option<String>,
    /// Partner Capability Score, when known.
    pub capability_score: Option<u32>,
    /// Profiles that are complete (payment, tax, ...).
    pub profiles: Set<ProfileIx>,
    /// Agreements accepted.
    pub agreements: Set<AgreementIx>,
    /// One record per enrolled program; a program without a record is not enrolled.
    pub programs: Vec<ProgramRecord>,
    /// Memberships bought (one per offer at most).
    pub memberships: Vec<Membership>,
    /// The tenant's users.
    pub users: Vec<User>,
    /// Support cases opened for the tenant.
    pub cases: Vec<SupportCase>,
    /// The number of events folded into this state.
    pub version: u64,
}

/// A tenant's record of one program: the Partner tab's program info and vetting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramRecord {
    /// Which program.
    pub program: ProgramIx,
    /// Enrollment status.
    pub enrollment: EnrollmentStatus,
    /// Verification (vetting) state.
    pub verification: Verification,
}

/// The verification summary of one program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Overall status.
    pub status: VerificationStatus,
    /// When the current round was submitted (starts the SLA clock).
    pub submitted_at: Option<Timestamp>,
    /// An action-required ("Fix now") banner is shown to the partner.
    pub action_required: bool,
    /// The reviewer's reason for a rejection or challenge.
    pub reason: Option<String>,
    /// Documents the reviewer asked for in a challenge.
    pub documents_requested: Vec<String>,
    /// Appeals submitted so far (at most the catalog's limit).
    pub appeals_used: u8,
    /// The appeals submitted, oldest first.
    pub appeals: Vec<Appeal>,
    /// The SLA sweeper found this round past its SLA.
    pub overdue: bool,
    /// The support case opened when this round was escalated, if any.
    pub escalated_case: Option<String>,
}

/// One appeal of a rejection or challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    /// The document type chosen (e.g. "business_registration").
    pub document_type: String,
    /// Reference to the uploaded document (content address).
    pub document: String,
    /// Who submitted it.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// A membership of an offer, bought or renewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// Which offer.
    pub offer: OfferIx,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// A user of a tenant and the roles it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id, unique within the tenant.
    pub id: String,
    /// Roles held.
    pub roles: Set<RoleIx>,
}

/// A support case and its conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportCase {
    /// Tenant-local id (`case-1`, `case-2`, ...).
    pub id: String,
    /// One-line subject.
    pub subject: String,
    /// The program concerned, if any.
    pub program: Option<ProgramIx>,
    /// Who opened it (a user id, a support agent id, or `system`).
    pub opened_by: String,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// Open or resolved.
    pub status: CaseStatus,
    /// Comments, oldest first.
    pub comments: Vec<CaseComment>,
    /// The resolution text once resolved.
    pub resolution: Option<String>,
}

stable_codes! {
    /// Whether a support case is still open.
    pub enum CaseStatus {
        /// Waiting for support.
        Open,
        /// Closed with a resolution.
        Resolved,
    }
}

/// A comment on a support case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseComment {
    /// Who wrote it.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// The text.
    pub body: String,
}

impl Tenant {
    /// A new tenant with no programs, users or state.
    pub fn new(id: impl Into<String>, country: impl Into<String>) -> Self {
        Tenant {
            id: id.into(),
            country: country.into(),
            primary_contact: None,
            capability_score: None,
            profiles: Set::EMPTY,
            agreements: Set::EMPTY,
            programs: Vec::new(),
            memberships: Vec::new(),
            users: Vec::new(),
            cases: Vec::new(),
            version: 0,
        }
    }

    /// The tenant's record of a program, if enrolled.
    pub fn program(&self, program: ProgramIx) -> Option<&ProgramRecord> {
        self.programs.iter().find(|p| p.program == program)
    }

    /// A user of this tenant by id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The membership of an offer, if any (active or expired).
    pub fn membership(&self, offer: OfferIx) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.offer == offer)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::str::FromStr;

    use serde::de::DeserializeOwned;
    use strum::VariantArray;

    use super::*;
    use crate::workflow::SupportRole;

    /// Every variant's code is `codes` (in declaration order), is exactly its serde form, and
    /// parses back to it through `FromStr` and serde.
    fn codes_round_trip<T>(codes: &[&str])
    where
        T: VariantArray + Copy + Debug + PartialEq + Into<&'static str>,
        T: FromStr + Serialize + DeserializeOwned,
        T::Err: Debug,
    {
        let derived: Vec<&'static str> = T::VARIANTS.iter().map(|&v| v.into()).collect();
        assert_eq!(derived, codes);
        for (&variant, code) in T::VARIANTS.iter().zip(codes) {
            assert_eq!(T::from_str(code).expect("a code parses"), variant);
            let json = serde_json::to_string(&variant).expect("a code serializes");
            assert_eq!(json, format!("\"{code}\""));
            let back: T = serde_json::from_str(&json).expect("a code deserializes");
            assert_eq!(back, variant);
        }
        assert!(
            T::from_str(&codes[0].to_uppercase()).is_err(),
            "codes are case-sensitive"
        );
    }

    #[test]
    fn stable_codes_are_the_wire_strings_and_round_trip() {
        codes_round_trip::<EnrollmentStatus>(&[
            "active",
            "pending_qualification",
            "pending",
            "suspended",
            "closed",
        ]);
        codes_round_trip::<VerificationStatus>(&[
            "not_started",
            "pending",
            "in_progress",
            "authorized",
            "challenged",
            "rejected",
        ]);
        codes_round_trip::<CaseStatus>(&["open", "resolved"]);
        codes_round_trip::<SupportRole>(&["support_agent", "support_admin"]);
        codes_round_trip::<crate::vocabulary::StepCode>(&[
            "check_legal_info",
            "verify_enrollment",
            "review_verification_summary",
            "wait_for_verification",
            "respond_to_challenge",
            "submit_appeal",
            "contact_support",
            "accept_agreement",
            "complete_profile",
            "assign_role",
            "sign_in_again",
            "explain_disabled_purchase",
        ]);
        assert_eq!(EnrollmentStatus::ALL.as_slice(), EnrollmentStatus::VARIANTS);
        assert_eq!(
            VerificationStatus::ALL.as_slice(),
            VerificationStatus::VARIANTS
        );
    }
}
