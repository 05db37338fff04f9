//! Write endpoints: the workflow's commands as POSTs. Each answers
//! `{"revision", "version", "events"}`; with an `Idempotency-Key` a retry gets
//! the first answer (marked by the `Idempotent-Replayed: true` header).

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clearance_core::EnrollmentStatus;
use clearance_core::WorkflowError;
use clearance_core::workflow::Command;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::extract::{ApiJson, Caller, IdempotencyKey};
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::service::{MAX_DOCUMENT_BYTES, Outcome, ServiceError};
use crate::views::{IssuedToken, UnmetView, WriteResult};

/// Set on a response that repeats the recorded answer to an earlier request.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The JSON answer of a write.
fn written(outcome: Outcome) -> Response {
    let replayed = outcome.replayed;
    let body = WriteResult {
        revision: outcome.revision,
        version: outcome.version,
        events: outcome
            .events
            .iter()
            .map(|event| serde_json::to_value(event).expect("an event serializes"))
            .collect(),
    };
    let mut response = Json(body).into_response();
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    response
}

async fn run(
    state: &AppState,
    principal: &Principal,
    tenant: &str,
    command: Command,
    key: IdempotencyKey,
) -> Result<Response, ApiError> {
    let outcome = state
        .service
        .execute(principal, tenant, command, key.0.as_deref())
        .await
        .map_err(|error| refusal(&state.service, error))?;
    Ok(written(outcome))
}

/// A service error as an API error; a denial by the catalog carries the full
/// explanation of every unmet requirement, as a check of the action would.
fn refusal(service: &crate::Service, error: ServiceError) -> ApiError {
    let ServiceError::Refused(WorkflowError::Denied { unmet, .. }) = &error else {
        return error.into();
    };
    let catalog = service.catalog();
    let unmet = unmet
        .iter()
        .filter_map(|id| catalog.requirement_ix(id))
        .map(|ix| {
            UnmetView::from(clearance_core::decision::UnmetView::new(
                catalog,
                &catalog.requirements[ix.index()],
            ))
        })
        .collect();
    let mut api = ApiError::from(error);
    api.detail.unmet = unmet;
    api
}

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
    /// Documents asked for.
    #[serde(default)]
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
    pub score: u32,
}

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

/// A token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Who the token acts as.
    pub principal: Principal,
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
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 409, description = "Refused by the workflow", body = ErrorBody),
    ))]
pub async fn create_tenant(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    ApiJson(request): ApiJson<CreateTenantRequest>,
) -> Result<Response, ApiError> {
    let command = Command::CreateTenant {
        country: request.country,
        admin: request.admin,
        roles: request.roles,
    };
    run(&state, &principal, &request.id, command, key).await
}

/// Adds a user (refused while verification is not Authorized).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/users", tag = "partner",
    request_body = AddUserRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Refused: roles frozen or not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn add_user(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path(tenant): Path<String>,
    ApiJson(request): ApiJson<AddUserRequest>,
) -> Result<Response, ApiError> {
    let command = Command::AddUser {
        user: request.user,
        roles: request.roles,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Grants or revokes roles (refused while verification is not Authorized).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/users/{user}/roles", tag = "partner",
    request_body = RolesRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("user" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Refused: roles frozen or not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn change_roles(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, user)): Path<(String, String)>,
    ApiJson(request): ApiJson<RolesRequest>,
) -> Result<Response, ApiError> {
    let command = match request.op {
        RoleOp::Grant => Command::GrantRoles {
            user,
            roles: request.roles,
        },
        RoleOp::Revoke => Command::RevokeRoles {
            user,
            roles: request.roles,
        },
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Declares a program write with no body: `$name`, its path, and the command.
macro_rules! program_write {
    ($(#[$doc:meta])* $name:ident, $path:literal, $command:ident) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "workflow",
            params(
                ("tenant" = String, Path, description = "Tenant id"),
                ("program" = String, Path, description = "Program id"),
                ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
            ),
            responses(
                (status = 200, description = "Written", body = WriteResult),
                (status = 403, description = "Not allowed for this caller", body = ErrorBody),
                (status = 404, description = "No such tenant", body = ErrorBody),
                (status = 409, description = "Not allowed in the current state", body = ErrorBody),
                (status = 422, description = "Unknown program", body = ErrorBody),
            ))]
        pub async fn $name(
            State(state): State<AppState>,
            Caller(principal): Caller,
            key: IdempotencyKey,
            Path((tenant, program)): Path<(String, String)>,
        ) -> Result<Response, ApiError> {
            run(&state, &principal, &tenant, Command::$command { program }, key).await
        }
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
        ("tenant" = String, Path, description = "Tenant id"),
        ("program" = String, Path, description = "Program id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Not allowed in the current state", body = ErrorBody),
    ))]
pub async fn reject(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, program)): Path<(String, String)>,
    ApiJson(request): ApiJson<RejectRequest>,
) -> Result<Response, ApiError> {
    let command = Command::Reject {
        program,
        reason: request.reason,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Challenges a verification: the partner sees an action-required banner (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/programs/{program}/challenge", tag = "workflow",
    request_body = ChallengeRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("program" = String, Path, description = "Program id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Not allowed in the current state", body = ErrorBody),
    ))]
