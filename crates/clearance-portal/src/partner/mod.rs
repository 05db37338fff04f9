//! The partner pages under `/t/{tenant}`: what a user of one tenant sees and
//! does. A session reaches only its own tenant; any other tenant id answers
//! the same "not found" page as a tenant that does not exist.
//!
//! Every page reads the service as the signed-in user, so a page is open or
//! refused exactly as `decide` says; a button is enabled only when the
//! workflow would accept its command now (checked with the core's `execute`
//! against the cached state, which changes nothing), and a disabled one says
//! why.

use axum::Extension;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use clearance_core::catalog::{ActionIx, Gate};
use clearance_core::workflow::{self, Command, WorkflowError};
use clearance_core::{Catalog, Tenant};
use clearance_server::views::{CheckResult, VerificationView};
use clearance_server::{Outcome, Principal, ServiceError};
use jiff::Timestamp;
use maud::{Markup, html};

use crate::Portal;
use crate::form::{CurrentSession, FormPage, Submitted};
use crate::layout::{
    self, Nav, Notice, Tone, action_name, badge, done_notice, humanize, role_name, status_badge,
    step_label, step_page, unmet_by_ids, unmet_list, when, write_keys,
};
use crate::session::Session;

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
    user: String,
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
            Principal::Partner { tenant: own, user } if *own == tenant => Ok(PartnerCtx {
                portal: portal.clone(),
                tenant,
                user: user.clone(),
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

    async fn state(&self, rev: Option<u64>) -> Result<std::sync::Arc<Tenant>, ServiceError> {
        self.portal
            .service
            .tenant(self.principal(), &self.tenant, rev)
            .await
    }

    async fn check(&self, action: ActionIx, rev: Option<u64>) -> Result<CheckResult, ServiceError> {
        let id = &self.catalog().actions[action.index()].id;
        self.portal
            .service
            .check(self.principal(), &self.tenant, &self.user, id, rev)
            .await
    }

    /// The decision of a catalog gate's action; `None` when the catalog
    /// turned the gate off (nothing to check: it is open).
    async fn gate_check(
        &self,
        gate: Gate,
        rev: Option<u64>,
    ) -> Result<Option<CheckResult>, ServiceError> {
        match gate.action() {
            Some(action) => self.check(action, rev).await.map(Some),
            None => Ok(None),
        }
    }

    /// Requires the catalog gate's action to be allowed: the page's gate. A
    /// gate the catalog turned off leaves the page open.
    async fn gate(&self, gate: Gate, rev: Option<u64>) -> Result<(), ServiceError> {
        match self.gate_check(gate, rev).await? {
            Some(result) if !result.allowed => Err(ServiceError::Denied(result)),
            Some(_) | None => Ok(()),
        }
    }

    /// Whether the workflow would accept `command` from this user now (nothing is written).
    fn would(&self, state: &Tenant, command: &Command) -> Result<(), WorkflowError> {
        workflow::execute(
            self.catalog(),
            state,
            &self.principal().actor(),
            command,
            Timestamp::now(),
        )
        .map(|_| ())
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

    /// Why a command would be refused, explained.
    fn refusal(&self, error: &WorkflowError) -> Markup {
        let unmet = match error {
            WorkflowError::Denied { unmet, .. } | WorkflowError::RolesFrozen { unmet, .. } => {
                unmet_by_ids(self.catalog(), unmet)
            }
            _ => Vec::new(),
        };
        html! {
            @if unmet.is_empty() {
                p class="why-disabled" { (badge(Tone::Bad, "Not possible now")) " " (sentence(&error.to_string())) }
            } @else {
                (unmet_list(self.catalog(), &self.tenant, &unmet))
            }
        }
    }
}

/// A message as a sentence: capitalised, with a full stop.
fn sentence(text: &str) -> String {
    let text = humanize_first(text);
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

fn humanize_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
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
