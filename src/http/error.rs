//! The one error type of the HTTP layer and its RFC 9457 problem+json rendering.
//!
//! Every handler returns `Result<_, ApiError>`; this file is the only place that
//! decides status codes and problem `type`s. Clients match on `type`, which is
//! stable; `title` and `detail` are for people. 5xx bodies say nothing internal:
//! the cause is logged here, inside the request's span.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

/// One invalid input field: a JSON path such as `items[0].quantity` and what is wrong.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every 409 the service answers: the state of a resource refuses the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A store with that id exists.
    StoreExists,
    /// A product with that SKU exists in the store.
    SkuExists,
    /// A stock adjustment would leave the range `0..=MAX_STOCK`.
    StockOutOfRange,
    /// An order's lines need more stock than there is.
    InsufficientStock,
    /// The store has an order with that `external_id`.
    ExternalIdExists,
    /// The order's lifecycle forbids the status change.
    IllegalTransition,
    /// The Idempotency-Key was used with another request.
    IdempotencyKeyReused,
    /// A search index rebuild is running.
    ReindexRunning,
    /// A webhook delivery's event is past retention.
    EventPruned,
    /// The owner has a saved search with that name.
    SavedSearchExists,
}

impl Conflict {
    /// The problem kind, the last segment of the problem `type`.
    pub fn kind(self) -> &'static str {
        match self {
            Conflict::StoreExists => "store-exists",
            Conflict::SkuExists => "sku-exists",
            Conflict::StockOutOfRange => "stock-out-of-range",
            Conflict::InsufficientStock => "insufficient-stock",
            Conflict::ExternalIdExists => "external-id-exists",
            Conflict::IllegalTransition => "illegal-transition",
            Conflict::IdempotencyKeyReused => "idempotency-key-reused",
            Conflict::ReindexRunning => "reindex-running",
            Conflict::EventPruned => "event-pruned",
            Conflict::SavedSearchExists => "saved-search-exists",
        }
    }
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("invalid query parameter `{field}`: {message}")]
    BadParameter { field: String, message: String },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("missing or unknown API key")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {detail}")]
    Conflict {
        kind: Conflict,
        detail: String,
        extra: Map<String, Value>,
    },
    #[error("precondition failed: the resource has changed")]
    PreconditionFailed,
    /// An event cursor older than retention: events after it may be pruned.
    #[error("the cursor is older than the events retained; start again without `after`")]
    CursorExpired,
    #[error("request body over {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("invalid search query: {message}")]
    InvalidQuery {
        message: String,
        position: usize,
        token: String,
    },
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A 409 of the given kind with extra members for the problem body.
    pub fn conflict(kind: Conflict, detail: impl Into<String>, extra: Value) -> Self {
        let extra = match extra {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self::Conflict {
            kind,
            detail: detail.into(),
            extra,
        }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::BadParameter { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::CursorExpired => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::InvalidQuery { .. } => StatusCode::BAD_REQUEST,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable problem kind, the last segment of `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "malformed-request",
            Self::BadParameter { .. } => "invalid-parameter",
            Self::Validation(_) => "validation-failed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Conflict { kind, .. } => kind.kind(),
            Self::PreconditionFailed => "precondition-failed",
            Self::CursorExpired => "cursor-expired",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::InvalidQuery { .. } => "invalid-query",
            Self::ServiceUnavailable(_) => "service-unavailable",
            Self::Internal(_) => "internal-error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Internal(_) => {
                "the server failed to handle this request; it has been logged".into()
            }
            Self::Validation(errors) => format!("{} invalid field(s)", errors.len()),
            other => other.to_string(),
        }
    }

    /// The problem+json body.
    pub fn to_problem(&self) -> Value {
        let status = self.status_code();
        let mut body = Map::new();
        body.insert("type".into(), problem_type(self.kind()).into());
        body.insert(
            "title".into(),
            status.canonical_reason().unwrap_or("Error").into(),
        );
        body.insert("status".into(), status.as_u16().into());
        body.insert("detail".into(), self.detail().into());
        match self {
            Self::Validation(errors) => {
                body.insert(
                    "errors".into(),
                    serde_json::to_value(errors).unwrap_or_default(),
                );
            }
            Self::BadParameter { field, message } => {
                let errors = [FieldError::new(field.clone(), message.clone())];
                body.insert(
                    "errors".into(),
                    serde_json::to_value(errors).unwrap_or_default(),
                );
            }
            Self::Conflict { extra, .. } => body.extend(extra.clone()),
            Self::InvalidQuery {
                message,
                position,
                token,
            } => {
                body.insert("position".into(), (*position).into());
                body.insert("token".into(), token.clone().into());
                let errors = [FieldError::new(
                    "q",
                    format!("{message} at position {position}"),
                )];
                body.insert(
                    "errors".into(),
                    serde_json::to_value(errors).unwrap_or_default(),
                );
            }
            _ => {}
        }
        Value::Object(body)
    }
}

/// The `type` URI of a problem kind.
pub fn problem_type(kind: &str) -> String {
    format!("urn:ordersearch:problem:{kind}")
}

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Renders a problem body with the right content type.
pub fn problem_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let mut response = problem_response(self.status_code(), &self.to_problem());
        if matches!(self, Self::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            // Overload, not a fault: the client may retry.
            sqlx::Error::PoolTimedOut => {
                Self::ServiceUnavailable("the database is busy; retry shortly".into())
            }
            error => Self::Internal(error.into()),
        }
    }
}

/// Turns a unique violation of a named constraint into a domain error at the query site.
pub trait ResultExt<T> {
    fn on_constraint(self, name: &str, to_error: impl FnOnce() -> ApiError) -> Result<T, ApiError>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_constraint(self, name: &str, to_error: impl FnOnce() -> ApiError) -> Result<T, ApiError> {
        self.map_err(|error| match &error {
            sqlx::Error::Database(db) if db.constraint() == Some(name) => to_error(),
            _ => ApiError::from(error),
        })
    }
}

impl<T> ResultExt<T> for Result<T, ApiError> {
    fn on_constraint(self, name: &str, to_error: impl FnOnce() -> ApiError) -> Result<T, ApiError> {
        self.map_err(|error| match &error {
            ApiError::Internal(cause) => match cause.downcast_ref::<sqlx::Error>() {
                Some(sqlx::Error::Database(db)) if db.constraint() == Some(name) => to_error(),
                _ => error,
            },
            _ => error,
        })
    }
}
