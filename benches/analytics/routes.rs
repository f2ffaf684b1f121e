//! Every analytics route over HTTP next to its naive `GROUP BY`: one table line
//! per route and range with both p50/p99, the p99 ratio and whether both
//! answered the same. Two floor lines come first, timed the same way: an HTTP
//! round trip alone and one with the API key's lookup and a one-row read, under
//! which no route can answer; the summary counts the cases whose naive query
//! is under 100 times that floor, where 100x is out of reach by construction.

use chrono::{Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use reqwest::Url;
use serde_json::Value;
use sqlx::PgPool;

use crate::naive::Window;
use crate::reference::{self, Question};
use crate::support::{ADMIN_KEY, Stats, load};

/// The store every question is about (a DST time zone).
pub const STORE: &str = "eu";
/// Sequential requests per route, after a warm-up: a p99 over 1 000 is the
/// 10th worst, not the 2nd worst of 200 that one stall of the shared cores
/// sets alone.
const REQUESTS: usize = 1000;
/// The service's pool holds 32 connections and hands out the idle ones first
/// in, first out, and PostgreSQL plans a prepared statement afresh for its
/// first five runs on a connection: a steady state has every connection past
/// that for every route, so each route is warmed up with 6 runs per connection.
const WARMUP: usize = 6 * 32;

/// A range as the client asks for it (local days, both included) and as
/// instants for the naive query.
struct Range {
    label: &'static str,
    days: Option<(NaiveDate, NaiveDate)>,
    window: Window,
}

impl Range {
    fn new(zone: Tz, label: &'static str, days: Option<(NaiveDate, NaiveDate)>) -> Range {
        let start = |day: NaiveDate| {
            let midnight = day.and_hms_opt(0, 0, 0).expect("midnight");
            zone.from_local_datetime(&midnight)
                .earliest()
                .expect("the store's midnights exist")
                .with_timezone(&Utc)
        };
        let window = Window {
            lo: days.map(|(from, _)| start(from)),
            hi: days.map(|(_, to)| start(to + Days::new(1))),
        };
        Range {
            label,
            days,
            window,
        }
    }
}

/// One analytics route and the naive question it answers.
struct Route {
    label: String,
    path: Vec<String>,
    params: Vec<(&'static str, String)>,
    question: Question,
}

fn route(label: &str, path: &[&str], question: Question) -> Route {
    Route {
        label: label.to_string(),
        path: path.iter().map(|segment| segment.to_string()).collect(),
        params: vec![("store", STORE.to_string())],
        question,
    }
}

/// Every route of the contract that takes a range, about the store's best
/// selling product and category and its most frequent customer.
async fn routes_with_ranges(pool: &PgPool) -> Vec<Route> {
    let (product, category, customer) = subjects(pool).await;
    let mut routes: Vec<Route> = ["quantity", "revenue", "profit"]
        .into_iter()
        .map(|by| {
            let mut top = route(
                &format!("top products by {by}"),
                &["products", "top"],
                Question::Top(by),
            );
            top.params.push(("by", by.to_string()));
            top
        })
        .collect();
    routes.extend([
        route(
            "product sales",
            &["products", &product, "sales"],
            Question::Product(product.clone()),
        ),
        route("categories", &["categories"], Question::Categories),
        route(
            "category revenue",
            &["categories", &category, "revenue"],
            Question::Category(category.clone()),
        ),
        route(
            "customer lifetime value",
            &["customers", &customer, "lifetime-value"],
            Question::Customer(customer.clone()),
        ),
        route("hourly sales", &["sales", "hourly"], Question::Hourly),
        route("order summary", &["orders", "summary"], Question::Summary),
    ]);
    routes
}

/// The store's best-selling product, top category and most frequent customer.
async fn subjects(pool: &PgPool) -> (String, String, String) {
    let product: String = sqlx::query_scalar(
        "select product_id::text from analytics_product_sales where store_id = $1 and grain = 'all'
         order by quantity desc, product_id limit 1",
    )
    .bind(STORE)
    .fetch_one(pool)
    .await
    .unwrap();
    let category: String = sqlx::query_scalar(
        "select category from analytics_category_sales where store_id = $1 and grain = 'all'
         group by category order by sum(revenue) desc, category limit 1",
    )
    .bind(STORE)
    .fetch_one(pool)
    .await
    .unwrap();
    let customer: String = sqlx::query_scalar(
        "select customer_id from analytics_customer_sales where store_id = $1
         group by customer_id order by sum(orders) desc, customer_id limit 1",
    )
    .bind(STORE)
    .fetch_one(pool)
    .await
    .unwrap();
    (product, category, customer)
}

/// Every route over every range, and top-bought-yesterday; whether every
/// answer agreed with its naive query.
pub async fn measure(http: &reqwest::Client, base: &str, pool: &PgPool) -> bool {
    let zone: Tz = sqlx::query_scalar::<_, String>("select timezone from stores where id = $1")
        .bind(STORE)
        .fetch_one(pool)
        .await
        .unwrap()
        .parse()
        .unwrap();
    let today = Utc::now().with_timezone(&zone).date_naive();
    let ranges = [
        Range::new(zone, "30 days", Some((today - Days::new(29), today))),
        Range::new(zone, "1 year", Some((today - Days::new(364), today))),
        Range::new(zone, "all history", None),
    ];
    let top_yesterday = route(
        "top bought yesterday",
        &["products", "top-bought-yesterday"],
        Question::Top("quantity"),
    );
    let day = today - Days::new(1);
    // The route takes no range: its yesterday is the store's.
    let mut yesterday = Range::new(zone, "the store's yesterday", Some((day, day)));
    yesterday.days = None;
    println!(
        "analytics of store {STORE} ({zone}) at {} orders: service {REQUESTS} sequential requests over HTTP; naive GROUP BY {} runs after a warm-up",
        crate::ORDERS,
        reference::RUNS
    );
    println!(
        "{:<52} {:>19} {:>23} {:>10}  same answer",
        "route, range", "service p50/p99 ms", "GROUP BY p50/p99 ms", "p99 ratio"
    );
    let floor = measure_floor(http, base).await;
    let routes = routes_with_ranges(pool).await;
    let cases = routes
        .iter()
        .flat_map(|route| ranges.iter().map(move |range| (route, range)))
        .chain([(&top_yesterday, &yesterday)]);
    let mut tally = Tally {
        floor_p99_ms: floor.p99_ms,
        ..Tally::default()
    };
    for (route, range) in cases {
        tally.add(compare(http, pool, base, route, range).await);
    }
    tally.print();
    tally.agreed == tally.cases
}

/// What the route table adds up to.
#[derive(Default)]
struct Tally {
    cases: usize,
    fast: usize,
    hundredfold: usize,
    agreed: usize,
    /// p99 of the cheapest authenticated request: no route answers faster.
    floor_p99_ms: f64,
    /// Cases whose naive p99 is under 100 times that floor: 100x is out of
    /// reach for them whatever the route does.
    below_floor: usize,
}

/// One route measured: its p99, the naive p99, and whether they agreed.
struct Outcome {
    p99_ms: f64,
    naive_p99_ms: f64,
    agreed: bool,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        self.cases += 1;
        self.fast += usize::from(outcome.p99_ms < 5.0);
        self.hundredfold += usize::from(outcome.naive_p99_ms >= 100.0 * outcome.p99_ms);
        self.agreed += usize::from(outcome.agreed);
        self.below_floor += usize::from(outcome.naive_p99_ms < 100.0 * self.floor_p99_ms);
    }

    fn print(&self) {
        println!(
            "routes with p99 < 5 ms: {}/{}; at least 100x faster than GROUP BY at p99: {}/{}; same answer: {}/{}",
            self.fast, self.cases, self.hundredfold, self.cases, self.agreed, self.cases
        );
        println!(
            "naive GROUP BY under 100x the floor's p99 ({:.2} ms x 100), so 100x is out of reach whatever the route does: {}/{}",
            self.floor_p99_ms, self.below_floor, self.cases
        );
    }
}

/// `base/v1/analytics/<path>?<params>`, each segment and value encoded.
fn api_url(base: &str, path: &[String], params: &[(&'static str, String)]) -> Url {
    let mut url = Url::parse(base).unwrap();
    url.path_segments_mut()
        .unwrap()
        .extend(["v1", "analytics"])
        .extend(path);
    url.query_pairs_mut().extend_pairs(params);
    url
}

/// Times a route over a range and its naive query, prints the pair and
/// compares the answers.
async fn compare(
    http: &reqwest::Client,
    pool: &PgPool,
    base: &str,
    route: &Route,
    range: &Range,
) -> Outcome {
    let mut params = route.params.clone();
    if let Some((from, to)) = range.days {
        params.extend([("from", from.to_string()), ("to", to.to_string())]);
    }
    let url = api_url(base, &route.path, &params);
    let name = format!("{}, {}", route.label, range.label);
    let (service, answer) = time_route(http, &url).await;
    let (naive, expected) = reference::time_naive(pool, &route.question, range.window).await;
    // The figures alone: `as_of` and `lag_ms` say when they were read.
    let mut figures = answer.clone();
    if let Some(fields) = figures.as_object_mut() {
        fields.remove("as_of");
        fields.remove("lag_ms");
    }
    let agreed = reference::normalized(&figures) == reference::normalized(&expected);
    println!(
        "{name:<52} {:>8.2} / {:>8.2} {:>10.1} / {:>10.1} {:>9.0}x  {}",
        service.p50_ms,
        service.p99_ms,
        naive.p50_ms,
        naive.p99_ms,
        naive.p99_ms / service.p99_ms,
        if agreed { "yes" } else { "NO" }
    );
    if !agreed || service.errors > 0 {
        println!("  service: {answer}\n  naive:   {expected}");
    }
    Outcome {
        p99_ms: service.p99_ms,
        naive_p99_ms: naive.p99_ms,
        agreed,
    }
}

/// The floor under every route: `/healthz` (one HTTP round trip) and
/// `GET /v1/stores/{STORE}` (the same round trip, the API key's lookup and one
/// primary-key read), timed like the routes; the second is returned.
async fn measure_floor(http: &reqwest::Client, base: &str) -> Stats {
    let url = |path: &str| Url::parse(base).unwrap().join(path).unwrap();
    time_floor(
        http,
        "floor: HTTP round trip, GET /healthz",
        &url("/healthz"),
    )
    .await;
    let store = url(&format!("/v1/stores/{STORE}"));
    time_floor(
        http,
        "floor: + key lookup + one row, GET /v1/stores",
        &store,
    )
    .await
}

/// Times one floor request like a route and prints its line.
async fn time_floor(http: &reqwest::Client, label: &str, url: &Url) -> Stats {
    let (stats, _) = time_route(http, url).await;
    println!("{label:<52} {:>8.2} / {:>8.2}", stats.p50_ms, stats.p99_ms);
    stats
}

/// A route's body, or `None` for a failure.
async fn fetch(http: &reqwest::Client, url: &Url) -> Option<Vec<u8>> {
    let response = http
        .get(url.clone())
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.bytes().await.ok().map(|bytes| bytes.to_vec())
}

async fn time_route(http: &reqwest::Client, url: &Url) -> (Stats, Value) {
    for _ in 0..WARMUP {
        fetch(http, url).await;
    }
    let (client, target) = (http.clone(), url.clone());
    let stats = load(1, REQUESTS, move |_| {
        let (client, target) = (client.clone(), target.clone());
        async move { fetch(&client, &target).await.is_some() }
    })
    .await;
    let body = fetch(http, url).await.unwrap_or_default();
    (stats, serde_json::from_slice(&body).unwrap_or(Value::Null))
}
