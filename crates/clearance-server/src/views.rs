//! The one view layer: the service's answers as plain data, what the HTTP API
//! sends as JSON (with their OpenAPI schemas), what the portal renders and what
//! the CLI prints with `--json`. One type per concept, each made from the
//! core's domain types by one constructor.
//!
//! Everything here is owned strings and numbers, resolved from catalog indices
//! to stable ids, so a caller needs neither the catalog nor the core's types.

use clearance_core::catalog::{FixedBy, NextStepRef, Requirement, RoleIx, Set};
use clearance_core::decision::WorkspaceAccess;
use clearance_core::diagnosis::{
    Appeals, AppellantStanding, Diagnosis, EnrollmentGap, Finding, FindingKind, SignInReason,
    SlaClock, SupportReason, VerificationReview,
};
use clearance_core::{Catalog, Decision};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod catalog;

pub use catalog::{
    CatalogActionView, CatalogGateView, CatalogItemView, CatalogOfferView, CatalogProgramView,
    CatalogRequirementView, CatalogVettingView, CatalogView, CatalogWorkspaceView,
};

/// The answer to one check: may this user take this action now, and if not, why.
/// `clearance check --json` prints this same shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    /// The action id (`membership_offers.buy`).
    pub action: String,
    /// Allowed exactly when `unmet` is empty.
    pub allowed: bool,
    /// Every unmet requirement, in catalog order.
    pub unmet: Vec<UnmetView>,
}

/// One unmet requirement with its explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnmetView {
    /// The requirement id (`maicpp_verification_authorized`).
    pub requirement: String,
    /// What kind of criterion it is (`any_role`, `enrollment`, `verification`, ...:
    /// the core's requirement kind names).
    pub kind: String,
    /// Why it blocks, one sentence for the user.
    pub reason: String,
    /// Who can fix it.
    pub fixed_by: FixedByView,
    /// The next supported step.
    pub next_step: NextStepView,
}

/// Who can fix an unmet requirement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FixedByView {
    /// Users holding any of these roles (role ids).
    pub roles: Vec<String>,
    /// The tenant's primary contact.
    pub primary_contact: bool,
    /// The operator's support staff.
    pub support: bool,
}

/// The next supported step of an unmet requirement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NextStepView {
    /// Stable code (`contact_support`).
    pub code: String,
    /// Portal page where it is taken (`/account/legal-info`).
    pub page: String,
}

/// Every workspace and action for one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessView {
    /// The tenant.
    pub tenant: String,
    /// The user.
    pub user: String,
    /// Workspaces in catalog order.
    pub workspaces: Vec<WorkspaceView>,
}

/// One workspace as a navigation tile: open, or locked with its actions' reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceView {
    /// Workspace id (`membership`).
    pub workspace: String,
    /// Display name.
    pub name: String,
    /// Portal page path.
    pub page: String,
    /// Open when at least one of its actions is allowed.
    pub open: bool,
    /// Each action's decision, in catalog order.
    pub actions: Vec<CheckResult>,
}

/// The diagnosis of a tenant for a user: root cause, next supported steps and
/// the typed findings the steps were worded from. `clearance diagnose --json`
/// prints this same shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DiagnosisView {
    /// The root cause in one sentence.
    pub cause: String,
    /// The next supported steps, in order.
    pub steps: Vec<StepView>,
    /// What was found, one entry per program and step code, in step order:
    /// the data behind the steps' text.
    pub findings: Vec<FindingView>,
}

/// One finding of a diagnosis as data. `code` and `program` are always
/// present; the other fields appear when the step has them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FindingView {
    /// The step code it calls for (`wait_for_verification`).
    pub code: String,
    /// The program id (`maicpp`).
    pub program: String,
    /// Which situation of the step, when it has several: `no_record`/`closed`
    /// (verify_enrollment); `not_submitted`/`waiting`/`challenged`/`rejected`
    /// (review_verification_summary); `past_sla`/`appeals_exhausted`/
    /// `not_activated`/`suspended` (contact_support); `after_role_assigned`/
    /// `access_restored` (sign_in_again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situation: Option<String>,
    /// The enrollment status (`pending_qualification`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_status: Option<String>,
    /// The verification status (`pending`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<String>,
    /// When verification was submitted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
    /// The verification SLA in business days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_business_days: Option<u32>,
    /// Business days elapsed since submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_days_elapsed: Option<u32>,
    /// The date verification is due by (ISO 8601 date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// Whether an action-required banner shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<bool>,
    /// The reviewer's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer_reason: Option<String>,
    /// The documents the reviewer asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents_requested: Vec<String>,
    /// Appeals used and left, and who may appeal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeals: Option<AppealsView>,
    /// Who can fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_by: Option<FixedByView>,
    /// A support case id: the open escalation (contact_support) or the case
    /// that can be closed (sign_in_again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_case: Option<String>,
    /// Agreement ids not accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agreements: Vec<String>,
    /// Profile ids not complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Role ids, any of which meets the requirement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The unmet requirement id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// The workspace id concerned (opened by the role, or the program's home).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Action ids held back (complete_profile).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// Disabled purchase actions with their unmet requirement ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled: Vec<DisabledPurchaseView>,
}

