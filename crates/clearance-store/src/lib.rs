//! The durable, append-only event store of clearance, on SQLite (embedded) or PostgreSQL
//! (shared by several servers).
//!
//! The store keeps each tenant's events in order under optimistic concurrency, snapshots that
//! spare start-up a full replay, idempotency records, content-addressed blobs and hashed
//! credentials. It knows nothing of the domain: an event is a `kind` tag and a JSON payload, and
//! the server maps its domain events to and from them.
//!
//! Invariants every backend keeps:
//! - a tenant's events are numbered 1, 2, 3, ... (`seq`); an append names the version it read and
//!   is refused with [`StoreError::Conflict`], writing nothing, when the tenant moved on;
//! - an append's events and its idempotency record commit together or not at all, and the call
//!   returns only after the commit is durable;
//! - every event also gets a global `revision`, gap-free and in commit order across tenants, so a
//!   reader following [`Store::events_after_revision`] never skips a late commit.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use clearance_store::{NewEvent, Store};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path().join("clearance.db").to_str().unwrap()).await?;
//! let event = NewEvent {
//!     kind: "tenant_enrolled".into(),
//!     actor: "alice".into(),
//!     payload: serde_json::json!({"program": "maicpp"}),
//!     recorded_at: "2026-11-24T10:00:00Z".parse().unwrap(),
//! };
//! let appended = store.append("contoso", 0, vec![event], None).await?;
//! assert_eq!(appended.version, 1);
//! assert_eq!(store.tenant_events("contoso", 0, 10).await?[0].kind, "tenant_enrolled");
//! store.close().await;
//! # Ok::<(), clearance_store::StoreError>(())
//! # }).unwrap();
//! ```

mod auth;
mod bulk;
pub mod dump;
mod error;
mod group_commit;
mod integrity;
mod load;
mod migrations;
mod notify;
mod postgres;
mod records;
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{broadcast, watch};

pub use auth::{DemoRevoked, Pruned, SignInLimit, SignInLimits, SignInReservation, demo_principal};
pub use bulk::{Imported, NewTenant};
pub use error::StoreError;
pub use integrity::IntegrityProblem;
pub use load::{LOAD_BATCH, RawHistory, RawSnapshot, TenantLoader};
pub use records::{
    Appended, Blob, IdempotencyRecord, NewEvent, PasswordRecord, Snapshot, StoredEvent,
    TenantHistory,
};

use group_commit::AppendRequest;
use postgres::PostgresStore;
use records::{EncodedEvent, check_blob_address};
use sqlite::{SqliteStore, SqliteWrite};

/// Where the store lives and how it connects.
///
/// The location is `postgres://…` (or `postgresql://…`) for PostgreSQL, and `sqlite://PATH`,
/// `sqlite:PATH` or a plain file path for SQLite (parent directories are created).
#[derive(Debug, Clone)]
pub struct StoreOptions {
    location: String,
    schema: Option<String>,
    max_connections: u32,
    poll_interval: Duration,
    write_timeout: Duration,
}

impl StoreOptions {
    /// Options for the store at `location`, with defaults for the rest.
    pub fn new(location: impl Into<String>) -> Self {
        StoreOptions {
            location: location.into(),
            schema: None,
            max_connections: 8,
            poll_interval: Duration::from_millis(500),
            write_timeout: DEFAULT_WRITE_TIMEOUT,
        }
    }

    /// How long an append waits for the database before it is refused with
    /// [`StoreError::Unavailable`] (never written, not even later), and on PostgreSQL how long
    /// an operation waits for a connection. An append the writer already took into its
    /// transaction waits up to as long again for the commit, then fails with
    /// [`StoreError::OutcomeUnknown`]. Default: 800 ms, so a write answers within 2 s even when
    /// the database is gone.
    pub fn write_timeout(mut self, write_timeout: Duration) -> Self {
        self.write_timeout = write_timeout;
        self
    }

