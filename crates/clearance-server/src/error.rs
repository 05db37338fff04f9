//! The one shape every HTTP error has: `{"error": {"code", "message", "field"}}`,
//! with a stable `code` and the status it maps to.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clearance_core::WorkflowError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::service::ServiceError;
use crate::views::{RefusalView, UnmetView};

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code (`not_found`, `invalid_input`, a workflow rule such as
    /// `roles_frozen`, ...).
    pub code: String,
    /// What happened, for a person.
    pub message: String,
    /// The input field at fault, when one is.
    pub field: Option<String>,
    /// For a refusal about requirements (`denied`, `roles_frozen`): every
    /// unmet requirement of the gating action, as the portal lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmet: Vec<UnmetView>,
}

/// An HTTP error: a status and the body.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub detail: ErrorDetail,
}

impl ApiError {
    /// An error with no field.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                field: None,
                unmet: Vec::new(),
            },
        }
    }

    /// A 400 `invalid_input` naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut error = ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message);
        error.detail.field = Some(field.into());
        error
    }

    /// The 404 answer, the same for a missing thing and a hidden one.
    pub fn not_found(what: &str, id: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} `{id}` was not found"),
        )
    }

    /// A service error as an API error, a workflow refusal explained with
    /// its unmet requirements ([`RefusalView::new`], as the portal shows it).
    pub fn explained(catalog: &clearance_core::Catalog, error: ServiceError) -> Self {
        let unmet = match &error {
            ServiceError::Refused(refusal) => RefusalView::new(catalog, refusal).unmet,
            _ => Vec::new(),
        };
        let mut api = ApiError::from(error);
        if !unmet.is_empty() {
            api.detail.unmet = unmet;
        }
        api
    }

    fn with_field(mut self, field: Option<&str>) -> Self {
        self.detail.field = field.map(str::to_owned);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthenticated = self.status == StatusCode::UNAUTHORIZED;
        let unavailable = self.status == StatusCode::SERVICE_UNAVAILABLE;
        let mut response =
            (self.status, axum::Json(ErrorBody { error: self.detail })).into_response();
        if unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if unavailable {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let message = error.to_string();
        match error {
            ServiceError::NotFound { what, id } => {
                // The field that named it; never for a tenant, whose 404 must
                // read the same whether it exists or is hidden.
                let field = match what {
                    "user" | "program" | "case" | "token" => Some(what),
                    "document" => Some("sha256"),
                    _ => None,
                };
                ApiError::not_found(what, &id).with_field(field)
            }
            ServiceError::Invalid { field, .. } => ApiError::invalid(field, message),
            ServiceError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
            }
            ServiceError::Forbidden { code, .. } => {
                ApiError::new(StatusCode::FORBIDDEN, code, message)
            }
            ServiceError::Denied(result) => {
                let mut error = ApiError::new(StatusCode::FORBIDDEN, "denied", message);
                error.detail.unmet = result.unmet;
                error
            }
            ServiceError::Refused(refusal) => workflow_error(&refusal),
            ServiceError::Conflict { .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            ServiceError::IdempotencyKeyReused { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                message,
            )
            .with_field(Some("Idempotency-Key")),
            ServiceError::TokenAlreadyIssued { .. } => {
                ApiError::new(StatusCode::CONFLICT, "token_already_issued", message)
                    .with_field(Some("Idempotency-Key"))
            }
            ServiceError::RevisionNotReached { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "revision_not_reached",
                message,
            )
            .with_field(Some("min_revision")),
            ServiceError::Store(error) => {
                tracing::error!(%error, "store failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the event store failed; nothing was changed unless a revision was returned",
                )
            }
            ServiceError::Corrupt(detail) => {
                tracing::error!(%detail, "stored data could not be read");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "stored data could not be read",
                )
            }
        }
    }
}

/// A workflow refusal: its rule is the code; the status says whose move it is
/// (403: not yours to make, 422: the request names something invalid, 404: no
/// such thing, 409: the state does not allow it now).
pub fn workflow_error(error: &WorkflowError) -> ApiError {
    use WorkflowError as W;
    let (status, field) = match error {
        W::UnknownTenant { .. } => (StatusCode::NOT_FOUND, None),
        W::CaseNotFound { .. } => (StatusCode::NOT_FOUND, Some("case")),
        // Every command naming an existing user names it in the path.
        W::UnknownUser { .. } => (StatusCode::NOT_FOUND, Some("user")),
        W::UnknownProgram { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("program")),
        W::UnknownRole { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("roles")),
        W::UnknownAgreement { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("agreement")),
        W::UnknownProfile { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("profile")),
        W::UnknownOffer { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("offer")),
        W::InvalidInput { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some(*field)),
        W::NotPrimaryContact { .. }
        | W::SupportOnly { .. }
        | W::SupportAdminOnly { .. }
        | W::PartnerOnly { .. }
        | W::SystemNotAllowed { .. }
        | W::RoleRequired { .. }
        | W::RolesFrozen { .. }
        | W::Denied { .. } => (StatusCode::FORBIDDEN, None),
        W::TenantExists { .. }
        | W::UserExists { .. }
        | W::LastOwner { .. }
        | W::PrimaryContactKept { .. }
        | W::NotEnrolled { .. }
        | W::AlreadyEnrolled { .. }
        | W::IllegalTransition { .. }
        | W::AppealsExhausted { .. }
        | W::AppealFirst { .. }
        | W::ActionRequiredShown { .. }
        | W::WithinSla { .. }
        | W::AlreadyOverdue { .. }
        | W::AlreadyEscalated { .. }
        | W::AlreadyAccepted { .. }
        | W::MembershipActive { .. }
        | W::NoMembership { .. }
        | W::CaseClosed { .. } => (StatusCode::CONFLICT, None),
    };
    ApiError::new(status, error.rule(), error.to_string()).with_field(field)
}
