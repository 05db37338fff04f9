//! clearance's `decide` against Cedar and regorus, same inputs, one run.
//!
//! Per iteration:
//! - clearance: `decide(catalog, tenant, user, action, now)`, which returns
//!   the decision with every unmet requirement (a reference to its reason,
//!   who can fix it and the next step);
//! - Cedar: `Request::new` (principal, action and resource uids and the
//!   context cloned from values built once per case) and
//!   `Authorizer::is_authorized` over entities built once per case, as a
//!   decision point with a cached entity store would; the response holds the
//!   decision and the ids of the deciding policies (the unmet requirements);
//! - regorus: the input object built from values made once per case (action,
//!   now, tenant, user), `set_input` and `eval_rule("data.clearance.unmet")`,
//!   which returns the set of unmet requirement ids.
//!
//! Cases: the default catalog's `membership_offers.buy` for a healthy tenant
//! (allowed, 6 requirements checked) and for the seed's tenant (denied, 4 of
//! 6 unmet); a synthetic catalog of 500 actions (`CatalogSpec::synthetic`),
//! its action with the most requirements, for a healthy tenant (allowed) and
//! an empty one (denied, everything unmet). Batch: every action of the
//! catalog for one user, clearance's `access` against one request per action.

use std::hint::black_box;
use std::time::Duration;

use clearance_cedar::cedar::CedarCatalog;
use clearance_cedar::generate::{CatalogSpec, TenantSpec};
use clearance_cedar::rego::RegoCatalog;
use clearance_cedar::{action_ixs, profile_set, role_set};
use clearance_core::catalog::ActionIx;
use clearance_core::decision::access;
use clearance_core::state::{ProgramRecord, Verification};
use clearance_core::{Catalog, EnrollmentStatus, Tenant, User, VerificationStatus, decide};
use criterion::measurement::Measurement;
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;

/// One catalog in the three engines.
struct Engines<'c> {
    catalog: &'c Catalog,
    cedar: CedarCatalog,
    rego: RegoCatalog,
}

/// One (tenant, user, action, now) in the three engines' forms.
struct Case {
    tenant: Tenant,
    user: User,
    action: ActionIx,
    now: Timestamp,
}

fn now() -> Timestamp {
    "2026-11-24T10:00:00Z".parse().expect("a valid timestamp")
}

/// The seed's tenant: MAICPP pending qualification, verification pending,
/// no profile; its admin holds Global Admin and MAICPP partner admin.
fn seed_tenant(catalog: &Catalog) -> (Tenant, User) {
    let mut tenant = Tenant::new("contoso", "US");
    tenant.primary_contact = Some("alice".to_string());
    tenant.capability_score = Some(55);
    let maicpp = catalog
        .program_ix("maicpp")
        .expect("the default catalog has maicpp");
    tenant.programs.push(ProgramRecord {
        program: maicpp,
        enrollment: EnrollmentStatus::PendingQualification,
        verification: Verification {
            status: VerificationStatus::Pending,
            submitted_at: Some("2026-11-12T09:00:00Z".parse().expect("a valid timestamp")),
            action_required: false,
            reason: None,
            documents_requested: Vec::new(),
            appeals_used: 0,
            appeals: Vec::new(),
            overdue: false,
            escalated_case: None,
        },
    });
    let user = User {
        id: "alice".to_string(),
        roles: ["global_admin", "maicpp_partner_admin"]
            .iter()
            .map(|r| catalog.role_ix(r).expect("a default role"))
            .collect(),
    };
    tenant.users.push(user.clone());
    (tenant, user)
}

impl<'c> Engines<'c> {
    fn new(catalog: &'c Catalog) -> Self {
        Engines {
            catalog,
            cedar: CedarCatalog::translate(catalog).expect("the catalog translates to Cedar"),
            rego: RegoCatalog::translate(catalog).expect("the catalog loads into regorus"),
        }
    }

