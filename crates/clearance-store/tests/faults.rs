//! Faults fail fast: an append the database cannot take in time is refused within the store's
//! write timeout, as [`StoreError::Unavailable`], and is never committed later, even once the
//! database frees up again.

use std::time::{Duration, Instant};

use clearance_store::{NewEvent, Store, StoreError, StoreOptions};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

fn event() -> NewEvent {
    NewEvent {
        kind: "noted".into(),
        actor: "alice".into(),
        payload: serde_json::json!({}),
        recorded_at: "2026-11-24T10:00:00Z".parse().expect("a timestamp"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_behind_a_foreign_write_lock_is_refused_fast_and_never_committed_later() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("clearance.db");
    let location = path.to_str().expect("UTF-8 path");
    let store =
        Store::open_with(StoreOptions::new(location).write_timeout(Duration::from_millis(300)))
            .await
            .expect("the store opens");
    store
        .append("contoso", 0, vec![event()], None)
        .await
        .expect("the first append");

    // Another process (a backup, a second writer) holds SQLite's write lock: the writer waits
    // for it up to its busy timeout (10 s), far longer than a caller may.
    let mut foreign = SqliteConnection::connect(&format!("sqlite://{location}"))
        .await
        .expect("a foreign connection");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut foreign)
        .await
        .expect("the foreign write lock");
    let started = Instant::now();
    let refused = store.append("contoso", 1, vec![event()], None).await;
    let waited = started.elapsed();
    assert!(
        matches!(refused, Err(StoreError::Unavailable { .. })),
        "{refused:?}"
    );
    // Generous: the point is "not the 10 s busy timeout".
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");

    sqlx::query("ROLLBACK")
        .execute(&mut foreign)
        .await
        .expect("the lock is released");
    foreign.close().await.expect("closed");
    // The writer gets the lock now, with the abandoned append still in its batch: it must skip
    // it, so an append at version 1 still fits, and the tenant ends at 2, not 3.
    let appended = store
        .append("contoso", 1, vec![event()], None)
        .await
        .expect("the store recovers by itself");
    assert_eq!(appended.version, 2);
    assert_eq!(store.tenant_version("contoso").await.expect("a version"), 2);
    store.close().await;
}
