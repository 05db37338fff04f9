//! `decide` and `access` on the default catalog: an allowed case, the seed's
//! denial with its full explanation, and every action for one user.
//!
//! Each case is measured twice: in wall-clock time (criterion's default) and,
//! on Linux, in the benchmark thread's CPU time. On a shared 2-core machine
//! other processes preempt the benchmark; wall-clock time counts the time it
//! waits to run again, thread CPU time does not.

use std::hint::black_box;

use clearance_core::decision::DecisionView;
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
        &format!("{clock}/decide+json view/denied (seed, membership_offers.buy)"),
        |b| {
            b.iter(|| {
                let decision = decide(
                    catalog,
                    black_box(&seed.tenant),
                    black_box(&seed.user),
                    black_box(buy),
                    black_box(seed.now),
                );
                DecisionView::new(catalog, &decision)
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

/// A criterion measurement of the calling thread's CPU time.
#[cfg(target_os = "linux")]
mod thread_cpu {
    use criterion::Throughput;
    use criterion::measurement::{Measurement, ValueFormatter};

    /// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), in nanoseconds.
    pub struct ThreadCpuTime;

    fn now() -> u64 {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `time` is a valid, writable timespec for the duration of the call.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
        assert_eq!(status, 0, "CLOCK_THREAD_CPUTIME_ID is available on Linux");
        let seconds = u64::try_from(time.tv_sec).expect("CPU time is not negative");
        let nanos = u64::try_from(time.tv_nsec).expect("CPU time is not negative");
        seconds * 1_000_000_000 + nanos
    }

    impl Measurement for ThreadCpuTime {
        type Intermediate = u64;
        type Value = u64;

        fn start(&self) -> u64 {
            now()
        }
        fn end(&self, start: u64) -> u64 {
            now() - start
        }
        fn add(&self, a: &u64, b: &u64) -> u64 {
            a + b
        }
        fn zero(&self) -> u64 {
            0
        }
        fn to_f64(&self, value: &u64) -> f64 {
            *value as f64
        }
        fn formatter(&self) -> &dyn ValueFormatter {
            &Nanoseconds
        }
    }

    struct Nanoseconds;

    impl ValueFormatter for Nanoseconds {
        fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
            let (factor, unit) = if typical < 1e3 {
                (1.0, "ns")
            } else if typical < 1e6 {
                (1e-3, "µs")
            } else {
                (1e-6, "ms")
            };
            for value in values {
                *value *= factor;
            }
            unit
        }

        fn scale_throughputs(
            &self,
            _typical: f64,
            throughput: &Throughput,
            values: &mut [f64],
        ) -> &'static str {
            let per = match *throughput {
                Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => n,
                Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Bits(n) => n,
            } as f64;
            for value in values {
                *value = per * 1e9 / *value;
            }
            "elem/s"
        }

        fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
            "ns"
        }
    }
}
