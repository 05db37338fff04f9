//! Group commit: each store has one writer task that takes every append queued while it was
//! busy and commits them in one transaction, so one disk flush serves many callers.
//!
//! The batch is planned in memory before anything is written: the writer reads the current
//! versions of the batch's tenants and the idempotency keys already recorded, then decides each
//! append on its own (a stale one is refused and contributes nothing), so one failed append never
//! touches the others. Each caller is answered only after the commit.
//!
//! A caller waits a bounded time ([`crate::StoreOptions::write_timeout`]). Whether a late append
//! is still written is decided by its [`Claim`]: the writer claims every append it plans, after
//! the transaction holds the store's write lock, and the caller abandons one whose deadline
//! passed; whichever comes first wins. An abandoned append is never planned, so it is never
//! committed later; a claimed one is answered by the writer, which bounds its transaction too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use std::collections::{HashMap, HashSet};

use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

use crate::records::EncodedEvent;
use crate::{Appended, IdempotencyRecord, StoreError};

/// The most events one transaction takes; more wait for the next commit.
const MAX_BATCH_EVENTS: usize = 8192;

/// One caller's append, waiting for the writer.
pub(crate) struct AppendRequest {
    pub tenant: String,
    pub expected: u64,
    pub events: Vec<EncodedEvent>,
    pub idempotency: Option<IdempotencyRecord>,
}

/// An append and where to send its outcome.
pub(crate) struct PendingAppend {
    pub request: AppendRequest,
    pub reply: oneshot::Sender<Result<Appended, StoreError>>,
    pub claim: Claim,
}

/// Who decides an append's fate once its caller's deadline is near: the writer (it planned the
/// append into a transaction) or the caller (it gave up first, so the append is never written).
#[derive(Clone, Debug, Default)]
pub(crate) struct Claim(Arc<AtomicU8>);

const WAITING: u8 = 0;
const CLAIMED: u8 = 1;
const ABANDONED: u8 = 2;

impl Claim {
    /// The writer takes the append into its transaction; false once the caller abandoned it.
    /// Claiming again (a batch retried) is allowed.
    pub(crate) fn claim(&self) -> bool {
        match self
            .0
            .compare_exchange(WAITING, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == CLAIMED,
        }
    }

    /// The caller gives up; false when the writer claimed the append first.
    fn abandon(&self) -> bool {
        self.0
            .compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Whether the writer took the append into a transaction.
    pub(crate) fn is_claimed(&self) -> bool {
        self.0.load(Ordering::Acquire) == CLAIMED
    }
}

/// Queues `pending` for the writer and waits for its outcome, at most `limit` before the writer
/// claims it (then [`StoreError::Unavailable`]: it will never be written), and at most `limit`
/// more for a claimed append's transaction (then [`StoreError::OutcomeUnknown`], which the writer
/// also answers when its own bound on the transaction passes).
pub(crate) async fn submit<W>(
    writer: &mpsc::Sender<Command<W>>,
    request: AppendRequest,
    limit: Duration,
) -> Result<Appended, StoreError> {
    let (reply, outcome) = oneshot::channel();
    let claim = Claim::default();
    let pending = PendingAppend {
        request,
        reply,
        claim: claim.clone(),
    };
    let unavailable = StoreError::Unavailable { waited: limit };
    match timeout(limit, writer.send(Command::Append(pending))).await {
        Ok(sent) => sent.map_err(|_| StoreError::Closed)?,
        // Never queued, so never written.
        Err(_) => return Err(unavailable),
    }
    let mut outcome = outcome;
    match timeout(limit, &mut outcome).await {
        Ok(answer) => return answer.map_err(|_| StoreError::Closed)?,
        Err(_) if claim.abandon() => return Err(unavailable),
        Err(_) => {}
    }
    match timeout(limit, outcome).await {
        Ok(answer) => answer.map_err(|_| StoreError::Closed)?,
        Err(_) => Err(StoreError::OutcomeUnknown { waited: limit * 2 }),
    }
}

/// The failure a writer answers when its bound on a batch's transaction passed: an append it
/// had claimed may have committed, one it had not never will.
pub(crate) fn timed_out(appends: &[PendingAppend], limit: Duration) -> StoreError {
    if appends.iter().any(|pending| pending.claim.is_claimed()) {
        StoreError::OutcomeUnknown { waited: limit }
    } else {
        StoreError::Unavailable { waited: limit }
    }
}

/// What the writer task is asked to do. `W` is the backend's other writes that also go through
/// the writer (SQLite has one writer for everything; PostgreSQL uses `Infallible`).
pub(crate) enum Command<W> {
    Append(PendingAppend),
    Write(W, oneshot::Sender<Result<(), StoreError>>),
    /// Finish what is queued before this, then stop.
    Shutdown(oneshot::Sender<()>),
}

/// The commands one transaction serves.
pub(crate) struct Batch<W> {
    pub appends: Vec<PendingAppend>,
    pub writes: Vec<(W, oneshot::Sender<Result<(), StoreError>>)>,
    pub shutdown: Option<oneshot::Sender<()>>,
}

impl<W> Batch<W> {
    /// Answers every caller in the batch with the same failure.
    pub(crate) fn fail(self, error: &StoreError) -> Option<oneshot::Sender<()>> {
        for pending in self.appends {
            // A caller that gave up waiting is not the writer's concern.
            let _ = pending.reply.send(Err(error.clone()));
        }
        for (_, reply) in self.writes {
            let _ = reply.send(Err(error.clone()));
        }
        self.shutdown
    }
}

/// Waits for the next command, then takes whatever else is already queued (up to
/// [`MAX_BATCH_EVENTS`] events, and never past a shutdown). `None` when every sender is gone.
pub(crate) async fn next_batch<W>(commands: &mut mpsc::Receiver<Command<W>>) -> Option<Batch<W>> {
    let mut batch = Batch {
        appends: Vec::new(),
        writes: Vec::new(),
        shutdown: None,
    };
    let mut events = 0;
    let mut next = commands.recv().await;
    while let Some(command) = next.take() {
        match command {
            Command::Append(pending) => {
                events += pending.request.events.len().max(1);
                batch.appends.push(pending);
            }
            Command::Write(write, reply) => {
                events += 1;
                batch.writes.push((write, reply));
            }
            Command::Shutdown(done) => {
                batch.shutdown = Some(done);
                break;
            }
        }
        if events < MAX_BATCH_EVENTS {
            next = commands.try_recv().ok();
        }
    }
    if batch.appends.is_empty() && batch.writes.is_empty() && batch.shutdown.is_none() {
        None
    } else {
        Some(batch)
    }
}

/// An event with its place decided.
pub(crate) struct PlannedEvent<'a> {
    pub revision: u64,
    pub tenant: &'a str,
    pub seq: u64,
    pub event: &'a EncodedEvent,
}

