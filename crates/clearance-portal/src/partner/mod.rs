//! The partner pages under `/t/{tenant}`: what a user of one tenant sees and
//! does. A session reaches only its own tenant; any other tenant id answers
//! the same "not found" page as a tenant that does not exist.
//!
//! Every page reads the service as the signed-in user and renders its views
//! only: a page is open or refused exactly as the service says, and a button
//! is enabled exactly when its view's affordance allows it (the service's dry
//! run of the workflow, at the moment of the read); a disabled one says why.
//!
//! One file per page: `home` (tiles and "why"), `legal_info` (with profiles),
//! `verification`, `membership` (and offers), `users`, `diagnosis`, `support`.

use axum::Extension;
use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use clearance_core::Catalog;
use clearance_core::workflow::Command;
use clearance_server::views::{Affordance, RefusalView};
use clearance_server::{Outcome, Principal, ServiceError};
use maud::{Markup, html};

use crate::Portal;
use crate::form::{CurrentSession, FormPage, Submitted};
use crate::layout::{self, Nav, Notice, Tone, badge, unmet_list};
use crate::session::Session;

mod diagnosis;
mod home;
mod legal_info;
mod membership;
mod support;
mod users;
mod verification;

use diagnosis::diagnosis;
use home::{home, why, workspace_page};
use legal_info::{legal_info, profiles, update_profile};
use membership::{membership, offers};
pub(crate) use support::case_detail;
use support::{case, comment_case, open_case, support};
use users::{add_user, change_roles, remove_user, users};
use verification::{appeal, verification};

/// The partner routes.
pub(crate) fn routes() -> Router<Portal> {
    Router::new()
        .route("/t/{tenant}", get(home))
        .route("/t/{tenant}/why/{workspace}", get(why))
        .route("/t/{tenant}/account/legal-info", get(legal_info))
        .route(
            "/t/{tenant}/account/agreements/{agreement}/accept",
            command_form(
                |agreement| Command::AcceptAgreement { agreement },
                ("/account/legal-info", "agreement"),
            ),
        )
        .route(
            "/t/{tenant}/account/programs/{program}/enroll",
            command_form(
                |program| Command::Enroll { program },
                ("/account/legal-info", "enrolled"),
            ),
        )
        .route(
            "/t/{tenant}/account/programs/{program}/submit",
            command_form(
                |program| Command::SubmitVerification { program },
                ("/account/verification", "submitted"),
            ),
        )
        .route("/t/{tenant}/account/profiles", get(profiles))
        .route(
            "/t/{tenant}/account/profiles/{profile}",
            post(update_profile),
        )
        .route("/t/{tenant}/account/verification", get(verification))
        .route(
            "/t/{tenant}/account/verification/{program}/appeal",
            post(appeal),
        )
        .route("/t/{tenant}/membership", get(membership))
        .route("/t/{tenant}/membership/offers", get(offers))
        .route(
            "/t/{tenant}/membership/offers/{offer}/buy",
            command_form(
                |offer| Command::BuyMembership { offer },
                ("/membership/offers", "bought"),
            ),
        )
        .route(
            "/t/{tenant}/membership/offers/{offer}/renew",
            command_form(
                |offer| Command::RenewMembership { offer },
                ("/membership/offers", "renewed"),
            ),
        )
        .route("/t/{tenant}/users", get(users).post(add_user))
        .route("/t/{tenant}/users/{user}/roles", post(change_roles))
        .route("/t/{tenant}/users/{user}/remove", post(remove_user))
        .route("/t/{tenant}/diagnosis", get(diagnosis))
        .route("/t/{tenant}/support", get(support))
        .route("/t/{tenant}/support/cases", post(open_case))
        .route("/t/{tenant}/support/cases/{case}", get(case))
        .route(
            "/t/{tenant}/support/cases/{case}/comments",
            post(comment_case),
        )
        .route("/t/{tenant}/{*page}", get(workspace_page))
}

/// A form with no fields of its own: it runs the command that `command` makes
/// of the path's last parameter (`{program}`, `{offer}`, ...) and goes back to
/// the page `back.0` with the notice `back.1`.
fn command_form(
    command: fn(String) -> Command,
    back: (&'static str, &'static str),
) -> MethodRouter<Portal> {
    post(
        move |ctx: PartnerCtx,
              Path((_, id)): Path<(String, String)>,
              Extension(form): Extension<Submitted>| async move {
            ctx.write(command(id), &form, back.0, back.1).await
        },
    )
}

