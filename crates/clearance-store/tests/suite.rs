//! The storage test suite, run against both backends: SQLite in a temporary directory always,
//! PostgreSQL when `CLEARANCE_TEST_POSTGRES` holds a URL (each test in its own schema, dropped at
//! the end, so tests and parallel runs never see each other's rows).

use std::collections::{BTreeMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clearance_store::{
    Appended, IdempotencyRecord, NewEvent, Snapshot, Store, StoreError, StoreOptions, StoredEvent,
};
use futures_util::FutureExt;
use serde_json::{Value, json};

const POSTGRES_URL: &str = "CLEARANCE_TEST_POSTGRES";

/// One backend prepared for one test, with what it takes to open more handles on the same
/// database and to clean up afterwards.
struct Harness {
    store: Store,
    backend: Backend,
    /// Schemas (PostgreSQL) or directories (SQLite) this test created.
    created: Mutex<Vec<Created>>,
}

#[derive(Clone)]
enum Backend {
    Sqlite,
    Postgres { url: String },
}

enum Created {
    Directory(tempfile::TempDir),
    Schema(String),
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .subsec_nanos();
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Harness {
    async fn sqlite() -> Harness {
        Harness::open(Backend::Sqlite).await
    }

    async fn postgres() -> Option<Harness> {
        let Ok(url) = std::env::var(POSTGRES_URL) else {
            println!("skipped: {POSTGRES_URL} not set");
            return None;
        };
        Some(Harness::open(Backend::Postgres { url }).await)
    }

    async fn open(backend: Backend) -> Harness {
        let created = Mutex::new(Vec::new());
        let options = new_database(&backend, &created);
        let store = Store::open_with(options).await.expect("the store opens");
        Harness {
            store,
            backend,
            created,
        }
    }

    /// Options for a database of its own (a new SQLite file, a new PostgreSQL schema).
    fn new_database(&self) -> StoreOptions {
        new_database(&self.backend, &self.created)
    }

    /// The options of the harness's own database, for a second handle on it (a second server).
    fn same_database(&self) -> StoreOptions {
        let created = self.created.lock().expect("not poisoned");
        match (&self.backend, created.first()) {
            (Backend::Sqlite, Some(Created::Directory(dir))) => StoreOptions::new(
                dir.path()
                    .join("data")
                    .join("clearance.db")
                    .to_str()
                    .expect("a UTF-8 temporary path"),
            ),
            (Backend::Postgres { url }, Some(Created::Schema(schema))) => {
                StoreOptions::new(url.clone())
                    .schema(schema.clone())
                    .poll_interval(Duration::from_millis(200))
            }
            _ => unreachable!("the first database is created with the harness"),
        }
    }

    fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres { .. })
    }

    async fn finish(self) {
        self.store.close().await;
        let created = std::mem::take(&mut *self.created.lock().expect("not poisoned"));
        if let Backend::Postgres { url } = &self.backend {
            let admin = sqlx::PgPool::connect(url).await.expect("admin connection");
            for created in &created {
                if let Created::Schema(schema) = created {
                    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                        .execute(&admin)
                        .await
                        .expect("the test schema drops");
                }
            }
            admin.close().await;
        }
    }
}

fn new_database(backend: &Backend, created: &Mutex<Vec<Created>>) -> StoreOptions {
    let mut created = created.lock().expect("not poisoned");
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let path = dir.path().join("data").join("clearance.db");
            created.push(Created::Directory(dir));
            StoreOptions::new(path.to_str().expect("a UTF-8 temporary path"))
        }
        Backend::Postgres { url } => {
            let schema = unique_name();
            created.push(Created::Schema(schema.clone()));
            StoreOptions::new(url.clone())
                .schema(schema)
                .poll_interval(Duration::from_millis(200))
        }
    }
}

/// Runs one suite test on one backend and cleans up even when it fails.
macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let harness = crate::Harness::sqlite().await;
                    crate::run(harness, |harness| Box::pin(super::$test(harness))).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(harness) = crate::Harness::postgres().await else { return };
                    crate::run(harness, |harness| Box::pin(super::$test(harness))).await;
                }
            )*
        }
    };
}

type TestFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

