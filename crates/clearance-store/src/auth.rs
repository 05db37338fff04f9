//! Sign-in state every server shares: tokens that expire (portal sessions) and failed sign-ins,
//! with the housekeeping that deletes both once they are past.
//!
//! Times are stored as milliseconds since the epoch so the database compares them as numbers.
//! Keeping the failures here, not in a server's memory, makes the limit on failed sign-ins one
//! limit for all the servers over one database, and survive their restarts.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde_json::Value;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqliteConnection;

use crate::sqlite::SqliteWrite;
use crate::{Backend, Store, StoreError};

/// What [`Store::prune`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Tokens past their expiry (ended or expired portal sessions).
    pub tokens: u64,
    /// Failed sign-ins older than the limit's window.
    pub sign_in_failures: u64,
}

/// The sign-in writes that go through the SQLite writer.
pub(crate) enum AuthWrite {
    ExpiringToken {
        token_hash: String,
        principal: String,
        expires_at_ms: i64,
    },
    Failure {
        login: String,
        at_ms: i64,
    },
    ClearFailures {
        login: String,
    },
    Prune {
        tokens_expired_at_ms: i64,
        failures_before_ms: i64,
        pruned: Arc<Mutex<Pruned>>,
    },
}

impl Store {
    /// Stores a token by its hash, as [`Store::put_token`] does, that stops authenticating at
    /// `expires_at` ([`Store::find_token`] no longer finds it) and that [`Store::prune`] deletes
    /// from then on.
    pub async fn put_expiring_token(
        &self,
        token_hash: &str,
        principal: Value,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let principal = principal.to_string();
        let expires_at_ms = expires_at.as_millisecond();
        match &*self.backend {
            Backend::Sqlite(store) => {
                store
                    .write(SqliteWrite::Auth(AuthWrite::ExpiringToken {
                        token_hash: token_hash.to_owned(),
                        principal,
                        expires_at_ms,
                    }))
                    .await
            }
            Backend::Postgres(store) => {
                sqlx::query(
                    "INSERT INTO clearance_tokens (token_hash, principal, created_at, expires_at_ms) \
                     VALUES ($1, $2::json, $3, $4) \
                     ON CONFLICT (token_hash) DO UPDATE SET principal = EXCLUDED.principal, \
                       expires_at_ms = EXCLUDED.expires_at_ms",
                )
                .bind(token_hash)
                .bind(principal)
                .bind(Timestamp::now().to_string())
                .bind(expires_at_ms)
                .execute(store.pool())
                .await?;
                Ok(())
            }
        }
    }

    /// Records a failed sign-in for `login` at `at`.
    pub async fn record_sign_in_failure(
        &self,
        login: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let at_ms = at.as_millisecond();
        match &*self.backend {
            Backend::Sqlite(store) => {
                store
                    .write(SqliteWrite::Auth(AuthWrite::Failure {
                        login: login.to_owned(),
                        at_ms,
                    }))
                    .await
            }
            Backend::Postgres(store) => {
                sqlx::query(
                    "INSERT INTO clearance_sign_in_failures (login, at_ms) VALUES ($1, $2)",
                )
                .bind(login)
                .bind(at_ms)
                .execute(store.pool())
                .await?;
                Ok(())
            }
        }
    }

    /// When `login`'s failed sign-ins after `since` happened, oldest first.
    pub async fn sign_in_failures(
        &self,
        login: &str,
        since: Timestamp,
    ) -> Result<Vec<Timestamp>, StoreError> {
        let since_ms = since.as_millisecond();
        let times: Vec<i64> = match &*self.backend {
            Backend::Sqlite(store) => {
                sqlx::query_scalar(
                    "SELECT at_ms FROM clearance_sign_in_failures \
                     WHERE login = ?1 AND at_ms > ?2 ORDER BY at_ms",
                )
                .bind(login)
                .bind(since_ms)
                .fetch_all(store.readers())
                .await?
            }
            Backend::Postgres(store) => {
                sqlx::query_scalar(
                    "SELECT at_ms FROM clearance_sign_in_failures \
                     WHERE login = $1 AND at_ms > $2 ORDER BY at_ms",
                )
                .bind(login)
                .bind(since_ms)
                .fetch_all(store.pool())
                .await?
            }
        };
        times
            .into_iter()
            .map(|ms| {
                Timestamp::from_millisecond(ms)
                    .map_err(|error| StoreError::serialization("sign-in failure time", error))
            })
            .collect()
    }

