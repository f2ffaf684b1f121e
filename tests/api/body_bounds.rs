//! Every length, size and range the OpenAPI document gives a field of a
//! request body is the one the service enforces: a value at the bound is
//! taken, one past it is a 422 naming the field. The document's bounds are
//! written beside the validators as literals; this is what keeps them equal.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::authz::{self, Target};
use crate::bad_input::{JsonRoute, json_routes};
use crate::helpers::{TestApp, TestResponse};
use crate::openapi::document;

/// A bound the document gives one field of a body.
#[derive(Debug, Clone, Copy)]
enum Bound {
    MaxLength(usize),
    MinLength(usize),
    Maximum(i64),
    Minimum(i64),
    MaxItems(usize),
    MinItems(usize),
}

impl Bound {
    /// Every bound `schema` states.
    fn all_of(schema: &Value) -> Vec<Bound> {
        let size = |name: &str| schema[name].as_u64().map(|n| n as usize);
        let mut bounds = Vec::new();
        bounds.extend(size("maxLength").map(Bound::MaxLength));
        bounds.extend(size("minLength").map(Bound::MinLength));
        bounds.extend(schema["maximum"].as_i64().map(Bound::Maximum));
        bounds.extend(schema["minimum"].as_i64().map(Bound::Minimum));
        bounds.extend(size("maxItems").map(Bound::MaxItems));
        bounds.extend(size("minItems").map(Bound::MinItems));
        bounds
    }

    fn name(self) -> &'static str {
        match self {
            Bound::MaxLength(_) => "maxLength",
            Bound::MinLength(_) => "minLength",
            Bound::Maximum(_) => "maximum",
            Bound::Minimum(_) => "minimum",
            Bound::MaxItems(_) => "maxItems",
            Bound::MinItems(_) => "minItems",
        }
    }

    /// The value at the bound (`past` = false) or one step outside it, made
    /// from the field's valid value where its other rules need it.
    fn value(self, field: &str, valid: &Value, past: bool) -> Option<Value> {
        let step = |n: usize, upward: bool| match (past, upward) {
            (false, _) => Some(n),
            (true, true) => Some(n + 1),
            (true, false) => n.checked_sub(1),
        };
        let number = |n: i64, outward: i64| json!(if past { n + outward } else { n });
        match self {
            Bound::MaxLength(n) => step(n, true).map(|len| json!(text_of(field, len))),
            Bound::MinLength(n) => step(n, false).map(|len| json!(text_of(field, len))),
            Bound::Maximum(n) => Some(number(n, 1)),
            Bound::Minimum(n) => Some(number(n, -1)),
            Bound::MaxItems(n) => step(n, true).map(|len| list_of(field, valid, len)),
            Bound::MinItems(n) => step(n, false).map(|len| list_of(field, valid, len)),
        }
    }
}

/// A text of `length` characters that keeps the field's other rules.
fn text_of(field: &str, length: usize) -> String {
    match field {
        // One digit in two: 40 characters hold the most digits allowed, 20.
        "customer.phone" => "1 ".repeat(length).chars().take(length).collect(),
        "customer.email" => email_of(length),
        "url" => format!(
            "https://hooks.example.com/{}",
            "x".repeat(length.saturating_sub(26))
        ),
        _ => "x".repeat(length),
    }
}

/// An address of exactly `length` characters (at least 7) whose local part
/// and domain labels stay within their own limits (64 and 63).
fn email_of(length: usize) -> String {
    assert!(length >= 7, "no address is shorter than a@b.com");
    let local = (length - 6).min(64);
    let mut domain = String::new();
    let mut left = length - local - 1 - ".com".len();
    while left > 0 {
        if !domain.is_empty() {
            domain.push('.');
            left -= 1;
        }
        // Never leave room for a dot alone.
        let label = if left > 63 && left - 63 < 3 {
            60
        } else {
            left.min(63)
        };
        domain.push_str(&"b".repeat(label));
        left -= label;
    }
    format!("{}@{domain}.com", "a".repeat(local))
}

/// `length` elements like the first of `valid`; texts made distinct, except
/// a webhook's event `types`, of which there are fewer than its limit (a
/// repeated type counts once).
fn list_of(field: &str, valid: &Value, length: usize) -> Value {
    let first = valid[0].clone();
    (0..length)
        .map(|i| match &first {
            Value::String(_) if field != "types" => json!(format!("t{i}")),
            other => other.clone(),
        })
        .collect()
}

/// `schema` with `$ref`s followed and a nullable `oneOf` reduced to its value.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(target) = schema["$ref"].as_str() {
        let pointer = target.strip_prefix('#').expect("a local reference");
        return resolve(document, document.pointer(pointer).expect("resolves"));
    }
    for alternatives in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[alternatives].as_array() {
            let mut values = branches.iter().filter(|b| b["type"] != "null");
            if let (Some(only), None) = (values.next(), values.next()) {
                return resolve(document, only);
            }
        }
    }
    schema
}

/// One bounded field of a body: where it is and how errors name it.
struct Field {
    /// JSON pointer into the body.
    pointer: String,
    /// `customer.email`, `items[0].quantity`: as a 422 names it.
    name: String,
    bounds: Vec<Bound>,
}

