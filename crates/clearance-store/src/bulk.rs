//! Bulk import of new tenants: many tenants' whole histories and their snapshots written in one
//! transaction, for populations generated or migrated in at size.
//!
//! An ordinary [`crate::Store::append`] costs a durable commit per group of appends and a
//! snapshot is a second write that may only follow its events; an import of thousands of new
//! tenants costs one commit. It keeps the append's invariants: each tenant's events are numbered
//! from 1, the batch's events take the next global revisions in order (gap-free, in commit order,
//! serialized with appends), and a tenant that already has events is refused with
//! [`StoreError::Conflict`] (as `append` with expected version 0 would be), the whole batch
//! writing nothing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Acquire, Sqlite};

use crate::records::{EncodedEvent, to_i64, to_u64};
use crate::sqlite::{SqliteStore, SqliteWrite};
use crate::{NewEvent, StoreError};

/// Rows per SQLite `INSERT` statement: 512 rows of 7 columns stay far below SQLite's 32,766
/// bound parameters, and a full chunk's statement is prepared once and reused.
const SQLITE_ROWS_PER_STATEMENT: usize = 512;

/// A tenant that does not exist yet, with its whole history and, optionally, its folded state
/// after that history (saved as its snapshot, so start-up need not replay it).
///
/// The events and the snapshot are rendered to text when the value is built, on the caller's
/// thread, so the store's writer only moves strings.
#[derive(Debug, Clone)]
pub struct NewTenant {
    tenant: String,
    events: Vec<EncodedEvent>,
    snapshot: Option<String>,
}

impl NewTenant {
    /// `tenant` with `events` as its log (they become `seq` 1, 2, ...) and `snapshot`, the
    /// caller's state after all of them, saved at version `events.len()`.
    pub fn new(tenant: impl Into<String>, events: Vec<NewEvent>, snapshot: Option<Value>) -> Self {
        NewTenant {
            tenant: tenant.into(),
            events: events.into_iter().map(EncodedEvent::encode).collect(),
            snapshot: snapshot.map(|state| state.to_string()),
        }
    }

    /// The tenant id.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The tenant's version once imported (its number of events).
    pub fn version(&self) -> u64 {
        self.events.len() as u64
    }
}

/// What a successful import reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// How many tenants were written.
    pub tenants: u64,
    /// How many events were written.
    pub events: u64,
    /// The global revision of the import's last event (for an empty import, the revision
    /// current when it was asked for): a read that requires it sees every imported tenant.
    pub revision: u64,
}

/// Refuses a batch no backend could write: a tenant without events, or one named twice.
pub(crate) fn check_batch(tenants: &[NewTenant]) -> Result<(), StoreError> {
    let mut seen = HashSet::with_capacity(tenants.len());
    for tenant in tenants {
        if tenant.events.is_empty() {
            return Err(StoreError::InvalidInput {
                field: "tenants",
                value: tenant.tenant.clone(),
                reason: "an imported tenant needs at least one event".to_owned(),
            });
        }
        if !seen.insert(tenant.tenant.as_str()) {
            return Err(StoreError::InvalidInput {
                field: "tenants",
                value: tenant.tenant.clone(),
                reason: "the tenant appears twice in the batch".to_owned(),
            });
        }
    }
    Ok(())
}

/// The refusal for the batch's first tenant (in batch order) that the store already has.
fn refuse_existing(tenants: &[NewTenant], existing: Vec<(String, i64)>) -> Result<(), StoreError> {
    if existing.is_empty() {
        return Ok(());
    }
    let existing: HashMap<String, i64> = existing.into_iter().collect();
    for tenant in tenants {
        if let Some(&version) = existing.get(&tenant.tenant) {
            return Err(StoreError::Conflict {
                tenant: tenant.tenant.clone(),
                expected: 0,
                actual: to_u64(version, "tenant version")?,
            });
        }
    }
    Ok(())
}