    /// Forgets `login`'s failed sign-ins (after it signed in).
    pub async fn clear_sign_in_failures(&self, login: &str) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => {
                store
                    .write(SqliteWrite::Auth(AuthWrite::ClearFailures {
                        login: login.to_owned(),
                    }))
                    .await
            }
            Backend::Postgres(store) => {
                sqlx::query("DELETE FROM clearance_sign_in_failures WHERE login = $1")
                    .bind(login)
                    .execute(store.pool())
                    .await?;
                Ok(())
            }
        }
    }

    /// Deletes the tokens whose expiry is at or before `tokens_expired_at` and the failed
    /// sign-ins before `failures_before`. Tokens without an expiry (API tokens) stay.
    pub async fn prune(
        &self,
        tokens_expired_at: Timestamp,
        failures_before: Timestamp,
    ) -> Result<Pruned, StoreError> {
        let tokens_expired_at_ms = tokens_expired_at.as_millisecond();
        let failures_before_ms = failures_before.as_millisecond();
        match &*self.backend {
            Backend::Sqlite(store) => {
                let pruned = Arc::new(Mutex::new(Pruned::default()));
                store
                    .write(SqliteWrite::Auth(AuthWrite::Prune {
                        tokens_expired_at_ms,
                        failures_before_ms,
                        pruned: pruned.clone(),
                    }))
                    .await?;
                Ok(*pruned
                    .lock()
                    .expect("the pruned counts' lock is not poisoned"))
            }
            Backend::Postgres(store) => {
                prune_postgres(store.pool(), tokens_expired_at_ms, failures_before_ms).await
            }
        }
    }
}

async fn prune_postgres(
    pool: &PgPool,
    tokens_expired_at_ms: i64,
    failures_before_ms: i64,
) -> Result<Pruned, StoreError> {
    let tokens = sqlx::query("DELETE FROM clearance_tokens WHERE expires_at_ms <= $1")
        .bind(tokens_expired_at_ms)
        .execute(pool)
        .await?
        .rows_affected();
    let sign_in_failures = sqlx::query("DELETE FROM clearance_sign_in_failures WHERE at_ms < $1")
        .bind(failures_before_ms)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(Pruned {
        tokens,
        sign_in_failures,
    })
}

/// Applies one sign-in write inside the SQLite writer's transaction.
pub(crate) async fn apply_sqlite(
    connection: &mut SqliteConnection,
    write: &AuthWrite,
) -> Result<(), StoreError> {
    match write {
        AuthWrite::ExpiringToken {
            token_hash,
            principal,
            expires_at_ms,
        } => {
            sqlx::query(
                "INSERT INTO clearance_tokens (token_hash, principal, created_at, expires_at_ms) \
                 VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (token_hash) DO UPDATE SET principal = excluded.principal, \
                   expires_at_ms = excluded.expires_at_ms",
            )
            .bind(token_hash)
            .bind(principal)
            .bind(Timestamp::now().to_string())
            .bind(expires_at_ms)
            .execute(&mut *connection)
            .await?;
        }
        AuthWrite::Failure { login, at_ms } => {
            sqlx::query("INSERT INTO clearance_sign_in_failures (login, at_ms) VALUES (?1, ?2)")
                .bind(login)
                .bind(at_ms)
                .execute(&mut *connection)
                .await?;
        }
        AuthWrite::ClearFailures { login } => {
            sqlx::query("DELETE FROM clearance_sign_in_failures WHERE login = ?1")
                .bind(login)
                .execute(&mut *connection)
                .await?;
        }
        AuthWrite::Prune {
            tokens_expired_at_ms,
            failures_before_ms,
            pruned,
        } => {
            let tokens = sqlx::query("DELETE FROM clearance_tokens WHERE expires_at_ms <= ?1")
                .bind(tokens_expired_at_ms)
                .execute(&mut *connection)
                .await?
                .rows_affected();
            let sign_in_failures =
                sqlx::query("DELETE FROM clearance_sign_in_failures WHERE at_ms < ?1")
                    .bind(failures_before_ms)
                    .execute(&mut *connection)
                    .await?
                    .rows_affected();
            *pruned
                .lock()
                .expect("the pruned counts' lock is not poisoned") = Pruned {
                tokens,
                sign_in_failures,
            };
        }
    }
    Ok(())
}
