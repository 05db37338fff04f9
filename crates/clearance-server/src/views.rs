//! The service's answers as plain data: what the HTTP API sends as JSON (with
//! their OpenAPI schemas) and what the portal renders.
//!
//! Everything here is owned strings and numbers, resolved from catalog indices
//! to stable ids, so a caller needs neither the catalog nor the core's types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer to one check: may this user take this action now, and if not, why.
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

/// The diagnosis of a tenant for a user: root cause and next supported steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DiagnosisView {
    /// The root cause in one sentence.
    pub cause: String,
    /// The next supported steps, in order.
    pub steps: Vec<StepView>,
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
    /// Every program of the catalog, enrolled or not.
    pub programs: Vec<ProgramInfoView>,
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
    /// The wire form of a core decision (the core's [`DecisionView`] made owned).
    ///
    /// [`DecisionView`]: clearance_core::decision::DecisionView
    pub fn from_decision(
        catalog: &clearance_core::Catalog,
        decision: &clearance_core::Decision<'_>,
    ) -> CheckResult {
        CheckResult::from(clearance_core::decision::DecisionView::new(
            catalog, decision,
        ))
    }
}

impl From<clearance_core::decision::DecisionView<'_>> for CheckResult {
    fn from(view: clearance_core::decision::DecisionView<'_>) -> Self {
        CheckResult {
            action: view.action.into_owned(),
            allowed: view.allowed,
            unmet: view.unmet.into_iter().map(UnmetView::from).collect(),
        }
    }
}

impl From<clearance_core::decision::UnmetView<'_>> for UnmetView {
    fn from(view: clearance_core::decision::UnmetView<'_>) -> Self {
        UnmetView {
            requirement: view.requirement.into_owned(),
            kind: view.kind.into_owned(),
            reason: view.reason.into_owned(),
            fixed_by: FixedByView {
                roles: view
                    .fixed_by
                    .roles
                    .into_iter()
                    .map(|role| role.into_owned())
                    .collect(),
                primary_contact: view.fixed_by.primary_contact,
                support: view.fixed_by.support,
            },
            next_step: NextStepView {
                code: view.next_step.code.into_owned(),
                page: view.next_step.page.into_owned(),
            },
        }
    }
}
