//! Crash-durability checking, for tests that `kill -9` a process in the middle of writing.
//!
//! A child process runs [`append_until_killed`], which appends from many tasks and prints one
//! [`Acknowledgement`] line per append only after the store acknowledged it. The parent reads the
//! lines, kills the child with SIGKILL at a moment of its choosing, reopens the store and runs
//! [`verify_acknowledged`] on every line it read: an acknowledged write that is missing after the
//! crash is a durability bug. The server's own kill -9 test can drive HTTP writes instead and
//! still use [`verify_acknowledged`] on what it saw acknowledged.

use std::convert::Infallible;
use std::io::Write;

use jiff::Timestamp;
use serde_json::json;
use tokio::sync::mpsc;

use clearance_store::{NewEvent, Store, StoreError};

/// One acknowledged append: the tenant reached `version`, and its event `seq = version` got
/// `revision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledgement<'a> {
    /// The tenant appended to.
    pub tenant: &'a str,
    /// The tenant's version after the append.
    pub version: u64,
    /// The global revision of that event.
    pub revision: u64,
}

impl<'a> Acknowledgement<'a> {
    /// The line [`append_until_killed`] prints: `ack TENANT VERSION REVISION`.
    pub fn to_line(&self) -> String {
        format!("ack {} {} {}", self.tenant, self.version, self.revision)
    }

    /// Reads a line printed by [`Acknowledgement::to_line`]; `None` for any other line (a line
    /// cut short by the kill is not an acknowledgement).
    pub fn parse(line: &'a str) -> Option<Self> {
        let mut words = line.split(' ');
        let (Some("ack"), Some(tenant), Some(version), Some(revision), None) = (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) else {
            return None;
        };
        Some(Acknowledgement {
            tenant,
            version: version.parse().ok()?,
            revision: revision.parse().ok()?,
        })
    }
}

/// Appends one event at a time from `appenders` concurrent tasks, each to its own tenant
/// `{tenant_prefix}{n}`, continuing from the tenant's stored version, and writes an
/// acknowledgement line to `out` (flushed) after each acknowledged append. Runs until killed or
/// until an append fails.
pub async fn append_until_killed(
    store: &Store,
    tenant_prefix: &str,
    appenders: usize,
    mut out: impl Write,
) -> Result<Infallible, StoreError> {
    let (acknowledged, mut acknowledgements) = mpsc::unbounded_channel();
    for appender in 0..appenders {
        let store = store.clone();
        let tenant = format!("{tenant_prefix}{appender}");
        let acknowledged = acknowledged.clone();
        tokio::spawn(async move {
            let mut version = store.tenant_version(&tenant).await?;
            loop {
                let event = NewEvent {
                    kind: "crash_probe".to_owned(),
                    actor: "crash_check".to_owned(),
                    payload: json!({ "tenant": tenant, "seq": version + 1 }),
                    recorded_at: Timestamp::UNIX_EPOCH,
                };
                let appended = store.append(&tenant, version, vec![event], None).await?;
                version = appended.version;
                if acknowledged
                    .send((tenant.clone(), appended.version, appended.revision))
                    .is_err()
                {
                    return Ok::<(), StoreError>(());
                }
            }
        });
    }
    drop(acknowledged);
    while let Some((tenant, version, revision)) = acknowledgements.recv().await {
        let line = Acknowledgement {
            tenant: &tenant,
            version,
            revision,
        }
        .to_line();
        // A closed output means the parent is gone; nothing left to report to.
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    Err(StoreError::Closed)
}

/// Checks that every acknowledged append survived: its event is stored at its `seq` with its
/// revision and payload. Returns a description of the first loss found.
pub async fn verify_acknowledged(
    store: &Store,
    acknowledgements: &[Acknowledgement<'_>],
) -> Result<(), String> {
    for ack in acknowledgements {
        let events = store
            .tenant_events(ack.tenant, ack.version.saturating_sub(1), 1)
            .await
            .map_err(|error| format!("reading {}: {error}", ack.tenant))?;
        let Some(event) = events.first().filter(|event| event.seq == ack.version) else {
            return Err(format!("lost acknowledged write: {}", ack.to_line()));
        };
        if event.revision != ack.revision {
            return Err(format!(
                "{} is stored with revision {}",
                ack.to_line(),
                event.revision
            ));
        }
        if event.payload["seq"] != json!(ack.version) {
            return Err(format!("{} has payload {}", ack.to_line(), event.payload));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgement_lines_round_trip_and_torn_lines_are_not_acknowledgements() {
        let ack = Acknowledgement {
            tenant: "t7",
            version: 12,
            revision: 345,
        };
        let line = ack.to_line();
        assert_eq!(Acknowledgement::parse(&line), Some(ack));
        assert_eq!(Acknowledgement::parse("ack t7 12"), None);
        assert_eq!(Acknowledgement::parse("ack t7 12 3x"), None);
    }
}