    /// PostgreSQL only: keep the store's tables in this schema (created if absent) instead of
    /// the connection's default. It must be a plain identifier (`[a-z_][a-z0-9_]*`). Also
    /// possible through the URL: `?options=-csearch_path%3Dname`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most database connections readers may use (PostgreSQL: in all, at least 3).
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// PostgreSQL only: how often to read the global revision in case a notification was lost
    /// (another process's commit is otherwise seen at once through LISTEN/NOTIFY).
    pub fn poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }
}

/// See [`StoreOptions::write_timeout`].
const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_millis(800);

/// Which database a location names.
enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

/// `location` (as [`Store::open`] takes it) fit for logs, errors and output: a URL's password,
/// in its user info or in a query parameter (`password=`, `sslpassword=`), becomes `***`.
/// A file path, or a URL without a password, is returned as is.
pub fn redacted_location(location: &str) -> String {
    const HIDDEN: &str = "***";
    let Some((scheme, _)) = location.split_once("://") else {
        return location.to_owned();
    };
    // Parsed as the database drivers parse it (sqlx uses `url` too): the user info ends at the
    // last `@`, so a password with an `@` in it is hidden whole.
    let Ok(mut url) = url::Url::parse(location) else {
        // Nothing after the scheme can be told apart from a password.
        return format!("{scheme}://{HIDDEN}");
    };
    let mut hidden = false;
    if url.password().is_some() {
        if url.set_password(Some(HIDDEN)).is_err() {
            return format!("{scheme}://{HIDDEN}");
        }
        hidden = true;
    }
    let is_secret = |key: &str| key.to_ascii_lowercase().contains("password");
    if url.query_pairs().any(|(key, _)| is_secret(&key)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if is_secret(&key) {
                    HIDDEN.to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        hidden = true;
    }
    if hidden {
        url.into()
    } else {
        location.to_owned()
    }
}

fn parse_location(location: &str) -> Result<Location, StoreError> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Ok(Location::Postgres(location.to_owned()));
    }
    let path = location
        .strip_prefix("sqlite://")
        .or_else(|| location.strip_prefix("sqlite:"))
        .unwrap_or(location);
    if path.is_empty() || path.starts_with(":memory:") || path.contains("://") {
        return Err(StoreError::InvalidInput {
            field: "location",
            value: location.to_owned(),
            reason: "expected a file path, `sqlite://PATH` or `postgres://…` \
                     (an in-memory database is not durable)"
                .to_owned(),
        });
    }
    Ok(Location::Sqlite(PathBuf::from(path)))
}

fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let mut chars = schema.chars();
    let plain = chars
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 63;
    if plain {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            field: "schema",
            value: schema.to_owned(),
            reason: "must be a plain identifier: lower-case letters, digits and `_`, \
                     at most 63 bytes"
                .to_owned(),
        })
    }
}

enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// A handle on the event store. Cheap to clone; every clone shares the same connections, writer
/// and change feed.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.backend {
            Backend::Sqlite(store) => f
                .debug_struct("Store")
                .field("sqlite", &store.path())
                .finish(),
            Backend::Postgres(_) => f.debug_struct("Store").field("postgres", &true).finish(),
        }
    }
}

