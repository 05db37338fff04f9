//! The security review's portal findings over a real socket: a parallel burst
//! of sign-ins is counted before any password is checked (F2), password checks
//! beyond the free slots are 503 without hashing (F3), a multipart body is
//! refused unread off the appeal route or without a session (F6), and a `next`
//! with a control character lands on the start page (F9).

mod common;

use std::time::Duration;

use clearance_portal::PortalOptions;
use common::{PASSWORD, Server};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Posts the sign-in form with a double-submit token the test chose, as a
/// script would (any matching cookie and field pass the CSRF check).
async fn post_sign_in(base: &str, login: &str, password: &str, next: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
        .post(format!("{base}/login"))
        .header("cookie", "clearance_login=abc")
        .form(&[
            ("csrf", "abc"),
            ("login", login),
            ("password", password),
            ("next", next),
        ])
        .send()
        .await
        .expect("POST /login")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parallel_burst_checks_at_most_the_limit_and_refuses_the_right_password() {
    // Enough password-check slots that only the sign-in limit refuses.
    let server = common::start_with(PortalOptions {
        concurrent_password_checks: 64,
        ..PortalOptions::default()
    })
    .await;
    let mut burst = tokio::task::JoinSet::new();
    for n in 0..20 {
        let url = server.url.clone();
        burst.spawn(async move {
            post_sign_in(&url, "bob@fabrikam", &format!("wrong-guess-{n}"), "")
                .await
                .status()
        });
    }
    // Once one answer is in (or all are), the right password joins the burst.
    let mut statuses = Vec::new();
    while let Some(status) = burst.join_next().await {
        statuses.push(status.expect("the request task"));
        if statuses.contains(&StatusCode::TOO_MANY_REQUESTS) {
            break;
        }
    }
    let right = post_sign_in(&server.url, "bob@fabrikam", PASSWORD, "").await;
    while let Some(status) = burst.join_next().await {
        statuses.push(status.expect("the request task"));
    }
    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|status| **status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (5, 15), "{statuses:?}");
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_without_a_free_password_check_slot_is_503_unhashed_and_uncounted() {
    let server = common::start_with(PortalOptions {
        concurrent_password_checks: 0,
        ..PortalOptions::default()
    })
    .await;
    let response = post_sign_in(&server.url, "bob@fabrikam", PASSWORD, "").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    // The portal's headers hold on its error pages too.
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ASCII");
    assert!(
        csp.starts_with("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let page = response.text().await.expect("a page");
    assert!(page.contains("Try again"), "{page}");
    let counted = server
        .service
        .store()
        .sign_in_failures("bob@fabrikam", jiff::Timestamp::UNIX_EPOCH)
        .await
        .expect("read");
    assert!(counted.is_empty(), "{counted:?}");
}

/// Sends a multipart POST's head announcing a 10 MB body, and none of the body;
/// returns the answer's status line, or `None` if there is none within 10 s
/// (the server is waiting for the body).
async fn status_without_sending_the_body(
    server: &Server,
    path: &str,
    cookie: &str,
) -> Option<String> {
    let address = server.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connected");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: multipart/form-data; boundary=XX\r\n\
         Content-Length: 10000000\r\nCookie: {cookie}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("sent");
    let mut answer = vec![0; 512];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer)).await;
    let read = read.ok()?.expect("read");
    let text = String::from_utf8_lossy(&answer[..read]).into_owned();
    text.lines().next().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_body_is_refused_unread_off_the_appeal_route_or_without_a_session() {
    let server = common::start().await;
    for (path, cookie) in [
        ("/login", "clearance_login=abc"),
        ("/nothing-here", "a=b"),
        ("/t/fabrikam/account/verification/maicpp/appeal", "a=b"),
    ] {
        assert_eq!(
            status_without_sending_the_body(&server, path, cookie)
                .await
                .as_deref(),
            Some("HTTP/1.1 403 Forbidden"),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_with_a_control_character_lands_on_the_start_page() {
    let server = common::start().await;
    for next in ["/t/fabrikam/\u{1}", "/t/fabrikam/\u{7f}"] {
        let response = post_sign_in(&server.url, "bob@fabrikam", PASSWORD, next).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(response.headers()[LOCATION], "/t/fabrikam", "{next:?}");
    }
}

/// The `clearance_session=…` pair a sign-in answer sets.
fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("clearance_session="))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// F4: the demo's sign-ins used to keep working after the same data was served
/// without `--demo`. Now such a start deletes them and ends their sessions, and
/// keeps the sign-ins made otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_the_demo_ends_the_demo_sign_ins_and_their_sessions() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let location = dir.path().join("clearance.db");
    let mut config = clearance_server::ServeConfig::new(
        "127.0.0.1:0".parse().expect("an address"),
        location.to_str().expect("UTF-8"),
        std::sync::Arc::new(clearance_core::Catalog::partner_center().clone()),
    );
    config.sweep_interval = None;
    config.demo = true;
    let portal = |service| clearance_portal::router_with(service, PortalOptions::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let page = |url: String, cookie: String| {
        let client = client.clone();
        async move {
            client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .expect("an answer")
                .status()
        }
    };

    let server = clearance_server::start(config.clone(), portal)
        .await
        .expect("the demo starts");
    let logins = clearance_portal::seed_demo_logins(&server.service)
        .await
        .expect("the demo sign-ins");
    let alice = logins
        .iter()
        .find(|login| login.login == "alice@contoso")
        .expect("alice's demo sign-in");
    clearance_portal::set_password(
        &server.service,
        "alice.lasting@contoso",
        &common::partner("contoso", "alice"),
        PASSWORD,
    )
    .await
    .expect("a lasting sign-in");
    let signed_in = post_sign_in(&server.url(), "alice@contoso", &alice.password, "").await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = session_cookie(&signed_in);
    let home = format!("{}/t/contoso", server.url());
    assert_eq!(page(home, session.clone()).await, StatusCode::OK);
    server.shutdown().await.expect("a clean shutdown");

    config.demo = false;
    let server = clearance_server::start(config, portal)
        .await
        .expect("the data is served without the demo");
    let refused = post_sign_in(&server.url(), "alice@contoso", &alice.password, "").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let home = format!("{}/t/contoso", server.url());
    assert_eq!(
        page(home, session).await,
        StatusCode::SEE_OTHER,
        "the demo sign-in's session ended: back to the sign-in page"
    );
    let lasting = post_sign_in(&server.url(), "alice.lasting@contoso", PASSWORD, "").await;
    assert_eq!(
        lasting.status(),
        StatusCode::SEE_OTHER,
        "a lasting sign-in is kept"
    );
    server.shutdown().await.expect("a clean shutdown");
}
