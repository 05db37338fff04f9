//! No panic from any input, on the portal: every POST route's urlencoded form
//! (sent with a live session and its CSRF token, so the fields reach the
//! handler), the appeal's multipart upload, and every page's path and query
//! (`next`, ids, revisions), through the real router in-process. Every answer
//! is a page or a redirect to a path on this site, never a 5xx but the
//! documented 503 (sign-ins beyond the password checks), with the security
//! headers. `scripts/fuzz N` runs many more cases in release mode.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use clearance_portal::PortalOptions;
use clearance_server::Principal;
use clearance_testkit::fuzz::app::{Answer, App};
use clearance_testkit::fuzz::{
    config, fuzzed_value, multipart, mutated, query, report, with_query,
};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::Value;

/// Cases per target in the ordinary `cargo test` run.
const CASES: u32 = 96;

/// The password the fuzzing's sign-ins get.
const PASSWORD: &str = "fuzzing horse battery staple";

/// fabrikam is rejected with an appeal left, so its appeal form reaches the workflow.
const TENANT: &str = "fabrikam";

/// Who a request is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// bob, fabrikam's admin.
    Partner,
    /// The demo's support agent.
    Staff,
    /// Nobody signed in.
    Anonymous,
}

/// A signed-in session: its cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

/// The demo with the portal, bob and the agent signed in, and a case of fabrikam.
struct Portal {
    app: App,
    partner: Session,
    staff: Session,
    case: String,
}

impl Portal {
    fn start() -> Portal {
        // A tight limit on failed sign-ins per client: past it, fuzzed sign-ins are refused
        // before their password is hashed (argon2id would make each case take tens of ms).
        let options = PortalOptions {
            sign_in_attempts: 3,
            sign_in_attempts_per_client: 6,
            ..PortalOptions::default()
        };
        let app = App::start(|service| clearance_portal::router_with(service, options));
        let bob = app
            .demo()
            .partners
            .iter()
            .find(|demo| matches!(&demo.principal, Principal::Partner { tenant, .. } if tenant == TENANT))
            .expect("fabrikam's admin")
            .clone();
        let agent = app.demo().support_agent.clone();
        for (login, principal) in [
            ("bob@fabrikam", &bob.principal),
            ("agent@support", &agent.principal),
        ] {
            app.block_on(clearance_portal::set_password(
                app.service(),
                login,
                principal,
                PASSWORD,
            ))
            .expect("the sign-in is stored");
        }
        let partner = sign_in(&app, "bob@fabrikam", &format!("/t/{TENANT}/support"));
        let staff = sign_in(&app, "agent@support", &format!("/ops/tenants/{TENANT}"));
        let opened = app.send(
            Request::post(format!("/v1/tenants/{TENANT}/cases"))
                .header(header::AUTHORIZATION, format!("Bearer {}", bob.token))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    r#"{"subject": "fuzz", "body": "a case the fuzzing comments on"}"#,
                ))
                .expect("a request"),
        );
        assert_eq!(opened.status, StatusCode::OK, "{:?}", opened.body);
        let cases = app.send(
            Request::get(format!("/v1/tenants/{TENANT}/cases"))
                .header(header::AUTHORIZATION, format!("Bearer {}", bob.token))
                .body(Body::empty())
                .expect("a request"),
        );
        let cases: Value = serde_json::from_slice(&cases.body).expect("JSON");
        let case = cases[0]["id"].as_str().expect("a case id").to_owned();
        Portal {
            app,
            partner,
            staff,
            case,
        }
    }

    fn session(&self, who: Who) -> Option<&Session> {
        match who {
            Who::Partner => Some(&self.partner),
            Who::Staff => Some(&self.staff),
            Who::Anonymous => None,
        }
    }

    /// Every POST route of the portal: its path, who sends it, and its valid fields.
    fn forms(&self) -> Vec<(String, Who, String)> {
        let partner = |path: &str, fields: &str| {
            (
                format!("/t/{TENANT}{path}"),
                Who::Partner,
                fields.to_owned(),
            )
        };
        let staff = |path: &str, fields: &str| {
            (
                format!("/ops/tenants/{TENANT}{path}"),
                Who::Staff,
                fields.to_owned(),
            )
        };
        let case = &self.case;
        vec![
            partner("/account/agreements/mpa/accept", "form_key=fuzz-1"),
            partner("/account/programs/maicpp/enroll", ""),
            partner("/account/programs/maicpp/submit", ""),
            partner("/account/profiles/payment", "complete=true"),
            partner(
                "/account/verification/maicpp/appeal",
                "document_type=business_registration",
            ),
            partner(
                "/membership/offers/maicpp_core_benefits/buy",
                "form_key=fuzz-2",
            ),
            partner("/membership/offers/maicpp_core_benefits/renew", ""),
            partner("/users", "user=fuzzed&role=developer"),
            partner(
                "/users/fuzzed/roles",
                "role=developer&role=global_admin&form_key=fuzz-3",
            ),
            partner(
                "/support/cases",
                "subject=fuzzed&body=a+fuzzed+case&program=maicpp",
            ),
            partner(
                &format!("/support/cases/{case}/comments"),
                "body=a+fuzzed+comment",
            ),
            staff("/programs/maicpp/start-review", ""),
            staff("/programs/maicpp/authorize", ""),
            staff("/programs/maicpp/reject", "reason=fuzzed"),
            staff(
                "/programs/maicpp/challenge",
                "reason=fuzzed&documents=invoice%2C+tax",
            ),
            staff(&format!("/cases/{case}/resolve"), "resolution=fuzzed"),
            staff(&format!("/cases/{case}/comments"), "body=a+fuzzed+comment"),
            // Sign-in and sign-out, without a session (so the fuzzing's own stay live).
            (
                "/login".to_owned(),
                Who::Anonymous,
                "login=bob%40fabrikam&password=wrong&next=%2Ft%2Ffabrikam".to_owned(),
            ),
            ("/logout".to_owned(), Who::Anonymous, String::new()),
        ]
    }

    /// A request as `who`, with its session cookie (and `/login`'s double-submit cookie).
    fn request(&self, method: Method, uri: &str, who: Who) -> axum::http::request::Builder {
        let mut cookies = vec!["clearance_login=fuzz-csrf".to_owned()];
        if let Some(session) = self.session(who) {
            cookies.push(session.cookie.clone());
        }
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, cookies.join("; "))
    }

    /// The CSRF token a form sent as `who` carries (`/login`'s double-submit value when anonymous).
    fn csrf(&self, who: Who) -> &str {
        self.session(who)
            .map_or("fuzz-csrf", |session| &session.csrf)
    }
}

