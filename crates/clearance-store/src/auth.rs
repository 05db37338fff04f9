//! Sign-in state every server shares: tokens that expire (portal sessions) and failed sign-ins,
//! with the housekeeping that deletes both once they are past.
//!
//! Times are stored as milliseconds since the epoch so the database compares them as numbers.
//! Keeping the failures here, not in a server's memory, makes the limit on failed sign-ins one
//! limit for all the servers over one database, and survive their restarts.
//!
//! An attempt is counted *before* its password is checked ([`Store::reserve_sign_in_attempt`]):
//! the count and the insert are one step (the SQLite writer's transaction; on PostgreSQL a
//! transaction holding the table's lock), so a burst of parallel attempts cannot all pass the
//! check before any is recorded. A successful sign-in then clears its login's attempts.
//!
//! Demo credentials (the tokens and sign-ins `clearance serve --demo` prints) carry a mark in
//! their stored principal ([`demo_principal`]), so that [`Store::revoke_demo_credentials`] can
//! find and end them all when the same data is served without the demo.

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

/// What [`Store::revoke_demo_credentials`] ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoRevoked {
    /// Demo API tokens, and portal sessions signed in with a demo sign-in, now revoked.
    pub tokens: u64,
    /// Demo portal sign-ins deleted.
    pub sign_ins: u64,
}

/// The key of the mark [`demo_principal`] adds to a stored principal.
const DEMO_MARK: &str = "demo";

/// `principal` (a JSON object, as stored with a token or a sign-in) marked as a demo credential,
/// which [`Store::revoke_demo_credentials`] finds. Readers of the principal ignore the mark.
pub fn demo_principal(mut principal: Value) -> Value {
    if let Value::Object(fields) = &mut principal {
        fields.insert(DEMO_MARK.to_owned(), Value::Bool(true));
    }
    principal
}

/// The limits a sign-in attempt is counted against: attempts after `since` per login and per
/// client address (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    /// Attempts that happened at or before this no longer count.
    pub since: Timestamp,
    /// Counted attempts allowed per login.
    pub per_login: usize,
    /// Counted attempts allowed per client address.
    pub per_client: usize,
}

/// Which limit refused a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInLimit {
    /// The login's.
    Login,
    /// The client address's.
    Client,
}

/// What [`Store::reserve_sign_in_attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInReservation {
    /// The attempt is counted: check the password.
    Reserved,
    /// Over a limit: nothing was counted.
    Refused {
        /// The limit that is used up.
        limit: SignInLimit,
        /// The counted attempt whose leaving the window frees a slot.
        oldest: Timestamp,
    },
}

/// Decides a reservation from the counted attempts' times (oldest first) of the login and the
/// client; `None` means reserve.
fn refusal(
    login_times: &[i64],
    client_times: &[i64],
    limits: &SignInLimits,
) -> Result<Option<SignInReservation>, StoreError> {
    for (times, allowed, limit) in [
        (login_times, limits.per_login, SignInLimit::Login),
        (client_times, limits.per_client, SignInLimit::Client),
    ] {
        if allowed > 0 && times.len() >= allowed {
            let oldest = Timestamp::from_millisecond(times[times.len() - allowed])
                .map_err(|error| StoreError::serialization("sign-in attempt time", error))?;
            return Ok(Some(SignInReservation::Refused { limit, oldest }));
        }
    }
    Ok(None)
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
    Reserve {
        login: String,
        client: Option<String>,
        at_ms: i64,
        limits: SignInLimits,
        outcome: Arc<Mutex<Option<SignInReservation>>>,
    },
    Prune {
        tokens_expired_at_ms: i64,
        failures_before_ms: i64,
        pruned: Arc<Mutex<Pruned>>,
    },
    RevokeDemo {
        revoked: Arc<Mutex<DemoRevoked>>,
    },
}

/// Revokes the demo tokens and the portal sessions of demo sign-ins (the portal stores a
/// session as `{"portal_session": {"login": …, …}}`) on SQLite; the sign-ins go after, in the same transaction.
const SQLITE_REVOKE_DEMO_TOKENS: &str = "UPDATE clearance_tokens SET revoked_at = ?1 \
     WHERE revoked_at IS NULL AND (json_extract(principal, '$.demo') = 1 \
       OR json_extract(principal, '$.portal_session.login') IN \
         (SELECT login FROM clearance_passwords WHERE json_extract(principal, '$.demo') = 1))";
const SQLITE_DELETE_DEMO_SIGN_INS: &str =
    "DELETE FROM clearance_passwords WHERE json_extract(principal, '$.demo') = 1";
/// The same on PostgreSQL (`json` columns).
const POSTGRES_REVOKE_DEMO_TOKENS: &str = "UPDATE clearance_tokens SET revoked_at = $1 \
     WHERE revoked_at IS NULL AND (principal->>'demo' = 'true' \
       OR principal->'portal_session'->>'login' IN \
         (SELECT login FROM clearance_passwords WHERE principal->>'demo' = 'true'))";
