//! The console's files over HTTP: one shell at every console route, assets
//! under a build prefix with long caching, ETags, and the security headers.

use axum::http::StatusCode;

use crate::helpers::{TestApp, TestResponse};

const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'";

fn assert_security_headers(response: &TestResponse) {
    assert_eq!(response.header("content-security-policy"), Some(POLICY));
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("referrer-policy"), Some("no-referrer"));
}

/// The `/assets/<build>/…` prefix the shell points at.
fn assets_prefix(shell: &str) -> String {
    let start = shell.find("/assets/").expect("the shell links its assets");
    let rest = &shell[start + "/assets/".len()..];
    let build = rest.split('/').next().unwrap();
    format!("/assets/{build}")
}

#[tokio::test]
async fn every_console_route_serves_the_shell_without_a_key() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/orders/1042",
        "/saved/abc",
        "/reports",
        "/admin",
        "/?q=jane",
    ] {
        let response = app.get(path).send().await;
        assert_eq!(response.status, StatusCode::OK, "GET {path}");
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_security_headers(&response);
        assert_eq!(response.header("cache-control"), Some("no-cache"));
        let html = String::from_utf8(response.bytes.clone()).unwrap();
        assert!(html.contains("type=\"module\""), "{html}");
        assert!(!html.contains("{{ASSETS}}"), "the placeholder was replaced");
        assert!(!html.contains("<script>"), "no inline script");
        assert!(!html.contains("style="), "no inline style");
    }
}

#[tokio::test]
async fn the_shell_is_revalidated_by_its_etag() {
    let app = TestApp::spawn().await;
    let first = app.get("/").send().await;
    let etag = first.header("etag").expect("an ETag").to_string();
    let again = app.get("/").header("if-none-match", &etag).send().await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.bytes.is_empty());
    assert_security_headers(&again);
}

#[tokio::test]
async fn assets_of_this_build_are_cached_for_a_year_with_their_content_type() {
    let app = TestApp::spawn().await;
    let shell = String::from_utf8(app.get("/").send().await.bytes).unwrap();
    let prefix = assets_prefix(&shell);
    for (file, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
    ] {
        let response = app.get(&format!("{prefix}/{file}")).send().await;
        assert_eq!(response.status, StatusCode::OK, "{file}");
        assert_eq!(response.header("content-type"), Some(content_type));
        assert_eq!(
            response.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_security_headers(&response);
        let etag = response.header("etag").expect("an ETag").to_string();
        let again = app
            .get(&format!("{prefix}/{file}"))
            .header("if-none-match", &etag)
            .send()
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{file}");
    }
    // Another build's prefix still answers, but only for revalidation.
    let old = app.get("/assets/0000000000000000/app.js").send().await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(old.header("cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn unknown_paths_and_files_keep_the_problem_404() {
    let app = TestApp::spawn().await;
    let shell = String::from_utf8(app.get("/").send().await.bytes).unwrap();
    let prefix = assets_prefix(&shell);
    for path in [
        "/nowhere".to_string(),
        "/orders".to_string(),
        format!("{prefix}/missing.js"),
        format!("{prefix}/index.html"),
        // Files of the kinds it serves, outside `console/`.
        format!("{prefix}/../benches/search/console.rs"),
        format!("{prefix}/..%2F..%2Fsrc%2Fconsole%2Fmod.js"),
        format!("{prefix}/%2E%2E/tests/api/console/fixture.json"),
    ] {
        let response = app.get(&path).send().await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "GET {path}");
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json"),
            "GET {path}"
        );
    }
}
