//! Write endpoints: the workflow's commands as POSTs. Each answers
//! `{"revision", "version", "events"}`; with an `Idempotency-Key` a retry gets
//! the first answer (marked by the `Idempotent-Replayed: true` header).
//!
//! A workflow write receives one [`Write`] (the caller, the key, the path and
//! the body, each refused in the API's error shape naming the field) and says
//! only which command the request means; [`Write::run`] does the rest.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clearance_core::EnrollmentStatus;
use clearance_core::WorkflowError;
use clearance_core::workflow::Command;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use super::AppState;
use super::extract::{ApiJson, ApiPath, Caller, IdempotencyKey};
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

/// A workflow write as its handler receives it: the caller, the
/// `Idempotency-Key`, the path parameters `P` and the body `B` (a JSON
/// request, or [`NoBody`]), read in that order; the first that is missing or
/// malformed answers in the API's error shape, naming the field.
pub struct Write<P, B = NoBody> {
    state: AppState,
    principal: Principal,
    key: IdempotencyKey,
    path: P,
    body: B,
}

/// The body of a write that reads none.
pub struct NoBody;

/// How a [`Write`] reads its body.
pub trait WriteBody: Sized {
    /// The body of `request`, or the error naming what is wrong with it.
    fn read(request: Request) -> impl Future<Output = Result<Self, ApiError>> + Send;
}

impl WriteBody for NoBody {
    async fn read(_request: Request) -> Result<Self, ApiError> {
        Ok(NoBody)
    }
}

impl<T: DeserializeOwned> WriteBody for T {
    async fn read(request: Request) -> Result<Self, ApiError> {
        let ApiJson(body) = ApiJson::from_request(request, &()).await?;
        Ok(body)
    }
}

impl<P, B> FromRequest<AppState> for Write<P, B>
where
    P: DeserializeOwned + Send,
    B: WriteBody,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = request.into_parts();
        let Caller(principal) = Caller::from_request_parts(&mut parts, state).await?;
        let key = IdempotencyKey::from_request_parts(&mut parts, state).await?;
        let ApiPath(path) = ApiPath::from_request_parts(&mut parts, state).await?;
        let body = B::read(Request::from_parts(parts, body)).await?;
        Ok(Write {
            state: state.clone(),
            principal,
            key,
            path,
            body,
        })
    }
}

impl<P, B> Write<P, B> {
    /// Runs the command that `command` makes of the path and body on the
    /// tenant it names, under the request's key; answers the write, or the
    /// refusal with its rule.
    async fn run(
        self,
        command: impl FnOnce(P, B) -> (String, Command),
    ) -> Result<Response, ApiError> {
        let (tenant, command) = command(self.path, self.body);
        let service = &self.state.service;
        let outcome = service
            .execute(&self.principal, &tenant, command, self.key.0.as_deref())
            .await
            .map_err(|error| refusal(service, error))?;
        Ok(written(outcome))
    }
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

/// Adds a user (refused while verification is not Authorized).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/users", tag = "partner",
    request_body = AddUserRequest,
    params(("tenant" = String, Path, description = "Tenant id"), IdempotencyKey),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Refused: roles frozen or not allowed", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
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
        ("tenant" = String, Path, description = "Tenant id"),
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

/// Declares a write whose path is a tenant and one thing of it (`$param`) and
/// which has no body: `$name`, its path, and the command it runs.
macro_rules! path_write {
    (
        $(#[$doc:meta])* $name:ident, $path:literal, tag = $tag:literal,
        ($param:ident: $param_name:literal = $description:literal) => $command:ident,
        responses($($responses:tt)*)
    ) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = $tag,
            params(
                ("tenant" = String, Path, description = "Tenant id"),
                ($param_name = String, Path, description = $description),
                IdempotencyKey
            ),
            responses(
                (status = 200, description = "Written", body = WriteResult),
                $($responses)*
            ))]
        pub async fn $name(write: Write<(String, String)>) -> Result<Response, ApiError> {
            write
                .run(|(tenant, $param), NoBody| (tenant, Command::$command { $param }))
                .await
        }
    };
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
        ("tenant" = String, Path, description = "Tenant id"),
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
        ("tenant" = String, Path, description = "Tenant id"),
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
        ("tenant" = String, Path, description = "Tenant id"),
        ("program" = String, Path, description = "Program id"),
        IdempotencyKey
    ),
    responses(
        (status = 200, description = "Written", body = WriteResult),
        (status = 403, description = "Support only", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
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
        ("tenant" = String, Path, description = "Tenant id"),
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
        ("tenant" = String, Path, description = "Tenant id"),
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
    params(("tenant" = String, Path, description = "Tenant id"), IdempotencyKey),
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

/// Opens a support case.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/cases", tag = "cases",
    request_body = OpenCaseRequest,
    params(("tenant" = String, Path, description = "Tenant id"), IdempotencyKey),
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
        ("tenant" = String, Path, description = "Tenant id"),
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
        ("tenant" = String, Path, description = "Tenant id"),
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
