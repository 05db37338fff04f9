//! Signing in and out: the sign-in form (protected by a double-submit cookie,
//! since there is no session yet), checking the password against its argon2id
//! hash, the limit on failed attempts, and starting or ending the session.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Extension;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use clearance_server::Principal;
use jiff::Timestamp;
use maud::{Markup, html};
use serde_json::Value;

use crate::Portal;
use crate::accounts::{normalize_login, verify_against_nothing, verify_password};
use crate::form::{CurrentSession, Submitted};
use crate::layout::{self, Nav, Notice, csrf_input};
use crate::random;
use crate::session;

/// Query of the sign-in page.
#[derive(serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `/`: the signed-in user's start page, or the sign-in form.
pub async fn root(Extension(CurrentSession(current)): Extension<CurrentSession>) -> Redirect {
    Redirect::to(&start_page(
        current.as_ref().map(|session| &session.principal),
    ))
}

pub(crate) fn start_page(principal: Option<&Principal>) -> String {
    match principal {
        None => "/login".to_owned(),
        Some(Principal::Partner { tenant, .. }) => format!("/t/{tenant}"),
        Some(Principal::Staff { .. }) => "/ops/queue".to_owned(),
    }
}

/// `GET /login`: the form, with a fresh double-submit token.
pub async fn form(State(portal): State<Portal>, Query(query): Query<LoginQuery>) -> Response {
    render_form(&portal, query.next.as_deref(), "", None, StatusCode::OK)
}

