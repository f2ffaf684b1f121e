//! The OpenAPI document describes exactly the routes the app serves, and the docs
//! UI is served offline.

use std::collections::BTreeSet;

use axum::http::Method;

use crate::authz::{self, ROUTES};
use crate::helpers::{TestApp, TestResponse};

/// Routes outside `/v1`, served without a key.
const OPERATIONS: &[&str] = &["GET /healthz", "GET /readyz", "GET /metrics"];

async fn spec(app: &TestApp) -> oas3::Spec {
    let response = app.get("/openapi.json").send().await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        response.header("content-type")
    );
    let text = String::from_utf8(response.bytes).expect("UTF-8");
    oas3::from_json(text).expect("/openapi.json is an OpenAPI 3.1 document oas3 can read")
}

/// `METHOD /path` of every operation the document lists.
fn documented(spec: &oas3::Spec) -> BTreeSet<String> {
    spec.operations()
        .map(|(path, method, _)| format!("{method} {path}"))
        .collect()
}

#[tokio::test]
async fn the_openapi_document_is_valid_openapi_3_with_bearer_auth() {
    let app = TestApp::spawn().await;
    let spec = spec(&app).await;
    let version = spec
        .validate_version()
        .expect("a supported OpenAPI version");
    assert_eq!(version.major, 3, "{}", spec.openapi);
    assert_eq!(spec.info.title, "ordersearch");
    let components = spec.components.as_ref().expect("components");
    assert!(
        components.security_schemes.contains_key("bearer"),
        "the bearer scheme is declared"
    );
    assert!(
        !spec.security.is_empty(),
        "operations require the bearer key unless they say otherwise"
    );
    for (path, method, operation) in spec.operations() {
        assert!(
            !operation.responses(&spec).is_empty(),
            "{method} {path} documents its responses"
        );
    }
}

#[tokio::test]
async fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let app = TestApp::spawn().await;
    let spec = spec(&app).await;
    let documented = documented(&spec);
    let tabled: BTreeSet<String> = ROUTES
        .iter()
        .map(|route| route.label())
        .chain(OPERATIONS.iter().map(|op| op.to_string()))
        .collect();
    assert_eq!(
        tabled.len(),
        ROUTES.len() + OPERATIONS.len(),
        "no duplicate rows"
    );
    let undocumented: Vec<&String> = tabled.difference(&documented).collect();
    let untabled: Vec<&String> = documented.difference(&tabled).collect();
    assert!(
        undocumented.is_empty(),
        "routes in the authorization table missing from /openapi.json: {undocumented:?}"
    );
    assert!(
        untabled.is_empty(),
        "documented routes missing from the authorization table (add a row to authz::ROUTES): {untabled:?}"
    );

    // Each is really served: a /v1 route asks for a key, an operations route answers.
    let mut faults = Vec::new();
    for label in &documented {
        let (method, path) = label.split_once(' ').expect("METHOD /path");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let path = authz::fill(path, "00000000-0000-0000-0000-000000000000");
        let response = app.call(method, &path).send().await;
        let expected = if path.starts_with("/v1/") { 401 } else { 200 };
        if response.status != expected {
            faults.push(format!(
                "{label}: answered {} without a key, expected {expected}: {}",
                response.status, response.body
            ));
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
    // The probe tells a served route from one that is not.
    let unserved = app.get("/v1/not-a-route").send().await;
    unserved.assert_problem(404);
}

fn is_html(response: &TestResponse) -> bool {
    response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
}

/// Follows redirects the way a browser would, up to a few hops.
async fn browse(app: &TestApp, path: &str) -> (String, TestResponse) {
    let mut path = path.to_string();
    for _ in 0..5 {
        let response = app.get(&path).send().await;
        if !response.status.is_redirection() {
            return (path, response);
        }
        let location = response
            .header("location")
            .expect("a redirect names where to")
            .to_string();
        assert!(
            location.starts_with('/'),
            "a redirect stays on this server: {location}"
        );
        path = location;
    }
    panic!("too many redirects from {path}");
}

/// The values of `attribute="…"` in an HTML page.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

#[tokio::test]
async fn the_docs_render_from_vendored_assets_with_no_network() {
    let app = TestApp::spawn().await;
    for entry in ["/docs/", "/docs"] {
        let (landed, page) = browse(&app, entry).await;
        assert_eq!(page.status, 200, "{entry} → {landed}");
        assert!(is_html(&page), "{entry}: {:?}", page.header("content-type"));
        let html = String::from_utf8_lossy(&page.bytes).to_string();
        assert!(
            html.to_lowercase().contains("swagger"),
            "{entry} renders Swagger UI"
        );

        let assets: Vec<String> = attribute_values(&html, "src")
            .into_iter()
            .chain(attribute_values(&html, "href"))
            .filter(|asset| !asset.starts_with('#'))
            .collect();
        let scripts: Vec<&String> = assets.iter().filter(|a| a.ends_with(".js")).collect();
        assert!(!scripts.is_empty(), "{entry} loads a script: {html}");
        for asset in &assets {
            assert!(
                !asset.contains("://") && !asset.starts_with("//"),
                "{entry} loads {asset} from the network"
            );
            let url = if asset.starts_with('/') {
                asset.clone()
            } else {
                let base = &landed[..=landed.rfind('/').expect("a path")];
                format!("{base}{}", asset.trim_start_matches("./"))
            };
            let served = app.get(&url).send().await;
            assert_eq!(served.status, 200, "{entry} references {url}, not served");
            assert!(!served.bytes.is_empty(), "{url} is empty");
            if url.ends_with(".js") {
                assert!(
                    served
                        .header("content-type")
                        .is_some_and(|t| t.contains("javascript")),
                    "{url}: {:?}",
                    served.header("content-type")
                );
            }
        }
    }
    // The page is pointed at this server's document.
    let initializer = app.get("/docs/swagger-initializer.js").send().await;
    assert_eq!(initializer.status, 200);
    assert!(
        String::from_utf8_lossy(&initializer.bytes).contains("/openapi.json"),
        "the UI loads /openapi.json"
    );
}
