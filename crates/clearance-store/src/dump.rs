//! The export format: every table of a store as JSON Lines, versioned, written and read as a
//! stream so a million tenants never sit in memory at once.
//!
//! A file is one record a line, each a JSON object whose first member is its `kind`:
//!
//! - `header` (first line): `format` (`clearance-export`), `format_version` ([`FORMAT_VERSION`]),
//!   `schema_version` (the store's), `revision` (the global revision the export was read at),
//!   `exported_at`, `source` (`sqlite` or `postgres`);
//! - `event`: `tenant`, `seq`, `revision`, `type`, `actor`, `at`, `payload`: every event, grouped
//!   by tenant and in `seq` order within each;
//! - `snapshot`: `tenant`, `version`, `saved_at`, `state`: right after the event at its version;
//! - `document`: `sha256`, `content_type`, `stored_at`, `bytes` (base64);
//! - `token`: `token_hash` (never a token), `principal`, `created_at`, `revoked_at`,
//!   `expires_at_ms`;
//! - `sign_in`: `login`, `tenant`, `phc_hash` (argon2id), `principal`, `updated_at`;
//! - `sign_in_attempt`: `login`, `at_ms`, `client`;
//! - `idempotency`: `principal`, `key`, `request_hash`, `status`, `body`, `recorded_at`;
//! - `end` (last line): `records` (lines before it), `tenants`, `events`, and `sha256`, the
//!   SHA-256 of every byte before the `end` line, so a cut or altered file is refused.
//!
//! A name ending in `.zst` is compressed with zstd, one ending in `.gz` with gzip; anything else
//! is plain text.

pub(crate) mod file;
pub(crate) mod import;
pub(crate) mod read;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use file::{ExportError, ExportSummary};
pub use import::{ImportError, ImportSummary};
pub use read::RecordStream;

/// The `format` every export's header names.
pub const FORMAT: &str = "clearance-export";

/// The version of the format this build writes and the newest it reads.
pub const FORMAT_VERSION: u64 = 1;

/// How an export or import reports progress: called with the number of events done so far.
pub type Progress = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// The first line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format's version ([`FORMAT_VERSION`] when written by this build).
    pub format_version: u64,
    /// The schema version of the store it was read from.
    pub schema_version: i64,
    /// The global revision the export was read at: every event up to it is in the file.
    pub revision: u64,
    /// When the export was taken (RFC 3339).
    pub exported_at: String,
    /// The backend it was read from (`sqlite` or `postgres`).
    pub source: String,
}

/// One event of a tenant's log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRecord {
    /// The tenant.
    pub tenant: String,
    /// Its position in the tenant's log, from 1.
    pub seq: u64,
    /// Its global revision.
    pub revision: u64,
    /// The event's type tag.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Who caused it.
    pub actor: String,
    /// When it happened (RFC 3339).
    pub at: String,
    /// The event's body, as stored.
    pub payload: Box<RawValue>,
}

/// A tenant's snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// The tenant.
    pub tenant: String,
    /// The tenant version the state reflects.
    pub version: u64,
    /// When it was saved.
    pub saved_at: String,
    /// The state, as stored.
    pub state: Box<RawValue>,
}

/// A stored document (content-addressed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// Its media type.
    pub content_type: String,
    /// When it was stored.
    pub stored_at: String,
    /// The content, base64 (standard alphabet, padded).
    pub bytes: String,
}

/// An API token or portal session, by its hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    /// SHA-256 of the token (the token itself is never stored).
    pub token_hash: String,
    /// The principal it authenticates.
    pub principal: Box<RawValue>,
    /// When it was issued.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    /// When it expires (milliseconds since the epoch), if it does.
    pub expires_at_ms: Option<i64>,
}

/// A portal sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInRecord {
    /// The sign-in name.
    pub login: String,
    /// The tenant of a partner user; none for staff.
    pub tenant: Option<String>,
    /// The argon2id hash of the password (PHC string).
    pub phc_hash: String,
    /// The principal it signs in as.
    pub principal: Box<RawValue>,
    /// When it was last changed.
    pub updated_at: String,
}

/// A counted sign-in attempt (the failure-rate limit's memory).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInAttemptRecord {
    /// The login tried.
    pub login: String,
    /// When (milliseconds since the epoch).
    pub at_ms: i64,
    /// The client address, when recorded.
    pub client: Option<String>,
}

/// The recorded answer to a request sent with an idempotency key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdempotencyLine {
    /// Who sent it.
    pub principal: String,
    /// The client's key.
    pub key: String,
    /// The hash of the request.
    pub request_hash: String,
    /// The answer's HTTP status.
    pub status: i64,
    /// The answer's body.
    pub body: String,
    /// When it was recorded.
    pub recorded_at: String,
}

/// The last line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// How many lines come before this one (the header included).
    pub records: u64,
    /// How many tenants have events.
    pub tenants: u64,
    /// How many events.
    pub events: u64,
    /// Lower-case hex SHA-256 of every byte before this line.
    pub sha256: String,
}

/// One line of an export.
#[derive(Debug, Clone)]
pub enum Record {
    /// The first line.
    Header(Header),
    /// An event.
    Event(EventRecord),
    /// A snapshot.
    Snapshot(SnapshotRecord),
    /// A document.
    Document(DocumentRecord),
    /// A token's hash.
    Token(TokenRecord),
    /// A sign-in.
    SignIn(SignInRecord),
    /// A counted sign-in attempt.
    SignInAttempt(SignInAttemptRecord),
    /// An idempotency record.
    Idempotency(IdempotencyLine),
    /// The last line.
    End(End),
}