fn render_form(
    portal: &Portal,
    next: Option<&str>,
    login: &str,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let cookies = portal.cookies();
    let token = random::token("");
    let next = next.filter(|next| safe_next(next));
    let local = portal.options.local_accounts;
    let body: Markup = html! {
        @let mut issuers = portal.sso.buttons().peekable();
        @if issuers.peek().is_some() {
            ul class="card narrow sso" {
                @for (name, label) in issuers {
                    @let href = match next {
                        Some(next) => format!("/login/oidc/{name}?{}", form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish()),
                        None => format!("/login/oidc/{name}"),
                    };
                    li { a class="button primary" href=(href) { (label) } }
                }
            }
        }
        @if local {
        form method="post" action="/login" class="card narrow" {
            (csrf_input(&token))
            @if let Some(next) = next {
                input type="hidden" name="next" value=(next);
            }
            p {
                label for="login" { "Login" }
                input id="login" name="login" type="text" autocomplete="username" required
                    value=(login) placeholder="alice@contoso" autofocus;
            }
            p {
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
            }
            p { button type="submit" class="primary" { "Sign in" } }
        }
        p class="hint" {
            "Partner users sign in as " code { "user@tenant" } "; the operator's support staff as "
            code { "name@support" } ". " code { "clearance serve --demo" } " prints the demo logins."
        }
        }
    };
    let mut response = layout::respond(
        status,
        layout::page(&Nav::Anonymous, "Sign in", notice.as_ref(), body),
    );
    let set = cookies.set(cookies.login_name(), &token, Duration::from_secs(3600));
    if let Ok(value) = HeaderValue::from_str(&set) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The page for a sign-in that found every password-check slot taken.
fn busy() -> Response {
    let mut response = layout::message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        &Nav::Anonymous,
        "Try again",
        "Many people are signing in just now. Try again in a moment.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The page for a sign-in the store could not serve.
fn unavailable() -> Response {
    layout::message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        &Nav::Anonymous,
        "Try again",
        "Signing in is not possible just now. Try again in a moment.",
    )
}

/// `POST /login`: takes a password-check slot (503 when none is free),
/// counts the attempt against the limits (429 when over), then checks the
/// password; starts a session.
pub async fn submit(
    State(portal): State<Portal>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Extension(form): Extension<Submitted>,
) -> Response {
    if !portal.options.local_accounts {
        return layout::message_page(
            StatusCode::FORBIDDEN,
            &Nav::Anonymous,
            "Passwords are off",
            "This portal signs people in only through their organisation's sign-in service.",
        );
    }
    let login = normalize_login(form.text("login").unwrap_or_default());
    let password = form.text("password").unwrap_or_default().to_owned();
    let next = form
        .text("next")
        .filter(|next| safe_next(next))
        .map(str::to_owned);
    let failed = |portal: &Portal| {
        render_form(
            portal,
            next.as_deref(),
            &login,
            Some(Notice {
                ok: false,
                text: "The login or the password is wrong.".to_owned(),
            }),
            StatusCode::UNAUTHORIZED,
        )
    };
    if login.is_empty() || password.is_empty() {
        return failed(&portal);
    }
    let store = portal.service.store();
    let now = Timestamp::now();
    if let Err(error) = portal.limiter.housekeeping(store, now).await {
        // Only tidying: signing in goes on.
        tracing::warn!(%error, "sign-in housekeeping failed");
    }
    // Busy first: a sign-in that cannot be checked now is neither hashed nor counted.
    let Some(check) = portal.password_checks.try_start() else {
        return busy();
    };
    let client = peer.map(|Extension(ConnectInfo(address))| address.ip());
    let blocked = match portal.limiter.reserve(store, &login, client, now).await {
        Ok(blocked) => blocked,
        Err(error) => {
            tracing::error!(%error, "counting a sign-in attempt failed");
            return unavailable();
        }
    };
    if let Some(wait) = blocked {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let mut response = render_form(
            &portal,
            next.as_deref(),
            &login,
            Some(Notice {
                ok: false,
                text: format!(
                    "Too many failed sign-ins for {login} or from your address. Sign-in is paused: try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
            }),
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let record = match store.find_password(&login).await {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(%error, "reading a sign-in failed");
            return unavailable();
        }
    };
    let principal = match record {
        Some(record) => verify_password(check, &password, &record.phc_hash)
            .await
            .then(|| principal_of(record.principal))
            .flatten(),
        None => {
            verify_against_nothing(check, &password).await;
            None
        }
    };
    // A wrong password stays counted (it was counted before the check).
    let Some(principal) = principal else {
        return failed(&portal);
    };
    if let Err(error) = portal.limiter.clear(store, &login).await {
        tracing::warn!(%error, "forgetting failed sign-ins failed");
    }
    let lifetime = portal.options.session_lifetime;
    let (token, _) =
        match session::start(&portal.service, &login, principal.clone(), lifetime, None).await {
            Ok(started) => started,
            Err(error) => {
                tracing::error!(%error, "starting a session failed");
                return unavailable();
            }
        };
    let target = next
        .filter(|next| next_fits(next, &principal))
        .unwrap_or_else(|| start_page(Some(&principal)));
    let cookies = portal.cookies();
    let mut headers = HeaderMap::new();
    for line in [
        cookies.set(cookies.session_name(), &token, lifetime),
        cookies.clear(cookies.login_name()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&line) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    (headers, Redirect::to(&target)).into_response()
}

/// `POST /logout`: ends the session everywhere and clears the cookie.
pub async fn logout(
    State(portal): State<Portal>,
    Extension(CurrentSession(current)): Extension<CurrentSession>,
) -> Response {
    if let Some(session) = &current
        && let Err(error) = session::end(&portal.service, session).await
    {
        tracing::error!(%error, "ending a session failed");
    }
    // A single sign-on session ends at the provider too (RP-initiated logout):
    // a link, since the pages' CSP (`form-action 'self'`) stops a form's
    // redirect to another site.
    let provider = match current.as_ref().and_then(|session| session.sso.as_ref()) {
        Some(sign_in) => portal.sso.logout_url(sign_in).await,
        None => None,
    };
    let cookies = portal.cookies();
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&cookies.clear(cookies.session_name())) {
        headers.append(header::SET_COOKIE, value);
    }
    match provider {
        None => (headers, Redirect::to("/login")).into_response(),
        Some((label, url)) => {
            let body = html! {
                p { "You are signed out of clearance." }
                p { a class="button primary" href=(url) { "Sign out of " (label) " too" } }
                p { a href="/login" { "Back to the sign-in page" } }
            };
            let page = layout::respond(
                StatusCode::OK,
                layout::page(&Nav::Anonymous, "Signed out", None, body),
            );
            (headers, page).into_response()
        }
    }
}

/// A principal as stored with a sign-in (an unreadable one signs nobody in).
fn principal_of(value: Value) -> Option<Principal> {
    serde_json::from_value(value).ok()
}

/// A `next` that stays on this site: a path, not `//host` or `/\host`.
pub(crate) fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        // Visible ASCII only: a control character would make the redirect's
        // `Location` invalid (a 500 after the session is issued).
        && next.bytes().all(|byte| byte.is_ascii_graphic())
        && next.len() <= 512
}

/// Whether `next` is a page the principal may land on (their tenant or the console).
pub(crate) fn next_fits(next: &str, principal: &Principal) -> bool {
    match principal {
        Principal::Partner { tenant, .. } => {
            let own = format!("/t/{tenant}");
            next == own || next.starts_with(&format!("{own}/"))
        }
        Principal::Staff { .. } => next.starts_with("/ops/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert!(safe_next("/t/contoso/membership"));
        assert!(!safe_next("//evil.example/"));
        assert!(!safe_next("/\\evil.example"));
        assert!(!safe_next("https://evil.example/"));
        assert!(!safe_next("/t/x\r\nSet-Cookie: a=b"));
        assert!(!safe_next("/t/fabrikam/\x01"));
        assert!(!safe_next("/t/fabrikam/\x7f"));
        assert!(!safe_next("/t/fabrikam/a b"));
    }

    #[test]
    fn a_partner_lands_only_in_its_own_tenant() {
        let alice = Principal::Partner {
            tenant: "contoso".into(),
            user: "alice".into(),
        };
        assert!(next_fits("/t/contoso/users", &alice));
        assert!(next_fits("/t/contoso", &alice));
        assert!(!next_fits("/t/contoso-evil/users", &alice));
        assert!(!next_fits("/ops/queue", &alice));
    }
}
