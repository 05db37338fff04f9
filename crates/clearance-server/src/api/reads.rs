//! Read endpoints: checks, access, diagnosis, the partner pages, the audit
//! trail and the operator's lists.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::error::{ApiError, ErrorBody};
use crate::views::{
    AccessView, CaseView, CheckResult, DiagnosisView, EventPage, LegalInfoView, QueueEntry,
    TenantSummary, UserView, VerificationView,
};

/// The most checks one batch may hold.
pub const MAX_BATCH: usize = 1000;

/// One check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Tenant id (a partner may only ask about its own).
    pub tenant: String,
    /// User id within the tenant.
    pub user: String,
    /// Action id (`membership_offers.buy`).
    pub action: String,
    /// Answer only once this revision (from an earlier write) is applied.
    #[serde(default, deserialize_with = "super::extract::whole_number::optional")]
    pub min_revision: Option<u64>,
}

/// Many checks in one round trip.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The checks, answered in order (at most 1000).
    #[schema(max_items = 1000)]
    pub checks: Vec<BatchCheck>,
    /// Answer only once this revision is applied.
    #[serde(default, deserialize_with = "super::extract::whole_number::optional")]
    pub min_revision: Option<u64>,
}

/// One check of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCheck {
    /// Tenant id.
    pub tenant: String,
    /// User id.
    pub user: String,
    /// Action id.
    pub action: String,
}

/// The answers of a batch, in request order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    /// One per check: a result, or an error for that check alone.
    pub results: Vec<BatchItem>,
}

/// One answer of a batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    /// The check's answer.
    Result(CheckResult),
    /// Why this check could not be answered.
    Error(ErrorBody),
}

/// Query of reads about one user.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// The user (default: the partner token's own user; required for staff).
    pub user: Option<String>,
    /// Answer only once this revision is applied.
    pub min_revision: Option<u64>,
}

/// Query of reads that may wait for a revision.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RevisionQuery {
    /// Answer only once this revision is applied.
    pub min_revision: Option<u64>,
}

/// Paging of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events after this `seq` (default 0: from the start).
    #[param(maximum = 9_223_372_036_854_775_807_u64)]
    pub after: Option<u64>,
    /// Page size, 1-500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// May this user take this action now, and if not, every reason why.
#[utoipa::path(post, path = "/v1/check", tag = "decisions", request_body = CheckRequest,
    responses(
        (status = 200, description = "The decision", body = CheckResult),
        (status = 403, description = "Another user: denied by the catalog's other_users gate", body = ErrorBody),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 404, description = "No such tenant or user", body = ErrorBody),
    ))]
pub async fn check(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(request): ApiJson<CheckRequest>,
) -> Result<Json<CheckResult>, ApiError> {
    let result = state
        .service
        .check(
            &principal,
            &request.tenant,
            &request.user,
            &request.action,
            request.min_revision,
        )
        .await?;
    Ok(Json(result))
}

/// Many checks in one round trip; each answered or refused on its own.
#[utoipa::path(post, path = "/v1/check/batch", tag = "decisions", request_body = BatchRequest,
    responses(
        (status = 200, description = "One answer per check", body = BatchResponse),
        (status = 400, description = "Bad input", body = ErrorBody),
    ))]
pub async fn check_batch(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(request): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    if request.checks.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "checks",
            format!("at most {MAX_BATCH} checks per batch"),
        ));
    }
    let checks: Vec<(String, String, String)> = request
        .checks
        .into_iter()
        .map(|check| (check.tenant, check.user, check.action))
        .collect();
    let results = state
        .service
        .check_batch(&principal, &checks, request.min_revision)
        .await?
        .into_iter()
        .map(|result| match result {
            Ok(result) => BatchItem::Result(result),
            Err(error) => BatchItem::Error(ErrorBody {
                error: ApiError::from(error).detail,
            }),
        })
        .collect();
    Ok(Json(BatchResponse { results }))
}

/// Every workspace and action for one user: open, or locked with reasons.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/access", tag = "decisions",
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), UserQuery),
    responses(
        (status = 200, description = "Workspaces and actions", body = AccessView),
        (status = 403, description = "Another user: denied by the catalog's other_users gate", body = ErrorBody),
        (status = 404, description = "No such tenant or user", body = ErrorBody),
    ))]
pub async fn access(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<AccessView>, ApiError> {
    Ok(Json(
        state
            .service
            .access(
                &principal,
                &tenant,
                query.user.as_deref(),
                query.min_revision,
            )
            .await?,
    ))
}

/// The root cause and the ordered next supported steps.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/diagnosis", tag = "decisions",
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), UserQuery),
    responses(
        (status = 200, description = "The diagnosis", body = DiagnosisView),
        (status = 403, description = "Another user: denied by the catalog's other_users gate", body = ErrorBody),
        (status = 404, description = "No such tenant or user", body = ErrorBody),
    ))]