/// What a batch writes and what each caller is told.
pub(crate) struct BatchPlan<'a> {
    /// One per append, in batch order.
    pub outcomes: Vec<Result<Appended, StoreError>>,
    pub events: Vec<PlannedEvent<'a>>,
    /// The new version of every tenant the batch appended to.
    pub tenant_versions: Vec<(&'a str, u64)>,
    pub idempotency: Vec<&'a IdempotencyRecord>,
    /// The global revision after the batch.
    pub revision: u64,
}

/// Decides each append of a batch in order, given the global `revision` before the batch, the
/// stored `versions` of the batch's tenants (absent = 0) and the idempotency keys already
/// recorded as `(principal, key)`. Later appends see the effect of earlier ones in the batch.
pub(crate) fn plan_batch<'a>(
    appends: &'a [PendingAppend],
    mut revision: u64,
    versions: &HashMap<String, u64>,
    recorded_keys: &HashSet<(String, String)>,
) -> BatchPlan<'a> {
    let mut current: HashMap<&'a str, u64> = HashMap::new();
    let mut batch_keys: HashSet<(&'a str, &'a str)> = HashSet::new();
    let mut plan = BatchPlan {
        outcomes: Vec::with_capacity(appends.len()),
        events: Vec::new(),
        tenant_versions: Vec::new(),
        idempotency: Vec::new(),
        revision,
    };
    for PendingAppend { request, claim, .. } in appends {
        if !claim.claim() {
            // Its caller gave up: it must never be written, now or later.
            plan.outcomes.push(Err(StoreError::Abandoned));
            continue;
        }
        let tenant = request.tenant.as_str();
        if let Some(record) = &request.idempotency {
            let key = (record.principal.as_str(), record.key.as_str());
            let recorded = recorded_keys.contains(&(record.principal.clone(), record.key.clone()));
            if recorded || batch_keys.contains(&key) {
                plan.outcomes.push(Err(StoreError::DuplicateIdempotencyKey {
                    principal: record.principal.clone(),
                    key: record.key.clone(),
                }));
                continue;
            }
        }
        let actual = current
            .get(tenant)
            .copied()
            .or_else(|| versions.get(tenant).copied())
            .unwrap_or(0);
        if actual != request.expected {
            plan.outcomes.push(Err(StoreError::Conflict {
                tenant: request.tenant.clone(),
                expected: request.expected,
                actual,
            }));
            continue;
        }
        let mut version = actual;
        for event in &request.events {
            version += 1;
            revision += 1;
            plan.events.push(PlannedEvent {
                revision,
                tenant,
                seq: version,
                event,
            });
        }
        if version != actual {
            current.insert(tenant, version);
        }
        if let Some(record) = &request.idempotency {
            batch_keys.insert((record.principal.as_str(), record.key.as_str()));
            plan.idempotency.push(record);
        }
        plan.outcomes.push(Ok(Appended { version, revision }));
    }
    plan.tenant_versions = current.into_iter().collect();
    plan.revision = revision;
    plan
}

/// The distinct tenants of a batch, for reading their versions in one query.
pub(crate) fn batch_tenants(appends: &[PendingAppend]) -> Vec<&str> {
    let mut seen = HashSet::new();
    appends
        .iter()
        .map(|pending| pending.request.tenant.as_str())
        .filter(|tenant| seen.insert(*tenant))
        .collect()
}

