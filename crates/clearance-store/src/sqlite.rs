//! The embedded backend: one SQLite file in WAL mode with `synchronous = FULL`, one writer task
//! that group-commits every write, and a pool of readers.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Executor};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::auth::{self, AuthWrite};
use crate::bulk::{SqliteImport, import_sqlite};
use crate::group_commit::{
    AppendRequest, Batch, Command, batch_keys, batch_tenants, next_batch, plan_batch, submit,
};
use crate::load::{LOAD_QUEUE, LoadRow, TenantLoader, send_histories};
use crate::notify::RevisionSignal;
use crate::records::{EventRow, decode_event, decode_json, to_i64, to_u64};
use crate::{Blob, IdempotencyRecord, PasswordRecord, StoreError, StoreOptions, migrations};

/// How long a connection waits for SQLite's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Writes queued for the writer before callers wait to enqueue.
const WRITE_QUEUE: usize = 16_384;

/// A write other than an append; it goes through the writer so that SQLite never has two
/// writers contending for its lock.
pub(crate) enum SqliteWrite {
    Snapshot {
        tenant: String,
        version: u64,
        state: String,
    },
    Idempotency(IdempotencyRecord),
    Blob(Blob),
    Token {
        token_hash: String,
        principal: String,
    },
    RevokeToken {
        token_hash: String,
    },
    Password {
        login: String,
        tenant: Option<String>,
        phc_hash: String,
        principal: String,
    },
    /// Many new tenants' events and snapshots (see `bulk`).
    Import(Arc<SqliteImport>),
    /// Expiring tokens and failed sign-ins (see `auth`).
    Auth(AuthWrite),
}

