//! Decision tests on the default catalog: every requirement kind met and
//! unmet at its edges, snapshots of the seed's explanations, and properties.
//! Whole states and their decisions are the states corpus (`corpus/states/`).

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::catalog::{OfferIx, ProgramIx, RoleIx, Set};
use crate::scenario::Scenario;
use crate::state::{EnrollmentStatus, Membership, ProgramRecord, Verification, VerificationStatus};

/// The seed's own case, from its single source (the CLI's first example and
/// the states corpus's first file).
const SEED: &str = include_str!("../../../../scenarios/01-seed-pending-past-sla.toml");

fn catalog() -> &'static Catalog {
    Catalog::partner_center()
}

fn seed() -> Scenario {
    Scenario::from_toml(catalog(), "scenarios/01-seed-pending-past-sla.toml", SEED)
        .expect("the seed scenario is valid")
}

fn action(id: &str) -> ActionIx {
    catalog()
        .action_ix(id)
        .expect("action in the default catalog")
}

fn requirement(id: &str) -> &'static Requirement {
    let ix = catalog()
        .requirement_ix(id)
        .expect("requirement in the default catalog");
    catalog().requirement(ix)
}

fn role(id: &str) -> RoleIx {
    catalog().role_ix(id).expect("role")
}

fn maicpp() -> ProgramIx {
    catalog().program_ix("maicpp").expect("maicpp")
}

fn core_offer() -> OfferIx {
    catalog().offer_ix("maicpp_core_benefits").expect("offer")
}

/// A healthy tenant: MAICPP active and authorized, profiles complete, mpa accepted.
fn healthy() -> Scenario {
    let mut s = seed();
    let record = s.tenant.programs.iter_mut().next().expect("maicpp record");
    record.enrollment = EnrollmentStatus::Active;
    record.verification.status = VerificationStatus::Authorized;
    s.tenant.profiles = Set::EMPTY;
    for p in ["payment", "tax"] {
        s.tenant
            .profiles
            .insert(catalog().profile_ix(p).expect("profile"));
    }
    s
}

fn met(id: &str, scenario: &Scenario) -> bool {
    is_met(
        catalog(),
        &requirement(id).kind,
        &scenario.tenant,
        &scenario.user,
        scenario.now,
    )
}

fn record(scenario: &mut Scenario) -> &mut ProgramRecord {
    scenario
        .tenant
        .programs
        .iter_mut()
        .find(|p| p.program == maicpp())
        .expect("maicpp record")
}

// ------------------------------------------------------- each kind, met/unmet

#[test]
fn any_role_is_met_by_any_listed_role_only() {
    let mut s = seed();
    assert!(met("membership_role", &s));
    s.user.roles = [role("maicpp_partner_admin")].into_iter().collect();
    assert!(met("membership_role", &s));
    s.user.roles = [role("referrals_admin")].into_iter().collect();
    assert!(!met("membership_role", &s));
}

#[test]
fn enrollment_needs_a_record_with_a_listed_status() {
    let mut s = seed();
    assert!(!met("maicpp_enrollment_active", &s));
    record(&mut s).enrollment = EnrollmentStatus::Active;
    assert!(met("maicpp_enrollment_active", &s));
    for status in [
        EnrollmentStatus::Pending,
        EnrollmentStatus::Suspended,
        EnrollmentStatus::Closed,
    ] {
        record(&mut s).enrollment = status;
        assert!(!met("maicpp_enrollment_active", &s), "{status:?}");
    }
    s.tenant.programs.clear();
    assert!(
        !met("maicpp_enrollment_active", &s),
        "no record: not enrolled"
    );
}

#[test]
fn verification_needs_a_record_with_a_listed_status() {
    let mut s = seed();
    assert!(!met("maicpp_verification_authorized", &s));
    for status in VerificationStatus::ALL {
        record(&mut s).verification.status = status;
        assert_eq!(
            met("maicpp_verification_authorized", &s),
            status == VerificationStatus::Authorized,
            "{status:?}"
        );
        assert_eq!(
            met("maicpp_verification_appealable", &s),
            matches!(
                status,
                VerificationStatus::Rejected | VerificationStatus::Challenged
            ),
            "{status:?}"
        );
    }
    s.tenant.programs.clear();
    assert!(!met("maicpp_verification_authorized", &s));
    assert!(!met("maicpp_verification_appealable", &s));
}

