//! Diagnosis of a whole tenant for one user: the root cause and the ordered
//! next supported steps, as the seed's support answer lays them out.
//!
//! # Which programs are diagnosed
//!
//! Every program the tenant has a record of (enrolled, in any status), in
//! catalog order, and the catalog's first program (its main one, MAICPP in the
//! default catalog) when the tenant has no record of it: that is the "Partner
//! tab is missing" case. Other programs the tenant never enrolled in are a
//! choice, not a fault, and are not reported.
//!
//! # Which workspaces a program gates
//!
//! A program's *home* is the first workspace, in catalog order, that itself
//! requires the program's enrollment or verification (Membership for MAICPP);
//! its *focus* is the home and the workspaces below it (Membership offers).
//! Role, profile and purchase steps look only at the focus actions, decided
//! with [`decide`], and only once the program is Authorized and Active: while
//! vetting is not complete, roles alone never open them, so the vetting steps
//! come first and nothing else is said (the seed's own case).
//!
//! # The steps
//!
//! Steps come in [`StepCode`] order (the seed's order); a code appears once,
//! its text covering every program concerned.
//!
//! - `check_legal_info`: the program's enrollment is not Active or its
//!   verification not Authorized.
//! - `verify_enrollment`: no record of the main program, or the enrollment is
//!   Closed.
//! - `review_verification_summary`: verification is not Authorized.
//! - `wait_for_verification`: Pending or In progress inside the SLA (with the
//!   due date) and no banner.
//! - `respond_to_challenge`: an action-required banner is shown (Challenged)
//!   and appeals are left.
//! - `submit_appeal`: Rejected with appeals left (how many; who may appeal).
//! - `contact_support`: Pending or In progress past the SLA with no banner;
//!   Rejected or Challenged with no appeals left; Authorized but the
//!   enrollment still not Active; Suspended.
//! - `accept_agreement`: an agreement the program (or a focus action)
//!   requires is not accepted.
//! - `complete_profile`: a focus action needs a profile that is incomplete.
//! - `assign_role`: the program is Authorized and Active but the user lacks a
//!   role a focus action needs.
//! - `sign_in_again`: the program is Authorized and Active and either
//!   `assign_role` was given (sign in again once the role is assigned), or the
//!   user may open the home workspace while a support case about the program
//!   is still open, that is access was just restored by support's change and
//!   sessions opened before it still carry the old access.
//! - `explain_disabled_purchase`: the home workspace is open to the user but a
//!   purchase action (one that checks a membership) is disabled by more than
//!   the membership's own state (an active membership for Buy, the renewal
//!   window for Renew): lists every unmet criterion of each such action.
//!
//! # Findings, then prose
//!
//! Finding the steps returns typed [`Finding`]s (the program, its statuses and
//! dates, appeals, who can fix, the open case); [`render`] then words each one
//! with one function per [`StepCode`]. Callers that want data (the API's
//! `findings`) read the findings; callers that want sentences read the steps.

mod render;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::catalog::{
    ActionIx, AgreementIx, Catalog, FixedBy, ProfileIx, ProgramIx, RequirementIx, RequirementKind,
    RoleIx, Set, WorkspaceIx,
};
use crate::decision::{Decision, decide};
use crate::prose::join_and;
use crate::state::{CaseStatus, EnrollmentStatus, ProgramRecord, Tenant, User, VerificationStatus};
pub use crate::vocabulary::StepCode;
pub use render::render;

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
    /// The typed findings the steps were worded from, in step order (one per
    /// program and code). They hold catalog indices, so they are not
    /// serialised here: the server's `DiagnosisView` carries them with ids.
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// The step with this code, if it applies.
    pub fn step(&self, code: StepCode) -> Option<&Step> {
        self.steps.iter().find(|s| s.code == code)
    }

    /// The codes of the steps, in order.
    pub fn codes(&self) -> Vec<StepCode> {
        self.steps.iter().map(|s| s.code).collect()
    }
}

/// One thing found about one program: the data a next step is worded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The program concerned.
    pub program: ProgramIx,
    /// What was found, with the specifics of its step.
    pub kind: FindingKind,
}

impl Finding {
    /// The step this finding calls for.
    pub fn code(&self) -> StepCode {
        self.kind.code()
    }
}