/// Appeals of a program, and who may make them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppealsView {
    /// Appeals used.
    pub used: u8,
    /// Appeals left.
    pub left: u8,
    /// Appeals allowed in total.
    pub max: u8,
    /// The tenant's primary contact (a user id), who may always appeal.
    pub primary_contact: Option<String>,
    /// Role ids whose holders may appeal too.
    pub roles: Vec<String>,
    /// Whether the diagnosed user may: `primary_contact`, `holds_roles` or `no`.
    pub user_may_appeal: String,
}

/// A purchase action disabled by more than its membership's own state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DisabledPurchaseView {
    /// The action id.
    pub action: String,
    /// Its unmet requirement ids, in catalog order.
    pub unmet: Vec<String>,
}

/// One next supported step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StepView {
    /// Stable code (`check_legal_info`).
    pub code: String,
    /// What to do.
    pub text: String,
}

/// Account settings → Legal Info → Partner tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegalInfoView {
    /// The tenant.
    pub tenant: String,
    /// ISO 3166 alpha-2 country.
    pub country: String,
    /// The primary contact's user id.
    pub primary_contact: Option<String>,
    /// Every program of the catalog, enrolled or not, with its buttons.
    pub programs: Vec<LegalProgramView>,
    /// Every agreement of the catalog and whether it is accepted.
    pub agreements: Vec<AgreementView>,
    /// Every profile of the catalog and whether it is complete.
    pub profiles: Vec<ProfileView>,
    /// The Partner Capability Score, when known.
    pub capability_score: Option<u32>,
    /// Memberships held.
    pub memberships: Vec<MembershipView>,
}

/// One program on the Partner tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProgramInfoView {
    /// Program id (`maicpp`).
    pub program: String,
    /// Display name.
    pub name: String,
    /// Whether the tenant has a record of it (no record: no Partner tab data).
    pub enrolled: bool,
    /// Enrollment status (`pending_qualification`), when enrolled.
    pub enrollment: Option<String>,
    /// Verification status (`pending`), when enrolled.
    pub verification: Option<String>,
}

/// An agreement and whether it is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgreementView {
    /// Agreement id (`mpa`).
    pub agreement: String,
    /// Display name.
    pub name: String,
    /// Accepted by the tenant.
    pub accepted: bool,
    /// "Accept" (`accept_agreement`).
    pub accept: Affordance,
}

/// A profile and whether it is complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProfileView {
    /// Profile id (`payment`).
    pub profile: String,
    /// Display name.
    pub name: String,
    /// Complete.
    pub complete: bool,
    /// "Mark complete" or "Mark incomplete" (`update_profile` to the other state).
    pub update: Affordance,
}

/// A membership held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MembershipView {
    /// Offer id.
    pub offer: String,
    /// When it ends (RFC 3339).
    pub expires_at: String,
}

/// The verification summary of one program (Legal Info → Verification summary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationView {
    /// The tenant.
    pub tenant: String,
    /// Program id.
    pub program: String,
    /// The program's display name.
    pub name: String,
    /// Enrollment status.
    pub enrollment: String,
    /// Verification status (`pending`, `rejected`, ...).
    pub status: String,
    /// The reviewer's reason (rejection, challenge).
    pub reason: Option<String>,
    /// Documents the reviewer asked for.
    pub documents_requested: Vec<String>,
    /// When the current round was submitted (RFC 3339).
    pub submitted_at: Option<String>,
    /// The SLA's last business day (`YYYY-MM-DD`), while the SLA clock runs.
    pub sla_due: Option<String>,
    /// Business days elapsed since submission, while the SLA clock runs.
    pub business_days_elapsed: Option<u32>,
    /// Past the SLA (by the clock now, or as marked by the sweeper).
    pub overdue: bool,
    /// An action-required ("Fix now") banner is shown.
    pub action_required: bool,
    /// Appeals used so far.
    pub appeals_used: u8,
    /// Appeals left out of the catalog's limit.
    pub appeals_left: u8,
    /// The support case opened when it was escalated.
    pub escalated_case: Option<String>,
    /// The appeals submitted, oldest first.
    pub appeals: Vec<AppealView>,
    /// Its buttons, for the reader.
    pub actions: VerificationActions,
}

