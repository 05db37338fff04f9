//! User management: the users and their roles, "Save roles" per user and
//! "Add a user", each disabled with its refusal while the service's view
//! refuses it.

use axum::Extension;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use clearance_core::workflow::Command;
use clearance_server::ServiceError;
use clearance_server::views::RefusalView;
use maud::html;

use super::{PageQuery, PartnerCtx, sentence};
use crate::accounts::{SETUP_LINK_DAYS, SetupLink, issue_setup_link};
use crate::form::{FormPage, Submitted};
use crate::layout::{Notice, Tone, badge, done_notice, role_name, write_keys};

pub(super) async fn users(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let notice = done_notice(query.done.as_deref());
    render(&ctx, query.rev, notice.as_ref(), None).await
}

/// The page, with `notice` and, right after adding a user, the user's
/// one-time set-up link.
async fn render(
    ctx: &PartnerCtx,
    rev: Option<u64>,
    notice: Option<&Notice>,
    setup: Option<(&str, &SetupLink)>,
) -> Result<Response, Response> {
    let view = ctx
        .portal
        .service
        .users(ctx.principal(), &ctx.tenant, rev)
        .await
        .map_err(|error| ctx.fail(error))?;
    let catalog = ctx.catalog();
    let users = &view.users;
    let may_add = view.add_user.allowed;
    // Each refusal once: changing roles and adding users are usually refused
    // by the same gate for the same reasons.
    let mut refused: Vec<&RefusalView> = Vec::new();
    for refusal in users
        .iter()
        .map(|user| &user.change_roles)
        .chain([&view.add_user])
        .filter_map(|affordance| affordance.refusal.as_ref())
    {
        if !refused.contains(&refusal) {
            refused.push(refusal);
        }
    }
    let body = html! {
        @if let Some((href, link)) = setup {
            section class="card setup-link" aria-labelledby="setup-link" {
                h2 id="setup-link" { "Send " (link.login) " this set-up link" }
                p { "Whoever opens it chooses the password for the sign-in " strong { (link.login) } ", once, within "
                    (SETUP_LINK_DAYS) " days. It is shown only now: copy it and send it to the user." }
                p { code class="link" { (href) } }
            }
        }
        @if !refused.is_empty() {
            section class="card refused" {
                h2 { (badge(Tone::Bad, "Refused")) " Adding users and changing roles is not possible now" }
                @for refusal in &refused {
                    (ctx.refusal(refusal))
                }
            }
        }
        table {
            caption { "Users of " (ctx.tenant) " and their roles" }
            thead { tr { th scope="col" { "User" } th scope="col" { "Roles" } th scope="col" { "Change roles" } } }
            tbody {
                @for user in users {
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
                                    fieldset disabled[!user.change_roles.allowed] {
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
                                @if user.change_roles.allowed {
                                    @if let Some(refusal) = &user.revoke_all.refusal {
                                        p class="why-disabled" { (badge(Tone::Plain, "Kept")) " " (sentence(&refusal.message)) }
                                    }
                                }
                            }
                            @if !user.primary_contact {
                                form method="post" action=(ctx.href(&format!("/users/{}/remove", user.id))) class="remove" {
                                    (write_keys(&ctx.session.csrf))
                                    button type="submit" disabled[!user.remove.allowed] { "Remove " (user.id) }
                                }
                                @if user.change_roles.allowed { (ctx.disabled(&user.remove)) }
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
                        input id="new-user" name="user" type="text" required maxlength="128" autocomplete="off"
                            pattern="\\S+" title="One word, no spaces" aria-describedby="new-user-hint";
                        span id="new-user-hint" class="hint" {
                            "One word, no spaces: a name such as " code { "frank" } " or an e-mail address such as "
                            code { "frank@example.com" } ". They sign in as " code { "user-id@" (ctx.tenant) }
                            " with a password they choose from the set-up link shown after adding them."
                        }
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
    Ok(ctx.page("User management", notice, body))
}

pub(super) async fn add_user(
    ctx: PartnerCtx,
    headers: HeaderMap,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let user = ctx.required(&form, "user")?;
    let roles = form.all("role").into_iter().map(str::to_owned).collect();
    let command = Command::AddUser {
        user: user.clone(),
        roles,
    };
    let outcome = ctx
        .execute(command, &form)
        .await
        .map_err(|error| ctx.fail(error))?;
    let link = issue_setup_link(&ctx.portal.service, &ctx.tenant, &user)
        .await
        .map_err(|error| ctx.fail(error))?;
    let href = format!("{}/setup/{}", origin(&headers), link.token);
    let notice = Notice {
        ok: true,
        text: format!("User {user} added."),
    };
    render(
        &ctx,
        Some(outcome.revision),
        Some(&notice),
        Some((&href, &link)),
    )
    .await
}

/// `remove_user`: back to the page with its notice.
pub(super) async fn remove_user(
    ctx: PartnerCtx,
    Path((_, user)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    ctx.write(
        Command::RemoveUser { user },
        &form,
        "/users",
        "user_removed",
    )
    .await
}

/// The address the browser reached the portal at (for a link to copy).
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| {
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
    host.map_or_else(String::new, |host| format!("http://{host}"))
}

pub(super) async fn change_roles(
    ctx: PartnerCtx,
    Path((_, user)): Path<(String, String)>,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let view = ctx
        .portal
        .service
        .users(ctx.principal(), &ctx.tenant, None)
        .await
        .map_err(|error| ctx.fail(error))?;
    let Some(current) = view.users.into_iter().find(|found| found.id == user) else {
        return Err(ctx.fail(ServiceError::NotFound {
            what: "user",
            id: user,
        }));
    };
    let held = current.roles;
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
