//! Vetting workflow writes (OpenAPI tag `workflow`): enroll, submit, review, authorize, reject,
//! challenge, escalate, enrollment status and appeals.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use clearance_core::EnrollmentStatus;
use clearance_core::workflow::Command;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{NoBody, Write, written};
use crate::api::AppState;
use crate::api::extract::{ApiPath, Caller, IdempotencyKey};
use crate::error::{ApiError, ErrorBody};
use crate::service::MAX_DOCUMENT_BYTES;
use crate::views::WriteResult;

/// A reason for a rejection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why, shown to the partner.
    pub reason: String,
}

/// A challenge: the banner's reason and the documents asked for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// Why, shown in the banner.
    pub reason: String,
    /// Documents asked for (at least one).
    pub documents: Vec<String>,
}

/// A new enrollment status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentRequest {
    /// `active`, `pending_qualification`, `pending`, `suspended` or `closed`.
    #[schema(value_type = String)]
    pub status: EnrollmentStatus,
}

/// The appeal form.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct AppealForm {
    /// The document type chosen (e.g. `business_registration`).
    document_type: String,
    /// The supporting document: PDF, PNG or JPEG, at most 10 MiB.
    #[schema(value_type = String, format = Binary)]
    document: Vec<u8>,
}

/// Declares a program write with no body: `$name`, its path, and the command.
macro_rules! program_write {
    ($(#[$doc:meta])* $name:ident, $path:literal, $command:ident) => {
        path_write!(
            $(#[$doc])* $name, $path, tag = "workflow",
            (program: "program" = "Program id") => $command,
            responses(
                (status = 403, description = "Not allowed for this caller", body = ErrorBody),
                (status = 404, description = "No such tenant", body = ErrorBody),
                (status = 409, description = "Not allowed in the current state", body = ErrorBody),
                (status = 422, description = "Unknown program", body = ErrorBody),
            )
        );
    };
}

program_write!(
    /// Enrolls the tenant in a program: enrollment becomes pending qualification.
    enroll, "/v1/tenants/{tenant}/programs/{program}/enroll", Enroll
);
program_write!(
    /// Submits verification: status pending, the SLA clock starts.
    submit, "/v1/tenants/{tenant}/programs/{program}/submit", SubmitVerification
);
program_write!(
    /// A reviewer starts work: pending → in progress (support).
    start_review, "/v1/tenants/{tenant}/programs/{program}/start-review", StartReview
);
program_write!(
    /// Vetting complete: authorized, enrollment active (support).
    authorize, "/v1/tenants/{tenant}/programs/{program}/authorize", Authorize
);
program_write!(
    /// Escalates a stuck verification to a support case.
    escalate, "/v1/tenants/{tenant}/programs/{program}/escalate", Escalate
);

/// Rejects a verification with a reason (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/programs/{program}/reject", tag = "workflow",
    request_body = RejectRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("program" = String, Path, description = "Program id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Not allowed in the current state", body = ErrorBody),
    ))]
pub async fn reject(write: Write<(String, String), RejectRequest>) -> Result<Response, ApiError> {
    write
        .run(|(tenant, program), request| {
            let reason = request.reason;
            (tenant, Command::Reject { program, reason })
        })
        .await
}

/// Challenges a verification: the partner sees an action-required banner (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/programs/{program}/challenge", tag = "workflow",
    request_body = ChallengeRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("program" = String, Path, description = "Program id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Not allowed in the current state", body = ErrorBody),
    ))]
pub async fn challenge(
    write: Write<(String, String), ChallengeRequest>,
) -> Result<Response, ApiError> {
    write
        .run(|(tenant, program), request| {
            let command = Command::Challenge {
                program,
                reason: request.reason,
                documents: request.documents,
            };
            (tenant, command)
        })
        .await
}

/// Sets an enrollment's status (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/programs/{program}/enrollment", tag = "workflow",
    request_body = EnrollmentRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("program" = String, Path, description = "Program id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Not allowed in the current state", body = ErrorBody),
    ))]
pub async fn set_enrollment(
    write: Write<(String, String), EnrollmentRequest>,
) -> Result<Response, ApiError> {
    write
        .run(|(tenant, program), request| {
            let status = request.status;
            (tenant, Command::SetEnrollment { program, status })
        })
        .await
}

/// Appeals a rejection or challenge with a supporting document (multipart:
/// `document_type`, `document`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/programs/{program}/appeal", tag = "workflow",
    request_body(content = AppealForm, content_type = "multipart/form-data"),
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("program" = String, Path, description = "Program id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 400, description = "Bad form or document", body = ErrorBody),
        (status = 403, description = "Not the primary contact", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Not appealable now, or no appeals left", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
    ))]
pub async fn appeal(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    ApiPath((tenant, program)): ApiPath<(String, String)>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "the body must be multipart/form-data: {}",
                rejection.body_text()
            ),
        )
    })?;
    let mut document_type = None;
    let mut document = None;
    loop {
        let field = multipart.next_field().await.map_err(multipart_error)?;
        let Some(field) = field else { break };
        match field.name() {
            Some("document_type") => {
                document_type = Some(field.text().await.map_err(multipart_error)?);
            }
            Some("document") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                if bytes.len() > MAX_DOCUMENT_BYTES {
                    return Err(ApiError::invalid(
                        "document",
                        format!("is larger than {MAX_DOCUMENT_BYTES} bytes"),
                    ));
                }
                document = Some(bytes.to_vec());
            }
            Some(other) => {
                return Err(ApiError::invalid(
                    other.to_owned(),
                    "unknown form field (expected document_type and document)",
                ));
            }
            None => return Err(ApiError::invalid("body", "a form field has no name")),
        }
    }
    let document_type =
        document_type.ok_or_else(|| ApiError::invalid("document_type", "is required"))?;
    let document = document.ok_or_else(|| ApiError::invalid("document", "is required"))?;
    let outcome = state
        .service
        .appeal(
            &principal,
            &tenant,
            &program,
            &document_type,
            document,
            key.0.as_deref(),
        )
        .await
        .map_err(|error| ApiError::explained(state.service.catalog(), error))?;
    Ok(written(outcome))
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    let status = error.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        let mut error = ApiError::new(status, "body_too_large", error.body_text());
        error.detail.field = Some("document".to_owned());
        error
    } else {
        ApiError::invalid("body", error.body_text())
    }
}
