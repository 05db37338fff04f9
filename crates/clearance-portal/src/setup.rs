//! The one-time set-up link of a new user (`/setup/{token}`): whoever holds
//! the link chooses the password of the user's sign-in, once. The token in
//! the path is the secret, so the form needs no session.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use crate::Portal;
use crate::accounts::{self, MIN_PASSWORD_CHARS};
use crate::form::Submitted;
use crate::layout::{self, Nav, Notice};
use clearance_server::ServiceError;

/// `GET /setup/{token}`: the password form, or why the link is unusable.
pub async fn form(State(portal): State<Portal>, Path(token): Path<String>) -> Response {
    match accounts::setup_link(&portal.service, &token).await {
        Ok(Some((login, _))) => render(&token, &login, None, StatusCode::OK),
        Ok(None) => used(),
        Err(error) => failed(&error),
    }
}

/// `POST /setup/{token}`: sets the password, ends the link, and says how to sign in.
pub async fn submit(
    State(portal): State<Portal>,
    Path(token): Path<String>,
    Extension(form): Extension<Submitted>,
) -> Response {
    let password = form.text("password").unwrap_or_default();
    let again = form.text("password_again").unwrap_or_default();
    let Ok(Some((login, _))) = accounts::setup_link(&portal.service, &token).await else {
        return used();
    };
    if password != again {
        let notice = Notice {
            ok: false,
            text: "The two passwords differ: type the same password twice.".to_owned(),
        };
        return render(&token, &login, Some(&notice), StatusCode::BAD_REQUEST);
    }
    match accounts::redeem_setup_link(&portal.service, &token, password).await {
        Ok(login) => layout::respond(
            StatusCode::OK,
            layout::page(
                &Nav::Anonymous,
                "Your sign-in is ready",
                Some(&Notice {
                    ok: true,
                    text: "Password set.".to_owned(),
                }),
                html! {
                    p { "Sign in as " strong { (login) } " with the password you chose. This set-up link no longer works." }
                    p { a href="/login" { "Go to sign in" } }
                },
            ),
        ),
        Err(ServiceError::Invalid { field, message }) => {
            let notice = Notice {
                ok: false,
                text: format!("The {field} {message}."),
            };
            render(&token, &login, Some(&notice), StatusCode::BAD_REQUEST)
        }
        Err(ServiceError::NotFound { .. }) => used(),
        Err(error) => failed(&error),
    }
}

fn render(token: &str, login: &str, notice: Option<&Notice>, status: StatusCode) -> Response {
    layout::respond(
        status,
        layout::page(
            &Nav::Anonymous,
            "Set up your sign-in",
            notice,
            html! {
                form method="post" action=(format!("/setup/{token}")) class="card narrow" {
                    p { "You will sign in as " strong { (login) } "." }
                    p {
                        label for="password" { "New password" }
                        input id="password" name="password" type="password" required
                            minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password"
                            aria-describedby="password-hint";
                        span id="password-hint" class="hint" { "At least " (MIN_PASSWORD_CHARS) " characters." }
                    }
                    p {
                        label for="password_again" { "The same password again" }
                        input id="password_again" name="password_again" type="password" required
                            minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password";
                    }
                    button type="submit" class="primary" { "Set password" }
                }
            },
        ),
    )
}

fn used() -> Response {
    layout::message_page(
        StatusCode::NOT_FOUND,
        &Nav::Anonymous,
        "Set-up link not usable",
        "This set-up link was already used, has expired, or does not exist. Ask your tenant's admin for a new one.",
    )
}

fn failed(error: &ServiceError) -> Response {
    tracing::error!(%error, "a set-up link failed");
    layout::message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        &Nav::Anonymous,
        "Try again",
        "Your sign-in could not be set up just now. Reload the page in a moment.",
    )
}