impl Store {
    /// Opens (creating and migrating as needed) the store at `location`; see [`StoreOptions`]
    /// for the forms it takes.
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        Store::open_with(StoreOptions::new(location)).await
    }

    /// Opens the store with explicit options.
    pub async fn open_with(options: StoreOptions) -> Result<Store, StoreError> {
        if let Some(schema) = &options.schema {
            check_schema_name(schema)?;
        }
        let backend = match parse_location(&options.location)? {
            Location::Sqlite(path) => Backend::Sqlite(SqliteStore::open(&path, &options).await?),
            Location::Postgres(url) => {
                Backend::Postgres(PostgresStore::open(&url, &options).await?)
            }
        };
        Ok(Store {
            backend: Arc::new(backend),
        })
    }

    /// Finishes the writes already queued, stops the background tasks and closes the
    /// connections. Later calls on any clone fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        match &*self.backend {
            Backend::Sqlite(store) => store.close().await,
            Backend::Postgres(store) => store.close().await,
        }
    }

    /// Appends `events` to `tenant`'s log if the tenant is at `expected_version`, together with
    /// the request's idempotency record, in one transaction.
    ///
    /// Refused, writing nothing, with [`StoreError::Conflict`] when the tenant is at another
    /// version, and with [`StoreError::DuplicateIdempotencyKey`] when the record's key is taken.
    /// Returns once the commit is durable.
    ///
    /// Bounded in time: when the database does not answer within the
    /// [`StoreOptions::write_timeout`], the append fails with [`StoreError::Unavailable`] and is
    /// never written, now or later; when the database fails or stalls during the commit itself,
    /// with [`StoreError::OutcomeUnknown`] (or a database error), after which a retry under the
    /// same idempotency key is safe.
    pub async fn append(
        &self,
        tenant: &str,
        expected_version: u64,
        events: Vec<NewEvent>,
        idempotency: Option<IdempotencyRecord>,
    ) -> Result<Appended, StoreError> {
        let request = AppendRequest {
            tenant: tenant.to_owned(),
            expected: expected_version,
            events: events.into_iter().map(EncodedEvent::encode).collect(),
            idempotency,
        };
        match &*self.backend {
            Backend::Sqlite(store) => store.append(request).await,
            Backend::Postgres(store) => store.append(request).await,
        }
    }

    /// Writes many new tenants, each with its whole history and its snapshot, in one durable
    /// transaction: the bulk path for a generated or migrated population.
    ///
    /// The events keep every append invariant: each tenant's are numbered from 1, and the
    /// batch's take the next global revisions, tenant by tenant in batch order, serialized with
    /// every appender's commits; subscribers hear of the new revision as of an append. Refused,
    /// writing nothing, with [`StoreError::Conflict`] (expected version 0) naming the first
    /// tenant that already has events, and with [`StoreError::InvalidInput`] for a tenant
    /// without events or named twice. On SQLite the batch is one of the single writer's
    /// transactions, which other writes wait behind.
    pub async fn import_new_tenants(
        &self,
        tenants: Vec<NewTenant>,
    ) -> Result<Imported, StoreError> {
        bulk::check_batch(&tenants)?;
        if tenants.is_empty() {
            return Ok(Imported {
                tenants: 0,
                events: 0,
                revision: self.current_revision().await?,
            });
        }
        match &*self.backend {
            Backend::Sqlite(store) => store.import_new_tenants(tenants).await,
            Backend::Postgres(store) => store.import_new_tenants(&tenants).await,
        }
    }

    /// A page of `tenant`'s audit trail: up to `limit` events with `seq > after_seq`, in order.
    pub async fn tenant_events(
        &self,
        tenant: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.tenant_events(tenant, after_seq, limit).await,
            Backend::Postgres(store) => store.tenant_events(tenant, after_seq, limit).await,
        }
    }

    /// A page of the global feed: up to `limit` events with a revision above `revision`, in
    /// revision (= commit) order. Used to keep other servers' caches exact.
    pub async fn events_after_revision(
        &self,
        revision: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.events_after_revision(revision, limit).await,
            Backend::Postgres(store) => store.events_after_revision(revision, limit).await,
        }
    }

    /// The revision of the last committed event (0 for an empty store).
    pub async fn current_revision(&self) -> Result<u64, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.current_revision().await,
            Backend::Postgres(store) => store.current_revision().await,
        }
    }

    /// How many events `tenant` has (0 for a tenant never written).
    pub async fn tenant_version(&self, tenant: &str) -> Result<u64, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.tenant_version(tenant).await,
            Backend::Postgres(store) => store.tenant_version(tenant).await,
        }
    }

    /// Every tenant with at least one event, in order.
    pub async fn list_tenants(&self) -> Result<Vec<String>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.list_tenants().await,
            Backend::Postgres(store) => store.list_tenants().await,
        }
    }

    /// Saves `tenant`'s folded `state` as of `version`. A snapshot older than the stored one is
    /// ignored; one ahead of the tenant's version is refused with
    /// [`StoreError::SnapshotAhead`].
    pub async fn save_snapshot(
        &self,
        tenant: &str,
        version: u64,
        state: Value,
    ) -> Result<(), StoreError> {
        let state = state.to_string();
        match &*self.backend {
            Backend::Sqlite(store) => {
                store
                    .write(SqliteWrite::Snapshot {
                        tenant: tenant.to_owned(),
                        version,
                        state,
                    })
                    .await
            }
            Backend::Postgres(store) => store.save_snapshot(tenant, version, state).await,
        }
    }

    /// Streams every tenant's latest snapshot and the events after it, in one consistent read,
    /// for start-up. See [`TenantLoader`] for how to continue from it.
    pub async fn load_all(&self) -> Result<TenantLoader, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.load_all().await,
            Backend::Postgres(store) => store.load_all().await,
        }
    }

    /// The recorded answer for `principal`'s idempotency `key`, if any.
    pub async fn idempotency_lookup(
        &self,
        principal: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.idempotency_lookup(principal, key).await,
            Backend::Postgres(store) => store.idempotency_lookup(principal, key).await,
        }
    }

    /// Records the answer to a request that appended nothing. Refused with
    /// [`StoreError::DuplicateIdempotencyKey`] when the key is taken.
    pub async fn idempotency_put(&self, record: IdempotencyRecord) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.write(SqliteWrite::Idempotency(record)).await,
            Backend::Postgres(store) => store.idempotency_put(&record).await,
        }
    }

    /// Stores a document under the lower-case hex SHA-256 of its bytes (checked). Storing the
    /// same content again does nothing.
    pub async fn put_blob(
        &self,
        sha256_hex: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        check_blob_address(sha256_hex, &bytes)?;
        let blob = Blob {
            sha256: sha256_hex.to_owned(),
            content_type: content_type.to_owned(),
            bytes,
        };
        match &*self.backend {
            Backend::Sqlite(store) => store.write(SqliteWrite::Blob(blob)).await,
            Backend::Postgres(store) => store.put_blob(&blob).await,
        }
    }

    /// The document stored under `sha256_hex`, if any.
    pub async fn get_blob(&self, sha256_hex: &str) -> Result<Option<Blob>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.get_blob(sha256_hex).await,
            Backend::Postgres(store) => store.get_blob(sha256_hex).await,
        }
    }

    /// Stores an API token by its hash (the token itself is never stored) with the principal it
    /// authenticates. Storing a known hash again replaces the principal; a revoked token stays
    /// revoked.
    pub async fn put_token(&self, token_hash: &str, principal: Value) -> Result<(), StoreError> {
        let principal = principal.to_string();
        match &*self.backend {
            Backend::Sqlite(store) => {
                store
                    .write(SqliteWrite::Token {
                        token_hash: token_hash.to_owned(),
                        principal,
                    })
                    .await
            }
            Backend::Postgres(store) => store.put_token(token_hash, principal).await,
        }
    }

    /// The principal of a token that is stored and not revoked.
    pub async fn find_token(&self, token_hash: &str) -> Result<Option<Value>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.find_token(token_hash).await,
            Backend::Postgres(store) => store.find_token(token_hash).await,
        }
    }

    /// Revokes a token for good; [`StoreError::NotFound`] for an unknown hash. Revoking twice
    /// is not an error.
    pub async fn revoke_token(&self, token_hash: &str) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => {
                store
                    .write(SqliteWrite::RevokeToken {
                        token_hash: token_hash.to_owned(),
                    })
                    .await
            }
            Backend::Postgres(store) => store.revoke_token(token_hash).await,
        }
    }

    /// Stores (or replaces) a portal sign-in: its tenant (`None` for operator staff), the argon2
    /// PHC hash of its password and its principal.
    pub async fn put_password(
        &self,
        login: &str,
        tenant: Option<&str>,
        argon2_phc_hash: &str,
        principal: Value,
    ) -> Result<(), StoreError> {
        let principal = principal.to_string();
        match &*self.backend {
            Backend::Sqlite(store) => {
                store
                    .write(SqliteWrite::Password {
                        login: login.to_owned(),
                        tenant: tenant.map(str::to_owned),
                        phc_hash: argon2_phc_hash.to_owned(),
                        principal,
                    })
                    .await
            }
            Backend::Postgres(store) => {
                store
                    .put_password(login, tenant, argon2_phc_hash, principal)
                    .await
            }
        }
    }

    /// The sign-in stored for `login`, if any.
    pub async fn find_password(&self, login: &str) -> Result<Option<PasswordRecord>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => store.find_password(login).await,
            Backend::Postgres(store) => store.find_password(login).await,
        }
    }

    /// A feed of new global revisions as they commit: this process's appends at once, and on
    /// PostgreSQL other processes' through LISTEN/NOTIFY (or the fallback poll). A receiver that
    /// lags gets `RecvError::Lagged` and should catch up with [`Store::events_after_revision`].
    pub fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.signal().subscribe()
    }

    /// The highest revision this process knows to be committed, as a watch: wait on it to serve
    /// a read that requires a minimum revision.
    pub fn watch_revision(&self) -> watch::Receiver<u64> {
        self.signal().watch()
    }

    fn signal(&self) -> &notify::RevisionSignal {
        match &*self.backend {
            Backend::Sqlite(store) => store.signal(),
            Backend::Postgres(store) => store.signal(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn passwords_are_kept_out_of_logs() {
        for (location, shown) in [
            (
                "postgres://app:secret@db:5432/clearance",
                "postgres://app:***@db:5432/clearance",
            ),
            // The user info ends at the last `@`: no part of `p@ss` survives.
            ("postgres://u:p@ss@host/db", "postgres://u:***@host/db"),
            (
                "postgres://host/db?user=u&password=secret",
                "postgres://host/db?user=u&password=***",
            ),
            (
                "postgres://u@host/db?sslmode=require&sslpassword=s%40cret&application_name=x",
                "postgres://u@host/db?sslmode=require&sslpassword=***&application_name=x",
            ),
            ("postgres://:only@host/db", "postgres://:***@host/db"),
            ("postgres://u:p@ss@host:bad/db", "postgres://***"),
            // Nothing secret: as is, byte for byte.
            ("postgres://app@db/x", "postgres://app@db/x"),
            (
                "postgresql://db/x?user=app&sslmode=disable",
                "postgresql://db/x?user=app&sslmode=disable",
            ),
            ("./data/clearance.db", "./data/clearance.db"),
            (
                "sqlite:///var/lib/clearance/clearance.db",
                "sqlite:///var/lib/clearance/clearance.db",
            ),
            ("sqlite:data/p@ss:word.db", "sqlite:data/p@ss:word.db"),
        ] {
            assert_eq!(redacted_location(location), shown, "{location}");
        }
    }

    #[test]
    fn locations_name_their_backend() {
        assert!(matches!(
            parse_location("postgres://u@h/db"),
            Ok(Location::Postgres(_))
        ));
        assert!(matches!(
            parse_location("sqlite://data/c.db"),
            Ok(Location::Sqlite(path)) if path.as_path() == Path::new("data/c.db")
        ));
        assert!(matches!(
            parse_location("./data/c.db"),
            Ok(Location::Sqlite(path)) if path.as_path() == Path::new("./data/c.db")
        ));
        assert!(parse_location("sqlite::memory:").is_err());
        assert!(parse_location("mysql://h/db").is_err());
    }

    #[test]
    fn schema_names_must_be_plain_identifiers() {
        assert!(check_schema_name("t_1a2b").is_ok());
        assert!(check_schema_name("T").is_err());
        assert!(check_schema_name("a;drop").is_err());
        assert!(check_schema_name("1a").is_err());
        assert!(check_schema_name("").is_err());
    }
}
