//! Every transition of the workflow and every refusal, table-driven over the
//! default Partner Center catalog.
//!
//! Each transition asserts the exact events and the state they fold into; each
//! refusal asserts the exact error and its rule code, and that nothing changed.

use clearance_core::Catalog;
use clearance_core::catalog::Set;
use clearance_core::journey::Journey;
use clearance_core::state::{CaseStatus, EnrollmentStatus, Tenant, User, VerificationStatus};
use clearance_core::workflow::{
    Actor, Command, Event, SupportRole, WorkflowError, execute, replay,
};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};

const CREATED: &str = "2026-11-02T09:00:00Z"; // Monday
const SUBMITTED: &str = "2026-11-12T09:00:00Z"; // Thursday: due Thursday 19th
const REVIEWED: &str = "2026-11-13T09:00:00Z";
const INSIDE_SLA: &str = "2026-11-16T10:00:00Z";
const PAST_SLA: &str = "2026-11-24T10:00:00Z"; // 8 business days elapsed
const LATER: &str = "2026-12-01T10:00:00Z";

const MAICPP: &str = "Microsoft AI Cloud Partner Program";
const REASON: &str = "The business registration could not be matched.";

fn catalog() -> &'static Catalog {
    Catalog::partner_center()
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("test timestamp")
}

fn partner(user: &str) -> Actor {
    Actor::Partner { user: user.into() }
}

fn alice() -> Actor {
    partner("alice")
}

fn agent() -> Actor {
    Actor::Support {
        id: "sam".into(),
        role: SupportRole::SupportAgent,
    }
}

