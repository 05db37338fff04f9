//! Diagnosis beyond single states (those are the states corpus,
//! `corpus/states/`, run by `tests/states.rs`): a journey through the workflow
//! and the wire form of the step codes.

use clearance_core::Catalog;
use clearance_core::journey::Journey;
use clearance_core::workflow::{Actor, Command, SupportRole, execute};
use clearance_core::{StepCode, diagnose};
use clearance_testkit::render_diagnosis;
use jiff::Timestamp;

use StepCode::*;

fn catalog() -> &'static Catalog {
    Catalog::partner_center()
}

/// The seed's story through the workflow: stuck, escalated, authorized by
/// support; access is restored and the user is told to sign in again.
#[test]
fn access_restored_by_support_asks_to_sign_in_again() {
    let journey = Journey::from_toml(
        "contoso-support-authorizes.toml",
        include_str!("../../../corpus/journeys/contoso-support-authorizes.toml"),
    )
    .expect("the journey parses");
    let authorize = journey
        .steps
        .iter()
        .position(|step| matches!(step.command, Command::Authorize { .. }))
        .expect("support authorizes");
    // Every moment in the journey is fixed, so the anchor does not matter.
    let anchor: Timestamp = "2026-11-25T11:00:00Z".parse().expect("anchor");
    let stuck = journey
        .replay_first(catalog(), anchor, authorize)
        .expect("accepted")
        .tenant;
    let mut tenant = journey.replay(catalog(), anchor).expect("accepted").tenant;
    let now: Timestamp = "2026-11-25T11:00:00Z".parse().expect("now");
    let alice = tenant.user("alice").expect("alice").clone();

    let before = diagnose(catalog(), &stuck, &alice, now);
    assert_eq!(
        before.codes(),
        [CheckLegalInfo, ReviewVerificationSummary, ContactSupport]
    );
    assert!(
        before
            .step(ContactSupport)
            .is_some_and(|s| s.text.contains("case-1 is open"))
    );

    let after = diagnose(catalog(), &tenant, &alice, now);
    assert_eq!(after.codes(), [SignInAgain], "{}", render_diagnosis(&after));
    insta::assert_snapshot!("access_restored", render_diagnosis(&after));

    // Once support resolves the case, nothing is left to say.
    let resolve = Command::ResolveCase {
        case: "case-1".into(),
        resolution: "Vetting authorized; MAICPP is active.".into(),
    };
    let support = Actor::Support {
        id: "sam".into(),
        role: SupportRole::SupportAgent,
    };
    for event in execute(catalog(), &tenant, &support, &resolve, now).expect("resolve") {
        tenant.apply(catalog(), &event, now).expect("fold");
    }
    assert_eq!(diagnose(catalog(), &tenant, &alice, now).codes(), []);
}

#[test]
fn diagnosis_serializes_with_stable_codes() {
    let s = clearance_testkit::seed();
    let json = serde_json::to_value(diagnose(catalog(), &s.tenant, &s.user, s.now)).expect("json");
    let codes: Vec<&str> = json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "check_legal_info",
            "review_verification_summary",
            "contact_support"
        ]
    );
    for code in StepCode::ALL {
        assert_eq!(
            serde_json::to_value(code).expect("json"),
            serde_json::Value::from(code.as_str())
        );
    }
}
