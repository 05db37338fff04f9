//! Versioned schema migrations for both backends. Each migration runs once, in order, in one
//! transaction with its row in `clearance_schema`; a database newer than this build is refused.

use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Executor, Row};

use crate::StoreError;

/// A schema version and the statements that bring the database from the previous one to it.
struct Migration {
    version: i64,
    statements: &'static [&'static str],
}

const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        statements: &[
            "CREATE TABLE clearance_meta (id INTEGER PRIMARY KEY CHECK (id = 1), \
         revision INTEGER NOT NULL)",
            "INSERT INTO clearance_meta (id, revision) VALUES (1, 0)",
            "CREATE TABLE clearance_tenants (tenant TEXT PRIMARY KEY, version INTEGER NOT NULL) \
         WITHOUT ROWID",
            "CREATE TABLE clearance_events (revision INTEGER PRIMARY KEY, tenant TEXT NOT NULL, \
         seq INTEGER NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL, payload TEXT NOT NULL, \
         recorded_at TEXT NOT NULL, UNIQUE (tenant, seq))",
            "CREATE TABLE clearance_snapshots (tenant TEXT PRIMARY KEY, version INTEGER NOT NULL, \
         state TEXT NOT NULL, saved_at TEXT NOT NULL)",
            "CREATE TABLE clearance_idempotency (principal TEXT NOT NULL, key TEXT NOT NULL, \
         request_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, \
         recorded_at TEXT NOT NULL, PRIMARY KEY (principal, key))",
            "CREATE TABLE clearance_blobs (sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL, \
         bytes BLOB NOT NULL, stored_at TEXT NOT NULL)",
            "CREATE TABLE clearance_tokens (token_hash TEXT PRIMARY KEY, principal TEXT NOT NULL, \
         created_at TEXT NOT NULL, revoked_at TEXT)",
            "CREATE TABLE clearance_passwords (login TEXT PRIMARY KEY, tenant TEXT, \
         phc_hash TEXT NOT NULL, principal TEXT NOT NULL, updated_at TEXT NOT NULL)",
        ],
    },
    Migration {
        version: 2,
        statements: &[
            // Expiring tokens (portal sessions) and failed sign-ins, in milliseconds since the
            // epoch so that comparisons are numeric; housekeeping deletes the past.
            "ALTER TABLE clearance_tokens ADD COLUMN expires_at_ms INTEGER",
            "CREATE INDEX clearance_tokens_expiry ON clearance_tokens (expires_at_ms) \
             WHERE expires_at_ms IS NOT NULL",
            "CREATE TABLE clearance_sign_in_failures (login TEXT NOT NULL, at_ms INTEGER NOT NULL)",
            "CREATE INDEX clearance_sign_in_failures_login ON clearance_sign_in_failures \
             (login, at_ms)",
            "CREATE INDEX clearance_sign_in_failures_at ON clearance_sign_in_failures (at_ms)",
        ],
    },
    Migration {
        version: 3,
        statements: SIGN_IN_CLIENTS,
    },
];

/// Version 3 on both backends: the client address of each counted sign-in attempt, for the
/// per-client limit.
const SIGN_IN_CLIENTS: &[&str] = &[
    "ALTER TABLE clearance_sign_in_failures ADD COLUMN client TEXT",
    "CREATE INDEX clearance_sign_in_failures_client ON clearance_sign_in_failures \
     (client, at_ms)",
];

// Payloads are `json`, not `jsonb`: the store is opaque to them, and `json` keeps the text
// exactly as written (and is cheaper to insert). Timestamps are RFC 3339 text, which keeps
// jiff's nanoseconds that `timestamptz` would round to microseconds.
const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        statements: &[
            "CREATE TABLE clearance_meta (id SMALLINT PRIMARY KEY CHECK (id = 1), \
         revision BIGINT NOT NULL)",
            "INSERT INTO clearance_meta (id, revision) VALUES (1, 0)",
            "CREATE TABLE clearance_tenants (tenant TEXT PRIMARY KEY, version BIGINT NOT NULL)",
            "CREATE TABLE clearance_events (revision BIGINT PRIMARY KEY, tenant TEXT NOT NULL, \
         seq BIGINT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL, payload JSON NOT NULL, \
         recorded_at TEXT NOT NULL, UNIQUE (tenant, seq))",
            "CREATE TABLE clearance_snapshots (tenant TEXT PRIMARY KEY, version BIGINT NOT NULL, \
         state JSON NOT NULL, saved_at TEXT NOT NULL)",
            "CREATE TABLE clearance_idempotency (principal TEXT NOT NULL, key TEXT NOT NULL, \
         request_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, \
         recorded_at TEXT NOT NULL, PRIMARY KEY (principal, key))",
            "CREATE TABLE clearance_blobs (sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL, \
         bytes BYTEA NOT NULL, stored_at TEXT NOT NULL)",
            "CREATE TABLE clearance_tokens (token_hash TEXT PRIMARY KEY, principal JSON NOT NULL, \
         created_at TEXT NOT NULL, revoked_at TEXT)",
            "CREATE TABLE clearance_passwords (login TEXT PRIMARY KEY, tenant TEXT, \
         phc_hash TEXT NOT NULL, principal JSON NOT NULL, updated_at TEXT NOT NULL)",
        ],
    },
    Migration {
        version: 2,
        statements: &[
            "ALTER TABLE clearance_tokens ADD COLUMN expires_at_ms BIGINT",
            "CREATE INDEX clearance_tokens_expiry ON clearance_tokens (expires_at_ms) \
             WHERE expires_at_ms IS NOT NULL",
            "CREATE TABLE clearance_sign_in_failures (login TEXT NOT NULL, at_ms BIGINT NOT NULL)",
            "CREATE INDEX clearance_sign_in_failures_login ON clearance_sign_in_failures \
             (login, at_ms)",
            "CREATE INDEX clearance_sign_in_failures_at ON clearance_sign_in_failures (at_ms)",
        ],
    },
    Migration {
        version: 3,
        statements: SIGN_IN_CLIENTS,
    },
];

