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

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::FixedBy;
use crate::catalog::{
    ActionIx, AgreementIx, Catalog, ProfileIx, ProgramIx, RequirementIx, RequirementKind, RoleIx,
    Set, WorkspaceIx,
};
use crate::decision::{Decision, decide};
use crate::state::{CaseStatus, EnrollmentStatus, ProgramRecord, Tenant, User, VerificationStatus};

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

impl StepCode {
    /// Every code, in the order steps are given.
    pub const ALL: [StepCode; 12] = [
        Self::CheckLegalInfo,
        Self::VerifyEnrollment,
        Self::ReviewVerificationSummary,
        Self::WaitForVerification,
        Self::RespondToChallenge,
        Self::SubmitAppeal,
        Self::ContactSupport,
        Self::AcceptAgreement,
        Self::CompleteProfile,
        Self::AssignRole,
        Self::SignInAgain,
        Self::ExplainDisabledPurchase,
    ];

    /// The stable snake_case code used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CheckLegalInfo => "check_legal_info",
            Self::VerifyEnrollment => "verify_enrollment",
            Self::ReviewVerificationSummary => "review_verification_summary",
            Self::WaitForVerification => "wait_for_verification",
            Self::RespondToChallenge => "respond_to_challenge",
            Self::SubmitAppeal => "submit_appeal",
            Self::ContactSupport => "contact_support",
            Self::AcceptAgreement => "accept_agreement",
            Self::CompleteProfile => "complete_profile",
            Self::AssignRole => "assign_role",
            Self::SignInAgain => "sign_in_again",
            Self::ExplainDisabledPurchase => "explain_disabled_purchase",
        }
    }
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