async fn run(harness: Harness, test: for<'a> fn(&'a Harness) -> TestFuture<'a>) {
    let outcome = AssertUnwindSafe(test(&harness)).catch_unwind().await;
    harness.finish().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

suite!(
    sequence_numbers_start_at_one_per_tenant,
    events_round_trip_exactly,
    a_stale_expected_version_is_refused_and_writes_nothing,
    an_append_is_all_or_nothing,
    concurrent_appends_with_one_stale_do_not_affect_each_other,
    an_idempotency_record_is_written_with_its_append,
    revisions_are_gap_free_and_in_order_across_tenants,
    snapshot_and_later_events_load_like_a_full_replay,
    an_old_or_future_snapshot_is_not_saved,
    a_second_handle_sees_and_hears_of_the_first_handles_write,
    blobs_round_trip_by_content_address,
    tokens_and_passwords_round_trip,
    demo_credentials_are_revoked_together_and_nothing_else,
    expiring_tokens_and_sign_in_failures_are_shared_and_pruned,
    a_parallel_burst_reserves_at_most_the_limit_across_servers,
    reopening_keeps_every_acknowledged_write,
    servers_starting_together_migrate_once,
    concurrent_appenders_lose_nothing_and_duplicate_nothing,
);

fn event(kind: &str, n: u64) -> NewEvent {
    NewEvent {
        kind: kind.to_owned(),
        actor: "alice".to_owned(),
        payload: json!({ "n": n }),
        recorded_at: "2026-11-24T10:00:00Z".parse().expect("a valid timestamp"),
    }
}

fn events(kind: &str, count: u64) -> Vec<NewEvent> {
    (1..=count).map(|n| event(kind, n)).collect()
}

fn record(principal: &str, key: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        key: key.to_owned(),
        principal: principal.to_owned(),
        request_hash: format!("hash-of-{key}"),
        status: 201,
        body: format!("{{\"key\":\"{key}\"}}"),
    }
}

async fn all_events(store: &Store) -> Vec<StoredEvent> {
    store
        .events_after_revision(0, u32::MAX)
        .await
        .expect("the feed reads")
}

