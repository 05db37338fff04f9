//! `clearance backup`: SQLite's online copy of the store (`VACUUM INTO`, while `serve` keeps
//! running), then every `verify` check on the copy. PostgreSQL is refused with the way to back
//! it up (`pg_dump`, or `clearance export`).

use std::path::PathBuf;

use anyhow::Context;
use clearance_core::Catalog;
use clearance_store::redacted_location;

use crate::Outcome;
use crate::store_args::StoreArgs;
use crate::verify::{check, open, print, runtime};

/// `clearance backup` flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The file to write the copy to (a new SQLite database; never overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    #[command(flatten)]
    store: StoreArgs,
}

/// Copies the store and checks the copy: exit 1 when the copy fails a check.
pub fn run(catalog: &Catalog, args: &Args) -> anyhow::Result<Outcome> {
    let location = args.store.location()?;
    let copy = args
        .out
        .to_str()
        .context("--out must be valid UTF-8")?
        .to_owned();
    runtime()?.block_on(async {
        let store = open(&location).await?;
        let revision = store.current_revision().await?;
        let copied = store.backup(&args.out).await;
        store.close().await;
        copied.with_context(|| format!("backing up {}", redacted_location(&location)))?;
        println!(
            "copied {} (revision {revision} or later) to {copy}; checking the copy",
            redacted_location(&location)
        );
        let backup = open(&copy).await?;
        let report = check(catalog, &backup).await;
        backup.close().await;
        Ok(print(&report?, &copy))
    })
}
