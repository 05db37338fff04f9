//! Properties of the workflow over random command sequences: a refused command
//! changes nothing, the state is always the fold of the accepted events, and
//! the state machine's invariants hold after every step.

use clearance_core::Catalog;
use clearance_core::state::{EnrollmentStatus, Tenant, VerificationStatus};
use clearance_core::workflow::{Actor, Command, Event, SupportRole, execute, replay};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn catalog() -> &'static Catalog {
    Catalog::partner_center()
}

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        4 => Just(Actor::Partner { user: "alice".into() }),
        1 => Just(Actor::Partner { user: "bob".into() }),
        1 => Just(Actor::Partner { user: "carol".into() }),
        3 => Just(Actor::Support { id: "sam".into(), role: SupportRole::SupportAgent }),
        1 => Just(Actor::Support { id: "ada".into(), role: SupportRole::SupportAdmin }),
        1 => Just(Actor::System),
    ]
}

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(items).prop_map(str::to_owned)
}

fn program() -> impl Strategy<Value = String> {
    prop_oneof![8 => Just("maicpp".to_owned()), 1 => Just("csp".to_owned()), 1 => Just("nope".to_owned())]
}

fn roles() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        one_of(&[
            "global_admin",
            "user_management_admin",
            "referrals_admin",
            "bogus",
        ]),
        0..3,
    )
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 4 => Just("A reason.".to_owned())]
}

fn offer() -> impl Strategy<Value = String> {
    one_of(&["maicpp_core_benefits", "maicpp_expanded_benefits", "gold"])
}

fn case() -> impl Strategy<Value = String> {
    one_of(&["case-1", "case-2", "case-9"])
}

fn command() -> impl Strategy<Value = Command> {
    // Weighted towards the vetting commands so that sequences reach
    // authorization, rejections, appeals and escalations often.
    prop_oneof![
        1 => (one_of(&["US", "us"]), one_of(&["alice", "zed"]), roles())
            .prop_map(|(country, admin, roles)| Command::CreateTenant { country, admin, roles }),
        2 => (one_of(&["bob", "alice", "b o b"]), roles())
            .prop_map(|(user, roles)| Command::AddUser { user, roles }),
        3 => program().prop_map(|program| Command::Enroll { program }),
        4 => program().prop_map(|program| Command::SubmitVerification { program }),
        3 => program().prop_map(|program| Command::StartReview { program }),
        3 => program().prop_map(|program| Command::Authorize { program }),
        4 => (program(), text()).prop_map(|(program, reason)| Command::Reject { program, reason }),
        2 => (program(), text(), prop::collection::vec(one_of(&["utility_bill"]), 0..2)).prop_map(
            |(program, reason, documents)| Command::Challenge { program, reason, documents }
        ),
        6 => (program(), text(), one_of(&["sha256:a", "sha256:b"])).prop_map(
            |(program, document_type, document)| Command::Appeal { program, document_type, document }
        ),
        2 => program().prop_map(|program| Command::Escalate { program }),
        2 => program().prop_map(|program| Command::MarkOverdue { program }),
        1 => (program(), prop::sample::select(EnrollmentStatus::ALL.to_vec()))
            .prop_map(|(program, status)| Command::SetEnrollment { program, status }),
        1 => one_of(&["mpa", "publisher_agreement", "eula"])
            .prop_map(|agreement| Command::AcceptAgreement { agreement }),
        2 => (one_of(&["alice", "bob"]), roles())
            .prop_map(|(user, roles)| Command::GrantRoles { user, roles }),
        2 => (one_of(&["alice", "bob"]), roles())
            .prop_map(|(user, roles)| Command::RevokeRoles { user, roles }),
        2 => (one_of(&["payment", "tax", "shipping"]), prop::bool::weighted(0.8))
            .prop_map(|(profile, complete)| Command::UpdateProfile { profile, complete }),
        1 => (0u32..120).prop_map(|score| Command::UpdateCapabilityScore { score }),
        3 => offer().prop_map(|offer| Command::BuyMembership { offer }),
        2 => offer().prop_map(|offer| Command::RenewMembership { offer }),
        1 => (text(), prop::option::of(program()), text())
            .prop_map(|(subject, program, body)| Command::OpenCase { subject, program, body }),
        1 => (case(), text()).prop_map(|(case, body)| Command::CommentCase { case, body }),
        1 => (case(), text()).prop_map(|(case, resolution)| Command::ResolveCase { case, resolution }),
    ]
}

/// A step: who, what, and how many hours after the previous step.
fn steps() -> impl Strategy<Value = Vec<(Actor, Command, i64)>> {
    prop::collection::vec((actor(), command(), 0i64..100), 1..120)
}

