//! The diagnosis of every state in `shared/domain.md`, as snapshots reviewed
//! like code, plus exact assertions of the step codes of each.

use clearance_core::diagnosis::{Diagnosis, StepCode, diagnose};
use clearance_core::scenario::Scenario;
use clearance_core::workflow::{Actor, Command, SupportRole, execute};
use clearance_core::{Catalog, Tenant};
use jiff::Timestamp;

use StepCode::*;

fn catalog() -> &'static Catalog {
    Catalog::partner_center()
}

/// A scenario for contoso (primary contact alice) at `now`, with extra tenant
/// keys, program tables and the acting user.
fn scenario(now: &str, tenant: &str, programs: &str, user: &str, roles: &str) -> Scenario {
    let text = format!(
        r#"now = "{now}"
[tenant]
id = "contoso"
country = "US"
primary_contact = "alice"
{tenant}
{programs}
[user]
id = "{user}"
roles = [{roles}]
"#
    );
    Scenario::from_toml(catalog(), "state.toml", &text)
        .unwrap_or_else(|e| panic!("scenario does not parse: {e}\n{text}"))
}

const ADMIN: &str = r#""global_admin", "maicpp_partner_admin""#;
const READY: &str = r#"profiles = ["payment", "tax"]
capability_score = 80"#;

fn diagnosis_of(s: &Scenario) -> Diagnosis {
    diagnose(catalog(), &s.tenant, &s.user, s.now)
}

/// The diagnosis as a person reads it.
fn render(d: &Diagnosis) -> String {
    let mut text = format!("cause: {}\n", d.cause);
    for (n, step) in d.steps.iter().enumerate() {
        text.push_str(&format!(
            "{}. {}\n   {}\n",
            n + 1,
            step.code.as_str(),
            step.text
        ));
    }
    text
}

fn check(name: &str, s: &Scenario, codes: &[StepCode]) -> Diagnosis {
    let d = diagnosis_of(s);
    assert_eq!(d.codes(), codes, "{name}:\n{}", render(&d));
    insta::assert_snapshot!(name, render(&d));
    d
}

fn maicpp(enrollment: &str, verification: &str, extra: &str) -> String {
    format!(
        r#"[tenant.programs.maicpp]
enrollment = "{enrollment}"
verification = "{verification}"
submitted_at = "2026-11-12T09:00:00Z"
{extra}"#
    )
}

#[test]
fn the_seeds_case_gives_exactly_the_seeds_steps() {
    // Pending qualification, pending for 8 business days, no banner, a Global
    // Admin and MAICPP partner admin: roles do not help.
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "pending", ""),
        "alice",
        ADMIN,
    );
    let d = check(
        "pending_past_sla",
        &s,
        &[CheckLegalInfo, ReviewVerificationSummary, ContactSupport],
    );
    assert!(
        d.cause.contains("past its 5-business-day SLA"),
        "{}",
        d.cause
    );
    assert!(
        d.step(ContactSupport)
            .is_some_and(|s| s.text.contains("due 2026-11-19"))
    );
}

#[test]
fn not_enrolled_asks_an_admin_to_verify_the_enrollment() {
    let s = scenario("2026-11-24T10:00:00Z", READY, "", "alice", ADMIN);
    check("not_enrolled", &s, &[VerifyEnrollment]);
}

#[test]
fn not_started_asks_to_submit_verification() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        r#"[tenant.programs.maicpp]
enrollment = "pending_qualification"
verification = "not_started""#,
        "alice",
        ADMIN,
    );
    check(
        "not_started",
        &s,
        &[CheckLegalInfo, ReviewVerificationSummary],
    );
}

#[test]
fn pending_inside_the_sla_gives_the_due_date() {
    let s = scenario(
        "2026-11-16T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "pending", ""),
        "alice",
        ADMIN,
    );
    let d = check(
        "pending_inside_sla",
        &s,
        &[
            CheckLegalInfo,
            ReviewVerificationSummary,
            WaitForVerification,
        ],
    );
    assert!(
        d.step(WaitForVerification)
            .is_some_and(|s| s.text.contains("due by 2026-11-19"))
    );
}

