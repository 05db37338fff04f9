//! Diagnosis of a whole tenant for one user: the root cause and the ordered
//! next supported steps, as the seed's support answer lays them out.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, ProgramIx};
use crate::state::{Tenant, User};

/// A next supported step's stable code, in the order steps are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepCode {
    /// Account settings → Legal Info → Partner tab: check program and verification status.
    CheckLegalInfo,
    /// The Partner tab or program record is missing: an admin must verify the enrollment.
    VerifyEnrollment,
    /// Open the Verification summary and read the overall status.
    ReviewVerificationSummary,
    /// Pending inside its SLA: wait until the due date.
    WaitForVerification,
    /// Challenged / action required: answer the banner.
    RespondToChallenge,
    /// Rejected with appeals left: submit an appeal.
    SubmitAppeal,
    /// Stuck past the SLA with no banner, or no appeals left: contact support.
    ContactSupport,
    /// A required agreement is not accepted.
    AcceptAgreement,
    /// A required profile is incomplete.
    CompleteProfile,
    /// The user lacks the role the action needs.
    AssignRole,
    /// The state changed: sign in again and open the workspace.
    SignInAgain,
    /// Buy Now / Renew Now disabled: list the remaining unmet criteria.
    ExplainDisabledPurchase,
}

/// One next step with its text for the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable code.
    pub code: StepCode,
    /// What to do, in one or two sentences with the specifics (dates, counts).
    pub text: String,
    /// The program concerned, when the step is about one.
    #[serde(skip)]
    pub program: Option<ProgramIx>,
}

/// The diagnosis of a tenant for one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The root cause in one sentence.
    pub cause: String,
    /// The next supported steps, in order; only those that apply.
    pub steps: Vec<Step>,
}

/// Diagnoses `tenant` for `user` at `now`.
pub fn diagnose(catalog: &Catalog, tenant: &Tenant, user: &User, now: Timestamp) -> Diagnosis {
    let _ = (catalog, tenant, user, now);
    todo!("helper implements")
}
