//! Support: the tenant's cases, opening one, and a case with its comments.

use axum::Extension;
use axum::extract::{Path, Query};
use axum::response::Response;
use clearance_core::workflow::Command;
use maud::{Markup, html};

use super::{PageQuery, PartnerCtx};
use crate::form::{FormPage, Submitted};
use crate::layout::{done_notice, program_name, status_badge, when, write_keys};

pub(super) async fn support(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let view = ctx
        .portal
        .service
        .support(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let cases = &view.cases;
    let body = html! {
        section class="card" aria-labelledby="cases" {
            h2 id="cases" { "Your support cases" }
            @if cases.is_empty() {
                p { "No support case yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Case" } th scope="col" { "Subject" } th scope="col" { "Status" } th scope="col" { "Opened" } } }
                    tbody {
                        @for case in cases {
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
                        @for program in &view.programs {
                            option value=(program.program) { (program.name) }
                        }
                    }
                }
                p {
                    label for="body" { "What happened" }
                    textarea id="body" name="body" rows="5" required maxlength="10000" {}
                }
                button type="submit" class="primary" disabled[!view.open_case.allowed] { "Open case" }
                (ctx.disabled(&view.open_case))
            }
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("Support", notice.as_ref(), body))
}

pub(super) async fn open_case(
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

pub(super) async fn case(
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
        (case_detail(ctx.catalog(), &case))
        @if case.actions.comment.allowed {
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
pub(crate) fn case_detail(
    catalog: &clearance_core::Catalog,
    case: &clearance_server::views::CaseView,
) -> Markup {
    html! {
        section class="card" {
            h2 { (case.subject) " " (status_badge(&case.status)) }
            dl class="facts" {
                dt { "Opened" } dd { (when(&case.opened_at)) " by " (case.opened_by) }
                @if let Some(program) = &case.program { dt { "Program" } dd { (program_name(catalog, program)) } }
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

pub(super) async fn comment_case(
    ctx: PartnerCtx,
    Path((_, case)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let body = ctx.required(&form, "body")?;
    let back = format!("/support/cases/{case}");
    let command = Command::CommentCase { case, body };
    ctx.write(command, &form, &back, "commented").await
}
