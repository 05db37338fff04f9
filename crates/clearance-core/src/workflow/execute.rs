//! Checking a command against the rules: the events it causes, or the rule
//! that refuses it.
//!
//! Checks run in a fixed order so that the error a user sees is predictable:
//! the tenant exists, the acting partner is a user of it, the command's fields
//! and ids are valid, the actor may issue the command, then the tenant's state
//! allows it; for partner commands gated by a catalog action, the action's
//! decision comes last and lists every unmet requirement.

use jiff::{SignedDuration, Timestamp};

use super::{Actor, Command, Event, SupportRole, WorkflowError};
use crate::calendar::SlaStatus;
use crate::catalog::{Catalog, Gate, OfferIx, ProgramIx, RequirementKind, RoleIx, Set};
use crate::decision::decide;
use crate::state::{
    CaseStatus, EnrollmentStatus, ProgramRecord, SupportCase, Tenant, User, Verification,
    VerificationStatus,
};

type Result<T> = std::result::Result<T, WorkflowError>;

/// Longest accepted one-line subject, in characters.
const SUBJECT_MAX: usize = 200;
/// Longest accepted free text (reasons, comments, resolutions), in characters.
const TEXT_MAX: usize = 10_000;
/// Longest accepted identifier (user ids, document references), in characters.
const ID_MAX: usize = 128;

/// Who is acting, resolved against the tenant.
#[derive(Clone, Copy)]
enum Who<'a> {
    Partner(&'a User),
    Support,
    System,
}

struct Check<'a> {
    catalog: &'a Catalog,
    tenant: &'a Tenant,
    who: Who<'a>,
    actor: &'a Actor,
    now: Timestamp,
    command: &'static str,
}

pub(super) fn execute(
    catalog: &Catalog,
    tenant: &Tenant,
    actor: &Actor,
    command: &Command,
    now: Timestamp,
) -> Result<Vec<Event>> {
    if let Command::CreateTenant {
        country,
        admin,
        roles,
    } = command
    {
        return create_tenant(catalog, tenant, actor, country, admin, roles);
    }
    if tenant.version == 0 {
        return Err(WorkflowError::UnknownTenant {
            id: tenant.id.clone(),
        });
    }
    let who = match actor {
        Actor::Partner { user } => Who::Partner(
            tenant
                .user(user)
                .ok_or_else(|| WorkflowError::UnknownUser { id: user.clone() })?,
        ),
        Actor::Support { .. } => Who::Support,
        Actor::System => Who::System,
    };
    let check = Check {
        catalog,
        tenant,
        who,
        actor,
        now,
        command: command.name(),
    };
    check.run(command)
}

fn create_tenant(
    catalog: &Catalog,
    tenant: &Tenant,
    actor: &Actor,
    country: &str,
    admin: &str,
    roles: &[String],
) -> Result<Vec<Event>> {
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(WorkflowError::InvalidInput {
            field: "country",
            message: format!("{country:?} is not an ISO 3166 alpha-2 code such as \"US\""),
        });
    }
    identifier("admin", admin)?;
    resolve_roles(catalog, roles)?;
    match actor {
        Actor::Support {
            role: SupportRole::SupportAdmin,
            ..
        } => {}
        Actor::Support {
            role: SupportRole::SupportAgent,
            ..
        }
        | Actor::Partner { .. }
        | Actor::System => {
            return Err(WorkflowError::SupportAdminOnly {
                command: "create_tenant",
            });
        }
    }
    if tenant.version > 0 {
        return Err(WorkflowError::TenantExists {
            id: tenant.id.clone(),
        });
    }
    Ok(vec![Event::TenantCreated {
        country: country.to_owned(),
        admin: admin.to_owned(),
        roles: roles.to_vec(),
    }])
}