/// What was found, one variant per [`StepCode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// The enrollment is not Active or verification not Authorized.
    CheckLegalInfo {
        /// The enrollment's status.
        enrollment: EnrollmentStatus,
        /// The verification's status.
        verification: VerificationStatus,
        /// Who can give the user Legal Info, when the user cannot open it.
        legal_info_blocked: Option<FixedBy>,
    },
    /// The program must be enrolled in (again).
    VerifyEnrollment {
        /// Why: no record, or a Closed enrollment.
        gap: EnrollmentGap,
        /// Who may enroll.
        enrollers: FixedBy,
    },
    /// Verification is not Authorized: read the Verification summary.
    ReviewVerificationSummary {
        /// What the summary shows.
        review: VerificationReview,
    },
    /// Pending or In progress with no banner, inside its SLA or with no
    /// submission date.
    WaitForVerification {
        /// Pending or In progress.
        status: VerificationStatus,
        /// The SLA in business days.
        sla_business_days: u32,
        /// Where the SLA stands; `None` when the submission date is not recorded.
        clock: Option<SlaClock>,
    },
    /// An action-required banner is shown and appeals are left.
    RespondToChallenge {
        /// What the reviewer says.
        reason: Option<String>,
        /// The documents asked for.
        documents_requested: Vec<String>,
        /// Appeals used and left, and who may answer.
        appeals: Appeals,
    },
    /// Rejected with appeals left.
    SubmitAppeal {
        /// Appeals used and left, and who may appeal.
        appeals: Appeals,
    },
    /// Only support can move it on.
    ContactSupport {
        /// Why support is needed.
        reason: SupportReason,
    },
    /// Agreements the program or a focus action requires are not accepted.
    AcceptAgreement {
        /// The agreements not accepted.
        agreements: Set<AgreementIx>,
        /// Who can accept them.
        fixed_by: FixedBy,
    },
    /// Focus actions need incomplete profiles.
    CompleteProfile {
        /// The incomplete profiles.
        profiles: Set<ProfileIx>,
        /// The actions they hold back, in catalog order.
        actions: Vec<ActionIx>,
        /// Who can complete them.
        fixed_by: FixedBy,
    },
    /// The user lacks a role a focus action needs.
    AssignRole {
        /// The unmet role requirement.
        requirement: RequirementIx,
        /// Any of these roles meets it.
        roles: Set<RoleIx>,
        /// The workspace it opens.
        workspace: WorkspaceIx,
        /// Who can assign it.
        fixed_by: FixedBy,
    },
    /// The state changed: sessions opened before still carry the old access.
    SignInAgain {
        /// Why signing in again helps.
        reason: SignInReason,
        /// The program's home workspace, when it has one.
        home: Option<WorkspaceIx>,
        /// A support case about the program that can then be closed.
        closable_case: Option<String>,
    },
    /// Purchase actions disabled by more than the membership's own state.
    ExplainDisabledPurchase {
        /// Each disabled purchase action with its unmet requirements.
        disabled: Vec<DisabledPurchase>,
    },
}

impl FindingKind {
    /// The step this finding calls for.
    pub fn code(&self) -> StepCode {
        match self {
            Self::CheckLegalInfo { .. } => StepCode::CheckLegalInfo,
            Self::VerifyEnrollment { .. } => StepCode::VerifyEnrollment,
            Self::ReviewVerificationSummary { .. } => StepCode::ReviewVerificationSummary,
            Self::WaitForVerification { .. } => StepCode::WaitForVerification,
            Self::RespondToChallenge { .. } => StepCode::RespondToChallenge,
            Self::SubmitAppeal { .. } => StepCode::SubmitAppeal,
            Self::ContactSupport { .. } => StepCode::ContactSupport,
            Self::AcceptAgreement { .. } => StepCode::AcceptAgreement,
            Self::CompleteProfile { .. } => StepCode::CompleteProfile,
            Self::AssignRole { .. } => StepCode::AssignRole,
            Self::SignInAgain { .. } => StepCode::SignInAgain,
            Self::ExplainDisabledPurchase { .. } => StepCode::ExplainDisabledPurchase,
        }
    }
}

/// Why a program must be enrolled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrollmentGap {
    /// The tenant has no record of the program (the Partner tab is missing).
    NoRecord,
    /// The enrollment is Closed.
    Closed,
}

/// What the Verification summary shows while verification is not Authorized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerificationReview {
    /// Nothing submitted yet.
    NotSubmitted {
        /// Who may submit it.
        enrollers: FixedBy,
    },
    /// Pending or In progress.
    Waiting {
        /// Pending or In progress.
        status: VerificationStatus,
        /// When it was submitted, if recorded.
        submitted_at: Option<Timestamp>,
        /// The SLA in business days.
        sla_business_days: u32,
    },
    /// Challenged: the reviewer needs more information.
    Challenged,
    /// Rejected.
    Rejected {
        /// The reviewer's reason.
        reason: Option<String>,
    },
}