async fn sequence_numbers_start_at_one_per_tenant(harness: &Harness) {
    let store = &harness.store;
    let first = store
        .append("a", 0, events("noted", 2), None)
        .await
        .unwrap();
    let second = store
        .append("b", 0, events("noted", 1), None)
        .await
        .unwrap();
    let third = store
        .append("a", 2, events("noted", 1), None)
        .await
        .unwrap();
    assert_eq!((first.version, second.version, third.version), (2, 1, 3));
    let seqs: Vec<u64> = store
        .tenant_events("a", 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|event| event.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    let page: Vec<u64> = store
        .tenant_events("a", 1, 1)
        .await
        .unwrap()
        .iter()
        .map(|event| event.seq)
        .collect();
    assert_eq!(page, vec![2]);
    assert_eq!(store.tenant_version("a").await.unwrap(), 3);
    assert_eq!(store.tenant_version("b").await.unwrap(), 1);
    assert_eq!(store.tenant_version("nobody").await.unwrap(), 0);
    assert_eq!(store.list_tenants().await.unwrap(), vec!["a", "b"]);
}

async fn events_round_trip_exactly(harness: &Harness) {
    let store = &harness.store;
    let written = NewEvent {
        kind: "appeal_submitted".to_owned(),
        actor: "operator:bob".to_owned(),
        payload: json!({
            "document": {"type": "tax_certificate", "sha256": "ab12"},
            "big": u64::MAX,
            "ratio": 0.1,
            "text": "naïve \"quoted\" \\ line\nbreak",
            "list": [1, null, true],
        }),
        recorded_at: "2026-11-24T10:00:00.123456789Z".parse().unwrap(),
    };
    let appended = store
        .append("contoso", 0, vec![written.clone()], None)
        .await
        .unwrap();
    let stored = store.tenant_events("contoso", 0, 10).await.unwrap();
    assert_eq!(
        stored,
        vec![StoredEvent {
            tenant: "contoso".to_owned(),
            seq: 1,
            revision: appended.revision,
            kind: written.kind,
            actor: written.actor,
            payload: written.payload,
            recorded_at: written.recorded_at,
        }]
    );
}

async fn a_stale_expected_version_is_refused_and_writes_nothing(harness: &Harness) {
    let store = &harness.store;
    store
        .append("a", 0, events("noted", 1), None)
        .await
        .unwrap();
    let revision = store.current_revision().await.unwrap();
    for expected in [0, 5] {
        let refused = store
            .append("a", expected, events("late", 2), Some(record("p", "k")))
            .await;
        match refused {
            Err(StoreError::Conflict {
                tenant,
                expected: named,
                actual,
            }) => assert_eq!((tenant.as_str(), named, actual), ("a", expected, 1)),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(store.tenant_version("a").await.unwrap(), 1);
    assert_eq!(store.tenant_events("a", 0, 10).await.unwrap().len(), 1);
    assert_eq!(store.current_revision().await.unwrap(), revision);
    assert_eq!(store.idempotency_lookup("p", "k").await.unwrap(), None);
}

async fn an_append_is_all_or_nothing(harness: &Harness) {
    let store = &harness.store;
    store
        .append("a", 0, events("noted", 1), Some(record("p", "k")))
        .await
        .unwrap();
    // Three events whose idempotency record cannot be written: none of them may land.
    let refused = store
        .append("b", 0, events("noted", 3), Some(record("p", "k")))
        .await;
    assert!(
        matches!(&refused, Err(StoreError::DuplicateIdempotencyKey { principal, key }) if principal == "p" && key == "k"),
        "{refused:?}"
    );
    assert_eq!(store.tenant_version("b").await.unwrap(), 0);
    assert!(store.tenant_events("b", 0, 10).await.unwrap().is_empty());
    assert_eq!(store.current_revision().await.unwrap(), 1);
    assert_eq!(store.list_tenants().await.unwrap(), vec!["a"]);
}

async fn concurrent_appends_with_one_stale_do_not_affect_each_other(harness: &Harness) {
    let store = &harness.store;
    // Twenty appends at once: ten race for the same tenant's version 0 (exactly one may win),
    // ten go to tenants of their own (all must land), likely in the same group commit.
    let mut tasks = Vec::new();
    for n in 0..20u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let tenant = if n % 2 == 0 {
                "shared".to_owned()
            } else {
                format!("own-{n}")
            };
            (
                tenant.clone(),
                store.append(&tenant, 0, events("noted", 2), None).await,
            )
        }));
    }
    let mut shared_wins = 0;
    for task in tasks {
        let (tenant, outcome) = task.await.unwrap();
        if tenant == "shared" {
            match outcome {
                Ok(_) => shared_wins += 1,
                Err(StoreError::Conflict { actual: 2, .. }) => {}
                other => panic!("unexpected outcome {other:?}"),
            }
        } else {
            assert_eq!(outcome.unwrap().version, 2, "{tenant}");
        }
    }
    assert_eq!(shared_wins, 1);
    assert_eq!(store.tenant_events("shared", 0, 10).await.unwrap().len(), 2);
    assert_eq!(all_events(store).await.len(), 22);
}

async fn an_idempotency_record_is_written_with_its_append(harness: &Harness) {
    let store = &harness.store;
    let first = record("partner:alice", "key-1");
    store
        .append("a", 0, events("noted", 1), Some(first.clone()))
        .await
        .unwrap();
    assert_eq!(
        store
            .idempotency_lookup("partner:alice", "key-1")
            .await
            .unwrap(),
        Some(first)
    );
    assert_eq!(
        store
            .idempotency_lookup("partner:bob", "key-1")
            .await
            .unwrap(),
        None
    );
    let plain = record("partner:bob", "key-1");
    store.idempotency_put(plain.clone()).await.unwrap();
    assert_eq!(
        store
            .idempotency_lookup("partner:bob", "key-1")
            .await
            .unwrap(),
        Some(plain.clone())
    );
    assert!(matches!(
        store.idempotency_put(plain).await,
        Err(StoreError::DuplicateIdempotencyKey { .. })
    ));
}

