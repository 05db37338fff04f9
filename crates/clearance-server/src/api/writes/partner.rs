//! Partner writes (OpenAPI tag `partner`): users and roles, agreements, profiles, the
//! capability score and memberships.

use axum::response::Response;
use clearance_core::workflow::Command;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{NoBody, Write};
use crate::api::extract::IdempotencyKey;
use crate::error::{ApiError, ErrorBody};
use crate::views::WriteResult;

/// A user to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddUserRequest {
    /// User id.
    pub user: String,
    /// Roles to grant.
    pub roles: Vec<String>,
}

/// Grant or revoke roles.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    /// `grant` or `revoke`.
    pub op: RoleOp,
    /// Role ids.
    pub roles: Vec<String>,
}

/// Whether roles are granted or revoked.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleOp {
    /// Add the roles.
    Grant,
    /// Remove the roles.
    Revoke,
}

/// A profile's completeness.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// Complete or not.
    pub complete: bool,
}

/// A Partner Capability Score.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    /// 0-100.
    #[serde(deserialize_with = "crate::api::extract::whole_number::required")]
    pub score: u32,
}

/// Adds a user (refused while verification is not Authorized).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/users", tag = "partner",
    request_body = AddUserRequest,
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), IdempotencyKey),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Refused: roles frozen or not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "The user exists", body = ErrorBody),
    ))]
pub async fn add_user(write: Write<String, AddUserRequest>) -> Result<Response, ApiError> {
    write
        .run(|tenant, request| {
            let command = Command::AddUser {
                user: request.user,
                roles: request.roles,
            };
            (tenant, command)
        })
        .await
}

/// Grants or revokes roles (refused while verification is not Authorized).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/users/{user}/roles", tag = "partner",
    request_body = RolesRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("user" = String, Path, description = "User id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Refused: roles frozen or not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn change_roles(
    write: Write<(String, String), RolesRequest>,
) -> Result<Response, ApiError> {
    write
        .run(|(tenant, user), request| {
            let roles = request.roles;
            let command = match request.op {
                RoleOp::Grant => Command::GrantRoles { user, roles },
                RoleOp::Revoke => Command::RevokeRoles { user, roles },
            };
            (tenant, command)
        })
        .await
}

path_write!(
    /// Removes a user (refused for the primary contact and the last Global Admin).
    remove_user, "/v1/tenants/{tenant}/users/{user}/remove", tag = "partner",
    (user: "user" = "User id") => RemoveUser,
    responses(
        (status = 403, description = "Refused: roles frozen or not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant or user", body = ErrorBody),
        (status = 409, description = "The primary contact or the last Global Admin", body = ErrorBody),
    )
);

path_write!(
    /// Accepts an agreement.
    accept_agreement, "/v1/tenants/{tenant}/agreements/{agreement}/accept", tag = "partner",
    (agreement: "agreement" = "Agreement id") => AcceptAgreement,
    responses(
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Already accepted", body = ErrorBody),
    )
);

/// Marks a profile (payment, tax) complete or incomplete.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/profiles/{profile}", tag = "partner",
    request_body = ProfileRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("profile" = String, Path, description = "Profile id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn update_profile(
    write: Write<(String, String), ProfileRequest>,
) -> Result<Response, ApiError> {
    write
        .run(|(tenant, profile), request| {
            let complete = request.complete;
            (tenant, Command::UpdateProfile { profile, complete })
        })
        .await
}

/// Records a new Partner Capability Score (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/capability-score", tag = "partner",
    request_body = ScoreRequest,
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), IdempotencyKey),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn update_capability_score(
    write: Write<String, ScoreRequest>,
) -> Result<Response, ApiError> {
    write
        .run(|tenant, request| {
            let score = request.score;
            (tenant, Command::UpdateCapabilityScore { score })
        })
        .await
}

path_write!(
    /// Buys a membership offer (Buy Now; gated by `membership_offers.buy`).
    buy_membership, "/v1/tenants/{tenant}/memberships/{offer}/buy", tag = "partner",
    (offer: "offer" = "Offer id") => BuyMembership,
    responses(
        (status = 403, description = "Denied, with every unmet criterion in the message", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "A membership is active", body = ErrorBody),
    )
);

path_write!(
    /// Renews a membership (Renew Now; gated by `membership_offers.renew`).
    renew_membership, "/v1/tenants/{tenant}/memberships/{offer}/renew", tag = "partner",
    (offer: "offer" = "Offer id") => RenewMembership,
    responses(
        (status = 403, description = "Denied", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "No membership to renew", body = ErrorBody),
    )
);
