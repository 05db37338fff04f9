//! The authorization matrix: every operation of the OpenAPI document, asked by
//! every kind of caller (anonymous, a partner of another tenant, a partner
//! without roles, one user per catalog role, the tenant's primary contact, the
//! support agent and the support admin), answers the status the gates and
//! SECURITY.md promise.
//!
//! The operations come from the document, so a new route fails this test until
//! it has a request ([`request`]) and an expectation ([`expect`]). Every
//! mismatch is named at once, as `METHOD path as CALLER: expected X, got Y`.
//!
//! The tenant is woodgrove (authorized and healthy; erin is its primary contact
//! and global admin). Reads run before writes, and the writes chosen either
//! change nothing the later rows depend on (a new case, a new user, a granted
//! role on a user made for it) or are refused by the state (a program that is
//! already authorized, enrolled, and its membership bought), so the answers are
//! the same at every run.

mod common;

use std::collections::BTreeSet;
use std::fmt;

use clearance_core::Catalog;
use common::Demo;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The tenant every tenant route is asked about.
const TENANT: &str = "woodgrove";

/// The tenant's primary contact (and global admin), as the demo seeds it.
const PRIMARY_CONTACT: &str = "erin";

/// The user whose roles `change_roles` grants: made for it, so no caller's
/// own roles change under the rows that follow.
const TARGET_USER: &str = "matrix_target";

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    /// No `Authorization` header.
    Anonymous,
    /// bob, the admin of fabrikam, asking about woodgrove.
    OtherTenant,
    /// A woodgrove user holding no role.
    NoRoles,
    /// A woodgrove user holding just this catalog role.
    Role(&'static str),
    /// erin, woodgrove's primary contact (global admin and MAICPP partner admin).
    PrimaryContact,
    /// sam, a support agent.
    Agent,
    /// ada, a support admin.
    Admin,
}

impl Caller {
    /// A short name usable inside ids (user ids, tenant ids).
    fn slug(self) -> String {
        match self {
            Caller::Anonymous => "anonymous".into(),
            Caller::OtherTenant => "other_tenant".into(),
            Caller::NoRoles => "no_roles".into(),
            Caller::Role(role) => format!("role_{role}"),
            Caller::PrimaryContact => "primary_contact".into(),
            Caller::Agent => "agent".into(),
            Caller::Admin => "admin".into(),
        }
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Anonymous => write!(f, "anonymous"),
            Caller::OtherTenant => write!(f, "bob@fabrikam (another tenant)"),
            Caller::NoRoles => write!(f, "no_roles@{TENANT} (no roles)"),
            Caller::Role(role) => write!(f, "role_{role}@{TENANT} (just {role})"),
            Caller::PrimaryContact => write!(f, "{PRIMARY_CONTACT}@{TENANT} (primary contact)"),
            Caller::Agent => write!(f, "sam (support agent)"),
            Caller::Admin => write!(f, "ada (support admin)"),
        }
    }
}

/// A request's body.
enum Body {
    /// No body.
    Empty,
    /// A JSON body.
    Json(Value),
    /// The appeal's multipart form: a document type and a small PDF.
    Appeal,
}

/// What the rows need from the demo beyond its ids: found or made in setup.
struct Fixtures {
    /// An open support case of woodgrove.
    case: String,
    /// The SHA-256 of fabrikam's appeal document (the only tenant with one).
    document: String,
    /// A token issued for the matrix, which `revoke_token` revokes.
    spare_token: String,
}

