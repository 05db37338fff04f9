//! `Store::import`: an export streamed into an empty store in one transaction, each line
//! checked as it is read (on a thread of its own) and written as the next arrive. The
//! transaction commits only after the `end` line proved the file whole; a bad line rolls it
//! back, so a refused file writes nothing.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use sqlx::postgres::Postgres;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Executor, Sqlite, Transaction};
use tokio::sync::mpsc;

use super::file::{hex, open_input};
use super::{End, Header, Progress, Record};
use crate::bulk::{copy_field, copy_in, sqlite_insert};
use crate::records::to_i64;
use crate::{Backend, Store, StoreError, migrations};

/// Why an import was refused or failed. Whatever the reason, nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be opened.
    #[error("{path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A line of the file is wrong, or the file ends early; nothing was written.
    #[error("{path}, line {line}: {message}; nothing was written")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line at fault (from 1).
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// The store already holds data; import fills an empty store only.
    #[error("the store is not empty: it holds {holds}; import fills an empty store only")]
    NotEmpty {
        /// What the store holds (`3 tenants (42 events), 2 tokens`).
        holds: String,
    },
    /// Writing to the store failed; nothing was written.
    #[error("{0}; nothing was written")]
    Store(#[from] StoreError),
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The file's header.
    pub header: Header,
    /// The file's `end` line (its counts).
    pub end: End,
    /// Snapshots written.
    pub snapshots: u64,
    /// Documents written.
    pub documents: u64,
    /// Tokens written.
    pub tokens: u64,
    /// Sign-ins written.
    pub sign_ins: u64,
    /// Sign-in attempts written.
    pub sign_in_attempts: u64,
    /// Idempotency records written.
    pub idempotency: u64,
}

/// Records per hand-over from the reading thread.
const RECORDS_PER_BATCH: usize = 1024;