/// Where a submitted verification's SLA stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlaClock {
    /// When verification was submitted.
    pub submitted_at: Timestamp,
    /// Business days elapsed since.
    pub elapsed: u32,
    /// The date it is due by.
    pub due: Date,
}

/// Appeals of a program and who may make them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appeals {
    /// Appeals used.
    pub used: u8,
    /// Appeals left.
    pub left: u8,
    /// Appeals allowed in total.
    pub max: u8,
    /// Who may appeal (and answer a challenge).
    pub appellants: Appellants,
}

/// Who may appeal, and where the diagnosed user stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appellants {
    /// The tenant's primary contact, who may always appeal.
    pub primary_contact: Option<String>,
    /// Holders of these roles may appeal too.
    pub roles: Set<RoleIx>,
    /// Whether the diagnosed user may.
    pub user: AppellantStanding,
}

/// Whether the diagnosed user may appeal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppellantStanding {
    /// The user is the primary contact.
    PrimaryContact,
    /// The user holds these appeal roles.
    HoldsRoles(Set<RoleIx>),
    /// The user may not appeal.
    Neither,
}

/// Why only support can move a program on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SupportReason {
    /// Pending or In progress past the SLA with no action-required banner.
    PastSla {
        /// Pending or In progress.
        status: VerificationStatus,
        /// The SLA in business days.
        sla_business_days: u32,
        /// Where the SLA stands.
        clock: SlaClock,
        /// The escalation's support case, while it is open.
        open_case: Option<String>,
    },
    /// Rejected or Challenged with every appeal used.
    AppealsExhausted {
        /// Appeals allowed in total.
        max_appeals: u8,
    },
    /// Verification is Authorized but the enrollment is not yet Active.
    NotActivated {
        /// The enrollment's status.
        enrollment: EnrollmentStatus,
    },
    /// The enrollment is Suspended.
    Suspended,
}

/// Why signing in again helps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInReason {
    /// Once a missing role is assigned.
    AfterRoleAssigned,
    /// Support restored access while a case is open.
    AccessRestored,
}

/// A purchase action disabled by more than the membership's own state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisabledPurchase {
    /// The action.
    pub action: ActionIx,
    /// Its unmet requirements, in catalog order.
    pub unmet: Vec<RequirementIx>,
}

/// Diagnoses `tenant` for `user` at `now`: the root cause and the next
/// supported steps (see the module documentation for the rules).
pub fn diagnose(catalog: &Catalog, tenant: &Tenant, user: &User, now: Timestamp) -> Diagnosis {
    let mut cause = None;
    let mut findings: Vec<Finding> = Vec::new();
    for program in diagnosed_programs(catalog, tenant) {
        let found = Finder {
            catalog,
            tenant,
            user,
            now,
            program,
        }
        .find();
        if cause.is_none() {
            cause = found.cause;
        }
        findings.extend(found.findings);
    }
    // Stable: within a code, programs stay in catalog order.
    findings.sort_by_key(Finding::code);
    let mut steps: Vec<Step> = Vec::with_capacity(findings.len());
    for finding in &findings {
        let text = render(catalog, &user.id, finding);
        match steps.last_mut() {
            Some(last) if last.code == finding.code() => {
                last.text.push(' ');
                last.text.push_str(&text);
            }
            _ => steps.push(Step {
                code: finding.code(),
                text,
                program: Some(finding.program),
            }),
        }
    }
    let cause = cause.unwrap_or_else(|| healthy(catalog, tenant, user));
    Diagnosis {
        cause,
        steps,
        findings,
    }
}

/// The programs [`diagnose`] looks at, in catalog order: every program the
/// tenant has a record of, and the catalog's first program when it has none.
pub fn diagnosed_programs(catalog: &Catalog, tenant: &Tenant) -> Vec<ProgramIx> {
    (0..catalog.programs.len())
        .map(program_ix)
        .filter(|&ix| ix.index() == 0 || tenant.program(ix).is_some())
        .collect()
}

fn program_ix(index: usize) -> ProgramIx {
    ProgramIx(u16::try_from(index).expect("a catalog holds at most 64 programs"))
}