/// The request each operation is asked with: a path of the demo's ids and a
/// minimal valid body. `None` for an operation nobody wrote a row for.
fn request(operation: &str, fixtures: &Fixtures, caller: Caller) -> Option<(String, Body)> {
    let slug = caller.slug();
    let tenant = format!("/v1/tenants/{TENANT}");
    let program = format!("{tenant}/programs/maicpp");
    let case = format!("{tenant}/cases/{}", fixtures.case);
    let check = json!({"tenant": TENANT, "user": PRIMARY_CONTACT, "action": "legal_info.view"});
    Some(match operation {
        // Reads. Decisions are asked about erin, so that another user of the
        // tenant goes through the `other_users` gate (and staff name a user).
        "check" => ("/v1/check".into(), Body::Json(check)),
        "check_batch" => (
            "/v1/check/batch".into(),
            Body::Json(json!({ "checks": [check] })),
        ),
        "access" => (
            format!("{tenant}/access?user={PRIMARY_CONTACT}"),
            Body::Empty,
        ),
        "diagnosis" => (
            format!("{tenant}/diagnosis?user={PRIMARY_CONTACT}"),
            Body::Empty,
        ),
        "legal_info" => (format!("{tenant}/legal-info"), Body::Empty),
        "verification" => (format!("{tenant}/verification/maicpp"), Body::Empty),
        "events" => (format!("{tenant}/events"), Body::Empty),
        "get_tenant" => (tenant, Body::Empty),
        "list_users" => (format!("{tenant}/users"), Body::Empty),
        "list_cases" => (format!("{tenant}/cases"), Body::Empty),
        "get_case" => (case, Body::Empty),
        "list_tenants" => ("/v1/tenants".into(), Body::Empty),
        "all_cases" => ("/v1/cases".into(), Body::Empty),
        "verification_queue" => ("/v1/verification-queue".into(), Body::Empty),
        "document" => (format!("/v1/documents/{}", fixtures.document), Body::Empty),
        // Writes that apply: each caller makes its own new thing.
        "open_case" => (
            format!("{tenant}/cases"),
            Body::Json(json!({"subject": "matrix", "body": format!("asked by {slug}")})),
        ),
        "comment_case" => (
            format!("{case}/comments"),
            Body::Json(json!({"body": format!("from {slug}")})),
        ),
        "add_user" => (
            format!("{tenant}/users"),
            Body::Json(json!({"user": format!("added_by_{slug}"), "roles": []})),
        ),
        // Removing the primary contact: refused by the state (409) once the gate
        // lets the caller through, so the fixture stays as it is.
        "remove_user" => (
            format!("{tenant}/users/{PRIMARY_CONTACT}/remove"),
            Body::Empty,
        ),
        "change_roles" => (
            format!("{tenant}/users/{TARGET_USER}/roles"),
            Body::Json(json!({"op": "grant", "roles": ["developer"]})),
        ),
        "update_profile" => (
            format!("{tenant}/profiles/payment"),
            Body::Json(json!({"complete": true})),
        ),
        "update_capability_score" => (
            format!("{tenant}/capability-score"),
            Body::Json(json!({"score": 82})),
        ),
        "create_tenant" => (
            "/v1/tenants".into(),
            Body::Json(json!({
                "id": format!("matrix-{}", slug.replace('_', "-")),
                "country": "US",
                "admin": "admin",
                "roles": ["global_admin"],
            })),
        ),
        "issue_token" => (
            "/v1/tokens".into(),
            Body::Json(
                json!({"principal": {"kind": "partner", "tenant": TENANT, "user": PRIMARY_CONTACT}}),
            ),
        ),
        "revoke_token" => (
            "/v1/tokens/revoke".into(),
            Body::Json(json!({"token": fixtures.spare_token})),
        ),
        // Writes the state refuses once the caller is let through: woodgrove is
        // authorized, enrolled, has accepted the MPA and bought the core
        // membership, and its enrollment is already active.
        "accept_agreement" => (format!("{tenant}/agreements/mpa/accept"), Body::Empty),
        "buy_membership" => (
            format!("{tenant}/memberships/maicpp_core_benefits/buy"),
            Body::Empty,
        ),
        "renew_membership" => (
            format!("{tenant}/memberships/maicpp_core_benefits/renew"),
            Body::Empty,
        ),
        "enroll" => (format!("{program}/enroll"), Body::Empty),
        "submit" => (format!("{program}/submit"), Body::Empty),
        "start_review" => (format!("{program}/start-review"), Body::Empty),
        "authorize" => (format!("{program}/authorize"), Body::Empty),
        "reject" => (
            format!("{program}/reject"),
            Body::Json(json!({"reason": "matrix"})),
        ),
        "challenge" => (
            format!("{program}/challenge"),
            Body::Json(json!({"reason": "matrix", "documents": ["invoice"]})),
        ),
        "set_enrollment" => (
            format!("{program}/enrollment"),
            Body::Json(json!({"status": "active"})),
        ),
        "escalate" => (format!("{program}/escalate"), Body::Empty),
        "appeal" => (format!("{program}/appeal"), Body::Appeal),
        "resolve_case" => (
            format!("{case}/resolve"),
            Body::Json(json!({"resolution": "matrix"})),
        ),
        _ => return None,
    })
}

/// How the catalog roles fare on one operation.
enum Roles {
    /// Every role alike.
    All(u16),
    /// The holders of one of `roles` get `yes`, the other roles `no`.
    Holding {
        roles: &'static [&'static str],
        yes: u16,
        no: u16,
    },
}

