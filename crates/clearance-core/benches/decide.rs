//! `decide` and `access` on the default catalog: an allowed case, the seed's
//! denial with its full explanation, and every action for one user.
//!
//! Each case is measured twice: in wall-clock time (criterion's default) and,
//! on Linux, in the benchmark thread's CPU time. On a shared 2-core machine
//! other processes preempt the benchmark; wall-clock time counts the time it
//! waits to run again, thread CPU time does not.

use std::hint::black_box;

use clearance_core::{Catalog, Scenario, access, decide};
use criterion::measurement::Measurement;
use criterion::{Criterion, criterion_group, criterion_main};

fn scenario(catalog: &Catalog, name: &str, text: &str) -> Scenario {
    Scenario::from_toml(catalog, name, text).expect("example scenarios are valid")
}

fn bench<M: Measurement + 'static>(c: &mut Criterion<M>, clock: &str) {
    let catalog = Catalog::partner_center();
    let seed = scenario(
        catalog,
        "01",
        include_str!("../../../scenarios/01-seed-pending-past-sla.toml"),
    );
    let healthy = scenario(
        catalog,
        "06",
        include_str!("../../../scenarios/06-healthy.toml"),
    );
    let buy = catalog
        .action_ix("membership_offers.buy")
        .expect("buy action");
    let renew = catalog
        .action_ix("membership_offers.renew")
        .expect("renew action");

    let allowed = decide(catalog, &healthy.tenant, &healthy.user, renew, healthy.now);
    assert!(allowed.allowed(), "the allowed case must be allowed");
    let denied = decide(catalog, &seed.tenant, &seed.user, buy, seed.now);
    assert_eq!(denied.unmet.len(), 3, "the denied case lists three reasons");

    c.bench_function(
        &format!("{clock}/decide/allowed (healthy, membership_offers.renew)"),
        |b| {
            b.iter(|| {
                decide(
                    catalog,
                    black_box(&healthy.tenant),
                    black_box(&healthy.user),
                    black_box(renew),
                    black_box(healthy.now),
                )
            })
        },
    );
    c.bench_function(
        &format!("{clock}/decide/denied, 3 unmet (seed, membership_offers.buy)"),
        |b| {
            b.iter(|| {
                decide(
                    catalog,
                    black_box(&seed.tenant),
                    black_box(&seed.user),
                    black_box(buy),
                    black_box(seed.now),
                )
            })
        },
    );
    c.bench_function(
        &format!("{clock}/access/every action for one user (seed)"),
        |b| {
            b.iter(|| {
                access(
                    catalog,
                    black_box(&seed.tenant),
                    black_box(&seed.user),
                    black_box(seed.now),
                )
            })
        },
    );
}

fn wall_time(c: &mut Criterion) {
    bench(c, "wall");
}

#[cfg(target_os = "linux")]
fn cpu_time(c: &mut Criterion<thread_cpu::ThreadCpuTime>) {
    bench(c, "cpu");
}

criterion_group!(wall, wall_time);
#[cfg(target_os = "linux")]
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(thread_cpu::ThreadCpuTime);
    targets = cpu_time
}
#[cfg(target_os = "linux")]
criterion_main!(wall, cpu);
#[cfg(not(target_os = "linux"))]
criterion_main!(wall);

/// The thread-CPU-time measurement, shared with `clearance-cedar`'s rivals bench.
#[cfg(target_os = "linux")]
#[path = "support/thread_cpu.rs"]
mod thread_cpu;