fn support_admin() -> Actor {
    Actor::Support {
        id: "ada".into(),
        role: SupportRole::SupportAdmin,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn maicpp() -> String {
    "maicpp".into()
}

/// A tenant built by running commands, with the history that produced it.
#[derive(Clone, Debug)]
struct History {
    tenant: Tenant,
    events: Vec<(Event, Timestamp)>,
}

impl History {
    /// The first `steps` steps of the seed's journey
    /// (`corpus/journeys/contoso-support-authorizes.toml`, fixed moments).
    fn seed_journey(steps: usize) -> Self {
        let journey = Journey::from_toml(
            "contoso-support-authorizes.toml",
            include_str!("../../../corpus/journeys/contoso-support-authorizes.toml"),
        )
        .expect("the journey parses");
        let replayed = journey
            .replay_first(catalog(), at(LATER), steps)
            .expect("the journey is accepted");
        History {
            tenant: replayed.tenant,
            events: replayed
                .events
                .into_iter()
                .map(|(event, when, _)| (event, when))
                .collect(),
        }
    }

    /// Contoso, created by support with alice (Global Admin and MAICPP
    /// partner admin) as its primary contact.
    fn created() -> Self {
        History::seed_journey(1)
    }

    fn with(mut self, actor: Actor, command: Command, when: &str) -> Self {
        let when = at(when);
        let events = execute(catalog(), &self.tenant, &actor, &command, when)
            .unwrap_or_else(|e| panic!("setup {command:?} was refused: {e}"));
        for event in events {
            self.tenant.apply(catalog(), &event, when).expect("fold");
            self.events.push((event, when));
        }
        self
    }

    /// A user put straight into the state: role changes are frozen before
    /// authorization, so no command can add one there.
    fn with_user(mut self, id: &str, roles: &[&str]) -> Self {
        self.tenant.users.push(User {
            id: id.into(),
            roles: roles
                .iter()
                .map(|r| catalog().role_ix(r).expect("known role"))
                .collect(),
        });
        self
    }
}

/// Enrolled in MAICPP at creation: the seed's journey's second step.
fn enrolled() -> History {
    History::seed_journey(2)
}

/// Verification submitted on the 12th: the seed's journey's third step.
fn pending() -> History {
    History::seed_journey(3)
}

fn in_progress() -> History {
    pending().with(
        agent(),
        Command::StartReview { program: maicpp() },
        REVIEWED,
    )
}

fn authorized() -> History {
    in_progress().with(agent(), Command::Authorize { program: maicpp() }, REVIEWED)
}

fn rejected() -> History {
    in_progress().with(
        agent(),
        Command::Reject {
            program: maicpp(),
            reason: REASON.into(),
        },
        REVIEWED,
    )
}

fn challenged() -> History {
    in_progress().with(
        agent(),
        Command::Challenge {
            program: maicpp(),
            reason: "We need proof of address.".into(),
            documents: strings(&["utility_bill"]),
        },
        REVIEWED,
    )
}

fn appeal(document: &str) -> Command {
    Command::Appeal {
        program: maicpp(),
        document_type: "business_registration".into(),
        document: document.into(),
    }
}

/// Rejected after `appeals` appeals, each rejected again.
fn rejected_after(appeals: usize) -> History {
    let mut history = rejected();
    for n in 0..appeals {
        history = history
            .with(alice(), appeal(&format!("sha256:{n}")), REVIEWED)
            .with(
                agent(),
                Command::Reject {
                    program: maicpp(),
                    reason: REASON.into(),
                },
                REVIEWED,
            );
    }
    history
}

/// Authorized and active, with payment and tax profiles complete.
fn ready_to_buy() -> History {
    ["payment", "tax"]
        .into_iter()
        .fold(authorized(), |history, profile| {
            history.with(
                alice(),
                Command::UpdateProfile {
                    profile: profile.into(),
                    complete: true,
                },
                REVIEWED,
            )
        })
}

fn bought() -> History {
    ready_to_buy().with(
        alice(),
        Command::BuyMembership {
            offer: "maicpp_core_benefits".into(),
        },
        REVIEWED,
    )
}

fn with_case() -> History {
    authorized().with(
        alice(),
        Command::OpenCase {
            subject: "Membership question".into(),
            program: None,
            body: "Where is the Buy Now button?".into(),
        },
        INSIDE_SLA,
    )
}

fn verification(status: VerificationStatus) -> Event {
    Event::VerificationChanged {
        program: maicpp(),
        status,
        reason: None,
        documents: Vec::new(),
    }
}

fn record(tenant: &Tenant) -> &clearance_core::state::ProgramRecord {
    tenant
        .program(catalog().program_ix("maicpp").expect("maicpp"))
        .expect("enrolled in maicpp")
}

fn plus_days(from: &str, days: i64) -> Timestamp {
    at(from)
        .checked_add(SignedDuration::from_hours(days * 24))
        .expect("in range")
}

/// One accepted command: from a state, by an actor, the exact events.
struct Transition {
    name: &'static str,
    from: History,
    actor: Actor,
    command: Command,
    at: &'static str,
    events: Vec<Event>,
    /// What must hold of the folded state.
    then: fn(&Tenant),
}

fn transitions() -> Vec<Transition> {
    vec![
        Transition {
            name: "create_tenant_makes_the_admin_the_primary_contact",
            from: History {
                tenant: Tenant::new("fabrikam", ""),
                events: Vec::new(),
            },
            actor: support_admin(),
            command: Command::CreateTenant {
                country: "DE".into(),
                admin: "dana".into(),
                roles: strings(&["global_admin"]),
            },
            at: CREATED,
            events: vec![Event::TenantCreated {
                country: "DE".into(),
                admin: "dana".into(),
                roles: strings(&["global_admin"]),
            }],
            then: |t| {
                assert_eq!(t.country, "DE");
                assert_eq!(t.primary_contact.as_deref(), Some("dana"));
                assert_eq!(t.users.len(), 1);
                assert!(t.programs.is_empty());
            },
        },
        Transition {
            name: "enroll_starts_pending_qualification_with_nothing_submitted",
            from: History::created(),
            actor: alice(),
            command: Command::Enroll { program: maicpp() },
            at: CREATED,
            events: vec![Event::Enrolled { program: maicpp() }],
            then: |t| {
                let r = record(t);
                assert_eq!(r.enrollment, EnrollmentStatus::PendingQualification);
                assert_eq!(r.verification.status, VerificationStatus::NotStarted);
                assert_eq!(r.verification.submitted_at, None);
            },
        },
        Transition {
            name: "support_may_enroll_a_tenant",
            from: History::created(),
            actor: agent(),
            command: Command::Enroll {
                program: "csp".into(),
            },
            at: CREATED,
            events: vec![Event::Enrolled {
                program: "csp".into(),
            }],
            then: |t| assert_eq!(t.programs.len(), 1),
        },
        Transition {
            name: "enroll_again_after_closure_starts_afresh",
            from: rejected_after(1).with(
                agent(),
                Command::SetEnrollment {
                    program: maicpp(),
                    status: EnrollmentStatus::Closed,
                },
                LATER,
            ),
            actor: alice(),
            command: Command::Enroll { program: maicpp() },
            at: LATER,
            events: vec![Event::Enrolled { program: maicpp() }],
            then: |t| {
                let r = record(t);
                assert_eq!(r.enrollment, EnrollmentStatus::PendingQualification);
                assert_eq!(r.verification.status, VerificationStatus::NotStarted);
                assert_eq!(r.verification.appeals_used, 0);
            },
        },
        Transition {
            name: "submit_verification_starts_the_sla_clock",
            from: enrolled(),
            actor: alice(),
            command: Command::SubmitVerification { program: maicpp() },
            at: SUBMITTED,
            events: vec![verification(VerificationStatus::Pending)],
            then: |t| {
                let v = &record(t).verification;
                assert_eq!(v.status, VerificationStatus::Pending);
                assert_eq!(v.submitted_at, Some(at(SUBMITTED)));
                assert!(!v.action_required);
            },
        },
        Transition {
            name: "start_review_moves_pending_to_in_progress_and_keeps_the_clock",
            from: pending(),
            actor: agent(),
            command: Command::StartReview { program: maicpp() },
            at: REVIEWED,
            events: vec![verification(VerificationStatus::InProgress)],
            then: |t| {
                let v = &record(t).verification;
                assert_eq!(v.status, VerificationStatus::InProgress);
                assert_eq!(v.submitted_at, Some(at(SUBMITTED)));
            },
        },
        Transition {
            name: "authorize_from_pending_activates_the_enrollment",
            from: pending(),
            actor: agent(),
            command: Command::Authorize { program: maicpp() },
            at: REVIEWED,
            events: vec![
                verification(VerificationStatus::Authorized),
                Event::EnrollmentChanged {
                    program: maicpp(),
                    status: EnrollmentStatus::Active,
                },
            ],
            then: |t| {
                let r = record(t);
                assert_eq!(r.verification.status, VerificationStatus::Authorized);
                assert_eq!(r.enrollment, EnrollmentStatus::Active);
            },
        },
        Transition {
            name: "authorize_from_in_progress_activates_the_enrollment",
            from: in_progress(),
            actor: agent(),
            command: Command::Authorize { program: maicpp() },
            at: REVIEWED,
            events: vec![
                verification(VerificationStatus::Authorized),
                Event::EnrollmentChanged {
                    program: maicpp(),
                    status: EnrollmentStatus::Active,
                },
            ],
            then: |t| assert_eq!(record(t).enrollment, EnrollmentStatus::Active),
        },
        Transition {
            name: "authorize_leaves_a_suspended_enrollment_to_support",
            from: pending().with(
                agent(),
                Command::SetEnrollment {
                    program: maicpp(),
                    status: EnrollmentStatus::Suspended,
                },
                REVIEWED,
            ),
            actor: agent(),
            command: Command::Authorize { program: maicpp() },
            at: REVIEWED,
            events: vec![verification(VerificationStatus::Authorized)],
            then: |t| assert_eq!(record(t).enrollment, EnrollmentStatus::Suspended),
        },
        Transition {
            name: "reject_records_the_reason",
            from: pending(),
            actor: agent(),
            command: Command::Reject {
                program: maicpp(),
                reason: REASON.into(),
            },
            at: REVIEWED,
            events: vec![Event::VerificationChanged {
                program: maicpp(),
                status: VerificationStatus::Rejected,
                reason: Some(REASON.into()),
                documents: Vec::new(),
            }],
            then: |t| {
                let v = &record(t).verification;
                assert_eq!(v.status, VerificationStatus::Rejected);
                assert_eq!(v.reason.as_deref(), Some(REASON));
                assert!(!v.action_required);
            },
        },
        Transition {
            name: "challenge_shows_the_banner_with_the_documents_asked_for",
            from: in_progress(),
            actor: agent(),
            command: Command::Challenge {
                program: maicpp(),
                reason: "We need proof of address.".into(),
                documents: strings(&["utility_bill", "bank_statement"]),
            },
            at: REVIEWED,
            events: vec![Event::VerificationChanged {
                program: maicpp(),
                status: VerificationStatus::Challenged,
                reason: Some("We need proof of address.".into()),
                documents: strings(&["utility_bill", "bank_statement"]),
            }],
            then: |t| {
                let v = &record(t).verification;
                assert!(v.action_required);
                assert_eq!(
                    v.documents_requested,
                    strings(&["utility_bill", "bank_statement"])
                );
            },
        },
        Transition {
            name: "appeal_of_a_rejection_returns_to_pending_with_a_new_clock",
            from: rejected(),
            actor: alice(),
            command: appeal("sha256:abc"),
            at: INSIDE_SLA,
            events: vec![
                Event::AppealSubmitted {
                    program: maicpp(),
                    document_type: "business_registration".into(),
                    document: "sha256:abc".into(),
                    by: "alice".into(),
                },
                verification(VerificationStatus::Pending),
            ],
            then: |t| {
                let v = &record(t).verification;
                assert_eq!(v.status, VerificationStatus::Pending);
                assert_eq!(v.appeals_used, 1);
                assert_eq!(v.appeals[0].at, at(INSIDE_SLA));
                assert_eq!(v.submitted_at, Some(at(INSIDE_SLA)));
                assert_eq!(v.reason, None);
            },
        },
        Transition {
            name: "appeal_of_a_challenge_clears_the_banner",
            from: challenged(),
            actor: alice(),
            command: appeal("sha256:bill"),
            at: INSIDE_SLA,
            events: vec![
                Event::AppealSubmitted {
                    program: maicpp(),
                    document_type: "business_registration".into(),
                    document: "sha256:bill".into(),
                    by: "alice".into(),
                },
                verification(VerificationStatus::Pending),
            ],
            then: |t| {
                let v = &record(t).verification;
                assert!(!v.action_required);
                assert!(v.documents_requested.is_empty());
            },
        },
        Transition {
            name: "a_global_admin_who_is_not_the_primary_contact_may_appeal",
            from: rejected().with_user("gina", &["global_admin"]),
            actor: partner("gina"),
            command: appeal("sha256:g"),
            at: INSIDE_SLA,
            events: vec![
                Event::AppealSubmitted {
                    program: maicpp(),
                    document_type: "business_registration".into(),
                    document: "sha256:g".into(),
                    by: "gina".into(),
                },
                verification(VerificationStatus::Pending),
            ],
            then: |t| assert_eq!(record(t).verification.appeals[0].by, "gina"),
        },
        Transition {
            name: "the_third_appeal_is_allowed",
            from: rejected_after(2),
            actor: alice(),
            command: appeal("sha256:3"),
            at: LATER,
            events: vec![
                Event::AppealSubmitted {
                    program: maicpp(),
                    document_type: "business_registration".into(),
                    document: "sha256:3".into(),
                    by: "alice".into(),
                },
                verification(VerificationStatus::Pending),
            ],
            then: |t| assert_eq!(record(t).verification.appeals_used, 3),
        },
        Transition {
            name: "escalate_past_the_sla_opens_a_case",
            from: pending(),
            actor: alice(),
            command: Command::Escalate { program: maicpp() },
            at: PAST_SLA,
            events: vec![
                Event::CaseOpened {
                    case: "case-1".into(),
                    subject: format!("Verification for {MAICPP} is stuck (pending)"),
                    program: Some(maicpp()),
                    body: format!(
                        "Verification for {MAICPP} needs support. 8 business days have passed since submission (due 2026-11-19) and the reviewer has not asked for anything."
                    ),
                    by: "alice".into(),
                },
                Event::Escalated {
                    program: maicpp(),
                    case: "case-1".into(),
                },
            ],
            then: |t| {
                assert_eq!(
                    record(t).verification.escalated_case.as_deref(),
                    Some("case-1")
                );
                assert_eq!(t.cases[0].status, CaseStatus::Open);
                assert_eq!(t.cases[0].opened_at, at(PAST_SLA));
            },
        },
        Transition {
            name: "escalate_a_rejection_with_no_appeals_left",
            from: rejected_after(3),
            actor: alice(),
            command: Command::Escalate { program: maicpp() },
            at: LATER,
            events: vec![
                Event::CaseOpened {
                    case: "case-1".into(),
                    subject: format!("Verification for {MAICPP} is stuck (rejected)"),
                    program: Some(maicpp()),
                    body: format!(
                        "Verification for {MAICPP} needs support. It was rejected and all 3 appeals have been used."
                    ),
                    by: "alice".into(),
                },
                Event::Escalated {
                    program: maicpp(),
                    case: "case-1".into(),
                },
            ],
            then: |t| assert_eq!(t.cases.len(), 1),
        },
        Transition {
            name: "mark_overdue_past_the_sla_opens_an_escalation_case",
            from: in_progress(),
            actor: Actor::System,
            command: Command::MarkOverdue { program: maicpp() },
            at: PAST_SLA,
            events: vec![
                Event::MarkedOverdue { program: maicpp() },
                Event::CaseOpened {
                    case: "case-1".into(),
                    subject: format!("Verification for {MAICPP} is stuck (in_progress)"),
                    program: Some(maicpp()),
                    body: format!(
                        "Verification for {MAICPP} needs support. Opened automatically: 8 business days have passed since submission (due 2026-11-19) and the reviewer has not asked for anything."
                    ),
                    by: "system".into(),
                },
                Event::Escalated {
                    program: maicpp(),
                    case: "case-1".into(),
                },
            ],
            then: |t| {
                let v = &record(t).verification;
                assert!(v.overdue);
                assert_eq!(v.escalated_case.as_deref(), Some("case-1"));
            },
        },
        Transition {
            name: "mark_overdue_after_a_manual_escalation_opens_no_second_case",
            from: pending().with(alice(), Command::Escalate { program: maicpp() }, PAST_SLA),
            actor: Actor::System,
            command: Command::MarkOverdue { program: maicpp() },
            at: PAST_SLA,
            events: vec![Event::MarkedOverdue { program: maicpp() }],
            then: |t| assert_eq!(t.cases.len(), 1),
        },
        Transition {
            name: "set_enrollment_changes_the_status",
            from: authorized(),
            actor: agent(),
            command: Command::SetEnrollment {
                program: maicpp(),
                status: EnrollmentStatus::Suspended,
            },
            at: LATER,
            events: vec![Event::EnrollmentChanged {
                program: maicpp(),
                status: EnrollmentStatus::Suspended,
            }],
            then: |t| assert_eq!(record(t).enrollment, EnrollmentStatus::Suspended),
        },
        Transition {
            name: "accept_agreement_records_it",
            from: History::created(),
            actor: alice(),
            command: Command::AcceptAgreement {
                agreement: "mpa".into(),
            },
            at: CREATED,
            events: vec![Event::AgreementAccepted {
                agreement: "mpa".into(),
            }],
            then: |t| {
                assert!(
                    t.agreements
                        .contains(catalog().agreement_ix("mpa").expect("mpa"))
                )
            },
        },
        Transition {
            name: "add_user_once_authorized",
            from: authorized(),
            actor: alice(),
            command: Command::AddUser {
                user: "bob".into(),
                roles: strings(&["referrals_admin"]),
            },
            at: LATER,
            events: vec![Event::UserAdded {
                user: "bob".into(),
                roles: strings(&["referrals_admin"]),
            }],
            then: |t| assert_eq!(t.user("bob").map(|u| u.roles.len()), Some(1)),
        },
        Transition {
            name: "grant_roles_once_authorized",
            from: authorized(),
            actor: alice(),
            command: Command::GrantRoles {
                user: "alice".into(),
                roles: strings(&["incentives_admin"]),
            },
            at: LATER,
            events: vec![Event::RolesGranted {
                user: "alice".into(),
                roles: strings(&["incentives_admin"]),
            }],
            then: |t| {
                let role = catalog().role_ix("incentives_admin").expect("role");
                assert!(t.user("alice").expect("alice").roles.contains(role));
            },
        },
        Transition {
            name: "support_may_revoke_roles_once_authorized",
            from: authorized(),
            actor: agent(),
            command: Command::RevokeRoles {
                user: "alice".into(),
                roles: strings(&["maicpp_partner_admin"]),
            },
            at: LATER,
            events: vec![Event::RolesRevoked {
                user: "alice".into(),
                roles: strings(&["maicpp_partner_admin"]),
            }],
            then: |t| assert_eq!(t.user("alice").expect("alice").roles.len(), 1),
        },
        Transition {
            name: "update_profile_marks_it_complete",
            from: History::created(),
            actor: alice(),
            command: Command::UpdateProfile {
                profile: "payment".into(),
                complete: true,
            },
            at: CREATED,
            events: vec![Event::ProfileUpdated {
                profile: "payment".into(),
                complete: true,
            }],
            then: |t| assert_eq!(t.profiles.len(), 1),
        },
        Transition {
            name: "the_system_records_a_capability_score",
            from: History::created(),
            actor: Actor::System,
            command: Command::UpdateCapabilityScore { score: 72 },
            at: CREATED,
            events: vec![Event::CapabilityScoreUpdated { score: 72 }],
            then: |t| assert_eq!(t.capability_score, Some(72)),
        },
        Transition {
            name: "buy_sets_the_expiry_one_term_ahead",
            from: ready_to_buy(),
            actor: alice(),
            command: Command::BuyMembership {
                offer: "maicpp_core_benefits".into(),
            },
            at: LATER,
            events: vec![Event::MembershipBought {
                offer: "maicpp_core_benefits".into(),
                expires_at: plus_days(LATER, 365),
            }],
            then: |t| assert_eq!(t.memberships.len(), 1),
        },
        Transition {
            name: "renew_inside_the_window_extends_from_the_current_expiry",
            from: bought(),
            // The membership bought at REVIEWED expires 365 days later; 30 days before that.
            actor: alice(),
            command: Command::RenewMembership {
                offer: "maicpp_core_benefits".into(),
            },
            at: "2027-10-14T09:00:00Z",
            events: vec![Event::MembershipRenewed {
                offer: "maicpp_core_benefits".into(),
                expires_at: plus_days(REVIEWED, 730),
            }],
            then: |t| assert_eq!(t.memberships[0].expires_at, plus_days(REVIEWED, 730)),
        },
        Transition {
            name: "buy_again_after_expiry_replaces_the_membership",
            from: bought(),
            actor: alice(),
            command: Command::BuyMembership {
                offer: "maicpp_core_benefits".into(),
            },
            at: "2028-01-03T09:00:00Z",
            events: vec![Event::MembershipBought {
                offer: "maicpp_core_benefits".into(),
                expires_at: plus_days("2028-01-03T09:00:00Z", 365),
            }],
            then: |t| assert_eq!(t.memberships.len(), 1),
        },
        Transition {
            name: "open_case_numbers_cases_per_tenant",
            from: with_case(),
            actor: alice(),
            command: Command::OpenCase {
                subject: "Second question".into(),
                program: Some(maicpp()),
                body: "And the Renew button?".into(),
            },
            at: LATER,
            events: vec![Event::CaseOpened {
                case: "case-2".into(),
                subject: "Second question".into(),
                program: Some(maicpp()),
                body: "And the Renew button?".into(),
                by: "alice".into(),
            }],
            then: |t| assert_eq!(t.cases[1].comments.len(), 1),
        },
        Transition {
            name: "support_comments_on_a_case",
            from: with_case(),
            actor: agent(),
            command: Command::CommentCase {
                case: "case-1".into(),
                body: "Looking into it.".into(),
            },
            at: LATER,
            events: vec![Event::CaseCommented {
                case: "case-1".into(),
                body: "Looking into it.".into(),
                by: "sam".into(),
            }],
            then: |t| assert_eq!(t.cases[0].comments[1].by, "sam"),
        },
        Transition {
            name: "support_resolves_a_case",
            from: with_case(),
            actor: agent(),
            command: Command::ResolveCase {
                case: "case-1".into(),
                resolution: "Complete the tax profile.".into(),
            },
            at: LATER,
            events: vec![Event::CaseResolved {
                case: "case-1".into(),
                resolution: "Complete the tax profile.".into(),
                by: "sam".into(),
            }],
            then: |t| {
                assert_eq!(t.cases[0].status, CaseStatus::Resolved);
                assert_eq!(
                    t.cases[0].resolution.as_deref(),
                    Some("Complete the tax profile.")
                );
            },
        },
    ]
}

#[test]
fn every_transition_emits_exactly_its_events_and_folds_into_its_state() {
    for case in transitions() {
        let now = at(case.at);
        let events = execute(
            catalog(),
            &case.from.tenant,
            &case.actor,
            &case.command,
            now,
        )
        .unwrap_or_else(|e| panic!("{}: refused: {e}", case.name));
        assert_eq!(events, case.events, "{}", case.name);

        let mut tenant = case.from.tenant.clone();
        for event in &events {
            tenant
                .apply(catalog(), event, now)
                .unwrap_or_else(|e| panic!("{}: fold failed: {e}", case.name));
        }
        assert_eq!(
            tenant.version,
            case.from.tenant.version + events.len() as u64,
            "{}",
            case.name
        );
        (case.then)(&tenant);
    }
}

#[test]
fn transition_names_are_unique() {
    let mut names: Vec<_> = transitions().iter().map(|t| t.name).collect();
    let before = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), before);
}