/// The statuses of one operation, by kind of caller.
struct Expect {
    anonymous: u16,
    other_tenant: u16,
    no_roles: u16,
    roles: Roles,
    primary_contact: u16,
    agent: u16,
    admin: u16,
}

impl Expect {
    fn status(&self, caller: Caller) -> u16 {
        match caller {
            Caller::Anonymous => self.anonymous,
            Caller::OtherTenant => self.other_tenant,
            Caller::NoRoles => self.no_roles,
            Caller::Role(role) => match &self.roles {
                Roles::All(status) => *status,
                Roles::Holding { roles, yes, no } => {
                    if roles.contains(&role) {
                        *yes
                    } else {
                        *no
                    }
                }
            },
            Caller::PrimaryContact => self.primary_contact,
            Caller::Agent => self.agent,
            Caller::Admin => self.admin,
        }
    }
}

/// `account_admin_role`: Legal Info, the tenant summary, the audit trail and
/// the verification summary.
const ACCOUNT_ADMINS: &[&str] = &["global_admin", "account_admin"];
/// `user_admin_role`: users, their roles, and decisions about another user.
const USER_ADMINS: &[&str] = &["global_admin", "user_management_admin", "account_admin"];
/// The vetting's `enroll_roles`: enrolling and submitting verification.
const ENROLLERS: &[&str] = &["global_admin", "maicpp_partner_admin"];
/// Who fixes the payment profile and accepts the MPA (`fixed_by` in the catalog).
const PAYMENT_FIXERS: &[&str] = &["global_admin", "account_admin"];
const MPA_FIXERS: &[&str] = &["global_admin"];

/// A tenant route gated for partners by a catalog action that `roles` pass:
/// anonymous 401, another tenant 404, without the role 403 `denied`, staff pass.
const fn gated(roles: &'static [&'static str], yes: u16) -> Expect {
    Expect {
        anonymous: 401,
        other_tenant: 404,
        no_roles: 403,
        roles: Roles::Holding {
            roles,
            yes,
            no: 403,
        },
        primary_contact: yes,
        agent: yes,
        admin: yes,
    }
}

/// A tenant route every user of the tenant passes (the support workspace).
const fn open_to_tenant(status: u16) -> Expect {
    Expect {
        anonymous: 401,
        other_tenant: 404,
        no_roles: status,
        roles: Roles::All(status),
        primary_contact: status,
        agent: status,
        admin: status,
    }
}

/// A route for staff only: partners 403 (`staff_only`, `support_only` or
/// `support_admin_only`), another tenant's partner 404 where the route names
/// the tenant.
const fn staff(other_tenant: u16, agent: u16, admin: u16) -> Expect {
    Expect {
        anonymous: 401,
        other_tenant,
        no_roles: 403,
        roles: Roles::All(403),
        primary_contact: 403,
        agent,
        admin,
    }
}

/// A tenant command for partners only (staff 403 `partner_only`), which the
/// holders of `roles` pass and the state then answers `yes`.
const fn partner_command(roles: &'static [&'static str], yes: u16, no: u16) -> Expect {
    Expect {
        anonymous: 401,
        other_tenant: 404,
        no_roles: no,
        roles: Roles::Holding { roles, yes, no },
        primary_contact: yes,
        agent: 403,
        admin: 403,
    }
}