#[test]
fn agreement_is_met_once_accepted() {
    let mut s = seed();
    assert!(!met("mpa_accepted", &s));
    s.tenant
        .agreements
        .insert(catalog().agreement_ix("mpa").expect("mpa"));
    assert!(met("mpa_accepted", &s));
}

#[test]
fn profile_is_met_once_complete() {
    let mut s = seed();
    assert!(met("tax_profile_complete", &s));
    assert!(!met("payment_profile_complete", &s));
    s.tenant
        .profiles
        .insert(catalog().profile_ix("payment").expect("payment"));
    assert!(met("payment_profile_complete", &s));
}

#[test]
fn capability_score_must_reach_the_threshold() {
    let mut s = seed();
    s.tenant.capability_score = None;
    assert!(!met("expanded_capability_score", &s), "unknown score");
    s.tenant.capability_score = Some(69);
    assert!(!met("expanded_capability_score", &s));
    s.tenant.capability_score = Some(70);
    assert!(met("expanded_capability_score", &s));
    s.tenant.capability_score = Some(100);
    assert!(met("expanded_capability_score", &s));
}

fn with_membership(s: &mut Scenario, expires_in: SignedDuration) {
    s.tenant.memberships = vec![Membership {
        offer: core_offer(),
        expires_at: s.now + expires_in,
    }];
}

#[test]
fn no_active_membership_until_it_expires() {
    let mut s = seed();
    assert!(met("no_active_core_membership", &s), "none bought");
    with_membership(&mut s, SignedDuration::from_secs(1));
    assert!(!met("no_active_core_membership", &s), "active");
    with_membership(&mut s, SignedDuration::ZERO);
    assert!(met("no_active_core_membership", &s), "expires exactly now");
    with_membership(&mut s, SignedDuration::from_hours(-24));
    assert!(met("no_active_core_membership", &s), "expired");
}

#[test]
fn renewal_window_is_the_60_days_before_expiry() {
    let mut s = seed();
    assert!(
        !met("core_membership_in_renewal_window", &s),
        "nothing to renew"
    );
    let day = SignedDuration::from_hours(24);
    with_membership(&mut s, day * 61);
    assert!(
        !met("core_membership_in_renewal_window", &s),
        "61 days left"
    );
    with_membership(&mut s, day * 60 + SignedDuration::from_secs(1));
    assert!(
        !met("core_membership_in_renewal_window", &s),
        "a second before the window"
    );
    with_membership(&mut s, day * 60);
    assert!(met("core_membership_in_renewal_window", &s), "window opens");
    with_membership(&mut s, SignedDuration::from_secs(1));
    assert!(met("core_membership_in_renewal_window", &s), "last second");
    with_membership(&mut s, SignedDuration::ZERO);
    assert!(
        !met("core_membership_in_renewal_window", &s),
        "expired: buy again"
    );
}

#[test]
fn primary_contact_or_role() {
    let mut s = seed();
    assert!(
        met("appeal_by_primary_contact", &s),
        "alice is the primary contact"
    );
    s.user.roles = Set::EMPTY;
    assert!(
        met("appeal_by_primary_contact", &s),
        "still the primary contact"
    );
    s.tenant.primary_contact = Some("bob".into());
    assert!(!met("appeal_by_primary_contact", &s));
    s.user.roles = [role("global_admin")].into_iter().collect();
    assert!(met("appeal_by_primary_contact", &s), "an allowed role");
    s.tenant.primary_contact = None;
    s.user.roles = [role("maicpp_partner_admin")].into_iter().collect();
    assert!(!met("appeal_by_primary_contact", &s));
}

#[test]
fn appeals_left_until_the_catalog_limit() {
    let mut s = seed();
    for (used, left) in [(0, true), (2, true), (3, false)] {
        record(&mut s).verification.appeals_used = used;
        assert_eq!(met("maicpp_appeals_left", &s), left, "{used} used");
    }
    s.tenant.programs.clear();
    assert!(
        !met("maicpp_appeals_left", &s),
        "no record: nothing to appeal"
    );
}

// ------------------------------------------------------------ access and views

#[test]
fn access_lists_every_workspace_with_its_actions() {
    let s = seed();
    let all = access(catalog(), &s.tenant, &s.user, s.now);
    assert_eq!(all.len(), catalog().workspaces.len());
    let actions: usize = all.iter().map(|w| w.actions.len()).sum();
    assert_eq!(actions, catalog().actions.len());
    let open: Vec<(&str, bool)> = all
        .iter()
        .map(|w| (w.workspace.id.as_str(), w.open()))
        .collect();
    assert_eq!(
        open,
        [
            ("legal_info", true),
            ("verification", true),
            ("membership", false),
            ("membership_offers", false),
            ("users", true),
            ("referrals", false),
            ("incentives", false),
            ("customers", false),
            ("marketplace_offers", false),
            ("support", true),
        ]
    );
}