#[test]
fn pending_on_its_due_date_still_waits() {
    let s = scenario(
        "2026-11-19T20:00:00Z",
        READY,
        &maicpp("pending_qualification", "pending", ""),
        "alice",
        ADMIN,
    );
    assert_eq!(
        diagnosis_of(&s).codes(),
        [
            CheckLegalInfo,
            ReviewVerificationSummary,
            WaitForVerification
        ]
    );
}

#[test]
fn in_progress_inside_the_sla_waits() {
    let s = scenario(
        "2026-11-17T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "in_progress", ""),
        "alice",
        ADMIN,
    );
    check(
        "in_progress",
        &s,
        &[
            CheckLegalInfo,
            ReviewVerificationSummary,
            WaitForVerification,
        ],
    );
}

#[test]
fn in_progress_past_the_sla_goes_to_support() {
    let s = scenario(
        "2026-11-30T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "in_progress", ""),
        "alice",
        ADMIN,
    );
    assert_eq!(
        diagnosis_of(&s).codes(),
        [CheckLegalInfo, ReviewVerificationSummary, ContactSupport]
    );
}

#[test]
fn pending_past_the_sla_with_a_banner_answers_the_banner_not_support() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "pending", "action_required = true"),
        "alice",
        ADMIN,
    );
    assert_eq!(
        diagnosis_of(&s).codes(),
        [
            CheckLegalInfo,
            ReviewVerificationSummary,
            RespondToChallenge
        ]
    );
}

#[test]
fn challenged_answers_the_banner_with_the_reason_and_documents() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp(
            "pending_qualification",
            "challenged",
            r#"action_required = true
reason = "The address on file does not match the registration."
documents_requested = ["utility_bill", "bank_statement"]"#,
        ),
        "alice",
        ADMIN,
    );
    let d = check(
        "challenged",
        &s,
        &[
            CheckLegalInfo,
            ReviewVerificationSummary,
            RespondToChallenge,
        ],
    );
    let respond = d.step(RespondToChallenge).expect("respond");
    assert!(respond.text.contains("utility_bill, bank_statement"));
    assert!(respond.text.contains("does not match the registration"));
}

#[test]
fn challenged_with_no_appeals_left_goes_to_support() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp(
            "pending_qualification",
            "challenged",
            "action_required = true\nappeals_used = 3",
        ),
        "alice",
        ADMIN,
    );
    assert_eq!(
        diagnosis_of(&s).codes(),
        [CheckLegalInfo, ReviewVerificationSummary, ContactSupport]
    );
}

#[test]
fn rejected_with_appeals_left_says_how_many() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp(
            "pending_qualification",
            "rejected",
            r#"appeals_used = 1
reason = "The business registration could not be matched.""#,
        ),
        "alice",
        ADMIN,
    );
    let d = check(
        "rejected_with_appeals_left",
        &s,
        &[CheckLegalInfo, ReviewVerificationSummary, SubmitAppeal],
    );
    assert!(
        d.step(SubmitAppeal)
            .is_some_and(|s| s.text.contains("2 of 3 appeals are left"))
    );
}

#[test]
fn rejected_for_a_user_who_may_not_appeal_names_who_can() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "rejected", "appeals_used = 2"),
        "bob",
        r#""maicpp_partner_admin""#,
    );
    let d = check(
        "rejected_seen_by_another_admin",
        &s,
        &[CheckLegalInfo, ReviewVerificationSummary, SubmitAppeal],
    );
    let appeal = d.step(SubmitAppeal).expect("appeal");
    assert!(
        appeal.text.contains("Only the primary contact (alice)"),
        "{}",
        appeal.text
    );
    assert!(
        appeal.text.contains("1 of 3 appeals is left"),
        "{}",
        appeal.text
    );
}

#[test]
fn rejected_with_no_appeals_left_goes_to_support() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "rejected", "appeals_used = 3"),
        "alice",
        ADMIN,
    );
    check(
        "rejected_no_appeals_left",
        &s,
        &[CheckLegalInfo, ReviewVerificationSummary, ContactSupport],
    );
}

#[test]
fn authorized_and_active_without_the_role_asks_for_it_then_a_new_sign_in() {
    let s = scenario(
        "2026-12-01T10:00:00Z",
        READY,
        &maicpp("active", "authorized", ""),
        "carol",
        r#""account_admin""#,
    );
    let d = check("authorized_missing_role", &s, &[AssignRole, SignInAgain]);
    assert!(
        d.step(AssignRole)
            .is_some_and(|s| s.text.contains("Membership"))
    );
}

