//! User management: the users and their roles, "Save roles" per user and
//! "Add a user", each disabled with its refusal while the service's view
//! refuses it.

use axum::Extension;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use clearance_core::workflow::Command;
use clearance_server::ServiceError;
use clearance_server::views::RefusalView;
use maud::html;

use super::{PageQuery, PartnerCtx};
use crate::form::{FormPage, Submitted};
use crate::layout::{Tone, badge, done_notice, role_name, write_keys};

pub(super) async fn users(
    ctx: PartnerCtx,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let view = ctx
        .portal
        .service
        .users(ctx.principal(), &ctx.tenant, query.rev)
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
                        input id="new-user" name="user" type="text" required maxlength="128" autocomplete="off";
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
    let notice = done_notice(query.done.as_deref());
    Ok(ctx.page("User management", notice.as_ref(), body))
}

pub(super) async fn add_user(
    ctx: PartnerCtx,
    Extension(form): Extension<Submitted>,
) -> Result<Response, Response> {
    let user = ctx.required(&form, "user")?;
    let roles = form.all("role").into_iter().map(str::to_owned).collect();
    let command = Command::AddUser { user, roles };
    ctx.write(command, &form, "/users", "user_added").await
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