async fn revisions_are_gap_free_and_in_order_across_tenants(harness: &Harness) {
    let store = &harness.store;
    let mut tasks = Vec::new();
    for writer in 0..8u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let tenant = format!("tenant-{writer}");
            let mut version = 0;
            let mut acknowledged = Vec::new();
            for round in 0..10u64 {
                let count = 1 + (writer + round) % 3;
                let appended = store
                    .append(&tenant, version, events("noted", count), None)
                    .await
                    .unwrap();
                version = appended.version;
                acknowledged.push((tenant.clone(), appended));
            }
            acknowledged
        }));
    }
    let mut acknowledged: Vec<(String, Appended)> = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    let feed = all_events(store).await;
    let revisions: Vec<u64> = feed.iter().map(|event| event.revision).collect();
    let expected: Vec<u64> = (1..=feed.len() as u64).collect();
    assert_eq!(revisions, expected);
    assert_eq!(store.current_revision().await.unwrap(), feed.len() as u64);
    for (tenant, appended) in &acknowledged {
        let event = &feed[appended.revision as usize - 1];
        assert_eq!((&event.tenant, event.seq), (tenant, appended.version));
    }
    let mut last_seq: BTreeMap<&str, u64> = BTreeMap::new();
    for event in &feed {
        let last = last_seq.entry(&event.tenant).or_default();
        assert_eq!(
            event.seq,
            *last + 1,
            "seqs of {} are contiguous",
            event.tenant
        );
        *last = event.seq;
    }
    let page: Vec<u64> = store
        .events_after_revision(5, 3)
        .await
        .unwrap()
        .iter()
        .map(|event| event.revision)
        .collect();
    assert_eq!(page, vec![6, 7, 8]);
}

/// The fold the snapshot test replays: a count and a sum of the payloads' `n`.
fn fold(mut state: Value, event: &StoredEvent) -> Value {
    let count = state["count"].as_u64().unwrap_or(0) + 1;
    let sum = state["sum"].as_u64().unwrap_or(0) + event.payload["n"].as_u64().unwrap_or(0);
    state["count"] = json!(count);
    state["sum"] = json!(sum);
    state["last"] = json!(event.kind);
    state
}

async fn snapshot_and_later_events_load_like_a_full_replay(harness: &Harness) {
    let store = &harness.store;
    store
        .append("a", 0, events("early", 3), None)
        .await
        .unwrap();
    store.append("b", 0, events("only", 2), None).await.unwrap();
    store
        .append("c", 0, events("early", 2), None)
        .await
        .unwrap();
    for tenant in ["a", "c"] {
        let history = store.tenant_events(tenant, 0, 100).await.unwrap();
        let state = history.iter().fold(json!({}), fold);
        store
            .save_snapshot(tenant, history.len() as u64, state)
            .await
            .unwrap();
    }
    store.append("a", 3, events("late", 2), None).await.unwrap();

    let mut loader = store.load_all().await.unwrap();
    assert_eq!(loader.revision(), store.current_revision().await.unwrap());
    let mut loaded = Vec::new();
    while let Some(history) = loader.next().await.unwrap() {
        loaded.push(history);
    }
    let shapes: Vec<(&str, Option<u64>, Vec<u64>)> = loaded
        .iter()
        .map(|history| {
            (
                history.tenant.as_str(),
                history.snapshot.as_ref().map(|snapshot| snapshot.version),
                history.events.iter().map(|event| event.seq).collect(),
            )
        })
        .collect();
    assert_eq!(
        shapes,
        vec![
            ("a", Some(3), vec![4, 5]),
            ("b", None, vec![1, 2]),
            ("c", Some(2), vec![]),
        ]
    );
    for history in &loaded {
        let start = history
            .snapshot
            .as_ref()
            .map_or(json!({}), |snapshot| snapshot.state.clone());
        let from_snapshot = history.events.iter().fold(start, fold);
        let full = store
            .tenant_events(&history.tenant, 0, 100)
            .await
            .unwrap()
            .iter()
            .fold(json!({}), fold);
        assert_eq!(from_snapshot, full, "tenant {}", history.tenant);
        assert_eq!(
            history.version(),
            store.tenant_version(&history.tenant).await.unwrap()
        );
    }
}

