//! `ETag` and `If-Match`: optimistic concurrency on single resources.
//!
//! The ETag of a resource is its `version`. A write with `If-Match` passes the
//! version it expects down to the `update ... where version = $n` statement, so
//! the check and the write are one atomic step; a mismatch is a 412.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, header};

use super::error::ApiError;

/// The `ETag` header for a version.
pub fn etag(version: i32) -> (HeaderName, HeaderValue) {
    let value =
        HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header");
    (header::ETAG, value)
}

/// The version an `If-Match` header requires; `None` when absent or `*`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IfMatch(pub Option<i32>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::PreconditionFailed)?
            .trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        let version = text
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse::<i32>()
            // A tag we never issued can match nothing.
            .map_err(|_| ApiError::PreconditionFailed)?;
        Ok(IfMatch(Some(version)))
    }
}
