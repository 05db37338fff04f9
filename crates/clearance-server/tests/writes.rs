//! Writes are safe: idempotent retries, stale and concurrent writes, bad input
//! naming its field and changing nothing, document uploads checked by content,
//! the SLA sweep, and revisions a read can wait for.

mod common;

use common::Demo;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_with_the_same_key_returns_the_first_answer_and_applies_once() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let body =
        json!({"subject": "Vetting stuck", "program": "maicpp", "body": "Pending for 8 days."});
    let before = demo.trail("contoso").await.len();

    let first = demo
        .call(
            Method::POST,
            "/v1/tenants/contoso/cases",
            &alice,
            Some(body.clone()),
            Some("case-key-1"),
        )
        .await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let case = first.1["events"][0]["case"]
        .as_str()
        .expect("the case id")
        .to_owned();
    let retry = demo
        .call(
            Method::POST,
            "/v1/tenants/contoso/cases",
            &alice,
            Some(body.clone()),
            Some("case-key-1"),
        )
        .await;
    assert_eq!(
        retry, first,
        "the retry gets the first answer, revision included"
    );
    assert_eq!(
        demo.trail("contoso").await.len(),
        before + 1,
        "applied once"
    );

    // The same key with a different request is refused and changes nothing.
    let other = json!({"subject": "Something else", "body": "..."});
    let (status, refused) = demo
        .call(
            Method::POST,
            "/v1/tenants/contoso/cases",
            &alice,
            Some(other),
            Some("case-key-1"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    assert_eq!(refused["error"]["field"], "Idempotency-Key");

    // Keys are per principal: support may use the same key for its own request.
    let (status, _) = demo
        .call(
            Method::POST,
            &format!("/v1/tenants/contoso/cases/{case}/comments"),
            &demo.agent(),
            Some(json!({"body": "Looking into it."})),
            Some("case-key-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(demo.trail("contoso").await.len(), before + 2);
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_write_is_retried_from_fresh_state() {
    let demo = Demo::start().await;
    let case = open_case(&demo).await;
    let location = demo.dir.path().join("clearance.db");
    // Another "server" on the same database writes behind this one's back: this
    // server's cache does not hear of it (SQLite has no notifications).
    let other = clearance_store::Store::open(location.to_str().expect("UTF-8"))
        .await
        .expect("a second handle");
    let version = other.tenant_version("contoso").await.expect("a version");
    let sneaked = clearance_core::workflow::Event::CaseCommented {
        case: case.clone(),
        body: "Written by another server.".into(),
        by: "sam".into(),
    };
    other
        .append(
            "contoso",
            version,
            vec![clearance_store::NewEvent {
                kind: sneaked.name().into(),
                actor: r#"{"kind":"support","id":"sam","role":"support_agent"}"#.into(),
                payload: serde_json::to_value(&sneaked).expect("JSON"),
                recorded_at: jiff::Timestamp::now(),
            }],
            None,
        )
        .await
        .expect("the other server's write");
    other.close().await;

    // This server's write names the version it read, is refused as stale, and is
    // retried once from the fresh state: both writes are kept, in order.
    let (status, written) = demo
        .post(
            &format!("/v1/tenants/contoso/cases/{case}/comments"),
            &demo.partner("contoso"),
            json!({"body": "Any news?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{written}");
    assert_eq!(written["version"], version + 2);
    let (_, case) = demo
        .get(&format!("/v1/tenants/contoso/cases/{case}"), &demo.agent())
        .await;
    let bodies: Vec<&str> = case["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|comment| comment["body"].as_str().expect("body"))
        .collect();
    assert_eq!(
        bodies[bodies.len() - 2..],
        ["Written by another server.", "Any news?"]
    );
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_to_one_tenant_all_succeed_and_lose_nothing() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let case = open_case(&demo).await;
    let path = format!("/v1/tenants/contoso/cases/{case}/comments");
    let before = demo.trail("contoso").await.len();
    let writes = (0..12).map(|n| {
        let demo = &demo;
        let alice = alice.clone();
        let path = path.clone();
        async move {
            demo.post(&path, &alice, json!({"body": format!("comment {n}")}))
                .await
        }
    });
    let answers = futures_join_all(writes).await;
    let mut versions = Vec::new();
    for (status, body) in &answers {
        // One server: writes to one tenant take turns, so none loses a race
        // and is refused with 409.
        assert_eq!(*status, StatusCode::OK, "{body}");
        versions.push(body["version"].as_u64().expect("version"));
    }
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(versions.len(), answers.len(), "each write its own version");
    let trail = demo.trail("contoso").await;
    assert_eq!(
        trail.len(),
        before + versions.len(),
        "exactly the acknowledged writes"
    );
    demo.stop().await;
}

/// Opens a support case for contoso as its admin; returns its id.
async fn open_case(demo: &Demo) -> String {
    let (status, opened) = demo
        .post(
            "/v1/tenants/contoso/cases",
            &demo.partner("contoso"),
            json!({"subject": "Vetting stuck", "program": "maicpp", "body": "Pending for 8 days."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    opened["events"][0]["case"]
        .as_str()
        .expect("the case id")
        .to_owned()
}

/// Runs futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => {
                        *result = Some(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(
        results
            .into_iter()
            .map(|result| result.expect("every future finished")),
    );
    outputs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_parameter_that_does_not_decode_is_named_in_the_error_shape() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let agent = demo.agent();
    let before = demo.trail("contoso").await.len();
    // `%FF` and `%C3%28` decode to bytes that are not UTF-8.
    let cases = [
        (
            Method::GET,
            "/v1/tenants/%FF/access?user=alice",
            &agent,
            "tenant",
        ),
        (Method::GET, "/v1/tenants/contoso/cases/%FF", &alice, "case"),
        (Method::GET, "/v1/documents/%FF", &agent, "sha256"),
        (
            Method::POST,
            "/v1/tenants/contoso/programs/%C3%28/submit",
            &alice,
            "program",
        ),
        (
            Method::POST,
            "/v1/tenants/%FF/programs/maicpp/authorize",
            &agent,
            "tenant",
        ),
        (
            Method::POST,
            "/v1/tenants/contoso/memberships/%FF/buy",
            &alice,
            "offer",
        ),
    ];
    for (method, path, token, field) in cases {
        let (status, answer) = demo.call(method.clone(), path, token, None, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_input", "{path}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{path}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("UTF-8"), "{path}: {answer}");
    }
    // A partner is still told about another tenant's path only what a missing
    // tenant would tell: 404, before the parameter is decoded.
    let (status, answer) = demo.get("/v1/tenants/%FF/access?user=alice", &alice).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["code"], "not_found");
    assert_eq!(demo.trail("contoso").await.len(), before, "nothing changed");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_the_field_and_changes_nothing() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let agent = demo.agent();
    let before = demo.trail("contoso").await.len();
    let cases = [
        (
            "/v1/check",
            json!({"tenant": "contoso", "action": "membership.view"}),
            StatusCode::BAD_REQUEST,
            "user",
        ),
        (
            "/v1/check",
            json!({"tenant": "contoso", "user": "alice", "action": "nope"}),
            StatusCode::BAD_REQUEST,
            "action",
        ),
        (
            "/v1/check",
            json!({"tenant": "contoso", "user": "alice", "action": "membership.view", "extra": 1}),
            StatusCode::BAD_REQUEST,
            "extra",
        ),
        (
            "/v1/check",
            json!({"tenant": "contoso", "user": "alice", "action": "membership.view", "min_revision": "x"}),
            StatusCode::BAD_REQUEST,
            "min_revision",
        ),
        (
            "/v1/tenants/contoso/cases",
            json!({"subject": "", "body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            "/v1/tenants/contoso/programs/maicpp/reject",
            json!({"reason": 5}),
            StatusCode::BAD_REQUEST,
            "reason",
        ),
        (
            "/v1/tenants/contoso/programs/maicpp/challenge",
            json!({"reason": "r", "documents": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "documents",
        ),
        (
            "/v1/tenants/contoso/capability-score",
            json!({"score": 101}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            "/v1/tenants/contoso/profiles/nope",
            json!({"complete": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "profile",
        ),
        (
            "/v1/tenants/contoso/programs/nope/enrollment",
            json!({"status": "active"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "program",
        ),
        (
            "/v1/tenants/contoso/programs/maicpp/enrollment",
            json!({"status": "dormant"}),
            StatusCode::BAD_REQUEST,
            "status",
        ),
    ];
    for (path, body, expected, field) in cases {
        let token = if path.contains("/programs/") || path.contains("capability") {
            &agent
        } else {
            &alice
        };
        let (status, answer) = demo.post(path, token, body.clone()).await;
        assert_eq!(status, expected, "{path} {body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{path} {body}: {answer}");
    }
    let (status, answer) = demo.get("/v1/tenants/contoso/events?limit=0", &agent).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["field"], "limit");
    for (path, field) in [
        ("/v1/tenants/contoso/cases/case-99", "case"),
        ("/v1/tenants/contoso/access?user=nobody", "user"),
        ("/v1/tenants/contoso/verification/nope", "program"),
    ] {
        let (status, answer) = demo.get(path, &alice).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer["error"]["field"], field, "{path}");
    }
    let (status, answer) = demo
        .get("/v1/tenants/contoso/access?usr=alice", &alice)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["field"], "usr");

    // A body that is not JSON at all.
    let response = reqwest::Client::new()
        .post(demo.url("/v1/check"))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A JSON body over the 64 KiB limit.
    let big = json!({"subject": "big", "body": "x".repeat(70 * 1024)});
    let (status, answer) = demo.post("/v1/tenants/contoso/cases", &alice, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(demo.trail("contoso").await.len(), before, "nothing changed");
    demo.stop().await;
}

async fn upload(
    demo: &Demo,
    token: &str,
    tenant: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let form = reqwest::multipart::Form::new()
        .text("document_type", "business_registration")
        .part(
            "document",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        );
    let response = reqwest::Client::new()
        .post(demo.url(&format!("/v1/tenants/{tenant}/programs/maicpp/appeal")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appeals_accept_only_pdf_png_and_jpeg_by_content() {
    let demo = Demo::start().await;
    let bob = demo.partner("fabrikam");
    let before = demo.trail("fabrikam").await.len();

    // A GIF named like a PDF is refused by its content, and nothing changes.
    let (status, answer) = upload(
        &demo,
        &bob,
        "fabrikam",
        "registration.pdf",
        b"GIF89a....".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["field"], "document");
    // Over 10 MiB.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let (status, answer) = upload(&demo, &bob, "fabrikam", "big.pdf", big).await;
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::PAYLOAD_TOO_LARGE,
        "{status} {answer}"
    );
    assert_eq!(demo.trail("fabrikam").await.len(), before);

    // A PNG named .txt is accepted by its content; the appeal references it.
    // A whole 1x1 PNG: signature, IHDR and IEND with their CRCs.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\0\0\0\0\x3a\x7e\x9b\x55\
                \0\0\0\0IEND\xae\x42\x60\x82"
        .to_vec();
    let sha = clearance_server::auth::hex_sha256(&png);
    let (status, answer) = upload(&demo, &bob, "fabrikam", "scan.txt", png.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["events"][0]["type"], "appeal_submitted");
    assert_eq!(answer["events"][0]["document"], sha.as_str());
    let response = reqwest::Client::new()
        .get(demo.url(&format!("/v1/documents/{sha}")))
        .bearer_auth(&bob)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        png.as_slice()
    );
    let (_, summary) = demo
        .get("/v1/tenants/fabrikam/verification/maicpp", &bob)
        .await;
    assert_eq!(summary["status"], "pending");
    assert_eq!(summary["appeals_used"], 2);
    assert_eq!(summary["appeals_left"], 1);

    // Pending now: another appeal is refused by its catalog gate first, naming
    // the unmet requirement (an appealable verification) and who can fix it.
    let (status, answer) = upload(
        &demo,
        &bob,
        "fabrikam",
        "again.pdf",
        b"%PDF-1.4 again\n%%EOF\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["code"], "denied");
    assert_eq!(
        answer["error"]["unmet"][0]["requirement"], "maicpp_verification_appealable",
        "{answer}"
    );
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_marks_an_overdue_verification_once_and_opens_one_case() {
    let demo = Demo::start().await;
    let service = &demo.server.service;
    let first = service.sweep(jiff::Timestamp::now()).await;
    assert_eq!(first.marked, [("contoso".to_owned(), "maicpp".to_owned())]);
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    let second = service.sweep(jiff::Timestamp::now()).await;
    assert!(
        second.marked.is_empty() && second.failed.is_empty(),
        "{second:?}"
    );

    let (_, cases) = demo.get("/v1/cases", &demo.agent()).await;
    let system_cases: Vec<_> = cases
        .as_array()
        .expect("cases")
        .iter()
        .filter(|case| case["opened_by"] == "system")
        .collect();
    assert_eq!(system_cases.len(), 1);
    assert_eq!(system_cases[0]["tenant"], "contoso");
    let trail = demo.trail("contoso").await;
    let marked: Vec<_> = trail
        .iter()
        .filter(|e| e["type"] == "marked_overdue")
        .collect();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0]["actor"], json!({"kind": "system"}));

    // The queue shows it overdue, most business days first.
    let (_, queue) = demo.get("/v1/verification-queue", &demo.agent()).await;
    let queue = queue.as_array().expect("queue");
    let elapsed: Vec<u64> = queue
        .iter()
        .map(|entry| entry["business_days_elapsed"].as_u64().expect("days"))
        .collect();
    assert!(
        elapsed.windows(2).all(|pair| pair[0] >= pair[1]),
        "{elapsed:?}"
    );
    let contoso = queue
        .iter()
        .find(|entry| entry["tenant"] == "contoso")
        .expect("contoso queued");
    assert_eq!(contoso["overdue"], true);
    assert_eq!(contoso["business_days_elapsed"], 8);
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_waits_for_its_revision_then_gives_up_with_503() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let revision = demo.server.service.revision();
    let (status, _) = demo
        .get(
            &format!("/v1/tenants/contoso/access?min_revision={revision}"),
            &alice,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = demo
        .get(
            &format!(
                "/v1/tenants/contoso/access?min_revision={}",
                revision + 1000
            ),
            &alice,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer["error"]["code"], "revision_not_reached");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_decisions_and_the_cache() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let (status, _) = demo
        .post(
            "/v1/check",
            &alice,
            json!({"tenant": "contoso", "user": "alice", "action": "membership.view"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = reqwest::get(demo.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for needle in [
        "clearance_http_requests_total{route=\"/v1/check\",method=\"POST\",status=\"200\"}",
        "clearance_decisions_total{allowed=\"false\"}",
        "clearance_cache_tenants 5",
        "clearance_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_answers_as_the_write_would_and_writes_nothing() {
    use clearance_core::workflow::Command;
    use clearance_server::Principal;

    let demo = Demo::start().await;
    let service = &demo.server.service;
    let alice = Principal::Partner {
        tenant: "contoso".to_owned(),
        user: "alice".to_owned(),
    };
    let before = demo.trail("contoso").await.len();
    let add = Command::AddUser {
        user: "carl".to_owned(),
        roles: Vec::new(),
    };
    let preview = service
        .preview(&alice, "contoso", &add)
        .expect("contoso is alice's");
    let refusal = preview.refusal.expect("roles are frozen while pending");
    assert!(!preview.allowed);
    assert_eq!(refusal.code, "roles_frozen");
    assert_eq!(
        refusal
            .unmet
            .iter()
            .map(|unmet| unmet.requirement.as_str())
            .collect::<Vec<_>>(),
        ["maicpp_verification_authorized"]
    );
    let written = service
        .execute(&alice, "contoso", add, None)
        .await
        .expect_err("refused as previewed");
    assert_eq!(written.to_string(), refusal.message);

    let case = Command::OpenCase {
        subject: "Vetting stuck".to_owned(),
        program: None,
        body: "Pending for 8 days.".to_owned(),
    };
    let preview = service
        .preview(&alice, "contoso", &case)
        .expect("reachable");
    assert_eq!((preview.allowed, preview.refusal), (true, None));
    assert_eq!(demo.trail("contoso").await.len(), before, "nothing written");
    assert!(matches!(
        service.preview(&alice, "fabrikam", &case),
        Err(clearance_server::ServiceError::NotFound { what: "tenant", .. })
    ));
}