async fn an_old_or_future_snapshot_is_not_saved(harness: &Harness) {
    let store = &harness.store;
    store
        .append("a", 0, events("noted", 3), None)
        .await
        .unwrap();
    store.save_snapshot("a", 3, json!({"v": 3})).await.unwrap();
    store.save_snapshot("a", 2, json!({"v": 2})).await.unwrap();
    let refused = store.save_snapshot("a", 4, json!({"v": 4})).await;
    assert!(
        matches!(
            &refused,
            Err(StoreError::SnapshotAhead {
                version: 4,
                actual: 3,
                ..
            })
        ),
        "{refused:?}"
    );
    let mut loader = store.load_all().await.unwrap();
    let history = loader.next().await.unwrap().expect("tenant a loads");
    assert_eq!(
        history.snapshot,
        Some(Snapshot {
            version: 3,
            state: json!({"v": 3})
        })
    );
    assert!(loader.next().await.unwrap().is_none());
}

async fn a_second_handle_sees_and_hears_of_the_first_handles_write(harness: &Harness) {
    let first = &harness.store;
    let second = Store::open_with(harness.same_database()).await.unwrap();
    let mut own_feed = first.subscribe();
    let mut other_feed = second.subscribe();
    let appended = first
        .append("a", 0, events("noted", 1), None)
        .await
        .unwrap();

    let heard = own_feed.recv().await.unwrap();
    assert_eq!(heard, appended.revision);
    if harness.is_postgres() {
        // Another process's commit arrives through NOTIFY (or the poll); bounded, not slept on.
        let heard = tokio::time::timeout(Duration::from_secs(10), other_feed.recv())
            .await
            .expect("the second handle hears of the write")
            .unwrap();
        assert_eq!(heard, appended.revision);
        let mut watch = second.watch_revision();
        watch
            .wait_for(|seen| *seen >= appended.revision)
            .await
            .unwrap();
    }
    let read = second.events_after_revision(0, 10).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].revision, appended.revision);
    // And the second handle's writes are checked against the first's.
    let stale = second.append("a", 0, events("noted", 1), None).await;
    assert!(matches!(stale, Err(StoreError::Conflict { actual: 1, .. })));
    second
        .append("a", 1, events("noted", 1), None)
        .await
        .unwrap();
    assert_eq!(first.tenant_version("a").await.unwrap(), 2);
    second.close().await;
}