pub async fn challenge(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, program)): Path<(String, String)>,
    ApiJson(request): ApiJson<ChallengeRequest>,
) -> Result<Response, ApiError> {
    let command = Command::Challenge {
        program,
        reason: request.reason,
        documents: request.documents,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Sets an enrollment's status (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/programs/{program}/enrollment", tag = "workflow",
    request_body = EnrollmentRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("program" = String, Path, description = "Program id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn set_enrollment(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, program)): Path<(String, String)>,
    ApiJson(request): ApiJson<EnrollmentRequest>,
) -> Result<Response, ApiError> {
    let command = Command::SetEnrollment {
        program,
        status: request.status,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Appeals a rejection or challenge with a supporting document (multipart:
/// `document_type`, `document`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/programs/{program}/appeal", tag = "workflow",
    request_body(content = AppealForm, content_type = "multipart/form-data"),
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("program" = String, Path, description = "Program id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
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
    Path((tenant, program)): Path<(String, String)>,
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
        .await?;
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

/// Accepts an agreement.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/agreements/{agreement}/accept", tag = "partner",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("agreement" = String, Path, description = "Agreement id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Already accepted", body = ErrorBody),
    ))]
pub async fn accept_agreement(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, agreement)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    run(
        &state,
        &principal,
        &tenant,
        Command::AcceptAgreement { agreement },
        key,
    )
    .await
}

/// Marks a profile (payment, tax) complete or incomplete.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/profiles/{profile}", tag = "partner",
    request_body = ProfileRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("profile" = String, Path, description = "Profile id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn update_profile(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, profile)): Path<(String, String)>,
    ApiJson(request): ApiJson<ProfileRequest>,
) -> Result<Response, ApiError> {
    let command = Command::UpdateProfile {
        profile,
        complete: request.complete,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Records a new Partner Capability Score (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/capability-score", tag = "partner",
    request_body = ScoreRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn update_capability_score(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path(tenant): Path<String>,
    ApiJson(request): ApiJson<ScoreRequest>,
) -> Result<Response, ApiError> {
    let command = Command::UpdateCapabilityScore {
        score: request.score,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Buys a membership offer (Buy Now; gated by `membership_offers.buy`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/memberships/{offer}/buy", tag = "partner",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("offer" = String, Path, description = "Offer id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Denied, with every unmet criterion in the message", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "A membership is active", body = ErrorBody),
    ))]
pub async fn buy_membership(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, offer)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    run(
        &state,
        &principal,
        &tenant,
        Command::BuyMembership { offer },
        key,
    )
    .await
}

/// Renews a membership (Renew Now; gated by `membership_offers.renew`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/memberships/{offer}/renew", tag = "partner",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("offer" = String, Path, description = "Offer id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Denied", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "No membership to renew", body = ErrorBody),
    ))]
pub async fn renew_membership(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, offer)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    run(
        &state,
        &principal,
        &tenant,
        Command::RenewMembership { offer },
        key,
    )
    .await
}

/// Opens a support case.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/cases", tag = "cases",
    request_body = OpenCaseRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written; the case id is in the case_opened event", body = WriteResult),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn open_case(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path(tenant): Path<String>,
    ApiJson(request): ApiJson<OpenCaseRequest>,
) -> Result<Response, ApiError> {
    let command = Command::OpenCase {
        subject: request.subject,
        program: request.program,
        body: request.body,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Comments on a support case.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/cases/{case}/comments", tag = "cases",
    request_body = CommentRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("case" = String, Path, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 404, description = "No such tenant or case", body = ErrorBody),
        (status = 409, description = "The case is resolved", body = ErrorBody),
    ))]
pub async fn comment_case(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, case)): Path<(String, String)>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> Result<Response, ApiError> {
    let command = Command::CommentCase {
        case,
        body: request.body,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Resolves a support case (support).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/cases/{case}/resolve", tag = "cases",
    request_body = ResolveRequest,
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("case" = String, Path, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant or case", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody),
    ))]
pub async fn resolve_case(
    State(state): State<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    Path((tenant, case)): Path<(String, String)>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> Result<Response, ApiError> {
    let command = Command::ResolveCase {
        case,
        resolution: request.resolution,
    };
    run(&state, &principal, &tenant, command, key).await
}

/// Issues an API token (support admin). The secret is in this answer only.
#[utoipa::path(post, path = "/v1/tokens", tag = "operator", request_body = TokenRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat is refused, never issued twice")),
    responses(
        (status = 201, description = "Issued", body = IssuedToken),
        (status = 403, description = "Support admin only", body = ErrorBody),
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
