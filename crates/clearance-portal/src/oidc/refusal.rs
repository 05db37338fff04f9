//! Why a single sign-on was refused, each with the page a person sees.
//! Nothing is created on any refusal: no session, no user.

use axum::http::StatusCode;
use axum::response::Response;

use crate::layout::{self, Nav};

/// A refused single sign-on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The callback's `state` matches no sign-in this browser started.
    TamperedState,
    /// The issuer answered with an error instead of a code.
    ProviderError {
        /// The OAuth error code.
        code: String,
    },
    /// The issuer could not be reached or answered nonsense.
    ProviderUnavailable,
    /// The ID token was minted for another client.
    WrongAudience,
    /// The ID token has expired.
    Expired,
    /// The ID token failed another check (signature, issuer, nonce, ...).
    InvalidToken {
        /// What failed.
        reason: String,
    },
    /// The ID token lacks a claim the mapping needs.
    MissingClaim {
        /// The claim.
        claim: String,
    },
    /// The claims name no tenant of this service.
    UnknownTenant {
        /// What the claims named (a tenant id or an e-mail domain).
        named: String,
    },
    /// The tenant has no such user and just-in-time linking does not add it.
    UnlinkedUser {
        /// The tenant.
        tenant: String,
        /// The user id the claims named.
        user: String,
    },
    /// Just-in-time linking was allowed but the tenant refused the new user.
    LinkRefused {
        /// The workflow's explanation.
        message: String,
    },
    /// A staff issuer's user is in none of its staff groups.
    NotStaff,
}

impl Refusal {
    /// The status, title and explanation of the refusal's page.
    pub fn page(&self) -> (StatusCode, &'static str, String) {
        match self {
            Refusal::TamperedState => (
                StatusCode::BAD_REQUEST,
                "Sign-in not recognised",
                "This sign-in answer does not belong to a sign-in started in this browser, or it \
                 was already used or is too old. Nothing was changed. Start again from the \
                 sign-in page."
                    .to_owned(),
            ),
            Refusal::ProviderError { code } => (
                StatusCode::BAD_REQUEST,
                "Sign-in cancelled",
                format!(
                    "Your organisation's sign-in service did not sign you in ({code}). Nothing was changed."
                ),
            ),
            Refusal::ProviderUnavailable => (
                StatusCode::BAD_GATEWAY,
                "Sign-in service unavailable",
                "Your organisation's sign-in service cannot be reached just now. Try again in a \
                 moment."
                    .to_owned(),
            ),
            Refusal::WrongAudience => (
                StatusCode::UNAUTHORIZED,
                "Sign-in refused: token for another application",
                "The identity token was issued for another application, not for clearance. \
                 Nothing was changed."
                    .to_owned(),
            ),
            Refusal::Expired => (
                StatusCode::UNAUTHORIZED,
                "Sign-in refused: token expired",
                "The identity token had already expired when it arrived (check the clocks of \
                 the sign-in service and of this server). Nothing was changed."
                    .to_owned(),
            ),
            Refusal::InvalidToken { reason } => (
                StatusCode::UNAUTHORIZED,
                "Sign-in refused: invalid token",
                format!("The identity token failed its checks: {reason}. Nothing was changed."),
            ),
            Refusal::MissingClaim { claim } => (
                StatusCode::FORBIDDEN,
                "Sign-in refused: missing claim",
                format!(
                    "Your organisation's sign-in service did not say {claim}, which clearance \
                     needs to know who you are. Ask your administrator. Nothing was changed."
                ),
            ),
            Refusal::UnknownTenant { named } => (
                StatusCode::FORBIDDEN,
                "Unknown organisation",
                format!(
                    "No partner organisation here matches {named}. Ask your administrator or \
                     support to set it up. Nothing was created."
                ),
            ),
            Refusal::UnlinkedUser { tenant, user } => (
                StatusCode::FORBIDDEN,
                "No account for you here",
                format!(
                    "{user} is not a user of {tenant}. Ask an administrator of {tenant} to add \
                     you. Nothing was created."
                ),
            ),
            Refusal::LinkRefused { message } => (
                StatusCode::FORBIDDEN,
                "You cannot be added yet",
                format!("Adding you to your organisation was refused: {message} Nothing was created."),
            ),
            Refusal::NotStaff => (
                StatusCode::FORBIDDEN,
                "Not support staff",
                "You are not in a support staff group of this sign-in service. Nothing was created."
                    .to_owned(),
            ),
        }
    }

    /// The refusal's page.
    pub fn respond(&self) -> Response {
        let (status, title, text) = self.page();
        layout::message_page(status, &Nav::Anonymous, title, &text)
    }
}
