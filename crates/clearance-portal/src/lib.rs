//! The clearance web portal: the pages people use, rendered on the server.
//!
//! Partner users of a tenant sign in and see, under `/t/{tenant}/…`, every
//! workspace open or locked with the reasons, Legal Info's Partner tab, the
//! verification summary with its appeal form, Membership and its offers with
//! Buy Now / Renew Now and "Learn why Buy is disabled", user management, the
//! diagnosis and support cases. The operator's support staff get a console
//! under `/ops/…`: the verification queue by SLA age, each tenant's state and
//! timeline with the vetting actions, and the support cases.
//!
//! The portal is a thin shell over [`clearance_server::Service`], called
//! directly (not over HTTP): every decision, diagnosis and write is the
//! service's, and the portal only renders it (maud, one embedded stylesheet,
//! no JavaScript, nothing fetched from elsewhere).
//!
//! - [`accounts`]: argon2id sign-ins in the store, and the demo logins.
//! - [`session`]: server-side sessions in the store's token table, cookies,
//!   CSRF tokens and the limit on failed sign-ins.
//! - `setup`: a new user's one-time set-up link (choose a password).
//! - `form`: the middleware that reads and CSRF-checks every POST.
//! - `layout`: the page frame, badges and the explanations of unmet criteria.
//! - `partner` and `ops`: the partner pages and the operator console.
//!
//! [`router`] builds the routes; `clearance serve` merges them into the API's.

pub mod accounts;
mod form;
mod layout;
pub mod oidc;
mod ops;
mod partner;
mod random;
pub mod session;
mod setup;
mod signin;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use clearance_server::Service;

pub use accounts::{DemoLogin, PasswordChecks, seed_demo_logins, set_password};
pub use session::SignInLimiter;

/// The largest urlencoded form body.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// The largest multipart form body: one maximal document plus the form's overhead.
pub const MAX_UPLOAD_BYTES: usize = clearance_server::service::MAX_DOCUMENT_BYTES + 64 * 1024;

/// The portal's stylesheet, bundled into the binary.
const STYLESHEET: &str = include_str!("portal.css");

/// How the portal runs.
#[derive(Clone, Debug)]
pub struct PortalOptions {
    /// Served over TLS (`--public-url https://…`): cookies are marked `Secure`.
    pub secure_cookies: bool,
    /// How long a session lasts after sign-in.
    pub session_lifetime: Duration,
    /// Failed sign-ins allowed per login within [`PortalOptions::sign_in_window`].
    pub sign_in_attempts: usize,
    /// Failed sign-ins allowed per client address (peer IP) within the window,
    /// whatever the logins; 0: no such limit. Behind a reverse proxy every
    /// client has the proxy's address, so set it to 0 there or high enough.
    pub sign_in_attempts_per_client: usize,
    /// The window failed sign-ins are counted in.
    pub sign_in_window: Duration,
    /// Password checks (argon2id, 19 MiB each) that may run at once; a sign-in
    /// beyond them is answered 503 with `Retry-After` without checking.
    pub concurrent_password_checks: usize,
    /// How often (at most, per server) a sign-in also deletes ended and expired
    /// sessions and failed sign-ins older than the window.
    pub housekeeping_every: Duration,
    /// Single sign-on through OpenID Connect issuers; `None`: passwords only.
    pub sso: Option<oidc::SsoOptions>,
    /// Whether people may sign in with a password stored here (`--no-local-accounts` turns it off).
    pub local_accounts: bool,
}

impl Default for PortalOptions {
    fn default() -> Self {
        PortalOptions {
            secure_cookies: false,
            session_lifetime: Duration::from_secs(8 * 60 * 60),
            sign_in_attempts: 5,
            sign_in_attempts_per_client: 50,
            sign_in_window: Duration::from_secs(15 * 60),
            housekeeping_every: Duration::from_secs(5 * 60),
            concurrent_password_checks: accounts::default_password_checks(),
            sso: None,
            local_accounts: true,
        }
    }
}

impl PortalOptions {
    /// The options for a portal reached at `public_url`: `Secure` cookies when it is `https://`.
    pub fn for_public_url(public_url: &str) -> Self {
        PortalOptions {
            secure_cookies: public_url
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")),
            ..PortalOptions::default()
        }
    }
}

/// What every portal handler reaches. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Portal {
    pub service: Service,
    pub options: Arc<PortalOptions>,
    pub limiter: Arc<SignInLimiter>,
    pub password_checks: accounts::PasswordChecks,
    pub sso: Arc<oidc::Sso>,
}

impl Portal {
    pub fn cookies(&self) -> session::Cookies {
        session::Cookies {
            secure: self.options.secure_cookies,
        }
    }
}

/// The portal's routes with default options (plain-HTTP cookies).
pub fn router(service: Service) -> Router {
    router_with(service, PortalOptions::default())
}

/// The portal's routes: `/`, `/login`, `/logout`, single sign-on under
/// `/login/oidc/{issuer}`, the stylesheet, the partner pages under
/// `/t/{tenant}` and the operator console under `/ops`.
pub fn router_with(service: Service, options: PortalOptions) -> Router {
    let limiter = SignInLimiter::new(
        options.sign_in_attempts,
        options.sign_in_window,
        options.housekeeping_every,
    )
    .per_client(options.sign_in_attempts_per_client);
    let sso = Arc::new(oidc::Sso::new(options.sso.as_ref()));
    let portal = Portal {
        service,
        sso,
        password_checks: accounts::PasswordChecks::new(options.concurrent_password_checks),
        options: Arc::new(options),
        limiter: Arc::new(limiter),
    };
    Router::new()
        .route("/", get(signin::root))
        .route("/login", get(signin::form).post(signin::submit))
        .route("/logout", post(signin::logout))
        .route("/login/oidc/{issuer}", get(oidc::start))
        .route("/login/oidc/{issuer}/callback", get(oidc::callback))
        .route("/setup/{token}", get(setup::form).post(setup::submit))
        .route("/static/portal.css", get(stylesheet))
        .merge(partner::routes())
        .merge(ops::routes())
        .layer(middleware::from_fn_with_state(portal.clone(), form::guard))
        .with_state(portal)
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_public_urls_get_secure_cookies() {
        assert!(PortalOptions::for_public_url("https://portal.example").secure_cookies);
        assert!(PortalOptions::for_public_url("HTTPS://portal.example").secure_cookies);
        assert!(!PortalOptions::for_public_url("http://127.0.0.1:8080").secure_cookies);
        assert!(!PortalOptions::for_public_url("").secure_cookies);
    }
}
