//! `clearance diagnose`: the root cause and the next supported steps.

use std::path::PathBuf;

use clearance_core::{Catalog, Diagnosis, diagnose};
use clearance_server::views::DiagnosisView;

use crate::{Outcome, input};

/// Arguments of `clearance diagnose`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario file (TOML: now, tenant, user).
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// Print the API's diagnosis JSON (`{"cause", "steps": [{"code", "text"}],
    /// "findings"}`) instead of text.
    #[arg(long)]
    json: bool,
}

/// Diagnoses and prints.
pub fn run(catalog: &Catalog, args: &Args) -> anyhow::Result<Outcome> {
    let scenario = input::read_scenario(catalog, &args.scenario)?;
    let diagnosis = diagnose(catalog, &scenario.tenant, &scenario.user, scenario.now);
    if args.json {
        let view = DiagnosisView::new(catalog, &diagnosis);
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!("{}", render(&diagnosis));
    }
    Ok(Outcome::Done)
}

/// The diagnosis as text: the cause, then the numbered steps with their codes.
fn render(diagnosis: &Diagnosis) -> String {
    let mut text = format!("Cause: {}\n", diagnosis.cause);
    if diagnosis.steps.is_empty() {
        text.push_str("No step needed.\n");
        return text;
    }
    text.push_str("Next steps:\n");
    for (n, step) in diagnosis.steps.iter().enumerate() {
        text.push_str(&format!(
            "  {}. [{}] {}\n",
            n + 1,
            step.code.as_str(),
            step.text
        ));
    }
    text
}
