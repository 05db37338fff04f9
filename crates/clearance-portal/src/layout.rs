//! The page frame and the pieces every page shares: navigation, status
//! badges (a glyph and a word, never colour alone), notices, the explanation
//! of unmet criteria, and how a service error reads as a page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use clearance_core::Catalog;
use clearance_server::views::{RefusalView, UnmetView};
use clearance_server::{Principal, ServiceError};
use maud::{DOCTYPE, Markup, html};

use crate::form::CSRF_FIELD;
use crate::random;
use crate::session::Session;

/// Who the page is for: decides the navigation and the sign-out form.
#[derive(Clone, Debug)]
pub enum Nav {
    /// Not signed in.
    Anonymous,
    /// A partner user of `tenant`.
    Partner {
        tenant: String,
        login: String,
        csrf: String,
    },
    /// Operator staff.
    Staff { login: String, csrf: String },
}

impl Nav {
    /// The navigation for a request's session.
    pub fn of(session: Option<&Session>) -> Nav {
        match session {
            None => Nav::Anonymous,
            Some(session) => match &session.principal {
                Principal::Partner { tenant, .. } => Nav::Partner {
                    tenant: tenant.clone(),
                    login: session.login.clone(),
                    csrf: session.csrf.clone(),
                },
                Principal::Staff { .. } => Nav::Staff {
                    login: session.login.clone(),
                    csrf: session.csrf.clone(),
                },
            },
        }
    }
}

/// A one-line notice at the top of a page.
#[derive(Clone, Debug)]
pub struct Notice {
    /// Success or failure.
    pub ok: bool,
    /// The text.
    pub text: String,
}

/// The notice for a `?done=` code set by a redirect after a successful form.
pub fn done_notice(code: Option<&str>) -> Option<Notice> {
    let text = match code? {
        "bought" => "Membership bought.",
        "renewed" => "Membership renewed.",
        "appealed" => "Appeal submitted: verification is Pending again.",
        "profile" => "Profile updated.",
        "agreement" => "Agreement accepted.",
        "enrolled" => "Enrollment recorded: the program is Pending qualification.",
        "submitted" => "Verification submitted: the SLA clock has started.",
        "user_added" => "User added.",
        "roles" => "Roles changed.",
        "user_removed" => "User removed.",
        "case_opened" => "Support case opened.",
        "commented" => "Comment added.",
        "resolved" => "Support case resolved.",
        "authorized" => "Verification authorized; the enrollment is Active.",
        "rejected" => "Verification rejected.",
        "challenged" => "Verification challenged: the partner sees an action-required banner.",
        "review" => "Review started.",
        _ => return None,
    };
    Some(Notice {
        ok: true,
        text: text.to_owned(),
    })
}

/// A whole page.
pub fn page(nav: &Nav, title: &str, notice: Option<&Notice>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · clearance" }
                link rel="stylesheet" href="/static/portal.css";
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    div class="bar" {
                        a class="brand" href=(home(nav)) { "clearance" }
                        @match nav {
                            Nav::Anonymous => {}
                            Nav::Partner { login, csrf, .. } | Nav::Staff { login, csrf } => {
                                div class="who" {
                                    span { "Signed in as " strong { (login) } }
                                    form method="post" action="/logout" class="inline" {
                                        (csrf_input(csrf))
                                        button type="submit" class="link" { "Sign out" }
                                    }
                                }
                            }
                        }
                    }
                    (navigation(nav))
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    @if let Some(notice) = notice {
                        @if notice.ok {
                            p class="notice ok" role="status" { span class="glyph" aria-hidden="true" { "✓ " } (notice.text) }
                        } @else {
                            p class="notice bad" role="alert" { span class="glyph" aria-hidden="true" { "✕ " } (notice.text) }
                        }
                    }
                    (body)
                }
            }
        }
    }
}

fn home(nav: &Nav) -> String {
    match nav {
        Nav::Anonymous => "/login".to_owned(),
        Nav::Partner { tenant, .. } => format!("/t/{tenant}"),
        Nav::Staff { .. } => "/ops/queue".to_owned(),
    }
}