/// Signs `login` in through `/login` and reads the CSRF token off `page`.
fn sign_in(app: &App, login: &str, page: &str) -> Session {
    let form = format!(
        "csrf=fuzz-csrf&login={}&password={}",
        login.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    let answer = app.send(
        Request::post("/login")
            .header(header::COOKIE, "clearance_login=fuzz-csrf")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .expect("a request"),
    );
    assert_eq!(
        answer.status,
        StatusCode::SEE_OTHER,
        "{login}: {:?}",
        answer.body
    );
    let cookie = answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("clearance_session="))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let answer = app.send(
        Request::get(page)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .expect("a request"),
    );
    let html = String::from_utf8_lossy(&answer.body);
    let csrf = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a form with a CSRF token on {page}: {html}"))
        .to_owned();
    Session { cookie, csrf }
}

/// What every portal answer must be: no 5xx but 503, the security headers,
/// and a redirect only to a path on this site.
fn assert_answer(sent: &str, answer: &Answer) -> Result<(), TestCaseError> {
    let status = answer.status.as_u16();
    prop_assert!(
        status < 500 || status == 503,
        "{sent}: {status} {}",
        String::from_utf8_lossy(&answer.body)
    );
    prop_assert_eq!(
        answer
            .headers
            .get("x-content-type-options")
            .map(|value| value.as_bytes()),
        Some(&b"nosniff"[..]),
        "{}: {}",
        sent,
        status
    );
    if answer.status.is_redirection() {
        let location = answer
            .headers
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        prop_assert!(
            location.starts_with('/')
                && !location.starts_with("//")
                && !location.starts_with("/\\"),
            "{sent}: redirected off the site to {location:?}"
        );
    }
    Ok(())
}

/// The form body: the CSRF token first, then the route's fields mutated; or
/// the whole form mutated (the token too); or arbitrary bytes.
fn form_body(csrf: &str, fields: &str) -> BoxedStrategy<Vec<u8>> {
    let valid = format!("csrf={csrf}&{fields}");
    let prefix = format!("csrf={csrf}&");
    prop_oneof![
        1 => Just(valid.clone().into_bytes()),
        6 => mutated(if fields.is_empty() { "form_key=fuzz" } else { fields })
            .prop_map(move |fields| format!("{prefix}{fields}").into_bytes()),
        1 => mutated(&valid).prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..300),
    ]
    .boxed()
}

