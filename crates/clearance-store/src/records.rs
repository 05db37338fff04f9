//! The values the store keeps and hands back: events, snapshots, idempotency records, blobs,
//! credentials.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::StoreError;

/// An event to append. The store treats it as opaque: `kind` is a tag the caller chooses (the
/// server uses its domain event's `type`), `payload` is the caller's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The event's type tag, e.g. `verification_authorized`.
    pub kind: String,
    /// Who caused it (a user id, an operator, `system`).
    pub actor: String,
    /// The event's body.
    pub payload: Value,
    /// When the caller says it happened (the store never reads the clock for events).
    pub recorded_at: Timestamp,
}

/// An event as stored: a [`NewEvent`] plus where it sits in its tenant's log and in the global
/// feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The tenant whose log holds it.
    pub tenant: String,
    /// Its position in the tenant's log: the first event is 1, and after it the tenant is at
    /// version `seq`.
    pub seq: u64,
    /// Its position in the global feed across all tenants: gap-free and in commit order.
    pub revision: u64,
    /// The event's type tag.
    pub kind: String,
    /// Who caused it.
    pub actor: String,
    /// The event's body.
    pub payload: Value,
    /// When the caller said it happened.
    pub recorded_at: Timestamp,
}

/// What a successful append reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    /// The tenant's version after the append (its number of events).
    pub version: u64,
    /// The global revision of the append's last event: a read that requires this revision sees
    /// the write. For an append of no events, the revision current when it committed.
    pub revision: u64,
}

/// The recorded answer to a request that carried an `Idempotency-Key`, so a retry gets the
/// first answer instead of applying the request twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// The client's idempotency key.
    pub key: String,
    /// Who sent the request (keys are scoped per principal).
    pub principal: String,
    /// A hash of the request, so a reuse of the key for a different request can be refused.
    pub request_hash: String,
    /// The HTTP status of the first answer.
    pub status: u16,
    /// The body of the first answer.
    pub body: String,
}

/// A tenant's folded state at a version, saved so start-up need not replay the whole log. The
/// state is the caller's JSON, parsed (`Snapshot`, the default) or as the text it was stored as
/// ([`crate::RawSnapshot`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot<S = Value> {
    /// The tenant version the state reflects (all events with `seq <= version`).
    pub version: u64,
    /// The caller's serialized state.
    pub state: S,
}

/// What start-up needs for one tenant: its latest snapshot (if any) and the events after it. The
/// snapshot's state is parsed (`TenantHistory`, the default) or left as text
/// ([`crate::RawHistory`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TenantHistory<S = Value> {
    /// The tenant.
    pub tenant: String,
    /// The latest snapshot, if one was saved.
    pub snapshot: Option<Snapshot<S>>,
    /// The events after the snapshot (or all of them), in `seq` order.
    pub events: Vec<StoredEvent>,
}

impl<S> TenantHistory<S> {
    /// The tenant version this history brings the state to.
    pub fn version(&self) -> u64 {
        self.events
            .last()
            .map(|event| event.seq)
            .or(self.snapshot.as_ref().map(|snapshot| snapshot.version))
            .unwrap_or(0)
    }
}

/// A stored document (an appeal's upload), addressed by the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
    /// The media type it was stored with (`application/pdf`, ...).
    pub content_type: String,
    /// The content.
    pub bytes: Vec<u8>,
}

/// A portal sign-in: the login, the tenant it belongs to (none for operator staff), the argon2
/// PHC hash of its password and the principal it signs in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRecord {
    /// The sign-in name.
    pub login: String,
    /// The tenant of a partner user; `None` for operator staff.
    pub tenant: Option<String>,
    /// The argon2id hash in PHC string format (the server hashes and verifies).
    pub phc_hash: String,
    /// The principal, as the server serializes it.
    pub principal: Value,
}

/// A [`NewEvent`] with its payload and timestamp already rendered to text, done on the caller's
/// task so the single writer only moves strings.
#[derive(Debug, Clone)]
pub(crate) struct EncodedEvent {
    pub kind: String,
    pub actor: String,
    pub payload: String,
    pub recorded_at: String,
}

impl EncodedEvent {
    pub(crate) fn encode(event: NewEvent) -> Self {
        EncodedEvent {
            kind: event.kind,
            actor: event.actor,
            payload: event.payload.to_string(),
            recorded_at: event.recorded_at.to_string(),
        }
    }
}

/// An event row as both backends select it:
/// `tenant, seq, revision, kind, actor, payload (text), recorded_at (text)`.
pub(crate) type EventRow = (String, i64, i64, String, String, String, String);

pub(crate) fn decode_event(row: EventRow) -> Result<StoredEvent, StoreError> {
    let (tenant, seq, revision, kind, actor, payload, recorded_at) = row;
    Ok(StoredEvent {
        tenant,
        seq: to_u64(seq, "event seq")?,
        revision: to_u64(revision, "event revision")?,
        kind,
        actor,
        payload: serde_json::from_str(&payload)
            .map_err(|error| StoreError::serialization("event payload", error))?,
        recorded_at: recorded_at
            .parse()
            .map_err(|error| StoreError::serialization("event recorded_at", error))?,
    })
}

/// Databases count in `i64`; the API in `u64`. A negative stored number is corruption.
pub(crate) fn to_u64(value: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::serialization(what, format!("negative: {value}")))
}

/// The `i64` a database column holds for an API `u64`.
pub(crate) fn to_i64(value: u64, field: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::InvalidInput {
        field,
        value: value.to_string(),
        reason: "exceeds the largest storable number (2^63 - 1)".to_owned(),
    })
}

pub(crate) fn decode_json(text: &str, what: &'static str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::serialization(what, error))
}

/// Checks that `sha256_hex` is the lower-case hex SHA-256 of `bytes`.
pub(crate) fn check_blob_address(sha256_hex: &str, bytes: &[u8]) -> Result<(), StoreError> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let actual: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    if actual == sha256_hex {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            field: "sha256_hex",
            value: sha256_hex.to_owned(),
            reason: "is not the lower-case hex SHA-256 of the bytes".to_owned(),
        })
    }
}