    /// Checks that the three engines give the same answer for `case`, so
    /// that they are measured doing the same work; returns the unmet count.
    fn agree(&mut self, case: &Case) -> usize {
        let decision = decide(
            self.catalog,
            &case.tenant,
            &case.user,
            case.action,
            case.now,
        );
        let expected: std::collections::BTreeSet<String> = decision
            .unmet
            .iter()
            .map(|u| u.requirement.id.clone())
            .collect();
        let cedar_case = self
            .cedar
            .case(self.catalog, &case.tenant, &case.user)
            .expect("the tenant translates");
        let by_cedar = self
            .cedar
            .decide(&cedar_case, case.action, case.now)
            .expect("Cedar answers");
        assert!(by_cedar.errors.is_empty(), "Cedar: {:?}", by_cedar.errors);
        assert_eq!(by_cedar.unmet, expected, "Cedar disagrees");
        assert_eq!(by_cedar.allowed, decision.allowed(), "Cedar disagrees");
        let rego_case = RegoCatalog::case(self.catalog, &case.tenant, &case.user);
        let by_rego = self
            .rego
            .unmet(&rego_case, case.action, case.now)
            .expect("regorus answers");
        assert_eq!(by_rego, expected, "regorus disagrees");
        expected.len()
    }

    /// One case, three engines, in one criterion group.
    fn bench_case<M: Measurement + 'static>(
        &mut self,
        c: &mut Criterion<M>,
        group: &str,
        case: &Case,
    ) {
        let unmet = self.agree(case);
        let catalog = self.catalog;
        let cedar_case = self
            .cedar
            .case(catalog, &case.tenant, &case.user)
            .expect("the tenant translates");
        let context = self
            .cedar
            .context(case.now)
            .expect("a whole-millisecond now");
        let rego_case = RegoCatalog::case(catalog, &case.tenant, &case.user);
        let rego_now = RegoCatalog::now(case.now);
        let mut g = c.benchmark_group(group);
        eprintln!(
            "{group}: action `{}`, {} requirements, {unmet} unmet",
            catalog.action(case.action).id,
            catalog.action(case.action).all_requirements.len()
        );
        g.bench_function("clearance", |b| {
            b.iter(|| {
                decide(
                    catalog,
                    black_box(&case.tenant),
                    black_box(&case.user),
                    black_box(case.action),
                    black_box(case.now),
                )
            })
        });
        let cedar = &self.cedar;
        g.bench_function("cedar", |b| {
            b.iter(|| cedar.is_authorized(black_box(&cedar_case), black_box(case.action), &context))
        });
        let rego = &mut self.rego;
        g.bench_function("regorus", |b| {
            b.iter(|| {
                rego.unmet_value(black_box(&rego_case), black_box(case.action), &rego_now)
                    .expect("regorus answers")
            })
        });
        g.finish();
    }

    /// Every action for one user: clearance's `access` against one Cedar
    /// (or regorus) request per action.
    fn bench_batch<M: Measurement + 'static>(
        &mut self,
        c: &mut Criterion<M>,
        group: &str,
        tenant: &Tenant,
        user: &User,
    ) {
        let catalog = self.catalog;
        let actions = action_ixs(catalog);
        let cedar_case = self
            .cedar
            .case(catalog, tenant, user)
            .expect("the tenant translates");
        let context = self.cedar.context(now()).expect("a whole-millisecond now");
        let rego_case = RegoCatalog::case(catalog, tenant, user);
        let rego_now = RegoCatalog::now(now());
        let mut g = c.benchmark_group(group);
        if actions.len() > 100 {
            // One Cedar iteration takes seconds here.
            g.sample_size(10);
        }
        eprintln!("{group}: {} actions", actions.len());
        g.bench_function("clearance_access", |b| {
            b.iter(|| {
                access(
                    catalog,
                    black_box(tenant),
                    black_box(user),
                    black_box(now()),
                )
            })
        });
        g.bench_function("clearance_decide_each", |b| {
            b.iter(|| {
                actions
                    .iter()
                    .map(|&a| decide(catalog, tenant, user, a, now()).unmet.len())
                    .sum::<usize>()
            })
        });
        let cedar = &self.cedar;
        g.bench_function("cedar_per_request", |b| {
            b.iter(|| {
                actions
                    .iter()
                    .map(|&a| cedar.is_authorized(&cedar_case, a, &context))
                    .filter(|r| r.decision() == cedar_policy::Decision::Allow)
                    .count()
            })
        });
        let rego = &mut self.rego;
        g.bench_function("regorus_per_request", |b| {
            b.iter(|| {
                actions
                    .iter()
                    .map(|&a| {
                        rego.unmet_value(&rego_case, a, &rego_now)
                            .expect("regorus answers")
                    })
                    .count()
            })
        });
        g.finish();
    }
}

