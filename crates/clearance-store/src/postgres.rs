//! The shared backend: a PostgreSQL pool, a writer task per process that group-commits appends,
//! revisions handed out from one counter row so commit order is revision order, and a LISTEN task
//! (with a fallback poll) so this process hears of other processes' commits.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions};
use sqlx::{Acquire, Executor};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::bulk::{Imported, NewTenant, import_postgres};
use crate::group_commit::{
    AppendRequest, Batch, Command, PendingAppend, batch_keys, batch_tenants, next_batch,
    plan_batch, submit, timed_out,
};
use crate::load::{LOAD_QUEUE, LoadRow, TenantLoader, send_histories};
use crate::notify::RevisionSignal;
use crate::records::{EventRow, decode_event, decode_json, to_i64, to_u64};
use crate::{
    Appended, Blob, IdempotencyRecord, PasswordRecord, StoreError, StoreOptions, migrations,
    redacted_location,
};

/// Appends queued for the writer before callers wait to enqueue.
const WRITE_QUEUE: usize = 16_384;
/// How often a batch is retried when another process recorded one of its idempotency keys
/// between the check and the insert.
const IDEMPOTENCY_RACE_RETRIES: usize = 3;

pub(crate) struct PostgresStore {
    pool: PgPool,
    writer: mpsc::Sender<Command<Infallible>>,
    signal: Arc<RevisionSignal>,
    /// See [`StoreOptions::write_timeout`].
    write_timeout: Duration,
    /// The NOTIFY channel of this store's schema.
    channel: String,
    writer_task: Mutex<Option<JoinHandle<()>>>,
    /// The listener and the poller: they run until aborted.
    watchers: Vec<JoinHandle<()>>,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // The writer stops by itself once its queue is closed and drained.
        for watcher in &self.watchers {
            watcher.abort();
        }
    }
}