pub(crate) struct SqliteStore {
    path: PathBuf,
    writer: mpsc::Sender<Command<SqliteWrite>>,
    readers: SqlitePool,
    signal: Arc<RevisionSignal>,
    /// See [`StoreOptions::write_timeout`].
    write_timeout: Duration,
    writer_task: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteStore {
    pub(crate) async fn open(path: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|error| StoreError::InvalidInput {
                field: "location",
                value: path.display().to_string(),
                reason: format!("its directory cannot be created: {error}"),
            })?;
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged commit is on disk, surviving power loss, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let mut writer = connect.connect().await?;
        migrations::migrate_sqlite(&mut writer).await?;
        let revision: i64 = sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1")
            .fetch_one(&mut writer)
            .await?;
        // A deep row channel lets the start-up stream run ahead of its consumer instead of
        // handing every row over between threads one at a time.
        let readers = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(1)
            // Reading through a memory map spares start-up a copy per page from the OS cache.
            .connect_with(
                connect
                    .row_buffer_size(4096)
                    .pragma("mmap_size", "4294967296"),
            )
            .await?;
        let signal = Arc::new(RevisionSignal::new(to_u64(revision, "global revision")?));
        let (sender, commands) = mpsc::channel(WRITE_QUEUE);
        let writer_task = tokio::spawn(run_writer(writer, commands, signal.clone()));
        tracing::info!(path = %path.display(), revision, "opened SQLite store");
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: sender,
            readers,
            signal,
            write_timeout: options.write_timeout,
            writer_task: Mutex::new(Some(writer_task)),
        })
    }

    pub(crate) fn signal(&self) -> &RevisionSignal {
        &self.signal
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) async fn append(
        &self,
        request: AppendRequest,
    ) -> Result<crate::Appended, StoreError> {
        submit(&self.writer, request, self.write_timeout).await
    }

    /// The pool of read-only connections.
    pub(crate) fn readers(&self) -> &SqlitePool {
        &self.readers
    }

    pub(crate) async fn write(&self, write: SqliteWrite) -> Result<(), StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.writer
            .send(Command::Write(write, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn close(&self) {
        let (done, finished) = oneshot::channel();
        if self.writer.send(Command::Shutdown(done)).await.is_ok() {
            let _ = finished.await;
        }
        if let Some(task) = self.writer_task.lock().await.take() {
            let _ = task.await;
        }
        self.readers.close().await;
    }

    pub(crate) async fn tenant_events(
        &self,
        tenant: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<crate::StoredEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT tenant, seq, revision, kind, actor, payload, recorded_at FROM clearance_events \
             WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .bind(tenant)
        .bind(to_i64(after_seq, "after_seq")?)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.into_iter().map(decode_event).collect()
    }

    pub(crate) async fn events_after_revision(
        &self,
        revision: u64,
        limit: u32,
    ) -> Result<Vec<crate::StoredEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT tenant, seq, revision, kind, actor, payload, recorded_at FROM clearance_events \
             WHERE revision > ?1 ORDER BY revision LIMIT ?2",
        )
        .bind(to_i64(revision, "revision")?)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.into_iter().map(decode_event).collect()
    }

    pub(crate) async fn current_revision(&self) -> Result<u64, StoreError> {
        let revision: i64 = sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1")
            .fetch_one(&self.readers)
            .await?;
        to_u64(revision, "global revision")
    }

    pub(crate) async fn tenant_version(&self, tenant: &str) -> Result<u64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM clearance_tenants WHERE tenant = ?1")
                .bind(tenant)
                .fetch_optional(&self.readers)
                .await?;
        to_u64(version.unwrap_or(0), "tenant version")
    }

    pub(crate) async fn list_tenants(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT tenant FROM clearance_tenants ORDER BY tenant")
                .fetch_all(&self.readers)
                .await?,
        )
    }

    pub(crate) async fn load_all(&self) -> Result<TenantLoader, StoreError> {
        // A connection of its own, closed when the load ends: the load reads the whole file
        // through a memory map, and a pooled connection would keep every page it touched
        // mapped, and so resident in this process, for as long as the pool keeps it.
        let mut connection = SqliteConnectOptions::new()
            .filename(&self.path)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT)
            .row_buffer_size(4096)
            .pragma("mmap_size", "4294967296")
            .connect()
            .await?;
        // The first read fixes the snapshot the whole load sees (WAL gives each read
        // transaction one consistent view).
        connection.execute("BEGIN").await?;
        let revision: i64 = sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1")
            .fetch_one(&mut connection)
            .await?;
        let revision = to_u64(revision, "global revision")?;
        let tenants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clearance_tenants")
            .fetch_one(&mut connection)
            .await?;
        let tenants = to_u64(tenants, "tenant count")?;
        let (sender, histories) = mpsc::channel(LOAD_QUEUE);
        let reader = tokio::spawn(async move {
            let rows = sqlx::query_as::<_, LoadRow>(LOAD_QUERY).fetch(&mut connection);
            let result = send_histories(rows, &sender).await;
            if let Err(error) = result {
                let _ = sender.send(Err(error)).await;
            }
            let _ = connection.execute("COMMIT").await;
            let _ = connection.close().await;
        });
        Ok(TenantLoader::new(revision, tenants, histories, reader))
    }

    pub(crate) async fn idempotency_lookup(
        &self,
        principal: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row: Option<(String, i64, String)> = sqlx::query_as(
            "SELECT request_hash, status, body FROM clearance_idempotency \
             WHERE principal = ?1 AND key = ?2",
        )
        .bind(principal)
        .bind(key)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|(request_hash, status, body)| {
            Ok(IdempotencyRecord {
                key: key.to_owned(),
                principal: principal.to_owned(),
                request_hash,
                status: u16::try_from(status)
                    .map_err(|error| StoreError::serialization("idempotency status", error))?,
                body,
            })
        })
        .transpose()
    }

    pub(crate) async fn get_blob(&self, sha256_hex: &str) -> Result<Option<Blob>, StoreError> {
        let row: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT content_type, bytes FROM clearance_blobs WHERE sha256 = ?1")
                .bind(sha256_hex)
                .fetch_optional(&self.readers)
                .await?;
        Ok(row.map(|(content_type, bytes)| Blob {
            sha256: sha256_hex.to_owned(),
            content_type,
            bytes,
        }))
    }

    pub(crate) async fn find_token(&self, token_hash: &str) -> Result<Option<Value>, StoreError> {
        let principal: Option<String> = sqlx::query_scalar(
            "SELECT principal FROM clearance_tokens WHERE token_hash = ?1 AND revoked_at IS NULL \
             AND (expires_at_ms IS NULL OR expires_at_ms > ?2)",
        )
        .bind(token_hash)
        .bind(jiff::Timestamp::now().as_millisecond())
        .fetch_optional(&self.readers)
        .await?;
        principal
            .map(|principal| decode_json(&principal, "token principal"))
            .transpose()
    }

    pub(crate) async fn find_password(
        &self,
        login: &str,
    ) -> Result<Option<PasswordRecord>, StoreError> {
        let row: Option<(Option<String>, String, String)> = sqlx::query_as(
            "SELECT tenant, phc_hash, principal FROM clearance_passwords WHERE login = ?1",
        )
        .bind(login)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|(tenant, phc_hash, principal)| {
            Ok(PasswordRecord {
                login: login.to_owned(),
                tenant,
                phc_hash,
                principal: decode_json(&principal, "password principal")?,
            })
        })
        .transpose()
    }
}

