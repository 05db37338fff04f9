//! The view layer on the default catalog: a decision's wire form says exactly
//! what the decision says, access and the catalog read as the CLI and the API
//! print them (one snapshot each).

use std::path::Path;

use clearance_core::{Catalog, Scenario, access, decide};
use clearance_server::views::{CatalogView, CheckResult, WorkspaceView};
use clearance_testkit::seed;

fn catalog() -> &'static Catalog {
    Catalog::partner_center()
}

/// Every example scenario of `scenarios/`, by file name.
fn scenarios() -> Vec<(String, Scenario)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the scenarios folder")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenario in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).expect("a readable scenario");
            let scenario = Scenario::from_toml(catalog(), &name, &text).expect("a valid scenario");
            (name, scenario)
        })
        .collect()
}

#[test]
fn a_check_result_lists_the_decisions_unmet_requirements_in_order() {
    for (name, s) in scenarios() {
        for action in &catalog().actions {
            let ix = catalog().action_ix(&action.id).expect("its own id");
            let decision = decide(catalog(), &s.tenant, &s.user, ix, s.now);
            let view = CheckResult::from_decision(catalog(), &decision);
            let expected: Vec<&str> = decision
                .unmet
                .iter()
                .map(|u| u.requirement.id.as_str())
                .collect();
            let unmet: Vec<&str> = view.unmet.iter().map(|u| u.requirement.as_str()).collect();
            assert_eq!(unmet, expected, "{name}, {}", action.id);
            assert_eq!(view.allowed, decision.allowed(), "{name}, {}", action.id);
            assert_eq!(view.allowed, view.unmet.is_empty(), "{name}, {}", action.id);
            assert_eq!(view.action, action.id);
        }
    }
}

#[test]
fn a_check_result_round_trips_through_json() {
    let s = seed();
    let membership = catalog().action_ix("membership.view").expect("action");
    let decision = decide(catalog(), &s.tenant, &s.user, membership, s.now);
    let view = CheckResult::from_decision(catalog(), &decision);
    assert!(
        !view.unmet.is_empty(),
        "the seed is denied the Membership page"
    );
    let json = serde_json::to_string(&view).expect("serialize");
    let back: CheckResult = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, view);
}

#[test]
fn seed_access_as_json() {
    let s = seed();
    let views: Vec<WorkspaceView> = access(catalog(), &s.tenant, &s.user, s.now)
        .iter()
        .map(|w| WorkspaceView::new(catalog(), w))
        .collect();
    let summary: Vec<String> = views
        .iter()
        .map(|w| {
            let actions: Vec<String> = w
                .actions
                .iter()
                .map(|a| {
                    let unmet: Vec<&str> = a.unmet.iter().map(|u| &*u.requirement).collect();
                    format!("{} [{}]", a.action, unmet.join(", "))
                })
                .collect();
            format!(
                "{} open={} {}: {}",
                w.workspace,
                w.open,
                w.page,
                actions.join("; ")
            )
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
}

#[test]
fn the_catalog_view_lists_everything_with_ids() {
    let view = CatalogView::new(catalog());
    assert_eq!(view.actions.len(), catalog().actions.len());
    assert_eq!(view.requirements.len(), catalog().requirements.len());
    assert_eq!(
        view.fingerprint,
        format!("{:016x}", catalog().fingerprint())
    );
    let buy = view
        .actions
        .iter()
        .find(|a| a.id == "membership_offers.buy")
        .expect("buy");
    assert_eq!(buy.workspace, "membership_offers");
    assert_eq!(buy.all_requirements.len(), 6);
}

/// The first requirement of each kind, as `catalog show --json` prints it:
/// each kind carries its own fields and no other.
#[test]
fn catalog_requirements_show_each_kinds_own_fields() {
    let view = CatalogView::new(catalog());
    let mut kinds: Vec<&str> = Vec::new();
    let mut shown = Vec::new();
    for (requirement, shape) in catalog().requirements.iter().zip(&view.requirements) {
        let kind = requirement.kind.name();
        if !kinds.contains(&kind) {
            kinds.push(kind);
            shown.push(shape);
        }
    }
    // The default catalog uses all ten kinds of `RequirementKind`.
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    insta::assert_snapshot!(serde_json::to_string_pretty(&shown).expect("views serialize"));
}
