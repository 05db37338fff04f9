//! Support case writes (OpenAPI tag `cases`): open, comment, resolve.

use axum::response::Response;
use clearance_core::workflow::Command;
use serde::Deserialize;
use utoipa::ToSchema;

use super::Write;
use crate::api::extract::IdempotencyKey;
use crate::error::{ApiError, ErrorBody};
use crate::views::WriteResult;

/// A new support case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCaseRequest {
    /// One-line subject.
    pub subject: String,
    /// Program concerned, if any.
    pub program: Option<String>,
    /// First comment.
    pub body: String,
}

/// A comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// Text.
    pub body: String,
}

/// A resolution.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// Resolution text.
    pub resolution: String,
}

/// Opens a support case.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/cases", tag = "cases",
    request_body = OpenCaseRequest,
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), IdempotencyKey),
    responses(
        (status = 200, description = "Written; the case id is in the case_opened event", body = WriteResult),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn open_case(write: Write<String, OpenCaseRequest>) -> Result<Response, ApiError> {
    write
        .run(|tenant, request| {
            let command = Command::OpenCase {
                subject: request.subject,
                program: request.program,
                body: request.body,
            };
            (tenant, command)
        })
        .await
}

/// Comments on a support case.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/cases/{case}/comments", tag = "cases",
    request_body = CommentRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("case" = String, Path, description = "Case id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 404, description = "No such tenant or case", body = ErrorBody),
        (status = 409, description = "The case is resolved", body = ErrorBody),
    ))]
pub async fn comment_case(
    write: Write<(String, String), CommentRequest>,
) -> Result<Response, ApiError> {
    write
        .run(|(tenant, case), request| {
            let body = request.body;
            (tenant, Command::CommentCase { case, body })
        })
        .await
}

/// Resolves a support case (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/cases/{case}/resolve", tag = "cases",
    request_body = ResolveRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("case" = String, Path, description = "Case id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant or case", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody),
    ))]
pub async fn resolve_case(
    write: Write<(String, String), ResolveRequest>,
) -> Result<Response, ApiError> {
    write
        .run(|(tenant, case), request| {
            let resolution = request.resolution;
            (tenant, Command::ResolveCase { case, resolution })
        })
        .await
}
