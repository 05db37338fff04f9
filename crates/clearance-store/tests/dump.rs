//! Export, import, integrity checks and backup through the store's public surface, on SQLite
//! always and on PostgreSQL when `CLEARANCE_TEST_POSTGRES` holds a URL (a schema per store,
//! dropped afterwards).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use clearance_store::dump::ImportError;
use clearance_store::{IdempotencyRecord, IntegrityProblem, NewEvent, Store, StoreOptions};
use serde_json::json;

const POSTGRES_URL: &str = "CLEARANCE_TEST_POSTGRES";

/// A store for one test: SQLite in a temporary directory, or a PostgreSQL schema of its own.
struct TestStore {
    store: Store,
    /// SQLite: the database file.
    path: Option<PathBuf>,
    /// PostgreSQL: the admin URL and the schema.
    schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestStore {
    async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("clearance.db");
        let store = Store::open(path.to_str().expect("a UTF-8 path"))
            .await
            .expect("the store opens");
        TestStore {
            store,
            path: Some(path),
            schema: None,
            _dir: dir,
        }
    }

    /// `None` (saying so) when no PostgreSQL is configured.
    async fn postgres() -> Option<TestStore> {
        let Ok(url) = std::env::var(POSTGRES_URL) else {
            println!("skipped the PostgreSQL half: {POSTGRES_URL} not set");
            return None;
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .subsec_nanos();
        let schema = format!(
            "dump_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let store = Store::open_with(StoreOptions::new(url.clone()).schema(schema.clone()))
            .await
            .expect("the store opens");
        Some(TestStore {
            store,
            path: None,
            schema: Some((url, schema)),
            _dir: tempfile::tempdir().expect("a temporary directory"),
        })
    }

    /// The other backend when PostgreSQL is configured, else another SQLite store.
    async fn other_than(&self) -> TestStore {
        if self.path.is_some()
            && let Some(postgres) = TestStore::postgres().await
        {
            return postgres;
        }
        TestStore::sqlite().await
    }

    /// Runs raw SQL on the store's database behind its back (to damage it): `sqlite` or
    /// `postgres` by the backend.
    async fn tamper(&self, sqlite: &[&str], postgres: &[&str]) {
        match (&self.path, &self.schema) {
            (Some(path), _) => {
                let statements = sqlite;
                use sqlx::Connection;
                let mut connection =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("the database opens");
                for statement in statements {
                    sqlx::query(statement)
                        .execute(&mut connection)
                        .await
                        .expect("the damage is done");
                }
                connection.close().await.expect("closes");
            }
            (None, Some((url, schema))) => {
                let pool = sqlx::PgPool::connect(url).await.expect("reachable");
                let mut connection = pool.acquire().await.expect("a connection");
                sqlx::query(&format!("SET search_path TO \"{schema}\""))
                    .execute(&mut *connection)
                    .await
                    .expect("the schema is chosen");
                for statement in postgres {
                    sqlx::query(statement)
                        .execute(&mut *connection)
                        .await
                        .expect("the damage is done");
                }
                drop(connection);
                pool.close().await;
            }
            (None, None) => unreachable!("a test store is one or the other"),
        }
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((url, schema)) = self.schema {
            let pool = sqlx::PgPool::connect(&url).await.expect("reachable");
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(&pool)
                .await
                .expect("the test schema drops");
            pool.close().await;
        }
    }
}

fn event(kind: &str, n: u64) -> NewEvent {
    NewEvent {
        kind: kind.to_owned(),
        actor: "{\"kind\":\"partner\",\"user\":\"ada\\tb\"}".to_owned(),
        payload: json!({ "n": n, "note": "tab\there\nnewline \\ backslash « unicode »" }),
        recorded_at: "2026-11-24T10:00:00.123456789Z"
            .parse()
            .expect("a valid timestamp"),
    }
}

const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3 binary\n%%EOF\n";

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Something of every kind the store keeps.
async fn populate(store: &Store) {
    store
        .append("acme", 0, vec![event("noted", 1), event("noted", 2)], None)
        .await
        .expect("appends");
    store
        .append(
            "beta",
            0,
            vec![event("noted", 3)],
            Some(IdempotencyRecord {
                key: "key-1".into(),
                principal: "staff:sam".into(),
                request_hash: "abc".into(),
                status: 201,
                body: "{\"revision\":3}\n".into(),
            }),
        )
        .await
        .expect("appends");
    store
        .append("acme", 2, vec![event("noted", 4)], None)
        .await
        .expect("appends");
    store
        .save_snapshot("acme", 2, json!({ "folded": 2, "text": "a\tb" }))
        .await
        .expect("saves");
    store
        .save_snapshot("beta", 1, json!({ "folded": 1 }))
        .await
        .expect("saves");
    store
        .put_blob(&sha256_hex(PDF), "application/pdf", PDF.to_vec())
        .await
        .expect("stores");
    store
        .put_token("hash-live", json!({ "staff": "sam" }))
        .await
        .expect("stores");
    store
        .put_token("hash-revoked", json!({ "staff": "old" }))
        .await
        .expect("stores");
    store.revoke_token("hash-revoked").await.expect("revokes");
    store
        .put_expiring_token(
            "hash-session",
            json!({ "partner": "ada" }),
            "2099-01-01T00:00:00Z".parse().expect("a timestamp"),
        )
        .await
        .expect("stores");
    store
        .put_password(
            "ada@acme",
            Some("acme"),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            json!({ "partner": "ada" }),
        )
        .await
        .expect("stores");
    store
        .record_sign_in_failure(
            "eve@acme",
            "2026-11-24T10:00:00Z".parse().expect("a timestamp"),
        )
        .await
        .expect("records");
}

fn no_progress() -> clearance_store::dump::Progress {
    Arc::new(|_| {})
}

/// The export's records but its first and last lines (the header and `end` differ by when and
/// where they were read), sorted (backends may order text differently).
async fn body(store: &Store, dir: &Path, name: &str) -> Vec<String> {
    let path = dir.join(name);
    store
        .export(&path, no_progress())
        .await
        .expect("the export is written");
    let text = std::fs::read_to_string(&path).expect("reads");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("{\"kind\":\"header\""), "{}", lines[0]);
    assert!(
        lines[lines.len() - 1].starts_with("{\"kind\":\"end\""),
        "{}",
        lines[lines.len() - 1]
    );
    let mut body: Vec<String> = lines[1..lines.len() - 1]
        .iter()
        .map(|line| (*line).to_owned())
        .collect();
    body.sort();
    body
}

async fn assert_empty(store: &Store) {
    assert_eq!(store.current_revision().await.expect("reads"), 0);
    assert!(store.list_tenants().await.expect("reads").is_empty());
    assert!(
        store
            .get_blob(&sha256_hex(PDF))
            .await
            .expect("reads")
            .is_none()
    );
    assert!(
        store
            .find_token("hash-live")
            .await
            .expect("reads")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imports_into_the_other_backend_and_back_with_every_record() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let source = TestStore::sqlite().await;
    populate(&source.store).await;
    let original = body(&source.store, dir.path(), "original.jsonl").await;
    assert_eq!(
        original.len(),
        4 + 2 + 1 + 3 + 1 + 1 + 1,
        "events, snapshots, document, tokens, sign-in, attempt, idempotency: {original:#?}"
    );

    let moved = source.other_than().await;
    let file = dir.path().join("there.jsonl.zst");
    let exported = source
        .store
        .export(&file, no_progress())
        .await
        .expect("exports");
    assert_eq!((exported.end.tenants, exported.end.events), (2, 4));
    let imported = moved
        .store
        .import(&file, no_progress())
        .await
        .expect("imports");
    assert_eq!(imported.header.revision, 4);
    assert_eq!(
        (imported.snapshots, imported.documents, imported.tokens),
        (2, 1, 3)
    );
    assert_eq!(
        body(&moved.store, dir.path(), "moved.jsonl").await,
        original
    );
    assert_eq!(moved.store.check_integrity().await.expect("checks"), []);
    let feed = |store: Store| async move {
        store
            .events_after_revision(0, 100)
            .await
            .expect("the feed reads")
    };
    assert_eq!(
        feed(moved.store.clone()).await,
        feed(source.store.clone()).await
    );
    // What the imported store answers, as its users will read it.
    assert_eq!(
        moved.store.find_token("hash-session").await.expect("reads"),
        Some(json!({ "partner": "ada" }))
    );
    assert_eq!(
        moved.store.find_token("hash-revoked").await.expect("reads"),
        None
    );
    let record = moved
        .store
        .idempotency_lookup("staff:sam", "key-1")
        .await
        .expect("reads")
        .expect("the record moved");
    assert_eq!(
        (record.status, record.body.as_str()),
        (201, "{\"revision\":3}\n")
    );
    assert_eq!(
        moved
            .store
            .get_blob(&sha256_hex(PDF))
            .await
            .expect("reads")
            .expect("the document moved")
            .bytes,
        PDF
    );
    // Appends continue from the imported versions and revisions.
    let appended = moved
        .store
        .append("beta", 1, vec![event("noted", 5)], None)
        .await
        .expect("appends after the import");
    assert_eq!((appended.version, appended.revision), (2, 5));

    // And back, through gzip.
    let back = TestStore::sqlite().await;
    let file = dir.path().join("back.jsonl.gz");
    moved
        .store
        .export(&file, no_progress())
        .await
        .expect("exports");
    back.store
        .import(&file, no_progress())
        .await
        .expect("imports");
    let mut expected = body(&moved.store, dir.path(), "moved-after.jsonl").await;
    expected.sort();
    assert_eq!(body(&back.store, dir.path(), "back.jsonl").await, expected);
    source.finish().await;
    moved.finish().await;
    back.finish().await;
}

/// Exports a populated store as plain text and returns its lines (with their newlines).
async fn exported_lines(dir: &Path) -> Vec<String> {
    let source = TestStore::sqlite().await;
    populate(&source.store).await;
    let path = dir.join("source.jsonl");
    source
        .store
        .export(&path, no_progress())
        .await
        .expect("exports");
    source.finish().await;
    std::fs::read_to_string(&path)
        .expect("reads")
        .split_inclusive('\n')
        .map(str::to_owned)
        .collect()
}

/// Imports `text` (written to `name`) into a new store of each backend: the refusal, after
/// checking that nothing was written and that the store still takes a sound import.
async fn refused(dir: &Path, name: &str, text: &[u8], sound: &Path) -> Vec<(u64, String)> {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writes");
    let mut refusals = Vec::new();
    let mut targets = vec![TestStore::sqlite().await];
    targets.extend(TestStore::postgres().await);
    for target in targets {
        match target.store.import(&path, no_progress()).await {
            Err(ImportError::Line { line, message, .. }) => refusals.push((line, message)),
            other => panic!("{name}: expected a refusal naming a line, got {other:?}"),
        }
        assert_empty(&target.store).await;
        target
            .store
            .import(sound, no_progress())
            .await
            .expect("the store is still empty and takes a sound file");
        target.finish().await;
    }
    refusals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_export_is_refused_naming_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines = exported_lines(dir.path()).await;
    let sound = dir.path().join("source.jsonl");
    let whole = lines.concat();

    // Cut inside line 5.
    let cut = lines[..4].concat().len() + lines[4].len() / 2;
    for (line, message) in refused(dir.path(), "cut.jsonl", &whole.as_bytes()[..cut], &sound).await
    {
        assert_eq!(line, 5, "{message}");
        assert!(message.contains("cut short"), "{message}");
    }
    // Every line whole, but without the `end` line.
    let without_end = lines[..lines.len() - 1].concat();
    for (line, message) in refused(dir.path(), "no-end.jsonl", without_end.as_bytes(), &sound).await
    {
        assert_eq!(line, lines.len() as u64, "{message}");
        assert!(message.contains("without its `end` line"), "{message}");
    }
    // A compressed file cut short.
    let mut encoder = zstd_compress(whole.as_bytes());
    encoder.truncate(encoder.len() * 2 / 3);
    for (_, message) in refused(dir.path(), "cut.jsonl.zst", &encoder, &sound).await {
        assert!(message.contains("cut short"), "{message}");
    }
}

fn zstd_compress(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("compresses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_export_is_refused_naming_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines = exported_lines(dir.path()).await;
    let sound = dir.path().join("source.jsonl");
    let end_line = lines.len() as u64;

    // A payload changed, still valid JSON: only the checksum can tell.
    let (index, _) = lines
        .iter()
        .enumerate()
        .find(|(_, line)| line.contains("\"kind\":\"event\""))
        .expect("an event line");
    let mut altered = lines.clone();
    altered[index] = altered[index].replacen("\"n\":", "\"n\":1", 1);
    assert_ne!(altered[index], lines[index]);
    for (line, message) in refused(
        dir.path(),
        "altered.jsonl",
        altered.concat().as_bytes(),
        &sound,
    )
    .await
    {
        assert_eq!(line, end_line, "{message}");
        assert!(
            message.contains("altered after it was exported"),
            "{message}"
        );
    }

    // An event removed from a tenant's log: refused at the line after the gap.
    let second = lines
        .iter()
        .position(|line| line.contains("\"seq\":2,"))
        .expect("a second event");
    let mut removed = lines.clone();
    removed.remove(second - 1);
    for (line, message) in refused(
        dir.path(),
        "removed.jsonl",
        removed.concat().as_bytes(),
        &sound,
    )
    .await
    {
        assert_eq!(line, second as u64, "{message}");
        assert!(message.contains("field `seq`"), "{message}");
    }

    // A document's bytes replaced.
    let document = lines
        .iter()
        .position(|line| line.contains("\"kind\":\"document\""))
        .expect("a document line");
    let mut forged = lines.clone();
    let start = forged[document].find("\"bytes\":\"").expect("bytes") + 9;
    forged[document].replace_range(start..start + 4, "AAAA");
    for (line, message) in refused(
        dir.path(),
        "forged.jsonl",
        forged.concat().as_bytes(),
        &sound,
    )
    .await
    {
        assert_eq!(line, document as u64 + 1, "{message}");
        assert!(message.contains("field `sha256`"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_a_store_that_is_not_empty_naming_what_it_holds() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let exported_lines = exported_lines(dir.path()).await;
    assert!(!exported_lines.is_empty());
    let sound = dir.path().join("source.jsonl");
    let mut targets = vec![TestStore::sqlite().await];
    targets.extend(TestStore::postgres().await);
    for target in targets {
        target
            .store
            .append("zeta", 0, vec![event("noted", 1)], None)
            .await
            .expect("appends");
        target
            .store
            .put_token("hash-x", json!({}))
            .await
            .expect("stores");
        let refusal = target.store.import(&sound, no_progress()).await;
        assert!(
            matches!(&refusal, Err(ImportError::NotEmpty { holds })
                if holds == "1 tenants (1 events), 1 tokens"),
            "{refusal:?}"
        );
        assert_eq!(target.store.list_tenants().await.expect("reads"), ["zeta"]);
        target.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrity_checks_find_a_revision_gap_a_broken_log_a_snapshot_ahead_and_a_document_hash() {
    let mut targets = vec![TestStore::sqlite().await];
    targets.extend(TestStore::postgres().await);
    for target in targets {
        populate(&target.store).await;
        assert_eq!(target.store.check_integrity().await.expect("checks"), []);
        target
            .tamper(
                &[
                    "UPDATE clearance_events SET revision = 10 WHERE revision = 2",
                    "DELETE FROM clearance_events WHERE tenant = 'beta'",
                    "UPDATE clearance_snapshots SET version = 9 WHERE tenant = 'acme'",
                    "UPDATE clearance_blobs SET bytes = X'00'",
                ],
                &[
                    "UPDATE clearance_events SET revision = 10 WHERE revision = 2",
                    "DELETE FROM clearance_events WHERE tenant = 'beta'",
                    "UPDATE clearance_snapshots SET version = 9 WHERE tenant = 'acme'",
                    "UPDATE clearance_blobs SET bytes = decode('00', 'hex')",
                ],
            )
            .await;
        let problems = target.store.check_integrity().await.expect("checks");
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            problems.iter().any(|problem| matches!(problem,
                IntegrityProblem::Revisions { events: 3, highest: 10, counter: 4, missing }
                    if missing == &[2, 5])),
            "{shown:#?}"
        );
        assert!(
            problems.iter().any(|problem| matches!(problem,
                IntegrityProblem::TenantLog { tenant, version: 1, events: 0, .. }
                    if tenant == "beta")),
            "{shown:#?}"
        );
        assert!(
            problems.iter().any(|problem| matches!(problem,
                IntegrityProblem::SnapshotAhead { tenant, version: 9, actual: 3 }
                    if tenant == "acme")),
            "{shown:#?}"
        );
        assert!(
            problems.iter().any(
                |problem| matches!(problem, IntegrityProblem::DocumentHash { sha256, .. }
                    if *sha256 == sha256_hex(PDF))
            ),
            "{shown:#?}"
        );
        assert_eq!(problems.len(), 4, "{shown:#?}");
        target.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_holds_every_write_acknowledged_before_it_began() {
    let source = TestStore::sqlite().await;
    let acknowledged: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let store = source.store.clone();
        let acknowledged = acknowledged.clone();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let tenant = format!("w{writer}");
            let mut version = 0;
            while !stop.load(Ordering::Relaxed) {
                let appended = store
                    .append(&tenant, version, vec![event("noted", version)], None)
                    .await
                    .expect("appends");
                version = appended.version;
                acknowledged
                    .lock()
                    .expect("not poisoned")
                    .push((tenant.clone(), version));
            }
        }));
    }
    while acknowledged.lock().expect("not poisoned").len() < 200 {
        tokio::task::yield_now().await;
    }
    let before = acknowledged.lock().expect("not poisoned").clone();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let copy = dir.path().join("backup.db");
    source
        .store
        .backup(&copy)
        .await
        .expect("the backup is taken");
    let during = acknowledged.lock().expect("not poisoned").len();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("the writer ends");
    }
    assert!(
        acknowledged.lock().expect("not poisoned").len() > before.len() || during > before.len(),
        "writes went on while the backup ran"
    );
    let refused = source.store.backup(&copy).await;
    assert!(refused.is_err_and(|error| error.to_string().contains("never overwrites")));

    let restored = Store::open(copy.to_str().expect("a UTF-8 path"))
        .await
        .expect("the copy opens");
    for (tenant, version) in &before {
        let held = restored.tenant_version(tenant).await.expect("reads");
        assert!(
            held >= *version,
            "{tenant} at {version} was acknowledged before the backup; the copy has {held}"
        );
    }
    assert_eq!(restored.check_integrity().await.expect("checks"), []);
    restored.close().await;
    source.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_is_refused_pointing_to_pg_dump_and_export() {
    let Some(target) = TestStore::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let refused = target.store.backup(&dir.path().join("x.db")).await;
    assert!(refused.is_err_and(|error| {
        let text = error.to_string();
        text.contains("pg_dump") && text.contains("clearance export")
    }));
    target.finish().await;
}
