//! The verification summary of every program, and the appeal with a
//! supporting document.

use axum::Extension;
use axum::extract::{Path, Query};
use axum::response::Response;
use clearance_server::ServiceError;
use clearance_server::views::VerificationView;
use maud::{Markup, html};

use super::{PageQuery, PartnerCtx};
use crate::form::{FormPage, Submitted};
use crate::layout::{Tone, badge, done_notice, status_badge, when, write_keys};

/// The document types an appeal offers (the reviewer's requested ones first).
const DOCUMENT_TYPES: [&str; 6] = [
    "Business registration certificate",
    "Tax registration document",
    "Bank statement",
    "Utility bill",
    "Government-issued ID of the primary contact",
    "Other supporting document",
];

pub(super) async fn verification(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let summaries = ctx
        .portal
        .service
        .verifications(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let max = ctx.catalog().vetting.max_appeals;
    let body = html! {
        @if summaries.is_empty() {
            section class="card" {
                p { (badge(Tone::Bad, "No program record")) " The tenant is not enrolled in any program, so there is no verification to show." }
                p { "A Global Admin or Microsoft AI Cloud Partner Program partner admin must verify the enrollment on "
                    a href=(ctx.href("/account/legal-info")) { "Legal Info" } "." }
            }
        }
        @for view in &summaries {
            (verification_section(&ctx, view, max))
        }
    };
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("Verification summary", notice.as_ref(), body))
}

fn verification_section(ctx: &PartnerCtx, view: &VerificationView, max: u8) -> Markup {
    let appealable = matches!(view.status.as_str(), "rejected" | "challenged");
    let appeal = &view.actions.appeal;
    let field = |suffix: &str| format!("{}-{suffix}", view.program);
    html! {
        section class="card" aria-labelledby=(field("title")) {
            h2 id=(field("title")) { (view.name) }
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
                @if view.actions.submit.allowed {
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
                    fieldset disabled[!appeal.allowed] {
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
                    (ctx.disabled(appeal))
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

pub(super) async fn appeal(
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
