//! Whatever a client sends, the answer is a 4xx problem+json, never a 500; a 422
//! names every bad field. Each test is a table of cases run against one app; a
//! test reports every case that broke the contract, not only the first.

use std::fmt::Display;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};

use crate::authz::{self, ROUTES, Target};
use crate::helpers::{TestApp, TestResponse};

/// 10 KiB of text.
fn ten_kb() -> String {
    "x".repeat(10 * 1024)
}

/// One request and what it must answer.
struct Case {
    what: String,
    method: Method,
    path: String,
    content_type: Option<String>,
    body: Option<Vec<u8>>,
    /// The statuses that keep the contract.
    statuses: Vec<u16>,
    /// When set, exactly the fields a 4xx must name in `errors`.
    fields: Option<Vec<String>>,
}

impl Case {
    fn new(what: impl Into<String>, method: Method, path: impl Into<String>) -> Case {
        Case {
            what: what.into(),
            method,
            path: path.into(),
            content_type: None,
            body: None,
            statuses: Vec::new(),
            fields: None,
        }
    }

    fn get(what: impl Into<String>, path: impl Into<String>) -> Case {
        Case::new(what, Method::GET, path)
    }

    /// A body sent as `application/json`, exactly these bytes.
    fn json_text(self, text: impl Into<Vec<u8>>) -> Case {
        self.raw(Some("application/json"), text)
    }

    fn raw(mut self, content_type: Option<&str>, bytes: impl Into<Vec<u8>>) -> Case {
        self.content_type = content_type.map(str::to_string);
        self.body = Some(bytes.into());
        self
    }

    fn expect(mut self, statuses: &[u16]) -> Case {
        self.statuses = statuses.to_vec();
        self
    }

    fn naming(mut self, fields: &[&str]) -> Case {
        self.fields = Some(fields.iter().map(|f| f.to_string()).collect());
        self
    }
}

/// Sends a request as the admin, content type and body exactly as given.
async fn send(app: &TestApp, case: &Case) -> TestResponse {
    let mut request = Request::builder()
        .method(case.method.clone())
        .uri(&case.path)
        .header("authorization", format!("Bearer {}", app.admin));
    if let Some(content_type) = &case.content_type {
        request = request.header("content-type", content_type);
    }
    let body = case
        .body
        .clone()
        .map(Body::from)
        .unwrap_or_else(Body::empty);
    app.send(request.body(body).expect("a valid request")).await
}

/// Runs every case; fails listing each one that broke the contract.
async fn run(app: &TestApp, cases: Vec<Case>) {
    assert!(!cases.is_empty());
    let mut faults = Vec::new();
    for case in &cases {
        assert!(
            !case.statuses.is_empty(),
            "{}: no status expected",
            case.what
        );
        let response = send(app, case).await;
        let status = response.status.as_u16();
        let label = format!("{} ({} {:.80})", case.what, case.method, case.path);
        let shown =
            String::from_utf8_lossy(&response.bytes[..response.bytes.len().min(300)]).into_owned();
        if status >= 500 {
            faults.push(format!("{label}: a {status} for client input: {shown}"));
            continue;
        }
        if !case.statuses.contains(&status) {
            faults.push(format!(
                "{label}: answered {status}, expected {:?}: {shown}",
                case.statuses
            ));
            continue;
        }
        if (400..500).contains(&status) {
            if let Some(fault) = authz::problem_fault(&response) {
                faults.push(format!("{label}: {fault}"));
                continue;
            }
            if let Some(expected) = &case.fields {
                let mut named = response.error_fields();
                named.sort();
                named.dedup();
                let mut expected = expected.clone();
                expected.sort();
                if named != expected {
                    faults.push(format!(
                        "{label}: `errors` name {named:?}, expected {expected:?}: {shown}"
                    ));
                }
            }
        }
    }
    assert!(
        faults.is_empty(),
        "{} of {} cases broke the contract:\n{}",
        faults.len(),
        cases.len(),
        faults.join("\n")
    );
}

/// A route that takes a JSON body, with a path to call and a valid body for it.
pub(crate) struct JsonRoute {
    pub label: String,
    pub method: Method,
    pub path: String,
    pub valid: Value,
    /// Makes more valid bodies (`valid` is one of them).
    pub make: fn(&Target) -> Value,
}

impl JsonRoute {
    /// A case on this route, described as the route `what`.
    fn case(&self, what: impl Display) -> Case {
        Case::new(
            format!("{} {what}", self.label),
            self.method.clone(),
            self.path.clone(),
        )
    }
}

