//! The states corpus: every file of `corpus/states/` is a state (a scenario,
//! inline or a file of `scenarios/`) with its expected decision for every
//! action of the default catalog and its diagnosis steps. The expectations in
//! the file are asserted exactly (the file states intent); one insta snapshot
//! per file holds the cause, the step texts and the decisions (it catches
//! wording). A new file is picked up without code changes.
//!
//! ```toml
//! scenario = "01-seed-pending-past-sla.toml"   # or now, [tenant], [user] inline
//! [expect]
//! steps = ["check_legal_info", "review_verification_summary", "contact_support"]
//! allowed = ["legal_info.view", "verification.view"]
//! [expect.denied]
//! "membership.view" = ["maicpp_enrollment_active", "maicpp_verification_authorized"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clearance_core::{Catalog, Diagnosis, Scenario, decide, diagnose};
use serde::Deserialize;

fn catalog() -> &'static Catalog {
    Catalog::partner_center()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What a state file says must happen.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// The diagnosis step codes, in order.
    steps: Vec<String>,
    /// The actions allowed, in catalog order.
    allowed: Vec<String>,
    /// Every other action with its unmet requirement ids, in catalog order.
    #[serde(default)]
    denied: BTreeMap<String, Vec<String>>,
}

impl Expect {
    /// The expectation as it would be written in a state file.
    fn to_toml(&self) -> String {
        let list = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|item| format!("\"{item}\"")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let mut text = format!(
            "[expect]\nsteps = {}\nallowed = {}\n",
            list(&self.steps),
            list(&self.allowed)
        );
        if !self.denied.is_empty() {
            text.push_str("\n[expect.denied]\n");
            for (action, unmet) in &self.denied {
                text.push_str(&format!("\"{action}\" = {}\n", list(unmet)));
            }
        }
        text
    }
}

/// One state file: its scenario and expectation.
struct State {
    name: String,
    scenario: Scenario,
    expect: Expect,
}

fn load(path: &Path) -> State {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let expect = match table.remove("expect") {
        Some(value) => value
            .try_into()
            .unwrap_or_else(|e| panic!("{file}: [expect]: {e}")),
        None => Expect::default(),
    };
    let (scenario_file, scenario_text) = match table.remove("scenario") {
        Some(toml::Value::String(name)) => {
            let path = root().join("scenarios").join(&name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{file}: scenario `{name}`: {e}"));
            (path.display().to_string(), text)
        }
        Some(other) => panic!("{file}: scenario must be a file name in scenarios/, not {other}"),
        None => (
            file.clone(),
            toml::to_string(&table).expect("a table serializes"),
        ),
    };
    let scenario = Scenario::from_toml(catalog(), &scenario_file, &scenario_text)
        .unwrap_or_else(|e| panic!("{e}"));
    State {
        name: path
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .into_owned(),
        scenario,
        expect,
    }
}

/// What the core answers for a state.
fn actual(scenario: &Scenario) -> (Expect, Diagnosis) {
    let mut expect = Expect::default();
    for (ix, action) in catalog().actions.iter().enumerate() {
        let ix = catalog()
            .action_ix(&action.id)
            .unwrap_or_else(|| panic!("action {ix} has an id"));
        let decision = decide(
            catalog(),
            &scenario.tenant,
            &scenario.user,
            ix,
            scenario.now,
        );
        if decision.allowed() {
            expect.allowed.push(action.id.clone());
        } else {
            expect.denied.insert(
                action.id.clone(),
                decision
                    .unmet
                    .iter()
                    .map(|unmet| unmet.requirement.id.clone())
                    .collect(),
            );
        }
    }
    let diagnosis = diagnose(catalog(), &scenario.tenant, &scenario.user, scenario.now);
    expect.steps = diagnosis
        .steps
        .iter()
        .map(|step| step.code.as_str().to_owned())
        .collect();
    (expect, diagnosis)
}

/// The snapshot: the diagnosis as a person reads it, then every decision.
fn render(expect: &Expect, diagnosis: &Diagnosis) -> String {
    let mut text = clearance_testkit::render_diagnosis(diagnosis);
    text.push_str("\ndecisions:\n");
    for action in &catalog().actions {
        match expect.denied.get(&action.id) {
            Some(unmet) => {
                text.push_str(&format!("  {}: denied: {}\n", action.id, unmet.join(", ")))
            }
            None => text.push_str(&format!("  {}: allowed\n", action.id)),
        }
    }
    text
}

fn state_files() -> Vec<PathBuf> {
    let dir = root().join("corpus/states");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_state_decides_and_diagnoses_as_its_file_says() {
    let files = state_files();
    assert!(files.len() >= 30, "the corpus lost files: {files:?}");
    let mut wrong = Vec::new();
    for path in &files {
        let state = load(path);
        let (actual, diagnosis) = actual(&state.scenario);
        if actual != state.expect {
            wrong.push(format!(
                "{}: the core answers\n{}",
                path.display(),
                actual.to_toml()
            ));
            continue;
        }
        insta::assert_snapshot!(state.name.as_str(), render(&actual, &diagnosis));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_seed_tenant_is_the_scenarios_file() {
    let seed = clearance_testkit::seed();
    let state = load(&root().join("corpus/states/01-seed-pending-past-sla.toml"));
    assert_eq!(state.scenario, seed);
}