/// The expected statuses of each operation: the spec, from the catalog's
/// `[gates]`, the workflow's rules and SECURITY.md. `None` for an operation
/// nobody wrote expectations for.
fn expect(operation: &str) -> Option<Expect> {
    Some(match operation {
        // A decision about another user needs the `other_users` gate
        // (users.view); about oneself, nothing.
        "check" | "access" | "diagnosis" => gated(USER_ADMINS, 200),
        // A batch answers each check's refusal in its own result.
        "check_batch" => Expect {
            other_tenant: 200,
            no_roles: 200,
            roles: Roles::All(200),
            ..gated(USER_ADMINS, 200)
        },
        "legal_info" | "get_tenant" | "events" | "verification" => gated(ACCOUNT_ADMINS, 200),
        "list_users" => gated(USER_ADMINS, 200),
        "list_cases" | "get_case" | "open_case" | "comment_case" => open_to_tenant(200),
        "list_tenants" | "all_cases" | "verification_queue" => staff(403, 200, 200),
        // fabrikam's document: bob's own tenant, not woodgrove's.
        "document" => Expect {
            other_tenant: 200,
            no_roles: 404,
            roles: Roles::All(404),
            primary_contact: 404,
            ..staff(200, 200, 200)
        },
        // add_user and manage_roles: users.manage_roles (user admins, vetting authorized).
        "add_user" | "change_roles" => gated(USER_ADMINS, 200),
        // remove_user: users.manage_roles too; the primary contact is kept (409).
        "remove_user" => gated(USER_ADMINS, 409),
        "update_profile" => Expect {
            no_roles: 403,
            roles: Roles::Holding {
                roles: PAYMENT_FIXERS,
                yes: 200,
                no: 403,
            },
            ..open_to_tenant(200)
        },
        "update_capability_score" => staff(404, 200, 200),
        "create_tenant" => staff(403, 403, 200),
        "issue_token" => staff(403, 403, 201),
        "revoke_token" => staff(403, 403, 204),
        // Already accepted: 409 once the role lets the partner through.
        "accept_agreement" => partner_command(MPA_FIXERS, 409, 403),
        // The membership is bought and not in its renewal window: the gate's
        // action (membership_offers.buy / .renew) denies every partner.
        "buy_membership" | "renew_membership" => partner_command(&[], 403, 403),
        // Enrolled and authorized: 409 once the role lets the caller through;
        // support may always.
        "enroll" | "submit" => Expect {
            agent: 409,
            admin: 409,
            ..partner_command(ENROLLERS, 409, 403)
        },
        // Support-only commands; the authorized, active program refuses them.
        "start_review" | "authorize" | "reject" | "challenge" | "set_enrollment" => {
            staff(404, 409, 409)
        }
        // The agent resolves the case first; the admin then finds it resolved.
        "resolve_case" => staff(404, 200, 409),
        // Escalate and appeal ask their catalog gate first, then the
        // workflow's state (as buy and renew do): the gate's refusal lists
        // every unmet requirement with who can fix it. Escalate's gate
        // (support.open_case) is open to all in this catalog, so the
        // authorized program's state answers 409 to every caller.
        "escalate" => open_to_tenant(409),
        // Appeal's gate (verification.appeal) needs an appealable verification,
        // so every partner is denied (403) on the authorized program, with the
        // unmet requirements; staff are refused first (403 partner_only).
        "appeal" => partner_command(&[], 403, 403),
        _ => return None,
    })
}

/// The callers, in the order each operation is asked: refusals first, so a
/// write that applies cannot change what a refused caller would see.
fn callers(catalog: &Catalog) -> Vec<Caller> {
    let mut callers = vec![Caller::Anonymous, Caller::OtherTenant, Caller::NoRoles];
    callers.extend(
        catalog
            .roles
            .iter()
            .map(|role| Caller::Role(leak(role.id.clone()))),
    );
    callers.extend([Caller::PrimaryContact, Caller::Agent, Caller::Admin]);
    callers
}

/// Role ids live for the whole test; leaking the handful keeps `Caller` `Copy`.
fn leak(id: String) -> &'static str {
    Box::leak(id.into_boxed_str())
}

/// One operation of the document.
struct Operation {
    method: Method,
    template: String,
    id: String,
}

/// Every (method, path, operationId) of the OpenAPI document, reads first.
fn operations() -> Vec<Operation> {
    let document = clearance_server::api::openapi();
    let mut operations: Vec<Operation> = document["paths"]
        .as_object()
        .expect("the document has paths")
        .iter()
        .flat_map(|(template, methods)| {
            methods.as_object().expect("a path item").iter().filter_map(
                move |(method, operation)| {
                    let id = operation.get("operationId")?.as_str()?.to_owned();
                    Some(Operation {
                        method: method.to_uppercase().parse().expect("an HTTP method"),
                        template: template.clone(),
                        id,
                    })
                },
            )
        })
        .collect();
    operations.sort_by_key(|operation| operation.method != Method::GET);
    operations
}

