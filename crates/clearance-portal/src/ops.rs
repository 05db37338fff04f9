//! The operator console under `/ops`: the verification queue by SLA age,
//! every tenant with its state, timeline and the vetting actions, and the
//! support cases. Only the operator's staff reach it; a partner session gets
//! the same "not found" page as for any page that does not exist.

use axum::Extension;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use clearance_core::Catalog;
use clearance_core::workflow::Command;
use clearance_server::views::{EventView, VerificationView};
use clearance_server::{Principal, ServiceError};
use jiff::Timestamp;
use maud::{Markup, html};
use serde_json::Value;

use crate::Portal;
use crate::form::{CurrentSession, FormPage, Submitted};
use crate::layout::{
    self, Nav, Notice, Tone, badge, done_notice, humanize, role_name, status_badge, when,
    write_keys,
};
use crate::partner::case_detail;
use crate::session::Session;

/// Events shown on one page of a tenant's timeline.
const TIMELINE_PAGE: u32 = 200;

/// The console's routes.
pub(crate) fn routes() -> Router<Portal> {
    Router::new()
        .route("/ops", get(|| async { Redirect::to("/ops/queue") }))
        .route("/ops/queue", get(queue))
        .route("/ops/tenants", get(tenants))
        .route("/ops/tenants/{tenant}", get(tenant))
        .route(
            "/ops/tenants/{tenant}/programs/{program}/{action}",
            post(vetting),
        )
        .route(
            "/ops/tenants/{tenant}/cases/{case}/resolve",
            post(resolve_case),
        )
        .route(
            "/ops/tenants/{tenant}/cases/{case}/comments",
            post(comment_case),
        )
        .route("/ops/cases", get(cases))
}

/// A request by the operator's staff.
pub(crate) struct StaffCtx {
    portal: Portal,
    session: Session,
    nav: Nav,
}

impl FromRequestParts<Portal> for StaffCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, portal: &Portal) -> Result<Self, Response> {
        let session = CurrentSession::required(parts).map_err(IntoResponse::into_response)?;
        let nav = Nav::of(Some(&session));
        match session.principal {
            Principal::Staff { .. } => Ok(StaffCtx {
                portal: portal.clone(),
                session,
                nav,
            }),
            Principal::Partner { .. } => Err(layout::not_found(&nav)),
        }
    }
}

/// The query of console pages.
#[derive(serde::Deserialize, Default)]
pub(crate) struct OpsQuery {
    done: Option<String>,
    rev: Option<u64>,
    after: Option<u64>,
}

impl FormPage for StaffCtx {
    fn fail(&self, error: ServiceError) -> Response {
        layout::service_error(&self.nav, self.catalog(), None, error)
    }
}

impl StaffCtx {
    fn principal(&self) -> &Principal {
        &self.session.principal
    }

    fn catalog(&self) -> &Catalog {
        self.portal.service.catalog()
    }

    fn page(&self, title: &str, notice: Option<&Notice>, body: Markup) -> Response {
        layout::respond(StatusCode::OK, layout::page(&self.nav, title, notice, body))
    }

    /// Runs `command` on `tenant` with the form's key (a resent form applies
    /// once), then goes back to the tenant's page with the notice `code`; a
    /// refusal answers the error page.
    async fn write(
        &self,
        tenant: &str,
        command: Command,
        form: &Submitted,
        code: &str,
    ) -> Result<Response, Response> {
        let outcome = self
            .portal
            .service
            .execute(self.principal(), tenant, command, form.text("form_key"))
            .await
            .map_err(|error| self.fail(error))?;
        Ok(Redirect::to(&format!(
            "/ops/tenants/{tenant}?done={code}&rev={}",
            outcome.revision
        ))
        .into_response())
    }
}

