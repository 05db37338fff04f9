//! The home page (where things stand, the workspace tiles), "Why is it
//! locked?", and any catalog workspace page without a page of its own.

use axum::extract::{Path, Query};
use axum::response::Response;
use clearance_server::views::{CheckResult, UnmetView, VerificationView, WorkspaceView};
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
    // Not everyone may read the verification summary; then Home shows no
    // verification state beyond the tiles' criteria.
    let verifications = ctx
        .portal
        .service
        .verifications(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .unwrap_or_default();
    let body = html! {
        @for view in verifications.iter().filter(|view| needs_partner(view)) {
            section class="banner" role="alert" aria-label=(format!("Action required: {}", view.name)) {
                p {
                    strong { "Action required — " (view.name) ". " }
                    @if view.status == "rejected" {
                        "Verification was rejected"
                        @if let Some(reason) = &view.reason { ": " (reason) }
                        " (" (view.appeals_left) " of " (view.appeals_used + view.appeals_left) " appeals left)."
                    } @else {
                        (view.reason.as_deref().unwrap_or("The reviewer needs more information."))
                    }
                }
                p { a class="button" href=(ctx.href(VERIFICATION_PAGE)) { "Resolve" } }
            }
        }
        section class="card lead" aria-labelledby="state" {
            h2 id="state" { "Where things stand" }
            p { (diagnosis.cause) }
            p { a href=(ctx.href("/diagnosis")) { "See the next supported steps" } }
        }
        h2 { "Workspaces" }
        ul class="tiles" {
            @for workspace in &access.workspaces {
                @let unmet = workspace_unmet(workspace);
                @let partly = workspace.open && !unmet.is_empty();
                @let state = (workspace.page == VERIFICATION_PAGE).then(|| verification_state(&verifications)).flatten();
                li class=(if !workspace.open { "tile locked" } else if partly || state.is_some_and(|(tone, _)| tone != Tone::Good) { "tile partly" } else { "tile open" }) {
                    h3 {
                        @if workspace.open {
                            a href=(ctx.href(&workspace.page)) { (workspace.name) }
                        } @else {
                            (workspace.name)
                        }
                    }
                    @if let Some((tone, text)) = state {
                        p { (badge(tone, text)) }
                    } @else if !workspace.open {
                        p { (badge(Tone::Bad, "Locked")) }
                    } @else if partly {
                        p { (badge(Tone::Wait, "Partly locked")) }
                    } @else {
                        p { (badge(Tone::Good, "Open")) }
                    }
                    // The verification tile's badge already says what to do on its page.
                    @if let Some(first) = unmet.first().filter(|_| !workspace.open || state.is_none()) {
                        p class="one-line" { (first.reason) }
                        p {
                            a href=(ctx.href(&format!("/why/{}", workspace.workspace))) {
                                @if workspace.open { "What is locked in " } @else { "Why is " }
                                (workspace.name)
                                @if workspace.open { "?" } @else { " locked?" }
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

/// The verification summary's page: its tile shows the verification's state.
const VERIFICATION_PAGE: &str = "/account/verification";

/// Whether the next move on a verification is the partner's (challenged, or
/// rejected with an appeal left): Home then shows the action-required banner.
fn needs_partner(view: &VerificationView) -> bool {
    view.action_required || (view.status == "rejected" && view.appeals_left > 0)
}

/// The verification tile's badge: the most pressing state of any program's
/// verification, `None` when the tenant has none.
fn verification_state(views: &[VerificationView]) -> Option<(Tone, &'static str)> {
    let rank = |view: &VerificationView| -> (u8, Tone, &'static str) {
        match view.status.as_str() {
            _ if view.action_required => (0, Tone::Bad, "Action required"),
            "rejected" => (1, Tone::Bad, "Rejected"),
            "challenged" => (0, Tone::Bad, "Action required"),
            _ if view.overdue => (2, Tone::Bad, "Overdue"),
            "pending" | "in_progress" => (3, Tone::Wait, "Pending review"),
            "not_started" => (4, Tone::Wait, "Not submitted"),
            _ => (5, Tone::Good, "Authorized"),
        }
    };
    views
        .iter()
        .map(rank)
        .min_by_key(|(rank, _, _)| *rank)
        .map(|(_, tone, text)| (tone, text))
}

/// A workspace's unmet criteria across its actions, each once, root cause
/// first (see [`layout::root_cause_first`]).
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
    layout::root_cause_first(&mut seen);
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
