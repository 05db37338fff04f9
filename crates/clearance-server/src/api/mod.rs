//! The HTTP API: JSON under `/v1`, bearer-token authentication, one error
//! shape, Prometheus metrics, and the OpenAPI document at `/openapi.json`
//! generated from the handlers' annotations.
//!
//! Handlers are thin: parse the request (every bad input is a 4xx naming the
//! field), call the [`Service`], render its answer.

mod contract;
mod extract;
mod reads;
mod writes;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::service::{MAX_DOCUMENT_BYTES, Service};

pub use extract::IDEMPOTENCY_KEY;

/// The largest JSON request body.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
/// The largest upload request body: a maximal document plus its form's overhead.
pub const MAX_UPLOAD_BYTES: usize = MAX_DOCUMENT_BYTES + 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The service.
    pub service: Service,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "clearance",
        description = "Partner-program gating: explained access decisions, diagnosis and the vetting workflow."
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    tags(
        (name = "decisions", description = "Checks, access and diagnosis"),
        (name = "partner", description = "Legal Info, verification, users, memberships"),
        (name = "workflow", description = "The vetting workflow"),
        (name = "cases", description = "Support cases"),
        (name = "operator", description = "Support staff: tenants, queue, tokens"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The `/v1` routes and their OpenAPI document.
fn v1() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let json = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(reads::check))
        .routes(routes!(reads::check_batch))
        .routes(routes!(reads::access))
        .routes(routes!(reads::diagnosis))
        .routes(routes!(reads::legal_info))
        .routes(routes!(reads::verification))
        .routes(routes!(reads::events))
        .routes(routes!(reads::list_tenants, writes::create_tenant))
        .routes(routes!(reads::get_tenant))
        .routes(routes!(reads::list_users, writes::add_user))
        .routes(routes!(reads::list_cases, writes::open_case))
        .routes(routes!(reads::get_case))
        .routes(routes!(reads::all_cases))
        .routes(routes!(reads::verification_queue))
        .routes(routes!(reads::document))
        .routes(routes!(writes::enroll))
        .routes(routes!(writes::submit))
        .routes(routes!(writes::start_review))
        .routes(routes!(writes::authorize))
        .routes(routes!(writes::reject))
        .routes(routes!(writes::challenge))
        .routes(routes!(writes::escalate))
        .routes(routes!(writes::set_enrollment))
        .routes(routes!(writes::remove_user))
        .routes(routes!(writes::accept_agreement))
        .routes(routes!(writes::change_roles))
        .routes(routes!(writes::update_profile))
        .routes(routes!(writes::update_capability_score))
        .routes(routes!(writes::buy_membership))
        .routes(routes!(writes::renew_membership))
        .routes(routes!(writes::comment_case))
        .routes(routes!(writes::resolve_case))
        .routes(routes!(writes::issue_token))
        .routes(routes!(writes::revoke_token))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES));
    let uploads = OpenApiRouter::new()
        .routes(routes!(writes::appeal))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES));
    json.merge(uploads).split_for_parts()
}

/// The OpenAPI document of the API with any catalog: the handlers'
/// annotations and the responses every operation shares.
pub fn openapi() -> serde_json::Value {
    let mut document = serde_json::to_value(v1().1).expect("the OpenAPI document serializes");
    contract::add_shared_responses(&mut document);
    contract::add_input_limits(&mut document);
    document
}

/// The OpenAPI document `/openapi.json` serves: [`openapi`] with the ids
/// `catalog` accepts stated as enums.
pub fn openapi_for(catalog: &clearance_core::Catalog) -> serde_json::Value {
    let mut document = openapi();
    contract::add_catalog_enums(&mut document, catalog);
    document
}

/// The whole HTTP surface: `/v1` (authenticated), `/openapi.json`, `/healthz`,
/// `/readyz` and `/metrics`. Merge the portal's routes into it with
/// `router(service).merge(portal)`.
pub fn router(service: Service) -> Router {
    // Install the recorder before the first request counts anything.
    metrics_handle();
    let state = AppState { service };
    let api = Arc::new(openapi_for(state.service.catalog()));
    let (v1, _) = v1();
    // Unknown `/v1` paths answer in the API's error shape. A route, not a
    // fallback, so that the portal's router (which may have its own) merges.
    let v1 = v1
        .route("/v1/{*rest}", any(no_such_route))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .merge(v1)
        .route(
            "/openapi.json",
            get(move || {
                let api = api.clone();
                async move { axum::Json(api.as_ref().clone()) }
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .layer(middleware::from_fn(record_metrics))
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .layer(middleware::from_fn(api_answers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The process-wide Prometheus recorder (installed once; every router shares it).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                0.5, 1.0, 2.5,
            ])
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
        }
        handle
    })
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    metrics::gauge!("clearance_cache_tenants").set(state.service.tenant_count() as f64);
    metrics::gauge!("clearance_revision").set(state.service.revision() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_handle().render(),
    )
        .into_response()
}