fn healthy(catalog: &Catalog, tenant: &Tenant, user: &User) -> String {
    let ready: Vec<&str> = tenant
        .programs
        .iter()
        .map(|record| catalog.program(record.program).name.as_str())
        .collect();
    if ready.is_empty() {
        format!("Nothing blocks {}.", user.id)
    } else {
        format!(
            "Nothing blocks {}: {} {} Authorized and Active.",
            user.id,
            join_and(&ready),
            if ready.len() == 1 { "is" } else { "are" }
        )
    }
}

/// What one program contributes: its cause, if any, and its findings.
struct Found {
    cause: Option<String>,
    findings: Vec<Finding>,
}

struct Finder<'a> {
    catalog: &'a Catalog,
    tenant: &'a Tenant,
    user: &'a User,
    now: Timestamp,
    program: ProgramIx,
}

impl<'a> Finder<'a> {
    fn name(&self) -> &'a str {
        &self.catalog.program(self.program).name
    }

    fn finding(&self, kind: FindingKind) -> Finding {
        Finding {
            program: self.program,
            kind,
        }
    }

    fn find(&self) -> Found {
        let focus = self.focus();
        let locked = self.locked_names(&focus);
        let Some(record) = self.tenant.program(self.program) else {
            return Found {
                cause: Some(format!(
                    "The tenant is not enrolled in the {}: Legal Info has no Partner tab record of it, so {locked} locked; roles alone cannot change that.",
                    self.name()
                )),
                findings: vec![self.finding(FindingKind::VerifyEnrollment {
                    gap: EnrollmentGap::NoRecord,
                    enrollers: self.enrollers(),
                })],
            };
        };
        let v = &record.verification;
        let enrollment_ok = record.enrollment == EnrollmentStatus::Active;
        let verification_ok = v.status == VerificationStatus::Authorized;
        let mut findings = Vec::new();
        let mut cause = None;

        if !enrollment_ok || !verification_ok {
            findings.push(self.finding(FindingKind::CheckLegalInfo {
                enrollment: record.enrollment,
                verification: v.status,
                legal_info_blocked: self.legal_info_blocker(),
            }));
        }
        if let Some((vetting_cause, vetting_findings)) = self.vetting(record, &locked) {
            cause = Some(vetting_cause);
            findings.extend(vetting_findings);
        }
        match record.enrollment {
            EnrollmentStatus::Active => {}
            EnrollmentStatus::PendingQualification | EnrollmentStatus::Pending => {
                if verification_ok {
                    cause.get_or_insert_with(|| {
                        format!(
                            "{} verification is Authorized but the enrollment is still {}: {locked} locked until it is Active.",
                            self.name(),
                            record.enrollment.words()
                        )
                    });
                    findings.push(self.finding(FindingKind::ContactSupport {
                        reason: SupportReason::NotActivated {
                            enrollment: record.enrollment,
                        },
                    }));
                }
            }
            EnrollmentStatus::Suspended => {
                cause.get_or_insert_with(|| {
                    format!(
                        "The {} enrollment is Suspended: {locked} locked until support lifts the suspension.",
                        self.name()
                    )
                });
                findings.push(self.finding(FindingKind::ContactSupport {
                    reason: SupportReason::Suspended,
                }));
            }
            EnrollmentStatus::Closed => {
                cause.get_or_insert_with(|| {
                    format!(
                        "The {} enrollment is Closed: {locked} locked until the tenant enrolls again.",
                        self.name()
                    )
                });
                findings.push(self.finding(FindingKind::VerifyEnrollment {
                    gap: EnrollmentGap::Closed,
                    enrollers: self.enrollers(),
                }));
            }
        }

        let program_agreements = self
            .catalog
            .program(self.program)
            .agreements
            .difference(self.tenant.agreements);
        let ready = enrollment_ok && verification_ok;
        let decisions: Vec<(ActionIx, Decision<'a>)> = if ready {
            focus
                .actions
                .iter()
                .map(|&action| {
                    (
                        action,
                        decide(self.catalog, self.tenant, self.user, action, self.now),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let unmet_agreements =
            program_agreements.union(self.unmet_of(&decisions, |kind| match kind {
                RequirementKind::Agreement(a) => Some(*a),
                _ => None,
            }));
        if !unmet_agreements.is_empty() {
            let names: Vec<&str> = unmet_agreements
                .iter()
                .map(|a| self.catalog.agreement(a).name.as_str())
                .collect();
            cause.get_or_insert_with(|| {
                format!(
                    "The {} requires the {}, not accepted yet: {locked} locked until it is.",
                    self.name(),
                    join_and(&names)
                )
            });
            findings.push(self.finding(FindingKind::AcceptAgreement {
                agreements: unmet_agreements,
                fixed_by: self.agreement_fixers(unmet_agreements),
            }));
        }
        if ready {
            self.ready_findings(&focus, &decisions, &mut cause, &mut findings);
        }
        Found { cause, findings }
    }

    /// Who can give the user Legal Info when the user cannot open it: the
    /// first unmet requirement of the Legal Info action.
    fn legal_info_blocker(&self) -> Option<FixedBy> {
        let action = self.catalog.gates.legal_info.action()?;
        let decision = decide(self.catalog, self.tenant, self.user, action, self.now);
        decision
            .unmet
            .first()
            .map(|unmet| unmet.requirement.fixed_by.clone())
    }

    /// The vetting findings and cause when verification is not Authorized.
    fn vetting(&self, record: &ProgramRecord, locked: &str) -> Option<(String, Vec<Finding>)> {
        let v = &record.verification;
        let name = self.name();
        let max = self.catalog.vetting.max_appeals;
        let left = max.saturating_sub(v.appeals_used);
        let sla_days = self.catalog.vetting.sla_business_days;
        let blocked = format!(
            "and the enrollment is {}: {locked} locked until verification is Authorized and the enrollment Active; roles alone cannot change that.",
            record.enrollment.words()
        );
        let review = |review: VerificationReview| {
            self.finding(FindingKind::ReviewVerificationSummary { review })
        };
        let exhausted = || {
            self.finding(FindingKind::ContactSupport {
                reason: SupportReason::AppealsExhausted { max_appeals: max },
            })
        };
        let result = match v.status {
            VerificationStatus::Authorized => return None,
            VerificationStatus::NotStarted => (
                format!("{name} verification has not been submitted {blocked}"),
                vec![review(VerificationReview::NotSubmitted {
                    enrollers: self.enrollers(),
                })],
            ),
            VerificationStatus::Pending | VerificationStatus::InProgress => {
                let status = v.status.words();
                let since = v
                    .submitted_at
                    .map(|at| format!(" since {}", utc_date(at)))
                    .unwrap_or_default();
                let mut findings = vec![review(VerificationReview::Waiting {
                    status: v.status,
                    submitted_at: v.submitted_at,
                    sla_business_days: sla_days,
                })];
                if v.action_required {
                    findings.push(self.challenge(record));
                    (
                        format!(
                            "{name} verification is {status} with an action-required banner {blocked}"
                        ),
                        findings,
                    )
                } else if let Some(submitted) = v.submitted_at {
                    let sla = self.catalog.calendar.sla(submitted, sla_days, self.now);
                    let clock = SlaClock {
                        submitted_at: submitted,
                        elapsed: sla.elapsed,
                        due: sla.due,
                    };
                    if sla.overdue {
                        findings.push(
                            self.finding(FindingKind::ContactSupport {
                                reason: SupportReason::PastSla {
                                    status: v.status,
                                    sla_business_days: sla_days,
                                    clock,
                                    open_case: self
                                        .open_case(v.escalated_case.as_deref())
                                        .map(str::to_owned),
                                },
                            }),
                        );
                        (
                            format!(
                                "{name} verification is {status}{since}, {} business days, past its {sla_days}-business-day SLA while the reviewer has asked for nothing, {blocked}",
                                sla.elapsed
                            ),
                            findings,
                        )
                    } else {
                        findings.push(self.finding(FindingKind::WaitForVerification {
                            status: v.status,
                            sla_business_days: sla_days,
                            clock: Some(clock),
                        }));
                        (
                            format!(
                                "{name} verification is {status}{since}, inside its SLA (due {}), {blocked}",
                                sla.due
                            ),
                            findings,
                        )
                    }
                } else {
                    findings.push(self.finding(FindingKind::WaitForVerification {
                        status: v.status,
                        sla_business_days: sla_days,
                        clock: None,
                    }));
                    (
                        format!("{name} verification is {status} {blocked}"),
                        findings,
                    )
                }
            }
            VerificationStatus::Challenged => {
                let mut findings = vec![review(VerificationReview::Challenged)];
                findings.push(if left > 0 {
                    self.challenge(record)
                } else {
                    exhausted()
                });
                (
                    format!("{name} verification is Challenged (action required) {blocked}"),
                    findings,
                )
            }
            VerificationStatus::Rejected => {
                let mut findings = vec![review(VerificationReview::Rejected {
                    reason: v.reason.clone(),
                })];
                findings.push(if left > 0 {
                    self.finding(FindingKind::SubmitAppeal {
                        appeals: self.appeals(record),
                    })
                } else {
                    exhausted()
                });
                let appeals = if left > 0 {
                    format!("{left} of {max} appeals left")
                } else {
                    "no appeals left".to_owned()
                };
                (
                    format!("{name} verification was Rejected ({appeals}) {blocked}"),
                    findings,
                )
            }
        };
        Some(result)
    }

    fn challenge(&self, record: &ProgramRecord) -> Finding {
        let v = &record.verification;
        self.finding(FindingKind::RespondToChallenge {
            reason: v.reason.clone(),
            documents_requested: v.documents_requested.clone(),
            appeals: self.appeals(record),
        })
    }

    /// Findings once the program is Authorized and Active: roles, profiles,
    /// agreements and purchases of the focus actions.
    fn ready_findings(
        &self,
        focus: &Focus,
        decisions: &[(ActionIx, Decision<'a>)],
        cause: &mut Option<String>,
        findings: &mut Vec<Finding>,
    ) {
        let home_open = decisions
            .iter()
            .any(|(_, d)| d.allowed() && focus.home.is_none_or(|home| d.action.workspace == home));
        let home_name = focus
            .home_name(self.catalog)
            .unwrap_or("the program's workspaces");

        let missing_profiles: Set<ProfileIx> = self.unmet_of(decisions, |kind| match kind {
            RequirementKind::Profile(p) => Some(*p),
            _ => None,
        });
        if !missing_profiles.is_empty() {
            let is_profile = |kind: &RequirementKind| matches!(kind, RequirementKind::Profile(_));
            let held_back: Vec<ActionIx> = decisions
                .iter()
                .filter(|(_, d)| d.unmet.iter().any(|u| is_profile(&u.requirement.kind)))
                .map(|(action, _)| *action)
                .collect();
            findings.push(self.finding(FindingKind::CompleteProfile {
                profiles: missing_profiles,
                actions: held_back,
                fixed_by: self.fixers_of(decisions, is_profile),
            }));
        }

        let mut role_step = false;
        let mut seen: Vec<RequirementIx> = Vec::new();
        for (_, decision) in decisions {
            for unmet in &decision.unmet {
                if let RequirementKind::AnyRole(roles) = &unmet.requirement.kind {
                    if seen.contains(&unmet.index) {
                        continue;
                    }
                    seen.push(unmet.index);
                    role_step = true;
                    findings.push(self.finding(FindingKind::AssignRole {
                        requirement: unmet.index,
                        roles: *roles,
                        workspace: decision.action.workspace,
                        fixed_by: unmet.requirement.fixed_by.clone(),
                    }));
                }
            }
        }
        if role_step {
            cause.get_or_insert_with(|| {
                format!(
                    "The {} is Authorized and Active, but {} lacks the role that opens {home_name}.",
                    self.name(),
                    self.user.id
                )
            });
        }

        let open_case = self
            .tenant
            .cases
            .iter()
            .find(|c| c.program == Some(self.program) && c.status == CaseStatus::Open);
        if role_step || (home_open && open_case.is_some()) {
            if !role_step {
                cause.get_or_insert_with(|| {
                    format!(
                        "Access to {home_name} is restored: the {} is Authorized and Active, but sessions opened before the change still carry the old access.",
                        self.name()
                    )
                });
            }
            findings.push(self.finding(FindingKind::SignInAgain {
                reason: if role_step {
                    SignInReason::AfterRoleAssigned
                } else {
                    SignInReason::AccessRestored
                },
                home: focus.home,
                closable_case: open_case.filter(|_| home_open).map(|case| case.id.clone()),
            }));
        }

        if home_open {
            let disabled: Vec<&(ActionIx, Decision<'a>)> = decisions
                .iter()
                .filter(|(_, d)| is_purchase(self.catalog, d) && !d.allowed())
                .filter(|(_, d)| {
                    d.unmet.iter().any(|u| {
                        !matches!(
                            u.requirement.kind,
                            RequirementKind::NoActiveMembership(_)
                                | RequirementKind::MembershipInRenewalWindow(_)
                        )
                    })
                })
                .collect();
            if !disabled.is_empty() {
                cause.get_or_insert_with(|| {
                    format!(
                        "{home_name} is open, but {} {} disabled by unmet purchase criteria.",
                        join_and(
                            &disabled
                                .iter()
                                .map(|(_, d)| d.action.name.as_str())
                                .collect::<Vec<_>>()
                        ),
                        if disabled.len() == 1 { "is" } else { "are" }
                    )
                });
                findings.push(
                    self.finding(FindingKind::ExplainDisabledPurchase {
                        disabled: disabled
                            .iter()
                            .map(|(action, d)| DisabledPurchase {
                                action: *action,
                                unmet: d.unmet.iter().map(|u| u.index).collect(),
                            })
                            .collect(),
                    }),
                );
            }
        }
        if !missing_profiles.is_empty() {
            cause.get_or_insert_with(|| {
                format!(
                    "The {} is Authorized and Active, but an incomplete profile keeps some actions of {home_name} disabled.",
                    self.name()
                )
            });
        }
    }

    /// The home workspace of the program and the actions under it.
    fn focus(&self) -> Focus {
        let catalog = self.catalog;
        let about_program = |r: &RequirementIx| match &catalog.requirement(*r).kind {
            RequirementKind::Enrollment { program, .. }
            | RequirementKind::Verification { program, .. } => *program == self.program,
            _ => false,
        };
        // The catalog names each program's home page (`home`, or "off").
        let Some(home) = catalog.program(self.program).home else {
            // No home page: the program's focus is every action that names it.
            return Focus {
                home: None,
                workspaces: Vec::new(),
                actions: (0..catalog.actions.len())
                    .filter(|&i| {
                        catalog.actions[i]
                            .all_requirements
                            .iter()
                            .any(about_program)
                    })
                    .map(|i| ActionIx(u16::try_from(i).expect("a catalog index fits in u16")))
                    .collect(),
            };
        };
        let under_home = |mut w: WorkspaceIx| loop {
            if w == home {
                return true;
            }
            match catalog.workspace(w).parent {
                Some(parent) => w = parent,
                None => return false,
            }
        };
        let workspaces: Vec<WorkspaceIx> = (0..catalog.workspaces.len())
            .map(|i| WorkspaceIx(u16::try_from(i).expect("a catalog index fits in u16")))
            .filter(|&w| under_home(w))
            .collect();
        let actions = workspaces
            .iter()
            .flat_map(|w| catalog.workspace(*w).actions.iter().copied())
            .collect();
        Focus {
            home: Some(home),
            workspaces,
            actions,
        }
    }

    /// Who may enroll and submit verification: the catalog's enroll roles,
    /// or support when it names none.
    fn enrollers(&self) -> FixedBy {
        let roles = self.catalog.vetting.enroll_roles;
        FixedBy {
            roles,
            primary_contact: false,
            support: roles.is_empty(),
        }
    }

    /// Appeals used and left, and who may appeal.
    fn appeals(&self, record: &ProgramRecord) -> Appeals {
        let max = self.catalog.vetting.max_appeals;
        let used = record.verification.appeals_used;
        let roles = self.catalog.vetting.appeal_roles;
        let primary_contact = self.tenant.primary_contact.clone();
        let held: Set<RoleIx> = self
            .user
            .roles
            .iter()
            .filter(|&r| roles.contains(r))
            .collect();
        let user = if primary_contact.as_deref() == Some(self.user.id.as_str()) {
            AppellantStanding::PrimaryContact
        } else if !held.is_empty() {
            AppellantStanding::HoldsRoles(held)
        } else {
            AppellantStanding::Neither
        };
        Appeals {
            used,
            left: max.saturating_sub(used),
            max,
            appellants: Appellants {
                primary_contact,
                roles,
                user,
            },
        }
    }

    /// Who can accept the agreements, from the catalog's requirements about them.
    fn agreement_fixers(&self, agreements: Set<AgreementIx>) -> FixedBy {
        self.catalog
            .requirements
            .iter()
            .filter(|r| matches!(r.kind, RequirementKind::Agreement(a) if agreements.contains(a)))
            .fold(FixedBy::default(), |acc, r| either(acc, &r.fixed_by))
    }

    /// The members of one kind of unmet requirement over the decisions.
    fn unmet_of<I: crate::catalog::SetMember>(
        &self,
        decisions: &[(ActionIx, Decision<'a>)],
        member: impl Fn(&RequirementKind) -> Option<I>,
    ) -> Set<I> {
        decisions
            .iter()
            .flat_map(|(_, d)| d.unmet.iter())
            .filter_map(|u| member(&u.requirement.kind))
            .collect()
    }

    /// Who can fix the unmet requirements of a kind.
    fn fixers_of(
        &self,
        decisions: &[(ActionIx, Decision<'a>)],
        kind: impl Fn(&RequirementKind) -> bool,
    ) -> FixedBy {
        decisions
            .iter()
            .flat_map(|(_, d)| d.unmet.iter())
            .filter(|unmet| kind(&unmet.requirement.kind))
            .fold(FixedBy::default(), |acc, unmet| {
                either(acc, &unmet.requirement.fixed_by)
            })
    }

    /// The id of a still-open case.
    fn open_case(&self, id: Option<&'a str>) -> Option<&'a str> {
        let id = id?;
        self.tenant
            .cases
            .iter()
            .find(|c| c.id == id && c.status == CaseStatus::Open)
            .map(|c| c.id.as_str())
    }

    /// What stays locked, with its verb: "Membership and Membership offers
    /// stay", "Customers (CSP) stays".
    fn locked_names(&self, focus: &Focus) -> String {
        let names: Vec<&str> = focus
            .workspaces
            .iter()
            .map(|w| self.catalog.workspace(*w).name.as_str())
            .collect();
        match names.len() {
            0 => format!("the {}'s workspaces stay", self.name()),
            1 => format!("{} stays", names[0]),
            _ => format!("{} stay", join_and(&names)),
        }
    }
}

/// Anyone who can fix either.
fn either(mut acc: FixedBy, other: &FixedBy) -> FixedBy {
    acc.roles = acc.roles.union(other.roles);
    acc.primary_contact |= other.primary_contact;
    acc.support |= other.support;
    acc
}

/// The workspaces and actions a program gates.
struct Focus {
    home: Option<WorkspaceIx>,
    workspaces: Vec<WorkspaceIx>,
    actions: Vec<ActionIx>,
}

impl Focus {
    fn home_name<'c>(&self, catalog: &'c Catalog) -> Option<&'c str> {
        self.home.map(|home| catalog.workspace(home).name.as_str())
    }
}

/// A purchase action is some offer's `buy` or `renew`, as the catalog names them.
fn is_purchase(catalog: &Catalog, decision: &Decision<'_>) -> bool {
    catalog
        .action_ix(&decision.action.id)
        .is_some_and(|action| catalog.is_purchase(action))
}

/// The UTC calendar date of a moment.
fn utc_date(at: Timestamp) -> Date {
    jiff::tz::Offset::UTC.to_datetime(at).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_program_is_diagnosed_even_without_a_record() {
        let catalog = Catalog::partner_center();
        let maicpp = catalog.program_ix("maicpp").expect("maicpp");
        let csp = catalog.program_ix("csp").expect("csp");
        let mut tenant = Tenant::new("t", "US");
        assert_eq!(diagnosed_programs(catalog, &tenant), [maicpp]);
        tenant.programs.push(ProgramRecord {
            program: csp,
            enrollment: EnrollmentStatus::Active,
            verification: crate::state::Verification {
                status: VerificationStatus::Authorized,
                submitted_at: None,
                action_required: false,
                reason: None,
                documents_requested: Vec::new(),
                appeals_used: 0,
                appeals: Vec::new(),
                overdue: false,
                escalated_case: None,
            },
        });
        assert_eq!(diagnosed_programs(catalog, &tenant), [maicpp, csp]);
    }

    #[test]
    fn a_programs_focus_is_its_home_workspace_and_those_below_it() {
        let catalog = Catalog::partner_center();
        let tenant = Tenant::new("t", "US");
        let user = User {
            id: "u".into(),
            roles: Set::EMPTY,
        };
        let focus_of = |program: &str| {
            let finder = Finder {
                catalog,
                tenant: &tenant,
                user: &user,
                now: Timestamp::UNIX_EPOCH,
                program: catalog.program_ix(program).expect("program"),
            };
            let focus = finder.focus();
            let workspaces: Vec<&str> = focus
                .workspaces
                .iter()
                .map(|w| catalog.workspace(*w).id.as_str())
                .collect();
            (
                focus.home_name(catalog).map(str::to_owned),
                workspaces.join(","),
            )
        };
        assert_eq!(
            focus_of("maicpp"),
            (
                Some("Membership".to_owned()),
                "membership,membership_offers".to_owned()
            )
        );
        assert_eq!(focus_of("csp").1, "customers");
        assert_eq!(focus_of("developer").1, "marketplace_offers");
    }
}
