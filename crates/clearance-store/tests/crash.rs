//! `kill -9` during writes: every append acknowledged before the kill is in the store after it.
//!
//! The test runs its own binary a second time as the writing child (the
//! `crash_child_process_entry` test with `CLEARANCE_CRASH_CHILD_DB` set), reads the
//! acknowledgements it prints, kills it with SIGKILL mid-stream and reopens the store.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use clearance_store::Store;
use clearance_testkit::crash::{Acknowledgement, append_until_killed, verify_acknowledged};

const CHILD_DB: &str = "CLEARANCE_CRASH_CHILD_DB";
/// Acknowledgements to see before pulling the plug; the child is still writing then.
const ACKNOWLEDGED_BEFORE_KILL: usize = 3000;

#[test]
fn every_acknowledged_append_survives_kill_9() {
    if std::env::var_os(CHILD_DB).is_some() {
        return; // This process is the child; only `crash_child_process_entry` runs in it.
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([
            "--exact",
            "crash_child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("the child's output reads");
        if Acknowledgement::parse(&line).is_some() {
            lines.push(line);
            if lines.len() == ACKNOWLEDGED_BEFORE_KILL {
                break;
            }
        }
    }
    // SIGKILL: no destructor, no flush, no graceful close runs in the child.
    child.kill().expect("the child is killed");
    let status = child.wait().expect("the child is reaped");
    assert!(!status.success(), "the child was killed, not finished");
    assert_eq!(
        lines.len(),
        ACKNOWLEDGED_BEFORE_KILL,
        "the child wrote enough"
    );

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let store = Store::open(path.to_str().expect("a UTF-8 path"))
            .await
            .expect("the store reopens after the crash");
        let acknowledgements: Vec<Acknowledgement<'_>> = lines
            .iter()
            .filter_map(|line| Acknowledgement::parse(line))
            .collect();
        verify_acknowledged(&store, &acknowledgements)
            .await
            .unwrap_or_else(|loss| panic!("{loss}"));
        // The store is usable after recovery: the next append continues the sequence.
        let revision = store.current_revision().await.expect("revision reads");
        let highest = acknowledgements.iter().map(|ack| ack.revision).max();
        assert!(Some(revision) >= highest);
        store.close().await;
    });
}

/// The writing child of [`every_acknowledged_append_survives_kill_9`]; does nothing when run
/// on its own.
#[test]
fn crash_child_process_entry() {
    let Some(path) = std::env::var_os(CHILD_DB) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let store = Store::open(path.to_str().expect("a UTF-8 path"))
            .await
            .expect("the child opens the store");
        let stopped = append_until_killed(&store, "tenant-", 32, std::io::stdout().lock()).await;
        panic!("the child stopped before it was killed: {stopped:?}");
    });
}
