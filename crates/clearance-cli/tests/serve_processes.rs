//! The service's durability and consistency across processes, proven on the
//! real `clearance` binary: each test starts `clearance serve` as child
//! processes on loopback ports and talks to them over real sockets.
//!
//! - a graceful restart (SIGTERM while writers are busy) keeps every write that
//!   was answered 2xx, and the demo's audit trail and state come back unchanged;
//! - `kill -9` in the middle of concurrent writes keeps every acknowledged write,
//!   exactly once, on SQLite and (with `CLEARANCE_TEST_POSTGRES`) on PostgreSQL,
//!   and a retry of the writes left unanswered, with their idempotency keys,
//!   applies each at most once;
//! - two servers on one PostgreSQL agree after a write on either when the
//!   reader names the writer's `min_revision`.
//!
//! Readiness is awaited by polling `/readyz` under a deadline, never by sleeping;
//! nothing here asserts a timing. PostgreSQL tests run each in a schema of its
//! own (as the store's suite does) that is dropped at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use clearance_server::views::{CaseView, CheckResult, EventPage, EventView, WriteResult};
use serde_json::{Value, json};

const POSTGRES_URL: &str = "CLEARANCE_TEST_POSTGRES";
/// How long a server may take to start, stop or answer on a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(90);

// ---- one `clearance serve` child process -------------------------------------------------

/// Where a server keeps its events.
#[derive(Clone, Debug)]
enum StoreAt {
    /// `--data-dir DIR` (SQLite).
    DataDir(PathBuf),
    /// `--database URL` (PostgreSQL).
    Database(String),
}

/// A running `clearance serve --demo` child.
struct Server {
    child: Child,
    url: String,
    /// Demo tokens by principal as the banner prints them (`staff ada`, `contoso/alice`).
    tokens: BTreeMap<String, String>,
    log: PathBuf,
    http: reqwest::Client,
}