/// Every route of the authorization table that takes a JSON body, ready to call.
pub(crate) async fn json_routes(app: &TestApp) -> Vec<JsonRoute> {
    authz::prepare(app).await;
    let mut routes = Vec::new();
    for route in ROUTES.iter().filter(|route| route.body.is_some()) {
        let path = if route.has_id() {
            authz::fill(
                route.path,
                &authz::fixture(app, route.path, "default").await,
            )
        } else {
            route.path.to_string()
        };
        let make = route.body.expect("filtered on a body");
        let valid = make(&Target {
            store: "default",
            unique: &authz::unique(),
        });
        routes.push(JsonRoute {
            label: route.label(),
            method: route.method(),
            path,
            valid,
            make,
        });
    }
    assert!(
        routes.len() >= 4,
        "stores, keys, products and product patches"
    );
    routes
}

/// The valid body of one of the JSON routes.
fn route<'a>(routes: &'a [JsonRoute], label: &str) -> &'a JsonRoute {
    routes
        .iter()
        .find(|route| route.label == label)
        .unwrap_or_else(|| panic!("no JSON route {label}"))
}

/// `body` with `field` set to raw JSON text (which may be a number no parser keeps).
fn with_raw(body: &Value, field: &str, raw: &str) -> String {
    let mut object = body.as_object().expect("an object body").clone();
    object.remove(field);
    let rest = Value::Object(object).to_string();
    let inner = rest.trim_start_matches('{').trim_end_matches('}');
    if inner.is_empty() {
        format!("{{\"{field}\": {raw}}}")
    } else {
        format!("{{{inner}, \"{field}\": {raw}}}")
    }
}

/// A case sending `route`'s valid body with `field` set to `raw`.
fn field_case(route: &JsonRoute, field: &str, raw: &str) -> Case {
    let shown: String = raw.chars().take(40).collect();
    route
        .case(format!("with {field} = {shown}"))
        .json_text(with_raw(&route.valid, field, raw))
}

/// For each (route, field, values) row, a case per value: a 422 naming that field.
fn naming_cases(routes: &[JsonRoute], table: &[(&str, &str, &[&str])]) -> Vec<Case> {
    let mut cases = Vec::new();
    for (label, field, values) in table {
        let route = route(routes, label);
        for value in *values {
            cases.push(
                field_case(route, field, value)
                    .expect(&[422])
                    .naming(&[field]),
            );
        }
    }
    cases
}

const STORES: &str = "POST /v1/stores";
const KEYS: &str = "POST /v1/api-keys";
const PRODUCTS: &str = "POST /v1/products";
const PATCH: &str = "PATCH /v1/products/{id}";

#[tokio::test]
async fn the_valid_bodies_the_tables_start_from_are_accepted() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    let cases = routes
        .iter()
        .map(|route| {
            Case::new("the valid body", route.method.clone(), route.path.clone())
                .json_text(route.valid.to_string())
                .expect(&[200, 201])
        })
        .collect();
    run(&app, cases).await;
}

#[tokio::test]
async fn malformed_json_is_a_400_problem_on_every_route_that_takes_json() {
    let app = TestApp::spawn().await;
    let deeply_nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        ("a truncated object", b"{\"name\":".to_vec()),
        ("an unclosed brace", b"{".to_vec()),
        ("an empty body", Vec::new()),
        ("white space only", b"   \n".to_vec()),
        ("single quotes", b"{'name': 'x'}".to_vec()),
        ("a trailing comma", b"{\"name\": \"x\",}".to_vec()),
        ("a bare word", b"nul".to_vec()),
        ("two documents", b"{} {}".to_vec()),
        ("invalid UTF-8", b"{\"name\": \"\xff\xfe\"}".to_vec()),
        ("a lone surrogate", br#"{"name": "\ud800"}"#.to_vec()),
        ("100 000 nested arrays", deeply_nested.into_bytes()),
    ];
    let mut cases = Vec::new();
    for route in json_routes(&app).await {
        for (what, bytes) in &malformed {
            cases.push(
                route
                    .case(format!("with {what}"))
                    .json_text(bytes.clone())
                    .expect(&[400]),
            );
        }
    }
    run(&app, cases).await;
}

#[tokio::test]
async fn a_json_document_that_is_not_an_object_is_422() {
    let app = TestApp::spawn().await;
    let mut cases = Vec::new();
    for route in json_routes(&app).await {
        for text in ["null", "42", "\"text\"", "true", "[]", "[{}]"] {
            cases.push(
                route
                    .case(format!("with {text}"))
                    .json_text(text)
                    .expect(&[422]),
            );
        }
    }
    run(&app, cases).await;
}