/// The schema version this build brings a database to (the same on both backends).
pub(crate) fn latest_version() -> i64 {
    SQLITE.last().map_or(0, |migration| migration.version)
}

/// The key of the advisory lock that serializes migrations of servers starting together.
const POSTGRES_MIGRATION_LOCK: i64 = 0x636c_6561_7261_6e63; // "clearanc"

const SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS clearance_schema (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)";

/// Brings an SQLite database up to the latest schema. The writer connection runs it before
/// anything else, under SQLite's write lock.
pub(crate) async fn migrate_sqlite(connection: &mut SqliteConnection) -> Result<(), StoreError> {
    connection.execute("BEGIN IMMEDIATE").await?;
    let result = apply_sqlite(connection).await;
    finish(connection, result).await
}

async fn apply_sqlite(connection: &mut SqliteConnection) -> Result<(), StoreError> {
    connection.execute(SCHEMA_TABLE).await?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM clearance_schema")
        .fetch_one(&mut *connection)
        .await?
        .try_get(0)?;
    for migration in pending(SQLITE, current)? {
        for statement in migration.statements {
            connection
                .execute(*statement)
                .await
                .map_err(|error| failed(migration, error))?;
        }
        sqlx::query("INSERT INTO clearance_schema (version, applied_at) VALUES (?1, ?2)")
            .bind(migration.version)
            .bind(jiff::Timestamp::now().to_string())
            .execute(&mut *connection)
            .await?;
        tracing::info!(version = migration.version, "applied SQLite migration");
    }
    Ok(())
}

/// Brings a PostgreSQL schema up to the latest version, creating `schema` first when given.
/// A transaction-scoped advisory lock makes servers that start at once take turns.
pub(crate) async fn migrate_postgres(
    connection: &mut PgConnection,
    schema: Option<&str>,
) -> Result<(), StoreError> {
    connection.execute("BEGIN").await?;
    let result = apply_postgres(connection, schema).await;
    finish(connection, result).await
}

async fn apply_postgres(
    connection: &mut PgConnection,
    schema: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(POSTGRES_MIGRATION_LOCK)
        .execute(&mut *connection)
        .await?;
    if let Some(schema) = schema {
        // `schema` was checked to be a plain identifier when the options were read.
        connection
            .execute(&*format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await?;
    }
    connection.execute(SCHEMA_TABLE).await?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM clearance_schema")
        .fetch_one(&mut *connection)
        .await?
        .try_get(0)?;
    for migration in pending(POSTGRES, current)? {
        for statement in migration.statements {
            connection
                .execute(*statement)
                .await
                .map_err(|error| failed(migration, error))?;
        }
        sqlx::query("INSERT INTO clearance_schema (version, applied_at) VALUES ($1, $2)")
            .bind(migration.version)
            .bind(jiff::Timestamp::now().to_string())
            .execute(&mut *connection)
            .await?;
        tracing::info!(version = migration.version, "applied PostgreSQL migration");
    }
    Ok(())
}

/// The migrations after `current`, or an error when the database is newer than this build.
fn pending(
    migrations: &'static [Migration],
    current: i64,
) -> Result<&'static [Migration], StoreError> {
    let latest = migrations.last().map_or(0, |migration| migration.version);
    if current > latest {
        return Err(StoreError::Migration {
            version: current,
            message: format!(
                "the database is at schema version {current}, newer than this build's {latest}; \
                 upgrade clearance"
            ),
        });
    }
    let applied = migrations
        .iter()
        .take_while(|migration| migration.version <= current)
        .count();
    Ok(&migrations[applied..])
}

fn failed(migration: &Migration, error: sqlx::Error) -> StoreError {
    StoreError::Migration {
        version: migration.version,
        message: error.to_string(),
    }
}

async fn finish<C>(connection: &mut C, result: Result<(), StoreError>) -> Result<(), StoreError>
where
    for<'c> &'c mut C: Executor<'c>,
{
    match result {
        Ok(()) => {
            connection.execute("COMMIT").await?;
            Ok(())
        }
        Err(error) => {
            let _ = connection.execute("ROLLBACK").await;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_from_one() {
        for migrations in [SQLITE, POSTGRES] {
            for (index, migration) in migrations.iter().enumerate() {
                assert_eq!(migration.version, index as i64 + 1);
            }
        }
    }

    #[test]
    fn a_database_newer_than_the_build_is_refused() {
        assert!(pending(SQLITE, 0).is_ok_and(|pending| pending.len() == SQLITE.len()));
        assert!(pending(SQLITE, SQLITE.len() as i64).is_ok_and(<[_]>::is_empty));
        assert!(matches!(
            pending(SQLITE, 99),
            Err(StoreError::Migration { version: 99, .. })
        ));
    }
}