pub async fn diagnosis(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<DiagnosisView>, ApiError> {
    Ok(Json(
        state
            .service
            .diagnosis(
                &principal,
                &tenant,
                query.user.as_deref(),
                query.min_revision,
            )
            .await?,
    ))
}

/// Account settings → Legal Info → Partner tab.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/legal-info", tag = "partner",
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), RevisionQuery),
    responses(
        (status = 200, description = "Programs, verification, agreements", body = LegalInfoView),
        (status = 403, description = "Denied by the catalog's legal_info gate", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn legal_info(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<RevisionQuery>,
) -> Result<Json<LegalInfoView>, ApiError> {
    Ok(Json(
        state
            .service
            .legal_info(&principal, &tenant, query.min_revision)
            .await?,
    ))
}

/// The verification summary of one program: status, reason, SLA, appeals, banner.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/verification/{program}", tag = "partner",
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("program" = String, Path, description = "Program id"),
        RevisionQuery
    ),
    responses(
        (status = 200, description = "The verification summary", body = VerificationView),
        (status = 404, description = "No such tenant, program or enrollment", body = ErrorBody),
    ))]
pub async fn verification(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath((tenant, program)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<RevisionQuery>,
) -> Result<Json<VerificationView>, ApiError> {
    Ok(Json(
        state
            .service
            .verification(&principal, &tenant, &program, query.min_revision)
            .await?,
    ))
}

/// The audit trail: every event with who did it and when, paged by `seq`.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/events", tag = "partner",
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), EventsQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn events(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<EventPage>, ApiError> {
    Ok(Json(
        state
            .service
            .events(
                &principal,
                &tenant,
                query.after.unwrap_or(0),
                query.limit.unwrap_or(100),
            )
            .await?,
    ))
}

/// Every tenant (staff).
#[utoipa::path(get, path = "/v1/tenants", tag = "operator",
    responses(
        (status = 200, description = "Tenants by id", body = Vec<TenantSummary>),
        (status = 403, description = "Staff only", body = ErrorBody),
    ))]
pub async fn list_tenants(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<TenantSummary>>, ApiError> {
    Ok(Json(state.service.tenants(&principal)?))
}

/// One tenant's summary.
#[utoipa::path(get, path = "/v1/tenants/{tenant}", tag = "partner",
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), RevisionQuery),
    responses(
        (status = 200, description = "The tenant", body = TenantSummary),
        (status = 403, description = "Denied by the catalog's tenant_summary gate", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn get_tenant(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<RevisionQuery>,
) -> Result<Json<TenantSummary>, ApiError> {
    Ok(Json(
        state
            .service
            .tenant_summary(&principal, &tenant, query.min_revision)
            .await?,
    ))
}

/// The tenant's users and their roles.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/users", tag = "partner",
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), RevisionQuery),
    responses(
        (status = 200, description = "Users", body = Vec<UserView>),
        (status = 403, description = "Denied by the catalog's view_users gate", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<RevisionQuery>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(
        state
            .service
            .users(&principal, &tenant, query.min_revision)
            .await?
            .users,
    ))
}

/// The tenant's support cases.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/cases", tag = "cases",
    params(("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"), RevisionQuery),
    responses(
        (status = 200, description = "Cases", body = Vec<CaseView>),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn list_cases(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<RevisionQuery>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    Ok(Json(
        state
            .service
            .cases(&principal, &tenant, query.min_revision)
            .await?,
    ))
}

/// One support case with its comments.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/cases/{case}", tag = "cases",
    params(
        ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
        ("case" = String, Path, description = "Case id"),
        RevisionQuery
    ),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 404, description = "No such tenant or case", body = ErrorBody),
    ))]
pub async fn get_case(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath((tenant, case)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<RevisionQuery>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(
        state
            .service
            .case(&principal, &tenant, &case, query.min_revision)
            .await?,
    ))
}

/// Every support case across tenants, open ones first (staff).
#[utoipa::path(get, path = "/v1/cases", tag = "operator",
    responses(
        (status = 200, description = "Cases", body = Vec<CaseView>),
        (status = 403, description = "Staff only", body = ErrorBody),
    ))]
pub async fn all_cases(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    Ok(Json(state.service.all_cases(&principal)?))
}

/// Verifications waiting on someone, most business days elapsed first (staff).
#[utoipa::path(get, path = "/v1/verification-queue", tag = "operator",
    responses(
        (status = 200, description = "The queue", body = Vec<QueueEntry>),
        (status = 403, description = "Staff only", body = ErrorBody),
    ))]
pub async fn verification_queue(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<QueueEntry>>, ApiError> {
    Ok(Json(
        state
            .service
            .verification_queue(&principal, Timestamp::now())?,
    ))
}

/// A stored appeal document (staff, or the tenant whose appeal references it).
#[utoipa::path(get, path = "/v1/documents/{sha256}", tag = "partner",
    params(("sha256" = String, Path, description = "Lower-case hex SHA-256 of the document", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "The document's bytes", content_type = "application/octet-stream"),
        (status = 404, description = "No such document (or not yours)", body = ErrorBody),
    ))]
pub async fn document(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(sha256): ApiPath<String>,
) -> Result<Response, ApiError> {
    let blob = state.service.document(&principal, &sha256).await?;
    Ok((
        [
            (header::CONTENT_TYPE, blob.content_type),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
            // Stored bytes are never rendered in the API's origin: saved, not
            // shown, and sandboxed if a browser shows them anyway.
            (header::CONTENT_DISPOSITION, "attachment".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
        ],
        blob.bytes,
    )
        .into_response())
}
