//! The Cedar translation on hand-picked cases of the default catalog: the
//! policies' ids and annotations, the seed's own case, and the edges of the
//! membership rules.

use std::collections::BTreeSet;

use clearance_cedar::cedar::{CedarCatalog, PERMIT_ID};
use clearance_cedar::rego::RegoCatalog;
use clearance_core::state::{Membership, ProgramRecord, Verification};
use clearance_core::{Catalog, EnrollmentStatus, Tenant, User, VerificationStatus, decide};
use jiff::{SignedDuration, Timestamp};

fn now() -> Timestamp {
    "2026-11-24T10:00:00Z".parse().expect("a valid timestamp")
}

fn record(
    catalog: &Catalog,
    program: &str,
    enrollment: EnrollmentStatus,
    status: VerificationStatus,
) -> ProgramRecord {
    ProgramRecord {
        program: catalog.program_ix(program).expect("a default program"),
        enrollment,
        verification: Verification {
            status,
            submitted_at: None,
            action_required: false,
            reason: None,
            documents_requested: Vec::new(),
            appeals_used: 0,
            appeals: Vec::new(),
            overdue: false,
            escalated_case: None,
        },
    }
}

fn user(catalog: &Catalog, roles: &[&str]) -> User {
    User {
        id: "alice".to_string(),
        roles: roles
            .iter()
            .map(|r| catalog.role_ix(r).expect("a default role"))
            .collect(),
    }
}

