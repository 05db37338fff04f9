//! Faults fail fast, over a real socket on a throwaway PostgreSQL cluster of this test's own
//! (the shared one must not be stopped): with the database killed under a running server,
//! checks still answer from memory, `/readyz` says 503, and a write answers 503
//! `store_unavailable` with `Retry-After` in seconds, not the pool's 30 s; once the database is
//! back, the same write succeeds without restarting the server, applied once.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Demo;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A PostgreSQL cluster in a temporary directory, on a free loopback port.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// `su postgres -c` when running as root (initdb refuses root).
    as_postgres: bool,
}

impl Cluster {
    /// Initializes and starts a cluster, or says why it cannot (no binaries).
    fn start() -> Result<Cluster, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|error| format!("no /usr/lib/postgresql: {error}"))?
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin"))
            .find(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
            .ok_or("no PostgreSQL initdb and pg_ctl under /usr/lib/postgresql/*/bin")?;
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?;
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        if as_postgres {
            let chown = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status()
                .map_err(|e| e.to_string())?;
            if !chown.success() {
                return Err("cannot hand the cluster directory to the postgres user".into());
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let cluster = Cluster {
            bin,
            dir,
            port,
            as_postgres,
        };
        cluster.run(&format!(
            "{} -D {} -A trust -U postgres",
            cluster.tool("initdb"),
            cluster.data().display()
        ))?;
        cluster.up()?;
        Ok(cluster)
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).display().to_string()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, command: &str) -> Result<(), String> {
        let output = if self.as_postgres {
            Command::new("su")
                .args(["postgres", "-c", command])
                .output()
        } else {
            Command::new("sh").args(["-c", command]).output()
        }
        .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`{command}` failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    fn up(&self) -> Result<(), String> {
        let socket_dir: &Path = self.dir.path();
        self.run(&format!(
            "{} -D {} -w -l {}/log -o '-p {} -k {} -c listen_addresses=127.0.0.1' start",
            self.tool("pg_ctl"),
            self.data().display(),
            socket_dir.display(),
            self.port,
            socket_dir.display()
        ))
    }

    /// Kills the cluster the way a crash does: no clean shutdown.
    fn kill(&self) -> Result<(), String> {
        self.run(&format!(
            "{} -D {} -m immediate stop",
            self.tool("pg_ctl"),
            self.data().display()
        ))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_while_postgres_is_down_answers_503_fast_and_succeeds_after_it_returns() {
    let cluster = match Cluster::start() {
        Ok(cluster) => cluster,
        Err(reason) => {
            println!("skipped: no throwaway PostgreSQL cluster ({reason})");
            return;
        }
    };
    let server = clearance_testkit::server::start_demo(&cluster.url())
        .await
        .expect("the demo server starts on PostgreSQL");
    let demo = Demo {
        server,
        dir: tempfile::tempdir().expect("a temporary directory"),
    };
    let alice = demo.partner("contoso");
    let before = demo.trail("contoso").await.len();
    let case = json!({"subject": "Vetting stuck", "program": "maicpp", "body": "Pending."});

    let check = || {
        demo.call(
            Method::POST,
            "/v1/check",
            &alice,
            Some(json!({"tenant": "contoso", "user": "alice", "action": "membership_offers.buy"})),
            None,
        )
    };
    // Also caches alice's token: a token never seen needs the database.
    let (status, answer) = check().await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    cluster.kill().expect("the cluster stops");

    // Checks answer from memory, the same as before.
    assert_eq!(check().await, (status, answer));
    let ready = reqwest::get(demo.url("/readyz")).await.expect("an answer");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(demo.url("/v1/tenants/contoso/cases"))
        .bearer_auth(&alice)
        .header("Idempotency-Key", "while-down")
        .json(&case)
        .send()
        .await
        .expect("the server answers");
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().contains_key("retry-after"),
        "{:?}",
        response.headers()
    );
    let body: serde_json::Value = response.json().await.expect("the error shape");
    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
    // Generous (tests do not assert timings tightly): the point is "not 30 s".
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");

    cluster.up().expect("the cluster starts again");
    // The server reconnects by itself; the retry under the same key is applied, once.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, outcome) = loop {
        let (status, outcome) = demo
            .call(
                Method::POST,
                "/v1/tenants/contoso/cases",
                &alice,
                Some(case.clone()),
                Some("while-down"),
            )
            .await;
        if status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
            break (status, outcome);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(
        demo.trail("contoso").await.len(),
        before + 1,
        "the refused attempt committed nothing; the retry applied once"
    );
    demo.stop().await;
}

/// A small tmpfs of this test's own (mounting needs root), unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` (`mount -t tmpfs -o size=…`), or says why it cannot.
    fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|error| format!("mount: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "mount -t tmpfs: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a filler file until the disk is full; its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("the filler file");
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The SQLite half of "faults fail fast": the disk under the database fills up under a running
/// server. A write answers 503 `store_unavailable` with `Retry-After` at once and commits
/// nothing, checks keep answering, and once space is freed the same write succeeds, once,
/// without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_a_full_disk_answers_503_fast_and_succeeds_once_space_is_freed() {
    let disk = match SmallDisk::mount("16m") {
        Ok(disk) => disk,
        Err(reason) if std::env::var_os("CI").is_none() => {
            println!("skipped: no tmpfs of this test's own to fill ({reason}; needs root)");
            return;
        }
        Err(reason) => panic!("CI must run the disk-full test: {reason}"),
    };
    let location = disk.path().join("clearance.db");
    let server = clearance_testkit::server::start_demo(location.to_str().expect("UTF-8"))
        .await
        .expect("the demo server starts");
    let demo = Demo {
        server,
        dir: tempfile::tempdir().expect("a temporary directory"),
    };
    let alice = demo.partner("contoso");
    let check = || {
        demo.call(
            Method::POST,
            "/v1/check",
            &alice,
            Some(json!({"tenant": "contoso", "user": "alice", "action": "membership_offers.buy"})),
            None,
        )
    };
    let (status, answer) = check().await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let filler = disk.fill();
    // SQLite reuses the space its WAL already holds, so the first writes may still fit; each
    // write adds a few KiB until one needs a page the disk does not have.
    let body = "x".repeat(3000);
    let revision = || async {
        let ready: serde_json::Value = reqwest::get(demo.url("/readyz"))
            .await
            .expect("an answer")
            .json()
            .await
            .expect("JSON");
        ready["store_revision"]
            .as_u64()
            .expect("the store's revision")
    };
    let mut refused = None;
    for attempt in 0..3000 {
        let key = format!("full-{attempt}");
        let started = Instant::now();
        let response = reqwest::Client::new()
            .post(demo.url("/v1/tenants/contoso/cases"))
            .bearer_auth(&alice)
            .header("Idempotency-Key", &key)
            .json(&json!({"subject": "Disk full?", "body": body}))
            .send()
            .await
            .expect("the server answers");
        let waited = started.elapsed();
        match response.status() {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(
                    response.headers().contains_key("retry-after"),
                    "{:?}",
                    response.headers()
                );
                let answer: serde_json::Value = response.json().await.expect("the error shape");
                assert_eq!(answer["error"]["code"], "store_unavailable", "{answer}");
                // Generous (tests do not assert timings tightly): the point is "at once".
                assert!(waited < Duration::from_secs(2), "waited {waited:?}");
                refused = Some(key);
                break;
            }
            other => panic!(
                "attempt {attempt}: {other} {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
    let key = refused.expect("a write was refused once the disk was full");
    let committed = revision().await;

    // Checks answer from memory, the same as before; the refused write committed nothing.
    assert_eq!(check().await, (status, answer));
    let (status, cases) = demo.get("/v1/tenants/contoso/cases", &alice).await;
    assert_eq!(status, StatusCode::OK, "{cases}");
    assert_eq!(revision().await, committed);

    std::fs::remove_file(filler).expect("space freed");
    let (status, outcome) = demo
        .call(
            Method::POST,
            "/v1/tenants/contoso/cases",
            &alice,
            Some(json!({"subject": "Disk full?", "body": body})),
            Some(&key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(
        revision().await,
        committed + 1,
        "the retry under the refused write's key applied once"
    );
    assert_eq!(outcome["revision"], committed + 1, "{outcome}");
    demo.stop().await;
}
