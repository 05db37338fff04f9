//! The home page (where things stand, the workspace tiles), "Why is it
//! locked?", and any catalog workspace page without a page of its own.

use axum::extract::{Path, Query};
use axum::response::Response;
use clearance_server::views::{CheckResult, UnmetView, WorkspaceView};
use maud::{Markup, html};

use super::{PageQuery, PartnerCtx};
use crate::form::FormPage;
use crate::layout::{self, Tone, action_name, badge, done_notice, unmet_list};

pub(super) async fn home(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
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
fn workspace_unmet(workspace: &WorkspaceView) -> Vec<&UnmetView> {
    let mut seen: Vec<&UnmetView> = Vec::new();
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

pub(super) async fn why(
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
pub(super) async fn workspace_page(
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