/// One appeal submitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppealView {
    /// Document type chosen.
    pub document_type: String,
    /// The document's SHA-256 (fetch it at `/v1/documents/{sha256}`).
    pub document: String,
    /// Who submitted it.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
}

/// One row of the operator's verification queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueEntry {
    /// The tenant.
    pub tenant: String,
    /// Program id.
    pub program: String,
    /// Verification status.
    pub status: String,
    /// Business days since submission (0 when never submitted).
    pub business_days_elapsed: u32,
    /// The SLA's last business day (`YYYY-MM-DD`), when submitted.
    pub sla_due: Option<String>,
    /// Past the SLA.
    pub overdue: bool,
    /// The action-required banner is shown.
    pub action_required: bool,
    /// Appeals used.
    pub appeals_used: u8,
}

/// A support case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    /// The tenant.
    pub tenant: String,
    /// Case id within the tenant (`case-1`).
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Program concerned.
    pub program: Option<String>,
    /// Who opened it.
    pub opened_by: String,
    /// When (RFC 3339).
    pub opened_at: String,
    /// `open` or `resolved`.
    pub status: String,
    /// Comments, oldest first.
    pub comments: Vec<CommentView>,
    /// The resolution, once resolved.
    pub resolution: Option<String>,
    /// Its buttons, for the reader.
    pub actions: CaseActions,
}

/// A comment on a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommentView {
    /// Who wrote it.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// Text.
    pub body: String,
}

/// A tenant in the operator's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantSummary {
    /// Tenant id.
    pub id: String,
    /// Country.
    pub country: String,
    /// Primary contact.
    pub primary_contact: Option<String>,
    /// Number of events (the tenant's version).
    pub version: u64,
    /// Each enrolled program's enrollment and verification status.
    pub programs: Vec<ProgramInfoView>,
}

/// A user and its roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// User id.
    pub id: String,
    /// Role ids held.
    pub roles: Vec<String>,
    /// The tenant's primary contact.
    pub primary_contact: bool,
    /// "Save roles" (`grant_roles`/`revoke_roles` of this user).
    pub change_roles: Affordance,
    /// Taking every role from this user (`revoke_roles`): refused for the
    /// last holder of an owner role (Global Admin), so the page can say so.
    pub revoke_all: Affordance,
    /// "Remove user" (`remove_user`).
    pub remove: Affordance,
}

/// One event of the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Position in the tenant's log (1-based).
    pub seq: u64,
    /// Position in the global feed.
    pub revision: u64,
    /// Event type (`verification_changed`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Who did it (`{"kind": "partner", "user": "alice"}`, `{"kind": "system"}`, ...).
    #[schema(value_type = Object)]
    pub actor: serde_json::Value,
    /// When (RFC 3339).
    pub at: String,
    /// The event's fields.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A page of the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    /// The events, by `seq`.
    pub events: Vec<EventView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<u64>,
}

/// What a successful write reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WriteResult {
    /// The global revision of the write: pass it as `min_revision` to read your own write.
    pub revision: u64,
    /// The tenant's version after the write.
    pub version: u64,
    /// The events recorded, with their `type` tag.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
}

/// A stored document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DocumentRef {
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
    /// Media type detected from its content.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// An API token just issued; the secret is shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuedToken {
    /// The bearer token (`clr_...`). Only its hash is stored.
    pub token: String,
    /// Who it acts as.
    pub principal: crate::auth::Principal,
}

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SweepReport {
    /// Verifications found past their SLA and marked overdue now: `(tenant, program)`.
    pub marked: Vec<(String, String)>,
    /// Verifications the sweep could not mark (the message says why).
    pub failed: Vec<(String, String, String)>,
}

impl CheckResult {
    /// The wire form of a core decision, made with the catalog it was decided on.
    pub fn from_decision(catalog: &Catalog, decision: &Decision<'_>) -> CheckResult {
        CheckResult {
            action: decision.action.id.clone(),
            allowed: decision.allowed(),
            unmet: decision
                .unmet
                .iter()
                .map(|unmet| UnmetView::new(catalog, unmet.requirement))
                .collect(),
        }
    }
}

impl UnmetView {
    /// The wire form of one requirement not met: its id, kind, reason, who
    /// can fix it and the next step.
    pub fn new(catalog: &Catalog, requirement: &Requirement) -> Self {
        UnmetView {
            requirement: requirement.id.clone(),
            kind: requirement.kind.name().to_owned(),
            reason: requirement.reason.clone(),
            fixed_by: FixedByView::new(catalog, &requirement.fixed_by),
            next_step: NextStepView::from(&requirement.next_step),
        }
    }
}

