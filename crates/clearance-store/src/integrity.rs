//! What the store can prove of itself without the domain: the schema version, gap-free
//! revisions, each tenant's numbered log, snapshots within their logs, each document's hash and,
//! on SQLite, the file's own integrity check; and `backup`, SQLite's online copy.

use std::path::Path;

use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};

use crate::dump::file::hex;
use crate::records::to_u64;
use crate::{Backend, Store, StoreError, migrations};

/// How many examples of one kind of problem are listed.
const EXAMPLES: i64 = 20;

/// One thing wrong with a store's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityProblem {
    /// The schema is not the one this build writes.
    #[error("schema version {found}, expected {expected}")]
    SchemaVersion {
        /// The version recorded in the database.
        found: i64,
        /// This build's.
        expected: i64,
    },
    /// The global revisions are not 1, 2, ... without a gap, or the counter disagrees.
    #[error(
        "global revisions: {events} events hold revisions up to {highest}, the counter says \
         {counter}{}",
        missing_list(.missing)
    )]
    Revisions {
        /// Number of events.
        events: u64,
        /// The highest revision of an event.
        highest: u64,
        /// The revision counter.
        counter: u64,
        /// Revisions missing (the first few).
        missing: Vec<u64>,
    },
    /// A tenant's events are not numbered 1 to its version.
    #[error(
        "tenant `{tenant}`: version {version}, but its log holds {events} events numbered \
         {first} to {last}"
    )]
    TenantLog {
        /// The tenant.
        tenant: String,
        /// The version recorded for it.
        version: u64,
        /// How many events it has.
        events: u64,
        /// Its lowest `seq`.
        first: u64,
        /// Its highest `seq`.
        last: u64,
    },
    /// A tenant has events but no version record.
    #[error("tenant `{tenant}` has events but no version record")]
    UnrecordedTenant {
        /// The tenant.
        tenant: String,
    },
    /// A snapshot claims a version past its tenant's.
    #[error(
        "the snapshot of tenant `{tenant}` is at version {version}, past the tenant's {actual}"
    )]
    SnapshotAhead {
        /// The tenant.
        tenant: String,
        /// The snapshot's version.
        version: u64,
        /// The tenant's version.
        actual: u64,
    },
    /// A document's bytes do not hash to its address.
    #[error("document {sha256}: its bytes hash to {actual}")]
    DocumentHash {
        /// The address it is stored under.
        sha256: String,
        /// What its bytes hash to.
        actual: String,
    },
    /// SQLite's own integrity check found damage.
    #[error("SQLite integrity check: {0}")]
    File(String),
}

fn missing_list(missing: &[u64]) -> String {
    if missing.is_empty() {
        String::new()
    } else {
        let listed: Vec<String> = missing.iter().map(u64::to_string).collect();
        format!("; missing: {}", listed.join(", "))
    }
}

type TenantLogRow = (String, i64, i64, i64, i64);

