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

/// `/openapi.json` as JSON, for walking it where `oas3` has no accessor.
pub(crate) async fn document(app: &TestApp) -> serde_json::Value {
    let response = app.get("/openapi.json").send().await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.body
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

/// Every `$ref` string anywhere below `value`.
fn references(value: &serde_json::Value, found: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                found.insert(target.clone());
            }
            map.values().for_each(|inner| references(inner, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|inner| references(inner, found)),
        _ => {}
    }
}

#[tokio::test]
async fn every_reference_in_the_openapi_document_resolves() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let mut found = BTreeSet::new();
    references(&document, &mut found);
    assert!(
        found.contains("#/components/schemas/Money"),
        "the walk finds references: {found:?}"
    );
    let dangling: Vec<&String> = found
        .iter()
        .filter(|target| {
            let pointer = target.strip_prefix('#').unwrap_or(target);
            document.pointer(pointer).is_none()
        })
        .collect();
    assert!(
        dangling.is_empty(),
        "references to nothing (clients and validators cannot resolve them): {dangling:?}"
    );
}

/// Query parameters whose documented bound holds only beside another one.
const COMPANIONS: &[(&str, &str)] = &[("offset", "&limit=1")];

/// A GET of `path` with `name=value` (and its companion) as the admin.
async fn get_with(app: &TestApp, path: &str, name: &str, value: i64) -> TestResponse {
    let companion = COMPANIONS
        .iter()
        .find(|(parameter, _)| *parameter == name)
        .map_or("", |(_, query)| *query);
    let path = authz::fill(path, "00000000-0000-0000-0000-000000000000");
    app.get(&format!("{path}?{name}={value}{companion}"))
        .key(&app.admin)
        .send()
        .await
}

#[tokio::test]
async fn every_documented_bound_of_a_query_parameter_is_the_enforced_one() {
    let app = TestApp::spawn().await;
    // An event to read, so the feed's long poll at its `wait` bound answers at once.
    app.product("default", "BOUND", "1.00", 1).await;
    let document = document(&app).await;
    let mut checked = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let Some(parameters) = item["get"]["parameters"].as_array() else {
            continue;
        };
        for parameter in parameters.iter().filter(|p| p["in"] == "query") {
            let name = parameter["name"].as_str().expect("a parameter name");
            let schema = &parameter["schema"];
            for (bound, outward) in [("minimum", -1), ("maximum", 1)] {
                let Some(bound) = schema[bound].as_i64() else {
                    continue;
                };
                let at = get_with(&app, path, name, bound).await;
                assert!(
                    at.status.is_success() || at.status == 404,
                    "GET {path}?{name}={bound} is documented as allowed: {} {}",
                    at.status,
                    at.body
                );
                let past = get_with(&app, path, name, bound + outward).await;
                past.assert_problem(400);
                assert_eq!(
                    past.error_fields(),
                    [name],
                    "GET {path}?{name}={} names the parameter",
                    bound + outward
                );
                checked.insert(format!("{path} {name}"));
            }
        }
    }
    let expected: BTreeSet<String> = [
        "/v1/stores limit",
        "/v1/saved-searches limit",
        "/v1/api-keys limit",
        "/v1/products limit",
        "/v1/orders limit",
        "/v1/orders/search limit",
        "/v1/orders/search offset",
        "/v1/analytics/products/top limit",
        "/v1/analytics/products/top-bought-yesterday limit",
        "/v1/events limit",
        "/v1/events wait",
        "/v1/webhooks limit",
        "/v1/webhooks/{id}/deliveries limit",
    ]
    .map(String::from)
    .into();
    assert_eq!(
        checked, expected,
        "the bounds of every page size and offset are documented"
    );
}

#[tokio::test]
async fn every_parameter_is_declared_where_it_is_sent() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let mut misplaced = Vec::new();
    let mut query = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            let parameters = operation["parameters"].as_array().into_iter().flatten();
            for parameter in parameters {
                let name = parameter["name"].as_str().expect("a parameter name");
                let in_path = path.contains(&format!("{{{name}}}"));
                match parameter["in"].as_str() {
                    Some("path") if in_path => {}
                    Some("query") if !in_path => query += 1,
                    Some("header") if !in_path => {}
                    other => misplaced.push(format!("{method} {path}: {name} in {other:?}")),
                }
            }
        }
    }
    assert!(
        misplaced.is_empty(),
        "parameters declared in the wrong place: {misplaced:#?}"
    );
    assert!(query > 20, "the query parameters are listed ({query})");
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

#[tokio::test]
async fn the_document_says_which_routes_need_no_key() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let mut faults = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let keyless = operation["security"] == serde_json::json!([{}]);
            // Every /v1 route needs the bearer key (the document's default);
            // the operations routes answer anyone.
            if path.starts_with("/v1/") == keyless {
                faults.push(format!(
                    "{method} {path}: security {}",
                    operation["security"]
                ));
            }
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
    assert_eq!(document["security"], serde_json::json!([{"bearer": []}]));
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
