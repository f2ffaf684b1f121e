//! The staff console: static HTML, CSS and ES modules from `console/`, embedded
//! in the binary (read from disk in debug builds, so edits show on reload).
//!
//! The page is one shell served at every console route (`/`, `/orders/{number}`,
//! `/saved/{id}`, `/reports`, `/admin`); it routes on the client. Its files live
//! under `/assets/<build>/`, where `<build>` is a digest of every embedded file:
//! a new build is a new prefix, so those answers may be cached for a year, while
//! the shell is revalidated by its ETag. Every answer carries the console's
//! security headers (a strict CSP: no inline script or style).

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;

#[derive(RustEmbed)]
#[folder = "console/"]
struct Files;

/// The policy API.md fixes for console answers.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'";

/// The shell's placeholder for the assets' prefix.
const ASSETS_PLACEHOLDER: &str = "{{ASSETS}}";
/// Versioned assets never change under their prefix.
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The shell, and assets asked for under another build's prefix, are revalidated.
const CACHE_REVALIDATE: &str = "no-cache";

/// The console's routes, merged beside the API's.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(shell))
        .route("/orders/{number}", get(shell))
        .route("/saved/{id}", get(shell))
        .route("/reports", get(shell))
        .route("/admin", get(shell))
        .route("/assets/{build}/{*file}", get(asset))
}

/// The digest of every embedded file: the assets' prefix for this build.
fn build_id() -> String {
    fn compute() -> String {
        let mut names: Vec<_> = Files::iter().collect();
        names.sort();
        let mut hasher = Sha256::new();
        for name in names {
            if let Some(file) = Files::get(&name) {
                hasher.update(name.as_bytes());
                hasher.update(file.metadata.sha256_hash());
            }
        }
        hex(&hasher.finalize()[..8])
    }
    // Debug builds read the files from disk, where they change under a running server.
    if cfg!(debug_assertions) {
        return compute();
    }
    static BUILD: OnceLock<String> = OnceLock::new();
    BUILD.get_or_init(compute).clone()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `GET /` and the other console routes: the shell, pointing at this build's assets.
async fn shell(headers: HeaderMap) -> Response {
    let Some(file) = Files::get("index.html") else {
        return ApiError::NotFound("console").into_response();
    };
    let build = build_id();
    let html = String::from_utf8_lossy(&file.data)
        .replace(ASSETS_PLACEHOLDER, &format!("/assets/{build}"));
    let etag = format!("\"{}\"", hex(&Sha256::digest(html.as_bytes())[..8]));
    respond(
        &headers,
        &etag,
        "text/html; charset=utf-8",
        CACHE_REVALIDATE,
        html.into_bytes(),
    )
}

/// `GET /assets/{build}/{file}`: one embedded file.
async fn asset(headers: HeaderMap, Path((build, name)): Path<(String, String)>) -> Response {
    let content_type = content_type(&name);
    let file = match (content_type, Files::get(&name)) {
        (Some(_), Some(file)) if name != "index.html" => file,
        _ => return ApiError::NotFound("asset").into_response(),
    };
    let cache = if build == build_id() {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..8]));
    let content_type = content_type.unwrap_or_default();
    respond(&headers, &etag, content_type, cache, file.data.into_owned())
}

/// The media type of the kinds of file the console ships; others are not served.
fn content_type(name: &str) -> Option<&'static str> {
    let extension = name.rsplit_once('.')?.1;
    Some(match extension {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        _ => return None,
    })
}

/// A 200 with the body, or a 304 when the client holds this ETag already.
fn respond(
    request: &HeaderMap,
    etag: &str,
    content_type: &'static str,
    cache: &'static str,
    body: Vec<u8>,
) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, etag);
    }
    add_security_headers(headers);
    response
}

/// The console's security headers.
pub fn add_security_headers(headers: &mut HeaderMap) {
    let pairs = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (HeaderName::from_static("x-frame-options"), "DENY"),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_console_kinds_of_file_have_a_content_type() {
        assert_eq!(
            content_type("app.js"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(content_type("console.css"), Some("text/css; charset=utf-8"));
        assert_eq!(content_type("README"), None);
        assert_eq!(content_type("index.rs"), None);
    }

    #[test]
    fn the_build_id_is_a_short_hex_digest() {
        let build = build_id();
        assert_eq!(build.len(), 16);
        assert!(build.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
