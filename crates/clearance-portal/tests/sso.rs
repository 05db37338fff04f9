//! Single sign-on end to end: a real OpenID Provider (`oidc-provider` from
//! npm, configured by `tests/oidc/provider.mjs`) on loopback, the portal
//! configured with its issuers, and a real headless Chromium signing in on the
//! provider's own login page.
//!
//! The provider comes from `CLEARANCE_OIDC_PROVIDER` or the folder
//! `scripts/oidc-provider-install` fills; without it (or without node or
//! chromedriver) these tests print why and pass, except in CI (`CI=true`),
//! where they fail.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use clearance_portal::PortalOptions;
use clearance_portal::oidc::{OidcConfig, SsoOptions};
use common::Server;
use common::browser::{Driver, click_button, wait, wait_title};
use fantoccini::{Client, Locator};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The provider's folder (with `node_modules`), or `None` after saying why.
fn provider_dir() -> Option<PathBuf> {
    let in_ci = std::env::var("CI").is_ok_and(|ci| ci == "true");
    let skip = |why: String| {
        assert!(!in_ci, "CI must run the single sign-on tests: {why}");
        println!("skipped: {why}");
        None
    };
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return skip("node not found".to_owned());
    }
    let dir = match std::env::var_os("CLEARANCE_OIDC_PROVIDER") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let script = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../scripts/oidc-provider-install"
            );
            let text = std::fs::read_to_string(script).expect("the install script is readable");
            let version = text
                .lines()
                .find_map(|line| line.strip_prefix("OIDC_PROVIDER_VERSION="))
                .expect("the install script pins a version");
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
                .expect("HOME is set");
            cache
                .join("clearance")
                .join(format!("oidc-provider-{version}"))
        }
    };
    if !dir
        .join("node_modules/oidc-provider/package.json")
        .is_file()
    {
        return skip(format!(
            "oidc-provider not installed in {} (run scripts/oidc-provider-install)",
            dir.display()
        ));
    }
    Some(dir)
}

/// A running provider, killed when dropped.
struct Provider {
    url: String,
    _process: Child,
    _dir: tempfile::TempDir,
}

/// The accounts the provider knows: login → claims.
fn accounts() -> serde_json::Value {
    json!({
        "alice": {"email": "alice@contoso.com", "email_verified": true, "name": "Alice"},
        "carol": {"email": "carol@contoso.com", "email_verified": true},
        "fiona": {"email": "fiona@fabrikam.com", "email_verified": true, "groups": ["fabrikam-admins"]},
        "mallory": {"email": "mallory@northwind.example", "email_verified": true},
        "agent": {"email": "agent@operator.example", "email_verified": true},
        "sam": {"email": "sam@contoso.com", "email_verified": true, "groups": ["support"]},
    })
}

/// The clients, each with the issuer name clearance gives it.
const CLIENTS: [(&str, &str, Option<&str>); 4] = [
    ("partners", "clearance-partners", None),
    ("staff", "clearance-staff", None),
    (
        "elsewhere",
        "clearance-wrong-audience",
        Some("wrong_audience"),
    ),
    ("late", "clearance-expired", Some("expired")),
];

impl Provider {
    /// Starts the provider on `port` for the portal at `portal`, signing with
    /// a fresh key named `kid`.
    async fn start(dir: &std::path::Path, port: u16, portal: &str, kid: &str) -> Provider {
        let work = tempfile::tempdir().expect("a temporary directory");
        std::os::unix::fs::symlink(dir.join("node_modules"), work.path().join("node_modules"))
            .expect("node_modules is linked");
        let script = work.path().join("provider.mjs");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/provider.mjs"),
            &script,
        )
        .expect("the provider script is copied");
        let clients: Vec<_> = CLIENTS
            .iter()
            .map(|(issuer, client, mangle)| {
                json!({
                    "client_id": client,
                    "client_secret": format!("{client}-secret"),
                    "redirect_uris": [format!("{portal}/login/oidc/{issuer}/callback")],
                    "post_logout_redirect_uris": [format!("{portal}/login")],
                    "mangle": mangle,
                })
            })
            .collect();
        let mut process = Command::new("node")
            .arg(&script)
            .current_dir(work.path())
            .env("PROVIDER_PORT", port.to_string())
            .env("PROVIDER_CLIENTS", json!(clients).to_string())
            .env("PROVIDER_ACCOUNTS", accounts().to_string())
            .env("PROVIDER_KID", kid)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let mut lines = BufReader::new(process.stdout.take().expect("piped stdout")).lines();
        let listening = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "listening" {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(listening, Ok(true), "the provider did not start");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Provider {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
            _dir: work,
        }
    }
}

