//! `clearance gen` end to end: the binary writes a small population into a
//! SQLite store (and, with `CLEARANCE_TEST_POSTGRES`, into a PostgreSQL schema
//! of its own), then the service loads it (from snapshots, without replay)
//! and answers checks consistent with each generated state.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use clearance_core::workflow::SupportRole;
use clearance_core::{Catalog, VerificationStatus};
use clearance_server::{Principal, Service, ServiceOptions};
use clearance_store::Store;

const TENANTS: u64 = 200;

fn clearance() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clearance"))
}

/// What `gen --json` reports: kind name → (count, example tenant).
type Kinds = BTreeMap<String, (u64, String)>;

/// Runs `gen --json` and returns the summary's kinds and its number of events.
fn generate(dir: &std::path::Path, extra: &[&str]) -> (Kinds, u64) {
    let output = clearance()
        .args([
            "gen",
            "--tenants",
            &TENANTS.to_string(),
            "--users-per-tenant",
            "2",
        ])
        .args(["--now", "2026-11-24T10:00:00Z", "--json", "--data-dir"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "gen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("--json prints one JSON object");
    assert_eq!(summary["tenants"], TENANTS);
    let kinds = summary["kinds"]
        .as_array()
        .expect("kinds is an array")
        .iter()
        .map(|kind| {
            (
                kind["kind"].as_str().expect("a kind name").to_owned(),
                (
                    kind["count"].as_u64().expect("a count"),
                    kind["example"].as_str().expect("an example").to_owned(),
                ),
            )
        })
        .collect();
    (kinds, summary["events"].as_u64().expect("an event count"))
}

fn staff() -> Principal {
    Principal::Staff {
        id: "tester".into(),
        role: SupportRole::SupportAgent,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_population_loads_from_snapshots_and_answers_by_its_state() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Several batches, so the build of one overlaps the write of the previous.
    let (kinds, events) = generate(dir.path(), &["--batch", "64"]);
    let location = dir.path().join("clearance.db");
    let store = Store::open(location.to_str().expect("a UTF-8 path"))
        .await
        .expect("the store opens");
    check_population(&store, &kinds, events).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_population_generated_into_postgres_loads_and_answers_by_its_state() {
    let Ok(admin_url) = std::env::var("CLEARANCE_TEST_POSTGRES") else {
        println!("skipped: CLEARANCE_TEST_POSTGRES not set");
        return;
    };
    let schema = format!("gen_population_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("the test database is reachable");
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&admin)
        .await
        .expect("the test schema is created");
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
    // On a thread of its own, so the schema is dropped even when a check fails.
    let outcome = std::thread::spawn(move || {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (kinds, events) = generate(dir.path(), &["--batch", "50", "--database", &url]);
        assert!(
            !dir.path().join("clearance.db").exists(),
            "--database writes nowhere else"
        );
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(async {
                let store = Store::open(&url).await.expect("the store opens");
                check_population(&store, &kinds, events).await;
                store.close().await;
            });
    })
    .join();
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&admin)
        .await
        .expect("the test schema drops");
    admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Checks a generated population in `store`: every kind is there, every tenant has a
/// snapshot at its latest version, the revisions count the events, and the service started
/// over it answers as each state should.
async fn check_population(store: &Store, kinds: &Kinds, events: u64) {
    assert_eq!(kinds.values().map(|(count, _)| count).sum::<u64>(), TENANTS);
    for expected in [
        "not_enrolled",
        "enrolled",
        "pending_inside_sla",
        "pending_overdue_swept",
        "pending_overdue_unswept",
        "in_progress",
        "challenged",
        "rejected_appeals_0",
        "rejected_appeals_1",
        "rejected_appeals_2",
        "rejected_appeals_3",
        "authorized",
        "authorized_ready",
        "member",
    ] {
        assert!(
            kinds.contains_key(expected),
            "no `{expected}` tenant in {kinds:?}"
        );
    }
    // One revision per event, from 1: the batches continued each other without gaps.
    assert_eq!(store.current_revision().await.expect("reads"), events);
    let feed = store
        .events_after_revision(0, u32::MAX)
        .await
        .expect("the feed reads");
    assert!(
        feed.iter().map(|event| event.revision).eq(1..=events),
        "revisions are 1..={events} in order"
    );

    // Every tenant has a snapshot at its latest version: start-up replays nothing.
    let mut loader = store.load_all().await.expect("the loader starts");
    let mut loaded = 0;
    while let Some(history) = loader.next().await.expect("histories load") {
        let snapshot = history
            .snapshot
            .as_ref()
            .expect("every tenant has a snapshot");
        assert!(
            history.events.is_empty(),
            "{} has events after its snapshot",
            history.tenant
        );
        assert!(snapshot.version >= 1);
        loaded += 1;
    }
    assert_eq!(loaded, TENANTS);

    let catalog = Arc::new(Catalog::partner_center().clone());
    let service = Service::open(store.clone(), catalog.clone(), ServiceOptions::default())
        .await
        .expect("the service loads the population");
    assert_eq!(service.tenant_count() as u64, TENANTS);
    let maicpp = catalog
        .program_ix("maicpp")
        .expect("the default catalog has maicpp");
    let staff = staff();
    for (kind, (_, tenant)) in kinds {
        let state = service
            .tenant(&staff, tenant, None)
            .await
            .expect("the tenant is loaded");
        let record = state.program(maicpp);
        let status = record.map(|record| record.verification.status);
        let authorized = matches!(kind.as_str(), "authorized" | "authorized_ready" | "member");
        let expected_status = match kind.as_str() {
            "not_enrolled" => None,
            "enrolled" => Some(VerificationStatus::NotStarted),
            "pending_inside_sla" | "pending_overdue_swept" | "pending_overdue_unswept" => {
                Some(VerificationStatus::Pending)
            }
            "in_progress" => Some(VerificationStatus::InProgress),
            "challenged" => Some(VerificationStatus::Challenged),
            kind if kind.starts_with("rejected_appeals_") => Some(VerificationStatus::Rejected),
            _ => Some(VerificationStatus::Authorized),
        };
        assert_eq!(status, expected_status, "{kind} ({tenant})");
        if let Some(appeals) = kind.strip_prefix("rejected_appeals_") {
            let appeals: u8 = appeals.parse().expect("a count");
            assert_eq!(record.expect("enrolled").verification.appeals_used, appeals);
        }
        if kind == "pending_overdue_swept" {
            assert!(record.expect("enrolled").verification.overdue, "{tenant}");
        }
        assert_eq!(
            state.users.len(),
            if authorized { 2 } else { 1 },
            "{kind} ({tenant})"
        );

        // The check answers follow the state: Buy Now is open exactly for an
        // authorized tenant with its profiles and no membership yet.
        let buy = service
            .check(&staff, tenant, "u0", "membership_offers.buy", None)
            .await
            .expect("the check answers");
        assert_eq!(
            buy.allowed,
            kind == "authorized_ready",
            "{kind} ({tenant}): {buy:?}"
        );
        let unmet: Vec<&str> = buy
            .unmet
            .iter()
            .map(|unmet| unmet.requirement.as_str())
            .collect();
        match kind.as_str() {
            "member" => assert_eq!(unmet, ["no_active_core_membership"]),
            "authorized" => assert_eq!(unmet, ["payment_profile_complete", "tax_profile_complete"]),
            "authorized_ready" => assert!(unmet.is_empty()),
            _ => assert!(
                unmet.contains(&"maicpp_verification_authorized"),
                "{kind}: {unmet:?}"
            ),
        }
        let manage = service
            .check(&staff, tenant, "u0", "users.manage_roles", None)
            .await
            .expect("the check answers");
        assert_eq!(manage.allowed, authorized, "{kind} ({tenant})");
    }

    // The next sweep marks exactly the unswept overdue tenants, none of the swept ones.
    let report = service
        .sweep("2026-11-24T10:00:00Z".parse().expect("a timestamp"))
        .await;
    let marked: Vec<&str> = report
        .marked
        .iter()
        .map(|(tenant, _)| tenant.as_str())
        .collect();
    assert_eq!(marked, [kinds["pending_overdue_unswept"].1.as_str()]);
}

#[test]
fn gen_refuses_to_overwrite_tenants_and_names_bad_flags() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    generate(dir.path(), &["--prefix", "again"]);
    let second = clearance()
        .args(["gen", "--tenants", "5", "--prefix", "again", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("the binary runs");
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("tenant `again-0000000` already exists"),
        "{stderr}"
    );

    let zero = clearance()
        .args(["gen", "--tenants", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("the binary runs");
    assert_eq!(zero.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--tenants"));

    let prefix = clearance()
        .args([
            "gen",
            "--tenants",
            "1",
            "--prefix",
            "Bad/Prefix",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("the binary runs");
    assert_eq!(prefix.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&prefix.stderr).contains("--prefix"));
}