/// The start-up query: every tenant in order, its snapshot, and the events after it. The
/// snapshot's state rides only on the tenant's first row, so it is not repeated per event.
const LOAD_QUERY: &str = "\
    SELECT t.tenant, s.version, \
           CASE WHEN e.seq IS NULL OR e.seq = COALESCE(s.version, 0) + 1 THEN s.state END, \
           CASE WHEN e.seq IS NOT NULL THEN \
               json_array(e.seq, e.revision, e.kind, e.actor, e.payload, e.recorded_at) END \
    FROM clearance_tenants t \
    LEFT JOIN clearance_snapshots s ON s.tenant = t.tenant \
    LEFT JOIN clearance_events e ON e.tenant = t.tenant AND e.seq > COALESCE(s.version, 0) \
    ORDER BY t.tenant, e.seq";

/// The writer task: commits batches until shut down or every handle is dropped.
async fn run_writer(
    mut connection: SqliteConnection,
    mut commands: mpsc::Receiver<Command<SqliteWrite>>,
    signal: Arc<RevisionSignal>,
) {
    while let Some(batch) = next_batch(&mut commands).await {
        let shutdown = match commit_batch(&mut connection, &batch).await {
            Ok(committed) => {
                if let Some(revision) = committed.advanced_to {
                    signal.advance(revision);
                }
                let Batch {
                    appends,
                    writes,
                    shutdown,
                } = batch;
                for (pending, outcome) in appends.into_iter().zip(committed.appends) {
                    let _ = pending.reply.send(outcome);
                }
                for ((_, reply), outcome) in writes.into_iter().zip(committed.writes) {
                    let _ = reply.send(outcome);
                }
                shutdown
            }
            Err(error) => {
                tracing::error!(%error, "SQLite group commit failed; the batch was rolled back");
                batch.fail(&error)
            }
        };
        if let Some(done) = shutdown {
            let _ = connection.close().await;
            let _ = done.send(());
            return;
        }
    }
    let _ = connection.close().await;
}

struct Committed {
    appends: Vec<Result<crate::Appended, StoreError>>,
    writes: Vec<Result<(), StoreError>>,
    advanced_to: Option<u64>,
}

async fn commit_batch(
    connection: &mut SqliteConnection,
    batch: &Batch<SqliteWrite>,
) -> Result<Committed, StoreError> {
    if batch.appends.is_empty() && batch.writes.is_empty() {
        return Ok(Committed {
            appends: Vec::new(),
            writes: Vec::new(),
            advanced_to: None,
        });
    }
    // IMMEDIATE: take the write lock now, so the versions read below cannot go stale.
    connection.execute("BEGIN IMMEDIATE").await?;
    let written = write_batch(connection, batch).await;
    let committed = match written {
        Ok(committed) => connection
            .execute("COMMIT")
            .await
            .map(|_| committed)
            .map_err(StoreError::from),
        Err(error) => Err(error),
    };
    if committed.is_err() {
        let _ = connection.execute("ROLLBACK").await;
    }
    committed
}