/// The `(principal, key)` of every idempotency record in a batch.
pub(crate) fn batch_keys(appends: &[PendingAppend]) -> Vec<(&str, &str)> {
    appends
        .iter()
        .filter_map(|pending| pending.request.idempotency.as_ref())
        .map(|record| (record.principal.as_str(), record.key.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str) -> EncodedEvent {
        EncodedEvent {
            kind: kind.to_owned(),
            actor: "alice".to_owned(),
            payload: "{}".to_owned(),
            recorded_at: "2026-11-24T10:00:00Z".to_owned(),
        }
    }

    fn append(tenant: &str, expected: u64, events: usize, key: Option<&str>) -> PendingAppend {
        PendingAppend {
            request: AppendRequest {
                tenant: tenant.to_owned(),
                expected,
                events: (0..events).map(|_| event("noted")).collect(),
                idempotency: key.map(|key| IdempotencyRecord {
                    key: key.to_owned(),
                    principal: "p".to_owned(),
                    request_hash: "h".to_owned(),
                    status: 200,
                    body: "{}".to_owned(),
                }),
            },
            reply: oneshot::channel().0,
            claim: Claim::default(),
        }
    }

    #[test]
    fn later_appends_in_a_batch_see_earlier_ones_and_a_stale_one_changes_nothing() {
        let appends = vec![
            append("a", 2, 2, None),
            append("b", 0, 1, None),
            append("a", 2, 1, None),
            append("a", 4, 1, None),
        ];
        let versions = HashMap::from([("a".to_owned(), 2)]);
        let plan = plan_batch(&appends, 10, &versions, &HashSet::new());
        let outcomes: Vec<_> = plan
            .outcomes
            .iter()
            .map(|outcome| outcome.as_ref().map_err(ToString::to_string).cloned())
            .collect();
        assert_eq!(
            outcomes,
            vec![
                Ok(Appended {
                    version: 4,
                    revision: 12
                }),
                Ok(Appended {
                    version: 1,
                    revision: 13
                }),
                Err(
                    "tenant `a` is at version 4, but the write expected version 2; nothing was written"
                        .to_owned()
                ),
                Ok(Appended {
                    version: 5,
                    revision: 14
                }),
            ]
        );
        let placed: Vec<_> = plan
            .events
            .iter()
            .map(|event| (event.revision, event.tenant, event.seq))
            .collect();
        assert_eq!(
            placed,
            vec![(11, "a", 3), (12, "a", 4), (13, "b", 1), (14, "a", 5)]
        );
        let mut versions = plan.tenant_versions.clone();
        versions.sort();
        assert_eq!(versions, vec![("a", 5), ("b", 1)]);
        assert_eq!(plan.revision, 14);
    }

    #[test]
    fn a_recorded_or_repeated_idempotency_key_refuses_the_append() {
        let appends = vec![
            append("a", 0, 1, Some("k1")),
            append("b", 0, 1, Some("k2")),
            append("c", 0, 1, Some("k2")),
        ];
        let recorded = HashSet::from([("p".to_owned(), "k1".to_owned())]);
        let plan = plan_batch(&appends, 0, &HashMap::new(), &recorded);
        assert!(matches!(
            &plan.outcomes[0],
            Err(StoreError::DuplicateIdempotencyKey { key, .. }) if key == "k1"
        ));
        assert!(plan.outcomes[1].is_ok());
        assert!(matches!(
            &plan.outcomes[2],
            Err(StoreError::DuplicateIdempotencyKey { key, .. }) if key == "k2"
        ));
        assert_eq!(plan.idempotency.len(), 1);
        assert_eq!(plan.events.len(), 1);
        assert_eq!(plan.revision, 1);
    }

    #[test]
    fn an_append_of_no_events_checks_the_version_and_reports_the_current_revision() {
        let appends = vec![append("a", 0, 0, Some("k")), append("a", 1, 0, None)];
        let plan = plan_batch(&appends, 7, &HashMap::new(), &HashSet::new());
        assert!(matches!(
            plan.outcomes[0],
            Ok(Appended {
                version: 0,
                revision: 7
            })
        ));
        assert!(matches!(
            plan.outcomes[1],
            Err(StoreError::Conflict { actual: 0, .. })
        ));
        assert!(plan.tenant_versions.is_empty());
    }

    #[test]
    fn an_append_its_caller_abandoned_is_never_planned_and_a_claimed_one_cannot_be_abandoned() {
        let appends = vec![append("a", 0, 1, Some("gone")), append("b", 0, 1, None)];
        assert!(appends[0].claim.abandon());
        let plan = plan_batch(&appends, 0, &HashMap::new(), &HashSet::new());
        assert!(matches!(plan.outcomes[0], Err(StoreError::Abandoned)));
        assert!(plan.idempotency.is_empty());
        assert_eq!(plan.events.len(), 1);
        assert_eq!(plan.events[0].tenant, "b");
        assert!(appends[1].claim.is_claimed());
        assert!(!appends[1].claim.abandon());
        // A batch retried claims its appends again.
        assert!(appends[1].claim.claim());
    }
}