impl FixedByView {
    /// Who can fix a requirement, its roles as ids in catalog order.
    pub fn new(catalog: &Catalog, fixed_by: &FixedBy) -> Self {
        FixedByView {
            roles: role_ids(catalog, fixed_by.roles),
            primary_contact: fixed_by.primary_contact,
            support: fixed_by.support,
        }
    }
}

impl From<&NextStepRef> for NextStepView {
    fn from(step: &NextStepRef) -> Self {
        NextStepView {
            code: step.code.clone(),
            page: step.page.clone(),
        }
    }
}

impl WorkspaceView {
    /// The wire form of one workspace's access for a user.
    pub fn new(catalog: &Catalog, access: &WorkspaceAccess<'_>) -> Self {
        WorkspaceView {
            workspace: access.workspace.id.clone(),
            name: access.workspace.name.clone(),
            page: access.workspace.page.clone(),
            open: access.open(),
            actions: access
                .actions
                .iter()
                .map(|decision| CheckResult::from_decision(catalog, decision))
                .collect(),
        }
    }
}

/// The ids of a set of roles, in catalog order.
fn role_ids(catalog: &Catalog, roles: Set<RoleIx>) -> Vec<String> {
    roles.iter().map(|r| catalog.role(r).id.clone()).collect()
}

impl DiagnosisView {
    /// The view of a diagnosis made with `catalog`.
    pub fn new(catalog: &Catalog, diagnosis: &Diagnosis) -> Self {
        DiagnosisView {
            cause: diagnosis.cause.clone(),
            steps: diagnosis
                .steps
                .iter()
                .map(|step| StepView {
                    code: step.code.as_str().to_owned(),
                    text: step.text.clone(),
                })
                .collect(),
            findings: diagnosis
                .findings
                .iter()
                .map(|finding| FindingView::new(catalog, finding))
                .collect(),
        }
    }
}

