//! Write endpoints: the workflow's commands as POSTs. Each answers
//! `{"revision", "version", "events"}`; with an `Idempotency-Key` a retry gets
//! the first answer (marked by the `Idempotent-Replayed: true` header).
//!
//! A workflow write receives one [`Write`] (the caller, the key, the path and
//! the body, each refused in the API's error shape naming the field) and says
//! only which command the request means; [`Write::run`] does the rest.
//!
//! The endpoints are one file per OpenAPI tag: `operator`, `partner`, `workflow` and `cases`.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use clearance_core::workflow::Command;
use serde::de::DeserializeOwned;

use super::AppState;
use super::extract::{ApiJson, ApiPath, Caller, IdempotencyKey};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::service::Outcome;
use crate::views::WriteResult;

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
            .map_err(|error| ApiError::explained(service.catalog(), error))?;
        Ok(written(outcome))
    }
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
                ("tenant" = String, Path, description = "Tenant id", pattern = r"^[a-z0-9_-]{1,64}$"),
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

mod cases;
mod operator;
mod partner;
mod workflow;

pub use cases::*;
pub use operator::*;
pub use partner::*;
pub use workflow::*;
