//! No panic from any input: the document content check fuzzed with arbitrary bytes and with
//! byte mutations of accepted PDF and PNG files (it answers a media type or a typed refusal
//! naming the `document` field), and the HTTP API through its real router in-process: the JSON
//! body of every POST route, the upload route's multipart form, and every route's path and query
//! parameters, each answered with a documented status (never a 5xx but a documented 503) and
//! every refusal in the one error shape. `scripts/fuzz N` runs many more cases in release mode.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use clearance_core::Catalog;
use clearance_server::service::document_media_type;
use clearance_server::{Principal, ServiceError};
use clearance_testkit::fuzz::app::{Answer, App};
use clearance_testkit::fuzz::{
    config, fuzzed_value, multipart, mutated, query, report, with_query,
};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Value, json};

const CASES: u32 = 512;

const PDF: &[u8] = b"%PDF-1.4\n% clearance demo: business registration\n%%EOF\n";

/// A 1x1 PNG: signature, IHDR, IDAT, IEND with their CRCs.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// A valid document with bytes flipped, inserted, deleted or cut off.
fn mutated_document() -> impl Strategy<Value = Vec<u8>> {
    let base = prop_oneof![Just(PDF.to_vec()), Just(PNG.to_vec())];
    let edit = (any::<usize>(), any::<u8>(), 0..4u8);
    (base, proptest::collection::vec(edit, 1..6)).prop_map(|(mut bytes, edits)| {
        for (at, byte, kind) in edits {
            let at = at % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] ^= byte,
                1 => bytes.insert(at, byte),
                2 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn fuzz_document_content(bytes in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        mutated_document(),
    ]) {
        match document_media_type(&bytes) {
            Ok(media_type) => prop_assert!(
                ["application/pdf", "image/png", "image/jpeg"].contains(&media_type)
            ),
            Err(ServiceError::Invalid { field, .. }) => prop_assert_eq!(field, "document"),
            Err(other) => prop_assert!(false, "not a typed refusal: {other:?}"),
        }
    }
}

#[test]
fn the_fuzzed_documents_start_valid() {
    assert_eq!(document_media_type(PDF).ok(), Some("application/pdf"));
    assert_eq!(document_media_type(PNG).ok(), Some("image/png"));
}

#[test]
fn fuzz_case_counts() {
    report("document_content", CASES);
    for target in ["json_bodies", "multipart_uploads", "paths_and_queries"] {
        report(target, HTTP_CASES);
    }
}

// ---------------------------------------------------------------------------
// The HTTP surface, through the real router in-process: every POST route's JSON
// body, the upload route's multipart form, and every route's path and query.
// ---------------------------------------------------------------------------

/// Cases per HTTP target in the ordinary `cargo test` run.
const HTTP_CASES: u32 = 96;

/// The tenant every tenant route is asked about: fabrikam is rejected with an
/// appeal and its document, so its appeal route reaches the workflow.
const TENANT: &str = "fabrikam";

/// One operation of the OpenAPI document and the statuses it documents.
#[derive(Clone, Debug)]
struct Operation {
    method: Method,
    template: String,
    id: String,
    statuses: Vec<u16>,
}

/// Every operation of the document `/openapi.json` serves.
fn operations() -> Vec<Operation> {
    let document = clearance_server::api::openapi_for(Catalog::partner_center());
    let mut operations = Vec::new();
    for (template, methods) in document["paths"].as_object().expect("paths") {
        for (method, operation) in methods.as_object().expect("a path item") {
            let statuses = operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|status| status.parse().expect("a numeric status"))
                .collect();
            operations.push(Operation {
                method: method.to_uppercase().parse().expect("an HTTP method"),
                template: template.clone(),
                id: operation["operationId"]
                    .as_str()
                    .expect("an operationId")
                    .to_owned(),
                statuses,
            });
        }
    }
    operations
}

