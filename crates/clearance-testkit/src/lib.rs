//! Test-only helpers shared by clearance's tests, kept out of the production
//! crates: the seed tenant (read from `scenarios/`), a demo server on a
//! loopback port, the kill -9 durability checks, and the fuzzing generators. Used only as a
//! dev-dependency (`publish = false`).

#![warn(missing_docs)]

pub mod crash;
pub mod fuzz;
pub mod server;

use clearance_core::{Catalog, Diagnosis, Scenario};

/// The seed's case, the one fixture every test that needs "the seed tenant"
/// shares: `scenarios/01-seed-pending-past-sla.toml` (also the CLI's first example).
pub const SEED: &str = include_str!("../../../scenarios/01-seed-pending-past-sla.toml");

/// The seed's case parsed against the default catalog.
pub fn seed() -> Scenario {
    Scenario::from_toml(
        Catalog::partner_center(),
        "scenarios/01-seed-pending-past-sla.toml",
        SEED,
    )
    .expect("the seed scenario is valid (the states corpus checks it)")
}

/// A diagnosis as a person reads it (the cause, then each step's code and
/// text): the form its snapshots are reviewed in.
pub fn render_diagnosis(diagnosis: &Diagnosis) -> String {
    let mut text = format!("cause: {}\n", diagnosis.cause);
    for (n, step) in diagnosis.steps.iter().enumerate() {
        text.push_str(&format!(
            "{}. {}\n   {}\n",
            n + 1,
            step.code.as_str(),
            step.text
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_seed_is_contoso_pending_past_its_sla() {
        let seed = super::seed();
        assert_eq!(
            (seed.tenant.id.as_str(), seed.user.id.as_str()),
            ("contoso", "alice")
        );
        assert_eq!(seed.now, "2026-11-24T10:00:00Z".parse().expect("timestamp"));
    }
}
