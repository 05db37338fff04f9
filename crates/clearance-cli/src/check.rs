//! `clearance check`: one decision, explained.

use std::path::PathBuf;

use anyhow::anyhow;
use clearance_core::{Catalog, decide};
use clearance_server::views::CheckResult;

use crate::{Outcome, input};

/// Arguments of `clearance check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario file (TOML: now, tenant, user).
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// The action's id, such as `membership_offers.buy`.
    #[arg(long, value_name = "ID")]
    action: String,
    /// Print the API's check result (`{"action", "allowed", "unmet": [...]}`)
    /// instead of text.
    #[arg(long)]
    json: bool,
}

/// Decides and prints; denied is [`Outcome::Denied`].
pub fn run(catalog: &Catalog, args: &Args) -> anyhow::Result<Outcome> {
    let scenario = input::read_scenario(catalog, &args.scenario)?;
    let action = catalog.action_ix(&args.action).ok_or_else(|| {
        anyhow!(
            "--action: unknown action `{}` (`clearance catalog show` lists them)",
            args.action
        )
    })?;
    let decision = decide(
        catalog,
        &scenario.tenant,
        &scenario.user,
        action,
        scenario.now,
    );
    if args.json {
        let view = CheckResult::from_decision(catalog, &decision);
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!("{}", decision.explain(catalog));
    }
    Ok(if decision.allowed() {
        Outcome::Done
    } else {
        Outcome::Denied
    })
}
