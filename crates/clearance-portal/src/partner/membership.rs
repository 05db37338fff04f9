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
                            (ctx.catalog().offers[held.offer.index()].name) " "
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

