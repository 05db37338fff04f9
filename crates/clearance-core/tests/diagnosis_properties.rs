//! Properties of the diagnosis over random tenant states: steps come in the
//! seed's order, each code once, and each step appears exactly when its rule
//! says it applies.

use clearance_core::Catalog;
use clearance_core::catalog::Set;
use clearance_core::diagnosis::{StepCode, diagnose};
use clearance_core::state::{
    EnrollmentStatus, ProgramRecord, Tenant, User, Verification, VerificationStatus,
};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn catalog() -> &'static Catalog {
    Catalog::partner_center()
}

#[derive(Clone, Debug)]
struct State {
    enrollment: EnrollmentStatus,
    status: VerificationStatus,
    banner: bool,
    appeals_used: u8,
    submitted_hours_ago: i64,
}

fn state() -> impl Strategy<Value = State> {
    (
        prop::sample::select(EnrollmentStatus::ALL.to_vec()),
        prop::sample::select(VerificationStatus::ALL.to_vec()),
        any::<bool>(),
        0u8..=3,
        0i64..(24 * 30),
    )
        .prop_map(
            |(enrollment, status, banner, appeals_used, submitted_hours_ago)| State {
                enrollment,
                status,
                banner,
                appeals_used,
                submitted_hours_ago,
            },
        )
}

fn record(program: &str, s: &State, now: Timestamp) -> ProgramRecord {
    ProgramRecord {
        program: catalog().program_ix(program).expect("program"),
        enrollment: s.enrollment,
        verification: Verification {
            status: s.status,
            submitted_at: Some(
                now.checked_sub(SignedDuration::from_hours(s.submitted_hours_ago))
                    .expect("in range"),
            ),
            action_required: s.banner,
            reason: None,
            documents_requested: Vec::new(),
            appeals_used: s.appeals_used,
            appeals: Vec::new(),
            overdue: false,
            escalated_case: None,
        },
    }
}

fn ids<I: clearance_core::catalog::SetMember>(
    all: &[&str],
    pick: &[bool],
    lookup: impl Fn(&str) -> Option<I>,
) -> Set<I> {
    all.iter()
        .zip(pick)
        .filter(|(_, keep)| **keep)
        .map(|(id, _)| lookup(id).expect("known id"))
        .collect()
}

proptest! {
    #[test]
    fn steps_are_ordered_unique_and_follow_their_rules(
        maicpp in prop::option::of(state()),
        csp in prop::option::of(state()),
        roles in prop::collection::vec(any::<bool>(), 4),
        profiles in prop::collection::vec(any::<bool>(), 2),
        mpa in any::<bool>(),
        score in prop::option::of(0u32..=100),
        primary in any::<bool>(),
        now_offset in 0i64..(24 * 60),
    ) {
        let now = "2026-11-02T00:00:00Z"
            .parse::<Timestamp>()
            .expect("t")
            .checked_add(SignedDuration::from_hours(now_offset))
            .expect("in range");
        let catalog = catalog();
        let mut tenant = Tenant::new("contoso", "US");
        tenant.primary_contact = Some(if primary { "alice" } else { "someone" }.to_owned());
        tenant.capability_score = score;
        tenant.profiles = ids(&["payment", "tax"], &profiles, |id| catalog.profile_ix(id));
        if mpa {
            tenant.agreements.insert(catalog.agreement_ix("mpa").expect("mpa"));
        }
        if let Some(s) = &maicpp {
            tenant.programs.push(record("maicpp", s, now));
        }
        if let Some(s) = &csp {
            tenant.programs.push(record("csp", s, now));
        }
        let user = User {
            id: "alice".into(),
            roles: ids(
                &["global_admin", "maicpp_partner_admin", "account_admin", "admin_agent"],
                &roles,
                |id| catalog.role_ix(id),
            ),
        };
        tenant.users.push(user.clone());

        let diagnosis = diagnose(catalog, &tenant, &user, now);
        let codes = diagnosis.codes();
        prop_assert!(codes.windows(2).all(|w| w[0] < w[1]), "not ordered or repeated: {:?}", codes);
        prop_assert!(!diagnosis.cause.is_empty());
        prop_assert!(diagnosis.steps.iter().all(|s| !s.text.is_empty()));

        // MAICPP, the catalog's first program, decides the vetting steps' presence
        // together with CSP; check the rules that hold whatever CSP does.
        match &maicpp {
            None => prop_assert!(codes.contains(&StepCode::VerifyEnrollment)),
            Some(s) => {
                let authorized = s.status == VerificationStatus::Authorized;
                let active = s.enrollment == EnrollmentStatus::Active;
                if !authorized || !active {
                    prop_assert!(codes.contains(&StepCode::CheckLegalInfo));
                }
                if !authorized {
                    prop_assert!(codes.contains(&StepCode::ReviewVerificationSummary));
                }
                let running = matches!(s.status, VerificationStatus::Pending | VerificationStatus::InProgress);
                if running && !s.banner {
                    let submitted = now
                        .checked_sub(SignedDuration::from_hours(s.submitted_hours_ago))
                        .expect("in range");
                    let sla = catalog.calendar.sla(submitted, catalog.vetting.sla_business_days, now);
                    let step = if sla.overdue {
                        StepCode::ContactSupport
                    } else {
                        StepCode::WaitForVerification
                    };
                    prop_assert!(codes.contains(&step), "{:?} missing from {:?}", step, codes);
                }
                if s.status == VerificationStatus::Rejected {
                    let step = if s.appeals_used < catalog.vetting.max_appeals {
                        StepCode::SubmitAppeal
                    } else {
                        StepCode::ContactSupport
                    };
                    prop_assert!(codes.contains(&step));
                }
                // Roles alone never matter while vetting is incomplete.
                let csp_not_ready = csp.as_ref().is_none_or(|c| {
                    c.status != VerificationStatus::Authorized
                        || c.enrollment != EnrollmentStatus::Active
                });
                if (!authorized || !active) && csp_not_ready {
                    prop_assert!(!codes.contains(&StepCode::AssignRole));
                    prop_assert!(!codes.contains(&StepCode::ExplainDisabledPurchase));
                }
            }
        }
        // Waiting and escalating never come together for one program alone.
        if csp.is_none() {
            prop_assert!(
                !(codes.contains(&StepCode::WaitForVerification)
                    && codes.contains(&StepCode::ContactSupport)
                    && maicpp.as_ref().is_some_and(|s| s.enrollment == EnrollmentStatus::Active)),
                "{:?}", codes
            );
        }
    }
}