const POSTGRES_DELETE_DEMO_SIGN_INS: &str =
    "DELETE FROM clearance_passwords WHERE principal->>'demo' = 'true'";

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

    /// Ends every demo credential ([`demo_principal`]): revokes the demo API tokens and the
    /// portal sessions signed in with a demo sign-in, and deletes the demo sign-ins, in one
    /// transaction. Run when the data is served without the demo, and before the demo issues
    /// new ones.
    pub async fn revoke_demo_credentials(&self) -> Result<DemoRevoked, StoreError> {
        match &*self.backend {
            Backend::Sqlite(store) => {
                let revoked = Arc::new(Mutex::new(DemoRevoked::default()));
                store
                    .write(SqliteWrite::Auth(AuthWrite::RevokeDemo {
                        revoked: revoked.clone(),
                    }))
                    .await?;
                Ok(*revoked
                    .lock()
                    .expect("the revoked counts' lock is not poisoned"))
            }
            Backend::Postgres(store) => {
                let mut transaction = store.pool().begin().await?;
                let tokens = sqlx::query(POSTGRES_REVOKE_DEMO_TOKENS)
                    .bind(Timestamp::now().to_string())
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
                let sign_ins = sqlx::query(POSTGRES_DELETE_DEMO_SIGN_INS)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
                transaction.commit().await?;
                Ok(DemoRevoked { tokens, sign_ins })
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

    /// Counts a sign-in attempt for `login` from `client` at `at`, unless the login's or the
    /// client's attempts after `limits.since` already reach their limit; in one atomic step, so
    /// that of parallel attempts at most the limit are counted (and then checked). Every
    /// server over the same database shares the count.
    pub async fn reserve_sign_in_attempt(
        &self,
        login: &str,
        client: Option<&str>,
        at: Timestamp,
        limits: SignInLimits,
    ) -> Result<SignInReservation, StoreError> {
        let at_ms = at.as_millisecond();
        match &*self.backend {
            Backend::Sqlite(store) => {
                let outcome = Arc::new(Mutex::new(None));
                store
                    .write(SqliteWrite::Auth(AuthWrite::Reserve {
                        login: login.to_owned(),
                        client: client.map(str::to_owned),
                        at_ms,
                        limits,
                        outcome: outcome.clone(),
                    }))
                    .await?;
                let decided = *outcome
                    .lock()
                    .expect("the reservation's lock is not poisoned");
                Ok(decided.expect("the writer decided the reservation"))
            }
            Backend::Postgres(store) => {
                let mut transaction = store.pool().begin().await?;
                // Serializes reservations across servers; the lock is held for two indexed
                // reads and one insert, never while a password is checked.
                sqlx::query("LOCK TABLE clearance_sign_in_failures IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *transaction)
                    .await?;
                let since_ms = limits.since.as_millisecond();
                let login_times: Vec<i64> = sqlx::query_scalar(
                    "SELECT at_ms FROM clearance_sign_in_failures \
                     WHERE login = $1 AND at_ms > $2 ORDER BY at_ms",
                )
                .bind(login)
                .bind(since_ms)
                .fetch_all(&mut *transaction)
                .await?;
                let client_times: Vec<i64> = match client {
                    Some(client) => {
                        sqlx::query_scalar(
                            "SELECT at_ms FROM clearance_sign_in_failures \
                             WHERE client = $1 AND at_ms > $2 ORDER BY at_ms",
                        )
                        .bind(client)
                        .bind(since_ms)
                        .fetch_all(&mut *transaction)
                        .await?
                    }
                    None => Vec::new(),
                };
                if let Some(refused) = refusal(&login_times, &client_times, &limits)? {
                    transaction.rollback().await?;
                    return Ok(refused);
                }
                sqlx::query(
                    "INSERT INTO clearance_sign_in_failures (login, client, at_ms) \
                     VALUES ($1, $2, $3)",
                )
                .bind(login)
                .bind(client)
                .bind(at_ms)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(SignInReservation::Reserved)
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
        AuthWrite::Reserve {
            login,
            client,
            at_ms,
            limits,
            outcome,
        } => {
            // The writer applies one write at a time: nothing runs between the count and the
            // insert.
            let since_ms = limits.since.as_millisecond();
            let login_times: Vec<i64> = sqlx::query_scalar(
                "SELECT at_ms FROM clearance_sign_in_failures \
                 WHERE login = ?1 AND at_ms > ?2 ORDER BY at_ms",
            )
            .bind(login)
            .bind(since_ms)
            .fetch_all(&mut *connection)
            .await?;
            let client_times: Vec<i64> = match client {
                Some(client) => {
                    sqlx::query_scalar(
                        "SELECT at_ms FROM clearance_sign_in_failures \
                         WHERE client = ?1 AND at_ms > ?2 ORDER BY at_ms",
                    )
                    .bind(client)
                    .bind(since_ms)
                    .fetch_all(&mut *connection)
                    .await?
                }
                None => Vec::new(),
            };
            let decided = match refusal(&login_times, &client_times, limits)? {
                Some(refused) => refused,
                None => {
                    sqlx::query(
                        "INSERT INTO clearance_sign_in_failures (login, client, at_ms) \
                         VALUES (?1, ?2, ?3)",
                    )
                    .bind(login)
                    .bind(client)
                    .bind(at_ms)
                    .execute(&mut *connection)
                    .await?;
                    SignInReservation::Reserved
                }
            };
            *outcome
                .lock()
                .expect("the reservation's lock is not poisoned") = Some(decided);
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
        AuthWrite::RevokeDemo { revoked } => {
            let tokens = sqlx::query(SQLITE_REVOKE_DEMO_TOKENS)
                .bind(Timestamp::now().to_string())
                .execute(&mut *connection)
                .await?
                .rows_affected();
            let sign_ins = sqlx::query(SQLITE_DELETE_DEMO_SIGN_INS)
                .execute(&mut *connection)
                .await?
                .rows_affected();
            *revoked
                .lock()
                .expect("the revoked counts' lock is not poisoned") =
                DemoRevoked { tokens, sign_ins };
        }
    }
    Ok(())
}