#[tokio::test]
async fn an_array_is_not_taken_for_an_object() {
    let app = TestApp::spawn().await;
    // A struct's fields in order, as a JSON array: serde accepts that unless told not to.
    let cases = vec![
        Case::new("a store as an array", Method::POST, "/v1/stores")
            .json_text(r#"["arr", "Array store", "EUR", "UTC"]"#)
            .expect(&[422]),
        Case::new("an API key as an array", Method::POST, "/v1/api-keys")
            .json_text(r#"["array key", "admin", null]"#)
            .expect(&[422]),
    ];
    run(&app, cases).await;
    app.assert_admin_get_problem("/v1/stores/arr", 404).await;
}

#[tokio::test]
async fn wrong_types_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    let table: &[(&str, &str, &[&str])] = &[
        (STORES, "id", &["5", "null", "[\"eu\"]"]),
        (STORES, "name", &["[]", "{}"]),
        (STORES, "currency", &["{}", "978"]),
        (STORES, "timezone", &["true", "1"]),
        (KEYS, "name", &["1", "null"]),
        (
            KEYS,
            "role",
            &["7", "\"wizard\"", "\"ADMIN\"", "[\"admin\"]"],
        ),
        (KEYS, "store", &["3", "{}"]),
        (PRODUCTS, "store", &["1", "[]"]),
        (PRODUCTS, "sku", &["5", "null", "true"]),
        (PRODUCTS, "name", &["[]"]),
        (PRODUCTS, "description", &["1", "{}"]),
        (PRODUCTS, "category", &["{}"]),
        (
            PRODUCTS,
            "price",
            &["true", "null", "[1]", "{}", "\"abc\"", "\"NaN\"", "\"\""],
        ),
        (PRODUCTS, "cost", &["\"abc\"", "false"]),
        (
            PRODUCTS,
            "stock",
            &["\"many\"", "1.5", "null", "\"5\"", "true"],
        ),
        (PRODUCTS, "active", &["\"yes\"", "1", "null"]),
        (PATCH, "name", &["5"]),
        (PATCH, "price", &["{}", "\"ten\""]),
        (PATCH, "cost", &["true"]),
        (PATCH, "stock", &["\"x\"", "2.5"]),
        (PATCH, "stock_delta", &["1.5", "\"1\""]),
        (PATCH, "active", &["\"yes\""]),
    ];
    let cases = naming_cases(&routes, table);
    run(&app, cases).await;
}

#[tokio::test]
async fn huge_numbers_are_rejected_naming_the_field_never_a_500() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    let mut cases = Vec::new();
    // Past every range a JSON parser keeps: a 400 (unparseable here) or a 422 naming it.
    for (label, field) in [
        (PRODUCTS, "price"),
        (PRODUCTS, "cost"),
        (PRODUCTS, "stock"),
        (PATCH, "price"),
        (PATCH, "stock"),
        (PATCH, "stock_delta"),
    ] {
        let route = route(&routes, label);
        for raw in ["1e400", "-1e400"] {
            let case = field_case(route, field, raw).expect(&[400, 422]);
            cases.push(case);
        }
    }
    // Numbers JSON parses, but out of range: a 422 naming the field.
    let out_of_range: &[(&str, &str, &[&str])] = &[
        (
            PRODUCTS,
            "price",
            &[
                "99999999999999999999",
                "\"99999999999999999999\"",
                "1e20",
                "1000000000000",
                "\"1000000000000.00\"",
                "\"1e400\"",
                "\"Infinity\"",
            ],
        ),
        (PRODUCTS, "cost", &["99999999999999999999", "1e300"]),
        (
            PRODUCTS,
            "stock",
            &[
                "99999999999999999999",
                "2147483648",
                "-2147483649",
                "1000000001",
                "1e9",
            ],
        ),
        (PATCH, "price", &["99999999999999999999"]),
        (PATCH, "stock", &["99999999999999999999", "4294967296"]),
        (
            PATCH,
            "stock_delta",
            &["99999999999999999999", "-2147483649", "1000000001"],
        ),
    ];
    cases.extend(naming_cases(&routes, out_of_range));
    run(&app, cases).await;
}

#[tokio::test]
async fn negative_stock_and_prices_with_three_decimals_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    let table: &[(&str, &str, &[&str])] = &[
        (
            PRODUCTS,
            "price",
            &[
                "-0.01",
                "\"-1\"",
                "1.005",
                "\"1.005\"",
                "\"0.001\"",
                "1e-7",
                "\"9.999\"",
            ],
        ),
        (PRODUCTS, "cost", &["-1", "0.001", "\"2.555\""]),
        (PRODUCTS, "stock", &["-1", "-2147483648"]),
        (PATCH, "price", &["\"0.999\"", "-5"]),
        (PATCH, "cost", &["1.001"]),
        (PATCH, "stock", &["-1"]),
        (PATCH, "stock_delta", &["-1000000001"]),
    ];
    let mut cases = naming_cases(&routes, table);
    // Two places, however written, are fine.
    let products = route(&routes, PRODUCTS);
    for (n, price) in ["1.5", "\"1.50\"", "0", "\"999999999999.00\""]
        .iter()
        .enumerate()
    {
        let mut valid = products.valid.clone();
        valid["sku"] = json!(format!("TWO-PLACES-{n}"));
        cases.push(
            Case::new(format!("a price of {price}"), Method::POST, "/v1/products")
                .json_text(with_raw(&valid, "price", price))
                .expect(&[201]),
        );
    }
    run(&app, cases).await;
}