/// One event row with its place: `(revision, tenant, seq, event)`.
type EventPlace<'a> = (i64, &'a str, i64, &'a EncodedEvent);

/// Places the batch's events after global revision `head`: tenant by tenant, in batch order.
/// Returns the rows and the revision after the batch.
fn place_events(
    tenants: &[NewTenant],
    head: u64,
) -> Result<(Vec<EventPlace<'_>>, u64), StoreError> {
    let count: usize = tenants.iter().map(|tenant| tenant.events.len()).sum();
    let mut rows = Vec::with_capacity(count);
    let mut revision = to_i64(head, "global revision")?;
    for tenant in tenants {
        for (seq, event) in (1..).zip(&tenant.events) {
            revision = revision
                .checked_add(1)
                .ok_or_else(|| StoreError::InvalidInput {
                    field: "tenants",
                    value: tenant.tenant.clone(),
                    reason: "the global revision would exceed 2^63 - 1".to_owned(),
                })?;
            rows.push((revision, tenant.tenant.as_str(), seq, event));
        }
    }
    Ok((rows, to_u64(revision, "global revision")?))
}

fn imported(tenants: &[NewTenant], events: usize, revision: u64) -> Imported {
    Imported {
        tenants: tenants.len() as u64,
        events: events as u64,
        revision,
    }
}

/// An import queued for the SQLite writer, and where the writer leaves its outcome.
pub(crate) struct SqliteImport {
    tenants: Vec<NewTenant>,
    imported: OnceLock<Imported>,
}

impl SqliteStore {
    /// Imports through the writer, so the batch is one of its transactions like any append.
    pub(crate) async fn import_new_tenants(
        &self,
        tenants: Vec<NewTenant>,
    ) -> Result<Imported, StoreError> {
        let import = Arc::new(SqliteImport {
            tenants,
            imported: OnceLock::new(),
        });
        self.write(SqliteWrite::Import(import.clone())).await?;
        let imported = *import
            .imported
            .get()
            .expect("a committed import records its outcome");
        self.signal().advance(imported.revision);
        Ok(imported)
    }
}

/// Writes an import inside the writer's open transaction. The outer error aborts the writer's
/// batch (the database failed); the inner one is this import's refusal, having written nothing.
pub(crate) async fn import_sqlite(
    connection: &mut SqliteConnection,
    import: &SqliteImport,
) -> Result<Result<(), StoreError>, StoreError> {
    let tenants = &import.tenants;
    let head: i64 = sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1")
        .fetch_one(&mut *connection)
        .await?;
    let names: Vec<&str> = tenants
        .iter()
        .map(|tenant| tenant.tenant.as_str())
        .collect();
    let existing: Vec<(String, i64)> = sqlx::query_as(
        "SELECT tenant, version FROM clearance_tenants \
         WHERE tenant IN (SELECT value FROM json_each(?1))",
    )
    .bind(
        serde_json::to_string(&names)
            .map_err(|error| StoreError::serialization("tenant ids", error))?,
    )
    .fetch_all(&mut *connection)
    .await?;
    if let Err(refusal) = refuse_existing(tenants, existing) {
        return Ok(Err(refusal));
    }
    let (events, revision) = match place_events(tenants, to_u64(head, "global revision")?) {
        Ok(placed) => placed,
        Err(refusal) => return Ok(Err(refusal)),
    };
    for chunk in events.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let sql = sqlite_insert(
            "INSERT INTO clearance_events \
             (revision, tenant, seq, kind, actor, payload, recorded_at) VALUES ",
            7,
            chunk.len(),
            "",
        );
        let mut query = sqlx::query::<Sqlite>(&sql);
        for (revision, tenant, seq, event) in chunk {
            query = query
                .bind(*revision)
                .bind(*tenant)
                .bind(*seq)
                .bind(event.kind.as_str())
                .bind(event.actor.as_str())
                .bind(event.payload.as_str())
                .bind(event.recorded_at.as_str());
        }
        query.execute(&mut *connection).await?;
    }
    for chunk in tenants.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let sql = sqlite_insert(
            "INSERT INTO clearance_tenants (tenant, version) VALUES ",
            2,
            chunk.len(),
            "",
        );
        let mut query = sqlx::query::<Sqlite>(&sql);
        for tenant in chunk {
            query = query
                .bind(tenant.tenant.as_str())
                .bind(to_i64(tenant.version(), "version")?);
        }
        query.execute(&mut *connection).await?;
    }
    let now = jiff::Timestamp::now().to_string();
    let snapshots: Vec<&NewTenant> = tenants
        .iter()
        .filter(|tenant| tenant.snapshot.is_some())
        .collect();
    for chunk in snapshots.chunks(SQLITE_ROWS_PER_STATEMENT) {
        // A tenant without events can only have a snapshot of version 0 (nothing folded); the
        // imported one replaces it.
        let sql = sqlite_insert(
            "INSERT INTO clearance_snapshots (tenant, version, state, saved_at) VALUES ",
            4,
            chunk.len(),
            " ON CONFLICT (tenant) DO UPDATE SET version = excluded.version, \
              state = excluded.state, saved_at = excluded.saved_at",
        );
        let mut query = sqlx::query::<Sqlite>(&sql);
        for tenant in chunk {
            query = query
                .bind(tenant.tenant.as_str())
                .bind(to_i64(tenant.version(), "version")?)
                .bind(tenant.snapshot.as_deref())
                .bind(now.as_str());
        }
        query.execute(&mut *connection).await?;
    }
    sqlx::query("UPDATE clearance_meta SET revision = ?1 WHERE id = 1")
        .bind(to_i64(revision, "global revision")?)
        .execute(&mut *connection)
        .await?;
    let _ = import
        .imported
        .set(imported(tenants, events.len(), revision));
    Ok(Ok(()))
}

