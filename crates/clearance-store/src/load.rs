//! Start-up loading: every tenant's latest snapshot and the events after it, streamed from one
//! ordered query so a million tenants cost one pass, not a million queries.
//!
//! The reading task hands tenants over in batches ([`LOAD_BATCH`] at a time, so a million
//! tenants cost a thousand channel hand-overs, not a million) and leaves each snapshot as the
//! text it was stored as: the caller parses it straight into its own type
//! ([`TenantLoader::next_batch`]), with no intermediate [`serde_json::Value`].

use std::collections::VecDeque;

use futures_util::{Stream, TryStreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::records::{decode_event, decode_json, to_u64};
use crate::{Snapshot, StoreError, TenantHistory};

/// How many batches may wait for the caller before the reading task pauses.
pub(crate) const LOAD_QUEUE: usize = 8;

/// How many tenants one batch holds.
pub const LOAD_BATCH: usize = 1024;

/// A tenant's latest snapshot as stored: its version and the caller's state as the JSON text it
/// was saved as.
pub type RawSnapshot = Snapshot<String>;

/// What start-up needs for one tenant, with the snapshot left unparsed.
pub type RawHistory = TenantHistory<String>;

impl RawHistory {
    /// The history with its snapshot parsed into a JSON value.
    fn parse(self) -> Result<TenantHistory, StoreError> {
        let snapshot = self
            .snapshot
            .map(|snapshot| {
                Ok::<_, StoreError>(Snapshot {
                    version: snapshot.version,
                    state: decode_json(&snapshot.state, "snapshot state")?,
                })
            })
            .transpose()?;
        Ok(TenantHistory {
            tenant: self.tenant,
            snapshot,
            events: self.events,
        })
    }
}

/// One row of the start-up query: `tenant, snapshot version, snapshot state (only on the
/// tenant's first row), then one event after the snapshot as the JSON array
/// `[seq, revision, kind, actor, payload text, recorded_at]` (`NULL` for a tenant with nothing
/// after its snapshot)`. The event travels as one column rather than six: every column of
/// every row costs the driver a copy and an allocation, and most tenants have no event here.
pub(crate) type LoadRow = (String, Option<i64>, Option<String>, Option<String>);

/// An event column of the start-up query, as the database wrote it.
type EventColumns = (i64, i64, String, String, String, String);

/// Gathers consecutive rows of one tenant into its [`RawHistory`].
#[derive(Default)]
pub(crate) struct HistoryGrouper {
    current: Option<RawHistory>,
}

impl HistoryGrouper {
    /// Takes the next row; returns the previous tenant's history when this row starts a new one.
    pub(crate) fn push(&mut self, row: LoadRow) -> Result<Option<RawHistory>, StoreError> {
        let (tenant, snapshot_version, state, event) = row;
        let same_tenant = matches!(&self.current, Some(history) if history.tenant == tenant);
        let event = match event {
            Some(columns) => {
                let (seq, revision, kind, actor, payload, at): EventColumns =
                    serde_json::from_str(&columns)
                        .map_err(|error| StoreError::serialization("event columns", error))?;
                Some(decode_event((
                    tenant.clone(),
                    seq,
                    revision,
                    kind,
                    actor,
                    payload,
                    at,
                ))?)
            }
            None => None,
        };
        let finished = if same_tenant {
            None
        } else {
            let snapshot = match (snapshot_version, state) {
                (Some(version), Some(state)) => Some(RawSnapshot {
                    version: to_u64(version, "snapshot version")?,
                    state,
                }),
                (None, _) => None,
                (Some(_), None) => {
                    return Err(StoreError::serialization(
                        "snapshot state",
                        format!("missing on the first row of tenant `{tenant}`"),
                    ));
                }
            };
            self.current.replace(RawHistory {
                tenant,
                snapshot,
                events: Vec::new(),
            })
        };
        if let Some(event) = event {
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
    pub(crate) fn finish(self) -> Option<RawHistory> {
        self.current
    }
}

/// Groups the start-up query's rows into histories and sends them to the loader in batches of
/// [`LOAD_BATCH`]; stops early, without error, when the loader was dropped.
pub(crate) async fn send_histories(
    mut rows: impl Stream<Item = Result<LoadRow, sqlx::Error>> + Unpin,
    sender: &mpsc::Sender<Result<Vec<RawHistory>, StoreError>>,
) -> Result<(), StoreError> {
    let mut grouper = HistoryGrouper::default();
    let mut batch = Vec::with_capacity(LOAD_BATCH);
    while let Some(row) = rows.try_next().await? {
        let Some(history) = grouper.push(row)? else {
            continue;
        };
        batch.push(history);
        if batch.len() == LOAD_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(LOAD_BATCH));
            if sender.send(Ok(full)).await.is_err() {
                return Ok(());
            }
        }
    }
    batch.extend(grouper.finish());
    if !batch.is_empty() {
        let _ = sender.send(Ok(batch)).await;
    }
    Ok(())
}

/// Every tenant's start-up history, in tenant order, as one consistent read.
///
/// [`TenantLoader::revision`] is the global revision the read reflects: after loading, follow
/// [`crate::Store::events_after_revision`] from it, applying to a tenant only events whose `seq`
/// is one past the version it is at (a snapshot may be newer than the read).
///
/// Read it either tenant by tenant with parsed snapshots ([`TenantLoader::next`]) or in batches
/// with the snapshots as stored text ([`TenantLoader::next_batch`]); not both.
pub struct TenantLoader {
    revision: u64,
    tenants: u64,
    histories: mpsc::Receiver<Result<Vec<RawHistory>, StoreError>>,
    reader: Option<JoinHandle<()>>,
    /// The rest of the batch [`TenantLoader::next`] is handing out.
    pending: VecDeque<RawHistory>,
}

impl TenantLoader {
    pub(crate) fn new(
        revision: u64,
        tenants: u64,
        histories: mpsc::Receiver<Result<Vec<RawHistory>, StoreError>>,
        reader: JoinHandle<()>,
    ) -> Self {
        TenantLoader {
            revision,
            tenants,
            histories,
            reader: Some(reader),
            pending: VecDeque::new(),
        }
    }

    /// The global revision every loaded history includes.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// How many tenants the load brings (so a caller can size its tables once).
    pub fn tenants(&self) -> u64 {
        self.tenants
    }

    /// The next tenant's history, or `None` when all were loaded.
    pub async fn next(&mut self) -> Result<Option<TenantHistory>, StoreError> {
        loop {
            if let Some(history) = self.pending.pop_front() {
                return history.parse().map(Some);
            }
            match self.next_batch().await? {
                Some(batch) => self.pending.extend(batch),
                None => return Ok(None),
            }
        }
    }

    /// The next batch of tenants' histories (at most [`LOAD_BATCH`], never empty) with their
    /// snapshots as stored text, or `None` when all were loaded.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<RawHistory>>, StoreError> {
        if !self.pending.is_empty() {
            return Ok(Some(self.pending.drain(..).collect()));
        }
        match self.histories.recv().await {
            Some(batch) => batch.map(Some),
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
            serde_json::json!([
                seq,
                seq + 100,
                "noted",
                "alice",
                "{}",
                "2026-11-24T10:00:00Z"
            ])
            .to_string()
        });
        (
            tenant.to_owned(),
            snapshot.map(|(version, _)| version),
            snapshot.map(|(_, state)| state.to_owned()),
            event,
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

    #[tokio::test]
    async fn histories_travel_in_batches_and_parse_one_by_one() {
        let tenants = 2 * LOAD_BATCH + 1;
        let rows: Vec<Result<LoadRow, sqlx::Error>> = (0..tenants)
            .map(|n| Ok(row(&format!("t{n:05}"), Some((1, "{\"n\":1}")), None)))
            .collect();
        let (sender, receiver) = mpsc::channel(LOAD_QUEUE);
        let reader = tokio::spawn(async move {
            send_histories(futures_util::stream::iter(rows), &sender)
                .await
                .expect("rows are well formed");
        });
        let mut loader = TenantLoader::new(7, tenants as u64, receiver, reader);
        assert_eq!(loader.tenants(), tenants as u64);
        let first = loader.next().await.expect("loads").expect("a tenant");
        assert_eq!(first.tenant, "t00000");
        assert_eq!(
            first.snapshot.expect("a snapshot").state,
            serde_json::json!({"n": 1})
        );
        let mut sizes = Vec::new();
        while let Some(batch) = loader.next_batch().await.expect("loads") {
            assert_eq!(
                batch[0].snapshot.as_ref().expect("a snapshot").state,
                "{\"n\":1}"
            );
            sizes.push(batch.len());
        }
        assert_eq!(sizes, vec![LOAD_BATCH - 1, LOAD_BATCH, 1]);
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