impl Server {
    /// Starts a server on a free loopback port over `store`, waits for its banner
    /// and then until `/readyz` answers 200. `name` names its log file in `logs`.
    async fn start(store: &StoreAt, logs: &Path, name: &str) -> Server {
        let log = logs.join(format!("{name}.log"));
        let stderr = std::fs::File::create(&log).expect("the log file is created");
        let mut command = Command::new(env!("CARGO_BIN_EXE_clearance"));
        command.args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--sweep-interval",
            "0",
        ]);
        match store {
            StoreAt::DataDir(dir) => command.arg("--data-dir").arg(dir),
            StoreAt::Database(url) => command.arg("--database").arg(url),
        };
        let mut child = command
            .env("RUST_LOG", "warn")
            .env_remove("CLEARANCE_DATABASE")
            .env_remove("CLEARANCE_DATA_DIR")
            .env_remove("CLEARANCE_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("`clearance serve` starts");
        let banner = read_banner(&mut child, &log);
        let server = Server {
            child,
            url: banner.url,
            tokens: banner.tokens,
            log,
            http: reqwest::Client::new(),
        };
        server.wait_ready().await;
        server
    }

    /// Polls `/readyz` until it answers 200, under [`DEADLINE`].
    async fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            if let Ok(response) = self.http.get(format!("{}/readyz", self.url)).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "{} was not ready within {DEADLINE:?}; log:\n{}",
                self.url,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn token(&self, who: &str) -> &str {
        self.tokens
            .get(who)
            .unwrap_or_else(|| panic!("the banner prints a token for {who}: {:?}", self.tokens))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits for the process to exit; returns how it exited.
    fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("`kill` runs");
        assert!(status.success(), "SIGTERM was delivered");
        let exited = wait_exit(&mut self.child);
        exited.unwrap_or_else(|| {
            panic!(
                "the server did not stop within {DEADLINE:?} after SIGTERM; log:\n{}",
                self.log_text()
            )
        })
    }

    /// SIGTERM, and the server must exit 0 (a graceful stop).
    fn stop(self) {
        let log = self.log.clone();
        let status = self.terminate();
        assert!(
            status.success(),
            "SIGTERM stops the server cleanly, not with {status}; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// SIGKILL: no handler, destructor or flush runs in the server.
    fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        let status = self.child.wait().expect("the server is reaped");
        assert!(
            !status.success(),
            "the server was killed, it did not finish"
        );
    }

    /// POSTs `body` to `path` as `token`, with an idempotency key when given.
    async fn post(&self, token: &str, path: &str, body: &Value, key: Option<&str>) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        Reply::of(request.send().await).await
    }

    /// GETs `path` as `token` and parses a 200 answer.
    async fn get<T: serde::de::DeserializeOwned>(&self, token: &str, path: &str) -> T {
        let reply = self.get_reply(token, path).await;
        assert_eq!(reply.status, Some(200), "GET {path}: {reply:?}");
        serde_json::from_value(reply.body).unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    /// GETs `path` as `token`.
    async fn get_reply(&self, token: &str, path: &str) -> Reply {
        Reply::of(
            self.http
                .get(format!("{}{path}", self.url))
                .bearer_auth(token)
                .send()
                .await,
        )
        .await
    }

    /// Sends a read that names a `min_revision` until it is answered. The server
    /// waits a bounded time for the revision and then answers 503
    /// `revision_not_reached` ("not yet", never an older state); a client asks
    /// again. Any other answer than 200 or that is a failure.
    async fn at_revision<F, Fut>(&self, send: F) -> Reply
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Reply>,
    {
        let started = Instant::now();
        loop {
            let reply = send().await;
            let not_yet =
                reply.status == Some(503) && reply.body["error"]["code"] == "revision_not_reached";
            if !not_yet {
                assert_eq!(reply.status, Some(200), "{reply:?}");
                return reply;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "the revision was not reached within {DEADLINE:?}: {reply:?}"
            );
        }
    }

    /// A tenant's whole audit trail, every page.
    async fn audit_trail(&self, token: &str, tenant: &str) -> Vec<EventView> {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page: EventPage = self
                .get(
                    token,
                    &format!("/v1/tenants/{tenant}/events?after={after}&limit=500"),
                )
                .await;
            events.extend(page.events);
            match page.next_after {
                Some(next) => after = next,
                None => return events,
            }
        }
    }

    /// What a tenant looks like to readers: the audit trail, the Partner tab,
    /// the cases, and its admin's access to every workspace and action.
    async fn tenant_state(&self, token: &str, tenant: &str, admin: &str) -> Value {
        json!({
            "events": serde_json::to_value(self.audit_trail(token, tenant).await).expect("events serialize"),
            "legal_info": self.get::<Value>(token, &format!("/v1/tenants/{tenant}/legal-info")).await,
            "cases": self.get::<Value>(token, &format!("/v1/tenants/{tenant}/cases")).await,
            "access": self.get::<Value>(token, &format!("/v1/tenants/{tenant}/access?user={admin}")).await,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave a server running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What the server printed before serving.
struct Banner {
    url: String,
    tokens: BTreeMap<String, String>,
}

/// Reads the banner from the child's stdout (on a thread, under [`DEADLINE`]):
/// the URL line, then the demo token lines up to "Press Ctrl-C". The thread goes
/// on draining stdout so that the server never blocks on a full pipe.
fn read_banner(child: &mut Child, log: &Path) -> Banner {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if lines.send(line).is_err() {
                // Nobody listens any more; keep draining.
            }
        }
    });
    let started = Instant::now();
    let mut url = None;
    let mut tokens = BTreeMap::new();
    loop {
        let left = DEADLINE.saturating_sub(started.elapsed());
        let line = received.recv_timeout(left).unwrap_or_else(|_| {
            panic!(
                "no complete banner within {DEADLINE:?} (exit: {:?}); log:\n{}",
                child.try_wait(),
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
        if let Some(rest) = line.strip_prefix("clearance is serving at ") {
            url = Some(rest.trim().to_owned());
        } else if line.starts_with("Press Ctrl-C") {
            break;
        } else if let Some((who, token)) = token_line(&line) {
            tokens.insert(who, token);
        }
    }
    Banner {
        url: url.expect("the banner names the URL"),
        tokens,
    }
}

/// `  staff ada        clr_…  (support_admin)` → (`staff ada`, `clr_…`).
fn token_line(line: &str) -> Option<(String, String)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|word| word.starts_with("clr_"))?;
    Some((words[..at].join(" "), words[at].to_owned()))
}

/// Waits for the child to exit, polling under [`DEADLINE`].
fn wait_exit(child: &mut Child) -> Option<ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < DEADLINE {
        if let Some(status) = child.try_wait().expect("the child's status reads") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// An HTTP answer, or the transport error that stood in its place.
#[derive(Debug)]
struct Reply {
    /// `None` when no answer came (refused, reset, closed).
    status: Option<u16>,
    body: Value,
}

impl Reply {
    async fn of(sent: reqwest::Result<reqwest::Response>) -> Reply {
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(bytes) => Reply {
                        status: Some(status),
                        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    },
                    // The headers came but the body was cut off: not an answer.
                    Err(_) => Reply {
                        status: None,
                        body: Value::Null,
                    },
                }
            }
            Err(_) => Reply {
                status: None,
                body: Value::Null,
            },
        }
    }

    fn is_success(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    fn written(&self) -> WriteResult {
        serde_json::from_value(self.body.clone()).unwrap_or_else(|error| {
            panic!("a write answers {{revision, version, events}}: {error}: {self:?}")
        })
    }
}