async fn no_such_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.service.store().current_revision().await {
        Ok(revision) => axum::Json(serde_json::json!({
            "ready": true,
            "store_revision": revision,
            "applied_revision": state.service.revision(),
        }))
        .into_response(),
        Err(error) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            error.to_string(),
        )
        .into_response(),
    }
}

/// Request count and latency by route and status.
async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("clearance_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("clearance_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// What every API answer gets: `X-Content-Type-Options: nosniff`, and the
/// answers axum and tower-http make themselves, in plain text or empty (the
/// outer body limit's 413, a known path asked with another method's 405),
/// rewritten into the API's error shape.
async fn api_answers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|value| value.as_bytes() != b"application/json");
    if plain && response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than {MAX_UPLOAD_BYTES} bytes"),
        )
        .into_response();
    } else if plain && response.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allow = response.headers().get(header::ALLOW).cloned();
        response = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not take that method (see `Allow`)",
        )
        .into_response();
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The `method` label: one of the standard methods, or `other` for any
/// extension method, so that clients cannot mint new time series (each label
/// value is kept for the life of the process).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Authenticates every `/v1` request and keeps partners inside their tenant:
/// a partner's request under another tenant's `/v1/tenants/{t}` answers 404
/// before anything else is looked at, exactly as for a tenant that does not exist.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let principal = match token {
        Some(token) => match state.service.authenticate(token).await {
            Ok(principal) => principal,
            Err(error) => return ApiError::from(error).into_response(),
        },
        None => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "a bearer token is required (Authorization: Bearer clr_...)",
            )
            .into_response();
        }
    };
    if let Some(tenant) = path_tenant(request.uri().path())
        && !principal.reaches(&tenant)
    {
        return ApiError::not_found("tenant", &tenant).into_response();
    }
    request.extensions_mut().insert::<Principal>(principal);
    next.run(request).await
}

/// The `{tenant}` of a `/v1/tenants/{tenant}/...` path, percent-decoded.
fn path_tenant(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v1/tenants/")?;
    let segment = rest
        .split('/')
        .next()
        .filter(|segment| !segment.is_empty())?;
    Some(percent_decode(segment).unwrap_or_else(|| segment.to_owned()))
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = segment.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_of_a_path_is_found_and_decoded() {
        assert_eq!(
            path_tenant("/v1/tenants/contoso/access").as_deref(),
            Some("contoso")
        );
        assert_eq!(path_tenant("/v1/tenants/a%2Db").as_deref(), Some("a-b"));
        assert_eq!(path_tenant("/v1/tenants"), None);
        assert_eq!(path_tenant("/v1/tenants/"), None);
        assert_eq!(path_tenant("/v1/check"), None);
    }

    #[test]
    fn extension_methods_share_one_metrics_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        let minted = Method::from_bytes(b"M000001AAAA").expect("a valid extension method");
        assert_eq!(method_label(&minted), "other");
    }

    #[test]
    fn every_v1_route_is_in_the_openapi_document() {
        let api = openapi();
        let paths: Vec<&String> = api["paths"].as_object().expect("paths").keys().collect();
        for expected in [
            "/v1/check",
            "/v1/check/batch",
            "/v1/tenants/{tenant}/access",
            "/v1/tenants/{tenant}/programs/{program}/appeal",
            "/v1/verification-queue",
        ] {
            assert!(
                paths.iter().any(|path| *path == expected),
                "{expected} in {paths:?}"
            );
        }
    }

    #[test]
    fn every_schema_reference_in_the_openapi_document_resolves() {
        let document = openapi();
        let schemas = document["components"]["schemas"]
            .as_object()
            .expect("component schemas");
        let mut references = Vec::new();
        collect_refs(&document, &mut references);
        assert!(references.len() > 20, "{references:?}");
        for reference in references {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {reference}"));
            assert!(schemas.contains_key(name), "{reference} does not resolve");
        }
    }

    #[test]
    fn every_operation_under_a_tenant_declares_the_tenant_parameter_and_a_404() {
        let document = openapi();
        for (path, operations) in document["paths"].as_object().expect("paths") {
            for (method, operation) in operations.as_object().expect("operations") {
                let parameters: Vec<&str> = operation["parameters"]
                    .as_array()
                    .map(|list| list.iter().filter_map(|p| p["name"].as_str()).collect())
                    .unwrap_or_default();
                if path.contains("{tenant}") {
                    assert!(parameters.contains(&"tenant"), "{method} {path}");
                    assert!(
                        operation["responses"].get("404").is_some(),
                        "{method} {path} documents no 404"
                    );
                }
                if method == "post" && !path.starts_with("/v1/check") && !path.ends_with("/revoke")
                {
                    assert!(
                        parameters.contains(&"Idempotency-Key"),
                        "{method} {path} does not document Idempotency-Key"
                    );
                }
            }
        }
    }

    fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    if key == "$ref" {
                        out.extend(value.as_str().map(str::to_owned));
                    } else {
                        collect_refs(value, out);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                items.iter().for_each(|item| collect_refs(item, out))
            }
            _ => {}
        }
    }
}