/// clearance's single sign-on configuration for the provider at `issuer_url`.
fn config_text(issuer_url: &str) -> String {
    let mut text = String::new();
    for (issuer, client, _) in CLIENTS {
        let audience = if issuer == "staff" {
            "staff"
        } else {
            "partner"
        };
        text.push_str(&format!(
            "[[issuer]]\nname = \"{issuer}\"\nlabel = \"Sign in with {issuer}\"\nurl = \"{issuer_url}\"\n\
             client_id = \"{client}\"\nclient_secret = \"{client}-secret\"\naudience = \"{audience}\"\n"
        ));
        if audience == "partner" {
            text.push_str(
                "tenant_email_domains = { \"contoso.com\" = \"contoso\", \"fabrikam.com\" = \"fabrikam\", \
                 \"northwind.example\" = \"northwind\" }\n\
                 staff_groups = { support = \"support_agent\" }\n\
                 role_groups = { fabrikam-admins = [\"global_admin\"] }\n\
                 jit = { fabrikam = [\"fabrikam.com\"] }\n",
            );
        }
    }
    text
}

/// A server with single sign-on through a fresh provider; `None` when skipped.
async fn start(local_accounts: bool) -> Option<(Driver, Provider, Server)> {
    start_with_dir(local_accounts)
        .await
        .map(|(driver, provider, server, _)| (driver, provider, server))
}

/// [`start`], also giving the provider's folder and port (to start it again).
async fn start_with_dir(
    local_accounts: bool,
) -> Option<(Driver, Provider, Server, (PathBuf, u16))> {
    let dir = provider_dir()?;
    let driver = Driver::start().await;
    let Some(driver) = driver else {
        assert!(
            !std::env::var("CI").is_ok_and(|ci| ci == "true"),
            "CI must run the single sign-on tests: chromedriver not found"
        );
        return None;
    };
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("an address").port()
    };
    let issuer_url = format!("http://127.0.0.1:{port}");
    let server = common::start_knowing_url(|url| {
        let config = OidcConfig::from_toml(
            "sso.toml",
            &config_text(&issuer_url),
            clearance_core::Catalog::partner_center(),
            |_| None,
        )
        .expect("the test configuration is valid");
        PortalOptions {
            sso: Some(SsoOptions::new(config, url).expect("a valid base")),
            local_accounts,
            ..PortalOptions::default()
        }
    })
    .await;
    let provider = Provider::start(&dir, port, &server.url, "key-1").await;
    assert_eq!(provider.url, issuer_url);
    Some((driver, provider, server, (dir, port)))
}

/// Signs in as `login` on the provider's own login page.
async fn provider_sign_in(browser: &Client, login: &str) {
    wait(browser, "//input[@name='login']")
        .await
        .send_keys(login)
        .await
        .expect("typed the login");
    wait(browser, "//input[@name='password']")
        .await
        .send_keys("any password")
        .await
        .expect("typed the password");
    click_button(browser, "Sign-in").await;
}

/// Starts a sign-in through `issuer` from clearance's sign-in page.
async fn choose_issuer(browser: &Client, server: &Server, issuer: &str) {
    browser
        .goto(&server.at("/login"))
        .await
        .expect("the sign-in page opens");
    wait_title(browser, "Sign in").await;
    browser
        .find(Locator::LinkText(&format!("Sign in with {issuer}")))
        .await
        .expect("the issuer's button")
        .click()
        .await
        .expect("clicked");
}

