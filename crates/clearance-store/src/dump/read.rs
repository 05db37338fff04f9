//! Reading a whole store as export records, in file order, from one consistent read: an SQLite
//! read transaction on a connection of its own, or a PostgreSQL `REPEATABLE READ` transaction.

use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, Executor};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{
    DocumentRecord, EventRecord, Header, IdempotencyLine, Record, SignInAttemptRecord,
    SignInRecord, SnapshotRecord, TokenRecord, raw_json,
};
use crate::records::to_u64;
use crate::{Backend, Store, StoreError};

/// Records per hand-over from the reading task.
const RECORDS_PER_BATCH: usize = 1024;
/// Batches that may wait for the consumer before the reading task pauses.
const QUEUE: usize = 8;

/// Every record of a store but the `end` line, in file order, read by a background task.
pub struct RecordStream {
    header: Header,
    batches: mpsc::Receiver<Result<Vec<Record>, StoreError>>,
    reader: JoinHandle<()>,
}

impl RecordStream {
    /// The header: the revision and schema version the whole stream was read at.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next records in file order (never empty), or `None` once all were read.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Record>>, StoreError> {
        match self.batches.recv().await {
            Some(batch) => batch.map(Some),
            None => Ok(None),
        }
    }
}

impl Drop for RecordStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The queries of one backend, each selecting text for JSON columns.
struct Queries {
    events: &'static str,
    orphan_snapshots: &'static str,
    documents: &'static str,
    tokens: &'static str,
    sign_ins: &'static str,
    attempts: &'static str,
    idempotency: &'static str,
}

/// Each event with, on the row of the event at its version, the tenant's snapshot.
const SQLITE: Queries = Queries {
    events: "SELECT e.tenant, e.seq, e.revision, e.kind, e.actor, e.payload, e.recorded_at, \
             s.version, s.state, s.saved_at FROM clearance_events e \
             LEFT JOIN clearance_snapshots s ON s.tenant = e.tenant AND s.version = e.seq \
             ORDER BY e.tenant, e.seq",
    orphan_snapshots: "SELECT s.tenant, s.version, s.state, s.saved_at FROM clearance_snapshots s \
             WHERE NOT EXISTS (SELECT 1 FROM clearance_events e \
             WHERE e.tenant = s.tenant AND e.seq = s.version) ORDER BY s.tenant",
    documents: "SELECT sha256, content_type, stored_at, bytes FROM clearance_blobs ORDER BY sha256",
    tokens: "SELECT token_hash, principal, created_at, revoked_at, expires_at_ms \
             FROM clearance_tokens ORDER BY token_hash",
    sign_ins: "SELECT login, tenant, phc_hash, principal, updated_at FROM clearance_passwords \
             ORDER BY login",
    attempts: "SELECT login, at_ms, client FROM clearance_sign_in_failures \
             ORDER BY at_ms, login",
    idempotency: "SELECT principal, key, request_hash, status, body, recorded_at \
             FROM clearance_idempotency ORDER BY principal, key",
};

const POSTGRES: Queries = Queries {
    events: "SELECT e.tenant, e.seq, e.revision, e.kind, e.actor, e.payload::text, \
             e.recorded_at, s.version, s.state::text, s.saved_at FROM clearance_events e \
             LEFT JOIN clearance_snapshots s ON s.tenant = e.tenant AND s.version = e.seq \
             ORDER BY e.tenant, e.seq",
    orphan_snapshots: "SELECT s.tenant, s.version, s.state::text, s.saved_at \
             FROM clearance_snapshots s WHERE NOT EXISTS (SELECT 1 FROM clearance_events e \
             WHERE e.tenant = s.tenant AND e.seq = s.version) ORDER BY s.tenant",
    documents: "SELECT sha256, content_type, stored_at, bytes FROM clearance_blobs ORDER BY sha256",
    tokens: "SELECT token_hash, principal::text, created_at, revoked_at, expires_at_ms \
             FROM clearance_tokens ORDER BY token_hash",
    sign_ins: "SELECT login, tenant, phc_hash, principal::text, updated_at \
             FROM clearance_passwords ORDER BY login",
    attempts: "SELECT login, at_ms, client FROM clearance_sign_in_failures \
             ORDER BY at_ms, login",
    idempotency: "SELECT principal, key, request_hash, status::bigint, body, recorded_at \
             FROM clearance_idempotency ORDER BY principal, key",
};