impl Store {
    /// Fills this store, which must be empty, from the export at `path` (decompressed by its
    /// name), keeping every revision, sequence number, id and time as exported. The whole file
    /// is one transaction: a line that is malformed, out of order, or altered (the `end` line's
    /// checksum), or a file cut short, is refused naming the line, and nothing is written.
    pub async fn import(
        &self,
        path: &Path,
        progress: Progress,
    ) -> Result<ImportSummary, ImportError> {
        let input = open_input(path).map_err(|source| ImportError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut target = Target::begin(self).await?;
        let holds = target.contents().await?;
        if !holds.is_empty() {
            return Err(ImportError::NotEmpty { holds });
        }
        let (sender, mut batches) = mpsc::channel(4);
        let file = path.to_owned();
        let reader =
            tokio::task::spawn_blocking(move || read_file(input, &file, &sender, &progress));
        let mut written = Written::default();
        let mut failed = None;
        while let Some(batch) = batches.recv().await {
            if let Err(error) = target.write(batch, &mut written).await {
                failed = Some(error);
                break;
            }
        }
        drop(batches);
        let read = reader
            .await
            .map_err(|error| StoreError::serialization("export file", error))?;
        if let Some(error) = failed {
            return Err(error.into());
        }
        let (header, end) = read?;
        let revision = target.finish(header.revision).await?;
        self.signal().advance(revision);
        Ok(ImportSummary {
            header,
            end,
            snapshots: written.snapshots,
            documents: written.documents,
            tokens: written.tokens,
            sign_ins: written.sign_ins,
            sign_in_attempts: written.sign_in_attempts,
            idempotency: written.idempotency,
        })
    }
}

/// The reading thread: every line checked, in batches to the writer; the header and `end`
/// line once the whole file proved sound.
fn read_file(
    mut input: Box<dyn BufRead + Send>,
    path: &Path,
    sender: &mpsc::Sender<Vec<Record>>,
    progress: &Progress,
) -> Result<(Header, End), ImportError> {
    let mut check = Check::default();
    let mut line = Vec::new();
    let mut batch = Vec::with_capacity(RECORDS_PER_BATCH);
    let refuse = |line: u64, message: String| ImportError::Line {
        path: path.to_owned(),
        line,
        message,
    };
    loop {
        line.clear();
        let number = check.lines + 1;
        let read = input.read_until(b'\n', &mut line).map_err(|error| {
            refuse(
                number,
                format!("the file cannot be read (cut short or corrupt?): {error}"),
            )
        })?;
        if read == 0 {
            break;
        }
        if check.end.is_some() {
            return Err(refuse(number, "data after the `end` line".to_owned()));
        }
        if line.last() != Some(&b'\n') {
            return Err(refuse(
                number,
                "the file is cut short: its last line has no end".to_owned(),
            ));
        }
        let text = std::str::from_utf8(&line[..line.len() - 1])
            .map_err(|error| refuse(number, format!("not UTF-8: {error}")))?;
        let record = Record::parse_line(text).map_err(|message| refuse(number, message))?;
        if !matches!(record, Record::End(_)) {
            check.hash.update(&line);
        }
        check.lines = number;
        let keep = check
            .record(&record)
            .map_err(|message| refuse(number, message))?;
        if keep {
            batch.push(record);
        }
        if batch.len() >= RECORDS_PER_BATCH {
            progress(check.events);
            let full = std::mem::replace(&mut batch, Vec::with_capacity(RECORDS_PER_BATCH));
            if sender.blocking_send(full).is_err() {
                // The writer failed; it reports why.
                return Err(refuse(
                    number,
                    "the store stopped taking records".to_owned(),
                ));
            }
        }
    }
    let (Some(header), Some(end)) = (check.header.take(), check.end.take()) else {
        return Err(refuse(
            check.lines + 1,
            if check.lines == 0 {
                "the file is empty: expected the `header` line".to_owned()
            } else {
                "the file is cut short: it ends without its `end` line".to_owned()
            },
        ));
    };
    if !batch.is_empty() && sender.blocking_send(batch).is_err() {
        return Err(refuse(
            check.lines,
            "the store stopped taking records".to_owned(),
        ));
    }
    progress(check.events);
    Ok((header, end))
}

/// What the reading thread knows of the file so far.
#[derive(Default)]
struct Check {
    lines: u64,
    hash: Sha256,
    header: Option<Header>,
    end: Option<End>,
    events: u64,
    tenants: u64,
    /// The tenant whose events are being read, and its last `seq`.
    current: Option<(String, u64)>,
    /// The previous record was the current tenant's last event (a snapshot may follow).
    after_event: bool,
    /// No more events once another kind of record came (events lead the file).
    events_done: bool,
    /// Every tenant met, by a 128-bit hash of its id (bounded memory, no order assumed).
    tenants_seen: HashSet<u128>,
    /// The revisions met, one bit each.
    revisions: Vec<u64>,
    /// Keys of documents, tokens, sign-ins and idempotency records met.
    keys: HashSet<u128>,
}

fn key_hash(kind: &str, parts: &[&str]) -> u128 {
    let half = |seed: u8| {
        let mut hasher = DefaultHasher::new();
        seed.hash(&mut hasher);
        kind.hash(&mut hasher);
        parts.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

impl Check {
    /// Checks one record in its place; `Ok(true)` when it is data to write.
    fn record(&mut self, record: &Record) -> Result<bool, String> {
        let Some(header) = &self.header else {
            let Record::Header(header) = record else {
                return Err(format!(
                    "expected the `header` line first, found a `{}` record",
                    record.kind()
                ));
            };
            if header.format != super::FORMAT {
                return Err(format!(
                    "format `{}` is not `{}`",
                    header.format,
                    super::FORMAT
                ));
            }
            if header.format_version != super::FORMAT_VERSION {
                return Err(format!(
                    "format_version {} is not {}, the version this build reads",
                    header.format_version,
                    super::FORMAT_VERSION
                ));
            }
            let latest = migrations::latest_version();
            if header.schema_version < 1 || header.schema_version > latest {
                return Err(format!(
                    "schema_version {} is not one this build knows (1 to {latest}): \
                     import with the clearance that exported it or a newer one",
                    header.schema_version
                ));
            }
            self.header = Some(header.clone());
            return Ok(false);
        };
        let after_event = std::mem::take(&mut self.after_event);
        match record {
            Record::Header(_) => Err("a second `header` line".to_owned()),
            Record::Event(event) => {
                if self.events_done {
                    return Err(
                        "an event after other records (events and snapshots lead the file)"
                            .to_owned(),
                    );
                }
                if event.tenant.is_empty() {
                    return Err("field `tenant` is empty".to_owned());
                }
                match &mut self.current {
                    Some((tenant, last)) if *tenant == event.tenant => {
                        if event.seq != *last + 1 {
                            return Err(format!(
                                "field `seq`: event {} of tenant `{}` follows its event {last}",
                                event.seq, event.tenant
                            ));
                        }
                        *last = event.seq;
                    }
                    _ => {
                        if event.seq != 1 {
                            return Err(format!(
                                "field `seq`: tenant `{}` starts at event {}, not 1",
                                event.tenant, event.seq
                            ));
                        }
                        if !self
                            .tenants_seen
                            .insert(key_hash("tenant", &[&event.tenant]))
                        {
                            return Err(format!(
                                "tenant `{}` appears a second time, apart from its other events",
                                event.tenant
                            ));
                        }
                        self.tenants += 1;
                        self.current = Some((event.tenant.clone(), 1));
                    }
                }
                if event.revision == 0 || event.revision > header.revision {
                    return Err(format!(
                        "field `revision`: {} is outside 1 to {}, the header's revision",
                        event.revision, header.revision
                    ));
                }
                let word = usize::try_from((event.revision - 1) / 64)
                    .map_err(|_| "field `revision` is too large".to_owned())?;
                let bit = 1u64 << ((event.revision - 1) % 64);
                if self.revisions.len() <= word {
                    self.revisions.resize(word + 1, 0);
                }
                if self.revisions[word] & bit != 0 {
                    return Err(format!(
                        "field `revision`: {} appears a second time",
                        event.revision
                    ));
                }
                self.revisions[word] |= bit;
                if event.event_type.is_empty() {
                    return Err("field `type` is empty".to_owned());
                }
                event
                    .at
                    .parse::<jiff::Timestamp>()
                    .map_err(|error| format!("field `at`: {error}"))?;
                self.events += 1;
                self.after_event = true;
                Ok(true)
            }
            Record::Snapshot(snapshot) => {
                let follows = after_event
                    && matches!(&self.current, Some((tenant, last))
                        if *tenant == snapshot.tenant && *last == snapshot.version);
                if !follows {
                    return Err(format!(
                        "the snapshot of tenant `{}` at version {} does not follow that \
                         tenant's event {} (run `clearance verify` on the exported store)",
                        snapshot.tenant, snapshot.version, snapshot.version
                    ));
                }
                Ok(true)
            }
            Record::Document(document) => {
                self.events_done = true;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&document.bytes)
                    .map_err(|error| format!("field `bytes`: not base64: {error}"))?;
                let actual = hex(&Sha256::digest(&bytes));
                if actual != document.sha256 {
                    return Err(format!(
                        "field `sha256`: the document's bytes hash to {actual}, not {}",
                        document.sha256
                    ));
                }
                self.unique("document", &[&document.sha256])
            }
            Record::Token(token) => {
                self.events_done = true;
                self.unique("token", &[&token.token_hash])
            }
            Record::SignIn(sign_in) => {
                self.events_done = true;
                self.unique("sign_in", &[&sign_in.login])
            }
            Record::SignInAttempt(_) => {
                self.events_done = true;
                Ok(true)
            }
            Record::Idempotency(record) => {
                self.events_done = true;
                if !(100..=599).contains(&record.status) {
                    return Err(format!(
                        "field `status`: {} is not an HTTP status",
                        record.status
                    ));
                }
                self.unique("idempotency", &[&record.principal, &record.key])
            }
            Record::End(end) => {
                let before = self.lines - 1;
                let sha256 = hex(&std::mem::take(&mut self.hash).finalize());
                if end.sha256 != sha256 {
                    return Err(format!(
                        "the checksum of lines 1 to {before} is {sha256}, not the {} the \
                         `end` line records: the file was altered after it was exported",
                        end.sha256
                    ));
                }
                let counts = (end.records, end.tenants, end.events);
                if counts != (before, self.tenants, self.events) {
                    return Err(format!(
                        "the `end` line counts {} records, {} tenants and {} events; the file \
                         holds {before}, {} and {}",
                        end.records, end.tenants, end.events, self.tenants, self.events
                    ));
                }
                if self.events != header.revision {
                    return Err(format!(
                        "the header's revision is {}, but the file holds {} events \
                         (revisions must run from 1 without a gap)",
                        header.revision, self.events
                    ));
                }
                self.end = Some(end.clone());
                Ok(false)
            }
        }
    }

    fn unique(&mut self, kind: &str, key: &[&str]) -> Result<bool, String> {
        if self.keys.insert(key_hash(kind, key)) {
            Ok(true)
        } else {
            Err(format!(
                "the {kind} `{}` appears a second time",
                key.join("`, `")
            ))
        }
    }
}

/// One value of a row to write.
enum Cell {
    Text(String),
    Int(i64),
    Null,
    Bytes(Vec<u8>),
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Self {
        text.map_or(Cell::Null, Cell::Text)
    }
}

impl From<i64> for Cell {
    fn from(number: i64) -> Self {
        Cell::Int(number)
    }
}

impl From<Option<i64>> for Cell {
    fn from(number: Option<i64>) -> Self {
        number.map_or(Cell::Null, Cell::Int)
    }
}

/// The tables an import fills, and their columns in the order rows are given.
#[derive(Clone, Copy)]
enum Table {
    Events,
    Tenants,
    Snapshots,
    Blobs,
    Tokens,
    Passwords,
    SignInFailures,
    Idempotency,
}

const TABLES: [Table; 8] = [
    Table::Events,
    Table::Tenants,
    Table::Snapshots,
    Table::Blobs,
    Table::Tokens,
    Table::Passwords,
    Table::SignInFailures,
    Table::Idempotency,
];

impl Table {
    fn insert(self) -> (&'static str, &'static str) {
        match self {
            Table::Events => (
                "clearance_events",
                "revision, tenant, seq, kind, actor, payload, recorded_at",
            ),
            Table::Tenants => ("clearance_tenants", "tenant, version"),
            Table::Snapshots => ("clearance_snapshots", "tenant, version, state, saved_at"),
            Table::Blobs => ("clearance_blobs", "sha256, content_type, bytes, stored_at"),
            Table::Tokens => (
                "clearance_tokens",
                "token_hash, principal, created_at, revoked_at, expires_at_ms",
            ),
            Table::Passwords => (
                "clearance_passwords",
                "login, tenant, phc_hash, principal, updated_at",
            ),
            Table::SignInFailures => ("clearance_sign_in_failures", "login, at_ms, client"),
            Table::Idempotency => (
                "clearance_idempotency",
                "principal, key, request_hash, status, body, recorded_at",
            ),
        }
    }

    fn width(self) -> usize {
        self.insert().1.split(',').count()
    }
}

/// How many rows of each kind were written.
#[derive(Default)]
struct Written {
    snapshots: u64,
    documents: u64,
    tokens: u64,
    sign_ins: u64,
    sign_in_attempts: u64,
    idempotency: u64,
}

/// Rows waiting to be written, per table, and the tenant whose events are arriving.
struct Pending {
    rows: [Vec<Cell>; 8],
    tenant: Option<(String, u64)>,
}

impl Pending {
    fn new() -> Self {
        Pending {
            rows: Default::default(),
            tenant: None,
        }
    }

    fn push(&mut self, table: Table, cells: impl IntoIterator<Item = Cell>) {
        self.rows[table as usize].extend(cells);
    }

    /// Turns records into rows.
    fn add(&mut self, batch: Vec<Record>, written: &mut Written) -> Result<(), StoreError> {
        for record in batch {
            match record {
                Record::Event(event) => {
                    let seq = to_i64(event.seq, "seq")?;
                    match &mut self.tenant {
                        Some((tenant, last)) if *tenant == event.tenant => *last = event.seq,
                        _ => {
                            self.close_tenant()?;
                            self.tenant = Some((event.tenant.clone(), event.seq));
                        }
                    }
                    self.push(
                        Table::Events,
                        [
                            to_i64(event.revision, "revision")?.into(),
                            event.tenant.into(),
                            seq.into(),
                            event.event_type.into(),
                            event.actor.into(),
                            String::from(event.payload.get()).into(),
                            event.at.into(),
                        ],
                    );
                }
                Record::Snapshot(snapshot) => {
                    written.snapshots += 1;
                    self.push(
                        Table::Snapshots,
                        [
                            snapshot.tenant.into(),
                            to_i64(snapshot.version, "version")?.into(),
                            String::from(snapshot.state.get()).into(),
                            snapshot.saved_at.into(),
                        ],
                    );
                }
                Record::Document(document) => {
                    written.documents += 1;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(&document.bytes)
                        .map_err(|error| StoreError::serialization("document bytes", error))?;
                    self.push(
                        Table::Blobs,
                        [
                            document.sha256.into(),
                            document.content_type.into(),
                            Cell::Bytes(bytes),
                            document.stored_at.into(),
                        ],
                    );
                }
                Record::Token(token) => {
                    written.tokens += 1;
                    self.push(
                        Table::Tokens,
                        [
                            token.token_hash.into(),
                            String::from(token.principal.get()).into(),
                            token.created_at.into(),
                            token.revoked_at.into(),
                            token.expires_at_ms.into(),
                        ],
                    );
                }
                Record::SignIn(sign_in) => {
                    written.sign_ins += 1;
                    self.push(
                        Table::Passwords,
                        [
                            sign_in.login.into(),
                            sign_in.tenant.into(),
                            sign_in.phc_hash.into(),
                            String::from(sign_in.principal.get()).into(),
                            sign_in.updated_at.into(),
                        ],
                    );
                }
                Record::SignInAttempt(attempt) => {
                    written.sign_in_attempts += 1;
                    self.push(
                        Table::SignInFailures,
                        [
                            attempt.login.into(),
                            attempt.at_ms.into(),
                            attempt.client.into(),
                        ],
                    );
                }
                Record::Idempotency(record) => {
                    written.idempotency += 1;
                    self.push(
                        Table::Idempotency,
                        [
                            record.principal.into(),
                            record.key.into(),
                            record.request_hash.into(),
                            record.status.into(),
                            record.body.into(),
                            record.recorded_at.into(),
                        ],
                    );
                }
                // The reading thread keeps these to itself.
                Record::Header(_) | Record::End(_) => {}
            }
        }
        Ok(())
    }

    /// The finished tenant's row: its version is its last event's `seq`.
    fn close_tenant(&mut self) -> Result<(), StoreError> {
        if let Some((tenant, version)) = self.tenant.take() {
            let version = to_i64(version, "version")?;
            self.push(Table::Tenants, [tenant.into(), version.into()]);
        }
        Ok(())
    }

    fn buffered(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }
}

/// Rows per SQLite `INSERT` (at most 7 columns: far below its bound-parameter limit).
const SQLITE_ROWS: usize = 512;
/// Cells buffered before PostgreSQL's `COPY`s run.
const POSTGRES_CELLS: usize = 1 << 18;

/// The store being filled, inside its one transaction.
enum Target {
    Sqlite(SqliteConnection, Pending),
    Postgres(Transaction<'static, Postgres>, Pending, String),
}

/// Counts what a table holds.
const CONTENTS: [(&str, &str); 7] = [
    ("SELECT COUNT(*) FROM clearance_tenants", "tenants"),
    ("SELECT COUNT(*) FROM clearance_snapshots", "snapshots"),
    ("SELECT COUNT(*) FROM clearance_blobs", "documents"),
    ("SELECT COUNT(*) FROM clearance_tokens", "tokens"),
    ("SELECT COUNT(*) FROM clearance_passwords", "sign-ins"),
    (
        "SELECT COUNT(*) FROM clearance_sign_in_failures",
        "sign-in attempts",
    ),
    (
        "SELECT COUNT(*) FROM clearance_idempotency",
        "idempotency records",
    ),
];

impl Target {
    async fn begin(store: &Store) -> Result<Target, StoreError> {
        match &*store.backend {
            Backend::Sqlite(sqlite) => {
                // A connection of its own, as durable as the store's writer; IMMEDIATE holds
                // SQLite's write lock for the whole import.
                let mut connection = SqliteConnectOptions::new()
                    .filename(sqlite.path())
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .pragma("cache_size", "-65536")
                    .connect()
                    .await?;
                connection.execute("BEGIN IMMEDIATE").await?;
                Ok(Target::Sqlite(connection, Pending::new()))
            }
            Backend::Postgres(postgres) => {
                // Rolled back when dropped: a refused import writes nothing.
                let mut connection = postgres.pool().begin().await?;
                // The counter row's lock orders the import with every appender.
                sqlx::query("SELECT revision FROM clearance_meta WHERE id = 1 FOR UPDATE")
                    .execute(&mut *connection)
                    .await?;
                Ok(Target::Postgres(
                    connection,
                    Pending::new(),
                    postgres.channel().to_owned(),
                ))
            }
        }
    }

    /// What the store holds, in words; empty for an empty store.
    async fn contents(&mut self) -> Result<String, StoreError> {
        let mut holds = Vec::new();
        let events_sql = "SELECT COUNT(*) FROM clearance_events";
        let events: i64 = match self {
            Target::Sqlite(connection, _) => {
                sqlx::query_scalar(events_sql)
                    .fetch_one(&mut *connection)
                    .await?
            }
            Target::Postgres(connection, ..) => {
                sqlx::query_scalar(events_sql)
                    .fetch_one(&mut **connection)
                    .await?
            }
        };
        for (sql, what) in CONTENTS {
            let count: i64 = match self {
                Target::Sqlite(connection, _) => {
                    sqlx::query_scalar(sql).fetch_one(&mut *connection).await?
                }
                Target::Postgres(connection, ..) => {
                    sqlx::query_scalar(sql).fetch_one(&mut **connection).await?
                }
            };
            if count > 0 {
                holds.push(if what == "tenants" {
                    format!("{count} {what} ({events} events)")
                } else {
                    format!("{count} {what}")
                });
            } else if what == "tenants" && events > 0 {
                holds.push(format!("{events} events"));
            }
        }
        Ok(holds.join(", "))
    }

    async fn write(&mut self, batch: Vec<Record>, written: &mut Written) -> Result<(), StoreError> {
        match self {
            Target::Sqlite(connection, pending) => {
                pending.add(batch, written)?;
                sqlite_flush(connection, pending, false).await
            }
            Target::Postgres(connection, pending, _) => {
                pending.add(batch, written)?;
                if pending.buffered() >= POSTGRES_CELLS {
                    postgres_flush(connection, pending).await?;
                }
                Ok(())
            }
        }
    }

    /// Writes what is left, sets the global revision and commits; returns the revision.
    async fn finish(self, revision: u64) -> Result<u64, StoreError> {
        let stored = to_i64(revision, "revision")?;
        match self {
            Target::Sqlite(mut connection, mut pending) => {
                pending.close_tenant()?;
                sqlite_flush(&mut connection, &mut pending, true).await?;
                sqlx::query("UPDATE clearance_meta SET revision = ?1 WHERE id = 1")
                    .bind(stored)
                    .execute(&mut connection)
                    .await?;
                connection.execute("COMMIT").await?;
                // Fold the import's write-ahead log into the database file now, not on the
                // server's first writes.
                connection
                    .execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    .await?;
                connection.close().await?;
            }
            Target::Postgres(mut connection, mut pending, channel) => {
                pending.close_tenant()?;
                postgres_flush(&mut connection, &mut pending).await?;
                sqlx::query("UPDATE clearance_meta SET revision = $1 WHERE id = 1")
                    .bind(stored)
                    .execute(&mut *connection)
                    .await?;
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(channel)
                    .bind(revision.to_string())
                    .execute(&mut *connection)
                    .await?;
                connection.commit().await?;
            }
        }
        Ok(revision)
    }
}

/// Inserts every full chunk of rows (all of them when `all`).
async fn sqlite_flush(
    connection: &mut SqliteConnection,
    pending: &mut Pending,
    all: bool,
) -> Result<(), StoreError> {
    for table in TABLES {
        let width = table.width();
        let cells = &mut pending.rows[table as usize];
        let rows = cells.len() / width;
        let take = if all { rows } else { rows - rows % SQLITE_ROWS };
        if take == 0 {
            continue;
        }
        let (name, columns) = table.insert();
        let head = format!("INSERT INTO {name} ({columns}) VALUES ");
        let mut drained = cells.drain(..take * width);
        let mut left = take;
        while left > 0 {
            let chunk = left.min(SQLITE_ROWS);
            let sql = sqlite_insert(&head, width, chunk, "");
            let mut query = sqlx::query::<Sqlite>(&sql);
            for cell in drained.by_ref().take(chunk * width) {
                query = match cell {
                    Cell::Text(text) => query.bind(text),
                    Cell::Int(number) => query.bind(number),
                    Cell::Null => query.bind(None::<String>),
                    Cell::Bytes(bytes) => query.bind(bytes),
                };
            }
            query.execute(&mut *connection).await?;
            left -= chunk;
        }
    }
    Ok(())
}

/// Streams every buffered row with one `COPY` per table.
async fn postgres_flush(
    connection: &mut Transaction<'static, Postgres>,
    pending: &mut Pending,
) -> Result<(), StoreError> {
    let mut buffer = Vec::new();
    for table in TABLES {
        let width = table.width();
        let cells = std::mem::take(&mut pending.rows[table as usize]);
        if cells.is_empty() {
            continue;
        }
        buffer.clear();
        for (index, cell) in cells.iter().enumerate() {
            match cell {
                Cell::Text(text) => copy_field(&mut buffer, text),
                Cell::Int(number) => buffer.extend_from_slice(number.to_string().as_bytes()),
                Cell::Null => buffer.extend_from_slice(b"\\N"),
                // bytea's hex form, `\x…`, its backslash escaped for COPY.
                Cell::Bytes(bytes) => {
                    buffer.extend_from_slice(b"\\\\x");
                    buffer.extend_from_slice(hex(bytes).as_bytes());
                }
            }
            buffer.push(if (index + 1) % width == 0 {
                b'\n'
            } else {
                b'\t'
            });
        }
        let (name, columns) = table.insert();
        copy_in(
            connection,
            &format!("COPY {name} ({columns}) FROM STDIN"),
            &buffer,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_tell_kinds_and_parts_apart() {
        assert_ne!(key_hash("token", &["a"]), key_hash("sign_in", &["a"]));
        assert_ne!(
            key_hash("idempotency", &["a", "bc"]),
            key_hash("idempotency", &["ab", "c"])
        );
        assert_eq!(key_hash("tenant", &["x"]), key_hash("tenant", &["x"]));
    }

    #[test]
    fn every_table_names_as_many_columns_as_its_rows_have() {
        let widths: Vec<usize> = TABLES.iter().map(|table| table.width()).collect();
        assert_eq!(widths, [7, 2, 4, 4, 5, 5, 3, 6]);
    }
}
