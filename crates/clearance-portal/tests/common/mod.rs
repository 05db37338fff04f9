//! A real server on a loopback port (API and portal, SQLite in a temporary
//! directory) and the tenants the tests need, built through the service.

#![allow(dead_code)]

use std::sync::Arc;

use clearance_core::Catalog;
use clearance_core::workflow::{Command, SupportRole};
use clearance_portal::PortalOptions;
use clearance_server::{Principal, Service, ServiceOptions};
use jiff::{SignedDuration, Timestamp};

/// The password every test login gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The service behind it.
    pub service: Service,
    _dir: tempfile::TempDir,
}

impl Server {
    /// The URL of `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

/// Starts a server with the default portal options and the test tenants.
pub async fn start() -> Server {
    start_with(PortalOptions::default()).await
}

/// Starts a server with `options` and the test tenants:
/// - `contoso`, the seed's case: MAICPP pending qualification, verification
///   pending for two weeks, no banner; `alice` (primary contact) holds Global
///   Admin and MAICPP partner admin; the tax profile is complete, the payment
///   profile is not.
/// - `fabrikam`, fully authorized, with `frank` (admin) and `bob` (no roles).
pub async fn start_with(options: PortalOptions) -> Server {
    start_knowing_url(|_| options).await
}

/// [`start_with`], the options made knowing the server's URL (single sign-on
/// callbacks name it).
pub async fn start_knowing_url(options: impl FnOnce(&str) -> PortalOptions) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let options = options(&url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let location = dir.path().join("clearance.db");
    let store = clearance_store::Store::open(location.to_str().expect("a UTF-8 path"))
        .await
        .expect("the store opens");
    let service = Service::open(
        store,
        Arc::new(Catalog::partner_center().clone()),
        ServiceOptions::default(),
    )
    .await
    .expect("the service opens");
    build_tenants(&service).await;
    for (login, principal) in [
        ("alice@contoso", partner("contoso", "alice")),
        ("frank@fabrikam", partner("fabrikam", "frank")),
        ("bob@fabrikam", partner("fabrikam", "bob")),
        ("agent@support", staff()),
    ] {
        clearance_portal::set_password(&service, login, &principal, PASSWORD)
            .await
            .expect("the login is stored");
    }
    let app = clearance_server::router(service.clone())
        .merge(clearance_portal::router_with(service.clone(), options));
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("the server runs");
    });
    Server {
        url,
        service,
        _dir: dir,
    }
}

/// A partner principal.
pub fn partner(tenant: &str, user: &str) -> Principal {
    Principal::Partner {
        tenant: tenant.to_owned(),
        user: user.to_owned(),
    }
}

/// A support agent.
pub fn staff() -> Principal {
    Principal::Staff {
        id: "agent".to_owned(),
        role: SupportRole::SupportAgent,
    }
}

fn admin() -> Principal {
    Principal::Staff {
        id: "root".to_owned(),
        role: SupportRole::SupportAdmin,
    }
}

async fn run(
    service: &Service,
    principal: &Principal,
    tenant: &str,
    command: Command,
    at: Timestamp,
) {
    service
        .execute_at(principal, tenant, command, None, at)
        .await
        .unwrap_or_else(|error| panic!("setting up {tenant}: {error}"));
}

async fn build_tenants(service: &Service) {
    let weeks_ago = |weeks: i64| {
        Timestamp::now()
            .checked_sub(SignedDuration::from_hours(24 * 7 * weeks))
            .expect("a past moment")
    };
    let (earlier, submitted) = (weeks_ago(3), weeks_ago(2));
    let alice = partner("contoso", "alice");
    run(
        service,
        &admin(),
        "contoso",
        Command::CreateTenant {
            country: "US".into(),
            admin: "alice".into(),
            roles: vec!["global_admin".into(), "maicpp_partner_admin".into()],
        },
        earlier,
    )
    .await;
    run(
        service,
        &alice,
        "contoso",
        Command::Enroll {
            program: "maicpp".into(),
        },
        earlier,
    )
    .await;
    run(
        service,
        &alice,
        "contoso",
        Command::UpdateProfile {
            profile: "tax".into(),
            complete: true,
        },
        earlier,
    )
    .await;
    run(
        service,
        &alice,
        "contoso",
        Command::SubmitVerification {
            program: "maicpp".into(),
        },
        submitted,
    )
    .await;

    let frank = partner("fabrikam", "frank");
    run(
        service,
        &admin(),
        "fabrikam",
        Command::CreateTenant {
            country: "GB".into(),
            admin: "frank".into(),
            roles: vec!["global_admin".into(), "maicpp_partner_admin".into()],
        },
        earlier,
    )
    .await;
    run(
        service,
        &frank,
        "fabrikam",
        Command::Enroll {
            program: "maicpp".into(),
        },
        earlier,
    )
    .await;
    run(
        service,
        &frank,
        "fabrikam",
        Command::SubmitVerification {
            program: "maicpp".into(),
        },
        earlier,
    )
    .await;
    run(
        service,
        &staff(),
        "fabrikam",
        Command::Authorize {
            program: "maicpp".into(),
        },
        submitted,
    )
    .await;
    run(
        service,
        &frank,
        "fabrikam",
        Command::AddUser {
            user: "bob".into(),
            roles: Vec::new(),
        },
        submitted,
    )
    .await;
}
pub mod browser;