/// The checks every backend runs, on `$executor` (a pool or connection reference).
macro_rules! check_all {
    ($executor:expr, $problems:expr) => {
        async {
            let problems: &mut Vec<IntegrityProblem> = $problems;
            let found: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM clearance_schema")
                    .fetch_one($executor)
                    .await?;
            let expected = migrations::latest_version();
            if found != expected {
                problems.push(IntegrityProblem::SchemaVersion { found, expected });
            }
            let counter: i64 =
                sqlx::query_scalar("SELECT revision FROM clearance_meta WHERE id = 1")
                    .fetch_one($executor)
                    .await?;
            let (events, lowest, highest): (i64, i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(MIN(revision), 1), COALESCE(MAX(revision), 0) \
                 FROM clearance_events",
            )
            .fetch_one($executor)
            .await?;
            if events != highest || counter != highest || lowest != 1 {
                let mut missing: Vec<u64> = Vec::new();
                if lowest > 1 {
                    missing.push(1);
                }
                let gaps: Vec<i64> = sqlx::query_scalar(&format!(
                    "SELECT e.revision + 1 FROM clearance_events e \
                     WHERE e.revision < (SELECT MAX(revision) FROM clearance_events) \
                     AND NOT EXISTS (SELECT 1 FROM clearance_events n \
                     WHERE n.revision = e.revision + 1) ORDER BY 1 LIMIT {EXAMPLES}"
                ))
                .fetch_all($executor)
                .await?;
                for gap in gaps {
                    missing.push(to_u64(gap, "revision")?);
                }
                problems.push(IntegrityProblem::Revisions {
                    events: to_u64(events, "event count")?,
                    highest: to_u64(highest, "revision")?,
                    counter: to_u64(counter, "revision")?,
                    missing,
                });
            }
            let logs: Vec<TenantLogRow> = sqlx::query_as(&format!(
                "SELECT t.tenant, t.version, COUNT(e.seq), COALESCE(MIN(e.seq), 0), \
                 COALESCE(MAX(e.seq), 0) FROM clearance_tenants t \
                 LEFT JOIN clearance_events e ON e.tenant = t.tenant \
                 GROUP BY t.tenant, t.version \
                 HAVING COUNT(e.seq) <> t.version OR COALESCE(MAX(e.seq), 0) <> t.version \
                 OR COALESCE(MIN(e.seq), 1) <> 1 \
                 ORDER BY t.tenant LIMIT {EXAMPLES}"
            ))
            .fetch_all($executor)
            .await?;
            for (tenant, version, events, first, last) in logs {
                problems.push(IntegrityProblem::TenantLog {
                    tenant,
                    version: to_u64(version, "version")?,
                    events: to_u64(events, "event count")?,
                    first: to_u64(first, "seq")?,
                    last: to_u64(last, "seq")?,
                });
            }
            let unrecorded: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT DISTINCT e.tenant FROM clearance_events e WHERE NOT EXISTS \
                 (SELECT 1 FROM clearance_tenants t WHERE t.tenant = e.tenant) \
                 ORDER BY e.tenant LIMIT {EXAMPLES}"
            ))
            .fetch_all($executor)
            .await?;
            for tenant in unrecorded {
                problems.push(IntegrityProblem::UnrecordedTenant { tenant });
            }
            let ahead: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
                "SELECT s.tenant, s.version, COALESCE(t.version, 0) FROM clearance_snapshots s \
                 LEFT JOIN clearance_tenants t ON t.tenant = s.tenant \
                 WHERE s.version > COALESCE(t.version, 0) ORDER BY s.tenant LIMIT {EXAMPLES}"
            ))
            .fetch_all($executor)
            .await?;
            for (tenant, version, actual) in ahead {
                problems.push(IntegrityProblem::SnapshotAhead {
                    tenant,
                    version: to_u64(version, "version")?,
                    actual: to_u64(actual, "version")?,
                });
            }
            let mut documents = sqlx::query_as::<_, (String, Vec<u8>)>(
                "SELECT sha256, bytes FROM clearance_blobs ORDER BY sha256",
            )
            .fetch($executor);
            while let Some((sha256, bytes)) = documents.try_next().await? {
                let actual = hex(&Sha256::digest(&bytes));
                if actual != sha256 {
                    problems.push(IntegrityProblem::DocumentHash { sha256, actual });
                }
            }
            Ok::<(), StoreError>(())
        }
    };
}

impl Store {
    /// Checks what the store can check of itself (see [`IntegrityProblem`]); an empty list
    /// means it found nothing wrong. The domain's check, that each snapshot is the fold of its
    /// tenant's events, is the server's (`clearance verify` runs both).
    pub async fn check_integrity(&self) -> Result<Vec<IntegrityProblem>, StoreError> {
        let mut problems = Vec::new();
        match &*self.backend {
            Backend::Sqlite(store) => {
                let pool = store.readers();
                let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(pool)
                    .await?;
                if report != ["ok"] {
                    problems.extend(report.into_iter().map(IntegrityProblem::File));
                }
                check_all!(pool, &mut problems).await?;
            }
            Backend::Postgres(store) => {
                check_all!(store.pool(), &mut problems).await?;
            }
        }
        Ok(problems)
    }

    /// SQLite: writes a consistent copy of the database to `path` (a new file) while the store
    /// stays in use: `VACUUM INTO` reads one snapshot and writers do not wait for it. Every
    /// write committed before the call is in the copy. PostgreSQL is refused: `pg_dump` is its
    /// backup, and `export` the portable copy.
    pub async fn backup(&self, path: &Path) -> Result<(), StoreError> {
        let refuse = |reason: &str| StoreError::InvalidInput {
            field: "out",
            value: path.display().to_string(),
            reason: reason.to_owned(),
        };
        let Backend::Sqlite(store) = &*self.backend else {
            return Err(refuse(
                "a backup copies the SQLite file; for PostgreSQL use `pg_dump` \
                 (or `clearance export` for a copy either backend can import)",
            ));
        };
        if path.exists() {
            return Err(refuse(
                "the file exists already; a backup never overwrites one",
            ));
        }
        let target = path
            .to_str()
            .ok_or_else(|| refuse("the path must be valid UTF-8"))?;
        let mut connection = store.readers().acquire().await?;
        sqlx::query("VACUUM INTO ?1")
            .bind(target)
            .execute(&mut *connection)
            .await?;
        // The copy is written without syncing: make it durable before reporting success.
        std::fs::File::open(path)
            .and_then(|file| file.sync_all())
            .map_err(|error| refuse(&format!("the copy cannot be synced: {error}")))?;
        drop(connection);
        Ok(())
    }
}