/// Signs out of clearance, then of the provider (RP-initiated logout, on the
/// provider's own confirmation page), back to clearance's sign-in page.
async fn sign_out_everywhere(browser: &Client, issuer: &str) {
    click_button(browser, "Sign out").await;
    wait_title(browser, "Signed out").await;
    browser
        .find(Locator::LinkText(&format!("Sign out of {issuer} too")))
        .await
        .expect("the provider's sign-out link")
        .click()
        .await
        .expect("clicked");
    click_button(browser, "Yes, sign me out").await;
}

/// Whether the browser is signed in to clearance: `/` leads elsewhere than the sign-in page.
async fn signed_in(browser: &Client, server: &Server) -> bool {
    browser.goto(&server.at("/")).await.expect("/ opens");
    let url = browser.current_url().await.expect("a URL");
    url.path() != "/login"
}

async fn users(server: &Server, tenant: &str) -> Vec<String> {
    let admin = clearance_server::Principal::Staff {
        id: "test".into(),
        role: clearance_core::workflow::SupportRole::SupportAdmin,
    };
    server
        .service
        .users(&admin, tenant, None)
        .await
        .expect("the tenant's users")
        .users
        .into_iter()
        .map(|user| user.id)
        .collect()
}

#[tokio::test]
async fn a_partner_and_a_support_agent_sign_in_through_the_provider_and_out_again() {
    let Some((driver, _provider, server)) = start(true).await else {
        return;
    };

    // A partner admin: the provider's login page, then the tenant's home.
    let browser = driver.browser(1280, 900).await;
    choose_issuer(&browser, &server, "partners").await;
    provider_sign_in(&browser, "alice").await;
    wait_title(&browser, "contoso — home").await;
    wait(&browser, "//*[contains(., 'alice@contoso')]").await;
    // Signing out ends clearance's session and, at the provider's own page, its session too.
    sign_out_everywhere(&browser, "partners").await;
    wait_title(&browser, "Sign in").await;
    assert!(!signed_in(&browser, &server).await, "the session ended");
    // The provider's session ended too: a new sign-in asks for the login again.
    choose_issuer(&browser, &server, "partners").await;
    provider_sign_in(&browser, "alice").await;
    wait_title(&browser, "contoso — home").await;
    browser.close().await.expect("the browser closes");

    // A support agent through the staff issuer lands on the console.
    let browser = driver.browser(1280, 900).await;
    choose_issuer(&browser, &server, "staff").await;
    provider_sign_in(&browser, "agent").await;
    wait_title(&browser, "Verification queue").await;
    sign_out_everywhere(&browser, "staff").await;
    wait_title(&browser, "Sign in").await;
    assert!(!signed_in(&browser, &server).await);
    browser.close().await.expect("the browser closes");

    // A partner issuer's member of a staff group is staff too.
    let browser = driver.browser(1280, 900).await;
    choose_issuer(&browser, &server, "partners").await;
    provider_sign_in(&browser, "sam").await;
    wait_title(&browser, "Verification queue").await;
    browser.close().await.expect("the browser closes");

    // Just-in-time linking: fabrikam allows fabrikam.com, so fiona is added
    // with the roles her group maps to, and lands on fabrikam's home.
    assert!(
        !users(&server, "fabrikam")
            .await
            .contains(&"fiona".to_owned())
    );
    let browser = driver.browser(1280, 900).await;
    choose_issuer(&browser, &server, "partners").await;
    provider_sign_in(&browser, "fiona").await;
    wait_title(&browser, "fabrikam — home").await;
    assert!(
        users(&server, "fabrikam")
            .await
            .contains(&"fiona".to_owned())
    );
    browser.close().await.expect("the browser closes");
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_when_a_token_names_it() {
    let Some((driver, provider, server, (dir, port))) = start_with_dir(true).await else {
        return;
    };
    let browser = driver.browser(1280, 900).await;
    choose_issuer(&browser, &server, "partners").await;
    provider_sign_in(&browser, "alice").await;
    wait_title(&browser, "contoso — home").await;
    browser.close().await.expect("the browser closes");
    // The provider comes back signing with a new key clearance has not seen.
    drop(provider);
    let _provider = loop {
        // The old process frees the port when it has exited.
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            break Provider::start(&dir, port, &server.url, "key-2").await;
        }
        tokio::task::yield_now().await;
    };
    let browser = driver.browser(1280, 900).await;
    choose_issuer(&browser, &server, "partners").await;
    provider_sign_in(&browser, "alice").await;
    wait_title(&browser, "contoso — home").await;
    browser.close().await.expect("the browser closes");
}