type EventJoinRow = (
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// Gathers records into batches and hands full ones to the consumer.
struct Batcher<'a> {
    batch: Vec<Record>,
    sender: &'a mpsc::Sender<Result<Vec<Record>, StoreError>>,
}

impl Batcher<'_> {
    /// Adds a record; `Err` when the consumer is gone (the read stops).
    async fn push(&mut self, record: Record) -> Result<(), ()> {
        self.batch.push(record);
        if self.batch.len() >= RECORDS_PER_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(RECORDS_PER_BATCH));
        self.sender.send(Ok(batch)).await.map_err(|_| ())
    }
}

fn event_records(row: EventJoinRow) -> Result<(Record, Option<Record>), StoreError> {
    let (tenant, seq, revision, kind, actor, payload, at, version, state, saved_at) = row;
    let snapshot = match (version, state, saved_at) {
        (Some(version), Some(state), Some(saved_at)) => Some(Record::Snapshot(SnapshotRecord {
            tenant: tenant.clone(),
            version: to_u64(version, "snapshot version")?,
            saved_at,
            state: raw_json(state, "snapshot state")?,
        })),
        _ => None,
    };
    let event = Record::Event(EventRecord {
        tenant,
        seq: to_u64(seq, "event seq")?,
        revision: to_u64(revision, "event revision")?,
        event_type: kind,
        actor,
        at,
        payload: raw_json(payload, "event payload")?,
    });
    Ok((event, snapshot))
}

/// Runs every query of `$queries` on `$connection` in order, handing records to `$batcher`;
/// evaluates to `Result<Result<(), ()>, StoreError>` (`Err(())`: the consumer is gone).
macro_rules! read_all {
    ($connection:expr, $queries:expr, $batcher:expr) => {
        async {
            let batcher = $batcher;
            {
                let mut rows =
                    sqlx::query_as::<_, EventJoinRow>($queries.events).fetch(&mut *$connection);
                while let Some(row) = rows.try_next().await? {
                    let (event, snapshot) = event_records(row)?;
                    if batcher.push(event).await.is_err() {
                        return Ok(Err(()));
                    }
                    if let Some(snapshot) = snapshot
                        && batcher.push(snapshot).await.is_err()
                    {
                        return Ok(Err(()));
                    }
                }
            }
            let orphans: Vec<(String, i64, String, String)> =
                sqlx::query_as($queries.orphan_snapshots)
                    .fetch_all(&mut *$connection)
                    .await?;
            for (tenant, version, state, saved_at) in orphans {
                let record = Record::Snapshot(SnapshotRecord {
                    tenant,
                    version: to_u64(version, "snapshot version")?,
                    saved_at,
                    state: raw_json(state, "snapshot state")?,
                });
                if batcher.push(record).await.is_err() {
                    return Ok(Err(()));
                }
            }
            {
                use base64::Engine as _;
                let mut rows =
                    sqlx::query_as::<_, (String, String, String, Vec<u8>)>($queries.documents)
                        .fetch(&mut *$connection);
                while let Some((sha256, content_type, stored_at, bytes)) = rows.try_next().await? {
                    let record = Record::Document(DocumentRecord {
                        sha256,
                        content_type,
                        stored_at,
                        bytes: base64::engine::general_purpose::STANDARD.encode(bytes),
                    });
                    if batcher.push(record).await.is_err() {
                        return Ok(Err(()));
                    }
                }
            }
            {
                let mut rows = sqlx::query_as::<
                    _,
                    (String, String, String, Option<String>, Option<i64>),
                >($queries.tokens)
                .fetch(&mut *$connection);
                while let Some((token_hash, principal, created_at, revoked_at, expires_at_ms)) =
                    rows.try_next().await?
                {
                    let record = Record::Token(TokenRecord {
                        token_hash,
                        principal: raw_json(principal, "token principal")?,
                        created_at,
                        revoked_at,
                        expires_at_ms,
                    });
                    if batcher.push(record).await.is_err() {
                        return Ok(Err(()));
                    }
                }
            }
            {
                let mut rows =
                    sqlx::query_as::<_, (String, Option<String>, String, String, String)>(
                        $queries.sign_ins,
                    )
                    .fetch(&mut *$connection);
                while let Some((login, tenant, phc_hash, principal, updated_at)) =
                    rows.try_next().await?
                {
                    let record = Record::SignIn(SignInRecord {
                        login,
                        tenant,
                        phc_hash,
                        principal: raw_json(principal, "sign-in principal")?,
                        updated_at,
                    });
                    if batcher.push(record).await.is_err() {
                        return Ok(Err(()));
                    }
                }
            }
            {
                let mut rows =
                    sqlx::query_as::<_, (String, i64, Option<String>)>($queries.attempts)
                        .fetch(&mut *$connection);
                while let Some((login, at_ms, client)) = rows.try_next().await? {
                    let record = Record::SignInAttempt(SignInAttemptRecord {
                        login,
                        at_ms,
                        client,
                    });
                    if batcher.push(record).await.is_err() {
                        return Ok(Err(()));
                    }
                }
            }
            {
                let mut rows = sqlx::query_as::<_, (String, String, String, i64, String, String)>(
                    $queries.idempotency,
                )
                .fetch(&mut *$connection);
                while let Some((principal, key, request_hash, status, body, recorded_at)) =
                    rows.try_next().await?
                {
                    let record = Record::Idempotency(IdempotencyLine {
                        principal,
                        key,
                        request_hash,
                        status,
                        body,
                        recorded_at,
                    });
                    if batcher.push(record).await.is_err() {
                        return Ok(Err(()));
                    }
                }
            }
            Ok::<_, StoreError>(batcher.flush().await)
        }
    };
}

