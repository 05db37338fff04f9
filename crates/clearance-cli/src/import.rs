//! `clearance import`: an export into an empty store (either backend), in one transaction,
//! then `verify` on the result.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clearance_core::Catalog;
use clearance_store::redacted_location;

use crate::Outcome;
use crate::store_args::StoreArgs;
use crate::verify::{check, events_bar, open, print, runtime};

/// `clearance import` flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The export to read (`.zst` and `.gz` are decompressed).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,

    #[command(flatten)]
    store: StoreArgs,
}

/// Imports the file, then verifies the store: exit 1 when verify finds a problem.
pub fn run(catalog: &Catalog, args: &Args) -> anyhow::Result<Outcome> {
    let location = args.store.location()?;
    let shown = redacted_location(&location);
    runtime()?.block_on(async {
        let store = open(&location).await?;
        let started = std::time::Instant::now();
        let bar = events_bar(None, "import");
        let ticking = bar.clone();
        let imported = store
            .import(
                &args.input,
                Arc::new(move |events| ticking.set_position(events)),
            )
            .await;
        bar.finish_and_clear();
        let imported = match imported {
            Ok(imported) => imported,
            Err(error) => {
                store.close().await;
                return Err(error)
                    .with_context(|| format!("importing {} into {shown}", args.input.display()));
            }
        };
        println!(
            "imported {} into {shown} at revision {}: {} tenants, {} events, {} snapshots, \
             {} documents, {} tokens, {} sign-ins, {} sign-in attempts, {} idempotency records \
             (exported from {} at {}) in {:.1} s",
            args.input.display(),
            imported.header.revision,
            imported.end.tenants,
            imported.end.events,
            imported.snapshots,
            imported.documents,
            imported.tokens,
            imported.sign_ins,
            imported.sign_in_attempts,
            imported.idempotency,
            imported.header.source,
            imported.header.exported_at,
            started.elapsed().as_secs_f64(),
        );
        let started = std::time::Instant::now();
        let report = check(catalog, &store).await;
        println!("verified in {:.1} s", started.elapsed().as_secs_f64());
        store.close().await;
        Ok(print(&report?, &shown))
    })
}