async fn write_batch(
    connection: &mut SqliteConnection,
    batch: &Batch<SqliteWrite>,
) -> Result<Committed, StoreError> {
    let mut committed = Committed {
        appends: Vec::new(),
        writes: Vec::new(),
        advanced_to: None,
    };
    if !batch.appends.is_empty() {
        let revision: i64 = sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1")
            .fetch_one(&mut *connection)
            .await?;
        let revision = to_u64(revision, "global revision")?;
        let tenants = to_json(&batch_tenants(&batch.appends));
        let versions: Vec<(String, i64)> = sqlx::query_as(
            "SELECT tenant, version FROM clearance_tenants \
             WHERE tenant IN (SELECT value FROM json_each(?1))",
        )
        .bind(tenants)
        .fetch_all(&mut *connection)
        .await?;
        let versions = versions
            .into_iter()
            .map(|(tenant, version)| Ok((tenant, to_u64(version, "tenant version")?)))
            .collect::<Result<HashMap<_, _>, StoreError>>()?;
        let keys = batch_keys(&batch.appends);
        let recorded: HashSet<(String, String)> = if keys.is_empty() {
            HashSet::new()
        } else {
            sqlx::query_as(
                "SELECT principal, key FROM clearance_idempotency \
                 WHERE (principal, key) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?1))",
            )
            .bind(to_json(&keys))
            .fetch_all(&mut *connection)
            .await?
            .into_iter()
            .collect()
        };
        let plan = plan_batch(&batch.appends, revision, &versions, &recorded);
        if !plan.events.is_empty() {
            let rows: Vec<_> = plan
                .events
                .iter()
                .map(|placed| {
                    (
                        placed.revision,
                        placed.tenant,
                        placed.seq,
                        &placed.event.kind,
                        &placed.event.actor,
                        &placed.event.payload,
                        &placed.event.recorded_at,
                    )
                })
                .collect();
            sqlx::query(
                "INSERT INTO clearance_events \
                 (revision, tenant, seq, kind, actor, payload, recorded_at) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
                        value ->> 5, value ->> 6 \
                 FROM json_each(?1)",
            )
            .bind(to_json(&rows))
            .execute(&mut *connection)
            .await?;
            sqlx::query(
                "INSERT INTO clearance_tenants (tenant, version) \
                 SELECT value ->> 0, value ->> 1 FROM json_each(?1) WHERE true \
                 ON CONFLICT (tenant) DO UPDATE SET version = excluded.version",
            )
            .bind(to_json(&plan.tenant_versions))
            .execute(&mut *connection)
            .await?;
            sqlx::query("UPDATE clearance_meta SET revision = ?1 WHERE id = 1")
                .bind(to_i64(plan.revision, "global revision")?)
                .execute(&mut *connection)
                .await?;
            committed.advanced_to = Some(plan.revision);
        }
        if !plan.idempotency.is_empty() {
            let now = jiff::Timestamp::now().to_string();
            let rows: Vec<_> = plan
                .idempotency
                .iter()
                .map(|record| {
                    (
                        &record.principal,
                        &record.key,
                        &record.request_hash,
                        record.status,
                        &record.body,
                        &now,
                    )
                })
                .collect();
            sqlx::query(
                "INSERT INTO clearance_idempotency \
                 (principal, key, request_hash, status, body, recorded_at) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
                        value ->> 5 \
                 FROM json_each(?1)",
            )
            .bind(to_json(&rows))
            .execute(&mut *connection)
            .await?;
        }
        committed.appends = plan.outcomes;
    }
    for (write, _) in &batch.writes {
        committed.writes.push(apply_write(connection, write).await?);
    }
    Ok(committed)
}

