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
        let id = &self.catalog().action(action).id;
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

// ---- home and explanations ------------------------------------------------------

async fn home(ctx: PartnerCtx, Query(query): Query<PageQuery>) -> Result<Response, Response> {
    let access = ctx
        .portal
        .service
        .access(ctx.principal(), &ctx.tenant, None, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let diagnosis = ctx
        .portal
        .service
        .diagnosis(ctx.principal(), &ctx.tenant, None, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        section class="card lead" aria-labelledby="state" {
            h2 id="state" { "Where things stand" }
            p { (diagnosis.cause) }
            p { a href=(ctx.href("/diagnosis")) { "See the next supported steps" } }
        }
        h2 { "Workspaces" }
        ul class="tiles" {
            @for workspace in &access.workspaces {
                @let unmet = workspace_unmet(workspace);
                li class=(if workspace.open { "tile open" } else { "tile locked" }) {
                    h3 {
                        @if workspace.open {
                            a href=(ctx.href(&workspace.page)) { (workspace.name) }
                        } @else {
                            (workspace.name)
                        }
                    }
                    @if workspace.open {
                        p { (badge(Tone::Good, "Open")) }
                    } @else {
                        p { (badge(Tone::Bad, "Locked")) }
                        @if let Some(first) = unmet.first() {
                            p class="one-line" { (first.reason) }
                        }
                        p {
                            a href=(ctx.href(&format!("/why/{}", workspace.workspace))) {
                                "Why is " (workspace.name) " locked?"
                                @if unmet.len() > 1 { " (" (unmet.len()) " unmet criteria)" }
                            }
                        }
                    }
                }
            }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page(&format!("{} — home", ctx.tenant), notice.as_ref(), body))
}

/// A workspace's unmet criteria across its actions, each once, in order.
fn workspace_unmet(
    workspace: &clearance_server::views::WorkspaceView,
) -> Vec<&clearance_server::views::UnmetView> {
    let mut seen: Vec<&clearance_server::views::UnmetView> = Vec::new();
    for action in &workspace.actions {
        for unmet in &action.unmet {
            if !seen
                .iter()
                .any(|known| known.requirement == unmet.requirement)
            {
                seen.push(unmet);
            }
        }
    }
    seen
}

async fn why(
    ctx: PartnerCtx,
    Path((_, workspace)): Path<(String, String)>,
) -> Result<Response, Response> {
    let access = ctx
        .portal
        .service
        .access(ctx.principal(), &ctx.tenant, None, None)
        .await
        .map_err(|error| ctx.fail(error))?;
    let Some(workspace) = access
        .workspaces
        .iter()
        .find(|found| found.workspace == workspace)
    else {
        return Err(layout::not_found(&ctx.nav));
    };
    let body = html! {
        p {
            (workspace.name) " is "
            @if workspace.open { (badge(Tone::Good, "Open")) } @else { (badge(Tone::Bad, "Locked")) }
            ". Each action below needs every criterion listed for it; roles alone never open an action whose program or verification criterion is unmet."
        }
        (actions_explained(&ctx, &workspace.actions))
    };
    Ok(ctx.page(&format!("Why: {}", workspace.name), None, body))
}

fn actions_explained(ctx: &PartnerCtx, actions: &[CheckResult]) -> Markup {
    html! {
        @for action in actions {
            section class="card" {
                h2 {
                    (action_name(ctx.catalog(), &action.action)) " "
                    @if action.allowed { (badge(Tone::Good, "Allowed")) } @else { (badge(Tone::Bad, "Not allowed")) }
                }
                @if !action.allowed {
                    (unmet_list(ctx.catalog(), &ctx.tenant, &action.unmet))
                }
            }
        }
    }
}

/// Any catalog workspace page without a page of its own: its actions, open or not.
async fn workspace_page(
    ctx: PartnerCtx,
    Path((_, page)): Path<(String, String)>,
) -> Result<Response, Response> {
    let page = format!("/{page}");
    let access = ctx
        .portal
        .service
        .access(ctx.principal(), &ctx.tenant, None, None)
        .await
        .map_err(|error| ctx.fail(error))?;
    let Some(workspace) = access.workspaces.iter().find(|found| found.page == page) else {
        return Err(layout::not_found(&ctx.nav));
    };
    let body = html! {
        p {
            "This workspace is "
            @if workspace.open { (badge(Tone::Good, "Open")) } @else { (badge(Tone::Bad, "Locked")) }
            " for you. Its actions:"
        }
        (actions_explained(&ctx, &workspace.actions))
    };
    Ok(ctx.page(&workspace.name, None, body))
}

// ---- Legal Info, profiles, agreements, enrollment ------------------------------------

async fn legal_info(ctx: PartnerCtx, Query(query): Query<PageQuery>) -> Result<Response, Response> {
    let info = ctx
        .portal
        .service
        .legal_info(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let state = ctx
        .state(query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        p class="tabs" { span class="tab current" aria-current="page" { "Partner" } }
        section class="card" aria-labelledby="programs" {
            h2 id="programs" { "Program info" }
            p { "Tenant " strong { (info.tenant) } " (" (info.country) "), primary contact "
                strong { (info.primary_contact.as_deref().unwrap_or("none")) } "." }
            table {
                caption { "Each program's enrollment status (must be Active) and verification status (must be Authorized)" }
                thead { tr { th scope="col" { "Program" } th scope="col" { "Enrollment" } th scope="col" { "Verification" } } }
                tbody {
                    @for program in &info.programs {
                        tr {
                            th scope="row" { (program.name) }
                            @if program.enrolled {
                                td data-label="Enrollment" { (status_badge(program.enrollment.as_deref().unwrap_or_default())) }
                                td {
                                    (status_badge(program.verification.as_deref().unwrap_or_default()))
                                    @if program.verification.as_deref() == Some("not_started") {
                                        @let command = Command::SubmitVerification { program: program.program.clone() };
                                        @if ctx.would(&state, &command).is_ok() {
                                            form method="post" class="inline" action=(ctx.href(&format!("/account/programs/{}/submit", program.program))) {
                                                (write_keys(&ctx.session.csrf))
                                                " " button type="submit" { "Submit verification" }
                                            }
                                        }
                                    }
                                    " " a href=(ctx.href("/account/verification")) { "Verification summary" }
                                }
                            } @else {
                                td colspan="2" {
                                    (badge(Tone::Bad, "No program record"))
                                    p class="one-line" {
                                        "The Partner tab has no data for this program. A Global Admin or "
                                        "Microsoft AI Cloud Partner Program partner admin must verify the enrollment "
                                        "(" code { "verify_enrollment" } ")."
                                    }
                                    @let command = Command::Enroll { program: program.program.clone() };
                                    @match ctx.would(&state, &command) {
                                        Ok(()) => {
                                            form method="post" action=(ctx.href(&format!("/account/programs/{}/enroll", program.program))) {
                                                (write_keys(&ctx.session.csrf))
                                                button type="submit" { "Verify enrollment in " (program.name) }
                                            }
                                        }
                                        Err(error) => { p class="hint" { "You cannot enroll: " (sentence(&error.to_string())) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="agreements" {
            h2 id="agreements" { "Agreements" }
            ul class="plain" {
                @for agreement in &info.agreements {
                    li {
                        (agreement.name) " "
                        @if agreement.accepted {
                            (badge(Tone::Good, "Accepted"))
                        } @else {
                            (badge(Tone::Bad, "Not accepted"))
                            @let command = Command::AcceptAgreement { agreement: agreement.agreement.clone() };
                            @if ctx.would(&state, &command).is_ok() {
                                form method="post" class="inline" action=(ctx.href(&format!("/account/agreements/{}/accept", agreement.agreement))) {
                                    (write_keys(&ctx.session.csrf))
                                    " " button type="submit" { "Accept " (agreement.name) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="profiles" {
            h2 id="profiles" { "Payment and tax profiles" }
            ul class="plain" {
                @for profile in &info.profiles {
                    li { (profile.name) " "
                        @if profile.complete { (badge(Tone::Good, "Complete")) } @else { (badge(Tone::Bad, "Incomplete")) }
                    }
                }
            }
            p { a href=(ctx.href("/account/profiles")) { "Manage payment and tax profiles" } }
            p { "Partner Capability Score: " strong { (info.capability_score.map_or_else(|| "not known".to_owned(), |score| score.to_string())) } }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("Account settings → Legal Info", notice.as_ref(), body))
}

async fn profiles(ctx: PartnerCtx, Query(query): Query<PageQuery>) -> Result<Response, Response> {
    let info = ctx
        .portal
        .service
        .legal_info(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let state = ctx
        .state(query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        p { "Buying or renewing a membership needs a complete payment profile and tax profile." }
        @for profile in &info.profiles {
            @let command = Command::UpdateProfile { profile: profile.profile.clone(), complete: !profile.complete };
            section class="card" {
                h2 { (profile.name) " "
                    @if profile.complete { (badge(Tone::Good, "Complete")) } @else { (badge(Tone::Bad, "Incomplete")) }
                }
                @match ctx.would(&state, &command) {
                    Ok(()) => {
                        form method="post" action=(ctx.href(&format!("/account/profiles/{}", profile.profile))) {
                            (write_keys(&ctx.session.csrf))
                            input type="hidden" name="complete" value=(if profile.complete { "false" } else { "true" });
                            @if profile.complete {
                                button type="submit" { "Mark " (profile.name.to_lowercase()) " incomplete" }
                            } @else {
                                button type="submit" class="primary" { "Mark " (profile.name.to_lowercase()) " complete" }
                            }
                        }
                    }
                    Err(error) => { (ctx.refusal(&error)) }
                }
            }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page(
        "Account settings → Payment and tax profiles",
        notice.as_ref(),
        body,
    ))
}

async fn update_profile(
    ctx: PartnerCtx,
    Path((_, profile)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let complete = match ctx.required(&form, "complete")?.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(ctx.fail(ServiceError::Invalid {
                field: "complete".to_owned(),
                message: "must be true or false".to_owned(),
            }));
        }
    };
    let command = Command::UpdateProfile { profile, complete };
    ctx.write(command, &form, "/account/profiles", "profile")
        .await
}

// ---- verification summary and appeals ------------------------------------------------

/// The document types an appeal offers (the reviewer's requested ones first).
const DOCUMENT_TYPES: [&str; 6] = [
    "Business registration certificate",
    "Tax registration document",
    "Bank statement",
    "Utility bill",
    "Government-issued ID of the primary contact",
    "Other supporting document",
];

async fn verification(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let state = ctx
        .state(query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let mut summaries = Vec::new();
    for record in &state.programs {
        let program = ctx.catalog().program(record.program);
        let view = ctx
            .portal
            .service
            .verification(ctx.principal(), &ctx.tenant, &program.id, query.rev)
            .await
            .map_err(|error| ctx.fail(error))?;
        summaries.push((program.name.clone(), view));
    }
    let max = ctx.catalog().vetting.max_appeals;
    let body = html! {
        @if summaries.is_empty() {
            section class="card" {
                p { (badge(Tone::Bad, "No program record")) " The tenant is not enrolled in any program, so there is no verification to show." }
                p { "A Global Admin or Microsoft AI Cloud Partner Program partner admin must verify the enrollment on "
                    a href=(ctx.href("/account/legal-info")) { "Legal Info" } "." }
            }
        }
        @for (name, view) in &summaries {
            (verification_section(&ctx, &state, name, view, max))
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("Verification summary", notice.as_ref(), body))
}

fn verification_section(
    ctx: &PartnerCtx,
    state: &Tenant,
    name: &str,
    view: &VerificationView,
    max: u8,
) -> Markup {
    let appealable = matches!(view.status.as_str(), "rejected" | "challenged");
    let dry_run = Command::Appeal {
        program: view.program.clone(),
        document_type: DOCUMENT_TYPES[0].to_owned(),
        document: "0".repeat(64),
    };
    let appeal_allowed = ctx.would(state, &dry_run);
    let field = |suffix: &str| format!("{}-{suffix}", view.program);
    html! {
        section class="card" aria-labelledby=(field("title")) {
            h2 id=(field("title")) { (name) }
            @if view.action_required {
                div class="banner" role="alert" {
                    p { strong { "Action required — Fix now. " } (view.reason.as_deref().unwrap_or("The reviewer needs more information.")) }
                    @if !view.documents_requested.is_empty() {
                        p { "Send: " (view.documents_requested.join(", ")) "." }
                    }
                }
            }
            dl class="facts" {
                dt { "Verification status" } dd { (status_badge(&view.status)) }
                dt { "Enrollment status" } dd { (status_badge(&view.enrollment)) }
                @if let Some(reason) = &view.reason {
                    dt { "Reason" } dd { (reason) }
                }
                @if let Some(submitted) = &view.submitted_at {
                    dt { "Submitted" } dd { (when(submitted)) }
                }
                @if let Some(due) = &view.sla_due {
                    dt { "SLA due" } dd { (due) " (3–5 business days is normal)" }
                }
                @if let Some(days) = view.business_days_elapsed {
                    dt { "Business days elapsed" } dd { (days) }
                }
                @if view.overdue {
                    dt { "SLA" } dd { (badge(Tone::Bad, "Overdue")) " More than 5 business days with no action-required banner: "
                        a href=(ctx.href("/support")) { "contact support" } "." }
                }
                dt { "Appeals" } dd { (view.appeals_used) " used, " strong { (view.appeals_left) " of " (max) " left" } }
                @if let Some(case) = &view.escalated_case {
                    dt { "Support case" } dd { a href=(ctx.href(&format!("/support/cases/{case}"))) { (case) } }
                }
            }
            @if view.status == "not_started" {
                @let command = Command::SubmitVerification { program: view.program.clone() };
                @if ctx.would(state, &command).is_ok() {
                    form method="post" action=(ctx.href(&format!("/account/programs/{}/submit", view.program))) {
                        (write_keys(&ctx.session.csrf))
                        button type="submit" class="primary" { "Submit verification" }
                    }
                }
            }
            @if appealable {
                form method="post" enctype="multipart/form-data" class="appeal"
                    action=(ctx.href(&format!("/account/verification/{}/appeal", view.program))) {
                    (write_keys(&ctx.session.csrf))
                    fieldset disabled[appeal_allowed.is_err()] {
                        legend { "Resolve: appeal with supporting documentation" }
                        p {
                            label for=(field("document-type")) { "Document type" }
                            select id=(field("document-type")) name="document_type" required {
                                @for requested in &view.documents_requested {
                                    option value=(requested) { (requested) }
                                }
                                @for kind in DOCUMENT_TYPES {
                                    @if !view.documents_requested.iter().any(|requested| requested == kind) {
                                        option value=(kind) { (kind) }
                                    }
                                }
                            }
                        }
                        p {
                            label for=(field("document")) { "Supporting document (PDF, PNG or JPEG, at most 10 MiB)" }
                            input id=(field("document")) name="document" type="file" required
                                accept=".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg";
                        }
                        p { button type="submit" class="primary" { "Submit appeal" } " "
                            span class="hint" { (view.appeals_left) " of " (max) " appeals left" } }
                    }
                    @if let Err(error) = &appeal_allowed {
                        (ctx.refusal(error))
                    }
                }
            }
            @if !view.appeals.is_empty() {
                h3 { "Appeals submitted" }
                ol {
                    @for appeal in &view.appeals {
                        li { (when(&appeal.at)) ": " (appeal.document_type) " by " (appeal.by) }
                    }
                }
            }
        }
    }
}

async fn appeal(
    ctx: PartnerCtx,
    Path((_, program)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let document_type = ctx.required(&form, "document_type")?;
    let Some(document) = form.file("document") else {
        return Err(ctx.fail(ServiceError::Invalid {
            field: "document".to_owned(),
            message: "is required: choose a PDF, PNG or JPEG file".to_owned(),
        }));
    };
    let outcome = ctx
        .portal
        .service
        .appeal(
            ctx.principal(),
            &ctx.tenant,
            &program,
            &document_type,
            document.bytes.to_vec(),
            form.text("form_key"),
        )
        .await
        .map_err(|error| ctx.fail(error))?;
    Ok(ctx.done("/account/verification", "appealed", &outcome))
}

// ---- membership -------------------------------------------------------------------------

async fn membership(ctx: PartnerCtx, Query(query): Query<PageQuery>) -> Result<Response, Response> {
    ctx.gate(ctx.catalog().gates.membership_page, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let state = ctx
        .state(query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let now = Timestamp::now();
    let body = html! {
        section class="card" {
            h2 { "Your memberships" }
            @if state.memberships.is_empty() {
                p { "The tenant holds no membership yet." }
            } @else {
                ul class="plain" {
                    @for held in &state.memberships {
                        li {
                            (ctx.catalog().offer(held.offer).name) " "
                            @if held.expires_at > now { (badge(Tone::Good, "Active")) } @else { (badge(Tone::Bad, "Expired")) }
                            " until " (when(&held.expires_at.to_string()))
                        }
                    }
                }
            }
            p { a href=(ctx.href("/membership/offers")) { "See membership offers" } }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("Membership", notice.as_ref(), body))
}

async fn offers(ctx: PartnerCtx, Query(query): Query<PageQuery>) -> Result<Response, Response> {
    ctx.gate(ctx.catalog().gates.offers_page, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let catalog = ctx.catalog();
    let mut rows = Vec::new();
    for offer in &catalog.offers {
        let mut buttons = Vec::new();
        // The offer's declared actions; one the catalog turned off has no button.
        for (verb, gate) in [("Buy", offer.buy), ("Renew", offer.renew)] {
            if let Some(action) = gate.action() {
                let check = ctx
                    .check(action, query.rev)
                    .await
                    .map_err(|error| ctx.fail(error))?;
                buttons.push((verb, check));
            }
        }
        rows.push((offer, buttons));
    }
    let body = html! {
        @for (offer, buttons) in &rows {
            section class="card offer" aria-labelledby=(format!("offer-{}", offer.id)) {
                h2 id=(format!("offer-{}", offer.id)) { (offer.name) }
                p class="hint" { (offer.term_days) "-day term; renewable in the last " (offer.renewal_window_days) " days." }
                @for (verb, check) in buttons {
                    @let path = format!("/membership/offers/{}/{}", offer.id, verb.to_lowercase());
                    div class="buy" {
                        form method="post" class="inline" action=(ctx.href(&path)) {
                            (write_keys(&ctx.session.csrf))
                            button type="submit" class=(if check.allowed { "primary" } else { "" })
                                disabled[!check.allowed] { (verb) " Now" }
                        }
                        @if check.allowed {
                            " " (badge(Tone::Good, "Available"))
                        } @else {
                            " " (badge(Tone::Bad, "Disabled"))
                            details class="why" {
                                summary { "Learn why " (verb) " is disabled" }
                                p { "Every criterion below must be met before you can " (verb.to_lowercase()) " " (offer.name) ":" }
                                (unmet_list(catalog, &ctx.tenant, &check.unmet))
                            }
                        }
                    }
                }
            }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("Membership offers", notice.as_ref(), body))
}

// ---- users --------------------------------------------------------------------------------

async fn users(ctx: PartnerCtx, Query(query): Query<PageQuery>) -> Result<Response, Response> {
    let users = ctx
        .portal
        .service
        .users(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let catalog = ctx.catalog();
    let manage = ctx
        .gate_check(catalog.gates.manage_roles, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let add = ctx
        .gate_check(catalog.gates.add_user, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let may_manage = manage.as_ref().is_none_or(|check| check.allowed);
    let may_add = add.as_ref().is_none_or(|check| check.allowed);
    // Each refused gate's reasons, once when both gates name the same action.
    let mut refused: Vec<&CheckResult> = [manage.as_ref(), add.as_ref()]
        .into_iter()
        .flatten()
        .filter(|check| !check.allowed)
        .collect();
    refused.dedup_by(|a, b| a.action == b.action);
    let body = html! {
        @if !refused.is_empty() {
            section class="card refused" {
                h2 { (badge(Tone::Bad, "Refused")) " Adding users and changing roles is not possible now" }
                @for check in &refused {
                    (unmet_list(catalog, &ctx.tenant, &check.unmet))
                }
            }
        }
        table {
            caption { "Users of " (ctx.tenant) " and their roles" }
            thead { tr { th scope="col" { "User" } th scope="col" { "Roles" } th scope="col" { "Change roles" } } }
            tbody {
                @for user in &users {
                    tr {
                        th scope="row" { (user.id) @if user.primary_contact { " " (badge(Tone::Plain, "Primary contact")) } }
                        td {
                            @if user.roles.is_empty() { "No roles" }
                            ul class="plain" { @for role in &user.roles { li { (role_name(catalog, role)) } } }
                        }
                        td {
                            details {
                                summary { "Change roles of " (user.id) }
                                form method="post" action=(ctx.href(&format!("/users/{}/roles", user.id))) {
                                    (write_keys(&ctx.session.csrf))
                                    fieldset disabled[!may_manage] {
                                        legend { "Roles of " (user.id) }
                                        @for role in &catalog.roles {
                                            @let id = format!("role-{}-{}", user.id, role.id);
                                            p class="check" {
                                                input type="checkbox" id=(id) name="role" value=(role.id)
                                                    checked[user.roles.contains(&role.id)];
                                                label for=(id) { (role.name) }
                                            }
                                        }
                                        button type="submit" { "Save roles" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="add-user" {
            h2 id="add-user" { "Add a user" }
            form method="post" action=(ctx.href("/users")) {
                (write_keys(&ctx.session.csrf))
                fieldset disabled[!may_add] {
                    legend { "New user and roles" }
                    p {
                        label for="new-user" { "User id" }
                        input id="new-user" name="user" type="text" required maxlength="128" autocomplete="off";
                    }
                    @for role in &catalog.roles {
                        @let id = format!("new-role-{}", role.id);
                        p class="check" {
                            input type="checkbox" id=(id) name="role" value=(role.id);
                            label for=(id) { (role.name) }
                        }
                    }
                    button type="submit" class="primary" { "Add user" }
                }
                @if !may_add {
                    p class="why-disabled" { "Refused while the criteria above are unmet." }
                }
            }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("User management", notice.as_ref(), body))
}

async fn add_user(
    ctx: PartnerCtx,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let user = ctx.required(&form, "user")?;
    let roles = form.all("role").into_iter().map(str::to_owned).collect();
    let command = Command::AddUser { user, roles };
    ctx.write(command, &form, "/users", "user_added").await
}

async fn change_roles(
    ctx: PartnerCtx,
    Path((_, user)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let state = ctx.state(None).await.map_err(|error| ctx.fail(error))?;
    let Some(current) = state.user(&user) else {
        return Err(ctx.fail(ServiceError::NotFound {
            what: "user",
            id: user,
        }));
    };
    let catalog = ctx.catalog();
    let held: Vec<String> = current
        .roles
        .iter()
        .map(|role| catalog.role(role).id.clone())
        .collect();
    let wanted: Vec<String> = form.all("role").into_iter().map(str::to_owned).collect();
    let grant: Vec<String> = wanted
        .iter()
        .filter(|role| !held.contains(role))
        .cloned()
        .collect();
    let revoke: Vec<String> = held
        .iter()
        .filter(|role| !wanted.contains(role))
        .cloned()
        .collect();
    let mut last = None;
    // Two commands at most; each carries its own derived key so a resent form applies once.
    let key = form.text("form_key").map(str::to_owned);
    for (suffix, command) in [
        (
            "grant",
            (!grant.is_empty()).then(|| Command::GrantRoles {
                user: user.clone(),
                roles: grant.clone(),
            }),
        ),
        (
            "revoke",
            (!revoke.is_empty()).then(|| Command::RevokeRoles {
                user: user.clone(),
                roles: revoke.clone(),
            }),
        ),
    ] {
        let Some(command) = command else { continue };
        let key = key.as_ref().map(|key| format!("{key}.{suffix}"));
        let outcome = ctx
            .portal
            .service
            .execute(ctx.principal(), &ctx.tenant, command, key.as_deref())
            .await
            .map_err(|error| ctx.fail(error))?;
        last = Some(outcome);
    }
    match last {
        Some(outcome) => Ok(ctx.done("/users", "roles", &outcome)),
        None => Ok(Redirect::to(&ctx.href("/users")).into_response()),
    }
}

// ---- diagnosis ------------------------------------------------------------------------------

async fn diagnosis(ctx: PartnerCtx, Query(query): Query<PageQuery>) -> Result<Response, Response> {
    let diagnosis = ctx
        .portal
        .service
        .diagnosis(ctx.principal(), &ctx.tenant, None, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let catalog = ctx.catalog();
    let body = html! {
        section class="card lead" {
            h2 { "Root cause" }
            p { (diagnosis.cause) }
        }
        h2 { "Next supported steps, in order" }
        @if diagnosis.steps.is_empty() {
            p { (badge(Tone::Good, "Nothing to do")) " Nothing blocks you." }
        }
        ol class="steps" {
            @for step in &diagnosis.steps {
                @let page = step_page(catalog, &step.code);
                li {
                    p { strong { (step_label(&step.code)) } " " code { (step.code) } }
                    p { (step.text) }
                    @if step.code == "sign_in_again" {
                        form method="post" action="/logout" class="inline" {
                            (layout::csrf_input(&ctx.session.csrf))
                            button type="submit" { "Sign out to sign in again" }
                        }
                    } @else if !page.is_empty() {
                        p { a href=(ctx.href(&page)) { "Go to " (humanize(page.trim_start_matches('/').replace('/', " → ").as_str())) } }
                    }
                }
            }
        }
    };
    Ok(ctx.page("Diagnosis", None, body))
}

// ---- support --------------------------------------------------------------------------------

async fn support(ctx: PartnerCtx, Query(query): Query<PageQuery>) -> Result<Response, Response> {
    let cases = ctx
        .portal
        .service
        .cases(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let state = ctx
        .state(query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let catalog = ctx.catalog();
    let body = html! {
        section class="card" aria-labelledby="cases" {
            h2 id="cases" { "Your support cases" }
            @if cases.is_empty() {
                p { "No support case yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Case" } th scope="col" { "Subject" } th scope="col" { "Status" } th scope="col" { "Opened" } } }
                    tbody {
                        @for case in &cases {
                            tr {
                                th scope="row" { a href=(ctx.href(&format!("/support/cases/{}", case.id))) { (case.id) } }
                                td data-label="Subject" { (case.subject) }
                                td data-label="Status" { (status_badge(&case.status)) }
                                td data-label="Opened" { (when(&case.opened_at)) " by " (case.opened_by) }
                            }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="open-case" {
            h2 id="open-case" { "Open a support case" }
            form method="post" action=(ctx.href("/support/cases")) {
                (write_keys(&ctx.session.csrf))
                p {
                    label for="subject" { "Subject" }
                    input id="subject" name="subject" type="text" required maxlength="200";
                }
                p {
                    label for="program" { "Program concerned" }
                    select id="program" name="program" {
                        option value="" { "None" }
                        @for record in &state.programs {
                            @let program = catalog.program(record.program);
                            option value=(program.id) { (program.name) }
                        }
                    }
                }
                p {
                    label for="body" { "What happened" }
                    textarea id="body" name="body" rows="5" required maxlength="10000" {}
                }
                button type="submit" class="primary" { "Open case" }
            }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("Support", notice.as_ref(), body))
}

async fn open_case(
    ctx: PartnerCtx,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let subject = ctx.required(&form, "subject")?;
    let body = ctx.required(&form, "body")?;
    let program = form
        .text("program")
        .map(str::trim)
        .filter(|program| !program.is_empty())
        .map(str::to_owned);
    let outcome = ctx
        .execute(
            Command::OpenCase {
                subject,
                program,
                body,
            },
            &form,
        )
        .await
        .map_err(|error| ctx.fail(error))?;
    let case = outcome.events.iter().find_map(|event| match event {
        clearance_core::Event::CaseOpened { case, .. } => Some(case.clone()),
        _ => None,
    });
    match case {
        Some(case) => Ok(ctx.done(&format!("/support/cases/{case}"), "case_opened", &outcome)),
        None => Ok(ctx.done("/support", "case_opened", &outcome)),
    }
}

async fn case(
    ctx: PartnerCtx,
    Path((_, case)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let case = ctx
        .portal
        .service
        .case(ctx.principal(), &ctx.tenant, &case, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        (case_detail(&case))
        @if case.status == "open" {
            form method="post" action=(ctx.href(&format!("/support/cases/{}/comments", case.id))) class="card" {
                (write_keys(&ctx.session.csrf))
                p {
                    label for="comment" { "Add a comment" }
                    textarea id="comment" name="body" rows="4" required maxlength="10000" {}
                }
                button type="submit" { "Comment" }
            }
        }
        p { a href=(ctx.href("/support")) { "All support cases" } }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page(&format!("Support case {}", case.id), notice.as_ref(), body))
}

/// A case's facts and comments (shared with the console).
pub(crate) fn case_detail(case: &clearance_server::views::CaseView) -> Markup {
    html! {
        section class="card" {
            h2 { (case.subject) " " (status_badge(&case.status)) }
            dl class="facts" {
                dt { "Opened" } dd { (when(&case.opened_at)) " by " (case.opened_by) }
                @if let Some(program) = &case.program { dt { "Program" } dd { (program) } }
                @if let Some(resolution) = &case.resolution { dt { "Resolution" } dd { (resolution) } }
            }
            h3 { "Comments" }
            ol class="comments" {
                @for comment in &case.comments {
                    li {
                        p class="meta" { strong { (comment.by) } " · " (when(&comment.at)) }
                        p class="text" { (comment.body) }
                    }
                }
            }
        }
    }
}

async fn comment_case(
    ctx: PartnerCtx,
    Path((_, case)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let body = ctx.required(&form, "body")?;
    let back = format!("/support/cases/{case}");
    let command = Command::CommentCase { case, body };
    ctx.write(command, &form, &back, "commented").await
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
