//! The views of pages with buttons: what each page shows beside the plain
//! data views, with an [`Affordance`] for every button a person can press
//! there, computed by the service with the same `now` as the rest of the read.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Affordance, CaseView, ProgramInfoView, UserView};

/// One program on the Partner tab of Legal Info, with its buttons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegalProgramView {
    /// The program and its statuses.
    #[serde(flatten)]
    pub info: ProgramInfoView,
    /// "Verify enrollment" (`enroll`).
    pub enroll: Affordance,
    /// "Submit verification" (`submit_verification`).
    pub submit: Affordance,
}

/// The buttons of one program's verification: the partner's and the staff's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationActions {
    /// "Submit verification" (`submit_verification`).
    pub submit: Affordance,
    /// "Submit appeal" (`appeal`, with any document).
    pub appeal: Affordance,
    /// "Start review" (`start_review`, staff).
    pub start_review: Affordance,
    /// "Authorize" (`authorize`, staff).
    pub authorize: Affordance,
    /// "Reject" (`reject`, staff).
    pub reject: Affordance,
    /// "Challenge" (`challenge`, staff).
    pub challenge: Affordance,
}

/// The buttons of one support case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseActions {
    /// "Comment" (`comment_case`).
    pub comment: Affordance,
    /// "Resolve case" (`resolve_case`, staff).
    pub resolve: Affordance,
}

/// User management: the users with their "Save roles" buttons, and "Add user".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsersView {
    /// The users and their roles.
    pub users: Vec<UserView>,
    /// "Add user" (`add_user`).
    pub add_user: Affordance,
}

/// Support: the tenant's cases and the "Open case" form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupportView {
    /// The tenant's cases.
    pub cases: Vec<CaseView>,
    /// The programs a case may concern: those the tenant is enrolled in.
    pub programs: Vec<ProgramInfoView>,
    /// "Open case" (`open_case`).
    pub open_case: Affordance,
}

/// A membership the tenant holds, as the Membership page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeldMembershipView {
    /// Offer id.
    pub offer: String,
    /// The offer's display name.
    pub name: String,
    /// When it ends (RFC 3339).
    pub expires_at: String,
    /// Not yet ended at the moment of the read.
    pub active: bool,
}

/// One membership offer with its Buy and Renew buttons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferView {
    /// Offer id.
    pub offer: String,
    /// Display name.
    pub name: String,
    /// Length of a membership, in days.
    pub term_days: u32,
    /// Days before expiry when renewal opens.
    pub renewal_window_days: u32,
    /// "Buy Now" (`buy_membership`); absent when the catalog offers no buy action.
    pub buy: Option<Affordance>,
    /// "Renew Now" (`renew_membership`); absent when the catalog offers no renew action.
    pub renew: Option<Affordance>,
}