/// Does the concrete `path` (query aside) fill `template`?
fn fills(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (template, path): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

/// Sends one request; the status and the error code, if any.
async fn ask(
    demo: &Demo,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Body,
) -> (StatusCode, String) {
    let mut request = reqwest::Client::new().request(method, demo.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match body {
        Body::Empty => request,
        Body::Json(body) => request.json(&body),
        Body::Appeal => request.multipart(
            reqwest::multipart::Form::new()
                .text("document_type", "registration")
                .part(
                    "document",
                    reqwest::multipart::Part::bytes(b"%PDF-1.4 matrix\n%%EOF\n".to_vec())
                        .file_name("registration.pdf"),
                ),
        ),
    };
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    let code = answer["error"]["code"].as_str().unwrap_or("").to_owned();
    (status, code)
}

/// Adds `user` to woodgrove with `roles`, as ada, and issues its token.
async fn user_with_token(demo: &Demo, user: &str, roles: &[&str]) -> String {
    let (status, answer) = demo
        .post(
            &format!("/v1/tenants/{TENANT}/users"),
            &demo.admin(),
            json!({"user": user, "roles": roles}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "adding {user}: {answer}");
    token_for(
        demo,
        json!({"kind": "partner", "tenant": TENANT, "user": user}),
    )
    .await
}

/// A new token for `principal`, issued by ada.
async fn token_for(demo: &Demo, principal: Value) -> String {
    let (status, answer) = demo
        .post(
            "/v1/tokens",
            &demo.admin(),
            json!({ "principal": principal }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "issuing {principal}: {answer}");
    answer["token"].as_str().expect("a token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_kind_of_caller_as_the_gates_say() {
    let demo = Demo::start().await;
    let catalog = Catalog::partner_center();
    let callers = callers(catalog);

    // The tokens of each kind of caller; role users hold just their role.
    let mut tokens: Vec<(Caller, Option<String>)> = Vec::new();
    for &caller in &callers {
        let token = match caller {
            Caller::Anonymous => None,
            Caller::OtherTenant => Some(demo.partner("fabrikam")),
            Caller::NoRoles => Some(user_with_token(&demo, &caller.slug(), &[]).await),
            Caller::Role(role) => Some(user_with_token(&demo, &caller.slug(), &[role]).await),
            Caller::PrimaryContact => Some(demo.partner(TENANT)),
            Caller::Agent => Some(demo.agent()),
            Caller::Admin => Some(demo.admin()),
        };
        tokens.push((caller, token));
    }
    user_with_token(&demo, TARGET_USER, &[]).await;

    let erin = demo.partner(TENANT);
    let (status, opened) = demo
        .post(
            &format!("/v1/tenants/{TENANT}/cases"),
            &erin,
            json!({"subject": "matrix", "body": "a case for the matrix to read"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    let (_, cases) = demo
        .get(&format!("/v1/tenants/{TENANT}/cases"), &erin)
        .await;
    let case = cases[0]["id"].as_str().expect("the case's id").to_owned();
    let (_, summary) = demo
        .get("/v1/tenants/fabrikam/verification/maicpp", &demo.admin())
        .await;
    let document = summary["appeals"][0]["document"]
        .as_str()
        .expect("fabrikam's appeal document")
        .to_owned();
    let spare_token = token_for(
        &demo,
        json!({"kind": "partner", "tenant": TENANT, "user": PRIMARY_CONTACT}),
    )
    .await;
    let fixtures = Fixtures {
        case,
        document,
        spare_token,
    };

    let operations = operations();
    let mut missing = BTreeSet::new();
    let mut mismatches = Vec::new();
    let mut asked = 0;
    for operation in &operations {
        let Some(expected) = expect(&operation.id) else {
            missing.insert(format!("{} (no expectation)", operation.id));
            continue;
        };
        for (caller, token) in &tokens {
            let Some((path, body)) = request(&operation.id, &fixtures, *caller) else {
                missing.insert(format!("{} (no request)", operation.id));
                break;
            };
            assert!(
                fills(&operation.template, &path),
                "{}: {path} does not fill {}",
                operation.id,
                operation.template
            );
            let (status, code) = ask(
                &demo,
                operation.method.clone(),
                &path,
                token.as_deref(),
                body,
            )
            .await;
            asked += 1;
            let want = expected.status(*caller);
            if status.as_u16() != want {
                mismatches.push(format!(
                    "{} {path} as {caller}: expected {want}, got {} {code}",
                    operation.method,
                    status.as_u16()
                ));
            }
        }
    }
    assert!(
        missing.is_empty() && mismatches.is_empty(),
        "operations of the document without a row: {missing:?}\n{} of {asked} answers differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // The matrix really covered the API: every operation, every caller.
    assert!(
        operations.len() >= 37,
        "only {} operations",
        operations.len()
    );
    assert_eq!(asked, operations.len() * callers.len());
    demo.stop().await;
}
