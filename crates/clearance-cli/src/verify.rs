//! `clearance verify`: every check of a store's data (the store's own, and each tenant
//! re-folded from its events and compared with its snapshot); exit 1 listing what is wrong.

use std::sync::Arc;

use anyhow::Context;
use clearance_core::Catalog;
use clearance_server::verify::{VerifyReport, verify};
use clearance_store::{Store, redacted_location};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Outcome;
use crate::store_args::StoreArgs;

/// `clearance verify` flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
}

/// Verifies the store and prints the report.
pub fn run(catalog: &Catalog, args: &Args) -> anyhow::Result<Outcome> {
    let location = args.store.location()?;
    runtime()?.block_on(async {
        let store = open(&location).await?;
        let report = check(catalog, &store).await;
        store.close().await;
        Ok(print(&report?, &redacted_location(&location)))
    })
}

/// A runtime for a store command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Opens the store at `location`, naming it (without its password) when that fails.
pub async fn open(location: &str) -> anyhow::Result<Store> {
    Store::open(location)
        .await
        .with_context(|| format!("opening the store at {}", redacted_location(location)))
}

/// A progress bar of events (`len` when known, else a counter), on standard error.
pub fn events_bar(len: Option<u64>, what: &str) -> ProgressBar {
    let template = match len {
        Some(_) => format!(
            "{{spinner}} {what} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} events \
             ({{per_sec}}, eta {{eta}})"
        ),
        None => format!("{{spinner}} {what} [{{elapsed_precise}}] {{pos}} events ({{per_sec}})"),
    };
    let bar = match len {
        Some(len) => ProgressBar::new(len),
        None => ProgressBar::no_length(),
    };
    bar.with_style(ProgressStyle::with_template(&template).expect("the template is valid"))
}

/// Runs every check with a progress bar.
pub async fn check(catalog: &Catalog, store: &Store) -> anyhow::Result<VerifyReport> {
    let bar = events_bar(Some(store.current_revision().await?), "verify");
    let ticking = bar.clone();
    let report = verify(
        catalog,
        store,
        Arc::new(move |events| ticking.set_position(events)),
    )
    .await;
    bar.finish_and_clear();
    Ok(report?)
}

/// Prints the report; `Denied` (exit 1) when something is wrong.
pub fn print(report: &VerifyReport, location: &str) -> Outcome {
    let summary = format!(
        "{} tenants, {} events re-folded; {} snapshots compared{}",
        report.tenants,
        report.events,
        report.snapshots_checked,
        if report.snapshots_other_catalog > 0 {
            format!(
                ", {} taken under another catalog (replayed at start, not compared)",
                report.snapshots_other_catalog
            )
        } else {
            String::new()
        }
    );
    if report.is_sound() {
        println!("✔ {location}: sound: {summary}");
        Outcome::Done
    } else {
        println!(
            "✘ {location}: {} problem(s) ({summary}):",
            report.problems.len()
        );
        for problem in &report.problems {
            println!("  - {problem}");
        }
        Outcome::Denied
    }
}
