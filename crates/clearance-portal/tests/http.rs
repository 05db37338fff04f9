//! The portal over a real socket with a cookie-keeping client: signing in and
//! out, the session cookie's attributes, CSRF refusals, the limit on failed
//! sign-ins, cross-tenant 404s, the console's gate and a write through a form.

mod common;

use common::{PASSWORD, Server};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

/// A client that keeps cookies and does not follow redirects.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// The value of the hidden input `name` in `html` (the first one).
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// Signs in through the form; returns the answer to the POST.
async fn sign_in(
    server: &Server,
    client: &reqwest::Client,
    login: &str,
    password: &str,
) -> reqwest::Response {
    let form = client
        .get(server.at("/login"))
        .send()
        .await
        .expect("GET /login")
        .text()
        .await
        .expect("the form");
    let csrf = hidden(&form, "csrf").expect("the sign-in form has a CSRF field");
    client
        .post(server.at("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", login),
            ("password", password),
        ])
        .send()
        .await
        .expect("POST /login")
}

async fn get(server: &Server, client: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let response = client.get(server.at(path)).send().await.expect("GET");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

#[tokio::test]
async fn a_partner_signs_in_and_lands_on_its_home_with_membership_locked() {
    let server = common::start().await;
    let client = client();
    let response = sign_in(&server, &client, "Alice@Contoso", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/t/contoso");
    let (status, home) = get(&server, &client, "/t/contoso").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Membership"), "{home}");
    assert!(home.contains("Why is Membership locked?"), "{home}");
    let (status, why) = get(&server, &client, "/t/contoso/why/membership").await;
    assert_eq!(status, StatusCode::OK);
    assert!(why.contains("enrollment is not Active"), "{why}");
    assert!(why.contains("is not Authorized"), "{why}");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_and_secure_only_over_tls() {
    let server = common::start().await;
    let response = sign_in(&server, &client(), "alice@contoso", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("clearance_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");

    let tls = common::start_with(clearance_portal::PortalOptions::for_public_url(
        "https://portal.example",
    ))
    .await;
    let response = sign_in(&tls, &client(), "alice@contoso", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("__Host-clearance_session="))
        .expect("a __Host- session cookie")
        .to_owned();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong() {
    let server = common::start().await;
    let client = client();
    let wrong = sign_in(&server, &client, "alice@contoso", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.expect("a body");
    let unknown = sign_in(&server, &client, "nobody@contoso", "not the password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.expect("a body");
    assert!(
        wrong.contains("The login or the password is wrong."),
        "{wrong}"
    );
    assert!(
        unknown.contains("The login or the password is wrong."),
        "{unknown}"
    );
    let (status, _) = get(&server, &client, "/t/contoso").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "no session after a failed sign-in"
    );
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_login_then_429_even_with_the_right_password() {
    let server = common::start().await;
    let client = client();
    for attempt in 1..=5 {
        let response = sign_in(&server, &client, "alice@contoso", "guess").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let blocked = sign_in(&server, &client, "alice@contoso", PASSWORD).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.headers().contains_key("retry-after"));
    let text = blocked.text().await.expect("a body");
    assert!(
        text.contains("Too many failed sign-ins for alice@contoso"),
        "{text}"
    );
    assert!(text.contains("try again in 15 minutes"), "{text}");
    // Another login is not affected.
    let other = sign_in(&server, &client, "frank@fabrikam", PASSWORD).await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_sign_in_without_its_csrf_token_is_refused() {
    let server = common::start().await;
    let response = client()
        .post(server.at("/login"))
        .form(&[("login", "alice@contoso"), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let server = common::start().await;
    let client = client();
    sign_in(&server, &client, "alice@contoso", PASSWORD).await;
    let (_, support) = get(&server, &client, "/t/contoso/support").await;
    let csrf = hidden(&support, "csrf").expect("the page's forms carry the token");
    for token in [None, Some("forged"), Some(&csrf[..csrf.len() - 1])] {
        let mut fields = vec![("subject", "Stuck"), ("body", "Pending for weeks")];
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let response = client
            .post(server.at("/t/contoso/support/cases"))
            .form(&fields)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
    }
    let state = server
        .service
        .tenant(&common::staff(), "contoso", None)
        .await
        .expect("contoso");
    assert!(state.cases.is_empty(), "a refused form opened a case");

    // With the token it works.
    let response = client
        .post(server.at("/t/contoso/support/cases"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("subject", "Stuck"),
            ("body", "Pending for weeks"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(
        location.starts_with("/t/contoso/support/cases/"),
        "{location}"
    );
    let (status, case) = get(&server, &client, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(case.contains("Support case opened."), "{case}");
    assert!(case.contains("Pending for weeks"), "{case}");
}

#[tokio::test]
async fn another_tenant_answers_the_same_404_as_a_tenant_that_does_not_exist() {
    let server = common::start().await;
    let client = client();
    sign_in(&server, &client, "alice@contoso", PASSWORD).await;
    let (status, other) = get(&server, &client, "/t/fabrikam/users").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, missing) = get(&server, &client, "/t/no-such-tenant/users").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(other, missing);
    for path in [
        "/t/fabrikam",
        "/t/fabrikam/account/legal-info",
        "/t/fabrikam/membership/offers",
    ] {
        let (status, body) = get(&server, &client, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("frank"), "{path} leaks the other tenant");
    }
    // A write into the other tenant, with a valid token of one's own, is a 404 too.
    let (_, page) = get(&server, &client, "/t/contoso/support").await;
    let csrf = hidden(&page, "csrf").expect("a token");
    let response = client
        .post(server.at("/t/fabrikam/support/cases"))
        .form(&[("csrf", csrf.as_str()), ("subject", "x"), ("body", "y")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let fabrikam = server
        .service
        .tenant(&common::staff(), "fabrikam", None)
        .await
        .expect("fabrikam");
    assert!(fabrikam.cases.is_empty());
}

#[tokio::test]
async fn the_console_is_for_staff_only() {
    let server = common::start().await;
    let partner = client();
    sign_in(&server, &partner, "alice@contoso", PASSWORD).await;
    let (status, _) = get(&server, &partner, "/ops/queue").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let staff = client();
    let response = sign_in(&server, &staff, "agent@support", PASSWORD).await;
    assert_eq!(response.headers()[LOCATION], "/ops/queue");
    let (status, queue) = get(&server, &staff, "/ops/queue").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains("href=\"/ops/tenants/contoso\""), "{queue}");
    assert!(queue.contains("Overdue"), "{queue}");
    let (status, tenant) = get(&server, &staff, "/ops/tenants/contoso").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        tenant.contains("Authorize Microsoft AI Cloud Partner Program"),
        "{tenant}"
    );
    assert!(tenant.contains("alice (partner user)"), "{tenant}");
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let server = common::start().await;
    let client = client();
    let response = sign_in(&server, &client, "alice@contoso", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("clearance_session="))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let (_, home) = get(&server, &client, "/t/contoso").await;
    let csrf = hidden(&home, "csrf").expect("the sign-out form's token");
    let response = client
        .post(server.at("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("POST /logout");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The old cookie, replayed by hand, no longer signs anyone in.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
        .get(server.at("/t/contoso"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert!(
        replay.headers()[LOCATION]
            .to_str()
            .expect("ASCII")
            .starts_with("/login")
    );
}

#[tokio::test]
async fn a_non_admin_user_sees_why_users_and_legal_info_are_closed() {
    let server = common::start().await;
    let client = client();
    sign_in(&server, &client, "bob@fabrikam", PASSWORD).await;
    let (status, page) = get(&server, &client, "/t/fabrikam/account/legal-info").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("You need permission"), "{page}");
    assert!(
        page.contains("Only a Global Admin or an Account admin"),
        "{page}"
    );
}

#[tokio::test]
async fn the_stylesheet_is_served_from_the_binary() {
    let server = common::start().await;
    let response = client()
        .get(server.at("/static/portal.css"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    assert!(
        response
            .text()
            .await
            .expect("css")
            .contains(":focus-visible")
    );
}

#[tokio::test]
async fn an_appeal_uploads_its_document_through_the_form_and_a_wrong_type_is_refused() {
    let server = common::start().await;
    common::build_showcase(&server.service).await;
    let client = client();
    sign_in(&server, &client, "nina@northwind", PASSWORD).await;
    let (status, page) = get(&server, &client, "/t/northwind/account/verification").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("2 of 3 left"), "{page}");
    let csrf = hidden(&page, "csrf").expect("a token");
    let appeal = |bytes: &'static [u8], name: &'static str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("document_type", "Business registration certificate")
            .part(
                "document",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            )
    };
    let refused = client
        .post(server.at("/t/northwind/account/verification/maicpp/appeal"))
        .multipart(appeal(b"GIF89a not accepted", "scan.pdf"))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let text = refused.text().await.expect("a body");
    assert!(
        text.contains("document must be a PDF, PNG or JPEG file"),
        "{text}"
    );
    let accepted = client
        .post(server.at("/t/northwind/account/verification/maicpp/appeal"))
        .multipart(appeal(
            b"%PDF-1.7\n% a real registration certificate\n%%EOF\n",
            "registration.pdf",
        ))
        .send()
        .await
        .expect("POST");
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let location = accepted.headers()[LOCATION]
        .to_str()
        .expect("ASCII")
        .to_owned();
    let (_, page) = get(&server, &client, &location).await;
    assert!(page.contains("Appeal submitted"), "{page}");
    let state = server
        .service
        .verification(&common::staff(), "northwind", "maicpp", None)
        .await
        .expect("the verification");
    assert_eq!((state.status.as_str(), state.appeals_used), ("pending", 2));
}

#[tokio::test]
async fn a_forged_buy_while_criteria_are_unmet_is_refused_with_the_reasons() {
    let server = common::start().await;
    let client = client();
    sign_in(&server, &client, "frank@fabrikam", PASSWORD).await;
    let (status, offers) = get(&server, &client, "/t/fabrikam/membership/offers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(offers.contains("Learn why Buy is disabled"), "{offers}");
    let csrf = hidden(&offers, "csrf").expect("a token");
    let response = client
        .post(server.at("/t/fabrikam/membership/offers/maicpp_core_benefits/buy"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let text = response.text().await.expect("a body");
    assert!(text.contains("Nothing was changed"), "{text}");
    assert!(
        text.contains("The payment profile is not complete."),
        "{text}"
    );
    assert!(text.contains("The tax profile is not complete."), "{text}");
    let state = server
        .service
        .tenant(&common::staff(), "fabrikam", None)
        .await
        .expect("fabrikam");
    assert!(state.memberships.is_empty());
}

#[tokio::test]
async fn adding_a_user_is_refused_with_the_reason_while_verification_is_not_authorized() {
    let server = common::start().await;
    let client = client();
    sign_in(&server, &client, "alice@contoso", PASSWORD).await;
    let (_, users) = get(&server, &client, "/t/contoso/users").await;
    assert!(
        users.contains("Adding users and changing roles is not possible now"),
        "{users}"
    );
    assert!(users.contains("<fieldset disabled"), "{users}");
    let csrf = hidden(&users, "csrf").expect("a token");
    let response = client
        .post(server.at("/t/contoso/users"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("user", "carl"),
            ("role", "referrals_admin"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let text = response.text().await.expect("a body");
    assert!(
        text.contains("roles cannot be changed while maicpp verification is pending"),
        "{text}"
    );
}

#[tokio::test]
async fn an_expired_session_signs_nobody_in_and_the_next_sign_in_deletes_it() {
    let server = common::start_with(clearance_portal::PortalOptions {
        session_lifetime: std::time::Duration::ZERO,
        housekeeping_every: std::time::Duration::ZERO,
        ..clearance_portal::PortalOptions::default()
    })
    .await;
    let response = sign_in(&server, &client(), "alice@contoso", PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the password was right"
    );
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("clearance_session="))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned();
    // Sent by hand: the server itself must refuse the expired session.
    let response = client()
        .get(server.at("/t/contoso"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/login?next=%2Ft%2Fcontoso");
    // The next sign-in's housekeeping deletes the expired session (and then starts its own,
    // which expires at once): only that newest one is left for a later clean-up.
    let again = sign_in(&server, &client(), "alice@contoso", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let now = jiff::Timestamp::now();
    let left = server
        .service
        .store()
        .prune(now, now)
        .await
        .expect("pruned");
    assert_eq!(
        left.tokens, 1,
        "the first expired session was already deleted"
    );
}

/// A refusal is explained once: for each refusal kind that has unmet
/// requirements (`denied`, `roles_frozen`), the API's error body for a command
/// lists exactly the requirements the portal's page lists for the same form.
#[tokio::test]
async fn the_api_and_the_portal_list_the_same_unmet_requirements_of_a_refusal() {
    use clearance_core::workflow::Command;
    use clearance_server::error::ApiError;

    let server = common::start().await;
    let client = client();
    let cases = [
        (
            "denied",
            "frank@fabrikam",
            "fabrikam",
            "frank",
            "/t/fabrikam/membership/offers/maicpp_core_benefits/buy",
            vec![],
            Command::BuyMembership {
                offer: "maicpp_core_benefits".to_owned(),
            },
        ),
        (
            "roles_frozen",
            "alice@contoso",
            "contoso",
            "alice",
            "/t/contoso/users",
            vec![("user", "carl"), ("role", "referrals_admin")],
            Command::AddUser {
                user: "carl".to_owned(),
                roles: vec!["referrals_admin".to_owned()],
            },
        ),
    ];
    for (code, login, tenant, user, path, fields, command) in cases {
        let principal = common::partner(tenant, user);
        let refused = server
            .service
            .execute(&principal, tenant, command, None)
            .await
            .expect_err("refused");
        let api = ApiError::explained(server.service.catalog(), refused).detail;
        assert_eq!(api.code, code);
        assert!(!api.unmet.is_empty(), "{code}: {api:?}");

        sign_in(&server, &client, login, PASSWORD).await;
        let (_, home) = get(&server, &client, &format!("/t/{tenant}")).await;
        let csrf = hidden(&home, "csrf").expect("a token");
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let page = client
            .post(server.at(path))
            .form(&form)
            .send()
            .await
            .expect("POST")
            .text()
            .await
            .expect("a body");
        assert_eq!(
            page.matches("class=\"reason\"").count(),
            api.unmet.len(),
            "{code}: {page}"
        );
        for unmet in &api.unmet {
            assert!(
                page.contains(&unmet.reason),
                "{code}: {}: {page}",
                unmet.requirement
            );
        }
    }
}
