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
                .map(|ix| UnmetView::new(catalog, catalog.requirement(ix)))
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
        | W::LastOwner { .. }
        | W::PrimaryContactKept { .. }
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

#[cfg(test)]
mod tests {
    use clearance_core::workflow::WorkflowError as W;
    use clearance_core::{EnrollmentStatus, VerificationStatus};
    use strum::VariantNames;

    use super::*;
    use crate::ServiceError;
    use crate::error::ApiError;

    /// One refusal of every kind; the test below fails when a kind is missing.
    fn every_kind() -> Vec<WorkflowError> {
        let catalog = Catalog::partner_center();
        let core_offer = catalog
            .offer_ix("maicpp_core_benefits")
            .expect("core offer");
        let id = || "x".to_owned();
        let requirements = || {
            vec![
                "maicpp_verification_authorized".to_owned(),
                "payment_profile_complete".to_owned(),
            ]
        };
        vec![
            W::UnknownTenant { id: id() },
            W::TenantExists { id: id() },
            W::UnknownProgram { id: id() },
            W::UnknownRole { id: id() },
            W::UnknownAgreement { id: id() },
            W::UnknownProfile { id: id() },
            W::UnknownOffer { id: id() },
            W::UnknownUser { id: id() },
            W::UserExists { id: id() },
            W::LastOwner {
                user: id(),
                role: id(),
            },
            W::PrimaryContactKept { id: id() },
            W::NotEnrolled { program: id() },
            W::AlreadyEnrolled {
                program: id(),
                status: EnrollmentStatus::Active,
            },
            W::IllegalTransition {
                program: id(),
                from: "pending",
                command: "authorize",
            },
            W::AppealsExhausted {
                program: id(),
                used: 3,
                max: 3,
            },
            W::AppealFirst {
                program: id(),
                left: 1,
            },
            W::NotPrimaryContact { user: id() },
            W::SupportOnly {
                command: "authorize",
            },
            W::SupportAdminOnly { command: "x" },
            W::PartnerOnly { command: "appeal" },
            W::SystemNotAllowed { command: "x" },
            W::RoleRequired {
                command: "enroll",
                roles: vec![id()],
            },
            W::RolesFrozen {
                program: "maicpp".to_owned(),
                status: Some(VerificationStatus::Pending),
                unmet: requirements(),
            },
            W::Denied {
                action: catalog.gate_id(catalog.offer(core_offer).buy).to_owned(),
                unmet: requirements(),
            },
            W::ActionRequiredShown { program: id() },
            W::WithinSla {
                program: id(),
                due: None,
            },
            W::AlreadyOverdue { program: id() },
            W::AlreadyEscalated {
                program: id(),
                case: id(),
            },
            W::AlreadyAccepted { agreement: id() },
            W::MembershipActive {
                offer: id(),
                expires_at: jiff::Timestamp::UNIX_EPOCH,
            },
            W::NoMembership { offer: id() },
            W::CaseNotFound { id: id() },
            W::CaseClosed { id: id() },
            W::InvalidInput {
                field: "x",
                message: id(),
            },
        ]
    }

    fn ids(unmet: &[UnmetView]) -> Vec<&str> {
        unmet.iter().map(|u| u.requirement.as_str()).collect()
    }

    #[test]
    fn every_refusal_kind_lists_the_same_unmet_in_the_api_and_the_refusal_view() {
        let catalog = Catalog::partner_center();
        let kinds = every_kind();
        let codes: Vec<&str> = kinds.iter().map(WorkflowError::rule).collect();
        assert_eq!(
            codes,
            WorkflowError::VARIANTS,
            "one sample per kind, in order"
        );
        for error in kinds {
            let view = RefusalView::new(catalog, &error);
            let api = ApiError::explained(catalog, ServiceError::Refused(error.clone()));
            assert_eq!(view.code, api.detail.code, "{error}");
            assert_eq!(ids(&view.unmet), ids(&api.detail.unmet), "{error}");
            let named: Vec<&str> = unmet_ids(&error).iter().map(String::as_str).collect();
            assert_eq!(ids(&view.unmet), named, "{error}");
        }
    }

    #[test]
    fn roles_frozen_carries_its_unmet_requirements_to_the_api() {
        let catalog = Catalog::partner_center();
        let frozen = every_kind()
            .into_iter()
            .find(|error| error.rule() == "roles_frozen")
            .expect("a roles_frozen sample");
        let api = ApiError::explained(catalog, ServiceError::Refused(frozen));
        assert_eq!(
            ids(&api.detail.unmet),
            ["maicpp_verification_authorized", "payment_profile_complete"]
        );
    }
}