impl<'a> Check<'a> {
    fn run(&self, command: &Command) -> Result<Vec<Event>> {
        match command {
            // Handled before a `Check` exists: the tenant does not exist yet.
            Command::CreateTenant { .. } => Err(WorkflowError::TenantExists {
                id: self.tenant.id.clone(),
            }),
            Command::AddUser { user, roles } => {
                identifier("user", user)?;
                resolve_roles(self.catalog, roles)?;
                self.role_change_allowed(self.catalog.gates.add_user)?;
                if self.tenant.user(user).is_some() {
                    return Err(WorkflowError::UserExists { id: user.clone() });
                }
                Ok(vec![Event::UserAdded {
                    user: user.clone(),
                    roles: roles.clone(),
                }])
            }
            Command::RemoveUser { user } => {
                identifier("user", user)?;
                let Some(found) = self.tenant.user(user) else {
                    return Err(WorkflowError::UnknownUser { id: user.clone() });
                };
                self.role_change_allowed(self.catalog.gates.remove_user)?;
                if self.tenant.primary_contact.as_deref() == Some(user.as_str()) {
                    return Err(WorkflowError::PrimaryContactKept { id: user.clone() });
                }
                self.owner_kept(user, found.roles)?;
                Ok(vec![Event::UserRemoved { user: user.clone() }])
            }
            Command::Enroll { program } => {
                let ix = self.program(program)?;
                self.partner_needs(self.catalog.vetting.enroll_roles)?;
                if let Some(record) = self.tenant.program(ix) {
                    match record.enrollment {
                        EnrollmentStatus::Closed => {}
                        status @ (EnrollmentStatus::Active
                        | EnrollmentStatus::PendingQualification
                        | EnrollmentStatus::Pending
                        | EnrollmentStatus::Suspended) => {
                            return Err(WorkflowError::AlreadyEnrolled {
                                program: program.clone(),
                                status,
                            });
                        }
                    }
                }
                Ok(vec![Event::Enrolled {
                    program: program.clone(),
                }])
            }
            Command::SubmitVerification { program } => {
                let ix = self.program(program)?;
                self.partner_needs(self.catalog.vetting.enroll_roles)?;
                let record = self.record(ix, program)?;
                match record.enrollment {
                    EnrollmentStatus::Active
                    | EnrollmentStatus::PendingQualification
                    | EnrollmentStatus::Pending => {}
                    status @ (EnrollmentStatus::Suspended | EnrollmentStatus::Closed) => {
                        return Err(self.illegal(program, status.as_str()));
                    }
                }
                match record.verification.status {
                    VerificationStatus::NotStarted => {}
                    status @ (VerificationStatus::Pending
                    | VerificationStatus::InProgress
                    | VerificationStatus::Authorized
                    | VerificationStatus::Challenged
                    | VerificationStatus::Rejected) => {
                        return Err(self.illegal(program, status.as_str()));
                    }
                }
                Ok(vec![verification(program, VerificationStatus::Pending)])
            }
            Command::StartReview { program } => {
                let ix = self.program(program)?;
                self.support_only()?;
                match self.record(ix, program)?.verification.status {
                    VerificationStatus::Pending => {}
                    status @ (VerificationStatus::NotStarted
                    | VerificationStatus::InProgress
                    | VerificationStatus::Authorized
                    | VerificationStatus::Challenged
                    | VerificationStatus::Rejected) => {
                        return Err(self.illegal(program, status.as_str()));
                    }
                }
                Ok(vec![verification(program, VerificationStatus::InProgress)])
            }
            Command::Authorize { program } => {
                let ix = self.program(program)?;
                self.support_only()?;
                let record = self.record(ix, program)?;
                self.under_review(program, record)?;
                let mut events = vec![verification(program, VerificationStatus::Authorized)];
                match record.enrollment {
                    EnrollmentStatus::PendingQualification | EnrollmentStatus::Pending => {
                        events.push(Event::EnrollmentChanged {
                            program: program.clone(),
                            status: EnrollmentStatus::Active,
                        });
                    }
                    // Already active, or held by the operator: support changes
                    // those with `set_enrollment`.
                    EnrollmentStatus::Active
                    | EnrollmentStatus::Suspended
                    | EnrollmentStatus::Closed => {}
                }
                Ok(events)
            }
            Command::Reject { program, reason } => {
                text("reason", reason, TEXT_MAX)?;
                let ix = self.program(program)?;
                self.support_only()?;
                self.under_review(program, self.record(ix, program)?)?;
                Ok(vec![Event::VerificationChanged {
                    program: program.clone(),
                    status: VerificationStatus::Rejected,
                    reason: Some(reason.clone()),
                    documents: Vec::new(),
                }])
            }
            Command::Challenge {
                program,
                reason,
                documents,
            } => {
                text("reason", reason, TEXT_MAX)?;
                if documents.is_empty() {
                    return Err(WorkflowError::InvalidInput {
                        field: "documents",
                        message: "a challenge must ask for at least one document".into(),
                    });
                }
                for document in documents {
                    text("documents", document, SUBJECT_MAX)?;
                }
                let ix = self.program(program)?;
                self.support_only()?;
                self.under_review(program, self.record(ix, program)?)?;
                Ok(vec![Event::VerificationChanged {
                    program: program.clone(),
                    status: VerificationStatus::Challenged,
                    reason: Some(reason.clone()),
                    documents: documents.clone(),
                }])
            }
            Command::Appeal {
                program,
                document_type,
                document,
            } => {
                text("document_type", document_type, SUBJECT_MAX)?;
                identifier("document", document)?;
                let ix = self.program(program)?;
                let user = self.partner_only()?;
                // The catalog's gate first: its refusal lists every unmet requirement (role,
                // state, appeals left) with who can fix each, the answer `check` gives for the
                // same action; the workflow's own rules below only back it up.
                self.gate(self.catalog.gates.appeal, Some(ix))?;
                let record = self.record(ix, program)?;
                match record.verification.status {
                    VerificationStatus::Rejected | VerificationStatus::Challenged => {}
                    status @ (VerificationStatus::NotStarted
                    | VerificationStatus::Pending
                    | VerificationStatus::InProgress
                    | VerificationStatus::Authorized) => {
                        return Err(self.illegal(program, status.as_str()));
                    }
                }
                let max = self.catalog.vetting.max_appeals;
                let used = record.verification.appeals_used;
                if used >= max {
                    return Err(WorkflowError::AppealsExhausted {
                        program: program.clone(),
                        used,
                        max,
                    });
                }
                let primary = self.tenant.primary_contact.as_deref() == Some(user.id.as_str());
                if !primary && !user.roles.intersects(self.catalog.vetting.appeal_roles) {
                    return Err(WorkflowError::NotPrimaryContact {
                        user: user.id.clone(),
                    });
                }
                Ok(vec![
                    Event::AppealSubmitted {
                        program: program.clone(),
                        document_type: document_type.clone(),
                        document: document.clone(),
                        by: user.id.clone(),
                    },
                    verification(program, VerificationStatus::Pending),
                ])
            }
            Command::Escalate { program } => {
                let ix = self.program(program)?;
                // The gate first, as for an appeal: who may not open support cases learns
                // that, not the state of a verification they could not escalate anyway.
                self.gate(self.catalog.gates.open_case, None)?;
                let record = self.record(ix, program)?;
                let v = &record.verification;
                if v.action_required {
                    return Err(WorkflowError::ActionRequiredShown {
                        program: program.clone(),
                    });
                }
                let why = match v.status {
                    VerificationStatus::Pending | VerificationStatus::InProgress => {
                        let sla = self.past_sla(program, v)?;
                        format!(
                            "{} business days have passed since submission (due {}) and the reviewer has not asked for anything.",
                            sla.elapsed, sla.due
                        )
                    }
                    VerificationStatus::Rejected => {
                        let max = self.catalog.vetting.max_appeals;
                        if v.appeals_used < max {
                            return Err(WorkflowError::AppealFirst {
                                program: program.clone(),
                                left: max - v.appeals_used,
                            });
                        }
                        format!("It was rejected and all {max} appeals have been used.")
                    }
                    status @ (VerificationStatus::NotStarted
                    | VerificationStatus::Authorized
                    | VerificationStatus::Challenged) => {
                        return Err(self.illegal(program, status.as_str()));
                    }
                };
                if let Some(case) = self.open_escalation(v) {
                    return Err(WorkflowError::AlreadyEscalated {
                        program: program.clone(),
                        case: case.id.clone(),
                    });
                }
                Ok(self.escalation(ix, program, record, &why))
            }
            Command::MarkOverdue { program } => {
                let ix = self.program(program)?;
                if let Who::Partner(_) = self.who {
                    return Err(WorkflowError::SupportOnly {
                        command: self.command,
                    });
                }
                let record = self.record(ix, program)?;
                let v = &record.verification;
                match v.status {
                    VerificationStatus::Pending | VerificationStatus::InProgress => {}
                    status @ (VerificationStatus::NotStarted
                    | VerificationStatus::Authorized
                    | VerificationStatus::Challenged
                    | VerificationStatus::Rejected) => {
                        return Err(self.illegal(program, status.as_str()));
                    }
                }
                if v.action_required {
                    return Err(WorkflowError::ActionRequiredShown {
                        program: program.clone(),
                    });
                }
                if v.overdue {
                    return Err(WorkflowError::AlreadyOverdue {
                        program: program.clone(),
                    });
                }
                let sla = self.past_sla(program, v)?;
                let mut events = vec![Event::MarkedOverdue {
                    program: program.clone(),
                }];
                // One escalation case per round, however it was opened.
                if v.escalated_case.is_none() {
                    let why = format!(
                        "Opened automatically: {} business days have passed since submission (due {}) and the reviewer has not asked for anything.",
                        sla.elapsed, sla.due
                    );
                    events.extend(self.escalation(ix, program, record, &why));
                }
                Ok(events)
            }
            Command::SetEnrollment { program, status } => {
                let ix = self.program(program)?;
                self.support_only()?;
                let record = self.record(ix, program)?;
                if record.enrollment == *status {
                    return Err(self.illegal(program, record.enrollment.as_str()));
                }
                Ok(vec![Event::EnrollmentChanged {
                    program: program.clone(),
                    status: *status,
                }])
            }
            Command::AcceptAgreement { agreement } => {
                let ix = self.catalog.agreement_ix(agreement).ok_or_else(|| {
                    WorkflowError::UnknownAgreement {
                        id: agreement.clone(),
                    }
                })?;
                self.partner_only()?;
                self.partner_needs(
                    self.fixers(|kind| matches!(kind, RequirementKind::Agreement(a) if *a == ix)),
                )?;
                if self.tenant.agreements.contains(ix) {
                    return Err(WorkflowError::AlreadyAccepted {
                        agreement: agreement.clone(),
                    });
                }
                Ok(vec![Event::AgreementAccepted {
                    agreement: agreement.clone(),
                }])
            }
            Command::GrantRoles { user, roles } | Command::RevokeRoles { user, roles } => {
                if roles.is_empty() {
                    return Err(WorkflowError::InvalidInput {
                        field: "roles",
                        message: "name at least one role".into(),
                    });
                }
                resolve_roles(self.catalog, roles)?;
                if self.tenant.user(user).is_none() {
                    return Err(WorkflowError::UnknownUser { id: user.clone() });
                }
                self.role_change_allowed(self.catalog.gates.manage_roles)?;
                if let Command::RevokeRoles { .. } = command {
                    self.owner_kept(user, resolve_roles(self.catalog, roles)?)?;
                }
                let (user, roles) = (user.clone(), roles.clone());
                Ok(vec![if let Command::GrantRoles { .. } = command {
                    Event::RolesGranted { user, roles }
                } else {
                    Event::RolesRevoked { user, roles }
                }])
            }
            Command::UpdateProfile { profile, complete } => {
                let ix = self.catalog.profile_ix(profile).ok_or_else(|| {
                    WorkflowError::UnknownProfile {
                        id: profile.clone(),
                    }
                })?;
                self.partner_needs(
                    self.fixers(|kind| matches!(kind, RequirementKind::Profile(p) if *p == ix)),
                )?;
                Ok(vec![Event::ProfileUpdated {
                    profile: profile.clone(),
                    complete: *complete,
                }])
            }
            Command::UpdateCapabilityScore { score } => {
                if *score > 100 {
                    return Err(WorkflowError::InvalidInput {
                        field: "score",
                        message: format!("{score} is above the maximum of 100"),
                    });
                }
                if let Who::Partner(_) = self.who {
                    return Err(WorkflowError::SupportOnly {
                        command: self.command,
                    });
                }
                Ok(vec![Event::CapabilityScoreUpdated { score: *score }])
            }
            Command::BuyMembership { offer } => {
                let ix = self.offer(offer)?;
                self.partner_only()?;
                self.offered(offer, "bought", self.catalog.offer(ix).buy)?;
                // The catalog's action may not check it; one active membership
                // per offer holds whatever the catalog says.
                if let Some(membership) = self.tenant.membership(ix)
                    && membership.expires_at > self.now
                {
                    return Err(WorkflowError::MembershipActive {
                        offer: offer.clone(),
                        expires_at: membership.expires_at,
                    });
                }
                Ok(vec![Event::MembershipBought {
                    offer: offer.clone(),
                    expires_at: self.term_after(ix, self.now)?,
                }])
            }
            Command::RenewMembership { offer } => {
                let ix = self.offer(offer)?;
                self.partner_only()?;
                self.offered(offer, "renewed", self.catalog.offer(ix).renew)?;
                let membership =
                    self.tenant
                        .membership(ix)
                        .ok_or_else(|| WorkflowError::NoMembership {
                            offer: offer.clone(),
                        })?;
                Ok(vec![Event::MembershipRenewed {
                    offer: offer.clone(),
                    expires_at: self.term_after(ix, membership.expires_at)?,
                }])
            }
            Command::OpenCase {
                subject,
                program,
                body,
            } => {
                text("subject", subject, SUBJECT_MAX)?;
                text("body", body, TEXT_MAX)?;
                if let Some(program) = program {
                    self.program(program)?;
                }
                self.no_system()?;
                self.gate(self.catalog.gates.open_case, None)?;
                Ok(vec![Event::CaseOpened {
                    case: self.next_case_id(),
                    subject: subject.clone(),
                    program: program.clone(),
                    body: body.clone(),
                    by: self.actor.id().to_owned(),
                }])
            }
            Command::CommentCase { case, body } => {
                text("body", body, TEXT_MAX)?;
                let found = self.case(case)?;
                self.no_system()?;
                self.open(found)?;
                self.gate(self.catalog.gates.comment_case, None)?;
                Ok(vec![Event::CaseCommented {
                    case: case.clone(),
                    body: body.clone(),
                    by: self.actor.id().to_owned(),
                }])
            }
            Command::ResolveCase { case, resolution } => {
                text("resolution", resolution, TEXT_MAX)?;
                let found = self.case(case)?;
                self.support_only()?;
                self.open(found)?;
                Ok(vec![Event::CaseResolved {
                    case: case.clone(),
                    resolution: resolution.clone(),
                    by: self.actor.id().to_owned(),
                }])
            }
        }
    }