/// Applies one non-append write. The outer error aborts the batch (the database failed); the
/// inner one is this write's own refusal.
async fn apply_write(
    connection: &mut SqliteConnection,
    write: &SqliteWrite,
) -> Result<Result<(), StoreError>, StoreError> {
    let now = jiff::Timestamp::now().to_string();
    match write {
        SqliteWrite::Import(import) => return import_sqlite(connection, import).await,
        SqliteWrite::Auth(write) => auth::apply_sqlite(connection, write).await?,
        SqliteWrite::Snapshot {
            tenant,
            version,
            state,
        } => {
            let actual: Option<i64> =
                sqlx::query_scalar("SELECT version FROM clearance_tenants WHERE tenant = ?1")
                    .bind(tenant)
                    .fetch_optional(&mut *connection)
                    .await?;
            let actual = to_u64(actual.unwrap_or(0), "tenant version")?;
            if *version > actual {
                return Ok(Err(StoreError::SnapshotAhead {
                    tenant: tenant.clone(),
                    version: *version,
                    actual,
                }));
            }
            sqlx::query(
                "INSERT INTO clearance_snapshots (tenant, version, state, saved_at) \
                 VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (tenant) DO UPDATE SET version = excluded.version, \
                   state = excluded.state, saved_at = excluded.saved_at \
                 WHERE excluded.version >= clearance_snapshots.version",
            )
            .bind(tenant)
            .bind(to_i64(*version, "version")?)
            .bind(state)
            .bind(&now)
            .execute(&mut *connection)
            .await?;
        }
        SqliteWrite::Idempotency(record) => {
            let inserted = sqlx::query(
                "INSERT INTO clearance_idempotency \
                 (principal, key, request_hash, status, body, recorded_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )
            .bind(&record.principal)
            .bind(&record.key)
            .bind(&record.request_hash)
            .bind(record.status)
            .bind(&record.body)
            .bind(&now)
            .execute(&mut *connection)
            .await?;
            if inserted.rows_affected() == 0 {
                return Ok(Err(StoreError::DuplicateIdempotencyKey {
                    principal: record.principal.clone(),
                    key: record.key.clone(),
                }));
            }
        }
        SqliteWrite::Blob(blob) => {
            sqlx::query(
                "INSERT INTO clearance_blobs (sha256, content_type, bytes, stored_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )
            .bind(&blob.sha256)
            .bind(&blob.content_type)
            .bind(&blob.bytes)
            .bind(&now)
            .execute(&mut *connection)
            .await?;
        }
        SqliteWrite::Token {
            token_hash,
            principal,
        } => {
            sqlx::query(
                "INSERT INTO clearance_tokens (token_hash, principal, created_at) \
                 VALUES (?1, ?2, ?3) \
                 ON CONFLICT (token_hash) DO UPDATE SET principal = excluded.principal",
            )
            .bind(token_hash)
            .bind(principal)
            .bind(&now)
            .execute(&mut *connection)
            .await?;
        }
        SqliteWrite::RevokeToken { token_hash } => {
            let found: Option<Option<String>> =
                sqlx::query_scalar("SELECT revoked_at FROM clearance_tokens WHERE token_hash = ?1")
                    .bind(token_hash)
                    .fetch_optional(&mut *connection)
                    .await?;
            match found {
                None => {
                    return Ok(Err(StoreError::NotFound {
                        what: "token",
                        key: token_hash.clone(),
                    }));
                }
                Some(Some(_)) => {}
                Some(None) => {
                    sqlx::query(
                        "UPDATE clearance_tokens SET revoked_at = ?2 WHERE token_hash = ?1",
                    )
                    .bind(token_hash)
                    .bind(&now)
                    .execute(&mut *connection)
                    .await?;
                }
            }
        }
        SqliteWrite::Password {
            login,
            tenant,
            phc_hash,
            principal,
        } => {
            sqlx::query(
                "INSERT INTO clearance_passwords (login, tenant, phc_hash, principal, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (login) DO UPDATE SET tenant = excluded.tenant, \
                   phc_hash = excluded.phc_hash, principal = excluded.principal, \
                   updated_at = excluded.updated_at",
            )
            .bind(login)
            .bind(tenant)
            .bind(phc_hash)
            .bind(principal)
            .bind(&now)
            .execute(&mut *connection)
            .await?;
        }
    }
    Ok(Ok(()))
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("tuples of strings and integers always serialize")
}
