//! The diagnosis page: the root cause and the next supported steps, each
//! with a link to the page where it is taken.

use axum::extract::Query;
use axum::response::Response;
use maud::html;

use super::{PageQuery, PartnerCtx};
use crate::form::FormPage;
use crate::layout::{self, Tone, badge, page_name, step_label, step_page};

pub(super) async fn diagnosis(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
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
                    p { strong { (step_label(&step.code)) } }
                    p { (step.text) }
                    @if step.code == "sign_in_again" {
                        form method="post" action="/logout" class="inline" {
                            (layout::csrf_input(&ctx.session.csrf))
                            button type="submit" { "Sign out to sign in again" }
                        }
                    } @else if !page.is_empty() {
                        p { a href=(ctx.href(&page)) { "Go to " (page_name(catalog, &page)) } }
                    }
                }
            }
        }
    };
    Ok(ctx.page("Diagnosis", None, body))
}
