//! Request extractors that turn raw input into checked values or a clear 4xx.
//!
//! `ValidJson` answers 415 for a non-JSON body, 413 over the body limit, 400 for
//! malformed JSON, and 422 naming the field for wrong types, unknown fields,
//! NUL bytes and every `validator` rule that fails. `ValidQuery` answers 400
//! naming the parameter. Handlers only ever see values that passed.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::error::{ApiError, FieldError};

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body that parsed, named no unknown field and passed its validation rules.
pub struct ValidJson<T>(pub T);

/// The body as it arrived, kept beside the parsed value for idempotency fingerprints.
pub struct RawJson<T> {
    pub value: T,
    pub bytes: Bytes,
}

impl<S, T> FromRequest<S> for RawJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(MAX_BODY_BYTES)
            } else {
                ApiError::BadRequest(rejection.body_text())
            }
        })?;
        let value = parse_json(&bytes)?;
        Ok(Self { value, bytes })
    }
}

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let raw = RawJson::<T>::from_request(req, state).await?;
        Ok(Self(raw.value))
    }
}

/// Parses and validates a JSON document into `T`.
pub fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::BadRequest(format!("malformed JSON: {error}")))?;
    if !value.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let mut nul_fields = Vec::new();
    find_nul_strings(&value, String::new(), &mut nul_fields);
    if !nul_fields.is_empty() {
        return Err(ApiError::Validation(nul_fields));
    }
    let mut errors = Vec::new();
    let parsed = deserialize_collecting::<T>(value, &mut errors);
    if let Some(parsed) = &parsed
        && let Err(invalid) = parsed.validate()
    {
        errors.extend(flatten_validation(&invalid));
    }
    match parsed {
        Some(parsed) if errors.is_empty() => Ok(parsed),
        _ => {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            errors.dedup_by(|a, b| a.field == b.field);
            Err(ApiError::Validation(errors))
        }
    }
}

/// Serde stops at the first error; to name every bad field, each failing field is
/// recorded and taken out of the way (removed, or for a missing required field
/// filled with a stand-in), and the rest is tried again, a bounded number of
/// times. Stand-ins only ever reach a value that is thrown away with the 422.
fn deserialize_collecting<T: DeserializeOwned>(
    mut value: Value,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    const MAX_ROUNDS: usize = 64;
    let mut stand_ins: HashMap<String, usize> = HashMap::new();
    for _ in 0..MAX_ROUNDS {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(parsed) => return Some(parsed),
            Err(error) => error,
        };
        let field_error = type_error(&error);
        let field = field_error.field.clone();
        let message = error.inner().to_string();
        let cleared = if let Some(attempt) = stand_ins.get_mut(&field) {
            // The stand-in we put there does not fit: an enum names what would,
            // otherwise try the next kind of value.
            match expected_variant(&message) {
                Some(variant) if *attempt < STAND_INS.len() => {
                    *attempt = STAND_INS.len();
                    set_value(&mut value, &field, Value::String(variant))
                }
                _ => {
                    *attempt += 1;
                    STAND_INS
                        .get(*attempt)
                        .is_some_and(|make| set_value(&mut value, &field, make()))
                }
            }
        } else if message.starts_with("missing field") {
            stand_ins.insert(field.clone(), 0);
            set_value(&mut value, &field, STAND_INS[0]())
        } else {
            remove_path(&mut value, &field)
        };
        if !errors.iter().any(|known| known.field == field) {
            errors.push(field_error);
        }
        if !cleared {
            return None;
        }
    }
    None
}

/// Values tried in turn for a missing required field.
const STAND_INS: [fn() -> Value; 6] = [
    || Value::String("0".into()),
    || Value::from(1),
    || Value::Bool(false),
    || Value::Object(Default::default()),
    || Value::Array(Vec::new()),
    || Value::String("00000000-0000-0000-0000-000000000000".into()),
];

/// The first variant an "unknown variant" error lists.
fn expected_variant(message: &str) -> Option<String> {
    let (_, expected) = message.split_once("expected one of `")?;
    expected.split('`').next().map(str::to_string)
}