/// The bounded fields of `value`, described by `schema`, below `name`.
fn bounded_fields(document: &Value, schema: &Value, value: &Value, at: (&str, &str)) -> Vec<Field> {
    let (pointer, name) = at;
    let schema = resolve(document, schema);
    let mut found = Vec::new();
    let bounds = Bound::all_of(schema);
    if !bounds.is_empty() {
        found.push(Field {
            pointer: pointer.to_string(),
            name: name.to_string(),
            bounds,
        });
    }
    // (schema, value, pointer, name) of each field inside this one.
    let mut inner = Vec::new();
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let property = &schema["properties"][key];
                assert!(!property.is_null(), "{name}: `{key}` is not documented");
                let child = if name.is_empty() {
                    key.clone()
                } else {
                    format!("{name}.{key}")
                };
                inner.push((property, field, format!("{pointer}/{key}"), child));
            }
        }
        // The first element stands for all; errors name a list's elements
        // by index, except a list of texts, named as a whole.
        Value::Array(elements) if !elements.is_empty() => {
            let child = if elements[0].is_string() {
                name.to_string()
            } else {
                format!("{name}[0]")
            };
            inner.push((
                &schema["items"],
                &elements[0],
                format!("{pointer}/0"),
                child,
            ));
        }
        _ => {}
    }
    for (schema, value, pointer, name) in inner {
        found.extend(bounded_fields(document, schema, value, (&pointer, &name)));
    }
    found
}

/// The optional fields a route's table body leaves out, so their bounds are
/// checked too.
fn optional_fields(label: &str) -> Value {
    let address = json!({
        "name": "Jane Doe", "line1": "1 Main St", "line2": "Flat 2", "city": "Warsaw",
        "region": "Mazovia", "postal_code": "00-001", "country": "PL"
    });
    match label {
        "POST /v1/products" => json!({"description": "A widget", "cost": "1.00"}),
        "PATCH /v1/products/{id}" => json!({"description": "A widget", "category": "Tools"}),
        "POST /v1/orders" => json!({
            "shipping_address": address, "tags": ["vip"], "note": "leave at the door",
            "customer": {"phone": "+48 600 100 200"}
        }),
        "PATCH /v1/orders/{id}" => json!({
            "shipping_address": address, "tracking": {"carrier": "DHL", "number": "JD0001"}
        }),
        _ => json!({}),
    }
}

/// `extra`'s fields merged into `body`, objects into objects.
fn merge(body: &mut Value, extra: &Value) {
    let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) else {
        return;
    };
    for (key, value) in extra {
        match body.get_mut(key) {
            Some(inner) if inner.is_object() => merge(inner, value),
            _ => {
                body.insert(key.clone(), value.clone());
            }
        }
    }
}

/// A valid body no earlier call used, with the optional fields.
fn fresh_body(route: &JsonRoute) -> Value {
    let mut body = (route.make)(&Target {
        store: "default",
        unique: &authz::unique(),
    });
    merge(&mut body, &optional_fields(&route.label));
    body
}

async fn send(app: &TestApp, route: &JsonRoute, body: &Value) -> TestResponse {
    app.call(route.method.clone(), &route.path)
        .key(&app.admin)
        .json(body)
        .send()
        .await
}

/// What a value at a bound may answer: taken, or refused for what it does
/// (a stock delta past what the product has is a 409), never as invalid.
fn taken(response: &TestResponse) -> bool {
    response.status.is_success() || response.status == 409
}

#[tokio::test]
async fn every_documented_bound_of_a_body_field_is_the_enforced_one() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let mut faults = Vec::new();
    let mut checked = BTreeSet::new();
    for route in json_routes(&app).await {
        let (method, template) = route.label.split_once(' ').expect("METHOD /path");
        let operation = &document["paths"][template][method.to_lowercase()];
        let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
        let valid = fresh_body(&route);
        let accepted = send(&app, &route, &valid).await;
        assert!(
            accepted.status.is_success(),
            "{}: the full body is taken: {} {}",
            route.label,
            accepted.status,
            accepted.body
        );
        for field in bounded_fields(&document, schema, &valid, ("", "")) {
            let shown = valid.pointer(&field.pointer).expect("the field").clone();
            for bound in field.bounds {
                for past in [false, true] {
                    let Some(value) = bound.value(&field.name, &shown, past) else {
                        continue;
                    };
                    let mut body = fresh_body(&route);
                    *body.pointer_mut(&field.pointer).expect("the field") = value;
                    let response = send(&app, &route, &body).await;
                    let what = format!(
                        "{} {} {} ({:?}, {})",
                        route.label,
                        field.name,
                        bound.name(),
                        bound,
                        if past { "one past" } else { "at" }
                    );
                    let kept = if past {
                        response.status == 422 && response.error_fields().contains(&field.name)
                    } else {
                        taken(&response)
                    };
                    if !kept {
                        faults.push(format!("{what}: {} {}", response.status, response.body));
                    }
                }
                checked.insert(format!("{} {} {}", route.label, field.name, bound.name()));
            }
        }
    }
    assert!(
        faults.is_empty(),
        "documented bounds that are not the enforced ones:\n{}",
        faults.join("\n")
    );
    let expected = [
        "POST /v1/stores name maxLength",
        "POST /v1/orders items maxItems",
        "POST /v1/orders items[0].quantity maximum",
        "POST /v1/orders customer.phone maxLength",
        "POST /v1/orders customer.email maxLength",
        "POST /v1/orders tags maxLength",
        "PATCH /v1/orders/{id} tracking.carrier maxLength",
        "PATCH /v1/products/{id} stock_delta minimum",
    ];
    let missing: Vec<&str> = expected
        .into_iter()
        .filter(|label| !checked.contains(*label))
        .collect();
    assert!(
        missing.is_empty(),
        "the walk reaches every kind of field: {missing:?} not among {checked:#?}"
    );
}
