//! Start-up loading: every tenant's latest snapshot and the events after it, streamed from one
//! ordered query so a million tenants cost one pass, not a million queries.

use futures_util::{Stream, TryStreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::records::{decode_event, decode_json, to_u64};
use crate::{Snapshot, StoreError, TenantHistory};

/// How many loaded tenants may wait for the caller before the reading task pauses.
pub(crate) const LOAD_QUEUE: usize = 1024;

/// One row of the start-up query: `tenant, snapshot version, snapshot state (only on the
/// tenant's first row), then the event columns (all `NULL` for a tenant with nothing after its
/// snapshot)`.
pub(crate) type LoadRow = (
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Gathers consecutive rows of one tenant into its [`TenantHistory`].
#[derive(Default)]
pub(crate) struct HistoryGrouper {
    current: Option<TenantHistory>,
}

impl HistoryGrouper {
    /// Takes the next row; returns the previous tenant's history when this row starts a new one.
    pub(crate) fn push(&mut self, row: LoadRow) -> Result<Option<TenantHistory>, StoreError> {
        let (tenant, snapshot_version, state, seq, revision, kind, actor, payload, recorded_at) =
            row;
        let finished = match &self.current {
            Some(history) if history.tenant == tenant => None,
            _ => {
                let snapshot = match (snapshot_version, state) {
                    (Some(version), Some(state)) => Some(Snapshot {
                        version: to_u64(version, "snapshot version")?,
                        state: decode_json(&state, "snapshot state")?,
                    }),
                    (None, _) => None,
                    (Some(_), None) => {
                        return Err(StoreError::serialization(
                            "snapshot state",
                            format!("missing on the first row of tenant `{tenant}`"),
                        ));
                    }
                };
                self.current.replace(TenantHistory {
                    tenant: tenant.clone(),
                    snapshot,
                    events: Vec::new(),
                })
            }
        };
        if let (Some(seq), Some(revision), Some(kind), Some(actor), Some(payload), Some(at)) =
            (seq, revision, kind, actor, payload, recorded_at)
        {
            let event = decode_event((tenant, seq, revision, kind, actor, payload, at))?;
            let history = self
                .current
                .as_mut()
                .expect("a history was started for this row above");
            let expected = history.version() + 1;
            if event.seq != expected {
                return Err(StoreError::serialization(
                    "event seq",
                    format!(
                        "tenant `{}` has seq {} where {expected} was expected",
                        history.tenant, event.seq
                    ),
                ));
            }
            history.events.push(event);
        }
        Ok(finished)
    }

    /// The last tenant's history, once the rows are exhausted.
    pub(crate) fn finish(self) -> Option<TenantHistory> {
        self.current
    }
}

/// Groups the start-up query's rows into histories and sends each to the loader; stops early,
/// without error, when the loader was dropped.
pub(crate) async fn send_histories(
    mut rows: impl Stream<Item = Result<LoadRow, sqlx::Error>> + Unpin,
    sender: &mpsc::Sender<Result<TenantHistory, StoreError>>,
) -> Result<(), StoreError> {
    let mut grouper = HistoryGrouper::default();
    while let Some(row) = rows.try_next().await? {
        let Some(history) = grouper.push(row)? else {
            continue;
        };
        if sender.send(Ok(history)).await.is_err() {
            return Ok(());
        }
    }
    if let Some(history) = grouper.finish() {
        let _ = sender.send(Ok(history)).await;
    }
    Ok(())
}

/// Every tenant's start-up history, in tenant order, as one consistent read.
///
/// [`TenantLoader::revision`] is the global revision the read reflects: after loading, follow
/// [`crate::Store::events_after_revision`] from it, applying to a tenant only events whose `seq`
/// is one past the version it is at (a snapshot may be newer than the read).
pub struct TenantLoader {
    revision: u64,
    histories: mpsc::Receiver<Result<TenantHistory, StoreError>>,
    reader: Option<JoinHandle<()>>,
}

impl TenantLoader {
    pub(crate) fn new(
        revision: u64,
        histories: mpsc::Receiver<Result<TenantHistory, StoreError>>,
        reader: JoinHandle<()>,
    ) -> Self {
        TenantLoader {
            revision,
            histories,
            reader: Some(reader),
        }
    }

    /// The global revision every loaded history includes.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The next tenant's history, or `None` when all were loaded.
    pub async fn next(&mut self) -> Result<Option<TenantHistory>, StoreError> {
        match self.histories.recv().await {
            Some(history) => history.map(Some),
            None => match self.reader.take() {
                // The reader ends by dropping its sender; one that died mid-way must not look
                // like a complete load.
                Some(reader) => match reader.await {
                    Ok(()) => Ok(None),
                    Err(error) => Err(StoreError::serialization(
                        "tenant histories",
                        format!("the loading task failed: {error}"),
                    )),
                },
                None => Ok(None),
            },
        }
    }
}

impl Drop for TenantLoader {
    fn drop(&mut self) {
        if let Some(reader) = &self.reader {
            reader.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tenant: &str, snapshot: Option<(i64, &str)>, seq: Option<i64>) -> LoadRow {
        let event = seq.map(|seq| {
            (
                seq,
                seq + 100,
                "noted".to_owned(),
                "alice".to_owned(),
                "{}".to_owned(),
                "2026-11-24T10:00:00Z".to_owned(),
            )
        });
        (
            tenant.to_owned(),
            snapshot.map(|(version, _)| version),
            snapshot.map(|(_, state)| state.to_owned()),
            event.as_ref().map(|event| event.0),
            event.as_ref().map(|event| event.1),
            event.as_ref().map(|event| event.2.clone()),
            event.as_ref().map(|event| event.3.clone()),
            event.as_ref().map(|event| event.4.clone()),
            event.map(|event| event.5),
        )
    }

    #[test]
    fn consecutive_rows_of_a_tenant_become_one_history() {
        let mut grouper = HistoryGrouper::default();
        let mut histories = Vec::new();
        for row in [
            row("a", None, Some(1)),
            row("a", None, Some(2)),
            row("b", Some((3, "{\"n\":3}")), None),
            row("c", Some((2, "{}")), Some(3)),
        ] {
            histories.extend(grouper.push(row).expect("rows are well formed"));
        }
        histories.extend(grouper.finish());
        let summary: Vec<_> = histories
            .iter()
            .map(|history| {
                (
                    history.tenant.as_str(),
                    history.events.len(),
                    history.version(),
                )
            })
            .collect();
        assert_eq!(summary, vec![("a", 2, 2), ("b", 0, 3), ("c", 1, 3)]);
    }

    #[test]
    fn a_gap_after_the_snapshot_is_refused() {
        let mut grouper = HistoryGrouper::default();
        let error = grouper
            .push(row("a", Some((2, "{}")), Some(4)))
            .expect_err("seq 3 is missing");
        assert!(
            error.to_string().contains("seq 4 where 3 was expected"),
            "{error}"
        );
    }
}