impl FindingView {
    /// The view of one finding, its indices resolved to `catalog`'s ids.
    pub fn new(catalog: &Catalog, finding: &Finding) -> Self {
        let mut view = FindingView {
            code: finding.code().as_str().to_owned(),
            program: catalog.program(finding.program).id.clone(),
            ..FindingView::default()
        };
        let situation = |code: &str| Some(code.to_owned());
        match &finding.kind {
            FindingKind::CheckLegalInfo {
                enrollment,
                verification,
                legal_info_blocked,
            } => {
                view.enrollment_status = Some(enrollment.as_str().to_owned());
                view.verification_status = Some(verification.as_str().to_owned());
                view.fixed_by = legal_info_blocked
                    .as_ref()
                    .map(|f| FixedByView::new(catalog, f));
            }
            FindingKind::VerifyEnrollment { gap, enrollers } => {
                view.situation = situation(match gap {
                    EnrollmentGap::NoRecord => "no_record",
                    EnrollmentGap::Closed => "closed",
                });
                view.fixed_by = Some(FixedByView::new(catalog, enrollers));
            }
            FindingKind::ReviewVerificationSummary { review } => match review {
                VerificationReview::NotSubmitted { enrollers } => {
                    view.situation = situation("not_submitted");
                    view.verification_status = Some("not_started".to_owned());
                    view.fixed_by = Some(FixedByView::new(catalog, enrollers));
                }
                VerificationReview::Waiting {
                    status,
                    submitted_at,
                    sla_business_days,
                } => {
                    view.situation = situation("waiting");
                    view.verification_status = Some(status.as_str().to_owned());
                    view.submitted_at = submitted_at.map(|at| at.to_string());
                    view.sla_business_days = Some(*sla_business_days);
                }
                VerificationReview::Challenged => {
                    view.situation = situation("challenged");
                    view.verification_status = Some("challenged".to_owned());
                    view.banner = Some(true);
                }
                VerificationReview::Rejected { reason } => {
                    view.situation = situation("rejected");
                    view.verification_status = Some("rejected".to_owned());
                    view.reviewer_reason = reason.clone();
                }
            },
            FindingKind::WaitForVerification {
                status,
                sla_business_days,
                clock,
            } => {
                view.verification_status = Some(status.as_str().to_owned());
                view.sla_business_days = Some(*sla_business_days);
                view.banner = Some(false);
                if let Some(clock) = clock {
                    view.set_clock(clock);
                }
            }
            FindingKind::RespondToChallenge {
                reason,
                documents_requested,
                appeals,
            } => {
                view.banner = Some(true);
                view.reviewer_reason = reason.clone();
                view.documents_requested = documents_requested.clone();
                view.appeals = Some(AppealsView::new(catalog, appeals));
            }
            FindingKind::SubmitAppeal { appeals } => {
                view.verification_status = Some("rejected".to_owned());
                view.appeals = Some(AppealsView::new(catalog, appeals));
            }
            FindingKind::ContactSupport { reason } => match reason {
                SupportReason::PastSla {
                    status,
                    sla_business_days,
                    clock,
                    open_case,
                } => {
                    view.situation = situation("past_sla");
                    view.verification_status = Some(status.as_str().to_owned());
                    view.sla_business_days = Some(*sla_business_days);
                    view.banner = Some(false);
                    view.set_clock(clock);
                    view.support_case = open_case.clone();
                }
                SupportReason::AppealsExhausted { max_appeals } => {
                    view.situation = situation("appeals_exhausted");
                    view.appeals = Some(AppealsView {
                        used: *max_appeals,
                        left: 0,
                        max: *max_appeals,
                        primary_contact: None,
                        roles: Vec::new(),
                        user_may_appeal: "no".to_owned(),
                    });
                }
                SupportReason::NotActivated { enrollment } => {
                    view.situation = situation("not_activated");
                    view.enrollment_status = Some(enrollment.as_str().to_owned());
                    view.verification_status = Some("authorized".to_owned());
                }
                SupportReason::Suspended => {
                    view.situation = situation("suspended");
                    view.enrollment_status = Some("suspended".to_owned());
                }
            },
            FindingKind::AcceptAgreement {
                agreements,
                fixed_by,
            } => {
                view.agreements = agreements
                    .iter()
                    .map(|a| catalog.agreement(a).id.clone())
                    .collect();
                view.fixed_by = Some(FixedByView::new(catalog, fixed_by));
            }
            FindingKind::CompleteProfile {
                profiles,
                actions,
                fixed_by,
            } => {
                view.profiles = profiles
                    .iter()
                    .map(|p| catalog.profile(p).id.clone())
                    .collect();
                view.actions = actions
                    .iter()
                    .map(|a| catalog.action(*a).id.clone())
                    .collect();
                view.fixed_by = Some(FixedByView::new(catalog, fixed_by));
            }
            FindingKind::AssignRole {
                requirement,
                roles,
                workspace,
                fixed_by,
            } => {
                view.requirement = Some(catalog.requirement(*requirement).id.clone());
                view.roles = role_ids(catalog, *roles);
                view.workspace = Some(catalog.workspace(*workspace).id.clone());
                view.fixed_by = Some(FixedByView::new(catalog, fixed_by));
            }
            FindingKind::SignInAgain {
                reason,
                home,
                closable_case,
            } => {
                view.situation = situation(match reason {
                    SignInReason::AfterRoleAssigned => "after_role_assigned",
                    SignInReason::AccessRestored => "access_restored",
                });
                view.workspace = home.map(|w| catalog.workspace(w).id.clone());
                view.support_case = closable_case.clone();
            }
            FindingKind::ExplainDisabledPurchase { disabled } => {
                view.disabled = disabled
                    .iter()
                    .map(|purchase| DisabledPurchaseView {
                        action: catalog.action(purchase.action).id.clone(),
                        unmet: purchase
                            .unmet
                            .iter()
                            .map(|r| catalog.requirement(*r).id.clone())
                            .collect(),
                    })
                    .collect();
            }
        }
        view
    }

    fn set_clock(&mut self, clock: &SlaClock) {
        self.submitted_at = Some(clock.submitted_at.to_string());
        self.business_days_elapsed = Some(clock.elapsed);
        self.due = Some(clock.due.to_string());
    }
}

impl AppealsView {
    /// A program's appeals, the appellants' roles as ids.
    pub fn new(catalog: &Catalog, appeals: &Appeals) -> Self {
        let who = &appeals.appellants;
        AppealsView {
            used: appeals.used,
            left: appeals.left,
            max: appeals.max,
            primary_contact: who.primary_contact.clone(),
            roles: role_ids(catalog, who.roles),
            user_may_appeal: match who.user {
                AppellantStanding::PrimaryContact => "primary_contact",
                AppellantStanding::HoldsRoles(_) => "holds_roles",
                AppellantStanding::Neither => "no",
            }
            .to_owned(),
        }
    }
}

mod affordance;
mod pages;

pub use affordance::{Affordance, RefusalView, unmet_ids};
pub use pages::{
    CaseActions, HeldMembershipView, LegalProgramView, OfferView, SupportView, UsersView,
    VerificationActions,
};