async fn blobs_round_trip_by_content_address(harness: &Harness) {
    let store = &harness.store;
    let bytes = b"%PDF-1.7 appeal document".to_vec();
    // SHA-256 of the bytes above.
    let address = sha256_hex(&bytes);
    store
        .put_blob(&address, "application/pdf", bytes.clone())
        .await
        .unwrap();
    store
        .put_blob(&address, "application/pdf", bytes.clone())
        .await
        .unwrap();
    let blob = store.get_blob(&address).await.unwrap().expect("stored");
    assert_eq!(
        (blob.content_type.as_str(), &blob.bytes, &blob.sha256),
        ("application/pdf", &bytes, &address)
    );
    let wrong = store.put_blob(&"0".repeat(64), "image/png", bytes).await;
    assert!(matches!(
        wrong,
        Err(StoreError::InvalidInput {
            field: "sha256_hex",
            ..
        })
    ));
    assert_eq!(store.get_blob(&"0".repeat(64)).await.unwrap(), None);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn demo_credentials_are_revoked_together_and_nothing_else(harness: &Harness) {
    let store = &harness.store;
    let alice = json!({"kind": "partner", "tenant": "contoso", "user": "alice"});
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    store
        .put_token("demo-token", clearance_store::demo_principal(alice.clone()))
        .await
        .unwrap();
    store.put_token("real-token", alice.clone()).await.unwrap();
    store
        .put_password(
            "alice@contoso",
            Some("contoso"),
            "$argon2id$v=19$demo",
            clearance_store::demo_principal(alice.clone()),
        )
        .await
        .unwrap();
    store
        .put_password(
            "bob@contoso",
            Some("contoso"),
            "$argon2id$v=19$real",
            alice.clone(),
        )
        .await
        .unwrap();
    for (hash, login) in [
        ("demo-session", "alice@contoso"),
        ("real-session", "bob@contoso"),
    ] {
        store
            .put_expiring_token(
                hash,
                json!({"portal_session": {"login": login, "principal": alice}}),
                later,
            )
            .await
            .unwrap();
    }

    let revoked = store.revoke_demo_credentials().await.unwrap();
    assert_eq!(
        revoked,
        clearance_store::DemoRevoked {
            tokens: 2,
            sign_ins: 1
        }
    );
    assert_eq!(store.find_token("demo-token").await.unwrap(), None);
    assert_eq!(store.find_token("demo-session").await.unwrap(), None);
    assert!(
        store
            .find_password("alice@contoso")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.find_token("real-token").await.unwrap().is_some());
    assert!(store.find_token("real-session").await.unwrap().is_some());
    assert!(store.find_password("bob@contoso").await.unwrap().is_some());
    assert_eq!(
        store.revoke_demo_credentials().await.unwrap(),
        Default::default(),
        "nothing is left to revoke"
    );
}

async fn tokens_and_passwords_round_trip(harness: &Harness) {
    let store = &harness.store;
    let staff = json!({"kind": "operator", "id": "bob", "roles": ["support_agent"]});
    store.put_token("hash-1", staff.clone()).await.unwrap();
    assert_eq!(
        store.find_token("hash-1").await.unwrap(),
        Some(staff.clone())
    );
    assert_eq!(store.find_token("hash-2").await.unwrap(), None);
    store.revoke_token("hash-1").await.unwrap();
    store.revoke_token("hash-1").await.unwrap();
    assert_eq!(store.find_token("hash-1").await.unwrap(), None);
    store.put_token("hash-1", staff).await.unwrap();
    assert_eq!(
        store.find_token("hash-1").await.unwrap(),
        None,
        "a revoked token stays revoked"
    );
    assert!(matches!(
        store.revoke_token("unknown").await,
        Err(StoreError::NotFound { what: "token", .. })
    ));

    let alice = json!({"kind": "partner", "tenant": "contoso", "user": "alice"});
    store
        .put_password(
            "alice@contoso",
            Some("contoso"),
            "$argon2id$v=19$old",
            alice.clone(),
        )
        .await
        .unwrap();
    store
        .put_password(
            "alice@contoso",
            Some("contoso"),
            "$argon2id$v=19$new",
            alice.clone(),
        )
        .await
        .unwrap();
    store
        .put_password(
            "bob",
            None,
            "$argon2id$v=19$bob",
            json!({"kind": "operator"}),
        )
        .await
        .unwrap();
    let found = store.find_password("alice@contoso").await.unwrap().unwrap();
    assert_eq!(
        (
            found.tenant.as_deref(),
            found.phc_hash.as_str(),
            found.principal
        ),
        (Some("contoso"), "$argon2id$v=19$new", alice)
    );
    assert_eq!(
        store.find_password("bob").await.unwrap().unwrap().tenant,
        None
    );
    assert_eq!(store.find_password("carol").await.unwrap(), None);
}

async fn a_parallel_burst_reserves_at_most_the_limit_across_servers(harness: &Harness) {
    use clearance_store::{SignInLimit, SignInLimits, SignInReservation};
    let store = &harness.store;
    // A second handle on the same database: another server.
    let other = Store::open_with(harness.same_database()).await.unwrap();
    // Whole milliseconds, as the store keeps attempt times.
    let now = jiff::Timestamp::from_millisecond(jiff::Timestamp::now().as_millisecond()).unwrap();
    let limits = SignInLimits {
        since: now - jiff::SignedDuration::from_mins(15),
        per_login: 5,
        per_client: 8,
    };
    // 20 attempts on one login at once, half through each server.
    let burst = (0..20).map(|n| {
        let handle = if n % 2 == 0 { store } else { &other };
        let client = format!("10.0.0.{n}");
        async move {
            handle
                .reserve_sign_in_attempt("dave@tailspin", Some(&client), now, limits)
                .await
                .unwrap()
        }
    });
    let outcomes = futures_util::future::join_all(burst).await;
    let reserved = outcomes
        .iter()
        .filter(|outcome| **outcome == SignInReservation::Reserved)
        .count();
    assert_eq!(reserved, 5, "{outcomes:?}");
    assert!(outcomes.iter().all(|outcome| match outcome {
        SignInReservation::Reserved => true,
        SignInReservation::Refused { limit, oldest } =>
            *limit == SignInLimit::Login && *oldest == now,
    }));
    assert_eq!(
        store
            .sign_in_failures("dave@tailspin", limits.since)
            .await
            .unwrap()
            .len(),
        5
    );
    // One client spraying many logins is stopped by its own limit.
    let mut sprayed = Vec::new();
    for n in 0..10 {
        sprayed.push(
            other
                .reserve_sign_in_attempt(
                    &format!("user{n}@contoso"),
                    Some("192.0.2.7"),
                    now,
                    limits,
                )
                .await
                .unwrap(),
        );
    }
    assert_eq!(sprayed[..8], [SignInReservation::Reserved; 8]);
    assert_eq!(
        sprayed[8..],
        [SignInReservation::Refused {
            limit: SignInLimit::Client,
            oldest: now
        }; 2]
    );
    // A login's success clears its attempts; attempts past the window no longer count.
    store.clear_sign_in_failures("dave@tailspin").await.unwrap();
    assert_eq!(
        store
            .reserve_sign_in_attempt("dave@tailspin", None, now, limits)
            .await
            .unwrap(),
        SignInReservation::Reserved
    );
    let later = SignInLimits {
        since: now,
        ..limits
    };
    assert_eq!(
        other
            .reserve_sign_in_attempt("user9@contoso", Some("192.0.2.7"), now, later)
            .await
            .unwrap(),
        SignInReservation::Reserved
    );
    other.close().await;
}

async fn expiring_tokens_and_sign_in_failures_are_shared_and_pruned(harness: &Harness) {
    let store = &harness.store;
    // A second handle on the same database: another server.
    let other = Store::open_with(harness.same_database()).await.unwrap();
    let now = jiff::Timestamp::now();
    let minutes = |n: i64| jiff::SignedDuration::from_mins(n);
    let session = json!({"portal_session": {"login": "alice@contoso"}});
    let api = json!({"kind": "operator", "id": "bob"});
    store
        .put_expiring_token("live", session.clone(), now + minutes(30))
        .await
        .unwrap();
    store
        .put_expiring_token("expired", session.clone(), now - minutes(1))
        .await
        .unwrap();
    store.put_token("api", api.clone()).await.unwrap();
    assert_eq!(
        other.find_token("live").await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        other.find_token("expired").await.unwrap(),
        None,
        "an expired token does not authenticate"
    );

    for minute in [20, 10, 3, 2] {
        store
            .record_sign_in_failure("alice@contoso", now - minutes(minute))
            .await
            .unwrap();
    }
    other
        .record_sign_in_failure("alice@contoso", now - minutes(1))
        .await
        .unwrap();
    other
        .record_sign_in_failure("carol@fabrikam", now - minutes(1))
        .await
        .unwrap();
    let window = now - minutes(15);
    let seen = other
        .sign_in_failures("alice@contoso", window)
        .await
        .unwrap();
    assert_eq!(
        seen,
        vec![
            now - minutes(10),
            now - minutes(3),
            now - minutes(2),
            now - minutes(1)
        ]
        .into_iter()
        .map(|at| jiff::Timestamp::from_millisecond(at.as_millisecond()).unwrap())
        .collect::<Vec<_>>(),
        "both servers' failures inside the window, oldest first, to the millisecond"
    );

    let pruned = other.prune(now, window).await.unwrap();
    assert_eq!(
        pruned,
        clearance_store::Pruned {
            tokens: 1,
            sign_in_failures: 1
        }
    );
    assert_eq!(store.find_token("live").await.unwrap(), Some(session));
    assert_eq!(
        store.find_token("api").await.unwrap(),
        Some(api),
        "API tokens never expire"
    );
    assert_eq!(
        store
            .sign_in_failures("alice@contoso", now - minutes(60))
            .await
            .unwrap()
            .len(),
        4,
        "the failure older than the window is gone, the others stay"
    );
    assert_eq!(other.prune(now, window).await.unwrap(), Default::default());

    store.clear_sign_in_failures("alice@contoso").await.unwrap();
    assert!(
        other
            .sign_in_failures("alice@contoso", window)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        other
            .sign_in_failures("carol@fabrikam", window)
            .await
            .unwrap()
            .len(),
        1,
        "clearing one login leaves the others"
    );
    other.close().await;
}

async fn reopening_keeps_every_acknowledged_write(harness: &Harness) {
    let store = &harness.store;
    store
        .append("a", 0, events("noted", 3), Some(record("p", "k")))
        .await
        .unwrap();
    store.save_snapshot("a", 2, json!({"at": 2})).await.unwrap();
    store.put_token("hash", json!({"id": 1})).await.unwrap();
    let bytes = b"\x89PNG".to_vec();
    store
        .put_blob(&sha256_hex(&bytes), "image/png", bytes.clone())
        .await
        .unwrap();
    let before = all_events(store).await;
    store.close().await;
    assert!(matches!(
        store.append("a", 3, events("noted", 1), None).await,
        Err(StoreError::Closed)
    ));

    let reopened = Store::open_with(harness.same_database()).await.unwrap();
    assert_eq!(all_events(&reopened).await, before);
    assert_eq!(reopened.current_revision().await.unwrap(), 3);
    assert!(
        reopened
            .idempotency_lookup("p", "k")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        reopened.find_token("hash").await.unwrap(),
        Some(json!({"id": 1}))
    );
    assert!(
        reopened
            .get_blob(&sha256_hex(&bytes))
            .await
            .unwrap()
            .is_some()
    );
    let mut loader = reopened.load_all().await.unwrap();
    let history = loader.next().await.unwrap().unwrap();
    assert_eq!(history.snapshot.map(|snapshot| snapshot.version), Some(2));
    // The writer picks up the counters where they were.
    let appended = reopened
        .append("a", 3, events("noted", 1), None)
        .await
        .unwrap();
    assert_eq!((appended.version, appended.revision), (4, 4));
    reopened.close().await;
}

async fn servers_starting_together_migrate_once(harness: &Harness) {
    let options = harness.new_database();
    let (first, second) = tokio::join!(
        Store::open_with(options.clone()),
        Store::open_with(options.clone())
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    first
        .append("a", 0, events("noted", 1), None)
        .await
        .unwrap();
    assert_eq!(second.tenant_version("a").await.unwrap(), 1);
    first.close().await;
    second.close().await;
    let third = Store::open_with(options).await.unwrap();
    assert_eq!(third.current_revision().await.unwrap(), 1);
    third.close().await;
}

async fn concurrent_appenders_lose_nothing_and_duplicate_nothing(harness: &Harness) {
    let store = &harness.store;
    const OWN: u64 = 48;
    const CONTENDED: u64 = 16;
    const ROUNDS: u64 = 25;
    let mut tasks = Vec::new();
    for appender in 0..OWN + CONTENDED {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Most appenders own a tenant; the rest share four and retry on conflict.
            let tenant = if appender < OWN {
                format!("own-{appender}")
            } else {
                format!("shared-{}", appender % 4)
            };
            let mut acknowledged = Vec::new();
            for round in 0..ROUNDS {
                loop {
                    let version = store.tenant_version(&tenant).await.unwrap();
                    let mut event = event("noted", round);
                    event.payload = json!({ "appender": appender, "round": round });
                    match store.append(&tenant, version, vec![event], None).await {
                        Ok(appended) => {
                            acknowledged.push((tenant.clone(), appended, appender, round));
                            break;
                        }
                        Err(StoreError::Conflict { .. }) => continue,
                        Err(error) => panic!("append failed: {error}"),
                    }
                }
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    let feed = all_events(store).await;
    assert_eq!(feed.len(), acknowledged.len());
    assert_eq!(feed.len() as u64, (OWN + CONTENDED) * ROUNDS);
    let mut identities = HashSet::new();
    for event in &feed {
        assert!(
            identities.insert((
                event.payload["appender"].clone(),
                event.payload["round"].clone()
            )),
            "event {:?} is stored twice",
            event.payload
        );
    }
    for (tenant, appended, appender, round) in &acknowledged {
        let event = &feed[appended.revision as usize - 1];
        assert_eq!(
            (&event.tenant, event.seq, &event.payload),
            (
                tenant,
                appended.version,
                &json!({ "appender": appender, "round": round })
            )
        );
    }
    for tenant in store.list_tenants().await.unwrap() {
        let seqs: Vec<u64> = store
            .tenant_events(&tenant, 0, u32::MAX)
            .await
            .unwrap()
            .iter()
            .map(|event| event.seq)
            .collect();
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "tenant {tenant}");
    }
}
