//! `clearance export`, `import`, `verify` and `backup` as a user runs them: the demo moved from
//! SQLite to PostgreSQL (when `CLEARANCE_TEST_POSTGRES` holds a URL; else to another SQLite
//! store) and back, every read endpoint answering the same at each step; damage found by
//! `verify`; a cut file refused by `import` naming its line.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

use clearance_server::server::RunningServer;
use clearance_testkit::server::start_demo;
use serde_json::Value;

const POSTGRES_URL: &str = "CLEARANCE_TEST_POSTGRES";

fn clearance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clearance"))
        .args(args)
        .env_remove("CLEARANCE_DATABASE")
        .env_remove("CLEARANCE_DATA_DIR")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `clearance` and insists on success; returns its standard output.
fn succeeds(args: &[&str]) -> String {
    let output = clearance(args);
    assert!(
        output.status.success(),
        "clearance {args:?}: {}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Where a store lives: the flags that name it and the location `start_demo` takes.
struct StoreAt {
    flag: &'static str,
    value: String,
    location: String,
    /// PostgreSQL: the admin URL and the schema to drop.
    schema: Option<(String, String)>,
}

impl StoreAt {
    fn sqlite(dir: &Path, name: &str) -> StoreAt {
        let data = dir.join(name);
        StoreAt {
            flag: "--data-dir",
            value: data.to_str().expect("a UTF-8 path").to_owned(),
            location: data
                .join("clearance.db")
                .to_str()
                .expect("a UTF-8 path")
                .to_owned(),
            schema: None,
        }
    }

    /// A schema of its own on the test database, or `None` when none is configured.
    async fn postgres() -> Option<StoreAt> {
        let Ok(admin) = std::env::var(POSTGRES_URL) else {
            println!("the PostgreSQL half is skipped: {POSTGRES_URL} not set");
            return None;
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "data_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let pool = sqlx::PgPool::connect(&admin).await.expect("reachable");
        sqlx::query(&format!("CREATE SCHEMA \"{name}\""))
            .execute(&pool)
            .await
            .expect("the schema is created");
        pool.close().await;
        let separator = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{separator}options=-csearch_path%3D{name}");
        Some(StoreAt {
            flag: "--database",
            value: url.clone(),
            location: url,
            schema: Some((admin, name)),
        })
    }

    async fn drop_schema(self) {
        if let Some((admin, name)) = self.schema {
            let pool = sqlx::PgPool::connect(&admin).await.expect("reachable");
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .execute(&pool)
                .await
                .expect("the schema drops");
            pool.close().await;
        }
    }
}

/// Every read endpoint's answer for the demo tenants, as support staff and as each tenant's
/// admin: `GET` of each `/v1` path whose only parameter is `{tenant}` (or none), and a check
/// of every workspace's action list through `access`.
async fn answers(server: &RunningServer) -> BTreeMap<String, (u16, Value)> {
    let client = reqwest::Client::new();
    let url = server.url();
    let demo = server.demo.as_ref().expect("the demo was seeded");
    let openapi: Value = client
        .get(format!("{url}/openapi.json"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let paths: Vec<String> = openapi["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(path, operations)| {
            operations.get("get").is_some()
                && path.starts_with("/v1/")
                && path.replace("{tenant}", "").find('{').is_none()
        })
        .map(|(path, _)| path.clone())
        .collect();
    assert!(paths.len() >= 8, "the read endpoints: {paths:?}");
    let mut callers = vec![("staff".to_owned(), demo.support_admin.token.clone(), None)];
    for partner in &demo.partners {
        let tenant = match &partner.principal {
            clearance_server::Principal::Partner { tenant, .. } => tenant.clone(),
            other => panic!("a demo partner is a partner: {other:?}"),
        };
        callers.push((tenant.clone(), partner.token.clone(), Some(tenant)));
    }
    let tenants: Vec<String> = clearance_server::demo::tenants()
        .map(|tenant| tenant.id.to_owned())
        .collect();
    let mut answers = BTreeMap::new();
    for (who, token, own) in &callers {
        for tenant in &tenants {
            if own.as_ref().is_some_and(|own| own != tenant) {
                continue;
            }
            for path in &paths {
                if !path.contains("{tenant}") && tenant != &tenants[0] {
                    continue;
                }
                let path = path.replace("{tenant}", tenant);
                let response = client
                    .get(format!("{url}{path}"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("answers");
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                answers.insert(format!("{who} GET {path}"), (status, body));
            }
        }
    }
    answers
}

/// Starts the demo on `store` (its journeys are recorded under idempotency keys, so on moved
/// data it adds nothing), reads every answer and stops.
async fn demo_answers(store: &StoreAt) -> (u64, BTreeMap<String, (u16, Value)>) {
    let server = start_demo(&store.location)
        .await
        .expect("the server starts");
    let revision = server.service.revision();
    let answers = answers(&server).await;
    server.shutdown().await.expect("the server stops");
    (revision, answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_moves_from_sqlite_to_postgres_and_back_with_every_answer_equal() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let source = StoreAt::sqlite(dir.path(), "source");
    let server = start_demo(&source.location)
        .await
        .expect("the server starts");
    let revision = server.service.revision();
    assert!(revision > 20, "the demo wrote its tenants: {revision}");
    let original = answers(&server).await;
    let ok = original
        .values()
        .filter(|(status, _)| *status == 200)
        .count();
    assert!(ok >= 40, "most reads answer: {original:#?}");
    // Exported while the server runs.
    let file = dir.path().join("demo.jsonl.zst");
    let file = file.to_str().expect("a UTF-8 path");
    let exported = succeeds(&["export", "--out", file, source.flag, &source.value]);
    assert!(
        exported.contains(&format!("at revision {revision}:")),
        "{exported}"
    );
    server.shutdown().await.expect("the server stops");

    let moved = match StoreAt::postgres().await {
        Some(postgres) => postgres,
        None => StoreAt::sqlite(dir.path(), "moved"),
    };
    let imported = succeeds(&["import", "--in", file, moved.flag, &moved.value]);
    assert!(
        imported.contains("✔"),
        "import ends with a sound verify: {imported}"
    );
    let (moved_revision, moved_answers) = demo_answers(&moved).await;
    assert_eq!(moved_revision, revision);
    assert_eq!(moved_answers, original);

    let back_file = dir.path().join("back.jsonl.gz");
    let back_file = back_file.to_str().expect("a UTF-8 path");
    succeeds(&["export", "--out", back_file, moved.flag, &moved.value]);
    let back = StoreAt::sqlite(dir.path(), "back");
    let imported = succeeds(&["import", "--in", back_file, back.flag, &back.value]);
    assert!(imported.contains("✔"), "{imported}");
    let (back_revision, back_answers) = demo_answers(&back).await;
    assert_eq!(back_revision, revision);
    assert_eq!(back_answers, original);

    // A second import into a store that has data is refused, naming it.
    let refused = clearance(&["import", "--in", file, back.flag, &back.value]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("the store is not empty: it holds 5 tenants"),
        "{}",
        text(&refused.stderr)
    );
    moved.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_a_snapshot_that_is_not_the_fold_a_missing_event_and_a_bad_document() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = StoreAt::sqlite(dir.path(), "gen");
    succeeds(&[
        "gen",
        "--tenants",
        "30",
        "--now",
        "2026-11-24T10:00:00Z",
        store.flag,
        &store.value,
    ]);
    let sound = succeeds(&["verify", store.flag, &store.value]);
    assert!(
        sound.contains("sound: 30 tenants") && sound.contains("30 snapshots compared"),
        "{sound}"
    );
    {
        use sqlx::Connection;
        let mut connection =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", store.location))
                .await
                .expect("the database opens");
        for statement in [
            "UPDATE clearance_snapshots SET state = replace(state, '\"country\":\"US\"', \
             '\"country\":\"ZZ\"') WHERE tenant = 'gen-0000000'",
            "DELETE FROM clearance_events WHERE tenant = 'gen-0000001' AND seq = 2",
            "UPDATE clearance_blobs SET bytes = X'00'",
        ] {
            let done = sqlx::query(statement)
                .execute(&mut connection)
                .await
                .expect("the damage is done");
            assert_eq!(done.rows_affected(), 1, "{statement}");
        }
        connection.close().await.expect("closes");
    }
    let damaged = clearance(&["verify", store.flag, &store.value]);
    let report = text(&damaged.stdout);
    assert_eq!(damaged.status.code(), Some(1), "{report}");
    for expected in [
        "tenant `gen-0000000`: the snapshot at version",
        "is not the fold of its events",
        "tenant `gen-0000001`: version",
        "global revisions:",
        "its bytes hash to",
    ] {
        assert!(report.contains(expected), "{expected}: {report}");
    }

    // A backup copies the damage faithfully, and its check says so.
    let copy = dir.path().join("copy.db");
    let copy = copy.to_str().expect("a UTF-8 path");
    let backup = clearance(&["backup", "--out", copy, store.flag, &store.value]);
    assert_eq!(backup.status.code(), Some(1), "{}", text(&backup.stdout));
    assert!(text(&backup.stdout).contains("is not the fold"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_export_is_refused_by_import_naming_the_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = StoreAt::sqlite(dir.path(), "gen");
    succeeds(&["gen", "--tenants", "5", store.flag, &store.value]);
    let file = dir.path().join("gen.jsonl");
    succeeds(&[
        "export",
        "--out",
        file.to_str().expect("UTF-8"),
        store.flag,
        &store.value,
    ]);
    let whole = std::fs::read_to_string(&file).expect("reads");
    let lines: Vec<&str> = whole.split_inclusive('\n').collect();
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(&cut, lines[..10].concat()).expect("writes");
    let target = StoreAt::sqlite(dir.path(), "target");
    let refused = clearance(&[
        "import",
        "--in",
        cut.to_str().expect("UTF-8"),
        target.flag,
        &target.value,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let message = text(&refused.stderr);
    assert!(
        message.contains("line 11: the file is cut short")
            && message.contains("nothing was written"),
        "{message}"
    );
    let empty = succeeds(&["verify", target.flag, &target.value]);
    assert!(empty.contains("sound: 0 tenants, 0 events"), "{empty}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_of_a_postgres_store_points_to_pg_dump_and_export() {
    let Some(store) = StoreAt::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("x.db");
    let refused = clearance(&[
        "backup",
        "--out",
        out.to_str().expect("UTF-8"),
        store.flag,
        &store.value,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let message = text(&refused.stderr);
    assert!(
        message.contains("pg_dump") && message.contains("clearance export"),
        "{message}"
    );
    store.drop_schema().await;
}
