//! Membership: the memberships held, and the offers with Buy Now and Renew
//! Now (disabled with "Learn why" while the service's view refuses them).

use axum::extract::Query;
use axum::response::Response;
use clearance_server::views::Affordance;
use maud::html;

use super::{PageQuery, PartnerCtx};
use crate::form::FormPage;
use crate::layout::{Tone, badge, done_notice, when, write_keys};

pub(super) async fn membership(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let memberships = ctx
        .portal
        .service
        .memberships(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        section class="card" {
            h2 { "Your memberships" }
            @if memberships.is_empty() {
                p { "The tenant holds no membership yet." }
            } @else {
                ul class="plain" {
                    @for held in &memberships {
                        li {
                            (held.name) " "
                            @if held.active { (badge(Tone::Good, "Active")) } @else { (badge(Tone::Bad, "Expired")) }
                            " until " (when(&held.expires_at))
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

pub(super) async fn offers(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let offers = ctx
        .portal
        .service
        .offers(ctx.principal(), &ctx.tenant, query.rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let body = html! {
        @for offer in &offers {
            // The offer's declared actions; one the catalog turned off has no button.
            @let buttons: Vec<(&str, &Affordance)> = [("Buy", &offer.buy), ("Renew", &offer.renew)]
                .into_iter()
                .filter_map(|(verb, button)| button.as_ref().map(|button| (verb, button)))
                .collect();
            section class="card offer" aria-labelledby=(format!("offer-{}", offer.offer)) {
                h2 id=(format!("offer-{}", offer.offer)) { (offer.name) }
                p class="hint" { (offer.term_days) "-day term; renewable in the last " (offer.renewal_window_days) " days." }
                @for (verb, button) in buttons {
                    @let path = format!("/membership/offers/{}/{}", offer.offer, verb.to_lowercase());
                    div class="buy" {
                        form method="post" class="inline" action=(ctx.href(&path)) {
                            (write_keys(&ctx.session.csrf))
                            button type="submit" class=(if button.allowed { "primary" } else { "" })
                                disabled[!button.allowed] { (verb) " Now" }
                        }
                        @if button.allowed {
                            " " (badge(Tone::Good, "Available"))
                        } @else {
                            " " (badge(Tone::Bad, "Disabled"))
                            details class="why" {
                                summary { "Learn why " (verb) " is disabled" }
                                @if button.refusal.as_ref().is_some_and(|refusal| !refusal.unmet.is_empty()) {
                                    p { "Every criterion below must be met before you can " (verb.to_lowercase()) " " (offer.name) ":" }
                                }
                                (ctx.disabled(button))
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