/// Two more tenants for the screenshots: `northwind` rejected once, appealed,
/// rejected again (one appeal used), and `litware` challenged with the
/// action-required banner; plus a support case on `contoso`.
pub async fn build_showcase(service: &Service) {
    let days_ago = |days: i64| {
        Timestamp::now()
            .checked_sub(SignedDuration::from_hours(24 * days))
            .expect("a past moment")
    };
    let nina = partner("northwind", "nina");
    let admin_roles = vec!["global_admin".to_owned(), "maicpp_partner_admin".to_owned()];
    run(
        service,
        &admin(),
        "northwind",
        Command::CreateTenant {
            country: "DE".into(),
            admin: "nina".into(),
            roles: admin_roles.clone(),
        },
        days_ago(30),
    )
    .await;
    run(
        service,
        &nina,
        "northwind",
        Command::Enroll {
            program: "maicpp".into(),
        },
        days_ago(30),
    )
    .await;
    run(
        service,
        &nina,
        "northwind",
        Command::SubmitVerification {
            program: "maicpp".into(),
        },
        days_ago(29),
    )
    .await;
    run(
        service,
        &staff(),
        "northwind",
        Command::Reject {
            program: "maicpp".into(),
            reason:
                "The business registration document does not match the legal name on the account."
                    .into(),
        },
        days_ago(24),
    )
    .await;
    service
        .appeal(
            &nina,
            "northwind",
            "maicpp",
            "Business registration certificate",
            b"%PDF-1.4\n% registration\n%%EOF\n".to_vec(),
            None,
        )
        .await
        .expect("the appeal is accepted");
    run(
        service,
        &staff(),
        "northwind",
        Command::Reject {
            program: "maicpp".into(),
            reason: "The uploaded registration certificate is unreadable.".into(),
        },
        Timestamp::now(),
    )
    .await;

    let lee = partner("litware", "lee");
    run(
        service,
        &admin(),
        "litware",
        Command::CreateTenant {
            country: "US".into(),
            admin: "lee".into(),
            roles: admin_roles,
        },
        days_ago(6),
    )
    .await;
    run(
        service,
        &lee,
        "litware",
        Command::Enroll {
            program: "maicpp".into(),
        },
        days_ago(6),
    )
    .await;
    run(
        service,
        &lee,
        "litware",
        Command::SubmitVerification {
            program: "maicpp".into(),
        },
        days_ago(5),
    )
    .await;
    run(
        service,
        &staff(),
        "litware",
        Command::Challenge {
            program: "maicpp".into(),
            reason: "We could not verify the business address.".into(),
            documents: vec!["Utility bill".into(), "Bank statement".into()],
        },
        days_ago(1),
    )
    .await;
    run(
        service,
        &partner("contoso", "alice"),
        "contoso",
        Command::OpenCase {
            subject: "MAICPP pending qualification for two weeks".into(),
            program: Some("maicpp".into()),
            body: "Verification has been Pending for more than 5 business days and there is no Fix now banner.".into(),
        },
        days_ago(1),
    )
    .await;
    run(
        service,
        &staff(),
        "contoso",
        Command::CommentCase {
            case: "case-1".into(),
            body: "Thanks, we are reviewing the vetting state now.".into(),
        },
        Timestamp::now(),
    )
    .await;
    for (login, principal) in [("nina@northwind", nina), ("lee@litware", lee)] {
        clearance_portal::set_password(service, login, &principal, PASSWORD)
            .await
            .expect("the login is stored");
    }
}
