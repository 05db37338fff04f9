//! `clearance export`: the whole store as a versioned JSON Lines file (compressed by its name:
//! `.zst`, `.gz`), read at one revision while the store stays in use.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clearance_store::redacted_location;

use crate::Outcome;
use crate::store_args::StoreArgs;
use crate::verify::{events_bar, open, runtime};

/// `clearance export` flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The file to write (never overwritten); `.zst` or `.gz` compress it.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    #[command(flatten)]
    store: StoreArgs,
}

/// Exports the store and prints what was written.
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let location = args.store.location()?;
    runtime()?.block_on(async {
        let store = open(&location).await?;
        let bar = events_bar(Some(store.current_revision().await?), "export");
        let ticking = bar.clone();
        let exported = store
            .export(
                &args.out,
                Arc::new(move |events| ticking.set_position(events)),
            )
            .await;
        bar.finish_and_clear();
        store.close().await;
        let exported = exported.with_context(|| {
            format!(
                "exporting {} to {}",
                redacted_location(&location),
                args.out.display()
            )
        })?;
        println!(
            "exported {} at revision {}: {} tenants, {} events, {} records in all; \
             {} bytes written to {} (sha256 of its records {})",
            redacted_location(&location),
            exported.revision,
            exported.end.tenants,
            exported.end.events,
            exported.end.records,
            exported.bytes,
            args.out.display(),
            exported.end.sha256
        );
        Ok(Outcome::Done)
    })
}
