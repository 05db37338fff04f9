//! What the OpenAPI document states beyond each handler's annotations, so that
//! a client generated from it is refused nothing it was told is valid: the
//! responses every operation shares (declared here once) and the ids the
//! loaded catalog accepts, as enums.

use clearance_core::workflow::SupportRole;
use clearance_core::{Catalog, EnrollmentStatus};
use serde_json::{Map, Value, json};

/// A reference to the one error body schema.
fn error_body(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// Adds the responses an operation can answer whatever its handler: 401
/// (every `/v1` route authenticates), 500 and 503 (the store), 400 when it
/// reads parameters or a body, 413 and 415 when it reads a body, 422 when it
/// takes an `Idempotency-Key`. An operation's own description of a status wins.
pub fn add_shared_responses(document: &mut Value) {
    for operation in operations(document).filter_map(Value::as_object_mut) {
        let parameters = operation
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let has_body = operation.contains_key("requestBody");
        let idempotent = parameters
            .iter()
            .any(|parameter| parameter["name"] == "Idempotency-Key");
        let mut shared = vec![
            ("401", unauthenticated()),
            (
                "500",
                error_body("`internal`: stored data could not be read"),
            ),
            ("503", unavailable()),
        ];
        if has_body || !parameters.is_empty() {
            shared.push((
                "400",
                error_body("`invalid_input` (its `field` names the parameter or body field at fault) or `bad_request`"),
            ));
        }
        if has_body {
            shared.push((
                "413",
                error_body("`body_too_large`: the body is over the limit"),
            ));
            shared.push((
                "415",
                error_body(
                    "`unsupported_media_type`: the body is not of the documented media type",
                ),
            ));
        }
        if idempotent {
            shared.push((
                "422",
                error_body(
                    "`idempotency_key_reused`: the key was used before for a different request",
                ),
            ));
        }
        let responses = operation
            .entry("responses")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(responses) = responses.as_object_mut() else {
            continue;
        };
        for (status, response) in shared {
            responses.entry(status).or_insert(response);
        }
    }
}

fn unauthenticated() -> Value {
    let mut response =
        error_body("`unauthenticated`: no bearer token, or one that is unknown or revoked");
    response["headers"] = json!({
        "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}
    });
    response
}

fn unavailable() -> Value {
    let mut response = error_body(
        "`store_unavailable`, `request_timeout`, or `revision_not_reached` (`min_revision` is not applied yet); retry",
    );
    response["headers"] = json!({
        "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
    });
    response
}

/// States the ids `catalog` accepts as enums: the path parameters `program`,
/// `agreement`, `profile` and `offer`, the `action` of a single check (a batch
/// answers an unknown action in that check's own result), every list of
/// `roles`, a case's `program`, an enrollment `status` and a staff `role`.
pub fn add_catalog_enums(document: &mut Value, catalog: &Catalog) {
    let ids = |ids: Vec<&str>| Value::from(ids);
    let programs = ids(catalog.programs.iter().map(|p| p.id.as_str()).collect());
    let agreements = ids(catalog.agreements.iter().map(|a| a.id.as_str()).collect());
    let profiles = ids(catalog.profiles.iter().map(|p| p.id.as_str()).collect());
    let offers = ids(catalog.offers.iter().map(|o| o.id.as_str()).collect());
    let actions = ids(catalog.actions.iter().map(|a| a.id.as_str()).collect());
    let roles = ids(catalog.roles.iter().map(|r| r.id.as_str()).collect());
    let statuses = serde_json::to_value(EnrollmentStatus::ALL).expect("statuses serialize");
    let support_roles =
        serde_json::to_value([SupportRole::SupportAgent, SupportRole::SupportAdmin])
            .expect("support roles serialize");

    for parameter in parameters(document).filter(|parameter| parameter["in"] == "path") {
        let values = match parameter["name"].as_str() {
            Some("program") => &programs,
            Some("agreement") => &agreements,
            Some("profile") => &profiles,
            Some("offer") => &offers,
            _ => continue,
        };
        parameter["schema"]["enum"] = values.clone();
    }
    let schemas = &mut document["components"]["schemas"];
    for (schema, property, values) in [
        ("CheckRequest", "action", &actions),
        ("OpenCaseRequest", "program", &programs),
        ("EnrollmentRequest", "status", &statuses),
    ] {
        if let Some(property) = schemas[schema]["properties"].get_mut(property) {
            property["enum"] = values.clone();
            if property["type"].is_array() {
                // An optional property stays nullable.
                let mut with_null = values.as_array().cloned().unwrap_or_default();
                with_null.push(Value::Null);
                property["enum"] = Value::from(with_null);
            }
        }
    }
    for schema in ["CreateTenantRequest", "AddUserRequest", "RolesRequest"] {
        if let Some(property) = schemas[schema]["properties"].get_mut("roles") {
            property["items"]["enum"] = roles.clone();
        }
    }
    if let Some(variants) = schemas["Principal"]["oneOf"].as_array_mut() {
        for variant in variants {
            if let Some(role) = variant["properties"].get_mut("role") {
                role["enum"] = support_roles.clone();
            }
        }
    }
}

/// Free text the workflow accepts: at least one character that is not
/// whitespace (`char::is_whitespace`, listed), as `text` in the core checks.
const NOT_BLANK: &str = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// An identifier the workflow accepts: no whitespace or control characters.
const IDENTIFIER: &str =
    r"^[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$";
/// The longest subject, document name or document type (the core's `SUBJECT_MAX`).
const SUBJECT_MAX: u32 = 200;
/// The longest free text (the core's `TEXT_MAX`).
const TEXT_MAX: u32 = 10_000;
/// The longest identifier (the core's `ID_MAX`).
const ID_MAX: u32 = 128;
/// What an `Idempotency-Key` may be: 1-200 printable ASCII characters.
const IDEMPOTENCY_KEY: &str = r"^[!-~]{1,200}$";

/// States the limits the workflow enforces on text, identifiers and lists,
/// and the `Idempotency-Key` format, where the annotations cannot name a
/// shared constant.
pub fn add_input_limits(document: &mut Value) {
    let text = |max: u32| json!({"minLength": 1, "maxLength": max, "pattern": NOT_BLANK});
    let identifier = json!({"minLength": 1, "maxLength": ID_MAX, "pattern": IDENTIFIER});
    let schemas = &mut document["components"]["schemas"];
    for (schema, property, limits) in [
        ("RejectRequest", "reason", text(TEXT_MAX)),
        ("ChallengeRequest", "reason", text(TEXT_MAX)),
        ("OpenCaseRequest", "subject", text(SUBJECT_MAX)),
        ("OpenCaseRequest", "body", text(TEXT_MAX)),
        ("CommentRequest", "body", text(TEXT_MAX)),
        ("ResolveRequest", "resolution", text(TEXT_MAX)),
        ("AppealForm", "document_type", text(SUBJECT_MAX)),
        ("AddUserRequest", "user", identifier.clone()),
        ("CreateTenantRequest", "admin", identifier.clone()),
        (
            "CreateTenantRequest",
            "country",
            json!({"pattern": "^[A-Z]{2}$"}),
        ),
        (
            "CreateTenantRequest",
            "id",
            json!({"pattern": "^[a-z0-9_-]{1,64}$"}),
        ),
        ("ScoreRequest", "score", json!({"maximum": 100})),
        ("RolesRequest", "roles", json!({"minItems": 1})),
        (
            "ChallengeRequest",
            "documents",
            json!({"minItems": 1, "items": text(SUBJECT_MAX)}),
        ),
        ("AppealForm", "document", json!({"minLength": 1})),
    ] {
        let Some(property) = schemas[schema]["properties"].get_mut(property) else {
            continue;
        };
        merge(property, limits);
    }
    // The form's fields are the only ones read: any other is refused.
    schemas["AppealForm"]["additionalProperties"] = Value::Bool(false);
    // A principal is one of its kinds with exactly that kind's fields (the
    // token request refuses any other; utoipa does not state it for an enum).
    if let Some(kinds) = schemas["Principal"]["oneOf"].as_array_mut() {
        for kind in kinds {
            kind["additionalProperties"] = Value::Bool(false);
        }
    }

    for parameter in parameters(document).filter(|parameter| parameter["name"] == "Idempotency-Key")
    {
        merge(
            &mut parameter["schema"],
            json!({"pattern": IDEMPOTENCY_KEY}),
        );
    }
}

/// Sets every key of `extra` in `target`, recursively for objects.
fn merge(target: &mut Value, extra: Value) {
    match (target, extra) {
        (Value::Object(target), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, extra) => *target = extra,
    }
}

/// Every operation of the document (each method of each path).
fn operations(document: &mut Value) -> impl Iterator<Item = &mut Value> {
    document
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
}

/// Every parameter of every operation.
fn parameters(document: &mut Value) -> impl Iterator<Item = &mut Value> {
    operations(document)
        .filter_map(|operation| operation.get_mut("parameters"))
        .filter_map(Value::as_array_mut)
        .flatten()
}
