//! Request extractors whose rejections are API errors naming the field.

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::error::ApiError;

/// The header that makes a POST safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// JSON whole numbers in request bodies. The OpenAPI document states these
/// fields as JSON Schema `integer`, which counts `23.0` as the integer 23; serde's
/// integer types refuse it, so these fields read any number without a fraction
/// (and still refuse `23.5`, negatives and numbers out of range, naming the field).
pub mod whole_number {
    use serde::Deserializer;
    use serde::de::{Error, Unexpected, Visitor};

    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = u64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number of at least 0")
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<u64, E> {
            // 2^64 as f64 is exact; anything below it with no fraction fits.
            if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "checked above"
                )]
                Ok(v as u64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }

    fn whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(deserializer: D) -> Result<T, D::Error> {
        let v = deserializer.deserialize_any(Whole)?;
        T::try_from(v).map_err(|_| D::Error::custom(format!("{v} is out of range")))
    }

    /// A required whole number (`#[serde(deserialize_with = "whole_number::required")]`).
    pub fn required<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        whole(deserializer)
    }

    /// An optional whole number (with `#[serde(default)]`); `null` is none.
    pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        struct Maybe<T>(std::marker::PhantomData<T>);
        impl<'de, T: TryFrom<u64>> Visitor<'de> for Maybe<T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number of at least 0, or null")
            }
            fn visit_none<E: Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_unit<E: Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
                whole(d).map(Some)
            }
        }
        deserializer.deserialize_option(Maybe(std::marker::PhantomData))
    }
}

/// A JSON body; a malformed one is a 400 naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                value
                    .split(';')
                    .next()
                    .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                ApiError::new(
                    rejection.status(),
                    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        "body_too_large"
                    } else {
                        "bad_request"
                    },
                    rejection.body_text(),
                )
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body, naming the field of the first error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        ApiError::invalid(field_of(&path, &message, "body"), message)
    })
}

/// Query parameters; a bad one is a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.inner().to_string();
                ApiError::invalid(field_of(&path, &message, "query"), message)
            })
    }
}

/// Path parameters; one that does not decode (e.g. percent-encoded bytes that
/// are not UTF-8) is a 400 naming the parameter.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_error(parts, &rejection)),
        }
    }
}

/// A path rejection in the API's error shape. A route that declares other
/// parameters than its handler reads is a bug of this server: 500.
fn path_error(parts: &Parts, rejection: &PathRejection) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(error) = rejection else {
        return ApiError::new(rejection.status(), "internal", rejection.body_text());
    };
    if error.status().is_server_error() {
        return ApiError::new(error.status(), "internal", error.body_text());
    }
    let parameter = |index: usize| {
        let route = parts.extensions.get::<MatchedPath>()?.as_str();
        parameter_names(route).nth(index).map(str::to_owned)
    };
    let field = match error.kind() {
        ErrorKind::ParseErrorAtKey { key, .. }
        | ErrorKind::InvalidUtf8InPathParam { key }
        | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
        ErrorKind::ParseErrorAtIndex { index, .. } => parameter(*index),
        ErrorKind::ParseError { .. } => parameter(0),
        _ => None,
    };
    ApiError::invalid(
        field.unwrap_or_else(|| "path".to_owned()),
        error.kind().to_string(),
    )
}

/// The names of a route's parameters, in order (`{tenant}`, `{*rest}`).
fn parameter_names(route: &str) -> impl Iterator<Item = &str> {
    route.split('/').filter_map(|segment| {
        let name = segment.strip_prefix('{')?.strip_suffix('}')?;
        Some(name.trim_start_matches('*'))
    })
}

/// The field an error is about: its path, or for a missing or unknown field
/// the name serde quotes in the message.
fn field_of(path: &str, message: &str, root: &str) -> String {
    let quoted = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| {
            let start = message.find(prefix)? + prefix.len();
            let end = message[start..].find('`')? + start;
            Some(&message[start..end])
        });
    match (path, quoted) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => root.to_owned(),
        (path, Some(name)) if message.starts_with("missing field") => format!("{path}.{name}"),
        (path, _) => path.to_owned(),
    }
}

/// The authenticated principal (put there by the authentication middleware).
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "a bearer token is required",
                )
            })
    }
}

/// The optional `Idempotency-Key` header.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKey(
    /// Makes a retry safe
    pub Option<String>,
);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(IDEMPOTENCY_KEY) {
            None => Ok(IdempotencyKey(None)),
            Some(value) => value
                .to_str()
                .map(|key| IdempotencyKey(Some(key.to_owned())))
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be printable ASCII")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_of_an_error_is_named() {
        assert_eq!(
            field_of(".", "missing field `user` at line 1", "body"),
            "user"
        );
        assert_eq!(
            field_of("checks[0]", "missing field `action`", "body"),
            "checks[0].action"
        );
        assert_eq!(
            field_of(".", "unknown field `usr`, expected one of ...", "body"),
            "usr"
        );
        assert_eq!(
            field_of("min_revision", "invalid type: string", "body"),
            "min_revision"
        );
        assert_eq!(field_of(".", "EOF while parsing", "body"), "body");
    }

    #[test]
    fn the_parameters_of_a_route_are_named_in_order() {
        let names: Vec<&str> =
            parameter_names("/v1/tenants/{tenant}/cases/{case}/comments").collect();
        assert_eq!(names, ["tenant", "case"]);
        let names: Vec<&str> = parameter_names("/v1/{*rest}").collect();
        assert_eq!(names, ["rest"]);
        assert_eq!(parameter_names("/v1/check").count(), 0);
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        user: String,
        limit: Option<u32>,
    }

    #[test]
    fn a_bad_json_body_names_its_field() {
        let error = parse_json::<Sample>(br#"{"user": "a", "limit": "ten"}"#).unwrap_err();
        assert_eq!(error.detail.field.as_deref(), Some("limit"));
        let error = parse_json::<Sample>(br#"{}"#).unwrap_err();
        assert_eq!(error.detail.field.as_deref(), Some("user"));
        let error = parse_json::<Sample>(br#"{"user": "a", "x": 1}"#).unwrap_err();
        assert_eq!(error.detail.field.as_deref(), Some("x"));
    }
}
