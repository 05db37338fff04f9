//! Differential test: clearance's `decide` against Cedar (the oracle) and
//! regorus, over generated (tenant, user, action) cases on the default catalog
//! and on random catalogs built through `Catalog::from_toml`.
//!
//! All three must agree on allowed/denied and on the set of unmet requirement
//! ids. The number of cases is `CLEARANCE_DIFF_CASES` (default 5,000), split
//! between the default catalog and random catalogs; `scripts/bench-rivals`
//! runs 100,000. On a disagreement, proptest shrinks the input and prints the
//! smallest case found: the catalog as TOML, the tenant, the user, the action
//! and each engine's answer.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use clearance_cedar::action_ixs;
use clearance_cedar::cedar::CedarCatalog;
use clearance_cedar::generate::{
    ActionSpec, CatalogSpec, Expiry, OfferSpec, RequirementSpec, TenantSpec, WorkspaceSpec,
};
use clearance_cedar::rego::RegoCatalog;
use clearance_core::{Catalog, decide};
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// `cases` runs, shrinking a failure as far as it goes, writing no
/// regression file into the source tree.
fn config(cases: u32) -> Config {
    Config {
        cases,
        max_shrink_iters: 100_000,
        failure_persistence: None,
        ..Config::default()
    }
}

/// The number of (tenant, user, action) cases asked for in all.
fn cases_wanted() -> usize {
    match std::env::var("CLEARANCE_DIFF_CASES") {
        Ok(text) => text
            .replace(['_', ','], "")
            .parse()
            .expect("CLEARANCE_DIFF_CASES is a number of cases"),
        Err(_) => 5_000,
    }
}

/// Whole seconds from 2023-11-14 on, over about five years: Cedar's
/// datetimes count milliseconds, so generated moments stay whole.
fn now_strategy() -> impl Strategy<Value = Timestamp> {
    (0i64..160_000_000).prop_map(|s| Timestamp::from_second(1_700_000_000 + s).expect("in range"))
}

fn expiry_strategy() -> impl Strategy<Value = Expiry> {
    prop_oneof![
        (-400i64 * 86_400..400 * 86_400).prop_map(Expiry::FromNow),
        (-2i64..=2).prop_map(Expiry::FromNow),
        (-2i64..=2).prop_map(Expiry::FromWindowEdge),
    ]
}

fn tenant_strategy() -> impl Strategy<Value = TenantSpec> {
    (
        prop::collection::vec(prop::option::of((0u8..5, 0u8..6, 0u8..5)), 0..=3),
        any::<u64>(),
        any::<u64>(),
        prop::option::of(0u32..=110),
        prop::collection::vec(prop::option::of(expiry_strategy()), 0..=3),
        0u8..3,
        any::<u64>(),
    )
        .prop_map(
            |(
                programs,
                agreements,
                profiles,
                capability_score,
                memberships,
                primary_contact,
                roles,
            )| {
                TenantSpec {
                    programs,
                    agreements,
                    profiles,
                    capability_score,
                    memberships,
                    primary_contact,
                    roles,
                }
            },
        )
}

fn requirement_strategy() -> impl Strategy<Value = RequirementSpec> {
    prop_oneof![
        any::<u64>().prop_map(RequirementSpec::AnyRole),
        (0usize..3, any::<u8>()).prop_map(|(p, m)| RequirementSpec::Enrollment(p, m)),
        (0usize..3, any::<u8>()).prop_map(|(p, m)| RequirementSpec::Verification(p, m)),
        (0usize..3).prop_map(RequirementSpec::Agreement),
        (0usize..3).prop_map(RequirementSpec::Profile),
        (0u32..=100).prop_map(RequirementSpec::CapabilityScoreAtLeast),
        (0usize..3).prop_map(RequirementSpec::NoActiveMembership),
        (0usize..3).prop_map(RequirementSpec::MembershipInRenewalWindow),
        any::<u64>().prop_map(RequirementSpec::PrimaryContactOrRole),
        (0usize..3).prop_map(RequirementSpec::AppealsLeft),
    ]
}

fn catalog_strategy() -> impl Strategy<Value = CatalogSpec> {
    let sizes = (
        1usize..=8,
        1usize..=3,
        0usize..=3,
        0usize..=3,
        0u8..=4,
        any::<bool>(),
    );
    let offers = prop::collection::vec(
        (0usize..3, 0u32..=90, 0u32..=400).prop_map(|(program, window_days, extra_term_days)| {
            OfferSpec {
                program,
                window_days,
                extra_term_days,
            }
        }),
        0..=3,
    );
    let requirements = prop::collection::vec(requirement_strategy(), 1..=16);
    let workspaces = prop::collection::vec(
        (
            prop::option::of(0usize..8),
            prop::collection::vec(0usize..16, 0..=4),
        )
            .prop_map(|(parent, requires)| WorkspaceSpec { parent, requires }),
        1..=6,
    );
    let actions = prop::collection::vec(
        (0usize..6, prop::collection::vec(0usize..16, 0..=4)).prop_map(|(workspace, requires)| {
            ActionSpec {
                workspace,
                requires,
            }
        }),
        1..=10,
    );
    (sizes, offers, requirements, workspaces, actions).prop_map(
        |(
            (roles, programs, agreements, profiles, max_appeals, reverse),
            offers,
            requirements,
            workspaces,
            actions,
        )| {
            CatalogSpec {
                roles,
                programs,
                agreements,
                profiles,
                offers,
                max_appeals,
                requirements,
                workspaces,
                actions,
                reverse_workspaces: reverse,
            }
        },
    )
}