#[tokio::test]
async fn empty_blank_and_10_kb_strings_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    let long = Value::String(ten_kb()).to_string();
    let table: &[(&str, &str, &[&str])] = &[
        (STORES, "id", &["\"\"", &long]),
        (STORES, "name", &["\"\"", "\"   \"", &long]),
        (STORES, "currency", &["\"\"", &long]),
        (STORES, "timezone", &["\"\"", &long]),
        (KEYS, "name", &["\"\"", "\" \\t \"", &long]),
        (KEYS, "role", &["\"\"", &long]),
        (KEYS, "store", &["\"\"", &long]),
        (PRODUCTS, "sku", &["\"\"", "\"MUG BLUE\"", &long]),
        (PRODUCTS, "name", &["\"\"", "\"  \"", &long]),
        (PRODUCTS, "category", &["\"\"", &long]),
        (PRODUCTS, "description", &[&long]),
        (PRODUCTS, "store", &["\"\"", &long]),
        (PRODUCTS, "price", &["\"\"", "\" \""]),
        (PATCH, "name", &["\"\"", &long]),
        (PATCH, "category", &["\"\"", &long]),
        (PATCH, "description", &[&long]),
    ];
    let cases = naming_cases(&routes, table);
    run(&app, cases).await;
}

#[tokio::test]
async fn unknown_fields_are_422_naming_them() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    let mut cases = Vec::new();
    for route in &routes {
        for field in ["colour", "id_", "Name", "created_at"] {
            cases.push(
                field_case(route, field, "\"blue\"")
                    .expect(&[422])
                    .naming(&[field]),
            );
        }
    }
    cases.push(
        field_case(route(&routes, PATCH), "version", "3")
            .expect(&[422])
            .naming(&["version"]),
    );
    cases.push(
        field_case(
            route(&routes, PRODUCTS),
            "id",
            "\"00000000-0000-0000-0000-000000000001\"",
        )
        .expect(&[422])
        .naming(&["id"]),
    );
    run(&app, cases).await;
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413_and_one_just_under_is_read() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    const MIB: usize = 1024 * 1024;
    let mut cases = Vec::new();
    for route in &routes {
        for (what, size) in [("2 MiB", 2 * MIB), ("1 MiB + 1 byte", MIB + 1)] {
            let padding = size - r#"{"name": ""}"#.len();
            let body = format!(r#"{{"name": "{}"}}"#, "a".repeat(padding));
            assert_eq!(body.len(), size);
            cases.push(
                route
                    .case(format!("with a {what} body"))
                    .json_text(body)
                    .expect(&[413]),
            );
        }
    }
    // Exactly at the limit the body is read: the 200-character name limit answers.
    let products = route(&routes, PRODUCTS);
    let mut at_limit = products.valid.clone();
    at_limit["name"] = json!("");
    let without_name = at_limit.to_string().len();
    at_limit["name"] = json!("n".repeat(MIB - without_name));
    let text = at_limit.to_string();
    assert_eq!(text.len(), MIB);
    cases.push(
        Case::new("a body of exactly 1 MiB", Method::POST, "/v1/products")
            .json_text(text)
            .expect(&[422])
            .naming(&["name"]),
    );
    run(&app, cases).await;
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_415() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    let mut cases = Vec::new();
    for route in &routes {
        let body = route.valid.to_string();
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
            Some("json"),
        ] {
            cases.push(
                route
                    .case(format!("with content-type {content_type:?}"))
                    .raw(content_type, body.clone())
                    .expect(&[415]),
            );
        }
        // No body at all, and no content type: still a 415, not a 500.
        let mut empty = route.case("with no body");
        empty.statuses = vec![415];
        cases.push(empty);
    }
    run(&app, cases).await;
    // The same bytes with a JSON media type and parameters are accepted.
    let products = route(&routes, PRODUCTS);
    let accepted = app
        .call(Method::POST, "/v1/products")
        .key(&app.admin)
        .raw(
            "Application/JSON; charset=utf-8",
            products.valid.to_string(),
        )
        .send()
        .await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
}