// ---- concurrent writers --------------------------------------------------------------------

/// One write the writers sent: a support case whose subject is also its idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Write {
    tenant: String,
    subject: String,
}

impl Write {
    fn path(&self) -> String {
        format!("/v1/tenants/{}/cases", self.tenant)
    }

    fn body(&self) -> Value {
        json!({"subject": self.subject, "body": "written by a durability test"})
    }
}

/// What the writers saw: every write sent, those answered 2xx with their
/// revision, and those refused (answered 4xx/5xx, such as a conflict under contention).
#[derive(Clone, Default)]
struct WriteLog {
    sent: Vec<Write>,
    acknowledged: BTreeMap<Write, u64>,
    refused: BTreeSet<Write>,
    /// How many refusals had each error code.
    refusal_codes: BTreeMap<String, usize>,
}

impl WriteLog {
    /// Writes sent that got no answer at all (in flight when the server went away).
    fn unanswered(&self) -> Vec<Write> {
        self.sent
            .iter()
            .filter(|write| {
                !self.acknowledged.contains_key(*write) && !self.refused.contains(*write)
            })
            .cloned()
            .collect()
    }
}

/// Tenants of their own for the writers (created by the demo's support admin).
async fn create_writer_tenants(server: &Server, count: usize) -> Vec<String> {
    let admin = server.token("staff ada");
    let mut tenants = Vec::new();
    for index in 0..count {
        let tenant = format!("writer-{index}");
        let reply = server
            .post(
                admin,
                "/v1/tenants",
                &json!({"id": tenant, "country": "US", "admin": "owner", "roles": ["global_admin"]}),
                Some(&format!("create-{tenant}")),
            )
            .await;
        assert_eq!(reply.status, Some(200), "creating {tenant}: {reply:?}");
        tenants.push(tenant);
    }
    tenants
}

/// Runs `writers` concurrent writers (writer `i` on `tenants[i % len]`, so some
/// tenants see concurrent writes) opening cases as the support admin, each write
/// with an idempotency key, until `stop` is set or the server stops answering.
/// Calls `on_acknowledged(total)` after each 2xx so the caller can pull the plug.
async fn write_until_stopped(
    url: String,
    token: String,
    tenants: &[String],
    writers: usize,
    stop: Arc<AtomicBool>,
    acknowledged_count: Arc<AtomicU64>,
) -> WriteLog {
    let log = Arc::new(Mutex::new(WriteLog::default()));
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let tenant = tenants[writer % tenants.len()].clone();
            let (url, token, log, stop, acknowledged_count) = (
                url.clone(),
                token.clone(),
                log.clone(),
                stop.clone(),
                acknowledged_count.clone(),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut failures_in_a_row = 0;
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) || failures_in_a_row >= 3 {
                        return;
                    }
                    let write = Write {
                        tenant: tenant.clone(),
                        subject: format!("w{writer}-{n}"),
                    };
                    log.lock().expect("not poisoned").sent.push(write.clone());
                    let sent = http
                        .post(format!("{url}{}", write.path()))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", &write.subject)
                        .json(&write.body())
                        .send()
                        .await;
                    let reply = Reply::of(sent).await;
                    if reply.is_success() {
                        failures_in_a_row = 0;
                        let revision = reply.written().revision;
                        log.lock()
                            .expect("not poisoned")
                            .acknowledged
                            .insert(write, revision);
                        acknowledged_count.fetch_add(1, Ordering::SeqCst);
                    } else if reply.status.is_none() {
                        // The server is going away (or gone).
                        failures_in_a_row += 1;
                    } else {
                        // A refusal is an answer, not an acknowledgement: it must
                        // have changed nothing.
                        failures_in_a_row = 0;
                        let code = format!(
                            "{} {}",
                            reply.status.unwrap_or_default(),
                            reply.body["error"]["code"].as_str().unwrap_or("?")
                        );
                        let mut log = log.lock().expect("not poisoned");
                        log.refused.insert(write);
                        *log.refusal_codes.entry(code).or_default() += 1;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a writer does not panic");
    }
    Arc::into_inner(log)
        .expect("the writers are done")
        .into_inner()
        .expect("not poisoned")
}

