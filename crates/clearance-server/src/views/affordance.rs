//! Affordances: whether a person may press a button now, and if not, the
//! refusal explained. [`RefusalView::new`] is the one place a workflow refusal
//! becomes `{code, message, unmet}`: the API's error body and the portal's
//! disabled buttons and error pages all read it.

use clearance_core::Catalog;
use clearance_core::workflow::{Event, WorkflowError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::UnmetView;

/// Whether a button's command would be accepted now (a dry run of the
/// workflow: nothing is written), and if not, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Affordance {
    /// The workflow would accept the command now.
    pub allowed: bool,
    /// Why it would be refused; `null` exactly when allowed.
    pub refusal: Option<RefusalView>,
}

/// A workflow refusal explained: its rule, a sentence, and every unmet
/// requirement when the rule has them (`denied`, `roles_frozen`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefusalView {
    /// The rule that refuses (`denied`, `roles_frozen`, `illegal_transition`, ...).
    pub code: String,
    /// What refuses it, for a person.
    pub message: String,
    /// Every unmet requirement behind the refusal, in catalog order (empty for
    /// rules that are not about requirements).
    pub unmet: Vec<UnmetView>,
}

impl Affordance {
    /// The affordance of a dry run's result.
    pub fn new(catalog: &Catalog, result: &Result<Vec<Event>, WorkflowError>) -> Self {
        match result {
            Ok(_) => Affordance {
                allowed: true,
                refusal: None,
            },
            Err(error) => Affordance {
                allowed: false,
                refusal: Some(RefusalView::new(catalog, error)),
            },
        }
    }
}

impl RefusalView {
    /// A workflow refusal as the API and the portal explain it.
    pub fn new(catalog: &Catalog, error: &WorkflowError) -> Self {
        RefusalView {
            code: error.rule().to_owned(),
            message: error.to_string(),
            unmet: unmet_ids(error)
                .iter()
                .filter_map(|id| catalog.requirement_ix(id))
                .map(|ix| {
                    UnmetView::from(clearance_core::decision::UnmetView::new(
                        catalog,
                        &catalog.requirements[ix.index()],
                    ))
                })
                .collect(),
        }
    }
}

/// The unmet requirement ids a refusal names. Every rule is listed, so a new
/// one must say whether it carries requirements.
pub fn unmet_ids(error: &WorkflowError) -> &[String] {
    use WorkflowError as W;
    match error {
        W::RolesFrozen { unmet, .. } | W::Denied { unmet, .. } => unmet,
        W::UnknownTenant { .. }
        | W::TenantExists { .. }
        | W::UnknownProgram { .. }
        | W::UnknownRole { .. }
        | W::UnknownAgreement { .. }
        | W::UnknownProfile { .. }
        | W::UnknownOffer { .. }
        | W::UnknownUser { .. }
        | W::UserExists { .. }
        | W::NotEnrolled { .. }
        | W::AlreadyEnrolled { .. }
        | W::IllegalTransition { .. }
        | W::AppealsExhausted { .. }
        | W::AppealFirst { .. }
        | W::NotPrimaryContact { .. }
        | W::SupportOnly { .. }
        | W::SupportAdminOnly { .. }
        | W::PartnerOnly { .. }
        | W::SystemNotAllowed { .. }
        | W::RoleRequired { .. }
        | W::ActionRequiredShown { .. }
        | W::WithinSla { .. }
        | W::AlreadyOverdue { .. }
        | W::AlreadyEscalated { .. }
        | W::AlreadyAccepted { .. }
        | W::MembershipActive { .. }
        | W::NoMembership { .. }
        | W::CaseNotFound { .. }
        | W::CaseClosed { .. }
        | W::InvalidInput { .. } => &[],
    }
}
