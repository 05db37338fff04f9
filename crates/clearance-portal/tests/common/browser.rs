//! A real headless Chromium driven over WebDriver (chromedriver + fantoccini).
//!
//! chromedriver comes from `CLEARANCE_CHROMEDRIVER` or `PATH`, the browser
//! from `CLEARANCE_CHROMIUM` or `/usr/bin/chromium`. Without chromedriver the
//! browser tests say "skipped: chromedriver not found" and pass (CI installs
//! Debian's `chromium` and `chromium-driver`). Every wait is on an element;
//! nothing sleeps.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{PASSWORD, Server};

/// How long a wait for an element may take before the test fails.
const WAIT: Duration = Duration::from_secs(20);

/// A running chromedriver, killed when dropped.
pub struct Driver {
    url: String,
    process: Child,
    profile: tempfile::TempDir,
}

fn chromedriver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CLEARANCE_CHROMEDRIVER") {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromedriver"))
            .find(|candidate| candidate.is_file())
    })
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits for its "started"
    /// line; `None` (after printing why) when chromedriver is not installed.
    pub async fn start() -> Option<Driver> {
        let Some(binary) = chromedriver() else {
            println!("skipped: chromedriver not found");
            return None;
        };
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("an address").port()
        };
        let mut process = Command::new(binary)
            // Its own process group, so dropping the driver ends the browsers it started too.
            .process_group(0)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let stdout = process.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let started = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("started successfully") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(
            started,
            Ok(true),
            "chromedriver did not report that it started"
        );
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(Driver {
            url: format!("http://127.0.0.1:{port}"),
            process,
            profile: tempfile::tempdir().expect("a profile directory"),
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.process.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Driver {
    /// A fresh browser session at `width` x `height`.
    pub async fn browser(&self, width: u32, height: u32) -> Client {
        let chromium =
            std::env::var("CLEARANCE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let profile = tempfile::tempdir_in(self.profile.path()).expect("a fresh user-data-dir");
        let profile = profile.keep();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-dev-shm-usage",
                    "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::rustls()
            .expect("a rustls connector")
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a WebDriver session")
    }
}

/// Waits for the element `xpath` and returns it.
pub async fn wait(client: &Client, xpath: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|error| panic!("waiting for {xpath}: {error}"))
}

/// Waits for the page's `h1` to read `title`.
pub async fn wait_title(client: &Client, title: &str) {
    wait(
        client,
        &format!("//h1[normalize-space()={}]", literal(title)),
    )
    .await;
}

/// Waits for the success notice `text`.
pub async fn wait_notice(client: &Client, text: &str) {
    wait(
        client,
        &format!(
            "//p[contains(@class,'notice')][contains(normalize-space(), {})]",
            literal(text)
        ),
    )
    .await;
}

/// Clicks the button that reads `label`.
pub async fn click_button(client: &Client, label: &str) {
    wait(
        client,
        &format!("//button[normalize-space()={}]", literal(label)),
    )
    .await
    .click()
    .await
    .unwrap_or_else(|error| panic!("clicking {label}: {error}"));
}

/// Clicks the link whose text starts with `text`.
pub async fn click_link(client: &Client, text: &str) {
    wait(
        client,
        &format!("//a[starts-with(normalize-space(), {})]", literal(text)),
    )
    .await
    .click()
    .await
    .unwrap_or_else(|error| panic!("clicking {text}: {error}"));
}

/// Types `text` into the input labelled by id `id`.
pub async fn fill(client: &Client, id: &str, text: &str) {
    wait(client, &format!("//*[@id={}]", literal(id)))
        .await
        .send_keys(text)
        .await
        .unwrap_or_else(|error| panic!("typing into {id}: {error}"));
}

/// Signs in through the form as `login` and waits to land on `landing`'s h1.
pub async fn sign_in(client: &Client, server: &Server, login: &str, landing: &str) {
    client
        .goto(&server.at("/login"))
        .await
        .expect("the sign-in page");
    fill(client, "login", login).await;
    fill(client, "password", PASSWORD).await;
    click_button(client, "Sign in").await;
    wait_title(client, landing).await;
}

/// Signs out and waits for the sign-in form.
pub async fn sign_out(client: &Client) {
    click_button(client, "Sign out").await;
    wait_title(client, "Sign in").await;
}

/// `text` as an XPath string literal (it contains no double quote).
pub fn literal(text: &str) -> String {
    assert!(!text.contains('"'), "no double quotes in {text}");
    format!("\"{text}\"")
}