/// Cedar's and regorus's unmet ids, after checking Cedar reported no error.
fn unmet_by_rivals(
    catalog: &Catalog,
    tenant: &Tenant,
    user: &User,
    action: &str,
    now: Timestamp,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let action = catalog.action_ix(action).expect("a default action");
    let cedar = CedarCatalog::translate(catalog).expect("translates");
    let case = cedar
        .case(catalog, tenant, user)
        .expect("the tenant translates");
    let by_cedar = cedar.decide(&case, action, now).expect("Cedar answers");
    assert!(by_cedar.errors.is_empty(), "{:?}", by_cedar.errors);
    assert_eq!(by_cedar.allowed, by_cedar.unmet.is_empty());
    let mut rego = RegoCatalog::translate(catalog).expect("loads");
    let by_rego = rego
        .unmet(&RegoCatalog::case(catalog, tenant, user), action, now)
        .expect("regorus answers");
    (by_cedar.unmet, by_rego)
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_policy_id_is_a_requirement_id_and_its_id_annotation() {
    let catalog = Catalog::partner_center();
    let cedar = CedarCatalog::translate(catalog).expect("translates");
    let mut seen = 0;
    for policy in cedar.policies().policies() {
        let id = policy.id().to_string();
        assert_eq!(policy.annotation("id"), Some(id.as_str()));
        if id == PERMIT_ID {
            assert_eq!(policy.effect(), cedar_policy::Effect::Permit);
        } else {
            assert_eq!(policy.effect(), cedar_policy::Effect::Forbid);
            assert!(
                catalog.requirement_ix(&id).is_some(),
                "`{id}` is no requirement"
            );
            seen += 1;
        }
    }
    // Every requirement of the default catalog is needed by some action.
    assert_eq!(seen, catalog.requirements.len());
}

#[test]
fn the_seeds_case_is_denied_by_enrollment_and_verification_not_roles() {
    let catalog = Catalog::partner_center();
    let mut tenant = Tenant::new("contoso", "US");
    tenant.programs.push(record(
        catalog,
        "maicpp",
        EnrollmentStatus::PendingQualification,
        VerificationStatus::Pending,
    ));
    let alice = user(catalog, &["global_admin", "maicpp_partner_admin"]);
    let (cedar, rego) = unmet_by_rivals(catalog, &tenant, &alice, "membership.view", now());
    let expected = ids(&["maicpp_enrollment_active", "maicpp_verification_authorized"]);
    assert_eq!(cedar, expected);
    assert_eq!(rego, expected);
    let (cedar, _) = unmet_by_rivals(catalog, &tenant, &alice, "membership_offers.buy", now());
    assert_eq!(
        cedar,
        ids(&[
            "maicpp_enrollment_active",
            "maicpp_verification_authorized",
            "payment_profile_complete",
            "tax_profile_complete"
        ])
    );
    let (cedar, _) = unmet_by_rivals(catalog, &tenant, &alice, "users.manage_roles", now());
    assert_eq!(cedar, ids(&["maicpp_verification_authorized"]));
}

#[test]
fn renewal_opens_exactly_at_the_window_and_closes_at_expiry() {
    let catalog = Catalog::partner_center();
    let mut tenant = Tenant::new("contoso", "US");
    tenant.programs.push(record(
        catalog,
        "maicpp",
        EnrollmentStatus::Active,
        VerificationStatus::Authorized,
    ));
    tenant.profiles = ["payment", "tax"]
        .iter()
        .map(|p| catalog.profile_ix(p).expect("a default profile"))
        .collect();
    let admin = user(catalog, &["maicpp_partner_admin"]);
    let offer = catalog
        .offer_ix("maicpp_core_benefits")
        .expect("a default offer");
    let window =
        SignedDuration::from_hours(24 * i64::from(catalog.offer(offer).renewal_window_days));
    let second = SignedDuration::from_secs(1);
    let renew = catalog
        .action_ix("membership_offers.renew")
        .expect("a default action");
    let outside = ids(&["core_membership_in_renewal_window"]);
    for (expires_at, unmet) in [
        (now() + window, BTreeSet::new()),
        (now() + window + second, outside.clone()),
        (now() + second, BTreeSet::new()),
        (now(), outside.clone()),
    ] {
        tenant.memberships = vec![Membership { offer, expires_at }];
        let by_clearance: BTreeSet<String> = decide(catalog, &tenant, &admin, renew, now())
            .unmet
            .iter()
            .map(|u| u.requirement.id.clone())
            .collect();
        assert_eq!(by_clearance, unmet, "clearance, expiry {expires_at}");
        let (cedar, rego) =
            unmet_by_rivals(catalog, &tenant, &admin, "membership_offers.renew", now());
        assert_eq!(cedar, unmet, "Cedar, expiry {expires_at}");
        assert_eq!(rego, unmet, "regorus, expiry {expires_at}");
    }
}

#[test]
fn a_membership_is_active_until_the_moment_it_expires() {
    let catalog = Catalog::partner_center();
    let mut tenant = Tenant::new("contoso", "US");
    tenant.programs.push(record(
        catalog,
        "maicpp",
        EnrollmentStatus::Active,
        VerificationStatus::Authorized,
    ));
    let admin = user(catalog, &["maicpp_partner_admin"]);
    let offer = catalog
        .offer_ix("maicpp_core_benefits")
        .expect("a default offer");
    let active = ids(&[
        "no_active_core_membership",
        "payment_profile_complete",
        "tax_profile_complete",
    ]);
    let inactive = ids(&["payment_profile_complete", "tax_profile_complete"]);
    for (expires_at, unmet) in [
        (now() + SignedDuration::from_secs(1), active),
        (now(), inactive.clone()),
        (now() - SignedDuration::from_secs(1), inactive),
    ] {
        tenant.memberships = vec![Membership { offer, expires_at }];
        let (cedar, rego) =
            unmet_by_rivals(catalog, &tenant, &admin, "membership_offers.buy", now());
        assert_eq!(cedar, unmet, "Cedar, expiry {expires_at}");
        assert_eq!(rego, unmet, "regorus, expiry {expires_at}");
    }
}

#[test]
fn a_finer_than_millisecond_moment_is_refused_not_rounded() {
    let catalog = Catalog::partner_center();
    let cedar = CedarCatalog::translate(catalog).expect("translates");
    let at = now() + SignedDuration::from_nanos(1);
    assert!(matches!(
        cedar.context(at),
        Err(clearance_cedar::TranslateError::SubMillisecond(t)) if t == at
    ));
}