#[test]
fn allowed_decision_does_not_allocate() {
    let s = healthy();
    let decision = decide(
        catalog(),
        &s.tenant,
        &s.user,
        action("membership_offers.buy"),
        s.now,
    );
    assert!(decision.allowed());
    assert_eq!(decision.unmet.capacity(), 0);
}

#[test]
fn seed_explanations() {
    let s = seed();
    let mut text = String::new();
    for id in [
        "membership.view",
        "membership_offers.buy",
        "users.manage_roles",
        "legal_info.view",
    ] {
        let decision = decide(catalog(), &s.tenant, &s.user, action(id), s.now);
        text.push_str(&decision.explain(catalog()));
    }
    insta::assert_snapshot!(text);
}

#[test]
fn fixed_by_text_reads_as_a_list() {
    assert_eq!(
        fixed_by_text(catalog(), &requirement("maicpp_enrollment_active").fixed_by),
        "a Global Admin or Microsoft AI Cloud Partner Program partner admin or support"
    );
    assert_eq!(
        fixed_by_text(
            catalog(),
            &requirement("maicpp_verification_authorized").fixed_by
        ),
        "the primary contact or support"
    );
    assert_eq!(
        fixed_by_text(catalog(), &requirement("maicpp_appeals_left").fixed_by),
        "support"
    );
}

// -------------------------------------------------------------- properties

/// Random tenant and user over the default catalog.
fn arb_scenario() -> impl Strategy<Value = Scenario> {
    let n_programs = catalog().programs.len();
    let record = (
        0..EnrollmentStatus::ALL.len(),
        0..VerificationStatus::ALL.len(),
        0u8..=3,
    );
    (
        prop::collection::vec(prop::option::of(record), n_programs),
        any::<u64>(),
        prop::option::of(0u32..=100),
        prop::collection::vec(prop::option::of(-400i64..400), catalog().offers.len()),
        any::<bool>(),
    )
        .prop_map(move |(records, bits, score, memberships, is_contact)| {
            let now: Timestamp = "2026-11-24T10:00:00Z".parse().expect("timestamp");
            let mut tenant = crate::state::Tenant::new("t", "US");
            for (i, r) in records.into_iter().enumerate() {
                if let Some((e, v, appeals)) = r {
                    tenant.programs.push(ProgramRecord {
                        program: ProgramIx(u16::try_from(i).expect("few programs")),
                        enrollment: EnrollmentStatus::ALL[e],
                        verification: Verification {
                            status: VerificationStatus::ALL[v],
                            submitted_at: Some(now),
                            action_required: false,
                            reason: None,
                            documents_requested: Vec::new(),
                            appeals_used: appeals,
                            appeals: Vec::new(),
                            overdue: false,
                            escalated_case: None,
                        },
                    });
                }
            }
            for (i, days) in memberships.into_iter().enumerate() {
                if let Some(days) = days {
                    tenant.memberships.push(Membership {
                        offer: OfferIx(u16::try_from(i).expect("few offers")),
                        expires_at: now + SignedDuration::from_hours(days * 24),
                    });
                }
            }
            // Spread the random bits over roles, profiles and agreements.
            let take = |shift: u32, count: usize| bits >> shift & ((1u64 << count) - 1);
            let roles = take(0, catalog().roles.len());
            let profiles = take(16, catalog().profiles.len());
            let agreements = take(24, catalog().agreements.len());
            tenant.profiles = (0..catalog().profiles.len())
                .filter(|i| profiles >> i & 1 == 1)
                .map(|i| crate::catalog::ProfileIx(u16::try_from(i).expect("few")))
                .collect();
            tenant.agreements = (0..catalog().agreements.len())
                .filter(|i| agreements >> i & 1 == 1)
                .map(|i| crate::catalog::AgreementIx(u16::try_from(i).expect("few")))
                .collect();
            tenant.capability_score = score;
            let user = crate::state::User {
                id: "u".into(),
                roles: (0..catalog().roles.len())
                    .filter(|i| roles >> i & 1 == 1)
                    .map(|i| RoleIx(u16::try_from(i).expect("few")))
                    .collect(),
            };
            tenant.primary_contact = Some(if is_contact { "u" } else { "someone_else" }.into());
            tenant.users.push(user.clone());
            Scenario { now, tenant, user }
        })
}