fn navigation(nav: &Nav) -> Markup {
    let links: Vec<(String, &str)> = match nav {
        Nav::Anonymous => return html! {},
        Nav::Partner { tenant, .. } => [
            ("", "Home"),
            ("/account/legal-info", "Legal Info"),
            ("/account/verification", "Verification"),
            ("/membership", "Membership"),
            ("/membership/offers", "Offers"),
            ("/users", "Users"),
            ("/diagnosis", "Diagnosis"),
            ("/support", "Support"),
        ]
        .into_iter()
        .map(|(path, label)| (format!("/t/{tenant}{path}"), label))
        .collect(),
        Nav::Staff { .. } => vec![
            ("/ops/queue".to_owned(), "Verification queue"),
            ("/ops/tenants".to_owned(), "Tenants"),
            ("/ops/cases".to_owned(), "Support cases"),
        ],
    };
    html! {
        nav aria-label="Main" {
            ul {
                @for (href, label) in &links {
                    li { a href=(href) { (label) } }
                }
            }
        }
    }
}

/// A rendered page as a response.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A page holding one message.
pub fn message_page(status: StatusCode, nav: &Nav, title: &str, text: &str) -> Response {
    respond(
        status,
        page(
            nav,
            title,
            None,
            html! {
                p { (text) }
                p { a href=(home(nav)) { "Go to the start page" } }
            },
        ),
    )
}

/// The one "not found" page: the same for a page that does not exist and for
/// a tenant the user may not know about.
pub fn not_found(nav: &Nav) -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        nav,
        "Page not found",
        "There is no such page, or it is not yours to see.",
    )
}

/// The hidden CSRF field of a form.
pub fn csrf_input(csrf: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(csrf); }
}

/// The hidden fields of a form that writes: the CSRF token and a fresh key, so
/// that sending the same form twice (a reload, a double click) applies it once.
pub fn write_keys(csrf: &str) -> Markup {
    html! {
        (csrf_input(csrf))
        input type="hidden" name="form_key" value=(random::token("form_"));
    }
}

/// How a state reads at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Done, open, authorized.
    Good,
    /// Waiting, in progress.
    Wait,
    /// Blocked, rejected, overdue.
    Bad,
    /// Neither.
    Plain,
}

/// A badge: glyph and text, coloured by tone.
pub fn badge(tone: Tone, text: &str) -> Markup {
    let (class, glyph) = match tone {
        Tone::Good => ("badge good", "✓"),
        Tone::Wait => ("badge wait", "…"),
        Tone::Bad => ("badge bad", "✕"),
        Tone::Plain => ("badge plain", "•"),
    };
    html! { span class=(class) { span class="glyph" aria-hidden="true" { (glyph) } " " (text) } }
}

/// A badge for an enrollment, verification or case status (snake_case).
pub fn status_badge(status: &str) -> Markup {
    let tone = match status {
        "active" | "authorized" | "resolved" => Tone::Good,
        "pending" | "pending_qualification" | "in_progress" | "open" => Tone::Wait,
        "rejected" | "challenged" | "suspended" | "closed" => Tone::Bad,
        _ => Tone::Plain,
    };
    badge(tone, &humanize(status))
}

