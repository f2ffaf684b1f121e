//! `ordersearch import http` against a paged feed this test serves on
//! loopback with axum: json-server 0.17 (array, `X-Total-Count`), json-server
//! 1.x (`{data, next, pages}`), a `Link` header, a 429 with `Retry-After`, a
//! 500, and a feed that never recovers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{TempDir, history_order, ordersearch, printed, shop};

/// How the feed answers.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// json-server 0.17: an array and `X-Total-Count`.
    Array,
    /// json-server 1.x: `{first, prev, next, last, pages, items, data}`.
    Object,
    /// An array and a `Link` header naming the next page.
    Linked,
}

struct Feed {
    shape: Shape,
    orders: Vec<Value>,
    /// Answers to give before the real one, per page.
    faults: Mutex<HashMap<usize, Vec<StatusCode>>>,
    /// Every request's query, in order.
    requests: Mutex<Vec<HashMap<String, String>>>,
}

async fn serve_page(
    State(feed): State<Arc<Feed>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    feed.requests.lock().unwrap().push(query.clone());
    let page: usize = query.get("_page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let limit: usize = query
        .get("_limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10);
    let fault = feed
        .faults
        .lock()
        .unwrap()
        .get_mut(&page)
        .and_then(|faults| (!faults.is_empty()).then(|| faults.remove(0)));
    if let Some(status) = fault {
        let mut headers = HeaderMap::new();
        if status == StatusCode::TOO_MANY_REQUESTS {
            headers.insert("retry-after", HeaderValue::from_static("1"));
        }
        return (status, headers, "try again").into_response();
    }
    let total = feed.orders.len();
    let pages = total.div_ceil(limit).max(1);
    let data: Vec<Value> = feed
        .orders
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .cloned()
        .collect();
    let mut headers = HeaderMap::new();
    match feed.shape {
        Shape::Array => {
            headers.insert("x-total-count", HeaderValue::from(total));
            (headers, axum::Json(Value::Array(data))).into_response()
        }
        Shape::Linked => {
            let mut link = format!("</orders?_page=1&_limit={limit}&via=link>; rel=\"first\"");
            if page < pages {
                link.push_str(&format!(
                    ", </orders?_page={}&_limit={limit}&via=link>; rel=\"next\"",
                    page + 1
                ));
            }
            headers.insert("link", HeaderValue::from_str(&link).unwrap());
            (headers, axum::Json(Value::Array(data))).into_response()
        }
        Shape::Object => {
            let next = if page < pages {
                json!(page + 1)
            } else {
                Value::Null
            };
            let prev = if page > 1 {
                json!(page - 1)
            } else {
                Value::Null
            };
            axum::Json(
                json!({"first": 1, "prev": prev, "next": next, "last": pages, "pages": pages,
                              "items": total, "data": data}),
            )
            .into_response()
        }
    }
}

/// Serves `count` orders on loopback; returns the feed's state and its URL.
async fn serve(
    shape: Shape,
    count: usize,
    faults: HashMap<usize, Vec<StatusCode>>,
) -> (Arc<Feed>, String) {
    let orders = (0..count)
        .map(|n| history_order(&format!("feed-{n}"), "2024-03-01T12:00:00Z", "completed"))
        .collect();
    let feed = Arc::new(Feed {
        shape,
        orders,
        faults: Mutex::new(faults),
        requests: Mutex::new(Vec::new()),
    });
    let router = axum::Router::new()
        .route("/orders", axum::routing::get(serve_page))
        .with_state(feed.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/orders", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (feed, url)
}

async fn imported(app: &crate::helpers::TestApp) -> i64 {
    sqlx::query_scalar("select count(distinct external_id) from orders")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn pages_asked(feed: &Feed) -> Vec<String> {
    feed.requests
        .lock()
        .unwrap()
        .iter()
        .map(|query| query.get("_page").cloned().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_json_server_0_17_feed_is_read_until_a_short_page() {
    let app = shop().await;
    let (feed, url) = serve(Shape::Array, 250, HashMap::new()).await;
    let dir = TempDir::new();

    let output = ordersearch(&app, &dir.0, &["import", "http", &url, "--limit", "100"]).await;

    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(imported(&app).await, 250);
    assert_eq!(pages_asked(&feed), ["1", "2", "3"]);
    assert_eq!(
        feed.requests.lock().unwrap()[0]
            .get("_limit")
            .map(String::as_str),
        Some("100")
    );
}

#[tokio::test]
async fn a_json_server_1_feed_is_read_until_next_is_null() {
    let app = shop().await;
    let (feed, url) = serve(Shape::Object, 200, HashMap::new()).await;
    let dir = TempDir::new();

    let output = ordersearch(&app, &dir.0, &["import", "http", &url, "--limit", "100"]).await;

    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(imported(&app).await, 200);
    assert_eq!(
        pages_asked(&feed),
        ["1", "2"],
        "a full last page with next: null ends the feed"
    );
}

#[tokio::test]
async fn a_link_header_is_followed_to_the_next_page() {
    let app = shop().await;
    let (feed, url) = serve(Shape::Linked, 25, HashMap::new()).await;
    let dir = TempDir::new();

    let output = ordersearch(&app, &dir.0, &["import", "http", &url, "--limit", "10"]).await;

    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(imported(&app).await, 25);
    let followed: Vec<bool> = feed
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|q| q.contains_key("via"))
        .collect();
    assert_eq!(followed, [false, true, true]);
}

#[tokio::test]
async fn a_429_with_retry_after_and_a_500_are_waited_out_and_retried() {
    let app = shop().await;
    let faults = HashMap::from([(
        2,
        vec![
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::INTERNAL_SERVER_ERROR,
        ],
    )]);
    let (feed, url) = serve(Shape::Array, 30, faults).await;
    let dir = TempDir::new();
    let started = Instant::now();

    let output = ordersearch(&app, &dir.0, &["import", "http", &url, "--limit", "10"]).await;

    assert!(output.status.success(), "{}", printed(&output));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(imported(&app).await, 30);
    assert_eq!(pages_asked(&feed), ["1", "2", "2", "2", "3", "4"]);
}

#[tokio::test]
async fn a_feed_that_keeps_failing_is_given_up_with_a_clear_message() {
    let app = shop().await;
    let faults = HashMap::from([(2, vec![StatusCode::BAD_GATEWAY; 10])]);
    let (_feed, url) = serve(Shape::Array, 30, faults).await;
    let dir = TempDir::new();

    let output = ordersearch(
        &app,
        &dir.0,
        &["import", "http", &url, "--limit", "10", "--tries", "2"],
    )
    .await;

    assert!(!output.status.success(), "{}", printed(&output));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("giving up on") && said.contains("after 2 tries") && said.contains("502"),
        "{said}"
    );
    let (status, created): (String, i64) =
        sqlx::query_as("select status, created from import_runs")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), created),
        ("failed", 10),
        "the first page stays imported"
    );
}