#[test]
fn authorized_but_still_pending_qualification_goes_to_support() {
    let s = scenario(
        "2026-12-01T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "authorized", ""),
        "alice",
        ADMIN,
    );
    check(
        "authorized_not_active",
        &s,
        &[CheckLegalInfo, ContactSupport],
    );
}

#[test]
fn a_suspended_enrollment_goes_to_support() {
    let s = scenario(
        "2026-12-01T10:00:00Z",
        READY,
        &maicpp("suspended", "authorized", ""),
        "alice",
        ADMIN,
    );
    assert_eq!(diagnosis_of(&s).codes(), [CheckLegalInfo, ContactSupport]);
}

#[test]
fn a_closed_enrollment_needs_a_new_enrollment() {
    let s = scenario(
        "2026-12-01T10:00:00Z",
        READY,
        &maicpp("closed", "authorized", ""),
        "alice",
        ADMIN,
    );
    assert_eq!(diagnosis_of(&s).codes(), [CheckLegalInfo, VerifyEnrollment]);
}

#[test]
fn a_missing_agreement_is_named() {
    // MAICPP is fine; CSP is authorized and active but the MPA is not accepted.
    let programs = format!(
        "{}\n[tenant.programs.csp]\nenrollment = \"active\"\nverification = \"authorized\"\nsubmitted_at = \"2026-11-12T09:00:00Z\"\n",
        maicpp("active", "authorized", "")
    );
    let s = scenario("2026-12-01T10:00:00Z", READY, &programs, "alice", ADMIN);
    let d = check("missing_agreement", &s, &[AcceptAgreement]);
    assert!(
        d.cause.contains("Microsoft Partner Agreement"),
        "{}",
        d.cause
    );
}

#[test]
fn a_missing_profile_disables_buy_and_explains_why() {
    let s = scenario(
        "2026-12-01T10:00:00Z",
        r#"profiles = ["tax"]
capability_score = 80"#,
        &maicpp("active", "authorized", ""),
        "alice",
        ADMIN,
    );
    let d = check(
        "missing_profile",
        &s,
        &[CompleteProfile, ExplainDisabledPurchase],
    );
    let explain = d.step(ExplainDisabledPurchase).expect("explain");
    assert!(
        explain
            .text
            .contains("The payment profile is not complete.")
    );
}

#[test]
fn a_low_capability_score_explains_the_disabled_expanded_offer() {
    let s = scenario(
        "2026-12-01T10:00:00Z",
        r#"profiles = ["payment", "tax"]
capability_score = 55"#,
        &maicpp("active", "authorized", ""),
        "alice",
        ADMIN,
    );
    let d = check("low_capability_score", &s, &[ExplainDisabledPurchase]);
    let explain = d.step(ExplainDisabledPurchase).expect("explain");
    assert!(explain.text.contains("at least 70"), "{}", explain.text);
    assert!(
        !explain.text.contains("Core Benefits is disabled"),
        "{}",
        explain.text
    );
}

#[test]
fn healthy_has_no_steps() {
    let s = scenario(
        "2026-12-01T10:00:00Z",
        READY,
        &maicpp("active", "authorized", ""),
        "alice",
        ADMIN,
    );
    let d = check("healthy", &s, &[]);
    assert!(d.cause.starts_with("Nothing blocks alice"), "{}", d.cause);
}

#[test]
fn a_membership_that_only_waits_for_its_renewal_window_is_not_a_problem() {
    let s = scenario(
        "2026-12-01T10:00:00Z",
        &format!(
            "{READY}\n[[tenant.memberships]]\noffer = \"maicpp_core_benefits\"\nexpires_at = \"2027-11-01T00:00:00Z\""
        ),
        &maicpp("active", "authorized", ""),
        "alice",
        ADMIN,
    );
    assert_eq!(diagnosis_of(&s).codes(), []);
}

#[test]
fn a_user_who_cannot_open_legal_info_is_told_whom_to_ask() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "pending", ""),
        "dan",
        r#""maicpp_partner_admin""#,
    );
    let d = diagnosis_of(&s);
    assert_eq!(
        d.codes(),
        [CheckLegalInfo, ReviewVerificationSummary, ContactSupport]
    );
    let legal = d.step(CheckLegalInfo).expect("legal info");
    assert!(
        legal.text.contains("dan cannot open Legal Info"),
        "{}",
        legal.text
    );
}