/// `pending_qualification` → `Pending qualification`.
pub fn humanize(code: &str) -> String {
    let text = code.replace(['_', '.'], " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// An RFC 3339 instant as `2026-11-25 14:03 UTC` (the text itself when it does not parse).
pub fn when(rfc3339: &str) -> String {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// What a next-step code asks the user to do, as a link label.
pub fn step_label(code: &str) -> String {
    match code {
        "check_legal_info" => "Check Legal Info".to_owned(),
        "verify_enrollment" => "Verify the enrollment".to_owned(),
        "review_verification_summary" => "Review the verification summary".to_owned(),
        "wait_for_verification" => "Wait for verification".to_owned(),
        "respond_to_challenge" => "Respond to the challenge".to_owned(),
        "submit_appeal" => "Submit an appeal".to_owned(),
        "contact_support" => "Contact support".to_owned(),
        "accept_agreement" => "Accept the agreement".to_owned(),
        "assign_role" => "Assign the role".to_owned(),
        "complete_profile" => "Complete the profile".to_owned(),
        "sign_in_again" => "Sign in again".to_owned(),
        "explain_disabled_purchase" => "See why Buy is disabled".to_owned(),
        other => humanize(other),
    }
}

/// The portal page (below `/t/{tenant}`) where a next-step code is taken: the
/// catalog's page for it when a requirement names it, else the portal's own.
pub fn step_page(catalog: &Catalog, code: &str) -> String {
    if let Some(requirement) = catalog
        .requirements
        .iter()
        .find(|requirement| requirement.next_step.code == code)
    {
        return requirement.next_step.page.clone();
    }
    match code {
        "check_legal_info" | "verify_enrollment" | "accept_agreement" => "/account/legal-info",
        "review_verification_summary"
        | "wait_for_verification"
        | "respond_to_challenge"
        | "submit_appeal" => "/account/verification",
        "contact_support" => "/support",
        "assign_role" => "/users",
        "complete_profile" => "/account/profiles",
        "explain_disabled_purchase" => "/membership/offers",
        _ => "",
    }
    .to_owned()
}

/// Who can fix an unmet criterion, in the words decisions and diagnosis use
/// ([`clearance_core::prose::who_can_fix`]).
fn fixers(catalog: &Catalog, unmet: &UnmetView) -> String {
    let roles: Vec<String> = unmet
        .fixed_by
        .roles
        .iter()
        .map(|role| role_name(catalog, role))
        .collect();
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    clearance_core::prose::who_can_fix_named(
        &roles,
        unmet.fixed_by.primary_contact,
        unmet.fixed_by.support,
    )
    .unwrap_or_else(|| "anyone signed in to the tenant".to_owned())
}

/// A role's display name (its id when the catalog has no such role).
pub fn role_name(catalog: &Catalog, role: &str) -> String {
    catalog
        .roles
        .iter()
        .find(|candidate| candidate.id == role)
        .map_or_else(|| role.to_owned(), |found| found.name.clone())
}

/// A program's display name (its id when the catalog has no such program).
pub fn program_name(catalog: &Catalog, program: &str) -> String {
    catalog
        .program_ix(program)
        .map_or_else(|| program.to_owned(), |ix| catalog.program(ix).name.clone())
}

/// A portal page's name (below `/t/{tenant}`): the catalog workspace's name
/// for its page, else the portal's own page names.
pub fn page_name(catalog: &Catalog, page: &str) -> String {
    if let Some(workspace) = catalog.workspaces.iter().find(|found| found.page == page) {
        return workspace.name.clone();
    }
    match page {
        "/account/legal-info" => "Legal Info",
        "/account/verification" => "Verification summary",
        "/account/profiles" => "Payment and tax profiles",
        "/membership" => "Membership",
        "/membership/offers" => "Membership offers",
        "/users" => "User management",
        "/diagnosis" => "Diagnosis",
        "/support" => "Support",
        _ => "the page",
    }
    .to_owned()
}

/// An action's display name.
pub fn action_name(catalog: &Catalog, action: &str) -> String {
    catalog
        .action_ix(action)
        .map_or_else(|| action.to_owned(), |ix| catalog.action(ix).name.clone())
}

/// Orders unmet criteria root cause first: a verification that is not
/// Authorized holds the enrollment back too, so it comes before the
/// enrollment, and both before roles, agreements and profiles. Stable, so
/// the catalog's order holds within each kind.
pub fn root_cause_first<T: std::borrow::Borrow<UnmetView>>(unmet: &mut [T]) {
    unmet.sort_by_key(|item| match item.borrow().kind.as_str() {
        "verification" => 0,
        "enrollment" => 1,
        _ => 2,
    });
}

/// Whether only the reader's roles keep these criteria unmet (then the
/// answer is "you need permission"; otherwise the thing is locked).
pub fn roles_only(unmet: &[UnmetView]) -> bool {
    !unmet.is_empty()
        && unmet
            .iter()
            .all(|item| matches!(item.kind.as_str(), "any_role" | "primary_contact_or_role"))
}

/// Every unmet criterion, root cause first: why, who can fix it, and the
/// next step with a link.
pub fn unmet_list(catalog: &Catalog, tenant: &str, unmet: &[UnmetView]) -> Markup {
    let mut unmet: Vec<&UnmetView> = unmet.iter().collect();
    root_cause_first(&mut unmet);
    html! {
        ol class="unmet" {
            @for item in unmet {
                li {
                    p class="reason" { (badge(Tone::Bad, "Unmet")) " " (item.reason) }
                    dl {
                        dt { "Who can fix it" }
                        dd { (fixers(catalog, item)) }
                        dt { "Next step" }
                        dd {
                            a href=(format!("/t/{tenant}{}", item.next_step.page)) {
                                (step_label(&item.next_step.code))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How a failed service call reads as a page. `tenant` is the partner's
/// tenant, for the links of unmet criteria (`None` in the console).
pub fn service_error(
    nav: &Nav,
    catalog: &Catalog,
    tenant: Option<&str>,
    error: ServiceError,
) -> Response {
    let explain = |title: &str, text: String, unmet: Vec<UnmetView>, status: StatusCode| {
        respond(
            status,
            page(
                nav,
                title,
                None,
                html! {
                    p { (text) }
                    @if !unmet.is_empty() {
                        @if let Some(tenant) = tenant {
                            h2 { "What is missing" }
                            (unmet_list(catalog, tenant, &unmet))
                        } @else {
                            ul { @for item in &unmet { li { (item.reason) } } }
                        }
                    }
                    p { a href=(home(nav)) { "Go to the start page" } }
                },
            ),
        )
    };
    match error {
        ServiceError::NotFound { what: "tenant", .. } => not_found(nav),
        ServiceError::NotFound { what, id } => message_page(
            StatusCode::NOT_FOUND,
            nav,
            "Not found",
            &format!("There is no {what} `{id}`."),
        ),
        ServiceError::Denied(check) if roles_only(&check.unmet) => explain(
            "You need permission",
            format!(
                "{} needs a role you do not hold. Who can give it to you is listed below.",
                action_name(catalog, &check.action)
            ),
            check.unmet,
            StatusCode::FORBIDDEN,
        ),
        ServiceError::Denied(check) => {
            let mut unmet: Vec<&UnmetView> = check.unmet.iter().collect();
            root_cause_first(&mut unmet);
            let title = match unmet.first().map(|item| item.kind.as_str()) {
                Some("verification") => "Locked until verification is Authorized",
                Some("enrollment") => "Locked until the enrollment is Active",
                _ => "Locked until the criteria below are met",
            };
            explain(
                title,
                format!(
                    "{} stays locked until every criterion below is met; a role alone would not open it.",
                    action_name(catalog, &check.action)
                ),
                check.unmet,
                StatusCode::FORBIDDEN,
            )
        }
        ServiceError::Refused(refusal) => {
            let view = RefusalView::new(catalog, &refusal);
            explain(
                "Not done",
                format!("Nothing was changed: {}.", view.message),
                view.unmet,
                StatusCode::CONFLICT,
            )
        }
        ServiceError::Invalid { field, message } => message_page(
            StatusCode::BAD_REQUEST,
            nav,
            "Check the form",
            &format!("Nothing was changed: {field} {message}."),
        ),
        ServiceError::Forbidden { message, .. } => {
            message_page(StatusCode::FORBIDDEN, nav, "Not allowed", &message)
        }
        ServiceError::Conflict { .. } | ServiceError::RevisionNotReached { .. } => message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            nav,
            "Try again",
            "The tenant changed at the same moment. Go back and try again.",
        ),
        ServiceError::IdempotencyKeyReused { .. } | ServiceError::TokenAlreadyIssued { .. } => {
            message_page(
                StatusCode::CONFLICT,
                nav,
                "Already sent",
                "This form was already sent. Reload the page to see the result.",
            )
        }
        other => {
            tracing::error!(error = %other, "portal page failed");
            message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                nav,
                "Something went wrong",
                "The page could not be shown. Try again in a moment.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_words() {
        assert_eq!(humanize("pending_qualification"), "Pending qualification");
        let catalog = clearance_core::Catalog::partner_center();
        let offer = catalog
            .offer_ix("maicpp_core_benefits")
            .expect("core offer");
        let buy = catalog.gate_id(catalog.offer(offer).buy);
        assert_eq!(humanize(buy), "Membership offers buy");
        assert_eq!(humanize(""), "");
    }

    #[test]
    fn instants_read_in_minutes_utc() {
        assert_eq!(when("2026-11-25T14:03:59Z"), "2026-11-25 14:03 UTC");
        assert_eq!(when("yesterday"), "yesterday");
    }

    #[test]
    fn badges_carry_a_word_not_only_a_colour() {
        let markup = status_badge("pending_qualification").into_string();
        assert!(markup.contains("Pending qualification"), "{markup}");
        assert!(markup.contains("badge wait"), "{markup}");
    }

    #[test]
    fn every_step_of_the_default_catalog_has_a_page() {
        let catalog = Catalog::partner_center();
        for code in [
            "check_legal_info",
            "verify_enrollment",
            "review_verification_summary",
            "wait_for_verification",
            "respond_to_challenge",
            "submit_appeal",
            "contact_support",
            "accept_agreement",
            "assign_role",
            "complete_profile",
            "explain_disabled_purchase",
        ] {
            assert!(step_page(catalog, code).starts_with('/'), "{code}");
        }
    }
}
