//! `clearance`: the command-line front of the clearance core.
//!
//! Each subcommand lives in its own module and returns an [`Outcome`]; this
//! file only parses arguments, loads the catalog and maps outcomes and errors
//! to exit codes: 0 allowed (or done), 1 denied (for `verify`, `backup` and
//! `import`: the data has a problem), 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backup;
mod catalog;
mod check;
mod diagnose;
mod export;
mod generate;
mod import;
mod input;
mod serve;
mod store_args;
mod verify;

/// Who may do what in a partner program, and why not.
#[derive(Parser, Debug)]
#[command(name = "clearance", version, about, long_about = None)]
struct Cli {
    /// Use this catalog TOML instead of the embedded Partner Center catalog.
    #[arg(long, global = true, env = "CLEARANCE_CATALOG", value_name = "FILE")]
    catalog: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

/// The subcommands. A new one gets its own module and a variant here.
#[derive(Subcommand, Debug)]
enum Command {
    /// Decide whether the scenario's user may take an action, and list every
    /// unmet requirement. Exit 0 allowed, 1 denied, 2 bad input.
    Check(check::Args),
    /// The root cause and the next supported steps for the scenario's tenant
    /// and user.
    Diagnose(diagnose::Args),
    /// Validate or show a catalog.
    #[command(subcommand)]
    Catalog(catalog::Command),
    /// Run the HTTP service (SQLite under --data-dir, or PostgreSQL with --database).
    Serve(serve::Args),
    /// Write a synthetic population (a deterministic mix of every vetting state)
    /// into the store, as real events with snapshots, for scale measurements.
    #[command(name = "gen")]
    Gen(generate::Args),
    /// SQLite: copy the store online (`serve` keeps running) to a new file, then verify the
    /// copy. PostgreSQL: use pg_dump, or `export`.
    Backup(backup::Args),
    /// Write the whole store to a versioned JSON Lines file (`.zst`/`.gz` compressed),
    /// read at one revision while the store stays in use.
    Export(export::Args),
    /// Fill an empty store (SQLite or PostgreSQL) from an export, in one transaction, then
    /// verify it. A cut or altered file is refused naming the line, writing nothing.
    Import(import::Args),
    /// Check the store: re-fold every tenant and compare with its snapshot, revision gaps,
    /// document hashes, the schema version. Exit 1 listing what is wrong.
    Verify(verify::Args),
}

/// How a subcommand ended, for the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed, valid, or simply done.
    Done,
    /// The action is denied.
    Denied,
}

/// Exit code for bad input (unreadable or invalid files, unknown ids).
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Denied) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(BAD_INPUT)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let catalog = input::CatalogSource::load(cli.catalog.as_deref())?;
    match cli.command {
        Command::Check(args) => check::run(catalog.get(), &args),
        Command::Diagnose(args) => diagnose::run(catalog.get(), &args),
        Command::Catalog(command) => catalog::run(&catalog, &command),
        Command::Serve(args) => serve::run(catalog.get(), &args),
        Command::Gen(args) => generate::run(catalog.get(), &args),
        Command::Backup(args) => backup::run(catalog.get(), &args),
        Command::Export(args) => export::run(&args),
        Command::Import(args) => import::run(catalog.get(), &args),
        Command::Verify(args) => verify::run(catalog.get(), &args),
    }
}