/// Signs in through `issuer` as `login` in a fresh browser and expects the
/// refusal page titled `title`; then checks no session was made.
async fn refused(driver: &Driver, server: &Server, issuer: &str, login: &str, title: &str) {
    let browser = driver.browser(1280, 900).await;
    choose_issuer(&browser, server, issuer).await;
    provider_sign_in(&browser, login).await;
    wait_title(&browser, title).await;
    assert!(!signed_in(&browser, server).await, "{title}: no session");
    browser.close().await.expect("the browser closes");
}

#[tokio::test]
async fn refusals_are_clear_pages_and_create_nothing() {
    let Some((driver, _provider, server)) = start(true).await else {
        return;
    };
    let contoso = users(&server, "contoso").await;

    refused(
        &driver,
        &server,
        "elsewhere",
        "alice",
        "Sign-in refused: token for another application",
    )
    .await;
    refused(
        &driver,
        &server,
        "late",
        "alice",
        "Sign-in refused: token expired",
    )
    .await;
    refused(
        &driver,
        &server,
        "partners",
        "mallory",
        "Unknown organisation",
    )
    .await;
    // contoso does not link users just in time: carol is not added.
    refused(
        &driver,
        &server,
        "partners",
        "carol",
        "No account for you here",
    )
    .await;
    assert_eq!(users(&server, "contoso").await, contoso, "nobody was added");
    // A partner is not staff on the staff issuer... every staff account is (no staff groups there).

    // A tampered state: the provider answers a state clearance never issued.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let started = http
        .get(server.at("/login/oidc/partners"))
        .send()
        .await
        .expect("a sign-in starts");
    let location = started
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .expect("a redirect to the provider")
        .to_owned();
    let mut authorization = url::Url::parse(&location).expect("a URL");
    let pairs: Vec<(String, String)> = authorization
        .query_pairs()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let state = pairs
        .iter()
        .find(|(key, _)| key == "state")
        .map(|(_, value)| value.clone())
        .expect("a state");
    let query = |state: &str| {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &pairs {
            serializer.append_pair(key, if key == "state" { state } else { value });
        }
        serializer.finish()
    };
    let browser = driver.browser(1280, 900).await;
    authorization.set_query(Some(&query(&format!("{state}x"))));
    browser
        .goto(authorization.as_str())
        .await
        .expect("the provider opens");
    provider_sign_in(&browser, "alice").await;
    wait_title(&browser, "Sign-in not recognised").await;
    assert!(!signed_in(&browser, &server).await);
    // The real state, but in a browser that did not start this sign-in (login CSRF).
    authorization.set_query(Some(&query(&state)));
    browser
        .goto(authorization.as_str())
        .await
        .expect("the provider opens");
    wait_title(&browser, "Sign-in not recognised").await;
    assert!(!signed_in(&browser, &server).await);
    browser.close().await.expect("the browser closes");
}

#[tokio::test]
async fn with_local_accounts_off_the_password_form_is_gone_and_refused() {
    let Some((_driver, _provider, server)) = start(false).await else {
        return;
    };
    let http = reqwest::Client::new();
    let page = http
        .get(server.at("/login"))
        .send()
        .await
        .expect("the sign-in page");
    // The form's double-submit token is still set: a POST that passes the CSRF
    // check is refused for being a password sign-in.
    let token = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|line| line.strip_prefix("clearance_login="))
        .and_then(|rest| rest.split(';').next())
        .expect("the sign-in form's cookie")
        .to_owned();
    let page = page.text().await.expect("a body");
    assert!(page.contains("/login/oidc/partners"), "{page}");
    assert!(!page.contains("name=\"password\""), "{page}");
    let refused = http
        .post(server.at("/login"))
        .header("cookie", format!("clearance_login={token}"))
        .form(&[
            ("csrf", token.as_str()),
            ("login", "alice@contoso"),
            ("password", common::PASSWORD),
        ])
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .expect("a body")
            .contains("Passwords are off")
    );
}