/// The demo behind the router, with the ids the requests need.
struct Api {
    app: App,
    /// Who asks: the support admin, fabrikam's admin, another tenant's admin, or nobody.
    tokens: [Option<String>; 4],
    /// A valid value of each path parameter, by name.
    ids: Vec<(&'static str, String)>,
    /// A token `revoke_token`'s body names (made for it).
    spare_token: String,
}

impl Api {
    fn start() -> Api {
        let app = App::start(|_| axum::Router::new());
        let admin = app.demo().support_admin.token.clone();
        let partner = |tenant: &str| {
            app.demo()
                .partners
                .iter()
                .find(|demo| matches!(&demo.principal, Principal::Partner { tenant: t, .. } if t == tenant))
                .map(|demo| demo.token.clone())
                .expect("a demo tenant")
        };
        let (bob, carol) = (partner(TENANT), partner("northwind"));
        let opened = app.send(json_request(
            Method::POST,
            &format!("/v1/tenants/{TENANT}/cases"),
            Some(&bob),
            br#"{"subject": "fuzz", "body": "a case the fuzzing comments on"}"#.to_vec(),
        ));
        assert_eq!(opened.status, StatusCode::OK, "{:?}", opened.body);
        let cases = app.send(get(&format!("/v1/tenants/{TENANT}/cases"), &bob));
        let cases: Value = serde_json::from_slice(&cases.body).expect("JSON");
        let case = cases[0]["id"].as_str().expect("a case id").to_owned();
        let summary = app.send(get(
            &format!("/v1/tenants/{TENANT}/verification/maicpp"),
            &admin,
        ));
        let summary: Value = serde_json::from_slice(&summary.body).expect("JSON");
        let document = summary["appeals"][0]["document"]
            .as_str()
            .expect("fabrikam's appeal document")
            .to_owned();
        let issued = app.send(json_request(
            Method::POST,
            "/v1/tokens",
            Some(&admin),
            format!(
                r#"{{"principal": {{"kind": "partner", "tenant": "{TENANT}", "user": "bob"}}}}"#
            )
            .into_bytes(),
        ));
        let issued: Value = serde_json::from_slice(&issued.body).expect("JSON");
        let spare_token = issued["token"].as_str().expect("a token").to_owned();
        Api {
            tokens: [Some(admin), Some(bob), Some(carol), None],
            ids: vec![
                ("tenant", TENANT.to_owned()),
                ("program", "maicpp".to_owned()),
                ("case", case),
                ("user", "bob".to_owned()),
                ("profile", "payment".to_owned()),
                ("agreement", "mpa".to_owned()),
                ("offer", "maicpp_core_benefits".to_owned()),
                ("sha256", document),
            ],
            spare_token,
            app,
        }
    }

    /// `template` with every parameter given its valid id.
    fn path(&self, template: &str) -> String {
        self.ids
            .iter()
            .fold(template.to_owned(), |path, (name, id)| {
                path.replace(&format!("{{{name}}}"), id)
            })
    }

    /// A valid JSON body of a POST operation (`None`: it takes no JSON body).
    fn valid_body(&self, id: &str) -> Option<Value> {
        let check = json!({"tenant": TENANT, "user": "bob", "action": "legal_info.view"});
        Some(match id {
            "check" => check,
            "check_batch" => json!({"checks": [check, check]}),
            "open_case" => json!({"subject": "fuzzed", "body": "a fuzzed case"}),
            "comment_case" => json!({"body": "a fuzzed comment"}),
            "resolve_case" => json!({"resolution": "fuzzed"}),
            "add_user" => json!({"user": "fuzzed", "roles": ["developer"]}),
            "change_roles" => json!({"op": "grant", "roles": ["developer"]}),
            "update_profile" => json!({"complete": true}),
            "update_capability_score" => json!({"score": 82}),
            "create_tenant" => {
                json!({"id": "fuzzed", "country": "US", "admin": "admin", "roles": ["global_admin"]})
            }
            "issue_token" => {
                json!({"principal": {"kind": "staff", "id": "fuzzed", "role": "support_agent"}})
            }
            "revoke_token" => json!({"token": self.spare_token}),
            "reject" => json!({"reason": "fuzzed"}),
            "challenge" => json!({"reason": "fuzzed", "documents": ["invoice"]}),
            "set_enrollment" => json!({"status": "active"}),
            _ => return None,
        })
    }

    /// The POST operations and the text of each one's valid body (`{}` for a bodiless one).
    fn posts(&self) -> Vec<(Operation, String)> {
        operations()
            .into_iter()
            .filter(|operation| operation.method == Method::POST)
            .map(|operation| {
                let body = self
                    .valid_body(&operation.id)
                    .map_or_else(|| "{}".to_owned(), |body| body.to_string());
                (operation, body)
            })
            .collect()
    }

    fn token(&self, caller: usize) -> Option<&str> {
        self.tokens[caller % self.tokens.len()].as_deref()
    }
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("a valid request")
}

fn json_request(method: Method, path: &str, token: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body)).expect("a valid request")
}

/// What every answer of the API must be, whatever was sent: no 5xx but a
/// documented 503 (the store or a revision not reached), a status the
/// operation documents (or, for a path that no longer matches a route, 404 or
/// 405), and every refusal in the one error shape.
fn assert_answer(
    operation: &Operation,
    answer: &Answer,
    path_fuzzed: bool,
) -> Result<(), TestCaseError> {
    let status = answer.status.as_u16();
    let text = String::from_utf8_lossy(&answer.body);
    prop_assert!(
        status < 500 || status == 503,
        "{} {}: {status} {text}",
        operation.method,
        operation.template
    );
    prop_assert!(
        operation.statuses.contains(&status) || (path_fuzzed && matches!(status, 404 | 405)),
        "{} {}: {status} is not documented ({:?}): {text}",
        operation.method,
        operation.template,
        operation.statuses
    );
    if status >= 400 {
        prop_assert_eq!(answer.content_type(), Some("application/json"), "{}", text);
        let body: Value = serde_json::from_slice(&answer.body)
            .map_err(|error| TestCaseError::fail(format!("not JSON ({error}): {text}")))?;
        prop_assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "not the error shape: {}",
            text
        );
        if status == 503 {
            prop_assert!(
                ["store_unavailable", "revision_not_reached"]
                    .contains(&body["error"]["code"].as_str().unwrap_or("")),
                "an undocumented 503: {}",
                text
            );
        }
    }
    Ok(())
}

