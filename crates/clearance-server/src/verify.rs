//! `clearance verify`: proof that a store's data is whole. The store checks what it can of
//! itself ([`Store::check_integrity`]: schema version, gap-free revisions, numbered logs,
//! document hashes, SQLite's integrity check); here every tenant is re-folded from its events
//! through the core and compared with its snapshot, so a snapshot that is not the fold of its
//! log, or an event the catalog cannot apply, is found before a server would load it.

use clearance_core::workflow::Event;
use clearance_core::{Catalog, Tenant};
use clearance_store::dump::{Progress, Record};
use clearance_store::{Store, StoreError};

use crate::service::SnapshotState;

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Tenants re-folded.
    pub tenants: u64,
    /// Events folded.
    pub events: u64,
    /// Snapshots compared with the fold (same catalog).
    pub snapshots_checked: u64,
    /// Snapshots taken under another catalog: not compared (the server replays those tenants
    /// from their events at start).
    pub snapshots_other_catalog: u64,
    /// Everything wrong, one sentence each; empty when the store is sound.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The tenant being re-folded.
struct Folding {
    state: Tenant,
    /// An event failed to apply: the rest of this tenant is not folded (one problem each).
    broken: bool,
}

/// Runs every check on `store` under `catalog`; `progress` hears the events folded so far.
pub async fn verify(
    catalog: &Catalog,
    store: &Store,
    progress: Progress,
) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport {
        problems: store
            .check_integrity()
            .await?
            .into_iter()
            .map(|problem| problem.to_string())
            .collect(),
        ..VerifyReport::default()
    };
    let fingerprint = catalog.fingerprint();
    let mut records = store.records().await?;
    let mut current: Option<Folding> = None;
    while let Some(batch) = records.next_batch().await? {
        for record in batch {
            match record {
                Record::Event(event) => {
                    let folding = match &mut current {
                        Some(folding) if folding.state.id == event.tenant => folding,
                        _ => {
                            report.tenants += 1;
                            current.insert(Folding {
                                state: Tenant::new(event.tenant.clone(), ""),
                                broken: false,
                            })
                        }
                    };
                    report.events += 1;
                    if folding.broken {
                        continue;
                    }
                    let applied = serde_json::from_str::<Event>(event.payload.get())
                        .map_err(|error| error.to_string())
                        .and_then(|domain| {
                            let at = event
                                .at
                                .parse()
                                .map_err(|error: jiff::Error| error.to_string())?;
                            folding
                                .state
                                .apply(catalog, &domain, at)
                                .map_err(|error| error.to_string())
                        });
                    if let Err(error) = applied {
                        folding.broken = true;
                        report.problems.push(format!(
                            "tenant `{}`: event {} ({}) does not fold: {error}",
                            event.tenant, event.seq, event.event_type
                        ));
                    }
                }
                Record::Snapshot(snapshot) => {
                    let folded = current
                        .as_ref()
                        .filter(|folding| folding.state.id == snapshot.tenant)
                        .filter(|folding| folding.state.version == snapshot.version);
                    let Some(folding) = folded else {
                        report.problems.push(format!(
                            "tenant `{}`: a snapshot at version {} that follows none of its \
                             events",
                            snapshot.tenant, snapshot.version
                        ));
                        continue;
                    };
                    if folding.broken {
                        continue;
                    }
                    match serde_json::from_str::<SnapshotState>(snapshot.state.get()) {
                        Err(error) => report.problems.push(format!(
                            "tenant `{}`: the snapshot at version {} cannot be read: {error}",
                            snapshot.tenant, snapshot.version
                        )),
                        Ok(stored) if stored.fingerprint != fingerprint => {
                            report.snapshots_other_catalog += 1;
                        }
                        Ok(stored) => {
                            report.snapshots_checked += 1;
                            if stored.tenant != folding.state {
                                report.problems.push(format!(
                                    "tenant `{}`: the snapshot at version {} is not the fold \
                                     of its events",
                                    snapshot.tenant, snapshot.version
                                ));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        progress(report.events);
    }
    Ok(report)
}
