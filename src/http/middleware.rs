//! Cross-cutting request handling: metrics per route and status, NUL-byte guard,
//! and problem+json answers for unknown routes, wrong methods and panics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, problem_response};

/// Records `http_requests_total` and `http_request_duration_seconds` by route and status.
pub async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Admits at most one API request per database permit; the rest wait their turn
/// (fairly) rather than time out on the pool.
pub async fn limit_database_work(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    request: Request,
    next: Next,
) -> Response {
    match state.db_permits.clone().acquire_owned().await {
        Ok(_permit) => next.run(request).await,
        Err(_) => ApiError::ServiceUnavailable("shutting down".into()).into_response(),
    }
}

/// NUL bytes (`%00`) in a path or query can never name anything: 400 before routing.
pub async fn reject_nul_bytes(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let has_nul = |text: &str| text.contains("%00") || text.contains('\0');
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        let error = ApiError::BadRequest("the URL contains a NUL byte (%00)".into());
        return error.into_response();
    }
    next.run(request).await
}

/// The fallback for paths no route matches.
pub async fn route_not_found() -> ApiError {
    ApiError::NotFound("route")
}

/// The fallback for a known path with a method it does not have.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// A panic in a handler becomes a bare 500 problem; the panic itself is logged.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    let error = ApiError::Internal(anyhow::anyhow!("panic"));
    problem_response(error.status_code(), &error.to_problem())
}