async fn queue(ctx: StaffCtx) -> Result<Response, Response> {
    let queue = ctx
        .portal
        .service
        .verification_queue(ctx.principal(), Timestamp::now())
        .map_err(|error| ctx.fail(error))?;
    let max = ctx.catalog().vetting.max_appeals;
    let body = html! {
        p { "Every verification waiting on someone, the most business days elapsed first. "
            "The SLA is " (ctx.catalog().vetting.sla_business_days) " business days." }
        @if queue.is_empty() {
            p { (badge(Tone::Good, "Empty")) " Nothing is waiting." }
        } @else {
            div class="scroll" {
                table {
                    caption { "Verification queue, by SLA age" }
                    thead { tr {
                        th scope="col" { "Tenant" } th scope="col" { "Program" } th scope="col" { "Status" }
                        th scope="col" { "Business days" } th scope="col" { "SLA due" } th scope="col" { "SLA" }
                        th scope="col" { "Banner" } th scope="col" { "Appeals used" }
                    } }
                    tbody {
                        @for entry in &queue {
                            tr {
                                th scope="row" { a href=(format!("/ops/tenants/{}", entry.tenant)) { (entry.tenant) } }
                                td data-label="Program" { (entry.program) }
                                td data-label="Status" { (status_badge(&entry.status)) }
                                td class="num" data-label="Business days" { (entry.business_days_elapsed) }
                                td data-label="SLA due" { (entry.sla_due.as_deref().unwrap_or("—")) }
                                td data-label="SLA" { @if entry.overdue { (badge(Tone::Bad, "Overdue")) } @else { (badge(Tone::Plain, "Within SLA")) } }
                                td data-label="Banner" { @if entry.action_required { (badge(Tone::Wait, "Action required")) } @else { "None" } }
                                td class="num" data-label="Appeals used" { (entry.appeals_used) " of " (max) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.page("Verification queue", None, body))
}

async fn tenants(ctx: StaffCtx) -> Result<Response, Response> {
    let tenants = ctx
        .portal
        .service
        .tenants(ctx.principal())
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        div class="scroll" {
            table {
                caption { "Tenants and their programs" }
                thead { tr { th scope="col" { "Tenant" } th scope="col" { "Country" } th scope="col" { "Primary contact" } th scope="col" { "Programs" } } }
                tbody {
                    @for tenant in &tenants {
                        tr {
                            th scope="row" { a href=(format!("/ops/tenants/{}", tenant.id)) { (tenant.id) } }
                            td data-label="Country" { (tenant.country) }
                            td data-label="Primary contact" { (tenant.primary_contact.as_deref().unwrap_or("—")) }
                            td {
                                @if tenant.programs.is_empty() { "Not enrolled" }
                                ul class="plain" {
                                    @for program in &tenant.programs {
                                        li { (program.program) ": "
                                            (status_badge(program.enrollment.as_deref().unwrap_or_default())) " "
                                            (status_badge(program.verification.as_deref().unwrap_or_default())) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.page("Tenants", None, body))
}

async fn tenant(
    ctx: StaffCtx,
    Path(tenant): Path<String>,
    Query(query): Query<OpsQuery>,
) -> Result<Response, Response> {
    let service = &ctx.portal.service;
    let principal = ctx.principal();
    let summary = service
        .tenant_summary(principal, &tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let programs = service
        .verifications(principal, &tenant, None)
        .await
        .map_err(|error| ctx.fail(error))?;
    let users = service
        .users(principal, &tenant, None)
        .await
        .map_err(|error| ctx.fail(error))?
        .users;
    let cases = service
        .cases(principal, &tenant, None)
        .await
        .map_err(|error| ctx.fail(error))?;
    let events = service
        .events(principal, &tenant, query.after.unwrap_or(0), TIMELINE_PAGE)
        .await
        .map_err(|error| ctx.fail(error))?;
    let catalog = ctx.catalog();
    let body = html! {
        p { "Country " strong { (summary.country) } ", primary contact " strong { (summary.primary_contact.as_deref().unwrap_or("none")) }
            ", " (summary.version) " events." }
        @if programs.is_empty() {
            p { (badge(Tone::Bad, "No program record")) " The tenant is not enrolled in any program." }
        }
        @for view in &programs {
            (program_section(&ctx, view))
        }
        section class="card" aria-labelledby="users" {
            h2 id="users" { "Users" }
            ul class="plain" {
                @for user in &users {
                    li { strong { (user.id) } @if user.primary_contact { " " (badge(Tone::Plain, "Primary contact")) } ": "
                        @if user.roles.is_empty() { "no roles" }
                        (user.roles.iter().map(|role| role_name(catalog, role)).collect::<Vec<_>>().join(", ")) }
                }
            }
        }
        section class="card" aria-labelledby="cases" {
            h2 id="cases" { "Support cases" }
            @if cases.is_empty() { p { "No support case." } }
            @for case in &cases {
                div id=(format!("case-{}", case.id)) {
                    (case_detail(ctx.catalog(), case))
                    @if case.actions.comment.allowed || case.actions.resolve.allowed {
                        div class="actions" {
                            @if case.actions.comment.allowed {
                            form method="post" action=(format!("/ops/tenants/{tenant}/cases/{}/comments", case.id)) {
                                (write_keys(&ctx.session.csrf))
                                p {
                                    label for=(format!("comment-{}", case.id)) { "Comment on " (case.id) }
                                    textarea id=(format!("comment-{}", case.id)) name="body" rows="3" required {}
                                }
                                button type="submit" { "Comment" }
                            }
                            }
                            @if case.actions.resolve.allowed {
                            form method="post" action=(format!("/ops/tenants/{tenant}/cases/{}/resolve", case.id)) {
                                (write_keys(&ctx.session.csrf))
                                p {
                                    label for=(format!("resolution-{}", case.id)) { "Resolution of " (case.id) }
                                    textarea id=(format!("resolution-{}", case.id)) name="resolution" rows="3" required {}
                                }
                                button type="submit" class="primary" { "Resolve case" }
                            }
                            }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="timeline" {
            h2 id="timeline" { "Timeline" }
            div class="scroll" {
                table class="timeline" {
                    caption { "Every event of " (tenant) ": who, what, when" }
                    thead { tr { th scope="col" { "#" } th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } } }
                    tbody {
                        @for event in &events.events {
                            tr {
                                td class="num" data-label="#" { (event.seq) }
                                td data-label="When" { (when(&event.at)) }
                                td data-label="Who" { (actor(&event.actor)) }
                                td { strong { (humanize(&event.kind)) } " " (details(event)) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = events.next_after {
                p { a href=(format!("/ops/tenants/{tenant}?after={next}")) { "Later events" } }
            }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page(&format!("Tenant {tenant}"), notice.as_ref(), body))
}

fn program_section(ctx: &StaffCtx, view: &VerificationView) -> Markup {
    let base = format!("/ops/tenants/{}/programs/{}", view.tenant, view.program);
    let start = view.actions.start_review.allowed;
    let authorize = view.actions.authorize.allowed;
    let reject = view.actions.reject.allowed;
    let challenge = view.actions.challenge.allowed;
    let id = |suffix: &str| format!("{}-{suffix}", view.program);
    html! {
        section class="card" aria-labelledby=(id("title")) {
            h2 id=(id("title")) { (view.name) " " (status_badge(&view.status)) }
            dl class="facts" {
                dt { "Enrollment" } dd { (status_badge(&view.enrollment)) }
                @if let Some(reason) = &view.reason { dt { "Reason" } dd { (reason) } }
                @if let Some(at) = &view.submitted_at { dt { "Submitted" } dd { (when(at)) } }
                @if let Some(days) = view.business_days_elapsed { dt { "Business days elapsed" } dd { (days) } }
                @if let Some(due) = &view.sla_due { dt { "SLA due" } dd { (due) } }
                dt { "SLA" } dd { @if view.overdue { (badge(Tone::Bad, "Overdue")) } @else { (badge(Tone::Plain, "Not overdue")) } }
                dt { "Banner" } dd { @if view.action_required { (badge(Tone::Wait, "Action required")) } @else { "None" } }
                dt { "Appeals used" } dd { (view.appeals_used) " (" (view.appeals_left) " left)" }
            }
            @if start || authorize {
                p class="buttons" {
                    @if authorize {
                        form method="post" class="inline" action=(format!("{base}/authorize")) {
                            (write_keys(&ctx.session.csrf))
                            button type="submit" class="primary" { "Authorize " (view.name) }
                        }
                    }
                    @if start {
                        form method="post" class="inline" action=(format!("{base}/start-review")) {
                            (write_keys(&ctx.session.csrf))
                            button type="submit" { "Start review" }
                        }
                    }
                }
            }
            div class="actions" {
                @if reject {
                    form method="post" action=(format!("{base}/reject")) {
                        (write_keys(&ctx.session.csrf))
                        p {
                            label for=(id("reject")) { "Reason for rejecting" }
                            textarea id=(id("reject")) name="reason" rows="2" required {}
                        }
                        button type="submit" class="danger" { "Reject" }
                    }
                }
                @if challenge {
                    form method="post" action=(format!("{base}/challenge")) {
                        (write_keys(&ctx.session.csrf))
                        p {
                            label for=(id("challenge")) { "Reason for the challenge (shown in the banner)" }
                            textarea id=(id("challenge")) name="reason" rows="2" required {}
                        }
                        p {
                            label for=(id("documents")) { "Documents to ask for (comma-separated)" }
                            input id=(id("documents")) name="documents" type="text" required;
                        }
                        button type="submit" { "Challenge" }
                    }
                }
                @if !(start || authorize || reject || challenge) {
                    p class="hint" { "No vetting action applies in this status." }
                }
            }
        }
    }
}

/// Who did an event, from its recorded actor.
fn actor(actor: &Value) -> String {
    match actor.get("kind").and_then(Value::as_str) {
        Some("partner") => format!(
            "{} (partner user)",
            actor.get("user").and_then(Value::as_str).unwrap_or("?")
        ),
        Some("support") => format!(
            "{} ({})",
            actor.get("id").and_then(Value::as_str).unwrap_or("?"),
            humanize(
                actor
                    .get("role")
                    .and_then(Value::as_str)
                    .unwrap_or("support")
            )
            .to_lowercase()
        ),
        Some("system") => "system".to_owned(),
        _ => actor.to_string(),
    }
}

/// An event's fields in a line (`program: maicpp, status: authorized`).
fn details(event: &EventView) -> String {
    let Some(fields) = event.payload.as_object() else {
        return String::new();
    };
    fields
        .iter()
        .filter(|(key, _)| key.as_str() != "type")
        .map(|(key, value)| {
            let value = match value {
                Value::String(text) => text.clone(),
                Value::Null => "—".to_owned(),
                other => other.to_string(),
            };
            format!("{key}: {value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn vetting(
    ctx: StaffCtx,
    Path((tenant, program, action)): Path<(String, String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let (command, code) = match action.as_str() {
        "start-review" => (Command::StartReview { program }, "review"),
        "authorize" => (Command::Authorize { program }, "authorized"),
        "reject" => (
            Command::Reject {
                program,
                reason: ctx.required(&form, "reason")?,
            },
            "rejected",
        ),
        "challenge" => {
            let documents = form
                .text("documents")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|document| !document.is_empty())
                .map(str::to_owned)
                .collect();
            (
                Command::Challenge {
                    program,
                    reason: ctx.required(&form, "reason")?,
                    documents,
                },
                "challenged",
            )
        }
        _ => return Err(layout::not_found(&ctx.nav)),
    };
    ctx.write(&tenant, command, &form, code).await
}

async fn resolve_case(
    ctx: StaffCtx,
    Path((tenant, case)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let resolution = ctx.required(&form, "resolution")?;
    let command = Command::ResolveCase { case, resolution };
    ctx.write(&tenant, command, &form, "resolved").await
}

async fn comment_case(
    ctx: StaffCtx,
    Path((tenant, case)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let body = ctx.required(&form, "body")?;
    let command = Command::CommentCase { case, body };
    ctx.write(&tenant, command, &form, "commented").await
}

async fn cases(ctx: StaffCtx) -> Result<Response, Response> {
    let cases = ctx
        .portal
        .service
        .all_cases(ctx.principal())
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        p { "Open cases first, oldest first." }
        @if cases.is_empty() { p { "No support case." } }
        @else {
            div class="scroll" {
                table {
                    caption { "Support cases across tenants" }
                    thead { tr { th scope="col" { "Tenant" } th scope="col" { "Case" } th scope="col" { "Subject" } th scope="col" { "Status" } th scope="col" { "Opened" } th scope="col" { "Comments" } } }
                    tbody {
                        @for case in &cases {
                            tr {
                                td { a href=(format!("/ops/tenants/{}", case.tenant)) { (case.tenant) } }
                                th scope="row" { a href=(format!("/ops/tenants/{}#case-{}", case.tenant, case.id)) { (case.id) } }
                                td data-label="Subject" { (case.subject) }
                                td data-label="Status" { (status_badge(&case.status)) }
                                td data-label="Opened" { (when(&case.opened_at)) " by " (case.opened_by) }
                                td class="num" data-label="Comments" { (case.comments.len()) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.page("Support cases", None, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actors_read_as_who_did_it() {
        assert_eq!(
            actor(&json!({"kind": "partner", "user": "alice"})),
            "alice (partner user)"
        );
        assert_eq!(
            actor(&json!({"kind": "support", "id": "sam", "role": "support_agent"})),
            "sam (support agent)"
        );
        assert_eq!(actor(&json!({"kind": "system"})), "system");
    }
}
