//! `clearance catalog validate|show`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clearance_core::Catalog;
use clearance_core::catalog::Gate;
use clearance_server::views::CatalogView;

use crate::{Outcome, input};

/// The `catalog` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Load and validate a catalog: FILE, else `--catalog`, else the embedded
    /// one. Exit 0 valid, 2 invalid (with file, line and field).
    Validate {
        /// The catalog TOML to validate.
        file: Option<PathBuf>,
    },
    /// Print the catalog in use: gates (and which are off), programs, offers,
    /// workspaces, actions and their requirements.
    Show {
        /// Print the whole catalog as JSON, ids in place of indices.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `catalog` subcommand.
pub fn run(source: &input::CatalogSource, command: &Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Validate { file: Some(path) } => {
            let catalog = input::read_catalog(path)?;
            println!("{}", summary(&path.display().to_string(), &catalog));
        }
        Command::Validate { file: None } => println!("{}", summary(&source.name(), source.get())),
        Command::Show { json: true } => {
            let view = CatalogView::new(source.get());
            println!("{}", serde_json::to_string_pretty(&view)?);
        }
        Command::Show { json: false } => print!("{}", show(&source.name(), source.get())),
    }
    Ok(Outcome::Done)
}

/// One line: valid, with the counts and the fingerprint.
fn summary(name: &str, catalog: &Catalog) -> String {
    format!(
        "✔ {name} is valid: {} programs, {} agreements, {} profiles, {} roles, {} offers, \
         {} requirements, {} workspaces, {} actions, {} holidays, {} gates ({} off) \
         (fingerprint {:016x})",
        catalog.programs.len(),
        catalog.agreements.len(),
        catalog.profiles.len(),
        catalog.roles.len(),
        catalog.offers.len(),
        catalog.requirements.len(),
        catalog.workspaces.len(),
        catalog.actions.len(),
        catalog.calendar.holidays().len(),
        catalog.gates.all().len(),
        catalog
            .gates
            .all()
            .iter()
            .filter(|(_, gate)| *gate == Gate::Off)
            .count(),
        catalog.fingerprint(),
    )
}

/// The catalog as text: rules, the gates (saying which are off), programs,
/// offers, then each workspace with its actions, then the requirements with
/// their reasons.
fn show(name: &str, catalog: &Catalog) -> String {
    let view = CatalogView::new(catalog);
    let mut text = String::new();
    let _ = writeln!(text, "Catalog {name} (fingerprint {})", view.fingerprint);
    let _ = writeln!(
        text,
        "Vetting: SLA {} business days, at most {} appeals, {} holidays",
        view.vetting.sla_business_days,
        view.vetting.max_appeals,
        view.holidays.len()
    );
    let off: Vec<&str> = view
        .gates
        .iter()
        .filter(|g| g.off)
        .map(|g| g.gate.as_str())
        .collect();
    let off = if off.is_empty() {
        "none off".to_string()
    } else {
        format!("off: {}", off.join(", "))
    };
    let _ = writeln!(text, "\nGates ({off}):");
    for gate in &view.gates {
        let _ = writeln!(
            text,
            "  {:<16} {:<24} {}",
            gate.gate, gate.action, gate.gates
        );
    }
    let _ = writeln!(text, "\nPrograms:");
    for program in &view.programs {
        let needs = if program.agreements.is_empty() {
            String::new()
        } else {
            format!(" (needs {})", program.agreements.join(", "))
        };
        let _ = writeln!(
            text,
            "  {:<12} {}{needs}; home {}",
            program.id, program.name, program.home
        );
    }
    let _ = writeln!(text, "\nOffers:");
    for offer in &view.offers {
        let _ = writeln!(
            text,
            "  {} — {} ({}): buy {}, renew {}",
            offer.id, offer.name, offer.program, offer.buy, offer.renew
        );
    }
    let _ = writeln!(text, "\nWorkspaces and actions:");
    for workspace in &view.workspaces {
        let parent = workspace
            .parent
            .as_ref()
            .map(|p| format!(" (inside {p})"))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "  {} — {} {}{parent}",
            workspace.id, workspace.name, workspace.page
        );
        for action in view.actions.iter().filter(|a| a.workspace == workspace.id) {
            let requires = if action.all_requirements.is_empty() {
                "nothing".to_string()
            } else {
                action.all_requirements.join(", ")
            };
            let _ = writeln!(text, "    {:<32} needs {requires}", action.id);
        }
    }
    let _ = writeln!(text, "\nRequirements:");
    for requirement in &view.requirements {
        let _ = writeln!(
            text,
            "  {} ({}): {}\n    next step {} → {}",
            requirement.id,
            requirement.kind,
            requirement.reason,
            requirement.next_step.code,
            requirement.next_step.page
        );
    }
    text
}
