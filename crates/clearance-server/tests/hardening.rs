//! The security review's API findings, over a real socket: metrics labels
//! clients cannot mint (F1), hardening headers and whole-document checks (F7),
//! out-of-range numbers as `invalid_input` (F8), the header-read timeout (F12),
//! the outer 413 in the error shape, and HSTS behind an https public URL.

mod common;

use std::time::Duration;

use clearance_server::server::{HttpLimits, start};
use common::Demo;
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_methods_do_not_mint_metrics_series() {
    let demo = Demo::start().await;
    let client = reqwest::Client::new();
    let minted: Vec<String> = (0..40).map(|n| format!("MINTED{n:04}X")).collect();
    for method in &minted {
        let method = Method::from_bytes(method.as_bytes()).expect("a valid method token");
        let response = client
            .request(method, demo.url("/healthz"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let metrics = client
        .get(demo.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for method in &minted {
        assert!(!metrics.contains(method.as_str()), "{method} is a label");
    }
    assert!(
        metrics.contains(r#"method="other""#),
        "extension methods are counted as `other`"
    );
    demo.stop().await;
}

/// The bytes `clearance serve --demo` stores as fabrikam's appeal document.
const DEMO_PDF: &[u8] = b"%PDF-1.4\n% clearance demo: business registration\n%%EOF\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_says_nosniff_and_documents_are_sandboxed_attachments() {
    let demo = Demo::start().await;
    let client = reqwest::Client::new();
    for (path, status) in [
        ("/healthz", StatusCode::OK),
        ("/openapi.json", StatusCode::OK),
        ("/v1/tenants/contoso/access", StatusCode::UNAUTHORIZED),
        ("/v1/nothing-here", StatusCode::UNAUTHORIZED),
    ] {
        let response = client.get(demo.url(path)).send().await.expect("an answer");
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
    let sha = clearance_server::auth::hex_sha256(DEMO_PDF);
    let response = client
        .get(demo.url(&format!("/v1/documents/{sha}")))
        .bearer_auth(demo.partner("fabrikam"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-disposition"], "attachment");
    assert_eq!(headers["content-security-policy"], "sandbox");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_png_html_polyglot_is_refused_naming_the_document() {
    let demo = Demo::start().await;
    let polyglot =
        b"\x89PNG\r\n\x1a\n<html><script>alert(document.cookie)</script></html>".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("document_type", "business_registration")
        .part(
            "document",
            reqwest::multipart::Part::bytes(polyglot).file_name("poly.png"),
        );
    let response = reqwest::Client::new()
        .post(demo.url("/v1/tenants/fabrikam/programs/maicpp/appeal"))
        .bearer_auth(demo.partner("fabrikam"))
        .multipart(form)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "invalid_input");
    assert_eq!(body["error"]["field"], "document");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_numbers_are_invalid_input_naming_the_field() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    for (path, field) in [
        (
            "/v1/tenants/contoso/events?after=9223372036854775808",
            "after",
        ),
        (
            "/v1/tenants/contoso/events?after=18446744073709551615",
            "after",
        ),
        ("/v1/tenants/contoso/events?limit=0", "limit"),
        ("/v1/tenants/contoso/events?limit=501", "limit"),
        ("/v1/tenants/contoso/events?limit=99999999999", "limit"),
        (
            "/v1/tenants/contoso/access?min_revision=18446744073709551615",
            "min_revision",
        ),
        (
            "/v1/tenants/contoso/legal-info?min_revision=2000000",
            "min_revision",
        ),
    ] {
        let (status, body) = demo.get(path, &alice).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_input", "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    // The largest `after` the store holds is fine (an empty page).
    let (status, body) = demo
        .get(
            "/v1/tenants/contoso/events?after=9223372036854775807",
            &alice,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["events"], serde_json::json!([]));
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_outer_limit_is_refused_in_the_error_shape() {
    let demo = Demo::start().await;
    // Only the head, announcing a body over the limit: the answer comes from
    // the announced length, before any of the body is sent.
    let mut stream = tokio::net::TcpStream::connect(demo.server.addr)
        .await
        .expect("connected");
    let head = format!(
        "POST /v1/check HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        demo.agent(),
        clearance_server::api::MAX_UPLOAD_BYTES + 1
    );
    stream.write_all(head.as_bytes()).await.expect("sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    assert!(
        answer.contains("x-content-type-options: nosniff"),
        "{answer}"
    );
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
    assert!(answer.contains(r#""code":"body_too_large""#), "{answer}");
    demo.stop().await;
}

/// Found by `fuzz_inputs::fuzz_paths_and_queries`: a `?` in a tenant id made
/// a POST path a GET-only one, and axum's own 405 had an empty body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_path_asked_with_another_method_answers_405_in_the_error_shape() {
    let demo = Demo::start().await;
    let response = reqwest::Client::new()
        .post(demo.url("/v1/tenants/contoso"))
        .bearer_auth(demo.admin())
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET,HEAD");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_one_header_line_a_second_is_cut_off() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let location = dir.path().join("clearance.db");
    let mut config = clearance_testkit::server::config(location.to_str().expect("UTF-8"));
    config.http = HttpLimits {
        header_read_timeout: Duration::from_secs(1),
        ..HttpLimits::default()
    };
    let server = start(config, |_| axum::Router::new())
        .await
        .expect("the server starts");
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connected");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .expect("sent");
    let (mut reader, mut writer) = stream.into_split();
    // One more header line each second, for up to 15 s; the head never ends.
    let dribble = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        for line in 0..15 {
            ticker.tick().await;
            if writer
                .write_all(format!("X-Slow-{line}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return line;
            }
        }
        15
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(12), reader.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "the connection was still open after 12 s of dribbled headers"
    );
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "{answer:?}"
    );
    dribble.abort();
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_only_when_asked_for() {
    for hsts in [false, true] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let location = dir.path().join("clearance.db");
        let mut config = clearance_testkit::server::config(location.to_str().expect("UTF-8"));
        config.hsts = hsts;
        let server = start(config, |_| axum::Router::new())
            .await
            .expect("the server starts");
        let response = reqwest::get(format!("{}/healthz", server.url()))
            .await
            .expect("an answer");
        assert_eq!(
            response
                .headers()
                .get("strict-transport-security")
                .map(|value| value.to_str().expect("ASCII").to_owned()),
            hsts.then(|| "max-age=31536000".to_owned())
        );
        server.shutdown().await.expect("a clean shutdown");
    }
}
