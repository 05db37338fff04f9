//! Measures the service over a large store (one written by `clearance gen`):
//! the time to load every tenant into the decision cache, the resident memory
//! it adds, and the time of the SLA sweep over all tenants, first when it has
//! tenants to mark (`clearance gen` leaves one in a thousand overdue and
//! unswept) and then in the steady state (nothing new to mark).
//!
//! ```text
//! cargo run --release -p clearance-server --example sweep_scale -- STORE
//! ```
//!
//! STORE is a SQLite file (`DIR/clearance.db`) or a `postgres://` URL. The
//! first sweep writes its marks into the store: run it on a scratch copy. With
//! `SWEEP_SCALE_READ_PASS=1` it first times the store's part of the load alone
//! (every tenant read, nothing parsed or cached).

use std::sync::Arc;
use std::time::Instant;

use clearance_core::Catalog;
use clearance_server::{Service, ServiceOptions};
use clearance_store::Store;
use jiff::Timestamp;

/// A figure of this process's memory in KiB from Linux `/proc/self/status`
/// (`VmRSS`: all resident pages; `RssAnon`: the private ones, the heap; `RssFile`:
/// pages of mapped files, such as SQLite's memory map of the database).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// This process's resident set in KiB (`VmRSS`).
fn rss_kib() -> Option<u64> {
    status_kib("VmRSS")
}

/// CPU seconds (user + system) this process has used so far (Linux `/proc/self/stat`),
/// so that a load shared with other processes on this small machine can still be compared.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with `)`): utime is the 12th, stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[expect(
    unsafe_code,
    reason = "glibc's malloc_trim has no safe binding in our dependencies"
)]
unsafe extern "C" {
    /// glibc: give free heap pages back to the system (also those between live blocks).
    fn malloc_trim(pad: usize) -> i32;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let location = std::env::args()
        .nth(1)
        .ok_or("usage: sweep_scale STORE (a SQLite file or a postgres:// URL)")?;
    let catalog = Arc::new(Catalog::partner_center().clone());
    let before = rss_kib().unwrap_or(0);
    let started = Instant::now();
    let store = Store::open(&location).await?;
    if std::env::var_os("SWEEP_SCALE_READ_PASS").is_some() {
        // The store's part of the load alone: every batch read, nothing parsed or cached.
        let cpu = cpu_seconds().unwrap_or(0.0);
        let mut loader = store.load_all().await?;
        let (mut histories, mut bytes) = (0usize, 0usize);
        while let Some(batch) = loader.next_batch().await? {
            histories += batch.len();
            bytes += batch
                .iter()
                .filter_map(|history| history.snapshot.as_ref())
                .map(|snapshot| snapshot.state.len())
                .sum::<usize>();
        }
        println!(
            "store read pass: {histories} histories, {bytes} bytes of snapshot text, \
             {:.2} s wall, {:.2} s CPU",
            started.elapsed().as_secs_f64(),
            cpu_seconds().unwrap_or(0.0) - cpu
        );
    }
    let started = Instant::now();
    let cpu_before = cpu_seconds().unwrap_or(0.0);
    let service = Service::open(store.clone(), catalog, ServiceOptions::default()).await?;
    let load = started.elapsed();
    let load_cpu = cpu_seconds().unwrap_or(0.0) - cpu_before;
    let after = rss_kib().unwrap_or(0);
    let tenants = service.tenant_count().max(1);
    let per_tenant = |rss: u64| (rss.saturating_sub(before) * 1024) as f64 / tenants as f64;
    println!(
        "loaded {tenants} tenants in {:.2} s wall, {load_cpu:.2} s CPU; RSS {before} KiB before, \
         {after} KiB after: {:.0} bytes per tenant",
        load.as_secs_f64(),
        per_tenant(after)
    );
    let anon = status_kib("RssAnon").unwrap_or(0);
    println!(
        "of which RssAnon {anon} KiB (private: heap), RssFile {} KiB (mapped files)",
        status_kib("RssFile").unwrap_or(0)
    );
    // What of that is the allocator keeping freed start-up garbage (parsed JSON
    // interleaved with the cached states) rather than live state.
    // SAFETY: malloc_trim only walks glibc's own heap; it takes and returns plain integers.
    #[expect(unsafe_code, reason = "glibc's malloc_trim has no safe wrapper")]
    let _released = unsafe { malloc_trim(0) };
    let trimmed = rss_kib().unwrap_or(0);
    println!(
        "after malloc_trim(0): RSS {trimmed} KiB: {:.0} bytes per tenant",
        per_tenant(trimmed)
    );
    for round in ["first (marks the unswept)", "steady (nothing new)"] {
        let started = Instant::now();
        let report = service.sweep(Timestamp::now()).await;
        println!(
            "sweep {round}: {:.3} s over {tenants} tenants, {} marked, {} failed",
            started.elapsed().as_secs_f64(),
            report.marked.len(),
            report.failed.len()
        );
    }
    store.close().await;
    Ok(())
}