fn check_invariants(tenant: &Tenant, log: &[(Event, Timestamp)]) -> Result<(), TestCaseError> {
    let max = catalog().vetting.max_appeals;
    prop_assert_eq!(tenant.version, log.len() as u64);
    let replayed = replay(catalog(), &tenant.id, log.iter().cloned())
        .map_err(|e| TestCaseError::fail(format!("replay failed: {e}")))?;
    prop_assert_eq!(&replayed, tenant);

    for (i, record) in tenant.programs.iter().enumerate() {
        prop_assert!(
            tenant.programs[..i]
                .iter()
                .all(|other| other.program != record.program),
            "two records of one program"
        );
        let v = &record.verification;
        prop_assert!(v.appeals_used <= max);
        prop_assert_eq!(v.appeals.len(), usize::from(v.appeals_used));
        prop_assert_eq!(
            v.action_required,
            v.status == VerificationStatus::Challenged
        );
        let running = matches!(
            v.status,
            VerificationStatus::Pending | VerificationStatus::InProgress
        );
        if running {
            prop_assert!(
                v.submitted_at.is_some(),
                "a running round has no submission time"
            );
        }
        if v.overdue {
            prop_assert!(running, "overdue outside a running round");
        }
        if let Some(case) = &v.escalated_case {
            prop_assert!(tenant.cases.iter().any(|c| &c.id == case));
        }
    }
    for (i, case) in tenant.cases.iter().enumerate() {
        prop_assert_eq!(&case.id, &format!("case-{}", i + 1));
    }
    for (i, membership) in tenant.memberships.iter().enumerate() {
        prop_assert!(
            tenant.memberships[..i]
                .iter()
                .all(|other| other.offer != membership.offer)
        );
    }
    for (i, user) in tenant.users.iter().enumerate() {
        prop_assert!(tenant.users[..i].iter().all(|other| other.id != user.id));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_command_sequences_keep_the_invariants(
        authorized_first in any::<bool>(),
        steps in steps(),
    ) {
        let mut now: Timestamp = "2026-11-02T09:00:00Z".parse().expect("start");
        let mut tenant = Tenant::new("contoso", "");
        let mut log: Vec<(Event, Timestamp)> = Vec::new();
        // Every sequence starts from a created tenant, half of them from an
        // authorized one ready to buy, so that later commands matter.
        let admin = Actor::Support { id: "ada".into(), role: SupportRole::SupportAdmin };
        let agent = Actor::Support { id: "sam".into(), role: SupportRole::SupportAgent };
        let alice = Actor::Partner { user: "alice".into() };
        let maicpp = || "maicpp".to_owned();
        let mut prefix = vec![(admin, Command::CreateTenant {
            country: "US".into(),
            admin: "alice".into(),
            roles: vec!["global_admin".into(), "maicpp_partner_admin".into()],
        }, 0)];
        if authorized_first {
            prefix.extend([
                (alice.clone(), Command::Enroll { program: maicpp() }, 0),
                (alice.clone(), Command::SubmitVerification { program: maicpp() }, 0),
                (agent, Command::Authorize { program: maicpp() }, 0),
                (alice.clone(), Command::UpdateProfile { profile: "payment".into(), complete: true }, 0),
                (alice, Command::UpdateProfile { profile: "tax".into(), complete: true }, 0),
            ]);
        }
        for (actor, command, hours) in prefix.into_iter().chain(steps) {
            now = now.checked_add(SignedDuration::from_hours(hours)).expect("in range");
            let before = tenant.clone();
            match execute(catalog(), &tenant, &actor, &command, now) {
                Ok(events) => {
                    prop_assert!(!events.is_empty(), "{:?} accepted with no event", command);
                    for event in events {
                        tenant.apply(catalog(), &event, now).map_err(|e| {
                            TestCaseError::fail(format!("{event:?} from {command:?} does not fold: {e}"))
                        })?;
                        // Events survive their wire form.
                        let json = serde_json::to_string(&event).expect("serialize");
                        let back: Event = serde_json::from_str(&json).expect("deserialize");
                        prop_assert_eq!(&back, &event);
                        log.push((event, now));
                    }
                }
                Err(error) => {
                    prop_assert_eq!(&tenant, &before);
                    prop_assert!(!error.rule().is_empty());
                    prop_assert!(!error.to_string().is_empty());
                }
            }
            check_invariants(&tenant, &log)?;
        }
    }

    #[test]
    fn appeals_never_exceed_the_limit_however_often_they_are_tried(rounds in 1usize..8) {
        let at: Timestamp = "2026-11-12T09:00:00Z".parse().expect("t");
        let agent = Actor::Support { id: "sam".into(), role: SupportRole::SupportAgent };
        let alice = Actor::Partner { user: "alice".into() };
        let admin = Actor::Support { id: "ada".into(), role: SupportRole::SupportAdmin };
        let mut tenant = Tenant::new("contoso", "");
        let run = |tenant: &mut Tenant, actor: &Actor, command: Command| {
            let result = execute(catalog(), tenant, actor, &command, at);
            if let Ok(events) = &result {
                for event in events {
                    tenant.apply(catalog(), event, at).expect("fold");
                }
            }
            result.map(|_| ())
        };
        let maicpp = || "maicpp".to_owned();
        run(&mut tenant, &admin, Command::CreateTenant {
            country: "US".into(), admin: "alice".into(), roles: vec!["global_admin".into()],
        }).expect("create");
        run(&mut tenant, &alice, Command::Enroll { program: maicpp() }).expect("enroll");
        run(&mut tenant, &alice, Command::SubmitVerification { program: maicpp() }).expect("submit");
        let mut accepted = 0;
        for _ in 0..rounds {
            run(&mut tenant, &agent, Command::Reject { program: maicpp(), reason: "No.".into() })
                .expect("reject");
            let appeal = Command::Appeal {
                program: maicpp(),
                document_type: "registration".into(),
                document: "sha256:x".into(),
            };
            if run(&mut tenant, &alice, appeal).is_ok() {
                accepted += 1;
            } else {
                break;
            }
        }
        let max = usize::from(catalog().vetting.max_appeals);
        prop_assert_eq!(accepted, rounds.min(max));
    }
}