/// Waits until `count` reaches `at_least`, under [`DEADLINE`].
async fn wait_for_count(count: &AtomicU64, at_least: u64) {
    let started = Instant::now();
    while count.load(Ordering::SeqCst) < at_least {
        assert!(
            started.elapsed() < DEADLINE,
            "only {} of {at_least} writes were acknowledged within {DEADLINE:?}",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Checks, on a restarted server, that every acknowledged write is there exactly
/// once at the revision it was acknowledged with, that nothing is there that was
/// never sent, and that each tenant's log is gap-free. Returns the subjects found.
async fn verify_writes(server: &Server, tenants: &[String], log: &WriteLog) -> BTreeSet<Write> {
    let admin = server.token("staff ada");
    let sent: BTreeSet<&Write> = log.sent.iter().collect();
    let mut found = BTreeSet::new();
    for tenant in tenants {
        let events = server.audit_trail(admin, tenant).await;
        let seqs: Vec<u64> = events.iter().map(|event| event.seq).collect();
        let expected: Vec<u64> = (1..=events.len() as u64).collect();
        assert_eq!(seqs, expected, "{tenant}'s log is gap-free and in order");
        for event in events.iter().filter(|event| event.kind == "case_opened") {
            let subject = event.payload["subject"]
                .as_str()
                .unwrap_or_else(|| panic!("a case_opened event has a subject: {event:?}"))
                .to_owned();
            let write = Write {
                tenant: tenant.clone(),
                subject,
            };
            assert!(sent.contains(&write), "{write:?} was never sent");
            assert!(
                !log.refused.contains(&write),
                "{write:?} was refused yet recorded"
            );
            if let Some(revision) = log.acknowledged.get(&write) {
                assert_eq!(
                    event.revision, *revision,
                    "{write:?} is at its acknowledged revision"
                );
            }
            assert!(found.insert(write.clone()), "{write:?} is recorded twice");
        }
        // The cases read model agrees with the trail.
        let cases: Vec<CaseView> = server
            .get(admin, &format!("/v1/tenants/{tenant}/cases"))
            .await;
        let subjects: BTreeSet<&str> = cases.iter().map(|case| case.subject.as_str()).collect();
        assert_eq!(
            subjects.len(),
            cases.len(),
            "{tenant} has no duplicate case"
        );
        let from_trail: BTreeSet<&str> = found
            .iter()
            .filter(|write| &write.tenant == tenant)
            .map(|write| write.subject.as_str())
            .collect();
        assert_eq!(
            subjects, from_trail,
            "{tenant}'s cases are those of its trail"
        );
    }
    let lost: Vec<&Write> = log
        .acknowledged
        .keys()
        .filter(|write| !found.contains(*write))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    found
}

/// The demo tenants and their admins.
fn demo_tenants() -> impl Iterator<Item = (&'static str, &'static str)> {
    clearance_server::demo::tenants().map(|tenant| (tenant.id, tenant.admin))
}

async fn demo_state(server: &Server) -> Value {
    let admin = server.token("staff ada");
    let mut state = serde_json::Map::new();
    for (tenant, user) in demo_tenants() {
        state.insert(
            tenant.to_owned(),
            server.tenant_state(admin, tenant, user).await,
        );
    }
    Value::Object(state)
}

// ---- PostgreSQL: a schema per test --------------------------------------------------------

/// A schema of its own on the test database, dropped when done.
struct PostgresSchema {
    admin_url: String,
    name: String,
}

impl PostgresSchema {
    /// A new schema, or `None` (with a printed line) when `CLEARANCE_TEST_POSTGRES` is unset.
    async fn create(test: &str) -> Option<PostgresSchema> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL) else {
            println!("skipped {test}: {POSTGRES_URL} not set");
            return None;
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .subsec_nanos();
        let name = format!(
            "serve_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let pool = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("the test database is reachable");
        sqlx::query(&format!("CREATE SCHEMA \"{name}\""))
            .execute(&pool)
            .await
            .expect("the test schema is created");
        pool.close().await;
        Some(PostgresSchema { admin_url, name })
    }

    /// The `--database` URL of a server on this schema.
    fn url(&self) -> String {
        let separator = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-csearch_path%3D{}",
            self.admin_url, self.name
        )
    }

    async fn drop_schema(self) {
        let pool = sqlx::PgPool::connect(&self.admin_url)
            .await
            .expect("the test database is reachable");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name))
            .execute(&pool)
            .await
            .expect("the test schema drops");
        pool.close().await;
    }
}

