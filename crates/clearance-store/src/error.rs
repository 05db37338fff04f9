//! The one error type every store operation returns.

use std::sync::Arc;
use std::time::Duration;

/// Why a store operation failed.
///
/// The variants a caller is expected to act on carry what it needs to answer its own caller:
/// [`StoreError::Conflict`] names the version the tenant is really at, and
/// [`StoreError::DuplicateIdempotencyKey`] says the first answer is already recorded.
/// The error is cheap to clone, because one failed group commit answers many callers.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An append named a version the tenant is no longer (or not yet) at; nothing was written.
    #[error(
        "tenant `{tenant}` is at version {actual}, but the write expected version {expected}; nothing was written"
    )]
    Conflict {
        /// The tenant the append was for.
        tenant: String,
        /// The version the caller read and named.
        expected: u64,
        /// The version the tenant is at.
        actual: u64,
    },
    /// The thing an operation needs does not exist.
    #[error("{what} `{key}` was not found")]
    NotFound {
        /// What kind of thing was looked for (`token`, `tenant`, ...).
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// An idempotency record with this principal and key is already stored; nothing was written.
    /// Look it up with [`crate::Store::idempotency_lookup`] and answer with it.
    #[error(
        "idempotency key `{key}` of principal `{principal}` is already recorded; nothing was written"
    )]
    DuplicateIdempotencyKey {
        /// The principal the key belongs to.
        principal: String,
        /// The key.
        key: String,
    },
    /// A snapshot claims a version the tenant has not reached.
    #[error(
        "snapshot of tenant `{tenant}` at version {version} is ahead of the tenant's version {actual}"
    )]
    SnapshotAhead {
        /// The tenant.
        tenant: String,
        /// The version the snapshot claims.
        version: u64,
        /// The version the tenant is at.
        actual: u64,
    },
    /// An argument is malformed (the message names which and why).
    #[error("invalid {field} `{value}`: {reason}")]
    InvalidInput {
        /// The argument or option at fault.
        field: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database refused or failed an operation (connection, I/O, constraint, ...).
    #[error("database error: {0}")]
    Database(#[source] Arc<sqlx::Error>),
    /// Bringing the database schema up to date failed.
    #[error("migration to schema version {version} failed: {message}")]
    Migration {
        /// The schema version being applied (or found).
        version: i64,
        /// What went wrong.
        message: String,
    },
    /// A stored value could not be decoded (corrupt or foreign data).
    #[error("stored {what} could not be decoded: {message}")]
    Serialization {
        /// Which value (`event payload`, `recorded_at`, ...).
        what: &'static str,
        /// The decoder's message.
        message: String,
    },
    /// The database did not answer in time (unreachable, locked or stalled); the append was
    /// never written and never will be: its caller gave up before the writer took it.
    #[error("the database did not answer within {waited:?}; nothing was written")]
    Unavailable {
        /// How long the append waited.
        waited: Duration,
    },
    /// The database failed or stalled while committing an append: it may have committed or not.
    /// A retry under the same idempotency key is safe: it finds the recorded outcome if the
    /// append committed, and applies it once if not.
    #[error(
        "the database did not confirm the commit within {waited:?}; the write may have been \
         committed: retry with the same idempotency key"
    )]
    OutcomeUnknown {
        /// How long the append waited.
        waited: Duration,
    },
    /// The writer's answer to an append whose caller had already given up (never seen by a
    /// caller: it is the reason the append was skipped).
    #[error("the append was abandoned by its caller before it was written")]
    Abandoned,
    /// The store was closed (or its writer stopped) before the operation could run.
    #[error("the store is closed")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(Arc::new(error))
    }
}

impl StoreError {
    pub(crate) fn serialization(what: &'static str, error: impl std::fmt::Display) -> Self {
        StoreError::Serialization {
            what,
            message: error.to_string(),
        }
    }
}
