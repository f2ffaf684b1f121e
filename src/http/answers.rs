//! The answers every operation of `/openapi.json` may give besides its own,
//! added to the document in one place so none is forgotten: a problem for a
//! malformed request (400), a missing or unknown key (401), a role or scope
//! that may not (403), an unreadable database (503); a `404` where a path
//! names a resource or a query parameter names one (`store`, `saved`); `409` for an
//! `Idempotency-Key` reused with another body; and `413`, `415`, `422` where a
//! body is taken. It also states the `Idempotency-Key` header's rule.

use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, RefOr, ResponseBuilder};

/// The header that makes a `POST` safe to retry.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// Query parameters that name a resource (a store, a saved search), which may not exist.
const RESOURCE_PARAMETERS: &[&str] = &["store", "saved"];

/// Adds the common answers to every `/v1` operation of `openapi`.
pub fn document(openapi: &mut OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let names_resource = path.contains('{');
        for operation in [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            add_common(operation, names_resource);
        }
    }
}

fn add_common(operation: &mut Operation, names_resource: bool) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let names_by_query = parameters.iter().any(|parameter| {
        parameter.parameter_in == ParameterIn::Query
            && RESOURCE_PARAMETERS.contains(&parameter.name.as_str())
    });
    let idempotent = parameters
        .iter()
        .any(|parameter| parameter.name == IDEMPOTENCY_KEY);
    let mut answers = vec![
        (
            "400",
            "A malformed request: a parameter, header or JSON body that cannot be read",
        ),
        ("401", "No key, or one this service does not know"),
        ("403", "The key's role or store scope may not do this"),
        (
            "503",
            "The database cannot be reached, or the service is shutting down",
        ),
    ];
    if names_resource || names_by_query {
        answers.push((
            "404",
            "No such resource, or one the key's store scope cannot see",
        ));
    }
    if idempotent {
        answers.push(("409", "The Idempotency-Key was used with another body"));
    }
    if operation.request_body.is_some() {
        answers.push(("413", "The body is over its size limit"));
        answers.push(("415", "The body is not application/json"));
        answers.push((
            "422",
            "The body fails validation; `errors` names every field",
        ));
    }
    for (status, description) in answers {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    }
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.name == IDEMPOTENCY_KEY {
            state_idempotency_rule(parameter);
        }
    }
}

/// 1 to 255 visible ASCII characters, as `http::idempotency` checks.
fn state_idempotency_rule(parameter: &mut Parameter) {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(255))
        .pattern(Some("^[!-~]{1,255}$"))
        .build();
    parameter.schema = Some(RefOr::T(schema.into()));
}