/// The header of a read at `revision` of a store at `schema_version`.
fn header(schema_version: i64, revision: i64, source: &str) -> Result<Header, StoreError> {
    Ok(Header {
        format: super::FORMAT.to_owned(),
        format_version: super::FORMAT_VERSION,
        schema_version,
        revision: to_u64(revision, "global revision")?,
        exported_at: jiff::Timestamp::now().to_string(),
        source: source.to_owned(),
    })
}

const SCHEMA_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM clearance_schema";
const REVISION: &str = "SELECT revision FROM clearance_meta WHERE id = 1";

impl Store {
    /// Every record of the store (all but the `end` line), in the export's order, from one
    /// consistent read that writers do not wait for: what `export` writes and `verify` folds.
    pub async fn records(&self) -> Result<RecordStream, StoreError> {
        let (sender, batches) = mpsc::channel(QUEUE);
        let (header, reader) = match &*self.backend {
            Backend::Sqlite(store) => {
                // A connection of its own: one read transaction for the whole stream.
                let mut connection = SqliteConnectOptions::new()
                    .filename(store.path())
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .row_buffer_size(4096)
                    .connect()
                    .await?;
                connection.execute("BEGIN").await?;
                let schema: i64 = sqlx::query_scalar(SCHEMA_VERSION)
                    .fetch_one(&mut connection)
                    .await?;
                let revision: i64 = sqlx::query_scalar(REVISION)
                    .fetch_one(&mut connection)
                    .await?;
                let header = header(schema, revision, "sqlite")?;
                let reader = tokio::spawn(async move {
                    let mut batcher = Batcher {
                        batch: Vec::with_capacity(RECORDS_PER_BATCH),
                        sender: &sender,
                    };
                    let reading: &mut sqlx::SqliteConnection = &mut connection;
                    let result = read_all!(reading, SQLITE, &mut batcher).await;
                    if let Err(error) = result {
                        let _ = sender.send(Err(error)).await;
                    }
                    let _ = connection.execute("COMMIT").await;
                    let _ = connection.close().await;
                });
                (header, reader)
            }
            Backend::Postgres(store) => {
                let mut transaction = store.pool().begin().await?;
                transaction
                    .execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?;
                let schema: i64 = sqlx::query_scalar(SCHEMA_VERSION)
                    .fetch_one(&mut *transaction)
                    .await?;
                let revision: i64 = sqlx::query_scalar(REVISION)
                    .fetch_one(&mut *transaction)
                    .await?;
                let header = header(schema, revision, "postgres")?;
                let reader = tokio::spawn(async move {
                    let mut batcher = Batcher {
                        batch: Vec::with_capacity(RECORDS_PER_BATCH),
                        sender: &sender,
                    };
                    let reading: &mut sqlx::PgConnection = &mut transaction;
                    let result = read_all!(reading, POSTGRES, &mut batcher).await;
                    if let Err(error) = result {
                        let _ = sender.send(Err(error)).await;
                    }
                    let _ = transaction.commit().await;
                });
                (header, reader)
            }
        };
        Ok(RecordStream {
            header,
            batches,
            reader,
        })
    }
}