/// Compares the three engines on every action of `catalog` for one tenant
/// and user at `now`; returns how many cases were checked, or the first
/// disagreement, described.
fn compare(
    catalog: &Catalog,
    cedar: &CedarCatalog,
    rego: &mut RegoCatalog,
    spec: &TenantSpec,
    now: Timestamp,
) -> Result<usize, String> {
    let (tenant, user) = spec.build(catalog, now);
    let cedar_case = cedar
        .case(catalog, &tenant, &user)
        .map_err(|e| format!("translating the tenant: {e}"))?;
    let rego_case = RegoCatalog::case(catalog, &tenant, &user);
    let mut checked = 0;
    for action in action_ixs(catalog) {
        let decision = decide(catalog, &tenant, &user, action, now);
        let expected: BTreeSet<String> = decision
            .unmet
            .iter()
            .map(|u| u.requirement.id.clone())
            .collect();
        let by_cedar = cedar
            .decide(&cedar_case, action, now)
            .map_err(|e| format!("asking Cedar: {e}"))?;
        let by_rego = rego
            .unmet(&rego_case, action, now)
            .map_err(|e| format!("asking regorus: {e}"))?;
        let agree = by_cedar.errors.is_empty()
            && by_cedar.allowed == decision.allowed()
            && by_cedar.unmet == expected
            && by_rego == expected;
        if !agree {
            return Err(format!(
                "engines disagree on action `{action}` at {now}\n\
                 clearance: allowed={allowed} unmet={expected:?}\n\
                 cedar:     allowed={cedar_allowed} unmet={cedar_unmet:?} errors={errors:?}\n\
                 regorus:   unmet={by_rego:?}\n\
                 tenant: {tenant:#?}\nuser: {user:#?}",
                action = catalog.action(action).id,
                allowed = decision.allowed(),
                cedar_allowed = by_cedar.allowed,
                cedar_unmet = by_cedar.unmet,
                errors = by_cedar.errors,
            ));
        }
        checked += 1;
    }
    Ok(checked)
}

static DEFAULT_CASES: AtomicUsize = AtomicUsize::new(0);
static RANDOM_CASES: AtomicUsize = AtomicUsize::new(0);
static RANDOM_CATALOGS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn cedar_and_regorus_agree_with_decide_on_the_default_catalog() {
    let catalog = Catalog::partner_center();
    let cedar = CedarCatalog::translate(catalog).expect("the default catalog translates");
    let complaints = cedar.validate();
    assert!(complaints.is_empty(), "Cedar's validator: {complaints:#?}");
    let rego = RefCell::new(
        RegoCatalog::translate(catalog).expect("the default catalog loads into regorus"),
    );
    let per_case = catalog.actions.len();
    let runs = (cases_wanted() / 2).div_ceil(per_case) as u32;
    let started = std::time::Instant::now();
    proptest!(config(runs), |(spec in tenant_strategy(), now in now_strategy())| {
        match compare(catalog, &cedar, &mut rego.borrow_mut(), &spec, now) {
            Ok(n) => { DEFAULT_CASES.fetch_add(n, Ordering::Relaxed); }
            Err(disagreement) => prop_assert!(false, "{}", disagreement),
        }
    });
    eprintln!(
        "default catalog: {} cases agreed in {:.1?}",
        DEFAULT_CASES.load(Ordering::Relaxed),
        started.elapsed()
    );
}

/// Random catalogs have 1 to 10 actions (5.5 on average) and each is checked
/// for 8 tenants.
const TENANTS_PER_CATALOG: usize = 8;
const MEAN_ACTIONS: usize = 5;

#[test]
fn cedar_and_regorus_agree_with_decide_on_random_catalogs() {
    let runs = (cases_wanted() / 2).div_ceil(TENANTS_PER_CATALOG * MEAN_ACTIONS) as u32;
    let started = std::time::Instant::now();
    proptest!(config(runs), |(
        spec in catalog_strategy(),
        tenants in prop::collection::vec(tenant_strategy(), TENANTS_PER_CATALOG),
        now in now_strategy(),
    )| {
        let text = spec.to_toml();
        let catalog = match Catalog::from_toml("generated.toml", &text) {
            Ok(catalog) => catalog,
            Err(e) => return Err(TestCaseError::fail(format!("the loader refused a generated catalog: {e}\n{text}"))),
        };
        let cedar = CedarCatalog::translate(&catalog)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let complaints = cedar.validate();
        prop_assert!(complaints.is_empty(), "Cedar's validator: {:#?}\n{}\n{}", complaints, cedar.schema_text(), cedar.policies_text());
        let mut rego = RegoCatalog::translate(&catalog)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        RANDOM_CATALOGS.fetch_add(1, Ordering::Relaxed);
        for tenant in &tenants {
            match compare(&catalog, &cedar, &mut rego, tenant, now) {
                Ok(n) => { RANDOM_CASES.fetch_add(n, Ordering::Relaxed); }
                Err(disagreement) => prop_assert!(
                    false,
                    "{}\ncatalog:\n{}\nCedar policies:\n{}",
                    disagreement,
                    text,
                    cedar.policies_text()
                ),
            }
        }
    });
    eprintln!(
        "random catalogs: {} cases over {} catalogs agreed in {:.1?}",
        RANDOM_CASES.load(Ordering::Relaxed),
        RANDOM_CATALOGS.load(Ordering::Relaxed),
        started.elapsed()
    );
}