// ---- the tests ---------------------------------------------------------------------------

const WRITERS: usize = 16;
const WRITER_TENANTS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_writes_then_restart_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = StoreAt::DataDir(dir.path().join("data"));
    let first = Server::start(&store, dir.path(), "first").await;
    let tenants = create_writer_tenants(&first, WRITER_TENANTS).await;
    let demo_before = demo_state(&first).await;

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let writing = write_until_stopped(
        first.url.clone(),
        first.token("staff ada").to_owned(),
        &tenants,
        WRITERS,
        stop.clone(),
        acknowledged.clone(),
    );
    let terminate = async {
        wait_for_count(&acknowledged, 150).await;
        // Graceful shutdown while the writers are still sending.
        tokio::task::block_in_place(|| first.stop());
        stop.store(true, Ordering::SeqCst);
    };
    let (log, ()) = tokio::join!(writing, terminate);
    assert!(log.acknowledged.len() >= 150);

    let second = Server::start(&store, dir.path(), "second").await;
    let found = verify_writes(&second, &tenants, &log).await;
    println!(
        "SIGTERM: {} writes sent, {} acknowledged, {} refused {:?}, {} found after the restart",
        log.sent.len(),
        log.acknowledged.len(),
        log.refused.len(),
        log.refusal_codes,
        found.len()
    );
    // The demo's tenants come back exactly as they were: the same audit trail
    // (seeding again applied nothing twice), Partner tab, cases and access.
    assert_eq!(demo_state(&second).await, demo_before);
    // Writes keep going after the restart, continuing each tenant's log.
    let next = Write {
        tenant: tenants[0].clone(),
        subject: "after-restart".into(),
    };
    let reply = second
        .post(second.token("staff ada"), &next.path(), &next.body(), None)
        .await;
    assert_eq!(reply.status, Some(200), "{reply:?}");
    let events = second
        .audit_trail(second.token("staff ada"), &tenants[0])
        .await;
    assert_eq!(
        events.last().map(|event| event.seq),
        Some(reply.written().version)
    );
    second.stop();
}

