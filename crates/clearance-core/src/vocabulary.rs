//! The domain's vocabulary: the stable codes every layer names (enrollment and
//! verification statuses, next-step codes), with their wire ids and words.
//!
//! This module sits at the bottom of the core, beside `calendar`: it imports
//! nothing from the crate, so the catalog can validate step codes and statuses
//! without reaching up into `state` or `diagnosis`.

use strum::VariantArray;

/// Declares an enum of stable codes: its variants are snake_case ids on the
/// wire, in TOML and in logs. One derive list for every such enum, so serde and
/// strum read the same rule: the code string (`as_str`/`Into<&str>`), `FromStr`,
/// the variant list (`VARIANTS`) and the serde form can never disagree.
macro_rules! stable_codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            strum::IntoStaticStr,
            strum::EnumString,
            strum::VariantArray,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        $vis enum $name { $($body)* }
    };
}
pub(crate) use stable_codes;

stable_codes! {
    /// A program enrollment's status (Legal Info → Partner tab → Program info).
    pub enum EnrollmentStatus {
        /// Enrolled and usable.
        Active,
        /// Enrolled, waiting for vetting to complete.
        PendingQualification,
        /// Enrollment submitted, not yet processed.
        Pending,
        /// Suspended by the program operator.
        Suspended,
        /// Closed; a new enrollment is needed.
        Closed,
    }
}

stable_codes! {
    /// A program's verification (vetting) status (Legal Info → Verification summary).
    pub enum VerificationStatus {
        /// Nothing submitted yet.
        NotStarted,
        /// Submitted and waiting for a reviewer; the SLA clock runs.
        Pending,
        /// A reviewer is working on it; the SLA clock runs.
        InProgress,
        /// Vetting complete: the program may be used.
        Authorized,
        /// The reviewer needs more information: an action-required banner is shown.
        Challenged,
        /// Vetting refused; may be appealed while appeals are left.
        Rejected,
    }
}

impl EnrollmentStatus {
    /// Every status, in declaration order.
    pub const ALL: [EnrollmentStatus; 5] = variants(Self::VARIANTS);

    /// The stable snake_case id used on the wire and in TOML (`FromStr` parses it back).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl VerificationStatus {
    /// Every status, in declaration order.
    pub const ALL: [VerificationStatus; 6] = variants(Self::VARIANTS);

    /// The stable snake_case id used on the wire and in TOML (`FromStr` parses it back).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl EnrollmentStatus {
    /// The status as the portal's Legal Info page words it ("Pending qualification").
    pub fn words(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::PendingQualification => "Pending qualification",
            Self::Pending => "Pending",
            Self::Suspended => "Suspended",
            Self::Closed => "Closed",
        }
    }
}

impl VerificationStatus {
    /// The status as the Verification summary words it ("In progress").
    pub fn words(self) -> &'static str {
        match self {
            Self::NotStarted => "Not started",
            Self::Pending => "Pending",
            Self::InProgress => "In progress",
            Self::Authorized => "Authorized",
            Self::Challenged => "Challenged",
            Self::Rejected => "Rejected",
        }
    }
}

/// The derived list of variants as an array, so that `ALL` keeps its type (callers iterate it by
/// value and index it); a wrong length `N` fails the build.
pub(crate) const fn variants<T: Copy, const N: usize>(variants: &[T]) -> [T; N] {
    assert!(variants.len() == N, "the array holds every variant");
    let mut all = [variants[0]; N];
    let mut i = 1;
    while i < N {
        all[i] = variants[i];
        i += 1;
    }
    all
}

stable_codes! {
    /// A next supported step's stable code, in the order steps are given.
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
}

impl StepCode {
    /// Every code, in the order steps are given.
    pub const ALL: [StepCode; 12] = variants(Self::VARIANTS);

    /// The stable snake_case code used on the wire (`FromStr` parses it back).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}