/// The query every page reads: the notice of a finished form and the revision
/// it wrote (so a page served by another server still shows the write).
#[derive(serde::Deserialize, Default)]
pub(crate) struct PageQuery {
    done: Option<String>,
    rev: Option<u64>,
}

/// A request by a partner user inside its own tenant.
pub(crate) struct PartnerCtx {
    portal: Portal,
    session: Session,
    tenant: String,
    nav: Nav,
}

impl FromRequestParts<Portal> for PartnerCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, portal: &Portal) -> Result<Self, Response> {
        let session = CurrentSession::required(parts).map_err(IntoResponse::into_response)?;
        let tenant = parts
            .uri
            .path()
            .strip_prefix("/t/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_owned();
        let nav = Nav::of(Some(&session));
        match &session.principal {
            Principal::Partner { tenant: own, .. } if *own == tenant => Ok(PartnerCtx {
                portal: portal.clone(),
                tenant,
                session: session.clone(),
                nav,
            }),
            Principal::Partner { .. } => Err(layout::not_found(&nav)),
            Principal::Staff { .. } if plain_id(&tenant) => {
                Err(Redirect::to(&format!("/ops/tenants/{tenant}")).into_response())
            }
            Principal::Staff { .. } => Err(layout::not_found(&nav)),
        }
    }
}

/// An id safe to put back into a path unescaped.
pub(crate) fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

impl FormPage for PartnerCtx {
    fn fail(&self, error: ServiceError) -> Response {
        layout::service_error(&self.nav, self.catalog(), Some(&self.tenant), error)
    }
}

impl PartnerCtx {
    fn principal(&self) -> &Principal {
        &self.session.principal
    }

    /// The catalog, for labels only (names of roles, actions and steps):
    /// decisions come in the service's views.
    fn catalog(&self) -> &Catalog {
        self.portal.service.catalog()
    }

    fn href(&self, path: &str) -> String {
        format!("/t/{}{path}", self.tenant)
    }

    fn page(&self, title: &str, notice: Option<&Notice>, body: Markup) -> Response {
        layout::respond(StatusCode::OK, layout::page(&self.nav, title, notice, body))
    }

    /// After a write: back to `path` with its notice and revision.
    fn done(&self, path: &str, code: &str, outcome: &Outcome) -> Response {
        Redirect::to(&format!(
            "{}?done={code}&rev={}",
            self.href(path),
            outcome.revision
        ))
        .into_response()
    }

    /// Runs `command` with the form's key (a resent form applies once).
    async fn execute(&self, command: Command, form: &Submitted) -> Result<Outcome, ServiceError> {
        self.portal
            .service
            .execute(
                self.principal(),
                &self.tenant,
                command,
                form.text("form_key"),
            )
            .await
    }

    /// Runs `command` as [`execute`](Self::execute) does, then goes back to
    /// `path` with the notice `code`; a refusal answers the error page.
    async fn write(
        &self,
        command: Command,
        form: &Submitted,
        path: &str,
        code: &str,
    ) -> Result<Response, Response> {
        let outcome = self
            .execute(command, form)
            .await
            .map_err(|error| self.fail(error))?;
        Ok(self.done(path, code, &outcome))
    }

    /// Why a command would be refused, explained: its unmet criteria, or
    /// the rule's sentence when it is not about criteria.
    fn refusal(&self, refusal: &RefusalView) -> Markup {
        html! {
            @if refusal.unmet.is_empty() {
                p class="why-disabled" { (badge(Tone::Bad, "Not possible now")) " " (sentence(&refusal.message)) }
            } @else {
                (unmet_list(self.catalog(), &self.tenant, &refusal.unmet))
            }
        }
    }

    /// Why a button is disabled, explained; nothing when it is enabled.
    fn disabled(&self, affordance: &Affordance) -> Markup {
        html! {
            @if let Some(refusal) = &affordance.refusal {
                (self.refusal(refusal))
            }
        }
    }
}

/// A message as a sentence: capitalised, with a full stop.
fn sentence(text: &str) -> String {
    let text = clearance_core::prose::capitalize(text);
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_go_back_into_paths() {
        assert!(plain_id("contoso-2"));
        assert!(!plain_id("a/b"));
        assert!(!plain_id(""));
        assert!(!plain_id("a?b"));
    }
}