/// Sets the member at `path` (its parent must be an object).
fn set_value(value: &mut Value, path: &str, new: Value) -> bool {
    let (parent, name) = match path.rsplit_once('.') {
        Some((parent, name)) => (pointer_mut(value, parent), name),
        None => (Some(value), path),
    };
    match parent {
        Some(Value::Object(map)) => {
            map.insert(name.to_string(), new);
            true
        }
        _ => false,
    }
}

/// The value at a path such as `items[0].customer`.
fn pointer_mut<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut current = value;
    for part in path.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(open) => (&part[..open], &part[open..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            current = current.get_mut(name)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            current = current.get_mut(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

/// Removes the member at a path such as `items[0].quantity`; false if it is not there.
fn remove_path(value: &mut Value, path: &str) -> bool {
    let mut segments: Vec<String> = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            segments.push(rest[..open].to_string());
            rest = &rest[open..];
            for index in rest.split('[').filter(|s| !s.is_empty()) {
                segments.push(format!("[{}", index.trim_end_matches(']')));
            }
        } else {
            segments.push(rest.to_string());
        }
    }
    segments.retain(|segment| !segment.is_empty());
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut current = value;
    for segment in parents {
        let next = match segment.strip_prefix('[') {
            Some(index) => index.parse::<usize>().ok().and_then(|i| current.get_mut(i)),
            None => current.get_mut(segment.as_str()),
        };
        match next {
            Some(next) => current = next,
            None => return false,
        }
    }
    match (last.strip_prefix('['), current) {
        (None, Value::Object(map)) => map.remove(last.as_str()).is_some(),
        // An array element cannot be removed without shifting the others' paths.
        _ => false,
    }
}

/// Names the field of a serde error: its path, or the field a message quotes.
fn type_error(error: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let path = error.path().to_string();
    let message = error.inner().to_string();
    let quoted = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"));
    let field = match (path.as_str(), quoted) {
        (".", Some(name)) => name.to_string(),
        (parent, Some(name)) if message.starts_with("missing field") => format!("{parent}.{name}"),
        (".", None) => "body".to_string(),
        (path, _) => path.to_string(),
    };
    let message = match message.find(", expected one of") {
        Some(cut) if message.starts_with("unknown field") => message[..cut].to_string(),
        _ => message,
    };
    FieldError::new(field, message)
}

fn find_nul_strings(value: &Value, path: String, out: &mut Vec<FieldError>) {
    match value {
        Value::String(text) if text.contains('\0') => {
            out.push(FieldError::new(path, "must not contain NUL characters"));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                find_nul_strings(item, format!("{path}[{index}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    out.push(FieldError::new(
                        child.clone(),
                        "must not contain NUL characters",
                    ));
                }
                find_nul_strings(item, child, out);
            }
        }
        _ => {}
    }
}

/// Every failed rule of a `validator` run, as `path: message`, sorted by path.
pub fn flatten_validation(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = BTreeMap::new();
    collect_validation(errors, "", &mut out);
    out.into_iter()
        .map(|(field, message)| FieldError::new(field, message))
        .collect()
}

fn collect_validation(errors: &ValidationErrors, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                let message = list
                    .iter()
                    .map(|error| match &error.message {
                        Some(message) => message.to_string(),
                        None => error.code.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                out.insert(path, message);
            }
            ValidationErrorsKind::Struct(inner) => collect_validation(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_validation(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

/// Query parameters that parsed and passed their rules; a bad one is a 400 naming it.
pub struct ValidQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ValidQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let value: T = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let message = error.inner().to_string();
            let field = match (error.path().to_string().as_str(), message.split('`').nth(1)) {
                (".", Some(name)) => name.to_string(),
                (".", None) => "query".to_string(),
                (path, _) => path.to_string(),
            };
            ApiError::BadParameter { field, message }
        })?;
        value.validate().map_err(|errors| {
            let first = flatten_validation(&errors).into_iter().next();
            let first = first.unwrap_or_else(|| FieldError::new("query", "invalid"));
            ApiError::BadParameter {
                field: first.field,
                message: first.message,
            }
        })?;
        Ok(Self(value))
    }
}

/// Path parameters; a segment that does not decode (not UTF-8, say) names nothing
/// here, so it is a problem+json 404 like any unknown id.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|_| ApiError::NotFound("resource"))
    }
}