/// Diagnoses `tenant` for `user` at `now`: the root cause and the next
/// supported steps (see the module documentation for the rules).
pub fn diagnose(catalog: &Catalog, tenant: &Tenant, user: &User, now: Timestamp) -> Diagnosis {
    let mut cause = None;
    let mut steps: Vec<Step> = Vec::new();
    for program in diagnosed_programs(catalog, tenant) {
        let finding = Finder {
            catalog,
            tenant,
            user,
            now,
            program,
        }
        .find();
        if cause.is_none() {
            cause = finding.cause;
        }
        steps.extend(finding.steps);
    }
    // Stable: within a code, programs stay in catalog order.
    steps.sort_by_key(|step| step.code);
    let mut merged: Vec<Step> = Vec::with_capacity(steps.len());
    for step in steps {
        match merged.last_mut() {
            Some(last) if last.code == step.code => {
                last.text.push(' ');
                last.text.push_str(&step.text);
            }
            _ => merged.push(step),
        }
    }
    let cause = cause.unwrap_or_else(|| healthy(catalog, tenant, user));
    Diagnosis {
        cause,
        steps: merged,
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
        .map(|record| catalog.programs[record.program.index()].name.as_str())
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

/// What one program contributes.
struct Finding {
    cause: Option<String>,
    steps: Vec<Step>,
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
        &self.catalog.programs[self.program.index()].name
    }

    fn step(&self, code: StepCode, text: String) -> Step {
        Step {
            code,
            text,
            program: Some(self.program),
        }
    }

    fn find(&self) -> Finding {
        let focus = self.focus();
        let locked = self.locked_names(&focus);
        let Some(record) = self.tenant.program(self.program) else {
            return Finding {
                cause: Some(format!(
                    "The tenant is not enrolled in the {}: Legal Info has no Partner tab record of it, so {locked} locked whatever the user's roles.",
                    self.name()
                )),
                steps: vec![self.step(
                    StepCode::VerifyEnrollment,
                    format!(
                        "The Partner tab has no {} record: {} must verify the enrollment (enroll in the program) from Account settings → Legal Info.",
                        self.name(),
                        self.enrollers()
                    ),
                )],
            };
        };
        let v = &record.verification;
        let enrollment_ok = record.enrollment == EnrollmentStatus::Active;
        let verification_ok = v.status == VerificationStatus::Authorized;
        let mut steps = Vec::new();
        let mut cause = None;

        if !enrollment_ok || !verification_ok {
            steps.push(self.step(StepCode::CheckLegalInfo, self.legal_info_text(record)));
        }
        if let Some((vetting_cause, vetting_steps)) = self.vetting(record, &locked) {
            cause = Some(vetting_cause);
            steps.extend(vetting_steps);
        }
        match record.enrollment {
            EnrollmentStatus::Active => {}
            EnrollmentStatus::PendingQualification | EnrollmentStatus::Pending => {
                if verification_ok {
                    cause.get_or_insert_with(|| {
                        format!(
                            "{} verification is Authorized but the enrollment is still {}: {locked} locked until it is Active.",
                            self.name(),
                            enrollment_words(record.enrollment)
                        )
                    });
                    steps.push(self.step(
                        StepCode::ContactSupport,
                        format!(
                            "Verification is Authorized but the {} enrollment is still {}: contact support to activate it.",
                            self.name(),
                            enrollment_words(record.enrollment)
                        ),
                    ));
                }
            }
            EnrollmentStatus::Suspended => {
                cause.get_or_insert_with(|| {
                    format!(
                        "The {} enrollment is Suspended: {locked} locked until support lifts the suspension.",
                        self.name()
                    )
                });
                steps.push(self.step(
                    StepCode::ContactSupport,
                    format!(
                        "The {} enrollment is Suspended: contact support to find out why and lift it.",
                        self.name()
                    ),
                ));
            }
            EnrollmentStatus::Closed => {
                cause.get_or_insert_with(|| {
                    format!(
                        "The {} enrollment is Closed: {locked} locked until the tenant enrolls again.",
                        self.name()
                    )
                });
                steps.push(self.step(
                    StepCode::VerifyEnrollment,
                    format!(
                        "The {} enrollment is Closed: {} must enroll again from Account settings → Legal Info.",
                        self.name(),
                        self.enrollers()
                    ),
                ));
            }
        }

        let program_agreements = self.catalog.programs[self.program.index()]
            .agreements
            .difference(self.tenant.agreements);
        let ready = enrollment_ok && verification_ok;
        let decisions: Vec<Decision<'a>> = if ready {
            focus
                .actions
                .iter()
                .map(|&action| decide(self.catalog, self.tenant, self.user, action, self.now))
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
            let names = self.agreement_names(unmet_agreements);
            cause.get_or_insert_with(|| {
                format!(
                    "The {} requires the {names}, not accepted yet: {locked} locked until it is.",
                    self.name()
                )
            });
            steps.push(self.step(
                StepCode::AcceptAgreement,
                format!(
                    "Accept the {names} in Account settings → Legal Info; the {} requires it.{}",
                    self.name(),
                    self.agreement_fixers(unmet_agreements)
                ),
            ));
        }
        if ready {
            self.ready_steps(&focus, &decisions, &mut cause, &mut steps);
        }
        Finding { cause, steps }
    }

    /// The vetting steps and cause when verification is not Authorized.
    fn vetting(&self, record: &ProgramRecord, locked: &str) -> Option<(String, Vec<Step>)> {
        let v = &record.verification;
        let name = self.name();
        let max = self.catalog.vetting.max_appeals;
        let left = max.saturating_sub(v.appeals_used);
        let sla_days = self.catalog.vetting.sla_business_days;
        let blocked = format!(
            "and the enrollment is {}: {locked} locked until verification is Authorized and the enrollment Active, whatever the user's roles.",
            enrollment_words(record.enrollment)
        );
        let review = |detail: String| {
            self.step(
                StepCode::ReviewVerificationSummary,
                format!(
                    "Open the Verification summary (Account settings → Legal Info) for the {name}: {detail}"
                ),
            )
        };
        let exhausted = || {
            self.step(
                StepCode::ContactSupport,
                format!(
                    "All {max} appeals for the {name} have been used: contact support, who can review the tenant's vetting state."
                ),
            )
        };
        let result = match v.status {
            VerificationStatus::Authorized => return None,
            VerificationStatus::NotStarted => (
                format!("{name} verification has not been submitted {blocked}"),
                vec![review(format!(
                    "verification has not been submitted yet; {} can submit it there.",
                    self.enrollers()
                ))],
            ),
            VerificationStatus::Pending | VerificationStatus::InProgress => {
                let status = verification_words(v.status);
                let since = v
                    .submitted_at
                    .map(|at| format!(" since {}", utc_date(at)))
                    .unwrap_or_default();
                let mut steps = vec![review(format!(
                    "the overall status is {status}{since}; verification normally completes in {sla_days} business days."
                ))];
                if v.action_required {
                    steps.push(self.challenge_step(record));
                    (
                        format!(
                            "{name} verification is {status} with an action-required banner {blocked}"
                        ),
                        steps,
                    )
                } else if let Some(submitted) = v.submitted_at {
                    let sla = self.catalog.calendar.sla(submitted, sla_days, self.now);
                    if sla.overdue {
                        let follow_up = match self.open_case(v.escalated_case.as_deref()) {
                            Some(case) => {
                                format!(" Support case {case} is open: follow it up there.")
                            }
                            None => String::new(),
                        };
                        steps.push(self.step(
                            StepCode::ContactSupport,
                            format!(
                                "Verification has been {status} for {} business days, past the {sla_days}-business-day SLA (due {}), and no action-required banner is shown: contact Partner Center support, who can review the tenant's vetting state and unblock it.{follow_up}",
                                sla.elapsed, sla.due
                            ),
                        ));
                        (
                            format!(
                                "{name} verification is {status}{since}, {} business days, past its {sla_days}-business-day SLA with no action-required banner, {blocked}",
                                sla.elapsed
                            ),
                            steps,
                        )
                    } else {
                        steps.push(self.step(
                            StepCode::WaitForVerification,
                            format!(
                                "Verification is inside its SLA: {} of {sla_days} business days have passed; it is due by {}. Nothing else is needed until then.",
                                sla.elapsed, sla.due
                            ),
                        ));
                        (
                            format!(
                                "{name} verification is {status}{since}, inside its SLA (due {}), {blocked}",
                                sla.due
                            ),
                            steps,
                        )
                    }
                } else {
                    steps.push(self.step(
                        StepCode::WaitForVerification,
                        format!(
                            "The submission date is not recorded; verification normally completes in {sla_days} business days. If it has been longer, contact support."
                        ),
                    ));
                    (format!("{name} verification is {status} {blocked}"), steps)
                }
            }
            VerificationStatus::Challenged => {
                let mut steps = vec![review(
                    "the overall status is Challenged: the reviewer needs more information (see the action-required banner).".to_owned()
                )];
                steps.push(if left > 0 {
                    self.challenge_step(record)
                } else {
                    exhausted()
                });
                (
                    format!("{name} verification is Challenged (action required) {blocked}"),
                    steps,
                )
            }
            VerificationStatus::Rejected => {
                let reason = v
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                let mut steps = vec![review(format!(
                    "the overall status is Rejected{reason}{}",
                    if reason.ends_with('.') { "" } else { "." }
                ))];
                steps.push(if left > 0 {
                    self.step(
                        StepCode::SubmitAppeal,
                        format!(
                            "Select Resolve in the partner call-to-action bar, choose a document type, upload supporting documentation and submit the appeal. {} {} of {max} appeals {} left.",
                            self.appellants(),
                            left,
                            if left == 1 { "is" } else { "are" }
                        ),
                    )
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
                    steps,
                )
            }
        };
        Some(result)
    }

    fn challenge_step(&self, record: &ProgramRecord) -> Step {
        let v = &record.verification;
        let reason = v
            .reason
            .as_deref()
            .map(|r| format!(" The reviewer says: \"{r}\""))
            .unwrap_or_default();
        let documents = if v.documents_requested.is_empty() {
            String::new()
        } else {
            format!(
                " Documents asked for: {}.",
                v.documents_requested.join(", ")
            )
        };
        self.step(
            StepCode::RespondToChallenge,
            format!(
                "Answer the action-required (Fix now) banner for the {}: select Resolve, choose the document type, upload what is asked for and submit.{reason}{documents} {}",
                self.name(),
                self.appellants()
            ),
        )
    }

    /// Steps once the program is Authorized and Active: roles, profiles,
    /// agreements and purchases of the focus actions.
    fn ready_steps(
        &self,
        focus: &Focus,
        decisions: &[Decision<'a>],
        cause: &mut Option<String>,
        steps: &mut Vec<Step>,
    ) {
        let home_open = decisions
            .iter()
            .any(|d| d.allowed() && focus.home.is_none_or(|home| d.action.workspace == home));
        let home_name = focus
            .home_name(self.catalog)
            .unwrap_or("the program's workspaces");

        let missing_profiles: Set<ProfileIx> = self.unmet_of(decisions, |kind| match kind {
            RequirementKind::Profile(p) => Some(*p),
            _ => None,
        });
        if !missing_profiles.is_empty() {
            let names: Vec<&str> = missing_profiles
                .iter()
                .map(|p| self.catalog.profiles[p.index()].name.as_str())
                .collect();
            let is_profile = |kind: &RequirementKind| matches!(kind, RequirementKind::Profile(_));
            let held_back: Vec<&str> = decisions
                .iter()
                .filter(|d| d.unmet.iter().any(|u| is_profile(&u.requirement.kind)))
                .map(|d| d.action.name.as_str())
                .collect();
            steps.push(self.step(
                StepCode::CompleteProfile,
                format!(
                    "Complete the {} in Account settings; {} need{} {}.{}",
                    join_and(&names),
                    join_and(&held_back),
                    if held_back.len() == 1 { "s" } else { "" },
                    if names.len() == 1 { "it" } else { "them" },
                    self.fixers_of(decisions, is_profile)
                ),
            ));
        }

        let mut role_step = false;
        let mut seen: Vec<RequirementIx> = Vec::new();
        for decision in decisions {
            for unmet in &decision.unmet {
                if let RequirementKind::AnyRole(roles) = &unmet.requirement.kind {
                    if seen.contains(&unmet.index) {
                        continue;
                    }
                    seen.push(unmet.index);
                    role_step = true;
                    let workspace = &self.catalog.workspaces[decision.action.workspace.index()];
                    let fixers = who_text(self.catalog, &unmet.requirement.fixed_by);
                    let who = if fixers.is_empty() {
                        String::new()
                    } else {
                        format!(" {} can assign it in User management.", capitalize(&fixers))
                    };
                    steps.push(self.step(
                        StepCode::AssignRole,
                        format!(
                            "{} needs the {} role to open {}.{who}",
                            self.user.id,
                            self.role_names(*roles),
                            workspace.name
                        ),
                    ));
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
            let close = match open_case {
                Some(case) if home_open => {
                    format!(" Support case {} can then be closed.", case.id)
                }
                _ => String::new(),
            };
            let when = if role_step {
                "Once the role is assigned, sign"
            } else {
                "Access is restored: sign"
            };
            if !role_step {
                cause.get_or_insert_with(|| {
                    format!(
                        "Access to {home_name} is restored: the {} is Authorized and Active, but sessions opened before the change still carry the old access.",
                        self.name()
                    )
                });
            }
            steps.push(self.step(
                StepCode::SignInAgain,
                format!("{when} in again and open {home_name}.{close}"),
            ));
        }

        if home_open {
            let disabled: Vec<&Decision<'a>> = decisions
                .iter()
                .filter(|d| is_purchase(self.catalog, d) && !d.allowed())
                .filter(|d| {
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
                let lines: Vec<String> = disabled
                    .iter()
                    .map(|d| {
                        let reasons: Vec<&str> = d
                            .unmet
                            .iter()
                            .map(|u| u.requirement.reason.as_str())
                            .collect();
                        format!("{} is disabled: {}", d.action.name, reasons.join(" "))
                    })
                    .collect();
                cause.get_or_insert_with(|| {
                    format!(
                        "{home_name} is open, but {} {} disabled by unmet purchase criteria.",
                        join_and(
                            &disabled
                                .iter()
                                .map(|d| d.action.name.as_str())
                                .collect::<Vec<_>>()
                        ),
                        if disabled.len() == 1 { "is" } else { "are" }
                    )
                });
                steps.push(self.step(
                    StepCode::ExplainDisabledPurchase,
                    format!(
                        "Learn why Buy/Renew is disabled on Membership offers: {}",
                        lines.join(" ")
                    ),
                ));
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
        let about_program = |r: &RequirementIx| match &catalog.requirements[r.index()].kind {
            RequirementKind::Enrollment { program, .. }
            | RequirementKind::Verification { program, .. } => *program == self.program,
            _ => false,
        };
        let home = catalog
            .workspaces
            .iter()
            .position(|w| w.requires.iter().any(about_program))
            .map(|i| WorkspaceIx(u16::try_from(i).expect("a catalog index fits in u16")));
        let Some(home) = home else {
            // No workspace names the program: its focus is every action that does.
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
            match catalog.workspaces[w.index()].parent {
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
            .flat_map(|w| catalog.workspaces[w.index()].actions.iter().copied())
            .collect();
        Focus {
            home: Some(home),
            workspaces,
            actions,
        }
    }

    /// "Membership and Membership offers": what stays locked.
    /// What stays locked, with its verb: "Membership and Membership offers
    /// stay", "Customers (CSP) stays".
    fn locked_names(&self, focus: &Focus) -> String {
        let names: Vec<&str> = focus
            .workspaces
            .iter()
            .map(|w| self.catalog.workspaces[w.index()].name.as_str())
            .collect();
        match names.len() {
            0 => format!("the {}'s workspaces stay", self.name()),
            1 => format!("{} stays", names[0]),
            _ => format!("{} stay", join_and(&names)),
        }
    }

    fn legal_info_text(&self, record: &ProgramRecord) -> String {
        let mut text = format!(
            "Go to Account settings → Legal Info → Partner tab and check the {}: program status is {}{} and verification status is {}{}.",
            self.name(),
            enrollment_words(record.enrollment),
            if record.enrollment == EnrollmentStatus::Active {
                ""
            } else {
                " (must be Active)"
            },
            verification_words(record.verification.status),
            if record.verification.status == VerificationStatus::Authorized {
                ""
            } else {
                " (must be Authorized)"
            }
        );
        if let Some(action) = self.catalog.gates.legal_info.action() {
            let decision = decide(self.catalog, self.tenant, self.user, action, self.now);
            if let Some(unmet) = decision.unmet.first() {
                let who = who_text(self.catalog, &unmet.requirement.fixed_by);
                text.push_str(&format!(
                    " {user} cannot open Legal Info: ask {} to check it or to give {user} access.",
                    if who.is_empty() {
                        "an admin".to_owned()
                    } else {
                        who
                    },
                    user = self.user.id,
                ));
            }
        }
        text
    }

    /// Who may enroll and submit verification, in words.
    fn enrollers(&self) -> String {
        let names = self.role_names(self.catalog.vetting.enroll_roles);
        if names.is_empty() {
            "support".to_owned()
        } else {
            format!("a {names}")
        }
    }

    /// Who may appeal, in words, addressed to the user when it is them.
    fn appellants(&self) -> String {
        let primary = self.tenant.primary_contact.as_deref();
        let appeal_roles = self.catalog.vetting.appeal_roles;
        let held: Set<RoleIx> = self
            .user
            .roles
            .iter()
            .filter(|&r| appeal_roles.contains(r))
            .collect();
        let anyone = match (primary, appeal_roles.is_empty()) {
            (Some(primary), true) => format!("the primary contact ({primary})"),
            (Some(primary), false) => format!(
                "the primary contact ({primary}) or a {}",
                self.role_names(appeal_roles)
            ),
            (None, true) => "the primary contact".to_owned(),
            (None, false) => format!("the primary contact or a {}", self.role_names(appeal_roles)),
        };
        if primary == Some(self.user.id.as_str()) {
            format!("{}, the primary contact, can do it.", self.user.id)
        } else if !held.is_empty() {
            format!(
                "{} can do it as a {} (appeals are for {anyone}).",
                self.user.id,
                self.role_names(held)
            )
        } else {
            format!("Only {anyone} can do it.")
        }
    }

    fn role_names(&self, roles: Set<RoleIx>) -> String {
        let names: Vec<&str> = roles
            .iter()
            .map(|r| self.catalog.roles[r.index()].name.as_str())
            .collect();
        join_or(&names)
    }

    fn agreement_names(&self, agreements: Set<AgreementIx>) -> String {
        let names: Vec<&str> = agreements
            .iter()
            .map(|a| self.catalog.agreements[a.index()].name.as_str())
            .collect();
        join_and(&names)
    }

    /// Who can accept the agreements, from the catalog's requirements about them.
    fn agreement_fixers(&self, agreements: Set<AgreementIx>) -> String {
        let fixed_by = self
            .catalog
            .requirements
            .iter()
            .filter(|r| matches!(r.kind, RequirementKind::Agreement(a) if agreements.contains(a)))
            .fold(FixedBy::default(), |mut acc, r| {
                acc.roles = acc.roles.union(r.fixed_by.roles);
                acc.primary_contact |= r.fixed_by.primary_contact;
                acc.support |= r.fixed_by.support;
                acc
            });
        let who = who_text(self.catalog, &fixed_by);
        if who.is_empty() {
            String::new()
        } else {
            format!(" {} can accept it.", capitalize(&who))
        }
    }

    /// The members of one kind of unmet requirement over the decisions.
    fn unmet_of<I: crate::catalog::SetMember>(
        &self,
        decisions: &[Decision<'a>],
        member: impl Fn(&RequirementKind) -> Option<I>,
    ) -> Set<I> {
        decisions
            .iter()
            .flat_map(|d| d.unmet.iter())
            .filter_map(|u| member(&u.requirement.kind))
            .collect()
    }

    /// Who can fix the unmet requirements of a kind, as one sentence.
    fn fixers_of(
        &self,
        decisions: &[Decision<'a>],
        kind: impl Fn(&RequirementKind) -> bool,
    ) -> String {
        let mut fixed_by = FixedBy::default();
        for unmet in decisions.iter().flat_map(|d| d.unmet.iter()) {
            if kind(&unmet.requirement.kind) {
                fixed_by.roles = fixed_by.roles.union(unmet.requirement.fixed_by.roles);
                fixed_by.primary_contact |= unmet.requirement.fixed_by.primary_contact;
                fixed_by.support |= unmet.requirement.fixed_by.support;
            }
        }
        let who = who_text(self.catalog, &fixed_by);
        if who.is_empty() {
            String::new()
        } else {
            format!(" {} can do it.", capitalize(&who))
        }
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
}

/// The workspaces and actions a program gates.
struct Focus {
    home: Option<WorkspaceIx>,
    workspaces: Vec<WorkspaceIx>,
    actions: Vec<ActionIx>,
}

impl Focus {
    fn home_name<'c>(&self, catalog: &'c Catalog) -> Option<&'c str> {
        self.home
            .map(|home| catalog.workspaces[home.index()].name.as_str())
    }
}

/// A purchase action is some offer's `buy` or `renew`, as the catalog names them.
fn is_purchase(catalog: &Catalog, decision: &Decision<'_>) -> bool {
    catalog
        .action_ix(&decision.action.id)
        .is_some_and(|action| catalog.is_purchase(action))
}

fn enrollment_words(status: EnrollmentStatus) -> &'static str {
    match status {
        EnrollmentStatus::Active => "Active",
        EnrollmentStatus::PendingQualification => "Pending qualification",
        EnrollmentStatus::Pending => "Pending",
        EnrollmentStatus::Suspended => "Suspended",
        EnrollmentStatus::Closed => "Closed",
    }
}

fn verification_words(status: VerificationStatus) -> &'static str {
    match status {
        VerificationStatus::NotStarted => "Not started",
        VerificationStatus::Pending => "Pending",
        VerificationStatus::InProgress => "In progress",
        VerificationStatus::Authorized => "Authorized",
        VerificationStatus::Challenged => "Challenged",
        VerificationStatus::Rejected => "Rejected",
    }
}

fn utc_date(at: Timestamp) -> jiff::civil::Date {
    jiff::tz::Offset::UTC.to_datetime(at).date()
}

/// "a", "a or b", "a, b or c".
fn join_or(items: &[&str]) -> String {
    join_with(items, "or")
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[&str]) -> String {
    join_with(items, "and")
}

fn join_with(items: &[&str], word: &str) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} {word} {last}", rest.join(", ")),
    }
}

/// Who can fix something, as a sentence's subject: "a Global Admin or Account
/// admin", "the primary contact", "support".
fn who_text(catalog: &Catalog, fixed_by: &FixedBy) -> String {
    let mut who = Vec::new();
    if !fixed_by.roles.is_empty() {
        let names: Vec<&str> = fixed_by
            .roles
            .iter()
            .map(|r| catalog.roles[r.index()].name.as_str())
            .collect();
        who.push(format!("a {}", join_or(&names)));
    }
    if fixed_by.primary_contact {
        who.push("the primary contact".to_owned());
    }
    if fixed_by.support {
        who.push("support".to_owned());
    }
    let who: Vec<&str> = who.iter().map(String::as_str).collect();
    join_or(&who)
}

/// The text with its first letter in upper case, to open a sentence.
fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_joined_as_in_a_sentence() {
        assert_eq!(join_and(&[]), "");
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b"]), "a and b");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
        assert_eq!(join_or(&["a", "b", "c"]), "a, b or c");
        assert_eq!(capitalize("a Global Admin"), "A Global Admin");
        assert_eq!(capitalize(""), "");
    }

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
                .map(|w| catalog.workspaces[w.index()].id.as_str())
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