fn default_catalog<M: Measurement + 'static>(c: &mut Criterion<M>, clock: &str) {
    let catalog = Catalog::partner_center();
    let mut engines = Engines::new(catalog);
    let buy = catalog
        .action_ix("membership_offers.buy")
        .expect("the default catalog has Buy Now");
    let (tenant, user) = TenantSpec::healthy().build(catalog, now());
    let allowed = Case {
        tenant,
        user,
        action: buy,
        now: now(),
    };
    engines.bench_case(c, &format!("default_allowed_{clock}"), &allowed);
    let (tenant, user) = seed_tenant(catalog);
    let denied = Case {
        tenant,
        user,
        action: buy,
        now: now(),
    };
    engines.bench_case(c, &format!("default_denied_{clock}"), &denied);
    engines.bench_batch(
        c,
        &format!("default_batch_{clock}"),
        &denied.tenant,
        &denied.user,
    );
}

fn synthetic_catalog<M: Measurement + 'static>(c: &mut Criterion<M>, clock: &str) {
    let text = CatalogSpec::synthetic(500, 7).to_toml();
    let catalog =
        Catalog::from_toml("synthetic-500.toml", &text).expect("the synthetic catalog loads");
    assert_eq!(catalog.actions.len(), 500);
    let mut engines = Engines::new(&catalog);
    let (healthy, healthy_user) = TenantSpec::healthy().build(&catalog, now());
    // The allowed action with the most requirements.
    let action = action_ixs(&catalog)
        .into_iter()
        .filter(|&a| decide(&catalog, &healthy, &healthy_user, a, now()).allowed())
        .max_by_key(|a| catalog.action(*a).all_requirements.len())
        .expect("the healthy tenant may take some action");
    let allowed = Case {
        tenant: healthy,
        user: healthy_user,
        action,
        now: now(),
    };
    engines.bench_case(c, &format!("synthetic500_allowed_{clock}"), &allowed);
    let (empty, empty_user) = TenantSpec::empty().build(&catalog, now());
    let denied = Case {
        tenant: empty,
        user: empty_user,
        action,
        now: now(),
    };
    engines.bench_case(c, &format!("synthetic500_denied_{clock}"), &denied);
    // A realistic user for the batch: every program active and authorized,
    // half the roles, half the profiles.
    let (mut tenant, mut user) = TenantSpec::healthy().build(&catalog, now());
    user.roles = role_set(&catalog, 0x0f);
    tenant.profiles = profile_set(&catalog, 0x3);
    engines.bench_batch(c, &format!("synthetic500_batch_{clock}"), &tenant, &user);
}

fn config<M: Measurement>(criterion: Criterion<M>) -> Criterion<M> {
    let seconds = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    criterion
        .warm_up_time(Duration::from_secs(seconds("RIVALS_WARM_UP_SECS", 1)))
        .measurement_time(Duration::from_secs(seconds("RIVALS_MEASURE_SECS", 3)))
        .sample_size(30)
}

fn wall_time(c: &mut Criterion) {
    default_catalog(c, "wall");
    synthetic_catalog(c, "wall");
}

#[cfg(target_os = "linux")]
fn cpu_time(c: &mut Criterion<thread_cpu::ThreadCpuTime>) {
    default_catalog(c, "cpu");
    synthetic_catalog(c, "cpu");
}

criterion_group! {
    name = wall;
    config = config(Criterion::default());
    targets = wall_time
}
#[cfg(target_os = "linux")]
criterion_group! {
    name = cpu;
    config = config(Criterion::default().with_measurement(thread_cpu::ThreadCpuTime));
    targets = cpu_time
}
#[cfg(target_os = "linux")]
criterion_main!(wall, cpu);
#[cfg(not(target_os = "linux"))]
criterion_main!(wall);

/// The thread-CPU-time measurement of `clearance-core`'s `decide` bench: the
/// machine is shared, and wall-clock samples include time spent waiting to be
/// scheduled.
#[cfg(target_os = "linux")]
#[path = "../../clearance-core/benches/support/thread_cpu.rs"]
mod thread_cpu;