/// One refused command: from a state, by an actor, the exact error and rule.
struct Refusal {
    name: &'static str,
    from: History,
    actor: Actor,
    command: Command,
    at: &'static str,
    error: WorkflowError,
    rule: &'static str,
}

fn illegal(from: &'static str, command: &'static str) -> WorkflowError {
    WorkflowError::IllegalTransition {
        program: maicpp(),
        from,
        command,
    }
}

fn grant(user: &str, roles: &[&str]) -> Command {
    Command::GrantRoles {
        user: user.into(),
        roles: strings(roles),
    }
}

fn refusals() -> Vec<Refusal> {
    vec![
        Refusal {
            name: "a_command_on_a_tenant_never_created_is_refused",
            from: History {
                tenant: Tenant::new("nobody", ""),
                events: Vec::new(),
            },
            actor: agent(),
            command: Command::Enroll { program: maicpp() },
            at: CREATED,
            error: WorkflowError::UnknownTenant {
                id: "nobody".into(),
            },
            rule: "unknown_tenant",
        },
        Refusal {
            name: "create_tenant_is_refused_when_it_exists",
            from: History::created(),
            actor: support_admin(),
            command: Command::CreateTenant {
                country: "US".into(),
                admin: "zoe".into(),
                roles: Vec::new(),
            },
            at: CREATED,
            error: WorkflowError::TenantExists {
                id: "contoso".into(),
            },
            rule: "tenant_exists",
        },
        Refusal {
            name: "create_tenant_is_refused_to_a_support_agent",
            from: History {
                tenant: Tenant::new("fabrikam", ""),
                events: Vec::new(),
            },
            actor: agent(),
            command: Command::CreateTenant {
                country: "US".into(),
                admin: "zoe".into(),
                roles: Vec::new(),
            },
            at: CREATED,
            error: WorkflowError::SupportAdminOnly {
                command: "create_tenant",
            },
            rule: "support_admin_only",
        },
        Refusal {
            name: "create_tenant_is_refused_with_a_bad_country",
            from: History {
                tenant: Tenant::new("fabrikam", ""),
                events: Vec::new(),
            },
            actor: support_admin(),
            command: Command::CreateTenant {
                country: "usa".into(),
                admin: "zoe".into(),
                roles: Vec::new(),
            },
            at: CREATED,
            error: WorkflowError::InvalidInput {
                field: "country",
                message: "\"usa\" is not an ISO 3166 alpha-2 code such as \"US\"".into(),
            },
            rule: "invalid_input",
        },
        Refusal {
            name: "a_partner_who_is_not_a_user_of_the_tenant_is_refused",
            from: pending(),
            actor: partner("mallory"),
            command: Command::Escalate { program: maicpp() },
            at: PAST_SLA,
            error: WorkflowError::UnknownUser {
                id: "mallory".into(),
            },
            rule: "unknown_user",
        },
        Refusal {
            name: "an_unknown_program_is_refused",
            from: History::created(),
            actor: alice(),
            command: Command::Enroll {
                program: "mpn".into(),
            },
            at: CREATED,
            error: WorkflowError::UnknownProgram { id: "mpn".into() },
            rule: "unknown_program",
        },
        Refusal {
            name: "an_unknown_role_is_refused",
            from: authorized(),
            actor: alice(),
            command: grant("alice", &["super_admin"]),
            at: LATER,
            error: WorkflowError::UnknownRole {
                id: "super_admin".into(),
            },
            rule: "unknown_role",
        },
        Refusal {
            name: "an_unknown_agreement_is_refused",
            from: History::created(),
            actor: alice(),
            command: Command::AcceptAgreement {
                agreement: "eula".into(),
            },
            at: CREATED,
            error: WorkflowError::UnknownAgreement { id: "eula".into() },
            rule: "unknown_agreement",
        },
        Refusal {
            name: "an_unknown_profile_is_refused",
            from: History::created(),
            actor: alice(),
            command: Command::UpdateProfile {
                profile: "shipping".into(),
                complete: true,
            },
            at: CREATED,
            error: WorkflowError::UnknownProfile {
                id: "shipping".into(),
            },
            rule: "unknown_profile",
        },
        Refusal {
            name: "an_unknown_offer_is_refused",
            from: ready_to_buy(),
            actor: alice(),
            command: Command::BuyMembership {
                offer: "gold".into(),
            },
            at: LATER,
            error: WorkflowError::UnknownOffer { id: "gold".into() },
            rule: "unknown_offer",
        },
        Refusal {
            name: "granting_roles_to_an_unknown_user_is_refused",
            from: authorized(),
            actor: alice(),
            command: grant("bob", &["referrals_admin"]),
            at: LATER,
            error: WorkflowError::UnknownUser { id: "bob".into() },
            rule: "unknown_user",
        },
        Refusal {
            name: "adding_an_existing_user_is_refused",
            from: authorized(),
            actor: alice(),
            command: Command::AddUser {
                user: "alice".into(),
                roles: Vec::new(),
            },
            at: LATER,
            error: WorkflowError::UserExists { id: "alice".into() },
            rule: "user_exists",
        },
        Refusal {
            name: "the_last_global_admin_cannot_drop_the_role",
            from: authorized(),
            actor: alice(),
            command: Command::RevokeRoles {
                user: "alice".into(),
                roles: vec!["global_admin".into()],
            },
            at: LATER,
            error: WorkflowError::LastOwner {
                user: "alice".into(),
                role: "Global Admin".into(),
            },
            rule: "last_owner",
        },
        Refusal {
            name: "the_primary_contact_cannot_be_removed",
            from: authorized(),
            actor: alice(),
            command: Command::RemoveUser {
                user: "alice".into(),
            },
            at: LATER,
            error: WorkflowError::PrimaryContactKept { id: "alice".into() },
            rule: "primary_contact_kept",
        },
        Refusal {
            name: "submit_verification_is_refused_when_not_enrolled",
            from: History::created(),
            actor: alice(),
            command: Command::SubmitVerification {
                program: "csp".into(),
            },
            at: CREATED,
            error: WorkflowError::NotEnrolled {
                program: "csp".into(),
            },
            rule: "not_enrolled",
        },
        Refusal {
            name: "enroll_is_refused_when_already_enrolled",
            from: pending(),
            actor: alice(),
            command: Command::Enroll { program: maicpp() },
            at: SUBMITTED,
            error: WorkflowError::AlreadyEnrolled {
                program: maicpp(),
                status: EnrollmentStatus::PendingQualification,
            },
            rule: "already_enrolled",
        },
        Refusal {
            name: "enroll_is_refused_to_a_user_without_an_enroll_role",
            from: History::created().with_user("bob", &["referrals_admin"]),
            actor: partner("bob"),
            command: Command::Enroll { program: maicpp() },
            at: CREATED,
            error: WorkflowError::RoleRequired {
                command: "enroll",
                roles: strings(&["global_admin", "maicpp_partner_admin"]),
            },
            rule: "role_required",
        },
        Refusal {
            name: "submit_verification_twice_is_refused",
            from: pending(),
            actor: alice(),
            command: Command::SubmitVerification { program: maicpp() },
            at: INSIDE_SLA,
            error: illegal("pending", "submit_verification"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "submit_verification_is_refused_while_suspended",
            from: enrolled().with(
                agent(),
                Command::SetEnrollment {
                    program: maicpp(),
                    status: EnrollmentStatus::Suspended,
                },
                CREATED,
            ),
            actor: alice(),
            command: Command::SubmitVerification { program: maicpp() },
            at: SUBMITTED,
            error: illegal("suspended", "submit_verification"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "start_review_is_refused_before_submission",
            from: enrolled(),
            actor: agent(),
            command: Command::StartReview { program: maicpp() },
            at: SUBMITTED,
            error: illegal("not_started", "start_review"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "start_review_twice_is_refused",
            from: in_progress(),
            actor: agent(),
            command: Command::StartReview { program: maicpp() },
            at: INSIDE_SLA,
            error: illegal("in_progress", "start_review"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "authorize_is_refused_from_rejected",
            from: rejected(),
            actor: agent(),
            command: Command::Authorize { program: maicpp() },
            at: INSIDE_SLA,
            error: illegal("rejected", "authorize"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "reject_is_refused_once_authorized",
            from: authorized(),
            actor: agent(),
            command: Command::Reject {
                program: maicpp(),
                reason: REASON.into(),
            },
            at: INSIDE_SLA,
            error: illegal("authorized", "reject"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "challenge_is_refused_while_challenged",
            from: challenged(),
            actor: agent(),
            command: Command::Challenge {
                program: maicpp(),
                reason: "More.".into(),
                documents: strings(&["passport"]),
            },
            at: INSIDE_SLA,
            error: illegal("challenged", "challenge"),
            rule: "illegal_transition",
        },
        // An appeal is refused by its catalog gate first, with every unmet requirement (the
        // answer `check` gives for `verification.appeal`); the workflow's own rules behind it
        // are exercised with the gate off (`with_the_appeal_gate_off_...` below).
        Refusal {
            name: "appeal_is_refused_while_pending",
            from: pending(),
            actor: alice(),
            command: appeal("sha256:x"),
            at: INSIDE_SLA,
            error: WorkflowError::Denied {
                action: "verification.appeal".into(),
                unmet: strings(&["maicpp_verification_appealable"]),
            },
            rule: "denied",
        },
        Refusal {
            name: "appeal_is_refused_after_three",
            from: rejected_after(3),
            actor: alice(),
            command: appeal("sha256:4"),
            at: LATER,
            error: WorkflowError::Denied {
                action: "verification.appeal".into(),
                unmet: strings(&["maicpp_appeals_left"]),
            },
            rule: "denied",
        },
        Refusal {
            name: "appeal_is_refused_to_a_user_who_is_not_the_primary_contact",
            from: rejected().with_user("bob", &["maicpp_partner_admin"]),
            actor: partner("bob"),
            command: appeal("sha256:x"),
            at: INSIDE_SLA,
            error: WorkflowError::Denied {
                action: "verification.appeal".into(),
                unmet: strings(&["appeal_by_primary_contact"]),
            },
            rule: "denied",
        },
        Refusal {
            name: "appeal_while_pending_by_a_user_without_the_role_names_both_unmet_requirements",
            from: pending().with_user("bob", &[]),
            actor: partner("bob"),
            command: appeal("sha256:x"),
            at: INSIDE_SLA,
            error: WorkflowError::Denied {
                action: "verification.appeal".into(),
                unmet: strings(&[
                    "appeal_by_primary_contact",
                    "maicpp_verification_appealable",
                ]),
            },
            rule: "denied",
        },
        Refusal {
            name: "appeal_is_refused_to_support",
            from: rejected(),
            actor: agent(),
            command: appeal("sha256:x"),
            at: INSIDE_SLA,
            error: WorkflowError::PartnerOnly { command: "appeal" },
            rule: "partner_only",
        },
        Refusal {
            name: "authorize_is_refused_to_a_partner",
            from: pending(),
            actor: alice(),
            command: Command::Authorize { program: maicpp() },
            at: INSIDE_SLA,
            error: WorkflowError::SupportOnly {
                command: "authorize",
            },
            rule: "support_only",
        },
        Refusal {
            name: "start_review_is_refused_to_the_system",
            from: pending(),
            actor: Actor::System,
            command: Command::StartReview { program: maicpp() },
            at: INSIDE_SLA,
            error: WorkflowError::SupportOnly {
                command: "start_review",
            },
            rule: "support_only",
        },
        Refusal {
            name: "mark_overdue_is_refused_to_a_partner",
            from: pending(),
            actor: alice(),
            command: Command::MarkOverdue { program: maicpp() },
            at: PAST_SLA,
            error: WorkflowError::SupportOnly {
                command: "mark_overdue",
            },
            rule: "support_only",
        },
        Refusal {
            name: "capability_score_is_refused_to_a_partner",
            from: History::created(),
            actor: alice(),
            command: Command::UpdateCapabilityScore { score: 90 },
            at: CREATED,
            error: WorkflowError::SupportOnly {
                command: "update_capability_score",
            },
            rule: "support_only",
        },
        Refusal {
            name: "resolve_case_is_refused_to_a_partner",
            from: with_case(),
            actor: alice(),
            command: Command::ResolveCase {
                case: "case-1".into(),
                resolution: "Done.".into(),
            },
            at: LATER,
            error: WorkflowError::SupportOnly {
                command: "resolve_case",
            },
            rule: "support_only",
        },
        Refusal {
            name: "buying_is_refused_to_support",
            from: ready_to_buy(),
            actor: agent(),
            command: Command::BuyMembership {
                offer: "maicpp_core_benefits".into(),
            },
            at: LATER,
            error: WorkflowError::PartnerOnly {
                command: "buy_membership",
            },
            rule: "partner_only",
        },
        Refusal {
            name: "accepting_an_agreement_is_refused_to_support",
            from: History::created(),
            actor: agent(),
            command: Command::AcceptAgreement {
                agreement: "mpa".into(),
            },
            at: CREATED,
            error: WorkflowError::PartnerOnly {
                command: "accept_agreement",
            },
            rule: "partner_only",
        },
        Refusal {
            name: "enroll_is_refused_to_the_system",
            from: History::created(),
            actor: Actor::System,
            command: Command::Enroll { program: maicpp() },
            at: CREATED,
            error: WorkflowError::SystemNotAllowed { command: "enroll" },
            rule: "system_not_allowed",
        },
        Refusal {
            name: "accepting_an_agreement_needs_a_role_that_can_fix_it",
            from: History::created().with_user("bob", &["referrals_admin"]),
            actor: partner("bob"),
            command: Command::AcceptAgreement {
                agreement: "mpa".into(),
            },
            at: CREATED,
            error: WorkflowError::RoleRequired {
                command: "accept_agreement",
                roles: strings(&["global_admin"]),
            },
            rule: "role_required",
        },
        Refusal {
            name: "granting_roles_is_refused_while_verification_is_pending",
            from: pending(),
            actor: alice(),
            command: grant("alice", &["referrals_admin"]),
            at: INSIDE_SLA,
            error: WorkflowError::RolesFrozen {
                program: maicpp(),
                status: Some(VerificationStatus::Pending),
                unmet: strings(&["maicpp_verification_authorized"]),
            },
            rule: "roles_frozen",
        },
        Refusal {
            name: "adding_a_user_is_refused_before_enrollment_even_to_support",
            from: History::created(),
            actor: agent(),
            command: Command::AddUser {
                user: "bob".into(),
                roles: Vec::new(),
            },
            at: CREATED,
            error: WorkflowError::RolesFrozen {
                program: maicpp(),
                status: None,
                unmet: strings(&["maicpp_verification_authorized"]),
            },
            rule: "roles_frozen",
        },
        Refusal {
            name: "revoking_roles_is_refused_to_support_while_rejected",
            from: rejected(),
            actor: agent(),
            command: Command::RevokeRoles {
                user: "alice".into(),
                roles: strings(&["global_admin"]),
            },
            at: INSIDE_SLA,
            error: WorkflowError::RolesFrozen {
                program: maicpp(),
                status: Some(VerificationStatus::Rejected),
                unmet: strings(&["maicpp_verification_authorized"]),
            },
            rule: "roles_frozen",
        },
        Refusal {
            name: "role_changes_frozen_list_every_unmet_requirement",
            from: pending().with_user("bob", &["referrals_admin"]),
            actor: partner("bob"),
            command: grant("bob", &["incentives_admin"]),
            at: INSIDE_SLA,
            error: WorkflowError::RolesFrozen {
                program: maicpp(),
                status: Some(VerificationStatus::Pending),
                unmet: strings(&["user_admin_role", "maicpp_verification_authorized"]),
            },
            rule: "roles_frozen",
        },
        Refusal {
            name: "granting_roles_once_authorized_still_needs_a_user_admin_role",
            from: authorized().with_user("bob", &["referrals_admin"]),
            actor: partner("bob"),
            command: grant("bob", &["incentives_admin"]),
            at: LATER,
            error: WorkflowError::Denied {
                action: "users.manage_roles".into(),
                unmet: strings(&["user_admin_role"]),
            },
            rule: "denied",
        },
        Refusal {
            name: "buying_is_denied_with_every_unmet_requirement_while_pending",
            from: pending(),
            actor: alice(),
            command: Command::BuyMembership {
                offer: "maicpp_core_benefits".into(),
            },
            at: INSIDE_SLA,
            error: WorkflowError::Denied {
                action: "membership_offers.buy".into(),
                unmet: strings(&[
                    "maicpp_enrollment_active",
                    "maicpp_verification_authorized",
                    "payment_profile_complete",
                    "tax_profile_complete",
                ]),
            },
            rule: "denied",
        },
        Refusal {
            name: "buying_an_active_membership_is_denied",
            from: bought(),
            actor: alice(),
            command: Command::BuyMembership {
                offer: "maicpp_core_benefits".into(),
            },
            at: LATER,
            error: WorkflowError::Denied {
                action: "membership_offers.buy".into(),
                unmet: strings(&["no_active_core_membership"]),
            },
            rule: "denied",
        },
        Refusal {
            name: "buying_the_expanded_offer_checks_its_own_action",
            from: ready_to_buy(),
            actor: alice(),
            command: Command::BuyMembership {
                offer: "maicpp_expanded_benefits".into(),
            },
            at: LATER,
            error: WorkflowError::Denied {
                action: "membership_offers.buy_expanded".into(),
                unmet: strings(&["expanded_capability_score"]),
            },
            rule: "denied",
        },
        Refusal {
            name: "renewing_outside_the_window_is_denied",
            from: bought(),
            actor: alice(),
            command: Command::RenewMembership {
                offer: "maicpp_core_benefits".into(),
            },
            at: LATER,
            error: WorkflowError::Denied {
                action: "membership_offers.renew".into(),
                unmet: strings(&["core_membership_in_renewal_window"]),
            },
            rule: "denied",
        },
        Refusal {
            name: "opening_a_case_is_refused_to_the_system",
            from: History::created(),
            actor: Actor::System,
            command: Command::OpenCase {
                subject: "Hi".into(),
                program: None,
                body: "Hello".into(),
            },
            at: CREATED,
            error: WorkflowError::SystemNotAllowed {
                command: "open_case",
            },
            rule: "system_not_allowed",
        },
        Refusal {
            name: "escalate_is_refused_while_the_banner_is_shown",
            from: challenged(),
            actor: alice(),
            command: Command::Escalate { program: maicpp() },
            at: PAST_SLA,
            error: WorkflowError::ActionRequiredShown { program: maicpp() },
            rule: "action_required_shown",
        },
        Refusal {
            name: "escalate_is_refused_inside_the_sla",
            from: pending(),
            actor: alice(),
            command: Command::Escalate { program: maicpp() },
            at: INSIDE_SLA,
            error: WorkflowError::WithinSla {
                program: maicpp(),
                due: Some(date(2026, 11, 19)),
            },
            rule: "within_sla",
        },
        Refusal {
            name: "escalate_is_refused_on_the_due_date",
            from: pending(),
            actor: alice(),
            command: Command::Escalate { program: maicpp() },
            at: "2026-11-19T23:00:00Z",
            error: WorkflowError::WithinSla {
                program: maicpp(),
                due: Some(date(2026, 11, 19)),
            },
            rule: "within_sla",
        },
        Refusal {
            name: "escalate_of_a_rejection_with_appeals_left_asks_for_an_appeal",
            from: rejected_after(1),
            actor: alice(),
            command: Command::Escalate { program: maicpp() },
            at: LATER,
            error: WorkflowError::AppealFirst {
                program: maicpp(),
                left: 2,
            },
            rule: "appeal_first",
        },
        Refusal {
            name: "escalate_is_refused_once_authorized",
            from: authorized(),
            actor: alice(),
            command: Command::Escalate { program: maicpp() },
            at: LATER,
            error: illegal("authorized", "escalate"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "escalate_twice_is_refused_while_the_case_is_open",
            from: pending().with(alice(), Command::Escalate { program: maicpp() }, PAST_SLA),
            actor: alice(),
            command: Command::Escalate { program: maicpp() },
            at: LATER,
            error: WorkflowError::AlreadyEscalated {
                program: maicpp(),
                case: "case-1".into(),
            },
            rule: "already_escalated",
        },
        Refusal {
            name: "mark_overdue_twice_is_refused",
            from: pending().with(
                Actor::System,
                Command::MarkOverdue { program: maicpp() },
                PAST_SLA,
            ),
            actor: Actor::System,
            command: Command::MarkOverdue { program: maicpp() },
            at: LATER,
            error: WorkflowError::AlreadyOverdue { program: maicpp() },
            rule: "already_overdue",
        },
        Refusal {
            name: "mark_overdue_is_refused_inside_the_sla",
            from: pending(),
            actor: Actor::System,
            command: Command::MarkOverdue { program: maicpp() },
            at: INSIDE_SLA,
            error: WorkflowError::WithinSla {
                program: maicpp(),
                due: Some(date(2026, 11, 19)),
            },
            rule: "within_sla",
        },
        Refusal {
            name: "mark_overdue_is_refused_when_rejected",
            from: rejected(),
            actor: Actor::System,
            command: Command::MarkOverdue { program: maicpp() },
            at: LATER,
            error: illegal("rejected", "mark_overdue"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "set_enrollment_to_the_same_status_is_refused",
            from: authorized(),
            actor: agent(),
            command: Command::SetEnrollment {
                program: maicpp(),
                status: EnrollmentStatus::Active,
            },
            at: LATER,
            error: illegal("active", "set_enrollment"),
            rule: "illegal_transition",
        },
        Refusal {
            name: "accepting_an_agreement_twice_is_refused",
            from: History::created().with(
                alice(),
                Command::AcceptAgreement {
                    agreement: "mpa".into(),
                },
                CREATED,
            ),
            actor: alice(),
            command: Command::AcceptAgreement {
                agreement: "mpa".into(),
            },
            at: CREATED,
            error: WorkflowError::AlreadyAccepted {
                agreement: "mpa".into(),
            },
            rule: "already_accepted",
        },
        Refusal {
            name: "commenting_on_an_unknown_case_is_refused",
            from: with_case(),
            actor: alice(),
            command: Command::CommentCase {
                case: "case-9".into(),
                body: "Hello?".into(),
            },
            at: LATER,
            error: WorkflowError::CaseNotFound {
                id: "case-9".into(),
            },
            rule: "case_not_found",
        },
        Refusal {
            name: "commenting_on_a_resolved_case_is_refused",
            from: with_case().with(
                agent(),
                Command::ResolveCase {
                    case: "case-1".into(),
                    resolution: "Done.".into(),
                },
                LATER,
            ),
            actor: alice(),
            command: Command::CommentCase {
                case: "case-1".into(),
                body: "Thanks".into(),
            },
            at: LATER,
            error: WorkflowError::CaseClosed {
                id: "case-1".into(),
            },
            rule: "case_closed",
        },
        Refusal {
            name: "reject_without_a_reason_is_refused",
            from: pending(),
            actor: agent(),
            command: Command::Reject {
                program: maicpp(),
                reason: "  ".into(),
            },
            at: INSIDE_SLA,
            error: WorkflowError::InvalidInput {
                field: "reason",
                message: "must not be empty".into(),
            },
            rule: "invalid_input",
        },
        Refusal {
            name: "challenge_without_documents_is_refused",
            from: pending(),
            actor: agent(),
            command: Command::Challenge {
                program: maicpp(),
                reason: "More.".into(),
                documents: Vec::new(),
            },
            at: INSIDE_SLA,
            error: WorkflowError::InvalidInput {
                field: "documents",
                message: "a challenge must ask for at least one document".into(),
            },
            rule: "invalid_input",
        },
        Refusal {
            name: "a_capability_score_above_100_is_refused",
            from: History::created(),
            actor: Actor::System,
            command: Command::UpdateCapabilityScore { score: 101 },
            at: CREATED,
            error: WorkflowError::InvalidInput {
                field: "score",
                message: "101 is above the maximum of 100".into(),
            },
            rule: "invalid_input",
        },
        Refusal {
            name: "a_user_id_with_spaces_is_refused",
            from: authorized(),
            actor: alice(),
            command: Command::AddUser {
                user: "bob smith".into(),
                roles: Vec::new(),
            },
            at: LATER,
            error: WorkflowError::InvalidInput {
                field: "user",
                message: "\"bob smith\" contains ' '; use no spaces or control characters".into(),
            },
            rule: "invalid_input",
        },
        Refusal {
            name: "granting_no_roles_is_refused",
            from: authorized(),
            actor: alice(),
            command: grant("alice", &[]),
            at: LATER,
            error: WorkflowError::InvalidInput {
                field: "roles",
                message: "name at least one role".into(),
            },
            rule: "invalid_input",
        },
        Refusal {
            name: "an_appeal_without_a_document_is_refused",
            from: rejected(),
            actor: alice(),
            command: appeal(""),
            at: LATER,
            error: WorkflowError::InvalidInput {
                field: "document",
                message: "must not be empty".into(),
            },
            rule: "invalid_input",
        },
    ]
}

#[test]
fn every_refusal_names_its_rule_and_changes_nothing() {
    for case in refusals() {
        let before = case.from.tenant.clone();
        let result = execute(
            catalog(),
            &case.from.tenant,
            &case.actor,
            &case.command,
            at(case.at),
        );
        assert_eq!(result, Err(case.error.clone()), "{}", case.name);
        assert_eq!(case.error.rule(), case.rule, "{}", case.name);
        assert!(!case.error.to_string().is_empty(), "{}", case.name);
        assert_eq!(case.from.tenant, before, "{}", case.name);
    }
}

#[test]
fn refusal_names_are_unique() {
    let mut names: Vec<_> = refusals().iter().map(|r| r.name).collect();
    let before = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), before);
}

#[test]
fn every_rule_code_is_exercised_by_a_refusal() {
    let covered: std::collections::BTreeSet<_> = refusals().iter().map(|r| r.rule).collect();
    // `membership_active` and `no_membership` need a catalog whose actions do
    // not check memberships: see `without_catalog_checks_...` below;
    // `appeals_exhausted` and `not_primary_contact` one whose appeal gate is
    // off: see `with_the_appeal_gate_off_...`.
    for code in [
        "unknown_tenant",
        "tenant_exists",
        "unknown_program",
        "unknown_role",
        "unknown_agreement",
        "unknown_profile",
        "unknown_offer",
        "unknown_user",
        "user_exists",
        "not_enrolled",
        "already_enrolled",
        "illegal_transition",
        "appeal_first",
        "support_only",
        "support_admin_only",
        "partner_only",
        "system_not_allowed",
        "role_required",
        "roles_frozen",
        "denied",
        "action_required_shown",
        "within_sla",
        "already_overdue",
        "already_escalated",
        "already_accepted",
        "case_not_found",
        "case_closed",
        "invalid_input",
    ] {
        assert!(covered.contains(code), "no refusal exercises {code}");
    }
}

#[test]
fn the_history_replays_into_the_same_state() {
    for history in [rejected_after(3), bought(), with_case(), challenged()] {
        let replayed = replay(catalog(), "contoso", history.events.clone()).expect("replay");
        assert_eq!(replayed, history.tenant);
    }
}

#[test]
fn the_seeds_tenant_cannot_change_roles_and_support_unblocks_it() {
    // The seed: pending past the SLA, no banner, a Global Admin and MAICPP partner admin.
    let stuck = pending();
    let refused = execute(
        catalog(),
        &stuck.tenant,
        &alice(),
        &grant("alice", &["account_admin"]),
        at(PAST_SLA),
    );
    assert_eq!(refused.map_err(|e| e.rule()), Err("roles_frozen"));
    let unblocked = stuck
        .with(alice(), Command::Escalate { program: maicpp() }, PAST_SLA)
        .with(agent(), Command::Authorize { program: maicpp() }, LATER);
    let allowed = execute(
        catalog(),
        &unblocked.tenant,
        &alice(),
        &grant("alice", &["account_admin"]),
        at(LATER),
    );
    assert!(allowed.is_ok(), "{allowed:?}");
}

#[test]
fn an_event_that_cannot_be_folded_changes_nothing() {
    let history = pending();
    for event in [
        Event::Enrolled {
            program: "mpn".into(),
        },
        Event::VerificationChanged {
            program: "csp".into(),
            status: VerificationStatus::Authorized,
            reason: None,
            documents: Vec::new(),
        },
        Event::RolesGranted {
            user: "nobody".into(),
            roles: strings(&["global_admin"]),
        },
        Event::RolesGranted {
            user: "alice".into(),
            roles: strings(&["nonexistent"]),
        },
        Event::MembershipRenewed {
            offer: "maicpp_core_benefits".into(),
            expires_at: at(LATER),
        },
        Event::Escalated {
            program: maicpp(),
            case: "case-7".into(),
        },
        Event::TenantCreated {
            country: "US".into(),
            admin: "eve".into(),
            roles: Vec::new(),
        },
    ] {
        let mut tenant = history.tenant.clone();
        let result = tenant.apply(catalog(), &event, at(LATER));
        assert!(result.is_err(), "{event:?} folded");
        assert_eq!(tenant, history.tenant, "{event:?} changed the state");
    }
}

#[test]
fn a_fourth_appeal_event_cannot_be_folded() {
    let mut tenant = rejected_after(3).tenant;
    let result = tenant.apply(
        catalog(),
        &Event::AppealSubmitted {
            program: maicpp(),
            document_type: "x".into(),
            document: "y".into(),
            by: "alice".into(),
        },
        at(LATER),
    );
    assert_eq!(
        result,
        Err(WorkflowError::AppealsExhausted {
            program: maicpp(),
            used: 3,
            max: 3,
        })
    );
}

/// A catalog whose buy and renew actions check nothing about memberships: the
/// workflow still keeps one active membership per offer and renews only what exists.
const BARE_CATALOG: &str = r#"
[vetting]
sla_business_days = 5
max_appeals = 3
appeal_roles = []
enroll_roles = ["admin"]
owner_roles = ["admin"]

[[program]]
id = "maicpp"
name = "MAICPP"
home = "membership_offers"

[[role]]
id = "admin"
name = "Admin"

[[offer]]
id = "core"
name = "Core"
program = "maicpp"
renewal_window_days = 5
term_days = 10
buy = "membership_offers.buy"
renew = "membership_offers.renew"

[[workspace]]
id = "membership_offers"
name = "Membership offers"
page = "/membership/offers"

[[action]]
id = "membership_offers.buy"
name = "Buy"
workspace = "membership_offers"

[[action]]
id = "membership_offers.renew"
name = "Renew"
workspace = "membership_offers"
"#;

/// [`BARE_CATALOG`] with every gate turned off (`"off"`, explicitly).
fn bare_catalog() -> Catalog {
    let gates: String = clearance_core::catalog::Gates::KEYS
        .iter()
        .map(|(key, _)| format!("{key} = \"off\"\n"))
        .collect();
    let text = format!("{BARE_CATALOG}\n[gates]\n{gates}");
    Catalog::from_toml("bare.toml", &text).expect("bare catalog")
}

/// The default catalog with `edit` applied to its text.
fn edited_catalog(from: &str, to: &str) -> Catalog {
    let text = clearance_core::catalog::PARTNER_CENTER_TOML;
    assert!(text.contains(from), "the catalog has {from:?}");
    Catalog::from_toml("edited.toml", &text.replacen(from, to, 1))
        .expect("the edited catalog loads")
}

#[test]
fn with_the_appeal_gate_off_the_workflow_still_refuses_appeals_it_must() {
    let off = edited_catalog(r#"appeal = "verification.appeal""#, r#"appeal = "off""#);
    let refused = |history: History, actor: Actor, when: &str| {
        execute(&off, &history.tenant, &actor, &appeal("sha256:x"), at(when))
    };
    assert_eq!(
        refused(pending(), alice(), INSIDE_SLA),
        Err(illegal("pending", "appeal"))
    );
    assert_eq!(
        refused(rejected_after(3), alice(), LATER),
        Err(WorkflowError::AppealsExhausted {
            program: maicpp(),
            used: 3,
            max: 3,
        })
    );
    let error = refused(
        rejected().with_user("bob", &["maicpp_partner_admin"]),
        partner("bob"),
        INSIDE_SLA,
    )
    .expect_err("bob is neither the primary contact nor a Global Admin");
    assert_eq!(
        error,
        WorkflowError::NotPrimaryContact { user: "bob".into() }
    );
    assert_eq!(error.rule(), "not_primary_contact");
    assert_eq!(
        refused(rejected_after(3), alice(), LATER).map_err(|error| error.rule()),
        Err("appeals_exhausted")
    );
}

#[test]
fn escalate_is_refused_by_its_gate_before_the_verification_state() {
    // A catalog where opening (and so escalating into) a support case needs a role alice lacks.
    let gated = edited_catalog(
        "id = \"support.open_case\"\nname = \"Open a support case\"\nworkspace = \"support\"\n",
        "id = \"support.open_case\"\nname = \"Open a support case\"\nworkspace = \"support\"\nrequires = [\"referrals_role\"]\n",
    );
    let escalate = Command::Escalate { program: maicpp() };
    // Authorized: the state forbids escalating too, but the gate's refusal comes first and says
    // what would let alice open a case at all.
    assert_eq!(
        execute(&gated, &authorized().tenant, &alice(), &escalate, at(LATER)),
        Err(WorkflowError::Denied {
            action: "support.open_case".into(),
            unmet: strings(&["referrals_role"]),
        })
    );
    // With the default catalog (no requirement on opening a case) the state's refusal stands.
    assert_eq!(
        execute(
            catalog(),
            &authorized().tenant,
            &alice(),
            &escalate,
            at(LATER)
        ),
        Err(illegal("authorized", "escalate"))
    );
}

#[test]
fn without_catalog_checks_one_active_membership_per_offer_still_holds() {
    let bare = bare_catalog();
    let mut tenant = replay(
        &bare,
        "t",
        [(
            Event::TenantCreated {
                country: "US".into(),
                admin: "root".into(),
                roles: strings(&["admin"]),
            },
            at(CREATED),
        )],
    )
    .expect("created");
    let root = partner("root");
    let buy = Command::BuyMembership {
        offer: "core".into(),
    };
    let renew = Command::RenewMembership {
        offer: "core".into(),
    };

    assert_eq!(
        execute(&bare, &tenant, &root, &renew, at(CREATED)),
        Err(WorkflowError::NoMembership {
            offer: "core".into()
        })
    );
    let events = execute(&bare, &tenant, &root, &buy, at(CREATED)).expect("first buy");
    for event in &events {
        tenant.apply(&bare, event, at(CREATED)).expect("fold");
    }
    let refused = execute(&bare, &tenant, &root, &buy, at(CREATED));
    assert_eq!(
        refused,
        Err(WorkflowError::MembershipActive {
            offer: "core".into(),
            expires_at: plus_days(CREATED, 10),
        })
    );
    assert_eq!(refused.map_err(|e| e.rule()), Err("membership_active"));
    assert_eq!(
        execute(&bare, &tenant, &root, &renew, at(CREATED)),
        Ok(vec![Event::MembershipRenewed {
            offer: "core".into(),
            expires_at: plus_days(CREATED, 20),
        }])
    );
}

#[test]
fn roles_are_not_frozen_when_the_catalog_gates_nothing() {
    let bare = bare_catalog();
    let tenant = replay(
        &bare,
        "t",
        [(
            Event::TenantCreated {
                country: "US".into(),
                admin: "root".into(),
                roles: Vec::new(),
            },
            at(CREATED),
        )],
    )
    .expect("created");
    let events = execute(
        &bare,
        &tenant,
        &partner("root"),
        &grant("root", &["admin"]),
        at(CREATED),
    );
    assert_eq!(
        events,
        Ok(vec![Event::RolesGranted {
            user: "root".into(),
            roles: strings(&["admin"]),
        }])
    );
}

#[test]
fn events_serialize_with_a_type_tag() {
    let event = Event::Escalated {
        program: maicpp(),
        case: "case-1".into(),
    };
    let json = serde_json::to_string(&event).expect("json");
    assert_eq!(
        json,
        r#"{"type":"escalated","program":"maicpp","case":"case-1"}"#
    );
    assert_eq!(event.name(), "escalated");
    let back: Event = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, event);
}

#[test]
fn the_set_of_roles_of_a_new_admin_is_what_was_asked() {
    let tenant = History::created().tenant;
    let roles: Set<_> = ["global_admin", "maicpp_partner_admin"]
        .iter()
        .map(|r| catalog().role_ix(r).expect("role"))
        .collect();
    assert_eq!(tenant.user("alice").map(|u| u.roles), Some(roles));
}
