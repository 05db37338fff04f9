//! Account settings → Legal Info (the Partner tab: programs, agreements,
//! profiles) and the payment and tax profiles page.

use axum::Extension;
use axum::extract::{Path, Query};
use axum::response::Response;
use clearance_core::workflow::Command;
use clearance_server::ServiceError;
use maud::html;

use super::{PageQuery, PartnerCtx, sentence};
use crate::form::{FormPage, Submitted};
use crate::layout::{Tone, badge, done_notice, status_badge, write_keys};

pub(super) async fn legal_info(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let info = ctx
        .portal
        .service
        .legal_info(ctx.principal(), &ctx.tenant, query.rev)
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
                    @for row in &info.programs {
                        @let program = &row.info;
                        tr {
                            th scope="row" { (program.name) }
                            @if program.enrolled {
                                td data-label="Enrollment" { (status_badge(program.enrollment.as_deref().unwrap_or_default())) }
                                td {
                                    (status_badge(program.verification.as_deref().unwrap_or_default()))
                                    @if program.verification.as_deref() == Some("not_started") {
                                        @if row.submit.allowed {
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
                                        "Microsoft AI Cloud Partner Program partner admin must verify the enrollment."
                                    }
                                    @match &row.enroll.refusal {
                                        None => {
                                            form method="post" action=(ctx.href(&format!("/account/programs/{}/enroll", program.program))) {
                                                (write_keys(&ctx.session.csrf))
                                                button type="submit" { "Verify enrollment in " (program.name) }
                                            }
                                        }
                                        Some(refusal) => { p class="hint" { "You cannot enroll: " (sentence(&refusal.message)) } }
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
                            @if agreement.accept.allowed {
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

pub(super) async fn profiles(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let info = ctx
        .portal
        .service
        .legal_info(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        p { "Buying or renewing a membership needs a complete payment profile and tax profile." }
        @for profile in &info.profiles {
            section class="card" {
                h2 { (profile.name) " "
                    @if profile.complete { (badge(Tone::Good, "Complete")) } @else { (badge(Tone::Bad, "Incomplete")) }
                }
                @match &profile.update.refusal {
                    None => {
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
                    Some(refusal) => { (ctx.refusal(refusal)) }
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

pub(super) async fn update_profile(
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