    fn program(&self, id: &str) -> Result<ProgramIx> {
        self.catalog
            .program_ix(id)
            .ok_or_else(|| WorkflowError::UnknownProgram { id: id.to_owned() })
    }

    fn offer(&self, id: &str) -> Result<OfferIx> {
        self.catalog
            .offer_ix(id)
            .ok_or_else(|| WorkflowError::UnknownOffer { id: id.to_owned() })
    }

    fn record(&self, ix: ProgramIx, id: &str) -> Result<&'a ProgramRecord> {
        self.tenant
            .program(ix)
            .ok_or_else(|| WorkflowError::NotEnrolled {
                program: id.to_owned(),
            })
    }

    fn case(&self, id: &str) -> Result<&'a SupportCase> {
        self.tenant
            .cases
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| WorkflowError::CaseNotFound { id: id.to_owned() })
    }

    fn open(&self, case: &SupportCase) -> Result<()> {
        match case.status {
            CaseStatus::Open => Ok(()),
            CaseStatus::Resolved => Err(WorkflowError::CaseClosed {
                id: case.id.clone(),
            }),
        }
    }

    fn illegal(&self, program: &str, from: &'static str) -> WorkflowError {
        WorkflowError::IllegalTransition {
            program: program.to_owned(),
            from,
            command: self.command,
        }
    }

    /// Reviewer decisions need a round under review.
    fn under_review(&self, program: &str, record: &ProgramRecord) -> Result<()> {
        match record.verification.status {
            VerificationStatus::Pending | VerificationStatus::InProgress => Ok(()),
            status @ (VerificationStatus::NotStarted
            | VerificationStatus::Authorized
            | VerificationStatus::Challenged
            | VerificationStatus::Rejected) => Err(self.illegal(program, status.as_str())),
        }
    }

    /// The SLA of the current round, refused unless it is past due.
    fn past_sla(&self, program: &str, v: &Verification) -> Result<SlaStatus> {
        let Some(submitted) = v.submitted_at else {
            // Without a submission time the clock never started.
            return Err(WorkflowError::WithinSla {
                program: program.to_owned(),
                due: None,
            });
        };
        let sla =
            self.catalog
                .calendar
                .sla(submitted, self.catalog.vetting.sla_business_days, self.now);
        if sla.overdue {
            Ok(sla)
        } else {
            Err(WorkflowError::WithinSla {
                program: program.to_owned(),
                due: Some(sla.due),
            })
        }
    }

    /// The still-open case this round was escalated in, if any.
    fn open_escalation(&self, v: &Verification) -> Option<&'a SupportCase> {
        let id = v.escalated_case.as_deref()?;
        self.tenant
            .cases
            .iter()
            .find(|c| c.id == id && c.status == CaseStatus::Open)
    }

    fn next_case_id(&self) -> String {
        format!("case-{}", self.tenant.cases.len() + 1)
    }

    /// A support case about a stuck verification, and its link to the round.
    fn escalation(
        &self,
        ix: ProgramIx,
        program: &str,
        record: &ProgramRecord,
        why: &str,
    ) -> Vec<Event> {
        let name = &self.catalog.program(ix).name;
        let case = self.next_case_id();
        vec![
            Event::CaseOpened {
                case: case.clone(),
                subject: format!(
                    "Verification for {name} is stuck ({})",
                    record.verification.status.as_str()
                ),
                program: Some(program.to_owned()),
                body: format!("Verification for {name} needs support. {why}"),
                by: self.actor.id().to_owned(),
            },
            Event::Escalated {
                program: program.to_owned(),
                case,
            },
        ]
    }

    fn support_only(&self) -> Result<()> {
        match self.who {
            Who::Support => Ok(()),
            Who::Partner(_) | Who::System => Err(WorkflowError::SupportOnly {
                command: self.command,
            }),
        }
    }

    fn partner_only(&self) -> Result<&'a User> {
        match self.who {
            Who::Partner(user) => Ok(user),
            Who::Support | Who::System => Err(WorkflowError::PartnerOnly {
                command: self.command,
            }),
        }
    }

    fn no_system(&self) -> Result<()> {
        match self.who {
            Who::Partner(_) | Who::Support => Ok(()),
            Who::System => Err(WorkflowError::SystemNotAllowed {
                command: self.command,
            }),
        }
    }

    /// A partner needs one of `roles`; support may always; the system never.
    fn partner_needs(&self, roles: Set<RoleIx>) -> Result<()> {
        match self.who {
            Who::Support => Ok(()),
            Who::System => Err(WorkflowError::SystemNotAllowed {
                command: self.command,
            }),
            Who::Partner(user) if user.roles.intersects(roles) => Ok(()),
            Who::Partner(_) => Err(WorkflowError::RoleRequired {
                command: self.command,
                roles: roles
                    .iter()
                    .map(|r| self.catalog.role(r).id.clone())
                    .collect(),
            }),
        }
    }

    /// The roles that can fix the requirements of this kind, as the catalog
    /// says; the vetting's enroll roles when it names none.
    fn fixers(&self, kind: impl Fn(&RequirementKind) -> bool) -> Set<RoleIx> {
        let roles = self
            .catalog
            .requirements
            .iter()
            .filter(|r| kind(&r.kind))
            .fold(Set::EMPTY, |acc, r| acc.union(r.fixed_by.roles));
        if roles.is_empty() {
            self.catalog.vetting.enroll_roles
        } else {
            roles
        }
    }

    /// For a partner, the gate's action must be allowed. With `program`,
    /// requirements about another program are ignored: the catalog's appeal
    /// action is written for one program and gates the appeals of all.
    ///
    /// A gate the catalog turned off (`"off"`) lets every partner through:
    /// the operator chose that, explicitly.
    fn gate(&self, gate: Gate, program: Option<ProgramIx>) -> Result<()> {
        let Who::Partner(user) = self.who else {
            return Ok(());
        };
        let Gate::Action(ix) = gate else {
            return Ok(());
        };
        let decision = decide(self.catalog, self.tenant, user, ix, self.now);
        let unmet: Vec<String> = decision
            .unmet
            .iter()
            .filter(|u| {
                program.is_none_or(|p| {
                    concerns(self.catalog, &u.requirement.kind).is_none_or(|q| q == p)
                })
            })
            .map(|u| u.requirement.id.clone())
            .collect();
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(WorkflowError::Denied {
                action: decision.action.id.clone(),
                unmet,
            })
        }
    }

    /// A purchase needs the offer's `buy` (or `renew`) action allowed; an
    /// offer whose catalog turned it off cannot be bought (or renewed) at all.
    fn offered(&self, offer: &str, done: &str, gate: Gate) -> Result<()> {
        match gate {
            Gate::Action(_) => self.gate(gate, None),
            Gate::Off => Err(WorkflowError::InvalidInput {
                field: "offer",
                message: format!("{offer} cannot be {done}: the catalog offers no action for it"),
            }),
        }
    }

    /// Role changes (and adding users) need the verification that `gate`'s
    /// action requires authorized. Partners also need the rest of that action
    /// (their own role); support only the verification. A gate turned off
    /// lets partners and support through; the system never changes roles.
    fn role_change_allowed(&self, gate: Gate) -> Result<()> {
        match (self.who, gate) {
            (Who::System, _) => Err(WorkflowError::SystemNotAllowed {
                command: self.command,
            }),
            (Who::Partner(_) | Who::Support, Gate::Off) => Ok(()),
            (Who::Partner(user), Gate::Action(ix)) => {
                let decision = decide(self.catalog, self.tenant, user, ix, self.now);
                if decision.allowed() {
                    return Ok(());
                }
                let unmet = decision
                    .unmet
                    .iter()
                    .map(|u| u.requirement.id.clone())
                    .collect();
                let frozen_by = decision
                    .unmet
                    .iter()
                    .find_map(|u| match &u.requirement.kind {
                        RequirementKind::Verification { program, .. } => Some(*program),
                        _ => None,
                    });
                Err(match frozen_by {
                    Some(program) => self.frozen(program, unmet),
                    None => WorkflowError::Denied {
                        action: decision.action.id.clone(),
                        unmet,
                    },
                })
            }
            (Who::Support, Gate::Action(ix)) => {
                let action = self.catalog.action(ix);
                for requirement in &action.all_requirements {
                    let requirement = self.catalog.requirement(*requirement);
                    if let RequirementKind::Verification { program, statuses } = &requirement.kind {
                        let status = self.tenant.program(*program).map(|p| p.verification.status);
                        if !status.is_some_and(|s| statuses.contains(&s)) {
                            return Err(self.frozen(*program, vec![requirement.id.clone()]));
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Refuses taking `losing` from `user` when no other user would still
    /// hold one of the catalog's owner roles: the tenant keeps a Global Admin.
    fn owner_kept(&self, user: &str, losing: Set<RoleIx>) -> Result<()> {
        let owners = self.catalog.vetting.owner_roles;
        let Some(holder) = self.tenant.user(user) else {
            return Ok(());
        };
        let kept = |candidate: &User| {
            let roles = if candidate.id == user {
                candidate.roles.difference(losing)
            } else {
                candidate.roles
            };
            roles.intersects(owners)
        };
        if self.tenant.users.iter().any(kept) {
            return Ok(());
        }
        // No owner left afterwards: refused when this user held the last one
        // (a tenant that had none already is not made worse).
        match holder.roles.iter().find(|role| owners.contains(*role)) {
            Some(role) => Err(WorkflowError::LastOwner {
                user: user.to_owned(),
                role: self.catalog.role(role).name.clone(),
            }),
            None => Ok(()),
        }
    }

    fn frozen(&self, program: ProgramIx, unmet: Vec<String>) -> WorkflowError {
        WorkflowError::RolesFrozen {
            program: self.catalog.program(program).id.clone(),
            status: self.tenant.program(program).map(|p| p.verification.status),
            unmet,
        }
    }

    /// `from` plus the offer's term.
    fn term_after(&self, offer: OfferIx, from: Timestamp) -> Result<Timestamp> {
        let days = self.catalog.offer(offer).term_days;
        from.checked_add(SignedDuration::from_hours(i64::from(days) * 24))
            .map_err(|_| WorkflowError::InvalidInput {
                field: "offer",
                message: format!("a term of {days} days from {from} is out of range"),
            })
    }
}

/// The program a requirement is about, if any.
fn concerns(catalog: &Catalog, kind: &RequirementKind) -> Option<ProgramIx> {
    match kind {
        RequirementKind::Enrollment { program, .. }
        | RequirementKind::Verification { program, .. }
        | RequirementKind::AppealsLeft(program) => Some(*program),
        RequirementKind::NoActiveMembership(offer)
        | RequirementKind::MembershipInRenewalWindow(offer) => Some(catalog.offer(*offer).program),
        RequirementKind::AnyRole(_)
        | RequirementKind::Agreement(_)
        | RequirementKind::Profile(_)
        | RequirementKind::CapabilityScoreAtLeast { .. }
        | RequirementKind::PrimaryContactOrRole(_) => None,
    }
}

/// A plain verification change (no reason, no documents).
fn verification(program: &str, status: VerificationStatus) -> Event {
    Event::VerificationChanged {
        program: program.to_owned(),
        status,
        reason: None,
        documents: Vec::new(),
    }
}

fn resolve_roles(catalog: &Catalog, ids: &[String]) -> Result<Set<RoleIx>> {
    ids.iter()
        .map(|id| {
            catalog
                .role_ix(id)
                .ok_or_else(|| WorkflowError::UnknownRole { id: id.clone() })
        })
        .collect()
}

/// Free text: not blank, at most `max` characters.
fn text(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(WorkflowError::InvalidInput {
            field,
            message: "must not be empty".into(),
        });
    }
    let length = value.chars().count();
    if length > max {
        return Err(WorkflowError::InvalidInput {
            field,
            message: format!("is {length} characters long; at most {max} are allowed"),
        });
    }
    Ok(())
}

/// An identifier: not empty, no whitespace or control characters, at most [`ID_MAX`].
fn identifier(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(WorkflowError::InvalidInput {
            field,
            message: "must not be empty".into(),
        });
    }
    if let Some(bad) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(WorkflowError::InvalidInput {
            field,
            message: format!("{value:?} contains {bad:?}; use no spaces or control characters"),
        });
    }
    let length = value.chars().count();
    if length > ID_MAX {
        return Err(WorkflowError::InvalidInput {
            field,
            message: format!("is {length} characters long; at most {ID_MAX} are allowed"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_refuse_empty_spaced_control_and_overlong_values() {
        assert!(identifier("user", "alice").is_ok());
        assert!(identifier("user", "sha256:abc-1_2").is_ok());
        for bad in ["", "a b", "tab\there", "nul\u{0}"] {
            let error = identifier("user", bad).expect_err(bad);
            assert_eq!(error.rule(), "invalid_input");
        }
        let long = "x".repeat(ID_MAX + 1);
        assert_eq!(
            identifier("user", &long),
            Err(WorkflowError::InvalidInput {
                field: "user",
                message: format!(
                    "is {} characters long; at most {ID_MAX} are allowed",
                    ID_MAX + 1
                ),
            })
        );
        assert!(identifier("user", &"x".repeat(ID_MAX)).is_ok());
    }

    #[test]
    fn text_refuses_blank_and_overlong_values() {
        assert!(text("body", "Hello", 5).is_ok());
        assert_eq!(
            text("body", " \n ", 5),
            Err(WorkflowError::InvalidInput {
                field: "body",
                message: "must not be empty".into(),
            })
        );
        // Characters, not bytes, are counted.
        assert!(text("body", "ééééé", 5).is_ok());
        assert!(text("body", "éééééé", 5).is_err());
    }
}