#[tokio::test]
async fn nul_bytes_in_the_path_query_or_json_are_4xx_problems() {
    let app = TestApp::spawn().await;
    let routes = json_routes(&app).await;
    let product = authz::fixture(&app, "/v1/products/{id}", "default").await;
    let mut cases = vec![
        Case::get("a NUL as a product id", "/v1/products/%00").expect(&[400, 404]),
        Case::get(
            "a NUL inside a product id",
            format!("/v1/products/{product}%00"),
        )
        .expect(&[400, 404]),
        Case::get("a NUL inside a store id", "/v1/stores/def%00ault").expect(&[400, 404]),
        Case::new("a NUL as a key id", Method::DELETE, "/v1/api-keys/%00").expect(&[400, 404]),
        Case::new(
            "a NUL in a patched product id",
            Method::PATCH,
            "/v1/products/%00",
        )
        .json_text(r#"{"name": "x"}"#)
        .expect(&[400, 404]),
        Case::get("a NUL in a path segment", "/v1/%00/products").expect(&[400, 404]),
        Case::get("a NUL in a filter", "/v1/products?category=%00").expect(&[400]),
        Case::get("a NUL in a store filter", "/v1/products?store=default%00").expect(&[400]),
        Case::get("a NUL in a cursor", "/v1/stores?cursor=%00").expect(&[400]),
        Case::get("a NUL in a limit", "/v1/api-keys?limit=1%00").expect(&[400]),
        Case::get("a NUL in a parameter name", "/v1/products?%00=1").expect(&[400]),
    ];
    for (label, field) in [
        (STORES, "id"),
        (STORES, "name"),
        (KEYS, "name"),
        (PRODUCTS, "sku"),
        (PRODUCTS, "name"),
        (PRODUCTS, "description"),
        (PRODUCTS, "category"),
        (PRODUCTS, "price"),
        (PATCH, "name"),
        (PATCH, "description"),
    ] {
        for raw in [r#""a\u0000b""#, r#""\u0000""#] {
            cases.push(
                field_case(route(&routes, label), field, raw)
                    .expect(&[422])
                    .naming(&[field]),
            );
        }
    }
    cases.push(
        field_case(route(&routes, PRODUCTS), "na\\u0000me", "\"x\"")
            .expect(&[422])
            .naming(&["na\u{0}me"]),
    );
    run(&app, cases).await;
}

#[tokio::test]
async fn an_id_that_is_not_a_uuid_or_not_there_is_404() {
    let app = TestApp::spawn().await;
    let long = ten_kb();
    let ids = [
        "not-a-uuid",
        "123",
        "00000000-0000-0000-0000-000000000000",
        "0190f0f0-0000-7000-8000-00000000000g",
        "0190f0f0-0000-7000-8000-0000000000001",
        "%20",
        "..",
        long.as_str(),
    ];
    let mut cases = Vec::new();
    for id in ids {
        let shown: String = id.chars().take(40).collect();
        cases.push(
            Case::get(format!("product {shown}"), format!("/v1/products/{id}")).expect(&[404]),
        );
        cases.push(
            Case::new(
                format!("patch product {shown}"),
                Method::PATCH,
                format!("/v1/products/{id}"),
            )
            .json_text(r#"{"name": "x"}"#)
            .expect(&[404]),
        );
        cases.push(
            Case::new(
                format!("delete product {shown}"),
                Method::DELETE,
                format!("/v1/products/{id}"),
            )
            .expect(&[404]),
        );
        cases.push(
            Case::new(
                format!("revoke key {shown}"),
                Method::DELETE,
                format!("/v1/api-keys/{id}"),
            )
            .expect(&[404]),
        );
        cases.push(Case::get(format!("store {shown}"), format!("/v1/stores/{id}")).expect(&[404]));
    }
    cases.push(Case::get("a store id in capitals", "/v1/stores/DEFAULT").expect(&[404]));
    run(&app, cases).await;
}

#[tokio::test]
async fn a_path_that_is_not_utf8_is_a_problem_not_plain_text() {
    let app = TestApp::spawn().await;
    let cases = vec![
        Case::get("product %FF", "/v1/products/%FF").expect(&[400, 404]),
        Case::get("store %C0%AF", "/v1/stores/%C0%AF").expect(&[400, 404]),
        Case::new("revoke key %FE", Method::DELETE, "/v1/api-keys/%FE").expect(&[400, 404]),
        Case::new("patch product %FF", Method::PATCH, "/v1/products/%FF")
            .json_text(r#"{"name": "x"}"#)
            .expect(&[400, 404]),
    ];
    run(&app, cases).await;
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let long = ten_kb();
    let mut cases = Vec::new();
    for list in ["/v1/stores", "/v1/api-keys", "/v1/products"] {
        for (query, field) in [
            ("limit=abc", "limit"),
            ("limit=-1", "limit"),
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=1.5", "limit"),
            ("limit=1e2", "limit"),
            ("limit=99999999999999999999", "limit"),
            ("limit=", "limit"),
            ("limit=1&limit=2", "limit"),
            ("colour=blue", "colour"),
        ] {
            cases.push(
                Case::get(format!("{list}?{query}"), format!("{list}?{query}"))
                    .expect(&[400])
                    .naming(&[field]),
            );
        }
    }
    for (query, field) in [
        ("active=maybe", "active"),
        ("active=", "active"),
        ("active=TRUE%20", "active"),
        ("active=true&active=false", "active"),
        ("limit=abc&active=maybe", "limit"),
    ] {
        cases.push(
            Case::get(format!("products?{query}"), format!("/v1/products?{query}"))
                .expect(&[400])
                .naming(&[field]),
        );
    }
    // Not errors: values nothing matches are an empty page, not a 4xx or a 500.
    cases.push(
        Case::get(
            "a 10 KB category",
            format!("/v1/products?category={long}&limit=200"),
        )
        .expect(&[200]),
    );
    cases.push(
        Case::get(
            "a category of odd bytes",
            "/v1/products?category=%FF%FE'%22;--",
        )
        .expect(&[200]),
    );
    // A store that does not exist (or cannot be named) is a 404, whatever it looks like.
    for store in ["nowhere", "", "%FF", long.as_str()] {
        cases.push(
            Case::get(
                format!("products in store {:.20}", store),
                format!("/v1/products?store={store}"),
            )
            .expect(&[404]),
        );
    }
    run(&app, cases).await;
}

#[tokio::test]
async fn a_garbage_cursor_is_400_naming_cursor() {
    use base64::Engine;
    let b64 = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    let app = TestApp::spawn().await;
    let long = ten_kb();
    let garbage = [
        "garbage".to_string(),
        "!!!".to_string(),
        "".to_string(),
        "eyJ".to_string(),
        "%FF%FE".to_string(),
        b64("{not json"),
        b64("[1,2,3]"),
        b64("null"),
        long,
    ];
    let mut cases = Vec::new();
    for list in ["/v1/stores", "/v1/api-keys", "/v1/products"] {
        for cursor in &garbage {
            cases.push(
                Case::get(
                    format!("{list} with cursor {:.20}", cursor),
                    format!("{list}?cursor={cursor}"),
                )
                .expect(&[400])
                .naming(&["cursor"]),
            );
        }
    }
    // A cursor of one list is garbage to a list with another key.
    let store_cursor = b64("\"default\"");
    for list in ["/v1/api-keys", "/v1/products"] {
        cases.push(
            Case::get(
                format!("{list} with a store list's cursor"),
                format!("{list}?cursor={store_cursor}"),
            )
            .expect(&[400])
            .naming(&["cursor"]),
        );
    }
    run(&app, cases).await;
}

#[tokio::test]
async fn a_request_with_several_bad_fields_names_every_one_of_them() {
    let app = TestApp::spawn().await;
    let product = authz::fixture(&app, "/v1/products/{id}", "default").await;
    let patch_path = format!("/v1/products/{product}");
    let cases = vec![
        Case::new("a store, every field bad", Method::POST, "/v1/stores")
            .json_text(r#"{"id": "Bad Id", "name": 7, "currency": "eur", "timezone": true}"#)
            .expect(&[422])
            .naming(&["currency", "id", "name", "timezone"]),
        Case::new("an empty store", Method::POST, "/v1/stores")
            .json_text("{}")
            .expect(&[422])
            .naming(&["currency", "id", "name", "timezone"]),
        Case::new("an empty product", Method::POST, "/v1/products")
            .json_text("{}")
            .expect(&[422])
            .naming(&["category", "name", "price", "sku", "stock"]),
        Case::new(
            "a product with wrong types, bad values and an unknown field",
            Method::POST,
            "/v1/products",
        )
        .json_text(
            r#"{"sku": "", "name": 5, "category": "", "price": "1.005", "stock": -1, "colour": "blue"}"#,
        )
        .expect(&[422])
        .naming(&["category", "colour", "name", "price", "sku", "stock"]),
        Case::new(
            "a product with only validation failures",
            Method::POST,
            "/v1/products",
        )
        .json_text(r#"{"sku": "A B", "name": " ", "category": "", "price": -1, "cost": "0.001", "stock": -1}"#)
        .expect(&[422])
        .naming(&["category", "cost", "name", "price", "sku", "stock"]),
        Case::new(
            "a product with two NUL strings",
            Method::POST,
            "/v1/products",
        )
        .json_text(r#"{"sku": "\u0000", "name": "a\u0000", "category": "c", "price": 1, "stock": 1}"#)
        .expect(&[422])
        .naming(&["name", "sku"]),
        Case::new("a key, every field bad", Method::POST, "/v1/api-keys")
            .json_text(r#"{"name": "", "role": "wizard", "store": "Not A Store", "extra": 1}"#)
            .expect(&[422])
            .naming(&["extra", "name", "role", "store"]),
        Case::new("a patch, every field bad", Method::PATCH, patch_path.clone())
            .json_text(r#"{"name": "", "price": "x", "stock": -1, "active": "yes"}"#)
            .expect(&[422])
            .naming(&["active", "name", "price", "stock"]),
    ];
    run(&app, cases).await;
    let products = app.get("/v1/products").key(&app.admin).send().await;
    assert_eq!(
        products.body["data"].as_array().map(Vec::len),
        Some(1),
        "no bad request created a product: {}",
        products.body
    );
    let unchanged = app.get(&patch_path).key(&app.admin).send().await;
    assert_eq!(unchanged.body["version"], 1, "no bad patch changed it");
}

#[tokio::test]
async fn stock_adjusted_past_its_maximum_is_refused_without_a_500() {
    let app = TestApp::spawn().await;
    let product = authz::fixture(&app, "/v1/products/{id}", "default").await;
    let path = format!("/v1/products/{product}");
    let at_max = app
        .patch(&path, &json!({"stock": 1_000_000_000}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(
        at_max.status, 200,
        "the maximum stock is accepted: {}",
        at_max.body
    );
    let mut answers = Vec::new();
    for _ in 0..3 {
        let pushed = app
            .patch(&path, &json!({"stock_delta": 1_000_000_000}))
            .key(&app.admin)
            .send()
            .await;
        answers.push(format!("{} {}", pushed.status.as_u16(), pushed.body));
        if pushed.status == 409 || pushed.status == 422 {
            pushed.assert_problem(pushed.status.as_u16());
        }
    }
    assert!(
        answers
            .iter()
            .all(|answer| answer.starts_with("409 ") || answer.starts_with("422 ")),
        "three +1 000 000 000 deltas on the maximum stock answered:\n{}",
        answers.join("\n")
    );
    let after = app.get(&path).key(&app.admin).send().await;
    assert_eq!(after.body["stock"], 1_000_000_000);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::spawn().await;
    let cases = vec![
        Case::get("an unknown route", "/v1/nope").expect(&[404]),
        Case::get("an unknown version", "/v2/products").expect(&[404]),
        Case::get("a trailing slash", "/v1/products/").expect(&[404]),
        Case::new("PUT on a collection", Method::PUT, "/v1/products")
            .json_text("{}")
            .expect(&[405]),
        Case::new("DELETE on a collection", Method::DELETE, "/v1/stores").expect(&[405]),
        Case::new("POST on a store", Method::POST, "/v1/stores/default")
            .json_text("{}")
            .expect(&[405]),
        Case::new("PATCH on a key", Method::PATCH, "/v1/api-keys/x")
            .json_text("{}")
            .expect(&[405]),
    ];
    run(&app, cases).await;
}

#[tokio::test]
async fn a_bad_idempotency_key_or_if_match_is_a_4xx_problem() {
    let app = TestApp::spawn().await;
    let product = authz::fixture(&app, "/v1/products/{id}", "default").await;
    let path = format!("/v1/products/{product}");
    let body =
        json!({"name": "Mug", "sku": "IDEM-1", "category": "Kitchen", "price": 1, "stock": 1});
    let too_long = app
        .post("/v1/products", &body)
        .key(&app.admin)
        .header("idempotency-key", &"k".repeat(256))
        .send()
        .await;
    too_long.assert_problem(400);
    assert_eq!(too_long.error_fields(), ["Idempotency-Key"]);
    // The documented rule is visible ASCII without spaces.
    let spaced = app
        .post("/v1/products", &body)
        .key(&app.admin)
        .header("idempotency-key", "two words")
        .send()
        .await;
    spaced.assert_problem(400);
    assert_eq!(spaced.error_fields(), ["Idempotency-Key"]);
    for tag in ["garbage", "\"99999999999\"", "\"-1\"", "W/", "\"\""] {
        let response = app
            .patch(&path, &json!({"name": "x"}))
            .key(&app.admin)
            .header("if-match", tag)
            .send()
            .await;
        response.assert_problem(412);
    }
    let unchanged = app.get(&path).key(&app.admin).send().await;
    assert_eq!(unchanged.body["version"], 1);
}

#[tokio::test]
async fn bad_order_lines_and_customers_are_422_naming_the_nested_field() {
    let app = TestApp::spawn().await;
    authz::prepare(&app).await;
    let sku = authz::STOCKED_SKU;
    let customer = r#"{"id": "cus_1", "email": "jane@example.com"}"#;
    let order = |items: &str| format!(r#"{{"customer": {customer}, "items": {items}}}"#);
    let line = |quantity: &str| order(&format!(r#"[{{"sku": "{sku}", "quantity": {quantity}}}]"#));
    let mut cases = Vec::new();
    for (quantity, statuses) in [
        ("0", &[422][..]),
        ("-1", &[422]),
        ("10001", &[422]),
        ("1.5", &[422]),
        ("\"2\"", &[422]),
        ("null", &[422]),
        ("2147483648", &[422]),
        ("99999999999999999999", &[422]),
        ("1e400", &[400, 422]),
    ] {
        let case = Case::new(
            format!("a quantity of {quantity}"),
            Method::POST,
            "/v1/orders",
        )
        .json_text(line(quantity))
        .expect(statuses);
        cases.push(if statuses == [422] {
            case.naming(&["items[0].quantity"])
        } else {
            case
        });
    }
    let bad: &[(&str, String, &[&str])] = &[
        (
            "a bad second line",
            order(&format!(
                r#"[{{"sku": "{sku}", "quantity": 1}}, {{"sku": "{sku}", "quantity": 0}}]"#
            )),
            &["items[1].quantity"],
        ),
        ("no lines", order("[]"), &["items"]),
        ("lines as an object", order("{}"), &["items"]),
        (
            "a product id that is not a UUID",
            order(r#"[{"product_id": "not-a-uuid", "quantity": 1}]"#),
            &["items[0].product_id"],
        ),
        (
            "an unknown field in a line",
            order(&format!(
                r#"[{{"sku": "{sku}", "quantity": 1, "price": 0}}]"#
            )),
            &["items[0].price"],
        ),
        (
            "a NUL in a line's SKU",
            order(r#"[{"sku": "A\u0000", "quantity": 1}]"#),
            &["items[0].sku"],
        ),
        (
            "a bad email",
            format!(
                r#"{{"customer": {{"email": "not-an-email"}}, "items": [{{"sku": "{sku}", "quantity": 1}}]}}"#
            ),
            &["customer.email"],
        ),
        (
            "a 10 KB customer name",
            format!(
                r#"{{"customer": {{"id": "c", "name": "{}"}}, "items": [{{"sku": "{sku}", "quantity": 1}}]}}"#,
                ten_kb()
            ),
            &["customer.name"],
        ),
        (
            "every kind of bad field at once",
            format!(
                r#"{{"customer": {{"email": "not-an-email"}}, "items": [{{"sku": "{sku}", "quantity": 0}}, {{"sku": "{sku}", "quantity": -1}}],
                   "shipping_address": {{"name": "J", "line1": "1 Main St", "city": "X", "postal_code": "1", "country": "pl"}}, "tags": [""]}}"#
            ),
            &[
                "customer.email",
                "items[0].quantity",
                "items[1].quantity",
                "shipping_address.country",
                "tags",
            ],
        ),
    ];
    for (what, body, fields) in bad {
        cases.push(
            Case::new(*what, Method::POST, "/v1/orders")
                .json_text(body.clone())
                .expect(&[422])
                .naming(fields),
        );
    }
    run(&app, cases).await;
    let orders = app.get("/v1/orders").key(&app.admin).send().await;
    assert_eq!(orders.status, 200, "{}", orders.body);
    assert_eq!(
        orders.body["data"].as_array().map(Vec::len),
        Some(0),
        "no bad order was created: {}",
        orders.body
    );
}

#[tokio::test]
async fn an_order_whose_total_overflows_is_refused_without_a_500() {
    let app = TestApp::spawn().await;
    let pricey = app
        .product("default", "PRICEY", "999999999999.00", 1_000_000)
        .await;
    for quantity in [2, 10_000] {
        let response = app
            .post(
                "/v1/orders",
                &json!({"customer": {"id": "cus_1"}, "items": [{"sku": "PRICEY", "quantity": quantity}]}),
            )
            .key(&app.admin)
            .send()
            .await;
        assert!(
            response.status.is_client_error(),
            "{quantity} × 999 999 999 999.00 answered {}: {}",
            response.status,
            response.body
        );
        response.assert_problem(response.status.as_u16());
    }
    let id = pricey["id"].as_str().unwrap();
    let after = app
        .get(&format!("/v1/products/{id}"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(after.body["stock"], 1_000_000, "no stock stayed reserved");
}