/// Many writers, SIGKILL mid-stream, restart: every 2xx write is there exactly
/// once; retrying the unanswered ones with their keys adds each at most once.
async fn kill_9_during_writes(store: StoreAt, logs: &Path) {
    let first = Server::start(&store, logs, "first").await;
    let tenants = create_writer_tenants(&first, WRITER_TENANTS).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let writing = write_until_stopped(
        first.url.clone(),
        first.token("staff ada").to_owned(),
        &tenants,
        WRITERS,
        stop.clone(),
        acknowledged.clone(),
    );
    let kill = async {
        wait_for_count(&acknowledged, 300).await;
        first.kill_9();
        stop.store(true, Ordering::SeqCst);
    };
    let (log, ()) = tokio::join!(writing, kill);
    assert!(log.acknowledged.len() >= 300);
    let unanswered = log.unanswered();
    assert!(
        !unanswered.is_empty(),
        "the kill came while writes were in flight"
    );

    let second = Server::start(&store, logs, "second").await;
    let found = verify_writes(&second, &tenants, &log).await;
    println!(
        "kill -9: {} writes sent, {} acknowledged, {} refused {:?}, {} unanswered of which {} were committed",
        log.sent.len(),
        log.acknowledged.len(),
        log.refused.len(),
        log.refusal_codes,
        unanswered.len(),
        found.len() - log.acknowledged.len()
    );

    // The clients retry what got no answer, with the same idempotency keys: a write
    // that was committed before the kill is replayed, the rest apply now; none twice.
    let admin = second.token("staff ada");
    for write in &unanswered {
        let reply = second
            .post(admin, &write.path(), &write.body(), Some(&write.subject))
            .await;
        assert_eq!(reply.status, Some(200), "retrying {write:?}: {reply:?}");
    }
    // An acknowledged write retried with its key is replayed, at its first revision.
    let (write, revision) = log
        .acknowledged
        .iter()
        .next()
        .expect("writes were acknowledged");
    let reply = second
        .post(admin, &write.path(), &write.body(), Some(&write.subject))
        .await;
    assert_eq!(
        reply.written().revision,
        *revision,
        "a retry replays the first answer"
    );

    let after_retries = verify_writes(&second, &tenants, &log).await;
    let expected: BTreeSet<Write> = found.into_iter().chain(unanswered).collect();
    assert_eq!(
        after_retries, expected,
        "every write is there exactly once after the retries"
    );
    second.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_keeps_every_acknowledged_write_on_sqlite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    kill_9_during_writes(StoreAt::DataDir(dir.path().join("data")), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_keeps_every_acknowledged_write_on_postgres() {
    let Some(schema) =
        PostgresSchema::create("kill_9_during_writes_keeps_every_acknowledged_write_on_postgres")
            .await
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    kill_9_during_writes(StoreAt::Database(schema.url()), dir.path()).await;
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_agree_after_a_write_at_min_revision() {
    let Some(schema) =
        PostgresSchema::create("two_servers_on_one_postgres_agree_after_a_write_at_min_revision")
            .await
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = StoreAt::Database(schema.url());
    // B starts second: its demo seeding replays A's, applying nothing twice.
    let a = Server::start(&store, dir.path(), "a").await;
    let b = Server::start(&store, dir.path(), "b").await;
    let demo = demo_state(&a).await;
    assert_eq!(
        demo_state(&b).await,
        demo,
        "both servers start from the same state"
    );

    // tailspin's Buy Now is held back only by its payment profile: toggling the
    // profile on one server flips the decision, which the other must see at once
    // when asked at the writer's revision.
    let buy = |min_revision: u64| json!({"tenant": "tailspin", "user": "dave", "action": "membership_offers.buy", "min_revision": min_revision});
    for round in 0..12 {
        let (writer, reader) = if (round / 2) % 2 == 0 {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let complete = round % 2 == 0;
        let reply = writer
            .post(
                writer.token("staff ada"),
                "/v1/tenants/tailspin/profiles/payment",
                &json!({"complete": complete}),
                None,
            )
            .await;
        assert_eq!(reply.status, Some(200), "round {round}: {reply:?}");

        let written = reply.written();

        let body = buy(written.revision);
        let check = reader
            .at_revision(|| reader.post(reader.token("staff sam"), "/v1/check", &body, None))
            .await;
        let result: CheckResult = serde_json::from_value(check.body).expect("a check result");
        assert_eq!(
            result.allowed, complete,
            "round {round}: the reader sees the payment profile complete={complete}: {result:?}"
        );
        if !complete {
            let unmet: Vec<&str> = result
                .unmet
                .iter()
                .map(|unmet| unmet.requirement.as_str())
                .collect();
            assert_eq!(unmet, ["payment_profile_complete"], "round {round}");
        }
        // Reads other than checks honour it too: the tenant is at the write's version.
        let path = format!("/v1/tenants/tailspin?min_revision={}", written.revision);
        let summary = reader
            .at_revision(|| reader.get_reply(reader.token("staff sam"), &path))
            .await;
        assert_eq!(
            summary.body["version"],
            json!(written.version),
            "round {round}: {summary:?}"
        );
    }
    // A revision nobody has written yet is never answered with what is there now:
    // after its bounded wait the server says "not yet" and names the field.
    let future = a
        .post(
            a.token("staff ada"),
            "/v1/tenants/tailspin/profiles/payment",
            &json!({"complete": true}),
            None,
        )
        .await;
    let beyond = future.written().revision + 1_000;
    for server in [&a, &b] {
        let reply = server
            .post(server.token("staff sam"), "/v1/check", &buy(beyond), None)
            .await;
        assert_eq!(reply.status, Some(503), "{reply:?}");
        assert_eq!(
            reply.body["error"]["code"], "revision_not_reached",
            "{reply:?}"
        );
        assert_eq!(reply.body["error"]["field"], "min_revision", "{reply:?}");
    }
    a.stop();
    b.stop();
    schema.drop_schema().await;
}

#[test]
fn banner_token_lines_are_read() {
    assert_eq!(
        token_line("  staff ada        clr_abc-_1  (support_admin)"),
        Some(("staff ada".to_owned(), "clr_abc-_1".to_owned()))
    );
    assert_eq!(
        token_line("  contoso/alice    clr_x  (the seed's case: ...)"),
        Some(("contoso/alice".to_owned(), "clr_x".to_owned()))
    );
    assert_eq!(
        token_line("clearance is serving at http://127.0.0.1:1"),
        None
    );
}