/// A header value: mostly ones a client would send, sometimes anything
/// visible, control characters included where HTTP allows (tab).
fn header_text(usual: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => proptest::sample::select(usual).prop_map(|text| Some(text.to_owned())),
        1 => Just(None),
        1 => "[ -~\t]{0,80}".prop_map(Some),
        1 => "[a-zA-Z0-9-]{150,260}".prop_map(Some),
    ]
}

/// Idempotency keys: valid, absent, or not.
fn idempotency_key() -> impl Strategy<Value = Option<String>> {
    header_text(&[
        "fuzz-1",
        "fuzz-2",
        "a",
        "0123456789abcdef",
        "",
        " spaced key ",
    ])
}

#[test]
fn fuzz_json_bodies() {
    let api = Api::start();
    let posts = api.posts();
    let bodies: Vec<BoxedStrategy<(usize, Vec<u8>)>> = posts
        .iter()
        .enumerate()
        .map(|(index, (_, valid))| {
            (
                Just(index),
                prop_oneof![
                    1 => proptest::collection::vec(any::<u8>(), 0..300),
                    1 => Just(valid.clone().into_bytes()),
                    6 => mutated(valid).prop_map(String::into_bytes),
                ],
            )
                .boxed()
        })
        .collect();
    let content_types = header_text(&[
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ]);
    let strategy = (
        proptest::strategy::Union::new(bodies),
        0..4usize,
        content_types,
        idempotency_key(),
    );
    TestRunner::new(config(HTTP_CASES))
        .run(&strategy, |((index, body), caller, content_type, key)| {
            let (operation, _) = &posts[index];
            let mut request = Request::post(api.path(&operation.template));
            if let Some(token) = api.token(caller) {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            for (name, value) in [("content-type", &content_type), ("idempotency-key", &key)] {
                if let Some(value) = value
                    && let Ok(value) = HeaderValue::from_str(value)
                {
                    request = request.header(name, value);
                }
            }
            let answer = api
                .app
                .send(request.body(Body::from(body)).expect("a valid request"));
            assert_answer(operation, &answer, false)
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

#[test]
fn fuzz_multipart_uploads() {
    let api = Api::start();
    let operation = operations()
        .into_iter()
        .find(|operation| operation.id == "appeal")
        .expect("the appeal operation");
    let path = api.path(&operation.template);
    let fields = [("document_type", "business_registration")];
    let strategy = (
        multipart(&fields, clearance_server::api::MAX_UPLOAD_BYTES),
        0..4usize,
        idempotency_key(),
    );
    TestRunner::new(config(HTTP_CASES))
        .run(&strategy, |(upload, caller, key)| {
            let (content_type, body) = upload.into_parts();
            let mut request = Request::post(&path);
            if let Some(token) = api.token(caller) {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            for (name, value) in [
                ("content-type", Some(content_type)),
                ("idempotency-key", key),
            ] {
                if let Some(value) = value
                    && let Ok(value) = HeaderValue::from_str(&value)
                {
                    request = request.header(name, value);
                }
            }
            let answer = api
                .app
                .send(request.body(Body::from(body)).expect("a valid request"));
            assert_answer(&operation, &answer, false)
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

#[test]
fn fuzz_paths_and_queries() {
    let api = Api::start();
    let operations = operations();
    let requests: Vec<BoxedStrategy<(usize, String)>> = operations
        .iter()
        .enumerate()
        .map(|(index, operation)| {
            // Each segment is the valid one, or fuzzed when it is a parameter.
            let segments: Vec<BoxedStrategy<String>> = operation
                .template
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        fuzzed_value(api.path(segment)).boxed()
                    } else {
                        Just(segment.to_owned()).boxed()
                    }
                })
                .collect();
            (Just(index), segments)
                .prop_map(|(index, segments)| (index, segments.join("/")))
                .boxed()
        })
        .collect();
    let strategy = (
        proptest::strategy::Union::new(requests),
        query(
            &["after", "min_revision", "limit", "user", "program"],
            "bob",
        ),
        0..4usize,
    );
    TestRunner::new(config(HTTP_CASES))
        .run(&strategy, |((index, path), query, caller)| {
            let operation = &operations[index];
            let uri = with_query(&path, &query);
            // What a URI cannot hold never reaches the router (hyper refuses it).
            let Ok(uri) = axum::http::Uri::try_from(uri) else {
                return Ok(());
            };
            let mut request = Request::builder().method(operation.method.clone()).uri(uri);
            if let Some(token) = api.token(caller) {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let body = match api.valid_body(&operation.id) {
                Some(body) => {
                    request = request.header(header::CONTENT_TYPE, "application/json");
                    Body::from(body.to_string())
                }
                None => Body::empty(),
            };
            let answer = api.app.send(request.body(body).expect("a valid request"));
            assert_answer(operation, &answer, true)
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