#[test]
fn fuzz_portal_forms() {
    let portal = Portal::start();
    let forms = portal.forms();
    let bodies: Vec<BoxedStrategy<(usize, Vec<u8>)>> = forms
        .iter()
        .enumerate()
        .map(|(index, (_, who, fields))| {
            (Just(index), form_body(portal.csrf(*who), fields)).boxed()
        })
        .collect();
    let content_type = prop_oneof![
        6 => Just("application/x-www-form-urlencoded".to_owned()),
        1 => Just("application/x-www-form-urlencoded; charset=utf-8".to_owned()),
        1 => Just("text/plain".to_owned()),
        1 => "[ -~]{0,40}",
    ];
    // Mostly the route's own caller; sometimes the other session or none.
    let who = prop_oneof![6 => Just(None), 1 => Just(Some(Who::Partner)), 1 => Just(Some(Who::Staff)), 1 => Just(Some(Who::Anonymous))];
    let strategy = (proptest::strategy::Union::new(bodies), content_type, who);
    TestRunner::new(config(CASES))
        .run(&strategy, |((index, body), content_type, who)| {
            let (path, own, _) = &forms[index];
            let mut request = portal.request(Method::POST, path, who.unwrap_or(*own));
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                request = request.header(header::CONTENT_TYPE, value);
            }
            let answer = portal
                .app
                .send(request.body(Body::from(body)).expect("a request"));
            assert_answer(path, &answer)
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

#[test]
fn fuzz_portal_multipart_uploads() {
    let portal = Portal::start();
    let path = format!("/t/{TENANT}/account/verification/maicpp/appeal");
    let fields = [
        ("csrf", portal.partner.csrf.as_str()),
        ("document_type", "business_registration"),
    ];
    let strategy = (
        multipart(&fields, clearance_portal::MAX_UPLOAD_BYTES),
        prop_oneof![4 => Just(Who::Partner), 1 => Just(Who::Staff), 1 => Just(Who::Anonymous)],
    );
    TestRunner::new(config(CASES))
        .run(&strategy, |(upload, who)| {
            let (content_type, body) = upload.into_parts();
            let mut request = portal.request(Method::POST, &path, who);
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                request = request.header(header::CONTENT_TYPE, value);
            }
            let answer = portal
                .app
                .send(request.body(Body::from(body)).expect("a request"));
            assert_answer(&path, &answer)
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

#[test]
fn fuzz_portal_paths_and_queries() {
    let portal = Portal::start();
    let pages = [
        "/",
        "/login",
        "/t/{tenant}",
        "/t/{tenant}/why/{workspace}",
        "/t/{tenant}/account/legal-info",
        "/t/{tenant}/account/profiles",
        "/t/{tenant}/account/verification",
        "/t/{tenant}/membership",
        "/t/{tenant}/membership/offers",
        "/t/{tenant}/users",
        "/t/{tenant}/diagnosis",
        "/t/{tenant}/support",
        "/t/{tenant}/support/cases/{case}",
        "/t/{tenant}/{page}",
        "/ops",
        "/ops/queue",
        "/ops/tenants",
        "/ops/tenants/{tenant}",
        "/ops/cases",
    ];
    let valid = |name: &str| match name {
        "{tenant}" => TENANT.to_owned(),
        "{workspace}" => "membership".to_owned(),
        "{case}" => portal.case.clone(),
        "{page}" => "billing".to_owned(),
        other => other.to_owned(),
    };
    let paths: Vec<BoxedStrategy<String>> = pages
        .iter()
        .map(|page| {
            let segments: Vec<BoxedStrategy<String>> = page
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        fuzzed_value(valid(segment)).boxed()
                    } else {
                        Just(segment.to_owned()).boxed()
                    }
                })
                .collect();
            segments.prop_map(|segments| segments.join("/")).boxed()
        })
        .collect();
    let strategy = (
        proptest::strategy::Union::new(paths),
        query(
            &[
                "next",
                "notice",
                "after",
                "min_revision",
                "revision",
                "limit",
                "login",
            ],
            "/t/fabrikam",
        ),
        prop_oneof![Just(Who::Partner), Just(Who::Staff), Just(Who::Anonymous)],
    );
    TestRunner::new(config(CASES))
        .run(&strategy, |(path, query, who)| {
            let uri = with_query(&path, &query);
            // What a URI cannot hold never reaches the router (hyper refuses it).
            if axum::http::Uri::try_from(uri.as_str()).is_err() {
                return Ok(());
            }
            let answer = portal.app.send(
                portal
                    .request(Method::GET, &uri, who)
                    .body(Body::empty())
                    .expect("a request"),
            );
            assert_answer(&uri, &answer)
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

#[test]
fn fuzz_case_counts() {
    for target in [
        "portal_forms",
        "portal_multipart_uploads",
        "portal_paths_and_queries",
    ] {
        report(target, CASES);
    }
}