impl PostgresStore {
    pub(crate) async fn open(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let mut connect =
            PgConnectOptions::from_str(url).map_err(|error| StoreError::InvalidInput {
                field: "location",
                value: redacted_location(url),
                reason: error.to_string(),
            })?;
        if let Some(schema) = &options.schema {
            connect = connect.options([("search_path", schema.as_str())]);
        }
        // The listener holds one connection for good; the writer and readers share the rest.
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(3))
            // Fail fast while the database is unreachable: the default waits 30 s for a
            // connection, and a write's caller must hear 503 long before that.
            .acquire_timeout(options.write_timeout)
            .connect_with(connect)
            .await?;
        {
            let mut connection = pool.acquire().await?;
            migrations::migrate_postgres(&mut connection, options.schema.as_deref()).await?;
        }
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        let channel = notification_channel(&schema);
        let revision = current_revision(&pool).await?;
        let signal = Arc::new(RevisionSignal::new(revision));

        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(&channel).await?;
        let (sender, commands) = mpsc::channel(WRITE_QUEUE);
        let writer_task = tokio::spawn(run_writer(
            pool.clone(),
            commands,
            signal.clone(),
            channel,
            options.write_timeout,
        ));
        let watchers = vec![
            tokio::spawn(run_listener(listener, signal.clone())),
            tokio::spawn(run_poller(
                pool.clone(),
                signal.clone(),
                options.poll_interval,
            )),
        ];
        tracing::info!(%schema, revision, "opened PostgreSQL store");
        Ok(PostgresStore {
            pool,
            writer: sender,
            signal,
            write_timeout: options.write_timeout,
            channel: notification_channel(&schema),
            writer_task: Mutex::new(Some(writer_task)),
            watchers,
        })
    }

    pub(crate) fn signal(&self) -> &RevisionSignal {
        &self.signal
    }

    /// The NOTIFY channel of this store's schema.
    pub(crate) fn channel(&self) -> &str {
        &self.channel
    }

    pub(crate) async fn append(
        &self,
        request: AppendRequest,
    ) -> Result<crate::Appended, StoreError> {
        submit(&self.writer, request, self.write_timeout).await
    }

    pub(crate) async fn import_new_tenants(
        &self,
        tenants: &[NewTenant],
    ) -> Result<Imported, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let imported = import_postgres(&mut connection, tenants, &self.channel).await?;
        self.signal.advance(imported.revision);
        Ok(imported)
    }

    pub(crate) async fn close(&self) {
        let (done, finished) = oneshot::channel();
        if self.writer.send(Command::Shutdown(done)).await.is_ok() {
            let _ = finished.await;
        }
        if let Some(writer) = self.writer_task.lock().await.take() {
            let _ = writer.await;
        }
        for watcher in &self.watchers {
            watcher.abort();
        }
        self.pool.close().await;
    }

    pub(crate) async fn tenant_events(
        &self,
        tenant: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<crate::StoredEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT tenant, seq, revision, kind, actor, payload::text, recorded_at \
             FROM clearance_events WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant)
        .bind(to_i64(after_seq, "after_seq")?)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(decode_event).collect()
    }

    pub(crate) async fn events_after_revision(
        &self,
        revision: u64,
        limit: u32,
    ) -> Result<Vec<crate::StoredEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT tenant, seq, revision, kind, actor, payload::text, recorded_at \
             FROM clearance_events WHERE revision > $1 ORDER BY revision LIMIT $2",
        )
        .bind(to_i64(revision, "revision")?)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(decode_event).collect()
    }

    pub(crate) async fn current_revision(&self) -> Result<u64, StoreError> {
        current_revision(&self.pool).await
    }

    pub(crate) async fn tenant_version(&self, tenant: &str) -> Result<u64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM clearance_tenants WHERE tenant = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        to_u64(version.unwrap_or(0), "tenant version")
    }

    pub(crate) async fn list_tenants(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT tenant FROM clearance_tenants ORDER BY tenant")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub(crate) async fn load_all(&self) -> Result<TenantLoader, StoreError> {
        let mut transaction = self.pool.begin().await?;
        // One snapshot for the revision and every row: nothing committed after it is seen, and
        // everything up to the revision is (revisions are handed out in commit order).
        transaction
            .execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let revision = current_revision(&mut *transaction).await?;
        let tenants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clearance_tenants")
            .fetch_one(&mut *transaction)
            .await?;
        let (sender, histories) = mpsc::channel(LOAD_QUEUE);
        let reader = tokio::spawn(async move {
            let rows = sqlx::query_as::<_, LoadRow>(LOAD_QUERY).fetch(&mut *transaction);
            let result = send_histories(rows, &sender).await;
            if let Err(error) = result {
                let _ = sender.send(Err(error)).await;
            }
            let _ = transaction.commit().await;
        });
        let tenants = to_u64(tenants, "tenant count")?;
        Ok(TenantLoader::new(revision, tenants, histories, reader))
    }

    pub(crate) async fn save_snapshot(
        &self,
        tenant: &str,
        version: u64,
        state: String,
    ) -> Result<(), StoreError> {
        let version = to_i64(version, "version")?;
        let saved = sqlx::query(
            "INSERT INTO clearance_snapshots (tenant, version, state, saved_at) \
             SELECT $1, $2, $3::json, $4 \
             WHERE $2 <= COALESCE((SELECT version FROM clearance_tenants WHERE tenant = $1), 0) \
             ON CONFLICT (tenant) DO UPDATE SET version = EXCLUDED.version, \
               state = EXCLUDED.state, saved_at = EXCLUDED.saved_at \
             WHERE EXCLUDED.version >= clearance_snapshots.version",
        )
        .bind(tenant)
        .bind(version)
        .bind(state)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        if saved.rows_affected() == 0 {
            // Either the snapshot is older than the stored one (fine: keep the newer), or it
            // claims a version the tenant has not reached.
            let actual = self.tenant_version(tenant).await?;
            if to_u64(version, "version")? > actual {
                return Err(StoreError::SnapshotAhead {
                    tenant: tenant.to_owned(),
                    version: to_u64(version, "version")?,
                    actual,
                });
            }
        }
        Ok(())
    }

    pub(crate) async fn idempotency_put(
        &self,
        record: &IdempotencyRecord,
    ) -> Result<(), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO clearance_idempotency \
             (principal, key, request_hash, status, body, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&record.principal)
        .bind(&record.key)
        .bind(&record.request_hash)
        .bind(i32::from(record.status))
        .bind(&record.body)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::DuplicateIdempotencyKey {
                principal: record.principal.clone(),
                key: record.key.clone(),
            });
        }
        Ok(())
    }

    pub(crate) async fn idempotency_lookup(
        &self,
        principal: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row: Option<(String, i32, String)> = sqlx::query_as(
            "SELECT request_hash, status, body FROM clearance_idempotency \
             WHERE principal = $1 AND key = $2",
        )
        .bind(principal)
        .bind(key)
        .fetch_optional(&self.pool)
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

    pub(crate) async fn put_blob(&self, blob: &Blob) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clearance_blobs (sha256, content_type, bytes, stored_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&blob.sha256)
        .bind(&blob.content_type)
        .bind(&blob.bytes)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn get_blob(&self, sha256_hex: &str) -> Result<Option<Blob>, StoreError> {
        let row: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT content_type, bytes FROM clearance_blobs WHERE sha256 = $1")
                .bind(sha256_hex)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(content_type, bytes)| Blob {
            sha256: sha256_hex.to_owned(),
            content_type,
            bytes,
        }))
    }

    pub(crate) async fn put_token(
        &self,
        token_hash: &str,
        principal: String,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clearance_tokens (token_hash, principal, created_at) \
             VALUES ($1, $2::json, $3) \
             ON CONFLICT (token_hash) DO UPDATE SET principal = EXCLUDED.principal",
        )
        .bind(token_hash)
        .bind(principal)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The connection pool.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn find_token(&self, token_hash: &str) -> Result<Option<Value>, StoreError> {
        let principal: Option<String> = sqlx::query_scalar(
            "SELECT principal::text FROM clearance_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (expires_at_ms IS NULL OR expires_at_ms > $2)",
        )
        .bind(token_hash)
        .bind(jiff::Timestamp::now().as_millisecond())
        .fetch_optional(&self.pool)
        .await?;
        principal
            .map(|principal| decode_json(&principal, "token principal"))
            .transpose()
    }

    pub(crate) async fn revoke_token(&self, token_hash: &str) -> Result<(), StoreError> {
        let found = sqlx::query(
            "UPDATE clearance_tokens SET revoked_at = COALESCE(revoked_at, $2) \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        if found.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "token",
                key: token_hash.to_owned(),
            });
        }
        Ok(())
    }

    pub(crate) async fn put_password(
        &self,
        login: &str,
        tenant: Option<&str>,
        phc_hash: &str,
        principal: String,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clearance_passwords (login, tenant, phc_hash, principal, updated_at) \
             VALUES ($1, $2, $3, $4::json, $5) \
             ON CONFLICT (login) DO UPDATE SET tenant = EXCLUDED.tenant, \
               phc_hash = EXCLUDED.phc_hash, principal = EXCLUDED.principal, \
               updated_at = EXCLUDED.updated_at",
        )
        .bind(login)
        .bind(tenant)
        .bind(phc_hash)
        .bind(principal)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn find_password(
        &self,
        login: &str,
    ) -> Result<Option<PasswordRecord>, StoreError> {
        let row: Option<(Option<String>, String, String)> = sqlx::query_as(
            "SELECT tenant, phc_hash, principal::text FROM clearance_passwords WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(&self.pool)
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

async fn current_revision<'e>(
    executor: impl Executor<'e, Database = sqlx::Postgres>,
) -> Result<u64, StoreError> {
    let revision: i64 = sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1")
        .fetch_one(executor)
        .await?;
    to_u64(revision, "global revision")
}

/// The NOTIFY channel of one schema: servers sharing a database but not a schema must not wake
/// each other. PostgreSQL identifiers are at most 63 bytes.
fn notification_channel(schema: &str) -> String {
    let mut channel = format!("clearance_{schema}");
    while channel.len() > 63 {
        channel.pop();
    }
    channel
}

/// The start-up query; see the SQLite backend's for its shape.
const LOAD_QUERY: &str = "\
    SELECT t.tenant, s.version, \
           CASE WHEN e.seq IS NULL OR e.seq = COALESCE(s.version, 0) + 1 THEN s.state::text END, \
           CASE WHEN e.seq IS NOT NULL THEN json_build_array(e.seq, e.revision, e.kind, \
               e.actor, e.payload::text, e.recorded_at)::text END \
    FROM clearance_tenants t \
    LEFT JOIN clearance_snapshots s ON s.tenant = t.tenant \
    LEFT JOIN clearance_events e ON e.tenant = t.tenant AND e.seq > COALESCE(s.version, 0) \
    ORDER BY t.tenant, e.seq";

/// Forwards NOTIFYs (from this and every other process) to the signal.
async fn run_listener(mut listener: PgListener, signal: Arc<RevisionSignal>) {
    loop {
        match listener.recv().await {
            Ok(notification) => match notification.payload().parse() {
                Ok(revision) => signal.advance(revision),
                Err(_) => tracing::warn!(
                    payload = notification.payload(),
                    "ignoring a malformed revision notification"
                ),
            },
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                // Notifications sent while disconnected are lost; the poller covers them.
                tracing::warn!(%error, "PostgreSQL listener failed; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Reads the global revision now and then, so a lost notification delays, never hides, a
/// commit.
async fn run_poller(pool: PgPool, signal: Arc<RevisionSignal>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match current_revision(&pool).await {
            Ok(revision) => signal.advance(revision),
            Err(StoreError::Database(error)) if matches!(*error, sqlx::Error::PoolClosed) => {
                return;
            }
            Err(error) => tracing::warn!(%error, "polling the global revision failed"),
        }
    }
}

async fn run_writer(
    pool: PgPool,
    mut commands: mpsc::Receiver<Command<Infallible>>,
    signal: Arc<RevisionSignal>,
    channel: String,
    limit: Duration,
) {
    while let Some(batch) = next_batch(&mut commands).await {
        // Bounded, so a stalled connection cannot hold every later append: dropping the
        // transaction rolls it back (or the dead connection takes it with it).
        let committed =
            tokio::time::timeout(limit, commit_with_retries(&pool, &batch.appends, &channel))
                .await
                .unwrap_or_else(|_| Err(timed_out(&batch.appends, limit)));
        let shutdown = match committed {
            Ok((outcomes, revision)) => {
                if let Some(revision) = revision {
                    signal.advance(revision);
                }
                let Batch {
                    appends, shutdown, ..
                } = batch;
                for (pending, outcome) in appends.into_iter().zip(outcomes) {
                    let _ = pending.reply.send(outcome);
                }
                shutdown
            }
            Err(error) => {
                tracing::error!(%error, "PostgreSQL group commit failed; the batch was rolled back");
                batch.fail(&error)
            }
        };
        if let Some(done) = shutdown {
            let _ = done.send(());
            return;
        }
    }
}

type Outcomes = (Vec<Result<Appended, StoreError>>, Option<u64>);

async fn commit_with_retries(
    pool: &PgPool,
    appends: &[PendingAppend],
    channel: &str,
) -> Result<Outcomes, StoreError> {
    if appends.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut connection = pool.acquire().await?;
        match commit_batch(&mut connection, appends, channel).await? {
            Some(outcomes) => return Ok(outcomes),
            None if attempt < IDEMPOTENCY_RACE_RETRIES => continue,
            None => {
                return Err(StoreError::serialization(
                    "idempotency keys",
                    "another process kept recording the batch's keys concurrently",
                ));
            }
        }
    }
}

/// Commits one batch, or returns `None` (after rolling back) when an idempotency key was
/// recorded by a plain `idempotency_put` between the check and the insert.
async fn commit_batch(
    connection: &mut PgConnection,
    appends: &[PendingAppend],
    channel: &str,
) -> Result<Option<Outcomes>, StoreError> {
    let mut transaction = connection.begin().await?;
    // The counter row's lock is held until commit, so batches of every process commit one at a
    // time in revision order: a reader of `revision > n` never skips a late commit.
    let revision: i64 =
        sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *transaction)
            .await?;
    let revision = to_u64(revision, "global revision")?;
    let tenants: Vec<&str> = batch_tenants(appends);
    let versions: Vec<(String, i64)> =
        sqlx::query_as("SELECT tenant, version FROM clearance_tenants WHERE tenant = ANY($1)")
            .bind(&tenants)
            .fetch_all(&mut *transaction)
            .await?;
    let versions = versions
        .into_iter()
        .map(|(tenant, version)| Ok((tenant, to_u64(version, "tenant version")?)))
        .collect::<Result<HashMap<_, _>, StoreError>>()?;
    let keys = batch_keys(appends);
    let recorded: HashSet<(String, String)> = if keys.is_empty() {
        HashSet::new()
    } else {
        let (principals, keys): (Vec<&str>, Vec<&str>) = keys.into_iter().unzip();
        sqlx::query_as(
            "SELECT principal, key FROM clearance_idempotency \
             WHERE (principal, key) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))",
        )
        .bind(&principals)
        .bind(&keys)
        .fetch_all(&mut *transaction)
        .await?
        .into_iter()
        .collect()
    };
    let plan = plan_batch(appends, revision, &versions, &recorded);
    let mut advanced_to = None;
    if !plan.events.is_empty() {
        let mut revisions = Vec::with_capacity(plan.events.len());
        let mut event_tenants = Vec::with_capacity(plan.events.len());
        let mut seqs = Vec::with_capacity(plan.events.len());
        let mut kinds = Vec::with_capacity(plan.events.len());
        let mut actors = Vec::with_capacity(plan.events.len());
        let mut payloads = Vec::with_capacity(plan.events.len());
        let mut recorded_ats = Vec::with_capacity(plan.events.len());
        for placed in &plan.events {
            revisions.push(to_i64(placed.revision, "revision")?);
            event_tenants.push(placed.tenant);
            seqs.push(to_i64(placed.seq, "seq")?);
            kinds.push(placed.event.kind.as_str());
            actors.push(placed.event.actor.as_str());
            payloads.push(placed.event.payload.as_str());
            recorded_ats.push(placed.event.recorded_at.as_str());
        }
        sqlx::query(
            "INSERT INTO clearance_events (revision, tenant, seq, kind, actor, payload, recorded_at) \
             SELECT r, t, s, k, a, p::json, at FROM UNNEST($1::bigint[], $2::text[], \
               $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(r, t, s, k, a, p, at)",
        )
        .bind(&revisions)
        .bind(&event_tenants)
        .bind(&seqs)
        .bind(&kinds)
        .bind(&actors)
        .bind(&payloads)
        .bind(&recorded_ats)
        .execute(&mut *transaction)
        .await?;
        let (tenants, versions): (Vec<&str>, Vec<u64>) =
            plan.tenant_versions.iter().copied().unzip();
        let versions = versions
            .into_iter()
            .map(|version| to_i64(version, "version"))
            .collect::<Result<Vec<_>, _>>()?;
        sqlx::query(
            "INSERT INTO clearance_tenants (tenant, version) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[]) \
             ON CONFLICT (tenant) DO UPDATE SET version = EXCLUDED.version",
        )
        .bind(&tenants)
        .bind(&versions)
        .execute(&mut *transaction)
        .await?;
        sqlx::query("UPDATE clearance_meta SET revision = $1 WHERE id = 1")
            .bind(to_i64(plan.revision, "revision")?)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(plan.revision.to_string())
            .execute(&mut *transaction)
            .await?;
        advanced_to = Some(plan.revision);
    }
    if !plan.idempotency.is_empty() {
        let mut principals = Vec::new();
        let mut keys = Vec::new();
        let mut hashes = Vec::new();
        let mut statuses = Vec::new();
        let mut bodies = Vec::new();
        for record in &plan.idempotency {
            principals.push(record.principal.as_str());
            keys.push(record.key.as_str());
            hashes.push(record.request_hash.as_str());
            statuses.push(i32::from(record.status));
            bodies.push(record.body.as_str());
        }
        let inserted = sqlx::query(
            "INSERT INTO clearance_idempotency \
             (principal, key, request_hash, status, body, recorded_at) \
             SELECT *, $6 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&principals)
        .bind(&keys)
        .bind(&hashes)
        .bind(&statuses)
        .bind(&bodies)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&mut *transaction)
        .await?;
        if inserted.rows_affected() != plan.idempotency.len() as u64 {
            transaction.rollback().await?;
            return Ok(None);
        }
    }
    transaction.commit().await?;
    Ok(Some((plan.outcomes, advanced_to)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_name_fits_postgres_identifiers() {
        assert_eq!(notification_channel("public"), "clearance_public");
        assert_eq!(notification_channel(&"s".repeat(80)).len(), 63);
    }
}