/// `head` followed by `rows` groups of `columns` placeholders, then `tail`.
pub(crate) fn sqlite_insert(head: &str, columns: usize, rows: usize, tail: &str) -> String {
    let group = format!("({})", vec!["?"; columns].join(", "));
    let mut sql = String::with_capacity(head.len() + rows * (group.len() + 2) + tail.len());
    sql.push_str(head);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&group);
    }
    sql.push_str(tail);
    sql
}

/// Imports in one PostgreSQL transaction, streaming the rows with `COPY`. The counter row's
/// lock orders it with every process's appends, as their group commits are.
pub(crate) async fn import_postgres(
    connection: &mut PgConnection,
    tenants: &[NewTenant],
    channel: &str,
) -> Result<Imported, StoreError> {
    let mut transaction = connection.begin().await?;
    let head: i64 =
        sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *transaction)
            .await?;
    let names: Vec<&str> = tenants
        .iter()
        .map(|tenant| tenant.tenant.as_str())
        .collect();
    let existing: Vec<(String, i64)> =
        sqlx::query_as("SELECT tenant, version FROM clearance_tenants WHERE tenant = ANY($1)")
            .bind(&names)
            .fetch_all(&mut *transaction)
            .await?;
    // Dropping the transaction on a refusal rolls it back: nothing was written.
    refuse_existing(tenants, existing)?;
    let (events, revision) = place_events(tenants, to_u64(head, "global revision")?)?;

    let mut rows = Vec::new();
    for (revision, tenant, seq, event) in &events {
        copy_row(
            &mut rows,
            &[
                &revision.to_string(),
                tenant,
                &seq.to_string(),
                &event.kind,
                &event.actor,
                &event.payload,
                &event.recorded_at,
            ],
        );
    }
    copy_in(
        &mut transaction,
        "COPY clearance_events (revision, tenant, seq, kind, actor, payload, recorded_at) \
         FROM STDIN",
        &rows,
    )
    .await?;

    rows.clear();
    for tenant in tenants {
        copy_row(&mut rows, &[&tenant.tenant, &tenant.version().to_string()]);
    }
    copy_in(
        &mut transaction,
        "COPY clearance_tenants (tenant, version) FROM STDIN",
        &rows,
    )
    .await?;

    // A tenant without events can only have a snapshot of version 0 (nothing folded); the
    // imported one replaces it, and COPY cannot resolve the conflict itself.
    sqlx::query("DELETE FROM clearance_snapshots WHERE tenant = ANY($1)")
        .bind(&names)
        .execute(&mut *transaction)
        .await?;
    rows.clear();
    let now = jiff::Timestamp::now().to_string();
    for tenant in tenants {
        if let Some(state) = &tenant.snapshot {
            copy_row(
                &mut rows,
                &[&tenant.tenant, &tenant.version().to_string(), state, &now],
            );
        }
    }
    if !rows.is_empty() {
        copy_in(
            &mut transaction,
            "COPY clearance_snapshots (tenant, version, state, saved_at) FROM STDIN",
            &rows,
        )
        .await?;
    }

    sqlx::query("UPDATE clearance_meta SET revision = $1 WHERE id = 1")
        .bind(to_i64(revision, "global revision")?)
        .execute(&mut *transaction)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(revision.to_string())
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(imported(tenants, events.len(), revision))
}