fn arb_action() -> impl Strategy<Value = ActionIx> {
    (0..catalog().actions.len()).prop_map(|i| ActionIx(u16::try_from(i).expect("few actions")))
}

fn indices(decision: &Decision<'_>) -> Vec<RequirementIx> {
    decision.unmet.iter().map(|u| u.index).collect()
}

proptest! {
    #[test]
    fn allowed_iff_unmet_is_empty_and_unmet_follows_catalog_order(s in arb_scenario(), a in arb_action()) {
        let decision = decide(catalog(), &s.tenant, &s.user, a, s.now);
        prop_assert_eq!(decision.allowed(), decision.unmet.is_empty());
        // Every unmet entry is one of the action's requirements, in order, once,
        // and every requirement left out of it is met.
        let all = &catalog().action(a).all_requirements;
        let unmet = indices(&decision);
        let expected: Vec<RequirementIx> = all
            .iter()
            .copied()
            .filter(|ix| !is_met(catalog(), &catalog().requirement(*ix).kind, &s.tenant, &s.user, s.now))
            .collect();
        prop_assert_eq!(&unmet, &expected);
        for u in &decision.unmet {
            prop_assert!(std::ptr::eq(u.requirement, catalog().requirement(u.index)));
        }
    }

    #[test]
    fn granting_a_role_never_adds_an_unmet_requirement(
        s in arb_scenario(),
        a in arb_action(),
        r in 0..catalog().roles.len(),
    ) {
        let before = indices(&decide(catalog(), &s.tenant, &s.user, a, s.now));
        let mut user = s.user.clone();
        user.roles.insert(RoleIx(u16::try_from(r).expect("few roles")));
        let after = indices(&decide(catalog(), &s.tenant, &user, a, s.now));
        for ix in &after {
            prop_assert!(before.contains(ix), "granting added {:?}", ix);
        }
    }

    #[test]
    fn satisfying_a_requirement_removes_exactly_that_entry(s in arb_scenario(), a in arb_action(), pick in any::<prop::sample::Index>()) {
        let decision = decide(catalog(), &s.tenant, &s.user, a, s.now);
        prop_assume!(!decision.unmet.is_empty());
        let target = decision.unmet[pick.index(decision.unmet.len())];
        let mut fixed = s.clone();
        // The state change a person would make to satisfy it; the requirements
        // that read the same field may change with it and are not compared.
        let same_field = |other: &RequirementKind| -> bool {
            match (&target.requirement.kind, other) {
                (RequirementKind::Enrollment { program: p, .. }, RequirementKind::Enrollment { program: q, .. })
                | (RequirementKind::Verification { program: p, .. }, RequirementKind::Verification { program: q, .. }) => p == q,
                (RequirementKind::CapabilityScoreAtLeast { .. }, RequirementKind::CapabilityScoreAtLeast { .. }) => true,
                _ => false,
            }
        };
        match &target.requirement.kind {
            RequirementKind::AnyRole(roles) => {
                fixed.user.roles.insert(roles.iter().next().expect("non-empty role list"));
            }
            RequirementKind::Profile(p) => fixed.tenant.profiles.insert(*p),
            RequirementKind::Agreement(g) => fixed.tenant.agreements.insert(*g),
            RequirementKind::CapabilityScoreAtLeast { min } => fixed.tenant.capability_score = Some(*min),
            RequirementKind::Enrollment { program, statuses } => {
                let record = fixed.tenant.programs.iter_mut().find(|r| r.program == *program);
                // Creating a record changes other requirements on the program.
                prop_assume!(record.is_some());
                record.expect("assumed").enrollment = statuses[0];
            }
            RequirementKind::Verification { program, statuses } => {
                let record = fixed.tenant.programs.iter_mut().find(|r| r.program == *program);
                prop_assume!(record.is_some());
                record.expect("assumed").verification.status = statuses[0];
            }
            _ => prop_assume!(false),
        }
        let after = decide(catalog(), &fixed.tenant, &fixed.user, a, fixed.now);
        let kinds = |d: &Decision<'_>| -> Vec<RequirementIx> {
            d.unmet
                .iter()
                .filter(|u| u.index == target.index || !same_field(&u.requirement.kind))
                .map(|u| u.index)
                .collect()
        };
        let mut expected = kinds(&decision);
        expected.retain(|ix| *ix != target.index);
        prop_assert_eq!(kinds(&after), expected);
    }
}
