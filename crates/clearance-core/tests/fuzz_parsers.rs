//! No panic from any input: the catalog, scenario and journey parsers fuzzed with arbitrary
//! text and with token mutations of the real files. Each returns `Ok` or its typed error, and an
//! error names the file it was given. `scripts/fuzz N` runs many more cases in release mode.

use clearance_core::catalog::PARTNER_CENTER_TOML;
use clearance_core::{Catalog, Journey, Scenario};
use clearance_testkit::fuzz::{config, report, text_input};
use proptest::prelude::*;

const CASES: u32 = 256;

const SCENARIOS: &[&str] = &[
    include_str!("../../../scenarios/01-seed-pending-past-sla.toml"),
    include_str!("../../../scenarios/03-rejected-one-appeal-used.toml"),
    include_str!("../../../scenarios/04-challenged-with-banner.toml"),
];

const JOURNEYS: &[&str] = &[
    include_str!("../../../corpus/journeys/contoso.toml"),
    include_str!("../../../corpus/journeys/fabrikam.toml"),
    include_str!("../../../corpus/journeys/authorized.toml"),
];

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn fuzz_catalog_toml(text in text_input(&[PARTNER_CENTER_TOML])) {
        if let Err(error) = Catalog::from_toml("fuzz.toml", &text) {
            prop_assert!(error.to_string().contains("fuzz.toml"), "{error}");
        }
    }

    #[test]
    fn fuzz_scenario_toml(text in text_input(SCENARIOS)) {
        if let Err(error) = Scenario::from_toml(Catalog::partner_center(), "fuzz.toml", &text) {
            prop_assert!(error.to_string().contains("fuzz.toml"), "{error}");
        }
    }

    #[test]
    fn fuzz_journey_toml(text in text_input(JOURNEYS)) {
        match Journey::from_toml("fuzz.toml", &text) {
            // A journey that parses is replayed by `serve --demo` and `gen`: replaying it must
            // refuse (typed) or succeed, never panic.
            Ok(journey) => {
                let anchor = "2026-11-24T10:00:00Z".parse().expect("a timestamp");
                let _ = journey.replay(Catalog::partner_center(), anchor);
            }
            Err(error) => prop_assert!(error.to_string().contains("fuzz.toml"), "{error}"),
        }
    }
}

#[test]
fn fuzz_case_counts() {
    for target in ["catalog_toml", "scenario_toml", "journey_toml"] {
        report(target, CASES);
    }
}