pub(crate) async fn copy_in(
    connection: &mut PgConnection,
    statement: &str,
    rows: &[u8],
) -> Result<(), StoreError> {
    let mut copy = connection.copy_in_raw(statement).await?;
    copy.send(rows).await?;
    copy.finish().await?;
    Ok(())
}

/// Appends one row in `COPY`'s text format: tab-separated fields, with backslash, tab, newline
/// and carriage return escaped, ended by a newline.
fn copy_row(buffer: &mut Vec<u8>, fields: &[&str]) {
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            buffer.push(b'\t');
        }
        copy_field(buffer, field);
    }
    buffer.push(b'\n');
}

/// Appends one field in `COPY`'s text format (escaped; no separator).
pub(crate) fn copy_field(buffer: &mut Vec<u8>, field: &str) {
    for &byte in field.as_bytes() {
        match byte {
            b'\\' => buffer.extend_from_slice(b"\\\\"),
            b'\t' => buffer.extend_from_slice(b"\\t"),
            b'\n' => buffer.extend_from_slice(b"\\n"),
            b'\r' => buffer.extend_from_slice(b"\\r"),
            _ => buffer.push(byte),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The import on both backends: SQLite in a temporary directory always, PostgreSQL when
    //! `CLEARANCE_TEST_POSTGRES` holds a URL (in a schema of its own, dropped afterwards), as in
    //! the store's suite.

    use std::panic::AssertUnwindSafe;
    use std::sync::atomic::{AtomicU64, Ordering};

    use futures_util::FutureExt;
    use serde_json::json;

    use super::*;
    use crate::{Store, StoreOptions, StoredEvent, TenantHistory};

    type TestFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;
    type Test = for<'a> fn(&'a Store) -> TestFuture<'a>;

    async fn on_sqlite(test: Test) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("clearance.db");
        let store = Store::open(path.to_str().expect("a UTF-8 temporary path"))
            .await
            .expect("the store opens");
        let outcome = AssertUnwindSafe(test(&store)).catch_unwind().await;
        store.close().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    async fn on_postgres(test: Test) {
        let Ok(url) = std::env::var("CLEARANCE_TEST_POSTGRES") else {
            println!("skipped: CLEARANCE_TEST_POSTGRES not set");
            return;
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let schema = format!(
            "bulk_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let store = Store::open_with(StoreOptions::new(url.clone()).schema(schema.clone()))
            .await
            .expect("the store opens");
        let outcome = AssertUnwindSafe(test(&store)).catch_unwind().await;
        store.close().await;
        let admin = sqlx::PgPool::connect(&url).await.expect("admin connection");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&admin)
            .await
            .expect("the test schema drops");
        admin.close().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    macro_rules! on_both_backends {
        ($($test:ident),* $(,)?) => {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $test() {
                        super::on_sqlite(|store| Box::pin(super::$test(store))).await;
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $test() {
                        super::on_postgres(|store| Box::pin(super::$test(store))).await;
                    }
                )*
            }
        };
    }

    on_both_backends!(
        an_import_numbers_each_tenant_from_one_after_the_current_head,
        an_import_naming_an_existing_tenant_writes_nothing,
        appends_after_an_import_follow_each_tenants_version,
    );

    fn event(kind: &str, n: u64) -> NewEvent {
        NewEvent {
            kind: kind.to_owned(),
            actor: "gen\t\"admin\"\\".to_owned(),
            payload: json!({ "n": n, "note": "tab\there\nnewline \\ backslash" }),
            recorded_at: "2026-11-24T10:00:00.123456789Z"
                .parse()
                .expect("a valid timestamp"),
        }
    }

    fn tenant(id: &str, events: u64, snapshot: Option<Value>) -> NewTenant {
        NewTenant::new(
            id,
            (1..=events).map(|n| event("noted", n)).collect(),
            snapshot,
        )
    }

    async fn all_events(store: &Store) -> Vec<StoredEvent> {
        store
            .events_after_revision(0, u32::MAX)
            .await
            .expect("the feed reads")
    }

    async fn histories(store: &Store) -> Vec<TenantHistory> {
        let mut loader = store.load_all().await.expect("the load starts");
        let mut histories = Vec::new();
        while let Some(history) = loader.next().await.expect("the load reads") {
            histories.push(history);
        }
        histories
    }

    async fn an_import_numbers_each_tenant_from_one_after_the_current_head(store: &Store) {
        store
            .append("a", 0, vec![event("noted", 1), event("noted", 2)], None)
            .await
            .expect("the append commits");
        let mut feed = store.subscribe();
        let imported = store
            .import_new_tenants(vec![
                tenant("x", 3, Some(json!({ "folded": 3 }))),
                tenant("y", 1, None),
            ])
            .await
            .expect("the import commits");
        assert_eq!(
            imported,
            Imported {
                tenants: 2,
                events: 4,
                revision: 6
            }
        );
        assert_eq!(feed.recv().await.expect("the feed hears of it"), 6);
        assert_eq!(*store.watch_revision().borrow(), 6);
        assert_eq!(store.current_revision().await.expect("reads"), 6);

        let placed: Vec<(String, u64, u64)> = all_events(store)
            .await
            .into_iter()
            .map(|event| (event.tenant, event.seq, event.revision))
            .collect();
        let expected = [
            ("a", 1, 1),
            ("a", 2, 2),
            ("x", 1, 3),
            ("x", 2, 4),
            ("x", 3, 5),
        ]
        .into_iter()
        .chain([("y", 1, 6)])
        .map(|(tenant, seq, revision)| (tenant.to_owned(), seq, revision))
        .collect::<Vec<_>>();
        assert_eq!(placed, expected);
        let x = store.tenant_events("x", 0, 10).await.expect("reads");
        assert_eq!(x[2].payload, event("noted", 3).payload);
        assert_eq!(x[2].actor, "gen\t\"admin\"\\");
        assert_eq!(x[2].recorded_at, event("noted", 3).recorded_at);
        assert_eq!(store.tenant_version("x").await.expect("reads"), 3);
        assert_eq!(store.tenant_version("y").await.expect("reads"), 1);

        let histories = histories(store).await;
        let x = &histories[1];
        assert_eq!(x.tenant, "x");
        let snapshot = x.snapshot.as_ref().expect("x has its snapshot");
        assert_eq!(
            (snapshot.version, &snapshot.state),
            (3, &json!({ "folded": 3 }))
        );
        assert!(x.events.is_empty(), "nothing after the snapshot: {x:?}");
        let y = &histories[2];
        assert_eq!((y.snapshot.as_ref(), y.events.len()), (None, 1));
    }

    async fn an_import_naming_an_existing_tenant_writes_nothing(store: &Store) {
        store
            .append("b", 0, vec![event("noted", 1)], None)
            .await
            .expect("the append commits");
        let refused = store
            .import_new_tenants(vec![
                tenant("c", 2, Some(json!({}))),
                tenant("b", 1, Some(json!({}))),
                tenant("d", 1, None),
            ])
            .await;
        assert!(
            matches!(
                &refused,
                Err(StoreError::Conflict { tenant, expected: 0, actual: 1 }) if tenant == "b"
            ),
            "{refused:?}"
        );
        let twice = store
            .import_new_tenants(vec![tenant("e", 1, None), tenant("e", 2, None)])
            .await;
        assert!(
            matches!(&twice, Err(StoreError::InvalidInput { value, .. }) if value == "e"),
            "{twice:?}"
        );
        let empty = store.import_new_tenants(vec![tenant("f", 0, None)]).await;
        assert!(
            matches!(&empty, Err(StoreError::InvalidInput { value, .. }) if value == "f"),
            "{empty:?}"
        );
        assert_eq!(store.current_revision().await.expect("reads"), 1);
        assert_eq!(store.list_tenants().await.expect("reads"), ["b"]);
        assert_eq!(all_events(store).await.len(), 1);
        let histories = histories(store).await;
        assert_eq!(histories.len(), 1);
        assert_eq!(histories[0].snapshot, None);
    }

    async fn appends_after_an_import_follow_each_tenants_version(store: &Store) {
        // Enough rows for several statements per table on SQLite.
        let tenants: Vec<NewTenant> = (0..300)
            .map(|index| tenant(&format!("t{index:04}"), 1 + index % 4, Some(json!(index))))
            .collect();
        let events: u64 = (0..300).map(|index| 1 + index % 4).sum();
        let imported = store
            .import_new_tenants(tenants)
            .await
            .expect("the import commits");
        assert_eq!((imported.tenants, imported.events), (300, events));
        assert_eq!(imported.revision, events);
        let appended = store
            .append("t0003", 4, vec![event("noted", 5)], None)
            .await
            .expect("the append follows the imported version");
        assert_eq!((appended.version, appended.revision), (5, events + 1));
        let stale = store
            .append("t0002", 0, vec![event("noted", 1)], None)
            .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict { actual: 3, .. })),
            "{stale:?}"
        );
        let revisions: Vec<u64> = all_events(store)
            .await
            .iter()
            .map(|event| event.revision)
            .collect();
        assert_eq!(revisions, (1..=events + 1).collect::<Vec<_>>());
        let histories = histories(store).await;
        assert_eq!(histories.len(), 300);
        for (index, history) in (0u64..).zip(&histories) {
            let snapshot = history.snapshot.as_ref().expect("every tenant has one");
            assert_eq!(snapshot.version, 1 + index % 4);
            assert_eq!(snapshot.state, json!(index));
        }
        assert_eq!(
            histories[3].events.len(),
            1,
            "the later append follows the snapshot"
        );
        let empty = store
            .import_new_tenants(Vec::new())
            .await
            .expect("an empty import is no write");
        assert_eq!(empty.revision, events + 1);
    }

    #[test]
    fn copy_rows_escape_what_the_text_format_reserves() {
        let mut rows = Vec::new();
        copy_row(&mut rows, &["a\tb", "c\\d\ne\rf", "{\"k\":\"v\"}"]);
        copy_row(&mut rows, &["2"]);
        assert_eq!(
            String::from_utf8(rows).expect("UTF-8"),
            "a\\tb\tc\\\\d\\ne\\rf\t{\"k\":\"v\"}\n2\n"
        );
    }

    #[test]
    fn sqlite_statements_have_a_placeholder_per_value() {
        assert_eq!(
            sqlite_insert(
                "INSERT INTO t (a, b) VALUES ",
                2,
                3,
                " ON CONFLICT DO NOTHING"
            ),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT DO NOTHING"
        );
    }
}