impl Record {
    /// The record's `kind` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Header(_) => "header",
            Record::Event(_) => "event",
            Record::Snapshot(_) => "snapshot",
            Record::Document(_) => "document",
            Record::Token(_) => "token",
            Record::SignIn(_) => "sign_in",
            Record::SignInAttempt(_) => "sign_in_attempt",
            Record::Idempotency(_) => "idempotency",
            Record::End(_) => "end",
        }
    }

    /// Appends the record as one line (`{"kind":…,…}` and a newline) to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let written = match self {
            Record::Header(record) => serde_json::to_writer(&mut *out, record),
            Record::Event(record) => serde_json::to_writer(&mut *out, record),
            Record::Snapshot(record) => serde_json::to_writer(&mut *out, record),
            Record::Document(record) => serde_json::to_writer(&mut *out, record),
            Record::Token(record) => serde_json::to_writer(&mut *out, record),
            Record::SignIn(record) => serde_json::to_writer(&mut *out, record),
            Record::SignInAttempt(record) => serde_json::to_writer(&mut *out, record),
            Record::Idempotency(record) => serde_json::to_writer(&mut *out, record),
            Record::End(record) => serde_json::to_writer(&mut *out, record),
        };
        written.expect("records of strings, numbers and checked JSON always serialize");
        // Every record is an object: put the kind first, where a reader finds it at once.
        let kind = format!("{{\"kind\":\"{}\",", self.kind());
        out.splice(start..start + 1, kind.bytes());
        out.push(b'\n');
    }

    /// Parses one line (without its newline); the error says what is wrong with it.
    pub fn parse_line(line: &str) -> Result<Record, String> {
        let kind = line
            .strip_prefix("{\"kind\":\"")
            .and_then(|rest| rest.split_once('"'))
            .map(|(kind, _)| kind)
            .ok_or_else(|| "expected a record starting with {\"kind\":\"…\"".to_owned())?;
        fn parse<T: serde::de::DeserializeOwned>(line: &str) -> Result<T, String> {
            serde_json::from_str(line).map_err(|error| error.to_string())
        }
        Ok(match kind {
            "header" => Record::Header(parse(line)?),
            "event" => Record::Event(parse(line)?),
            "snapshot" => Record::Snapshot(parse(line)?),
            "document" => Record::Document(parse(line)?),
            "token" => Record::Token(parse(line)?),
            "sign_in" => Record::SignIn(parse(line)?),
            "sign_in_attempt" => Record::SignInAttempt(parse(line)?),
            "idempotency" => Record::Idempotency(parse(line)?),
            "end" => Record::End(parse(line)?),
            other => return Err(format!("unknown record kind `{other}`")),
        })
    }
}

/// Stored JSON text as a raw value, kept byte for byte unless it spans lines (then re-written
/// compactly, so a record stays on one line).
pub(crate) fn raw_json(
    text: String,
    what: &'static str,
) -> Result<Box<RawValue>, crate::StoreError> {
    let raw = if text.contains('\n') {
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|error| crate::StoreError::serialization(what, error))?;
        serde_json::value::to_raw_value(&value)
    } else {
        RawValue::from_string(text)
    };
    raw.map_err(|error| crate::StoreError::serialization(what, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_starts_with_its_kind_and_reads_back() {
        let record = Record::Event(EventRecord {
            tenant: "contoso".into(),
            seq: 2,
            revision: 7,
            event_type: "tenant_created".into(),
            actor: "{\"type\":\"system\"}".into(),
            at: "2026-11-24T10:00:00Z".into(),
            payload: raw_json("{\"b\":1,\"a\":[2]}".into(), "payload").expect("valid JSON"),
        });
        let mut line = Vec::new();
        record.write_line(&mut line);
        let text = String::from_utf8(line).expect("UTF-8");
        assert_eq!(
            text,
            "{\"kind\":\"event\",\"tenant\":\"contoso\",\"seq\":2,\"revision\":7,\
             \"type\":\"tenant_created\",\"actor\":\"{\\\"type\\\":\\\"system\\\"}\",\
             \"at\":\"2026-11-24T10:00:00Z\",\"payload\":{\"b\":1,\"a\":[2]}}\n"
        );
        let Record::Event(back) = Record::parse_line(text.trim_end()).expect("parses") else {
            panic!("an event reads back as an event");
        };
        assert_eq!((back.seq, back.payload.get()), (2, "{\"b\":1,\"a\":[2]}"));
    }

    #[test]
    fn a_multi_line_json_text_is_made_one_line() {
        let raw = raw_json("{\n \"a\": 1\n}".into(), "state").expect("valid JSON");
        assert_eq!(raw.get(), "{\"a\":1}");
    }

    #[test]
    fn lines_that_are_not_records_are_refused_with_the_reason() {
        assert!(Record::parse_line("[1]").is_err_and(|error| error.contains("kind")));
        assert!(
            Record::parse_line("{\"kind\":\"table\",\"x\":1}")
                .is_err_and(|error| error.contains("unknown record kind `table`"))
        );
        assert!(
            Record::parse_line("{\"kind\":\"event\",\"tenant\":\"a\"}")
                .is_err_and(|error| error.contains("missing field"))
        );
    }
}