/// The seed's story through the workflow: stuck, escalated, authorized by
/// support; access is restored and the user is told to sign in again.
#[test]
fn access_restored_by_support_asks_to_sign_in_again() {
    let agent = Actor::Support {
        id: "sam".into(),
        role: SupportRole::SupportAgent,
    };
    let admin = Actor::Support {
        id: "ada".into(),
        role: SupportRole::SupportAdmin,
    };
    let alice = Actor::Partner {
        user: "alice".into(),
    };
    let maicpp = || "maicpp".to_owned();
    let steps: Vec<(Actor, Command, &str)> = vec![
        (
            admin,
            Command::CreateTenant {
                country: "US".into(),
                admin: "alice".into(),
                roles: vec!["global_admin".into(), "maicpp_partner_admin".into()],
            },
            "2026-11-02T09:00:00Z",
        ),
        (
            alice.clone(),
            Command::Enroll { program: maicpp() },
            "2026-11-02T09:00:00Z",
        ),
        (
            alice.clone(),
            Command::SubmitVerification { program: maicpp() },
            "2026-11-12T09:00:00Z",
        ),
        (
            alice.clone(),
            Command::UpdateProfile {
                profile: "payment".into(),
                complete: true,
            },
            "2026-11-12T09:00:00Z",
        ),
        (
            alice.clone(),
            Command::UpdateProfile {
                profile: "tax".into(),
                complete: true,
            },
            "2026-11-12T09:00:00Z",
        ),
        (
            alice,
            Command::Escalate { program: maicpp() },
            "2026-11-24T10:00:00Z",
        ),
        (
            agent.clone(),
            Command::Authorize { program: maicpp() },
            "2026-11-25T10:00:00Z",
        ),
        (
            agent,
            Command::UpdateCapabilityScore { score: 75 },
            "2026-11-25T10:00:00Z",
        ),
    ];
    let mut tenant = Tenant::new("contoso", "");
    let mut stuck = None;
    for (actor, command, at) in steps {
        let at: Timestamp = at.parse().expect("time");
        if matches!(command, Command::Authorize { .. }) {
            stuck = Some(tenant.clone());
        }
        for event in execute(catalog(), &tenant, &actor, &command, at).expect("accepted") {
            tenant.apply(catalog(), &event, at).expect("fold");
        }
    }
    let now: Timestamp = "2026-11-25T11:00:00Z".parse().expect("now");
    let alice = tenant.user("alice").expect("alice").clone();

    let before = diagnose(catalog(), &stuck.expect("stuck state"), &alice, now);
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
    assert_eq!(after.codes(), [SignInAgain], "{}", render(&after));
    insta::assert_snapshot!("access_restored", render(&after));

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
fn steps_come_in_the_seeds_order_and_each_code_once() {
    // Two programs in trouble at once: MAICPP rejected, CSP pending past its SLA.
    let programs = format!(
        "{}\n[tenant.programs.csp]\nenrollment = \"pending_qualification\"\nverification = \"pending\"\nsubmitted_at = \"2026-11-02T09:00:00Z\"\n",
        maicpp("pending_qualification", "rejected", "appeals_used = 1")
    );
    let s = scenario("2026-11-24T10:00:00Z", READY, &programs, "alice", ADMIN);
    let d = diagnosis_of(&s);
    assert_eq!(
        d.codes(),
        [
            CheckLegalInfo,
            ReviewVerificationSummary,
            SubmitAppeal,
            ContactSupport,
            AcceptAgreement
        ],
        "{}",
        render(&d)
    );
    let legal = d.step(CheckLegalInfo).expect("legal info");
    assert!(legal.text.contains("Microsoft AI Cloud Partner Program"));
    assert!(legal.text.contains("Cloud Solution Provider"));
    // The cause is about the catalog's first program.
    assert!(
        d.cause.starts_with("Microsoft AI Cloud Partner Program"),
        "{}",
        d.cause
    );
}

#[test]
fn diagnosis_serializes_with_stable_codes() {
    let s = scenario(
        "2026-11-24T10:00:00Z",
        READY,
        &maicpp("pending_qualification", "pending", ""),
        "alice",
        ADMIN,
    );
    let json = serde_json::to_value(diagnosis_of(&s)).expect("json");
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
