//! Operator writes (OpenAPI tag `operator`): creating tenants, issuing and revoking tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use clearance_core::workflow::Command;
use serde::Deserialize;
use utoipa::ToSchema;

use super::Write;
use crate::api::AppState;
use crate::api::extract::{ApiJson, Caller, IdempotencyKey};
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::views::{IssuedToken, WriteResult};

/// A new tenant and its first (admin) user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantRequest {
    /// Tenant id: 1-64 of a-z, 0-9, `-`, `_`.
    pub id: String,
    /// ISO 3166 alpha-2 country.
    pub country: String,
    /// The first user, who becomes the primary contact.
    pub admin: String,
    /// Roles of the first user.
    pub roles: Vec<String>,
}

/// A token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Who the token acts as: its kind's fields and no other.
    #[serde(deserialize_with = "exact_principal")]
    pub principal: Principal,
}

/// A principal with exactly its kind's fields. `Principal` itself reads stored
/// principals tolerantly (the store marks demo credentials with a field of its
/// own), so the request refuses unknown fields here: any field the principal
/// would not write back is unknown.
fn exact_principal<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Principal, D::Error> {
    use serde::de::Error;
    let given = serde_json::Value::deserialize(deserializer)?;
    let principal: Principal = serde_json::from_value(given.clone()).map_err(D::Error::custom)?;
    let known = serde_json::to_value(&principal).map_err(D::Error::custom)?;
    if let (Some(given), Some(known)) = (given.as_object(), known.as_object())
        && let Some(unknown) = given.keys().find(|key| !known.contains_key(*key))
    {
        return Err(D::Error::custom(format!("unknown field `{unknown}`")));
    }
    Ok(principal)
}

/// A token to revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The bearer token.
    pub token: String,
}

/// Creates a tenant with its first user (support).
#[utoipa::path(post, path = "/v1/tenants", tag = "operator", request_body = CreateTenantRequest,
    params(IdempotencyKey),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 409, description = "Refused by the workflow", body = ErrorBody),
    ))]
pub async fn create_tenant(write: Write<(), CreateTenantRequest>) -> Result<Response, ApiError> {
    write
        .run(|(), request| {
            let command = Command::CreateTenant {
                country: request.country,
                admin: request.admin,
                roles: request.roles,
            };
            (request.id, command)
        })
        .await
}

/// Issues an API token (support admin). The secret is in this answer only.
#[utoipa::path(post, path = "/v1/tokens", tag = "operator", request_body = TokenRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat is refused, never issued twice")),
    responses(
        (status = 201, description = "Issued", body = IssuedToken),
        (status = 403, description = "Support admin only", body = ErrorBody),
        (status = 404, description = "The partner's tenant does not exist", body = ErrorBody),
        (status = 409, description = "Already issued under this key", body = ErrorBody),
    ))]
pub async fn issue_token(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let issued = state
        .service
        .issue_token(&principal, request.principal, key.0.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// Revokes an API token for good (support admin).
#[utoipa::path(post, path = "/v1/tokens/revoke", tag = "operator", request_body = RevokeRequest,
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Support admin only", body = ErrorBody),
        (status = 404, description = "No such token", body = ErrorBody),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(request): ApiJson<RevokeRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .revoke_token(&principal, &request.token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
